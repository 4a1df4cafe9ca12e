#include "subset_split.hpp"

#include <imlqa/split.hpp>

#include <algorithm>
#include <cmath>
#include <stdexcept>

namespace set_inclusion {
namespace {

bool is_stage2(const std::string& name, const std::vector<std::string>& stage2_subsets) {
  return std::find(stage2_subsets.begin(), stage2_subsets.end(), name) != stage2_subsets.end();
}

}  // namespace

// The text-QA protocol's rule (imlqa/split.hpp), so both datasets size subsets alike.
std::vector<size_t> subset_sizes(const Fractions& fractions, size_t n) {
  return imlqa::subset_sizes(fractions, n);
}

std::map<std::string, std::vector<std::string>> split_into_subsets(
    std::vector<std::string> items, const Fractions& fractions,
    const std::vector<std::string>& stage2_subsets, imlsdk::Rng& stage1_rng,
    imlsdk::Rng& stage2_rng) {
  const auto sizes = subset_sizes(fractions, items.size());
  std::sort(items.begin(), items.end());
  stage1_rng.shuffle(items);

  // First cut: Stage-1 subsets keep their slice; Stage-2 slices are pooled.
  std::map<std::string, std::vector<std::string>> subsets;
  std::vector<std::string> stage2_pool;
  size_t begin = 0;
  for (size_t i = 0; i < fractions.size(); ++i) {
    const auto first = items.begin() + static_cast<std::ptrdiff_t>(begin);
    const auto last = first + static_cast<std::ptrdiff_t>(sizes[i]);
    if (is_stage2(fractions[i].first, stage2_subsets))
      stage2_pool.insert(stage2_pool.end(), first, last);
    else
      subsets[fractions[i].first].assign(first, last);
    begin += sizes[i];
  }

  // Second cut: the pool is re-drawn with the Stage-2 generator, slice sizes unchanged.
  std::sort(stage2_pool.begin(), stage2_pool.end());
  stage2_rng.shuffle(stage2_pool);
  begin = 0;
  for (size_t i = 0; i < fractions.size(); ++i) {
    if (!is_stage2(fractions[i].first, stage2_subsets)) continue;
    const auto first = stage2_pool.begin() + static_cast<std::ptrdiff_t>(begin);
    subsets[fractions[i].first].assign(first, first + static_cast<std::ptrdiff_t>(sizes[i]));
    begin += sizes[i];
  }
  return subsets;
}

}  // namespace set_inclusion
