// Helpers shared by the optimizer tests: build an optimizer from a plugin with overrides, and
// run steps with given gradients.
#pragma once
#include <ATen/ATen.h>

#include <memory>
#include <string>
#include <vector>

#include "imlsdk/optimizer.hpp"
#include "test_plugins.hpp"

namespace optest {

inline std::shared_ptr<imlsdk::OptimizerPlugin> plugin(const std::string& name) {
  return imltest::load_plugin<imlsdk::OptimizerPlugin>(name);
}

// The plugin is kept alive with the optimizer (its library must stay loaded).
struct Built {
  std::shared_ptr<imlsdk::OptimizerPlugin> plugin;
  std::unique_ptr<imlsdk::Optimizer> opt;
  imlsdk::Optimizer* operator->() const { return opt.get(); }
};

inline Built make(const std::string& name, const imlsdk::NamedTensors& params,
                  const imlsdk::Json& overrides = imlsdk::Json::object()) {
  Built b;
  b.plugin = plugin(name);
  b.opt = b.plugin->create(imltest::with_defaults(*b.plugin, overrides), params);
  return b;
}

// Leaf parameter (requires_grad) holding a copy of `value`.
inline at::Tensor leaf(const at::Tensor& value) {
  return value.detach().clone().set_requires_grad(true);
}

inline void set_grad(at::Tensor& p, const at::Tensor& g) { p.mutable_grad() = g.detach().clone(); }

inline double max_abs_diff(const at::Tensor& a, const at::Tensor& b) {
  return (a.detach().to(at::kDouble) - b.detach().to(at::kDouble)).abs().max().item<double>();
}

}  // namespace optest
