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
void configure_memory();

// "cpu", "cuda", "cuda:N" -> a device this LibTorch has; UserError otherwise.
c10::Device parse_device(const std::string& name);

}  // namespace imlcore
