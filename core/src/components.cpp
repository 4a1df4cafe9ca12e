#include "components.hpp"

#include <algorithm>
#include <filesystem>

#include <ATen/ATen.h>

#include "imlsdk/pretrained_tokenizer.hpp"

namespace fs = std::filesystem;

namespace imlcore {

Plugins resolve_plugins(const Config& cfg, const PluginRegistry& reg) {
  Plugins p;
  p.data = reg.get_as<imlsdk::DatasetPlugin>(cfg.data.plugin);
  p.tags = reg.get_as<imlsdk::TagPlugin>(cfg.tags.plugin);
  p.task = reg.get_as<imlsdk::TaskPlugin>(cfg.task.plugin);
  p.model = reg.get_as<imlsdk::ModelPlugin>(cfg.model.plugin);
  p.optimizer = reg.get_as<imlsdk::OptimizerPlugin>(cfg.optimizer.plugin);
  for (const auto& a : cfg.analyses) p.analyses.push_back(reg.get_as<imlsdk::AnalysisPlugin>(a.plugin));
  return p;
}

std::unique_ptr<imlsdk::Dataset> load_dataset(const Config& cfg, const Plugins& p) {
  imlsdk::LoadContext ctx;
  ctx.base_dir = cfg.base_dir;
  return call_plugin("data plugin '" + cfg.data.plugin + "'", [&] { return p.data->load(cfg.data.params, ctx); });
}

SeedData split_for_seed(const Config& cfg, const Plugins& p, const imlsdk::Dataset& data,
                        uint64_t seed, uint64_t seed2) {
  SeedData d;
  imlsdk::Rng tag_rng(seed * 1000003ULL + 17);
  d.tagger = call_plugin("tags plugin '" + cfg.tags.plugin + "'", [&] { return p.tags->create(cfg.tags.params, tag_rng); });
  imlsdk::SplitContext ctx;
  ctx.seed = seed;
  ctx.seed_stage2 = seed2;
  ctx.tagger = d.tagger.get();
  d.split = call_plugin("data plugin '" + cfg.data.plugin + "'", [&] { return data.split(ctx); });
  for (const auto& st : cfg.stages)
    if (!d.split.train.count(st.train_subset)) {
      std::string have;
      for (const auto& kv : d.split.train) have += (have.empty() ? "" : ", ") + kv.first;
      throw UserError(cfg.source.where("stages") + ": stage '" + st.name + "': data plugin '" + cfg.data.plugin +
                      "' has no train subset '" + st.train_subset + "' (it has: " + have + ")");
    }
  return d;
}

static std::string checkpoint_of(const Config& cfg, const Plugins& p) {
  return call_plugin("model plugin '" + cfg.model.plugin + "'",
                     [&] { return p.model->checkpoint_dir(cfg.model.params, cfg.base_dir); });
}

std::string tokenizer_source(const Config& cfg, const Plugins& p) {
  if (cfg.tokenizer.from != "auto") return cfg.tokenizer.from;
  return checkpoint_of(cfg, p).empty() ? "dataset" : "checkpoint";
}

std::shared_ptr<const imlsdk::Tokenizer> choose_tokenizer(const Config& cfg, const Plugins& p,
                                                          const imlsdk::DataSplit& split) {
  const std::string checkpoint = checkpoint_of(cfg, p);
  const std::string from = tokenizer_source(cfg, p);
  auto load = [&](const std::string& where, const std::string& key) {
    return call_plugin(cfg.source.where(key) + ": tokenizer", [&] {
      return std::shared_ptr<const imlsdk::Tokenizer>(imlsdk::load_pretrained_tokenizer(where));
    });
  };
  if (from == "dataset") {
    // tokenizer.from: auto with a dataset that builds none (images): the run has no tokenizer,
    // and a task that needs one refuses it when it is created.
    if (!split.tokenizer && cfg.tokenizer.from == "auto") return nullptr;
    if (!split.tokenizer)
      throw UserError(cfg.source.where("tokenizer") + ": tokenizer.from is dataset but data plugin '" + cfg.data.plugin +
                      "' builds no tokenizer; use tokenizer.from: checkpoint or folder");
    return split.tokenizer;
  }
  if (from == "checkpoint") {
    if (checkpoint.empty())
      throw UserError(cfg.source.where("tokenizer.from") + ": tokenizer.from is checkpoint but model plugin '" +
                      cfg.model.plugin + "' loads no checkpoint (set its checkpoint folder, or tokenizer.from: dataset)");
    return load(checkpoint, "tokenizer.from");
  }
  fs::path path(cfg.tokenizer.path);
  if (path.is_relative()) path = fs::path(cfg.base_dir) / path;
  return load(path.lexically_normal().string(), "tokenizer.path");
}

std::shared_ptr<imlsdk::Model> build_model(const Config& cfg, const Plugins& p, const imlsdk::Tokenizer* tok) {
  imlsdk::ModelContext ctx;
  if (tok) {
    ctx.vocab_size = tok->vocab_size();
    ctx.pad_id = tok->pad_id();
    ctx.eos_id = tok->eos_id();
    ctx.bos_id = tok->bos_id();
  }
  ctx.base_dir = cfg.base_dir;
  const std::string what = "model plugin '" + cfg.model.plugin + "'";
  auto model = call_plugin(what, [&] { return p.model->create(cfg.model.params, ctx); });
  const imlsdk::ModelInfo info = model->info();
  if (tok && info.family != imlsdk::ModelFamily::ImageClassifier && info.vocab_size < tok->vocab_size()) {
    const std::string ckpt = p.model->checkpoint_dir(cfg.model.params, cfg.base_dir);
    throw UserError(what + (ckpt.empty() ? "" : " (checkpoint " + ckpt + ")") + ": the embedding has " +
                    std::to_string(info.vocab_size) + " rows but the tokenizer (" + tok->describe() + ") has " +
                    std::to_string(tok->vocab_size()) + " ids; use the checkpoint's own tokenizer (tokenizer.from: checkpoint)");
  }
  return model;
}

std::unique_ptr<imlsdk::Task> build_task(const Config& cfg, const Plugins& p, const imlsdk::Tokenizer* tok,
                                         const imlsdk::Dataset& data, const imlsdk::Model& model,
                                         c10::Device device) {
  imlsdk::TaskContext ctx;
  ctx.tokenizer = tok;
  ctx.dataset = &data;
  ctx.model = model.info();
  ctx.device = device;
  return call_plugin("task plugin '" + cfg.task.plugin + "'", [&] { return p.task->create(cfg.task.params, ctx); });
}

std::vector<std::unique_ptr<imlsdk::Analysis>> build_analyses(const Config& cfg, const Plugins& p,
                                                              const imlsdk::DataSplit& split) {
  imlsdk::AnalysisContext ctx;
  for (const auto& e : split.evals) ctx.eval_sets.push_back(e.name);
  for (const auto& st : cfg.stages) ctx.stages.push_back(st.name);
  std::vector<std::unique_ptr<imlsdk::Analysis>> out;
  for (size_t i = 0; i < p.analyses.size(); ++i)
    out.push_back(call_plugin(cfg.source.where("analyses") + ": analysis plugin '" + cfg.analyses[i].plugin + "'",
                              [&] { return p.analyses[i]->create(cfg.analyses[i].params, ctx); }));
  return out;
}

std::vector<std::unique_ptr<imlsdk::Analysis>> preflight(const Config& cfg, const Plugins& p,
                                                         const imlsdk::Dataset& data) {
  SeedData d = split_for_seed(cfg, p, data, cfg.experiment.seeds.front(), cfg.experiment.stage2_seeds.front());
  auto tok = choose_tokenizer(cfg, p, d.split);
  auto model = build_model(cfg, p, tok.get());
  build_task(cfg, p, tok.get(), data, *model, c10::Device("cpu"));
  imlsdk::NamedTensors named;
  for (auto& kv : model->named_parameters()) named.emplace_back(kv.key(), kv.value());
  for (const auto& st : cfg.stages) {
    call_plugin("optimizer plugin '" + cfg.optimizer.plugin + "' (stage " + st.name + ")",
                [&] { return p.optimizer->create(st.optimizer_params, named); });
    if (st.epochs > 0 && d.split.train.at(st.train_subset).empty())
      throw UserError(cfg.file + ": stage '" + st.name + "': train subset '" + st.train_subset + "' is empty with this data config");
  }
  auto analyses = build_analyses(cfg, p, d.split);
  std::vector<std::string> sets;
  for (const auto& e : d.split.evals) sets.push_back(e.name);
  for (const auto& g : cfg.experiment.gap)
    if (std::find(sets.begin(), sets.end(), g) == sets.end()) {
      std::string all;
      for (const auto& s : sets) all += (all.empty() ? "" : ", ") + s;
      throw UserError(cfg.source.where("experiment.gap") + ": 'experiment.gap': no eval set named '" + g +
                      "' (the data has: " + all + ")");
    }
  return analyses;
}

}  // namespace imlcore
