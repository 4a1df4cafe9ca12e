// Shared by test_set_inclusion and its child process set_inclusion_digest: loads and splits the
// set-inclusion data through the real plugins and hashes everything generated.
#pragma once
#include <cstdint>
#include <cstdio>
#include <memory>
#include <string>

#include "imlsdk/data.hpp"
#include "test_plugins.hpp"

namespace set_inclusion_test {

// The plugins stay loaded for the whole process: a Dataset's code and a split's tokenizer live
// in the plugin.
inline const imlsdk::DatasetPlugin& dataset_plugin() {
  static auto p = imltest::load_plugin<imlsdk::DatasetPlugin>("set_inclusion");
  return *p;
}
inline const imlsdk::TagPlugin& tag_plugin() {
  static auto p = imltest::load_plugin<imlsdk::TagPlugin>("random_string");
  return *p;
}

// The reference's tags by default; pass `{}` (an empty object) for random tags.
inline imlsdk::Json reference_tags() {
  return imlsdk::Json{{"names", {"define1", "define2", "define3"}}};
}

inline std::unique_ptr<imlsdk::Tagger> make_tagger(uint64_t seed,
                                                   const imlsdk::Json& tag_params = reference_tags()) {
  imlsdk::Rng rng(seed);
  return tag_plugin().create(imltest::with_defaults(tag_plugin(), tag_params), rng);
}

inline std::unique_ptr<imlsdk::Dataset> load(const imlsdk::Json& overrides) {
  return dataset_plugin().load(imltest::with_defaults(dataset_plugin(), overrides),
                               imlsdk::LoadContext{});
}

// One seed's split, with that seed's tagger (as the host makes one per run).
inline imlsdk::DataSplit split(const imlsdk::Dataset& data, uint64_t seed = 0,
                               uint64_t seed_stage2 = 0,
                               const imlsdk::Json& tag_params = reference_tags()) {
  const auto tagger = make_tagger(seed, tag_params);
  imlsdk::SplitContext ctx;
  ctx.seed = seed;
  ctx.seed_stage2 = seed_stage2;
  ctx.tagger = tagger.get();
  return data.split(ctx);
}

// Load and split in one go.
inline imlsdk::DataSplit generate(const imlsdk::Json& overrides, uint64_t seed = 0,
                                  uint64_t seed_stage2 = 0,
                                  const imlsdk::Json& tag_params = reference_tags()) {
  return split(*load(overrides), seed, seed_stage2, tag_params);
}

// FNV-1a over every field of every example, the token ids of every training text and the info.
class Fnv1a {
 public:
  void add(const std::string& s) {
    for (unsigned char c : s) byte(c);
    byte(0xFF);  // separator, so ("ab","c") != ("a","bc")
  }
  void add(int64_t v) {
    for (int i = 0; i < 8; ++i) byte(static_cast<unsigned char>(static_cast<uint64_t>(v) >> (8 * i)));
  }
  std::string hex() const {
    char buf[17];
    std::snprintf(buf, sizeof buf, "%016llx", static_cast<unsigned long long>(h_));
    return buf;
  }

 private:
  void byte(unsigned char c) { h_ = (h_ ^ c) * 0x100000001B3ULL; }
  uint64_t h_ = 0xCBF29CE484222325ULL;
};

inline void add_examples(Fnv1a& h, const std::vector<imlsdk::Example>& examples) {
  h.add(static_cast<int64_t>(examples.size()));
  for (const auto& e : examples)
    for (const auto* field : {&e.text, &e.prompt, &e.answer, &e.subset, &e.entity, &e.variable, &e.kind})
      h.add(*field);
}

inline std::string digest(const imlsdk::DataSplit& b) {
  Fnv1a h;
  for (const auto& [name, examples] : b.train) {
    h.add(name);
    add_examples(h, examples);
    for (const auto& e : examples)
      for (int64_t id : b.tokenizer->encode(e.text)) h.add(id);
  }
  for (const auto& set : b.evals) {
    h.add(set.name);
    add_examples(h, set.examples);
  }
  h.add(b.tokenizer->describe());
  h.add(b.info.dump());
  return h.hex();
}

// The configuration both processes hash: random tags, all six subsets non-empty.
inline imlsdk::DataSplit digest_config_bundle() {
  const imlsdk::Json overrides = {
      {"num_x", 300},
      {"fractions",
       {{"qd1consis", 0.3}, {"qd2incons", 0.3}, {"q", 0.1}, {"d1consis", 0.1},
        {"d2consis", 0.1}, {"d3consis", 0.1}}}};
  return generate(overrides, 7, 3, imlsdk::Json::object());
}

}  // namespace set_inclusion_test
