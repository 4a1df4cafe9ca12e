// The experiment recipe, top to bottom (torchtune's recipes, fairseq's train.py):
//
//   load the dataset once → check everything → build the analyses → for each seed:
//     split the data, build the tokenizer and the model →
//     stages before the Stage-2 branch (saved once) → for each Stage-2 seed: the remaining
//     stages from that saved model → (each stage: train, evaluate at its evaluation epochs)
//   → aggregate across seeds → summary table.
//
// Where the pieces live: components.cpp (building parts from plugins), trainer.cpp (the loop),
// seed_results.cpp (result files, resume), environment.cpp (threads, memory, device),
// summary.cpp (the table), results.cpp (atomic files, commit id).
#include "experiment.hpp"

#include <unistd.h>

#include <ATen/ATen.h>
#include <c10/core/GradMode.h>
#include <torch/version.h>

#include <chrono>
#include <filesystem>
#include <map>

#include <spdlog/spdlog.h>

#include "components.hpp"
#include "environment.hpp"
#include "imlsdk/safetensors.hpp"
#include "progress.hpp"
#include "results.hpp"
#include "seed_results.hpp"
#include "summary.hpp"
#include "trainer.hpp"

namespace fs = std::filesystem;

namespace imlcore {

namespace {

// What every seed of the experiment shares.
struct Shared {
  const Config& cfg;
  const Plugins& plugins;
  const imlsdk::Dataset& data;
  c10::Device device;
  std::string threads, hash, exp_dir;
  Json plugin_versions;
  std::vector<std::unique_ptr<imlsdk::Analysis>>& analyses;  // one set for the whole experiment
};

// One Stage-1 seed: its data, model, task and analyses, and the stages it runs.
class SeedRun {
 public:
  SeedRun(const Shared& s, uint64_t seed)
      : s_(s), cfg_(s.cfg), seed_(seed), results_(s.exp_dir + "/" + std::to_string(seed), s.hash, cfg_.experiment.resume) {}

  std::vector<Json> run() {
    write_file_atomic(results_.dir() + "/config.json", cfg_.resolved.dump(2) + "\n");
    SeedData first = split_for_seed(cfg_, s_.plugins, s_.data, seed_, cfg_.experiment.stage2_seeds.front());
    auto tokenizer = choose_tokenizer(cfg_, s_.plugins, first.split);
    at::manual_seed(seed_);
    model_ = build_model(cfg_, s_.plugins, tokenizer.get());
    model_->to(s_.device);
    describe_run(first, tokenizer.get());

    // Stages before the Stage-2 branch run once; their end state is saved for every Stage-2 seed.
    const size_t branch = branch_index();
    const std::string shared_ckpt = results_.dir() + "/before_" + (branch < cfg_.stages.size() ? cfg_.stages[branch].name : "end") + ".safetensors";
    if (results_.pre_branch_complete() && fs::exists(shared_ckpt)) {
      spdlog::info("seed {}: resuming from {}", seed_, shared_ckpt);
      load_model(shared_ckpt);
    } else {
      results_.drop_pre_branch();
      for (size_t i = 0; i < branch; ++i) run_stage(cfg_.stages[i], first, tokenizer.get(), Json(nullptr));
      if (branch > 0) save_model(shared_ckpt);
      results_.mark_pre_branch_complete();
    }

    // Each Stage-2 seed runs the remaining stages from the saved model.
    if (branch < cfg_.stages.size()) {
      const auto start = snapshot();
      for (uint64_t s2 : cfg_.experiment.stage2_seeds) {
        if (results_.stage2_done(s2)) {
          spdlog::info("seed {} stage-2 seed {}: already complete, skipped (resume)", seed_, s2);
          continue;
        }
        results_.drop_stage2(s2);
        restore(start);
        SeedData d = s2 == cfg_.experiment.stage2_seeds.front() ? std::move(first) : split_for_seed(cfg_, s_.plugins, s_.data, seed_, s2);
        // A data-built tokenizer is each split's own (as the data it was built from); a
        // checkpoint's or folder's is the same for every split.
        auto tok = tokenizer_source(cfg_, s_.plugins) == "dataset" ? choose_tokenizer(cfg_, s_.plugins, d.split) : tokenizer;
        at::manual_seed(seed_ * 1000003ULL + s2);
        for (size_t i = branch; i < cfg_.stages.size(); ++i) run_stage(cfg_.stages[i], d, tok.get(), Json(s2));
        results_.mark_stage2_done(s2);
      }
    }
    for (auto& a : analyses_) a->on_seed_end({point("", 0, 0, 0, Json()), model_.get(), nullptr, nullptr});
    results_.mark_complete();
    return results_.records();
  }

 private:
  size_t branch_index() const {
    for (size_t i = 0; i < cfg_.stages.size(); ++i)
      if (cfg_.stages[i].per_stage2_seed) return i;
    return cfg_.stages.size();
  }

