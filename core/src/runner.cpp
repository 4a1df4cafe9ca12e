#include "runner.hpp"

#include <dlfcn.h>
#include <malloc.h>
#include <unistd.h>

#include <ATen/ATen.h>
#include <ATen/Parallel.h>
#include <torch/version.h>

#include <algorithm>
#include <chrono>
#include <filesystem>
#include <set>
#include <fstream>
#include <map>
#include <sstream>

#include <spdlog/spdlog.h>

#include "errors.hpp"
#include "imlsdk/analysis.hpp"
#include "imlsdk/safetensors.hpp"
#include "progress.hpp"
#include "results.hpp"
#include "summary.hpp"
#include "trainer.hpp"

namespace fs = std::filesystem;
using imlsdk::Json;

namespace imlcore {

std::string configure_threads(int64_t blas_threads, int64_t torch_threads) {
  const int64_t cores = std::max<long>(1, ::sysconf(_SC_NPROCESSORS_ONLN));
  const int64_t nb = blas_threads > 0 ? blas_threads : cores;
  const int64_t nt = torch_threads > 0 ? torch_threads : cores;
  at::set_num_threads(static_cast<int>(nt));
  using SetFn = void (*)(int);
  std::string blas = "blas default";
  if (auto fn = reinterpret_cast<SetFn>(::dlsym(RTLD_DEFAULT, "openblas_set_num_threads"))) {
    fn(static_cast<int>(nb));
    blas = "openblas " + std::to_string(nb);
  }
  return "torch " + std::to_string(at::get_num_threads()) + ", " + blas;
}

void configure_memory() {
  mallopt(M_MMAP_MAX, 0);
  mallopt(M_TRIM_THRESHOLD, 1 << 30);
}

namespace {

uint64_t fnv1a(const std::string& s) {
  uint64_t h = 1469598103934665603ULL;
  for (unsigned char c : s) h = (h ^ c) * 1099511628211ULL;
  return h;
}

std::string hex(uint64_t v) {
  char buf[20];
  std::snprintf(buf, sizeof buf, "%016llx", static_cast<unsigned long long>(v));
  return buf;
}

// Everything the experiment is built from, plugin by plugin.
struct Plugins {
  std::shared_ptr<imlsdk::DatasetPlugin> data;
  std::shared_ptr<imlsdk::TagPlugin> tags;
  std::shared_ptr<imlsdk::ModelPlugin> model;
  std::shared_ptr<imlsdk::OptimizerPlugin> optimizer;
  std::vector<std::shared_ptr<imlsdk::AnalysisPlugin>> analyses;
};

Plugins resolve(const Config& cfg, const PluginRegistry& reg) {
  Plugins p;
  p.data = reg.get_as<imlsdk::DatasetPlugin>(cfg.data.plugin);
  p.tags = reg.get_as<imlsdk::TagPlugin>(cfg.tags.plugin);
  p.model = reg.get_as<imlsdk::ModelPlugin>(cfg.model.plugin);
  p.optimizer = reg.get_as<imlsdk::OptimizerPlugin>(cfg.optimizer.plugin);
  for (const auto& a : cfg.analyses) p.analyses.push_back(reg.get_as<imlsdk::AnalysisPlugin>(a.plugin));
  return p;
}

// Plugin exceptions other than UserError are bad parameter values or data: name the plugin.
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
  }
}

// Data for one (seed, stage2_seed): the tagger is seeded from the Stage-1 seed only, so Stage-1
// data never depends on the Stage-2 seed.
struct SeedData {
  std::unique_ptr<imlsdk::Tagger> tagger;
  imlsdk::DataBundle bundle;
};

