// SDK 2.9: which vector instruction sets this CPU runs, for kernels compiled once per set (GCC's
// target attributes) and picked at run time.
#pragma once

namespace imlsdk {

// 0: the build's baseline (x86-64: SSE2), 1: AVX2, 2: AVX-512F.
constexpr int kIsaBaseline = 0, kIsaAvx2 = 1, kIsaAvx512 = 2;

// Whether this CPU, with this build (x86-64 and GCC or Clang, else only the baseline), runs
// `isa`; the baseline always.
bool cpu_runs_isa(int isa);

// The widest instruction set cpu_runs_isa.
int widest_isa();

}  // namespace imlsdk
