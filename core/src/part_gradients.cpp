// The sum of a micro-batch's part gradients (experiment.streams), with the sums of squares that
// gradient clipping needs taken in the same pass, and clipping folded into the optimizer's step
// (trainer.hpp). Built with -ffp-contract=off (core/CMakeLists.txt): the fused loop keeps its
// roundings, so its AVX2 and AVX-512 builds give the generic build's bits.
#include <ATen/ATen.h>
#include <ATen/core/grad_mode.h>

#include <cmath>

#include "imlsdk/cpu.hpp"
#include "imlsdk/parallel.hpp"
#include "trainer.hpp"

namespace imlcore {

namespace {

#if defined(__GNUC__)
#define IMLCORE_ALWAYS_INLINE __attribute__((always_inline))
#else
#define IMLCORE_ALWAYS_INLINE
#endif

constexpr int kLanes = 16;       // element j's square goes to partial sum j % kLanes
constexpr int64_t kBlock = 2048;  // with more than one gradient to add: elements per block

// d += each of adds[0..nadds) in order, element by element (the bits of one add_ after the
// other); returns the sum of the squares of the result, in double, in kLanes partial sums added
// in a fixed tree.
IMLCORE_ALWAYS_INLINE inline double add_and_square_any(float* __restrict d, const float* const* adds, int nadds,
                                                       int64_t n) {
  double acc[kLanes] = {};
  if (nadds == 1) {
    const float* __restrict s = adds[0];
    int64_t j = 0;
    for (; j + kLanes <= n; j += kLanes)
      for (int l = 0; l < kLanes; ++l) {
        const float v = d[j + l] + s[j + l];
        d[j + l] = v;
        acc[l] += static_cast<double>(v) * static_cast<double>(v);
      }
    for (int l = 0; j < n; ++j, ++l) {
      const float v = d[j] + s[j];
      d[j] = v;
      acc[l] += static_cast<double>(v) * static_cast<double>(v);
    }
  } else {
    for (int64_t b = 0; b < n; b += kBlock) {
      const int64_t e = std::min(n, b + kBlock);
      for (int k = 0; k < nadds; ++k) {
        const float* __restrict s = adds[k];
        for (int64_t j = b; j < e; ++j) d[j] += s[j];
      }
      // kBlock is a multiple of kLanes, so element j still goes to lane j % kLanes.
      int64_t j = b;
      for (; j + kLanes <= e; j += kLanes)
        for (int l = 0; l < kLanes; ++l) acc[l] += static_cast<double>(d[j + l]) * static_cast<double>(d[j + l]);
      for (int l = 0; j < e; ++j, ++l) acc[l] += static_cast<double>(d[j]) * static_cast<double>(d[j]);
    }
  }
  double s[kLanes / 2];
  for (int l = 0; l < kLanes / 2; ++l) s[l] = acc[l] + acc[l + kLanes / 2];
  for (int w = kLanes / 4; w >= 1; w /= 2)
    for (int l = 0; l < w; ++l) s[l] += s[l + w];
  return s[0];
}

#if defined(__x86_64__) && defined(__GNUC__)
__attribute__((target("avx2"))) double add_and_square_avx2(float* d, const float* const* adds, int nadds, int64_t n) {
  return add_and_square_any(d, adds, nadds, n);
}
__attribute__((target("avx512f"))) double add_and_square_avx512(float* d, const float* const* adds, int nadds,
                                                                 int64_t n) {
  return add_and_square_any(d, adds, nadds, n);
}
#endif

}  // namespace

namespace detail {

double add_and_square(int isa, float* d, const float* const* adds, int nadds, int64_t n) {
#if defined(__x86_64__) && defined(__GNUC__)
  if (isa == 2) return add_and_square_avx512(d, adds, nadds, n);
  if (isa == 1) return add_and_square_avx2(d, adds, nadds, n);
#endif
  return add_and_square_any(d, adds, nadds, n);
}

}  // namespace detail

namespace {

bool fp32_cpu_contiguous(const at::Tensor& t, int64_t numel) {
  return t.scalar_type() == at::kFloat && t.device().is_cpu() && t.is_contiguous() && t.numel() == numel;
}

}  // namespace

void add_part_gradients(const std::vector<at::Tensor>& params, const std::vector<std::vector<at::Tensor>>& grads,
                        std::vector<double>* sumsq) {
  if (sumsq) sumsq->assign(params.size(), 0.0);
  auto add = [&](size_t i) {
    at::Tensor acc = params[i].grad();
    std::vector<at::Tensor> parts;
    for (const auto& part : grads)
      if (i < part.size() && part[i].defined()) parts.push_back(part[i]);
    if (sumsq) {
      // The fused pass: the sum and its squares at once.
      const int64_t n = params[i].numel();
      bool fused = !parts.empty() || acc.defined();
      for (const auto& g : parts) fused = fused && fp32_cpu_contiguous(g, n);
      if (acc.defined()) fused = fused && fp32_cpu_contiguous(acc, n);
      if (fused) {
        size_t first = 0;
        if (!acc.defined()) acc = parts[first++];  // part 0's gradient becomes the sum, in place
        std::vector<const float*> adds;
        for (size_t k = first; k < parts.size(); ++k) adds.push_back(parts[k].data_ptr<float>());
        static const int isa = imlsdk::widest_isa();
        (*sumsq)[i] = detail::add_and_square(isa, acc.data_ptr<float>(), adds.data(), static_cast<int>(adds.size()), n);
        if (!params[i].grad().defined()) params[i].mutable_grad() = acc;
        return;
      }
    }
    for (const auto& g : parts) {
      if (!acc.defined()) acc = g.is_contiguous() ? g : g.contiguous();
      else acc.add_(g);
    }
    if (acc.defined() && !params[i].grad().defined()) params[i].mutable_grad() = acc;
    if (sumsq && acc.defined()) (*sumsq)[i] = acc.to(at::kDouble).pow(2).sum().item<double>();
  };
  std::vector<int64_t> sizes;
  for (const auto& p : params) sizes.push_back(p.numel());
  at::NoGradGuard no_grad;
  imlsdk::for_each_side_by_side(sizes, add, !params.empty() && params[0].device().is_cpu() ? 2 : 1);
}

double clip_factor_for(const std::vector<at::Tensor>& params, double max_norm, const std::vector<double>* sumsq) {
  if (!sumsq) return imlsdk::clip_factor(imlsdk::grad_norm(params, 2.0), max_norm);
  double total = 0;
  for (double s : *sumsq) total += s;
  at::ScalarType dtype = at::kFloat;  // the factor in the gradients' dtype, as clip_grad_norm's
  for (const auto& p : params)
    if (p.grad().defined()) {
      dtype = p.grad().scalar_type();
      break;
    }
  return imlsdk::clip_factor(std::sqrt(total), max_norm, dtype);
}

void step_with_factor(imlsdk::Optimizer& optimizer, bool scaled_step, const std::vector<at::Tensor>& params,
                      double factor, double lr) {
  if (factor != 1.0 && scaled_step && optimizer.step_scaled(lr, factor)) return;
  imlsdk::scale_grads(params, factor);
  optimizer.step(lr);
}

}  // namespace imlcore
