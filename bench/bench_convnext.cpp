// ConvNeXt V2 training benchmark (prints figures; not a test): images/s and model-FLOP
// utilisation of the convnext_v2 plugin's training step, against the fp32 GEMM peak measured in
// the same process (as bench_throughput does). Every figure is a median over repetitions.
//
//   bench_convnext [--reps N] [--quick] [--torch-threads N] [--profile] [--only NAME]
//
// Threads: as imlhost, imlcore::configure_threads(0) (LibTorch/OpenMP 1 thread, OpenBLAS all
// cores on 2 cores); oneDNN's convolutions run on LibTorch's threads, so --torch-threads N
// measures them with more.
//
// The step is the host trainer's: forward (train mode) -> cross-entropy over the K outputs
// (imlsdk::token_cross_entropy, as the image_classification task) -> backward -> loss.item() ->
// clip_grad_norm(1.0) -> adamw step (weight decay 0.05) -> drop the gradients.
//
// Model FLOPs per image = 3 x the forward FLOPs of the convolutions and linear layers counted from
// their shapes (2 x multiply-adds; norms, GELU, GRN and the residual adds are not counted), so
// MFU = images/s x FLOPs per image / GEMM peak.
#include <ATen/ATen.h>
#include <ATen/Parallel.h>
#include <torch/version.h>

#include <unistd.h>

#include <algorithm>
#include <chrono>
#include <cmath>
#include <cstdio>
#include <fstream>
#include <stdexcept>
#include <string>
#include <vector>

#include "environment.hpp"
#include "op_profile.hpp"
#include "imlsdk/model.hpp"
#include "imlsdk/optimizer.hpp"
#include "plugin_registry.hpp"

namespace {

using Clock = std::chrono::steady_clock;
using imlsdk::Json;

struct Shape {
  std::string name, source;
  int64_t channels, patch;
  std::vector<int64_t> hidden, depths;
  int64_t height, width, outputs, labels, batch;

  Json params() const {
    return {{"num_channels", channels}, {"patch_size", patch}, {"hidden_sizes", hidden}, {"depths", depths},
            {"image_size", height}, {"outputs", outputs}, {"num_labels", labels}};
  }
  // Forward FLOPs of one image: 2 x multiply-adds of every conv and linear layer.
  double forward_flops() const {
    int64_t h = height / patch, w = width / patch;
    double f = 2.0 * channels * patch * patch * hidden[0] * h * w;
    for (size_t s = 0; s < hidden.size(); ++s) {
      const double c = static_cast<double>(hidden[s]);
      if (s > 0) {
        h /= 2;
        w /= 2;
        f += 2.0 * hidden[s - 1] * 4 * c * h * w;  // downsampling conv 2x2/2
      }
      // depthwise 7x7, pwconv1 C -> 4C, pwconv2 4C -> C
      f += static_cast<double>(depths[s]) * (2.0 * 49 * c + 2.0 * 2 * 4 * c * c) * h * w;
    }
    return f + 2.0 * hidden.back() * outputs * labels;
  }
  std::string describe() const {
    std::string hs, ds;
    for (size_t i = 0; i < hidden.size(); ++i) {
      hs += (i ? "," : "") + std::to_string(hidden[i]);
      ds += (i ? "," : "") + std::to_string(depths[i]);
    }
    return "C=" + std::to_string(channels) + " " + std::to_string(height) + "x" + std::to_string(width) +
           " patch " + std::to_string(patch) + " hidden [" + hs + "] depths [" + ds + "] K=" +
           std::to_string(outputs) + " labels " + std::to_string(labels) + " B=" + std::to_string(batch);
  }
};

double median(std::vector<double> v) {
  std::sort(v.begin(), v.end());
  const size_t n = v.size();
  return n % 2 ? v[n / 2] : 0.5 * (v[n / 2 - 1] + v[n / 2]);
}

double load_average() {
  std::ifstream in("/proc/loadavg");
  double one = std::nan("");
  in >> one;
  return one;
}

Json with_defaults(const imlsdk::Plugin& p, Json overrides) {
  Json out = Json::object();
  for (const auto& spec : p.params())
    if (!spec.default_value.is_null()) out[spec.key] = spec.default_value;
  for (auto it = overrides.begin(); it != overrides.end(); ++it) out[it.key()] = it.value();
  return out;
}

struct Rig {
  std::shared_ptr<imlsdk::Model> model;
  std::unique_ptr<imlsdk::Optimizer> optimizer;
  std::vector<at::Tensor> params;
  imlsdk::ModelInput input;
  at::Tensor labels;

