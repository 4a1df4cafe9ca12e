#include <gtest/gtest.h>

#include <filesystem>
#include <fstream>

#include "config.hpp"
#include "errors.hpp"
#include "plugin_registry.hpp"
#include "scratch.hpp"

using namespace imlcore;
namespace fs = std::filesystem;

namespace {

const char* kValid = R"(experiment:
  name: tiny
  seeds: [0, 1]
  stage2_seeds: 2
data:
  plugin: set_inclusion
  num_x: 100
model:
  plugin: pythia
  hidden_size: 32
  num_layers: 1
  num_heads: 2
  intermediate_size: 64
optimizer:
  plugin: adafactor
training:
  batch_size: 16
  learning_rate: 0.001
stages:
  - {name: stage1, train_subset: stage1, epochs: 2}
  - name: stage2
    train_subset: stage2
    epochs: 1
    per_stage2_seed: true
    learning_rate: 0.0005
)";

class ConfigTest : public ::testing::Test {
 protected:
  static void SetUpTestSuite() { reg_ = new PluginRegistry({IMLTEST_PLUGIN_DIR}); }
  static void TearDownTestSuite() { delete reg_; }

  std::string write(const std::string& text) {
    const fs::path dir = imltest::scratch_root() / "config";
    fs::create_directories(dir);
    const std::string path = (dir / (std::string(::testing::UnitTest::GetInstance()->current_test_info()->name()) + ".yaml")).string();
    std::ofstream(path) << text;
    return path;
  }

  // The refusal message of loading `text` (with optional overrides); "" when it loads.
  std::string refusal(const std::string& text, std::vector<std::string> overrides = {}) {
    try {
      load_config(write(text), overrides, *reg_);
    } catch (const UserError& e) {
      return e.what();
    }
    return "";
  }

  static std::string replace(std::string s, const std::string& from, const std::string& to) {
    const auto pos = s.find(from);
    EXPECT_NE(pos, std::string::npos) << from;
    return s.replace(pos, from.size(), to);
  }

  static PluginRegistry* reg_;
};
PluginRegistry* ConfigTest::reg_ = nullptr;

#define EXPECT_HAS(msg, part) EXPECT_NE((msg).find(part), std::string::npos) << "message: " << (msg)

TEST_F(ConfigTest, ValidConfigResolvesDefaultsSeedsAndStageOverrides) {
  const Config c = load_config(write(kValid), {}, *reg_);
  EXPECT_EQ(c.experiment.seeds, (std::vector<uint64_t>{0, 1}));
  EXPECT_EQ(c.experiment.stage2_seeds, (std::vector<uint64_t>{0, 1}));
  ASSERT_EQ(c.stages.size(), 2u);
  EXPECT_DOUBLE_EQ(c.stages[0].training.learning_rate, 0.001);
  EXPECT_DOUBLE_EQ(c.stages[1].training.learning_rate, 0.0005);
  EXPECT_TRUE(c.stages[1].per_stage2_seed);
  EXPECT_EQ(c.tags.plugin, "random_string");  // default tag plugin
  EXPECT_EQ(c.model.params.at("hidden_size").get<int>(), 32);
  EXPECT_TRUE(c.model.params.contains("rotary_pct"));  // plugin default filled in
  EXPECT_EQ(c.analyses.at(0).plugin, "exact_match");
}

TEST_F(ConfigTest, CommandLineOverridesApply) {
  const Config c = load_config(write(kValid), {"model.hidden_size=48", "experiment.seeds=[3]", "stages.1.epochs=5"}, *reg_);
  EXPECT_EQ(c.model.params.at("hidden_size").get<int>(), 48);
  EXPECT_EQ(c.experiment.seeds, (std::vector<uint64_t>{3}));
  EXPECT_EQ(c.stages[1].epochs, 5);
}

TEST_F(ConfigTest, UnknownPluginKeyNamesFileLineAndSuggests) {
  const std::string m = refusal(replace(kValid, "  hidden_size: 32", "  hiden_size: 32"));
  EXPECT_HAS(m, ".yaml:10: 'model.hiden_size': unknown key for plugin 'pythia'");
  EXPECT_HAS(m, "did you mean hidden_size");
}

TEST_F(ConfigTest, UnknownSectionAndUnknownTrainingKey) {
  EXPECT_HAS(refusal(std::string(kValid) + "trainng:\n  batch_size: 3\n"), "unknown section (did you mean training?)");
  EXPECT_HAS(refusal(replace(kValid, "  batch_size: 16", "  batchsize: 16")), "'training.batchsize': unknown key");
}

TEST_F(ConfigTest, WrongTypeIsRefused) {
  const std::string m = refusal(replace(kValid, "num_x: 100", "num_x: lots"));
  EXPECT_HAS(m, ":7: 'data.num_x': expected int, got string 'lots'");
}

