// Host-side optimizer helpers shared by the trainer and the tests.
#include "imlsdk/optimizer.hpp"
#include "imlsdk/parallel.hpp"

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
  std::vector<at::Tensor> norms(grads.size());
  // On the CPU the norms, and then the scaling, of large gradients run side by side
  // (for_each_side_by_side). Each tensor's norm is one call on one thread, as it was before
  // (SDK <= 2.6: one after the other), so the result does not depend on the grouping.
  std::vector<int64_t> sizes;
  for (const auto& g : grads) sizes.push_back(g.numel());
  const int64_t parts = device.is_cpu() ? 2 : 1;
  for_each_side_by_side(sizes, [&](size_t i) { norms[i] = at::norm(grads[i], norm_type).to(device); }, parts);
  const at::Tensor total = at::norm(at::stack(norms), norm_type);
  const at::Tensor coef = at::clamp_max(max_norm / (total + 1e-6), 1.0);
  // A norm within max_norm scales by exactly 1, which changes no value (x * 1 == x, NaN included):
  // on the CPU, where reading coef costs no device sync, that pass over every gradient is skipped.
  if (device.is_cpu() && coef.item<double>() == 1.0) return total.item<double>();
  for_each_side_by_side(sizes, [&](size_t i) { grads[i].mul_(coef.to(grads[i].device())); }, parts);
  return total.item<double>();
}

}  // namespace imlsdk
