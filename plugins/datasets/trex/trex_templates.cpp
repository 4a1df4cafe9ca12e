#include "trex_templates.hpp"

namespace trex {

const std::vector<PredicateTemplate>& table2() {
  // Every "First name of ..." question asks for a person: the reference's people set misses
  // the film editor P1040 although its template asks for a first name (spec §8); here the
  // flag follows the question.
  static const std::vector<PredicateTemplate> t = {
      {"P180", "What does {} depict?"},
      {"P195", "Which collection is {} part of?"},
      {"P135", "Which movement is {} associated with?"},
      {"P123", "Who is the publisher of {}?"},
      {"P750", "What is the distributor of {}?"},
      {"P275", "What is the license of {}?"},
      {"P127", "Who owns {}?"},
      {"P178", "Who developed {}?"},
      {"P407", "In which language was {} published?"},
      {"P364", "In which language was {} published?"},
      {"P577", "When was {} published or released?"},
      {"P179", "Which series is {} part of?"},
      {"P50", "First name of the author of {}?", true},
      {"P57", "First name of the director of {}?", true},
      {"P58", "First name of the screenwriter of {}?", true},
      {"P344", "First name of the cinematographer of {}?", true},
      {"P161", "First name of a cast member of {}?", true},
      {"P162", "First name of the producer of {}?", true},
      {"P1040", "First name of the editor of {}?", true},
      {"P98", "First name of the editor of {}?", true},
      {"P88", "First name of the commissioner of {}?", true},
      {"P86", "First name of the composer for {}?", true},
      {"P136", "What is the genre of {}?"},
      {"P921", "What is the main subject of {}?"},
      {"P840", "Where is {} set?"},
      {"P915", "Where was {} filmed?"},
  };
  return t;
}

const PredicateTemplate* find_table2(const std::string& predicate) {
  for (const auto& t : table2())
    if (t.predicate == predicate) return &t;
  return nullptr;
}

}  // namespace trex
