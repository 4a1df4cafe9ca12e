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

}  // namespace imlsdk
