// Metadata tags: what marks a definition as coming from the reliable or the unreliable source.
// A TagPlugin creates one Tagger per run (per Stage-1 seed); a Tagger renders a tag as text
// (text datasets) and/or as a bit pattern (image datasets draw it as a row of squares).
#pragma once
#include <cstdint>
#include <memory>
#include <string>
#include <utility>
#include <vector>

#include "imlsdk/plugin.hpp"
#include "imlsdk/rng.hpp"

namespace imlsdk {

// Tag index convention: 1 = the reliable tag (d1), 2 = the unreliable tag (d2), 3 = the tag
// never seen in Stage 1 (d3), 4.. = extra tags (e.g. qd4consis gives each entity its own tag,
// numbered 4, 5, ...). An index a tagger cannot render is a std::invalid_argument naming the
// plugin and the valid range.
struct Definition {
  int tag_index = 1;
  std::string variable;       // surface form of the alias as it appears in text
  std::string entity;         // surface form of the entity (or value) it is defined as
  std::string order = "tve";  // permutation of t(ag), v(ariable), e(ntity)
};

struct RenderedText {
  std::string text;    // full training text
  std::string prompt;  // what the model is given at evaluation
  std::string answer;  // expected continuation
};

class Tagger {
 public:
  virtual ~Tagger() = default;
  // ---- text tags (every text dataset uses these) ----
  // The surface string of tag `index` (also used to build word-level vocabularies).
  virtual std::string tag(int index) const = 0;
  // All words the tagger may emit besides variable and entity (for word-level vocabularies).
  virtual std::vector<std::string> vocabulary() const = 0;
  virtual RenderedText render(const Definition& d) const = 0;
  // ---- image tags (image datasets use this) ----
  // Tag `index` as `bits` on/off squares, drawn by the dataset as a row. Text-only taggers
  // keep the default, which says so.
  virtual std::vector<uint8_t> pattern(int index, int bits) const;
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

// Throws std::invalid_argument "<plugin>: tag index <i> is out of range 1..<n> (<hint>)" unless
// 1 <= index <= n. Every tagger checks its index with it.
void check_tag_index(const std::string& plugin, int index, int n, const std::string& hint = "");

// ---- helpers for tag plugins whose tags are phrases ---------------------------------------

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

}  // namespace imlsdk
