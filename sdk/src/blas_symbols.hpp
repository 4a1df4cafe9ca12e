// The BLAS entry points that the SDK finds at run time with dlsym, declared once (internal: not
// part of the SDK's headers).
#pragma once
#include <dlfcn.h>

namespace imlsdk::detail {

// Fortran BLAS GEMMs (column-major), as LibTorch calls them.
using sgemm_fn = void (*)(const char*, const char*, const int*, const int*, const int*, const float*, const float*,
                          const int*, const float*, const int*, const float*, float*, const int*);
using dgemm_fn = void (*)(const char*, const char*, const int*, const int*, const int*, const double*, const double*,
                          const int*, const double*, const int*, const double*, double*, const int*);

// OpenBLAS's thread count, through whatever libopenblas the process loaded (null where none is).
using get_threads_fn = int (*)();
using set_threads_fn = void (*)(int);
inline get_threads_fn openblas_get_threads() {
  static const auto fn = reinterpret_cast<get_threads_fn>(::dlsym(RTLD_DEFAULT, "openblas_get_num_threads"));
  return fn;
}
inline set_threads_fn openblas_set_threads() {
  static const auto fn = reinterpret_cast<set_threads_fn>(::dlsym(RTLD_DEFAULT, "openblas_set_num_threads"));
  return fn;
}

}  // namespace imlsdk::detail
