// Throughput benchmark: fp32 GEMM peak, training and greedy-generation throughput of the pythia
// plugin, model-FLOP utilisation, the same workloads run by Hugging Face Transformers 4.33 (the
// peer, ../shared/peers/hf_bench.sh) in the same run with PASS/MISS per target, and a study of
// LibTorch (OpenMP) vs OpenBLAS thread counts, all in one process. Every figure is a median over
// repetitions; each repetition measures a workload under every thread set-up and then runs its
// peer, so that background load hits imlhost and the peer alike. See README.md.
//
//   bench_throughput [--quick] [--reps N] [--only train|generate|gemm] [--no-study]
//                    [--threads T/B[/sS]] [--no-gemm] [--no-peer] [--peer-steps N] [--json FILE]
//                    [--profile] [--env-study] [--env-variants LIST]
#include <ATen/ATen.h>
#include <torch/version.h>

#include <unistd.h>

#include <algorithm>
#include <chrono>
#include <cmath>
#include <cstdio>
#include <cstdlib>
#include <fstream>
#include <stdexcept>
#include <string>
#include <vector>

#include "env_study.hpp"
#include "op_profile.hpp"
#include "peer.hpp"
#include "plugin_registry.hpp"
#include "report.hpp"
#include "environment.hpp"
#include "imlsdk/parallel.hpp"
#include "threads.hpp"
#include "workloads.hpp"

