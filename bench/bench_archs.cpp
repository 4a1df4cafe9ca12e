// Every model architecture at a ~70M shape, as imlhost trains and decodes it: training tokens/s
// and MFU (against the fp32 GEMM peak measured in the same process), and greedy generation new
// tokens/s. Not a test. Architectures whose plugin is not built are skipped.
//
//   bench_archs [--reps N] [--only ARCH]
//
// Training step = the host trainer's: forward -> loss -> backward -> clipping to norm 1 ->
// Adafactor (plugin defaults) -> drop gradients. Causal LMs: B 32 x T 48 random tokens (as
// bench_throughput). T5: B 32, encoder 32 + decoder 16 tokens (a question and its answer).
// Model FLOPs: 6 x (GEMM parameters a token passes through) per trained token; encoder tokens
// pass through the encoder's, decoder tokens through the decoder's and the head.
#include <ATen/ATen.h>

#include <chrono>
#include <cmath>
#include <cstdio>
#include <iostream>
#include <map>
#include <string>
#include <vector>

#include "environment.hpp"
#include "imlsdk/generate.hpp"
#include "imlsdk/model.hpp"
#include "imlsdk/optimizer.hpp"
#include "plugin_registry.hpp"
#include "trainer.hpp"
#include "workloads.hpp"

using imlsdk::Json;

namespace {

struct Arch {
  const char* label;
  const char* plugin;
  Json shape;
  int64_t vocab;
};

// ~70M shapes: Pythia-70M itself, and each family's nearest (GPT-Neo and Llama at Pythia-70M's
// width and depth with their own vocabularies; T5 = t5-small, 6 + 6 layers).
std::vector<Arch> archs() {
  return {
      {"pythia-70m", "pythia",
       {{"hidden_size", 512}, {"num_layers", 6}, {"num_heads", 8}, {"intermediate_size", 2048}}, 50304},
      {"gpt-neo (70M shape)", "gpt_neo",
       {{"hidden_size", 512}, {"num_layers", 6}, {"num_heads", 8}, {"intermediate_size", 2048},
        {"window_size", 256}}, 50257},
      {"llama (70M shape)", "llama",
       {{"hidden_size", 512}, {"num_layers", 6}, {"num_heads", 8}, {"intermediate_size", 1376}}, 32000},
      {"llama GQA 8/2 (70M shape)", "llama",
       {{"hidden_size", 512}, {"num_layers", 6}, {"num_heads", 8}, {"num_key_value_heads", 2},
        {"intermediate_size", 1376}}, 32000},
      {"t5-small (60M)", "t5",
       {{"d_model", 512}, {"d_kv", 64}, {"d_ff", 2048}, {"num_layers", 6}, {"num_heads", 8}}, 32128},
  };
}

Json with_defaults(const imlsdk::Plugin& plugin, const Json& overrides) {
  Json p = Json::object();
  for (const auto& spec : plugin.params())
    if (!spec.default_value.is_null()) p[spec.key] = spec.default_value;
  for (const auto& item : overrides.items()) p[item.key()] = item.value();
  return p;
}

at::Tensor random_ids(int64_t b, int64_t t, int64_t vocab, int seed) {
  at::manual_seed(seed);
  return at::randint(1, vocab, {b, t}, at::kLong);
}

// GEMM parameters per token: [encoder, decoder + head] for T5; [all but the input embedding, 0]
// for causal LMs (info().flop_params).
std::pair<double, double> seq2seq_flop_params(imlsdk::Model& m) {
  double enc = 0, dec = 0;
  for (const auto& p : m.named_parameters()) {
    const std::string& n = p.key();
    if (n.find("relative_attention_bias") != std::string::npos) continue;  // a lookup, no GEMM
    if (n.rfind("encoder.", 0) == 0) enc += p.value().numel();
    else if (n.rfind("decoder.", 0) == 0 || n.rfind("lm_head.", 0) == 0) dec += p.value().numel();
    else if (n == "shared.weight" && !m.named_parameters().contains("lm_head.weight")) dec += p.value().numel();
  }
  return {enc, dec};
}

}  // namespace

