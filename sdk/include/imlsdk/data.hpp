// Datasets: loaded once per experiment, split per seed. The torch-free part of the SDK.
//
//   class MyData : public imlsdk::DatasetPlugin {
//     std::unique_ptr<imlsdk::Dataset> load(const Json& params, const LoadContext& ctx) const;
//   };
//
// load() reads files and does every seed-independent step once (a full CVDB or T-REx dump
// takes seconds); Dataset::split() then draws one seed's subsets and renders its examples.
// Plugins keep no process-wide state: everything lives in the Dataset object, which the host
// owns for the experiment.
#pragma once
#include <cstdint>
#include <map>
#include <memory>
#include <string>
#include <vector>

#include "imlsdk/plugin.hpp"
#include "imlsdk/rng.hpp"
#include "imlsdk/tags.hpp"
#include "imlsdk/tokenizer.hpp"

namespace imlsdk {

// One training or evaluation example. Text tasks read `text` (what a causal LM trains on) and
// `prompt` + `answer` (a seq2seq model's input and target; a causal LM's evaluation prompt and
// expected continuation). Non-text examples carry their payload in `features` (e.g. an image
// grid's digit labels), which the dataset turns into pixels (Dataset::image).
struct Example {
  std::string text;
  std::string prompt;
  std::string answer;
  std::string subset;    // e.g. "qd1consis"
  std::string entity;    // the entity (or hidden value) the example is about, if any
  std::string variable;  // the alias, if any
  std::string kind;      // e.g. "qa" or "definition"
  std::map<std::string, std::vector<int64_t>> features;
};

struct EvalSet {
  std::string name;  // e.g. "d1consis", "train_questions_qd1consis"
  std::vector<Example> examples;
};

// What one seed trains and evaluates on.
struct DataSplit {
  // Training sets by train-subset name ("full", "stage1", "stage2", ...), each already in the
  // order training iterates (shuffled once when split, spec §5).
  std::map<std::string, std::vector<Example>> train;
  // Evaluation sets, evaluated at every evaluation point of every stage.
  std::vector<EvalSet> evals;
  // A tokenizer built from this split's texts (for models trained from scratch), or null if
  // the dataset builds none. Used when the config says `tokenizer.from: dataset`.
  std::shared_ptr<Tokenizer> tokenizer;
  // Free-form facts to log (sizes, dropped rows...), written to manifest.json.
  Json info = Json::object();
};

struct SplitContext {
  uint64_t seed = 0;         // Stage-1 seed: fixes everything Stage 1 sees
  uint64_t seed_stage2 = 0;  // re-draws what only Stage 2 sees
  const Tagger* tagger = nullptr;
};

// An image as float pixels in [0, 1], channels first.
struct Image {
  int64_t channels = 1, height = 0, width = 0;
  std::vector<float> pixels;  // channels * height * width
};

class Dataset {
 public:
  virtual ~Dataset() = default;
  // One seed's train and eval sets. Deterministic in (ctx.seed, ctx.seed_stage2, the tagger);
  // what Stage 1 sees must not depend on seed_stage2. Const: the host may split concurrently.
  virtual DataSplit split(const SplitContext& ctx) const = 0;
  // Facts about the loaded data (sizes, dropped rows), written to manifest.json.
  virtual Json info() const { return Json::object(); }
  // Image datasets: the pixels of example `x`. `train` = drawn for a training step (datasets
  // may sample fresh images online with `rng`); evaluation images must not depend on `rng`.
  virtual Image image(const Example& x, bool train, Rng& rng) const;
};

struct LoadContext {
  std::string base_dir;  // relative paths in the config resolve against this (the config's folder)
};

class DatasetPlugin : public Plugin {
 public:
  static constexpr Kind kKind = Kind::Dataset;
  // Reads and checks the data once. Bad files or values: std::invalid_argument /
  // std::runtime_error with one line naming the file (and line) or key.
  virtual std::unique_ptr<Dataset> load(const Json& params, const LoadContext& ctx) const = 0;
};

}  // namespace imlsdk
