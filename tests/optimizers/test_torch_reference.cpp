// AdamW and SGD plugins against LibTorch's torch::optim implementations, step by step on random
// tensors with a learning rate that changes every step.
#include <gtest/gtest.h>
#include <torch/optim/adamw.h>
#include <torch/optim/sgd.h>

#include "optimizer_test_util.hpp"

namespace {

constexpr int kSteps = 5;
constexpr double kAtol = 1e-6;
const double kLrs[kSteps] = {1e-2, 5e-3, 2e-2, 1e-3, 7e-3};

// Two parameters (a matrix and a vector) with the same initial values for plugin and reference.
struct Pair {
  std::vector<at::Tensor> mine, ref;
  imlsdk::NamedTensors named() const { return {{"w", mine[0]}, {"b", mine[1]}}; }
};

Pair make_pair_of_params() {
  at::manual_seed(7);
  Pair p;
  for (auto shape : {std::vector<int64_t>{5, 7}, std::vector<int64_t>{7}}) {
    at::Tensor v = at::randn(shape, at::kFloat);
    p.mine.push_back(optest::leaf(v));
    p.ref.push_back(optest::leaf(v));
  }
  return p;
}

// Same random gradients for both sides; `step_ref(lr)` steps the reference optimizer.
template <typename StepRef>
void compare(Pair& p, optest::Built& mine, StepRef step_ref) {
  for (int k = 0; k < kSteps; ++k) {
    for (size_t i = 0; i < p.mine.size(); ++i) {
      at::Tensor g = at::randn(p.mine[i].sizes(), at::kFloat);
      optest::set_grad(p.mine[i], g);
      optest::set_grad(p.ref[i], g);
    }
    mine->step(kLrs[k]);
    step_ref(kLrs[k]);
    for (size_t i = 0; i < p.mine.size(); ++i)
      EXPECT_LE(optest::max_abs_diff(p.mine[i], p.ref[i]), kAtol) << "step " << k + 1 << " param " << i;
  }
}

struct AdamWCase {
  double beta1, beta2, eps, weight_decay;
};

void PrintTo(const AdamWCase& c, std::ostream* os) {
  *os << "beta1=" << c.beta1 << " beta2=" << c.beta2 << " eps=" << c.eps << " wd=" << c.weight_decay;
}

class AdamWReference : public ::testing::TestWithParam<AdamWCase> {};

TEST_P(AdamWReference, MatchesTorchOptimAdamW) {
  const AdamWCase c = GetParam();
  Pair p = make_pair_of_params();
  auto mine = optest::make("adamw", p.named(),
                           {{"beta1", c.beta1}, {"beta2", c.beta2}, {"eps", c.eps},
                            {"weight_decay", c.weight_decay}});
  torch::optim::AdamW ref(p.ref, torch::optim::AdamWOptions(kLrs[0])
                                     .betas({c.beta1, c.beta2})
                                     .eps(c.eps)
                                     .weight_decay(c.weight_decay));
  compare(p, mine, [&](double lr) {
    static_cast<torch::optim::AdamWOptions&>(ref.param_groups()[0].options()).lr(lr);
    ref.step();
  });
}

INSTANTIATE_TEST_SUITE_P(Settings, AdamWReference,
                         ::testing::Values(AdamWCase{0.9, 0.999, 1e-8, 0.0},    // HF adamw_torch
                                           AdamWCase{0.8, 0.99, 1e-6, 0.1}));

struct SgdCase {
  double momentum, dampening, weight_decay;
  bool nesterov;
};

void PrintTo(const SgdCase& c, std::ostream* os) {
  *os << "momentum=" << c.momentum << " dampening=" << c.dampening << " wd=" << c.weight_decay
      << " nesterov=" << c.nesterov;
}

class SgdReference : public ::testing::TestWithParam<SgdCase> {};

TEST_P(SgdReference, MatchesTorchOptimSGD) {
  const SgdCase c = GetParam();
  Pair p = make_pair_of_params();
  auto mine = optest::make("sgd", p.named(),
                           {{"momentum", c.momentum}, {"dampening", c.dampening},
                            {"weight_decay", c.weight_decay}, {"nesterov", c.nesterov}});
  torch::optim::SGD ref(p.ref, torch::optim::SGDOptions(kLrs[0])
                                   .momentum(c.momentum)
                                   .dampening(c.dampening)
                                   .weight_decay(c.weight_decay)
                                   .nesterov(c.nesterov));
  compare(p, mine, [&](double lr) {
    static_cast<torch::optim::SGDOptions&>(ref.param_groups()[0].options()).lr(lr);
    ref.step();
  });
}

INSTANTIATE_TEST_SUITE_P(Settings, SgdReference,
                         ::testing::Values(SgdCase{0.0, 0.0, 0.0, false},  // plain SGD (defaults)
                                           SgdCase{0.9, 0.0, 0.01, false},
                                           SgdCase{0.9, 0.0, 0.0, true},
                                           SgdCase{0.5, 0.1, 0.0, false}));

TEST(OptimizerPlugins, SkipParametersWithoutGradient) {
  for (const std::string name : {"adamw", "sgd", "adafactor"}) {
    at::Tensor a = optest::leaf(at::ones({3, 2})), b = optest::leaf(at::ones({4}));
    auto opt = optest::make(name, {{"a", a}, {"b", b}});
    optest::set_grad(a, at::full({3, 2}, 0.5));
    opt->step(0.1);
    EXPECT_GT(optest::max_abs_diff(a, at::ones({3, 2})), 0.0) << name;
    EXPECT_EQ(optest::max_abs_diff(b, at::ones({4})), 0.0) << name;
    // State only for the parameter that was updated.
    for (const auto& kv : opt->state()) EXPECT_EQ(kv.first.rfind("a.", 0), 0u) << name << " " << kv.first;
  }
}

TEST(OptimizerPlugins, RejectBadValues) {
  at::Tensor w = optest::leaf(at::ones({2}));
  const imlsdk::NamedTensors params = {{"w", w}};
  auto expect_invalid = [&](const std::string& name, const imlsdk::Json& overrides) {
    auto p = optest::plugin(name);
    EXPECT_THROW(p->create(imltest::with_defaults(*p, overrides), params), std::invalid_argument)
        << name << " " << overrides.dump();
  };
  expect_invalid("adamw", {{"beta1", 1.0}});
  expect_invalid("adamw", {{"beta2", -0.1}});
  expect_invalid("adamw", {{"eps", -1.0}});
  expect_invalid("sgd", {{"nesterov", true}});  // needs momentum
  expect_invalid("sgd", {{"momentum", -0.5}});
  expect_invalid("adafactor", {{"warmup_init", true}});  // needs relative_step
  expect_invalid("adafactor", {{"clip_threshold", 0.0}});
  expect_invalid("adafactor", {{"decay_rate", 0.5}});
  expect_invalid("adafactor", {{"beta1", 1.5}});

  auto sgd = optest::make("sgd", params);
  optest::set_grad(w, at::ones({2}));
  EXPECT_THROW(sgd->step(-1.0), std::invalid_argument);
  EXPECT_THROW(sgd->step(std::nan("")), std::invalid_argument);
}

}  // namespace
