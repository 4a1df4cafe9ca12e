// Greedy decoding for any LanguageModel, batched over prompts of different lengths.
#include <ATen/ATen.h>
#include <c10/core/InferenceMode.h>

#include <algorithm>
#include <stdexcept>

#include "imlsdk/model.hpp"

namespace imlsdk {

std::vector<std::vector<int64_t>> greedy_generate(LanguageModel& model,
                                                  const std::vector<std::vector<int64_t>>& prompts,
                                                  int64_t max_new_tokens, int64_t pad_id,
                                                  int64_t eos_id, bool use_cache,
                                                  std::vector<torch::Tensor>* step_logits) {
  const int64_t B = static_cast<int64_t>(prompts.size());
  std::vector<std::vector<int64_t>> out(B);
  if (B == 0 || max_new_tokens <= 0) return out;
  c10::InferenceMode inference;

  // Left-pad every prompt to the longest so that all rows end at the same column.
  int64_t L = 0;
  for (const auto& p : prompts) {
    if (p.empty()) throw std::invalid_argument("greedy_generate: empty prompt");
    L = std::max<int64_t>(L, static_cast<int64_t>(p.size()));
  }
  if (L + max_new_tokens > model.max_positions())
    throw std::invalid_argument("greedy_generate: prompt length " + std::to_string(L) + " + " +
                                std::to_string(max_new_tokens) + " new tokens exceeds the model's " +
                                std::to_string(model.max_positions()) + " positions");
  torch::Tensor ids = at::full({B, L}, pad_id, at::kLong);
  torch::Tensor mask = at::zeros({B, L}, at::kLong);
  for (int64_t b = 0; b < B; ++b) {
    const auto& p = prompts[b];
    const int64_t n = static_cast<int64_t>(p.size());
    ids[b].narrow(0, L - n, n).copy_(at::tensor(p, at::kLong));
    mask[b].narrow(0, L - n, n).fill_(1);
  }
  const torch::Device device = model.parameters().front().device();
  ids = ids.to(device);
  mask = mask.to(device);

  KVCache cache;
  std::vector<bool> done(B, false);
  torch::Tensor next;  // [B, 1], the tokens chosen at the previous step
  for (int64_t step = 0; step < max_new_tokens; ++step) {
    ForwardArgs args;
    args.attention_mask = mask;
    args.last_logits_only = true;
    if (use_cache) {
      args.cache = &cache;
      args.input_ids = step == 0 ? ids : next;
    } else {
      args.input_ids = ids;  // the whole sequence again
    }
    args.position_ids = default_position_ids(args.input_ids, mask, use_cache ? cache.length() : 0);
    torch::Tensor logits = model.forward(args).select(1, -1);  // [B, V]
    if (step_logits) step_logits->push_back(logits);

    next = logits.argmax(-1, /*keepdim=*/true);  // [B, 1]
    // Finished rows keep producing padding, as HF does.
    std::vector<int64_t> chosen(B);
    const torch::Tensor next_cpu = next.to(at::kCPU);
    const int64_t* nc = next_cpu.data_ptr<int64_t>();
    bool all_done = true;
    for (int64_t b = 0; b < B; ++b) {
      chosen[b] = done[b] ? pad_id : nc[b];
      if (!done[b]) {
        out[b].push_back(chosen[b]);
        if (eos_id >= 0 && chosen[b] == eos_id) done[b] = true;
      }
      all_done = all_done && done[b];
    }
    if (all_done || step + 1 == max_new_tokens) break;
    next = at::tensor(chosen, at::kLong).view({B, 1}).to(device);
    ids = at::cat({ids, next}, 1);
    mask = at::cat({mask, at::ones({B, 1}, mask.options())}, 1);
  }
  return out;
}

}  // namespace imlsdk
