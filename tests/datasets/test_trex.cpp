// The trex dataset (paper A.2, Table 2; spec §6): the per-value rules, the readers on fixture
// files (malformed ones included), the extraction counts, and the plugin on the embedded sample
// through the shared text-QA protocol.
#include <algorithm>
#include <cstdlib>
#include <filesystem>
#include <fstream>
#include <map>
#include <set>
#include <stdexcept>
#include <string>
#include <thread>
#include <vector>

#include <gtest/gtest.h>

#include "imlsdk/data.hpp"
#include "scratch.hpp"
#include "test_plugins.hpp"
#include "trex_extract.hpp"
#include "trex_read.hpp"
#include "trex_rules.hpp"
#include "trex_templates.hpp"
#include "triple_store.hpp"

namespace {

namespace fs = std::filesystem;
using imlsdk::DataSplit;
using imlsdk::Example;
using imlsdk::Json;

const std::string kFixtures = std::string(IMLTEST_SOURCE_DIR) + "/tests/fixtures/trex";
const std::string kSampleDir = std::string(IMLTEST_SOURCE_DIR) + "/data/trex";
const std::string kSample = kSampleDir + "/trex_sample.json";

// ---- helpers --------------------------------------------------------------------------------

struct Extracted {
  std::vector<trex::Work> works;
  trex::Counts counts;
  size_t read = 0, duplicates = 0;
};

Extracted extract(const std::vector<std::string>& files) {
  trex::TripleStore store;
  for (const auto& f : files) trex::read_triples(f, trex::Format::Auto, store);
  Extracted x;
  x.works = trex::collect_works(store, x.counts);
  x.read = store.read();
  x.duplicates = store.duplicates();
  return x;
}

std::vector<imlqa::Entity> select(const Extracted& x, trex::Selection s, uint64_t seed,
                                   trex::Counts* counts = nullptr) {
  trex::Counts c = x.counts;
  imlsdk::Rng rng(seed);
  auto entities = trex::select_entities(x.works, s, rng, c);
  if (counts) *counts = c;
  return entities;
}

const imlqa::QAPair* find_qa(const imlqa::Entity& e, const std::string& relation) {
  for (const auto& qa : e.qa)
    if (qa.relation == relation) return &qa;
  return nullptr;
}

// The message of the std::runtime_error `f` throws ("" if none).
template <typename F>
std::string runtime_error_of(F f) {
  try {
    f();
  } catch (const std::runtime_error& e) {
    return e.what();
  }
  return "";
}

std::string read_error(const std::string& file) {
  return runtime_error_of([&] {
    trex::TripleStore store;
    trex::read_triples(file, trex::Format::Auto, store);
  });
}

using imltest::TempDir;

// ---- per-value rules ------------------------------------------------------------------------

TEST(TrexRules, StripParenthesesRemovesEveryBalancedGroup) {
  EXPECT_EQ(trex::strip_parentheses("Solaris (1972 film)"), "Solaris");
  EXPECT_EQ(trex::strip_parentheses("It (novel)"), "It");
  // The reference's greedy \(.*\) would leave "A" here.
  EXPECT_EQ(trex::strip_parentheses("A (x) B (y)"), "A B");
  EXPECT_EQ(trex::strip_parentheses("Nested (a (b) c) tail"), "Nested tail");
  EXPECT_EQ(trex::strip_parentheses("  Spaced   out (x) "), "Spaced out");
  EXPECT_EQ(trex::strip_parentheses("Unbalanced (open"), "Unbalanced (open");
  EXPECT_EQ(trex::strip_parentheses("(film)"), "");
}

TEST(TrexRules, PronounsAnyCaseOnly) {
  for (const char* p : {"he", "She", "IT", "they", "him", "Her", "them"}) EXPECT_TRUE(trex::is_pronoun(p)) << p;
  for (const char* w : {"Item", "Them!", "It (novel)", "Hero", ""}) EXPECT_FALSE(trex::is_pronoun(w)) << w;
}

TEST(TrexRules, PublicationYearIsTheFirstFourDigitRun) {
  EXPECT_EQ(trex::publication_year("21 September 1937"), 1937);
  EXPECT_EQ(trex::publication_year("1985-09-13T00:00:00Z"), 1985);
  EXPECT_EQ(trex::publication_year("+1949-06-08T00:00:00Z"), 1949);
  EXPECT_EQ(trex::publication_year("c. 1503"), 1503);
  EXPECT_EQ(trex::publication_year("-0044-03-15"), -44);
  EXPECT_EQ(trex::publication_year("1200 BC"), -1200);
  EXPECT_EQ(trex::publication_year("between 1200 and 1250 BCE"), -1200);
  EXPECT_FALSE(trex::publication_year("unknown").has_value());
  EXPECT_FALSE(trex::publication_year("44 BC").has_value());
  EXPECT_FALSE(trex::publication_year("12345").has_value());
  EXPECT_FALSE(trex::publication_year("").has_value());
}

TEST(TrexRules, FirstNames) {
  const std::map<std::string, std::string> expected = {
      {"Stanley Kubrick", "Stanley"},
      {"J. R. R. Tolkien", "J. R. R."},  // the reference gives "J."
      {"H.G. Wells", "H.G."},
      {"F. Scott Fitzgerald", "F."},
      {"Francis Ford Coppola", "Francis"},
      {"Jean-Luc Godard", "Jean-Luc"},
      {"Sir Ridley Scott", "Ridley"},
      {"Pope Julius II", "Julius"},
      {"Robert Downey Jr.", "Robert"},
      {"Robert John \"Mutt\" Lange", "Robert"},
      {"  Ann   Lee ", "Ann"},
  };
  for (const auto& [full, first] : expected) {
    const auto got = trex::first_name(full);
    ASSERT_TRUE(got.has_value()) << full;
    EXPECT_EQ(*got, first) << full;
  }
  // Mononyms, groups (the reference gives "The"), lower-case particles, initials alone.
  for (const char* none : {"Madonna", "Vangelis", "The Dust Brothers", "A Band Name", "de la Cruz",
                           "J. R. R.", "2Pac Shakur", "", "Sir"})
    EXPECT_FALSE(trex::first_name(none).has_value()) << none;
}

TEST(TrexRules, Table2HasTheTwentySixPredicatesOfThePaper) {
  const auto& t = trex::table2();
  EXPECT_EQ(t.size(), 26u);
  std::set<std::string> predicates;
  for (const auto& p : t) {
    predicates.insert(p.predicate);
    EXPECT_NE(p.question.find("{}"), std::string::npos) << p.predicate;
    EXPECT_EQ(p.asks_first_name, p.question.rfind("First name of", 0) == 0) << p.predicate;
  }
  EXPECT_EQ(predicates.size(), 26u);
  // The reference leaves the film editor out of its first-name set although it asks for one.
  ASSERT_NE(trex::find_table2("P1040"), nullptr);
  EXPECT_TRUE(trex::find_table2("P1040")->asks_first_name);
  EXPECT_EQ(trex::find_table2("P407")->question, trex::find_table2("P364")->question);
  EXPECT_EQ(trex::find_table2("P577")->question, "When was {} published or released?");
  EXPECT_EQ(trex::find_table2("P31"), nullptr);
}

TEST(TrexRules, ReferencePredicatesAreTable2AndP31) {
  EXPECT_EQ(trex::parse_predicate_set("paper"), trex::PredicateSet::Paper);
  EXPECT_EQ(trex::parse_predicate_set("reference"), trex::PredicateSet::Reference);
  try {
    trex::parse_predicate_set("Paper");
    ADD_FAILURE() << "accepted 'Paper'";
  } catch (const std::invalid_argument& e) {
    const std::string m = e.what();
    for (const char* part : {"predicates", "'paper'", "'reference'", "'Paper'"})
      EXPECT_NE(m.find(part), std::string::npos) << m;
  }
  const auto& paper = trex::predicate_templates(trex::PredicateSet::Paper);
  const auto& reference = trex::predicate_templates(trex::PredicateSet::Reference);
  EXPECT_EQ(&paper, &trex::table2());
  ASSERT_EQ(reference.size(), paper.size() + 1);
  for (size_t i = 0; i < paper.size(); ++i) EXPECT_EQ(reference[i].predicate, paper[i].predicate);
  const auto* type = trex::find_template("P31", trex::PredicateSet::Reference);
  ASSERT_NE(type, nullptr);
  EXPECT_EQ(type->question, "What is the type of {}?");
  EXPECT_FALSE(type->asks_first_name);
  EXPECT_EQ(trex::find_template("P31", trex::PredicateSet::Paper), nullptr);
}

TEST(TrexRead, PredicateIds) {
  EXPECT_EQ(trex::predicate_id("P50"), "P50");
  EXPECT_EQ(trex::predicate_id("http://www.wikidata.org/prop/direct/P577"), "P577");
  EXPECT_EQ(trex::predicate_id("http://www.wikidata.org/entity/P17c"), "P17");  // early T-REx
  EXPECT_EQ(trex::predicate_id("Q5"), "");
  EXPECT_EQ(trex::predicate_id("P"), "");
  EXPECT_EQ(trex::predicate_id("P07"), "");
  EXPECT_EQ(trex::predicate_id("http://example.org/author"), "");
  EXPECT_EQ(trex::predicate_id("P50X"), "");
}

TEST(TrexRead, TripleStoreDeduplicatesInFirstSeenOrder) {
  trex::TripleStore store;
  store.add({"B", "", "P50", "x"});
  store.add({"A", "", "P50", "y"});
  store.add({"B", "", "P50", "x"});        // duplicate
  store.add({"B", "q:other", "P50", "x"});  // another work with the same surface form
  store.add({"A", "", "P50", "y"});        // duplicate
  EXPECT_EQ(store.read(), 5u);
  EXPECT_EQ(store.duplicates(), 2u);
  ASSERT_EQ(store.triples().size(), 3u);
  EXPECT_EQ(store.text(store.triples()[0].subject), "B");
  EXPECT_EQ(store.text(store.triples()[1].subject), "A");
  EXPECT_EQ(store.text(store.triples()[2].subject_uri), "q:other");
}

// ---- extraction on rules.tsv (every rule once; see the comments in the file) --------------------

TEST(TrexExtract, EveryRuleDropsAndCounts) {
  const auto x = extract({kFixtures + "/rules.tsv"});
  EXPECT_EQ(x.read, 44u);
  EXPECT_EQ(x.duplicates, 1u);
  const Json expected_drops = {{"subject_seen_once", 1},
                               {"pronoun", 3},
                               {"empty_after_stripping", 0},
                               {"predicate_not_in_table_2", 1},
                               {"p577_without_year", 1},
                               {"no_first_name", 1},
                               {"answer_repeats_other_question", 1},
                               {"duplicate_value", 2}};
  EXPECT_EQ(x.counts.triples, expected_drops) << x.counts.triples.dump();

  std::vector<std::string> names;
  for (const auto& w : x.works) names.push_back(w.surface_form);
  const std::vector<std::string> first_seen = {"Alpha (novel)", "Beta",  "Gamma", "Delta (film)",
                                               "Delta (novel)", "Echo",  "Echo",  "Short"};
  EXPECT_EQ(names, first_seen);

  trex::Counts counts;
  const auto entities = select(x, {4, 0, 6900}, 1, &counts);
  const Json expected_work_drops = {
      {"too_few_questions", 1}, {"ambiguous_name", 2}, {"not_selected", 0}};
  EXPECT_EQ(counts.entities, expected_work_drops) << counts.entities.dump();
  ASSERT_EQ(entities.size(), 5u);

  // "(novel)" stripped: no other work is called Alpha.
  const auto& alpha = entities[0];
  EXPECT_EQ(alpha.name, "Alpha");
  ASSERT_EQ(alpha.qa.size(), 4u);  // P50, P577, P407, P136 in first-seen order
  EXPECT_EQ(alpha.qa[0].question_template, "First name of the author of {}?");
  EXPECT_EQ(alpha.qa[0].answer, "Jane");
  EXPECT_EQ(alpha.qa[0].relation, "P50");
  EXPECT_EQ(alpha.qa[1].answer, "19 century");  // 1812
  EXPECT_EQ(alpha.qa[2].answer, "English");
  EXPECT_EQ(alpha.qa[3].answer, "mystery;thriller");  // first-seen order, joined by ';'

  const auto& beta = entities[1];
  EXPECT_EQ(beta.name, "Beta");
  ASSERT_EQ(beta.qa.size(), 4u);
  EXPECT_EQ(find_qa(beta, "P57")->answer, "J. R. R.");
  EXPECT_EQ(find_qa(beta, "P577")->answer, "1 century BC");  // -0044
  EXPECT_EQ(find_qa(beta, "P364")->answer, "French");        // P407 "French" merged into it
  EXPECT_EQ(find_qa(beta, "P364")->question_template, "In which language was {} published?");
  EXPECT_EQ(find_qa(beta, "P161")->answer, "Tom");  // Hanks and Cruise: one "Tom"
  EXPECT_EQ(find_qa(beta, "P58"), nullptr);         // the director again
  EXPECT_EQ(find_qa(beta, "P86"), nullptr);         // Vangelis

  const auto& gamma = entities[2];
  ASSERT_EQ(gamma.qa.size(), 5u);  // questions_per_entity 0: all
  EXPECT_EQ(find_qa(gamma, "P577")->answer, "1920s");  // "unknown" dropped
  EXPECT_EQ(find_qa(gamma, "P50")->answer, "Arthur");
  EXPECT_EQ(find_qa(gamma, "P1040")->answer, "Ann");
  EXPECT_EQ(find_qa(gamma, "P1040")->question_template, "First name of the editor of {}?");

  // Two works called Delta keep their qualifiers; the two Echos cannot be named apart.
  EXPECT_EQ(entities[3].name, "Delta (film)");
  EXPECT_EQ(entities[4].name, "Delta (novel)");
  EXPECT_EQ(find_qa(entities[4], "P577")->answer, "1990s");
  EXPECT_EQ(find_qa(entities[3], "P577")->answer, "2004");
}

TEST(TrexExtract, SelectionKeepsMinPredicatesAndDrawsQuestionsAndWorks) {
  const auto x = extract({kFixtures + "/rules.tsv"});
  trex::Counts counts;
  auto five = select(x, {5, 0, 6900}, 1, &counts);
  ASSERT_EQ(five.size(), 1u);
  EXPECT_EQ(five[0].name, "Gamma");
  EXPECT_EQ(counts.entities["too_few_questions"], 7);  // Echo twice, before naming

  // Four of Gamma's five questions, drawn by the seed, kept in first-seen order.
  const auto a = select(x, {4, 4, 6900}, 7, &counts);
  EXPECT_EQ(counts.questions_not_selected, 1u);
  for (const auto& e : a) EXPECT_EQ(e.qa.size(), 4u) << e.name;
  const auto b = select(x, {4, 4, 6900}, 7);
  ASSERT_EQ(a.size(), b.size());
  for (size_t i = 0; i < a.size(); ++i)
    for (size_t k = 0; k < a[i].qa.size(); ++k) EXPECT_EQ(a[i].qa[k].answer, b[i].qa[k].answer);
  std::set<std::string> dropped_question;
  for (uint64_t seed = 0; seed < 40; ++seed) {
    const auto gamma = select(x, {4, 4, 6900}, seed)[2];
    ASSERT_EQ(gamma.name, "Gamma");
    std::set<std::string> kept;
    for (const auto& qa : gamma.qa) kept.insert(qa.relation);
    for (const char* r : {"P577", "P50", "P136", "P123", "P1040"})
      if (!kept.count(r)) dropped_question.insert(r);
  }
  EXPECT_GT(dropped_question.size(), 1u) << "the draw should vary with the seed";

  // n_entities: a seeded draw of works, in first-seen order.
  const auto two = select(x, {4, 4, 2}, 3, &counts);
  ASSERT_EQ(two.size(), 2u);
  EXPECT_EQ(counts.entities["not_selected"], 3);
  const std::vector<std::string> order = {"Alpha", "Beta", "Gamma", "Delta (film)", "Delta (novel)"};
  const auto pos = [&](const std::string& n) { return std::find(order.begin(), order.end(), n) - order.begin(); };
  EXPECT_LT(pos(two[0].name), pos(two[1].name));
  const auto again = select(x, {4, 4, 2}, 3);
  EXPECT_EQ(again[0].name, two[0].name);
  EXPECT_EQ(again[1].name, two[1].name);
}

TEST(TrexExtract, ExtractionIsIdenticalRunToRun) {
  const auto a = extract({kFixtures + "/rules.tsv", kFixtures + "/mini_dump.json"});
  const auto b = extract({kFixtures + "/rules.tsv", kFixtures + "/mini_dump.json"});
  ASSERT_EQ(a.works.size(), b.works.size());
  for (size_t i = 0; i < a.works.size(); ++i) {
    EXPECT_EQ(a.works[i].name, b.works[i].name);
    ASSERT_EQ(a.works[i].questions.size(), b.works[i].questions.size());
    for (size_t k = 0; k < a.works[i].questions.size(); ++k)
      EXPECT_EQ(a.works[i].questions[k].values, b.works[i].questions[k].values);
  }
  EXPECT_EQ(a.counts.triples, b.counts.triples);
}

// ---- readers ------------------------------------------------------------------------------

TEST(TrexRead, DumpJsonlAndTsvGiveTheSameWorks) {
  const auto dump = select(extract({kFixtures + "/mini_dump.json"}), {4, 0, 6900}, 0);
  const auto jsonl = select(extract({kFixtures + "/mini.jsonl"}), {4, 0, 6900}, 0);
  const auto tsv = select(extract({kFixtures + "/mini.tsv"}), {4, 0, 6900}, 0);
  ASSERT_EQ(dump.size(), 2u);
  for (const auto* other : {&jsonl, &tsv}) {
    ASSERT_EQ(other->size(), dump.size());
    for (size_t i = 0; i < dump.size(); ++i) {
      EXPECT_EQ((*other)[i].name, dump[i].name);
      ASSERT_EQ((*other)[i].qa.size(), dump[i].qa.size());
      for (size_t k = 0; k < dump[i].qa.size(); ++k) {
        EXPECT_EQ((*other)[i].qa[k].question_template, dump[i].qa[k].question_template);
        EXPECT_EQ((*other)[i].qa[k].answer, dump[i].qa[k].answer);
      }
    }
  }
  EXPECT_EQ(dump[0].name, "Kilo");
  EXPECT_EQ(find_qa(dump[0], "P577")->answer, "1930s");
  EXPECT_EQ(find_qa(dump[0], "P179")->answer, "Kilo Saga");
  EXPECT_EQ(find_qa(dump[1], "P57")->answer, "Marta");  // ".../entity/P57c"
  EXPECT_EQ(find_qa(dump[1], "P161")->answer, "Pedro;Ana");
  EXPECT_EQ(find_qa(dump[1], "P577")->answer, "1980s");
}

TEST(TrexRead, MalformedFilesNameTheFileAndTheRecordOrLine) {
  const std::string m = kFixtures + "/malformed/";
  const std::vector<std::pair<std::string, std::vector<std::string>>> cases = {
      {"broken_syntax.json", {"broken_syntax.json: invalid JSON", "line 6"}},
      {"missing_surfaceform.json",
       {"missing_surfaceform.json: record 2 (docid d2): triple 1: object.surfaceform"}},
      {"bad_predicate.json",
       {"bad_predicate.json: record 1 (docid d1): triple 2: predicate.uri 'http://example.org/author'"}},
      {"not_a_list.json", {"not_a_list.json: expected a JSON list"}},
      {"no_triples.json", {"no_triples.json: record 1 (docid d1): no \"triples\" list"}},
      {"wrong_fields.tsv", {"wrong_fields.tsv:3: expected 3 or 4 tab-separated fields", "found 2"}},
      {"bad_predicate.tsv", {"bad_predicate.tsv:2: predicate 'author'"}},
      {"broken.jsonl", {"broken.jsonl:2: invalid JSON"}},
      {"missing_object.jsonl", {"missing_object.jsonl:1: no \"object\""}},
  };
  for (const auto& [file, parts] : cases) {
    const std::string message = read_error(m + file);
    ASSERT_FALSE(message.empty()) << file << " was accepted";
    for (const auto& part : parts) EXPECT_NE(message.find(part), std::string::npos) << message;
  }
}

TEST(TrexRead, InvalidUtf8IsAnErrorWhateverTheLocale) {
  TempDir dir;
  const auto tsv = dir.write("latin1.tsv", "Alpha\tP50\tJane Roe\nCaf\xE9\tP50\tJane Roe\n");
  EXPECT_NE(read_error(tsv).find("latin1.tsv:2: not valid UTF-8"), std::string::npos)
      << read_error(tsv);
  const auto json = dir.write(
      "latin1.json",
      "[{\"triples\": [{\"subject\": {\"surfaceform\": \"Caf\xE9\"}, \"predicate\": {\"uri\": "
      "\"P50\"}, \"object\": {\"surfaceform\": \"B\"}}]}]");
  const std::string message = read_error(json);
  EXPECT_NE(message.find("latin1.json: invalid JSON"), std::string::npos) << message;
  EXPECT_NE(message.find("UTF-8"), std::string::npos) << message;
  // Valid UTF-8 (and a BOM) reads fine.
  const auto ok = dir.write("ok.tsv", "\xEF\xBB\xBFStanis\xC5\x82\x61w\tP50\tJane Roe\n");
  trex::TripleStore store;
  trex::read_triples(ok, trex::Format::Auto, store);
  ASSERT_EQ(store.triples().size(), 1u);
  EXPECT_EQ(store.text(store.triples()[0].subject), "Stanis\xC5\x82\x61w");
}

TEST(TrexRead, UnknownExtensionNeedsAFormat) {
  TempDir dir;
  const auto txt = dir.write("facts.txt", "Alpha\tP50\tJane Roe\n");
  EXPECT_NE(read_error(txt).find("facts.txt: unknown extension"), std::string::npos);
  trex::TripleStore store;
  trex::read_triples(txt, trex::Format::TripletsTsv, store);
  EXPECT_EQ(store.triples().size(), 1u);
  EXPECT_THROW(trex::parse_format("csv"), std::invalid_argument);
}

TEST(TrexRead, FoldersAreReadInNameOrderAndPathsAreRelativeToTheConfig) {
  const auto files = trex::resolve_inputs({"."}, kFixtures);
  std::vector<std::string> names;
  for (const auto& f : files) names.push_back(fs::path(f).filename().string());
  const std::vector<std::string> expected = {"mini.jsonl", "mini.tsv", "mini_dump.json", "rules.tsv"};
  EXPECT_EQ(names, expected);  // not malformed/ (not recursive), no other extensions

  const auto one = trex::resolve_inputs({"../trex/rules.tsv"}, kFixtures);
  ASSERT_EQ(one.size(), 1u);
  EXPECT_TRUE(fs::equivalent(one[0], kFixtures + "/rules.tsv"));

  const std::string message =
      runtime_error_of([&] { trex::resolve_inputs({"no_such_file.json"}, kFixtures); });
  EXPECT_NE(message.find("no_such_file.json"), std::string::npos) << message;
  const std::string empty =
      runtime_error_of([&] { trex::resolve_inputs({std::string(IMLTEST_SOURCE_DIR) + "/docs"}, ""); });
  EXPECT_NE(empty.find("holds no .json/.jsonl/.tsv file"), std::string::npos) << empty;
}

// ---- the plugin ---------------------------------------------------------------------------

const imlsdk::DatasetPlugin& trex_plugin() {
  static auto p = imltest::load_plugin<imlsdk::DatasetPlugin>("trex");
  return *p;
}
const imlsdk::TagPlugin& tag_plugin() {
  static auto p = imltest::load_plugin<imlsdk::TagPlugin>("random_string");
  return *p;
}

std::unique_ptr<imlsdk::Dataset> load(const Json& overrides, const std::string& base_dir) {
  imlsdk::LoadContext ctx;
  ctx.base_dir = base_dir;
  return trex_plugin().load(imltest::with_defaults(trex_plugin(), overrides), ctx);
}

// One seed's split, with that seed's random_string tagger (as the host makes one per run).
DataSplit split(const imlsdk::Dataset& data, uint64_t seed = 0, uint64_t seed_stage2 = 0) {
  imlsdk::Rng rng(seed);
  const auto tagger = tag_plugin().create(imltest::with_defaults(tag_plugin()), rng);
  imlsdk::SplitContext ctx;
  ctx.seed = seed;
  ctx.seed_stage2 = seed_stage2;
  ctx.tagger = tagger.get();
  return data.split(ctx);
}

// Load and split in one go.
DataSplit generate(const Json& overrides, const std::string& base_dir, uint64_t seed = 0,
                   uint64_t seed_stage2 = 0) {
  return split(*load(overrides, base_dir), seed, seed_stage2);
}

#define SKIP_WITHOUT_SAMPLE()                                                          \
  if (!fs::exists(kSample)) GTEST_SKIP() << "embedded sample " << kSample << " is absent"

TEST(TrexPlugin, DeclaresItsKeysAndTheProtocolKeys) {
  std::set<std::string> keys;
  for (const auto& spec : trex_plugin().params()) EXPECT_TRUE(keys.insert(spec.key).second) << spec.key;
  for (const char* k : {"path", "paths", "format", "n_entities", "min_predicates",
                        "questions_per_entity", "fractions", "test_questions_per_entity",
                        "knowledge_stage"})
    EXPECT_TRUE(keys.count(k)) << k;
}

TEST(TrexPlugin, EmbeddedSampleHasAtLeast300WorksWithFourQuestionsEach) {
  SKIP_WITHOUT_SAMPLE();
  const auto split_data = generate({{"path", "trex_sample.json"}, {"knowledge_stage", true}}, kSampleDir);
  const Json& info = split_data.info.at("trex");
  EXPECT_GE(info.at("works").get<int64_t>(), 300) << info.dump();
  EXPECT_EQ(info.at("questions").get<int64_t>(), 4 * info.at("works").get<int64_t>());

  // The knowledge stage asks every question about every work by its real name.
  std::map<std::string, int> per_work;
  for (const auto& e : split_data.train.at("knowledge")) ++per_work[e.entity];
  EXPECT_EQ(per_work.size(), info.at("works").get<size_t>());
  for (const auto& [work, n] : per_work) EXPECT_EQ(n, 4) << work;
  EXPECT_TRUE(per_work.count("Dune (novel)"));
  EXPECT_TRUE(per_work.count("Dune (2021 film)"));
  EXPECT_TRUE(per_work.count("Titanic"));
  EXPECT_FALSE(per_work.count("It"));
  EXPECT_FALSE(per_work.count("Crash"));

  // The records the sample holds for the rules are counted, not silently lost.
  const Json& dropped = info.at("triples_dropped");
  for (const char* rule : {"subject_seen_once", "pronoun", "predicate_not_in_table_2",
                           "p577_without_year", "no_first_name", "answer_repeats_other_question"})
    EXPECT_GT(dropped.at(rule).get<int64_t>(), 0) << rule << ": " << dropped.dump();
  EXPECT_GT(info.at("duplicate_triples").get<int64_t>(), 0);
  EXPECT_GT(info.at("works_dropped").at("ambiguous_name").get<int64_t>(), 0);
  EXPECT_GT(info.at("works_dropped").at("too_few_questions").get<int64_t>(), 0);
}

TEST(TrexPlugin, BundleHoldsTheProtocolSubsetsAboutTheExtractedWorks) {
  SKIP_WITHOUT_SAMPLE();
  const auto split_data = generate({{"path", "trex_sample.json"}}, kSampleDir);
  for (const char* train : {"full", "stage1", "stage2", "stage1_only_defns", "stage1_only_qa",
                            "all_defns"}) {
    ASSERT_TRUE(split_data.train.count(train)) << train;
    EXPECT_FALSE(split_data.train.at(train).empty()) << train;
  }
  std::map<std::string, const std::vector<Example>*> evals;
  for (const auto& e : split_data.evals) evals[e.name] = &e.examples;
  for (const char* subset : {"q_no_replacement_baseline", "qd1consis", "qd2incons", "q",
                             "d1consis", "d2consis", "d3consis", "no_qd_baseline", "d2incons",
                             "train_questions_qd1consis", "train_defs_qd1consis"})
    EXPECT_TRUE(evals.count(subset)) << subset;

  // d1consis: definitions only in training, so all four questions of each work are test.
  std::map<std::string, int> per_work;
  for (const auto& e : *evals.at("d1consis")) {
    ++per_work[e.entity];
    EXPECT_EQ(e.kind, "qa");
    EXPECT_EQ(e.prompt.rfind("Q: ", 0), 0u) << e.prompt;
  }
  EXPECT_FALSE(per_work.empty());
  for (const auto& [work, n] : per_work) EXPECT_EQ(n, 4) << work;
  // Subsets with training QA hold one of the four questions out (test_questions_per_entity 1).
  per_work.clear();
  for (const auto& e : *evals.at("qd1consis")) ++per_work[e.entity];
  for (const auto& [work, n] : per_work) EXPECT_EQ(n, 1) << work;
  EXPECT_TRUE(split_data.tokenizer != nullptr);
}

TEST(TrexPlugin, SameSeedsSameBundle) {
  SKIP_WITHOUT_SAMPLE();
  const auto a = generate({{"path", "trex_sample.json"}}, kSampleDir, 3, 1);
  const auto b = generate({{"path", "trex_sample.json"}}, kSampleDir, 3, 1);
  EXPECT_EQ(a.info.dump(), b.info.dump());
  ASSERT_EQ(a.evals.size(), b.evals.size());
  for (size_t i = 0; i < a.evals.size(); ++i) {
    ASSERT_EQ(a.evals[i].examples.size(), b.evals[i].examples.size()) << a.evals[i].name;
    for (size_t k = 0; k < a.evals[i].examples.size(); ++k)
      EXPECT_EQ(a.evals[i].examples[k].text, b.evals[i].examples[k].text);
  }
  for (const auto& [name, examples] : a.train) {
    ASSERT_EQ(examples.size(), b.train.at(name).size()) << name;
    for (size_t k = 0; k < examples.size(); ++k) EXPECT_EQ(examples[k].text, b.train.at(name)[k].text);
  }
}

// FNV-1a over every field of every example and the info.
std::string digest(const DataSplit& b) {
  uint64_t h = 0xcbf29ce484222325ULL;
  const auto add = [&](const std::string& s) {
    for (unsigned char c : s) h = (h ^ c) * 0x100000001b3ULL;
    h = (h ^ 0xFF) * 0x100000001b3ULL;
  };
  const auto add_examples = [&](const std::vector<Example>& v) {
    for (const auto& e : v)
      for (const auto* f : {&e.text, &e.prompt, &e.answer, &e.subset, &e.entity, &e.variable, &e.kind})
        add(*f);
  };
  for (const auto& [name, examples] : b.train) add(name), add_examples(examples);
  for (const auto& e : b.evals) add(e.name), add_examples(e.examples);
  add(b.info.dump());
  return std::to_string(h);
}

// The reference's order depends on Python's per-process string hashing (spec §8); here a child
// process generates the same split byte for byte.
TEST(TrexPlugin, SameBundleInAnotherProcess) {
  SKIP_WITHOUT_SAMPLE();
  const std::string d = digest(generate({{"path", "trex_sample.json"}}, kSampleDir, 5, 2));
  if (const char* out = std::getenv("IMLTEST_TREX_DIGEST_OUT")) {
    std::ofstream(out) << d;
    return;
  }
  TempDir dir;
  const std::string file = (dir.path / "digest").string();
  const std::string self = fs::read_symlink("/proc/self/exe").string();
  const std::string command = "IMLTEST_TREX_DIGEST_OUT='" + file + "' '" + self +
                              "' --gtest_filter=TrexPlugin.SameBundleInAnotherProcess >/dev/null 2>&1";
  ASSERT_EQ(std::system(command.c_str()), 0) << command;
  std::string child;
  std::ifstream(file) >> child;
  EXPECT_EQ(child, d);
}

TEST(TrexPlugin, FewerWorksAndAFolderOfInputs) {
  SKIP_WITHOUT_SAMPLE();
  // The whole data folder (the README and the script are not inputs), 100 works drawn.
  const auto split_data = generate({{"path", "."}, {"n_entities", 100}}, kSampleDir);
  const Json& info = split_data.info.at("trex");
  EXPECT_EQ(info.at("works").get<int64_t>(), 100);
  EXPECT_EQ(info.at("files").size(), 1u);
  EXPECT_GT(info.at("works_dropped").at("not_selected").get<int64_t>(), 200);
}

TEST(TrexPlugin, PathAndPathsAreReadTogether) {
  SKIP_WITHOUT_SAMPLE();
  const auto split_data = generate(
      {{"path", "../../../data/trex/trex_sample.json"}, {"paths", {"mini.tsv", "mini_dump.json"}}},
      kFixtures);
  const Json& info = split_data.info.at("trex");
  EXPECT_EQ(info.at("files").size(), 3u);
  EXPECT_GE(info.at("duplicate_triples").get<int64_t>(), 11);  // mini_dump repeats mini.tsv
}

// predicates: paper (default) asks Table 2 only; reference also asks each work's type (P31), as
// the reference code does, which gives works with three Table-2 questions a fourth.
TEST(TrexPlugin, ReferencePredicatesAlsoAskForTheType) {
  SKIP_WITHOUT_SAMPLE();
  const Json paper_params = {{"path", "trex_sample.json"}, {"knowledge_stage", true}};
  Json reference_params = paper_params;
  reference_params["predicates"] = "reference";
  const auto paper = generate(paper_params, kSampleDir);
  const auto reference = generate(reference_params, kSampleDir);
  Json explicit_paper = paper_params;
  explicit_paper["predicates"] = "paper";  // the default
  EXPECT_EQ(digest(paper), digest(generate(explicit_paper, kSampleDir)));

  const auto type_questions = [](const DataSplit& b) {
    size_t n = 0;
    for (const auto& e : b.train.at("knowledge")) n += e.prompt.find("Q: What is the type of ") == 0;
    return n;
  };
  const auto works_of = [](const DataSplit& b) {
    std::set<std::string> works;
    for (const auto& e : b.train.at("knowledge")) works.insert(e.entity);
    return works;
  };
  EXPECT_EQ(type_questions(paper), 0u);
  EXPECT_GT(type_questions(reference), 0u);
  const Json& p = paper.info.at("trex");
  const Json& r = reference.info.at("trex");
  EXPECT_GT(r.at("works").get<int64_t>(), p.at("works").get<int64_t>());
  EXPECT_EQ(works_of(reference).size(), r.at("works").get<size_t>());
  // Beowulf has three Table-2 questions once its date is dropped; its type makes a fourth.
  EXPECT_FALSE(works_of(paper).count("Beowulf"));
  EXPECT_TRUE(works_of(reference).count("Beowulf"));
  // Every sample work states its P31, which only the paper's set drops.
  EXPECT_GT(p.at("triples_dropped").at("predicate_not_in_table_2").get<int64_t>(),
            r.at("triples_dropped").at("predicate_not_in_table_2").get<int64_t>() + 300);

  // All questions kept: Nineteen Eighty-Four's type is asked, answered "novel".
  reference_params["questions_per_entity"] = 0;
  const auto all = generate(reference_params, kSampleDir);
  size_t asked = 0;
  for (const auto& e : all.train.at("knowledge"))
    if (e.prompt == "Q: What is the type of Nineteen Eighty-Four?\nA:") {
      EXPECT_EQ(e.answer, " novel\n");
      ++asked;
    }
  EXPECT_EQ(asked, 1u);
  EXPECT_EQ(load(reference_params, kSampleDir)->info().at("predicates"), "reference");
}

// load() reads and extracts once: splitting one loaded Dataset for several seeds gives what
// splitting a freshly loaded one gives, in any order, from several threads at once.
TEST(TrexPlugin, OneLoadSplitsLikeFreshLoads) {
  SKIP_WITHOUT_SAMPLE();
  const Json params = {{"path", "trex_sample.json"}, {"n_entities", 300}};
  const auto data = load(params, kSampleDir);
  const std::vector<std::pair<uint64_t, uint64_t>> seeds = {{0, 0}, {1, 0}, {1, 3}, {7, 2}};
  std::vector<std::string> once;
  for (const auto& [s1, s2] : seeds) once.push_back(digest(split(*data, s1, s2)));
  for (size_t i = 0; i < seeds.size(); ++i)
    EXPECT_EQ(digest(generate(params, kSampleDir, seeds[i].first, seeds[i].second)), once[i]) << i;
  for (size_t i = seeds.size(); i-- > 0;)
    EXPECT_EQ(digest(split(*data, seeds[i].first, seeds[i].second)), once[i]) << i;
  std::vector<std::string> threaded(seeds.size());
  std::vector<std::thread> threads;
  for (size_t i = 0; i < seeds.size(); ++i)
    threads.emplace_back([&, i] { threaded[i] = digest(split(*data, seeds[i].first, seeds[i].second)); });
  for (auto& t : threads) t.join();
  EXPECT_EQ(threaded, once);
  EXPECT_NE(once[0], once[1]);  // another Stage-1 seed draws other works
  EXPECT_NE(once[1], once[2]);  // seed_stage2 re-draws Stage 2
  // info() holds what load() found; each split adds its draw's counts.
  const Json info = data->info();
  const Json first = split(*data).info.at("trex");
  for (const char* key : {"files", "triples_read", "duplicate_triples", "triples_dropped",
                          "works_with_questions"})
    EXPECT_EQ(info.at(key), first.at(key)) << key;
  EXPECT_EQ(info.at("works_eligible").get<int64_t>() - 300,
            first.at("works_dropped").at("not_selected").get<int64_t>());
}

TEST(TrexPlugin, ConfigErrorsNameTheKeyOrTheFile) {
  // Bad values and files fail at load(), before any split.
  const auto invalid = [](const Json& overrides) -> std::string {
    try {
      load(overrides, kFixtures);
    } catch (const std::invalid_argument& e) {
      return e.what();
    }
    return "";
  };
  EXPECT_NE(invalid(Json::object()).find("set path"), std::string::npos);
  EXPECT_NE(invalid({{"path", "mini.tsv"}, {"min_predicates", 0}}).find("min_predicates"),
            std::string::npos);
  EXPECT_NE(invalid({{"path", "mini.tsv"}, {"questions_per_entity", -1}}).find("questions_per_entity"),
            std::string::npos);
  EXPECT_NE(invalid({{"path", "mini.tsv"}, {"n_entities", 0}}).find("n_entities"), std::string::npos);
  EXPECT_NE(invalid({{"path", "mini.tsv"}, {"format", "xml"}}).find("format"), std::string::npos);
  const std::string predicates = invalid({{"path", "mini.tsv"}, {"predicates", "all"}});
  for (const char* part : {"predicates", "'paper'", "'reference'", "'all'"})
    EXPECT_NE(predicates.find(part), std::string::npos) << predicates;
  EXPECT_NE(invalid({{"path", "mini.tsv"}, {"min_predicates", 27}}).find("min_predicates"),
            std::string::npos);

  const std::string missing =
      runtime_error_of([] { load({{"path", "absent.json"}}, kFixtures); });
  EXPECT_NE(missing.find("absent.json"), std::string::npos) << missing;
  const std::string broken =
      runtime_error_of([] { load({{"path", "malformed/missing_object.jsonl"}}, kFixtures); });
  EXPECT_NE(broken.find("missing_object.jsonl:1"), std::string::npos) << broken;
  const std::string none = runtime_error_of(
      [] { load({{"path", "mini.tsv"}, {"min_predicates", 26}}, kFixtures); });
  EXPECT_NE(none.find("no work has 26"), std::string::npos) << none;
}

}  // namespace
