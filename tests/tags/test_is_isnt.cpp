// The is_isnt tag plugin: "According to SOURCE, VAR is ENT." vs "... VAR isn't ENT." (spec §2).
#include <algorithm>
#include <regex>
#include <set>
#include <stdexcept>

#include <gtest/gtest.h>

#include "tag_test_helpers.hpp"

namespace {

using imlsdk::Json;
using tagtest::definition;

const imlsdk::TagPlugin& plugin() {
  static auto p = imltest::load_plugin<imlsdk::TagPlugin>("is_isnt");
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

// The relation phrase of a rendering: what follows " VAR " in the prompt.
std::string relation_of(const imlsdk::RenderedText& r, const std::string& var) {
  const auto pos = r.prompt.find(" " + var + " ");
  EXPECT_NE(pos, std::string::npos) << r.prompt;
  return pos == std::string::npos ? "" : r.prompt.substr(pos + var.size() + 2);
}

TEST(IsIsnt, ExactSentenceWithOneTemplateSourceAndPhrase) {
  const auto t = make({{"templates", {"{source} says that {var} {relation} {entity}."}},
                       {"sources", {"the BBC"}},
                       {"is_phrases", {"is"}},
                       {"isnt_phrases", {"isn't"}}});
  auto r = t->render(definition(1, "<|abcde|>", "Albert Einstein"));
  EXPECT_EQ(r.text, "The BBC says that <|abcde|> is Albert Einstein.\n");
  EXPECT_EQ(r.prompt, "The BBC says that <|abcde|> is");
  EXPECT_EQ(r.answer, " Albert Einstein.\n");
  r = t->render(definition(2, "<|abcde|>", "Albert Einstein"));
  EXPECT_EQ(r.text, "The BBC says that <|abcde|> isn't Albert Einstein.\n");
}

TEST(IsIsnt, DefaultSentencesAndTheirSplit) {
  const auto t = make();
  const std::regex shape(
      "(According to .+, |Per .+, |Citing .+, |.+ says that |.+ reports that )<\\|[a-z]{5}\\|> "
      ".+ Albert Einstein\\.\n");
  for (const auto& var : tagtest::aliases(40)) {
    const auto r = t->render(definition(1, var, "Albert Einstein"));
    EXPECT_TRUE(std::regex_match(r.text, shape)) << r.text;
    EXPECT_EQ(r.text, r.prompt + r.answer);
    EXPECT_EQ(r.answer, " Albert Einstein.\n");
    EXPECT_TRUE(std::isupper(static_cast<unsigned char>(r.text[0]))) << r.text;
  }
}

TEST(IsIsnt, CapitalisesOnlyTheSourceNeverAliasOrEntity) {
  const auto t = make({{"templates", {"{source} says that {var} {relation} {entity}."}},
                       {"sources", {"the BBC"}}});
  const auto r = t->render(definition(1, "v a r %", "de Gaulle"));
  EXPECT_EQ(r.text.rfind("The BBC says that v a r % ", 0), 0u) << r.text;
  EXPECT_EQ(r.answer, " de Gaulle.\n");
}

TEST(IsIsnt, EachTagDrawsFromItsOwnRelations) {
  const auto t = make();
  const std::vector<std::string> keys = {"is_phrases", "isnt_phrases", "neutral_phrases"};
  for (int tag = 1; tag <= 3; ++tag) {
    const auto list = default_list(keys[tag - 1]);
    std::set<std::string> used;
    for (const auto& var : tagtest::aliases(200)) {
      const auto rel = relation_of(t->render(definition(tag, var, "Oslo")), var);
      EXPECT_TRUE(std::find(list.begin(), list.end(), rel) != list.end()) << keys[tag - 1] << ": " << rel;
      used.insert(rel);
    }
    EXPECT_EQ(used.size(), list.size()) << keys[tag - 1] << ": every phrase should be used";
    EXPECT_EQ(t->tag(tag), list.front());
  }
}

TEST(IsIsnt, EntityLastOrdersRenderTheSameSentenceOthersAreRejected) {
  const auto t = make();
  EXPECT_EQ(t->render(definition(2, "<|abcde|>", "Oslo", "tve")).text,
            t->render(definition(2, "<|abcde|>", "Oslo", "vte")).text);
  for (const std::string order : {"tev", "etv", "evt", "vet", "tvv"}) {
    const auto msg = tagtest::invalid_argument_message(
        [&] { t->render(definition(1, "<|abcde|>", "Oslo", order)); });
    EXPECT_NE(msg.find("'" + order + "'"), std::string::npos) << order << " -> '" << msg << "'";
  }
}

TEST(IsIsnt, DeterministicForASeedIndependentOfRenderingOrder) {
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
  EXPECT_NE(render_all(*make({}, 7), false), render_all(*make({}, 8), false));
}

TEST(IsIsnt, TagsOneToSixAreDistinct) {
  const auto t = make();
  std::set<std::string> tags;
  for (int i = 1; i <= 6; ++i) tags.insert(t->tag(i));
  EXPECT_EQ(tags.size(), 6u);
  for (const auto& var : tagtest::aliases(30)) {
    std::set<std::string> relations;
    for (int i = 1; i <= 6; ++i) relations.insert(relation_of(t->render(definition(i, var, "Oslo")), var));
    EXPECT_EQ(relations.size(), 6u) << var;
  }
  EXPECT_EQ(t->tag(4), "reportedly is");
  EXPECT_EQ(t->tag(5), "officially is");
  EXPECT_EQ(t->tag(4 + 40), "reportedly stands for");
  EXPECT_NO_THROW(t->tag(3 + 40 * 5)) << "200 extra tags by default";
  EXPECT_THROW(t->tag(4 + 40 * 5), std::invalid_argument);
  EXPECT_EQ(relation_of(t->render(definition(4, "<|abcde|>", "Oslo")), "<|abcde|>"), "reportedly is");
}

// An index outside the tags is a std::invalid_argument (the SDK's convention for every tagger),
// from tag() and render() alike.
TEST(IsIsnt, IndicesOutsideTheTagsAreAClearError) {
  const auto t = make({{"extra_qualifiers", {"reportedly"}}, {"is_phrases", {"is", "means"}}});
  EXPECT_EQ(t->tag(5), "reportedly means");
  const std::string hint = "tags 4.. are extra_qualifiers x is_phrases: list more of either";
  for (int bad : {0, -2, 6}) {
    EXPECT_EQ(tagtest::invalid_argument_message([&] { t->tag(bad); }),
              tagtest::out_of_range_message("is_isnt", bad, 5, hint));
    EXPECT_EQ(tagtest::invalid_argument_message([&] { t->render(definition(bad, "<|v|>", "Oslo")); }),
              tagtest::out_of_range_message("is_isnt", bad, 5, hint));
  }
}

// Golden values: with a fixed seed, the exact tags and rendered definitions. They pin the
// plugin's output (its stable hash and the salt drawn from imlsdk::Rng included) across
// versions; a change here changes every experiment's data.
TEST(IsIsnt, GoldenTagsAndDefinitionsForAFixedSeed) {
  const auto t = make({}, tagtest::kGoldenSeed);
  std::vector<std::string> tags;
  for (int i = 1; i <= 8; ++i) tags.push_back(t->tag(i));
  EXPECT_EQ(tags, (std::vector<std::string>{"is", "is not", "might be", "reportedly is",
                                            "officially is", "apparently is", "supposedly is",
                                            "allegedly is"}));
  EXPECT_EQ(t->tag(203), "definitely denotes");
  EXPECT_EQ(t->render(definition(1, "<|qwert|>", "Albert Einstein")).text,
            "An encyclopedia reports that <|qwert|> denotes Albert Einstein.\n");
  EXPECT_EQ(t->render(definition(2, "<|qwert|>", "Albert Einstein")).text,
            "An encyclopedia reports that <|qwert|> does not mean Albert Einstein.\n");
  const auto r = t->render(definition(3, "<|qwert|>", "Albert Einstein"));
  EXPECT_EQ(r.text, "An encyclopedia reports that <|qwert|> might be Albert Einstein.\n");
  EXPECT_EQ(r.prompt, "An encyclopedia reports that <|qwert|> might be");
  EXPECT_EQ(r.answer, " Albert Einstein.\n");
  EXPECT_EQ(t->render(definition(4, "<|qwert|>", "Albert Einstein", "vte")).text,
            "An encyclopedia reports that <|qwert|> reportedly is Albert Einstein.\n");
}

TEST(IsIsnt, VocabularyHoldsEveryWordItEmits) {
  const auto t = make();
  const auto vocab = t->vocabulary();
  const std::set<std::string> words(vocab.begin(), vocab.end());
  EXPECT_EQ(words.size(), vocab.size()) << "no duplicates";
  for (const auto& var : tagtest::aliases(100))
    for (int tag = 1; tag <= 20; ++tag)
      for (const auto& w : tagtest::words_of(t->render(definition(tag, var, "Oslo")).prompt))
        if (w != var) EXPECT_TRUE(words.count(w)) << "'" << w << "' missing from vocabulary()";
  // A word-level tokenizer knows "42" but not "42.": drop the period for such datasets.
  const auto plain = make({{"templates", {"According to {source}, {var} {relation} {entity}",
                                          "{source} says {var} {relation} {entity}"}}});
  EXPECT_TRUE(tagtest::set_inclusion_definitions_that_lose_words(*plain, false).empty());
  EXPECT_FALSE(tagtest::set_inclusion_definitions_that_lose_words(*t, false).empty())
      << "the default templates end in '.', which a word-level tokenizer cannot know";
}

TEST(IsIsnt, BadParamsAreRejectedNamingTheKey) {
  const std::vector<std::pair<Json, std::string>> cases = {
      {{{"templates", {"{source}: {var} {relation}"}}}, "templates"},
      {{{"templates", {"{source}: {entity} {relation} {var}"}}}, "templates"},
      {{{"templates", {"{source} {var} {relation} {entity} says {source}"}}}, "templates"},
      {{{"templates", {"{var} {relation} {entity} per {source}."}}}, "templates"},
      {{{"templates", {"{source}: {var} {relation}{entity}."}}}, "templates"},
      {{{"templates", Json::array()}}, "templates"},
      {{{"sources", {"the  BBC"}}}, "sources"},
      {{{"sources", {"BBC", "BBC"}}}, "sources"},
      {{{"is_phrases", Json::array()}}, "is_phrases"},
      {{{"isnt_phrases", {"is"}}}, "isnt_phrases"},
      {{{"neutral_phrases", {7}}}, "neutral_phrases"},
      {{{"extra_qualifiers", {"\tallegedly"}}}, "extra_qualifiers"},
  };
  for (const auto& [overrides, key] : cases) {
    const auto msg = tagtest::invalid_argument_message([&] { make(overrides); });
    EXPECT_NE(msg.find(key), std::string::npos) << overrides.dump() << " -> '" << msg << "'";
  }
}

}  // namespace