int main(int argc, char** argv) try {
  int reps = 5;
  std::string only;
  for (int i = 1; i < argc; ++i) {
    const std::string a = argv[i];
    if (a == "--reps" && i + 1 < argc) reps = std::max(1, std::atoi(argv[++i]));
    else if (a == "--only" && i + 1 < argc) only = argv[++i];
    else throw std::invalid_argument("usage: bench_archs [--reps N] [--only PLUGIN]");
  }
  imlcore::configure_memory();
  const std::string threads = imlcore::configure_threads(0);
  imlcore::PluginRegistry registry;  // outlives every model (keeps the libraries loaded)
  const auto adafactor = registry.get_as<imlsdk::OptimizerPlugin>("adafactor");
  // Clipping as the trainer does it: folded into Adafactor's step where its plugin has SDK 2.9.
  const bool scaled_step = imlcore::sdk_at_least(registry.get(imlsdk::Kind::Optimizer, "adafactor"), 2, 9);

  std::vector<bench::Workload> work;
  work.push_back(bench::gemm_workload(2048));
  struct Row {
    std::string label;
    size_t train = 0, gen = 0;
    double model_gflop = 0;
    bool have = false;
  };
  std::vector<Row> rows;
  std::vector<std::shared_ptr<void>> keep;  // models, optimizers, rigs
  for (const auto& a : archs()) {
    if (!only.empty() && only != a.plugin) continue;
    Row row;
    row.label = a.label;
    std::shared_ptr<imlsdk::ModelPlugin> plugin;
    try {
      plugin = registry.get_as<imlsdk::ModelPlugin>(a.plugin);
    } catch (const std::exception&) {
      std::printf("%-28s skipped: plugin '%s' not built\n", a.label, a.plugin);
      continue;
    }
    Json shape = a.shape;
    shape["vocab_size"] = a.vocab;
    imlsdk::ModelContext ctx;
    ctx.vocab_size = a.vocab;
    at::manual_seed(1234);
    std::shared_ptr<imlsdk::Model> model = plugin->create(with_defaults(*plugin, shape), ctx);
    const imlsdk::ModelInfo info = model->info();
    const bool seq2seq = info.family == imlsdk::ModelFamily::Seq2SeqLM;

    std::vector<at::Tensor> params;
    imlsdk::NamedTensors named;
    for (auto& kv : model->named_parameters()) {
      params.push_back(kv.value());
      named.emplace_back(kv.key(), kv.value());
    }
    std::shared_ptr<imlsdk::Optimizer> opt(adafactor->create(with_defaults(*adafactor, Json::object()), named).release());
    const int64_t B = 32, T = 48, Te = 32, Td = 16;
    imlsdk::ModelInput in;
    at::Tensor labels;
    double tokens = 0, gflop = 0;
    if (seq2seq) {
      in.input_ids = random_ids(B, Te, a.vocab, 7);
      in.decoder_input_ids = random_ids(B, Td, a.vocab, 8);
      labels = random_ids(B, Td, a.vocab, 9);
      tokens = static_cast<double>(B * (Te + Td));
      const auto [enc, dec] = seq2seq_flop_params(*model);
      gflop = 6.0 * (enc * B * Te + dec * B * Td) / 1e9;
    } else {
      in.input_ids = random_ids(B, T, a.vocab, 7);
      labels = in.input_ids;
      tokens = static_cast<double>(B * T);
      gflop = 6.0 * static_cast<double>(info.flop_params) * B * T / 1e9;
    }
    bench::Workload train;
    train.id = std::string("train_") + a.plugin;
    train.kind = "train";
    train.label = a.label;
    train.unit = "tok/s";
    train.work_per_call = tokens;
    train.model_gflop = gflop;
    train.call = [model, opt, params, in, labels, seq2seq, scaled_step]() mutable {
      model->train();
      // The host trainer's loss: from the head's input where the head is a linear map (every
      // model here since t5 has one), without [B, T, V] logits; else from the logits.
      const imlsdk::LinearHead head = model->linear_head();
      at::Tensor loss;
      if (head.weight.defined()) {
        const at::Tensor h = model->forward_head_input(in);
        loss = seq2seq ? imlsdk::linear_cross_entropy(h, head, labels) : imlsdk::causal_lm_loss(h, head, labels);
      } else {
        const at::Tensor logits = model->forward(in).logits;
        loss = seq2seq ? imlsdk::token_cross_entropy(logits, labels) : imlsdk::causal_lm_loss(logits, labels);
      }
      loss.backward();
      (void)loss.item<double>();
      imlcore::step_with_factor(*opt, scaled_step, params, imlcore::clip_factor_for(params, 1.0, nullptr), 5e-5);
      for (auto& p : params) p.mutable_grad().reset();
    };
    row.train = work.size();
    work.push_back(train);

    // Greedy generation: 64 prompts x 20 tokens, 8 new (bench_throughput's workload).
    std::vector<std::vector<int64_t>> prompts;
    const at::Tensor ids = random_ids(64, 20, a.vocab, 11);
    for (int64_t i = 0; i < 64; ++i) {
      const at::Tensor r = ids[i].contiguous();
      prompts.emplace_back(r.data_ptr<int64_t>(), r.data_ptr<int64_t>() + 20);
    }
    bench::Workload gen;
    gen.id = std::string("generate_") + a.plugin;
    gen.kind = "generate";
    gen.label = a.label;
    gen.unit = "new tok/s";
    gen.work_per_call = 64.0 * 8;
    gen.call = [model, prompts]() {
      model->eval();
      imlsdk::GenerateOptions o;
      o.max_new_tokens = 8;
      (void)imlsdk::greedy_generate(*model, prompts, o);
    };
    row.gen = work.size();
    work.push_back(gen);
    row.model_gflop = gflop;
    row.have = true;
    rows.push_back(row);
    std::printf("%-28s %s, %.1fM parameters (%.1fM in GEMMs per token)\n", a.label,
                imlsdk::family_name(info.family), [&] {
                  double n = 0;
                  for (const auto& p : params) n += p.numel();
                  return n / 1e6;
                }(), seq2seq ? (seq2seq_flop_params(*model).first + seq2seq_flop_params(*model).second) / 1e6
                             : info.flop_params / 1e6);
  }
  std::printf("threads: %s; %d repetitions, round-robin over the workloads; medians\n\n", threads.c_str(), reps);
  for (auto& w : work) bench::calibrate(w, 0.6);
  for (int r = 0; r < reps; ++r) {
    for (auto& w : work) bench::measure_once(w, "default", false);
    std::fprintf(stderr, "rep %d/%d\n", r + 1, reps);
  }
  double peak = 0;
  for (double x : work[0].rates["default"]) peak = std::max(peak, x);
  std::printf("fp32 GEMM 2048^3 peak (best sample): %.1f GFLOP/s\n\n", peak);
  std::printf("%-28s %12s %8s %16s\n", "architecture", "train tok/s", "MFU", "generate new/s");
  for (const auto& row : rows) {
    const auto& t = work[row.train];
    const auto& g = work[row.gen];
    const double tok = t.rate("default");
    const double mfu = 100.0 * tok / t.work_per_call * row.model_gflop / peak;
    std::printf("%-28s %12.0f %7.1f%% %16.0f\n", row.label.c_str(), tok, mfu, g.rate("default"));
  }
  return 0;
} catch (const std::exception& e) {
  std::cerr << "bench_archs: " << e.what() << "\n";
  return 2;
}
