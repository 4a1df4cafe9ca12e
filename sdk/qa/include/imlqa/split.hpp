// The random draws of the text-QA protocol (spec §3), usable on their own: slice sizes,
// the two-level seed / seed_stage2 entity split, derangements and aliases.
#pragma once
#include <cstddef>
#include <map>
#include <set>
#include <string>
#include <utility>
#include <vector>

#include "imlsdk/rng.hpp"

namespace imlqa {

using imlsdk::Rng;

// (subset name, fraction) in the order the slices are cut.
using SubsetFractions = std::vector<std::pair<std::string, double>>;

// How many of `n` items each subset gets: round(n * fraction), rounding half to even as
// Python's round() does; the rounding remainder goes to the alphabetically last subset with a
// positive fraction (the reference's rule; the reference adds a surplus with the wrong sign, we
// take it off). A surplus larger than that subset comes off the next ones in reverse
// alphabetical order. Throws std::invalid_argument if no fraction is positive and n > 0.
std::vector<size_t> subset_sizes(const SubsetFractions& fractions, size_t n);

// The two-level split of spec §3. `names` is sorted, shuffled with `stage1_rng` and cut into
// the `stage1` slices plus one pooled slice holding every `stage2` subset (its fraction is the
// sum of theirs). The pool is sorted, shuffled with `stage2_rng` and cut again with the
// `stage2` fractions relative to their sum. So the Stage-1 subsets never depend on stage2_rng.
// Returns every subset of both lists (empty ones included), members in slice order.
std::map<std::string, std::vector<std::string>> split_two_level(std::vector<std::string> names,
                                                                const SubsetFractions& stage1,
                                                                const SubsetFractions& stage2,
                                                                Rng& stage1_rng,
                                                                Rng& stage2_rng);

// A uniformly random permutation of 0..n-1 without a fixed point (perm[i] != i for all i),
// drawn by rejection (about e shuffles on average). n == 0 gives an empty permutation; n == 1
// has no derangement and throws std::invalid_argument.
std::vector<size_t> derangement(size_t n, Rng& rng);

// `n` distinct random aliases: `length` lowercase letters put into `format` at "{}"
// (e.g. "<|{}|>" -> "<|qwert|>"), in draw order, none equal to a `reserved` string. Throws
// std::invalid_argument if fewer than n such aliases exist.
std::vector<std::string> draw_aliases(size_t n, size_t length, const std::string& format,
                                      const std::set<std::string>& reserved, Rng& rng);

}  // namespace imlqa
