#include "trex_rules.hpp"

#include <algorithm>
#include <vector>

namespace trex {
namespace {

bool is_space(char c) { return c == ' ' || c == '\t' || c == '\n' || c == '\r'; }
bool is_digit(char c) { return c >= '0' && c <= '9'; }
bool is_ascii_letter(char c) { return (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z'); }

std::string ascii_lower(std::string s) {
  for (auto& c : s)
    if (c >= 'A' && c <= 'Z') c = static_cast<char>(c + 32);
  return s;
}

std::vector<std::string> words_of(const std::string& s) {
  std::vector<std::string> words;
  size_t i = 0;
  while (i < s.size()) {
    while (i < s.size() && is_space(s[i])) ++i;
    const size_t begin = i;
    while (i < s.size() && !is_space(s[i])) ++i;
    if (i > begin) words.push_back(s.substr(begin, i - begin));
  }
  return words;
}

// "J.", "J.R.R.", "H.G.": one letter, a dot, repeated.
bool is_initials(const std::string& w) {
  if (w.size() < 2 || w.size() % 2 != 0) return false;
  for (size_t i = 0; i < w.size(); i += 2)
    if (!is_ascii_letter(w[i]) || w[i + 1] != '.') return false;
  return true;
}

bool is_title(const std::string& w) {
  static const std::vector<std::string> titles = {
      "Sir",   "Dame",     "Lord",    "Lady",     "Dr.",      "Dr",    "Mr.",   "Mrs.",
      "Ms.",   "Prof.",    "Pope",    "King",     "Queen",    "Emperor", "Empress", "Saint",
      "St.",   "Cardinal", "Duke",    "Duchess"};
  return std::find(titles.begin(), titles.end(), w) != titles.end();
}

bool is_article(const std::string& w) {
  const auto l = ascii_lower(w);
  return l == "the" || l == "a" || l == "an";
}

// Is "BC"/"BCE"/"B.C." written as a word in s[from..]?
bool says_bc(const std::string& s, size_t from) {
  for (const auto& w : words_of(s.substr(from))) {
    std::string bare;
    for (char c : w)
      if (c != '.' && c != ',' && c != ')') bare += c;
    if (bare == "BC" || bare == "BCE") return true;
  }
  return false;
}

}  // namespace

std::string normalize_space(const std::string& s) {
  std::string out;
  for (const auto& w : words_of(s)) out += (out.empty() ? "" : " ") + w;
  return out;
}

std::string strip_parentheses(const std::string& s) {
  std::string out;
  size_t i = 0;
  while (i < s.size()) {
    if (s[i] != '(') {
      out += s[i++];
      continue;
    }
    // Find the ')' closing this '(' (nested groups inside it included).
    size_t depth = 0, j = i;
    for (; j < s.size(); ++j) {
      if (s[j] == '(') ++depth;
      if (s[j] == ')' && --depth == 0) break;
    }
    if (j == s.size()) {  // unbalanced: keep the rest as written
      out += s.substr(i);
      break;
    }
    out += ' ';  // "A(x)B" -> "A B"
    i = j + 1;
  }
  return normalize_space(out);
}

bool is_pronoun(const std::string& s) {
  const auto l = ascii_lower(s);
  return l == "he" || l == "she" || l == "it" || l == "they" || l == "him" || l == "her" ||
         l == "them";
}

std::optional<int64_t> publication_year(const std::string& s) {
  size_t i = 0;
  while (i < s.size()) {
    if (!is_digit(s[i])) {
      ++i;
      continue;
    }
    const size_t begin = i;
    while (i < s.size() && is_digit(s[i])) ++i;
    if (i - begin != 4) continue;
    const int64_t y = std::stoll(s.substr(begin, 4));
    const bool iso_bce = begin == 1 && s[0] == '-';
    return iso_bce || says_bc(s, i) ? -y : y;
  }
  return std::nullopt;
}

std::optional<std::string> first_name(const std::string& full_name) {
  auto words = words_of(full_name);
  bool titled = false;
  while (!words.empty() && is_title(words.front())) {
    words.erase(words.begin());
    titled = true;
  }
  if (words.empty() || (words.size() < 2 && !titled)) return std::nullopt;
  const std::string& first = words.front();
  if (is_article(first) || (first[0] >= 'a' && first[0] <= 'z') ||
      std::any_of(first.begin(), first.end(), is_digit))
    return std::nullopt;
  if (!is_initials(first)) return first;
  size_t n = 0;
  std::string initials;
  for (; n < words.size() && is_initials(words[n]); ++n) initials += (n ? " " : "") + words[n];
  if (n == words.size()) return std::nullopt;  // initials without a surname
  return initials;
}

}  // namespace trex
