// Where the time goes, op by op: runs a callable under LibTorch's (legacy, CPU) autograd profiler
// and tabulates self and total time per op name, like torch.autograd.profiler's key_averages().
#pragma once
#include <functional>
#include <string>

namespace bench {

// Runs `fn` once under the profiler; returns a table of the `top` ops by self time.
std::string profile_ops(const std::function<void()>& fn, int top);

}  // namespace bench
