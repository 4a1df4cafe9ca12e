// The experiment recipe, top to bottom: build data -> build model -> for each stage: train,
// evaluate -> aggregate across seeds -> report.
#pragma once
#include <string>

#include "config.hpp"
#include "plugin_registry.hpp"

namespace imlcore {

// Runs every seed of the experiment; writes results/<experiment>/<seed>/{config.json,
// manifest.json, metrics.jsonl} and results/<experiment>/summary.{json,md}; prints the table.
void run_experiment(const Config& cfg, const PluginRegistry& registry);

// Checks what only the plugins can check (parameter values, data files, checkpoints) by building
// the first seed's data, the model, the optimizer and the analyses, without training or writing.
void preflight(const Config& cfg, const PluginRegistry& registry);

// Writes every generated train and eval set of every stage as JSONL, without training.
void write_data(const Config& cfg, const PluginRegistry& registry, const std::string& out_dir);

// BLAS threads and LibTorch's own threads (0 = every core); returns what was set, as text for
// the manifest. LibTorch's OpenMP team and OpenBLAS's pthread pool both spin while waiting; on
// few cores two busy pools slow each other down badly (bench/README.md), so the default gives
// LibTorch one thread and the GEMMs, where the FLOPs are, every core.
std::string configure_threads(int64_t blas_threads, int64_t torch_threads = 1);

// Keeps freed activation buffers (hundreds of MB at the 70M shape) in the heap instead of
// returning them to the kernel and faulting them in again every step (glibc mallopt).
// imlhost and bench_throughput call it first thing, so both run the step the same way.
void configure_memory();

}  // namespace imlcore
