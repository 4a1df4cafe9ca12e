// Datasets, tags and tokenizers: the torch-free part of the SDK.
#pragma once
#include <cstdint>
#include <map>
#include <memory>
#include <string>
#include <utility>
#include <vector>

#include "imlsdk/plugin.hpp"
#include "imlsdk/rng.hpp"

namespace imlsdk {

// One training or evaluation example. `text` is what a causal LM trains on; `prompt` + `answer`
// is what generation is evaluated on (answer is the expected continuation of prompt).
struct Example {
  std::string text;
  std::string prompt;
  std::string answer;
  std::string subset;    // e.g. "qd1consis"
  std::string entity;    // the entity (or hidden value) the example is about, if any
  std::string variable;  // the alias, if any
  std::string kind;      // "qa" or "definition"
};

struct EvalSet {
  std::string name;  // e.g. "d1consis", "train_questions_qd1consis"
  std::vector<Example> examples;
};

// Maps text to token ids and back. Implementations must be deterministic.
class Tokenizer {
 public:
  virtual ~Tokenizer() = default;
  virtual std::vector<int64_t> encode(const std::string& text) const = 0;
  virtual std::string decode(const std::vector<int64_t>& ids) const = 0;
  virtual int64_t vocab_size() const = 0;
  virtual int64_t pad_id() const = 0;
  virtual int64_t eos_id() const = 0;  // appended to every training text
  virtual std::string describe() const = 0;
};

// ---- Tags --------------------------------------------------------------------------------
// Tag index convention: 1 = the reliable tag (d1), 2 = the unreliable tag (d2), 3 = the tag
// never seen in Stage 1 (d3), 4.. = extra tags (e.g. qd4consis gives each entity its own tag,
// numbered 4, 5, ...).
struct Definition {
  int tag_index = 1;
  std::string variable;  // surface form of the alias as it appears in text
  std::string entity;    // surface form of the entity (or value) it is defined as
  std::string order = "tve";  // permutation of t(ag), v(ariable), e(ntity)
};

struct RenderedText {
  std::string text;    // full training text
  std::string prompt;  // what the model is given at evaluation
  std::string answer;  // expected continuation
};

// Renders definitions. Created per run (per seed) by a TagPlugin.
class Tagger {
 public:
  virtual ~Tagger() = default;
  // The surface string of tag `index` (also used to build word-level vocabularies).
  virtual std::string tag(int index) const = 0;
  // All words the tagger may emit besides variable and entity (for word-level vocabularies).
  virtual std::vector<std::string> vocabulary() const = 0;
  virtual RenderedText render(const Definition& d) const = 0;
};

class TagPlugin : public Plugin {
 public:
  static constexpr Kind kKind = Kind::Tag;
  // `params` holds every key of params() (defaults filled in); `rng` is seeded per run.
  virtual std::unique_ptr<Tagger> create(const Json& params, Rng& rng) const = 0;
};

// Renders "{w1} {w2} {w3}\n" in the given order; prompt = first two words, answer = " w3\n".
// (spec §2 *(ref)*). Throws std::invalid_argument for an order that is not a permutation of tve.
RenderedText render_ordered_definition(const std::string& tag, const Definition& d,
                                       const std::string& terminator = "\n");

// ---- helpers for tag plugins whose tags are phrases (since SDK 1.1) -----------------------

// Words separated by single spaces, nothing else (a word-level tokenizer joins words with one
// space, so such a phrase survives encode/decode).
bool is_single_spaced_line(const std::string& s);

// A config list of phrases: non-empty, strings only, each single-spaced, no repeats. Errors are
// std::invalid_argument naming the plugin and key, e.g. "my_tags: reliable lists 'x' twice".
std::vector<std::string> read_phrase_list(const Json& list, const std::string& plugin,
                                          const std::string& key);

// Distinct tags need disjoint phrases. `owned` pairs each phrase with the key it came from;
// throws std::invalid_argument "<plugin>: the <noun> '<p>' comes from both <k1> and <k2>; tags
// must not share <noun>s" for the first phrase that two keys share.
void require_disjoint_phrases(const std::vector<std::pair<std::string, std::string>>& owned,
                              const std::string& plugin, const std::string& noun = "phrase");

// ---- Datasets ----------------------------------------------------------------------------
struct DataContext {
  uint64_t seed = 0;         // Stage-1 seed: fixes everything Stage 1 sees
  uint64_t seed_stage2 = 0;  // re-draws what only Stage 2 sees
  const Tagger* tagger = nullptr;
  std::string base_dir;  // directory relative paths in the config are resolved against
};

struct DataBundle {
  // Training sets by train-subset name ("full", "stage1", "stage2", ...). Already in the
  // order training iterates (shuffled once at generation, spec §5).
  std::map<std::string, std::vector<Example>> train;
  // Evaluation sets, evaluated after every `eval_every` epochs of every stage.
  std::vector<EvalSet> evals;
  // The dataset's own tokenizer, or null to use the model's.
  std::shared_ptr<Tokenizer> tokenizer;
  // Free-form facts to log (sizes, dropped rows...).
  Json info = Json::object();
};

class DatasetPlugin : public Plugin {
 public:
  static constexpr Kind kKind = Kind::Dataset;
  virtual DataBundle generate(const Json& params, const DataContext& ctx) const = 0;
};

// Names every train subset a dataset may return, in the order documented by the spec.
inline const std::vector<std::string>& known_train_subsets() {
  static const std::vector<std::string> v = {"full", "stage1", "stage2", "stage1_only_defns",
                                             "stage1_only_qa", "all_defns", "knowledge"};
  return v;
}

}  // namespace imlsdk
