// Runs the real imlhost executable and checks what it leaves behind.
#include <gtest/gtest.h>

#include <algorithm>
#include <array>
#include <cstdio>
#include <cstdlib>
#include <filesystem>
#include <fstream>
#include <map>
#include <sstream>

#include <nlohmann/json.hpp>
#include <torch/version.h>

#include "e2e_support.hpp"
#include "fixtures.hpp"
#include "imlsdk/model.hpp"
#include "imlsdk/checkpoint.hpp"
#include "imlsdk/safetensors.hpp"
#include "test_plugins.hpp"

namespace fs = std::filesystem;
using Json = nlohmann::json;

namespace {

using Result = imltest::RunResult;
Result run(const std::string& args) { return imltest::run_imlhost(args); }
using imltest::slurp;
fs::path scratch(const std::string& name) { return imltest::scratch_dir("e2e_" + name); }

const std::string kTiny = std::string(IMLTEST_E2E_DIR) + "/tiny.yaml";

TEST(EndToEnd, TinyTwoStageRunWritesResultsAndTable) {
  const fs::path out = scratch("run");
  const Result r = run(kTiny + " experiment.output_dir=" + out.string());
  ASSERT_EQ(r.code, 0) << r.output;
  EXPECT_NE(r.output.find("IML gap after stage2"), std::string::npos) << r.output;
  EXPECT_NE(r.output.find("ETA"), std::string::npos) << "progress bar missing: " << r.output;
  for (const char* seed : {"0", "1"}) {
    const fs::path d = out / "tiny" / seed;
    ASSERT_TRUE(fs::exists(d / "config.json")) << d;
    const Json manifest = Json::parse(slurp(d / "manifest.json"));
    EXPECT_TRUE(manifest.at("complete").get<bool>());
    EXPECT_EQ(manifest.at("libtorch_version").get<std::string>(), TORCH_VERSION);
    EXPECT_EQ(manifest.at("config_hash").get<std::string>().size(), 16u);
    // one throughput entry per stage and Stage-2 seed: stage1 once, stage2 twice
    EXPECT_EQ(manifest.at("stages").size(), 3u) << manifest.dump(2);
    // SDK 2.4: pythia's head is linear, training fp32; SDK 2.5: the head's input at the loss's rows
    for (const auto& st : manifest.at("stages"))
      EXPECT_EQ(st.at("loss_from").get<std::string>(), "head_input_rows") << st.dump();
    EXPECT_FALSE(manifest.at("plugins").empty());
    EXPECT_TRUE(manifest.contains("project_commit"));
    // The allocator imlhost was built with (IMLHOST_TCMALLOC), unless LD_PRELOAD brings another.
    const std::string memory = manifest.at("memory").get<std::string>();
    const char* preload = std::getenv("LD_PRELOAD");
    if (preload != nullptr && *preload != '\0')
      EXPECT_TRUE(memory.rfind("glibc malloc, one arena", 0) == 0 || memory.rfind("malloc from ", 0) == 0) << memory;
#ifdef IMLTEST_IMLHOST_TCMALLOC
    else
      EXPECT_EQ(memory.rfind("malloc from libtcmalloc_minimal.so", 0), 0u) << memory;
#else
    else
      EXPECT_EQ(memory.rfind("glibc malloc, one arena, no mmap; heap on ", 0), 0u) << memory;
#endif
    EXPECT_TRUE(fs::exists(d / "before_stage2.safetensors"));
    // one line per stage/epoch/eval set: stage1 x 2 epochs (no stage-2 seed), stage2 x 2 stage-2 seeds
    std::istringstream lines(slurp(d / "metrics.jsonl"));
    std::string line;
    int stage1 = 0, stage2 = 0;
    std::set<int> s2seeds;
    while (std::getline(lines, line)) {
      const Json j = Json::parse(line);
      ASSERT_TRUE(j.contains("em") && j.contains("loss") && j.contains("eval_set")) << line;
      EXPECT_GE(j["em"].get<double>(), 0.0);
      EXPECT_LE(j["em"].get<double>(), 1.0);
      if (j["stage"] == "stage1") {
        ++stage1;
        EXPECT_TRUE(j["stage2_seed"].is_null());
      } else {
        ++stage2;
        s2seeds.insert(j["stage2_seed"].get<int>());
      }
    }
    EXPECT_GT(stage1, 0);
    EXPECT_GT(stage2, 0);
    EXPECT_EQ(s2seeds.size(), 2u);
  }
  EXPECT_TRUE(fs::exists(out / "tiny" / "summary.json"));
  // no temp files left behind
  for (const auto& e : fs::recursive_directory_iterator(out))
    EXPECT_EQ(e.path().string().find(".tmp."), std::string::npos) << e.path();

  // Same config, same seed: byte-identical metrics in a second process.
  const fs::path out2 = scratch("run2");
  const Result r2 = run(kTiny + " experiment.output_dir=" + out2.string() + " experiment.seeds=[1] experiment.stage2_seeds=[0,1]");
  ASSERT_EQ(r2.code, 0) << r2.output;
  EXPECT_EQ(slurp(out / "tiny/1/metrics.jsonl"), slurp(out2 / "tiny/1/metrics.jsonl"));

  // Resume: running again skips completed work and reproduces the same files.
  const std::string metrics_before = slurp(out / "tiny/0/metrics.jsonl");
  const std::string summary_before = slurp(out / "tiny/summary.json");
  const Json manifest_before = Json::parse(slurp(out / "tiny/0/manifest.json"));
  const Result r3 = run(kTiny + " experiment.output_dir=" + out.string());
  ASSERT_EQ(r3.code, 0) << r3.output;
  EXPECT_NE(r3.output.find("skipped (resume)"), std::string::npos) << r3.output;
  EXPECT_EQ(slurp(out / "tiny/0/metrics.jsonl"), metrics_before);
  EXPECT_EQ(slurp(out / "tiny/summary.json"), summary_before);
  EXPECT_EQ(Json::parse(slurp(out / "tiny/0/manifest.json")).at("stages"), manifest_before.at("stages"))
      << "a resumed run must not duplicate the per-stage entries";
}

TEST(EndToEnd, BadInputFailsWithOneLineAndExitCode2) {
  const fs::path out = scratch("bad");
  const Result r = run(kTiny + " experiment.output_dir=" + out.string() + " model.hiden_size=3");
  EXPECT_EQ(r.code, 2) << r.output;
  EXPECT_NE(r.output.find("unknown key for plugin 'pythia' (did you mean hidden_size?)"), std::string::npos) << r.output;
  EXPECT_EQ(r.output.find("terminate"), std::string::npos) << r.output;
  EXPECT_FALSE(fs::exists(out / "tiny")) << "a refused config must not leave results behind";

  const Result missing = run("/nonexistent/config.yaml");
  EXPECT_EQ(missing.code, 2);
  EXPECT_NE(missing.output.find("/nonexistent/config.yaml: config file not found"), std::string::npos) << missing.output;

  const Result bad_value = run(kTiny + " experiment.output_dir=" + out.string() + " data.n_intersection=0");
  EXPECT_EQ(bad_value.code, 2) << bad_value.output;
  EXPECT_NE(bad_value.output.find("n_intersection"), std::string::npos) << bad_value.output;

  // The environment's one switch (the heap's huge pages) takes 0 or 1, nothing else.
  ::setenv("IML_HUGEPAGES", "yes", 1);
  const Result bad_env = run(kTiny + " experiment.output_dir=" + out.string());
  ::unsetenv("IML_HUGEPAGES");
  EXPECT_EQ(bad_env.code, 2) << bad_env.output;
  EXPECT_NE(bad_env.output.find("environment variable IML_HUGEPAGES: 'yes' is not 0 or 1"), std::string::npos)
      << bad_env.output;
  EXPECT_FALSE(fs::exists(out / "tiny"));

  // Names and values only the plugins can check: refused before anything is written.
  const std::vector<std::pair<std::string, std::string>> cases = {
      {"experiment.gap=[d1consis,d9consis]", "no eval set named 'd9consis'"},
      {"analyses=[{plugin: exact_match, sets: [1]}]", "'sets': expected list of strings"},
      {"analyses=[{plugin: exact_match, sets: [d1consis, nosuchset]}]", "no eval set named 'nosuchset'"},
      {"task.block_size=100", "block_size 100 exceeds the model's 64 positions"},
      {"tokenizer.from=checkpoint", "loads no checkpoint"},
  };
  for (const auto& [override, expected] : cases) {
    const Result c = run(kTiny + " experiment.output_dir=" + out.string() + " '" + override + "'");
    EXPECT_EQ(c.code, 2) << override << "\n" << c.output;
    EXPECT_NE(c.output.find(expected), std::string::npos) << override << "\n" << c.output;
    EXPECT_EQ(c.output.find("terminate"), std::string::npos) << c.output;
    EXPECT_FALSE(fs::exists(out / "tiny")) << override << ": a refused config must not leave results behind";
  }
}

// One tiny three-stage run per text dataset (knowledge stage, natural-language tags).
class TextDatasetRun : public ::testing::TestWithParam<std::string> {};

TEST_P(TextDatasetRun, RunsThreeStagesAndWritesTheGap) {
  const std::string ds = GetParam();
  const fs::path out = scratch(ds);
  const Result r = run(std::string(IMLTEST_E2E_DIR) + "/tiny_" + ds + ".yaml experiment.output_dir=" + out.string());
  ASSERT_EQ(r.code, 0) << r.output;
  EXPECT_NE(r.output.find("IML gap after stage2"), std::string::npos) << r.output;
  const Json summary = Json::parse(slurp(out / ("tiny_" + ds) / "summary.json"));
  for (const char* set : {"d1consis", "d2consis", "qd1consis", "qd2incons", "knowledge"})
    EXPECT_TRUE(summary["table"].contains(set)) << set;
  EXPECT_EQ(summary["table"]["d1consis"]["stage2"]["n"].get<int>(), 2);  // 1 seed x 2 stage-2 seeds

  const fs::path data = scratch(ds + "_data");
  const Result d = run("data " + std::string(IMLTEST_E2E_DIR) + "/tiny_" + ds + ".yaml --out " + data.string());
  ASSERT_EQ(d.code, 0) << d.output;
  std::istringstream lines(slurp(data / "0" / "0" / "train_stage1.jsonl"));
  std::string line;
  int defs = 0;
  while (std::getline(lines, line)) {
    const Json j = Json::parse(line);
    EXPECT_FALSE(j["subset"].get<std::string>().empty());
    EXPECT_FALSE(j["entity"].get<std::string>().empty()) << line;
    if (j.value("kind", "") == "definition") {
      ++defs;
      EXPECT_FALSE(j["variable"].get<std::string>().empty()) << line;
    }
  }
  EXPECT_GT(defs, 0);
}

// An analysis that acts at training steps, reads gradients of chosen examples and writes its
// own file: gradient_alignment on the tiny cvdb run.
TEST(EndToEnd, GradientAlignmentMeasuresDuringStage1AndWritesItsFile) {
  const fs::path out = scratch("gradalign");
  const Result r = run(std::string(IMLTEST_E2E_DIR) + "/tiny_cvdb.yaml experiment.output_dir=" + out.string() +
                       " experiment.stage2_seeds=1 'analyses=[{plugin: exact_match, max_examples: 8},"
                       " {plugin: gradient_alignment, every_n_steps: 1, max_pairs: 2}]'");
  ASSERT_EQ(r.code, 0) << r.output;
  std::istringstream lines(slurp(out / "tiny_cvdb/0/gradient_alignment.jsonl"));
  std::string line;
  std::map<std::string, int> per_subset;
  while (std::getline(lines, line)) {
    const Json j = Json::parse(line);
    EXPECT_EQ(j.at("stage"), "stage1") << line;
    EXPECT_EQ(j.at("pairs"), 2) << line;
    const double cos = j.at("grad_cos").get<double>();
    EXPECT_TRUE(cos >= -1.0 && cos <= 1.0) << line;
    EXPECT_GT(j.at("grad_norm_def").get<double>(), 0.0) << line;
    EXPECT_GE(j.at("grad_sqdist").get<double>(), 0.0) << line;
    ++per_subset[j.at("subset").get<std::string>()];
  }
  EXPECT_GT(per_subset["d1consis"], 0);
  EXPECT_EQ(per_subset["d1consis"], per_subset["d2consis"]);
  // Its latest measurement also lands in metrics.jsonl at the evaluations.
  const std::string metrics = slurp(out / "tiny_cvdb/0/metrics.jsonl");
  EXPECT_NE(metrics.find("\"grad_cos\""), std::string::npos);

  const Result bad = run(std::string(IMLTEST_E2E_DIR) + "/tiny_cvdb.yaml experiment.output_dir=" + out.string() +
                         "/bad 'analyses=[{plugin: gradient_alignment, stages: [stage9]}]'");
  EXPECT_EQ(bad.code, 2) << bad.output;
  EXPECT_NE(bad.output.find("no stage named 'stage9'"), std::string::npos) << bad.output;
  EXPECT_FALSE(fs::exists(out / "bad"));
}

// A small GPT-NeoX saved as a Hugging Face folder (config.json + model.safetensors) with an
// embedding of `vocab` rows, next to `tokenizer_json` as tokenizer.json.
// experiment.save_model: each run's final model is written as a Hugging Face folder; loaded back
// as a checkpoint and evaluated without training (one 0-epoch stage on the same split), it
// reproduces the saved run's final exact match on every eval set.
TEST(EndToEnd, SaveModelWritesAFolderThatReproducesTheRunsFinalMetrics) {
  const fs::path out = scratch("save_model");
  const Result r = run(kTiny + " experiment.output_dir=" + out.string() +
                       " experiment.seeds=[0] experiment.stage2_seeds=[1] experiment.save_model=true");
  ASSERT_EQ(r.code, 0) << r.output;
  const fs::path saved = out / "tiny/0/model_s2_1";
  ASSERT_TRUE(fs::exists(saved / "config.json")) << r.output;
  ASSERT_TRUE(fs::exists(saved / "model.safetensors"));
  EXPECT_FALSE(fs::exists(out / "tiny/0/model_s2_1.tmp"));
  EXPECT_FALSE(fs::exists(out / "tiny/0/model")) << "a run with a Stage-2 branch saves per Stage-2 seed";
  EXPECT_EQ(Json::parse(slurp(saved / "config.json")).at("model_type"), "gpt_neox");

  std::map<std::string, double> final_em;  // eval set -> em after the last stage
  {
    std::istringstream lines(slurp(out / "tiny/0/metrics.jsonl"));
    for (std::string line; std::getline(lines, line);) {
      const Json j = Json::parse(line);
      if (j.at("stage") == "stage2") final_em[j.at("eval_set").get<std::string>()] = j.at("em").get<double>();
    }
  }
  ASSERT_FALSE(final_em.empty());

  // The same data split (seed 0, Stage-2 seed 1), the saved model, no training.
  const fs::path out2 = scratch("save_model_reload");
  const Result r2 = run(kTiny + " experiment.output_dir=" + out2.string() +
                        " experiment.seeds=[0] experiment.stage2_seeds=[1] 'model={plugin: pythia, checkpoint: " +
                        saved.string() + "}' tokenizer.from=dataset 'stages=[{name: stage2, train_subset: stage2, epochs: 0, per_stage2_seed: true}]'");
  ASSERT_EQ(r2.code, 0) << r2.output;
  std::map<std::string, double> reloaded_em;
  std::istringstream lines(slurp(out2 / "tiny/0/metrics.jsonl"));
  for (std::string line; std::getline(lines, line);) {
    const Json j = Json::parse(line);
    reloaded_em[j.at("eval_set").get<std::string>()] = j.at("em").get<double>();
  }
  EXPECT_EQ(reloaded_em, final_em);
}

fs::path make_checkpoint(const std::string& name, int64_t vocab, const std::string& tokenizer_json) {
  auto pythia = imltest::load_plugin<imlsdk::ModelPlugin>("pythia");
  const Json shape = {{"hidden_size", 32}, {"num_layers", 1}, {"num_heads", 2}, {"intermediate_size", 64},
                      {"max_position_embeddings", 128}, {"vocab_size", vocab}};
  imlsdk::ModelContext ctx;
  ctx.pad_id = 1;
  const fs::path dir = scratch(name);
  {
    auto model = pythia->create(imltest::with_defaults(*pythia, shape), ctx);
    imlsdk::save_hf_checkpoint(*model, model->hf_config(), dir.string());
  }
  fs::copy_file(tokenizer_json, dir / "tokenizer.json");
  return dir;
}

std::string pretrained_config(const fs::path& checkpoint, const std::string& extra_model_keys = "") {
  return "experiment: {name: pretrained, seeds: 1, stage2_seeds: 1, threads: 1}\n"
         "data: {plugin: cvdb, path: " + std::string(IMLTEST_SOURCE_DIR) + "/data/cvdb/cvdb_sample.csv, n_per_gender: 30}\n"
         "tags: {plugin: natural_language}\n"
         "model: {plugin: pythia, checkpoint: " + checkpoint.string() + extra_model_keys + "}\n"
         "tokenizer: {from: checkpoint}\n"
         "task: {max_new_tokens: 4}\n"
         "training: {batch_size: 16, gradient_accumulation_steps: 1, learning_rate: 0.001}\n"
         "analyses: [{plugin: exact_match, max_examples: 8}]\n"
         "stages:\n  - {name: stage1, train_subset: stage1, epochs: 1}\n"
         "  - {name: stage2, train_subset: stage2, epochs: 1, per_stage2_seed: true}\n";
}

// The paper's runs: a checkpoint folder that brings its own tokenizer (here the GPT-NeoX-20B
// tokenizer.json, as Pythia's). The run reads the tokenizer from the folder; a checkpoint whose
// embedding is smaller than the tokenizer, or shape keys beside a checkpoint, are refused.
TEST(EndToEnd, PretrainedCheckpointBringsItsOwnTokenizer) {
  IMLTEST_FIXTURE_DIR_OR_SKIP(tokdir, "tokenizers/gpt-neox-20b");
  const std::string tokenizer_json = tokdir + "/20B_tokenizer.json";
  const fs::path ok = make_checkpoint("ckpt_pythia", 50304, tokenizer_json);  // Pythia's padded embedding
  const fs::path out = scratch("pretrained_run");
  const fs::path cfg = out / "pretrained.yaml";
  std::ofstream(cfg) << pretrained_config(ok);
  const Result r = run(cfg.string() + " experiment.output_dir=" + (out / "results").string());
  ASSERT_EQ(r.code, 0) << r.output;
  const Json manifest = Json::parse(slurp(out / "results/pretrained/0/manifest.json"));
  EXPECT_NE(manifest.at("tokenizer").get<std::string>().find("byte-level BPE from " + (ok / "tokenizer.json").string()),
            std::string::npos) << manifest.at("tokenizer");
  EXPECT_NE(manifest.at("tokenizer").get<std::string>().find("50277 ids"), std::string::npos);
  EXPECT_NE(slurp(out / "results/pretrained/0/metrics.jsonl").find("\"d1consis\""), std::string::npos);

  const fs::path small = make_checkpoint("ckpt_small", 1000, tokenizer_json);
  std::ofstream(out / "small.yaml") << pretrained_config(small);
  const Result refused = run("validate " + (out / "small.yaml").string());
  EXPECT_EQ(refused.code, 2) << refused.output;
  EXPECT_NE(refused.output.find("vocab_size 1000 is smaller than the tokenizer's 50277"), std::string::npos) << refused.output;

  std::ofstream(out / "shape.yaml") << pretrained_config(ok, ", hidden_size: 64");
  const Result shape = run("validate " + (out / "shape.yaml").string());
  EXPECT_EQ(shape.code, 2) << shape.output;
  EXPECT_NE(shape.output.find("'hidden_size' is set together with checkpoint"), std::string::npos) << shape.output;
}

// A model section that names only a checkpoint folder gets the plugin that loads its config.json
// model_type; an unknown model_type is refused naming the file and the types plugins load.
TEST(EndToEnd, CheckpointOnlyModelSectionIsRoutedByModelType) {
  IMLTEST_FIXTURE_DIR_OR_SKIP(tokdir, "tokenizers/gpt-neox-20b");
  const fs::path ckpt = make_checkpoint("ckpt_route", 50304, tokdir + "/20B_tokenizer.json");
  const fs::path out = scratch("route");
  std::string cfg = pretrained_config(ckpt);
  const std::string named = "model: {plugin: pythia, checkpoint: ";
  cfg.replace(cfg.find(named), named.size(), "model: {checkpoint: ");
  std::ofstream(out / "route.yaml") << cfg;
  const Result ok = run("validate " + (out / "route.yaml").string());
  EXPECT_EQ(ok.code, 0) << ok.output;

  Json config = Json::parse(slurp(ckpt / "config.json"));
  config["model_type"] = "mamba";
  std::ofstream(ckpt / "config.json") << config.dump();
  const Result unknown = run("validate " + (out / "route.yaml").string());
  EXPECT_EQ(unknown.code, 2) << unknown.output;
  EXPECT_NE(unknown.output.find((ckpt / "config.json").string() + ": no model plugin loads model_type 'mamba'; known: "),
            std::string::npos) << unknown.output;
  EXPECT_NE(unknown.output.find("gpt_neox (pythia)"), std::string::npos) << unknown.output;
}

// configs/paper/model_sizes/: every config of the paper's sweep names its checkpoint folder; where
// that folder is missing, validate says so on one line (exit 2), before any data or tokenizer is read
// from it.
TEST(EndToEnd, PaperModelSizeConfigsNameTheirMissingCheckpointFolder) {
  const fs::path dir = fs::path(IMLTEST_SOURCE_DIR) / "configs/paper/model_sizes";
  int checked = 0;
  for (const auto& e : fs::directory_iterator(dir)) {
    if (e.path().extension() != ".yaml") continue;
    std::string folder;
    {
      std::ifstream in(e.path());
      std::string line;
      while (std::getline(in, line))
        if (line.rfind("  checkpoint: ", 0) == 0) folder = line.substr(14);
    }
    ASSERT_FALSE(folder.empty()) << e.path() << " names no checkpoint folder";
    if (fs::exists(folder)) continue;  // a machine that has the checkpoint
    const Result r = run("validate " + e.path().string() + " data.path=" + std::string(IMLTEST_SOURCE_DIR) +
                         "/data/cvdb/cvdb_sample.csv data.n_per_gender=50");
    EXPECT_EQ(r.code, 2) << e.path() << "\n" << r.output;
    EXPECT_NE(r.output.find("'model.checkpoint': " + folder + ": no such checkpoint folder"), std::string::npos)
        << e.path() << "\n" << r.output;
    EXPECT_EQ(std::count(r.output.begin(), r.output.end(), '\n'), 1) << r.output;
    ++checked;
  }
  EXPECT_GE(checked, 12);  // Pythia 70M..6.9B, GPT-Neo 125M..2.7B, Llama-2-7B, T5-3B
}

INSTANTIATE_TEST_SUITE_P(Datasets, TextDatasetRun, ::testing::Values("cvdb", "trex"));

TEST(EndToEnd, ValidatePluginsAndData) {
  const Result v = run("validate " + kTiny);
  EXPECT_EQ(v.code, 0) << v.output;
  EXPECT_NE(v.output.find("ok"), std::string::npos);

  // validate checks the device as a run does, before it loads any data: without a CUDA LibTorch
  // (CI), 'cuda' is refused, even where the data would fail too (a missing file, found only by
  // loading it).
  const std::string trex = std::string(IMLTEST_E2E_DIR) + "/tiny_trex.yaml";
  for (const std::string& args : {kTiny, trex + " data.path=/nonexistent/lama.jsonl"}) {
    const Result cuda = run("validate " + args + " experiment.device=cuda");
    if (args == kTiny && cuda.code == 0) break;  // a CUDA LibTorch with a GPU
    EXPECT_EQ(cuda.code, 2) << cuda.output;
    EXPECT_NE(cuda.output.find("experiment.device: 'cuda' requested but this LibTorch has no CUDA device"), std::string::npos)
        << args << "\n" << cuda.output;
  }

  const Result p = run("plugins");
  EXPECT_EQ(p.code, 0) << p.output;
  for (const char* name : {"set_inclusion", "random_string", "pythia", "adafactor", "adamw", "sgd", "exact_match"})
    EXPECT_NE(p.output.find(name), std::string::npos) << name << "\n" << p.output;

  const fs::path out = scratch("data");
  const Result d = run("data " + kTiny + " --out " + out.string());
  ASSERT_EQ(d.code, 0) << d.output;
  const fs::path dir = out / "0" / "0";
  ASSERT_TRUE(fs::exists(dir / "train_stage1.jsonl"));
  ASSERT_TRUE(fs::exists(dir / "train_stage2.jsonl"));
  ASSERT_TRUE(fs::exists(dir / "eval_d1consis.jsonl"));
  std::istringstream lines(slurp(dir / "train_stage2.jsonl"));
  std::string line;
  int n = 0;
  while (std::getline(lines, line)) {
    const Json j = Json::parse(line);
    EXPECT_TRUE(j.contains("text") && j.contains("prompt") && j.contains("answer") && j.contains("subset"));
    EXPECT_TRUE(j.contains("variable"));
    ++n;
  }
  EXPECT_GT(n, 0);
  EXPECT_EQ(run("--version").code, 0);
  EXPECT_EQ(run("--help").code, 0);
}

}  // namespace
