#include "word_tokenizer.hpp"

namespace set_inclusion {
namespace {

// ASCII whitespace, independent of the global locale.
bool is_space(char c) {
  return c == ' ' || c == '\n' || c == '\t' || c == '\r' || c == '\v' || c == '\f';
}

}  // namespace

std::vector<std::string> split_on_whitespace(const std::string& text) {
  std::vector<std::string> words;
  size_t i = 0;
  while (i < text.size()) {
    while (i < text.size() && is_space(text[i])) ++i;
    const size_t begin = i;
    while (i < text.size() && !is_space(text[i])) ++i;
    if (i > begin) words.push_back(text.substr(begin, i - begin));
  }
  return words;
}

WordTokenizer::WordTokenizer(const std::vector<std::string>& words) {
  for (const char* special : {"<pad>", "<unk>", "<eos>"}) add(special);
  for (const auto& w : words) add(w);
}

void WordTokenizer::add(const std::string& word) {
  if (ids_.emplace(word, static_cast<int64_t>(words_.size())).second) words_.push_back(word);
}

std::vector<int64_t> WordTokenizer::encode(const std::string& text) const {
  std::vector<int64_t> ids;
  for (const auto& word : split_on_whitespace(text)) {
    const auto it = ids_.find(word);
    ids.push_back(it == ids_.end() ? kUnk : it->second);
  }
  return ids;
}

std::string WordTokenizer::decode(const std::vector<int64_t>& ids) const {
  std::string out;
  for (int64_t id : ids) {
    if (id == kEos) break;
    if (id == kPad) continue;
    const bool known = id >= 0 && id < vocab_size();
    if (!out.empty()) out += ' ';
    out += known ? words_[static_cast<size_t>(id)] : words_[kUnk];
  }
  return out;
}

std::string WordTokenizer::describe() const {
  return "word-level, " + std::to_string(words_.size()) + " tokens";
}

}  // namespace set_inclusion
