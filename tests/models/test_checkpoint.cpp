// HF checkpoint folders (imlsdk/checkpoint.hpp): save and load round trip, shards with an index,
// bf16/fp16 converted on load, and one error naming file and tensor for every bad folder.
#include <ATen/ATen.h>
#include <gtest/gtest.h>
#include <torch/nn/module.h>
#include <unistd.h>

#include <filesystem>
#include <fstream>

#include "imlsdk/checkpoint.hpp"
#include "imlsdk/safetensors.hpp"

namespace {

namespace fs = std::filesystem;
using imlsdk::Json;

struct Tiny : torch::nn::Module {
  at::Tensor weight, bias, table;
  Tiny() {
    auto* emb = register_module("emb", std::make_shared<torch::nn::Module>()).get();
    table = emb->register_parameter("weight", at::empty({5, 3}));
    auto* proj = register_module("proj", std::make_shared<torch::nn::Module>()).get();
    weight = proj->register_parameter("weight", at::empty({4, 3}));
    bias = proj->register_parameter("bias", at::empty({4}));
  }
};

std::shared_ptr<Tiny> random_tiny(int seed) {
  at::manual_seed(seed);
  auto m = std::make_shared<Tiny>();
  at::NoGradGuard ng;
  for (auto& p : m->parameters()) p.normal_();
  return m;
}

std::map<std::string, at::Tensor> state(const torch::nn::Module& m) {
  std::map<std::string, at::Tensor> out;
  for (const auto& p : m.named_parameters()) out[p.key()] = p.value().detach().clone();
  return out;
}

class CheckpointFolder : public ::testing::Test {
 protected:
  void SetUp() override {
    dir_ = fs::temp_directory_path() /
           ("imltest_ckpt_" + std::to_string(::getpid()) + "_" +
            ::testing::UnitTest::GetInstance()->current_test_info()->name());
    fs::remove_all(dir_);
  }
  void TearDown() override { fs::remove_all(dir_); }
  // The error message of loading dir_ into a fresh Tiny ("" if it loads).
  std::string load_error(const imlsdk::WeightLoadOptions& o = {}) {
    Tiny fresh;
    try {
      imlsdk::load_hf_weights(fresh, dir_.string(), o);
    } catch (const std::exception& e) {
      return e.what();
    }
    return "";
  }
  void write_config(const Json& j) {
    fs::create_directories(dir_);
    std::ofstream(dir_ / "config.json") << j.dump();
  }
  fs::path dir_;
};

TEST_F(CheckpointFolder, SaveThenLoadGivesTheSameTensorsAndConfig) {
  auto m = random_tiny(1);
  const Json cfg = {{"model_type", "tiny"}, {"hidden_size", 3}};
  imlsdk::save_hf_checkpoint(*m, cfg, dir_.string());
  EXPECT_EQ(imlsdk::read_hf_config(dir_.string()), cfg);
  EXPECT_EQ(imlsdk::hf_model_type(dir_.string()), "tiny");
  imlsdk::SafetensorsFile file((dir_ / "model.safetensors").string());
  EXPECT_EQ(file.metadata().at("format"), "pt");  // HF's from_pretrained requires it
  EXPECT_EQ(file.names(), (std::vector<std::string>{"emb.weight", "proj.bias", "proj.weight"}));

  Tiny fresh;
  imlsdk::load_hf_weights(fresh, dir_.string());
  const auto want = state(*m), got = state(fresh);
  for (const auto& [name, t] : want) EXPECT_TRUE(at::equal(got.at(name), t)) << name;
  // No temporary files are left next to the checkpoint.
  int files = 0;
  for (const auto& e : fs::directory_iterator(dir_)) files += e.is_regular_file();
  EXPECT_EQ(files, 2);
}

TEST_F(CheckpointFolder, OmittedTiedNamesAreAbsentAndThenReportedMissing) {
  imlsdk::save_hf_checkpoint(*random_tiny(2), {{"model_type", "tiny"}}, dir_.string(), {"emb.weight"});
  EXPECT_FALSE(imlsdk::SafetensorsFile((dir_ / "model.safetensors").string()).contains("emb.weight"));
  const std::string err = load_error();
  EXPECT_NE(err.find("missing tensor 'emb.weight'"), std::string::npos) << err;
  EXPECT_NE(err.find(dir_.string()), std::string::npos) << err;
}

TEST_F(CheckpointFolder, ShardsListedInTheIndexLoad) {
  auto m = random_tiny(3);
  const auto s = state(*m);
  fs::create_directories(dir_);
  imlsdk::write_safetensors((dir_ / "model-00001-of-00002.safetensors").string(),
                            {{"emb.weight", s.at("emb.weight")}});
  imlsdk::write_safetensors((dir_ / "model-00002-of-00002.safetensors").string(),
                            {{"proj.weight", s.at("proj.weight")}, {"proj.bias", s.at("proj.bias")}});
  const Json index = {{"metadata", {{"total_size", 0}}},
                      {"weight_map",
                       {{"emb.weight", "model-00001-of-00002.safetensors"},
                        {"proj.weight", "model-00002-of-00002.safetensors"},
                        {"proj.bias", "model-00002-of-00002.safetensors"}}}};
  std::ofstream(dir_ / "model.safetensors.index.json") << index.dump();
  Tiny fresh;
  imlsdk::load_hf_weights(fresh, dir_.string());
  for (const auto& [name, t] : state(fresh)) EXPECT_TRUE(at::equal(t, s.at(name))) << name;

  // A missing shard names the file and the tensor the index puts there.
  fs::remove(dir_ / "model-00002-of-00002.safetensors");
  std::string err = load_error();
  EXPECT_NE(err.find("model-00002-of-00002.safetensors: missing shard"), std::string::npos) << err;

  // A shard without a tensor the index puts there.
  imlsdk::write_safetensors((dir_ / "model-00002-of-00002.safetensors").string(),
                            {{"proj.weight", s.at("proj.weight")}});
  err = load_error();
  EXPECT_NE(err.find("has no tensor 'proj.bias'"), std::string::npos) << err;

  // A shard tensor the index does not list.
  imlsdk::write_safetensors((dir_ / "model-00002-of-00002.safetensors").string(),
                            {{"proj.weight", s.at("proj.weight")}, {"proj.bias", s.at("proj.bias")},
                             {"extra", at::zeros({1})}});
  err = load_error();
  EXPECT_NE(err.find("tensor 'extra' is not listed"), std::string::npos) << err;

  // An index entry that leaves the folder.
  std::ofstream(dir_ / "model.safetensors.index.json")
      << Json{{"weight_map", {{"emb.weight", "../x.safetensors"}}}}.dump();
  err = load_error();
  EXPECT_NE(err.find("expected a file in the folder"), std::string::npos) << err;
  std::ofstream(dir_ / "model.safetensors.index.json") << "{\"weight_map\": 3}";
  err = load_error();
  EXPECT_NE(err.find("model.safetensors.index.json"), std::string::npos) << err;
}

TEST_F(CheckpointFolder, HalfPrecisionTensorsAreConvertedToTheParametersDtype) {
  for (auto dtype : {at::kBFloat16, at::kHalf}) {
    auto m = random_tiny(4);
    std::map<std::string, at::Tensor> half;
    for (const auto& [name, t] : state(*m)) half[name] = t.to(dtype);
    fs::create_directories(dir_);
    imlsdk::write_safetensors((dir_ / "model.safetensors").string(), half);
    Tiny fresh;
    imlsdk::load_hf_weights(fresh, dir_.string());
    for (const auto& [name, t] : state(fresh)) {
      EXPECT_EQ(t.scalar_type(), at::kFloat) << name;
      EXPECT_TRUE(at::equal(t, half.at(name).to(at::kFloat))) << name << " " << dtype;
      EXPECT_FALSE(at::equal(t, state(*m).at(name))) << "rounding must be visible: " << name;
    }
  }
}

TEST_F(CheckpointFolder, EveryBadFolderIsRefusedNamingFileAndTensor) {
  auto m = random_tiny(5);
  auto s = state(*m);
  fs::create_directories(dir_);
  const std::string file = (dir_ / "model.safetensors").string();

  EXPECT_NE(load_error().find("no model.safetensors or model.safetensors.index.json"), std::string::npos);

  auto wrong = s;
  wrong["proj.weight"] = at::zeros({3, 4});
  imlsdk::write_safetensors(file, wrong);
  std::string err = load_error();
  EXPECT_NE(err.find(file + ": tensor 'proj.weight' has shape [3, 4], the model expects [4, 3]"),
            std::string::npos) << err;

  auto extra = s;
  extra["rotary.inv_freq"] = at::zeros({2});
  imlsdk::write_safetensors(file, extra);
  err = load_error();
  EXPECT_NE(err.find(file + ": unexpected tensor 'rotary.inv_freq'"), std::string::npos) << err;
  EXPECT_EQ(load_error({{".inv_freq"}}), "");  // the model computes it: skipped when told

  auto ints = s;
  ints["proj.bias"] = at::zeros({4}, at::kLong);
  imlsdk::write_safetensors(file, ints);
  err = load_error();
  EXPECT_NE(err.find("tensor 'proj.bias' is Long, the model expects Float"), std::string::npos) << err;

  // Truncated: the header promises more data than the file has.
  imlsdk::write_safetensors(file, s);
  fs::resize_file(file, fs::file_size(file) - 5);
  err = load_error();
  EXPECT_NE(err.find(file), std::string::npos) << err;
  EXPECT_NE(err.find("outside the data area"), std::string::npos) << err;
  fs::resize_file(file, 5);
  err = load_error();
  EXPECT_NE(err.find("shorter than the 8-byte header length"), std::string::npos) << err;
}

TEST_F(CheckpointFolder, ConfigJsonErrorsNameTheFile) {
  fs::create_directories(dir_);
  const std::string cfg = (dir_ / "config.json").string();
  auto error_of = [&](auto f) -> std::string {
    try {
      f();
    } catch (const std::exception& e) {
      return e.what();
    }
    return "";
  };
  EXPECT_NE(error_of([&] { imlsdk::read_hf_config(dir_.string()); }).find(cfg + ": missing"), std::string::npos);
  std::ofstream(cfg) << "{ not json";
  EXPECT_NE(error_of([&] { imlsdk::read_hf_config(dir_.string()); }).find(cfg + ": not valid JSON"), std::string::npos);
  std::ofstream(cfg) << "[1, 2]";
  EXPECT_NE(error_of([&] { imlsdk::hf_model_type(dir_.string()); }).find(cfg + ": not a JSON object"), std::string::npos);
  write_config({{"hidden_size", 8}, {"vocab_size", nullptr}});
  EXPECT_EQ(imlsdk::hf_model_type(dir_.string()), "");
  const Json j = imlsdk::read_hf_config(dir_.string());
  EXPECT_EQ(error_of([&] { imlsdk::require_hf_keys(j, dir_.string(), {"hidden_size"}); }), "");
  EXPECT_EQ(error_of([&] { imlsdk::require_hf_keys(j, dir_.string(), {"hidden_size", "vocab_size"}); }),
            cfg + ": missing key 'vocab_size'");
}

TEST(SafetensorsFile, ViewsMapTheFileAndReleaseKeepsThemReadable) {
  const fs::path p = fs::temp_directory_path() / ("imltest_stmap_" + std::to_string(::getpid()));
  at::manual_seed(7);
  const at::Tensor big = at::randn({1024, 256});  // 1 MiB: whole pages to release
  imlsdk::write_safetensors(p.string(), {{"big", big}, {"small", at::arange(5)}});
  {
    imlsdk::SafetensorsFile f(p.string());
    EXPECT_TRUE(at::equal(f.view("big"), big));
    EXPECT_TRUE(at::equal(f.view("small"), at::arange(5)));
    f.release("big");  // pages dropped from this process; the data comes back from the file
    EXPECT_TRUE(at::equal(f.view("big"), big));
    EXPECT_THROW(f.view("nope"), std::runtime_error);
  }
  fs::remove(p);
}

}  // namespace
