// An out-of-tree tag plugin: definitions tagged with where they were "found",
//
//   "wikipedia.org: <|abcde|> Albert Einstein\n"   tag 1, the reliable source   (d1)
//   "forum post: <|abcde|> Albert Einstein\n"      tag 2, the unreliable source (d2)
//   "blog comment: <|abcde|> Albert Einstein\n"    tag 3, a source Stage 1 never shows (d3)
//
// Tags 4, 5, ... (datasets that give each entity its own tag, e.g. qd4consis) come from
// `extra`, in an order drawn from the run's rng, so they change with the seed like the paper's
// random tags do. docs/writing-a-tag-plugin.md walks through this file.
#include <algorithm>
#include <map>
#include <memory>
#include <set>
#include <stdexcept>
#include <string>
#include <vector>

#include <imlsdk/plugin.hpp>  // ParamSpec, IMLSDK_PLUGIN
#include <imlsdk/tags.hpp>    // TagPlugin, Tagger, Definition, rendering helpers, check_tag_index

namespace {

using imlsdk::Json;

// The per-run object: immutable after create(), so every call is deterministic.
class SourceDomainTagger : public imlsdk::Tagger {
 public:
  explicit SourceDomainTagger(std::vector<std::string> tags) : tags_(std::move(tags)) {}

  std::string tag(int index) const override {
    // An index it cannot render: std::invalid_argument naming the plugin and the valid range.
    imlsdk::check_tag_index("source_domain_tags", index, static_cast<int>(tags_.size()),
                            "list more sources under `extra`");
    return tags_[static_cast<size_t>(index - 1)];
  }

  // Every word a definition can contain besides the variable and the entity: word-level
  // tokenizers (set_inclusion's, for one) build their vocabulary from this.
  std::vector<std::string> vocabulary() const override {
    std::vector<std::string> words;
    std::set<std::string> seen;
    for (const auto& t : tags_) {
      size_t i = 0;
      while (i < t.size()) {
        const size_t end = std::min(t.find(' ', i), t.size());
        const std::string w = t.substr(i, end - i);
        if (seen.insert(w).second) words.push_back(w);
        i = end + 1;
      }
    }
    return words;
  }

  // "{tag} {variable} {entity}\n" in the definition's order; prompt = the first two parts,
  // answer = " {third}\n" (the SDK helper also rejects orders that are not a permutation of tve).
  imlsdk::RenderedText render(const imlsdk::Definition& d) const override {
    return imlsdk::render_ordered_definition(tag(d.tag_index), d);
  }

 private:
  std::vector<std::string> tags_;  // tags_[i - 1] is tag i
};

class SourceDomainTags : public imlsdk::TagPlugin {
 public:
  // The config keys under `tags:`. The host fills defaults, checks types and rejects unknown
  // keys before create() sees them.
  std::vector<imlsdk::ParamSpec> params() const override {
    using imlsdk::ParamType;
    return {
        {"reliable", ParamType::String, "wikipedia.org:", "tag 1 (d1): the reliable source"},
        {"unreliable", ParamType::String, "forum post:", "tag 2 (d2): the unreliable source"},
        {"unseen", ParamType::String, "blog comment:", "tag 3 (d3): a source Stage 1 never shows"},
        {"extra", ParamType::List,
         Json{"nature.com:", "bbc.co.uk:", "arxiv.org:", "reuters.com:", "britannica.com:",
              "reddit thread:", "chat log:", "tabloid headline:"},
         "tags 4.. (one per entity in qd4consis), shuffled per seed"},
    };
  }

  // Called once per Stage-1 seed. `rng` is the only randomness allowed: never std::random_device,
  // time, addresses or std::hash (implementation-defined), or results stop being reproducible.
  std::unique_ptr<imlsdk::Tagger> create(const Json& p, imlsdk::Rng& rng) const override {
    std::vector<std::string> tags = {p.at("reliable").get<std::string>(),
                                     p.at("unreliable").get<std::string>(),
                                     p.at("unseen").get<std::string>()};
    const std::vector<std::string> keys = {"reliable", "unreliable", "unseen"};
    std::vector<std::string> extra;
    for (const auto& item : p.at("extra")) {
      if (!item.is_string())
        throw std::invalid_argument("source_domain_tags: extra must list strings, got " + item.dump());
      extra.push_back(item.get<std::string>());
    }
    rng.shuffle(extra);
    tags.insert(tags.end(), extra.begin(), extra.end());

    // Value checks the host cannot do: one clear line naming the key.
    std::map<std::string, std::string> key_of;  // tag -> the key that set it first
    for (size_t i = 0; i < tags.size(); ++i) {
      const std::string key = i < keys.size() ? keys[i] : "extra";
      // Non-empty words separated by single spaces: a word-level tokenizer splits on whitespace
      // and joins with one space, so any other spacing would not survive a round trip.
      if (!imlsdk::is_single_spaced_line(tags[i]))
        throw std::invalid_argument("source_domain_tags: " + key + " '" + tags[i] +
                                    "' must be non-empty words separated by single spaces");
      const auto [it, fresh] = key_of.emplace(tags[i], key);
      if (!fresh)
        throw std::invalid_argument("source_domain_tags: '" + tags[i] + "' is given as both " +
                                    it->second + " and " + key + "; tags must be distinct");
    }
    return std::make_unique<SourceDomainTagger>(std::move(tags));
  }
};

}  // namespace

IMLSDK_PLUGIN(SourceDomainTags, "source_domain_tags", "1.0.0",
              "Example third-party tags: 'wikipedia.org:' vs 'forum post:' source domains")
