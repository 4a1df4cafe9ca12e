// HF tokenizer.json loading (sdk/tokenizers/hf_bpe_tokenizer.cpp), then encoding a text with
// the tokenizer and decoding the ids back. Input: the tokenizer.json, a NUL byte, the text.
#include <stdexcept>

#include "fuzz_util.hpp"
#include "imlsdk/pretrained_tokenizer.hpp"

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  size_t json_size = 0;
  while (json_size < size && data[json_size] != 0) ++json_size;
  const std::string text(reinterpret_cast<const char*>(data) + std::min(size, json_size + 1),
                         size - std::min(size, json_size + 1));
  // Its own folder: the loader also reads tokenizer_config.json beside it (absent here).
  const std::string& path = fuzz::write_input(data, json_size, "tokenizer.json");
  try {
    imlsdk::HfBpeTokenizer tok(path);
    const auto ids = tok.encode(text);
    for (const int64_t id : ids)
      if (id < 0 || id >= tok.vocab_size()) std::abort();  // encode gives known ids only
    (void)tok.decode(ids);
    (void)tok.describe();
  } catch (const std::invalid_argument& e) {
    fuzz::check_message(e.what());
  }
  return 0;
}
