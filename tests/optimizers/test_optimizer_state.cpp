// state()/load_state(): an optimizer resumed from a snapshot (also through a safetensors file)
// takes exactly the step the uninterrupted one takes; bad snapshots are rejected.
#include <gtest/gtest.h>

#include <unistd.h>

#include <filesystem>
#include <iterator>

#include "imlsdk/safetensors.hpp"
#include "optimizer_test_util.hpp"

namespace {

using imlsdk::Json;

struct StateCase {
  const char* optimizer;
  Json overrides;
};

std::vector<at::Tensor> fresh_params(const std::vector<at::Tensor>& values) {
  std::vector<at::Tensor> out;
  for (const auto& v : values) out.push_back(optest::leaf(v));
  return out;
}

imlsdk::NamedTensors named(const std::vector<at::Tensor>& p) { return {{"w", p[0]}, {"b", p[1]}}; }

void PrintTo(const StateCase& c, std::ostream* os) { *os << c.optimizer << " " << c.overrides.dump(); }

class StateRoundTrip : public ::testing::TestWithParam<StateCase> {};

TEST_P(StateRoundTrip, ResumedStepEqualsUninterruptedStep) {
  const StateCase c = GetParam();
  at::manual_seed(21);
  std::vector<at::Tensor> grads[3];
  for (auto& g : grads) g = {at::randn({3, 4}), at::randn({4})};
  auto run_step = [&](std::vector<at::Tensor>& p, optest::Built& opt, int k) {
    for (size_t i = 0; i < p.size(); ++i) optest::set_grad(p[i], grads[k][i]);
    opt->step(1e-2 * (k + 1));
  };

  auto a = fresh_params({at::randn({3, 4}), at::randn({4})});
  auto opt_a = optest::make(c.optimizer, named(a), c.overrides);
  run_step(a, opt_a, 0);
  run_step(a, opt_a, 1);
  const auto snapshot = opt_a->state();
  ASSERT_FALSE(snapshot.empty() && std::string(c.optimizer) != "sgd");
  std::vector<at::Tensor> values_after_two;
  for (const auto& p : a) values_after_two.push_back(p.detach().clone());
  run_step(a, opt_a, 2);  // uninterrupted

  // Resumed from the in-memory snapshot, and from the snapshot written to disk.
  const std::string file = (std::filesystem::temp_directory_path() /
                            ("optstate-" + std::to_string(::getpid()) + ".safetensors"))
                               .string();
  imlsdk::write_safetensors(file, snapshot);
  const auto from_disk = imlsdk::read_safetensors(file);
  std::filesystem::remove(file);
  for (const auto* state : {&snapshot, &from_disk}) {
    auto b = fresh_params(values_after_two);
    auto opt_b = optest::make(c.optimizer, named(b), c.overrides);
    opt_b->load_state(*state);
    run_step(b, opt_b, 2);
    for (size_t i = 0; i < a.size(); ++i)
      EXPECT_TRUE(a[i].detach().equal(b[i].detach())) << c.optimizer << " param " << i;
  }

  // Without the state the step differs (the state matters for this setting).
  auto fresh = fresh_params(values_after_two);
  auto opt_fresh = optest::make(c.optimizer, named(fresh), c.overrides);
  run_step(fresh, opt_fresh, 2);
  EXPECT_FALSE(a[0].detach().equal(fresh[0].detach())) << c.optimizer;
}

INSTANTIATE_TEST_SUITE_P(
    Optimizers, StateRoundTrip,
    ::testing::Values(StateCase{"adafactor", Json::object()},
                      StateCase{"adafactor", {{"relative_step", true}, {"scale_parameter", true},
                                              {"beta1", 0.9}, {"weight_decay", 0.01}}},
                      StateCase{"adamw", {{"weight_decay", 0.1}}},
                      StateCase{"sgd", {{"momentum", 0.9}, {"nesterov", true}}}),
    [](const auto& info) { return std::string(info.param.optimizer) + std::to_string(info.index); });

TEST(OptimizerState, RejectsBadSnapshots) {
  for (const std::string name : {"adafactor", "adamw", "sgd"}) {
    auto p = fresh_params({at::randn({3, 4}), at::randn({4})});
    const Json overrides = name == "sgd" ? Json{{"momentum", 0.9}} : Json::object();
    auto opt = optest::make(name, named(p), overrides);
    for (auto& t : p) optest::set_grad(t, at::ones_like(t));
    opt->step(1e-2);
    const auto good = opt->state();
    ASSERT_FALSE(good.empty()) << name;
    EXPECT_NO_THROW(opt->load_state(good)) << name;
    EXPECT_NO_THROW(opt->load_state({})) << name;  // empty = fresh state

    auto unknown = good;
    unknown["nope.exp_avg"] = at::zeros({4});
    EXPECT_THROW(opt->load_state(unknown), std::invalid_argument) << name;

    auto wrong_shape = good;
    for (auto& kv : wrong_shape)
      if (kv.second.dim() > 0) kv.second = at::zeros({kv.second.numel() + 1});
    EXPECT_THROW(opt->load_state(wrong_shape), std::invalid_argument) << name;

    if (name != "sgd") {  // a step counter without its moments
      auto missing = good;
      for (auto it = missing.begin(); it != missing.end();)
        it = it->first.rfind(".step") == it->first.size() - 5 ? std::next(it) : missing.erase(it);
      EXPECT_THROW(opt->load_state(missing), std::invalid_argument) << name;
    }
  }
}

}  // namespace
