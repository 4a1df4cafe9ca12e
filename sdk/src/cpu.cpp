// Which vector instruction sets this CPU runs (cpu.hpp).
#include "imlsdk/cpu.hpp"

namespace imlsdk {

bool cpu_runs_isa(int isa) {
#if defined(__x86_64__) && defined(__GNUC__)
  if (isa == kIsaAvx512) return __builtin_cpu_supports("avx512f");
  if (isa == kIsaAvx2) return __builtin_cpu_supports("avx2");
#endif
  return isa == kIsaBaseline;
}

int widest_isa() {
  return cpu_runs_isa(kIsaAvx512) ? kIsaAvx512 : cpu_runs_isa(kIsaAvx2) ? kIsaAvx2 : kIsaBaseline;
}

}  // namespace imlsdk