  Rig(const imlsdk::ModelPlugin& mp, const imlsdk::OptimizerPlugin& op, const Shape& s) {
    at::manual_seed(0);
    model = mp.create(with_defaults(mp, s.params()), imlsdk::ModelContext{});
    model->train();
    imlsdk::NamedTensors named;
    for (auto& kv : model->named_parameters()) {
      named.emplace_back(kv.key(), kv.value());
      params.push_back(kv.value());
    }
    optimizer = op.create(with_defaults(op, {{"weight_decay", 0.05}}), named);
    input.pixel_values = at::randn({s.batch, s.channels, s.height, s.width});
    labels = at::randint(s.labels, {s.batch, s.outputs}, at::kLong);
  }
  void step() {
    const at::Tensor logits = model->forward(input).logits.reshape({labels.size(0), labels.size(1), -1});
    at::Tensor loss = imlsdk::token_cross_entropy(logits, labels);
    loss.backward();
    (void)loss.item<double>();
    imlsdk::clip_grad_norm(params, 1.0, 2.0);
    optimizer->step(1e-4);
    for (auto& p : params) p.mutable_grad().reset();
  }
};

// Seconds per call: calls_per_rep calls, timed together, `reps` times; the median.
template <typename F>
std::vector<double> time_calls(F&& f, int reps, double min_seconds) {
  f();  // warm-up
  auto t0 = Clock::now();
  f();
  const double once = std::chrono::duration<double>(Clock::now() - t0).count();
  const int calls = std::max(1, static_cast<int>(std::ceil(min_seconds / std::max(once, 1e-6))));
  std::vector<double> out;
  for (int r = 0; r < reps; ++r) {
    t0 = Clock::now();
    for (int i = 0; i < calls; ++i) f();
    out.push_back(std::chrono::duration<double>(Clock::now() - t0).count() / calls);
  }
  return out;
}

}  // namespace

