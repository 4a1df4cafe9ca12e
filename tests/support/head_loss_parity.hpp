// Test helper (SDK 2.4): a causal LM's training loss from its head's input
// (Model::forward_head_input + linear_head, imlsdk::causal_lm_loss of the head input) against the
// HF conformance fixture in `dir`: the head applied to the head's input gives forward()'s logits,
// the loss is HF's (unpadded and right-padded), and every parameter's gradient is HF's.
#pragma once
#include <algorithm>
#include <stdexcept>
#include <string>
#include <vector>

#include <ATen/ATen.h>
#include <gtest/gtest.h>

#include "imlsdk/layers.hpp"
#include "imlsdk/model.hpp"
#include "imlsdk/safetensors.hpp"

namespace imltest {

inline void expect_head_loss_equals_hf(imlsdk::Model& model, const std::string& dir, const at::Tensor& input_ids,
                                       const at::Tensor& attention_mask, const at::Tensor& labels, double hf_loss,
                                       const at::Tensor& padded_mask, const at::Tensor& padded_labels,
                                       double hf_padded_loss) {
  const imlsdk::LinearHead head = model.linear_head();
  ASSERT_TRUE(head.weight.defined());
  imlsdk::ModelInput in;
  in.input_ids = input_ids;
  in.attention_mask = attention_mask;
  {
    at::NoGradGuard no_grad;
    const at::Tensor logits = model.forward(in).logits;
    const at::Tensor via_head = at::matmul(model.forward_head_input(in), head.weight.t()) * head.scale;
    ASSERT_EQ(via_head.sizes(), logits.sizes());
    EXPECT_LE((via_head - logits).abs().max().item<double>(), 1e-5);
    imlsdk::ModelInput padded = in;
    padded.attention_mask = padded_mask;
    EXPECT_NEAR(imlsdk::causal_lm_loss(model.forward_head_input(padded), head, padded_labels).item<double>(),
                hf_padded_loss, 1e-5);
  }
  model.zero_grad();
  const at::Tensor loss = imlsdk::causal_lm_loss(model.forward_head_input(in), head, labels);
  EXPECT_NEAR(loss.item<double>(), hf_loss, 1e-5);
  loss.backward();
  const auto grads = imlsdk::read_safetensors(dir + "/grads.safetensors");
  int64_t compared = 0;
  for (const auto& p : model.named_parameters()) {
    auto it = grads.find(p.key());
    ASSERT_NE(it, grads.end()) << "no reference gradient for " << p.key();
    ASSERT_TRUE(p.value().grad().defined()) << p.key();
    EXPECT_LE((p.value().grad().to(at::kDouble) - it->second.to(at::kDouble)).abs().max().item<double>(), 1e-4)
        << p.key();
    ++compared;
  }
  EXPECT_EQ(compared, static_cast<int64_t>(grads.size()));  // every gradient HF gives
  model.zero_grad();
}

// The rows a causal LM loss reads: position t where label t + 1 is kept (causal_lm's head_rows).
inline at::Tensor causal_head_rows(const at::Tensor& labels) {
  at::Tensor rows = at::zeros(labels.sizes(), at::kBool);
  rows.slice(1, 0, -1).copy_(labels.slice(1, 1).ne(-100));
  return rows;
}

// SDK 2.5: forward_head_input_at on a right-padded batch with the rows its loss reads skips the
// padding (those rows are zero, where forward_head_input's are not), gives forward_head_input's
// values at the read rows, and the loss and every gradient of the logits path. With the padding
// read too (labels unmasked, the reference's way) nothing is skipped.
inline void expect_head_rows_skip_padding(imlsdk::Model& model, const at::Tensor& input_ids,
                                          const at::Tensor& padded_mask, const at::Tensor& padded_labels) {
  imlsdk::ModelInput in;
  in.input_ids = input_ids;
  in.attention_mask = padded_mask;
  const imlsdk::LinearHead head = model.linear_head();
  const at::Tensor rows = causal_head_rows(padded_labels);
  const at::Tensor skippable = padded_mask.eq(0).logical_and(rows.logical_not());
  const int64_t skipped = skippable.sum().item<int64_t>();
  ASSERT_GT(skipped, 0) << "the fixture's padded batch has no padding";
  // Too little padding to be worth skipping (TokenRows::kMinSkippedShare): every row is computed.
  const bool skips = static_cast<double>(skipped) >= imlsdk::TokenRows::kMinSkippedShare * static_cast<double>(rows.numel());
  {
    at::NoGradGuard no_grad;
    const at::Tensor all = model.forward_head_input(in);
    const at::Tensor at_rows = model.forward_head_input_at(in, rows);
    ASSERT_EQ(at_rows.sizes(), all.sizes());
    EXPECT_GT(all.index({skippable}).abs().max().item<double>(), 0.0);
    if (skips)
      EXPECT_EQ(at_rows.index({skippable}).abs().max().item<double>(), 0.0);
    else
      EXPECT_LE((at_rows - all).abs().max().item<double>(), 1e-5);
    EXPECT_LE((at_rows - all).index({rows}).abs().max().item<double>(), 1e-5);
    // Unmasked labels: the padding's rows are read, so they are computed.
    const at::Tensor read_all = causal_head_rows(input_ids);
    EXPECT_LE((model.forward_head_input_at(in, read_all) - all).index({read_all}).abs().max().item<double>(), 1e-5);
    EXPECT_THROW(model.forward_head_input_at(in, rows.slice(1, 1)), std::invalid_argument);
  }
  model.zero_grad();
  const at::Tensor reference = imlsdk::causal_lm_loss(model.forward(in).logits, padded_labels);
  reference.backward();
  std::vector<at::Tensor> expected;
  for (const auto& p : model.parameters()) expected.push_back(p.grad().clone());
  model.zero_grad();
  const at::Tensor loss = imlsdk::causal_lm_loss(model.forward_head_input_at(in, rows), head, padded_labels);
  EXPECT_NEAR(loss.item<double>(), reference.item<double>(), 1e-6);
  loss.backward();
  const auto params = model.named_parameters();
  for (size_t i = 0; i < params.size(); ++i) {
    const at::Tensor& g = params[i].value().grad();
    ASSERT_TRUE(g.defined()) << params[i].key();
    const double scale = std::max(1.0, expected[i].abs().max().item<double>());
    EXPECT_LE((g - expected[i]).abs().max().item<double>(), 1e-5 * scale) << params[i].key();
  }
  model.zero_grad();
}

// With last_logits_only a causal model may run its last block's attention output and MLP on the
// last position alone: the logits there, the KV cache it fills and the step after it are those of
// the full forward pass, for a left-padded batch (as greedy_generate lays out prompts), with and
// without a cache.
inline void expect_last_logits_only_equals_full(imlsdk::Model& model, const at::Tensor& input_ids) {
  at::NoGradGuard no_grad;
  const int64_t B = input_ids.size(0), T = input_ids.size(1);
  ASSERT_GE(T, 3) << "the fixture's batch is too short to pad";
  at::Tensor mask = at::ones({B, T}, at::kLong);
  mask.select(0, 0).narrow(0, 0, 2).zero_();  // the first row left-padded
  const auto forward = [&](const at::Tensor& ids, const at::Tensor& m, imlsdk::KVCache* cache, bool last_only) {
    imlsdk::ModelInput in;
    in.input_ids = ids;
    in.attention_mask = m;
    in.cache = cache;
    in.last_logits_only = last_only;
    in.position_ids = imlsdk::default_position_ids(ids, m, cache ? cache->length() : 0);
    return model.forward(in).logits;
  };
  const auto max_diff = [](const at::Tensor& a, const at::Tensor& b) { return (a - b).abs().max().item<double>(); };
  const at::Tensor full = forward(input_ids, mask, nullptr, false);
  const at::Tensor last = forward(input_ids, mask, nullptr, true);
  ASSERT_EQ(last.sizes(), at::IntArrayRef({B, 1, full.size(2)}));
  EXPECT_LE(max_diff(last, full.narrow(1, T - 1, 1)), 1e-5);

  imlsdk::KVCache full_cache, last_cache;
  EXPECT_LE(max_diff(forward(input_ids, mask, &last_cache, true), full.narrow(1, T - 1, 1)), 1e-5);
  (void)forward(input_ids, mask, &full_cache, false);
  ASSERT_EQ(last_cache.k.size(), full_cache.k.size());
  for (size_t l = 0; l < full_cache.k.size(); ++l) {
    EXPECT_LE(max_diff(last_cache.k[l], full_cache.k[l]), 1e-6) << "layer " << l << "'s keys";
    EXPECT_LE(max_diff(last_cache.v[l], full_cache.v[l]), 1e-6) << "layer " << l << "'s values";
  }
  const at::Tensor next = full.narrow(1, T - 1, 1).argmax(-1);  // [B, 1]
  const at::Tensor mask2 = at::cat({mask, at::ones({B, 1}, at::kLong)}, 1);
  EXPECT_LE(max_diff(forward(next, mask2, &last_cache, true), forward(next, mask2, &full_cache, false)), 1e-5);
}

}  // namespace imltest
