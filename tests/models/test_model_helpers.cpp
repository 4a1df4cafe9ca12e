// SDK model helpers: imlsdk::batched_matmul against at::bmm (values and gradients for
// contiguous, transposed and strided operands, float and double, alpha, empty batches),
// SDK 2.6's GEMM backend (LibTorch's fp32 products on oneDNN or the BLAS) against double,
// imlsdk::kv_append against at::cat (in place within capacity, reallocation, autograd), the
// losses (with SDK 2.4's from the head's input), SDK 2.8's imlsdk::gelu against at::gelu, and imlsdk::greedy_generate on scripted models (what ModelInput it builds per step).
#include <gtest/gtest.h>

#include <ATen/ATen.h>
#include <ATen/core/grad_mode.h>
#include <torch/csrc/autograd/autograd.h>

#include <array>
#include <cmath>
#include <limits>
#include <string>
#include <vector>

#include "imlsdk/generate.hpp"
#include "imlsdk/layers.hpp"
#include "imlsdk/model.hpp"
#include "imlsdk/parallel.hpp"
#include "model_test_support.hpp"

namespace {

using imltest::max_abs_diff;

struct Case {
  const char* label;
  bool a_transposed, b_transposed, b_strided;
};

// SDK 2.6: LibTorch's fp32 products (mm, addmm, linear: the Fortran sgemm_ the SDK defines) give
// double's values within fp32 rounding on either backend, for every transpose, leading
// dimensions wider than the matrix, beta 0 over NaN and beta 1; the same bits twice.
TEST(GemmBackend, Float32ProductsEqualDoubleOnEitherBackend) {
  const std::string name = imlsdk::gemm_backend();
  EXPECT_TRUE(name == "BLAS" || name == "oneDNN avx512_core") << name;
  at::manual_seed(3);
  for (bool onednn : {true, false}) {
    const bool on = imlsdk::use_onednn_gemm(onednn);
    EXPECT_EQ(on, onednn && name != "BLAS");
    EXPECT_EQ(imlsdk::gemm_backend(), on ? name : std::string("BLAS"));
    for (const auto& mnk : std::vector<std::array<int64_t, 3>>{{1, 1, 1}, {7, 1, 5}, {1, 33, 17}, {37, 29, 70}, {130, 65, 257}}) {
      const int64_t m = mnk[0], n = mnk[1], k = mnk[2];
      for (int variant = 0; variant < 4; ++variant) {
        // a [m, k] and b [k, n] as views: stored transposed or narrowed out of wider rows.
        const at::Tensor a = variant & 1 ? at::randn({k, m}).t() : at::randn({m, k + 3}).narrow(1, 1, k);
        const at::Tensor b = variant & 2 ? at::randn({n, k + 2}).narrow(1, 0, k).t() : at::randn({k, n});
        const at::Tensor want = at::mm(a.to(at::kDouble), b.to(at::kDouble));
        const double tol = 1e-5 * std::sqrt(static_cast<double>(k)) * (1.0 + want.abs().max().item<double>());
        at::Tensor out = at::full({m, n}, std::numeric_limits<float>::quiet_NaN());
        at::mm_out(out, a, b);  // beta 0: the NaN already there must not show
        EXPECT_LE(max_abs_diff(out, want), tol) << m << "x" << n << "x" << k << " variant " << variant << " onednn " << on;
        EXPECT_TRUE(at::equal(out, at::mm(a, b))) << "the same bits twice";
        const at::Tensor c = at::randn({m, n});
        EXPECT_LE(max_abs_diff(c.clone().addmm_(a, b, 1.0, 0.5), want * 0.5 + c.to(at::kDouble)), tol)
            << m << "x" << n << "x" << k << " addmm, variant " << variant;
      }
    }
  }
  imlsdk::use_onednn_gemm(true);
}

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
      EXPECT_LE(max_abs_diff(out, ref), tol) << c.label;
      const at::Tensor g = at::randn(ref.sizes(), dtype);
      out.backward(g);
      ref.backward(g);
      EXPECT_LE(max_abs_diff(a1.grad(), a2.grad()), tol) << c.label << " grad a";
      EXPECT_LE(max_abs_diff(b1.grad(), b2.grad()), tol) << c.label << " grad b";
    }
  }
}

