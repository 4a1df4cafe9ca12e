// The random draws of the protocol: slice sizes, the two-level split, derangements, aliases.
#include <gtest/gtest.h>

#include <algorithm>
#include <set>

#include "imlqa/split.hpp"

using imlqa::SubsetFractions;

TEST(SubsetSizes, RoundHalfToEvenLikePython) {
  // round(2.5) == 2, round(3.5) == 4 in Python; the remainder goes to the last name ("c").
  EXPECT_EQ(imlqa::subset_sizes({{"a", 0.5}, {"b", 0.5}}, 5), (std::vector<size_t>{2, 3}));
  EXPECT_EQ(imlqa::subset_sizes({{"a", 0.5}, {"b", 0.25}, {"c", 0.25}}, 14),
            (std::vector<size_t>{7, 4, 3}));  // 7, round(3.5)=4, round(3.5)=4 -> 15, c gives 1
}

TEST(SubsetSizes, RemainderGoesToTheAlphabeticallyLastPositiveSubset) {
  // round(4.9) + 3 * round(0.7) = 8 > 7: the surplus comes off "z", the last name.
  EXPECT_EQ(imlqa::subset_sizes({{"z", 0.7}, {"b", 0.1}, {"a", 0.1}, {"c", 0.1}}, 7),
            (std::vector<size_t>{4, 1, 1, 1}));
  // A zero fraction never receives the remainder.
  EXPECT_EQ(imlqa::subset_sizes({{"a", 0.5}, {"b", 0.5}, {"zz", 0.0}}, 3),
            (std::vector<size_t>{2, 1, 0}));  // 2 + 2 = 4 > 3: the surplus comes off "b"
}

TEST(SubsetSizes, AlwaysSumToN) {
  const SubsetFractions f = {{"q_no_replacement_baseline", 0.1}, {"qd1consis", 0.25},
                             {"qd2incons", 0.25}, {"q", 0.1}, {"stage2_combined", 0.3}};
  for (size_t n = 0; n < 300; ++n) {
    const auto sizes = imlqa::subset_sizes(f, n);
    size_t sum = 0;
    for (size_t s : sizes) sum += s;
    EXPECT_EQ(sum, n) << n;
  }
  EXPECT_THROW(imlqa::subset_sizes({{"a", 0.0}}, 3), std::invalid_argument);
}

TEST(SplitTwoLevel, Stage1SubsetsIgnoreTheStage2Generator) {
  std::vector<std::string> names;
  for (int i = 0; i < 100; ++i) names.push_back("n" + std::to_string(i));
  const SubsetFractions s1 = {{"a", 0.3}, {"b", 0.3}}, s2 = {{"x", 0.2}, {"y", 0.2}};
  imlsdk::Rng r1(1), r2(2), r1b(1), r2b(3);
  const auto one = imlqa::split_two_level(names, s1, s2, r1, r2);
  const auto two = imlqa::split_two_level(names, s1, s2, r1b, r2b);
  EXPECT_EQ(one.at("a"), two.at("a"));
  EXPECT_EQ(one.at("b"), two.at("b"));
  EXPECT_NE(one.at("x"), two.at("x"));
  // The pool is the same set of names, cut differently.
  std::set<std::string> pool1(one.at("x").begin(), one.at("x").end()), pool2(two.at("x").begin(), two.at("x").end());
  pool1.insert(one.at("y").begin(), one.at("y").end());
  pool2.insert(two.at("y").begin(), two.at("y").end());
  EXPECT_EQ(pool1, pool2);
  EXPECT_EQ(one.at("a").size(), 30u);
  EXPECT_EQ(one.at("x").size(), 20u);
  // Input order does not matter (names are sorted first).
  std::vector<std::string> reversed(names.rbegin(), names.rend());
  imlsdk::Rng r1c(1), r2c(2);
  EXPECT_EQ(imlqa::split_two_level(reversed, s1, s2, r1c, r2c), one);
}

TEST(Derangement, NoFixedPointAndAPermutation) {
  imlsdk::Rng rng(5);
  for (size_t n = 2; n < 60; ++n) {
    for (int rep = 0; rep < 5; ++rep) {
      const auto perm = imlqa::derangement(n, rng);
      ASSERT_EQ(perm.size(), n);
      std::vector<size_t> sorted = perm;
      std::sort(sorted.begin(), sorted.end());
      for (size_t i = 0; i < n; ++i) {
        EXPECT_NE(perm[i], i) << "n=" << n;
        EXPECT_EQ(sorted[i], i);
      }
    }
  }
  EXPECT_TRUE(imlqa::derangement(0, rng).empty());
  EXPECT_THROW(imlqa::derangement(1, rng), std::invalid_argument);
}

TEST(Aliases, DistinctFormattedAndAvoidReserved) {
  imlsdk::Rng rng(3);
  // 2 letters: 676 strings; ask for all but the reserved one.
  const auto aliases = imlqa::draw_aliases(675, 2, "<|{}|>", {"<|aa|>"}, rng);
  std::set<std::string> seen(aliases.begin(), aliases.end());
  EXPECT_EQ(seen.size(), 675u);
  EXPECT_EQ(seen.count("<|aa|>"), 0u);
  for (const auto& a : aliases) EXPECT_EQ(a.size(), 6u);
  EXPECT_THROW(imlqa::draw_aliases(676, 2, "<|{}|>", {"<|aa|>"}, rng), std::invalid_argument);
  imlsdk::Rng a(9), b(9);
  EXPECT_EQ(imlqa::draw_aliases(50, 5, "{}", {}, a), imlqa::draw_aliases(50, 5, "{}", {}, b));
}
