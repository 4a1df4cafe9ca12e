// safetensors reading and writing: round trip, HF's header layout, refusal of corrupt files.
#include <ATen/ATen.h>
#include <gtest/gtest.h>

#include <filesystem>
#include <fstream>
#include <nlohmann/json.hpp>
#include <unistd.h>

#include "imlsdk/safetensors.hpp"
#include "require_fixture.hpp"
#include "test_plugins.hpp"

namespace {

namespace fs = std::filesystem;

fs::path temp_file(const std::string& name) {
  return fs::temp_directory_path() / ("imltest_st_" + std::to_string(::getpid()) + "_" + name);
}

std::string read_bytes(const fs::path& p) {
  std::ifstream in(p, std::ios::binary);
  return std::string(std::istreambuf_iterator<char>(in), {});
}

void write_bytes(const fs::path& p, const std::string& bytes) {
  std::ofstream(p, std::ios::binary | std::ios::trunc) << bytes;
}

// A file built by hand: 8-byte length, header text, data bytes.
std::string raw_file(const std::string& header, const std::string& data, uint64_t len_override = 0) {
  const uint64_t n = len_override ? len_override : header.size();
  std::string out(8, '\0');
  for (int i = 0; i < 8; ++i) out[i] = static_cast<char>((n >> (8 * i)) & 0xff);
  return out + header + data;
}

std::map<std::string, at::Tensor> sample_tensors() {
  at::manual_seed(1);
  return {{"b.f32", at::randn({3, 4})},
          {"a.f16", at::randn({5}).to(at::kHalf)},
          {"c.bf16", at::randn({2, 2}).to(at::kBFloat16)},
          {"d.i64", at::arange(7, at::kLong)},
          {"e.i32", at::arange(3, at::kInt)},
          {"f.bool", at::arange(3, at::kLong).remainder(2).to(at::kBool)},
          {"g.u8", at::arange(4, at::kByte)},
          {"h.f64", at::randn({1}, at::kDouble)},
          {"i.scalar", at::tensor(2.5f)},
          {"j.empty", at::empty({0, 3})},
          {"k.strided", at::randn({4, 6}).t()}};
}

TEST(Safetensors, RoundTrip) {
  const fs::path p = temp_file("roundtrip.safetensors");
  const auto tensors = sample_tensors();
  imlsdk::write_safetensors(p.string(), tensors);
  const auto back = imlsdk::read_safetensors(p.string());
  ASSERT_EQ(back.size(), tensors.size());
  for (const auto& [name, t] : tensors) {
    ASSERT_TRUE(back.count(name)) << name;
    EXPECT_EQ(back.at(name).scalar_type(), t.scalar_type()) << name;
    EXPECT_TRUE(at::equal(back.at(name), t)) << name;
  }
  fs::remove(p);
}

TEST(Safetensors, HeaderLayoutAsHF) {
  const fs::path p = temp_file("layout.safetensors");
  imlsdk::write_safetensors(p.string(), sample_tensors());
  const std::string bytes = read_bytes(p);
  uint64_t n = 0;
  for (int i = 7; i >= 0; --i) n = (n << 8) | static_cast<unsigned char>(bytes[i]);
  EXPECT_EQ((8 + n) % 8, 0u);
  std::string header = bytes.substr(8, n);
  const auto end = header.find_last_not_of(' ');
  EXPECT_EQ(header.substr(0, 14), "{\"__metadata__");  // compact JSON, metadata first
  header.resize(end + 1);
  const auto j = nlohmann::ordered_json::parse(header);
  EXPECT_EQ(j.dump(), header);  // no whitespace inside
  EXPECT_EQ(j["__metadata__"]["format"], "pt");
  // Tensors sorted by name, data laid out in the same order without gaps.
  std::string previous;
  uint64_t offset = 0;
  for (auto it = std::next(j.begin()); it != j.end(); ++it) {
    EXPECT_LT(previous, it.key());
    previous = it.key();
    EXPECT_EQ(it.value()["data_offsets"][0].get<uint64_t>(), offset);
    offset = it.value()["data_offsets"][1].get<uint64_t>();
  }
  EXPECT_EQ(8 + n + offset, bytes.size());
  fs::remove(p);
}

TEST(Safetensors, ReadsHFFixture) {
  const fs::path dir = fs::path(imltest::conformance_dir()) / "gpt_neox";
  if (!imltest::require_fixture_dir(dir.string(), "set IML_CONFORMANCE_DIR")) return;
  const fs::path p = dir / "model.safetensors";
  const auto t = imlsdk::read_safetensors(p.string());
  // Exactly the tensors expected.json lists.
  std::ifstream in(dir / "expected.json");
  const auto keys = nlohmann::json::parse(in).at("model_safetensors_keys").get<std::vector<std::string>>();
  ASSERT_FALSE(keys.empty());
  std::vector<std::string> names;
  for (const auto& kv : t) names.push_back(kv.first);
  EXPECT_EQ(names, keys);
  EXPECT_EQ(t.at("embed_out.weight").sizes(), at::IntArrayRef({128, 64}));
  // Writing what we read reproduces HF's bytes exactly.
  const fs::path copy = temp_file("fixture_copy.safetensors");
  imlsdk::write_safetensors(copy.string(), t);
  EXPECT_EQ(read_bytes(copy), read_bytes(p));
  fs::remove(copy);
}

// Every corrupt file is refused with one line naming the file and the problem.
void expect_refused(const std::string& bytes, const std::string& problem) {
  const fs::path p = temp_file("corrupt.safetensors");
  write_bytes(p, bytes);
  try {
    imlsdk::read_safetensors(p.string());
    ADD_FAILURE() << "accepted a file with: " << problem;
  } catch (const std::runtime_error& e) {
    const std::string what = e.what();
    EXPECT_NE(what.find(p.string()), std::string::npos) << what;
    EXPECT_NE(what.find(problem), std::string::npos) << what;
    EXPECT_EQ(what.find('\n'), std::string::npos) << what;
  }
  fs::remove(p);
}

TEST(Safetensors, RefusesCorruptFiles) {
  const std::string good_header =
      R"({"w":{"dtype":"F32","shape":[2,2],"data_offsets":[0,16]}})";
  const std::string data(16, '\1');
  {
    const fs::path p = temp_file("good.safetensors");
    write_bytes(p, raw_file(good_header, data));
    EXPECT_EQ(imlsdk::read_safetensors(p.string()).at("w").numel(), 4);
    fs::remove(p);
  }
  expect_refused(raw_file(good_header, data).substr(0, 8 + good_header.size() + 10),
                 "outside the data area");                                      // truncated
  expect_refused(std::string(5, '\0'), "shorter than the 8-byte header length");  // truncated
  expect_refused(raw_file(good_header, data, 1000), "exceeds the file size");
  expect_refused(raw_file(R"({"w":{"dtype":"F32","shape":[2,2],"data_offsets":[8,24]}})", data),
                 "outside the data area");
  expect_refused(raw_file(R"({"w":{"dtype":"F32","shape":[2,2],)", data), "not valid JSON");
  expect_refused(raw_file(R"({"w":{"dtype":"F32","shape":[3,2],"data_offsets":[0,16]}})", data),
                 "need 24");
  expect_refused(raw_file(R"({"w":{"dtype":"Q4","shape":[4],"data_offsets":[0,16]}})", data),
                 "unsupported dtype");
  expect_refused(raw_file(R"({"a":{"dtype":"F32","shape":[3],"data_offsets":[0,12]},)"
                          R"("b":{"dtype":"F32","shape":[2],"data_offsets":[8,16]}})",
                          data),
                 "overlap");
  expect_refused(raw_file(R"([1,2,3])", data), "not a JSON object");
}

}  // namespace
