// The shared text-QA protocol against spec §2-§4, on synthetic entities (six questions each).
#include <gtest/gtest.h>

#include <algorithm>
#include <cstdio>
#include <fstream>
#include <map>
#include <set>

#include "imlqa/answers.hpp"
#include "qa_protocol_harness.hpp"

using imlsdk::Example;
using imlsdk::Json;
using qa_test::build;

namespace {

const std::vector<std::string> kAllSubsets = {
    "q_no_replacement_baseline", "qd1consis", "qd1incons", "qd2consis", "qd2incons", "qd4consis",
    "q", "d1consis", "d2consis", "d3consis", "no_qd_baseline"};

// Every subset non-empty; qd1incons and qd2incons large enough for a derangement.
Json all_subsets_fractions() {
  return {{"q_no_replacement_baseline", 0.1}, {"qd1consis", 0.15}, {"qd1incons", 0.1},
          {"qd2consis", 0.1}, {"qd2incons", 0.15}, {"qd4consis", 0.05}, {"q", 0.05},
          {"d1consis", 0.08}, {"d2consis", 0.08}, {"d3consis", 0.08}, {"no_qd_baseline", 0.06}};
}

bool has_eval(const imlsdk::DataSplit& b, const std::string& name) {
  return std::any_of(b.evals.begin(), b.evals.end(), [&](const auto& e) { return e.name == name; });
}

const std::vector<Example>& eval_set(const imlsdk::DataSplit& b, const std::string& name) {
  for (const auto& e : b.evals)
    if (e.name == name) return e.examples;
  static const std::vector<Example> none;
  ADD_FAILURE() << "no eval set " << name;
  return none;
}

std::set<std::string> entities_of(const std::vector<Example>& xs) {
  std::set<std::string> out;
  for (const auto& e : xs) out.insert(e.entity);
  return out;
}

// alias -> the entity its questions are about (from the test and training questions).
std::map<std::string, std::string> alias_owner(const imlsdk::DataSplit& b) {
  std::map<std::string, std::string> out;
  for (const auto& set : b.evals) {
    if (set.name == "d2incons" || set.name.rfind("ent_assoc_", 0) == 0 ||
        set.name.rfind("train_defs_", 0) == 0)
      continue;
    for (const auto& e : set.examples)
      if (!e.variable.empty()) {
        const auto [it, fresh] = out.emplace(e.variable, e.entity);
        EXPECT_EQ(it->second, e.entity) << "alias " << e.variable << " asked about two entities";
        (void)fresh;
      }
  }
  return out;
}

std::multiset<std::string> texts(const std::vector<Example>& xs) {
  std::multiset<std::string> out;
  for (const auto& e : xs) out.insert(e.text);
  return out;
}

bool same_examples(const std::vector<Example>& a, const std::vector<Example>& b) {
  if (a.size() != b.size()) return false;
  for (size_t i = 0; i < a.size(); ++i)
    if (a[i].text != b[i].text || a[i].prompt != b[i].prompt || a[i].answer != b[i].answer ||
        a[i].entity != b[i].entity || a[i].variable != b[i].variable || a[i].subset != b[i].subset)
      return false;
  return true;
}

}  // namespace

// ---- subsets -----------------------------------------------------------------------------

TEST(QaProtocol, SubsetSizesFollowTheFractions) {
  const auto b = build(400);  // the reference's CVDB fractions
  const Json& n = b.info.at("entities");
  EXPECT_EQ(n.at("q_no_replacement_baseline"), 40);
  EXPECT_EQ(n.at("qd1consis"), 100);
  EXPECT_EQ(n.at("qd2incons"), 100);
  EXPECT_EQ(n.at("q"), 40);
  EXPECT_EQ(n.at("d1consis"), 32);
  EXPECT_EQ(n.at("d2consis"), 32);
  EXPECT_EQ(n.at("d3consis"), 32);
  EXPECT_EQ(n.at("no_qd_baseline"), 24);
  EXPECT_EQ(n.at("qd1incons"), 0);
  EXPECT_EQ(n.at("qd2consis"), 0);
  EXPECT_EQ(n.at("qd4consis"), 0);
  EXPECT_FALSE(has_eval(b, "qd1incons"));  // empty subsets make no eval sets
}

