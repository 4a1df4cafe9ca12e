// The predicates of the paper's Table 2 (creative works) and their question templates.
#pragma once
#include <string>
#include <vector>

namespace trex {

struct PredicateTemplate {
  std::string predicate;  // Wikidata property id, e.g. "P50"
  std::string question;   // "{}" stands for the work (its name or its alias)
  bool asks_first_name = false;  // the answer is a person, asked by first name only
};

// Table 2 in the paper's order. P407/P364 share one question, as do P1040/P98.
const std::vector<PredicateTemplate>& table2();

// The Table-2 entry of `predicate`, or null if the paper does not ask about it.
const PredicateTemplate* find_table2(const std::string& predicate);

}  // namespace trex
