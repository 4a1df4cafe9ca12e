// `imlhost data`: every generated train and eval set of every seed, as JSONL, without training.
#include <cstdio>
#include <map>

#include "components.hpp"
#include "experiment.hpp"
#include "results.hpp"

namespace imlcore {

namespace {

Json example_json(const imlsdk::Example& e) {
  Json j = Json::object();
  j["text"] = e.text;
  j["prompt"] = e.prompt;
  j["answer"] = e.answer;
  j["subset"] = e.subset;
  if (!e.kind.empty()) j["kind"] = e.kind;
  if (!e.entity.empty()) j["entity"] = e.entity;
  if (!e.variable.empty()) j["variable"] = e.variable;
  for (const auto& [name, values] : e.features) j["features"][name] = values;
  return j;
}

std::string jsonl(const std::vector<imlsdk::Example>& xs) {
  std::string s;
  for (const auto& e : xs) s += example_json(e).dump() + "\n";
  return s;
}

}  // namespace

void write_data(const Config& cfg, const PluginRegistry& reg, const std::string& out_dir) {
  const Plugins p = resolve_plugins(cfg, reg);
  const auto data = load_dataset(cfg, p);
  // Generate everything first, write afterwards: a refused input leaves nothing behind.
  std::map<std::string, std::string> files;
  for (uint64_t seed : cfg.experiment.seeds)
    for (uint64_t s2 : cfg.experiment.stage2_seeds) {
      SeedData d = split_for_seed(cfg, p, *data, seed, s2);
      const std::string dir = out_dir + "/" + std::to_string(seed) + "/" + std::to_string(s2);
      for (const auto& st : cfg.stages)
        files[dir + "/train_" + st.name + ".jsonl"] = jsonl(d.split.train.at(st.train_subset));
      for (const auto& e : d.split.evals) files[dir + "/eval_" + e.name + ".jsonl"] = jsonl(e.examples);
      files[dir + "/info.json"] = d.split.info.dump(2) + "\n";
    }
  for (const auto& kv : files) write_file_atomic(kv.first, kv.second);
  std::fprintf(stdout, "wrote %zu files under %s\n", files.size(), out_dir.c_str());
}

}  // namespace imlcore