TEST(QaProtocol, SubsetsAreDisjointAndCoverEveryEntity) {
  const auto b = build(300, {{"fractions", all_subsets_fractions()}});
  std::set<std::string> seen;
  size_t total = 0;
  for (const auto& subset : kAllSubsets) {
    const auto members = entities_of(eval_set(b, subset));  // every entity has test questions
    EXPECT_EQ(members.size(), b.info.at("entities").at(subset).get<size_t>()) << subset;
    for (const auto& m : members) EXPECT_TRUE(seen.insert(m).second) << m << " in two subsets";
    total += members.size();
  }
  EXPECT_EQ(total, 300u);
  EXPECT_EQ(seen.size(), 300u);
}

TEST(QaProtocol, StratifiedTestSplitAndNoTestQuestionInTraining) {
  const auto b = build(300, {{"fractions", all_subsets_fractions()}, {"knowledge_stage", true}});
  for (const std::string subset : {"q_no_replacement_baseline", "qd1consis", "qd1incons",
                                   "qd2consis", "qd2incons", "qd4consis", "q"}) {
    std::map<std::string, int> test_per_entity, train_per_entity;
    for (const auto& e : eval_set(b, subset)) ++test_per_entity[e.entity];
    for (const auto& e : eval_set(b, "train_questions_" + subset)) ++train_per_entity[e.entity];
    for (const auto& [entity, k] : test_per_entity) {
      EXPECT_EQ(k, 1) << subset << " " << entity;  // 1 of 6 questions per entity
      EXPECT_EQ(train_per_entity[entity], 5) << subset << " " << entity;
    }
  }
  for (const std::string subset : {"d1consis", "d2consis", "d3consis", "no_qd_baseline"}) {
    EXPECT_EQ(eval_set(b, subset).size(), 6 * b.info.at("entities").at(subset).get<size_t>());
    EXPECT_FALSE(has_eval(b, "train_questions_" + subset));
  }
  // No test prompt is a training prompt. The knowledge stage asks everything by real name, so
  // only the baseline asked by real name may repeat there (what pretraining would have taught).
  std::set<std::string> test_prompts;
  for (const auto& subset : kAllSubsets)
    for (const auto& e : eval_set(b, subset)) test_prompts.insert(e.prompt);
  for (const auto& e : eval_set(b, "d2incons")) test_prompts.insert(e.prompt);
  for (const auto& [name, xs] : b.train)
    for (const auto& e : xs)
      if (test_prompts.count(e.prompt)) {
        EXPECT_TRUE(name == "knowledge" && e.variable.empty()) << name << ": " << e.prompt;
      }
}

TEST(QaProtocol, TestQuestionsPerEntityIsConfigurable) {
  const auto b = build(100, {{"test_questions_per_entity", 2}});
  std::map<std::string, int> per_entity;
  for (const auto& e : eval_set(b, "qd1consis")) ++per_entity[e.entity];
  for (const auto& [entity, k] : per_entity) EXPECT_EQ(k, 2);
  // At least one question per entity stays in training.
  const auto all_but_one = build(100, {{"test_questions_per_entity", 50}});
  per_entity.clear();
  for (const auto& e : eval_set(all_but_one, "train_questions_qd1consis")) ++per_entity[e.entity];
  for (const auto& [entity, k] : per_entity) EXPECT_EQ(k, 1);
}

// ---- definitions ---------------------------------------------------------------------------

TEST(QaProtocol, InconsistentDefinitionsAreADerangementWithinTheSubset) {
  for (uint64_t seed = 0; seed < 5; ++seed) {
    const auto b = build(300, {{"fractions", all_subsets_fractions()}}, seed);
    const auto owner = alias_owner(b);
    for (const std::string subset : {"qd1incons", "qd2incons"}) {
      const auto members = entities_of(eval_set(b, subset));
      std::set<std::string> named;
      for (const auto& d : eval_set(b, "train_defs_" + subset)) {
        EXPECT_NE(d.entity, owner.at(d.variable)) << subset << ": fixed point " << d.text;
        EXPECT_TRUE(members.count(d.entity)) << "pairs an alias with an entity of another subset";
        EXPECT_TRUE(named.insert(d.entity).second) << d.entity << " named twice";
      }
      EXPECT_EQ(named, members);
    }
    for (const std::string subset : {"qd1consis", "qd2consis", "qd4consis", "d1consis",
                                     "d2consis", "d3consis"})
      for (const auto& d : eval_set(b, "train_defs_" + subset))
        EXPECT_EQ(d.entity, owner.at(d.variable)) << subset;
  }
}

