// Tags `pixel_pattern`: the paper's image tags (App. E.1) — tag i is a uniformly random bit
// pattern, which an image dataset draws as a row of black/white squares on top of the picture.
//
// Patterns come from the run's rng (one draw at create(), so they change with the seed and never
// within a run). For a given width `bits`, the patterns of tags 1, 2, 3, ... are drawn in index
// order from one stream, re-drawing any pattern that is all black (it would look like no tag) or
// equal to an earlier tag's, so the tags of a run are distinct and pattern(i, bits) does not
// depend on which indices were asked for first (they are cached per width, under a mutex: a
// Tagger is shared and const). Tag indices are 1..max_tags (qd4consis needs 3 + its variables).
//
// Image only: tag(), vocabulary() and render() — the text interface — refuse with a one-line
// std::invalid_argument, so a text dataset configured with these tags stops before training.
#include <cstdint>
#include <map>
#include <mutex>
#include <set>
#include <stdexcept>
#include <string>
#include <vector>

#include <imlsdk/params.hpp>
#include <imlsdk/tags.hpp>

namespace {

using imlsdk::Json;

struct Settings {
  int64_t max_tags = 100000;
};

const imlsdk::Schema<Settings>& schema() {
  static const auto s = imlsdk::Schema<Settings>().add(
      "max_tags", &Settings::max_tags, int64_t{100000},
      "highest tag index served (1 = reliable, 2 = unreliable, 3 = unseen, 4.. = one per qd4consis variable)");
  return s;
}

class PixelPatternTagger : public imlsdk::Tagger {
 public:
  PixelPatternTagger(uint64_t seed, int64_t max_tags) : seed_(seed), max_tags_(max_tags) {}

  std::string tag(int) const override { throw text_use(); }
  std::vector<std::string> vocabulary() const override { throw text_use(); }
  imlsdk::RenderedText render(const imlsdk::Definition&) const override { throw text_use(); }

  std::vector<uint8_t> pattern(int index, int bits) const override {
    imlsdk::check_tag_index("pixel_pattern", index, static_cast<int>(max_tags_), "raise max_tags");
    if (bits < 2 || bits > 4096) throw std::invalid_argument("pixel_pattern: a pattern needs 2..4096 bits, asked for " + std::to_string(bits));
    // 2^bits - 1 patterns are not all black.
    if (bits < 63 && static_cast<uint64_t>(index) > (uint64_t{1} << bits) - 1)
      throw std::invalid_argument("pixel_pattern: tag " + std::to_string(index) + " needs more than the " +
                                  std::to_string((uint64_t{1} << bits) - 1) + " distinct patterns of " + std::to_string(bits) + " bits");
    std::lock_guard<std::mutex> lock(mu_);
    Row& row = rows_[bits];
    if (row.patterns.empty()) row.rng = imlsdk::Rng(seed_ ^ (static_cast<uint64_t>(bits) * 0xD1B54A32D192ED03ULL));
    while (static_cast<int>(row.patterns.size()) < index) {
      std::vector<uint8_t> p(static_cast<size_t>(bits));
      bool any = false;
      for (auto& b : p) any |= (b = static_cast<uint8_t>(row.rng.below(2))) != 0;
      if (any && row.seen.insert(p).second) row.patterns.push_back(std::move(p));
    }
    return row.patterns[static_cast<size_t>(index - 1)];
  }

 private:
  static std::invalid_argument text_use() {
    return std::invalid_argument("pixel_pattern: image-only tags (bit patterns); a text dataset needs a text tag plugin such as random_string");
  }
  struct Row {
    imlsdk::Rng rng;
    std::vector<std::vector<uint8_t>> patterns;
    std::set<std::vector<uint8_t>> seen;
  };
  uint64_t seed_;
  int64_t max_tags_;
  mutable std::mutex mu_;
  mutable std::map<int, Row> rows_;
};

class PixelPattern : public imlsdk::TagPlugin {
 public:
  std::vector<imlsdk::ParamSpec> params() const override { return schema().specs(); }

  std::unique_ptr<imlsdk::Tagger> create(const Json& params, imlsdk::Rng& rng) const override {
    const Settings s = schema().read(params);
    if (s.max_tags < 3 || s.max_tags > 100000000) throw std::invalid_argument("pixel_pattern: max_tags must be in [3, 100000000]");
    return std::make_unique<PixelPatternTagger>(rng.next_u64(), s.max_tags);
  }
};

}  // namespace

IMLSDK_PLUGIN(PixelPattern, "pixel_pattern", "1.0.0",
              "Image tags: a random bit pattern per tag, drawn as a row of squares (paper App. E)")
