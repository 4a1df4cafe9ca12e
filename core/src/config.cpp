#include "config.hpp"
#include "config_text.hpp"

#include <cmath>
#include <filesystem>
#include <fstream>
#include <set>
#include <sstream>

#include "errors.hpp"
#include "imlsdk/params.hpp"
#include "imlsdk/text.hpp"
#include "imlsdk/checkpoint.hpp"
#include "imlsdk/model.hpp"
#include "plugin_registry.hpp"
#include "precision.hpp"

namespace fs = std::filesystem;
using imlsdk::ParamSpec;
using imlsdk::ParamType;

namespace imlcore {

// ---- host declarations: every host key once ---------------------------------------------
namespace {

const imlsdk::Schema<ExperimentConfig>& experiment_schema() {
  using E = ExperimentConfig;
  static const auto s = imlsdk::Schema<E>()
      .add("name", &E::name, "", "experiment name; results go to <output_dir>/<name> (default: config file name)")
      .add("seeds", &E::seeds_given, Json(1), "Stage-1 seeds: a list, or a count n meaning 0..n-1")
      .add("stage2_seeds", &E::stage2_seeds_given, Json(1), "Stage-2 seeds per Stage-1 seed: a list, or a count")
      .add("output_dir", &E::output_dir, "results", "where results are written")
      .add("device", &E::device, "cpu", "cpu, cuda or cuda:N")
      .add("threads", &E::threads, int64_t{0}, "CPU threads for the BLAS (OpenBLAS) GEMMs (0 = every core)")
      .add("torch_threads", &E::torch_threads, int64_t{1}, "LibTorch's own OpenMP threads for non-GEMM ops (0 = every core); 1 avoids the two pools spinning against each other (docs/performance.md)")
      .add("streams", &E::streams, int64_t{0}, "split each training micro-batch and evaluation batch into this many parts computed side by side, one core each, where the model and the task allow concurrent calls (0 = auto: 2 on the CPU, 1 on CUDA; 1 = off); the parts' float rounding differs, so it is part of the config hash (docs/performance.md)")
      .add("resume", &E::resume, true, "skip runs whose results exist for the same config, resume from saved stage models")
      .add("gap", &E::gap, std::vector<std::string>{"d1consis", "d2consis"}, "the IML gap reported: metric(first) - metric(second), two eval-set names")
      .add("summary_metric", &E::summary_metric, "em", "the metric the summary table and the IML gap use: em (exact_match) or accuracy (the accuracy analysis), or any numeric metric an analysis reports")
      .add("save_model", &E::save_model, false, "write each run's trained model at its end as a Hugging Face folder (config.json + model.safetensors, loadable by from_pretrained): <seed>/model, or <seed>/model_s2_<k> per Stage-2 seed");
  return s;
}

const imlsdk::Schema<TrainingConfig>& training_schema() {
  using T = TrainingConfig;
  static const auto s = imlsdk::Schema<T>()
      .add("learning_rate", &T::learning_rate, 5e-5, "peak learning rate (HF Trainer default 5e-5)")
      .add("batch_size", &T::batch_size, int64_t{128}, "micro-batch size (examples per forward pass)")
      .add("gradient_accumulation_steps", &T::gradient_accumulation_steps, int64_t{2}, "micro-batches per optimizer step")
      .add("lr_scheduler", &T::lr_scheduler, "linear", "linear (decay to 0 after warm-up, HF default) or constant")
      .add("warmup_steps", &T::warmup_steps, int64_t{0}, "linear warm-up steps (wins over warmup_ratio when > 0)")
      .add("warmup_ratio", &T::warmup_ratio, 0.0, "warm-up as a fraction of the stage's optimizer steps")
      .add("max_grad_norm", &T::max_grad_norm, 1.0, "global gradient-norm clipping (0 = off)")
      .add("eval_every", &T::eval_every, int64_t{1}, "evaluate every N epochs (and after each stage's last epoch)")
      .add("eval_batch_size", &T::eval_batch_size, int64_t{256}, "examples per evaluation batch")
      .add("checkpoint_every", &T::checkpoint_every, int64_t{0},
           "write a resumable checkpoint every N optimizer steps of a stage (0 = auto: ceil(steps / 20), so a kill loses at most ~5% of a stage); not part of the config hash")
      .add("precision", &T::precision, "fp32",
           "fp32, or bf16: the forward pass and loss under autocast to bfloat16 (GEMMs and convolutions in bf16, softmax, norms and the loss in fp32) with fp32 parameters, gradients and optimizer state, as HF Trainer's bf16=True; evaluation stays fp32 (docs/performance.md, bf16)");
  return s;
}

const imlsdk::Schema<TokenizerConfig>& tokenizer_schema() {
  using K = TokenizerConfig;
  static const auto s = imlsdk::Schema<K>()
      .add("from", &K::from, "auto", "where the tokenizer comes from: dataset (built from the data), checkpoint (the model's checkpoint folder: tokenizer.json / tokenizer.model), folder (tokenizer.path), or auto (checkpoint when the model loads one, else dataset)")
      .add("path", &K::path, "", "with from: folder — a folder holding tokenizer.json / tokenizer.model / spiece.model, or one such file (relative to the config's folder)");
  return s;
}

}  // namespace

const std::vector<ParamSpec>& experiment_spec() {
  static const auto s = experiment_schema().specs();
  return s;
}

const std::vector<ParamSpec>& training_spec() {
  static const auto s = training_schema().specs();
  return s;
}

const std::vector<ParamSpec>& tokenizer_spec() {
  static const auto s = tokenizer_schema().specs();
  return s;
}

const std::vector<ParamSpec>& stage_spec() {
  static const std::vector<ParamSpec> s = {
      {"name", ParamType::String, Json(), "stage name, e.g. stage1"},
      {"train_subset", ParamType::String, Json(), "the dataset's train subset: full, stage1, stage2, ..."},
      {"epochs", ParamType::Int, Json(), "epochs of this stage"},
      {"per_stage2_seed", ParamType::Bool, false, "run this and every later stage once per Stage-2 seed, each from the model saved before it"},
      {"optimizer", ParamType::Map, Json::object(), "overrides of optimizer params for this stage"},
  };
  return s;
}

namespace {

std::string type_of(const Json& v) {
  if (v.is_null()) return "null";
  if (v.is_boolean()) return "bool";
  if (v.is_number_integer()) return "int";
  if (v.is_number()) return "float";
  if (v.is_string()) return "string '" + v.get<std::string>() + "'";
  if (v.is_array()) return "list";
  return "map";
}

[[noreturn]] void fail(const SourceMap& src, const std::string& key, const std::string& msg) {
  throw UserError(src.where(key) + ": " + (key.empty() ? "" : "'" + key + "': ") + msg);
}

// Checks `given` (a map) against `spec`; returns every declared key with defaults filled in.
// `skip` lists keys handled by the caller (e.g. "plugin").
Json validate(const Json& given, const std::vector<ParamSpec>& spec, const std::string& path,
              const SourceMap& src, const std::string& owner, const std::set<std::string>& skip = {},
              const std::vector<ParamSpec>* extra = nullptr) {
  if (!given.is_null() && !given.is_object()) fail(src, path, "expected a map of keys, got " + type_of(given));
  std::vector<const ParamSpec*> all;
  for (const auto& p : spec) all.push_back(&p);
  if (extra)
    for (const auto& p : *extra) all.push_back(&p);
  std::vector<std::string> names;
  for (auto* p : all) names.push_back(p->key);
  for (const auto& s : skip) names.push_back(s);
  Json out = Json::object();
  if (given.is_object()) {
    for (auto it = given.begin(); it != given.end(); ++it) {
      if (skip.count(it.key())) continue;
      const std::string key = path.empty() ? it.key() : path + "." + it.key();
      const ParamSpec* ps = nullptr;
      for (auto* p : all)
        if (p->key == it.key()) ps = p;
      if (!ps) fail(src, key, "unknown key for " + owner + suggest(it.key(), names));
      const bool null_ok = ps->optional && it.value().is_null();
      if (!null_ok && !imlsdk::json_matches(it.value(), ps->type))
        fail(src, key, std::string("expected ") + imlsdk::param_type_name(ps->type) + ", got " +
                           type_of(it.value()) + " (" + ps->help + ")");
      Json v = it.value();
      // A number past the double range (1e999) reads as inf: no key means anything by it.
      if (ps->type == ParamType::Float && v.is_number_float() && !std::isfinite(v.get<double>()))
        fail(src, key, "expected a finite float, got a number out of range (" + ps->help + ")");
      if (ps->type == ParamType::Float && v.is_number_integer()) v = v.get<double>();
      out[it.key()] = v;
    }
  }
  for (auto* p : all) {
    if (out.contains(p->key)) continue;
    if (!p->default_value.is_null()) out[p->key] = p->default_value;
    else if (!p->optional && p != nullptr && extra == nullptr)
      fail(src, path, "missing required key '" + p->key + "' for " + owner + " (" + p->help + ")");
  }
  return out;
}

std::vector<uint64_t> seed_list(const Json& v, const std::string& key, const SourceMap& src) {
  std::vector<uint64_t> out;
  if (v.is_number_integer()) {
    if (v.get<int64_t>() < 1) fail(src, key, "a seed count must be >= 1");
    for (int64_t i = 0; i < v.get<int64_t>(); ++i) out.push_back(static_cast<uint64_t>(i));
  } else if (v.is_array() && !v.empty()) {
    std::set<uint64_t> seen;
    for (const auto& s : v) {
      if (!s.is_number_integer() || s.get<int64_t>() < 0) fail(src, key, "seeds must be non-negative integers");
      if (!seen.insert(s.get<uint64_t>()).second) fail(src, key, "seed " + s.dump() + " is listed twice");
      out.push_back(s.get<uint64_t>());
    }
  } else {
    fail(src, key, "expected a seed count or a non-empty list of seeds, got " + type_of(v));
  }
  return out;
}

TrainingConfig training_from(const Json& t, const std::string& path, const SourceMap& src) {
  const TrainingConfig c = training_schema().read(t);
  auto positive = [&](int64_t v, const char* k) {
    if (v < 1) fail(src, path + "." + k, "must be >= 1, got " + std::to_string(v));
  };
  positive(c.batch_size, "batch_size");
  positive(c.gradient_accumulation_steps, "gradient_accumulation_steps");
  positive(c.eval_every, "eval_every");
  positive(c.eval_batch_size, "eval_batch_size");
  if (c.learning_rate < 0) fail(src, path + ".learning_rate", "must be >= 0");
  if (c.lr_scheduler != "linear" && c.lr_scheduler != "constant")
    fail(src, path + ".lr_scheduler", "expected linear or constant, got '" + c.lr_scheduler + "'");
  if (c.warmup_ratio < 0 || c.warmup_ratio > 1) fail(src, path + ".warmup_ratio", "must be in [0, 1]");
  if (c.warmup_steps < 0) fail(src, path + ".warmup_steps", "must be >= 0");
  if (c.max_grad_norm < 0) fail(src, path + ".max_grad_norm", "must be >= 0");
  if (!valid_precision(c.precision))
    fail(src, path + ".precision", std::string("expected ") + precision_values() + ", got '" + c.precision + "'");
  if (c.checkpoint_every < 0) fail(src, path + ".checkpoint_every", "must be >= 0 (0 = auto), got " + std::to_string(c.checkpoint_every));
  return c;
}

PluginSection plugin_section(const Json& root, const std::string& key, imlsdk::Kind kind,
                             const PluginRegistry& reg, const SourceMap& src, const char* default_plugin,
                             const Json& given_override = Json()) {
  const Json& sec = given_override.is_null() ? (root.contains(key) ? root.at(key) : Json()) : given_override;
  if (!sec.is_null() && !sec.is_object()) fail(src, key, "expected a map with a 'plugin' key, got " + type_of(sec));
  PluginSection ps;
  if (sec.is_object() && sec.contains("plugin")) {
    if (!sec.at("plugin").is_string()) fail(src, key + ".plugin", "expected a plugin name");
    ps.plugin = sec.at("plugin").get<std::string>();
  } else if (default_plugin) {
    ps.plugin = default_plugin;
  } else {
    fail(src, key, std::string("missing 'plugin' (the name of a ") + imlsdk::kind_name(kind) + " plugin)");
  }
  const PluginRecord* rec = nullptr;
  try {
    rec = &reg.get(kind, ps.plugin);
  } catch (const UserError& e) {
    fail(src, key + ".plugin", e.what());
  }
  ps.params = validate(sec, rec->plugin->params(), key, src, "plugin '" + ps.plugin + "'", {"plugin"});
  return ps;
}

std::string join(const std::vector<std::string>& items, const std::string& sep) {
  std::string out;
  for (const auto& item : items) out += (out.empty() ? "" : sep) + item;
  return out;
}

// The model plugin that lists the checkpoint folder's config.json model_type (SDK >= 2.1).
std::string model_plugin_for_checkpoint(const PluginRegistry& reg, const std::string& checkpoint,
                                        const std::string& base_dir, const SourceMap& src) {
  fs::path dir(checkpoint);
  if (dir.is_relative()) dir = fs::path(base_dir) / dir;
  std::string type;
  try {
    type = imlsdk::hf_model_type(dir.string());
  } catch (const std::exception& e) {
    fail(src, "model.checkpoint", std::string(e.what()) + "; or name the model plugin with model.plugin");
  }
  if (type.empty())
    fail(src, "model.checkpoint", (dir / "config.json").string() + " has no model_type; name the plugin with model.plugin");
  std::vector<std::string> matches, known;
  for (const auto& rec : reg.plugins()) {
    if (rec.kind != imlsdk::Kind::Model || !sdk_at_least(rec, 2, 1)) continue;
    const auto model = std::dynamic_pointer_cast<imlsdk::ModelPlugin>(rec.plugin);
    if (!model) continue;
    for (const auto& t : model->hf_model_types()) {
      known.push_back(t + " (" + rec.name + ")");
      if (t == type) matches.push_back(rec.name);
    }
  }
  if (matches.size() > 1)
    fail(src, "model.checkpoint", "model_type '" + type + "' is loaded by several plugins (" + join(matches, ", ") + "); name one with model.plugin");
  if (matches.empty())
    fail(src, "model.checkpoint", (dir / "config.json").string() + ": no model plugin loads model_type '" + type + "'; known: " + (known.empty() ? std::string("none") : join(known, ", ")));
  return matches.front();
}

}  // namespace

Config load_config(const std::string& path, const std::vector<std::string>& overrides,
                   const PluginRegistry& reg) {
  Config cfg;
  cfg.file = path;
  SourceMap src;
  src.file = path;
  std::error_code ec;
  if (!fs::is_regular_file(path, ec)) throw UserError(path + ": config file not found");
  std::string text;
  {
    std::ifstream in(path, std::ios::binary);
    std::ostringstream ss;
    ss << in.rdbuf();
    if (!in) throw UserError(path + ": cannot read config");
    text = ss.str();
  }
  const Json doc = config_document(path, text, overrides, src);
  cfg.base_dir = fs::absolute(fs::path(path)).parent_path().string();

  const std::vector<std::string> sections = {"experiment", "data", "tags", "task", "tokenizer", "model",
                                             "optimizer", "training", "stages", "analyses"};
  for (auto it = doc.begin(); it != doc.end(); ++it)
    if (std::find(sections.begin(), sections.end(), it.key()) == sections.end())
      fail(src, it.key(), "unknown section" + suggest(it.key(), sections));

  // experiment
  const Json exp = validate(doc.value("experiment", Json()), experiment_spec(), "experiment", src, "section experiment");
  const Json& gap = exp.at("gap");
  if (gap.size() != 2 || !gap[0].is_string() || !gap[1].is_string())
    fail(src, "experiment.gap", "expected two eval-set names, e.g. [d1consis, d2consis], got " + gap.dump());
  cfg.experiment = experiment_schema().read(exp);
  if (cfg.experiment.summary_metric.empty()) fail(src, "experiment.summary_metric", "must name a metric, e.g. em or accuracy");
  if (cfg.experiment.name.empty()) cfg.experiment.name = fs::path(path).stem().string();
  cfg.experiment.seeds = seed_list(exp.at("seeds"), "experiment.seeds", src);
  cfg.experiment.stage2_seeds = seed_list(exp.at("stage2_seeds"), "experiment.stage2_seeds", src);
  if (cfg.experiment.torch_threads < 0) fail(src, "experiment.torch_threads", "must be >= 0");
  if (cfg.experiment.threads < 0) fail(src, "experiment.threads", "must be >= 0");
  if (cfg.experiment.streams < 0) fail(src, "experiment.streams", "must be >= 0");
  const std::string& dev = cfg.experiment.device;
  if (dev != "cpu" && dev.rfind("cuda", 0) != 0) fail(src, "experiment.device", "expected cpu, cuda or cuda:N, got '" + dev + "'");
  for (char c : cfg.experiment.name)
    if (c == '/' || c == '\\') fail(src, "experiment.name", "must not contain path separators");

  // plugins
  cfg.data = plugin_section(doc, "data", imlsdk::Kind::Dataset, reg, src, nullptr);
  cfg.tags = plugin_section(doc, "tags", imlsdk::Kind::Tag, reg, src, "random_string");
  {
    // A model section that names only a checkpoint folder gets the plugin for its model_type.
    std::string by_checkpoint;
    const Json msec = doc.value("model", Json());
    if (msec.is_object() && !msec.contains("plugin") && msec.contains("checkpoint") &&
        msec.at("checkpoint").is_string())
      by_checkpoint = model_plugin_for_checkpoint(reg, msec.at("checkpoint").get<std::string>(),
                                                  cfg.base_dir, src);
    cfg.model = plugin_section(doc, "model", imlsdk::Kind::Model, reg, src,
                               by_checkpoint.empty() ? nullptr : by_checkpoint.c_str());
  }
  {
    // A config without a task section gets the task the model family trains with.
    const auto model = reg.get_as<imlsdk::ModelPlugin>(cfg.model.plugin);
    // A checkpoint folder that is not there is named before anything reads from it.
    std::string ckpt;
    try {
      ckpt = model->checkpoint_dir(cfg.model.params, cfg.base_dir);
    } catch (const std::exception& e) {
      fail(src, "model.checkpoint", e.what());
    }
    if (!ckpt.empty() && !fs::is_directory(ckpt))
      fail(src, "model.checkpoint", ckpt + ": no such checkpoint folder (expected a Hugging Face folder with config.json and model.safetensors or shards)");
    const std::string task = model->default_task();
    cfg.task = plugin_section(doc, "task", imlsdk::Kind::Task, reg, src, task.c_str());
  }
  cfg.optimizer = plugin_section(doc, "optimizer", imlsdk::Kind::Optimizer, reg, src, "adafactor");
  if (doc.contains("analyses")) {
    const Json& an = doc.at("analyses");
    if (!an.is_array()) fail(src, "analyses", "expected a list of {plugin: name, ...}");
    for (size_t i = 0; i < an.size(); ++i)
      cfg.analyses.push_back(plugin_section(Json(), "analyses[" + std::to_string(i) + "]",
                                            imlsdk::Kind::Analysis, reg, src, nullptr, an[i].is_null() ? Json::object() : an[i]));
  } else {
    cfg.analyses.push_back(plugin_section(Json(), "analyses", imlsdk::Kind::Analysis, reg, src, "exact_match", Json::object()));
  }

  // tokenizer
  const Json tok = validate(doc.value("tokenizer", Json()), tokenizer_spec(), "tokenizer", src, "section tokenizer");
  cfg.tokenizer = tokenizer_schema().read(tok);
  {
    const std::vector<std::string> from = {"auto", "dataset", "checkpoint", "folder"};
    if (std::find(from.begin(), from.end(), cfg.tokenizer.from) == from.end())
      fail(src, "tokenizer.from", "expected auto, dataset, checkpoint or folder, got '" + cfg.tokenizer.from + "'");
    if (cfg.tokenizer.from == "folder" && cfg.tokenizer.path.empty())
      fail(src, "tokenizer.path", "tokenizer.from: folder needs tokenizer.path (a folder with tokenizer.json or tokenizer.model)");
    if (cfg.tokenizer.from != "folder" && !cfg.tokenizer.path.empty())
      fail(src, "tokenizer.path", "is only read with tokenizer.from: folder (from is '" + cfg.tokenizer.from + "')");
  }

  // training
  const Json training = validate(doc.value("training", Json()), training_spec(), "training", src, "section training");
  cfg.training = training_from(training, "training", src);

  // stages
  if (!doc.contains("stages") || !doc.at("stages").is_array() || doc.at("stages").empty())
    fail(src, "stages", "expected a non-empty list of stages, each {name, train_subset, epochs}");
  const Json& stages = doc.at("stages");
  std::set<std::string> names;
  bool branched = false;
  Json resolved_stages = Json::array();
  for (size_t i = 0; i < stages.size(); ++i) {
    const std::string p = "stages[" + std::to_string(i) + "]";
    if (!stages[i].is_object()) fail(src, p, "expected a map {name, train_subset, epochs, ...}, got " + type_of(stages[i]));
    // A stage holds its own keys plus overrides of any training key.
    Json overrides = Json::object();
    if (stages[i].is_object())
      for (auto it = stages[i].begin(); it != stages[i].end(); ++it)
        if (std::none_of(stage_spec().begin(), stage_spec().end(), [&](const ParamSpec& s) { return s.key == it.key(); }))
          overrides[it.key()] = it.value();
    StageConfig sc;
    Json own = Json::object();
    Json trn = training;
    if (stages[i].is_object()) {
      for (auto it = stages[i].begin(); it != stages[i].end(); ++it) {
        const bool stage_key = std::any_of(stage_spec().begin(), stage_spec().end(), [&](const ParamSpec& s) { return s.key == it.key(); });
        if (stage_key) own[it.key()] = it.value();
      }
    }
    own = validate(own, stage_spec(), p, src, "a stage");
    Json tr_over = validate(overrides, training_spec(), p, src, "a stage (stage keys or training overrides)", {}, &stage_spec());
    for (auto it = overrides.begin(); it != overrides.end(); ++it) trn[it.key()] = tr_over[it.key()];
    sc.name = own.at("name").get<std::string>();
    sc.train_subset = own.at("train_subset").get<std::string>();
    sc.epochs = own.at("epochs").get<int64_t>();
    sc.per_stage2_seed = own.at("per_stage2_seed").get<bool>();
    if (sc.epochs < 0) fail(src, p + ".epochs", "must be >= 0");
    if (sc.name.empty() || !names.insert(sc.name).second) fail(src, p + ".name", "stage names must be non-empty and unique");
    if (branched && !sc.per_stage2_seed)
      fail(src, p + ".per_stage2_seed", "a stage after a per_stage2_seed stage must be per_stage2_seed too");
    branched = branched || sc.per_stage2_seed;
    sc.training = training_from(trn, p, src);
    // optimizer overrides are validated against the optimizer plugin's declaration
    const auto& oprec = reg.get(imlsdk::Kind::Optimizer, cfg.optimizer.plugin);
    Json oo = validate(own.at("optimizer"), oprec.plugin->params(), p + ".optimizer", src,
                       "plugin '" + cfg.optimizer.plugin + "'", {}, nullptr);
    sc.optimizer_params = cfg.optimizer.params;
    for (auto it = own.at("optimizer").begin(); it != own.at("optimizer").end(); ++it)
      sc.optimizer_params[it.key()] = oo[it.key()];
    Json rs = own;
    rs["training"] = trn;
    rs["optimizer"] = sc.optimizer_params;
    resolved_stages.push_back(rs);
    cfg.stages.push_back(std::move(sc));
  }

  // the resolved config: what the run used, written to results
  Json r = Json::object();
  r["experiment"] = exp;
  r["experiment"]["name"] = cfg.experiment.name;
  auto sec = [](const PluginSection& s) {
    Json j = Json::object();
    j["plugin"] = s.plugin;
    for (auto it = s.params.begin(); it != s.params.end(); ++it) j[it.key()] = it.value();
    return j;
  };
  r["data"] = sec(cfg.data);
  r["tags"] = sec(cfg.tags);
  r["task"] = sec(cfg.task);
  r["tokenizer"] = tok;
  r["model"] = sec(cfg.model);
  r["optimizer"] = sec(cfg.optimizer);
  r["training"] = training;
  r["stages"] = resolved_stages;
  r["analyses"] = Json::array();
  for (const auto& a : cfg.analyses) r["analyses"].push_back(sec(a));
  cfg.resolved = r;
  cfg.source = src;
  return cfg;
}

}  // namespace imlcore
