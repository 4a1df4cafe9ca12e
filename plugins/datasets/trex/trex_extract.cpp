#include "trex_extract.hpp"

#include <algorithm>
#include <numeric>
#include <unordered_map>

#include "trex_rules.hpp"
#include "trex_templates.hpp"

namespace trex {
namespace {

const char* const kTripleRules[] = {
    "subject_seen_once",        "pronoun",           "empty_after_stripping",
    "predicate_not_in_table_2", "p577_without_year", "no_first_name",
    "answer_repeats_other_question", "duplicate_value"};
const char* const kWorkRules[] = {"too_few_questions", "ambiguous_name", "not_selected"};

// A work is its subject surface form together with its URI.
uint64_t work_key(const TripleStore::Triple& t) {
  return (static_cast<uint64_t>(t.subject) << 32) | t.subject_uri;
}

void drop(imlsdk::Json& counts, const char* rule) {
  counts[rule] = counts[rule].get<size_t>() + 1;
}

std::string join(const std::vector<std::string>& values, char sep) {
  std::string out;
  for (const auto& v : values) out += (out.empty() ? "" : std::string(1, sep)) + v;
  return out;
}

}  // namespace

std::vector<Work> collect_works(const TripleStore& store, Counts& counts, PredicateSet set) {
  for (const char* rule : kTripleRules) counts.triples[rule] = 0;

  std::unordered_map<uint64_t, size_t> triples_per_work;
  for (const auto& t : store.triples()) ++triples_per_work[work_key(t)];

  std::vector<Work> works;
  std::unordered_map<uint64_t, size_t> index_of;
  // Per work: which question each full value (before first names) answers.
  std::vector<std::unordered_map<std::string, std::string>> answered_by;

  for (const auto& t : store.triples()) {
    if (triples_per_work.at(work_key(t)) == 1) { drop(counts.triples, "subject_seen_once"); continue; }
    const std::string subject = strip_parentheses(store.text(t.subject));
    const std::string object = strip_parentheses(store.text(t.object));
    if (is_pronoun(subject) || is_pronoun(object)) { drop(counts.triples, "pronoun"); continue; }
    if (subject.empty() || object.empty()) { drop(counts.triples, "empty_after_stripping"); continue; }
    const PredicateTemplate* table = find_template(store.text(t.predicate), set);
    if (!table) { drop(counts.triples, "predicate_not_in_table_2"); continue; }

    std::string value = object;
    if (table->predicate == "P577") {
      const auto year = publication_year(object);
      if (!year) { drop(counts.triples, "p577_without_year"); continue; }
      value = imlqa::anonymize_year(*year);
    }
    std::string answer = value;
    if (table->asks_first_name) {
      const auto first = first_name(value);
      if (!first) { drop(counts.triples, "no_first_name"); continue; }
      answer = *first;
    }

    const uint64_t key = work_key(t);
    auto [it, is_new] = index_of.emplace(key, works.size());
    if (is_new) {
      works.push_back({subject, normalize_space(store.text(t.subject)), store.text(t.subject_uri), {}});
      answered_by.emplace_back();
    }
    Work& work = works[it->second];
    const auto [owner, first_use] = answered_by[it->second].emplace(value, table->question);
    if (!first_use && owner->second != table->question) {
      drop(counts.triples, "answer_repeats_other_question");
      continue;
    }
    auto q = std::find_if(work.questions.begin(), work.questions.end(), [&](const Question& x) {
      return x.question_template == table->question;
    });
    if (q == work.questions.end()) {
      work.questions.push_back({table->question, table->predicate, {}});
      q = work.questions.end() - 1;
    }
    if (std::find(q->values.begin(), q->values.end(), answer) != q->values.end()) {
      drop(counts.triples, "duplicate_value");
      continue;
    }
    q->values.push_back(answer);
  }
  return works;
}

std::vector<Work> eligible_works(std::vector<Work> works, const Selection& selection,
                                 Counts& counts) {
  for (const char* rule : kWorkRules) counts.entities[rule] = 0;

  std::vector<Work> eligible;
  for (auto& w : works) {
    if (static_cast<int64_t>(w.questions.size()) >= selection.min_predicates)
      eligible.push_back(std::move(w));
    else
      drop(counts.entities, "too_few_questions");
  }

  // Distinct works sharing a name are named by their full surface form; those still sharing
  // one cannot be told apart by a reader and are dropped.
  std::unordered_map<std::string, size_t> uses;
  for (const auto& w : eligible) ++uses[w.name];
  for (auto& w : eligible)
    if (uses.at(w.name) > 1) w.name = w.surface_form;
  uses.clear();
  for (const auto& w : eligible) ++uses[w.name];
  std::vector<Work> named;
  for (auto& w : eligible) {
    if (uses.at(w.name) > 1)
      drop(counts.entities, "ambiguous_name");
    else
      named.push_back(std::move(w));
  }
  return named;
}

std::vector<imlqa::Entity> draw_entities(const std::vector<Work>& named,
                                         const Selection& selection, imlsdk::Rng& rng,
                                         Counts& counts) {
  // Which works: all of them, or a seeded draw of n_entities kept in first-seen order.
  std::vector<size_t> chosen(named.size());
  std::iota(chosen.begin(), chosen.end(), 0);
  const auto limit = static_cast<size_t>(std::max<int64_t>(selection.n_entities, 0));
  counts.entities["not_selected"] = chosen.size() > limit ? chosen.size() - limit : 0;
  if (chosen.size() > limit) {
    rng.shuffle(chosen);
    chosen.resize(limit);
    std::sort(chosen.begin(), chosen.end());
  }

  std::vector<imlqa::Entity> entities;
  const auto per_entity = static_cast<size_t>(selection.questions_per_entity);
  for (size_t i : chosen) {
    const Work& w = named[i];
    std::vector<size_t> asked(w.questions.size());
    std::iota(asked.begin(), asked.end(), 0);
    if (per_entity > 0 && asked.size() > per_entity) {
      counts.questions_not_selected += asked.size() - per_entity;
      asked = rng.sample(asked, per_entity);
      std::sort(asked.begin(), asked.end());
    }
    imlqa::Entity e;
    e.name = w.name;
    for (size_t k : asked) {
      const Question& q = w.questions[k];
      e.qa.push_back({q.question_template, join(q.values, ';'), q.relation});
    }
    entities.push_back(std::move(e));
  }
  return entities;
}

std::vector<imlqa::Entity> select_entities(std::vector<Work> works, const Selection& selection,
                                           imlsdk::Rng& rng, Counts& counts) {
  return draw_entities(eligible_works(std::move(works), selection, counts), selection, rng,
                       counts);
}

}  // namespace trex
