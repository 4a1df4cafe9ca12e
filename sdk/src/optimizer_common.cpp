// Host-side optimizer helpers shared by the trainer and the tests.
#include "imlsdk/optimizer.hpp"
#include "imlsdk/parallel.hpp"

#include <ATen/ATen.h>
#include <ATen/core/grad_mode.h>

namespace imlsdk {

namespace {

std::vector<at::Tensor> defined_grads(const std::vector<at::Tensor>& params) {
  std::vector<at::Tensor> grads;
  for (const auto& p : params)
    if (p.grad().defined()) grads.push_back(p.grad());
  return grads;
}

std::vector<int64_t> sizes_of(const std::vector<at::Tensor>& ts) {
  std::vector<int64_t> sizes;
  for (const auto& t : ts) sizes.push_back(t.numel());
  return sizes;
}

// On the CPU the per-tensor work of large gradients runs side by side (for_each_side_by_side).
int64_t parts_for(const std::vector<at::Tensor>& ts) { return ts[0].device().is_cpu() ? 2 : 1; }

// Same reduction as torch: the norm of the per-tensor norms (for inf: the max of the maxima),
// gathered on the first gradient's device. Each tensor's norm is one call on one thread, as it
// was before (SDK <= 2.6: one after the other), so the result does not depend on the grouping.
at::Tensor total_norm(const std::vector<at::Tensor>& grads, double norm_type) {
  const auto device = grads[0].device();
  std::vector<at::Tensor> norms(grads.size());
  for_each_side_by_side(sizes_of(grads), [&](size_t i) { norms[i] = at::norm(grads[i], norm_type).to(device); },
                        parts_for(grads));
  return at::norm(at::stack(norms), norm_type);
}

at::Tensor factor_of(const at::Tensor& total, double max_norm) { return at::clamp_max(max_norm / (total + 1e-6), 1.0); }

void scale_by(const std::vector<at::Tensor>& grads, const at::Tensor& coef) {
  for_each_side_by_side(sizes_of(grads), [&](size_t i) { grads[i].mul_(coef.to(grads[i].device())); }, parts_for(grads));
}

}  // namespace

double clip_grad_norm(const std::vector<at::Tensor>& params, double max_norm, double norm_type) {
  const std::vector<at::Tensor> grads = defined_grads(params);
  if (grads.empty()) return 0.0;
  at::NoGradGuard no_grad;
  const at::Tensor total = total_norm(grads, norm_type);
  const at::Tensor coef = factor_of(total, max_norm);
  // A norm within max_norm scales by exactly 1, which changes no value (x * 1 == x, NaN included):
  // on the CPU, where reading coef costs no device sync, that pass over every gradient is skipped.
  if (grads[0].device().is_cpu() && coef.item<double>() == 1.0) return total.item<double>();
  scale_by(grads, coef);
  return total.item<double>();
}

double grad_norm(const std::vector<at::Tensor>& params, double norm_type) {
  const std::vector<at::Tensor> grads = defined_grads(params);
  if (grads.empty()) return 0.0;
  at::NoGradGuard no_grad;
  return total_norm(grads, norm_type).item<double>();
}

double clip_factor(double norm, double max_norm, at::ScalarType dtype) {
  at::NoGradGuard no_grad;
  return factor_of(at::scalar_tensor(norm, at::TensorOptions().dtype(dtype)), max_norm).item<double>();
}

void scale_grads(const std::vector<at::Tensor>& params, double factor) {
  if (factor == 1.0) return;  // x * 1 == x
  const std::vector<at::Tensor> grads = defined_grads(params);
  if (grads.empty()) return;
  at::NoGradGuard no_grad;
  for_each_side_by_side(sizes_of(grads), [&](size_t i) { grads[i].mul_(factor); }, parts_for(grads));
}

}  // namespace imlsdk