TEST(QaProtocol, TagIndices) {
  const auto b = build(300, {{"fractions", all_subsets_fractions()}});
  auto tags_of = [&](const std::string& subset) {
    std::set<std::string> tags;
    for (const auto& d : eval_set(b, "train_defs_" + subset)) tags.insert(d.text.substr(0, d.text.find(' ')));
    return tags;
  };
  EXPECT_EQ(tags_of("qd1consis"), std::set<std::string>{"TAG1"});
  EXPECT_EQ(tags_of("qd1incons"), std::set<std::string>{"TAG1"});
  EXPECT_EQ(tags_of("d1consis"), std::set<std::string>{"TAG1"});
  EXPECT_EQ(tags_of("qd2consis"), std::set<std::string>{"TAG2"});
  EXPECT_EQ(tags_of("qd2incons"), std::set<std::string>{"TAG2"});
  EXPECT_EQ(tags_of("d2consis"), std::set<std::string>{"TAG2"});
  EXPECT_EQ(tags_of("d3consis"), std::set<std::string>{"TAG3"});
  // qd4consis: one tag per entity, 4, 5, ...
  const size_t n4 = b.info.at("entities").at("qd4consis").get<size_t>();
  std::set<std::string> expected;
  for (size_t i = 0; i < n4; ++i) expected.insert("TAG" + std::to_string(4 + i));
  EXPECT_EQ(tags_of("qd4consis"), expected);
}

TEST(QaProtocol, AllSixDefinitionOrders) {
  std::set<std::string> seen;
  for (const std::string order : {"tve", "tev", "vte", "vet", "etv", "evt"}) {
    const auto b = build(100, {{"definition_order", order}});
    for (const auto& d : eval_set(b, "train_defs_d1consis")) {
      const std::map<char, std::string> part = {{'t', "TAG1"}, {'v', d.variable}, {'e', d.entity}};
      const std::string expected = part.at(order[0]) + " " + part.at(order[1]) + " " + part.at(order[2]);
      EXPECT_EQ(d.text, expected + "\n");
      EXPECT_EQ(d.prompt, part.at(order[0]) + " " + part.at(order[1]));
      EXPECT_EQ(d.answer, " " + part.at(order[2]) + "\n");
      EXPECT_EQ(d.kind, "definition");
      seen.insert(d.text);
    }
  }
  EXPECT_EQ(seen.size(), 6 * 8u);  // 8 d1consis entities, six different texts each
  EXPECT_THROW(build(100, {{"definition_order", "tvx"}}), std::invalid_argument);
}

TEST(QaProtocol, D2inconsSwapsAliasesInSortedPairs) {
  const auto b = build(300, {{"fractions", all_subsets_fractions()}});  // 24 d2consis entities
  const auto owner = alias_owner(b);
  std::vector<std::string> aliases;
  for (const auto& e : eval_set(b, "d2consis")) aliases.push_back(e.variable);
  std::sort(aliases.begin(), aliases.end());
  aliases.erase(std::unique(aliases.begin(), aliases.end()), aliases.end());
  std::map<std::string, std::string> partner;
  for (size_t i = 0; i + 1 < aliases.size(); i += 2) {
    partner[aliases[i]] = aliases[i + 1];
    partner[aliases[i + 1]] = aliases[i];
  }
  const auto& swapped = eval_set(b, "d2incons");
  EXPECT_EQ(swapped.size(), 6 * (aliases.size() / 2 * 2));
  for (const auto& e : swapped) {
    // Asked through the partner's alias, answered with the own entity's fact.
    EXPECT_EQ(e.entity, owner.at(partner.at(e.variable)));
    EXPECT_NE(e.prompt.find(e.variable), std::string::npos);
    EXPECT_EQ(e.answer.find(e.entity.substr(7)) != std::string::npos, true) << e.answer;
    EXPECT_EQ(e.subset, "d2incons");
  }
}

// ---- alpha ---------------------------------------------------------------------------------

