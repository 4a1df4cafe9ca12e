// The text-QA protocol (spec §2-§4). Reading order: streams, text formats, then
// build_qa_protocol, which draws aliases, splits the entities, makes the definitions and the
// QA examples, and assembles the train and eval sets.
#include "imlqa/protocol.hpp"

#include <algorithm>
#include <map>
#include <set>
#include <stdexcept>

#include "imlqa/split.hpp"
#include "imlsdk/text.hpp"
#include "imlsdk/text_tokenizer.hpp"
#include "protocol_params.hpp"

namespace imlqa {

using namespace imlsdk;

namespace {

using qa::Settings;

[[noreturn]] void reject(const std::string& message) {
  throw std::invalid_argument("text-QA protocol: " + message);
}

// ---- random streams ------------------------------------------------------------------------
// Every random choice has its own stream derived from the seeds and a fixed salt, so a change
// to one draw never shifts another, and nothing Stage 1 sees depends on seed_stage2.

uint64_t mix(uint64_t h, uint64_t v) {
  uint64_t z = h ^ (v + 0x9E3779B97F4A7C15ULL + (h << 6) + (h >> 2));
  z = (z ^ (z >> 30)) * 0xBF58476D1CE4E5B9ULL;
  z = (z ^ (z >> 27)) * 0x94D049BB133111EBULL;
  return z ^ (z >> 31);
}

enum Salt : uint64_t {
  kAliases = 101, kSplit, kStage2Split, kTestSplit, kDerangement, kStage1Order, kStage2Order,
  kFullOrder, kStage1OnlyDefnsOrder, kStage1OnlyQaOrder, kAllDefnsOrder, kKnowledgeOrder,
  kKnowledgeEval
};

Rng stage1_stream(const SplitContext& ctx, Salt salt) { return Rng(mix(ctx.seed, salt)); }
Rng stage2_stream(const SplitContext& ctx, Salt salt) {
  return Rng(mix(mix(ctx.seed, salt), ctx.seed_stage2));
}

// ---- subsets -------------------------------------------------------------------------------

const std::vector<std::string> kSubsetsWithTrainQa = {
    "q_no_replacement_baseline", "qd1consis", "qd1incons", "qd2consis", "qd2incons", "qd4consis",
    "q"};
const std::vector<std::string> kStage1DefinitionSubsets = {"qd1consis", "qd1incons", "qd2consis",
                                                           "qd2incons", "qd4consis"};
const std::vector<std::string> kStage2DefinitionSubsets = {"d1consis", "d2consis", "d3consis"};
const std::vector<std::string> kInconsistentSubsets = {"qd1incons", "qd2incons"};
// Subsets whose aliases the model never sees get no entity-attribution sets.
const std::vector<std::string> kBaselines = {"q_no_replacement_baseline", "no_qd_baseline"};

bool contains(const std::vector<std::string>& v, const std::string& s) {
  return std::find(v.begin(), v.end(), s) != v.end();
}

// The tag a subset's definitions carry (0: none; qd4consis numbers one tag per entity from 4).
int tag_index_of(const std::string& subset) {
  if (subset == "qd1consis" || subset == "qd1incons" || subset == "d1consis") return 1;
  if (subset == "qd2consis" || subset == "qd2incons" || subset == "d2consis") return 2;
  if (subset == "d3consis") return 3;
  if (subset == "qd4consis") return 4;
  return 0;
}

// ---- text formats (spec §2) ------------------------------------------------------------------

std::string fill(const std::string& question_template, const std::string& filler) {
  std::string out;
  size_t from = 0;
  for (size_t at; (at = question_template.find("{}", from)) != std::string::npos; from = at + 2)
    out += question_template.substr(from, at - from) + filler;
  return out + question_template.substr(from);
}

// The answers of a ';'-list, trimmed, empty ones dropped.
std::vector<std::string> answers_of(const std::string& answer) {
  std::vector<std::string> out;
  for (const auto& a : split(answer, ';'))
    if (!trim(a).empty()) out.push_back(trim(a));
  return out;
}

std::string join(const std::vector<std::string>& v, const std::string& sep) {
  std::string out;
  for (size_t i = 0; i < v.size(); ++i) out += (i ? sep : "") + v[i];
  return out;
}

// One QA example: "Q: {question}\nA: {answer}\n", prompt "Q: {question}\nA:", answer
// " {first answer}\n". `context` (an in-context definition, "DEFINITION. ") precedes it.
// `all_answers` puts the whole ';'-list into `answer`, for evaluation (EM matches any of them).
Example qa_example(const std::string& question, const std::string& answer,
                   const std::string& context, bool all_answers) {
  const auto answers = answers_of(answer);
  Example e;
  e.prompt = context + "Q: " + question + "\nA:";
  e.text = e.prompt + " " + answers.front() + "\n";
  e.answer = " " + (all_answers ? join(answers, ";") : answers.front()) + "\n";
  e.kind = "qa";
  return e;
}

// UTF-8 characters of `s` (bytes of a malformed sequence count one each).
std::vector<std::string> characters(const std::string& s) {
  std::vector<std::string> out;
  for (size_t i = 0; i < s.size();) {
    size_t len = 1;
    const auto c = static_cast<unsigned char>(s[i]);
    if (c >= 0xF0) len = 4;
    else if (c >= 0xE0) len = 3;
    else if (c >= 0xC0) len = 2;
    len = std::min(len, s.size() - i);
    out.push_back(s.substr(i, len));
    i += len;
  }
  return out;
}

// ---- the entities as the protocol sees them -------------------------------------------------

void check_entities(const std::vector<Entity>& entities) {
  std::set<std::string> names;
  for (const auto& e : entities) {
    if (trim(e.name).empty()) reject("an entity has an empty name");
    if (!names.insert(e.name).second) reject("entity '" + e.name + "' is listed twice");
    if (e.qa.empty()) reject("entity '" + e.name + "' has no questions");
    for (const auto& q : e.qa) {
      if (q.question_template.find("{}") == std::string::npos)
        reject("entity '" + e.name + "': question template '" + q.question_template +
               "' has no {}");
      if (answers_of(q.answer).empty())
        reject("entity '" + e.name + "': question '" + q.question_template + "' has no answer");
    }
  }
}

// Everything drawn for one run, by entity name.
struct Layout {
  std::map<std::string, const Entity*> entity;
  std::map<std::string, std::string> alias;            // entity -> its alias in questions
  std::map<std::string, std::vector<std::string>> members;  // subset -> entities, slice order
  // Definitions: alias -> the entity its definition names (differs in the incons subsets).
  std::map<std::string, std::string> defined_as;
  std::map<std::string, std::string> swapped_alias;  // incons entity -> alias defined as it
  std::map<std::string, int> tag_of_alias;
  std::map<std::string, std::vector<bool>> is_test;    // entity -> per question
};

Layout draw_layout(const std::vector<Entity>& entities, const Settings& s, const SplitContext& ctx) {
  Layout L;
  std::vector<std::string> names;
  for (const auto& e : entities) {
    L.entity[e.name] = &e;
    names.push_back(e.name);
  }
  std::sort(names.begin(), names.end());

  // Aliases are drawn for every entity from the Stage-1 seed alone, never equal to a tag.
  std::set<std::string> reserved;
  for (const auto& w : ctx.tagger->vocabulary()) reserved.insert(w);
  auto alias_rng = stage1_stream(ctx, kAliases);
  const auto aliases = draw_aliases(names.size(), static_cast<size_t>(s.alias_length),
                                    s.alias_format, reserved, alias_rng);
  for (size_t i = 0; i < names.size(); ++i) L.alias[names[i]] = aliases[i];

  auto split_rng = stage1_stream(ctx, kSplit);
  auto stage2_rng = stage2_stream(ctx, kStage2Split);
  L.members = split_two_level(names, s.stage1_fractions, s.stage2_fractions, split_rng, stage2_rng);

  // Definitions. Inconsistent subsets pair each alias with another entity of the subset: a
  // derangement of the subset's entities (sorted, then shuffled, so it is independent of the
  // order the split produced).
  auto derangement_rng = stage1_stream(ctx, kDerangement);
  for (const auto& subset : qa_entity_subsets()) {
    const int tag = tag_index_of(subset);
    if (tag == 0) continue;
    std::vector<std::string> members = L.members.at(subset);
    if (contains(kInconsistentSubsets, subset)) {
      if (members.size() == 1)
        reject("fractions: " + subset + " has a single entity, which cannot be paired with "
               "another one; give it 0 or at least 2 entities");
      std::sort(members.begin(), members.end());
      derangement_rng.shuffle(members);
      const auto perm = derangement(members.size(), derangement_rng);
      for (size_t i = 0; i < members.size(); ++i) {
        L.defined_as[L.alias.at(members[i])] = members[perm[i]];
        L.swapped_alias[members[perm[i]]] = L.alias.at(members[i]);
      }
    } else {
      for (const auto& name : members) L.defined_as[L.alias.at(name)] = name;
    }
    const auto& in_split_order = L.members.at(subset);  // qd4consis: tags 4, 5, ... in this order
    for (size_t i = 0; i < in_split_order.size(); ++i)
      L.tag_of_alias[L.alias.at(in_split_order[i])] =
          subset == "qd4consis" ? tag + static_cast<int>(i) : tag;
  }

  // Stratified test split: per entity of a subset with training QA, test_questions_per_entity
  // random questions are test (at least one question stays in training); all questions of the
  // other subsets are test.
  auto test_rng = stage1_stream(ctx, kTestSplit);
  for (const auto& subset : qa_entity_subsets()) {
    const bool has_train_qa = contains(kSubsetsWithTrainQa, subset);
    for (const auto& name : L.members.at(subset)) {
      const size_t n = L.entity.at(name)->qa.size();
      auto& test = L.is_test[name];
      test.assign(n, !has_train_qa);
      if (!has_train_qa) continue;
      std::vector<size_t> order(n);
      for (size_t i = 0; i < n; ++i) order[i] = i;
      test_rng.shuffle(order);
      const size_t k = std::min(static_cast<size_t>(s.test_questions_per_entity), n - 1);
      for (size_t i = 0; i < k; ++i) test[order[i]] = true;
    }
  }
  return L;
}

// ---- examples --------------------------------------------------------------------------------

struct Builder {
  const Settings& s;
  const SplitContext& ctx;
  const Layout& L;

