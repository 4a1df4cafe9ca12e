// SentencePieceTokenizer: Llama 2's tokenizer.model against llama.cpp's and llama2.c's
// reference ids, and small models trained here with libsentencepiece's trainer (T5-style ids:
// pad 0, eos 1, unk 2, no bos; Llama-style: unk 0, bos 1, eos 2, no pad).
//
// This executable has LibTorch (and with it libprotobuf) loaded, which is the case the
// SentencePiece module's isolation exists for: linking libsentencepiece directly would crash
// it before main().
#include <gtest/gtest.h>
#include <link.h>

#include <cstdlib>
#include <nlohmann/json.hpp>

#include "fixtures.hpp"
#include "imlsdk/pretrained_tokenizer.hpp"
#include "tokenizer_test_util.hpp"

namespace {

using imlsdk::SentencePieceTokenizer;
using nlohmann::json;

TEST(SentencePieceLlama2, IdsMatchLlamaCpp) {
  IMLTEST_FIXTURE_DIR_OR_SKIP(dir, "tokenizers/llama2");
  const SentencePieceTokenizer tok(dir + "/tokenizer.model");
  // llama.cpp made these with add_special_tokens=False: no BOS.
  const auto inputs = imltest::read_vocab_test_inputs(dir + "/ggml-vocab-llama-spm.gguf.inp");
  const auto expected = imltest::read_vocab_test_outputs(dir + "/ggml-vocab-llama-spm.gguf.out");
  ASSERT_EQ(inputs.size(), expected.size());
  size_t compared = 0;
  for (size_t i = 0; i < inputs.size(); ++i, ++compared)
    EXPECT_EQ(tok.encode(inputs[i]), expected[i]) << "case " << i << ": '" << inputs[i] << "'";
  EXPECT_EQ(compared, 46u);
}

TEST(SentencePieceLlama2, IdsMatchLlama2c) {
  IMLTEST_FIXTURE_DIR_OR_SKIP(dir, "tokenizers/llama2");
  const SentencePieceTokenizer tok(dir + "/tokenizer.model");
  // llama2.c's vectors include BOS: the model expects it, so add_bos() says so.
  ASSERT_TRUE(tok.add_bos());
  const json vectors = json::parse(imltest::read_text_file(dir + "/llama2c_test_vectors.json"));
  size_t compared = 0;
  for (const auto& c : vectors.at("cases")) {
    std::vector<int64_t> ids = {tok.bos_id()};
    const auto body = tok.encode(c.at("text").get<std::string>());
    ids.insert(ids.end(), body.begin(), body.end());
    EXPECT_EQ(ids, c.at("ids").get<std::vector<int64_t>>()) << c.at("text");
    ++compared;
  }
  EXPECT_EQ(compared, 5u);
}

TEST(SentencePieceLlama2, SpecialIdsAndRoundTrips) {
  IMLTEST_FIXTURE_DIR_OR_SKIP(dir, "tokenizers/llama2");
  const SentencePieceTokenizer tok(dir + "/tokenizer.model");
  EXPECT_EQ(tok.vocab_size(), 32000);
  EXPECT_EQ(tok.unk_id(), 0);
  EXPECT_EQ(tok.bos_id(), 1);
  EXPECT_EQ(tok.eos_id(), 2);
  EXPECT_EQ(tok.pad_id(), 2);  // no pad piece: pads with eos
  EXPECT_TRUE(tok.add_bos());
  size_t checked = 0;
  for (const auto& text : imltest::read_vocab_test_inputs(dir + "/ggml-vocab-llama-spm.gguf.inp")) {
    EXPECT_EQ(tok.decode(tok.encode(text)), text);
    ++checked;
  }
  EXPECT_EQ(checked, 46u);
  // BOS and pads are skipped, EOS ends the text.
  auto ids = tok.encode("Hello world");
  ids.insert(ids.begin(), 1);
  ids.insert(ids.end(), {2, 306, 2, 2});
  EXPECT_EQ(tok.decode(ids), "Hello world");
  EXPECT_THROW(tok.decode({32000}), std::out_of_range);
}

// Trains small models once for the suite.
class SentencePieceTrained : public ::testing::Test {
 protected:
  static void SetUpTestSuite() {
    dir_ = new imltest::TempDir();
    // A few hundred lines of generated text over a small vocabulary.
    const std::vector<std::string> names = {"Cleopatra", "Beethoven", "Ada", "Turing", "Curie", "Noether"};
    const std::vector<std::string> verbs = {"was born in", "lived in", "died in", "worked in", "visited"};
    const std::vector<std::string> places = {"Alexandria", "Bonn", "London", "Warsaw", "Erlangen", "Paris"};
    std::string corpus;
    for (int i = 0; i < 400; ++i) {
      const std::string line = names[i % names.size()] + " " + verbs[(i / 6) % verbs.size()] + " " +
                               places[(i * 7) % places.size()] + " in " + std::to_string(1000 + i * 3) + ".";
      lines_.push_back(line);
      corpus += line + "\n";
    }
    imltest::write_text_file(dir_->path / "corpus.txt", corpus);
    // libsentencepiece's trainer, in a helper process (see tests/tokenizers/CMakeLists.txt).
    auto train = [&](const std::string& prefix, const std::string& ids) {
      const std::string flags = "--input=" + dir_->str("corpus.txt") + " --model_prefix=" + dir_->str(prefix) +
                                " --vocab_size=120 --character_coverage=1.0 --minloglevel=2 " + ids;
      const std::string cmd = std::string(IMLTEST_SPM_TRAIN_EXE) + " '" + flags + "' > " +
                              dir_->str(prefix + ".log") + " 2>&1";
      ASSERT_EQ(std::system(cmd.c_str()), 0) << cmd << ": " << imltest::read_text_file(dir_->str(prefix + ".log"));
    };
    train("t5", "--pad_id=0 --eos_id=1 --unk_id=2 --bos_id=-1");
    train("llama", "--unk_id=0 --bos_id=1 --eos_id=2 --pad_id=-1");
  }
  static void TearDownTestSuite() {
    delete dir_;
    dir_ = nullptr;
  }
  static imltest::TempDir* dir_;
  static std::vector<std::string> lines_;
};
imltest::TempDir* SentencePieceTrained::dir_ = nullptr;
std::vector<std::string> SentencePieceTrained::lines_;

TEST_F(SentencePieceTrained, T5StyleIdsAndRoundTrips) {
  const SentencePieceTokenizer tok(dir_->str("t5.model"));
  EXPECT_EQ(tok.vocab_size(), 120);
  EXPECT_EQ(tok.pad_id(), 0);
  EXPECT_EQ(tok.eos_id(), 1);
  EXPECT_EQ(tok.unk_id(), 2);
  EXPECT_EQ(tok.bos_id(), -1);
  EXPECT_FALSE(tok.add_bos());
  size_t checked = 0;
  for (const auto& line : lines_) {
    const auto ids = tok.encode(line);
    EXPECT_FALSE(ids.empty());
    EXPECT_EQ(tok.decode(ids), line);
    ++checked;
  }
  EXPECT_EQ(checked, 400u);
  // Leading pads are skipped, decoding stops at eos.
  auto ids = tok.encode(lines_[0]);
  ids.insert(ids.begin(), {0, 0});
  const auto more = tok.encode(lines_[1]);
  ids.push_back(1);
  ids.insert(ids.end(), more.begin(), more.end());
  EXPECT_EQ(tok.decode(ids), lines_[0]);
  // A character never seen in training is unk.
  const auto unk = tok.encode("Zürich");
  EXPECT_NE(std::find(unk.begin(), unk.end(), tok.unk_id()), unk.end());
}

TEST_F(SentencePieceTrained, LlamaStyleIds) {
  const SentencePieceTokenizer tok(dir_->str("llama.model"));
  EXPECT_EQ(tok.unk_id(), 0);
  EXPECT_EQ(tok.bos_id(), 1);
  EXPECT_EQ(tok.eos_id(), 2);
  EXPECT_EQ(tok.pad_id(), 2);
  EXPECT_TRUE(tok.add_bos());
  EXPECT_EQ(tok.decode(tok.encode(lines_[5])), lines_[5]);
  std::vector<int64_t> ids = {1};
  const auto body = tok.encode(lines_[5]);
  ids.insert(ids.end(), body.begin(), body.end());
  EXPECT_EQ(tok.decode(ids), lines_[5]);  // bos skipped
  EXPECT_NE(tok.describe().find("llama.model"), std::string::npos);
}

// The process really has a libprotobuf loaded next to the SentencePiece module.
TEST(SentencePieceIsolation, WorksBesideLibprotobuf) {
  bool protobuf = false;
  dl_iterate_phdr(
      [](dl_phdr_info* info, size_t, void* found) {
        if (info->dlpi_name != nullptr && std::string(info->dlpi_name).find("libprotobuf") != std::string::npos)
          *static_cast<bool*>(found) = true;
        return 0;
      },
      &protobuf);
  if (!protobuf) GTEST_SKIP() << "no libprotobuf in this process (LibTorch built without it?)";
  IMLTEST_FIXTURE_DIR_OR_SKIP(dir, "tokenizers/llama2");
  const SentencePieceTokenizer tok(dir + "/tokenizer.model");
  EXPECT_EQ(tok.encode("Hello world"), (std::vector<int64_t>{15043, 3186}));
}

TEST(SentencePieceBadFiles, NameTheFile) {
  imltest::TempDir dir;
  const std::string garbage = dir.str("tokenizer.model");
  imltest::write_text_file(garbage, std::string("this is not a protobuf \x01\x02\xff\xfe\x00 at all", 35));
  imltest::expect_one_line_invalid_argument([&] { SentencePieceTokenizer t(garbage); }, {garbage});
  const std::string empty = dir.str("spiece.model");
  imltest::write_text_file(empty, "");
  imltest::expect_one_line_invalid_argument([&] { SentencePieceTokenizer t(empty); }, {empty});
  const std::string missing = dir.str("missing.model");
  imltest::expect_one_line_invalid_argument([&] { SentencePieceTokenizer t(missing); }, {missing, "cannot read"});
}

}  // namespace
