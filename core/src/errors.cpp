#include <algorithm>
#include <vector>

#include "errors.hpp"

namespace imlcore {

static size_t edit_distance(const std::string& a, const std::string& b) {
  std::vector<size_t> prev(b.size() + 1), cur(b.size() + 1);
  for (size_t j = 0; j <= b.size(); ++j) prev[j] = j;
  for (size_t i = 1; i <= a.size(); ++i) {
    cur[0] = i;
    for (size_t j = 1; j <= b.size(); ++j)
      cur[j] = std::min({prev[j] + 1, cur[j - 1] + 1, prev[j - 1] + (a[i - 1] != b[j - 1])});
    std::swap(prev, cur);
  }
  return prev[b.size()];
}

std::string suggest(const std::string& word, const std::vector<std::string>& options) {
  std::vector<std::pair<size_t, std::string>> scored;
  for (const auto& o : options) {
    const size_t d = edit_distance(word, o);
    if (d <= std::max<size_t>(2, word.size() / 3)) scored.emplace_back(d, o);
  }
  std::stable_sort(scored.begin(), scored.end(),
                   [](const auto& x, const auto& y) { return x.first < y.first; });
  std::string out;
  for (size_t i = 0; i < scored.size() && i < 3; ++i) out += (i ? ", " : "") + scored[i].second;
  return out.empty() ? "" : " (did you mean " + out + "?)";
}

}  // namespace imlcore
