// Test helper (SDK 2.4): a causal LM's training loss from its head's input
// (Model::forward_head_input + linear_head, imlsdk::causal_lm_loss of the head input) against the
// HF conformance fixture in `dir`: the head applied to the head's input gives forward()'s logits,
// the loss is HF's (unpadded and right-padded), and every parameter's gradient is HF's.
#pragma once
#include <string>

#include <ATen/ATen.h>
#include <gtest/gtest.h>

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

}  // namespace imltest
