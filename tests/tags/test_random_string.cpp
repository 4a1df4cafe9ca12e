// The random_string tag plugin: the paper's random tags (spec §2) or explicit names.
#include <regex>
#include <set>
#include <stdexcept>

#include <gtest/gtest.h>

#include "tag_test_helpers.hpp"

namespace {

using imlsdk::Json;

const imlsdk::TagPlugin& plugin() {
  static auto p = imltest::load_plugin<imlsdk::TagPlugin>("random_string");
  return *p;
}

std::unique_ptr<imlsdk::Tagger> make(const Json& overrides, uint64_t seed = 0) {
  return tagtest::make(plugin(), overrides, seed);
}

std::vector<std::string> tags_of(const imlsdk::Tagger& t, int n) {
  std::vector<std::string> v;
  for (int i = 1; i <= n; ++i) v.push_back(t.tag(i));
  return v;
}

TEST(RandomString, DefaultTagsAreSixLowercaseLettersInBracesAndUnique) {
  const auto t = make(Json::object());
  const auto tags = tags_of(*t, 8);
  const std::regex shape("<\\|[a-z]{6}\\|>");
  for (const auto& tag : tags) EXPECT_TRUE(std::regex_match(tag, shape)) << tag;
  EXPECT_EQ(std::set<std::string>(tags.begin(), tags.end()).size(), 8u);
  EXPECT_EQ(t->vocabulary(), tags);
}

TEST(RandomString, SameRngSameTagsOtherSeedOtherTags) {
  EXPECT_EQ(tags_of(*make(Json::object(), 5), 8), tags_of(*make(Json::object(), 5), 8));
  EXPECT_NE(tags_of(*make(Json::object(), 5), 8), tags_of(*make(Json::object(), 6), 8));
}

TEST(RandomString, DeduplicatesEvenWhenEveryStringIsNeeded) {
  const auto t = make({{"length", 1}, {"count", 26}, {"format", "{}"}});
  const auto tags = tags_of(*t, 26);
  EXPECT_EQ(std::set<std::string>(tags.begin(), tags.end()).size(), 26u);
}

TEST(RandomString, FormatAndLength) {
  const auto t = make({{"length", 4}, {"format", "[tag_{}]"}});
  EXPECT_TRUE(std::regex_match(t->tag(1), std::regex("\\[tag_[a-z]{4}\\]"))) << t->tag(1);
}

// An index outside 1..count is a std::invalid_argument (the SDK's convention for every tagger),
// from tag() and render() alike.
TEST(RandomString, IndexOutsideOneToCountIsAClearError) {
  const auto t = make({{"count", 3}});
  EXPECT_NO_THROW(t->tag(3));
  const std::string hint = "raise `count` or list more `names`";
  for (int bad : {0, -1, 4}) {
    EXPECT_EQ(tagtest::invalid_argument_message([&] { t->tag(bad); }),
              tagtest::out_of_range_message("random_string", bad, 3, hint));
    EXPECT_EQ(tagtest::invalid_argument_message([&] { t->render({bad, "v", "e", "tve"}); }),
              tagtest::out_of_range_message("random_string", bad, 3, hint));
  }
}

TEST(RandomString, NamesOverrideRandomTags) {
  const auto t = make({{"names", {"define1", "define2", "define3"}}});
  EXPECT_EQ(tags_of(*t, 3), (std::vector<std::string>{"define1", "define2", "define3"}));
  EXPECT_EQ(t->vocabulary().size(), 3u);
  EXPECT_THROW(t->tag(4), std::invalid_argument);
}

// Golden values: with a fixed seed, the exact tags and a rendered definition. They pin the
// plugin's output (the draw order of imlsdk::Rng included) across versions; a change here
// changes every experiment's data.
TEST(RandomString, GoldenTagsAndDefinitionForAFixedSeed) {
  const auto t = make(Json::object(), tagtest::kGoldenSeed);
  EXPECT_EQ(tags_of(*t, 8), (std::vector<std::string>{"<|quwrtg|>", "<|vpucfk|>", "<|wtndxd|>",
                                                      "<|mswsoq|>", "<|faldyp|>", "<|onyfum|>",
                                                      "<|ufoelm|>", "<|wkkrhi|>"}));
  const auto r = t->render({2, "<|qwert|>", "Albert Einstein", "tve"});
  EXPECT_EQ(r.text, "<|vpucfk|> <|qwert|> Albert Einstein\n");
  EXPECT_EQ(r.prompt, "<|vpucfk|> <|qwert|>");
  EXPECT_EQ(r.answer, " Albert Einstein\n");
}

TEST(RandomString, RendersTagVariableEntityInTheGivenOrder) {
  const auto t = make({{"names", {"define1", "define2"}}});
  imlsdk::Definition d{2, "v a r %", "42", "tve"};
  auto r = t->render(d);
  EXPECT_EQ(r.text, "define2 v a r % 42\n");
  EXPECT_EQ(r.prompt, "define2 v a r %");
  EXPECT_EQ(r.answer, " 42\n");
  d.order = "vte";
  EXPECT_EQ(t->render(d).text, "v a r % define2 42\n");
}

TEST(RandomString, BadParamsAreRejectedNamingTheKey) {
  const std::vector<std::pair<Json, std::string>> cases = {
      {{{"length", 0}}, "length"},
      {{{"count", 0}}, "count"},
      {{{"length", 1}, {"count", 27}}, "count"},
      {{{"format", "<||>"}}, "format"},
      {{{"format", "{}{}"}}, "format"},
      {{{"names", {"a", "a"}}}, "names"},
      {{{"names", {"two words"}}}, "names"},
      {{{"names", {""}}}, "names"},
  };
  for (const auto& [overrides, key] : cases) {
    const auto msg = tagtest::invalid_argument_message([&] { make(overrides); });
    EXPECT_NE(msg.find(key), std::string::npos) << overrides.dump() << " -> '" << msg << "'";
  }
}

}  // namespace
