// Side-by-side work on the CPU's cores (SDK 2.3). On a small CPU most of a small model's time is
// LibTorch's single-threaded element-wise work (softmax, norms, activations) between GEMMs, while
// the BLAS's other threads wait: splitting a batch into parts that run side by side, one core
// each, keeps every core busy. The host does this for evaluation (imlsdk::evaluate_examples) and
// training (experiment.streams) where the model and the task allow it (Model::concurrent_forward,
// Task::concurrent_calls).
#pragma once
#include <cstdint>
#include <functional>
#include <utility>
#include <vector>

namespace imlsdk {

// Runs every job and waits for all of them: jobs[0] on the calling thread, each other one on a
// thread of its own, started with the caller's LibTorch thread-local state (grad mode,
// inference mode, autocast). While more than one job runs, OpenBLAS (when it is loaded) gives
// each GEMM max(1, its threads / jobs) threads, and gets its previous setting back afterwards.
// If jobs throw, the exception of the first such job (in vector order) is rethrown, after all
// of them ended. A call made from inside a job runs its jobs one after the other.
void run_side_by_side(const std::vector<std::function<void()>>& jobs);

// [begin, end) ranges that split n items into `parts` contiguous runs of sizes differing by at
// most one (the first ones larger); fewer when n < parts, none when n == 0.
std::vector<std::pair<int64_t, int64_t>> split_evenly(int64_t n, int64_t parts);

}  // namespace imlsdk
