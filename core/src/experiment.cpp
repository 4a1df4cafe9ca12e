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
#include <optional>

#include <spdlog/spdlog.h>

#include "checkpoint.hpp"
#include "components.hpp"
#include "environment.hpp"
#include "kill_points.hpp"
#include "imlsdk/checkpoint.hpp"
#include "imlsdk/parallel.hpp"
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
  std::vector<bool> analysis_has_state;  // built against SDK >= 2.1: state() / load_state()
  bool task_has_evaluate = false;        // the task plugin was built against SDK >= 2.2: Task::evaluate
  // experiment.streams resolved (0 = auto: 2 on the CPU, 1 elsewhere), and whether the model
  // and task plugins were built against SDK >= 2.3 (Model::concurrent_forward, Task::concurrent_calls)
  int64_t streams = 1;
  bool concurrency_api = false;
  // The model and task plugins were built against SDK >= 2.4 (Model::linear_head,
  // forward_head_input; Task::head_loss).
  bool head_loss_api = false;
  // ... and against SDK >= 2.5 (Task::head_rows, Model::forward_head_input_at).
  bool head_rows_api = false;
  // The optimizer plugin was built against SDK >= 2.9 (Optimizer::step_scaled).
  bool scaled_step_api = false;
};

// One Stage-1 seed: its data, model, task and analyses, and the stages it runs.
class SeedRun {
 public:
  SeedRun(const Shared& s, uint64_t seed)
      : s_(s), cfg_(s.cfg), seed_(seed), results_(s.exp_dir + "/" + std::to_string(seed), s.hash, cfg_.experiment.resume),
        ckpt_path_(results_.dir() + "/checkpoint.safetensors") {}

  std::vector<Json> run() {
    find_checkpoint();  // a damaged one is refused before this seed writes anything
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
      size_t first_stage = 0;
      if (ckpt_ && ckpt_->stage2_seed.is_null()) {  // go on inside the stage a killed run was in
        results_.restore_part(Json(nullptr), ckpt_->records, ckpt_->stage_entries);
        first_stage = static_cast<size_t>(ckpt_->stage_index);
      } else {
        results_.drop_pre_branch();
      }
      for (size_t i = first_stage; i < branch; ++i) run_stage(i, branch, first, tokenizer.get(), Json(nullptr));
      branch_analyses_ = analyses_state();
      if (branch > 0) save_model(shared_ckpt);
      results_.mark_pre_branch_complete();
      remove_checkpoint();
      if (branch == cfg_.stages.size()) save_final_model("model");
    }