SeedData generate(const Config& cfg, const Plugins& p, uint64_t seed, uint64_t seed2) {
  SeedData d;
  imlsdk::Rng tag_rng(seed * 1000003ULL + 17);
  d.tagger = call_plugin("tags plugin '" + cfg.tags.plugin + "'", [&] { return p.tags->create(cfg.tags.params, tag_rng); });
  imlsdk::DataContext ctx;
  ctx.seed = seed;
  ctx.seed_stage2 = seed2;
  ctx.tagger = d.tagger.get();
  ctx.base_dir = cfg.base_dir;
  d.bundle = call_plugin("data plugin '" + cfg.data.plugin + "'", [&] { return p.data->generate(cfg.data.params, ctx); });
  for (const auto& st : cfg.stages)
    if (!d.bundle.train.count(st.train_subset)) {
      std::string have;
      for (const auto& kv : d.bundle.train) have += (have.empty() ? "" : ", ") + kv.first;
      throw UserError(cfg.file + ": stage '" + st.name + "': data plugin '" + cfg.data.plugin +
                      "' has no train subset '" + st.train_subset + "' (it has: " + have + ")");
    }
  if (!d.bundle.tokenizer)
    throw UserError("data plugin '" + cfg.data.plugin + "' provides no tokenizer (model tokenizers come in a later version)");
  return d;
}

Json example_json(const imlsdk::Example& e) {
  Json j = Json::object();
  j["text"] = e.text;
  j["prompt"] = e.prompt;
  j["answer"] = e.answer;
  j["subset"] = e.subset;
  if (!e.kind.empty()) j["kind"] = e.kind;
  if (!e.entity.empty()) j["entity"] = e.entity;
  if (!e.variable.empty()) j["variable"] = e.variable;
  return j;
}

std::string jsonl(const std::vector<imlsdk::Example>& xs) {
  std::string s;
  for (const auto& e : xs) s += example_json(e).dump() + "\n";
  return s;
}

c10::Device parse_device(const std::string& d) {
  try {
    c10::Device dev(d);
    if (dev.is_cuda() && !at::hasCUDA())
      throw UserError("experiment.device: '" + d + "' requested but this LibTorch has no CUDA device available");
    return dev;
  } catch (const c10::Error&) {
    throw UserError("experiment.device: cannot parse '" + d + "'");
  }
}

// Everything one Stage-1 seed produces.
class SeedRun {
 public:
  SeedRun(const Config& cfg, const Plugins& p, uint64_t seed, const std::string& dir, const std::string& hash,
          c10::Device device, const std::string& threads)
      : cfg_(cfg), p_(p), seed_(seed), dir_(dir), hash_(hash), device_(device), threads_(threads) {}

  std::vector<Json> run() {
    load_previous();
    const size_t branch = branch_index();
    SeedData first = generate(cfg_, p_, seed_, cfg_.experiment.stage2_seeds.front());
    const imlsdk::Tokenizer& tok = *first.bundle.tokenizer;
    imlsdk::ModelContext mctx{tok.vocab_size(), tok.pad_id(), tok.eos_id(), cfg_.base_dir};
    at::manual_seed(seed_);
    auto model = call_plugin("model plugin '" + cfg_.model.plugin + "'", [&] { return p_.model->create(cfg_.model.params, mctx); });
    model->to(device_);
    manifest_["tokenizer"] = tok.describe();
    manifest_["data"] = first.bundle.info;
    manifest_["model_parameters"] = count_params(*model);

    const std::string shared_ckpt = dir_ + "/before_" + (branch < cfg_.stages.size() ? cfg_.stages[branch].name : "end") + ".safetensors";
    if (manifest_.value("pre_branch_complete", false) && fs::exists(shared_ckpt)) {
      spdlog::info("seed {}: resuming from {}", seed_, shared_ckpt);
      load_model(*model, shared_ckpt);
    } else {
      drop_records([](const Json& r) { return r.at("stage2_seed").is_null(); });
      for (size_t i = 0; i < branch; ++i) run_stage(*model, cfg_.stages[i], first, Json(nullptr));
      if (branch > 0) save_model(*model, shared_ckpt);
      manifest_["pre_branch_complete"] = true;
      flush();
    }
    if (branch < cfg_.stages.size()) {
      std::map<std::string, at::Tensor> start;
      for (const auto& kv : model->named_parameters()) start[kv.key()] = kv.value().detach().clone();
      for (uint64_t s2 : cfg_.experiment.stage2_seeds) {
        if (done_s2_.count(s2)) {
          spdlog::info("seed {} stage-2 seed {}: already complete, skipped (resume)", seed_, s2);
          continue;
        }
        drop_records([&](const Json& r) { return !r.at("stage2_seed").is_null() && r.at("stage2_seed").get<uint64_t>() == s2; });
        {
          at::NoGradGuard ng;
          for (auto& kv : model->named_parameters()) kv.value().copy_(start.at(kv.key()));
        }
        SeedData d = s2 == cfg_.experiment.stage2_seeds.front() ? std::move(first) : generate(cfg_, p_, seed_, s2);
        at::manual_seed(seed_ * 1000003ULL + s2);
        for (size_t i = branch; i < cfg_.stages.size(); ++i) run_stage(*model, cfg_.stages[i], d, Json(s2));
        done_s2_.insert(s2);
        manifest_["completed_stage2_seeds"] = Json(std::vector<uint64_t>(done_s2_.begin(), done_s2_.end()));
        flush();
      }
    }
    manifest_["complete"] = true;
    flush();
    return records_;
  }

