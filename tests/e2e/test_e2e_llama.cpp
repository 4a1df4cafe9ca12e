// The llama plugin through the real imlhost executable: a tiny two-stage cvdb run, and a model
// section naming only a checkpoint folder, which `imlhost validate` routes to llama by the
// folder's config.json model_type.
#include <gtest/gtest.h>

#include <array>
#include <cmath>
#include <cstdio>
#include <filesystem>
#include <fstream>
#include <set>
#include <sstream>
#include <tuple>

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
fs::path scratch(const std::string& name) { return imltest::scratch_dir("e2e_llama_" + name); }

const std::string kTinyLlama = std::string(IMLTEST_E2E_DIR) + "/tiny_llama.yaml";

TEST(EndToEndLlama, TinyTwoStageRunWritesMetrics) {
  const fs::path out = scratch("run");
  const Result r = run(kTinyLlama + " experiment.output_dir=" + out.string());
  ASSERT_EQ(r.code, 0) << r.output;
  EXPECT_NE(r.output.find("IML gap after stage2"), std::string::npos) << r.output;
  const fs::path d = out / "tiny_llama" / "0";
  const Json manifest = Json::parse(slurp(d / "manifest.json"));
  EXPECT_TRUE(manifest.at("complete").get<bool>());
  EXPECT_NE(manifest.at("plugins").dump().find("llama"), std::string::npos) << manifest.at("plugins");
  // The resolved config records the llama section with its defaults filled in.
  const Json resolved = Json::parse(slurp(d / "config.json"));
  EXPECT_EQ(resolved.at("model").at("plugin"), "llama") << resolved.dump(2);
  EXPECT_EQ(resolved.at("model").at("num_key_value_heads"), 2) << resolved.dump(2);
  EXPECT_EQ(resolved.at("model").at("rope_theta"), 10000.0) << resolved.dump(2);

  // (stage, epoch, eval set) -> loss, EM.
  std::map<std::tuple<std::string, int, std::string>, std::pair<double, double>> metrics;
  std::istringstream lines(slurp(d / "metrics.jsonl"));
  std::string line;
  std::map<std::string, int> per_stage;
  while (std::getline(lines, line)) {
    const Json j = Json::parse(line);
    ASSERT_TRUE(j.contains("em") && j.contains("loss") && j.contains("eval_set") && j.contains("n")) << line;
    const double em = j["em"].get<double>(), loss = j["loss"].get<double>();
    EXPECT_GE(em, 0.0) << line;
    EXPECT_LE(em, 1.0) << line;
    // EM is a count of exact answers over n questions.
    const double hits = em * j["n"].get<double>();
    EXPECT_NEAR(hits, std::round(hits), 1e-6) << line;
    EXPECT_TRUE(std::isfinite(loss)) << line;
    EXPECT_GT(loss, 0.0) << line;
    const std::string stage = j["stage"].get<std::string>();
    EXPECT_EQ(j["stage2_seed"].is_null(), stage == "stage1") << line;
    ++per_stage[stage];
    metrics[{stage, j["epoch"].get<int>(), j["eval_set"].get<std::string>()}] = {loss, em};
  }
  EXPECT_EQ(per_stage.size(), 2u);
  // Stage 1: two epochs, one evaluation each over the same sets; Stage 2: one.
  EXPECT_EQ(per_stage["stage1"], 2 * per_stage["stage2"]);
  EXPECT_GE(per_stage["stage2"], 9);
  auto loss_of = [&](const std::string& stage, int epoch, const std::string& set) {
    auto it = metrics.find({stage, epoch, set});
    EXPECT_NE(it, metrics.end()) << stage << " epoch " << epoch << " " << set;
    return it == metrics.end() ? NAN : it->second.first;
  };
  // The model learns what it is trained on: the second Stage-1 epoch lowers the loss of Stage 1's
  // training questions and definitions, and Stage 2 (definitions of d1/d2/d3 only) lowers the loss
  // of those definitions below where Stage 1 left them.
  for (const char* set : {"train_questions_qd1consis", "train_questions_qd2incons", "train_defs_qd1consis",
                          "train_defs_qd2incons"})
    EXPECT_LT(loss_of("stage1", 2, set), loss_of("stage1", 1, set) - 0.1) << set;
  for (const char* set : {"train_defs_d1consis", "train_defs_d2consis", "train_defs_d3consis"})
    EXPECT_LT(loss_of("stage2", 1, set), loss_of("stage1", 2, set)) << set;
  for (const char* set : {"d1consis", "d2consis", "qd1consis", "qd2incons"})
    EXPECT_FALSE(std::isnan(loss_of("stage2", 1, set))) << set;

  // Same config, same seed: byte-identical metrics in a second process.
  const fs::path out2 = scratch("run2");
  const Result r2 = run(kTinyLlama + " experiment.output_dir=" + out2.string());
  ASSERT_EQ(r2.code, 0) << r2.output;
  EXPECT_EQ(slurp(d / "metrics.jsonl"), slurp(out2 / "tiny_llama/0/metrics.jsonl"));
}