    // Each Stage-2 seed runs the remaining stages from the saved model.
    if (branch < cfg_.stages.size()) {
      const auto start = snapshot();
      for (uint64_t s2 : cfg_.experiment.stage2_seeds) {
        if (results_.stage2_done(s2)) {
          spdlog::info("seed {} stage-2 seed {}: already complete, skipped (resume)", seed_, s2);
          continue;
        }
        const bool resuming = ckpt_ && ckpt_->stage2_seed == Json(s2);
        if (resuming)
          results_.restore_part(Json(s2), ckpt_->records, ckpt_->stage_entries);
        else
          results_.drop_stage2(s2);
        restore(start);
        load_analyses_state(branch_analyses_, shared_ckpt);  // every Stage-2 seed starts from the branch
        SeedData d = s2 == cfg_.experiment.stage2_seeds.front() ? std::move(first) : split_for_seed(cfg_, s_.plugins, s_.data, seed_, s2);
        // A data-built tokenizer is each split's own (as the data it was built from); a
        // checkpoint's or folder's is the same for every split.
        auto tok = tokenizer_source(cfg_, s_.plugins) == "dataset" ? choose_tokenizer(cfg_, s_.plugins, d.split) : tokenizer;
        at::manual_seed(seed_ * 1000003ULL + s2);
        const size_t first_stage = resuming ? static_cast<size_t>(ckpt_->stage_index) : branch;
        for (size_t i = first_stage; i < cfg_.stages.size(); ++i) run_stage(i, cfg_.stages.size(), d, tok.get(), Json(s2));
        save_final_model("model_s2_" + std::to_string(s2));
        results_.mark_stage2_done(s2);
        remove_checkpoint();
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

  // Batch parts side by side (experiment.streams) where the model and the task allow it.
  int64_t streams_for(const imlsdk::Task& task, bool training) const {
    if (s_.streams <= 1 || !s_.concurrency_api) return 1;
    const bool ok = call_plugin("task", [&] { return task.concurrent_calls(); }) &&
                    call_plugin("model", [&] { return model_->concurrent_forward(training); });
    return ok ? s_.streams : 1;
  }

  imlsdk::RunPoint point(const std::string& stage, int64_t epoch, int64_t step, int64_t total, const Json& s2) const {
    return {seed_, s2, stage, epoch, step, total, results_.dir()};
  }

  // Stage `index` of the part that ends before stage `part_end` (s2 null: before the branch).
  void run_stage(size_t index, size_t part_end, SeedData& d, const imlsdk::Tokenizer* tok, const Json& s2) {
    const StageConfig& st = cfg_.stages[index];
    auto task = build_task(cfg_, s_.plugins, tok, s_.data, *model_, s_.device);
    const auto& examples = d.split.train.at(st.train_subset);
    for (auto& a : analyses_) a->on_stage_begin({point(st.name, 0, 0, 0, s2), model_.get(), task.get(), &d.split, &examples});

    // A killed run's checkpoint inside this stage: model, analyses, generators, then the loop.
    TrainerState resume_at;
    std::map<std::string, at::Tensor> resume_optimizer;
    const bool resuming = ckpt_ && ckpt_->stage2_seed == s2 && ckpt_->stage_index == static_cast<int64_t>(index);
    if (resuming) {
      if (ckpt_->stage != st.name)
        throw UserError(ckpt_path_ + ": checkpoint of stage '" + ckpt_->stage + "', the config's stage " + std::to_string(index) +
                        " is '" + st.name + "'; delete it or set experiment.resume=false");
      spdlog::info("seed {}{} {}: resuming after step {} from {}", seed_, s2.is_null() ? "" : "/" + s2.dump(), st.name,
                   ckpt_->step, ckpt_path_);
      load_tensors(ckpt_->model, ckpt_path_, "checkpoint");
      load_analyses_state(ckpt_->analyses, ckpt_path_);
      set_rng_states(ckpt_->rng, s_.device, ckpt_path_);
      resume_at = {ckpt_->step, 0, ckpt_->units, ckpt_->seconds, ckpt_->loss_ema, ckpt_->last_loss};
      resume_optimizer = std::move(ckpt_->optimizer);
      ckpt_.reset();
    }

    StageRun run;
    run.stage = &st;
    run.examples = &examples;
    run.task = task.get();
    run.optimizer = s_.plugins.optimizer.get();
    run.scaled_step = s_.scaled_step_api;
    run.streams = streams_for(*task, true);
    // The training loss from the head's input where the head is a linear map; bf16 training
    // keeps the logits path, whose head GEMM autocast runs in bf16.
    run.head_loss = s_.head_loss_api && st.training.precision == "fp32" &&
                    call_plugin("model", [&] { return model_->linear_head().weight.defined(); });
    run.head_rows = run.head_loss && s_.head_rows_api;
    run.batch_seed = seed_ * 1000003ULL + (s2.is_null() ? 0 : s2.get<uint64_t>() + 1);
    run.label = "seed " + std::to_string(seed_) + (s2.is_null() ? "" : "/" + s2.dump()) + " " + st.name;
    run.on_step = [&](const StepInfo& i) {
      for (auto& a : analyses_)
        a->on_step_end({point(st.name, i.epoch, i.step, i.total_steps, s2), model_.get(), task.get(), &d.split, i.loss, i.lr});
    };
    run.on_eval = [&](int64_t epoch) { evaluate(st, epoch, s2, *task, d, tok); };
    const int64_t total = stage_steps(st, static_cast<int64_t>(examples.size()));
    int64_t checkpoints = 0;  // written by this process, and the time they took
    double checkpoint_seconds = 0;
    run.checkpoint_every = checkpoint_interval(st.training, total);
    run.on_checkpoint = [&, index, part_end, total](const TrainerState& ts, const imlsdk::Optimizer& opt) {
      if (index + 1 == part_end && ts.step == total) return;  // the part is done: nothing to resume
      const auto t0 = std::chrono::steady_clock::now();
      write_checkpoint(index, s2, ts, opt);
      ++checkpoints;
      checkpoint_seconds += std::chrono::duration<double>(std::chrono::steady_clock::now() - t0).count();
    };
    if (resuming) {
      run.resume = &resume_at;
      run.resume_optimizer = &resume_optimizer;
      run.resume_source = ckpt_path_;
    }
    const StageStats stats = train_stage(*model_, run);
    {  // the stage's last checkpoint is on disk (or its error reported) before the stage ends
      const auto t0 = std::chrono::steady_clock::now();
      writer_.wait();
      checkpoint_seconds += std::chrono::duration<double>(std::chrono::steady_clock::now() - t0).count();
    }
    results_.set_stage_stats({{"stage", st.name}, {"stage2_seed", s2}, {"optimizer_steps", stats.optimizer_steps},
                              {"units", stats.units}, {"seconds", stats.seconds},
                              {"eval_seconds", stats.eval_seconds}, {"eval_passes", stats.eval_passes},
                              {"units_per_second", stats.seconds > 0 ? stats.units / stats.seconds : 0.0},
                              {"streams", {{"train", run.streams}, {"eval", streams_for(*task, false)}}},
                              {"loss_from", run.head_rows ? "head_input_rows" : run.head_loss ? "head_input" : "logits"},
                              {"checkpoint_every", run.checkpoint_every}, {"checkpoints_written", checkpoints},
                              {"checkpoint_seconds", checkpoint_seconds}});
  }

  // Every analysis's metrics, one metrics.jsonl line per eval set (metrics of a set merged).
  void evaluate(const StageConfig& st, int64_t epoch, const Json& s2, const imlsdk::Task& task,
                const SeedData& d, const imlsdk::Tokenizer* tok) {
    imlsdk::EvalState state{point(st.name, epoch, 0, 0, s2), model_.get(), &task, &d.split, tok, st.training.eval_batch_size,
                            s_.task_has_evaluate};
    struct Streams {  // evaluate_examples' side-by-side jobs for this pass, 1 again after it
      explicit Streams(int64_t n) { imlsdk::set_evaluation_streams(n); }
      ~Streams() { imlsdk::set_evaluation_streams(1); }
    } streams(streams_for(task, false));
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
    kill_point("eval");
  }

  // A mid-stage checkpoint of an earlier run (resume, same config hash, its part not complete),
  // or none; anything else there is removed.
  void find_checkpoint() {
    std::error_code ec;
    fs::remove(ckpt_path_ + ".partial", ec);  // a checkpoint write that a kill interrupted
    if (!fs::exists(ckpt_path_)) return;
    if (!cfg_.experiment.resume || !results_.resumed()) {
      spdlog::info("seed {}: {} removed (experiment.resume=false, or the seed's results are from another config): the seed starts over",
                   seed_, ckpt_path_);
      remove_checkpoint();
      return;
    }
    StageCheckpoint c = read_stage_checkpoint(ckpt_path_);
    if (c.config_hash != s_.hash) {
      spdlog::info("seed {}: {} is from another config (hash {}, now {}): removed, the seed starts over", seed_, ckpt_path_,
                   c.config_hash, s_.hash);
      remove_checkpoint();
      return;
    }
    const bool done = c.stage2_seed.is_null() ? results_.pre_branch_complete()
                                              : c.stage2_seed.is_number_unsigned() && results_.stage2_done(c.stage2_seed.get<uint64_t>());
    const int64_t branch = static_cast<int64_t>(branch_index()), n = static_cast<int64_t>(cfg_.stages.size());
    const bool in_part = c.stage2_seed.is_null() ? c.stage_index >= 0 && c.stage_index < branch
                                                 : c.stage_index >= branch && c.stage_index < n;
    if (done || !in_part) {
      remove_checkpoint();
      return;
    }
    ckpt_ = std::move(c);
  }

  void remove_checkpoint() {
    writer_.wait();  // a write still in flight would put it back
    std::error_code ec;
    fs::remove(ckpt_path_, ec);
    if (ec) throw UserError(ckpt_path_ + ": cannot remove it: " + ec.message());
  }

  void write_checkpoint(size_t index, const Json& s2, const TrainerState& ts, const imlsdk::Optimizer& opt) {
    StageCheckpoint c;
    c.config_hash = s_.hash;
    c.stage2_seed = s2;
    c.stage_index = static_cast<int64_t>(index);
    c.stage = cfg_.stages[index].name;
    c.step = ts.step;
    c.units = ts.units;
    c.seconds = ts.seconds;
    c.loss_ema = ts.loss_ema;
    c.last_loss = ts.last_loss;
    for (const auto& kv : model_->named_parameters()) c.model[kv.key()] = kv.value().detach();
    for (const auto& kv : model_->named_buffers()) c.model[kv.key()] = kv.value().detach();
    c.optimizer = call_plugin("optimizer plugin '" + cfg_.optimizer.plugin + "'", [&] { return opt.state(); });
    c.rng = rng_states(s_.device);
    c.records = results_.part_records(s2);
    c.stage_entries = results_.part_stage_entries(s2);
    c.analyses = analyses_state();
    writer_.write(ckpt_path_, std::move(c));  // written behind, while training goes on
  }

  Json analyses_state() const {
    Json out = Json::array();
    for (size_t i = 0; i < analyses_.size(); ++i)
      out.push_back(s_.analysis_has_state[i] ? call_plugin("analysis plugin '" + cfg_.analyses[i].plugin + "'",
                                                           [&] { return analyses_[i]->state(); })
                                             : Json());
    return out;
  }

  void load_analyses_state(const Json& states, const std::string& from) {
    if (states.is_null()) return;  // saved by an older imlhost: nothing to restore
    if (!states.is_array() || states.size() != analyses_.size())
      throw UserError(from + ": holds the state of " + std::to_string(states.size()) + " analyses, the config has " +
                      std::to_string(analyses_.size()) + "; delete it or set experiment.resume=false");
    for (size_t i = 0; i < analyses_.size(); ++i)
      if (s_.analysis_has_state[i])
        call_plugin(from + ": analysis plugin '" + cfg_.analyses[i].plugin + "'", [&] {
          analyses_[i]->load_state(states[i]);
          return 0;
        });
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
    m["memory"] = memory_setup();  // configure_memory's line: whose malloc, which pages
    m["cpu_gemm"] = imlsdk::gemm_backend();  // what runs the fp32 GEMMs on the CPU (SDK 2.6)
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

  // The model before the Stage-2 branch, with the analyses' state there (metadata
  // "imlhost_analyses"), so that a resumed run's Stage-2 seeds start where an uninterrupted one's do.
  void save_model(const std::string& path) {
    std::map<std::string, at::Tensor> t;
    for (const auto& kv : model_->named_parameters()) t[kv.key()] = kv.value().detach().to(at::kCPU);
    std::map<std::string, std::string> meta = {{"format", "pt"}};
    if (!branch_analyses_.is_null()) meta["imlhost_analyses"] = branch_analyses_.dump();
    call_plugin(path, [&] {
      imlsdk::write_safetensors(path, t, meta);
      return 0;
    });
  }

  // experiment.save_model: the trained model as a Hugging Face folder <seed>/<name>, written into
  // a temporary folder and renamed into place, so a killed run never leaves half a folder.
  void save_final_model(const std::string& name) {
    if (!cfg_.experiment.save_model) return;
    const fs::path dir = fs::path(results_.dir()) / name;
    const fs::path tmp = fs::path(results_.dir()) / (name + ".tmp");
    std::error_code ec;
    fs::remove_all(tmp, ec);
    call_plugin("model plugin '" + cfg_.model.plugin + "'", [&] {
      imlsdk::save_hf_checkpoint(*model_, model_->hf_config(), tmp.string());
      return 0;
    });
    fs::remove_all(dir, ec);
    fs::rename(tmp, dir, ec);
    if (ec) throw UserError(dir.string() + ": cannot move the saved model into place: " + ec.message());
    spdlog::info("seed {}: model saved to {}", seed_, dir.string());
  }

  void load_model(const std::string& path) {
    auto t = call_plugin(path, [&] { return imlsdk::read_safetensors(path); });
    load_tensors(t, path, "saved model", /*parameters_only=*/true);
    const auto meta = call_plugin(path, [&] { return imlsdk::SafetensorsFile(path).metadata(); });
    auto it = meta.find("imlhost_analyses");
    branch_analyses_ = it == meta.end() ? Json() : call_plugin(path, [&] { return Json::parse(it->second); });
  }

  // Copies saved tensors into the model's parameters (and buffers); every one must be there with
  // its shape, and nothing else.
  void load_tensors(const std::map<std::string, at::Tensor>& t, const std::string& path, const std::string& what,
                    bool parameters_only = false) {
    at::NoGradGuard ng;
    size_t used = 0;
    auto copy = [&](const std::string& name, at::Tensor dst) {
      auto it = t.find(name);
      if (it == t.end() || !it->second.sizes().equals(dst.sizes()))
        throw UserError(path + ": " + what + " does not match the configured model (tensor '" + name + "'); delete it or set experiment.resume=false");
      dst.copy_(it->second);
      ++used;
    };
    for (auto& kv : model_->named_parameters()) copy(kv.key(), kv.value());
    if (!parameters_only) {
      for (auto& kv : model_->named_buffers()) copy(kv.key(), kv.value());
      if (used != t.size())
        throw UserError(path + ": " + what + " holds tensors the configured model does not have; delete it or set experiment.resume=false");
    }
  }

  const Shared& s_;
  const Config& cfg_;
  uint64_t seed_;
  SeedResults results_;
  std::shared_ptr<imlsdk::Model> model_;
  std::vector<std::unique_ptr<imlsdk::Analysis>>& analyses_ = s_.analyses;
  std::string ckpt_path_;                  // this seed's mid-stage checkpoint
  CheckpointWriter writer_;                // writes it on a thread of its own
  std::optional<StageCheckpoint> ckpt_;    // the one a resumed run goes on from, until used
  Json branch_analyses_;                   // the analyses' state before the Stage-2 branch
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
  hashed["experiment"].erase("save_model");      // what is kept, not what is computed
  // How often a run checkpoints does not change its results.
  if (hashed.contains("training")) hashed["training"].erase("checkpoint_every");
  if (hashed.contains("stages"))
    for (auto& st : hashed["stages"])
      if (st.contains("training")) st["training"].erase("checkpoint_every");
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
  const c10::Device device = parse_device(cfg.experiment.device);  // before minutes of data loading
  const auto data = load_dataset(cfg, plugins);  // once for every seed
  auto analyses = preflight(cfg, plugins, *data);  // refuse bad input before anything is written
  const std::string threads = configure_threads(cfg.experiment.threads, cfg.experiment.torch_threads);
  std::vector<bool> has_state;
  for (const auto& a : cfg.analyses) {
    const PluginRecord& rec = reg.get(imlsdk::Kind::Analysis, a.plugin);
    has_state.push_back(sdk_at_least(rec, 2, 1));
  }
  const int64_t streams = cfg.experiment.streams > 0 ? cfg.experiment.streams : (device.is_cpu() ? 2 : 1);
  const Shared shared{cfg, plugins, *data, device, threads, config_hash(cfg),
                      cfg.experiment.output_dir + "/" + cfg.experiment.name, plugin_versions(cfg, reg), analyses, has_state,
                      sdk_at_least(reg.get(imlsdk::Kind::Task, cfg.task.plugin), 2, 2), streams,
                      sdk_at_least(reg.get(imlsdk::Kind::Task, cfg.task.plugin), 2, 3) &&
                          sdk_at_least(reg.get(imlsdk::Kind::Model, cfg.model.plugin), 2, 3),
                      sdk_at_least(reg.get(imlsdk::Kind::Task, cfg.task.plugin), 2, 4) &&
                          sdk_at_least(reg.get(imlsdk::Kind::Model, cfg.model.plugin), 2, 4),
                      sdk_at_least(reg.get(imlsdk::Kind::Task, cfg.task.plugin), 2, 5) &&
                          sdk_at_least(reg.get(imlsdk::Kind::Model, cfg.model.plugin), 2, 5),
                      sdk_at_least(reg.get(imlsdk::Kind::Optimizer, cfg.optimizer.plugin), 2, 9)};
  spdlog::info("experiment '{}': {} seed(s) x {} stage-2 seed(s), {} stage(s), device {}, threads: {}, CPU GEMMs: {}",
               cfg.experiment.name, cfg.experiment.seeds.size(), cfg.experiment.stage2_seeds.size(), cfg.stages.size(),
               device.str(), threads, imlsdk::gemm_backend());

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
  (void)parse_device(cfg.experiment.device);  // as a run does, first: 'cuda' needs a CUDA LibTorch
  const auto data = load_dataset(cfg, plugins);
  preflight(cfg, plugins, *data);
}

}  // namespace imlcore
