// The gpt_neo model plugin through the real imlhost executable: a tiny from-scratch GPT-Neo (one
// global, one local layer) through the knowledge stage, Stage 1 and Stage 2 on the CVDB sample,
// and a run whose model section names only a GPT-Neo checkpoint folder.
#include <gtest/gtest.h>

#include <array>
#include <cmath>
#include <cstdio>
#include <filesystem>
#include <fstream>
#include <map>
#include <sstream>

#include <nlohmann/json.hpp>

#include "e2e_support.hpp"
#include "imlsdk/checkpoint.hpp"
#include "imlsdk/model.hpp"
#include "test_plugins.hpp"

namespace fs = std::filesystem;
using Json = nlohmann::json;

namespace {

using Result = imltest::RunResult;
Result run(const std::string& args) { return imltest::run_imlhost(args); }
using imltest::slurp;
fs::path scratch(const std::string& name) { return imltest::scratch_dir("e2e_gpt_neo_" + name); }

std::vector<Json> metric_lines(const fs::path& file) {
  std::vector<Json> out;
  std::istringstream lines(slurp(file));
  std::string line;
  while (std::getline(lines, line)) out.push_back(Json::parse(line));
  return out;
}

const std::string kTiny = std::string(IMLTEST_E2E_DIR) + "/tiny_gpt_neo.yaml";

TEST(EndToEndGPTNeo, TinyRunTrainsThroughEveryStage) {
  const fs::path out = scratch("run");
  const Result r = run(kTiny + " experiment.output_dir=" + out.string());
  ASSERT_EQ(r.code, 0) << r.output;
  EXPECT_NE(r.output.find("IML gap after stage2"), std::string::npos) << r.output;
  const fs::path d = out / "tiny_gpt_neo" / "0";
  const Json manifest = Json::parse(slurp(d / "manifest.json"));
  EXPECT_TRUE(manifest.at("complete").get<bool>());
  EXPECT_NE(manifest.at("plugins").dump().find("gpt_neo"), std::string::npos) << manifest.dump(2);
  // The host saved the model before Stage 2 (the model's parameters, HF names).
  EXPECT_TRUE(fs::exists(d / "before_stage2.safetensors"));

  // Every evaluation: EM a fraction, loss finite and positive, the same eval sets after each
  // stage. Stage 1 trains on the tagged definitions: their loss falls by more than 1 nat from
  // after the knowledge stage (≈ 8.2, still unseen text) on every train_defs_* set, and so does
  // the loss of the Stage-1 test questions (qd1consis); the knowledge stage teaches some facts.
  std::map<std::string, std::map<std::string, Json>> at;  // stage -> eval set -> line
  for (const Json& j : metric_lines(d / "metrics.jsonl")) {
    ASSERT_TRUE(j.contains("em") && j.contains("loss") && j.contains("eval_set") && j.contains("stage")) << j;
    const double em = j["em"].get<double>(), loss = j["loss"].get<double>();
    EXPECT_GE(em, 0.0) << j;
    EXPECT_LE(em, 1.0) << j;
    EXPECT_TRUE(std::isfinite(loss)) << j;
    EXPECT_GT(loss, 0.0) << j;
    at[j["stage"].get<std::string>()][j["eval_set"].get<std::string>()] = j;
  }
  ASSERT_EQ(at.size(), 3u);
  ASSERT_EQ(at["knowledge"].size(), at["stage1"].size());
  ASSERT_EQ(at["stage1"].size(), at["stage2"].size());
  int defs = 0;
  for (const auto& [set, j] : at["stage1"]) {
    ASSERT_TRUE(at["knowledge"].count(set) && at["stage2"].count(set)) << set;
    if (set.rfind("train_defs_", 0) == 0) {
      EXPECT_LT(j["loss"].get<double>(), at["knowledge"][set]["loss"].get<double>() - 1.0) << set;
      ++defs;
    }
  }
  EXPECT_EQ(defs, 5);
  EXPECT_LT(at["stage1"]["qd1consis"]["loss"].get<double>(), at["knowledge"]["qd1consis"]["loss"].get<double>());
  EXPECT_GT(at["knowledge"]["knowledge"]["em"].get<double>(), 0.0);
  const Json summary = Json::parse(slurp(out / "tiny_gpt_neo" / "summary.json"));
  for (const char* set : {"d1consis", "d2consis", "qd1consis", "qd2incons", "knowledge"})
    EXPECT_TRUE(summary["table"].contains(set)) << set;

  // Same config and seed: byte-identical metrics in a second process.
  const fs::path out2 = scratch("run2");
  const Result r2 = run(kTiny + " experiment.output_dir=" + out2.string());
  ASSERT_EQ(r2.code, 0) << r2.output;
  EXPECT_EQ(slurp(d / "metrics.jsonl"), slurp(out2 / "tiny_gpt_neo/0/metrics.jsonl"));
}

TEST(EndToEndGPTNeo, BadKeysAreRefusedWithOneLine) {
  const fs::path out = scratch("bad");
  const std::vector<std::pair<std::string, std::string>> cases = {
      {"model.num_layers=3", "num_layers 3 must be a positive multiple of attention_pattern's length 2"},
      {"model.attention_pattern=[global,sparse]", "'sparse' is not an attention kind"},
      {"model.activation_function=gelu_fast", "activation_function 'gelu_fast' is not supported"},
      {"model.window_sise=4", "unknown key for plugin 'gpt_neo' (did you mean window_size?)"},
  };
  for (const auto& [override, expected] : cases) {
    const Result c = run(kTiny + " experiment.output_dir=" + out.string() + " '" + override + "'");
    EXPECT_EQ(c.code, 2) << override << "\n" << c.output;
    EXPECT_NE(c.output.find(expected), std::string::npos) << override << "\n" << c.output;
    EXPECT_EQ(c.output.find("terminate"), std::string::npos) << c.output;
    EXPECT_FALSE(fs::exists(out / "tiny_gpt_neo")) << override << ": nothing written";
  }
}

// A model section that names only a checkpoint folder gets the plugin whose hf_model_types()
// lists its config.json's model_type: gpt_neo.
TEST(EndToEndGPTNeo, CheckpointFolderPicksThePlugin) {
  auto neo = imltest::load_plugin<imlsdk::ModelPlugin>("gpt_neo");
  const fs::path dir = scratch("ckpt");
  {
    // More rows than the data-built vocabulary needs.
    const Json shape = {{"hidden_size", 32}, {"num_layers", 2}, {"num_heads", 2}, {"intermediate_size", 64},
                        {"window_size", 8}, {"max_position_embeddings", 64}, {"vocab_size", 4096}};
    auto model = neo->create(imltest::with_defaults(*neo, shape), imlsdk::ModelContext{});
    imlsdk::save_hf_checkpoint(*model, model->hf_config(), (dir / "neo").string());
  }
  std::ofstream(dir / "run.yaml")
      << "experiment: {name: neo_ckpt, seeds: 1, stage2_seeds: 1, threads: 1}\n"
         "data: {plugin: cvdb, path: " << IMLTEST_SOURCE_DIR << "/data/cvdb/cvdb_sample.csv, n_per_gender: 30}\n"
         "tags: {plugin: random_string}\n"
         "model: {checkpoint: neo}\n"
         "tokenizer: {from: dataset}\n"
         "optimizer: {plugin: adafactor}\n"
         "task: {max_new_tokens: 4}\n"
         "training: {batch_size: 16, gradient_accumulation_steps: 1, learning_rate: 0.001}\n"
         "analyses: [{plugin: exact_match, max_examples: 8}]\n"
         "stages:\n  - {name: stage1, train_subset: stage1, epochs: 1}\n"
         "  - {name: stage2, train_subset: stage2, epochs: 1, per_stage2_seed: true}\n";
  const Result r = run((dir / "run.yaml").string() + " experiment.output_dir=" + (dir / "results").string());
  ASSERT_EQ(r.code, 0) << r.output;
  const Json manifest = Json::parse(slurp(dir / "results/neo_ckpt/0/manifest.json"));
  EXPECT_NE(manifest.at("plugins").dump().find("gpt_neo"), std::string::npos) << manifest.dump(2);
  int lines = 0;
  for (const Json& j : metric_lines(dir / "results/neo_ckpt/0/metrics.jsonl")) {
    EXPECT_TRUE(std::isfinite(j.at("loss").get<double>())) << j;
    ++lines;
  }
  EXPECT_GT(lines, 0);
}

}  // namespace