TEST(QaProtocol, AlphaMovesEntitiesBetweenConsistencies) {
  // The reference's def_tag_and_consistency_correlation 70p config: 0.175 / 0.075 / 0.075 / 0.175.
  const auto b = build(1000, {{"alpha", 0.7}});
  const Json& n = b.info.at("entities");
  EXPECT_EQ(n.at("qd1consis"), 175);
  EXPECT_EQ(n.at("qd1incons"), 75);
  EXPECT_EQ(n.at("qd2consis"), 75);
  EXPECT_EQ(n.at("qd2incons"), 175);
  EXPECT_EQ(n.at("q"), 100);
  // alpha = 0.5: the tag says nothing about consistency.
  const auto half = build(1000, {{"alpha", 0.5}});
  EXPECT_EQ(half.info.at("entities").at("qd1consis"), half.info.at("entities").at("qd1incons"));
  EXPECT_EQ(half.info.at("entities").at("qd2consis"), half.info.at("entities").at("qd2incons"));
  // alpha = 1 leaves the fractions as given.
  EXPECT_EQ(build(1000).info.at("entities").at("qd1incons"), 0);
  EXPECT_THROW(build(100, {{"alpha", 1.5}}), std::invalid_argument);
}

// ---- text formats -----------------------------------------------------------------------------

TEST(QaProtocol, QuestionTextFormats) {
  const auto b = build(100);
  const auto owner = alias_owner(b);
  // A training question: first answer only.
  const auto& train = eval_set(b, "train_questions_qd1consis");
  ASSERT_FALSE(train.empty());
  for (const auto& e : b.train.at("stage1_only_qa")) {
    if (e.subset != "qd1consis" || e.text.find("nationality") == std::string::npos) continue;
    const std::string id = e.entity.substr(7);
    EXPECT_EQ(e.text, "Q: What was the nationality of " + e.variable + "?\nA: a" + id + "nationA\n");
    EXPECT_EQ(e.prompt, "Q: What was the nationality of " + e.variable + "?\nA:");
    EXPECT_EQ(e.answer, " a" + id + "nationA\n");
    EXPECT_EQ(e.kind, "qa");
    EXPECT_EQ(e.variable.size(), 9u);  // "<|abcde|>"
    EXPECT_EQ(e.variable.substr(0, 2), "<|");
    break;
  }
  // Evaluated questions keep every answer, so EM matches any of them.
  for (const auto& e : train)
    if (e.text.find("nationality") != std::string::npos) {
      const std::string id = e.entity.substr(7);
      EXPECT_EQ(e.answer, " a" + id + "nationA;a" + id + "nationB\n");
      EXPECT_TRUE(imlqa::exact_match("a" + id + "nationB", e.answer));
    }
  // The baseline asks by real name.
  for (const auto& e : eval_set(b, "q_no_replacement_baseline")) {
    EXPECT_TRUE(e.variable.empty());
    EXPECT_NE(e.prompt.find(e.entity), std::string::npos);
  }
}

TEST(QaProtocol, InContextDefinitionsPrecedeTheQuestion) {
  const auto b = build(200, {{"in_context", true}});
  for (const auto& e : eval_set(b, "d1consis")) {
    const std::string definition = "TAG1 " + e.variable + " " + e.entity;
    EXPECT_EQ(e.prompt.substr(0, definition.size() + 5), definition + ". Q: ") << e.prompt;
    EXPECT_EQ(e.text.substr(e.text.size() - 1), "\n");
  }
  // Stage-1 definitions travel inside the questions, not as separate examples.
  for (const auto& e : b.train.at("stage1")) EXPECT_EQ(e.kind, "qa");
  for (const auto& e : b.train.at("stage1"))
    if (e.subset == "qd2incons") {
      EXPECT_EQ(e.text.rfind("TAG2 ", 0), 0u) << e.text;
    }
  for (const auto& e : b.train.at("stage2")) EXPECT_EQ(e.kind, "definition");
}

// ---- train subsets and eval sets -------------------------------------------------------------

