// The predicates of the paper's Table 2 (creative works) and their question templates, and the
// reference code's set, which also asks P31 ("instance of").
#pragma once
#include <string>
#include <vector>

namespace trex {

struct PredicateTemplate {
  std::string predicate;  // Wikidata property id, e.g. "P50"
  std::string question;   // "{}" stands for the work (its name or its alias)
  bool asks_first_name = false;  // the answer is a person, asked by first name only
};

// Which predicates are asked about (the `predicates` param).
//   Paper      the 26 predicates of the paper's Table 2 (the default)
//   Reference  those and P31 "What is the type of {}?", as the reference code asks
enum class PredicateSet { Paper, Reference };

// "paper" or "reference"; anything else throws std::invalid_argument naming the key
// `predicates` and both values.
PredicateSet parse_predicate_set(const std::string& name);

// Table 2 in the paper's order. P407/P364 share one question, as do P1040/P98.
const std::vector<PredicateTemplate>& table2();

// The predicates of `set`: table2(), then P31 for Reference.
const std::vector<PredicateTemplate>& predicate_templates(PredicateSet set);

// The Table-2 entry of `predicate`, or null if the paper does not ask about it.
const PredicateTemplate* find_table2(const std::string& predicate);

// The entry of `predicate` in `set`, or null if that set does not ask about it.
const PredicateTemplate* find_template(const std::string& predicate, PredicateSet set);

}  // namespace trex
