// Behaviour checks every causal LM plugin's small random models pass (pythia, gpt_neo, llama):
// each test file picks the model variants to run them on.
#pragma once
#include <ATen/ATen.h>
#include <gtest/gtest.h>

#include <algorithm>
#include <string>
#include <vector>

#include "imlsdk/generate.hpp"
#include "imlsdk/model.hpp"
#include "model_test_support.hpp"

namespace imltest {

// Prompts of different lengths (so a batch of them is left-padded), token ids < 97.
inline const std::vector<std::vector<int64_t>>& causal_prompts() {
  static const std::vector<std::vector<int64_t>> prompts = {
      {5, 17, 3, 88, 41, 9, 60}, {12, 7}, {33, 2, 90, 14}, {71}};
  return prompts;
}

// Greedy decoding with and without the KV cache: the same tokens, the same step logits.
inline void expect_kv_cache_matches_full_recompute(imlsdk::Model& model, const std::string& label) {
  std::vector<at::Tensor> cached_logits, full_logits;
  const auto cached = imlsdk::greedy_generate(model, causal_prompts(), greedy(6, -1, true, &cached_logits));
  const auto full = imlsdk::greedy_generate(model, causal_prompts(), greedy(6, -1, false, &full_logits));
  EXPECT_EQ(cached, full) << label;
  EXPECT_LE(max_abs_diff(at::stack(cached_logits), at::stack(full_logits)), 1e-4) << label;
  for (const auto& row : cached) EXPECT_EQ(row.size(), 6u) << label;
}

// With an eos id, each row is the free run cut after its first eos (row 0's third token, so
// that row 0 stops early).
inline void expect_stops_after_eos(imlsdk::Model& model) {
  const auto& prompts = causal_prompts();
  const auto free_run = imlsdk::greedy_generate(model, prompts, greedy(6));
  const int64_t eos = free_run[0][2];
  const size_t stop = std::find(free_run[0].begin(), free_run[0].end(), eos) - free_run[0].begin() + 1;
  ASSERT_LT(stop, 6u) << "the test needs an early stop";
  const auto stopped = imlsdk::greedy_generate(model, prompts, greedy(6, eos));
  ASSERT_EQ(stopped[0].size(), stop);
  EXPECT_EQ(stopped[0].back(), eos);
  for (size_t r = 0; r < prompts.size(); ++r) {
    auto first_eos = std::find(free_run[r].begin(), free_run[r].end(), eos);
    std::vector<int64_t> want(free_run[r].begin(), first_eos == free_run[r].end() ? first_eos : first_eos + 1);
    EXPECT_EQ(stopped[r], want) << "row " << r;
  }
}

// A different token at position 8 changes the logits from position 8 on, and none before.
inline void expect_causal(imlsdk::Model& model, int64_t vocab) {
  at::NoGradGuard no_grad;
  imlsdk::ModelInput in;
  in.input_ids = at::randint(vocab, {2, 12}, at::kLong);
  const at::Tensor before = model.forward(in).logits;
  in.input_ids = in.input_ids.clone();
  at::Tensor changed = in.input_ids.select(1, 8);
  changed.add_(1).remainder_(vocab);
  const at::Tensor after = model.forward(in).logits;
  EXPECT_LE(max_abs_diff(before.narrow(1, 0, 8), after.narrow(1, 0, 8)), 1e-6);
  EXPECT_GT(max_abs_diff(before.narrow(1, 8, 4), after.narrow(1, 8, 4)), 1e-3);
}

// Each prompt decodes alone as it does left-padded in the batch: the same tokens and logits.
inline void expect_left_padding_invariance(imlsdk::Model& model) {
  const auto& prompts = causal_prompts();
  for (size_t r = 0; r < prompts.size(); ++r) {
    std::vector<at::Tensor> alone_logits, batch_logits;
    const auto alone = imlsdk::greedy_generate(model, {prompts[r]}, greedy(5, -1, true, &alone_logits));
    const auto batch = imlsdk::greedy_generate(model, prompts, greedy(5, -1, true, &batch_logits));
    EXPECT_EQ(alone[0], batch[r]) << "row " << r;
    for (size_t s = 0; s < alone_logits.size(); ++s)
      EXPECT_LE(max_abs_diff(alone_logits[s][0], batch_logits[s][r]), 1e-4) << "row " << r;
  }
}

}  // namespace imltest
