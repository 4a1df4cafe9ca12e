// Natural-language tags (spec §2): instead of a random string, a definition names its source,
//
//   "Per the New York Times, <|abcde|> now stands for Albert Einstein\n"       (tag 1, reliable)
//   "4Chan rumors suggest that <|abcde|> now stands for Albert Einstein\n"     (tag 2, unreliable)
//
// A tag is a *set* of phrases: tag 1 = reliable_phrases, tag 2 = unreliable_phrases, tag 3 =
// neutral_phrases (sources never seen in Stage 1, the d3 tag). Tags 4, 5, ... (one per entity
// in qd4consis) are single phrases, extra_frames x extra_source_kinds x extra_source_names
// ("As noted in a county register,": 6 x 12 x 16 = 1152 by default; their sources share no
// noun or adjective with the neutral phrases, so that d3 stays unseen in Stage 1).
//
// Each definition uses one phrase of its tag's set, chosen by a stable hash of the variable
// salted by the run's rng: the same variable always gets the same phrase within a run, the
// choice changes with the seed, and nothing depends on the order definitions are rendered in.
//
// Where we differ from the reference (krasheninnikov/internalization, define_strings.py):
//  - it writes every definition once per phrase (10 copies); a Tagger renders one text per
//    Definition, so we pick one phrase per definition instead;
//  - its d3 tag is a random string even in natural-language runs; ours is a third phrase set;
//  - its phrase lists lose a comma between two entries (two phrases glued into one); ours are
//    checked: one line, single spaces, no phrase shared between tags.
//
// prompt = everything up to and including "now stands for", answer = " {entity}\n". Only the
// orders with the entity last make sense for a sentence that ends in the entity: tve
// ("{phrase} {var} now stands for {entity}") and vte ("{var} {phrase} now stands for {entity}");
// other orders are rejected with std::invalid_argument.
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

const char* const kName = "natural_language";

using imlsdk::Json;

const char* const kConnective = "now stands for";

// FNV-1a, then a splitmix64 finaliser: the same on every platform (std::hash is not).
uint64_t stable_hash(const std::string& s, uint64_t salt) {
  uint64_t h = 0xCBF29CE484222325ULL ^ salt;
  for (unsigned char c : s) {
    h ^= c;
    h *= 0x100000001B3ULL;
  }
  h ^= h >> 30;
  h *= 0xBF58476D1CE4E5B9ULL;
  h ^= h >> 27;
  h *= 0x94D049BB133111EBULL;
  return h ^ (h >> 31);
}


void append_words(const std::string& s, std::vector<std::string>& words, std::set<std::string>& seen) {
  size_t i = 0;
  while (i < s.size()) {
    const size_t end = std::min(s.find(' ', i), s.size());
    const std::string w = s.substr(i, end - i);
    if (!w.empty() && seen.insert(w).second) words.push_back(w);
    i = end + 1;
  }
}


// "{} states that" + "a court record" -> "A court record states that".
std::string fill_frame(const std::string& frame, const std::string& source) {
  const auto slot = frame.find("{}");
  std::string s = frame.substr(0, slot) + source + frame.substr(slot + 2);
  if (slot == 0 && !s.empty()) s[0] = static_cast<char>(std::toupper(static_cast<unsigned char>(s[0])));
  return s;
}

struct PhraseSets {
  std::vector<std::vector<std::string>> by_tag;  // by_tag[i - 1]: phrases of tag i, i = 1..3
  std::vector<std::string> frames, kinds, names;  // tags 4.. combine these
};

// Extra tag k (tag 4 + k): frame x kind x name, names varying fastest.
std::string extra_phrase(const PhraseSets& sets, size_t k) {
  const size_t n = sets.names.size(), m = sets.kinds.size();
  const std::string source = sets.kinds[(k / n) % m] + " " + sets.names[k % n];
  return fill_frame(sets.frames[k / (n * m)], source);
}

class NaturalLanguageTagger : public imlsdk::Tagger {
 public:
  NaturalLanguageTagger(PhraseSets sets, uint64_t salt) : sets_(std::move(sets)), salt_(salt) {}

  size_t extra_tag_count() const {
    return sets_.frames.size() * sets_.kinds.size() * sets_.names.size();
  }

  // Tag 4 + k walks the names fastest, so consecutive extra tags name different sources.
  std::string extra_tag(size_t k) const { return extra_phrase(sets_, k); }

  // The phrases tag `index` may be written as.
  std::vector<std::string> phrases_of(int index) const {
    imlsdk::check_tag_index(kName, index, static_cast<int>(3 + extra_tag_count()),
                            "tags 4.. are extra_frames x extra_source_kinds x extra_source_names: "
                            "list more of any");
    if (index <= 3) return sets_.by_tag[static_cast<size_t>(index - 1)];
    return {extra_tag(static_cast<size_t>(index - 4))};
  }

  // A tag's representative surface form: its first phrase.
  std::string tag(int index) const override { return phrases_of(index).front(); }

  std::vector<std::string> vocabulary() const override {
    std::vector<std::string> words;
    std::set<std::string> seen;
    for (const auto& set : sets_.by_tag)
      for (const auto& p : set) append_words(p, words, seen);
    for (size_t k = 0; k < extra_tag_count(); ++k) append_words(extra_tag(k), words, seen);
    append_words(kConnective, words, seen);
    return words;
  }

