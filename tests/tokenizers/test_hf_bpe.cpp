// HfBpeTokenizer: exact ids against the HF `tokenizers` library's output (GPT-NeoX-20B, GPT-2),
// round trips, special ids, and a tiny tokenizer.json written here for the finer points.
#include <gtest/gtest.h>

#include <nlohmann/json.hpp>
#include <thread>

#include "fixtures.hpp"
#include "imlsdk/pretrained_tokenizer.hpp"
#include "tokenizer_test_util.hpp"

namespace {

using imlsdk::HfBpeTokenizer;
using nlohmann::json;

// Compares encode() with every case of a llama.cpp-style .inp/.out pair; returns the number
// of cases compared.
size_t expect_same_ids(const HfBpeTokenizer& tok, const std::string& inp, const std::string& out) {
  const auto inputs = imltest::read_vocab_test_inputs(inp);
  const auto expected = imltest::read_vocab_test_outputs(out);
  EXPECT_EQ(inputs.size(), expected.size()) << inp << " vs " << out;
  size_t compared = 0;
  for (size_t i = 0; i < std::min(inputs.size(), expected.size()); ++i, ++compared)
    EXPECT_EQ(tok.encode(inputs[i]), expected[i]) << "case " << i << " of " << inp << ": '" << inputs[i] << "'";
  return compared;
}

// decode(encode(x)) == x for every case HF round-trips: all but those holding the EOS text
// (decode stops at EOS). Returns the number checked.
size_t expect_round_trips(const HfBpeTokenizer& tok, const std::string& inp) {
  size_t checked = 0;
  for (const auto& text : imltest::read_vocab_test_inputs(inp)) {
    if (text.find("<|endoftext|>") != std::string::npos) continue;
    EXPECT_EQ(tok.decode(tok.encode(text)), text);
    ++checked;
  }
  return checked;
}

TEST(HfBpeNeox, IdsMatchHfTokenizers) {
  IMLTEST_FIXTURE_DIR_OR_SKIP(dir, "tokenizers/gpt-neox-20b");
  const HfBpeTokenizer tok(dir + "/20B_tokenizer.json");
  EXPECT_EQ(expect_same_ids(tok, dir + "/generated/ggml-vocab-test.inp", dir + "/generated/ggml-vocab-test.neox20b.out"), 46u);
  EXPECT_EQ(expect_same_ids(tok, dir + "/generated/paper_style.inp", dir + "/generated/paper_style.neox20b.out"), 18u);
}

TEST(HfBpeNeox, SpecialIdsAndAddedTokens) {
  IMLTEST_FIXTURE_DIR_OR_SKIP(dir, "tokenizers/gpt-neox-20b");
  const HfBpeTokenizer tok(dir + "/20B_tokenizer.json");
  EXPECT_EQ(tok.vocab_size(), 50277);
  EXPECT_EQ(tok.eos_id(), 0);
  EXPECT_EQ(tok.pad_id(), 1);
  EXPECT_EQ(tok.bos_id(), -1);
  EXPECT_FALSE(tok.add_bos());
  EXPECT_EQ(tok.unk_id(), -1);
  // "<|endoftext|>" in text is its id; runs of 2..24 spaces are the non-special added tokens
  // 50276 (2 spaces) down to 50254 (24), matched longest first.
  EXPECT_EQ(tok.encode("x<|endoftext|>y"), (std::vector<int64_t>{89, 0, 90}));
  EXPECT_EQ(tok.token_to_id("  "), 50276);
  EXPECT_EQ(tok.encode(std::string(24, ' ')), (std::vector<int64_t>{50254}));
  EXPECT_EQ(tok.encode(std::string(26, ' ')), (std::vector<int64_t>{50254, 50276}));
  EXPECT_EQ(tok.decode({50254, 50276}), std::string(26, ' '));
  // Decoding skips pad, stops at eos.
  const auto hello = tok.encode("Hello");
  std::vector<int64_t> padded = {1};
  padded.insert(padded.end(), hello.begin(), hello.end());
  padded.insert(padded.end(), {0, 89, 1, 1});
  EXPECT_EQ(tok.decode(padded), "Hello");
  EXPECT_THROW(tok.decode({50277}), std::out_of_range);
  EXPECT_THROW(tok.decode({-3}), std::out_of_range);
}

TEST(HfBpeNeox, RoundTrips) {
  IMLTEST_FIXTURE_DIR_OR_SKIP(dir, "tokenizers/gpt-neox-20b");
  const HfBpeTokenizer tok(dir + "/20B_tokenizer.json");
  EXPECT_EQ(expect_round_trips(tok, dir + "/generated/ggml-vocab-test.inp"), 46u);
  EXPECT_EQ(expect_round_trips(tok, dir + "/generated/paper_style.inp"), 16u);
  // Ill-formed UTF-8 survives too, where the vocabulary has the bytes (NeoX's lacks those that
  // never occur in UTF-8, such as 0xFF; GPT-2's has all 256, see below).
  const std::string bytes = "ok caf\xc3 \xe2\x82 \x80x \xc3";
  EXPECT_EQ(tok.decode(tok.encode(bytes)), bytes);
}

TEST(HfBpeNeox, NfcNormalizes) {
  IMLTEST_FIXTURE_DIR_OR_SKIP(dir, "tokenizers/gpt-neox-20b");
  const HfBpeTokenizer tok(dir + "/20B_tokenizer.json");
  // "Führer" with a combining diaeresis encodes as the precomposed form.
  EXPECT_EQ(tok.encode("Fu\xcc\x88hrer"), tok.encode("F\xc3\xbchrer"));
}

TEST(HfBpeNeox, LongWordsAndThreads) {
  IMLTEST_FIXTURE_DIR_OR_SKIP(dir, "tokenizers/gpt-neox-20b");
  const HfBpeTokenizer tok(dir + "/20B_tokenizer.json");
  const std::string long_word(200000, 'a');  // one pre-token: BPE must not be quadratic
  EXPECT_EQ(tok.decode(tok.encode(long_word)), long_word);
  // Concurrent encodes (sharing the word cache) agree with a sequential one.
  const std::string text = imltest::read_text_file(dir + "/generated/paper_style.inp");
  std::vector<std::vector<int64_t>> got(4);
  std::vector<std::thread> threads;
  for (auto& g : got)
    threads.emplace_back([&tok, &text, &g] {
      for (int k = 0; k < 20; ++k) g = tok.encode(text + std::to_string(k));
    });
  for (auto& t : threads) t.join();
  for (const auto& g : got) EXPECT_EQ(g, tok.encode(text + "19"));
}

TEST(HfBpeGpt2, IdsMatchHfTokenizers) {
  IMLTEST_FIXTURE_DIR_OR_SKIP(dir, "tokenizers/gpt2");
  const HfBpeTokenizer tok(dir + "/gpt2.json");
  EXPECT_EQ(expect_same_ids(tok, dir + "/ggml-vocab-gpt-2.gguf.inp", dir + "/ggml-vocab-gpt-2.gguf.out"), 46u);
  // GPT-3-Encoder's own test vectors.
  const json vectors = json::parse(imltest::read_text_file(dir + "/gpt3_encoder_test_vectors.json"));
  size_t compared = 0;
  for (const auto& c : vectors.at("cases")) {
    EXPECT_EQ(tok.encode(c.at("text").get<std::string>()), c.at("ids").get<std::vector<int64_t>>())
        << c.at("text");
    ++compared;
  }
  EXPECT_EQ(compared, 6u);
}

TEST(HfBpeGpt2, SpecialIdsAndRoundTrips) {
  IMLTEST_FIXTURE_DIR_OR_SKIP(dir, "tokenizers/gpt2");
  const HfBpeTokenizer tok(dir + "/gpt2.json");
  EXPECT_EQ(tok.vocab_size(), 50257);
  EXPECT_EQ(tok.eos_id(), 50256);
  EXPECT_EQ(tok.pad_id(), 50256);  // no <|padding|>: pads with eos
  EXPECT_EQ(tok.bos_id(), -1);
  EXPECT_FALSE(tok.add_bos());
  EXPECT_EQ(tok.encode("a<|endoftext|>b"), (std::vector<int64_t>{64, 50256, 65}));
  EXPECT_EQ(expect_round_trips(tok, dir + "/ggml-vocab-gpt-2.gguf.inp"), 46u);
  // Every byte string round-trips: all 256 bytes have a token.
  std::string bytes;
  for (int b = 0; b < 256; ++b) bytes += static_cast<char>(b), bytes += ' ';
  EXPECT_EQ(tok.decode(tok.encode(bytes)), bytes);
  EXPECT_NE(tok.describe().find("gpt2.json"), std::string::npos);
}

// ---- a tiny byte-level tokenizer.json --------------------------------------------------------

// GPT-2's byte -> character mapping, written out independently of the library.
std::string byte_char(int b) {
  std::vector<int> keep;
  for (int c = 0; c < 256; ++c)
    if ((c >= 0x21 && c <= 0x7E) || (c >= 0xA1 && c <= 0xAC) || c >= 0xAE) keep.push_back(c);
  int cp = b, extra = 0;
  if (std::find(keep.begin(), keep.end(), b) == keep.end()) {
    for (int c = 0; c < b; ++c)
      if (std::find(keep.begin(), keep.end(), c) == keep.end()) ++extra;
    cp = 256 + extra;
  }
  std::string s;
  if (cp < 0x80) {
    s += static_cast<char>(cp);
  } else {
    s += static_cast<char>(0xC0 | (cp >> 6));
    s += static_cast<char>(0x80 | (cp & 0x3F));
  }
  return s;
}

// Ids 0..255 are the bytes; merges build "hello" (259) and "Ġworld" (264); added tokens
// <|endoftext|> (265) and <mask> (266, lstrip, as RoBERTa's).
json tiny_tokenizer(bool merges_as_pairs = false) {
  json vocab = json::object();
  for (int b = 0; b < 256; ++b) vocab[byte_char(b)] = b;
  const std::vector<std::pair<std::string, std::string>> merges = {
      {"h", "e"}, {"l", "l"}, {"he", "ll"}, {"hell", "o"}, {"Ġ", "w"},
      {"o", "r"}, {"Ġw", "or"}, {"l", "d"}, {"Ġwor", "ld"}};
  json list = json::array();
  int id = 256;
  for (const auto& [a, b] : merges) {
    vocab[a + b] = id++;
    list.push_back(merges_as_pairs ? json::array({a, b}) : json(a + " " + b));
  }
  json added = json::array();
  added.push_back({{"id", 265}, {"content", "<|endoftext|>"}, {"special", true}, {"normalized", false},
                   {"lstrip", false}, {"rstrip", false}, {"single_word", false}});
  added.push_back({{"id", 266}, {"content", "<mask>"}, {"special", true}, {"normalized", false},
                   {"lstrip", true}, {"rstrip", false}, {"single_word", false}});
  return {{"version", "1.0"},
          {"added_tokens", added},
          {"normalizer", nullptr},
          {"pre_tokenizer", {{"type", "ByteLevel"}, {"add_prefix_space", false}, {"trim_offsets", true}}},
          {"post_processor", {{"type", "ByteLevel"}, {"trim_offsets", true}}},
          {"decoder", {{"type", "ByteLevel"}}},
          {"model", {{"type", "BPE"}, {"dropout", nullptr}, {"unk_token", nullptr}, {"vocab", vocab}, {"merges", list}}}};
}

std::string write_tokenizer(const imltest::TempDir& dir, const json& j, const std::string& name = "tokenizer.json") {
  imltest::write_text_file(dir.path / name, j.dump());
  return dir.str(name);
}

TEST(HfBpeTiny, MergesAddedTokensAndOptions) {
  imltest::TempDir dir;
  for (const bool pairs : {false, true}) {
    const HfBpeTokenizer tok(write_tokenizer(dir, tiny_tokenizer(pairs)));
    EXPECT_EQ(tok.encode("hello world"), (std::vector<int64_t>{259, 264}));
    EXPECT_EQ(tok.encode("hello world<|endoftext|>"), (std::vector<int64_t>{259, 264, 265}));
    // <mask> takes the space before it (lstrip); without lstrip the space would be id 32.
    EXPECT_EQ(tok.encode("hello <mask> world"), (std::vector<int64_t>{259, 266, 264}));
    EXPECT_EQ(tok.vocab_size(), 267);
    EXPECT_EQ(tok.eos_id(), 265);
    EXPECT_EQ(tok.pad_id(), 265);
  }
  // add_prefix_space: every text starts with a space ("Ġ" = byte 32 here, no merge with h).
  json j = tiny_tokenizer();
  j["pre_tokenizer"]["add_prefix_space"] = true;
  EXPECT_EQ(HfBpeTokenizer(write_tokenizer(dir, j)).encode("hello"), (std::vector<int64_t>{32, 259}));
  // use_regex false: the whole text is one pre-token.
  j = tiny_tokenizer();
  j["pre_tokenizer"]["use_regex"] = false;
  EXPECT_EQ(HfBpeTokenizer(write_tokenizer(dir, j)).encode("hello world"), (std::vector<int64_t>{259, 264}));
  EXPECT_EQ(HfBpeTokenizer(write_tokenizer(dir, j)).encode("hello's"), (std::vector<int64_t>{259, 39, 115}));
  // A Sequence holding only ByteLevel is fine.
  j = tiny_tokenizer();
  j["pre_tokenizer"] = {{"type", "Sequence"}, {"pretokenizers", json::array({j["pre_tokenizer"]})}};
  EXPECT_EQ(HfBpeTokenizer(write_tokenizer(dir, j)).encode("hello world"), (std::vector<int64_t>{259, 264}));
}

TEST(HfBpeTiny, SpecialTokenFiles) {
  imltest::TempDir dir;
  const std::string path = write_tokenizer(dir, tiny_tokenizer());
  imltest::write_text_file(dir.path / "tokenizer_config.json",
                           R"({"bos_token": "<|endoftext|>", "add_bos_token": true, "pad_token": {"content": "<mask>"},
                               "eos_token": "<mask>"})");
  // special_tokens_map.json wins over tokenizer_config.json, as in transformers.
  imltest::write_text_file(dir.path / "special_tokens_map.json", R"({"eos_token": "<|endoftext|>", "unk_token": null})");
  const HfBpeTokenizer tok(path);
  EXPECT_EQ(tok.bos_id(), 265);
  EXPECT_TRUE(tok.add_bos());
  EXPECT_EQ(tok.eos_id(), 265);
  EXPECT_EQ(tok.pad_id(), 266);
  EXPECT_EQ(tok.unk_id(), -1);
  imltest::write_text_file(dir.path / "special_tokens_map.json", R"({"bos_token": "<s>"})");
  imltest::expect_one_line_invalid_argument([&] { HfBpeTokenizer t(path); },
                                            {dir.str("special_tokens_map.json"), "bos_token '<s>'"});
}

