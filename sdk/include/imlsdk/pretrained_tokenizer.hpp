// Tokenizers that come with pretrained checkpoints (library imlsdk::tokenizers, torch-free).
//
//   auto tok = imlsdk::load_pretrained_tokenizer("checkpoints/pythia-70m");  // a folder or a file
//   std::vector<int64_t> ids = tok->encode("Define xbq Cleopatra");
//
// Two kinds:
// - HfBpeTokenizer reads a Hugging Face `tokenizer.json` whose model is byte-level BPE (GPT-2,
//   GPT-Neo, GPT-NeoX-20B / Pythia) and encodes exactly as the HF `tokenizers` library does with
//   add_special_tokens=False: added tokens are matched in the text first (so "<|endoftext|>"
//   inside a text is one id), the rest is NFC-normalized if the file says so, split with the
//   GPT-2 pattern and byte-pair encoded.
// - SentencePieceTokenizer wraps libsentencepiece for `tokenizer.model` (Llama) and
//   `spiece.model` (T5) files.
// encode() never adds BOS or EOS; a caller that trains a model with add_bos() prepends bos_id().
// Bad files throw std::invalid_argument with one line that names the file and what is wrong or
// unsupported, e.g. "<path>: unsupported tokenizer.json pre_tokenizer 'Metaspace' (supported:
// ByteLevel)".
#pragma once
#include <cstdint>
#include <memory>
#include <string>
#include <vector>

#include "imlsdk/tokenizer.hpp"

namespace imlsdk {

// Byte-level BPE from a Hugging Face tokenizer.json. Supported components: normalizer null or
// NFC; pre_tokenizer ByteLevel (add_prefix_space, use_regex), alone or as the only member of a
// Sequence; model BPE (vocab, merges as "a b" strings or [a, b] arrays, unk_token,
// ignore_merges); decoder ByteLevel; added tokens with their single_word, lstrip, rstrip and
// normalized flags. post_processor is ignored (no special tokens are ever added).
//
// Special ids: eos = "<|endoftext|>", pad = "<|padding|>" else eos, bos none, unk =
// model.unk_token — each where present; then bos_token, eos_token, pad_token and unk_token from
// tokenizer_config.json and special_tokens_map.json next to the file (the latter wins, as in
// transformers), and add_bos_token from tokenizer_config.json.
//
// encode() is safe to call from several threads; it caches the BPE result of every distinct
// pre-token (up to a bound), so repeated words cost one hash lookup.
class HfBpeTokenizer : public Tokenizer {
 public:
  // Throws std::invalid_argument "<path>: ..." for an unreadable, malformed or unsupported file.
  explicit HfBpeTokenizer(const std::string& path);
  ~HfBpeTokenizer() override;
  HfBpeTokenizer(const HfBpeTokenizer&) = delete;
  HfBpeTokenizer& operator=(const HfBpeTokenizer&) = delete;

  std::vector<int64_t> encode(const std::string& text) const override;
  // Concatenates the bytes of the tokens (added tokens as written), skipping pad and bos and
  // stopping at the first eos. Bytes are returned as they are: decoding a prefix of a text's
  // ids may end inside a UTF-8 character. Throws std::out_of_range for an unknown id.
  std::string decode(const std::vector<int64_t>& ids) const override;
  int64_t vocab_size() const override;  // highest id + 1 (vocab and added tokens)
  int64_t pad_id() const override;
  int64_t eos_id() const override;
  std::string describe() const override;
  int64_t bos_id() const override;  // -1 = none
  bool add_bos() const override;  // whether the model expects BOS before every sequence
  int64_t unk_id() const;  // -1 = none

  // The id of a token (vocab or added token, as written in tokenizer.json), -1 if none.
  int64_t token_to_id(const std::string& token) const;

 private:
  struct Impl;
  std::unique_ptr<Impl> impl_;
};

// A SentencePiece model (Llama's tokenizer.model, T5's spiece.model) through libsentencepiece.
// Special ids are the model's: bos/eos/unk as trained (-1 = none), pad = the model's pad piece,
// else eos. add_bos() is true iff the model has a BOS piece (Llama yes, T5 no).
class SentencePieceTokenizer : public Tokenizer {
 public:
  // Throws std::invalid_argument "<path>: ..." for a missing or corrupt model file.
  explicit SentencePieceTokenizer(const std::string& path);
  ~SentencePieceTokenizer() override;
  SentencePieceTokenizer(const SentencePieceTokenizer&) = delete;
  SentencePieceTokenizer& operator=(const SentencePieceTokenizer&) = delete;

  std::vector<int64_t> encode(const std::string& text) const override;
  // Skips pad and bos, stops at the first eos, drops other control pieces, then detokenizes
  // as SentencePiece does. Throws std::out_of_range for an unknown id.
  std::string decode(const std::vector<int64_t>& ids) const override;
  int64_t vocab_size() const override;
  int64_t pad_id() const override;
  int64_t eos_id() const override;
  std::string describe() const override;
  int64_t bos_id() const override;
  bool add_bos() const override;
  int64_t unk_id() const;

 private:
  struct Impl;
  std::unique_ptr<Impl> impl_;
};

// Loads the tokenizer of a checkpoint folder: tokenizer.model, else spiece.model (SentencePiece
// is exact for Llama and T5), else tokenizer.json (HfBpeTokenizer). `path` may also name one
// such file directly (*.json is read as tokenizer.json, anything else as a SentencePiece model).
// Throws std::invalid_argument "<folder>: no tokenizer found (expected tokenizer.json,
// tokenizer.model or spiece.model)" when there is none.
std::shared_ptr<Tokenizer> load_pretrained_tokenizer(const std::string& path);

}  // namespace imlsdk