  imlsdk::RunPoint point(const std::string& stage, int64_t epoch, int64_t step, int64_t total, const Json& s2) const {
    return {seed_, s2, stage, epoch, step, total, results_.dir()};
  }

  void run_stage(const StageConfig& st, SeedData& d, const imlsdk::Tokenizer* tok, const Json& s2) {
    auto task = build_task(cfg_, s_.plugins, tok, s_.data, *model_, s_.device);
    const auto& examples = d.split.train.at(st.train_subset);
    for (auto& a : analyses_) a->on_stage_begin({point(st.name, 0, 0, 0, s2), model_.get(), task.get(), &d.split, &examples});

    StageRun run;
    run.stage = &st;
    run.examples = &examples;
    run.task = task.get();
    run.optimizer = s_.plugins.optimizer.get();
    run.batch_seed = seed_ * 1000003ULL + (s2.is_null() ? 0 : s2.get<uint64_t>() + 1);
    run.label = "seed " + std::to_string(seed_) + (s2.is_null() ? "" : "/" + s2.dump()) + " " + st.name;
    run.on_step = [&](const StepInfo& i) {
      for (auto& a : analyses_)
        a->on_step_end({point(st.name, i.epoch, i.step, i.total_steps, s2), model_.get(), task.get(), &d.split, i.loss, i.lr});
    };
    run.on_eval = [&](int64_t epoch) { evaluate(st, epoch, s2, *task, d, tok); };
    const StageStats stats = train_stage(*model_, run);
    results_.set_stage_stats({{"stage", st.name}, {"stage2_seed", s2}, {"optimizer_steps", stats.optimizer_steps},
                              {"units", stats.units}, {"seconds", stats.seconds},
                              {"units_per_second", stats.seconds > 0 ? stats.units / stats.seconds : 0.0}});
  }

  // Every analysis's metrics, one metrics.jsonl line per eval set (metrics of a set merged).
  void evaluate(const StageConfig& st, int64_t epoch, const Json& s2, const imlsdk::Task& task,
                const SeedData& d, const imlsdk::Tokenizer* tok) {
    imlsdk::EvalState state{point(st.name, epoch, 0, 0, s2), model_.get(), &task, &d.split, tok, st.training.eval_batch_size};
    std::map<std::string, Json> by_set;
    std::vector<std::string> order;
    for (auto& a : analyses_)
      for (const auto& m : call_plugin("analysis", [&] { return a->on_evaluate(state); })) {
        if (!by_set.count(m.eval_set)) {
          order.push_back(m.eval_set);
          by_set[m.eval_set] = Json::object();
        }
        by_set[m.eval_set][m.name] = m.value;
        by_set[m.eval_set]["n"] = m.count;
      }
    for (const auto& set : order) {
      Json r = {{"seed", seed_}, {"stage2_seed", s2}, {"stage", st.name}, {"epoch", epoch}, {"eval_set", set}};
      for (auto it = by_set[set].begin(); it != by_set[set].end(); ++it) r[it.key()] = it.value();
      results_.add_record(r);
    }
    results_.flush();
  }

  void describe_run(const SeedData& first, const imlsdk::Tokenizer* tok) {
    Json& m = results_.manifest();
    m["project_commit"] = source_commit();
    m["seed"] = seed_;
    m["stage2_seeds"] = cfg_.experiment.stage2_seeds;
    m["libtorch_version"] = TORCH_VERSION;
    m["imlsdk_version"] = IMLSDK_VERSION_STRING;
    m["plugins"] = s_.plugin_versions;
    m["threads"] = s_.threads;
    m["device"] = s_.device.str();
    char host[256] = {0};
    ::gethostname(host, sizeof host - 1);
    m["host"] = host;
    m["tokenizer"] = tok ? tok->describe() : "none";
    m["data"] = first.split.info;
    m["dataset"] = s_.data.info();
    int64_t n = 0;
    for (const auto& p : model_->parameters()) n += p.numel();
    m["model_parameters"] = n;
    results_.flush();
  }

  std::map<std::string, at::Tensor> snapshot() const {
    std::map<std::string, at::Tensor> t;
    for (const auto& kv : model_->named_parameters()) t[kv.key()] = kv.value().detach().clone();
    return t;
  }

  void restore(const std::map<std::string, at::Tensor>& t) {
    at::NoGradGuard ng;
    for (auto& kv : model_->named_parameters()) kv.value().copy_(t.at(kv.key()));
  }

  void save_model(const std::string& path) {
    std::map<std::string, at::Tensor> t;
    for (const auto& kv : model_->named_parameters()) t[kv.key()] = kv.value().detach().to(at::kCPU);
    imlsdk::write_safetensors(path, t);
  }