TEST(HfBpeTiny, BadFilesNameTheFileAndTheProblem) {
  imltest::TempDir dir;
  const std::string path = dir.str("tokenizer.json");
  auto expect_error = [&](const json& j, const std::vector<std::string>& parts) {
    write_tokenizer(dir, j);
    std::vector<std::string> all = {path};
    all.insert(all.end(), parts.begin(), parts.end());
    imltest::expect_one_line_invalid_argument([&] { HfBpeTokenizer t(path); }, all);
  };
  json j = tiny_tokenizer();
  j["pre_tokenizer"] = {{"type", "Metaspace"}, {"replacement", "▁"}};
  expect_error(j, {"unsupported tokenizer.json pre_tokenizer 'Metaspace' (supported: ByteLevel)"});
  j = tiny_tokenizer();
  j["pre_tokenizer"] = {{"type", "Sequence"},
                        {"pretokenizers", json::array({{{"type", "Digits"}}, j["pre_tokenizer"]})}};
  expect_error(j, {"pre_tokenizer 'Digits'"});
  j = tiny_tokenizer();
  j["normalizer"] = {{"type", "NFKC"}};
  expect_error(j, {"unsupported tokenizer.json normalizer 'NFKC' (supported: NFC)"});
  j = tiny_tokenizer();
  j["decoder"] = {{"type", "WordPiece"}};
  expect_error(j, {"decoder 'WordPiece'"});
  j = tiny_tokenizer();
  j["model"]["type"] = "WordPiece";
  expect_error(j, {"unsupported tokenizer.json model 'WordPiece' (supported: BPE)"});
  j = tiny_tokenizer();
  j["model"].erase("vocab");
  expect_error(j, {"model.vocab"});
  j = tiny_tokenizer();
  j["model"]["merges"].push_back("x yz");
  expect_error(j, {"merge 10", "'yz'"});
  j = tiny_tokenizer();
  j["model"]["dropout"] = 0.1;
  expect_error(j, {"dropout"});
  j = tiny_tokenizer();
  j["added_tokens"][0]["id"] = "zero";
  expect_error(j, {"malformed tokenizer.json"});
  // An id far past the ids the file defines: a few kilobytes that would ask for a table of
  // gigabytes (found by fuzz_hf_tokenizer). A few thousand unused ids still load.
  j = tiny_tokenizer();
  j["added_tokens"][0]["id"] = 182222222;
  expect_error(j, {"token id 182222222 is far past the", "at most 65536 ids may name no token"});
  j = tiny_tokenizer();
  j["model"]["vocab"].begin().value() = 2000000000;
  expect_error(j, {"token id 2000000000 is far past the"});
  j = tiny_tokenizer();
  j["added_tokens"][0]["id"] = 5000;
  write_tokenizer(dir, j);
  EXPECT_NO_THROW(HfBpeTokenizer t(path));

  // Truncated JSON.
  const std::string full = tiny_tokenizer().dump();
  imltest::write_text_file(path, full.substr(0, full.size() / 2));
  imltest::expect_one_line_invalid_argument([&] { HfBpeTokenizer t(path); }, {path, "malformed JSON"});
  // Missing file.
  imltest::expect_one_line_invalid_argument([&] { HfBpeTokenizer t(dir.str("none.json")); },
                                            {dir.str("none.json"), "cannot read"});
}

}  // namespace