// A model section with only `checkpoint:` gets the plugin whose hf_model_types() lists the
// folder's model_type: llama for a Llama folder.
TEST(EndToEndLlama, CheckpointOnlyModelSectionPicksLlama) {
  auto llama = imltest::load_plugin<imlsdk::ModelPlugin>("llama");
  const fs::path dir = scratch("ckpt");
  {
    imlsdk::ModelContext ctx;
    const Json shape = {{"hidden_size", 32}, {"num_layers", 1}, {"num_heads", 4}, {"num_key_value_heads", 2},
                        {"intermediate_size", 64}, {"max_position_embeddings", 64}, {"vocab_size", 4000}};
    auto model = llama->create(imltest::with_defaults(*llama, shape), ctx);
    imlsdk::save_hf_checkpoint(*model, model->hf_config(), (dir / "llama_ckpt").string());
  }
  auto config = [&](const std::string& model_section) {
    return "experiment: {name: by_type, seeds: 1, stage2_seeds: 1, threads: 1}\n"
           "data: {plugin: cvdb, path: " + std::string(IMLTEST_SOURCE_DIR) + "/data/cvdb/cvdb_sample.csv, n_per_gender: 30}\n"
           "tags: {plugin: random_string}\n"
           "tokenizer: {from: dataset}\n"
           "model: " + model_section + "\n"
           "task: {max_new_tokens: 4}\n"
           "training: {batch_size: 16, gradient_accumulation_steps: 1, learning_rate: 0.001}\n"
           "analyses: [{plugin: exact_match, max_examples: 8}]\n"
           "stages:\n  - {name: stage1, train_subset: stage1, epochs: 1}\n"
           "  - {name: stage2, train_subset: stage2, epochs: 1, per_stage2_seed: true}\n";
  };
  std::ofstream(dir / "by_type.yaml") << config("{checkpoint: " + (dir / "llama_ckpt").string() + "}");
  const Result v = run("validate " + (dir / "by_type.yaml").string());
  ASSERT_EQ(v.code, 0) << v.output;
  EXPECT_NE(v.output.find(": ok (data cvdb, tags random_string, task causal_lm, model llama,"), std::string::npos)
      << v.output;

  // The folder is really read: a shape key beside it is refused by llama, naming the key.
  std::ofstream(dir / "shape.yaml") << config("{checkpoint: " + (dir / "llama_ckpt").string() + ", hidden_size: 64}");
  const Result shape = run("validate " + (dir / "shape.yaml").string());
  EXPECT_EQ(shape.code, 2) << shape.output;
  EXPECT_NE(shape.output.find("llama: 'hidden_size' is set together with checkpoint"), std::string::npos)
      << shape.output;

  // A model_type no plugin loads is refused, listing llama among the known ones.
  Json cfg = Json::parse(slurp(dir / "llama_ckpt" / "config.json"));
  cfg["model_type"] = "mistral";
  fs::create_directories(dir / "other");
  std::ofstream(dir / "other" / "config.json") << cfg.dump();
  std::ofstream(dir / "other.yaml") << config("{checkpoint: " + (dir / "other").string() + "}");
  const Result other = run("validate " + (dir / "other.yaml").string());
  EXPECT_EQ(other.code, 2) << other.output;
  EXPECT_NE(other.output.find("no model plugin loads model_type 'mistral'"), std::string::npos) << other.output;
  EXPECT_NE(other.output.find("llama (llama)"), std::string::npos) << other.output;
}

}  // namespace
