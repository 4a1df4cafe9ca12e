// Tasks: how examples become tensors, what the loss is, how a prediction is read back (fairseq's
// task + criterion). The host's training loop only calls
//
//   Batch b = task.collate(examples, Phase::Train, rng);   // examples -> tensors
//   ModelOutput out = model.forward(b.input);              // forward
//   Loss l = task.loss(out, b);                            // loss
//
// (SDK 2.4: or, for a model whose head is a linear map, Loss l = task.head_loss(
// model.forward_head_input(b.input), model.linear_head(), b): the same loss without the logits.)
//
// so it trains a causal LM, a seq2seq model and an image classifier alike. Analyses call
// predict() to read the model's answers back (generated text, or class labels), or (SDK 2.2)
// evaluate() for the loss and the answers of a batch in one go, through imlsdk::evaluate_examples.
#pragma once
#include <cstdint>
#include <memory>
#include <string>
#include <vector>

#include <c10/core/Device.h>

#include "imlsdk/data.hpp"
#include "imlsdk/model.hpp"
#include "imlsdk/rng.hpp"

namespace imlsdk {

enum class Phase { Train, Eval };

struct Batch {
  ModelInput input;      // on the task's device
  torch::Tensor labels;  // the targets, in the task's layout; -100 = ignored
  int64_t examples = 0;
  int64_t units = 0;     // real tokens (text) or images: what throughput counts
  int64_t targets = 0;   // target units the loss averages over (labels that are not -100)
};

struct Loss {
  torch::Tensor value;  // scalar: the mean over `count` target units (tokens, cells)
  int64_t count = 0;
};

struct Prediction {
  std::string text;             // text tasks: the decoded new tokens
  std::vector<int64_t> tokens;  // text tasks: the new token ids
  std::vector<int64_t> labels;  // classification tasks: the predicted class of each output
};

// What Task::evaluate gives for one batch of examples.
struct EvalOutput {
  Loss loss;                            // if asked for: as loss() over collate(xs, Phase::Eval)
  std::vector<Prediction> predictions;  // if asked for: one per example, as predict() gives them
  // How many of `predictions` were read off the loss pass's logits instead of being generated
  // (0 for the default implementation); a statistic, for logs and tests.
  int64_t predictions_from_loss_pass = 0;
};

struct TaskContext {
  const Tokenizer* tokenizer = nullptr;  // null for tasks without text
  const Dataset* dataset = nullptr;      // image tasks render pixels through it
  ModelInfo model;
  c10::Device device = c10::Device("cpu");
};

class Task {
 public:
  virtual ~Task() = default;
  // Turns examples into one batch on the task's device. `rng` is seeded by the host per
  // micro-batch (online sampling must draw from it alone, so runs resume identically).
  // Bad examples (e.g. longer than the task allows) throw std::invalid_argument.
  virtual Batch collate(const std::vector<const Example*>& xs, Phase phase, Rng& rng) const = 0;
  // The loss of a forward pass over `batch`.
  virtual Loss loss(const ModelOutput& out, const Batch& batch) const = 0;
  // The model's answers for `xs` (no gradient), one Prediction per example.
  virtual std::vector<Prediction> predict(Model& model,
                                          const std::vector<const Example*>& xs) const = 0;
  // SDK 2.2: the loss of `xs` and/or the model's answers to them, in one call (no gradient).
  // The default runs collate(xs, Phase::Eval) -> forward -> loss(), then predict(). A task may
  // share work between the two (causal_lm reads a greedy answer off the loss pass's logits
  // wherever the example's text continues its prompt with that very answer), but must give the
  // same loss and the same predictions as the separate calls, up to the float rounding of
  // logits computed in another batch layout. Callers go through imlsdk::evaluate_examples(),
  // which calls this only on tasks built against SDK >= 2.2 (analysis.hpp).
  virtual EvalOutput evaluate(Model& model, const std::vector<const Example*>& xs, bool want_loss,
                              bool want_predictions) const;
  // SDK 2.3: may loss(), predict() and evaluate() run on two threads at once (on different
  // batches), each call giving what it gives alone? collate() is always called from one thread
  // at a time. With this and Model::concurrent_forward, the host splits batches into parts that
  // run side by side (experiment.streams). Called only on plugins built against SDK >= 2.3;
  // the default is false.
  virtual bool concurrent_calls() const { return false; }
  // SDK 2.4: the loss of `batch` from the head's input (Model::forward_head_input) and the
  // model's linear head instead of the logits. The host's training step calls this in place of
  // forward() + loss() when the task and model plugins are built against SDK >= 2.4 and the
  // model's head is a linear map (fp32 training). It must equal loss() of the logits up to float
  // rounding. The default makes the logits and calls loss(); causal_lm and seq2seq_lm compute
  // the loss without them (linear_cross_entropy).
  virtual Loss head_loss(const torch::Tensor& head_input, const LinearHead& head, const Batch& batch) const;
  // SDK 2.5: the positions whose head input head_loss(batch) reads: a [B, T] mask (nonzero =
  // read) for the head input of batch.input; undefined (the default): every position. The host
  // hands it to Model::forward_head_input_at, which may then skip the work of padding positions
  // that no loss row needs. causal_lm: the positions whose next token is a kept label.
  virtual torch::Tensor head_rows(const Batch& batch) const;
};

class TaskPlugin : public Plugin {
 public:
  static constexpr Kind kKind = Kind::Task;
  // Checks params against the model (e.g. block_size within its positions) and the tokenizer:
  // std::invalid_argument naming the key.
  virtual std::unique_ptr<Task> create(const Json& params, const TaskContext& ctx) const = 0;
};

// Text tasks' predict(): greedy decoding of `prompts` (token ids, specials included) with the
// tokenizer's pad and EOS, each row decoded to text.
std::vector<Prediction> greedy_predictions(Model& model, const Tokenizer& tokenizer,
                                           const std::vector<std::vector<int64_t>>& prompts,
                                           int64_t max_new_tokens);

// Pointers to xs[b0 .. b1), the form collate() takes.
std::vector<const Example*> example_refs(const std::vector<Example>& xs, size_t b0, size_t b1);
// SDK 2.4: xs[i] for each i of `indices` (a chunk of side_by_side_plan), in that order.
std::vector<const Example*> example_refs(const std::vector<const Example*>& xs, const std::vector<int64_t>& indices);

// SDK 2.3: each example's size for side_by_side_plan (parallel.hpp): the bytes of its text,
// prompt and answer, a proxy for its tokens (0 for an image example).
std::vector<int64_t> example_sizes(const std::vector<const Example*>& xs);

}  // namespace imlsdk