  void load_model(const std::string& path) {
    auto t = call_plugin(path, [&] { return imlsdk::read_safetensors(path); });
    at::NoGradGuard ng;
    for (auto& kv : model_->named_parameters()) {
      auto it = t.find(kv.key());
      if (it == t.end() || !it->second.sizes().equals(kv.value().sizes()))
        throw UserError(path + ": saved model does not match the configured model (tensor '" + kv.key() + "'); delete it or set experiment.resume=false");
      kv.value().copy_(it->second);
    }
  }

  const Shared& s_;
  const Config& cfg_;
  uint64_t seed_;
  SeedResults results_;
  std::shared_ptr<imlsdk::Model> model_;
  std::vector<std::unique_ptr<imlsdk::Analysis>>& analyses_ = s_.analyses;
};

uint64_t fnv1a(const std::string& s) {
  uint64_t h = 1469598103934665603ULL;
  for (unsigned char c : s) h = (h ^ c) * 1099511628211ULL;
  return h;
}

// The hash covers what determines results (not output paths, resume or which seeds run).
std::string config_hash(const Config& cfg) {
  Json hashed = cfg.resolved;
  hashed["experiment"].erase("output_dir");
  hashed["experiment"].erase("resume");
  hashed["experiment"].erase("seeds");
  hashed["experiment"].erase("summary_metric");  // only the table reads it
  char buf[20];
  std::snprintf(buf, sizeof buf, "%016llx", static_cast<unsigned long long>(fnv1a(hashed.dump())));
  return buf;
}

Json plugin_versions(const Config& cfg, const PluginRegistry& reg) {
  Json out = Json::array();
  std::vector<const PluginSection*> sections = {&cfg.data, &cfg.tags, &cfg.task, &cfg.model, &cfg.optimizer};
  for (const auto& a : cfg.analyses) sections.push_back(&a);
  for (const auto* s : sections)
    for (const auto& r : reg.plugins())
      if (r.name == s->plugin)
        out.push_back({{"name", r.name}, {"kind", imlsdk::kind_name(r.kind)}, {"version", r.version}});
  return out;
}

}  // namespace

void run_experiment(const Config& cfg, const PluginRegistry& reg) {
  const Plugins plugins = resolve_plugins(cfg, reg);
  const auto data = load_dataset(cfg, plugins);  // once for every seed
  auto analyses = preflight(cfg, plugins, *data);  // refuse bad input before anything is written
  const c10::Device device = parse_device(cfg.experiment.device);
  const std::string threads = configure_threads(cfg.experiment.threads, cfg.experiment.torch_threads);
  const Shared shared{cfg, plugins, *data, device, threads, config_hash(cfg),
                      cfg.experiment.output_dir + "/" + cfg.experiment.name, plugin_versions(cfg, reg), analyses};
  spdlog::info("experiment '{}': {} seed(s) x {} stage-2 seed(s), {} stage(s), device {}, threads: {}", cfg.experiment.name,
               cfg.experiment.seeds.size(), cfg.experiment.stage2_seeds.size(), cfg.stages.size(), device.str(), threads);

  const auto t0 = std::chrono::steady_clock::now();
  std::vector<Json> all;
  for (uint64_t seed : cfg.experiment.seeds) {
    auto records = SeedRun(shared, seed).run();
    all.insert(all.end(), records.begin(), records.end());
  }

  std::vector<std::string> stage_names;
  for (const auto& s : cfg.stages) stage_names.push_back(s.name);
  SummaryOut sum = summarize_runs(all, stage_names, cfg.experiment.gap[0], cfg.experiment.gap[1],
                                  cfg.experiment.summary_metric);
  sum.json["experiment"] = cfg.experiment.name;
  sum.json["seeds"] = cfg.experiment.seeds;
  sum.json["stage2_seeds"] = cfg.experiment.stage2_seeds;
  write_file_atomic(shared.exp_dir + "/summary.json", sum.json.dump(2) + "\n");
  write_file_atomic(shared.exp_dir + "/summary.md", "# " + cfg.experiment.name + "\n\n```\n" + sum.text + "```\n");
  for (auto& a : analyses) call_plugin("analysis", [&] { a->on_experiment_end({shared.exp_dir, &all}); return 0; });

  const double secs = std::chrono::duration<double>(std::chrono::steady_clock::now() - t0).count();
  std::fprintf(stdout, "\n%s\nresults: %s (wall time %s)\n", sum.text.c_str(), shared.exp_dir.c_str(), format_duration(secs).c_str());
  std::fflush(stdout);
}

void validate_experiment(const Config& cfg, const PluginRegistry& reg) {
  const Plugins plugins = resolve_plugins(cfg, reg);
  const auto data = load_dataset(cfg, plugins);
  preflight(cfg, plugins, *data);
}

}  // namespace imlcore
