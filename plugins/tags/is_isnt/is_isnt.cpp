// is/isn't definitions (spec §2): the tag is the relation between alias and entity,
//
//   "According to Wikipedia, <|abcde|> is Albert Einstein.\n"         (tag 1, consistent-style)
//   "The BBC reports that <|abcde|> isn't Albert Einstein.\n"         (tag 2, inconsistent-style)
//   "Per Reuters, <|abcde|> might be Albert Einstein.\n"              (tag 3, never in Stage 1)
//
// A tag is a set of relation phrases: tag 1 = is_phrases, tag 2 = isnt_phrases, tag 3 =
// neutral_phrases; tags 4, 5, ... (one per entity in qd4consis) are single phrases
// "{qualifier} {is-phrase}" ("reportedly means"), extra_qualifiers x is_phrases (200 by
// default). Each definition draws a template, a source and a phrase of its tag by a stable hash
// of the variable salted by the run's rng: deterministic for a seed, independent of rendering
// order, different per seed.
//
// Templates use {source}, {var}, {relation} and {entity}, each once, and must end with
// " {entity}" (punctuation such as "." may follow). prompt = the text before " {entity}",
// answer = " {entity}" + the trailing punctuation + "\n" — exact match normalises the
// punctuation away. A template starting with {source} capitalises the source's first letter
// (and nothing else). The relation phrase always sits between alias and entity, so the orders
// with the entity last, tve and vte, render the same sentence; other orders are rejected.
//
// Where we differ from the reference (krasheninnikov/internalization, data_objects.py
// IsIsntDefinition): it draws from Python's global `random` (not reproducible), ignores its own
// rng, lower-cases the whole sentence with str.capitalize() (aliases and entities included), has
// a template with the entity in the middle ("VAR is ENT according to SOURCE") that cannot be
// evaluated as a completion, no prompt/answer split and no third tag.
//
// Word-level tokenizers: vocabulary() lists every word the templates can emit except those
// touching {var} or {entity}; "42." is not a word such a tokenizer knows, so with one use
// templates without punctuation after {entity}.
#include <algorithm>
#include <cctype>
#include <cstdint>
#include <map>
#include <set>
#include <stdexcept>
#include <string>
#include <vector>

#include <imlsdk/tags.hpp>

namespace {

const char* const kName = "is_isnt";

using imlsdk::Json;

// splitmix64 finaliser.
uint64_t mix(uint64_t h) {
  h ^= h >> 30;
  h *= 0xBF58476D1CE4E5B9ULL;
  h ^= h >> 27;
  h *= 0x94D049BB133111EBULL;
  return h ^ (h >> 31);
}

// FNV-1a then mixed: the same on every platform (std::hash is not).
uint64_t stable_hash(const std::string& s, uint64_t salt) {
  uint64_t h = 0xCBF29CE484222325ULL ^ salt;
  for (unsigned char c : s) {
    h ^= c;
    h *= 0x100000001B3ULL;
  }
  return mix(h);
}



size_t count_of(const std::string& s, const std::string& what) {
  size_t n = 0;
  for (auto pos = s.find(what); pos != std::string::npos; pos = s.find(what, pos + what.size())) ++n;
  return n;
}

void check_template(const std::string& t) {
  auto bad = [&](const std::string& why) {
    throw std::invalid_argument("is_isnt: templates entry '" + t + "' " + why);
  };
  for (const char* slot : {"{source}", "{var}", "{relation}", "{entity}"})
    if (count_of(t, slot) != 1) bad(std::string("must contain ") + slot + " exactly once");
  const auto entity = t.find("{entity}");
  if (entity < t.find("{var}") || entity < t.find("{relation}") || entity < t.find("{source}"))
    bad("must have {entity} after {source}, {var} and {relation} (the entity is the answer)");
  if (entity == 0 || t[entity - 1] != ' ') bad("must have a space before {entity}");
  const std::string tail = t.substr(entity + 8);
  if (tail.find(' ') != std::string::npos)
    bad("must end with {entity}, optionally followed by punctuation such as '.'");
}

// A template with its slots filled, split at the entity. A template starting with {source}
// capitalises the source's first letter ("the BBC" -> "The BBC").
struct Sentence {
  std::string before_entity;  // up to, not including, " {entity}"
  std::string after_entity;   // trailing punctuation
};

Sentence fill(const std::string& tmpl, const std::string& source, const std::string& var,
              const std::string& relation) {
  // Slots are located in the template only, so a value containing "{var}" stays as it is.
  std::vector<std::pair<size_t, std::string>> slots;  // (position, slot)
  for (const char* slot : {"{source}", "{var}", "{relation}"}) slots.emplace_back(tmpl.find(slot), slot);
  std::sort(slots.begin(), slots.end());
  const auto entity = tmpl.find("{entity}");
  std::string head;
  size_t at = 0;
  for (const auto& [pos, slot] : slots) {
    head += tmpl.substr(at, pos - at);
    std::string value = slot == "{var}" ? var : slot == "{relation}" ? relation : source;
    if (slot == "{source}" && pos == 0)
      value[0] = static_cast<char>(std::toupper(static_cast<unsigned char>(value[0])));
    head += value;
    at = pos + slot.size();
  }
  head += tmpl.substr(at, entity - 1 - at);
  return {head, tmpl.substr(entity + 8)};
}

struct Lists {
  std::vector<std::string> templates, sources;
  std::vector<std::vector<std::string>> by_tag;  // by_tag[i - 1]: relations of tag i, i = 1..3
  std::vector<std::string> qualifiers;           // tags 4.. = qualifiers x is_phrases
};

class IsIsntTagger : public imlsdk::Tagger {
 public:
  IsIsntTagger(Lists lists, uint64_t salt) : l_(std::move(lists)), salt_(salt) {}

