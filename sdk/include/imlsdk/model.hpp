// Models: causal LMs, encoder-decoder (seq2seq) LMs and image classifiers behind one contract.
// A model returns one ModelOutput record (as HF's modeling_outputs): logits always, the hidden
// states of every layer when asked for. Shared pieces (rotary embeddings, attention masks, the
// KV cache, the loss, safetensors) live in the SDK; greedy decoding is in imlsdk/generate.hpp.
#pragma once
#include <cstdint>
#include <map>
#include <memory>
#include <string>
#include <vector>

#include <torch/version.h>  // TORCH_VERSION, recorded by IMLSDK_PLUGIN
#include <torch/nn/module.h>

#include "imlsdk/plugin.hpp"

// Plugins that include this header use LibTorch: record its version in their entry.
#undef IMLSDK_TORCH_VERSION_STR
#define IMLSDK_TORCH_VERSION_STR TORCH_VERSION

namespace imlsdk {

// Per-layer key/value cache for incremental decoding: k[l], v[l] are [B, heads, T_past, head_dim].
// Encoder-decoder models also keep the encoder's output and each layer's cross-attention keys
// and values, computed once at the first decoding step.
struct KVCache {
  std::vector<torch::Tensor> k, v;
  std::vector<torch::Tensor> cross_k, cross_v;  // seq2seq: [B, heads, T_enc, head_dim]
  torch::Tensor encoder_output;                 // seq2seq: [B, T_enc, C]
  int64_t length() const { return k.empty() || !k[0].defined() ? 0 : k[0].size(2); }
};

// Appends x [B, H, T, D] to a cache entry past [B, H, S, D] (undefined = empty) along dim 2 and
// returns the result. Outside autograd the entry lives in a buffer with spare capacity, so most
// decoding steps write T new rows instead of copying the whole cache (at::cat); the returned
// tensor is a view of that buffer. The buffer is written in place only while `past` is its
// sole holder, so forked caches (two continuations of one past) stay correct.
torch::Tensor kv_append(const torch::Tensor& past, const torch::Tensor& x);

// What a model is run on. Each family reads its own fields:
//   causal LM:     input_ids, attention_mask, position_ids, cache
//   seq2seq LM:    input_ids + attention_mask (encoder), decoder_input_ids (+ cache)
//   image model:   pixel_values
struct ModelInput {
  torch::Tensor input_ids;       // [B, T] int64
  torch::Tensor attention_mask;  // [B, T_past + T] (causal) or [B, T_enc] (seq2seq); 1 = attend
  torch::Tensor position_ids;    // [B, T]; undefined = T_past .. T_past+T-1
  torch::Tensor decoder_input_ids;  // seq2seq: [B, T_dec] int64
  torch::Tensor pixel_values;       // image models: [B, C, H, W] float
  KVCache* cache = nullptr;         // if set: read past keys/values and append the new ones
  bool last_logits_only = false;    // compute the head on the last position only
  bool output_hidden_states = false;
};

struct ModelOutput {
  // [B, T, V] (LMs; [B, 1, V] with last_logits_only) or [B, num_labels...] (classifiers).
  torch::Tensor logits;
  // With output_hidden_states: the input to every block and the final (normed) output, as HF
  // returns them (num_layers + 1 tensors [B, T, C]; a seq2seq model's decoder stack).
  std::vector<torch::Tensor> hidden_states;
  std::vector<torch::Tensor> encoder_hidden_states;  // seq2seq, with output_hidden_states
};

// SDK 2.4: an LM head that is one linear map of the last hidden state h [.., C]:
// logits = scale * h @ weight^T (no bias). What linear_cross_entropy computes a loss from.
struct LinearHead {
  torch::Tensor weight;  // [V, C]; undefined: the model's head is not such a map
  double scale = 1.0;
};

enum class ModelFamily { CausalLM, Seq2SeqLM, ImageClassifier };
const char* family_name(ModelFamily f);

struct ModelInfo {
  ModelFamily family = ModelFamily::CausalLM;
  int64_t vocab_size = 0;     // embedding rows (0 for models without a vocabulary)
  int64_t max_positions = 0;  // longest sequence (0 = unbounded, e.g. relative positions)
  int64_t num_layers = 0;
  int64_t hidden_size = 0;
  int64_t num_labels = 0;           // classifiers: classes per output
  int64_t decoder_start_id = -1;    // seq2seq: the first decoder token
  int64_t flop_params = 0;          // parameters counted for model-FLOP utilisation
};

class Model : public torch::nn::Module {
 public:
  virtual ModelOutput forward(const ModelInput& input) = 0;
  virtual ModelInfo info() const = 0;
  // Architecture config as HF's config.json would write it (saved next to checkpoints).
  virtual Json hf_config() const = 0;
  // SDK 2.3: may forward() run on two threads at once, on different inputs (and, when
  // `training`, the backward pass of its outputs too), each call giving exactly what it gives
  // alone? That needs forward() to write nothing but the tensors it returns (and a KVCache it is
  // handed) and, in training mode, to draw from no shared random generator (dropout). If so, the
  // host runs a batch's parts side by side, one core each (experiment.streams; parallel.hpp).
  // The host calls this only on plugins built against SDK >= 2.3; the default is false.
  virtual bool concurrent_forward(bool training) const {
    (void)training;
    return false;
  }
  // SDK 2.4: the head as a linear map (LinearHead::weight undefined, the default: it is not one),
  // and forward() up to it: the head's input [B, T, C] (a seq2seq model's: the decoder's) for
  // `input` without a cache, every position, so that a training loss reads only the rows it needs,
  // block by block, instead of [B, T, V] logits (Task::head_loss, linear_cross_entropy).
  // linear_head() applied to forward_head_input(in) gives forward(in).logits up to float rounding.
  // The host calls these only on plugins built against SDK >= 2.4, and forward_head_input only
  // where linear_head() is defined; the default throws std::logic_error.
  virtual LinearHead linear_head() const { return {}; }
  virtual torch::Tensor forward_head_input(const ModelInput& input);
  // SDK 2.5: forward_head_input(input) where only the rows of `rows` will be read (a [B, T] mask,
  // nonzero = read; undefined = all, Task::head_rows): the other rows' values are unspecified, so
  // a model may leave out positions that are neither read nor attended to (attention_mask 0),
  // e.g. run its per-token layers on the real tokens only (imlsdk::TokenRows, layers.hpp). The
  // read rows equal forward_head_input's up to float rounding. The host calls this instead of
  // forward_head_input on plugins built against SDK >= 2.5; the default calls forward_head_input.
  virtual torch::Tensor forward_head_input_at(const ModelInput& input, const torch::Tensor& rows);
};

struct ModelContext {
  int64_t vocab_size = 0;  // from the tokenizer; 0 = take it from the model config/checkpoint
  int64_t pad_id = 0;
  int64_t eos_id = 0;
  int64_t bos_id = -1;
  std::string base_dir;  // relative paths in the config resolve against this
};

class ModelPlugin : public Plugin {
 public:
  static constexpr Kind kKind = Kind::Model;
  // Builds a model from params: randomly initialised from the current torch seed, or, if the
  // params name a checkpoint folder, loaded from it. Errors: std::invalid_argument naming the
  // key, or the file and tensor.
  virtual std::shared_ptr<Model> create(const Json& params, const ModelContext& ctx) const = 0;
  // The checkpoint folder the params name (resolved against base_dir), "" = from scratch. The
  // host reads the folder's tokenizer from here when `tokenizer.from: checkpoint`.
  virtual std::string checkpoint_dir(const Json& params, const std::string& base_dir) const {
    (void)params;
    (void)base_dir;
    return "";
  }
  // The task plugin a config gets when it names none, e.g. "causal_lm".
  virtual std::string default_task() const = 0;
  // SDK 2.1: the HF config.json "model_type" values this plugin loads (e.g. {"llama"}). A config
  // whose model section names only `checkpoint:` gets the plugin that lists the folder's
  // model_type. The host calls this only on plugins built against SDK >= 2.1.
  virtual std::vector<std::string> hf_model_types() const { return {}; }
};

// ---- shared building blocks --------------------------------------------------------------

// Mean cross-entropy of next-token prediction: logits [B,T,V] predict labels shifted by one.
// Labels equal to -100 are ignored.
torch::Tensor causal_lm_loss(const torch::Tensor& logits, const torch::Tensor& labels);

// Mean cross-entropy of logits [..., V] against labels [...] (no shift), -100 ignored: the loss
// of seq2seq targets and classifier outputs.
torch::Tensor token_cross_entropy(const torch::Tensor& logits, const torch::Tensor& labels);

// SDK 2.4: the mean cross-entropy of the logits head(hidden) = scale * hidden @ weight^T against
// targets [...] (-100 ignored) for hidden [..., C], without making the logits whole: only rows
// whose target is kept are projected, a block of rows at a time, and where a gradient will be
// needed the block's softmax gradient goes straight into the gradients of `hidden` and of the
// head's weight while it is in cache. Equals token_cross_entropy(head(hidden), targets) up to
// float rounding, in value and in gradient.
torch::Tensor linear_cross_entropy(const torch::Tensor& hidden, const LinearHead& head,
                                   const torch::Tensor& targets);
// SDK 2.4: causal_lm_loss of the logits head(head_input) for head_input [B, T, C], the same way.
torch::Tensor causal_lm_loss(const torch::Tensor& head_input, const LinearHead& head,
                             const torch::Tensor& labels);

// alpha * a @ b for a [N, M, K] and b [N, K, P] (any strides), with autograd: attention's
// batched small GEMMs. On the CPU (float/double) one BLAS call per entry on strided views,
// without LibTorch 1.13's per-entry dispatch overhead; elsewhere at::bmm.
torch::Tensor batched_matmul(const torch::Tensor& a, const torch::Tensor& b, double alpha = 1.0);

// Additive attention bias [B, 1, T, T_past+T]: 0 where a query may attend, -inf-like elsewhere
// (future keys and padded keys). attention_mask may be undefined (no padding).
torch::Tensor causal_attention_bias(const torch::Tensor& attention_mask, int64_t query_len,
                                    int64_t past_len, torch::ScalarType dtype,
                                    torch::Device device);

// Additive bias [B, 1, 1, T] that hides padded keys (bidirectional attention, e.g. an encoder).
torch::Tensor padding_attention_bias(const torch::Tensor& attention_mask, torch::ScalarType dtype);

// Rotary embeddings (GPT-NeoX / Llama rotate-half convention) on the first `rot_dims` dims of
// q and k ([B, H, T, D]) at positions position_ids [B, T].
struct Rotary {
  Rotary() = default;
  Rotary(int64_t rot_dims, double base, int64_t max_positions);
  void apply(torch::Tensor& q, torch::Tensor& k, const torch::Tensor& position_ids) const;
  int64_t rot_dims = 0;
  torch::Tensor cos, sin;  // [max_positions, rot_dims]
};

// Default position ids for a batch: past_len .. past_len+T-1, or, with a padding mask,
// the number of real tokens before each position (left padding aware).
torch::Tensor default_position_ids(const torch::Tensor& input_ids,
                                   const torch::Tensor& attention_mask, int64_t past_len);

// Copies tensors into the model's parameters and buffers by name. Names the model does not have
// are errors unless listed in `ignore_suffixes`; missing names are errors. Shapes must match.
void load_state(torch::nn::Module& model, const std::map<std::string, torch::Tensor>& tensors,
                const std::vector<std::string>& ignore_suffixes, const std::string& source);

}  // namespace imlsdk
