// The experiment config: YAML sections naming plugins and their parameters. Every key is
// validated against a declaration (the host's own for experiment/training/stages, each plugin's
// params() for its section); errors are one line with file:line.
#pragma once
#include <map>
#include <string>
#include <vector>

#include "imlsdk/plugin.hpp"

namespace imlcore {

class PluginRegistry;
using imlsdk::Json;

// Where each key of a config came from, for error messages: "path/to/file.yaml:12".
struct SourceMap {
  std::string file;
  std::map<std::string, int> lines;  // dotted key path -> 1-based line; -1 = command line
  std::string where(const std::string& key) const;
};

struct PluginSection {
  std::string plugin;  // plugin name
  Json params;         // every declared key, defaults filled in
};

// Host settings: each key is declared once, in config.cpp's schemas (name, default, help); the
// structs below only hold the values.
struct TrainingConfig {
  double learning_rate = 0;
  int64_t batch_size = 0;
  int64_t gradient_accumulation_steps = 0;
  std::string lr_scheduler;
  int64_t warmup_steps = 0;
  double warmup_ratio = 0;
  double max_grad_norm = 0;
  int64_t eval_every = 0;
  int64_t eval_batch_size = 0;
  int64_t checkpoint_every = 0;  // optimizer steps between mid-stage checkpoints; 0 = auto
  std::string precision = "fp32";  // or bf16 (autocast compute, fp32 master weights): precision.hpp
};

struct StageConfig {
  std::string name;
  std::string train_subset;
  int64_t epochs = 1;
  bool per_stage2_seed = false;  // this stage (and every later one) is run once per Stage-2 seed
  TrainingConfig training;       // common training settings with this stage's overrides
  Json optimizer_params;         // optimizer params with this stage's overrides
};

struct ExperimentConfig {
  std::string name;
  Json seeds_given, stage2_seeds_given;  // as written: a count or a list
  std::vector<uint64_t> seeds;
  std::vector<uint64_t> stage2_seeds;
  std::string output_dir;
  std::string device;
  int64_t threads = 0;        // BLAS threads, 0 = every core
  int64_t torch_threads = 1;  // LibTorch's own (OpenMP) intra-op threads
  int64_t streams = 0;        // batch parts computed side by side (0 = auto: 2 on the CPU, 1 on CUDA)
  bool resume = true;
  std::vector<std::string> gap;  // {reliable, unreliable} eval sets
  std::string summary_metric;    // the metric the summary table aggregates ("em", "accuracy")
  bool save_model = false;       // write each run's final model as an HF folder
};

// Where the run's tokenizer comes from.
struct TokenizerConfig {
  std::string from;  // auto | dataset | checkpoint | folder
  std::string path;  // the folder (or file), with from: folder
};

struct Config {
  std::string file;      // the YAML file
  std::string base_dir;  // its folder: relative data paths resolve against it
  ExperimentConfig experiment;
  PluginSection data, tags, task, model, optimizer;
  std::vector<PluginSection> analyses;
  TokenizerConfig tokenizer;
  TrainingConfig training;
  std::vector<StageConfig> stages;
  Json resolved;  // the whole config with defaults, as written to results
  SourceMap source;  // where each key came from, for errors found after loading
};

// Host-owned declarations (also printed by `imlhost plugins host`).
const std::vector<imlsdk::ParamSpec>& experiment_spec();
const std::vector<imlsdk::ParamSpec>& training_spec();
const std::vector<imlsdk::ParamSpec>& tokenizer_spec();
const std::vector<imlsdk::ParamSpec>& stage_spec();

// Loads, applies `overrides` ("dotted.key=value"), resolves plugins and validates everything.
// Throws UserError with one line naming file:line and key.
Config load_config(const std::string& path, const std::vector<std::string>& overrides,
                   const PluginRegistry& registry);

}  // namespace imlcore
