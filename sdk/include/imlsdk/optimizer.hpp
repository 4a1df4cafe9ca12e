// Optimizers. The host owns the schedule, gradient accumulation and clipping; an optimizer
// applies one update with the learning rate it is given.
#pragma once
#include <map>
#include <memory>
#include <string>
#include <utility>
#include <vector>

#include <torch/version.h>
#include <ATen/core/Tensor.h>

#include "imlsdk/plugin.hpp"

// Plugins that include this header use LibTorch: record its version in their entry.
#undef IMLSDK_TORCH_VERSION_STR
#define IMLSDK_TORCH_VERSION_STR TORCH_VERSION

namespace imlsdk {

using NamedTensors = std::vector<std::pair<std::string, at::Tensor>>;

class Optimizer {
 public:
  virtual ~Optimizer() = default;
  // One update of every parameter with a gradient; lr is the scheduled learning rate
  // (an optimizer with its own step size, like Adafactor's relative_step, may ignore it).
  virtual void step(double lr) = 0;
  // Optimizer state, for checkpoints (names are the optimizer's own).
  virtual std::map<std::string, at::Tensor> state() const = 0;
  virtual void load_state(const std::map<std::string, at::Tensor>& state) = 0;
};

class OptimizerPlugin : public Plugin {
 public:
  static constexpr Kind kKind = Kind::Optimizer;
  virtual std::unique_ptr<Optimizer> create(const Json& params, const NamedTensors& parameters) const = 0;
};

// Gradient clipping as torch.nn.utils.clip_grad_norm_: one global norm of order `norm_type`
// (inf = max |g|) over the gradients of `params` (those without a gradient are skipped), then
// every gradient *= min(1, max_norm / (norm + 1e-6)). Returns the norm before clipping.
double clip_grad_norm(const std::vector<at::Tensor>& params, double max_norm, double norm_type = 2.0);

}  // namespace imlsdk