 private:
  size_t branch_index() const {
    for (size_t i = 0; i < cfg_.stages.size(); ++i)
      if (cfg_.stages[i].per_stage2_seed) return i;
    return cfg_.stages.size();
  }

  static int64_t count_params(imlsdk::LanguageModel& m) {
    int64_t n = 0;
    for (const auto& p : m.parameters()) n += p.numel();
    return n;
  }

  void run_stage(imlsdk::LanguageModel& model, const StageConfig& st, SeedData& d, const Json& s2) {
    StageRun run;
    run.stage = &st;
    run.examples = &d.bundle.train.at(st.train_subset);
    run.tokenizer = d.bundle.tokenizer.get();
    run.optimizer = p_.optimizer.get();
    run.device = device_;
    run.label = "seed " + std::to_string(seed_) + (s2.is_null() ? "" : "/" + s2.dump()) + " " + st.name;
    std::vector<std::unique_ptr<imlsdk::Analysis>> analyses;
    for (size_t i = 0; i < p_.analyses.size(); ++i)
      analyses.push_back(call_plugin("analysis plugin '" + cfg_.analyses[i].plugin + "'",
                                     [&] { return p_.analyses[i]->create(cfg_.analyses[i].params); }));
    run.on_eval = [&](int64_t epoch) {
      imlsdk::EvalRequest req;
      req.model = &model;
      req.tokenizer = d.bundle.tokenizer.get();
      req.sets = &d.bundle.evals;
      req.settings.batch_size = st.training.eval_batch_size;
      req.settings.block_size = st.training.block_size;
      req.settings.max_new_tokens = st.training.max_new_tokens;
      req.settings.mask_padding = st.training.mask_padding;
      req.stage = st.name;
      req.epoch = static_cast<int>(epoch);
      std::map<std::string, Json> by_set;
      std::vector<std::string> order;
      for (auto& a : analyses)
        for (const auto& m : a->run(req)) {
          if (!by_set.count(m.eval_set)) {
            order.push_back(m.eval_set);
            by_set[m.eval_set] = Json::object();
          }
          by_set[m.eval_set][m.name] = m.value;
          by_set[m.eval_set]["n"] = m.count;
        }
      for (const auto& set : order) {
        Json r = Json::object();
        r["seed"] = seed_;
        r["stage2_seed"] = s2;
        r["stage"] = st.name;
        r["epoch"] = epoch;
        r["eval_set"] = set;
        for (auto it = by_set[set].begin(); it != by_set[set].end(); ++it) r[it.key()] = it.value();
        records_.push_back(r);
      }
      flush();
    };
    const StageStats stats = train_stage(model, run);
    Json s = {{"stage", st.name}, {"stage2_seed", s2}, {"optimizer_steps", stats.optimizer_steps},
              {"tokens", stats.tokens}, {"seconds", stats.seconds},
              {"tokens_per_second", stats.seconds > 0 ? stats.tokens / stats.seconds : 0.0}};
    manifest_["stages"].push_back(s);
  }

  void save_model(imlsdk::LanguageModel& model, const std::string& path) {
    std::map<std::string, at::Tensor> t;
    for (const auto& kv : model.named_parameters()) t[kv.key()] = kv.value().detach().to(at::kCPU);
    imlsdk::write_safetensors(path, t);
  }

