#include "imlsdk/data.hpp"
#include "imlsdk/tags.hpp"

#include <algorithm>
#include <cctype>
#include <set>
#include <stdexcept>

namespace imlsdk {

std::vector<uint8_t> Tagger::pattern(int index, int bits) const {
  (void)index;
  (void)bits;
  throw std::invalid_argument("this tag plugin renders text tags only; an image dataset needs "
                              "an image tag plugin such as pixel_pattern");
}

Image Dataset::image(const Example& x, bool train, Rng& rng) const {
  (void)x;
  (void)train;
  (void)rng;
  throw std::invalid_argument("this dataset has no images; an image task needs an image dataset");
}

void check_tag_index(const std::string& plugin, int index, int n, const std::string& hint) {
  if (index < 1 || index > n)
    throw std::invalid_argument(plugin + ": tag index " + std::to_string(index) +
                                " is out of range 1.." + std::to_string(n) +
                                (hint.empty() ? "" : " (" + hint + ")"));
}

RenderedText render_ordered_definition(const std::string& tag, const Definition& d,
                                       const std::string& terminator) {
  std::string sorted = d.order;
  std::sort(sorted.begin(), sorted.end());
  if (d.order.size() != 3 || sorted != "etv")
    throw std::invalid_argument("definition order '" + d.order +
                                "' is not a permutation of t, v, e (e.g. tve)");
  auto part = [&](char c) -> const std::string& {
    return c == 't' ? tag : c == 'v' ? d.variable : d.entity;
  };
  RenderedText r;
  r.prompt = part(d.order[0]) + " " + part(d.order[1]);
  r.answer = " " + part(d.order[2]) + terminator;
  r.text = r.prompt + r.answer;
  return r;
}

bool is_single_spaced_line(const std::string& s) {
  if (s.empty() || s.front() == ' ' || s.back() == ' ') return false;
  for (size_t i = 0; i < s.size(); ++i) {
    const unsigned char c = s[i];
    if (std::isspace(c) && c != ' ') return false;
    if (c == ' ' && s[i + 1] == ' ') return false;
  }
  return true;
}

std::vector<std::string> read_phrase_list(const Json& list, const std::string& plugin,
                                          const std::string& key) {
  std::vector<std::string> items;
  std::set<std::string> seen;
  for (const auto& item : list) {
    if (!item.is_string())
      throw std::invalid_argument(plugin + ": " + key + " must list strings, got " + item.dump());
    const auto s = item.get<std::string>();
    if (!is_single_spaced_line(s))
      throw std::invalid_argument(plugin + ": " + key + " entry '" + s +
                                  "' must be non-empty words separated by single spaces");
    if (!seen.insert(s).second)
      throw std::invalid_argument(plugin + ": " + key + " lists '" + s + "' twice");
    items.push_back(s);
  }
  if (items.empty()) throw std::invalid_argument(plugin + ": " + key + " must not be empty");
  return items;
}

void require_disjoint_phrases(const std::vector<std::pair<std::string, std::string>>& owned,
                              const std::string& plugin, const std::string& noun) {
  std::map<std::string, std::string> first_key;
  for (const auto& [phrase, key] : owned) {
    const auto [it, fresh] = first_key.emplace(phrase, key);
    if (!fresh)
      throw std::invalid_argument(plugin + ": the " + noun + " '" + phrase + "' comes from both " +
                                  it->second + " and " + key + "; tags must not share " + noun +
                                  "s");
  }
}

}  // namespace imlsdk
