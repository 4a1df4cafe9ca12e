#include "imlqa/split.hpp"

#include <algorithm>
#include <cmath>
#include <stdexcept>

namespace imlqa {
namespace {

// Python's round(): half to even.
size_t round_half_even(double v) {
  const double floor = std::floor(v);
  const double rest = v - floor;
  if (rest > 0.5) return static_cast<size_t>(floor) + 1;
  if (rest < 0.5) return static_cast<size_t>(floor);
  return static_cast<size_t>(floor) + (std::fmod(floor, 2.0) == 0.0 ? 0 : 1);
}

// Consecutive slices of `items` with the given sizes, one per subset.
void cut(const std::vector<std::string>& items, const SubsetFractions& fractions,
         const std::vector<size_t>& sizes, std::map<std::string, std::vector<std::string>>& out) {
  size_t begin = 0;
  for (size_t i = 0; i < fractions.size(); ++i) {
    const auto first = items.begin() + static_cast<std::ptrdiff_t>(begin);
    out[fractions[i].first].assign(first, first + static_cast<std::ptrdiff_t>(sizes[i]));
    begin += sizes[i];
  }
}

}  // namespace

std::vector<size_t> subset_sizes(const SubsetFractions& fractions, size_t n) {
  std::vector<size_t> sizes;
  size_t total = 0;
  for (const auto& [name, frac] : fractions) {
    if (!(frac >= 0)) throw std::invalid_argument("fraction of '" + name + "' is negative");
    sizes.push_back(round_half_even(static_cast<double>(n) * frac));
    total += sizes.back();
  }
  if (n == 0) return std::vector<size_t>(fractions.size(), 0);
  // Subsets with a positive fraction, alphabetically last first, absorb the remainder.
  std::vector<size_t> takers;
  for (size_t i = 0; i < fractions.size(); ++i)
    if (fractions[i].second > 0) takers.push_back(i);
  if (takers.empty()) throw std::invalid_argument("fractions: no subset has a positive fraction");
  std::sort(takers.begin(), takers.end(),
            [&](size_t a, size_t b) { return fractions[a].first > fractions[b].first; });
  if (total < n) sizes[takers.front()] += n - total;
  size_t surplus = total > n ? total - n : 0;
  for (size_t i : takers) {
    const size_t take = std::min(surplus, sizes[i]);
    sizes[i] -= take;
    surplus -= take;
  }
  return sizes;
}

std::map<std::string, std::vector<std::string>> split_two_level(std::vector<std::string> names,
                                                                const SubsetFractions& stage1,
                                                                const SubsetFractions& stage2,
                                                                Rng& stage1_rng,
                                                                Rng& stage2_rng) {
  // The pooled Stage-2 slice is cut last; its name sorts after every subset name, as the
  // reference's 'stage2_combined' does, so it takes the rounding remainder when it is non-empty.
  const std::string pool_key = "stage2_combined";
  double pool_fraction = 0;
  for (const auto& [name, frac] : stage2) pool_fraction += frac;
  SubsetFractions first_cut = stage1;
  first_cut.emplace_back(pool_key, pool_fraction);

  std::sort(names.begin(), names.end());
  stage1_rng.shuffle(names);
  std::map<std::string, std::vector<std::string>> out;
  cut(names, first_cut, subset_sizes(first_cut, names.size()), out);

  std::vector<std::string> pool = std::move(out[pool_key]);
  out.erase(pool_key);
  std::sort(pool.begin(), pool.end());
  stage2_rng.shuffle(pool);
  SubsetFractions relative = stage2;
  for (auto& [name, frac] : relative) frac = pool_fraction > 0 ? frac / pool_fraction : 0.0;
  if (pool.empty())
    for (const auto& [name, frac] : stage2) out[name];
  else
    cut(pool, relative, subset_sizes(relative, pool.size()), out);
  return out;
}

std::vector<size_t> derangement(size_t n, Rng& rng) {
  if (n == 1) throw std::invalid_argument("derangement: a single item cannot be deranged");
  std::vector<size_t> perm(n);
  auto has_fixed_point = [&] {
    for (size_t i = 0; i < n; ++i)
      if (perm[i] == i) return true;
    return false;
  };
  do {
    for (size_t i = 0; i < n; ++i) perm[i] = i;
    rng.shuffle(perm);
  } while (has_fixed_point());
  return perm;
}

std::vector<std::string> draw_aliases(size_t n, size_t length, const std::string& format,
                                      const std::set<std::string>& reserved, Rng& rng) {
  const auto slot = format.find("{}");
  if (slot == std::string::npos)
    throw std::invalid_argument("alias format '" + format + "' has no {}");
  const std::string before = format.substr(0, slot), after = format.substr(slot + 2);
  // Enough distinct strings? 26^length, saturating; reserved ones may take some of them.
  double available = std::pow(26.0, static_cast<double>(length));
  for (const auto& r : reserved)
    if (r.size() == before.size() + length + after.size()) available -= 1;
  if (length == 0 || static_cast<double>(n) > available)
    throw std::invalid_argument("alias_length " + std::to_string(length) + " gives fewer than " +
                                std::to_string(n) + " distinct aliases");
  std::vector<std::string> aliases;
  aliases.reserve(n);
  std::set<std::string> seen(reserved);
  while (aliases.size() < n) {
    std::string letters(length, 'a');
    for (auto& c : letters) c = static_cast<char>('a' + rng.below(26));
    std::string alias = before + letters + after;
    if (seen.insert(alias).second) aliases.push_back(std::move(alias));
  }
  return aliases;
}

}  // namespace imlqa
