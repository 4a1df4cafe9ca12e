// Building an experiment's parts from its config: the plugins it names, the dataset (loaded
// once), one seed's data, the tokenizer, the model, the task and the analyses. Every plugin
// error becomes one UserError line naming the plugin.
#pragma once
#include <memory>
#include <string>
#include <vector>

#include <c10/core/Device.h>

#include "config.hpp"
#include "errors.hpp"
#include "imlsdk/analysis.hpp"
#include "imlsdk/data.hpp"
#include "imlsdk/model.hpp"
#include "imlsdk/optimizer.hpp"
#include "imlsdk/task.hpp"
#include "plugin_registry.hpp"

namespace imlcore {

struct Plugins {
  std::shared_ptr<imlsdk::DatasetPlugin> data;
  std::shared_ptr<imlsdk::TagPlugin> tags;
  std::shared_ptr<imlsdk::TaskPlugin> task;
  std::shared_ptr<imlsdk::ModelPlugin> model;
  std::shared_ptr<imlsdk::OptimizerPlugin> optimizer;
  std::vector<std::shared_ptr<imlsdk::AnalysisPlugin>> analyses;
};

Plugins resolve_plugins(const Config& cfg, const PluginRegistry& registry);

// Runs f(); a plugin's std::invalid_argument / std::runtime_error becomes "<what>: <message>".
template <typename F>
auto call_plugin(const std::string& what, F&& f) -> decltype(f()) {
  try {
    return f();
  } catch (const UserError&) {
    throw;
  } catch (const std::invalid_argument& e) {
    throw UserError(what + ": " + e.what());
  } catch (const std::runtime_error& e) {
    throw UserError(what + ": " + e.what());
  } catch (const std::out_of_range& e) {
    throw UserError(what + ": " + e.what());
  }
}

std::unique_ptr<imlsdk::Dataset> load_dataset(const Config& cfg, const Plugins& p);

// One (seed, stage-2 seed)'s data. The tagger is seeded from the Stage-1 seed only, so Stage-1
// data never depends on the Stage-2 seed.
struct SeedData {
  std::unique_ptr<imlsdk::Tagger> tagger;
  imlsdk::DataSplit split;
};
SeedData split_for_seed(const Config& cfg, const Plugins& p, const imlsdk::Dataset& data,
                        uint64_t seed, uint64_t seed2);

// The tokenizer `tokenizer.from` names: the split's own (dataset), the model's checkpoint
// folder's (checkpoint), a folder (folder); auto = checkpoint if the model loads one, else
// dataset. Null only when neither the dataset nor a checkpoint has one and the task needs none.
// Where the run's tokenizer comes from once `auto` is resolved: dataset, checkpoint or folder.
std::string tokenizer_source(const Config& cfg, const Plugins& p);

std::shared_ptr<const imlsdk::Tokenizer> choose_tokenizer(const Config& cfg, const Plugins& p,
                                                          const imlsdk::DataSplit& split);

// The model, from scratch (vocabulary from the tokenizer) or from its checkpoint; a checkpoint
// whose embedding has fewer rows than the tokenizer has ids is refused.
std::shared_ptr<imlsdk::Model> build_model(const Config& cfg, const Plugins& p,
                                           const imlsdk::Tokenizer* tokenizer);

std::unique_ptr<imlsdk::Task> build_task(const Config& cfg, const Plugins& p,
                                         const imlsdk::Tokenizer* tokenizer,
                                         const imlsdk::Dataset& data, const imlsdk::Model& model,
                                         c10::Device device);

std::vector<std::unique_ptr<imlsdk::Analysis>> build_analyses(const Config& cfg, const Plugins& p,
                                                              const imlsdk::DataSplit& split);

// Checks what only the plugins can check (parameter values, data files, checkpoints, eval-set
// names) by building the first seed's data, the model, the task, the optimizer and the
// analyses, without training or writing anything. Returns the analyses it built: the run uses
// them, so the first seed is not split again for them.
std::vector<std::unique_ptr<imlsdk::Analysis>> preflight(const Config& cfg, const Plugins& p,
                                                         const imlsdk::Dataset& data);

}  // namespace imlcore
