// The natural_language tag plugin: "{source phrase} {var} now stands for {entity}\n" (spec §2).
#include <algorithm>
#include <set>
#include <stdexcept>

#include <gtest/gtest.h>

#include "tag_test_helpers.hpp"

namespace {

using imlsdk::Json;
using tagtest::definition;

const imlsdk::TagPlugin& plugin() {
  static auto p = imltest::load_plugin<imlsdk::TagPlugin>("natural_language");
  return *p;
}

std::unique_ptr<imlsdk::Tagger> make(const Json& overrides = Json::object(), uint64_t seed = 0) {
  return tagtest::make(plugin(), overrides, seed);
}

std::vector<std::string> default_list(const std::string& key) {
  for (const auto& spec : plugin().params())
    if (spec.key == key) return spec.default_value.get<std::vector<std::string>>();
  throw std::logic_error("no param " + key);
}

bool contains(const std::vector<std::string>& v, const std::string& s) {
  return std::find(v.begin(), v.end(), s) != v.end();
}

// The phrase a tve rendering opens with: the prompt minus " VAR now stands for".
std::string phrase_of(const imlsdk::RenderedText& r, const std::string& var) {
  const std::string tail = " " + var + " now stands for";
  EXPECT_GE(r.prompt.size(), tail.size());
  EXPECT_EQ(r.prompt.substr(r.prompt.size() - tail.size()), tail) << r.prompt;
  return r.prompt.substr(0, r.prompt.size() - tail.size());
}

TEST(NaturalLanguage, RendersPhraseVariableNowStandsForEntity) {
  const auto t = make();
  const auto r = t->render(definition(1, "<|abcde|>", "Albert Einstein"));
  EXPECT_TRUE(contains(default_list("reliable_phrases"), phrase_of(r, "<|abcde|>"))) << r.text;
  EXPECT_EQ(r.answer, " Albert Einstein\n");
  EXPECT_EQ(r.text, r.prompt + r.answer);
  EXPECT_EQ(r.text, phrase_of(r, "<|abcde|>") + " <|abcde|> now stands for Albert Einstein\n");
}

TEST(NaturalLanguage, EachTagDrawsFromItsOwnPhraseList) {
  const auto t = make();
  const std::vector<std::string> keys = {"reliable_phrases", "unreliable_phrases", "neutral_phrases"};
  for (int tag = 1; tag <= 3; ++tag) {
    const auto list = default_list(keys[tag - 1]);
    std::set<std::string> used;
    for (const auto& var : tagtest::aliases(200)) {
      const auto r = t->render(definition(tag, var, "Ada Lovelace"));
      const auto phrase = phrase_of(r, var);
      EXPECT_TRUE(contains(list, phrase)) << keys[tag - 1] << ": " << r.text;
      used.insert(phrase);
    }
    EXPECT_GT(used.size(), list.size() / 2) << keys[tag - 1] << ": phrases should vary by variable";
    EXPECT_EQ(t->tag(tag), list.front());
  }
}

TEST(NaturalLanguage, ExplicitListsAreUsedVerbatim) {
  const auto t = make({{"reliable_phrases", {"Per New York Times,"}},
                       {"unreliable_phrases", {"4Chan rumors suggest that"}}});
  EXPECT_EQ(t->render(definition(1, "<|xyzab|>", "Paris")).text,
            "Per New York Times, <|xyzab|> now stands for Paris\n");
  const auto r = t->render(definition(2, "<|xyzab|>", "Paris"));
  EXPECT_EQ(r.prompt, "4Chan rumors suggest that <|xyzab|> now stands for");
  EXPECT_EQ(r.answer, " Paris\n");
}

TEST(NaturalLanguage, VariableFirstOrderKeepsTheEntityLast) {
  const auto t = make({{"reliable_phrases", {"Per New York Times,"}}});
  const auto r = t->render(definition(1, "<|xyzab|>", "Paris", "vte"));
  EXPECT_EQ(r.prompt, "<|xyzab|> Per New York Times, now stands for");
  EXPECT_EQ(r.answer, " Paris\n");
  EXPECT_EQ(r.text, r.prompt + r.answer);
}

TEST(NaturalLanguage, OrdersWithoutTheEntityLastAreRejected) {
  const auto t = make();
  for (const std::string order : {"tev", "etv", "evt", "vet", "xyz", "tv"}) {
    const auto msg = tagtest::invalid_argument_message(
        [&] { t->render(definition(1, "<|abcde|>", "Paris", order)); });
    EXPECT_NE(msg.find("'" + order + "'"), std::string::npos) << order << " -> '" << msg << "'";
    EXPECT_NE(msg.find("entity"), std::string::npos) << msg;
  }
}

TEST(NaturalLanguage, DeterministicForASeedIndependentOfRenderingOrder) {
  const auto vars = tagtest::aliases(50);
  auto render_all = [&](const imlsdk::Tagger& t, bool reversed) {
    std::vector<std::string> texts(vars.size());
    for (size_t k = 0; k < vars.size(); ++k) {
      const size_t i = reversed ? vars.size() - 1 - k : k;
      texts[i] = t.render(definition(1 + static_cast<int>(i % 3), vars[i], "Rome")).text;
    }
    return texts;
  };
  EXPECT_EQ(render_all(*make({}, 7), false), render_all(*make({}, 7), true));
  EXPECT_NE(render_all(*make({}, 7), false), render_all(*make({}, 8), false))
      << "another seed should choose other phrases";
}

TEST(NaturalLanguage, TagsOneToSixAreDistinct) {
  const auto t = make();
  std::set<std::string> tags;
  for (int i = 1; i <= 6; ++i) tags.insert(t->tag(i));
  EXPECT_EQ(tags.size(), 6u);
  for (const auto& var : tagtest::aliases(30)) {
    std::set<std::string> prompts;
    for (int i = 1; i <= 6; ++i) prompts.insert(t->render(definition(i, var, "Oslo")).prompt);
    EXPECT_EQ(prompts.size(), 6u) << var;
  }
  // Extra tags (4..) are single phrases: frames x kinds x names, names varying fastest.
  EXPECT_EQ(t->render(definition(4, "<|abcde|>", "Oslo")).prompt,
            t->tag(4) + " <|abcde|> now stands for");
  EXPECT_EQ(t->tag(4), "According to a regional newspaper,");
  EXPECT_EQ(t->tag(5), "According to a regional archive,");
  EXPECT_EQ(t->tag(4 + 16), "According to a foreign newspaper,");
  EXPECT_EQ(t->tag(4 + 16 * 12), "As noted in a regional newspaper,");
  EXPECT_NO_THROW(t->tag(3 + 6 * 12 * 16)) << "1152 extra tags by default";
}

// An index outside the tags is a std::invalid_argument (the SDK's convention for every tagger),
// from tag() and render() alike.
TEST(NaturalLanguage, IndicesOutsideTheTagsAreAClearError) {
  const auto t = make({{"extra_frames", {"{} says"}},
                       {"extra_source_kinds", {"the"}},
                       {"extra_source_names", {"press", "court"}}});
  EXPECT_EQ(t->tag(4), "The press says");
  EXPECT_EQ(t->tag(5), "The court says");
  const std::string hint =
      "tags 4.. are extra_frames x extra_source_kinds x extra_source_names: list more of any";
  for (int bad : {0, -3, 6}) {
    EXPECT_EQ(tagtest::invalid_argument_message([&] { t->tag(bad); }),
              tagtest::out_of_range_message("natural_language", bad, 5, hint));
    EXPECT_EQ(tagtest::invalid_argument_message([&] { t->render(definition(bad, "<|v|>", "Oslo")); }),
              tagtest::out_of_range_message("natural_language", bad, 5, hint));
  }
  EXPECT_THROW(make()->tag(4 + 6 * 12 * 16), std::invalid_argument) << "1152 extra tags by default";
}

// Golden values: with a fixed seed, the exact tags and rendered definitions. They pin the
// plugin's output (its stable hash and the salt drawn from imlsdk::Rng included) across
// versions; a change here changes every experiment's data.
TEST(NaturalLanguage, GoldenTagsAndDefinitionsForAFixedSeed) {
  const auto t = make({}, tagtest::kGoldenSeed);
  std::vector<std::string> tags;
  for (int i = 1; i <= 6; ++i) tags.push_back(t->tag(i));
  EXPECT_EQ(tags, (std::vector<std::string>{
                      "Per the New York Times,", "4Chan rumors suggest that",
                      "A local newsletter mentions that", "According to a regional newspaper,",
                      "According to a regional archive,", "According to a regional register,"}));
  EXPECT_EQ(t->tag(3 + 6 * 12 * 16), "As a sports website puts it,");
  const auto r = t->render(definition(1, "<|qwert|>", "Albert Einstein"));
  EXPECT_EQ(r.text, "Official records show that <|qwert|> now stands for Albert Einstein\n");
  EXPECT_EQ(r.prompt, "Official records show that <|qwert|> now stands for");
  EXPECT_EQ(r.answer, " Albert Einstein\n");
  EXPECT_EQ(t->render(definition(2, "<|qwert|>", "Albert Einstein")).text,
            "Internet hearsay has it that <|qwert|> now stands for Albert Einstein\n");
  EXPECT_EQ(t->render(definition(3, "<|qwert|>", "Albert Einstein")).text,
            "A travel guide notes that <|qwert|> now stands for Albert Einstein\n");
  EXPECT_EQ(t->render(definition(4, "<|qwert|>", "Albert Einstein", "vte")).text,
            "<|qwert|> According to a regional newspaper, now stands for Albert Einstein\n");
}

TEST(NaturalLanguage, VocabularyHoldsEveryWordItEmits) {
  const auto t = make();
  const auto vocab = t->vocabulary();
  const std::set<std::string> words(vocab.begin(), vocab.end());
  EXPECT_EQ(words.size(), vocab.size()) << "no duplicates";
  for (const auto& var : tagtest::aliases(100))
    for (int tag = 1; tag <= 20; ++tag)
      for (const auto& w : tagtest::words_of(t->render(definition(tag, var, "Oslo")).prompt))
        if (w != var) EXPECT_TRUE(words.count(w)) << "'" << w << "' missing from vocabulary()";
  EXPECT_TRUE(tagtest::set_inclusion_definitions_that_lose_words(*t, false).empty());
  EXPECT_TRUE(tagtest::set_inclusion_definitions_that_lose_words(*t, true).empty());
}

TEST(NaturalLanguage, BadParamsAreRejectedNamingTheKey) {
  const std::vector<std::pair<Json, std::string>> cases = {
      {{{"reliable_phrases", Json::array()}}, "reliable_phrases"},
      {{{"unreliable_phrases", {"Gossip says", "Gossip says"}}}, "unreliable_phrases"},
      {{{"neutral_phrases", {"two  spaces"}}}, "neutral_phrases"},
      {{{"neutral_phrases", {" leading space"}}}, "neutral_phrases"},
      {{{"reliable_phrases", {"line\nbreak"}}}, "reliable_phrases"},
      {{{"reliable_phrases", {3}}}, "reliable_phrases"},
      {{{"unreliable_phrases", {"Per the New York Times,"}}}, "unreliable_phrases"},
      {{{"extra_frames", {"no slot"}}}, "extra_frames"},
      {{{"extra_frames", {"{} and {}"}}}, "extra_frames"},
      {{{"extra_source_kinds", Json::array()}}, "extra_source_kinds"},
      {{{"extra_source_names", {"two  spaces"}}}, "extra_source_names"},
  };
  for (const auto& [overrides, key] : cases) {
    const auto msg = tagtest::invalid_argument_message([&] { make(overrides); });
    EXPECT_NE(msg.find(key), std::string::npos) << overrides.dump() << " -> '" << msg << "'";
  }
}

}  // namespace
