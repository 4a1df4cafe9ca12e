#include "imlsdk/parallel.hpp"

#include <ATen/ThreadLocalState.h>

#include <algorithm>
#include <exception>
#include <thread>

#include "blas_symbols.hpp"

namespace imlsdk {

namespace {

thread_local bool inside_job = false;

using detail::openblas_get_threads;
using detail::openblas_set_threads;

struct BlasThreadsScope {
  int before = 0;
  explicit BlasThreadsScope(size_t jobs) {
    if (openblas_get_threads() == nullptr || openblas_set_threads() == nullptr) return;
    before = openblas_get_threads()();
    const int each = std::max(1, before / static_cast<int>(std::max<size_t>(1, jobs)));
    if (each != before) openblas_set_threads()(each);
    else before = 0;
  }
  ~BlasThreadsScope() {
    if (before > 0) openblas_set_threads()(before);
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

std::vector<std::vector<std::vector<int64_t>>> side_by_side_plan(const std::vector<int64_t>& sizes, int64_t streams,
                                                                 int64_t min_rows) {
  const int64_t n = static_cast<int64_t>(sizes.size());
  const int64_t jobs = std::min(streams, n / std::max<int64_t>(1, min_rows));
  std::vector<std::vector<std::vector<int64_t>>> plan;
  auto run = [](int64_t b, int64_t e, const std::vector<int64_t>& order) {
    return std::vector<int64_t>(order.begin() + b, order.begin() + e);
  };
  std::vector<int64_t> order(static_cast<size_t>(n));
  for (int64_t i = 0; i < n; ++i) order[static_cast<size_t>(i)] = i;
  if (jobs <= 1) {
    if (n > 0) plan.push_back({order});
    return plan;
  }
  if (n < 2 * jobs * kChunkRows) {
    for (const auto& [b, e] : split_evenly(n, jobs)) plan.push_back({run(b, e, order)});
    return plan;
  }
  // A job's padded cost: each chunk's rows times its largest size; the wall time is the
  // slowest job's. Chunks by size only when that saves at least kChunkGain of the contiguous
  // runs' time (each chunk is one more pass through the model).
  auto cost = [&](const std::vector<std::vector<int64_t>>& chunks) {
    int64_t c = 0;
    for (const auto& chunk : chunks) {
      int64_t longest = 0;
      for (int64_t i : chunk) longest = std::max(longest, sizes[static_cast<size_t>(i)]);
      c += longest * static_cast<int64_t>(chunk.size());
    }
    return c;
  };
  std::vector<std::vector<std::vector<int64_t>>> contiguous;
  for (const auto& [b, e] : split_evenly(n, jobs)) contiguous.push_back({run(b, e, order)});
  std::stable_sort(order.begin(), order.end(), [&](int64_t a, int64_t b) { return sizes[a] < sizes[b]; });
  const auto chunks = split_evenly(n, 2 * jobs);
  for (int64_t j = 0; j < jobs; ++j) {
    const auto& lo = chunks[static_cast<size_t>(j)];
    const auto& hi = chunks[static_cast<size_t>(2 * jobs - 1 - j)];
    plan.push_back({run(lo.first, lo.second, order), run(hi.first, hi.second, order)});
  }
  int64_t before = 0, after = 0;
  for (const auto& job : contiguous) before = std::max(before, cost(job));
  for (const auto& job : plan) after = std::max(after, cost(job));
  constexpr double kChunkGain = 0.10;
  return static_cast<double>(after) <= (1.0 - kChunkGain) * static_cast<double>(before) ? plan : contiguous;
}

std::vector<std::vector<std::vector<int64_t>>> balanced_side_by_side_plan(const std::vector<int64_t>& sizes,
                                                                          int64_t streams, int64_t min_rows) {
  const int64_t n = static_cast<int64_t>(sizes.size());
  const int64_t jobs = std::min(streams, n / std::max<int64_t>(1, min_rows));
  std::vector<int64_t> order(static_cast<size_t>(n));
  for (int64_t i = 0; i < n; ++i) order[static_cast<size_t>(i)] = i;
  if (jobs <= 1) {
    if (n == 0) return {};
    return {{order}};
  }
  std::stable_sort(order.begin(), order.end(),
                   [&](int64_t a, int64_t b) { return sizes[static_cast<size_t>(a)] > sizes[static_cast<size_t>(b)]; });
  std::vector<std::vector<int64_t>> chunk(static_cast<size_t>(jobs));
  std::vector<int64_t> sum(static_cast<size_t>(jobs), 0);
  for (int64_t i : order) {
    size_t j = 0;
    for (size_t k = 1; k < sum.size(); ++k)
      if (sum[k] < sum[j]) j = k;
    chunk[j].push_back(i);
    sum[j] += sizes[static_cast<size_t>(i)];
  }
  std::vector<std::vector<std::vector<int64_t>>> plan;
  for (auto& c : chunk) {
    std::sort(c.begin(), c.end());
    plan.push_back({c});
  }
  return plan;
}

void for_each_side_by_side(const std::vector<int64_t>& sizes, const std::function<void(size_t)>& fn, int64_t parts,
                           int64_t min_total) {
  int64_t total = 0;
  for (int64_t s : sizes) total += std::max<int64_t>(0, s);
  if (parts < 2 || sizes.size() < 2 || total < min_total) {
    for (size_t i = 0; i < sizes.size(); ++i) fn(i);
    return;
  }
  const auto plan = balanced_side_by_side_plan(sizes, parts, 1);
  std::vector<std::function<void()>> jobs;
  for (const auto& job : plan)
    jobs.push_back([&fn, &job] {
      for (int64_t i : job.at(0)) fn(static_cast<size_t>(i));
    });
  run_side_by_side(jobs);
}

}  // namespace imlsdk