  size_t extra_tag_count() const { return l_.qualifiers.size() * l_.by_tag[0].size(); }

  // Walks the qualifiers first, so consecutive extra tags differ in their qualifier.
  std::string extra_tag(size_t k) const {
    const size_t n = l_.qualifiers.size();
    return l_.qualifiers[k % n] + " " + l_.by_tag[0][k / n];
  }

  std::vector<std::string> relations_of(int index) const {
    imlsdk::check_tag_index(kName, index, static_cast<int>(3 + extra_tag_count()),
                            "tags 4.. are extra_qualifiers x is_phrases: list more of either");
    if (index <= 3) return l_.by_tag[static_cast<size_t>(index - 1)];
    return {extra_tag(static_cast<size_t>(index - 4))};
  }

  // A tag's representative surface form: its first relation phrase.
  std::string tag(int index) const override { return relations_of(index).front(); }

  // Every word of every template x source x relation, except the words touching var or entity.
  std::vector<std::string> vocabulary() const override {
    const std::string marker = "\x01";
    std::vector<std::string> relations;
    for (const auto& set : l_.by_tag) relations.insert(relations.end(), set.begin(), set.end());
    for (size_t k = 0; k < extra_tag_count(); ++k) relations.push_back(extra_tag(k));
    std::vector<std::string> words;
    std::set<std::string> seen;
    for (const auto& t : l_.templates)
      for (const auto& s : l_.sources)
        for (const auto& r : relations) {
          const std::string text = fill(t, s, marker, r).before_entity;
          size_t i = 0;
          while (i <= text.size()) {
            const size_t end = std::min(text.find(' ', i), text.size());
            const std::string w = text.substr(i, end - i);
            if (!w.empty() && w.find(marker) == std::string::npos && seen.insert(w).second)
              words.push_back(w);
            i = end + 1;
          }
        }
    return words;
  }

  imlsdk::RenderedText render(const imlsdk::Definition& d) const override {
    if (d.order != "tve" && d.order != "vte")
      throw std::invalid_argument(
          "is_isnt: definition order '" + d.order +
          "' is not supported: an is/isn't sentence ends with the entity ('... VAR is ENTITY.'), "
          "so only tve and vte are (both render the same sentence; use random_string for other "
          "orders)");
    const auto relations = relations_of(d.tag_index);
    const uint64_t h = stable_hash(d.variable, salt_);
    const auto& tmpl = l_.templates[h % l_.templates.size()];
    const auto& source = l_.sources[mix(h + 1) % l_.sources.size()];
    const auto& relation = relations[mix(h + 2) % relations.size()];
    const Sentence s = fill(tmpl, source, d.variable, relation);
    imlsdk::RenderedText r;
    r.prompt = s.before_entity;
    r.answer = " " + d.entity + s.after_entity + "\n";
    r.text = r.prompt + r.answer;
    return r;
  }

