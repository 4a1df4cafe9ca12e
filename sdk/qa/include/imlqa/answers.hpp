// Grading QA answers (spec §5): how a generated continuation is read and compared.
#pragma once
#include <string>

namespace imlqa {

// SQuAD-style normalisation: lower-case, drop punctuation, drop articles a/an/the, collapse
// whitespace.
std::string normalize_answer(const std::string& s);

// Exact match of a prediction against an answer that may list several `;`-separated answers.
bool exact_match(const std::string& prediction, const std::string& answer);

// The prediction is the generated text after "\nA: " (if present) up to the next newline.
std::string extract_prediction(const std::string& generated);

}  // namespace imlqa