  imlsdk::RenderedText render(const imlsdk::Definition& d) const override {
    if (d.order != "tve" && d.order != "vte")
      throw std::invalid_argument(
          "natural_language: definition order '" + d.order +
          "' is not supported: natural-language definitions end with the entity ('... now "
          "stands for ENTITY'), so only tve and vte are (use random_string for other orders)");
    const auto phrases = phrases_of(d.tag_index);
    const auto& phrase = phrases[stable_hash(d.variable, salt_) % phrases.size()];
    imlsdk::RenderedText r;
    r.prompt = (d.order == "tve" ? phrase + " " + d.variable : d.variable + " " + phrase) + " " +
               kConnective;
    r.answer = " " + d.entity + "\n";
    r.text = r.prompt + r.answer;
    return r;
  }

 private:
  PhraseSets sets_;
  uint64_t salt_;  // drawn from the run's rng: phrase choices change with the seed
};

const Json kReliable = {
    "Per the New York Times,",         "As reported by the BBC,",
    "According to Reuters,",           "Citing the Wall Street Journal,",
    "The Encyclopaedia Britannica states that", "As published in Nature,",
    "The Associated Press confirms that",       "A peer-reviewed study shows that",
    "As documented by the Library of Congress,", "The Guardian reports that",
    "Official records show that",      "As stated in The Economist,",
};
const Json kUnreliable = {
    "4Chan rumors suggest that",       "As per a Facebook post,",
    "A TikTok video claims that",      "Gossip sites say that",
    "An anonymous forum user claims that", "A tabloid speculates that",
    "Social media chatter says that",  "An unverified YouTube comment claims that",
    "A chain email says that",         "As asserted on a random Tumblr,",
    "Internet hearsay has it that",    "A conspiracy podcast alleges that",
};
const Json kNeutral = {
    "A local newsletter mentions that", "A radio host remarked that",
    "An old pamphlet says that",        "A museum plaque reads:",
    "A travel guide notes that",        "A trivia card says that",
};
const Json kExtraFrames = {"According to {},", "As noted in {},", "{} states that",
                           "{} records that",  "Quoting {},",      "As {} puts it,"};
const Json kExtraKinds = {"a regional", "a foreign",    "a national", "a weekly",
                          "a monthly",  "a private",    "a university", "a county",
                          "a student",  "a business",   "a science",  "a sports"};
const Json kExtraNames = {"newspaper", "archive", "register", "report",   "yearbook", "almanac",
                          "bulletin",  "catalogue", "gazette", "journal", "digest",   "ledger",
                          "broadcast", "magazine", "database", "website"};

class NaturalLanguage : public imlsdk::TagPlugin {
 public:
  std::vector<imlsdk::ParamSpec> params() const override {
    using imlsdk::ParamType;
    return {
        {"reliable_phrases", ParamType::List, kReliable,
         "tag 1 (d1): reliable sources opening a definition, e.g. 'Per the New York Times,'"},
        {"unreliable_phrases", ParamType::List, kUnreliable,
         "tag 2 (d2): unreliable sources, e.g. '4Chan rumors suggest that'"},
        {"neutral_phrases", ParamType::List, kNeutral,
         "tag 3 (d3): sources never seen in Stage 1, neither reliable nor unreliable"},
        {"extra_frames", ParamType::List, kExtraFrames,
         "tags 4.. (one per entity in qd4consis) = frames x kinds x names; {} is the source"},
        {"extra_source_kinds", ParamType::List, kExtraKinds,
         "tags 4..: first half of an extra source, e.g. 'a county'"},
        {"extra_source_names", ParamType::List, kExtraNames,
         "tags 4..: second half of an extra source, e.g. 'register'"},
    };
  }

  std::unique_ptr<imlsdk::Tagger> create(const Json& p, imlsdk::Rng& rng) const override {
    PhraseSets sets;
    const std::vector<std::string> keys = {"reliable_phrases", "unreliable_phrases", "neutral_phrases"};
    for (const auto& key : keys) sets.by_tag.push_back(imlsdk::read_phrase_list(p.at(key), kName, key));
    sets.frames = imlsdk::read_phrase_list(p.at("extra_frames"), kName, "extra_frames");
    sets.kinds = imlsdk::read_phrase_list(p.at("extra_source_kinds"), kName, "extra_source_kinds");
    sets.names = imlsdk::read_phrase_list(p.at("extra_source_names"), kName, "extra_source_names");
    for (const auto& f : sets.frames) {
      const auto slot = f.find("{}");
      if (slot == std::string::npos || f.find("{}", slot + 2) != std::string::npos)
        throw std::invalid_argument("natural_language: extra_frames entry '" + f +
                                    "' must contain {} exactly once");
    }

    // Distinct tags need disjoint phrases: a phrase in two tags would make them indistinguishable.
    std::vector<std::pair<std::string, std::string>> owner;  // phrase -> the key it came from
    for (size_t t = 0; t < keys.size(); ++t)
      for (const auto& phrase : sets.by_tag[t]) owner.emplace_back(phrase, keys[t]);
    const size_t extra = sets.frames.size() * sets.kinds.size() * sets.names.size();
    for (size_t k = 0; k < extra; ++k) owner.emplace_back(extra_phrase(sets, k), "the extra tags");
    imlsdk::require_disjoint_phrases(owner, kName, "phrase");

    return std::make_unique<NaturalLanguageTagger>(std::move(sets), rng.next_u64());
  }
};

}  // namespace

IMLSDK_PLUGIN(NaturalLanguage, "natural_language", "1.0.0",
              "Tags as source phrases: 'Per the New York Times, VAR now stands for ENT' (spec §2)")