namespace {

using bench::ThreadSetup;
using bench::Workload;
using Clock = std::chrono::steady_clock;

constexpr const char* kUsage =
    "usage: bench_throughput [--quick] [--reps N] [--only train|generate|gemm] [--no-study]\n"
    "                        [--threads T/B[/sS]] [--no-gemm] [--no-peer] [--peer-steps N] [--json FILE]\n"
    "                        [--profile] [--env-study] [--env-variants LIST] [--gemm auto|blas]\n";

// The shapes of the training and generation workloads (imlhost's and the peer's).
constexpr int64_t kBatch = 32, kSeq = 48, kPrompts = 64, kPromptLen = 20, kNewTokens = 8;

struct Options {
  bool quick = false, study = true, gemm = true, profile = false, env_study = false, peer = true;
  int reps = 3;
  int peer_steps = 5;  // measured steps per peer invocation at 70M (after 2 warm-up steps)
  std::string only, json, env_variants;
  bool blas_gemm = false;  // --gemm blas: the fp32 GEMMs on the BLAS even where oneDNN has AVX-512 kernels
  ThreadSetup threads{0, 0};  // --threads T/B; 0/0 = what configure_threads(0) sets
};

Options parse_args(int argc, char** argv) {
  Options o;
  bool reps_given = false;
  for (int i = 1; i < argc; ++i) {
    const std::string a = argv[i];
    auto value = [&]() -> std::string {
      if (i + 1 >= argc) throw std::invalid_argument(a + " needs a value");
      return argv[++i];
    };
    if (a == "--quick") {
      o.quick = true;
    } else if (a == "--reps") {
      o.reps = std::stoi(value());
      reps_given = true;
      if (o.reps < 1) throw std::invalid_argument("--reps must be >= 1");
    } else if (a == "--only") {
      o.only = value();
      if (o.only != "train" && o.only != "generate" && o.only != "gemm")
        throw std::invalid_argument("--only takes train, generate or gemm");
    } else if (a == "--no-study") {
      o.study = false;
    } else if (a == "--threads") {
      const std::string v = value();
      o.threads.streams = 1;
      if (std::sscanf(v.c_str(), "%d/%d/s%d", &o.threads.torch, &o.threads.blas, &o.threads.streams) < 2 ||
          o.threads.torch < 1 || o.threads.blas < 1 || o.threads.streams < 1)
        throw std::invalid_argument("--threads takes T/B or T/B/sS, e.g. 1/2 or 1/2/s2 (LibTorch/OpenBLAS threads, batch parts side by side)");
    } else if (a == "--no-gemm") {
      o.gemm = false;
    } else if (a == "--no-peer") {
      o.peer = false;
    } else if (a == "--peer-steps") {
      o.peer_steps = std::stoi(value());
      if (o.peer_steps < 1) throw std::invalid_argument("--peer-steps must be >= 1");
    } else if (a == "--env-study") {
      o.env_study = true;
    } else if (a == "--env-variants") {
      o.env_variants = value();
      o.env_study = true;
    } else if (a == "--gemm") {
      const std::string v = value();
      if (v != "auto" && v != "blas") throw std::invalid_argument("--gemm takes auto or blas");
      o.blas_gemm = v == "blas";
    } else if (a == "--profile") {
      o.profile = true;
    } else if (a == "--json") {
      o.json = value();
    } else if (a == "--help" || a == "-h") {
      std::printf("%s", kUsage);
      std::exit(0);
    } else {
      throw std::invalid_argument("unknown argument '" + a + "' (see --help)");
    }
  }
  if (o.quick) {
    o.study = false;
    if (!reps_given) o.reps = 1;
  }
  return o;
}

double load_average() {
  std::ifstream in("/proc/loadavg");
  double one = std::nan("");
  in >> one;
  return one;
}

// The same selection in child processes under each environment variant (no GEMM peak, no peer;
// the repetitions split over 2 rounds).
int run_env_study(const Options& opt) {
  std::vector<std::string> args = {"--no-gemm", "--no-peer", "--reps",
                                   std::to_string(std::max(1, opt.reps / 2))};
  if (!opt.only.empty()) args.insert(args.end(), {"--only", opt.only});
  if (opt.quick) args.push_back("--quick");
  if (!opt.study) args.push_back("--no-study");
  if (opt.threads.torch > 0)
    args.insert(args.end(), {"--threads", opt.threads.label()});
  bench::run_env_study("/proc/self/exe", args, 2, opt.env_variants);
  return 0;
}

// The peer's small-shape training workloads (V134 and V2100).
bool small_reference_shape(const bench::Workload& w) {
  return w.id == "train_hf-small-v134" || w.id == "train_hf-small-v2100";
}

// How many steps (generations) the peer measures per invocation of `w`; imlhost's repetitions
// make at least as many calls.
int peer_steps_of(const bench::Workload& w, const Options& opt) {
  if (w.kind == "generate") return 3;
  if (small_reference_shape(w)) return opt.quick ? 3 : 20;
  return opt.peer_steps;
}

// The peer's invocation for each workload that has one (same shapes as imlhost's). Under --quick
// only the small shape at V134, with 3 steps: a smoke test of the plumbing, not a figure.
bench::Peer make_peer(const Options& opt, const std::vector<Workload>& work) {
  bench::Peer peer;
  if (!opt.peer) {
    peer.status = "peer: not run (--no-peer); imlhost only";
    return peer;
  }
  std::string why;
  peer.script = bench::find_peer_script(BENCH_SOURCE_DIR, &why);
  if (peer.script.empty()) {
    peer.status = "peer: " + why + "; imlhost only";
    return peer;
  }
  const auto n = [](int64_t v) { return std::to_string(v); };
  // adafactor_trainer = Adafactor as HF Trainer builds it (external lr, no parameter scaling, no
  // relative step): the adafactor plugin's defaults, so both sides do the same optimizer work.
  const std::vector<std::string> train = {"train", "--batch", n(kBatch), "--seq", n(kSeq),
                                          "--optim", "adafactor_trainer"};
  for (const auto& w : work) {
    bench::PeerWorkload p;
    p.workload_id = w.id;
    p.flop_params = w.flop_params;
    if (w.id == "train_70M") {
      p.args = train;
      p.args.insert(p.args.end(), {"--config", "pythia70m", "--steps", n(peer_steps_of(w, opt)),
                                   "--warmup", "2"});
    } else if (small_reference_shape(w)) {
      p.args = train;
      p.args.insert(p.args.end(), {"--config", "small", "--vocab",
                                   w.id == "train_hf-small-v134" ? "134" : "2100"});
      p.args.insert(p.args.end(), {"--steps", n(peer_steps_of(w, opt)), "--warmup", opt.quick ? "1" : "3"});
    } else if (w.id == "generate_70M") {
      p.args = {"gen", "--config", "pythia70m", "--batch", n(kPrompts), "--prompt-len",
                n(kPromptLen), "--new-tokens", n(kNewTokens), "--reps", n(peer_steps_of(w, opt)), "--warmup", "1"};
    } else {
      continue;
    }
    p.rate_key = w.kind == "train" ? "tokens_per_s" : "new_tokens_per_s";
    p.expect = w.kind == "train"
                   ? nlohmann::json{{"batch", kBatch}, {"seq", kSeq}, {"optim", "adafactor_trainer"},
                                    {"clip_grad_norm", 1.0}}
                   : nlohmann::json{{"batch", kPrompts}, {"prompt_len", kPromptLen},
                                    {"new_tokens", kNewTokens}};
    if (opt.quick && w.id != "train_hf-small-v134") p.skipped = "--quick";
    peer.workloads.push_back(p);
  }
  int runs = 0;
  for (const auto& p : peer.workloads) runs += p.skipped.empty();
  peer.status = "peer: HF Transformers 4.33 via " + peer.script + ", " + std::to_string(runs) +
                " invocation(s) per repetition" + (opt.quick ? " (--quick: small shape V134 only)" : "");
  return peer;
}

}  // namespace

