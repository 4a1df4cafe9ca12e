// Shared by the text-QA protocol tests, their child process and the cvdb tests: synthetic
// entities, a tagger whose tags show their index, and a digest of everything a split holds.
#pragma once
#include <cstdint>
#include <cstdio>
#include <memory>
#include <string>
#include <vector>

#include "imlqa/protocol.hpp"
#include "imlsdk/data.hpp"

namespace qa_test {

// Tag i is "TAGi", so a definition's text shows which tag index it got.
class IndexTagger : public imlsdk::Tagger {
 public:
  std::string tag(int index) const override { return "TAG" + std::to_string(index); }
  std::vector<std::string> vocabulary() const override { return {tag(1), tag(2), tag(3)}; }
  imlsdk::RenderedText render(const imlsdk::Definition& d) const override {
    return imlsdk::render_ordered_definition(tag(d.tag_index), d);
  }
};

// `n` people "Person 0001", ... with six questions each; every answer names its entity and
// relation, so a QA example's answer tells whose fact it is. Nationality lists two values.
inline std::vector<imlqa::Entity> synthetic_entities(size_t n) {
  std::vector<imlqa::Entity> out;
  for (size_t i = 0; i < n; ++i) {
    char id[16];
    std::snprintf(id, sizeof id, "%04zu", i);
    imlqa::Entity e;
    e.name = std::string("Person ") + id;
    const std::string a = std::string("a") + id;
    e.qa = {{"When was {} born?", a + "birth", "birth"},
            {"When did {} die?", a + "death", "death"},
            {"In which region did {} live?", a + "region", "region"},
            {"What did {} do?", a + "occupation", "occupation"},
            {"What was the nationality of {}?", a + "nationA;" + a + "nationB", "nationality"},
            {"What was the gender of {}?", a + "gender", "gender"}};
    out.push_back(e);
  }
  return out;
}

// Every protocol key with its default, then `overrides`.
inline imlsdk::Json protocol_params(const imlsdk::Json& overrides = imlsdk::Json::object()) {
  imlsdk::Json p = imlsdk::Json::object();
  for (const auto& spec : imlqa::qa_protocol_params()) p[spec.key] = spec.default_value;
  for (auto it = overrides.begin(); it != overrides.end(); ++it) p[it.key()] = it.value();
  return p;
}

inline imlsdk::DataSplit build(size_t n, const imlsdk::Json& overrides = imlsdk::Json::object(),
                                uint64_t seed = 0, uint64_t seed_stage2 = 0) {
  static const IndexTagger tagger;
  imlsdk::SplitContext ctx;
  ctx.seed = seed;
  ctx.seed_stage2 = seed_stage2;
  ctx.tagger = &tagger;
  return imlqa::build_qa_protocol(synthetic_entities(n), protocol_params(overrides), ctx);
}

// FNV-1a over every field of every example, the token ids of every text and the info.
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

inline void add_examples(Fnv1a& h, const imlsdk::Tokenizer& tok,
                         const std::vector<imlsdk::Example>& examples) {
  h.add(static_cast<int64_t>(examples.size()));
  for (const auto& e : examples) {
    for (const auto* field : {&e.text, &e.prompt, &e.answer, &e.subset, &e.entity, &e.variable, &e.kind})
      h.add(*field);
    for (int64_t id : tok.encode(e.text)) h.add(id);
  }
}

inline std::string digest(const imlsdk::DataSplit& b) {
  Fnv1a h;
  for (const auto& [name, examples] : b.train) {
    h.add(name);
    add_examples(h, *b.tokenizer, examples);
  }
  for (const auto& set : b.evals) {
    h.add(set.name);
    add_examples(h, *b.tokenizer, set.examples);
  }
  h.add(b.tokenizer->describe());
  h.add(b.info.dump());
  return h.hex();
}

// The configuration both processes hash: every subset and every optional set on.
inline imlsdk::DataSplit digest_config_bundle() {
  const imlsdk::Json overrides = {
      {"fractions",
       {{"q_no_replacement_baseline", 0.1}, {"qd1consis", 0.2}, {"qd1incons", 0.05},
        {"qd2consis", 0.05}, {"qd2incons", 0.2}, {"qd4consis", 0.05}, {"q", 0.05},
        {"d1consis", 0.08}, {"d2consis", 0.08}, {"d3consis", 0.08}, {"no_qd_baseline", 0.06}}},
      {"alpha", 0.8},
      {"entity_attribution", true},
      {"letters", true},
      {"knowledge_stage", true},
      {"knowledge_eval_size", 100}};
  return build(300, overrides, 11, 5);
}

}  // namespace qa_test
