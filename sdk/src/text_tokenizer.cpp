#include "imlsdk/text_tokenizer.hpp"

#include <set>
#include <stdexcept>

namespace imlsdk {
namespace {

// Letters and digits; every byte of a multi-byte UTF-8 character counts as a letter.
bool is_word_byte(unsigned char c) {
  return (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9') || c >= 0x80;
}

// Printable ASCII that is neither a word byte nor a space.
bool is_punct_byte(unsigned char c) { return c > ' ' && c < 0x7F && !is_word_byte(c); }

const char* const kSpecials[] = {"<pad>", "<unk>", "<eos>"};

}  // namespace

std::vector<std::string> TextTokenizer::pretokenize(const std::string& text) {
  std::vector<std::string> pieces;
  const size_t n = text.size();
  size_t i = 0;
  while (i < n) {
    const size_t start = i;
    // A space attaches to the word or punctuation character that follows it.
    const bool space = text[i] == ' ' && i + 1 < n;
    const size_t j = space ? i + 1 : i;
    const auto c = static_cast<unsigned char>(text[j]);
    if (is_word_byte(c)) {
      i = j;
      while (i < n && is_word_byte(static_cast<unsigned char>(text[i]))) ++i;
    } else if (is_punct_byte(c)) {
      i = j + 1;
    } else {
      i = start + 1;  // "\n", a lone space, any other character: one piece each
    }
    pieces.push_back(text.substr(start, i - start));
  }
  return pieces;
}

std::shared_ptr<TextTokenizer> TextTokenizer::from_texts(const std::vector<std::string>& texts) {
  std::set<std::string> pieces;  // byte order
  for (const auto& t : texts)
    for (auto& p : pretokenize(t)) pieces.insert(std::move(p));
  for (const char* s : kSpecials) pieces.erase(s);  // a literal "<pad>" never forms one piece anyway
  return std::make_shared<TextTokenizer>(std::vector<std::string>(pieces.begin(), pieces.end()));
}

TextTokenizer::TextTokenizer(std::vector<std::string> pieces) {
  tokens_.assign(std::begin(kSpecials), std::end(kSpecials));
  tokens_.insert(tokens_.end(), pieces.begin(), pieces.end());
  for (size_t id = 0; id < tokens_.size(); ++id) {
    if (tokens_[id].empty()) throw std::invalid_argument("TextTokenizer: empty piece");
    if (!ids_.emplace(tokens_[id], static_cast<int64_t>(id)).second)
      throw std::invalid_argument("TextTokenizer: piece '" + tokens_[id] + "' listed twice");
  }
}

std::vector<int64_t> TextTokenizer::encode(const std::string& text) const {
  std::vector<int64_t> ids;
  for (const auto& piece : pretokenize(text)) {
    const auto it = ids_.find(piece);
    ids.push_back(it == ids_.end() ? kUnk : it->second);
  }
  return ids;
}

std::string TextTokenizer::decode(const std::vector<int64_t>& ids) const {
  std::string out;
  for (int64_t id : ids) {
    if (id == kEos) break;
    if (id == kPad) continue;
    if (id < 0 || id >= vocab_size()) throw std::out_of_range("TextTokenizer: id " + std::to_string(id));
    out += tokens_[static_cast<size_t>(id)];
  }
  return out;
}

std::string TextTokenizer::describe() const {
  return "text word-level tokenizer (" + std::to_string(vocab_size()) +
         " tokens: <pad> 0, <unk> 1, <eos> 2, then the pieces of the data in byte order)";
}

std::shared_ptr<TextTokenizer> build_text_tokenizer(const DataSplit& split,
                                                    const std::vector<std::string>& extra_texts) {
  std::vector<std::string> texts = extra_texts;
  auto add = [&](const std::vector<Example>& examples) {
    for (const auto& e : examples) {
      texts.push_back(e.text);
      texts.push_back(e.prompt);
      texts.push_back(e.answer);
    }
  };
  for (const auto& [name, examples] : split.train) add(examples);
  for (const auto& set : split.evals) add(set.examples);
  return TextTokenizer::from_texts(texts);
}

}  // namespace imlsdk