int main(int argc, char** argv) try {
  const Options opt = parse_args(argc, argv);
  imlcore::configure_memory();  // as imlhost does: the step's buffers stay in the heap
  std::setvbuf(stdout, nullptr, _IOLBF, 0);  // progress shows up when piped
  if (opt.env_study) return run_env_study(opt);

  const auto t_start = Clock::now();
  bench::RunInfo info;
  info.reps = opt.reps;
  info.load_start = load_average();
  info.cores = static_cast<int>(std::max<long>(1, ::sysconf(_SC_NPROCESSORS_ONLN)));

  // The reference set-up is what imlhost runs with: configure_threads(0), unless --threads.
  info.configure_threads = imlcore::configure_threads(0);
  info.allocator = imlcore::configure_memory();  // its line: whose malloc, which pages
  imlsdk::use_onednn_gemm(!opt.blas_gemm);
  info.gemm_backend = imlsdk::gemm_backend();
  const bench::Blas blas;
  // imlhost's default experiment.streams on the CPU: 2 (batches in 2 parts side by side).
  const ThreadSetup host{at::get_num_threads(), blas.get_threads ? blas.get_threads() : info.cores, 2};
  std::vector<ThreadSetup> setups = {opt.threads.torch > 0 ? opt.threads : host};
  if (opt.study && opt.threads.torch == 0) {
    const int n = info.cores;
    for (ThreadSetup s : {ThreadSetup{1, n, 1}, ThreadSetup{n, n}, ThreadSetup{n, 1}, ThreadSetup{1, 1}})
      if (std::none_of(setups.begin(), setups.end(),
                       [&](const ThreadSetup& t) { return t.label() == s.label(); }))
        setups.push_back(s);
  }
  const std::string def = setups[0].label();

  std::printf("bench_throughput: LibTorch %s, %d cores, load average %.2f at start\n",
              TORCH_VERSION, info.cores, info.load_start);
  std::printf("configure_threads(0): %s; sgemm_ from %s; openblas_set_num_threads from %s\n",
              info.configure_threads.c_str(), blas.gemm_library.c_str(), blas.setter_library.c_str());
  std::printf("allocator: %s\n", info.allocator.c_str());
  std::printf("fp32 GEMMs (sgemm_): %s\n", info.gemm_backend.c_str());
  std::printf("reps %d%s; set-ups:", opt.reps, opt.quick ? " (quick)" : "");
  for (const auto& s : setups) std::printf(" %s", s.label().c_str());
  std::printf("  (tN = LibTorch/OpenMP threads, bN = OpenBLAS threads)\n\n");

  const bool want_gemm = opt.gemm && (opt.only.empty() || opt.only == "gemm" || opt.only == "train");
  const bool want_train = opt.only.empty() || opt.only == "train";
  const bool want_gen = opt.only.empty() || opt.only == "generate";

  // The registry keeps the plugin libraries loaded, so it must outlive every model: declared first.
  imlcore::PluginRegistry registry;
  std::vector<Workload> work;

  // 1. GEMM peak (--only train: one size, for MFU).
  if (want_gemm) {
    const std::vector<int64_t> sizes = opt.quick                ? std::vector<int64_t>{1024}
                                       : opt.only == "train" ? std::vector<int64_t>{2048}
                                                             : std::vector<int64_t>{1024, 2048, 4096};
    for (int64_t n : sizes) work.push_back(bench::gemm_workload(n));
  }
  // 2. Training (B=32, T=48) and 3. generation (64 prompts x 20 tokens, 8 new).
  if (want_train || want_gen) {
    const auto pythia = registry.get_as<imlsdk::ModelPlugin>("pythia");
    std::shared_ptr<imlsdk::OptimizerPlugin> adafactor;
    bool scaled_step = false;  // as the trainer decides it (core/src/experiment.cpp)
    if (want_train) {
      adafactor = registry.get_as<imlsdk::OptimizerPlugin>("adafactor");
      scaled_step = imlcore::sdk_at_least(registry.get(imlsdk::Kind::Optimizer, "adafactor"), 2, 9);
    }
    std::printf("shapes:\n");
    for (const auto& s : {bench::pythia_70m(), bench::cpu_default(BENCH_SOURCE_DIR),
                          bench::hf_small(), bench::hf_small_v2100(),
                          bench::hf_small_v134()}) {
      const bool small_reference = s.name.rfind("hf-small", 0) == 0;  // training shapes only
      if (!want_train && small_reference) continue;
      auto model = bench::build_model(*pythia, s);
      std::printf("  %-15s %s  flop_params %.2fM  [%s]\n", s.name.c_str(), s.describe().c_str(),
                  model->info().flop_params / 1e6, s.source.c_str());
      if (want_train)
        work.push_back(bench::train_workload(s.name, model, *adafactor, scaled_step, kBatch, kSeq));
      if (want_gen && !small_reference)
        work.push_back(bench::generate_workload(s, model, kPrompts, kPromptLen, kNewTokens));
    }
    std::printf("\n");
  }

  if (opt.profile) {
    for (const auto& s : setups) {
      s.apply(blas);
      for (auto& w : work) {
        if (w.kind == "gemm") continue;
        // Two warm-up calls: the first touches fresh memory (page faults), the second settles
        // the allocator's free lists, so that the profiled call is a steady-state one.
        w.call();
        w.call();
        std::printf("== profile: %s, set-up %s ==\n%s\n", w.label.c_str(), s.label().c_str(),
                    bench::profile_ops(w.call, 25).c_str());
      }
    }
    return 0;
  }

  bench::Peer peer = make_peer(opt, work);
  std::printf("%s\n\n", peer.status.c_str());

  // Calibrate under the reference set-up. Each repetition then takes the workloads in turn: one
  // sample under every set-up, then the peer's invocation for that workload (same shapes).
  setups[0].apply(blas);
  // At least as many calls per repetition as the peer measures steps per invocation, so that
  // both sides report the median of as many steps (one 70M step alone is a noisy sample).
  for (auto& w : work)
    bench::calibrate(w, opt.quick ? 0.2 : 0.6, opt.quick || w.kind == "gemm" ? 1 : peer_steps_of(w, opt));
  bool peer_ran = false;
  for (int rep = 0; rep < opt.reps; ++rep) {
    for (auto& w : work) {
      // After a peer invocation (which warms up in its own process before it measures), one
      // untimed call here too, as the peer does. (The first step after the peer's run used to
      // be up to 2x slower: the peer was started by fork(), which left every page of this
      // process copy-on-write; peer.cpp now uses posix_spawn.)
      if (peer_ran) {
        setups[0].apply(blas);
        w.call();
      }
      for (const auto& s : setups) {
        s.apply(blas);
        bench::measure_once(w, s.label(), s.label() == def);
      }
      for (auto& p : peer.workloads)
        if (p.workload_id == w.id && p.active()) {
          run_peer_once(peer, p, rep);
          peer_ran = true;
        }
    }
    std::fprintf(stderr, "rep %d/%d done (%.0f s)\n", rep + 1, opt.reps,
                 std::chrono::duration<double>(Clock::now() - t_start).count());
  }
  setups[0].apply(blas);

  info.load_end = load_average();
  info.wall_seconds = std::chrono::duration<double>(Clock::now() - t_start).count();
  bench::print_report(work, setups, info, peer);
  if (!opt.json.empty()) bench::write_json(opt.json, work, setups, info, peer);
  return 0;
} catch (const std::exception& e) {
  std::fprintf(stderr, "bench_throughput: %s\n", e.what());
  return 1;
}
