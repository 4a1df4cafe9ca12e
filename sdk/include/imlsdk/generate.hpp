// Greedy decoding for causal and encoder-decoder LMs, batched over prompts of different lengths.
#pragma once
#include <cstdint>
#include <vector>

#include "imlsdk/model.hpp"

namespace imlsdk {

struct GenerateOptions {
  int64_t max_new_tokens = 8;
  int64_t pad_id = 0;
  int64_t eos_id = -1;     // a row stops after this token (-1: never)
  bool use_cache = true;   // false: every step re-runs the whole sequence (to check the cache)
  std::vector<torch::Tensor>* step_logits = nullptr;  // if set: each step's [B, V] logits
};

// The new tokens of each row. Causal LMs continue the (left-padded) prompts; seq2seq models
// encode the prompts once and decode from info().decoder_start_id.
std::vector<std::vector<int64_t>> greedy_generate(Model& model,
                                                  const std::vector<std::vector<int64_t>>& prompts,
                                                  const GenerateOptions& options);

// SDK 2.2. Greedy decoding of a causal LM from pasts already in `cache` (e.g. filled by a forward
// pass over right-padded texts with ModelInput::cache set): row i continues cache row rows[i],
// whose first past_len[i] positions are its past, with the token next[i] (already chosen, not
// returned). Each past is laid out again left-padded, as greedy_generate lays out prompts, so
// every key sits at the index and position that generation gives it. Returns up to max_new[i]
// tokens per row after next[i], stopping after EOS (options.max_new_tokens is not used); a row
// whose next[i] is EOS gets none.
std::vector<std::vector<int64_t>> greedy_continue(Model& model, const KVCache& cache,
                                                  const std::vector<int64_t>& rows,
                                                  const std::vector<int64_t>& past_len,
                                                  const std::vector<int64_t>& next,
                                                  const std::vector<int64_t>& max_new,
                                                  const GenerateOptions& options);

}  // namespace imlsdk
