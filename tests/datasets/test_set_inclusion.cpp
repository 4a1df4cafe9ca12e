// The set_inclusion dataset plugin (paper App. D, spec §6) with the random_string tags.
#include <algorithm>
#include <cstdlib>
#include <fstream>
#include <map>
#include <regex>
#include <set>
#include <sstream>
#include <stdexcept>
#include <thread>

#include <gtest/gtest.h>

#include "set_inclusion_harness.hpp"

namespace {

using imlsdk::DataSplit;
using imlsdk::Example;
using imlsdk::Json;
using set_inclusion_test::generate;

const std::vector<std::string> kAllSubsets = {"qd1consis", "qd2incons", "q",
                                              "d1consis",  "d2consis",  "d3consis"};

Json all_subsets_fractions() {
  return {{"qd1consis", 0.3}, {"qd2incons", 0.3}, {"q", 0.1},
          {"d1consis", 0.1},  {"d2consis", 0.1},  {"d3consis", 0.1}};
}

const std::vector<Example>& eval_set(const DataSplit& b, const std::string& name) {
  for (const auto& e : b.evals)
    if (e.name == name) return e.examples;
  throw std::runtime_error("no eval set " + name);
}

std::vector<std::string> eval_names(const DataSplit& b) {
  std::vector<std::string> names;
  for (const auto& e : b.evals) names.push_back(e.name);
  return names;
}

std::vector<std::string> words(const std::string& s) {
  std::istringstream in(s);
  std::vector<std::string> out;
  for (std::string w; in >> w;) out.push_back(w);
  return out;
}

std::string join_words(const std::string& s) {
  std::string out;
  for (const auto& w : words(s)) out += (out.empty() ? "" : " ") + w;
  return out;
}

// The numbers of a question "v a r % 1 2 3 4 =".
std::vector<int> numbers_of(const Example& qa) {
  const auto w = words(qa.prompt);
  const auto pct = std::find(w.begin(), w.end(), "%");
  std::vector<int> nums;
  for (auto it = pct + 1; it != w.end() && *it != "="; ++it) nums.push_back(std::stoi(*it));
  return nums;
}

// The number a definition "TAG v a r % 42" states.
int defined_number(const Example& def) { return std::stoi(words(def.text).back()); }

bool same_examples(const std::vector<Example>& a, const std::vector<Example>& b) {
  if (a.size() != b.size()) return false;
  for (size_t i = 0; i < a.size(); ++i)
    if (a[i].text != b[i].text || a[i].prompt != b[i].prompt || a[i].answer != b[i].answer ||
        a[i].subset != b[i].subset || a[i].entity != b[i].entity ||
        a[i].variable != b[i].variable || a[i].kind != b[i].kind)
      return false;
  return true;
}

template <typename F>
std::string invalid_argument_message(F f) {
  try {
    f();
  } catch (const std::invalid_argument& e) {
    return e.what();
  }
  return "";
}

// ---- parameters and sizes -----------------------------------------------------------------

TEST(SetInclusion, DeclaresTheReferenceDefaults) {
  const auto d = imltest::with_defaults(set_inclusion_test::dataset_plugin());
  EXPECT_EQ(d.at("num_x"), 500);
  EXPECT_EQ(d.at("n_nums_in_question"), 4);
  EXPECT_EQ(d.at("n_intersection"), 2);
  EXPECT_EQ(d.at("n_qs_per_x"), 24);
  EXPECT_DOUBLE_EQ(d.at("p_label_flip").get<double>(), 0.1);
  EXPECT_EQ(d.at("var_length"), 3);
  EXPECT_EQ(d.at("max_x"), 99);
  EXPECT_EQ(d.at("one_token_per_variable"), false);
  EXPECT_EQ(d.at("definition_order"), "tve");
  EXPECT_DOUBLE_EQ(d.at("fractions").at("qd1consis").get<double>(), 0.4);
  EXPECT_DOUBLE_EQ(d.at("fractions").at("d2consis").get<double>(), 0.1);
}

TEST(SetInclusion, DefaultSubsetAndSetSizes) {
  const auto b = generate(Json::object());
  const auto& vars = b.info.at("variables");
  EXPECT_EQ(vars.at("qd1consis"), 200);
  EXPECT_EQ(vars.at("qd2incons"), 200);
  EXPECT_EQ(vars.at("q"), 0);
  EXPECT_EQ(vars.at("d1consis"), 50);
  EXPECT_EQ(vars.at("d2consis"), 50);
  EXPECT_EQ(vars.at("d3consis"), 0);

  EXPECT_EQ(b.train.at("stage1").size(), 400u * 12 + 400);  // 12 train QA + 1 definition each
  EXPECT_EQ(b.train.at("stage2").size(), 100u);
  EXPECT_EQ(b.train.at("full").size(), 400u * 12 + 500);
  EXPECT_EQ(eval_names(b), (std::vector<std::string>{
                               "qd1consis", "qd2incons", "d1consis", "d2consis",
                               "train_questions_qd1consis", "train_questions_qd2incons",
                               "train_defs_qd1consis", "train_defs_qd2incons",
                               "train_defs_d1consis", "train_defs_d2consis"}));
  EXPECT_EQ(eval_set(b, "qd1consis").size(), 200u * 12);
  EXPECT_EQ(eval_set(b, "d2consis").size(), 50u * 12);
  EXPECT_EQ(eval_set(b, "train_questions_qd2incons").size(), 200u * 12);
  EXPECT_EQ(eval_set(b, "train_defs_d1consis").size(), 50u);
  EXPECT_EQ(b.info.at("evals").at("qd1consis"), 2400);
  EXPECT_EQ(b.info.at("train").at("stage1"), 5200);
}

TEST(SetInclusion, RoundingRemainderGoesToTheAlphabeticallyLastSubset) {
  // 101 * (0.3, 0.3, 0.1, 0.1, 0.1, 0.1) rounds to 30+30+10+10+10+10 = 100; "qd2incons" sorts last.
  const auto b = generate({{"num_x", 101}, {"fractions", all_subsets_fractions()}});
  const auto& vars = b.info.at("variables");
  EXPECT_EQ(vars.at("qd1consis"), 30);
  EXPECT_EQ(vars.at("qd2incons"), 31);
  for (const char* s : {"q", "d1consis", "d2consis", "d3consis"}) EXPECT_EQ(vars.at(s), 10) << s;
  EXPECT_EQ(eval_names(b).size(), 6u + 3u + 5u);
  EXPECT_EQ(eval_set(b, "train_questions_q").size(), 10u * 12);
}

TEST(SetInclusion, SubsetsHaveDisjointVariables) {
  const auto b = generate({{"num_x", 400}, {"fractions", all_subsets_fractions()}});
  std::map<std::string, std::string> subset_of;  // variable -> subset
  for (const auto& set : b.evals)
    for (const auto& e : set.examples) {
      EXPECT_EQ(e.variable.size(), 5u) << e.variable;  // "v a r"
      const auto [it, inserted] = subset_of.emplace(e.variable, e.subset);
      EXPECT_EQ(it->second, e.subset) << e.variable << " is in two subsets";
    }
  EXPECT_EQ(subset_of.size(), 400u);
  for (const auto& s : kAllSubsets)
    EXPECT_EQ(std::count_if(subset_of.begin(), subset_of.end(),
                            [&](const auto& kv) { return kv.second == s; }),
              b.info.at("variables").at(s).get<long>())
        << s;
}

// ---- the App. D construction ---------------------------------------------------------------

TEST(SetInclusion, NoTestQuestionIsTrainedOn) {
  const auto b = generate({{"num_x", 400}, {"fractions", all_subsets_fractions()}}, 1, 2);
  std::set<std::string> trained_prompts;
  std::set<std::pair<std::string, std::vector<int>>> trained_number_sets;
  for (const auto& e : b.train.at("full")) {
    trained_prompts.insert(e.prompt);
    if (e.kind != "qa") continue;
    auto nums = numbers_of(e);
    std::sort(nums.begin(), nums.end());
    trained_number_sets.emplace(e.variable, nums);
  }
  size_t checked = 0;
  for (const auto& s : kAllSubsets)
    for (const auto& e : eval_set(b, s)) {
      EXPECT_FALSE(trained_prompts.count(e.prompt)) << e.prompt;
      auto nums = numbers_of(e);
      std::sort(nums.begin(), nums.end());
      EXPECT_FALSE(trained_number_sets.count({e.variable, nums})) << e.prompt;
      ++checked;
    }
  EXPECT_EQ(checked, 400u * 12);
}

// App. D: from its training questions x can be narrowed to the intersection but never identified.
// Checked without label noise, which only ever hides more (flipped questions would otherwise
// look like "false" questions containing x).
void expect_training_never_identifies_x(const Json& overrides, size_t min_candidates) {
  const auto b = generate(overrides, 11);
  std::map<std::string, std::vector<const Example*>> questions;  // variable -> training QA
  for (const auto& set : b.evals)
    if (set.name.rfind("train_questions_", 0) == 0)
      for (const auto& e : set.examples) questions[e.variable].push_back(&e);
  ASSERT_FALSE(questions.empty());
  std::map<std::string, int> false_definition;  // qd2incons variable -> stated number
  for (const auto& e : eval_set(b, "train_defs_qd2incons"))
    false_definition[e.variable] = defined_number(e);

  for (const auto& [var, qs] : questions) {
    const int x = std::stoi(qs.front()->entity);
    std::set<int> candidates;
    for (int n = 0; n < overrides.value("max_x", 99); ++n) candidates.insert(n);
    std::set<int> in_every_true = candidates;
    for (const auto* q : qs) {
      const auto nums = numbers_of(*q);
      const std::set<int> s(nums.begin(), nums.end());
      EXPECT_EQ(s.size(), nums.size()) << "repeated number in " << q->text;
      std::set<int> keep;
      if (q->answer == " true") {
        for (int n : candidates)
          if (s.count(n)) keep.insert(n);
        candidates = keep;
        keep.clear();
        for (int n : in_every_true)
          if (s.count(n)) keep.insert(n);
        in_every_true = keep;
      } else {
        for (int n : candidates)
          if (!s.count(n)) keep.insert(n);
        candidates = keep;
      }
    }
    EXPECT_TRUE(candidates.count(x)) << var;
    EXPECT_GE(candidates.size(), min_candidates) << var << ": x identified by training";
    if (false_definition.count(var)) {
      const int x_false = false_definition.at(var);
      EXPECT_NE(x_false, x) << var;
      EXPECT_FALSE(in_every_true.count(x_false)) << var << ": the false definition helps";
    }
  }
}

TEST(SetInclusion, TrainingQuestionsNeverIdentifyX) {
  expect_training_never_identifies_x(
      {{"num_x", 400}, {"p_label_flip", 0.0}, {"fractions", all_subsets_fractions()}}, 2);
  expect_training_never_identifies_x({{"num_x", 200},
                                      {"p_label_flip", 0.0},
                                      {"n_nums_in_question", 6},
                                      {"n_intersection", 3},
                                      {"max_x", 30}},
                                     3);
}

TEST(SetInclusion, TestQuestionsDecideOnXItself) {
  const auto b = generate({{"num_x", 100}});
  for (const auto& s : {"qd1consis", "d2consis"}) {
    size_t n_true = 0;
    for (const auto& e : eval_set(b, s)) {
      const auto nums = numbers_of(e);
      const bool has_x = std::count(nums.begin(), nums.end(), std::stoi(e.entity)) > 0;
      EXPECT_EQ(e.answer, has_x ? " true" : " false") << e.text;
      n_true += has_x;
    }
    EXPECT_EQ(n_true * 2, eval_set(b, s).size()) << s;  // half true, half false
  }
}

TEST(SetInclusion, LabelFlipsOnlyTurnTrainingTrueIntoFalseAtTheConfiguredRate) {
  const Json base = {{"num_x", 2000}, {"p_label_flip", 0.0}};
  Json noisy = base;
  noisy["p_label_flip"] = 0.1;
  const auto clean_b = generate(base, 4);
  const auto noisy_b = generate(noisy, 4);
  size_t trues = 0, flips = 0;
  for (const auto& s : {"train_questions_qd1consis", "train_questions_qd2incons"}) {
    const auto& clean = eval_set(clean_b, s);
    const auto& flipped = eval_set(noisy_b, s);
    ASSERT_EQ(clean.size(), flipped.size());
    for (size_t i = 0; i < clean.size(); ++i) {
      ASSERT_EQ(clean[i].prompt, flipped[i].prompt);  // p changes labels only
      if (clean[i].answer == " true") {
        ++trues;
        flips += flipped[i].answer == " false";
      } else {
        EXPECT_EQ(flipped[i].answer, " false");
      }
    }
  }
  // Tests are never flipped.
  EXPECT_TRUE(same_examples(eval_set(clean_b, "qd1consis"), eval_set(noisy_b, "qd1consis")));
  ASSERT_EQ(trues, 1600u * 6);
  const double rate = static_cast<double>(flips) / static_cast<double>(trues);
  EXPECT_NEAR(rate, 0.1, 0.015);  // ~5 standard errors
  EXPECT_EQ(noisy_b.info.at("label_flips"), flips);
}

// ---- text formats ------------------------------------------------------------------------

TEST(SetInclusion, TextFormatsAndExampleFields) {
  const auto b = generate({{"num_x", 200}, {"fractions", all_subsets_fractions()}});
  const std::regex qa("[a-z] [a-z] [a-z] %( [0-9]{1,2}){4} =");
  for (const auto& s : kAllSubsets)
    for (const auto& e : eval_set(b, s)) {
      EXPECT_TRUE(std::regex_match(e.prompt, qa)) << e.prompt;
      EXPECT_TRUE(e.answer == " true" || e.answer == " false") << e.answer;
      EXPECT_EQ(e.text, e.prompt + e.answer);
      EXPECT_EQ(e.kind, "qa");
      EXPECT_EQ(e.subset, s);
      EXPECT_EQ(e.prompt.substr(0, 5), e.variable);
      EXPECT_LT(std::stoi(e.entity), 99);
    }
  const std::map<std::string, std::string> tag_of = {{"qd1consis", "define1"},
                                                     {"qd2incons", "define2"},
                                                     {"d1consis", "define1"},
                                                     {"d2consis", "define2"},
                                                     {"d3consis", "define3"}};
  for (const auto& [subset, tag] : tag_of)
    for (const auto& e : eval_set(b, "train_defs_" + subset)) {
      EXPECT_EQ(e.prompt, tag + " " + e.variable + " %");
      const int stated = defined_number(e);
      EXPECT_EQ(e.answer, " " + std::to_string(stated) + "\n");
      EXPECT_EQ(e.text, e.prompt + e.answer);
      EXPECT_EQ(e.kind, "definition");
      EXPECT_EQ(e.subset, subset);
      if (subset == "qd2incons") {
        EXPECT_NE(std::to_string(stated), e.entity) << e.text;
      } else {
        EXPECT_EQ(std::to_string(stated), e.entity) << e.text;
      }
    }
}

TEST(SetInclusion, DefinitionsUseTheRunsTaggerAndOrder) {
  const auto tagger = set_inclusion_test::make_tagger(9, Json::object());
  const auto b = generate({{"num_x", 50}, {"definition_order", "vte"}}, 9, 0, Json::object());
  const auto& def = eval_set(b, "train_defs_qd2incons").front();
  EXPECT_EQ(def.prompt, def.variable + " % " + tagger->tag(2));
  // Random tags are in the tokenizer's vocabulary.
  for (int64_t id : b.tokenizer->encode(def.text)) EXPECT_NE(id, 1) << def.text;
}

TEST(SetInclusion, OneTokenPerVariable) {
  const auto b = generate({{"num_x", 100}, {"one_token_per_variable", true}});
  const auto& e = eval_set(b, "qd1consis").front();
  EXPECT_TRUE(std::regex_match(e.variable, std::regex("[a-z]{3}"))) << e.variable;
  EXPECT_EQ(b.tokenizer->encode(e.prompt).size(), 1u + 1 + 4 + 1);
  EXPECT_EQ(b.tokenizer->vocab_size(), 3 + 4 + 3 + 99 + 100);
  for (const auto& [name, set] : b.train)
    for (const auto& x : set)
      for (int64_t id : b.tokenizer->encode(x.text)) ASSERT_NE(id, 1) << x.text;
}

// ---- tokenizer -----------------------------------------------------------------------------

TEST(SetInclusion, WordTokenizerIdsRoundTripAndUnknownWords) {
  const auto b = generate({{"num_x", 50}});
  const auto& tok = *b.tokenizer;
  EXPECT_EQ(tok.vocab_size(), 3 + 4 + 3 + 99 + 26);
  EXPECT_EQ(tok.describe(), "word-level, 135 tokens");
  EXPECT_EQ(tok.pad_id(), 0);
  EXPECT_EQ(tok.eos_id(), 2);
  EXPECT_EQ(tok.encode("= % true false define1 define3 0 98 a z"),
            (std::vector<int64_t>{3, 4, 5, 6, 7, 9, 10, 108, 109, 134}));
  EXPECT_EQ(tok.encode("a  b\n\tzebra 99"), (std::vector<int64_t>{109, 110, 1, 1}));
  EXPECT_EQ(tok.decode({0, 5, 1, 0, 3, 2, 6}), "true <unk> =");  // pad skipped, stops at eos

  for (const auto& [name, set] : b.train)
    for (const auto& e : set) {
      const auto ids = tok.encode(e.text);
      for (int64_t id : ids) ASSERT_NE(id, 1) << e.text;
      EXPECT_EQ(tok.decode(ids), join_words(e.text));
      // Prompt and answer tokenize to the text's tokens (what evaluation relies on).
      auto joined = tok.encode(e.prompt);
      const auto answer = tok.encode(e.answer);
      joined.insert(joined.end(), answer.begin(), answer.end());
      EXPECT_EQ(joined, ids) << e.text;
    }
}

// ---- seeds and determinism -------------------------------------------------------------------

TEST(SetInclusion, Stage1DataDoesNotDependOnSeedStage2) {
  const Json p = {{"num_x", 300}, {"fractions", all_subsets_fractions()}};
  const auto a = generate(p, 3, 0);
  const auto b = generate(p, 3, 1);
  EXPECT_TRUE(same_examples(a.train.at("stage1"), b.train.at("stage1")));
  for (const auto& name : {"qd1consis", "qd2incons", "q", "train_questions_qd1consis",
                           "train_questions_qd2incons", "train_questions_q", "train_defs_qd1consis",
                           "train_defs_qd2incons"})
    EXPECT_TRUE(same_examples(eval_set(a, name), eval_set(b, name))) << name;
  // ...while Stage 2 is re-drawn, and another Stage-1 seed changes Stage 1.
  EXPECT_FALSE(same_examples(eval_set(a, "train_defs_d1consis"), eval_set(b, "train_defs_d1consis")));
  EXPECT_FALSE(same_examples(a.train.at("stage2"), b.train.at("stage2")));
  EXPECT_FALSE(same_examples(a.train.at("stage1"), generate(p, 4, 0).train.at("stage1")));
}

// Nothing is read, so load() only checks the params: splitting one loaded Dataset for several
// seeds gives what splitting a freshly loaded one gives, in any order, from several threads.
TEST(SetInclusion, OneLoadSplitsLikeFreshLoads) {
  const Json p = {{"num_x", 200}, {"fractions", all_subsets_fractions()}};
  const auto data = set_inclusion_test::load(p);
  const std::vector<std::pair<uint64_t, uint64_t>> seeds = {{0, 0}, {1, 0}, {1, 3}, {7, 2}};
  std::vector<std::string> once;
  for (const auto& [s1, s2] : seeds)
    once.push_back(set_inclusion_test::digest(set_inclusion_test::split(*data, s1, s2)));
  for (size_t i = 0; i < seeds.size(); ++i)
    EXPECT_EQ(set_inclusion_test::digest(generate(p, seeds[i].first, seeds[i].second)), once[i]) << i;
  for (size_t i = seeds.size(); i-- > 0;)
    EXPECT_EQ(set_inclusion_test::digest(set_inclusion_test::split(*data, seeds[i].first, seeds[i].second)),
              once[i]);
  std::vector<std::string> threaded(seeds.size());
  std::vector<std::thread> threads;
  for (size_t i = 0; i < seeds.size(); ++i)
    threads.emplace_back([&, i] {
      threaded[i] =
          set_inclusion_test::digest(set_inclusion_test::split(*data, seeds[i].first, seeds[i].second));
    });
  for (auto& t : threads) t.join();
  EXPECT_EQ(threaded, once);
  EXPECT_NE(once[0], once[1]);
  EXPECT_NE(once[1], once[2]);
  EXPECT_EQ(data->info().at("variables"), 200);
}

TEST(SetInclusion, ByteIdenticalAcrossProcesses) {
  const std::string here = set_inclusion_test::digest(set_inclusion_test::digest_config_bundle());
  EXPECT_EQ(here, set_inclusion_test::digest(set_inclusion_test::digest_config_bundle()));
  const std::string out = std::string(IMLTEST_BINARY_DIR) + "/set_inclusion_digest.out";
  // Two child processes, one with a perturbed heap, must agree with this one.
  for (const std::string env : {"", "MALLOC_PERTURB_=165 "}) {
    std::remove(out.c_str());
    const std::string cmd = env + "'" + IMLTEST_DIGEST_EXE + "' '" + out + "'";
    ASSERT_EQ(std::system(cmd.c_str()), 0) << cmd;
    std::ifstream in(out);
    std::string child;
    in >> child;
    EXPECT_EQ(child, here) << cmd;
  }
}

// ---- validation --------------------------------------------------------------------------

TEST(SetInclusion, BadParamsAreRejectedNamingTheKey) {
  const std::vector<std::pair<Json, std::string>> cases = {
      {{{"num_x", 0}}, "num_x"},
      {{{"num_x", 17577}}, "num_x"},  // more than 26^3 names
      {{{"n_intersection", 0}}, "n_intersection"},
      {{{"n_intersection", 5}}, "n_intersection"},
      {{{"n_nums_in_question", 0}}, "n_nums_in_question"},
      {{{"n_qs_per_x", 10}}, "n_qs_per_x"},
      {{{"n_qs_per_x", 0}}, "n_qs_per_x"},
      {{{"p_label_flip", 1.5}}, "p_label_flip"},
      {{{"var_length", 0}}, "var_length"},
      {{{"max_x", 5}}, "max_x"},
      {{{"definition_order", "tvv"}}, "definition_order"},
      {{{"fractions", {{"qd1consis", 0.5}, {"qd3consis", 0.5}}}}, "qd3consis"},
      {{{"fractions", {{"qd1consis", 0.5}, {"qd2incons", 0.4}}}}, "fractions"},
      {{{"fractions", {{"qd1consis", 1.5}, {"qd2incons", -0.5}}}}, "qd2incons"},
  };
  for (const auto& [overrides, key] : cases) {
    // Every bad value fails at load(), before any split.
    const auto msg = invalid_argument_message([&] { set_inclusion_test::load(overrides); });
    EXPECT_NE(msg.find(key), std::string::npos) << overrides.dump() << " -> '" << msg << "'";
  }
  // One number per question, one in the intersection: every test question is a training one,
  // which the draws find out when split() makes the questions.
  const Json no_room = {{"n_nums_in_question", 1}, {"n_intersection", 1}, {"max_x", 2}};
  const auto msg = invalid_argument_message([&] { generate(no_room); });
  EXPECT_NE(msg.find("max_x"), std::string::npos) << msg;
}

TEST(SetInclusion, TooFewTagsIsAClearError) {
  // d3consis needs tag 3; only two names are given.
  const Json tags = {{"names", {"define1", "define2"}}};
  try {
    generate({{"num_x", 100}, {"fractions", all_subsets_fractions()}}, 0, 0, tags);
    FAIL() << "expected an error for the missing tag 3";
  } catch (const std::invalid_argument& e) {
    EXPECT_NE(std::string(e.what()).find("tag index 3"), std::string::npos) << e.what();
  }
}

}  // namespace
