// The two thread pools that share the cores: LibTorch's OpenMP team (element-wise ops, reductions)
// and OpenBLAS's own pthread pool (GEMMs). A set-up fixes the size of each.
#pragma once
#include <ATen/Parallel.h>

#include <dlfcn.h>

#include <string>

namespace bench {

// OpenBLAS's thread control, found at run time (LibTorch links it through libblas.so.3).
struct Blas {
  void (*set_threads)(int) = nullptr;
  int (*get_threads)() = nullptr;
  std::string gemm_library, setter_library;  // which shared objects provide sgemm_ / the setter

  Blas() {
    set_threads = reinterpret_cast<void (*)(int)>(::dlsym(RTLD_DEFAULT, "openblas_set_num_threads"));
    get_threads = reinterpret_cast<int (*)()>(::dlsym(RTLD_DEFAULT, "openblas_get_num_threads"));
    gemm_library = library_of(::dlsym(RTLD_DEFAULT, "sgemm_"));
    setter_library = library_of(reinterpret_cast<void*>(set_threads));
  }
  static std::string library_of(void* symbol) {
    Dl_info info{};
    if (!symbol || !::dladdr(symbol, &info) || !info.dli_fname) return "(not found)";
    return info.dli_fname;
  }
};

// Batch parts the model workloads run side by side (imlsdk::run_side_by_side), as the host's
// experiment.streams does; set by ThreadSetup::apply.
inline int& current_streams() {
  static int streams = 1;
  return streams;
}

struct ThreadSetup {
  int torch = 1, blas = 1, streams = 1;
  // "t2/b1" = LibTorch 2 threads, OpenBLAS 1; "t1/b2/s2" = and each batch in 2 parts side by side
  // (OpenBLAS's threads divided among them while they run).
  std::string label() const {
    return "t" + std::to_string(torch) + "/b" + std::to_string(blas) + (streams > 1 ? "/s" + std::to_string(streams) : "");
  }
  void apply(const Blas& b) const {
    at::set_num_threads(torch);
    if (b.set_threads) b.set_threads(blas);
    current_streams() = streams;
  }
};

}  // namespace bench
