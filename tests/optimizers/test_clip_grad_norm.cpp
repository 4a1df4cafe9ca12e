// imlsdk::clip_grad_norm: torch.nn.utils.clip_grad_norm_ semantics (one global norm,
// grads *= min(1, max_norm / (norm + 1e-6))).
#include <gtest/gtest.h>

#include <cmath>

#include "optimizer_test_util.hpp"

namespace {

struct Params {
  at::Tensor a = optest::leaf(at::zeros({2, 2})), b = optest::leaf(at::zeros({3})),
             no_grad = optest::leaf(at::zeros({5}));
  const at::Tensor ga = at::tensor({1.0f, -2.0f, 3.0f, -4.0f}).view({2, 2});
  const at::Tensor gb = at::tensor({0.5f, 6.0f, -1.0f});
  Params() {
    optest::set_grad(a, ga);
    optest::set_grad(b, gb);
  }
  std::vector<at::Tensor> all() const { return {a, b, no_grad}; }
};

TEST(ClipGradNorm, L2ClipsToMaxNorm) {
  Params p;
  const double norm = std::sqrt(1 + 4 + 9 + 16 + 0.25 + 36 + 1);
  const double total = imlsdk::clip_grad_norm(p.all(), 2.0, 2.0);
  EXPECT_NEAR(total, norm, 1e-5);
  const double coef = 2.0 / (norm + 1e-6);
  EXPECT_LE(optest::max_abs_diff(p.a.grad(), p.ga * coef), 1e-6);
  EXPECT_LE(optest::max_abs_diff(p.b.grad(), p.gb * coef), 1e-6);
  EXPECT_FALSE(p.no_grad.grad().defined());
}

TEST(ClipGradNorm, LeavesSmallGradientsUnchanged) {
  Params p;
  const double total = imlsdk::clip_grad_norm(p.all(), 100.0, 2.0);
  EXPECT_GT(total, 8.0);
  EXPECT_TRUE(p.a.grad().equal(p.ga));
  EXPECT_TRUE(p.b.grad().equal(p.gb));
}

// As torch's (error_if_nonfinite false): a NaN norm scales every gradient by NaN; a norm within
// max_norm leaves them as they were (the test above), and skipping that scaling must not skip this.
TEST(ClipGradNorm, ANaNNormMakesEveryGradientNaN) {
  Params p;
  p.b.mutable_grad()[1] = NAN;
  EXPECT_TRUE(std::isnan(imlsdk::clip_grad_norm(p.all(), 100.0, 2.0)));
  EXPECT_TRUE(at::isnan(p.a.grad()).all().item<bool>());
  EXPECT_TRUE(at::isnan(p.b.grad()).all().item<bool>());
}

TEST(ClipGradNorm, OtherNormTypes) {
  {
    Params p;
    EXPECT_NEAR(imlsdk::clip_grad_norm(p.all(), 3.0, INFINITY), 6.0, 1e-6);
    EXPECT_LE(optest::max_abs_diff(p.b.grad(), p.gb * (3.0 / (6.0 + 1e-6))), 1e-6);
  }
  {
    Params p;
    EXPECT_NEAR(imlsdk::clip_grad_norm(p.all(), 1e9, 1.0), 17.5, 1e-5);
  }
  std::vector<at::Tensor> none = {optest::leaf(at::ones({2}))};
  EXPECT_EQ(imlsdk::clip_grad_norm(none, 1.0, 2.0), 0.0);
}

TEST(ClipGradNorm, LargeGradientsSideBySideGiveTheSerialBits) {
  // Enough elements for the norms and the scaling to run side by side on the CPU
  // (imlsdk::for_each_side_by_side): the same bits as torch's order, one tensor after the other.
  at::manual_seed(3);
  const std::vector<int64_t> sizes = {90000, 17, 40000, 65536, 1};
  for (double norm_type : {2.0, 1.0, static_cast<double>(INFINITY)}) {
    std::vector<at::Tensor> params, grads;
    for (int64_t n : sizes) {
      params.push_back(optest::leaf(at::zeros({n})));
      grads.push_back(at::randn({n}) * 3.0);
      optest::set_grad(params.back(), grads.back().clone());
    }
    std::vector<at::Tensor> norms;
    for (const auto& g : grads) norms.push_back(at::norm(g, norm_type));
    const at::Tensor total = at::norm(at::stack(norms), norm_type);
    const at::Tensor coef = at::clamp_max(1.0 / (total + 1e-6), 1.0);
    EXPECT_EQ(imlsdk::clip_grad_norm(params, 1.0, norm_type), total.item<double>());
    for (size_t i = 0; i < params.size(); ++i)
      EXPECT_TRUE(params[i].grad().equal(grads[i] * coef)) << "gradient " << i << ", norm " << norm_type;
  }
}

}  // namespace
