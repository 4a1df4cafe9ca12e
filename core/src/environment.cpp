#include "environment.hpp"

#include <dlfcn.h>
#include <malloc.h>
#include <unistd.h>

#include <ATen/Context.h>
#include <ATen/Parallel.h>

#include <algorithm>

#include "errors.hpp"

namespace imlcore {

std::string configure_threads(int64_t blas_threads, int64_t torch_threads) {
  const int64_t cores = std::max<long>(1, ::sysconf(_SC_NPROCESSORS_ONLN));
  const int64_t nb = blas_threads > 0 ? blas_threads : cores;
  const int64_t nt = torch_threads > 0 ? torch_threads : cores;
  at::set_num_threads(static_cast<int>(nt));
  using SetFn = void (*)(int);
  std::string blas = "blas default";
  if (auto fn = reinterpret_cast<SetFn>(::dlsym(RTLD_DEFAULT, "openblas_set_num_threads"))) {
    fn(static_cast<int>(nb));
    blas = "openblas " + std::to_string(nb);
  }
  return "torch " + std::to_string(at::get_num_threads()) + ", " + blas;
}

void configure_memory() {
  mallopt(M_MMAP_MAX, 0);
  mallopt(M_TRIM_THRESHOLD, 1 << 30);
  // One arena for every thread. The batch parts run on their own threads, and a thread's arena
  // grows in 64 MB heaps that glibc unmaps as soon as one is free again, whatever the trim
  // threshold: each step faulted its buffers in anew (70M training on a 2-core EPYC VM: 390-431
  // -> 592-663 tok/s with GLIBC_TUNABLES=glibc.malloc.arena_max=1). The main arena grows by sbrk
  // and keeps what it has.
  mallopt(M_ARENA_MAX, 1);
}

c10::Device parse_device(const std::string& name) {
  try {
    c10::Device dev(name);
    if (dev.is_cuda() && !at::hasCUDA())
      throw UserError("experiment.device: '" + name + "' requested but this LibTorch has no CUDA device available");
    return dev;
  } catch (const c10::Error&) {
    throw UserError("experiment.device: cannot parse '" + name + "'");
  }
}

}  // namespace imlcore
