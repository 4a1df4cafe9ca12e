// Checkpoint loading: how fast an HF checkpoint folder loads from the page cache (GB/s of file)
// and how much memory loading holds at its peak against the checkpoint's own size. Not a test.
//
//   bench_checkpoint [--shape 70m|410m|1b] [--reps N] [--dir SCRATCH]
//
// Writes a randomly initialised pythia model of the shape as three HF folders (fp32 in one file,
// bf16 in one file, fp32 in 3 shards with an index), then loads each N times, every load in a
// fresh child process (`--load DIR`) so that its peak RSS (VmHWM) is its own. The files are read
// once before each load so they come from the page cache. Prints medians.
#include <ATen/ATen.h>
#include <sys/wait.h>
#include <unistd.h>

#include <algorithm>
#include <chrono>
#include <cstdio>
#include <filesystem>
#include <fstream>
#include <iostream>
#include <sstream>
#include <string>
#include <vector>

#include "environment.hpp"
#include "imlsdk/checkpoint.hpp"
#include "imlsdk/model.hpp"
#include "imlsdk/safetensors.hpp"
#include "plugin_registry.hpp"

namespace fs = std::filesystem;
using imlsdk::Json;

namespace {

// kB from /proc/self/status ("VmHWM", "VmRSS").
int64_t status_kb(const std::string& key) {
  std::ifstream in("/proc/self/status");
  std::string line;
  while (std::getline(in, line))
    if (line.rfind(key + ":", 0) == 0) return std::stoll(line.substr(key.size() + 1));
  return -1;
}

Json params_for(const imlsdk::Plugin& plugin, const Json& overrides) {
  Json p = Json::object();
  for (const auto& spec : plugin.params())
    if (!spec.default_value.is_null()) p[spec.key] = spec.default_value;
  for (const auto& item : overrides.items()) p[item.key()] = item.value();
  return p;
}

Json shape_of(const std::string& name) {
  // Pythia's shapes (EleutherAI configs).
  if (name == "70m")
    return {{"hidden_size", 512}, {"num_layers", 6}, {"num_heads", 8}, {"intermediate_size", 2048}, {"vocab_size", 50304}};
  if (name == "410m")
    return {{"hidden_size", 1024}, {"num_layers", 24}, {"num_heads", 16}, {"intermediate_size", 4096}, {"vocab_size", 50304}};
  if (name == "1b")
    return {{"hidden_size", 2048}, {"num_layers", 16}, {"num_heads", 8}, {"intermediate_size", 8192}, {"vocab_size", 50304}};
  throw std::invalid_argument("--shape takes 70m, 410m or 1b");
}

uint64_t folder_bytes(const fs::path& dir) {
  uint64_t n = 0;
  for (const auto& e : fs::directory_iterator(dir))
    if (e.path().extension() == ".safetensors") n += fs::file_size(e.path());
  return n;
}

void warm_page_cache(const fs::path& dir) {
  std::vector<char> buf(1 << 22);
  for (const auto& e : fs::directory_iterator(dir)) {
    std::ifstream in(e.path(), std::ios::binary);
    while (in.read(buf.data(), static_cast<std::streamsize>(buf.size())) || in.gcount() > 0) {
    }
  }
}

// Child: load one folder, print "seconds peak_kb base_kb model_bytes".
int load_child(const std::string& dir) {
  imlcore::configure_memory();
  imlcore::PluginRegistry registry;
  const auto pythia = registry.get_as<imlsdk::ModelPlugin>("pythia");
  const int64_t base = status_kb("VmRSS");
  const auto t0 = std::chrono::steady_clock::now();
  auto model = pythia->create(params_for(*pythia, {{"checkpoint", dir}}), imlsdk::ModelContext{});
  const double s = std::chrono::duration<double>(std::chrono::steady_clock::now() - t0).count();
  int64_t bytes = 0;
  for (const auto& p : model->parameters()) bytes += p.numel() * p.element_size();
  std::printf("%.6f %lld %lld %lld\n", s, static_cast<long long>(status_kb("VmHWM")),
              static_cast<long long>(base), static_cast<long long>(bytes));
  return 0;
}

struct Sample {
  double seconds = 0;
  double peak_kb = 0, base_kb = 0, model_bytes = 0;
};

Sample run_child(const std::string& self, const fs::path& dir) {
  warm_page_cache(dir);
  const std::string cmd = "'" + self + "' --load '" + dir.string() + "'";
  FILE* p = ::popen(cmd.c_str(), "r");
  if (!p) throw std::runtime_error("cannot run " + cmd);
  Sample s;
  long long peak = 0, base = 0, bytes = 0;
  const int got = std::fscanf(p, "%lf %lld %lld %lld", &s.seconds, &peak, &base, &bytes);
  if (::pclose(p) != 0 || got != 4) throw std::runtime_error("child failed: " + cmd);
  s.peak_kb = static_cast<double>(peak);
  s.base_kb = static_cast<double>(base);
  s.model_bytes = static_cast<double>(bytes);
  return s;
}

double median(std::vector<double> v) {
  std::sort(v.begin(), v.end());
  return v.size() % 2 ? v[v.size() / 2] : 0.5 * (v[v.size() / 2 - 1] + v[v.size() / 2]);
}

}  // namespace