TEST(QaProtocol, TrainSubsetsCombineTheRightPieces) {
  const auto b = build(300, {{"fractions", all_subsets_fractions()}});
  auto joined = [&](std::initializer_list<const char*> names) {
    std::multiset<std::string> out;
    for (const char* n : names) {
      const auto t = texts(b.train.at(n));
      out.insert(t.begin(), t.end());
    }
    return out;
  };
  EXPECT_EQ(texts(b.train.at("full")), joined({"stage1", "stage2"}));
  EXPECT_EQ(texts(b.train.at("stage1")), joined({"stage1_only_defns", "stage1_only_qa"}));
  EXPECT_EQ(texts(b.train.at("all_defns")), joined({"stage1_only_defns", "stage2"}));
  for (const auto& e : b.train.at("stage2")) {
    EXPECT_EQ(e.kind, "definition");
    EXPECT_TRUE(e.subset == "d1consis" || e.subset == "d2consis" || e.subset == "d3consis");
  }
  for (const auto& e : b.train.at("stage1_only_qa")) EXPECT_EQ(e.kind, "qa");
  size_t stage1_qa = 0;
  for (const std::string s : {"q_no_replacement_baseline", "qd1consis", "qd1incons", "qd2consis",
                              "qd2incons", "qd4consis", "q"})
    stage1_qa += eval_set(b, "train_questions_" + s).size();
  EXPECT_EQ(b.train.at("stage1_only_qa").size(), stage1_qa);
  EXPECT_EQ(b.train.count("knowledge"), 0u);  // only with knowledge_stage
  for (const auto& name : imlqa::train_subsets())
    if (name != "knowledge") {
      EXPECT_EQ(b.train.count(name), 1u) << name;
    }
}

TEST(QaProtocol, KnowledgeStageAsksEverythingByRealName) {
  const auto b = build(100, {{"knowledge_stage", true}});
  const auto& k = b.train.at("knowledge");
  EXPECT_EQ(k.size(), 600u);
  for (const auto& e : k) {
    EXPECT_TRUE(e.variable.empty());
    EXPECT_EQ(e.prompt.find("<|"), std::string::npos);
    EXPECT_NE(e.prompt.find(e.entity), std::string::npos);
    EXPECT_EQ(e.subset, "knowledge");
  }
  EXPECT_EQ(eval_set(b, "knowledge").size(), 600u);
  const auto sampled = build(100, {{"knowledge_stage", true}, {"knowledge_eval_size", 50}});
  EXPECT_EQ(eval_set(sampled, "knowledge").size(), 50u);
  EXPECT_EQ(sampled.train.at("knowledge").size(), 600u);
}

TEST(QaProtocol, EntityAttributionAndLetterSets) {
  const auto b = build(300, {{"fractions", all_subsets_fractions()},
                             {"entity_attribution", true}, {"letters", true}});
  const auto owner = alias_owner(b);
  for (const std::string kind : {"who", "meaning", "standFor", "name"}) {
    for (const std::string subset : {"qd1consis", "qd1incons", "qd2consis", "qd2incons",
                                     "qd4consis", "q", "d1consis", "d2consis", "d3consis"}) {
      const auto& set = eval_set(b, "ent_assoc_" + kind + "_" + subset);
      EXPECT_EQ(set.size(), b.info.at("entities").at(subset).get<size_t>());
      for (const auto& e : set) {
        EXPECT_EQ(e.entity, owner.at(e.variable));
        EXPECT_EQ(e.answer, " " + e.entity + "\n");
      }
    }
    EXPECT_FALSE(has_eval(b, "ent_assoc_" + kind + "_no_qd_baseline"));
    EXPECT_FALSE(has_eval(b, "ent_assoc_" + kind + "_q_no_replacement_baseline"));
  }
  EXPECT_EQ(eval_set(b, "ent_assoc_who_qd1consis").front().prompt.rfind("Q: Who is <|", 0), 0u);
  // *_swapped: the alias of each inconsistent definition, answered with the entity it named.
  for (const std::string subset : {"qd1incons", "qd2incons"}) {
    std::map<std::string, std::string> defined;
    for (const auto& d : eval_set(b, "train_defs_" + subset)) defined[d.variable] = d.entity;
    for (const auto& e : eval_set(b, "ent_assoc_name_" + subset + "_swapped")) {
      EXPECT_EQ(defined.at(e.variable), e.entity);
      EXPECT_NE(owner.at(e.variable), e.entity);
    }
    EXPECT_EQ(eval_set(b, "ent_assoc_letterLast_" + subset + "_swapped").size(), defined.size());
  }
  for (const auto& e : eval_set(b, "ent_assoc_letter0_q")) EXPECT_EQ(e.answer, " P\n");
  for (const auto& e : eval_set(b, "ent_assoc_letter1_q")) EXPECT_EQ(e.answer, " e\n");
  for (const auto& e : eval_set(b, "ent_assoc_letterLast_q"))
    EXPECT_EQ(e.answer, " " + e.entity.substr(e.entity.size() - 1) + "\n");
  EXPECT_FALSE(has_eval(build(100), "ent_assoc_who_qd1consis"));
}

