// From de-duplicated triples to the entities (works) and questions the QA protocol takes
// (spec §6, paper A.2). Every triple or entity a rule drops is counted under that rule.
//
// Per triple, in first-seen order (the first rule that applies drops it):
//   subject_seen_once           its subject is in no other (de-duplicated) triple
//   pronoun                     subject or object is a pronoun, after "(...)" is stripped
//   empty_after_stripping       nothing is left of the subject or object
//   predicate_not_in_table_2    the predicate set does not ask about the predicate (Table 2;
//                               with PredicateSet::Reference, Table 2 and P31)
//   p577_without_year           a publication date without a four-digit year
//   no_first_name               a person-valued object with no first name (see first_name)
//   answer_repeats_other_question  the object already answers another question about the same
//                               work (the director who also wrote the script): asking both
//                               would let one answer give the other away (as the reference)
//   duplicate_value             the value is already one of the question's answers (two cast
//                               members called Tom, P407 and P364 both "English")
// Values are kept: years anonymised (imlqa::anonymize_year), people by first name, several
// values of one question joined by ';' in first-seen order.
//
// Per work:
//   too_few_questions  fewer than min_predicates distinct questions
//   ambiguous_name     works are told apart by their subject URI. Works whose names are equal
//                      once "(...)" is stripped are named by their full surface form instead
//                      ("Solaris (novel)", "Solaris (1972 film)"); works whose full surface
//                      forms are equal too cannot be named apart and are dropped.
//   not_selected       beyond n_entities (a seeded draw picks which)
// and questions beyond questions_per_entity are left out (a seeded draw picks which).
#pragma once
#include <cstdint>
#include <string>
#include <vector>

#include <imlqa/protocol.hpp>
#include <imlsdk/plugin.hpp>
#include <imlsdk/rng.hpp>

#include "trex_templates.hpp"
#include "triple_store.hpp"

namespace trex {

struct Question {
  std::string question_template;  // Table 2, with "{}" for the work
  std::string relation;           // the first predicate that asked it, e.g. "P364"
  std::vector<std::string> values;
};

struct Work {
  std::string name;          // "(...)" stripped
  std::string surface_form;  // as written (whitespace normalised)
  std::string uri;
  std::vector<Question> questions;  // first-seen order
};

struct Counts {
  imlsdk::Json triples = imlsdk::Json::object();   // rule -> triples dropped
  imlsdk::Json entities = imlsdk::Json::object();  // rule -> works dropped
  size_t questions_not_selected = 0;
};

// Applies the per-triple rules, asking about the predicates of `set`; returns every work with
// at least one question, first-seen order.
std::vector<Work> collect_works(const TripleStore& store, Counts& counts,
                                PredicateSet set = PredicateSet::Paper);

struct Selection {
  int64_t min_predicates = 4;
  int64_t questions_per_entity = 4;  // 0: all
  int64_t n_entities = 6900;
};

// The per-work rules that need no seed (too_few_questions, ambiguous_name): the works that
// stay, named as their entities will be, in first-seen order. Sets every per-work count.
std::vector<Work> eligible_works(std::vector<Work> works, const Selection& selection,
                                 Counts& counts);

// Draws which of the `eligible` works (n_entities) and which of their questions
// (questions_per_entity) to keep with `rng`. The entities come out in first-seen order, their
// questions in first-seen order.
std::vector<imlqa::Entity> draw_entities(const std::vector<Work>& eligible,
                                         const Selection& selection, imlsdk::Rng& rng,
                                         Counts& counts);

// eligible_works, then draw_entities.
std::vector<imlqa::Entity> select_entities(std::vector<Work> works, const Selection& selection,
                                           imlsdk::Rng& rng, Counts& counts);

}  // namespace trex
