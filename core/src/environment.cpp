#include "environment.hpp"

#include <dlfcn.h>
#include <fmt/format.h>
#include <malloc.h>
#include <sys/mman.h>
#include <sys/resource.h>
#include <unistd.h>

#include <ATen/Context.h>
#include <ATen/Parallel.h>

#include <algorithm>
#include <cstdint>
#include <cstdlib>
#include <fstream>
#include <vector>

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

namespace {

std::string first_line(const char* path) {
  std::ifstream in(path);
  std::string line;
  std::getline(in, line);
  return line;
}

// The kernel's THP mode: the bracketed word of /sys/kernel/mm/transparent_hugepage/enabled.
std::string thp_mode() {
  const std::string line = first_line("/sys/kernel/mm/transparent_hugepage/enabled");
  const size_t b = line.find('['), e = line.find(']');
  return b != std::string::npos && e != std::string::npos && e > b ? line.substr(b + 1, e - b - 1) : "";
}

bool sanitized_build() {
#if defined(__SANITIZE_ADDRESS__) || defined(__SANITIZE_THREAD__)
  return true;
#elif defined(__has_feature)
#if __has_feature(address_sanitizer) || __has_feature(thread_sanitizer) || __has_feature(memory_sanitizer)
  return true;
#else
  return false;
#endif
#else
  return false;
#endif
}

// Marks the heap's next `bytes` for transparent huge pages: grows the heap by one block (address
// space only, nothing is touched), advises it (to its last whole 2 MB page) and frees it again. A small
// block carved from the heap's top right after it, and kept, fences it off from that top, so
// the trim threshold (which only shrinks the top) never hands it back: it stays a free chunk
// that later blocks are carved from. brk() can't extend a marked region with the same mark, so
// growth beyond it is on 4 KB pages as before. Returns the bytes marked (0: could not).
size_t reserve_huge_heap(size_t bytes) {
  constexpr uintptr_t kHuge = uintptr_t{2} << 20;
  void* block = std::malloc(bytes);
  if (block == nullptr) return 0;
  // From the 2 MB page that holds its start (the heap's blocks before it on that page are merely
  // marked too; blocks are carved from the front of the free chunk, so its head matters).
  const uintptr_t b = reinterpret_cast<uintptr_t>(block) & ~(kHuge - 1);
  const uintptr_t e = (reinterpret_cast<uintptr_t>(block) + bytes) & ~(kHuge - 1);
  // The fence must come from the top, i.e. lie past the block; a free chunk of the right size
  // elsewhere in the heap would serve a small request first, so the size doubles until one does.
  void* fence = nullptr;
  std::vector<void*> elsewhere;
  for (size_t size = 64; size <= (size_t{64} << 20) && fence == nullptr; size *= 2) {
    void* p = std::malloc(size);
    if (p == nullptr) break;
    (reinterpret_cast<uintptr_t>(p) > reinterpret_cast<uintptr_t>(block) ? fence : elsewhere.emplace_back()) = p;
  }
  for (void* p : elsewhere) std::free(p);
  const bool ok = fence != nullptr && e > b && ::madvise(reinterpret_cast<void*>(b), e - b, MADV_HUGEPAGE) == 0;
  std::free(block);
  if (!ok) std::free(fence);  // the fence stays allocated for the life of the process
  return ok ? static_cast<size_t>(e - b) : 0;
}

// The file of the library whose malloc this process calls ("" if unknown): libc's, or tcmalloc
// (linked in, or preloaded) or jemalloc, which mallopt and the heap reservation below do not reach.
std::string malloc_library() {
  Dl_info info{};
  void* (*fn)(size_t) = &std::malloc;
  if (::dladdr(reinterpret_cast<void*>(fn), &info) == 0 || info.dli_fname == nullptr) return "";
  const std::string path = info.dli_fname;
  return path.substr(path.rfind('/') + 1);
}

// Huge pages for the heap (environment.hpp says when and why); the manifest's words for it.
std::string configure_huge_pages(const std::string& setting) {
  const std::string mode = thp_mode();
  struct rlimit as {}, data {};
  ::getrlimit(RLIMIT_AS, &as);
  ::getrlimit(RLIMIT_DATA, &data);
  const long pages = ::sysconf(_SC_PHYS_PAGES), page = ::sysconf(_SC_PAGESIZE);
  std::string why_not;
  if (setting == "0") why_not = "IML_HUGEPAGES=0";
  else if (mode == "always") return "heap on 2 MB pages where aligned (THP mode 'always')";
  else if (mode != "madvise") why_not = "THP mode '" + mode + "'";
  else if (first_line("/proc/sys/vm/overcommit_memory") == "2") why_not = "overcommit_memory 2";
  else if (as.rlim_cur != RLIM_INFINITY || data.rlim_cur != RLIM_INFINITY) why_not = "finite ulimit -v or -d";
  else if (pages <= 0 || page <= 0) why_not = "RAM size unknown";
  else if (const size_t huge = reserve_huge_heap(static_cast<size_t>(pages) * static_cast<size_t>(page) / 2))
    return fmt::format("heap on 2 MB pages (its first {:.1f} GiB)", static_cast<double>(huge) / (1 << 30));
  else why_not = "the reservation failed";
  return "heap on 4 KB pages (" + why_not + ")";
}

std::string memory_line = "glibc malloc defaults (configure_memory not called)";

}  // namespace

std::string memory_setup() { return memory_line; }

std::string configure_memory() {
  static const std::string what = []() -> std::string {
    const char* env = std::getenv("IML_HUGEPAGES");  // checked wherever it can take effect or not
    const std::string setting = env ? env : "";
    if (!setting.empty() && setting != "0" && setting != "1")
      throw UserError("environment variable IML_HUGEPAGES: '" + setting + "' is not 0 or 1");
    if (sanitized_build()) return "malloc from the sanitizer runtime (no mallopt, no heap reservation)";
    const std::string lib = malloc_library();
    if (lib.rfind("libc.so", 0) != 0)
      return "malloc from " + (lib.empty() ? std::string("an unknown library") : lib) +
             " (not glibc's: no mallopt, no heap reservation)";
    mallopt(M_MMAP_MAX, 0);
    mallopt(M_TRIM_THRESHOLD, 1 << 30);
    // One arena for every thread. The batch parts run on their own threads, and a thread's arena
    // grows in 64 MB heaps that glibc unmaps as soon as one is free again, whatever the trim
    // threshold: each step faulted its buffers in anew (70M training on a 2-core EPYC VM: 390-431
    // -> 592-663 tok/s with GLIBC_TUNABLES=glibc.malloc.arena_max=1). The main arena grows by
    // sbrk and keeps what it has.
    mallopt(M_ARENA_MAX, 1);
    return "glibc malloc, one arena, no mmap; " + configure_huge_pages(setting);
  }();
  memory_line = what;
  return what;
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
