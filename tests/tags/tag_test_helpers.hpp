// Shared by the tag-plugin tests: making a Tagger from a plugin with overrides, collecting
// rendered words, catching std::invalid_argument messages, and the fixed seed of the golden tests.
#pragma once
#include <memory>
#include <set>
#include <sstream>
#include <stdexcept>
#include <string>
#include <vector>

#include "imlsdk/data.hpp"
#include "imlsdk/tags.hpp"
#include "test_plugins.hpp"

namespace tagtest {

using imlsdk::Json;

// The seed of the golden-value tests, which pin a plugin's exact output across versions.
constexpr uint64_t kGoldenSeed = 20240607;

inline std::unique_ptr<imlsdk::Tagger> make(const imlsdk::TagPlugin& plugin, const Json& overrides,
                                            uint64_t seed = 0) {
  imlsdk::Rng rng(seed);
  return plugin.create(imltest::with_defaults(plugin, overrides), rng);
}

inline imlsdk::Definition definition(int tag, const std::string& var, const std::string& entity,
                                     const std::string& order = "tve") {
  imlsdk::Definition d;
  d.tag_index = tag;
  d.variable = var;
  d.entity = entity;
  d.order = order;
  return d;
}

// Aliases as the text datasets write them: <|aaaaa|>, <|aaaab|>, ...
inline std::vector<std::string> aliases(int n) {
  std::vector<std::string> v;
  for (int i = 0; i < n; ++i) {
    std::string letters = "aaaaa";
    int k = i;
    for (int pos = 4; pos >= 0 && k > 0; --pos, k /= 26) letters[pos] = static_cast<char>('a' + k % 26);
    v.push_back("<|" + letters + "|>");
  }
  return v;
}

inline std::vector<std::string> words_of(const std::string& s) {
  std::istringstream in(s);
  std::vector<std::string> w;
  for (std::string x; in >> x;) w.push_back(x);
  return w;
}

// Runs `f` and returns the message of the std::invalid_argument it throws ("" if none).
template <typename F>
std::string invalid_argument_message(F f) {
  try {
    f();
  } catch (const std::invalid_argument& e) {
    return e.what();
  }
  return "";
}

// The message of check_tag_index for an index outside 1..n: "<plugin>: tag index <i> is out of
// range 1..<n> (<hint>)".
inline std::string out_of_range_message(const std::string& plugin, int index, int n,
                                        const std::string& hint) {
  return plugin + ": tag index " + std::to_string(index) + " is out of range 1.." +
         std::to_string(n) + " (" + hint + ")";
}

// Every definition the set_inclusion dataset renders with `tagger` survives its word-level
// tokenizer (no <unk>): the tagger's vocabulary() lists every word it emits.
inline std::vector<std::string> set_inclusion_definitions_that_lose_words(const imlsdk::Tagger& tagger,
                                                                          bool one_token_per_variable) {
  static auto data = imltest::load_plugin<imlsdk::DatasetPlugin>("set_inclusion");
  const Json params = imltest::with_defaults(
      *data, {{"num_x", 60},
              {"n_qs_per_x", 8},
              {"one_token_per_variable", one_token_per_variable},
              {"fractions", {{"qd1consis", 0.3}, {"qd2incons", 0.3}, {"q", 0.1},
                             {"d1consis", 0.1}, {"d2consis", 0.1}, {"d3consis", 0.1}}}});
  const auto dataset = data->load(params, imlsdk::LoadContext{});
  imlsdk::SplitContext ctx;
  ctx.seed = 3;
  ctx.tagger = &tagger;
  const auto split = dataset->split(ctx);
  std::vector<std::string> lost;
  size_t definitions = 0;
  for (const auto& e : split.train.at("full")) {
    if (e.kind != "definition") continue;
    ++definitions;
    std::string joined;
    for (const auto& w : words_of(e.text)) joined += (joined.empty() ? "" : " ") + w;
    if (split.tokenizer->decode(split.tokenizer->encode(e.text)) != joined) lost.push_back(e.text);
  }
  if (definitions == 0) lost.push_back("(set_inclusion rendered no definitions)");
  return lost;
}

}  // namespace tagtest