TEST(BatchedMatmul, DecodeShapeAndEmptyBatch) {
  at::manual_seed(5);
  const at::Tensor q = at::randn({512, 1, 64}), k = at::randn({512, 28, 64});
  EXPECT_LE(max_abs_diff(imlsdk::batched_matmul(q, k.transpose(1, 2)), at::bmm(q, k.transpose(1, 2))),
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
  EXPECT_LE(max_abs_diff(a.grad(), b.grad()), 1e-7);
  EXPECT_TRUE(a.grad().select(1, T - 1).abs().max().item<double>() == 0);  // last position
  {
    at::NoGradGuard no_grad;
    EXPECT_NEAR(imlsdk::causal_lm_loss(logits0, labels).item<double>(), ref.item<double>(), 1e-5);
  }
}

TEST(TokenCrossEntropy, MatchesCrossEntropyWithoutShift) {
  at::manual_seed(9);
  const at::Tensor logits0 = at::randn({2, 3, 4, 11});
  at::Tensor labels = at::randint(0, 11, {2, 3, 4}, at::kLong);
  labels[0][1][2] = -100;
  at::Tensor a = logits0.clone().set_requires_grad(true);
  at::Tensor b = logits0.clone().set_requires_grad(true);
  const at::Tensor loss = imlsdk::token_cross_entropy(a, labels);
  const at::Tensor ref = at::cross_entropy_loss(b.reshape({-1, 11}), labels.reshape({-1}), {},
                                                at::Reduction::Mean, -100);
  EXPECT_NEAR(loss.item<double>(), ref.item<double>(), 1e-6);
  loss.backward();
  ref.backward();
  EXPECT_LE(max_abs_diff(a.grad(), b.grad()), 1e-7);
}

// linear_cross_entropy / causal_lm_loss from the head's input against the logits path
// (causal_lm_loss of scale * h @ W^T): value and gradients of h and W, in double so that the
// comparison is tight; with ignored rows (padding, a whole ignored sequence), a head scale,
// several row blocks (C = 8: 32 rows per block on the CPU, 3 x 40 rows here), a loss scaled
// before backward; a frozen head; and without autograd. V 4100 with C 256 takes the blocks as
// [V, n] (V >= 4096 and C >= 256; 1024 rows per block, 3 x 600 rows here), the others as [n, V].
TEST(LinearCrossEntropy, EqualsTheLossOfTheLogitsInValueAndGradient) {
 for (const auto& [V, C, T] : std::vector<std::array<int64_t, 3>>{{5000, 8, 40}, {4100, 256, 600}}) {
  SCOPED_TRACE("V " + std::to_string(V) + ", C " + std::to_string(C));
  at::manual_seed(21);
  const int64_t B = 3;
  const auto opts = at::TensorOptions().dtype(at::kDouble);
  const at::Tensor h0 = at::randn({B, T, C}, opts), w0 = at::randn({V, C}, opts) * 0.5;
  at::Tensor labels = at::randint(0, V, {B, T}, at::kLong);
  labels.select(0, 0).narrow(0, 30, 10).fill_(-100);  // right padding
  labels.select(0, 2).fill_(-100);                   // nothing to learn in this row
  for (double scale : {1.0, 0.35}) {
    SCOPED_TRACE("scale " + std::to_string(scale));
    at::Tensor h1 = h0.clone().set_requires_grad(true), w1 = w0.clone().set_requires_grad(true);
    at::Tensor h2 = h0.clone().set_requires_grad(true), w2 = w0.clone().set_requires_grad(true);
    const at::Tensor fused = imlsdk::causal_lm_loss(h1, imlsdk::LinearHead{w1, scale}, labels);
    const at::Tensor ref = imlsdk::causal_lm_loss(at::matmul(h2, w2.t()) * scale, labels);
    EXPECT_NEAR(fused.item<double>(), ref.item<double>(), 1e-12);
    (fused * 0.5).backward();
    (ref * 0.5).backward();
    EXPECT_LE(max_abs_diff(h1.grad(), h2.grad()), 1e-12);
    EXPECT_LE(max_abs_diff(w1.grad(), w2.grad()), 1e-12);
    EXPECT_GT(w1.grad().abs().max().item<double>(), 1e-4);  // the comparison saw real gradients
    EXPECT_EQ(h1.grad().select(0, 2).abs().max().item<double>(), 0.0);  // ignored rows get none
    EXPECT_EQ(h1.grad().select(1, T - 1).abs().max().item<double>(), 0.0);  // nor the last position
  }
  {  // a frozen head: the hidden states' gradient alone
    at::Tensor h1 = h0.clone().set_requires_grad(true), h2 = h0.clone().set_requires_grad(true);
    imlsdk::causal_lm_loss(h1, imlsdk::LinearHead{w0, 1.0}, labels).backward();
    imlsdk::causal_lm_loss(at::matmul(h2, w0.t()), labels).backward();
    EXPECT_LE(max_abs_diff(h1.grad(), h2.grad()), 1e-12);
  }
  {  // evaluation: the value alone
    at::NoGradGuard no_grad;
    const at::Tensor w = w0.clone().set_requires_grad(true);
    const at::Tensor v = imlsdk::causal_lm_loss(h0, imlsdk::LinearHead{w, 1.0}, labels);
    EXPECT_FALSE(v.requires_grad());
    EXPECT_NEAR(v.item<double>(), imlsdk::causal_lm_loss(at::matmul(h0, w0.t()), labels).item<double>(), 1e-12);
  }
  {  // no shift, float: as token_cross_entropy of the logits
    const at::Tensor hf = h0.to(at::kFloat).set_requires_grad(true), wf = w0.to(at::kFloat);
    const at::Tensor hr = h0.to(at::kFloat).set_requires_grad(true);
    const at::Tensor a = imlsdk::linear_cross_entropy(hf, imlsdk::LinearHead{wf, 1.0}, labels);
    const at::Tensor b = imlsdk::token_cross_entropy(at::matmul(hr, wf.t()), labels);
    EXPECT_NEAR(a.item<double>(), b.item<double>(), 1e-5);
    a.backward();
    b.backward();
    EXPECT_LE(max_abs_diff(hf.grad(), hr.grad()), 1e-6);
  }
 }
}

// In fp32 on the CPU a block's max, exp and sum are one fused kernel (sdk/src/row_softmax.cpp):
// value and gradients as the same loss in double, for vocabularies with and without a remainder
// of 8 lanes and logits far apart (exp underflows); a NaN logit makes the loss NaN, as ATen's.
// With V >= 4096 and C >= 256 the block is [V, n] and the kernel runs down its columns: 60 and
// 56 kept rows (with and without a remainder of 8 columns), several partial sums of 256 rows.
TEST(LinearCrossEntropy, Float32EqualsDoubleAndKeepsNaN) {
  at::manual_seed(22);
  for (const auto& [V, C, ignored] : std::vector<std::array<int64_t, 3>>{
           {1, 16, 10}, {13, 16, 10}, {1613, 16, 10}, {1614, 16, 14}, {4096, 256, 10}, {4109, 256, 10}, {4109, 256, 14}}) {
    SCOPED_TRACE("V " + std::to_string(V) + ", C " + std::to_string(C) + ", ignored " + std::to_string(ignored));
    const int64_t N = 70;  // logits of std 12 at every C
    const at::Tensor h0 = at::randn({N, C}) * (12 / std::sqrt(static_cast<double>(C))), w0 = at::randn({V, C});
    at::Tensor targets = at::randint(0, V, {N}, at::kLong);
    targets.narrow(0, N - ignored, ignored).fill_(-100);
    at::Tensor hf = h0.clone().set_requires_grad(true), wf = w0.clone().set_requires_grad(true);
    at::Tensor hd = h0.to(at::kDouble).set_requires_grad(true), wd = w0.to(at::kDouble).set_requires_grad(true);
    const at::Tensor a = imlsdk::linear_cross_entropy(hf, imlsdk::LinearHead{wf, 1.0}, targets);
    const at::Tensor b = imlsdk::linear_cross_entropy(hd, imlsdk::LinearHead{wd, 1.0}, targets);
    EXPECT_NEAR(a.item<double>(), b.item<double>(), 1e-5 * std::max(1.0, std::abs(b.item<double>())));
    a.backward();
    b.backward();
    EXPECT_LE(max_abs_diff(hf.grad().to(at::kDouble), hd.grad()), 1e-5);
    EXPECT_LE(max_abs_diff(wf.grad().to(at::kDouble), wd.grad()), 1e-5);
    at::Tensor bad = h0.clone();
    bad[5][3] = std::numeric_limits<float>::quiet_NaN();
    EXPECT_TRUE(std::isnan(imlsdk::linear_cross_entropy(bad, imlsdk::LinearHead{w0, 1.0}, targets).item<double>()));
  }
}

// SDK 2.5: TokenRows packs the kept rows of [B*T, C] rows and puts them back with zeros
// elsewhere, with autograd; nothing to skip returns the input itself.
TEST(TokenRows, PacksAndUnpacksTheKeptRowsWithGradients) {
  const at::Tensor mask = at::tensor({1, 1, 1, 0, 1, 1, 0, 0}, at::kLong).view({2, 4});
  const auto rows = imlsdk::TokenRows::of(mask, 2, 4);
  ASSERT_TRUE(rows.packed());
  EXPECT_EQ(rows.rows(), 5);
  EXPECT_TRUE(at::equal(rows.index, at::tensor({0, 1, 2, 4, 5}, at::kLong)));
  const at::Tensor x = at::randn({8, 3}, at::kDouble).requires_grad_();
  const at::Tensor packed = rows.pack(x);
  EXPECT_TRUE(at::equal(packed, x.index_select(0, rows.index)));
  const at::Tensor back = rows.unpack(packed);
  ASSERT_EQ(back.sizes(), x.sizes());
  EXPECT_TRUE(at::equal(back, x * mask.view({8, 1}).to(at::kDouble)));
  const at::Tensor w = at::randn({8, 3}, at::kDouble);
  (back * w).sum().backward();
  EXPECT_TRUE(at::equal(x.grad(), w * mask.view({8, 1}).to(at::kDouble)));
  // Nothing to skip, or no mask: the input itself.
  const auto all = imlsdk::TokenRows::of(at::ones({2, 4}, at::kLong), 2, 4);
  EXPECT_FALSE(all.packed());
  EXPECT_EQ(all.rows(), 8);
  EXPECT_TRUE(all.pack(x).is_same(x));
  EXPECT_TRUE(all.unpack(x).is_same(x));
  EXPECT_FALSE(imlsdk::TokenRows::of({}, 2, 4).packed());
  EXPECT_THROW(imlsdk::TokenRows::of(mask.view({4, 2}), 2, 4), std::invalid_argument);
  // For the head's input: the rows read or attended to; either mask undefined: every row.
  const at::Tensor read = at::tensor({0, 1, 0, 1, 1, 0, 0, 0}, at::kLong).view({2, 4}).ne(0);
  EXPECT_TRUE(at::equal(imlsdk::TokenRows::for_head_input(mask, read, 2, 4).index, at::tensor({0, 1, 2, 3, 4, 5}, at::kLong)));
  EXPECT_FALSE(imlsdk::TokenRows::for_head_input(mask, at::Tensor(), 2, 4).packed());
  EXPECT_FALSE(imlsdk::TokenRows::for_head_input(at::Tensor(), read, 2, 4).packed());
  EXPECT_THROW(imlsdk::TokenRows::for_head_input(at::ones({2, 6}, at::kLong), read, 2, 4), std::invalid_argument);
  // Fewer rows to skip than asked for: every row; for the head's input below kMinSkippedShare.
  EXPECT_FALSE(imlsdk::TokenRows::of(mask, 2, 4, 0.5).packed());
  EXPECT_TRUE(imlsdk::TokenRows::of(mask, 2, 4, 3.0 / 8).packed());
  at::Tensor one_pad = at::ones({2, 10}, at::kLong);
  one_pad[1][9] = 0;  // 1 of 20 rows, under kMinSkippedShare
  EXPECT_TRUE(imlsdk::TokenRows::of(one_pad, 2, 10).packed());
  EXPECT_FALSE(imlsdk::TokenRows::for_head_input(one_pad, one_pad.ne(0), 2, 10).packed());
  one_pad[0][9] = 0;
  one_pad[0][8] = 0;  // 3 of 20
  EXPECT_TRUE(imlsdk::TokenRows::for_head_input(one_pad, one_pad.ne(0), 2, 10).packed());
}

// SDK 2.8: imlsdk::gelu against ATen's exact GELU: values and gradients within float round-off
// of at::gelu / at::gelu_backward (and of the double-precision function), for lengths with and
// without a tail of fewer than 8, a strided input, large and tiny values, infinities and NaN;
// the same values without autograd; doubles go to ATen unchanged; no double backward.
TEST(Gelu, MatchesAtenValuesAndGradients) {
  at::manual_seed(31);
  for (const int64_t n : {int64_t{1}, int64_t{7}, int64_t{8}, int64_t{1000}, int64_t{4099}}) {
    at::Tensor x = at::randn({n}) * 3;
    if (n >= 8) {
      const std::vector<float> special = {0.0f, -0.0f, 1e-30f, -1e-30f, 9.5f, -9.5f, 40.0f, -40.0f};
      x.narrow(0, 0, 8).copy_(at::tensor(special));
    }
    const at::Tensor leaf = x.clone().requires_grad_();
    const at::Tensor y = imlsdk::gelu(leaf);
    const at::Tensor want = at::gelu(x);
    const at::Tensor exact = at::gelu(x.to(at::kDouble));
    const at::Tensor scale = x.abs().to(at::kDouble) + 1;
    EXPECT_LE(((y.detach().to(at::kDouble) - want.to(at::kDouble)).abs() / scale).max().item<double>(), 4e-7) << n;
    EXPECT_LE(((y.detach().to(at::kDouble) - exact).abs() / scale).max().item<double>(), 4e-7) << n;
    const at::Tensor w = at::randn({n});
    (y * w).sum().backward();
    const at::Tensor want_grad = at::gelu_backward(w, x);
    EXPECT_LE(((leaf.grad().to(at::kDouble) - want_grad.to(at::kDouble)).abs() / scale).max().item<double>(), 4e-7) << n;
    {
      at::NoGradGuard no_grad;  // inference: the same values
      EXPECT_TRUE(at::equal(imlsdk::gelu(x), y.detach())) << n;
    }
  }
  // A strided input (a transposed matrix) and infinities / NaN, as at::gelu gives them.
  const at::Tensor m = at::randn({37, 11}).t();
  ASSERT_FALSE(m.is_contiguous());
  EXPECT_LE(max_abs_diff(imlsdk::gelu(m), at::gelu(m)), 1e-5);
  const at::Tensor odd = at::tensor({std::numeric_limits<float>::infinity(), std::numeric_limits<float>::quiet_NaN(), 1.0f});
  const at::Tensor got = imlsdk::gelu(odd), ref = at::gelu(odd);
  EXPECT_EQ(got[0].item<float>(), ref[0].item<float>());
  EXPECT_TRUE(std::isnan(got[1].item<float>()));
  // Doubles: ATen's gelu itself.
  const at::Tensor xd = at::randn({50}, at::kDouble);
  EXPECT_TRUE(at::equal(imlsdk::gelu(xd), at::gelu(xd)));
  // No double backward through the fused path.
  const at::Tensor leaf = at::randn({16}).requires_grad_();
  const at::Tensor y = imlsdk::gelu(leaf).sum();
  EXPECT_THROW(torch::autograd::grad({y}, {leaf}, {}, /*retain_graph=*/true, /*create_graph=*/true), std::exception);
}

TEST(LinearCrossEntropy, RefusesAMismatchedHeadOrTargets) {
  const at::Tensor h = at::randn({2, 3, 4});
  EXPECT_THROW(imlsdk::linear_cross_entropy(h, imlsdk::LinearHead{}, at::zeros({2, 3}, at::kLong)), std::invalid_argument);
  EXPECT_THROW(imlsdk::linear_cross_entropy(h, imlsdk::LinearHead{at::randn({7, 5}), 1.0}, at::zeros({2, 3}, at::kLong)),
               std::invalid_argument);
  EXPECT_THROW(imlsdk::linear_cross_entropy(h, imlsdk::LinearHead{at::randn({7, 4}), 1.0}, at::zeros({2, 2}, at::kLong)),
               std::invalid_argument);
}

// ---- greedy_generate on scripted models ---------------------------------------------------

constexpr int64_t kV = 16;

// A causal LM whose next token is (last input token + 1) mod kV, except that it answers
// `eos` after `eos_after` (any token). It records every ModelInput it is given and, with a
// cache, appends one key row per input position, as a real model does.
class CountingLM : public imlsdk::Model {
 public:
  int64_t max_positions = 0, eos = -1, eos_after = -1;
  std::vector<imlsdk::ModelInput> calls;

  imlsdk::ModelOutput forward(const imlsdk::ModelInput& in) override {
    calls.push_back(in);
    const int64_t B = in.input_ids.size(0), T = in.input_ids.size(1);
    if (in.cache) {
      in.cache->k.resize(1);
      in.cache->k[0] = imlsdk::kv_append(in.cache->k[0], at::zeros({B, 1, T, 1}));
    }
    at::Tensor next = (in.input_ids + 1).remainder(kV);
    if (eos >= 0) next.masked_fill_(in.input_ids.eq(eos_after), eos);
    if (in.last_logits_only) next = next.narrow(1, T - 1, 1);
    imlsdk::ModelOutput out;
    out.logits = at::one_hot(next, kV).to(at::kFloat) * 5;
    return out;
  }
  imlsdk::ModelInfo info() const override {
    imlsdk::ModelInfo i;
    i.family = imlsdk::ModelFamily::CausalLM;
    i.vocab_size = kV;
    i.max_positions = max_positions;
    return i;
  }
  imlsdk::Json hf_config() const override { return imlsdk::Json::object(); }
  CountingLM() { register_parameter("w", at::zeros({1})); }  // greedy_generate reads the device
};

imlsdk::GenerateOptions options(int64_t max_new, bool use_cache, int64_t eos = -1) {
  imlsdk::GenerateOptions o;
  o.max_new_tokens = max_new;
  o.pad_id = 0;
  o.eos_id = eos;
  o.use_cache = use_cache;
  return o;
}

at::Tensor longs(std::vector<int64_t> v, int64_t rows) {
  return at::tensor(v, at::kLong).view({rows, -1});
}

TEST(GreedyGenerate, CausalStepsLeftPadAndPassPositions) {
  for (bool use_cache : {true, false}) {
    SCOPED_TRACE(use_cache ? "cache" : "no cache");
    CountingLM m;
    std::vector<at::Tensor> steps;
    auto o = options(3, use_cache);
    o.step_logits = &steps;
    const auto out = imlsdk::greedy_generate(m, {{3, 4, 5}, {9}}, o);
    EXPECT_EQ(out, (std::vector<std::vector<int64_t>>{{6, 7, 8}, {10, 11, 12}}));
    ASSERT_EQ(steps.size(), 3u);
    EXPECT_EQ(steps[0].sizes(), at::IntArrayRef({2, kV}));
    ASSERT_EQ(m.calls.size(), 3u);
    for (const auto& in : m.calls) {
      EXPECT_TRUE(in.last_logits_only);
      EXPECT_FALSE(in.output_hidden_states);
      EXPECT_EQ(in.cache != nullptr, use_cache);
    }
    // Step 0: the left-padded prompts, their mask, positions counting real tokens only.
    EXPECT_TRUE(at::equal(m.calls[0].input_ids, longs({3, 4, 5, 0, 0, 9}, 2)));
    EXPECT_TRUE(at::equal(m.calls[0].attention_mask, longs({1, 1, 1, 0, 0, 1}, 2)));
    EXPECT_TRUE(at::equal(m.calls[0].position_ids, longs({0, 1, 2, 1, 1, 0}, 2)));
    // Step 2: with the cache only the new token, else the whole sequence; the mask grows.
    const auto& last = m.calls[2];
    EXPECT_TRUE(at::equal(last.attention_mask, longs({1, 1, 1, 1, 1, 0, 0, 1, 1, 1}, 2)));
    if (use_cache) {
      EXPECT_TRUE(at::equal(last.input_ids, longs({7, 11}, 2)));
      EXPECT_TRUE(at::equal(last.position_ids, longs({4, 2}, 2)));
    } else {
      EXPECT_TRUE(at::equal(last.input_ids, longs({3, 4, 5, 6, 7, 0, 0, 9, 10, 11}, 2)));
    }
  }
}

TEST(GreedyGenerate, RowsStopAfterEosAndPadTheRest) {
  CountingLM m;
  m.eos = 15;
  m.eos_after = 4;  // the row that produces 4 then says 15
  const auto out = imlsdk::greedy_generate(m, {{2}, {7}}, options(5, true, 15));
  EXPECT_EQ(out, (std::vector<std::vector<int64_t>>{{3, 4, 15}, {8, 9, 10, 11, 12}}));
  // The finished row is fed its eos, then padding.
  EXPECT_TRUE(at::equal(m.calls[3].input_ids, longs({15, 10}, 2)));
  EXPECT_TRUE(at::equal(m.calls[4].input_ids, longs({0, 11}, 2)));
  // Every row done: no further step.
  CountingLM both;
  both.eos = 15;
  both.eos_after = 4;
  EXPECT_EQ(imlsdk::greedy_generate(both, {{3}, {3}}, options(8, true, 15)),
            (std::vector<std::vector<int64_t>>{{4, 15}, {4, 15}}));
  EXPECT_EQ(both.calls.size(), 2u);
}

TEST(GreedyGenerate, RefusalsAndNothingToDo) {
  CountingLM m;
  m.max_positions = 5;
  EXPECT_THROW(imlsdk::greedy_generate(m, {{1, 2, 3}}, options(3, true)), std::invalid_argument);
  EXPECT_NO_THROW(imlsdk::greedy_generate(m, {{1, 2, 3}}, options(2, true)));
  EXPECT_THROW(imlsdk::greedy_generate(m, {{1}, {}}, options(2, true)), std::invalid_argument);
  EXPECT_EQ(imlsdk::greedy_generate(m, {{1}, {2}}, options(0, true)).size(), 2u);
  EXPECT_TRUE(imlsdk::greedy_generate(m, {}, options(3, true)).empty());
}

// A seq2seq model that copies the encoder's tokens in order, one per decoder position.
class CopyingSeq2Seq : public imlsdk::Model {
 public:
  std::vector<imlsdk::ModelInput> calls;
  imlsdk::ModelOutput forward(const imlsdk::ModelInput& in) override {
    calls.push_back(in);
    const int64_t past = in.cache ? in.cache->length() : 0;
    const int64_t B = in.decoder_input_ids.size(0), T = in.decoder_input_ids.size(1);
    if (in.cache) {
      in.cache->k.resize(1);
      in.cache->k[0] = imlsdk::kv_append(in.cache->k[0], at::zeros({B, 1, T, 1}));
    }
    // decoder position p predicts encoder token p (clamped to the last one).
    const int64_t p = std::min<int64_t>(past + T - 1, in.input_ids.size(1) - 1);
    at::Tensor next = in.input_ids.narrow(1, p, 1);
    imlsdk::ModelOutput out;
    out.logits = at::one_hot(next, kV).to(at::kFloat);
    return out;
  }
  imlsdk::ModelInfo info() const override {
    imlsdk::ModelInfo i;
    i.family = imlsdk::ModelFamily::Seq2SeqLM;
    i.vocab_size = kV;
    i.decoder_start_id = 1;
    return i;
  }
  imlsdk::Json hf_config() const override { return imlsdk::Json::object(); }
  CopyingSeq2Seq() { register_parameter("w", at::zeros({1})); }
};

TEST(GreedyGenerate, Seq2SeqEncodesRightPaddedPromptsAndDecodesFromTheStartToken) {
  for (bool use_cache : {true, false}) {
    SCOPED_TRACE(use_cache ? "cache" : "no cache");
    CopyingSeq2Seq m;
    const auto out = imlsdk::greedy_generate(m, {{5, 6, 7}, {9, 8, 7}}, options(3, use_cache));
    EXPECT_EQ(out, (std::vector<std::vector<int64_t>>{{5, 6, 7}, {9, 8, 7}}));
    ASSERT_EQ(m.calls.size(), 3u);
    EXPECT_TRUE(at::equal(m.calls[0].decoder_input_ids, longs({1, 1}, 2)));
    EXPECT_TRUE(at::equal(m.calls[2].decoder_input_ids,
                          use_cache ? longs({6, 8}, 2) : longs({1, 5, 6, 1, 9, 8}, 2)));
  }
  CopyingSeq2Seq m;
  imlsdk::greedy_generate(m, {{5, 6, 7}, {9}}, options(1, true));
  EXPECT_TRUE(at::equal(m.calls[0].input_ids, longs({5, 6, 7, 9, 0, 0}, 2))) << "right padding";
  EXPECT_TRUE(at::equal(m.calls[0].attention_mask, longs({1, 1, 1, 1, 0, 0}, 2)));
}

}  // namespace
