// The CPU's fp32 GEMMs through oneDNN where it has AVX-512 kernels for this CPU (SDK 2.6).
//
// LibTorch 1.13 runs every fp32 matrix product on the CPU (mm, addmm, linear and their
// backward) through the Fortran BLAS symbol sgemm_, which Debian's LibTorch takes from
// libblas.so.3 (OpenBLAS 0.3.21). That OpenBLAS has no AVX-512 kernels for AMD's Zen 4/5 and
// runs them on its Haswell (AVX2) kernels, while oneDNN, which LibTorch itself loads
// (libdnnl.so.2), has AVX-512 ones: ~2x the GEMM rate on such a CPU (docs/performance.md).
// libimlsdk_torch defines sgemm_ itself. It is the first library imlhost, the benchmarks and
// every test link, so the dynamic linker binds LibTorch's (and imlsdk::batched_matmul's) sgemm_
// here; this hands the call to oneDNN's dnnl_sgemm when oneDNN reports an AVX-512 ISA, and
// otherwise (any other CPU, a LibTorch without a loadable oneDNN, use_onednn_gemm(false)) to the
// next sgemm_ in the process, the BLAS's, unchanged. The thread count is the BLAS's
// (openblas_get_num_threads: what configure_threads and run_side_by_side set), so a GEMM keeps
// the threads it had.
#include "imlsdk/parallel.hpp"

#include <dlfcn.h>

#include <atomic>
#include <cstdint>
#include <cstdlib>
#include <string>

#include "blas_symbols.hpp"

namespace imlsdk {
namespace {

using detail::sgemm_fn;
using dnnl_sgemm_fn = int (*)(char, char, int64_t, int64_t, int64_t, float, const float*, int64_t, const float*,
                              int64_t, float, float*, int64_t);
using isa_fn = int (*)();
using get_int_fn = int (*)();
using set_int_fn = void (*)(int);

// oneDNN's dnnl_cpu_isa_t: the bits of avx512_core (AVX-512 F, CD, BW, DQ, VL).
constexpr int kDnnlAvx512Core = 0x27;

struct Backend {
  sgemm_fn blas = nullptr;           // the next sgemm_: the BLAS LibTorch links
  dnnl_sgemm_fn onednn = nullptr;    // set only where oneDNN has AVX-512 kernels here
  get_int_fn blas_threads = nullptr;  // openblas_get_num_threads
  get_int_fn omp_get = nullptr;      // omp_get_max_threads (oneDNN's OpenMP runtime)
  set_int_fn omp_set = nullptr;
  std::string isa;
  Backend() {
    blas = reinterpret_cast<sgemm_fn>(::dlsym(RTLD_NEXT, "sgemm_"));
    blas_threads = detail::openblas_get_threads();
    omp_get = reinterpret_cast<get_int_fn>(::dlsym(RTLD_DEFAULT, "omp_get_max_threads"));
    omp_set = reinterpret_cast<set_int_fn>(::dlsym(RTLD_DEFAULT, "omp_set_num_threads"));
    auto sgemm = reinterpret_cast<dnnl_sgemm_fn>(::dlsym(RTLD_DEFAULT, "dnnl_sgemm"));
    auto effective_isa = reinterpret_cast<isa_fn>(::dlsym(RTLD_DEFAULT, "dnnl_get_effective_cpu_isa"));
    if (sgemm && effective_isa && omp_get && omp_set && blas) {
      const int bits = effective_isa();
      if ((bits & kDnnlAvx512Core) == kDnnlAvx512Core) {
        onednn = sgemm;
        isa = "avx512_core";
      }
    }
  }
};

const Backend& backend() {
  static const Backend b;
  return b;
}

std::atomic<bool> onednn_on{true};

}  // namespace

std::string gemm_backend() {
  const Backend& b = backend();
  if (b.onednn && onednn_on.load(std::memory_order_relaxed)) return "oneDNN " + b.isa;
  return b.blas ? "BLAS" : "none";
}

bool use_onednn_gemm(bool on) {
  onednn_on.store(on, std::memory_order_relaxed);
  return backend().onednn != nullptr && on;
}

}  // namespace imlsdk

// Column-major C = alpha op(A) op(B) + beta C is row-major C^T = alpha op(B)^T op(A)^T + beta C^T:
// oneDNN's row-major dnnl_sgemm with the operands swapped.
extern "C" __attribute__((visibility("default"))) void sgemm_(const char* transa, const char* transb, const int* m,
                                                              const int* n, const int* k, const float* alpha,
                                                              const float* a, const int* lda, const float* b,
                                                              const int* ldb, const float* beta, float* c,
                                                              const int* ldc) {
  const imlsdk::Backend& g = imlsdk::backend();
  if (g.onednn && imlsdk::onednn_on.load(std::memory_order_relaxed) && *m > 0 && *n > 0 && *k > 0) {
    const int threads = g.blas_threads ? g.blas_threads() : 1;
    const int before = g.omp_get();
    if (before != threads) g.omp_set(threads);
    const int status = g.onednn(*transb, *transa, *n, *m, *k, *alpha, b, *ldb, a, *lda, *beta, c, *ldc);
    if (before != threads) g.omp_set(before);
    if (status == 0) return;  // dnnl_success; otherwise (arguments it refuses) the BLAS decides
  }
  if (g.blas == nullptr) std::abort();  // no BLAS below: LibTorch could not have linked either
  g.blas(transa, transb, m, n, k, alpha, a, lda, b, ldb, beta, c, ldc);
}