TEST(QaProtocol, EvalSetNames) {
  const auto b = build(300, {{"fractions", all_subsets_fractions()}});
  std::vector<std::string> names;
  for (const auto& e : b.evals) names.push_back(e.name);
  std::vector<std::string> expected = kAllSubsets;
  expected.push_back("d2incons");
  for (const std::string s : {"q_no_replacement_baseline", "qd1consis", "qd1incons", "qd2consis",
                              "qd2incons", "qd4consis", "q"})
    expected.push_back("train_questions_" + s);
  for (const std::string s : {"qd1consis", "qd1incons", "qd2consis", "qd2incons", "qd4consis",
                              "d1consis", "d2consis", "d3consis"})
    expected.push_back("train_defs_" + s);
  EXPECT_EQ(names, expected);
  for (const auto& set : b.evals)
    for (const auto& e : set.examples) {
      EXPECT_EQ(e.text.rfind(e.prompt, 0), 0u) << e.text;  // the text starts with the prompt
      EXPECT_FALSE(e.entity.empty());
    }
}

// ---- determinism ---------------------------------------------------------------------------

TEST(QaProtocol, Stage1DataDoesNotDependOnSeedStage2) {
  const Json p = {{"fractions", all_subsets_fractions()}, {"knowledge_stage", true},
                  {"entity_attribution", true}};
  const auto a = build(300, p, 3, 0);
  const auto b = build(300, p, 3, 1);
  for (const auto& name : {"stage1", "stage1_only_defns", "stage1_only_qa", "knowledge"})
    EXPECT_TRUE(same_examples(a.train.at(name), b.train.at(name))) << name;
  for (const std::string s : {"q_no_replacement_baseline", "qd1consis", "qd1incons", "qd2consis",
                              "qd2incons", "qd4consis", "q"}) {
    EXPECT_TRUE(same_examples(eval_set(a, s), eval_set(b, s))) << s;
    EXPECT_TRUE(same_examples(eval_set(a, "train_questions_" + s), eval_set(b, "train_questions_" + s)));
  }
  // Stage 2 is re-drawn; another Stage-1 seed changes Stage 1.
  EXPECT_NE(entities_of(eval_set(a, "d1consis")), entities_of(eval_set(b, "d1consis")));
  EXPECT_FALSE(same_examples(a.train.at("stage2"), b.train.at("stage2")));
  EXPECT_FALSE(same_examples(a.train.at("stage1"), build(300, p, 4, 0).train.at("stage1")));
  // The Stage-2 pool is the same set of entities.
  std::set<std::string> pool_a, pool_b;
  for (const std::string s : {"d1consis", "d2consis", "d3consis", "no_qd_baseline"}) {
    const auto ea = entities_of(eval_set(a, s)), eb = entities_of(eval_set(b, s));
    pool_a.insert(ea.begin(), ea.end());
    pool_b.insert(eb.begin(), eb.end());
  }
  EXPECT_EQ(pool_a, pool_b);
}

TEST(QaProtocol, ByteIdenticalAcrossProcesses) {
  const std::string here = qa_test::digest(qa_test::digest_config_bundle());
  EXPECT_EQ(here, qa_test::digest(qa_test::digest_config_bundle()));
  const std::string out = std::string(IMLTEST_BINARY_DIR) + "/qa_protocol_digest.out";
  // Two child processes, one with a perturbed heap, must agree with this one.
  for (const std::string env : {"", "MALLOC_PERTURB_=165 "}) {
    std::remove(out.c_str());
    const std::string cmd = env + "'" + IMLTEST_QA_DIGEST_EXE + "' '" + out + "'";
    ASSERT_EQ(std::system(cmd.c_str()), 0) << cmd;
    std::ifstream in(out);
    std::string child;
    in >> child;
    EXPECT_EQ(child, here) << cmd;
  }
}

TEST(QaProtocol, InputOrderDoesNotMatter) {
  static const qa_test::IndexTagger tagger;
  imlsdk::SplitContext ctx;
  ctx.tagger = &tagger;
  auto entities = qa_test::synthetic_entities(150);
  const auto a = imlqa::build_qa_protocol(entities, qa_test::protocol_params(), ctx);
  std::reverse(entities.begin(), entities.end());
  const auto b = imlqa::build_qa_protocol(entities, qa_test::protocol_params(), ctx);
  EXPECT_EQ(qa_test::digest(a), qa_test::digest(b));
}

