// OpenMP's wait policy is read once, when libgomp loads, so comparing policies takes one process
// per policy: this re-runs the benchmark executable under each environment variant and merges
// the samples the children write as JSON.
#pragma once
#include <string>
#include <vector>

namespace bench {

// Runs `exe child_args... --json <tmp>` for each variant (default, OMP_WAIT_POLICY=passive,
// GOMP_SPINCOUNT=10000), `rounds` times with the variants alternating so that background load hits
// them alike, and prints the median per workload, variant and thread set-up.
void run_env_study(const std::string& exe, const std::vector<std::string>& child_args, int rounds);

}  // namespace bench