  // The definition of `alias`, rendered by the run's tagger.
  Example definition(const std::string& alias, const std::string& subset) const {
    Definition d;
    d.tag_index = L.tag_of_alias.at(alias);
    d.variable = alias;
    d.entity = L.defined_as.at(alias);
    d.order = s.definition_order;
    const RenderedText r = ctx.tagger->render(d);
    Example e;
    e.text = r.text;
    e.prompt = r.prompt;
    e.answer = r.answer;
    e.subset = subset;
    e.entity = d.entity;
    e.variable = alias;
    e.kind = "definition";
    return e;
  }

  // "DEFINITION. " before in-context questions about `alias`; "" when there is none.
  std::string context_of(const std::string& alias) const {
    if (!s.in_context || !L.defined_as.count(alias)) return "";
    // A sentence-style definition ("... is ENT.") keeps one period.
    std::string text = definition(alias, "").text;
    while (!text.empty() && (text.back() == '\n' || text.back() == ' ' || text.back() == '.'))
      text.pop_back();
    return text + ". ";
  }

  // Question `q` about entity `name`, asked through `alias` ("" = by the real name).
  Example question(const std::string& name, const QAPair& q, const std::string& alias,
                   const std::string& subset, bool for_eval) const {
    Example e = qa_example(fill(q.question_template, alias.empty() ? name : alias), q.answer,
                           alias.empty() ? "" : context_of(alias), for_eval);
    e.subset = subset;
    e.entity = name;
    e.variable = alias;
    return e;
  }
};

// Stable sort by alias (the reference orders test sets and definitions by variable, which keeps
// each alias's examples together for gradient-alignment analyses).
void sort_by_alias(std::vector<Example>& v) {
  std::stable_sort(v.begin(), v.end(),
                   [](const Example& a, const Example& b) { return a.variable < b.variable; });
}

std::vector<Example> concat(const std::map<std::string, std::vector<Example>>& sets,
                            const std::vector<std::string>& keys) {
  std::vector<Example> out;
  for (const auto& k : keys) {
    auto it = sets.find(k);
    if (it != sets.end()) out.insert(out.end(), it->second.begin(), it->second.end());
  }
  return out;
}

std::vector<Example> shuffled(std::vector<Example> v, Rng rng) {
  rng.shuffle(v);
  return v;
}

// d2incons (spec §4): the d2consis questions with aliases swapped in pairs — sorted aliases
// (0,1), (2,3), ...; an odd last alias is left out. Each question keeps its entity's answer but
// names the partner's alias.
std::vector<Example> swapped_pairs_test(const Builder& b, const std::vector<std::string>& members) {
  std::vector<std::string> aliases;
  for (const auto& name : members) aliases.push_back(b.L.alias.at(name));
  std::sort(aliases.begin(), aliases.end());
  std::map<std::string, std::string> owner;  // alias -> entity
  for (const auto& name : members) owner[b.L.alias.at(name)] = name;
  std::vector<Example> out;
  for (size_t i = 0; i + 1 < aliases.size(); i += 2) {
    for (const auto& [from, to] : {std::pair{aliases[i], aliases[i + 1]},
                                   std::pair{aliases[i + 1], aliases[i]}}) {
      const std::string& name = owner.at(from);
      for (const auto& q : b.L.entity.at(name)->qa)
        out.push_back(b.question(name, q, to, "d2incons", true));
    }
  }
  return out;
}

// Entity attribution ("Who is X?" -> name) and letters of the name (spec §4).
struct ProbeQuestion {
  std::string set, question_template;
  int letter;  // -1: answer is the name; 0, 1: that letter; 2: the last letter
};

std::vector<ProbeQuestion> probe_questions(const Settings& s) {
  std::vector<ProbeQuestion> out;
  if (s.entity_attribution) {
    out.push_back({"who", "Who is {}?", -1});
    out.push_back({"meaning", "What does {} mean?", -1});
    out.push_back({"standFor", "What does {} stand for?", -1});
    out.push_back({"name", "What is the name of {}?", -1});
  }
  if (s.letters) {
    out.push_back({"letter0", "Which letter does the name of {} start with?", 0});
    out.push_back({"letter1", "What is the second letter in the name of {}?", 1});
    out.push_back({"letterLast", "What is the last letter in the name of {}?", 2});
  }
  return out;
}

void add_probe_sets(const Builder& b, std::vector<EvalSet>& evals) {
  const auto probes = probe_questions(b.s);
  if (probes.empty()) return;
  // (set suffix, entity -> alias asked about): each subset by the aliases of its questions, and
  // the inconsistent subsets also by the alias their definition gave each entity.
  std::vector<std::pair<std::string, std::vector<std::pair<std::string, std::string>>>> groups;
  for (const auto& subset : qa_entity_subsets()) {
    if (contains(kBaselines, subset)) continue;
    std::vector<std::pair<std::string, std::string>> pairs;
    for (const auto& name : b.L.members.at(subset)) pairs.emplace_back(name, b.L.alias.at(name));
    groups.emplace_back(subset, pairs);
  }
  for (const auto& subset : kInconsistentSubsets) {
    std::vector<std::pair<std::string, std::string>> pairs;
    for (const auto& name : b.L.members.at(subset))
      pairs.emplace_back(name, b.L.swapped_alias.at(name));
    groups.emplace_back(subset + "_swapped", pairs);
  }
  for (const auto& [suffix, pairs] : groups) {
    for (const auto& probe : probes) {
      EvalSet set{"ent_assoc_" + probe.set + "_" + suffix, {}};
      for (const auto& [name, alias] : pairs) {
        std::string answer = name;
        if (probe.letter >= 0) {
          const auto chars = characters(name);
          const size_t at = probe.letter == 2 ? chars.size() - 1 : static_cast<size_t>(probe.letter);
          if (at >= chars.size()) continue;  // a one-letter name has no second letter
          answer = chars[at];
        }
        Example e = qa_example(fill(probe.question_template, alias), answer, "", true);
        e.subset = suffix;
        e.entity = name;
        e.variable = alias;
        set.examples.push_back(std::move(e));
      }
      if (!set.examples.empty()) evals.push_back(std::move(set));
    }
  }
}

}  // namespace

const std::vector<std::string>& train_subsets() {
  static const std::vector<std::string> v = {"full", "stage1", "stage2", "stage1_only_defns",
                                             "stage1_only_qa", "all_defns", "knowledge"};
  return v;
}

std::string anonymize_year(int64_t year) {
  if (year <= 1900) {
    const int64_t magnitude = year < 0 ? -year : year;
    return std::to_string((magnitude + 99) / 100) + " century" + (year < 0 ? " BC" : "");
  }
  if (year < 2000) return std::to_string(year / 10) + "0s";
  return std::to_string(year);
}

DataSplit build_qa_protocol(const std::vector<Entity>& entities, const Json& params,
                             const SplitContext& ctx) {
  const Settings s = qa::read_settings(params);
  if (!ctx.tagger) reject("needs a tagger (SplitContext.tagger is null)");
  if (entities.empty()) reject("no entities");
  check_entities(entities);
  const Layout L = draw_layout(entities, s, ctx);
  const Builder b{s, ctx, L};

  // Definitions per subset, ordered by alias.
  std::map<std::string, std::vector<Example>> definitions;
  for (const auto& subset : qa_entity_subsets()) {
    if (tag_index_of(subset) == 0) continue;
    auto& defs = definitions[subset];
    for (const auto& name : L.members.at(subset)) defs.push_back(b.definition(L.alias.at(name), subset));
    sort_by_alias(defs);
  }

  // QA: training questions (training answer) and test questions (every answer) per subset.
  // The q_no_replacement_baseline asks by real name, every other subset by alias.
  // train_graded holds the training questions again with every answer, for their eval sets.
  std::map<std::string, std::vector<Example>> train_qa, train_graded, test_qa;
  for (const auto& subset : qa_entity_subsets()) {
    for (const auto& name : L.members.at(subset)) {
      const auto& qa = L.entity.at(name)->qa;
      const std::string alias = subset == "q_no_replacement_baseline" ? "" : L.alias.at(name);
      for (size_t i = 0; i < qa.size(); ++i) {
        if (L.is_test.at(name)[i]) {
          test_qa[subset].push_back(b.question(name, qa[i], alias, subset, true));
        } else {
          train_qa[subset].push_back(b.question(name, qa[i], alias, subset, false));
          train_graded[subset].push_back(b.question(name, qa[i], alias, subset, true));
        }
      }
    }
    if (subset != "q_no_replacement_baseline")
      for (auto* v : {&test_qa[subset], &train_qa[subset], &train_graded[subset]}) sort_by_alias(*v);
  }
  test_qa["d2incons"] = swapped_pairs_test(b, L.members.at("d2consis"));

  // Train subsets (spec §4). In-context runs carry Stage-1 definitions inside the questions.
  DataSplit bundle;
  const std::vector<Example> qa_train = concat(train_qa, kSubsetsWithTrainQa);
  const std::vector<Example> stage1_defs =
      s.in_context ? std::vector<Example>{} : concat(definitions, kStage1DefinitionSubsets);
  const std::vector<Example> stage2_defs = concat(definitions, kStage2DefinitionSubsets);
  auto join_sets = [](std::vector<Example> a, const std::vector<Example>& c) {
    a.insert(a.end(), c.begin(), c.end());
    return a;
  };
  bundle.train["full"] = shuffled(join_sets(join_sets(qa_train, stage1_defs), stage2_defs),
                                  stage2_stream(ctx, kFullOrder));
  bundle.train["stage1"] = shuffled(join_sets(qa_train, stage1_defs), stage1_stream(ctx, kStage1Order));
  bundle.train["stage2"] = shuffled(stage2_defs, stage2_stream(ctx, kStage2Order));
  bundle.train["stage1_only_defns"] =
      shuffled(concat(definitions, kStage1DefinitionSubsets), stage1_stream(ctx, kStage1OnlyDefnsOrder));
  bundle.train["stage1_only_qa"] = shuffled(qa_train, stage1_stream(ctx, kStage1OnlyQaOrder));
  bundle.train["all_defns"] =
      shuffled(join_sets(concat(definitions, kStage1DefinitionSubsets), stage2_defs),
               stage2_stream(ctx, kAllDefnsOrder));

  // Eval sets: test questions per subset, then the training material per subset.
  std::vector<std::string> test_names = qa_entity_subsets();
  test_names.push_back("d2incons");
  for (const auto& name : test_names)
    if (!test_qa[name].empty()) bundle.evals.push_back({name, test_qa[name]});
  for (const auto& subset : kSubsetsWithTrainQa)
    if (!train_graded[subset].empty())
      bundle.evals.push_back({"train_questions_" + subset, train_graded[subset]});
  for (const auto& subset : qa_entity_subsets())
    if (definitions.count(subset) && !definitions.at(subset).empty())
      bundle.evals.push_back({"train_defs_" + subset, definitions.at(subset)});
  add_probe_sets(b, bundle.evals);

  // Stage 0 for models without pretrained knowledge: every question about every entity, by
  // real name, training answer; evaluated on (a fixed sample of) the same questions.
  if (s.knowledge_stage) {
    std::vector<Example> knowledge, graded;
    std::vector<std::string> names;
    for (const auto& e : entities) names.push_back(e.name);
    std::sort(names.begin(), names.end());
    for (const auto& name : names)
      for (const auto& q : L.entity.at(name)->qa) {
        knowledge.push_back(b.question(name, q, "", "knowledge", false));
        graded.push_back(b.question(name, q, "", "knowledge", true));
      }
    bundle.train["knowledge"] = shuffled(knowledge, stage1_stream(ctx, kKnowledgeOrder));
    if (s.knowledge_eval_size > 0 && static_cast<size_t>(s.knowledge_eval_size) < graded.size()) {
      graded = shuffled(graded, stage1_stream(ctx, kKnowledgeEval));
      graded.resize(static_cast<size_t>(s.knowledge_eval_size));
    }
    bundle.evals.push_back({"knowledge", graded});
  }

  bundle.tokenizer = build_text_tokenizer(bundle);

  Json& info = bundle.info;
  for (const auto& subset : qa_entity_subsets()) info["entities"][subset] = L.members.at(subset).size();
  for (const auto& [name, examples] : bundle.train) info["train"][name] = examples.size();
  for (const auto& e : bundle.evals) info["evals"][e.name] = e.examples.size();
  info["vocab_size"] = bundle.tokenizer->vocab_size();
  info["tokenizer"] = bundle.tokenizer->describe();
  return bundle;
}

}  // namespace imlqa