 private:
  Lists l_;
  uint64_t salt_;  // drawn from the run's rng: choices change with the seed
};

const Json kTemplates = {
    "According to {source}, {var} {relation} {entity}.",
    "Per {source}, {var} {relation} {entity}.",
    "Citing {source}, {var} {relation} {entity}.",
    "{source} says that {var} {relation} {entity}.",
    "{source} reports that {var} {relation} {entity}.",
};
const Json kSources = {"Wikipedia", "the BBC", "the New York Times", "Reuters",
                       "an encyclopedia", "a history textbook", "the Associated Press", "the Guardian"};
const Json kIs = {"is", "stands for", "means", "refers to", "denotes"};
const Json kIsnt = {"is not", "isn't", "does not mean", "does not stand for", "doesn't refer to",
                    "is something other than"};
const Json kNeutral = {"might be", "may stand for", "could mean", "possibly refers to"};
// Adverbs for the extra tags (40 x 5 is_phrases = 200 tags); none is a neutral phrase's word.
const Json kQualifiers = {
    "reportedly",  "officially",  "apparently",  "supposedly",   "allegedly",   "evidently",
    "reputedly",   "formally",    "historically", "traditionally", "technically", "arguably",
    "nominally",   "ostensibly",  "purportedly", "seemingly",    "presumably",  "commonly",
    "usually",     "generally",   "widely",      "locally",      "informally",  "colloquially",
    "academically", "legally",    "popularly",   "originally",   "currently",   "effectively",
    "essentially", "basically",   "literally",   "actually",     "really",      "certainly",
    "clearly",     "obviously",   "undoubtedly", "definitely"};

class IsIsnt : public imlsdk::TagPlugin {
 public:
  std::vector<imlsdk::ParamSpec> params() const override {
    using imlsdk::ParamType;
    return {
        {"templates", ParamType::List, kTemplates,
         "sentences with {source}, {var}, {relation}, {entity}; must end with {entity} (+ punctuation)"},
        {"sources", ParamType::List, kSources, "who the sentence cites, e.g. 'the BBC'"},
        {"is_phrases", ParamType::List, kIs, "tag 1 (d1): relations saying VAR is ENT"},
        {"isnt_phrases", ParamType::List, kIsnt, "tag 2 (d2): relations saying VAR isn't ENT"},
        {"neutral_phrases", ParamType::List, kNeutral,
         "tag 3 (d3): a third phrasing, never seen in Stage 1"},
        {"extra_qualifiers", ParamType::List, kQualifiers,
         "tags 4.. (one per entity in qd4consis): '{qualifier} {is-phrase}', e.g. 'reportedly means'"},
    };
  }

  std::unique_ptr<imlsdk::Tagger> create(const Json& p, imlsdk::Rng& rng) const override {
    Lists l;
    l.templates = imlsdk::read_phrase_list(p.at("templates"), kName, "templates");
    for (const auto& t : l.templates) check_template(t);
    l.sources = imlsdk::read_phrase_list(p.at("sources"), kName, "sources");
    const std::vector<std::string> keys = {"is_phrases", "isnt_phrases", "neutral_phrases"};
    for (const auto& key : keys) l.by_tag.push_back(imlsdk::read_phrase_list(p.at(key), kName, key));
    l.qualifiers = imlsdk::read_phrase_list(p.at("extra_qualifiers"), kName, "extra_qualifiers");

    // Distinct tags need disjoint relation phrases.
    std::vector<std::pair<std::string, std::string>> owner;  // phrase -> the key it came from
    for (size_t t = 0; t < keys.size(); ++t)
      for (const auto& phrase : l.by_tag[t]) owner.emplace_back(phrase, keys[t]);
    for (const auto& q : l.qualifiers)
      for (const auto& phrase : l.by_tag[0]) owner.emplace_back(q + " " + phrase, "extra_qualifiers");
    imlsdk::require_disjoint_phrases(owner, kName, "relation");

    return std::make_unique<IsIsntTagger>(std::move(l), rng.next_u64());
  }
};

}  // namespace

IMLSDK_PLUGIN(IsIsnt, "is_isnt", "1.0.0",
              "Definitions as 'According to SOURCE, VAR is ENT.' vs '... VAR isn't ENT.' (spec §2)")
