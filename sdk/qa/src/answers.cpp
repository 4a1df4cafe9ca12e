#include "imlqa/answers.hpp"
#include "imlqa/version.hpp"

#include <cctype>
#include <sstream>

#include "imlsdk/text.hpp"

namespace imlqa {

using imlsdk::split;
using imlsdk::trim;

std::string normalize_answer(const std::string& s) {
  // lower-case and drop ASCII punctuation (as Python's string.punctuation)
  std::string t;
  t.reserve(s.size());
  for (unsigned char c : s) {
    if (std::ispunct(c)) continue;
    t += static_cast<char>(std::tolower(c));
  }
  // drop articles, collapse whitespace
  std::istringstream in(t);
  std::string w, out;
  while (in >> w) {
    if (w == "a" || w == "an" || w == "the") continue;
    if (!out.empty()) out += ' ';
    out += w;
  }
  return out;
}

bool exact_match(const std::string& prediction, const std::string& answer) {
  const std::string p = normalize_answer(prediction);
  for (const auto& a : split(answer, ';'))
    if (normalize_answer(a) == p) return true;
  return false;
}

std::string extract_prediction(const std::string& generated) {
  std::string s = generated;
  const auto pos = s.find("\nA: ");
  if (pos != std::string::npos) s = s.substr(pos + 4);
  const auto nl = s.find('\n');
  if (nl != std::string::npos) s = s.substr(0, nl);
  return trim(s);
}

const char* runtime_version() { return IMLQA_VERSION_STRING; }

}  // namespace imlqa
