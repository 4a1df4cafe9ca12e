#include "imlsdk/task.hpp"

#include <ATen/ATen.h>
#include <c10/core/GradMode.h>

#include "imlsdk/generate.hpp"

namespace imlsdk {

Loss Task::head_loss(const torch::Tensor& head_input, const LinearHead& head, const Batch& batch) const {
  ModelOutput out;
  out.logits = at::matmul(head_input, head.weight.t());
  if (head.scale != 1.0) out.logits = out.logits * head.scale;
  return loss(out, batch);
}

torch::Tensor Task::head_rows(const Batch& batch) const {
  (void)batch;
  return {};
}

EvalOutput Task::evaluate(Model& model, const std::vector<const Example*>& xs, bool want_loss,
                          bool want_predictions) const {
  at::NoGradGuard no_grad;
  EvalOutput out;
  if (want_loss && !xs.empty()) {
    Rng unused(0);  // evaluation-phase collate must not draw from it
    const Batch batch = collate(xs, Phase::Eval, unused);
    out.loss = loss(model.forward(batch.input), batch);
  }
  if (want_predictions && !xs.empty()) out.predictions = predict(model, xs);
  return out;
}

std::vector<const Example*> example_refs(const std::vector<Example>& xs, size_t b0, size_t b1) {
  std::vector<const Example*> out;
  b1 = std::min(b1, xs.size());
  for (size_t i = b0; i < b1; ++i) out.push_back(&xs[i]);
  return out;
}

std::vector<const Example*> example_refs(const std::vector<const Example*>& xs, const std::vector<int64_t>& indices) {
  std::vector<const Example*> out;
  out.reserve(indices.size());
  for (int64_t i : indices) out.push_back(xs.at(static_cast<size_t>(i)));
  return out;
}

std::vector<int64_t> example_sizes(const std::vector<const Example*>& xs) {
  std::vector<int64_t> out;
  out.reserve(xs.size());
  for (const auto* x : xs) out.push_back(static_cast<int64_t>(x->text.size() + x->prompt.size() + x->answer.size()));
  return out;
}

std::vector<Prediction> greedy_predictions(Model& model, const Tokenizer& tokenizer,
                                           const std::vector<std::vector<int64_t>>& prompts,
                                           int64_t max_new_tokens) {
  GenerateOptions o;
  o.max_new_tokens = max_new_tokens;
  o.pad_id = tokenizer.pad_id();
  o.eos_id = tokenizer.eos_id();
  std::vector<Prediction> out;
  for (auto& ids : greedy_generate(model, prompts, o)) {
    Prediction p;
    p.text = tokenizer.decode(ids);
    p.tokens = std::move(ids);
    out.push_back(std::move(p));
  }
  return out;
}

}  // namespace imlsdk