  void load_model(imlsdk::LanguageModel& model, const std::string& path) {
    auto t = call_plugin(path, [&] { return imlsdk::read_safetensors(path); });
    at::NoGradGuard ng;
    for (auto& kv : model.named_parameters()) {
      auto it = t.find(kv.key());
      if (it == t.end() || !it->second.sizes().equals(kv.value().sizes()))
        throw UserError(path + ": saved model does not match the configured model (tensor '" + kv.key() + "'); delete it or set experiment.resume=false");
      kv.value().copy_(it->second);
    }
  }

  // Results of an earlier, interrupted run of the same config are kept (resume).
  void load_previous() {
    manifest_ = Json::object();
    const std::string mpath = dir_ + "/manifest.json", rpath = dir_ + "/metrics.jsonl";
    if (cfg_.experiment.resume && fs::exists(mpath) && fs::exists(rpath)) {
      try {
        Json old = Json::parse(read_file(mpath));
        if (old.value("config_hash", "") == hash_) {
          manifest_ = old;
          std::istringstream in(read_file(rpath));
          std::string line;
          while (std::getline(in, line))
            if (!line.empty()) records_.push_back(Json::parse(line));
          for (const auto& s : old.value("completed_stage2_seeds", Json::array())) done_s2_.insert(s.get<uint64_t>());
        }
      } catch (const std::exception&) {
        manifest_ = Json::object();
        records_.clear();
        done_s2_.clear();
      }
    }
    if (manifest_.empty()) manifest_ = Json::object();
    manifest_["config_hash"] = hash_;
    manifest_["project_commit"] = source_commit();
    manifest_["seed"] = seed_;
    manifest_["stage2_seeds"] = cfg_.experiment.stage2_seeds;
    manifest_["libtorch_version"] = TORCH_VERSION;
    manifest_["imlsdk_version"] = IMLSDK_VERSION_STRING;
    manifest_["threads"] = threads_;
    manifest_["device"] = device_.str();
    char host[256] = {0};
    ::gethostname(host, sizeof host - 1);
    manifest_["host"] = host;
    manifest_["complete"] = false;
    if (!manifest_.contains("stages")) manifest_["stages"] = Json::array();
    write_file_atomic(dir_ + "/config.json", cfg_.resolved.dump(2) + "\n");
  }

  template <typename Pred>
  void drop_records(Pred pred) {
    records_.erase(std::remove_if(records_.begin(), records_.end(), pred), records_.end());
  }

  void flush() {
    std::string s;
    for (const auto& r : records_) s += r.dump() + "\n";
    write_file_atomic(dir_ + "/metrics.jsonl", s);
    write_file_atomic(dir_ + "/manifest.json", manifest_.dump(2) + "\n");
  }

 public:
  Json plugins_json;

 private:
  const Config& cfg_;
  const Plugins& p_;
  uint64_t seed_;
  std::string dir_, hash_;
  c10::Device device_;
  std::string threads_;
  Json manifest_;
  std::vector<Json> records_;
  std::set<uint64_t> done_s2_;
};

}  // namespace

static void preflight(const Config& cfg, const Plugins& p) {
  SeedData d = generate(cfg, p, cfg.experiment.seeds.front(), cfg.experiment.stage2_seeds.front());
  const imlsdk::Tokenizer& tok = *d.bundle.tokenizer;
  imlsdk::ModelContext mctx{tok.vocab_size(), tok.pad_id(), tok.eos_id(), cfg.base_dir};
  auto model = call_plugin("model plugin '" + cfg.model.plugin + "'", [&] { return p.model->create(cfg.model.params, mctx); });
  imlsdk::NamedTensors named;
  for (auto& kv : model->named_parameters()) named.emplace_back(kv.key(), kv.value());
  for (const auto& st : cfg.stages) {
    call_plugin("optimizer plugin '" + cfg.optimizer.plugin + "' (stage " + st.name + ")",
                [&] { return p.optimizer->create(st.optimizer_params, named); });
    if (st.epochs > 0 && d.bundle.train.at(st.train_subset).empty())
      throw UserError(cfg.file + ": stage '" + st.name + "': train subset '" + st.train_subset + "' is empty with this data config");
  }
  for (size_t i = 0; i < p.analyses.size(); ++i)
    call_plugin("analysis plugin '" + cfg.analyses[i].plugin + "'", [&] { return p.analyses[i]->create(cfg.analyses[i].params); });
}

void preflight(const Config& cfg, const PluginRegistry& reg) { preflight(cfg, resolve(cfg, reg)); }

