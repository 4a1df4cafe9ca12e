// Host-side optimizer helpers shared by the trainer and the tests.
#include "imlsdk/optimizer.hpp"

#include <ATen/ATen.h>
#include <ATen/core/grad_mode.h>

namespace imlsdk {

double clip_grad_norm(const std::vector<at::Tensor>& params, double max_norm, double norm_type) {
  std::vector<at::Tensor> grads;
  for (const auto& p : params)
    if (p.grad().defined()) grads.push_back(p.grad());
  if (grads.empty()) return 0.0;
  at::NoGradGuard no_grad;
  // Same reduction as torch: the norm of the per-tensor norms (for inf: the max of the maxima),
  // gathered on the first gradient's device.
  const auto device = grads[0].device();
  std::vector<at::Tensor> norms;
  norms.reserve(grads.size());
  for (const auto& g : grads) norms.push_back(at::norm(g, norm_type).to(device));
  const at::Tensor total = at::norm(at::stack(norms), norm_type);
  const at::Tensor coef = at::clamp_max(max_norm / (total + 1e-6), 1.0);
  for (auto& g : grads) g.mul_(coef.to(g.device()));
  return total.item<double>();
}

}  // namespace imlsdk
