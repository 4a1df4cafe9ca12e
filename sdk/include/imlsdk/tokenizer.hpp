// Tokenizers: text to ids and back. A run's tokenizer comes either from the model's checkpoint
// folder (imlsdk/pretrained_tokenizer.hpp: tokenizer.json, tokenizer.model) or is built by the
// dataset from its own texts (imlsdk/text_tokenizer.hpp); the config's `tokenizer.from` says
// which. Tasks add the special tokens a model expects (BOS, EOS) around encode()'s ids.
#pragma once
#include <cstdint>
#include <string>
#include <vector>

namespace imlsdk {

class Tokenizer {
 public:
  virtual ~Tokenizer() = default;
  // The ids of `text`, without special tokens. Deterministic.
  virtual std::vector<int64_t> encode(const std::string& text) const = 0;
  // The text of `ids`: padding and BOS skipped, stops at the first EOS.
  virtual std::string decode(const std::vector<int64_t>& ids) const = 0;
  // Ids are 0 .. vocab_size()-1; a model's embedding must have at least this many rows.
  virtual int64_t vocab_size() const = 0;
  virtual int64_t pad_id() const = 0;
  virtual int64_t eos_id() const = 0;  // appended to every training sequence
  virtual int64_t bos_id() const { return -1; }  // -1: the tokenizer has none
  // Does the model expect BOS before every sequence (Llama: yes; GPT-NeoX, GPT-2, T5: no)?
  virtual bool add_bos() const { return false; }
  virtual std::string describe() const = 0;
};

}  // namespace imlsdk
