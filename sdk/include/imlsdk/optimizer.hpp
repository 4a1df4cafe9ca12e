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

}  // namespace imlsdk
