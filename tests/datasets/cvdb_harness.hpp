// Shared by test_cvdb and its child process cvdb_digest: the cvdb data generated through the
// real plugins (cvdb + random_string tags).
#pragma once
#include <cstdint>
#include <string>

#include "imlsdk/data.hpp"
#include "qa_protocol_harness.hpp"
#include "test_plugins.hpp"

namespace cvdb_test {

// The plugins stay loaded for the whole process: a bundle's tokenizer lives in the SDK, but
// the plugin objects must outlive their use.
inline const imlsdk::DatasetPlugin& dataset_plugin() {
  static auto p = imltest::load_plugin<imlsdk::DatasetPlugin>("cvdb");
  return *p;
}
inline const imlsdk::TagPlugin& tag_plugin() {
  static auto p = imltest::load_plugin<imlsdk::TagPlugin>("random_string");
  return *p;
}

inline imlsdk::DataBundle generate(const imlsdk::Json& overrides, uint64_t seed = 0,
                                   uint64_t seed_stage2 = 0, const std::string& base_dir = "") {
  imlsdk::Rng rng(seed);
  const auto tagger = tag_plugin().create(imltest::with_defaults(tag_plugin()), rng);
  imlsdk::DataContext ctx;
  ctx.seed = seed;
  ctx.seed_stage2 = seed_stage2;
  ctx.tagger = tagger.get();
  ctx.base_dir = base_dir;
  return dataset_plugin().generate(imltest::with_defaults(dataset_plugin(), overrides), ctx);
}

// The configuration both processes hash: the embedded sample with every optional set.
inline imlsdk::DataBundle digest_config_bundle() {
  return generate({{"entity_attribution", true}, {"letters", true}, {"knowledge_stage", true}}, 2, 1);
}

}  // namespace cvdb_test
