// The figures: tables on stdout (rates per thread set-up, model-FLOP utilisation, training-step
// phases, and the comparison with the HF Transformers 4.33 peer measured in the same run, with
// PASS/MISS per target) and optionally JSON with every sample, the peer's included.
#pragma once
#include <string>
#include <vector>

#include "peer.hpp"
#include "threads.hpp"
#include "workloads.hpp"

namespace bench {

struct RunInfo {
  int cores = 0, reps = 0;
  std::string configure_threads;  // what imlcore::configure_threads(0) reported
  std::string allocator;          // glibc malloc, or the preloaded tcmalloc/jemalloc
  std::string gemm_backend;       // imlsdk::gemm_backend(): oneDNN's AVX-512 kernels or the BLAS
  double load_start = 0, load_end = 0, wall_seconds = 0;
};

// setups[0] is the reference set-up: MFU, phases and the peer comparison are given for it.
void print_report(const std::vector<Workload>& work, const std::vector<ThreadSetup>& setups,
                  const RunInfo& info, const Peer& peer);
void write_json(const std::string& path, const std::vector<Workload>& work,
                const std::vector<ThreadSetup>& setups, const RunInfo& info, const Peer& peer);

}  // namespace bench
