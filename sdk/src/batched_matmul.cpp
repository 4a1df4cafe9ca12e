// Batched matrix product with autograd, for attention's many small GEMMs.
//
// LibTorch 1.13's CPU bmm without MKL runs one ATen-level addmm per batch entry (three
// select()s, a conj check and a dispatch each: ~8 us), which costs more than the GEMM itself at
// attention sizes (64 prompts x 8 heads of 1x64x28 during decoding). On the CPU, for float and
// double, this loops over the entries calling the process's BLAS (s/dgemm_, the library
// LibTorch itself calls) directly on strided views; elsewhere (CUDA, other dtypes, no BLAS
// symbol found) it is at::matmul. Numerically it is the same BLAS call per entry.
#include <ATen/ATen.h>
#include <torch/csrc/autograd/custom_function.h>
#include <dlfcn.h>

#include <algorithm>
#include <limits>

#include "blas_symbols.hpp"
#include "imlsdk/model.hpp"

namespace imlsdk {

namespace {

using detail::dgemm_fn;
using detail::sgemm_fn;

struct Blas {
  sgemm_fn sgemm = nullptr;
  dgemm_fn dgemm = nullptr;
  Blas() {
    sgemm = reinterpret_cast<sgemm_fn>(::dlsym(RTLD_DEFAULT, "sgemm_"));
    dgemm = reinterpret_cast<dgemm_fn>(::dlsym(RTLD_DEFAULT, "dgemm_"));
  }
};

const Blas& blas() {
  static const Blas b;
  return b;
}

// A [N, R, C] operand as BLAS sees each matrix: row-major with leading dim `ld` ('N'), or
// stored transposed ('T'). Returns false if neither inner stride is 1.
struct MatView {
  char trans = 'N';
  int64_t ld = 0;
};

bool blas_view(const at::Tensor& t, MatView& v) {
  const int64_t R = t.size(1), C = t.size(2), s1 = t.stride(1), s2 = t.stride(2);
  if (s2 == 1 && s1 >= std::max<int64_t>(1, C)) {
    v = {'N', s1};
    return true;
  }
  if (s1 == 1 && s2 >= std::max<int64_t>(1, R)) {
    v = {'T', s2};
    return true;
  }
  return false;
}

bool fast_path(const at::Tensor& a, const at::Tensor& b) {
  if (!a.device().is_cpu() || !b.device().is_cpu() || a.scalar_type() != b.scalar_type())
    return false;
  // The Fortran BLAS interface takes 32-bit sizes and leading dimensions.
  constexpr int64_t kMax = std::numeric_limits<int>::max();
  for (const at::Tensor* t : {&a, &b})
    for (int64_t d = 1; d < 3; ++d)
      if (t->size(d) > kMax || t->stride(d) > kMax) return false;
  if (a.scalar_type() == at::kFloat) return blas().sgemm != nullptr;
  if (a.scalar_type() == at::kDouble) return blas().dgemm != nullptr;
  return false;
}

template <typename T, typename Fn>
void gemm_loop(Fn gemm, const at::Tensor& a, const MatView& va, const at::Tensor& b,
               const MatView& vb, at::Tensor& c, double alpha) {
  // Row-major C = A B is column-major C^T = B^T A^T: pass B as the first operand.
  const int64_t N = a.size(0), M = a.size(1), K = a.size(2), P = b.size(2);
  const int m = static_cast<int>(P), n = static_cast<int>(M), k = static_cast<int>(K);
  const int lda = static_cast<int>(vb.ld), ldb = static_cast<int>(va.ld), ldc = static_cast<int>(P);
  const T al = static_cast<T>(alpha), be = 0;
  const T* pa = a.data_ptr<T>();
  const T* pb = b.data_ptr<T>();
  T* pc = c.data_ptr<T>();
  for (int64_t i = 0; i < N; ++i)
    gemm(&vb.trans, &va.trans, &m, &n, &k, &al, pb + i * b.stride(0), &lda, pa + i * a.stride(0),
         &ldb, &be, pc + i * M * P, &ldc);
}

// alpha * a @ b for a [N, M, K], b [N, K, P] -> contiguous [N, M, P].
at::Tensor bmm_impl(at::Tensor a, at::Tensor b, double alpha) {
  if (!fast_path(a, b) || a.size(0) == 0 || a.size(1) == 0 || b.size(2) == 0 || a.size(2) == 0) {
    at::Tensor out = at::bmm(a, b);
    return alpha == 1.0 ? out : out.mul_(alpha);
  }
  MatView va, vb;
  if (!blas_view(a, va)) {
    a = a.contiguous();
    blas_view(a, va);
  }
  if (!blas_view(b, vb)) {
    b = b.contiguous();
    blas_view(b, vb);
  }
  at::Tensor c = at::empty({a.size(0), a.size(1), b.size(2)}, a.options());
  if (a.scalar_type() == at::kFloat)
    gemm_loop<float>(blas().sgemm, a, va, b, vb, c, alpha);
  else
    gemm_loop<double>(blas().dgemm, a, va, b, vb, c, alpha);
  return c;
}

struct BatchedMatmul : torch::autograd::Function<BatchedMatmul> {
  static at::Tensor forward(torch::autograd::AutogradContext* ctx, const at::Tensor& a,
                            const at::Tensor& b, double alpha) {
    ctx->save_for_backward({a, b});
    ctx->saved_data["alpha"] = alpha;
    return bmm_impl(a, b, alpha);
  }

  static torch::autograd::variable_list backward(torch::autograd::AutogradContext* ctx,
                                                 torch::autograd::variable_list grad_out) {
    const auto saved = ctx->get_saved_variables();
    const double alpha = ctx->saved_data["alpha"].toDouble();
    const at::Tensor& g = grad_out[0];
    at::Tensor ga, gb;
    if (ctx->needs_input_grad(0)) ga = bmm_impl(g, saved[1].transpose(1, 2), alpha);
    if (ctx->needs_input_grad(1)) gb = bmm_impl(saved[0].transpose(1, 2), g, alpha);
    return {ga, gb, at::Tensor()};
  }
};

}  // namespace

torch::Tensor batched_matmul(const torch::Tensor& a, const torch::Tensor& b, double alpha) {
  TORCH_CHECK(a.dim() == 3 && b.dim() == 3 && a.size(0) == b.size(0) && a.size(2) == b.size(1),
              "batched_matmul: expected [N, M, K] and [N, K, P], got ", a.sizes(), " and ",
              b.sizes());
  // Mixed operands (a bf16 projection under autocast against an fp32 one) meet in the lower
  // precision, as autocast's bmm would cast them; the backward then sees one dtype.
  if (a.scalar_type() != b.scalar_type()) {
    const auto full = [](at::ScalarType t) { return t == at::kFloat || t == at::kDouble; };
    const at::ScalarType t = full(a.scalar_type()) && !full(b.scalar_type()) ? b.scalar_type()
                             : full(b.scalar_type()) && !full(a.scalar_type())
                                 ? a.scalar_type()
                                 : at::promote_types(a.scalar_type(), b.scalar_type());
    return BatchedMatmul::apply(a.to(t), b.to(t), alpha);
  }
  return BatchedMatmul::apply(a, b, alpha);
}

}  // namespace imlsdk
