#include "op_profile.hpp"

#include <sys/resource.h>
#include <torch/csrc/autograd/profiler_legacy.h>

#include <algorithm>
#include <chrono>
#include <cstdio>
#include <map>
#include <vector>

namespace bench {

namespace {
struct OpTotals {
  int64_t calls = 0;
  double self_us = 0, total_us = 0;
};
}  // namespace

std::string profile_ops(const std::function<void()>& fn, int top) {
  namespace prof = torch::autograd::profiler;
  using torch::profiler::impl::ProfilerConfig;
  using torch::profiler::impl::ProfilerState;

  // Page faults during the profiled call: the profiler's own allocations can move the step's
  // big tensors onto fresh memory, and each first touch of a 4 KB page then shows up in the op
  // that writes it (aten::fill_ of an embedding gradient, ~10 us a page on these VMs).
  rusage before{};
  ::getrusage(RUSAGE_SELF, &before);
  prof::enableProfilerLegacy(ProfilerConfig(ProfilerState::CPU));
  const auto t0 = std::chrono::steady_clock::now();
  fn();
  const double wall_us =
      std::chrono::duration<double, std::micro>(std::chrono::steady_clock::now() - t0).count();
  const prof::thread_event_lists lists = prof::disableProfilerLegacy();
  rusage after{};
  ::getrusage(RUSAGE_SELF, &after);
  const long faults = after.ru_minflt - before.ru_minflt;

  // Ranges nest per thread: self time = a range's time minus that of the ranges directly inside.
  std::map<std::string, OpTotals> ops;
  for (const auto& events : lists) {
    struct Open {
      const prof::LegacyEvent* push;
      double children_us;
    };
    std::vector<Open> stack;
    for (const auto& e : events) {
      if (e.kind() == prof::EventKind::PushRange) {
        stack.push_back({&e, 0.0});
      } else if (e.kind() == prof::EventKind::PopRange && !stack.empty()) {
        const Open open = stack.back();
        stack.pop_back();
        const double total = open.push->cpuElapsedUs(e);
        OpTotals& t = ops[open.push->name()];
        t.calls += 1;
        t.total_us += total;
        t.self_us += total - open.children_us;
        if (!stack.empty()) stack.back().children_us += total;
      }
    }
  }
  std::vector<std::pair<std::string, OpTotals>> sorted(ops.begin(), ops.end());
  std::sort(sorted.begin(), sorted.end(),
            [](const auto& a, const auto& b) { return a.second.self_us > b.second.self_us; });

  std::string out;
  char line[256];
  std::snprintf(line, sizeof line, "  %-44s %7s %10s %7s %10s   (wall %.1f ms, %ld page faults)\n", "op",
                "calls", "self ms", "self %", "total ms", wall_us / 1e3, faults);
  out += line;
  for (int i = 0; i < top && i < static_cast<int>(sorted.size()); ++i) {
    const auto& [name, t] = sorted[i];
    std::snprintf(line, sizeof line, "  %-44.44s %7lld %10.1f %6.1f%% %10.1f\n", name.c_str(),
                  static_cast<long long>(t.calls), t.self_us / 1e3, 100 * t.self_us / wall_us,
                  t.total_us / 1e3);
    out += line;
  }
  return out;
}

}  // namespace bench