void run_experiment(const Config& cfg, const PluginRegistry& reg) {
  const Plugins p = resolve(cfg, reg);
  preflight(cfg, p);  // refuse bad values before anything is written
  const c10::Device device = parse_device(cfg.experiment.device);
  const std::string threads = configure_threads(cfg.experiment.threads, cfg.experiment.torch_threads);
  const std::string exp_dir = cfg.experiment.output_dir + "/" + cfg.experiment.name;
  // The hash covers what determines results (not output paths or resume).
  Json hashed = cfg.resolved;
  hashed["experiment"].erase("output_dir");
  hashed["experiment"].erase("resume");
  hashed["experiment"].erase("seeds");
  const std::string hash = hex(fnv1a(hashed.dump()));
  Json plugins = Json::array();
  for (const auto* s : {&cfg.data, &cfg.tags, &cfg.model, &cfg.optimizer}) {
    for (const auto& r : reg.plugins())
      if (r.name == s->plugin) plugins.push_back({{"name", r.name}, {"kind", imlsdk::kind_name(r.kind)}, {"version", r.version}});
  }
  spdlog::info("experiment '{}': {} seed(s) x {} stage-2 seed(s), {} stage(s), device {}, threads: {}", cfg.experiment.name,
               cfg.experiment.seeds.size(), cfg.experiment.stage2_seeds.size(), cfg.stages.size(), device.str(), threads);
  std::vector<Json> all;
  const auto t0 = std::chrono::steady_clock::now();
  for (uint64_t seed : cfg.experiment.seeds) {
    const std::string dir = exp_dir + "/" + std::to_string(seed);
    fs::create_directories(dir);
    SeedRun run(cfg, p, seed, dir, hash, device, threads);
    auto recs = run.run();
    all.insert(all.end(), recs.begin(), recs.end());
    // plugin versions into the manifest
    Json m = Json::parse(read_file(dir + "/manifest.json"));
    m["plugins"] = plugins;
    write_file_atomic(dir + "/manifest.json", m.dump(2) + "\n");
  }
  std::vector<std::string> stage_names;
  for (const auto& s : cfg.stages) stage_names.push_back(s.name);
  SummaryOut sum = summarize_runs(all, stage_names, cfg.experiment.gap_reliable, cfg.experiment.gap_unreliable);
  const double secs = std::chrono::duration<double>(std::chrono::steady_clock::now() - t0).count();
  sum.json["experiment"] = cfg.experiment.name;
  sum.json["seeds"] = cfg.experiment.seeds;
  sum.json["stage2_seeds"] = cfg.experiment.stage2_seeds;
  write_file_atomic(exp_dir + "/summary.json", sum.json.dump(2) + "\n");
  write_file_atomic(exp_dir + "/summary.md", "# " + cfg.experiment.name + "\n\n```\n" + sum.text + "```\n");
  std::fprintf(stdout, "\n%s\nresults: %s (wall time %s)\n", sum.text.c_str(), exp_dir.c_str(), format_duration(secs).c_str());
  std::fflush(stdout);
}

void write_data(const Config& cfg, const PluginRegistry& reg, const std::string& out_dir) {
  const Plugins p = resolve(cfg, reg);
  // Generate everything first, write afterwards: a refused input leaves nothing behind.
  std::map<std::string, std::string> files;
  for (uint64_t seed : cfg.experiment.seeds)
    for (uint64_t s2 : cfg.experiment.stage2_seeds) {
      SeedData d = generate(cfg, p, seed, s2);
      const std::string dir = out_dir + "/" + std::to_string(seed) + "/" + std::to_string(s2);
      for (const auto& st : cfg.stages)
        files[dir + "/train_" + st.name + ".jsonl"] = jsonl(d.bundle.train.at(st.train_subset));
      for (const auto& e : d.bundle.evals) files[dir + "/eval_" + e.name + ".jsonl"] = jsonl(e.examples);
      files[dir + "/info.json"] = d.bundle.info.dump(2) + "\n";
    }
  for (const auto& kv : files) write_file_atomic(kv.first, kv.second);
  std::fprintf(stdout, "wrote %zu files under %s\n", files.size(), out_dir.c_str());
}

}  // namespace imlcore
