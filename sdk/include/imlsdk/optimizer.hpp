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
  // SDK 2.9: the update step(lr) would make after every gradient was multiplied by grad_scale
  // (the host's gradient clipping: clip_factor, 0 <= grad_scale < 1), with the same bits, leaving
  // the gradients as they are; an optimizer that reads each gradient anyway folds the scaling
  // into that read instead of a pass over every gradient. Returns false, having done nothing,
  // where the optimizer does not do this (the default): the host then scales the gradients and
  // calls step(lr). The host calls it only on optimizers of plugins built against SDK >= 2.9.
  virtual bool step_scaled(double lr, double grad_scale) {
    (void)lr;
    (void)grad_scale;
    return false;
  }
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

// SDK 2.9: clip_grad_norm in parts, for a host that takes the norm elsewhere (e.g. while it adds
// gradients up) or lets the optimizer scale (Optimizer::step_scaled): grad_norm is its norm,
// the gradients untouched; clip_factor(norm, max_norm) its factor min(1, max_norm / (norm + 1e-6))
// in the gradients' dtype (that of the norm), with torch's roundings; scale_grads(params, factor)
// multiplies every gradient by it (nothing where factor == 1). clip_grad_norm ==
// scale_grads(clip_factor(grad_norm)), bit for bit.
double grad_norm(const std::vector<at::Tensor>& params, double norm_type = 2.0);
double clip_factor(double norm, double max_norm, at::ScalarType dtype = at::kFloat);
void scale_grads(const std::vector<at::Tensor>& params, double factor);

}  // namespace imlsdk
