// Language models. Architectures implement LanguageModel; shared pieces (rotary embeddings,
// attention masks, KV cache, greedy decoding, the causal-LM loss, safetensors) live in the SDK.
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
struct KVCache {
  std::vector<torch::Tensor> k, v;
  int64_t length() const { return k.empty() || !k[0].defined() ? 0 : k[0].size(2); }
};

// Appends x [B, H, T, D] to a cache entry past [B, H, S, D] (undefined = empty) along dim 2 and
// returns the result. Outside autograd the entry lives in a buffer with spare capacity, so most
// decoding steps write T new rows instead of copying the whole cache (at::cat); the returned
// tensor is a view of that buffer. The buffer is written in place only while `past` is its
// sole holder, so forked caches (two continuations of one past) stay correct. Since SDK 1.1.
torch::Tensor kv_append(const torch::Tensor& past, const torch::Tensor& x);

struct ForwardArgs {
  torch::Tensor input_ids;       // [B, T] int64
  torch::Tensor attention_mask;  // [B, T_past + T], 1 = attend, 0 = padding; undefined = all ones
  torch::Tensor position_ids;    // [B, T]; undefined = T_past .. T_past+T-1
  KVCache* cache = nullptr;      // if set: read past keys/values and append the new ones
  bool last_logits_only = false; // compute the LM head on the last position only
};

class LanguageModel : public torch::nn::Module {
 public:
  // Returns logits [B, T, V] (or [B, 1, V] with last_logits_only).
  virtual torch::Tensor forward(const ForwardArgs& args) = 0;
  virtual int64_t vocab_size() const = 0;
  virtual int64_t max_positions() const = 0;
  // Number of parameters counted for model-FLOP utilisation (all but the input embedding).
  virtual int64_t flop_params() const = 0;
  // Architecture config as HF's config.json would write it.
  virtual Json hf_config() const = 0;
};

struct ModelContext {
  int64_t vocab_size = 0;  // from the tokenizer; 0 = take it from the model config
  int64_t pad_id = 0;
  int64_t eos_id = 0;
  std::string base_dir;    // relative paths in the config are resolved against this
};

class ModelPlugin : public Plugin {
 public:
  static constexpr Kind kKind = Kind::Model;
  // Builds a model from params: randomly initialised from the current torch seed, or, if the
  // params name a checkpoint directory, loaded from it.
  virtual std::shared_ptr<LanguageModel> create(const Json& params,
                                                const ModelContext& ctx) const = 0;
};

// ---- shared building blocks --------------------------------------------------------------

// Mean cross-entropy of next-token prediction: logits [B,T,V] predict labels shifted by one.
// Labels equal to -100 are ignored.
torch::Tensor causal_lm_loss(const torch::Tensor& logits, const torch::Tensor& labels);

// alpha * a @ b for a [N, M, K] and b [N, K, P] (any strides), with autograd: attention's
// batched small GEMMs. On the CPU (float/double) one BLAS call per entry on strided views,
// without LibTorch 1.13's per-entry dispatch overhead; elsewhere at::bmm. Since SDK 1.1.
torch::Tensor batched_matmul(const torch::Tensor& a, const torch::Tensor& b, double alpha = 1.0);

// Additive attention bias [B, 1, T, T_past+T]: 0 where a query may attend, -inf-like elsewhere
// (future keys and padded keys). attention_mask may be undefined (no padding).
torch::Tensor causal_attention_bias(const torch::Tensor& attention_mask, int64_t query_len,
                                    int64_t past_len, torch::ScalarType dtype,
                                    torch::Device device);

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

// Greedy decoding. Prompts may differ in length (left-padded internally). Returns the new
// tokens of each row; a row stops after `eos_id` (if >= 0). With use_cache=false every step
// re-runs the whole sequence (for checking the cache).
std::vector<std::vector<int64_t>> greedy_generate(LanguageModel& model,
                                                  const std::vector<std::vector<int64_t>>& prompts,
                                                  int64_t max_new_tokens, int64_t pad_id,
                                                  int64_t eos_id = -1, bool use_cache = true,
                                                  std::vector<torch::Tensor>* step_logits = nullptr);

// Copies tensors into the model's parameters and buffers by name. Names the model does not have
// are errors unless listed in `ignore_suffixes`; missing names are errors. Shapes must match.
void load_state(torch::nn::Module& model, const std::map<std::string, torch::Tensor>& tensors,
                const std::vector<std::string>& ignore_suffixes, const std::string& source);

}  // namespace imlsdk