TEST_F(ConfigTest, FloatsPastTheDoubleRangeAreRefused) {
  // YAML reads 1e999 as inf; no key means anything by it (training keys, plugin keys, overrides).
  EXPECT_HAS(refusal(replace(kValid, "learning_rate: 0.001", "learning_rate: 1e999")),
             "'training.learning_rate': expected a finite float, got a number out of range");
  EXPECT_HAS(refusal(replace(kValid, "learning_rate: 0.0005", "learning_rate: -1e400")),
             "learning_rate': expected a finite float");
  EXPECT_HAS(refusal(kValid, {"model.init_std=1e999"}), "'model.init_std': expected a finite float");
  EXPECT_EQ(refusal(kValid, {"model.init_std=1e300"}), "");
}

TEST_F(ConfigTest, YamlSyntaxErrorGivesLine) {
  const std::string m = refusal("experiment:\n  name: [unclosed\ndata: {plugin: set_inclusion}\n");
  EXPECT_HAS(m, "YAML syntax error");
  EXPECT_HAS(m, ".yaml:");
}

TEST_F(ConfigTest, UnknownPluginSuggestsCloseNames) {
  const std::string m = refusal(replace(kValid, "plugin: set_inclusion", "plugin: set_inclusio"));
  EXPECT_HAS(m, "unknown dataset plugin 'set_inclusio' (did you mean set_inclusion?)");
  EXPECT_HAS(m, ":6:");
}

TEST_F(ConfigTest, MissingFileAndMissingStages) {
  try {
    load_config("/nonexistent/x.yaml", {}, *reg_);
    FAIL();
  } catch (const UserError& e) {
    EXPECT_HAS(std::string(e.what()), "/nonexistent/x.yaml: config file not found");
  }
  EXPECT_HAS(refusal("data: {plugin: set_inclusion}\nmodel: {plugin: pythia}\n"), "'stages': expected a non-empty list");
}

TEST_F(ConfigTest, StageErrors) {
  EXPECT_HAS(refusal(replace(kValid, "epochs: 2}", "epochs: 2, per_stage2_seed: yes}")), "expected bool");
  EXPECT_HAS(refusal(replace(kValid, "{name: stage1, train_subset: stage1, epochs: 2}", "{name: stage1, epochs: 2}")),
             "missing required key 'train_subset'");
  EXPECT_HAS(refusal(replace(kValid, "    learning_rate: 0.0005", "    learning_rat: 0.0005")), "did you mean learning_rate");
  EXPECT_HAS(refusal(replace(kValid, "training:\n", "training:\n  lr_scheduler: cosine\n")), "expected linear or constant");
}

TEST_F(ConfigTest, BadOverrides) {
  EXPECT_HAS(refusal(kValid, {"model.hidden_size"}), "expected dotted.key=value");
  EXPECT_HAS(refusal(kValid, {"stages.x=1"}), "'x' must be a list index");
  EXPECT_HAS(refusal(kValid, {"stages.x.epochs=1"}), "'x' must be a list index");
  EXPECT_HAS(refusal(kValid, {"stages.7.epochs=1"}), "out of range");
  EXPECT_HAS(refusal(kValid, {"model.hiden_size=3"}), "command line override: 'model.hiden_size': unknown key");
  EXPECT_HAS(refusal(kValid, {"experiment.seeds=[1, 1]"}), "listed twice");
}

TEST_F(ConfigTest, DuplicateKeysAreRefusedWithBothLines) {
  const std::string msg = refusal(replace(kValid, "  num_x: 100\n", "  num_x: 100\n  num_x: 200\n"));
  EXPECT_HAS(msg, "'data.num_x' is given twice (lines 7 and 8)");
  EXPECT_HAS(refusal(std::string(kValid) + "model:\n  plugin: pythia\n"), "'model' is given twice");
}

TEST_F(ConfigTest, TaskDefaultsToTheModelsFamilyAndTokenizerSectionIsChecked) {
  const Config c = load_config(write(kValid), {}, *reg_);
  EXPECT_EQ(c.task.plugin, "causal_lm");
  EXPECT_EQ(c.task.params.at("block_size"), 48);
  EXPECT_EQ(c.tokenizer.from, "auto");
  EXPECT_EQ(c.resolved.at("task").at("plugin"), "causal_lm");
  EXPECT_HAS(refusal(kValid, {"tokenizer.from=hub"}), "expected auto, dataset, checkpoint or folder");
  EXPECT_HAS(refusal(kValid, {"tokenizer.from=folder"}), "needs tokenizer.path");
  EXPECT_HAS(refusal(kValid, {"tokenizer.path=x"}), "only read with tokenizer.from: folder");
  EXPECT_HAS(refusal(kValid, {"task.block_sise=3"}), "did you mean block_size");
}

TEST_F(ConfigTest, WronglyTypedListsAreRefused) {
  EXPECT_HAS(refusal(kValid, {"experiment.gap=[1, 2]"}), "expected two eval-set names");
}

}  // namespace
