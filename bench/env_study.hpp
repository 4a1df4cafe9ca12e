// Settings read once when a process starts cannot be compared in one process: OpenMP's wait policy
// (libgomp reads it when it loads) and the memory allocator (LD_PRELOAD). This re-runs the
// benchmark executable under each environment variant and merges the samples the children write
// as JSON.
#pragma once
#include <string>
#include <vector>

namespace bench {

// Runs `exe child_args... --json <tmp>` for each variant, `rounds` times with the variants
// alternating so that background load hits them alike, and prints the median per workload,
// variant and thread set-up. Variants: default (glibc malloc with imlhost's mallopt set-up,
// imlcore::configure_memory; OpenMP variables unset), passive (OMP_WAIT_POLICY=passive), spin10k
// (GOMP_SPINCOUNT=10000), tcmalloc and jemalloc (LD_PRELOAD; skipped with a note when the library
// is not installed). `names` = comma-separated subset, empty = all.
void run_env_study(const std::string& exe, const std::vector<std::string>& child_args, int rounds,
                   const std::string& names = "");

}  // namespace bench
