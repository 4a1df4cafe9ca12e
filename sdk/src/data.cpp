#include "imlsdk/data.hpp"

#include <algorithm>
#include <stdexcept>

namespace imlsdk {

RenderedText render_ordered_definition(const std::string& tag, const Definition& d,
                                       const std::string& terminator) {
  std::string sorted = d.order;
  std::sort(sorted.begin(), sorted.end());
  if (d.order.size() != 3 || sorted != "etv")
    throw std::invalid_argument("definition order '" + d.order +
                                "' is not a permutation of t, v, e (e.g. tve)");
  auto part = [&](char c) -> const std::string& {
    return c == 't' ? tag : c == 'v' ? d.variable : d.entity;
  };
  RenderedText r;
  r.prompt = part(d.order[0]) + " " + part(d.order[1]);
  r.answer = " " + part(d.order[2]) + terminator;
  r.text = r.prompt + r.answer;
  return r;
}

}  // namespace imlsdk
