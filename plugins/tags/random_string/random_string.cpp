// The paper's tags: random lowercase strings such as "<|qwerxy|>" (spec §2). Tag i is the i-th
// distinct string drawn from the run's rng, so the tags change with the seed but never within a
// run. Alternatively `names` lists the tags verbatim (e.g. define1, define2, define3 reproduces the
// set-inclusion reference).
//
// All `count` tags are drawn up front in create(): a Tagger is const and shared, and drawing
// lazily would make tag(i) depend on which indices were asked for first. Asking for tag(i) with
// i > count is a std::invalid_argument that says to raise `count` (datasets with one tag per entity, such as
// qd4consis, need count >= 3 + number of entities).
#include <cctype>
#include <set>
#include <stdexcept>
#include <string>
#include <vector>

#include <imlsdk/tags.hpp>

namespace {

using imlsdk::Json;

class RandomStringTagger : public imlsdk::Tagger {
 public:
  explicit RandomStringTagger(std::vector<std::string> tags) : tags_(std::move(tags)) {}

  std::string tag(int index) const override {
    imlsdk::check_tag_index("random_string", index, static_cast<int>(tags_.size()),
                            "raise `count` or list more `names`");
    return tags_[static_cast<size_t>(index - 1)];
  }

  std::vector<std::string> vocabulary() const override { return tags_; }

  imlsdk::RenderedText render(const imlsdk::Definition& d) const override {
    return imlsdk::render_ordered_definition(tag(d.tag_index), d);
  }

 private:
  std::vector<std::string> tags_;  // tags_[i - 1] is tag i
};

bool has_whitespace(const std::string& s) {
  for (unsigned char c : s)
    if (std::isspace(c)) return true;
  return false;
}

// 26^length, saturating (only compared against a requested count).
uint64_t count_of_strings(int64_t length) {
  uint64_t n = 1;
  for (int64_t i = 0; i < length; ++i) {
    if (n > UINT64_MAX / 26) return UINT64_MAX;
    n *= 26;
  }
  return n;
}

std::vector<std::string> tags_from_names(const Json& names) {
  std::vector<std::string> tags;
  std::set<std::string> seen;
  for (const auto& item : names) {
    if (!item.is_string()) throw std::invalid_argument("random_string: names must be strings");
    const auto name = item.get<std::string>();
    if (name.empty() || has_whitespace(name))
      throw std::invalid_argument("random_string: names entry '" + name +
                                  "' must be one non-empty word");
    if (!seen.insert(name).second)
      throw std::invalid_argument("random_string: names lists '" + name + "' twice");
    tags.push_back(name);
  }
  return tags;
}

// `count` distinct random strings in the order they were first drawn.
std::vector<std::string> random_tags(int64_t count, int64_t length, const std::string& format,
                                     imlsdk::Rng& rng) {
  const auto slot = format.find("{}");
  std::vector<std::string> tags;
  std::set<std::string> seen;
  while (static_cast<int64_t>(tags.size()) < count) {
    std::string letters(static_cast<size_t>(length), 'a');
    for (auto& c : letters) c = static_cast<char>('a' + rng.below(26));
    if (!seen.insert(letters).second) continue;  // de-duplicate: draw again
    tags.push_back(format.substr(0, slot) + letters + format.substr(slot + 2));
  }
  return tags;
}

class RandomString : public imlsdk::TagPlugin {
 public:
  std::vector<imlsdk::ParamSpec> params() const override {
    return {
        {"length", imlsdk::ParamType::Int, 6, "letters per random tag"},
        {"count", imlsdk::ParamType::Int, 8,
         "how many random tags to draw (tag indices 1..count are valid)"},
        {"format", imlsdk::ParamType::String, "<|{}|>",
         "how a tag is written; {} is replaced by the random letters"},
        {"names", imlsdk::ParamType::List, Json::array(),
         "explicit tags (tag i = names[i-1]) instead of random ones, e.g. [define1, define2, "
         "define3]"},
    };
  }

  std::unique_ptr<imlsdk::Tagger> create(const Json& p, imlsdk::Rng& rng) const override {
    const auto& names = p.at("names");
    if (!names.empty()) return std::make_unique<RandomStringTagger>(tags_from_names(names));

    const auto length = p.at("length").get<int64_t>();
    const auto count = p.at("count").get<int64_t>();
    const auto format = p.at("format").get<std::string>();
    if (length < 1) throw std::invalid_argument("random_string: length must be >= 1");
    if (count < 1) throw std::invalid_argument("random_string: count must be >= 1");
    if (static_cast<uint64_t>(count) > count_of_strings(length))
      throw std::invalid_argument("random_string: count " + std::to_string(count) +
                                  " exceeds the 26^length distinct strings of length " +
                                  std::to_string(length));
    const auto slot = format.find("{}");
    if (slot == std::string::npos || format.find("{}", slot + 2) != std::string::npos)
      throw std::invalid_argument("random_string: format '" + format +
                                  "' must contain {} exactly once");
    if (has_whitespace(format))
      throw std::invalid_argument("random_string: format '" + format +
                                  "' must not contain whitespace (a tag is one word)");
    return std::make_unique<RandomStringTagger>(random_tags(count, length, format, rng));
  }
};

}  // namespace

IMLSDK_PLUGIN(RandomString, "random_string", "1.0.0",
              "Tags as random lowercase strings like <|qwerxy|> (or explicit names)")
