// pixel_pattern: the paper's image tags (App. E.1) — a random bit pattern per tag index, fixed by
// the run's rng, distinct across tags, never all black, independent of the order of requests;
// image-only (the text interface refuses with one line).
#include <gtest/gtest.h>

#include <functional>
#include <set>

#include "tag_test_helpers.hpp"

namespace {

std::shared_ptr<imlsdk::TagPlugin> plugin() {
  static auto p = imltest::load_plugin<imlsdk::TagPlugin>("pixel_pattern");
  return p;
}

std::string error_of(const std::function<void()>& f) {
  try {
    f();
  } catch (const std::invalid_argument& e) {
    return e.what();
  }
  return "(no error)";
}

}  // namespace

TEST(PixelPattern, PatternsAreFixedPerSeedDistinctAndNeverBlank) {
  const auto a = tagtest::make(*plugin(), {}, 7), b = tagtest::make(*plugin(), {}, 7), c = tagtest::make(*plugin(), {}, 8);
  std::set<std::vector<uint8_t>> seen;
  for (int i = 1; i <= 50; ++i) {
    const auto p = a->pattern(i, 28);
    ASSERT_EQ(p.size(), 28u);
    EXPECT_EQ(p, b->pattern(i, 28)) << "same seed, same pattern";
    int ones = 0;
    for (uint8_t bit : p) {
      EXPECT_LE(bit, 1);
      ones += bit;
    }
    EXPECT_GT(ones, 0);
    EXPECT_TRUE(seen.insert(p).second) << "tag " << i << " repeats an earlier pattern";
  }
  EXPECT_NE(a->pattern(1, 28), c->pattern(1, 28)) << "another seed, other patterns";
  EXPECT_NE(a->pattern(1, 28), a->pattern(2, 28));
  // Roughly uniform bits: about half of 50 x 28 are set.
  int ones = 0;
  for (const auto& p : seen)
    for (uint8_t bit : p) ones += bit;
  EXPECT_GT(ones, 550);
  EXPECT_LT(ones, 850);
}

TEST(PixelPattern, APatternDoesNotDependOnWhichTagsWereAskedFirst) {
  const auto a = tagtest::make(*plugin(), {}, 3), b = tagtest::make(*plugin(), {}, 3);
  const auto late = b->pattern(5, 12);
  EXPECT_EQ(a->pattern(1, 12), b->pattern(1, 12));
  EXPECT_EQ(a->pattern(5, 12), late);
  // Few bits: every one of the 2^2 - 1 non-blank patterns, then no more.
  std::set<std::vector<uint8_t>> all;
  for (int i = 1; i <= 3; ++i) all.insert(a->pattern(i, 2));
  EXPECT_EQ(all, (std::set<std::vector<uint8_t>>{{0, 1}, {1, 0}, {1, 1}}));
  EXPECT_NE(error_of([&] { a->pattern(4, 2); }).find("tag 4 needs more than the 3 distinct patterns of 2 bits"), std::string::npos);
}

TEST(PixelPattern, TextUseAndBadIndicesAreRefusedWithOneLine) {
  const auto t = tagtest::make(*plugin(), {{"max_tags", 10}}, 1);
  EXPECT_NE(error_of([&] { t->tag(1); }).find("pixel_pattern: image-only tags"), std::string::npos);
  EXPECT_NE(error_of([&] { t->vocabulary(); }).find("image-only"), std::string::npos);
  EXPECT_NE(error_of([&] { t->render(tagtest::definition(1, "a", "b")); }).find("image-only"), std::string::npos);
  EXPECT_NE(error_of([&] { t->pattern(0, 28); }).find("tag index 0 is out of range 1..10 (raise max_tags)"), std::string::npos);
  EXPECT_NE(error_of([&] { t->pattern(11, 28); }).find("out of range 1..10"), std::string::npos);
  EXPECT_NE(error_of([&] { t->pattern(1, 1); }).find("2..4096 bits"), std::string::npos);
  EXPECT_NE(error_of([&] { tagtest::make(*plugin(), {{"max_tags", 2}}); }).find("max_tags must be in [3, 100000000]"), std::string::npos);
}
