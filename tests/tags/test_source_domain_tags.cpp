// The out-of-tree example tag plugin (examples/source_domain_tags), built here as well so that
// its rendering is checked with every build. Its module goes to its own folder (not the build
// tree's plugins/ nor the install prefix): the out-of-tree test must load the copy built there.
#include <set>
#include <stdexcept>

#include <boost/dll/shared_library.hpp>
#include <gtest/gtest.h>

#include "tag_test_helpers.hpp"

#ifndef EXAMPLE_PLUGIN_DIR
#error "EXAMPLE_PLUGIN_DIR must be defined by the build"
#endif

namespace {

using imlsdk::Json;
using tagtest::definition;

const imlsdk::TagPlugin& plugin() {
  static const auto lib = std::make_shared<boost::dll::shared_library>(
      std::string(EXAMPLE_PLUGIN_DIR) + "/imlplugin_source_domain_tags.so",
      boost::dll::load_mode::rtld_lazy | boost::dll::load_mode::rtld_local);
  static const auto* entry = lib->get<const imlsdk_entry_v1*()>(IMLSDK_ENTRY_SYMBOL)();
  static const auto* p = dynamic_cast<imlsdk::TagPlugin*>(static_cast<imlsdk::Plugin*>(entry->create()));
  if (!p) throw std::runtime_error("source_domain_tags is not a tag plugin");
  return *p;  // lives as long as the test process
}

std::unique_ptr<imlsdk::Tagger> make(const Json& overrides = Json::object(), uint64_t seed = 0) {
  return tagtest::make(plugin(), overrides, seed);
}

TEST(SourceDomainTags, EntryDescribesTheExample) {
  const auto lib = boost::dll::shared_library(
      std::string(EXAMPLE_PLUGIN_DIR) + "/imlplugin_source_domain_tags.so",
      boost::dll::load_mode::rtld_lazy | boost::dll::load_mode::rtld_local);
  const auto* e = lib.get<const imlsdk_entry_v1*()>(IMLSDK_ENTRY_SYMBOL)();
  EXPECT_STREQ(e->name, "source_domain_tags");
  EXPECT_EQ(e->kind, static_cast<uint32_t>(imlsdk::Kind::Tag));
  EXPECT_STREQ(e->torch_version, "") << "a tag plugin needs no LibTorch";
}

TEST(SourceDomainTags, RendersSourceDomainVariableEntity) {
  const auto t = make();
  auto r = t->render(definition(1, "<|abcde|>", "Albert Einstein"));
  EXPECT_EQ(r.text, "wikipedia.org: <|abcde|> Albert Einstein\n");
  EXPECT_EQ(r.prompt, "wikipedia.org: <|abcde|>");
  EXPECT_EQ(r.answer, " Albert Einstein\n");
  EXPECT_EQ(t->render(definition(2, "v a r %", "42")).text, "forum post: v a r % 42\n");
  EXPECT_EQ(t->render(definition(3, "v a r %", "42")).text, "blog comment: v a r % 42\n");
}

TEST(SourceDomainTags, AllSixOrders) {
  const auto t = make();
  const std::vector<std::pair<std::string, std::string>> expected = {
      {"tve", "forum post: <|v|> Oslo\n"}, {"tev", "forum post: Oslo <|v|>\n"},
      {"vte", "<|v|> forum post: Oslo\n"}, {"vet", "<|v|> Oslo forum post:\n"},
      {"etv", "Oslo forum post: <|v|>\n"}, {"evt", "Oslo <|v|> forum post:\n"}};
  for (const auto& [order, text] : expected) {
    const auto r = t->render(definition(2, "<|v|>", "Oslo", order));
    EXPECT_EQ(r.text, text) << order;
    EXPECT_EQ(r.prompt + r.answer, r.text) << order;
  }
  EXPECT_THROW(t->render(definition(1, "<|v|>", "Oslo", "tvx")), std::invalid_argument);
}

TEST(SourceDomainTags, TagsOneToSixDistinctExtrasShuffledPerSeed) {
  const auto t = make();
  std::set<std::string> tags;
  for (int i = 1; i <= 6; ++i) tags.insert(t->tag(i));
  EXPECT_EQ(tags.size(), 6u);
  const std::string hint = "list more sources under `extra`";
  for (int bad : {0, 12}) {  // 3 + 8 extra tags
    EXPECT_EQ(tagtest::invalid_argument_message([&] { t->tag(bad); }),
              tagtest::out_of_range_message("source_domain_tags", bad, 11, hint));
    EXPECT_EQ(tagtest::invalid_argument_message([&] { t->render(definition(bad, "<|v|>", "Oslo")); }),
              tagtest::out_of_range_message("source_domain_tags", bad, 11, hint));
  }
  auto extras = [](const imlsdk::Tagger& x) {
    std::vector<std::string> v;
    for (int i = 4; i <= 11; ++i) v.push_back(x.tag(i));
    return v;
  };
  EXPECT_EQ(extras(*make({}, 1)), extras(*make({}, 1)));
  EXPECT_NE(extras(*make({}, 1)), extras(*make({}, 2)));
  EXPECT_EQ(make({}, 1)->tag(1), make({}, 2)->tag(1)) << "tags 1..3 never change";
}

// Golden values: with a fixed seed, the exact tags (the extras' order is drawn from the rng) and a
// rendered definition, pinned across versions.
TEST(SourceDomainTags, GoldenTagsAndDefinitionForAFixedSeed) {
  const auto t = make({}, tagtest::kGoldenSeed);
  std::vector<std::string> tags;
  for (int i = 1; i <= 11; ++i) tags.push_back(t->tag(i));
  EXPECT_EQ(tags, (std::vector<std::string>{"wikipedia.org:", "forum post:", "blog comment:",
                                            "nature.com:", "arxiv.org:", "bbc.co.uk:",
                                            "reuters.com:", "tabloid headline:", "britannica.com:",
                                            "reddit thread:", "chat log:"}));
  const auto r = t->render(definition(2, "<|qwert|>", "Albert Einstein"));
  EXPECT_EQ(r.text, "forum post: <|qwert|> Albert Einstein\n");
  EXPECT_EQ(r.prompt, "forum post: <|qwert|>");
  EXPECT_EQ(r.answer, " Albert Einstein\n");
}

TEST(SourceDomainTags, VocabularyCoversEveryTagWord) {
  const auto t = make();
  const auto vocab = t->vocabulary();
  const std::set<std::string> words(vocab.begin(), vocab.end());
  for (int i = 1; i <= 11; ++i)
    for (const auto& w : tagtest::words_of(t->tag(i))) EXPECT_TRUE(words.count(w)) << w;
  EXPECT_TRUE(tagtest::set_inclusion_definitions_that_lose_words(*t, true).empty());
}

TEST(SourceDomainTags, BadParamsAreRejectedNamingTheKey) {
  const std::vector<std::pair<Json, std::string>> cases = {
      {{{"reliable", ""}}, "reliable"},
      {{{"unreliable", "forum  post:"}}, "unreliable"},
      {{{"unseen", "wikipedia.org:"}}, "unseen"},
      {{{"extra", {"forum post:"}}}, "extra"},
      {{{"extra", {1}}}, "extra"},
  };
  for (const auto& [overrides, key] : cases) {
    const auto msg = tagtest::invalid_argument_message([&] { make(overrides); });
    EXPECT_NE(msg.find(key), std::string::npos) << overrides.dump() << " -> '" << msg << "'";
  }
}

}  // namespace
