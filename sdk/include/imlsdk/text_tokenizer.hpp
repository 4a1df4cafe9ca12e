// A word-level tokenizer for text models trained from scratch, built from the data itself.
//
// Text is cut into pieces GPT-2 style: an optional leading space followed by a run of letters
// and digits (any byte >= 0x80 counts as a letter, so UTF-8 stays whole), or an optional leading
// space followed by one punctuation character, or a single other character ("\n", a lone
// space, a tab). Every piece of the texts the vocabulary was built from is one token, so
// decode(encode(s)) == s for every such text. Ids 0, 1, 2 are <pad>, <unk>, <eos>; the pieces
// follow in byte order, so the ids depend only on the set of texts, not on their order.
#pragma once
#include <cstdint>
#include <map>
#include <memory>
#include <string>
#include <vector>

#include "imlsdk/data.hpp"

namespace imlsdk {

class TextTokenizer : public Tokenizer {
 public:
  static constexpr int64_t kPad = 0, kUnk = 1, kEos = 2;

  // The pieces of `text`, in order; concatenated they give `text` back.
  static std::vector<std::string> pretokenize(const std::string& text);

  // Vocabulary: every piece of every text, each once, in byte order.
  static std::shared_ptr<TextTokenizer> from_texts(const std::vector<std::string>& texts);

  // Ids 0..2 are the specials, `pieces` follow from id 3 (must be distinct).
  explicit TextTokenizer(std::vector<std::string> pieces);

  // Pieces not in the vocabulary map to <unk>. No EOS is added.
  std::vector<int64_t> encode(const std::string& text) const override;
  // Concatenates pieces, skipping <pad>, writing <unk> as "<unk>", stopping at the first <eos>.
  std::string decode(const std::vector<int64_t>& ids) const override;
  int64_t vocab_size() const override { return static_cast<int64_t>(tokens_.size()); }
  int64_t pad_id() const override { return kPad; }
  int64_t eos_id() const override { return kEos; }
  std::string describe() const override;

  // tokens()[id] is the text of token `id` ("<pad>", "<unk>", "<eos>" for the specials).
  const std::vector<std::string>& tokens() const { return tokens_; }

 private:
  std::vector<std::string> tokens_;
  std::map<std::string, int64_t> ids_;
};

// A TextTokenizer over the text, prompt and answer of every training and evaluation example of
// `split` (so evaluation prompts never hit <unk>), plus `extra_texts`.
std::shared_ptr<TextTokenizer> build_text_tokenizer(const DataSplit& split,
                                                    const std::vector<std::string>& extra_texts = {});

}  // namespace imlsdk