int main(int argc, char** argv) try {
  int reps = 5, torch_threads = 0;
  bool quick = false, profile = false;
  std::string only;
  for (int i = 1; i < argc; ++i) {
    const std::string a = argv[i];
    if (a == "--reps" && i + 1 < argc) {
      reps = std::stoi(argv[++i]);
      if (reps < 1) throw std::invalid_argument("--reps must be >= 1");
    } else if (a == "--quick") {
      quick = true;
      reps = 1;
    } else if (a == "--profile") {
      profile = true;
    } else if (a == "--torch-threads" && i + 1 < argc) {
      torch_threads = std::stoi(argv[++i]);
      if (torch_threads < 1) throw std::invalid_argument("--torch-threads must be >= 1");
    } else if (a == "--only" && i + 1 < argc) {
      only = argv[++i];
    } else {
      throw std::invalid_argument("usage: bench_convnext [--reps N] [--quick] [--torch-threads N] [--profile] [--only tiny-grid|tiny-224|cpu-grid]");
    }
  }
  imlcore::configure_memory();
  std::setvbuf(stdout, nullptr, _IOLBF, 0);
  std::string threads = imlcore::configure_threads(0);  // as imlhost sets itself up
  if (torch_threads > 0) {
    at::set_num_threads(torch_threads);
    threads += "; then LibTorch threads " + std::to_string(torch_threads) + " (--torch-threads)";
  }
  const long cores = std::max<long>(1, ::sysconf(_SC_NPROCESSORS_ONLN));
  const double load_start = load_average();
  std::printf("bench_convnext: LibTorch %s, %ld cores, load average %.2f at start; %s; reps %d\n", TORCH_VERSION,
              cores, load_start, threads.c_str(), reps);

  // GEMM peak: the best rep of a 2048^3 fp32 at::mm (a median would let one slow rep on a shared
  // machine understate the peak and overstate every MFU).
  at::manual_seed(0);
  const int64_t n = quick ? 1024 : 2048;
  at::Tensor a = at::randn({n, n}), b = at::randn({n, n}), c = at::empty({n, n});
  const auto gemm = time_calls([&] { at::mm_out(c, a, b); }, std::max(reps, 3), 1.0);
  const double peak = 2.0 * n * n * n / *std::min_element(gemm.begin(), gemm.end()) / 1e9;
  std::printf("GEMM fp32 %ld^3: peak (best rep) %.1f GFLOP/s, median %.1f GFLOP/s\n\n", static_cast<long>(n), peak,
              2.0 * n * n * n / median(gemm) / 1e9);

  const std::vector<Shape> shapes = {
      // configs/mnist_grid.yaml's picture: a 2x2 grid of 28-px digits under a 2-px tag row,
      // 1 channel, 4 outputs of 11 classes (the paper's own grid size is lost in its text).
      {"tiny-grid", "Tiny, mnist_grid.yaml picture", 1, 4, {96, 192, 384, 768}, {3, 3, 9, 3}, 58, 56, 4, 11, 32},
      // The ImageNet resolution ConvNeXt V2 Tiny is defined at (reference point).
      {"tiny-224", "Tiny, ImageNet 224x224", 3, 4, {96, 192, 384, 768}, {3, 3, 9, 3}, 224, 224, 1, 1000, 8},
      // configs/mnist_grid_cpu.yaml's model and picture (2x2 grid of 14-px digits + tag row).
      {"cpu-grid", "mnist_grid_cpu.yaml", 1, 2, {32, 64, 128}, {1, 1, 2}, 30, 28, 4, 11, 64},
  };

  imlcore::PluginRegistry registry;
  const auto convnext = registry.get_as<imlsdk::ModelPlugin>("convnext_v2");
  const auto adamw = registry.get_as<imlsdk::OptimizerPlugin>("adamw");
  std::printf("%-10s %-62s %8s %12s %10s %8s %s\n", "shape", "", "params", "GFLOP/img", "img/s", "MFU",
              "step s (median; all reps)");
  for (const Shape& s : shapes) {
    if (!only.empty() && only != s.name) continue;
    Rig rig(*convnext, *adamw, s);
    int64_t params = 0;
    for (const auto& p : rig.params) params += p.numel();
    const double train_gflop = 3.0 * s.forward_flops() / 1e9;
    if (profile) {
      rig.step();  // warm-up
      std::printf("== profile: %s (%s), one step ==\n%s\n", s.name.c_str(), s.describe().c_str(),
                  bench::profile_ops([&] { rig.step(); }, 15).c_str());
      continue;
    }
    const auto t = time_calls([&] { rig.step(); }, reps, quick ? 0.5 : 2.0);
    const double ips = s.batch / median(t);
    std::string all;
    for (double x : t) all += (all.empty() ? "" : " ") + std::to_string(x).substr(0, 6);
    std::printf("%-10s %-62s %7.2fM %12.3f %10.2f %7.1f%% %.3f (%s)\n", s.name.c_str(), s.describe().c_str(),
                params / 1e6, train_gflop, ips, 100.0 * ips * train_gflop / peak, median(t), all.c_str());
  }
  std::printf("\nload average %.2f at end (shared machine: other processes compete for the cores)\n", load_average());
  return 0;
} catch (const std::exception& e) {
  std::fprintf(stderr, "bench_convnext: %s\n", e.what());
  return 2;
}
