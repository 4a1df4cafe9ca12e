#include "imlsdk/task.hpp"

namespace imlsdk {

std::vector<const Example*> example_refs(const std::vector<Example>& xs, size_t b0, size_t b1) {
  std::vector<const Example*> out;
  b1 = std::min(b1, xs.size());
  for (size_t i = b0; i < b1; ++i) out.push_back(&xs[i]);
  return out;
}

}  // namespace imlsdk
