// A word-level tokenizer: one id per whitespace-separated word of a fixed vocabulary
// (spec §6: pad, unk, eos, then the dataset's words). Deterministic: ids follow the order the
// words were given in.
#pragma once
#include <cstdint>
#include <string>
#include <unordered_map>
#include <vector>

#include <imlsdk/tokenizer.hpp>

namespace set_inclusion {

// The words of `text`, split on ASCII whitespace (newlines included), independent of locale.
std::vector<std::string> split_on_whitespace(const std::string& text);

class WordTokenizer : public imlsdk::Tokenizer {
 public:
  static constexpr int64_t kPad = 0, kUnk = 1, kEos = 2;

  // Ids 0..2 are <pad>, <unk>, <eos>; `words` follow from id 3 in order (a repeated word keeps
  // its first id).
  explicit WordTokenizer(const std::vector<std::string>& words);

  // Splits on any whitespace (newlines included); unknown words map to <unk>. No EOS added.
  std::vector<int64_t> encode(const std::string& text) const override;
  // Joins words with single spaces, skipping <pad> and stopping at the first <eos>.
  std::string decode(const std::vector<int64_t>& ids) const override;
  int64_t vocab_size() const override { return static_cast<int64_t>(words_.size()); }
  int64_t pad_id() const override { return kPad; }
  int64_t eos_id() const override { return kEos; }
  std::string describe() const override;

  const std::vector<std::string>& words() const { return words_; }

 private:
  void add(const std::string& word);

  std::vector<std::string> words_;  // words_[id]
  std::unordered_map<std::string, int64_t> ids_;
};

}  // namespace set_inclusion
