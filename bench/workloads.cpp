#include "workloads.hpp"

#include <ATen/ATen.h>
#include <torch/csrc/autograd/autograd.h>
#include <yaml-cpp/yaml.h>

#include <algorithm>
#include <chrono>
#include <cmath>
#include <cstdio>
#include <filesystem>
#include <random>
#include <stdexcept>

#include "imlsdk/analysis.hpp"
#include "imlsdk/parallel.hpp"
#include "threads.hpp"
#include "trainer.hpp"

namespace bench {

namespace {

using imlsdk::Json;
using Clock = std::chrono::steady_clock;

// The plugin's declared defaults with `overrides` on top, as the host's config loader does.
Json with_defaults(const imlsdk::Plugin& plugin, const Json& overrides) {
  Json params = Json::object();
  std::vector<std::string> declared;
  for (const auto& spec : plugin.params()) {
    declared.push_back(spec.key);
    if (!spec.default_value.is_null()) params[spec.key] = spec.default_value;
  }
  for (const auto& item : overrides.items()) {
    if (std::find(declared.begin(), declared.end(), item.key()) == declared.end())
      throw std::invalid_argument("bench: unknown plugin param '" + item.key() + "'");
    params[item.key()] = item.value();
  }
  return params;
}

std::vector<std::vector<int64_t>> random_sequences(int64_t n, int64_t len, int64_t vocab,
                                                   uint64_t seed) {
  std::mt19937_64 rng(seed);
  std::uniform_int_distribution<int64_t> tok(1, vocab - 1);  // 0 is the pad id
  std::vector<std::vector<int64_t>> seqs(n, std::vector<int64_t>(len));
  for (auto& s : seqs)
    for (auto& t : s) t = tok(rng);
  return seqs;
}

}  // namespace

double median(std::vector<double> v) {
  if (v.empty()) return std::nan("");
  std::sort(v.begin(), v.end());
  const size_t n = v.size();
  return n % 2 ? v[n / 2] : 0.5 * (v[n / 2 - 1] + v[n / 2]);
}

// ---- model shapes ---------------------------------------------------------------------------

std::string ModelShape::describe() const {
  char buf[160];
  std::snprintf(buf, sizeof buf, "C=%lld L=%lld H=%lld I=%lld V=%lld", (long long)hidden,
                (long long)layers, (long long)heads, (long long)intermediate, (long long)vocab);
  return buf;
}

ModelShape pythia_70m() { return {"70M", 512, 6, 8, 2048, 50304, "Pythia-70M, real vocab"}; }
ModelShape hf_small() { return {"hf-small", 128, 2, 4, 512, 50304, "HF small shape, Pythia vocab"}; }
ModelShape hf_small_v2100() {
  return {"hf-small-v2100", 128, 2, 4, 512, 2100, "HF small shape, one-token-variable vocab"};
}
// The paper's set-inclusion tokenizer (3-letter variables): specials, letters, numbers, tags.
ModelShape hf_small_v134() {
  return {"hf-small-v134", 128, 2, 4, 512, 134, "HF small shape, paper set-inclusion vocab"};
}

ModelShape cpu_default(const std::string& source_dir) {
  ModelShape s{"cpu-default", 128, 2, 4, 512, 2100, "built-in default (no config file)"};
  const std::string file = source_dir + "/configs/set_inclusion_cpu.yaml";
  if (!std::filesystem::exists(file)) return s;
  try {
    const YAML::Node model = YAML::LoadFile(file)["model"];
    auto read = [&](const char* key, int64_t& v) {
      if (model && model[key]) v = model[key].as<int64_t>();
    };
    read("hidden_size", s.hidden);
    read("num_layers", s.layers);
    read("num_heads", s.heads);
    read("intermediate_size", s.intermediate);
    int64_t vocab = 0;
    read("vocab_size", vocab);  // 0 = the tokenizer's
    if (vocab > 0) s.vocab = vocab;
    s.source = "configs/set_inclusion_cpu.yaml" +
               std::string(vocab > 0 ? "" : " (vocab: tokenizer's, ~2100 assumed)");
  } catch (const std::exception& e) {
    s.source = std::string("built-in default (config unreadable: ") + e.what() + ")";
  }
  return s;
}

std::shared_ptr<imlsdk::Model> build_model(const imlsdk::ModelPlugin& pythia,
                                                   const ModelShape& s) {
  const Json shape = {{"hidden_size", s.hidden}, {"num_layers", s.layers}, {"num_heads", s.heads},
                      {"intermediate_size", s.intermediate}, {"vocab_size", s.vocab}};
  imlsdk::ModelContext ctx;
  ctx.vocab_size = s.vocab;
  at::manual_seed(1234);
  return pythia.create(with_defaults(pythia, shape), ctx);
}

// ---- the training step ----------------------------------------------------------------------

const std::array<const char*, kPhases> kPhaseNames = {"forward", "loss",       "backward", "clip",
                                                      "optimizer", "zero grads", "part wait"};

TrainRig::TrainRig(std::shared_ptr<imlsdk::Model> model, const imlsdk::OptimizerPlugin& adafactor, bool scaled_step,
                   int64_t batch_size, int64_t seq_len)
    : model_(std::move(model)), scaled_step_(scaled_step) {
  imlsdk::NamedTensors named;
  for (auto& kv : model_->named_parameters()) {
    params_.push_back(kv.value());
    named.emplace_back(kv.key(), kv.value());
  }
  optimizer_ = adafactor.create(with_defaults(adafactor, Json::object()), named);
  batch_ = imlsdk::pad_sequences(random_sequences(batch_size, seq_len, model_->info().vocab_size, 7),
                                 /*pad_id=*/0, /*mask_padding=*/true);
}

void TrainRig::step() {
  model_->train();
  auto t = Clock::now();
  auto mark = [&](int phase) {
    const auto now = Clock::now();
    phases_[phase] = std::chrono::duration<double>(now - t).count();
    t = now;
  };
  const bool parts = current_streams() > 1 && batch_.input_ids.size(0) >= 2 * imlsdk::kMinRowsPerStream;
  phases_[6] = 0;
  if (parts) {
    step_side_by_side(mark);
  } else {
    forward_backward(mark);
  }
  const double factor = imlcore::clip_factor_for(params_, /*max_norm=*/1.0, parts ? &sumsq_ : nullptr);
  mark(3);
  imlcore::step_with_factor(*optimizer_, scaled_step_, params_, factor, /*lr=*/5e-5);
  mark(4);
  for (auto& p : params_) p.mutable_grad().reset();
  mark(5);
}

// The trainer's loss (core/src/trainer.cpp): from the head's input where the model's head is a
// linear map (SDK 2.4, as every causal model here), else from the logits. "forward" is the
// model up to its head's input, "loss" the head and the loss.
at::Tensor TrainRig::loss_of(const at::Tensor& input_ids, const at::Tensor& attention_mask, const at::Tensor& labels,
                             const std::function<void(int)>& mark) {
  imlsdk::ModelInput args;
  args.input_ids = input_ids;
  args.attention_mask = attention_mask;
  const imlsdk::LinearHead head = model_->linear_head();
  if (!head.weight.defined()) {
    const at::Tensor logits = model_->forward(args).logits;
    if (mark) mark(0);
    return imlsdk::causal_lm_loss(logits, labels);
  }
  const at::Tensor h = model_->forward_head_input(args);
  if (mark) mark(0);
  return imlsdk::causal_lm_loss(h, head, labels);
}

void TrainRig::forward_backward(const std::function<void(int)>& mark) {
  at::Tensor loss = loss_of(batch_.input_ids, batch_.attention_mask, batch_.labels, mark);
  mark(1);
  loss.backward();
  (void)loss.item<double>();
  mark(2);
}

// The host trainer's step with experiment.streams (core/src/trainer.cpp): the batch's rows in
// current_streams() contiguous parts, each part's forward and loss side by side, then each
// part's gradient of its loss weighted by its share of the targets, added in part order.
// Phases: "forward" holds forward + loss, "backward" the parts' gradients and their sum.
void TrainRig::step_side_by_side(const std::function<void(int)>& mark) {
  const auto ranges = imlsdk::split_evenly(batch_.input_ids.size(0), current_streams());
  const size_t n = ranges.size();
  std::vector<at::Tensor> losses(n), counts(n);
  // Each part's own time in a phase, against the phase's wall time: the rest is waiting.
  std::vector<double> busy(n);
  double waited = 0;
  auto side_by_side = [&](std::vector<std::function<void()>>& jobs) {
    for (size_t p = 0; p < n; ++p)
      jobs[p] = [&busy, p, job = std::move(jobs[p])] {
        const auto t0 = Clock::now();
        job();
        busy[p] = std::chrono::duration<double>(Clock::now() - t0).count();
      };
    const auto t0 = Clock::now();
    imlsdk::run_side_by_side(jobs);
    const double wall = std::chrono::duration<double>(Clock::now() - t0).count();
    for (double b : busy) waited += (wall - b) / static_cast<double>(n);
  };
  std::vector<std::function<void()>> jobs;
  for (size_t p = 0; p < n; ++p)
    jobs.push_back([&, p] {
      const int64_t b = ranges[p].first, len = ranges[p].second - ranges[p].first;
      const at::Tensor labels = batch_.labels.narrow(0, b, len);
      losses[p] = loss_of(batch_.input_ids.narrow(0, b, len), batch_.attention_mask.narrow(0, b, len), labels, nullptr);
      counts[p] = labels.narrow(1, 1, labels.size(1) - 1).ne(-100).sum();
    });
  side_by_side(jobs);
  mark(0);
  phases_[1] = 0;
  double total = 0;
  for (const auto& c : counts) total += c.item<double>();
  std::vector<std::vector<at::Tensor>> grads(n);
  jobs.clear();
  for (size_t p = 0; p < n; ++p)
    jobs.push_back([&, p] {
      const at::Tensor scaled = losses[p] * (counts[p].item<double>() / total);
      grads[p] = torch::autograd::grad({scaled}, params_, {}, false, false, true);
    });
  side_by_side(jobs);
  imlcore::add_part_gradients(params_, grads, &sumsq_);
  mark(2);
  phases_[6] = waited;
}

// ---- workloads ------------------------------------------------------------------------------

double Workload::rate(const std::string& setup) const {
  auto it = rates.find(setup);
  return it == rates.end() ? std::nan("") : median(it->second);
}

Workload gemm_workload(int64_t n) {
  at::manual_seed(0);
  at::Tensor a = at::randn({n, n}), b = at::randn({n, n}), c = at::empty({n, n});
  Workload w;
  w.id = "gemm_" + std::to_string(n);
  w.kind = "gemm";
  w.label = "GEMM fp32 " + std::to_string(n) + "^3";
  w.unit = "GFLOP/s";
  w.work_per_call = 2.0 * n * n * n / 1e9;
  w.call = [a, b, c]() mutable { at::mm_out(c, a, b); };
  return w;
}

Workload train_workload(const std::string& name, std::shared_ptr<imlsdk::Model> model,
                        const imlsdk::OptimizerPlugin& adafactor, bool scaled_step, int64_t batch, int64_t seq) {
  Workload w;
  w.id = "train_" + name;
  w.kind = "train";
  w.label = "train " + name + " (B=" + std::to_string(batch) + " T=" + std::to_string(seq) + ")";
  w.unit = "tok/s";
  w.work_per_call = static_cast<double>(batch * seq);
  w.flop_params = model->info().flop_params;
  w.model_gflop = 6.0 * w.flop_params * batch * seq / 1e9;
  w.rig = std::make_shared<TrainRig>(std::move(model), adafactor, scaled_step, batch, seq);
  w.call = [rig = w.rig]() { rig->step(); };
  return w;
}

Workload generate_workload(const ModelShape& shape, std::shared_ptr<imlsdk::Model> model,
                           int64_t prompts, int64_t prompt_len, int64_t new_tokens) {
  Workload w;
  w.id = "generate_" + shape.name;
  w.kind = "generate";
  w.label = "generate " + shape.name + " (" + std::to_string(prompts) + "x" +
            std::to_string(prompt_len) + " +" + std::to_string(new_tokens) + ")";
  w.unit = "new tok/s";
  w.work_per_call = static_cast<double>(prompts * new_tokens);
  // The prompt pass runs the body on every prompt token, each later step on one token per row;
  // the LM head (embed_out) runs on the last position only.
  w.flop_params = model->info().flop_params;
  const double head = static_cast<double>(shape.hidden) * shape.vocab;
  const double body = static_cast<double>(w.flop_params) - head;
  w.model_gflop =
      2.0 * (body * prompts * (prompt_len + new_tokens - 1) + head * prompts * new_tokens) / 1e9;
  w.call = [model, ids = random_sequences(prompts, prompt_len, shape.vocab, 11), new_tokens]() {
    model->eval();
    imlsdk::GenerateOptions o;
    o.max_new_tokens = new_tokens;
    o.pad_id = 0;
    // With streams: the prompts in contiguous parts generated side by side, as the host's
    // evaluation splits a batch (imlsdk::evaluate_examples).
    const int64_t n = static_cast<int64_t>(ids.size());
    const auto ranges = imlsdk::split_evenly(n, current_streams() > 1 && n >= 2 * imlsdk::kMinRowsPerStream ? current_streams() : 1);
    std::vector<std::vector<std::vector<int64_t>>> outs(ranges.size());
    std::vector<std::function<void()>> jobs;
    for (size_t p = 0; p < ranges.size(); ++p)
      jobs.push_back([&, p] {
        const std::vector<std::vector<int64_t>> part(ids.begin() + ranges[p].first, ids.begin() + ranges[p].second);
        outs[p] = imlsdk::greedy_generate(*model, part, o);
      });
    imlsdk::run_side_by_side(jobs);
    size_t rows = 0;
    for (const auto& out : outs) {
      rows += out.size();
      if (out.empty() || out[0].size() != static_cast<size_t>(new_tokens))
        throw std::runtime_error("greedy_generate returned the wrong number of tokens");
    }
    if (rows != ids.size()) throw std::runtime_error("greedy_generate returned the wrong number of rows");
  };
  return w;
}

void calibrate(Workload& w, double min_seconds, int min_calls) {
  w.call();  // warm-up: allocator, thread pools, first touch of the weights
  const auto t0 = Clock::now();
  w.call();
  const double t = std::chrono::duration<double>(Clock::now() - t0).count();
  w.calls_per_rep = std::max({1, min_calls, static_cast<int>(std::ceil(min_seconds / std::max(t, 1e-6)))});
}

// The repetition's rate is the work of one call over the median call time, and each phase the
// median over the calls: the statistic the peer reports for its steps (bench_hf_train.py).
void measure_once(Workload& w, const std::string& setup, bool record_phases) {
  std::vector<double> seconds;
  std::array<std::vector<double>, kPhases> phase_seconds;
  for (int i = 0; i < w.calls_per_rep; ++i) {
    const auto t0 = Clock::now();
    w.call();
    seconds.push_back(std::chrono::duration<double>(Clock::now() - t0).count());
    if (w.rig)
      for (int p = 0; p < kPhases; ++p) phase_seconds[p].push_back(w.rig->last_phases()[p]);
  }
  w.rates[setup].push_back(w.work_per_call / median(seconds));
  if (w.rig && record_phases) {
    PhaseTimes phases{};
    for (int p = 0; p < kPhases; ++p) phases[p] = median(phase_seconds[p]);
    w.phases.push_back(phases);
  }
}

}  // namespace bench
