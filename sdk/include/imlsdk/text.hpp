// Text helpers shared by analyses.
#pragma once
#include <string>
#include <vector>

namespace imlsdk {

// SQuAD-style normalisation (spec §5): lower-case, drop punctuation, drop articles a/an/the,
// collapse whitespace.
std::string normalize_answer(const std::string& s);

// Exact match of a prediction against an answer that may list several `;`-separated answers.
bool exact_match(const std::string& prediction, const std::string& answer);

// The prediction is the generated text after "\nA: " (if present) up to the next newline.
std::string extract_prediction(const std::string& generated);

std::vector<std::string> split(const std::string& s, char sep);
std::string trim(const std::string& s);

}  // namespace imlsdk
