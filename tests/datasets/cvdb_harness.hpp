// Shared by test_cvdb and its child process cvdb_digest: the cvdb data loaded and split through
// the real plugins (cvdb + random_string tags).
#pragma once
#include <cstdint>
#include <memory>
#include <string>

#include "imlsdk/data.hpp"
#include "qa_protocol_harness.hpp"
#include "test_plugins.hpp"

namespace cvdb_test {

// The plugins stay loaded for the whole process: a Dataset's code lives in the plugin, so the
// plugin objects must outlive their use.
inline const imlsdk::DatasetPlugin& dataset_plugin() {
  static auto p = imltest::load_plugin<imlsdk::DatasetPlugin>("cvdb");
  return *p;
}
inline const imlsdk::TagPlugin& tag_plugin() {
  static auto p = imltest::load_plugin<imlsdk::TagPlugin>("random_string");
  return *p;
}

inline std::unique_ptr<imlsdk::Dataset> load(const imlsdk::Json& overrides,
                                             const std::string& base_dir = "") {
  imlsdk::LoadContext ctx;
  ctx.base_dir = base_dir;
  return dataset_plugin().load(imltest::with_defaults(dataset_plugin(), overrides), ctx);
}

// One seed's split, with that seed's random_string tagger (as the host makes one per run).
inline imlsdk::DataSplit split(const imlsdk::Dataset& data, uint64_t seed = 0,
                               uint64_t seed_stage2 = 0) {
  imlsdk::Rng rng(seed);
  const auto tagger = tag_plugin().create(imltest::with_defaults(tag_plugin()), rng);
  imlsdk::SplitContext ctx;
  ctx.seed = seed;
  ctx.seed_stage2 = seed_stage2;
  ctx.tagger = tagger.get();
  return data.split(ctx);
}

// Load and split in one go.
inline imlsdk::DataSplit generate(const imlsdk::Json& overrides, uint64_t seed = 0,
                                  uint64_t seed_stage2 = 0, const std::string& base_dir = "") {
  return split(*load(overrides, base_dir), seed, seed_stage2);
}

// The configuration both processes hash: the embedded sample with every optional set.
inline imlsdk::DataSplit digest_config_bundle() {
  return generate({{"entity_attribution", true}, {"letters", true}, {"knowledge_stage", true}}, 2, 1);
}

}  // namespace cvdb_test
