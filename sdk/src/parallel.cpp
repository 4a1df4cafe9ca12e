#include "imlsdk/parallel.hpp"

#include <ATen/ThreadLocalState.h>
#include <dlfcn.h>

#include <algorithm>
#include <exception>
#include <thread>

namespace imlsdk {

namespace {

thread_local bool inside_job = false;

// OpenBLAS's thread count, through whatever libopenblas the process loaded (none: no-ops).
using GetFn = int (*)();
using SetFn = void (*)(int);
GetFn blas_get() {
  static const auto fn = reinterpret_cast<GetFn>(::dlsym(RTLD_DEFAULT, "openblas_get_num_threads"));
  return fn;
}
SetFn blas_set() {
  static const auto fn = reinterpret_cast<SetFn>(::dlsym(RTLD_DEFAULT, "openblas_set_num_threads"));
  return fn;
}

struct BlasThreadsScope {
  int before = 0;
  explicit BlasThreadsScope(size_t jobs) {
    if (blas_get() == nullptr || blas_set() == nullptr) return;
    before = blas_get()();
    const int each = std::max(1, before / static_cast<int>(std::max<size_t>(1, jobs)));
    if (each != before) blas_set()(each);
    else before = 0;
  }
  ~BlasThreadsScope() {
    if (before > 0) blas_set()(before);
  }
};

}  // namespace

void run_side_by_side(const std::vector<std::function<void()>>& jobs) {
  if (jobs.empty()) return;
  if (jobs.size() == 1 || inside_job) {
    for (const auto& job : jobs) job();
    return;
  }
  std::vector<std::exception_ptr> errors(jobs.size());
  const at::ThreadLocalState state;  // the caller's grad mode, inference mode, autocast keys
  BlasThreadsScope blas(jobs.size());
  std::vector<std::thread> threads;
  threads.reserve(jobs.size() - 1);
  auto run = [&](size_t i) {
    inside_job = true;
    try {
      jobs[i]();
    } catch (...) {
      errors[i] = std::current_exception();
    }
    inside_job = false;
  };
  try {
    for (size_t i = 1; i < jobs.size(); ++i)
      threads.emplace_back([&, i] {
        at::ThreadLocalStateGuard guard(state);
        run(i);
      });
  } catch (...) {  // could not start a thread: run the rest here
    for (size_t i = threads.size() + 1; i < jobs.size(); ++i) run(i);
  }
  run(0);
  for (auto& t : threads) t.join();
  for (const auto& e : errors)
    if (e) std::rethrow_exception(e);
}

std::vector<std::pair<int64_t, int64_t>> split_evenly(int64_t n, int64_t parts) {
  std::vector<std::pair<int64_t, int64_t>> out;
  if (n <= 0) return out;
  parts = std::max<int64_t>(1, std::min(parts, n));
  const int64_t base = n / parts, extra = n % parts;
  int64_t b = 0;
  for (int64_t p = 0; p < parts; ++p) {
    const int64_t e = b + base + (p < extra ? 1 : 0);
    out.emplace_back(b, e);
    b = e;
  }
  return out;
}

}  // namespace imlsdk
