// load_pretrained_tokenizer: picks the tokenizer file of a checkpoint folder.
#include <filesystem>
#include <stdexcept>

#include "imlsdk/pretrained_tokenizer.hpp"

namespace imlsdk {

std::shared_ptr<Tokenizer> load_pretrained_tokenizer(const std::string& path) {
  namespace fs = std::filesystem;
  std::error_code ec;
  const fs::path p(path);
  if (fs::is_regular_file(p, ec)) {
    if (p.extension() == ".json") return std::make_shared<HfBpeTokenizer>(path);
    return std::make_shared<SentencePieceTokenizer>(path);
  }
  if (!fs::is_directory(p, ec))
    throw std::invalid_argument(path + ": no such folder or tokenizer file");
  // A SentencePiece model wins: libsentencepiece is exact for Llama and T5, and their folders
  // often carry a tokenizer.json (Unigram or Metaspace BPE) that HfBpeTokenizer does not read.
  for (const char* name : {"tokenizer.model", "spiece.model"})
    if (fs::is_regular_file(p / name, ec)) return std::make_shared<SentencePieceTokenizer>((p / name).string());
  if (fs::is_regular_file(p / "tokenizer.json", ec))
    return std::make_shared<HfBpeTokenizer>((p / "tokenizer.json").string());
  throw std::invalid_argument(path +
                              ": no tokenizer found (expected tokenizer.json, tokenizer.model or spiece.model)");
}

}  // namespace imlsdk
