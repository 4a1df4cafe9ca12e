// Side-by-side work on the CPU's cores (SDK 2.3). On a small CPU most of a small model's time is
// LibTorch's single-threaded element-wise work (softmax, norms, activations) between GEMMs, while
// the BLAS's other threads wait: splitting a batch into parts that run side by side, one core
// each, keeps every core busy. The host does this for evaluation (imlsdk::evaluate_examples) and
// training (experiment.streams) where the model and the task allow it (Model::concurrent_forward,
// Task::concurrent_calls).
#pragma once
#include <cstdint>
#include <functional>
#include <string>
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

// How n items (a batch's examples) are split for side-by-side work: for each of up to `streams`
// jobs, the chunks it runs one after the other, each chunk a list of item indices. `sizes` are
// the items' sizes (e.g. text lengths: a proxy for their padded cost); `min_rows` the fewest
// items a job gets. Fewer than 2 * min_rows items: one job, one chunk, every item in order. With
// at least 2 * jobs * kChunkRows items, the items may be ordered by size (ties by index) and cut
// into 2 * jobs chunks, job j taking chunks j and 2 * jobs - 1 - j, so that each chunk pads to
// sizes close to its own and the jobs get balanced work: done where that cuts the slowest job's
// padded cost (rows x largest size, summed over its chunks) by at least 10 %. Otherwise each job
// takes one contiguous run of items in order. A pure function of its arguments (reproducible).
constexpr int64_t kChunkRows = 16;
std::vector<std::vector<std::vector<int64_t>>> side_by_side_plan(const std::vector<int64_t>& sizes, int64_t streams,
                                                                 int64_t min_rows);

// SDK 2.5: a plan for work whose cost is the items' sizes themselves (padding costs nothing, e.g.
// a model that skips padding rows, Model::forward_head_input_at): up to `streams` jobs (as
// side_by_side_plan: one job below 2 * min_rows items), one chunk each, of near-equal summed
// size: items by size, largest first (ties by index), each to the job with the smallest sum so
// far (ties: the first); each chunk in index order. A pure function of its arguments.
std::vector<std::vector<std::vector<int64_t>>> balanced_side_by_side_plan(const std::vector<int64_t>& sizes,
                                                                          int64_t streams, int64_t min_rows);

// SDK 2.7: fn(i) for every i in [0, sizes.size()), where the calls touch separate tensors and
// their results do not depend on the thread that makes them (e.g. per-parameter gradient sums,
// norms, optimizer updates). With parts >= 2, at least two items and sizes adding up to at least
// min_total, the items go to `parts` groups of about equal summed size (balanced_side_by_side_plan)
// run side by side (run_side_by_side), each group's items in index order; otherwise every call
// runs on this thread in index order. Callers pass parts = 1 where side-by-side threads do not
// help (a GPU's tensors). Starting the threads costs tens of microseconds: below min_total
// (elements) the work is cheaper than that.
constexpr int64_t kSideBySideMinElements = int64_t{1} << 16;
void for_each_side_by_side(const std::vector<int64_t>& sizes, const std::function<void(size_t)>& fn,
                           int64_t parts = 2, int64_t min_total = kSideBySideMinElements);

// SDK 2.6: the CPU's fp32 GEMMs (LibTorch's and the SDK's own) run on oneDNN's AVX-512 kernels
// where oneDNN has them for this CPU, with the BLAS's thread count; elsewhere on the BLAS
// (OpenBLAS). gemm_backend() names what runs them: "oneDNN avx512_core" or "BLAS".
// use_onednn_gemm(false) sends them to the BLAS (e.g. to compare); returns whether oneDNN runs
// them now. Results differ from the BLAS's in the last bits, not between runs.
std::string gemm_backend();
bool use_onednn_gemm(bool on);

}  // namespace imlsdk
