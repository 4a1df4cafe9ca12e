// load_pretrained_tokenizer: which file of a checkpoint folder it picks, and its errors.
#include <gtest/gtest.h>

#include "fixtures.hpp"
#include "imlsdk/pretrained_tokenizer.hpp"
#include "tokenizer_test_util.hpp"

namespace {

namespace fs = std::filesystem;
using imlsdk::HfBpeTokenizer;
using imlsdk::SentencePieceTokenizer;

TEST(LoadPretrained, PicksSentencePieceOverTokenizerJson) {
  IMLTEST_FIXTURE_DIR_OR_SKIP(llama, "tokenizers/llama2");
  IMLTEST_FIXTURE_DIR_OR_SKIP(neox, "tokenizers/gpt-neox-20b");
  imltest::TempDir dir;
  fs::create_symlink(fs::absolute(neox + "/20B_tokenizer.json"), dir.path / "tokenizer.json");
  // Only tokenizer.json: byte-level BPE.
  auto tok = imlsdk::load_pretrained_tokenizer(dir.str());
  EXPECT_NE(dynamic_cast<HfBpeTokenizer*>(tok.get()), nullptr) << tok->describe();
  EXPECT_EQ(tok->vocab_size(), 50277);
  // spiece.model beats tokenizer.json, tokenizer.model beats both.
  fs::create_symlink(fs::absolute(llama + "/tokenizer.model"), dir.path / "spiece.model");
  tok = imlsdk::load_pretrained_tokenizer(dir.str());
  ASSERT_NE(dynamic_cast<SentencePieceTokenizer*>(tok.get()), nullptr) << tok->describe();
  EXPECT_NE(tok->describe().find("spiece.model"), std::string::npos);
  fs::create_symlink(fs::absolute(llama + "/tokenizer.model"), dir.path / "tokenizer.model");
  tok = imlsdk::load_pretrained_tokenizer(dir.str());
  EXPECT_NE(tok->describe().find("tokenizer.model"), std::string::npos);
  EXPECT_EQ(tok->vocab_size(), 32000);
}

TEST(LoadPretrained, AcceptsAFile) {
  IMLTEST_FIXTURE_DIR_OR_SKIP(llama, "tokenizers/llama2");
  IMLTEST_FIXTURE_DIR_OR_SKIP(gpt2, "tokenizers/gpt2");
  auto tok = imlsdk::load_pretrained_tokenizer(gpt2 + "/gpt2.json");
  EXPECT_NE(dynamic_cast<HfBpeTokenizer*>(tok.get()), nullptr);
  EXPECT_EQ(tok->eos_id(), 50256);
  tok = imlsdk::load_pretrained_tokenizer(llama + "/tokenizer.model");
  EXPECT_NE(dynamic_cast<SentencePieceTokenizer*>(tok.get()), nullptr);
  EXPECT_EQ(tok->eos_id(), 2);
}

TEST(LoadPretrained, BadInputsNameTheFile) {
  imltest::TempDir dir;
  // A missing folder, an empty one.
  const std::string missing = dir.str("no_such_checkpoint");
  imltest::expect_one_line_invalid_argument([&] { imlsdk::load_pretrained_tokenizer(missing); }, {missing});
  imltest::expect_one_line_invalid_argument(
      [&] { imlsdk::load_pretrained_tokenizer(dir.str()); },
      {dir.str() + ": no tokenizer found (expected tokenizer.json, tokenizer.model or spiece.model)"});
  // A truncated tokenizer.json.
  imltest::write_text_file(dir.path / "tokenizer.json", R"({"version": "1.0", "model": {"type": "BPE", "vocab": {"a": )");
  imltest::expect_one_line_invalid_argument([&] { imlsdk::load_pretrained_tokenizer(dir.str()); },
                                            {dir.str("tokenizer.json"), "malformed JSON"});
  // A WordPiece tokenizer.json.
  imltest::write_text_file(dir.path / "tokenizer.json",
                           R"({"version": "1.0", "normalizer": null, "pre_tokenizer": {"type": "BertPreTokenizer"},
                               "model": {"type": "WordPiece", "unk_token": "[UNK]", "vocab": {"[UNK]": 0, "a": 1}}})");
  imltest::expect_one_line_invalid_argument([&] { imlsdk::load_pretrained_tokenizer(dir.str()); },
                                            {dir.str("tokenizer.json"), "model 'WordPiece'"});
  // A garbage SentencePiece model wins over tokenizer.json, and says so.
  imltest::write_text_file(dir.path / "tokenizer.model", "\x0a\xff\xff\xff\xff garbage");
  imltest::expect_one_line_invalid_argument([&] { imlsdk::load_pretrained_tokenizer(dir.str()); },
                                            {dir.str("tokenizer.model")});
}

}  // namespace