// ---- validation ----------------------------------------------------------------------------

TEST(QaProtocol, BadParametersAreRejectedNamingTheKey) {
  const std::vector<std::pair<Json, std::string>> cases = {
      {{{"fractions", {{"qd1consis", 0.5}}}}, "fractions"},
      {{{"fractions", {{"qd1consis", 0.5}, {"bogus", 0.5}}}}, "bogus"},
      {{{"fractions", {{"qd1consis", 1.5}, {"q", -0.5}}}}, "fractions.q"},
      {{{"alpha", -0.1}}, "alpha"},
      {{{"test_questions_per_entity", 0}}, "test_questions_per_entity"},
      {{{"alias_length", 0}}, "alias_length"},
      {{{"alias_format", "<||>"}}, "alias_format"},
      {{{"definition_order", "tv"}}, "definition_order"},
      {{{"knowledge_eval_size", -1}}, "knowledge_eval_size"},
      {{{"alias_length", 1}}, "alias_length"},  // 26 aliases for 100 entities
      {{{"fractions", {{"qd2incons", 0.01}, {"qd1consis", 0.99}}}}, "qd2incons"},  // 1 entity
  };
  for (const auto& [params, key] : cases) {
    try {
      build(100, params);
      ADD_FAILURE() << "accepted " << params.dump();
    } catch (const std::invalid_argument& e) {
      EXPECT_NE(std::string(e.what()).find(key), std::string::npos) << e.what();
    }
  }
}

TEST(QaProtocol, BadEntitiesAreRejected) {
  static const qa_test::IndexTagger tagger;
  imlsdk::SplitContext ctx;
  ctx.tagger = &tagger;
  const auto params = qa_test::protocol_params();
  auto entities = qa_test::synthetic_entities(20);
  auto twice = entities;
  twice.push_back(entities.front());
  EXPECT_THROW(imlqa::build_qa_protocol(twice, params, ctx), std::invalid_argument);
  auto no_slot = entities;
  no_slot[3].qa[0].question_template = "When was it born?";
  EXPECT_THROW(imlqa::build_qa_protocol(no_slot, params, ctx), std::invalid_argument);
  auto no_answer = entities;
  no_answer[3].qa[0].answer = " ; ";
  EXPECT_THROW(imlqa::build_qa_protocol(no_answer, params, ctx), std::invalid_argument);
  EXPECT_THROW(imlqa::build_qa_protocol({}, params, ctx), std::invalid_argument);
  ctx.tagger = nullptr;
  EXPECT_THROW(imlqa::build_qa_protocol(entities, params, ctx), std::invalid_argument);
}

TEST(QaProtocol, ParamsAndOverrides) {
  std::set<std::string> keys;
  for (const auto& spec : imlqa::qa_protocol_params()) keys.insert(spec.key);
  for (const char* k : {"fractions", "alpha", "test_questions_per_entity", "definition_order",
                        "alias_length", "entity_attribution", "letters", "in_context",
                        "knowledge_stage"})
    EXPECT_EQ(keys.count(k), 1u) << k;
  const auto specs = imlqa::qa_protocol_params({{"alias_length", 7}});
  for (const auto& s : specs)
    if (s.key == "alias_length") {
      EXPECT_EQ(s.default_value, 7);
    }
  EXPECT_THROW(imlqa::qa_protocol_params({{"no_such_key", 1}}), std::invalid_argument);
}

TEST(YearAnonymisation, ConversionTable) {
  const std::vector<std::pair<int64_t, std::string>> table = {
      {-1341, "14 century BC"}, {-287, "3 century BC"}, {-100, "1 century BC"},
      {-44, "1 century BC"},    {-1, "1 century BC"},   {17, "1 century"},
      {100, "1 century"},       {101, "2 century"},     {980, "10 century"},
      {1879, "19 century"},     {1899, "19 century"},   {1900, "19 century"},
      {1901, "1900s"},          {1955, "1950s"},        {1999, "1990s"},
      {2000, "2000"},           {2018, "2018"}};
  for (const auto& [year, text] : table) EXPECT_EQ(imlqa::anonymize_year(year), text) << year;
}