int main(int argc, char** argv) try {
  std::string shape = "410m", scratch = (fs::temp_directory_path() / "imlbench_checkpoint").string();
  int reps = 3;
  for (int i = 1; i < argc; ++i) {
    const std::string a = argv[i];
    auto next = [&]() -> std::string {
      if (i + 1 >= argc) throw std::invalid_argument(a + " needs a value");
      return argv[++i];
    };
    if (a == "--load") return load_child(next());
    if (a == "--shape") shape = next();
    else if (a == "--reps") reps = std::stoi(next());
    else if (a == "--dir") scratch = next();
    else throw std::invalid_argument("unknown argument '" + a + "'; usage: bench_checkpoint [--shape 70m|410m|1b] [--reps N] [--dir SCRATCH]");
  }
  const std::string self = fs::canonical("/proc/self/exe").string();

  imlcore::configure_memory();
  const fs::path root(scratch);
  fs::remove_all(root);
  {
    imlcore::PluginRegistry registry;
    const auto pythia = registry.get_as<imlsdk::ModelPlugin>("pythia");
    imlsdk::ModelContext ctx;
    at::manual_seed(1);
    auto model = pythia->create(params_for(*pythia, shape_of(shape)), ctx);
    const Json cfg = model->hf_config();
    imlsdk::save_hf_checkpoint(*model, cfg, (root / "fp32").string());
    // bf16: the same tensors rounded, as HF's torch_dtype=bfloat16 checkpoints hold them.
    std::map<std::string, at::Tensor> half;
    for (const auto& p : model->named_parameters()) half[p.key()] = p.value().detach().to(at::kBFloat16);
    fs::create_directories(root / "bf16");
    imlsdk::write_safetensors((root / "bf16" / "model.safetensors").string(), half);
    Json bcfg = cfg;
    bcfg["torch_dtype"] = "bfloat16";
    std::ofstream(root / "bf16" / "config.json") << bcfg.dump(2);
    // 3 shards + index, as save_pretrained(max_shard_size=...) writes them.
    fs::create_directories(root / "sharded");
    std::vector<std::map<std::string, at::Tensor>> shards(3);
    Json index = {{"metadata", Json::object()}, {"weight_map", Json::object()}};
    size_t k = 0;
    for (const auto& p : model->named_parameters()) {
      const size_t s = (k++ * 3) / model->named_parameters().size();
      shards[s][p.key()] = p.value().detach();
      index["weight_map"][p.key()] = "model-0000" + std::to_string(s + 1) + "-of-00003.safetensors";
    }
    for (size_t s = 0; s < 3; ++s)
      imlsdk::write_safetensors((root / "sharded" / ("model-0000" + std::to_string(s + 1) + "-of-00003.safetensors")).string(), shards[s]);
    std::ofstream(root / "sharded" / "model.safetensors.index.json") << index.dump(2);
    std::ofstream(root / "sharded" / "config.json") << cfg.dump(2);
  }

  std::cout << "checkpoint load, pythia-" << shape << " shape, " << reps
            << " loads each in fresh processes from the page cache (medians)\n";
  std::cout << "folder    file GB  model GB  load s   GB/s (file)  peak RSS - base, GB  peak / model\n";
  for (const char* name : {"fp32", "bf16", "sharded"}) {
    const fs::path dir = root / name;
    std::vector<double> secs, extra;
    double model_bytes = 0;
    for (int r = 0; r < reps; ++r) {
      const Sample s = run_child(self, dir);
      secs.push_back(s.seconds);
      extra.push_back((s.peak_kb - s.base_kb) * 1024.0);
      model_bytes = s.model_bytes;
    }
    const double file = static_cast<double>(folder_bytes(dir));
    const double t = median(secs), peak = median(extra);
    std::printf("%-8s  %7.3f  %8.3f  %6.3f  %11.2f  %19.3f  %12.2f\n", name, file / 1e9,
                model_bytes / 1e9, t, file / 1e9 / t, peak / 1e9, peak / model_bytes);
  }
  std::cout << "peak / model = 1.0 means loading held one copy of the model (no second copy of the file).\n";
  fs::remove_all(root);
  return 0;
} catch (const std::exception& e) {
  std::cerr << "bench_checkpoint: " << e.what() << "\n";
  return 2;
}
