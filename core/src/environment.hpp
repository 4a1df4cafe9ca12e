// The process environment a run sets up before it trains: threads, the allocator, the device.
#pragma once
#include <cstdint>
#include <string>

#include <c10/core/Device.h>

namespace imlcore {

// BLAS threads and LibTorch's own threads (0 = every core); returns what was set, as text for
// the manifest. LibTorch's OpenMP team and OpenBLAS's pthread pool both spin while waiting; on
// few cores two busy pools slow each other down badly (bench/README.md), so the default gives
// LibTorch one thread and the GEMMs, where the FLOPs are, every core.
std::string configure_threads(int64_t blas_threads, int64_t torch_threads = 1);

// Keeps freed activation buffers (hundreds of MB at the 70M shape) in the heap instead of
// returning them to the kernel and faulting them in again every step (glibc mallopt), in one
// arena that every thread shares (a thread's own arena unmaps its free heaps).
// imlhost and bench_throughput call it first thing, so both run the step the same way.
//
// Where the kernel gives transparent huge pages on request (THP "madvise", Debian's default),
// the heap's free space ahead is also marked for 2 MB pages: one reserved stretch of address
// space (half the RAM; untouched pages cost nothing) that the tensors are then carved from.
// First touching fresh memory then faults once per 2 MB instead of 512 times (the measured gain,
// docs/performance.md), and a GEMM that walks a 150 MB matrix column-wise needs fewer TLB
// entries. Not done where it could cost memory or address space: overcommit_memory 2 (the
// reservation would be committed), a finite ulimit -v or -d, or IML_HUGEPAGES=0 in the
// environment (the bench's A/B switch). Under a sanitizer, or with tcmalloc (linked into imlhost
// and the benches by default: CMake's IMLHOST_TCMALLOC) or a preloaded jemalloc, whose malloc is
// not glibc's, it sets nothing and says so.
// Returns what was set, as one line for the manifest.
std::string configure_memory();

// configure_memory's line, or what a process that did not call it runs with.
std::string memory_setup();

// "cpu", "cuda", "cuda:N" -> a device this LibTorch has; UserError otherwise.
c10::Device parse_device(const std::string& name);

}  // namespace imlcore
