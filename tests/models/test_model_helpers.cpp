// SDK model helpers: imlsdk::batched_matmul against at::bmm (values and gradients for
// contiguous, transposed and strided operands, float and double, alpha, empty batches) and
// imlsdk::kv_append against at::cat (in place within capacity, reallocation, autograd).
#include <gtest/gtest.h>

#include <ATen/ATen.h>
#include <ATen/core/grad_mode.h>
#include <torch/csrc/autograd/autograd.h>

#include "imlsdk/model.hpp"

namespace {

double max_diff(const at::Tensor& a, const at::Tensor& b) {
  return (a.to(at::kDouble) - b.to(at::kDouble)).abs().max().item<double>();
}

struct Case {
  const char* label;
  bool a_transposed, b_transposed, b_strided;
};

TEST(BatchedMatmul, MatchesBmmValuesAndGradients) {
  for (auto dtype : {at::kFloat, at::kDouble}) {
    const double tol = dtype == at::kFloat ? 1e-5 : 1e-12;
    for (const Case c : {Case{"plain", false, false, false}, Case{"a^T", true, false, false},
                         Case{"b^T", false, true, false}, Case{"both^T", true, true, false},
                         Case{"b strided", false, false, true}}) {
      at::manual_seed(4);
      const int64_t N = 6, M = 5, K = 7, P = 3;
      // Leaves hold the backing storage; the operands are views with the layout under test.
      const at::Tensor a_base = c.a_transposed ? at::randn({N, K, M}, dtype) : at::randn({N, M, K}, dtype);
      const at::Tensor b_base = c.b_transposed ? at::randn({N, P, K}, dtype)
                                : c.b_strided  ? at::randn({N, K, 2 * P}, dtype)
                                               : at::randn({N, K, P}, dtype);
      auto a_of = [&](const at::Tensor& base) { return c.a_transposed ? base.transpose(1, 2) : base; };
      auto b_of = [&](const at::Tensor& base) {
        return c.b_transposed ? base.transpose(1, 2) : c.b_strided ? base.slice(2, 0, 2 * P, 2) : base;
      };
      at::Tensor a1 = a_base.clone().set_requires_grad(true), b1 = b_base.clone().set_requires_grad(true);
      at::Tensor a2 = a_base.clone().set_requires_grad(true), b2 = b_base.clone().set_requires_grad(true);
      const at::Tensor out = imlsdk::batched_matmul(a_of(a1), b_of(b1), 0.5);
      const at::Tensor ref = at::bmm(a_of(a2), b_of(b2)) * 0.5;
      ASSERT_EQ(out.sizes(), ref.sizes());
      EXPECT_LE(max_diff(out, ref), tol) << c.label;
      const at::Tensor g = at::randn(ref.sizes(), dtype);
      out.backward(g);
      ref.backward(g);
      EXPECT_LE(max_diff(a1.grad(), a2.grad()), tol) << c.label << " grad a";
      EXPECT_LE(max_diff(b1.grad(), b2.grad()), tol) << c.label << " grad b";
    }
  }
}

TEST(BatchedMatmul, DecodeShapeAndEmptyBatch) {
  at::manual_seed(5);
  const at::Tensor q = at::randn({512, 1, 64}), k = at::randn({512, 28, 64});
  EXPECT_LE(max_diff(imlsdk::batched_matmul(q, k.transpose(1, 2)), at::bmm(q, k.transpose(1, 2))),
            1e-5);
  const at::Tensor e = imlsdk::batched_matmul(at::randn({0, 2, 3}), at::randn({0, 3, 4}));
  EXPECT_EQ(e.sizes(), at::IntArrayRef({0, 2, 4}));
  EXPECT_THROW(imlsdk::batched_matmul(at::randn({2, 2, 3}), at::randn({2, 4, 4})), c10::Error);
}

TEST(KvAppend, EqualsCatAndGrowsInPlace) {
  at::NoGradGuard no_grad;
  at::manual_seed(6);
  at::Tensor cache, expected;
  const void* buffer = nullptr;
  int reallocations = 0;
  for (int64_t t : {20, 1, 1, 1, 5, 1, 30, 1}) {
    const at::Tensor x = at::randn({3, 2, t, 4});
    cache = imlsdk::kv_append(cache, x);
    expected = expected.defined() ? at::cat({expected, x}, 2) : x;
    ASSERT_EQ(cache.sizes(), expected.sizes());
    EXPECT_TRUE(cache.equal(expected));
    if (cache.data_ptr() != buffer) ++reallocations;
    buffer = cache.data_ptr();
  }
  EXPECT_LE(reallocations, 3);  // 20 -> cap 40 holds up to 40; 59 -> cap 118
  // the cache as attention reads it: a [B*H, S, D] view, no copy
  EXPECT_EQ(cache.reshape({6, cache.size(2), 4}).data_ptr(), cache.data_ptr());
  EXPECT_THROW(imlsdk::kv_append(cache, at::randn({3, 2, 1, 5})), c10::Error);
}

TEST(KvAppend, AForkedCacheKeepsBothContinuations) {
  at::NoGradGuard no_grad;
  at::manual_seed(7);
  const at::Tensor prefix = at::randn({2, 2, 5, 4});
  at::Tensor past = imlsdk::kv_append(at::Tensor(), prefix);  // buffer with spare room
  at::Tensor fork = past;                                      // a second holder
  const at::Tensor x1 = at::randn({2, 2, 1, 4}), x2 = at::randn({2, 2, 1, 4});
  const at::Tensor a = imlsdk::kv_append(past, x1);
  const at::Tensor b = imlsdk::kv_append(fork, x2);
  EXPECT_TRUE(a.equal(at::cat({prefix, x1}, 2)));
  EXPECT_TRUE(b.equal(at::cat({prefix, x2}, 2)));
}

TEST(KvAppend, UnderAutogradItIsCat) {
  const at::Tensor a = at::randn({1, 2, 3, 4}).set_requires_grad(true);
  const at::Tensor b = at::randn({1, 2, 1, 4}).set_requires_grad(true);
  const at::Tensor out = imlsdk::kv_append(imlsdk::kv_append(at::Tensor(), a), b);
  out.sum().backward();
  EXPECT_TRUE(a.grad().equal(at::ones_like(a)));
  EXPECT_TRUE(b.grad().equal(at::ones_like(b)));
}

// causal_lm_loss against autograd's own cross-entropy: value and gradient, with ignored labels,
// a loss scaled before backward (gradient accumulation), several row blocks (a vocabulary
// large enough for a few rows per block), and without autograd (evaluation).
TEST(CausalLmLoss, MatchesCrossEntropyValueAndGradient) {
  at::manual_seed(8);
  const int64_t B = 3, T = 5, V = 70000;
  const at::Tensor logits0 = at::randn({B, T, V}) * 3;
  at::Tensor labels = at::randint(0, V, {B, T}, at::kLong);
  labels[1][2] = -100;
  labels[2].fill_(-100);
  at::Tensor a = logits0.clone().set_requires_grad(true);
  at::Tensor b = logits0.clone().set_requires_grad(true);
  const at::Tensor loss = imlsdk::causal_lm_loss(a, labels);
  const at::Tensor ref = at::cross_entropy_loss(
      b.narrow(1, 0, T - 1).reshape({-1, V}), labels.narrow(1, 1, T - 1).reshape({-1}),
      /*weight=*/{}, at::Reduction::Mean, /*ignore_index=*/-100);
  EXPECT_NEAR(loss.item<double>(), ref.item<double>(), 1e-5);
  (loss * 0.5).backward();
  (ref * 0.5).backward();
  EXPECT_LE(max_diff(a.grad(), b.grad()), 1e-7);
  EXPECT_TRUE(a.grad().select(1, T - 1).abs().max().item<double>() == 0);  // last position
  {
    at::NoGradGuard no_grad;
    EXPECT_NEAR(imlsdk::causal_lm_loss(logits0, labels).item<double>(), ref.item<double>(), 1e-5);
  }
}

}  // namespace
