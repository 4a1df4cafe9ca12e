// imlsdk::gelu (layers.hpp): the exact (erf) GELU with its derivative computed in the same pass.
//
// ATen's gelu saves its input and gelu_backward computes erf and exp again from it: at Pythia-70M
// (B 32, T 48, 2 parts) the two took ~46 ms of thread time per training step. Here one pass over
// x writes y = x Phi(x) and d = Phi(x) + x phi(x), which autograd saves in place of x; the
// backward is grad * d.
//
// The arithmetic is ATen's (GeluKernel.cpp, 1.13 and 2.x; Vectorized<float>::erf):
//   erf(u) = sign(u) (1 - r(t) t e^{-u^2}), t = 1 / (1 + p |u|), r a degree-4 polynomial
//   (Abramowitz & Stegun 7.1.26, |error| <= 1.5e-7), u = x / sqrt(2);
//   Phi(x) = (1 + erf(u)) / 2, phi(x) = e^{-x^2/2} / sqrt(2 pi).
// e^{-u^2} = e^{-x^2/2} is one exp for both. The results differ from ATen's in the last bits
// only (its exp is another polynomial).
#include <ATen/ATen.h>
#include <ATen/core/grad_mode.h>
#include <torch/csrc/autograd/custom_function.h>

#include <stdexcept>

#include "imlsdk/layers.hpp"
#include "simd_exp.hpp"

namespace imlsdk {

namespace {

#ifdef IMLSDK_SIMD_AVX2

using detail::exp_nonpositive;
using detail::tail_mask;

// gelu(x) into y and gelu'(x) into d for eight values.
IMLSDK_AVX2 inline void gelu8(__m256 x, __m256& y, __m256& d) {
  const __m256 one = _mm256_set1_ps(1.0f), sign_bit = _mm256_set1_ps(-0.0f);
  const __m256 u = _mm256_mul_ps(x, _mm256_set1_ps(0.70710678118654752f));                        // x / sqrt(2)
  const __m256 e = exp_nonpositive(_mm256_mul_ps(_mm256_mul_ps(x, x), _mm256_set1_ps(-0.5f)));  // e^{-x^2/2}
  const __m256 t = _mm256_div_ps(one, _mm256_fmadd_ps(_mm256_set1_ps(0.3275911f), _mm256_andnot_ps(sign_bit, u), one));
  __m256 r = _mm256_fmadd_ps(_mm256_set1_ps(1.061405429f), t, _mm256_set1_ps(-1.453152027f));
  r = _mm256_fmadd_ps(r, t, _mm256_set1_ps(1.421413741f));
  r = _mm256_fmadd_ps(r, t, _mm256_set1_ps(-0.284496736f));
  r = _mm256_fmadd_ps(r, t, _mm256_set1_ps(0.254829592f));
  const __m256 erf_abs = _mm256_fnmadd_ps(_mm256_mul_ps(r, t), e, one);  // 1 - r t e^{-u^2}
  const __m256 erf = _mm256_or_ps(erf_abs, _mm256_and_ps(sign_bit, u));  // with the sign of u
  const __m256 cdf = _mm256_mul_ps(_mm256_set1_ps(0.5f), _mm256_add_ps(one, erf));
  y = _mm256_mul_ps(x, cdf);
  d = _mm256_fmadd_ps(_mm256_mul_ps(x, _mm256_set1_ps(0.39894228040143268f)), e, cdf);  // cdf + x e / sqrt(2 pi)
}

// y = gelu(x) and, where d is not null, d = gelu'(x).
IMLSDK_AVX2 void gelu_avx2(const float* x, float* y, float* d, int64_t n) {
  const int64_t body = n - n % 8;
  __m256 vy, vd;
  for (int64_t i = 0; i < body; i += 8) {
    gelu8(_mm256_loadu_ps(x + i), vy, vd);
    _mm256_storeu_ps(y + i, vy);
    if (d) _mm256_storeu_ps(d + i, vd);
  }
  if (n > body) {
    const __m256i mask = tail_mask(n - body);
    gelu8(_mm256_maskload_ps(x + body, mask), vy, vd);
    _mm256_maskstore_ps(y + body, mask, vy);
    if (d) _mm256_maskstore_ps(d + body, mask, vd);
  }
}

bool fused_applies(const torch::Tensor& x) {
  return x.device().is_cpu() && x.scalar_type() == at::kFloat && x.layout() == at::kStrided &&
         detail::cpu_has_avx2_fma();
}

// y and (with_derivative) d for a contiguous copy of x.
std::pair<torch::Tensor, torch::Tensor> gelu_fused(const torch::Tensor& x, bool with_derivative) {
  const torch::Tensor in = x.contiguous();
  torch::Tensor y = at::empty_like(in, at::MemoryFormat::Contiguous);
  torch::Tensor d = with_derivative ? at::empty_like(in, at::MemoryFormat::Contiguous) : torch::Tensor();
  gelu_avx2(in.data_ptr<float>(), y.data_ptr<float>(), with_derivative ? d.data_ptr<float>() : nullptr, in.numel());
  return {y, d};
}

struct GeluFunction : torch::autograd::Function<GeluFunction> {
  static torch::Tensor forward(torch::autograd::AutogradContext* ctx, const torch::Tensor& x) {
    auto [y, d] = gelu_fused(x, /*with_derivative=*/true);
    ctx->save_for_backward({d});
    return y;
  }
  static torch::autograd::variable_list backward(torch::autograd::AutogradContext* ctx,
                                                 torch::autograd::variable_list grad_out) {
    // d is saved as a value, not as a function of x: a second derivative would be wrong.
    if (at::GradMode::is_enabled())
      throw std::runtime_error("imlsdk::gelu: a backward with create_graph (double backward) is not supported");
    const torch::Tensor d = ctx->get_saved_variables()[0];
    return {grad_out[0].mul(d.view(grad_out[0].sizes()))};
  }
};

#endif

}  // namespace

torch::Tensor gelu(const torch::Tensor& x) {
#ifdef IMLSDK_SIMD_AVX2
  if (fused_applies(x)) {
    if (at::GradMode::is_enabled() && x.requires_grad()) return GeluFunction::apply(x);
    return gelu_fused(x, /*with_derivative=*/false).first;
  }
#endif
  return at::gelu(x);
}

}  // namespace imlsdk
