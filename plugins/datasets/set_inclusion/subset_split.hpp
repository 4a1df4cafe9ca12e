// Splitting variables into entity subsets (spec §3, applied to set inclusion).
#pragma once
#include <cstddef>
#include <map>
#include <string>
#include <utility>
#include <vector>

#include <imlsdk/rng.hpp>

namespace set_inclusion {

// (subset name, fraction) in the fixed order the slices are cut.
using Fractions = std::vector<std::pair<std::string, double>>;

// How many of `n` items each subset gets: round(n * fraction) with round-half-even (as Python's
// round), the rounding remainder going to the alphabetically last subset with a positive
// fraction (the reference's rule; it adds the remainder with the wrong sign, we don't). If
// removing a surplus would make that subset negative, the rest comes off the next ones in
// reverse alphabetical order.
std::vector<size_t> subset_sizes(const Fractions& fractions, size_t n);

// Sorts `items`, shuffles them with `stage1_rng` and cuts consecutive slices in `fractions`
// order. The items that fall to `stage2_subsets` are then sorted, re-shuffled with `stage2_rng`
// and cut again, so everything outside those subsets is independent of `stage2_rng`.
std::map<std::string, std::vector<std::string>> split_into_subsets(
    std::vector<std::string> items, const Fractions& fractions,
    const std::vector<std::string>& stage2_subsets, imlsdk::Rng& stage1_rng,
    imlsdk::Rng& stage2_rng);

}  // namespace set_inclusion
