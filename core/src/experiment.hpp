// The experiment recipe and the other commands that build an experiment from its config.
#pragma once
#include <string>

#include "config.hpp"
#include "plugin_registry.hpp"

namespace imlcore {

// Runs every seed of the experiment (experiment.cpp, top to bottom); writes
// results/<experiment>/<seed>/{config.json, manifest.json, metrics.jsonl} and
// results/<experiment>/summary.{json,md}; prints the table.
void run_experiment(const Config& cfg, const PluginRegistry& registry);

// `imlhost validate`: builds everything the run would build, trains and writes nothing.
void validate_experiment(const Config& cfg, const PluginRegistry& registry);

// `imlhost data`: writes every generated train and eval set of every seed as JSONL.
void write_data(const Config& cfg, const PluginRegistry& registry, const std::string& out_dir);

}  // namespace imlcore
