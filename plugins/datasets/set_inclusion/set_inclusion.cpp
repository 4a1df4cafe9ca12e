// The set-inclusion toy task (paper App. D; the reference's `num_choice` dataset, spec §6).
//
// Each variable ("v a r") hides a number x in [0, max_x). QA pairs ask whether x is in a list:
//   "v a r % 17 4 93 60 = true"
// Training questions narrow x down to `n_intersection` candidates but never to one; test
// questions contain or exclude x itself, so they need the definition
//   "define1 v a r % 17"        (rendered by the run's tagger; tag 1 reliable, 2 not, 3 unseen)
// Subsets follow spec §3: qd1consis / qd2incons / q have training QA (qd2incons' definitions
// carry a wrong number), d1consis / d2consis / d3consis only have definitions (Stage 2).
//
// Nothing is read from files and every draw depends on the seeds, so load() only checks the
// parameters; split() draws one seed's variables, questions and subsets.
#include <algorithm>
#include <cmath>
#include <map>
#include <memory>
#include <set>
#include <stdexcept>
#include <string>
#include <utility>
#include <vector>

#include <imlsdk/data.hpp>

#include "hidden_number.hpp"
#include "subset_split.hpp"
#include "word_tokenizer.hpp"

namespace {

using imlsdk::DataSplit;
using imlsdk::Example;
using imlsdk::Json;
using imlsdk::SplitContext;
using namespace set_inclusion;

// Subsets in the order slices are cut and results are listed.
const std::vector<std::string> kSubsets = {"qd1consis", "qd2incons", "q",
                                           "d1consis",  "d2consis",  "d3consis"};
const std::vector<std::string> kStage2Subsets = {"d1consis", "d2consis", "d3consis"};
const std::vector<std::string> kSubsetsWithTrainQa = {"qd1consis", "qd2incons", "q"};
const std::vector<std::string> kStage1Definitions = {"qd1consis", "qd2incons"};

// Which tag defines a subset's variables (0: no definitions).
int tag_index_of(const std::string& subset) {
  if (subset == "qd1consis" || subset == "d1consis") return 1;
  if (subset == "qd2incons" || subset == "d2consis") return 2;
  if (subset == "d3consis") return 3;
  return 0;
}

// ---- parameters ---------------------------------------------------------------------------

struct Settings {
  int64_t num_x = 0;
  HiddenNumberShape shape;
  int64_t var_length = 3;
  bool one_token_per_variable = false;
  std::string definition_order;
  Fractions fractions;  // in kSubsets order
};

[[noreturn]] void reject(const std::string& message) {
  throw std::invalid_argument("set_inclusion: " + message);
}

Fractions read_fractions(const Json& map) {
  for (const auto& [key, value] : map.items()) {
    if (std::find(kSubsets.begin(), kSubsets.end(), key) == kSubsets.end())
      reject("fractions: unknown subset '" + key +
             "' (known: qd1consis, qd2incons, q, d1consis, d2consis, d3consis)");
    if (!value.is_number() || value.get<double>() < 0)
      reject("fractions." + key + " must be a non-negative number");
  }
  Fractions fractions;
  double sum = 0;
  for (const auto& name : kSubsets) {
    const double f = map.contains(name) ? map.at(name).get<double>() : 0.0;  // absent: 0
    fractions.emplace_back(name, f);
    sum += f;
  }
  if (std::abs(sum - 1.0) > 1e-9)
    reject("fractions must sum to 1, they sum to " + std::to_string(sum));
  return fractions;
}

// 26^length, saturating.
uint64_t count_of_names(int64_t length) {
  uint64_t n = 1;
  for (int64_t i = 0; i < length; ++i) n = n > UINT64_MAX / 26 ? UINT64_MAX : n * 26;
  return n;
}

Settings read_settings(const Json& p) {
  Settings s;
  s.num_x = p.at("num_x").get<int64_t>();
  const auto n_nums = p.at("n_nums_in_question").get<int64_t>();
  const auto n_int = p.at("n_intersection").get<int64_t>();
  const auto n_qs = p.at("n_qs_per_x").get<int64_t>();
  const auto max_x = p.at("max_x").get<int64_t>();
  s.shape.p_label_flip = p.at("p_label_flip").get<double>();
  s.var_length = p.at("var_length").get<int64_t>();
  s.one_token_per_variable = p.at("one_token_per_variable").get<bool>();
  s.definition_order = p.at("definition_order").get<std::string>();

  if (s.num_x < 1) reject("num_x must be >= 1");
  if (n_nums < 1 || n_nums > 1000) reject("n_nums_in_question must be in [1, 1000]");
  if (n_int < 1 || n_int > n_nums)
    reject("n_intersection must be in [1, n_nums_in_question = " + std::to_string(n_nums) + "]");
  if (n_qs < 4 || n_qs % 4 != 0 || n_qs > 100000)
    reject("n_qs_per_x must be a positive multiple of 4 (half train, half test; each half "
           "half true, half false)");
  if (!(s.shape.p_label_flip >= 0 && s.shape.p_label_flip <= 1))
    reject("p_label_flip must be in [0, 1]");
  if (s.var_length < 1 || s.var_length > 32) reject("var_length must be in [1, 32]");
  // The tagger's words may take a few names more; split() checks the exact count.
  if (static_cast<uint64_t>(s.num_x) > count_of_names(s.var_length))
    reject("num_x " + std::to_string(s.num_x) + " is more than the " +
           std::to_string(count_of_names(s.var_length)) + " distinct variable names of var_length " +
           std::to_string(s.var_length));
  // Training "false" questions draw n_nums_in_question numbers outside the intersection.
  if (max_x < n_nums + n_int || max_x > 1000000)
    reject("max_x must be in [n_nums_in_question + n_intersection = " +
           std::to_string(n_nums + n_int) + ", 1000000]");
  std::string order = s.definition_order;
  std::sort(order.begin(), order.end());
  if (order != "etv")
    reject("definition_order '" + s.definition_order + "' is not a permutation of tve");

  s.shape.max_x = static_cast<int>(max_x);
  s.shape.n_nums_in_question = static_cast<int>(n_nums);
  s.shape.n_intersection = static_cast<int>(n_int);
  s.shape.n_qs_per_x = static_cast<int>(n_qs);
  s.fractions = read_fractions(p.at("fractions"));
  return s;
}

// ---- generators -------------------------------------------------------------------------------
// Every random choice has its own stream, derived from the seeds and a fixed salt, so adding a
// draw to one stage never shifts another, and nothing Stage 1 sees depends on seed_stage2.

uint64_t mix(uint64_t h, uint64_t v) {
  uint64_t z = h ^ (v + 0x9E3779B97F4A7C15ULL + (h << 6) + (h >> 2));
  z = (z ^ (z >> 30)) * 0xBF58476D1CE4E5B9ULL;
  z = (z ^ (z >> 27)) * 0x94D049BB133111EBULL;
  return z ^ (z >> 31);
}

enum Salt : uint64_t { kData = 1, kNames, kSplit, kStage2Split, kStage1Order, kStage2Order, kFullOrder };

imlsdk::Rng stage1_stream(const SplitContext& ctx, Salt salt) {
  return imlsdk::Rng(mix(ctx.seed, salt));
}
imlsdk::Rng stage2_stream(const SplitContext& ctx, Salt salt) {
  return imlsdk::Rng(mix(mix(ctx.seed, salt), ctx.seed_stage2));
}

// ---- variables ----------------------------------------------------------------------------

bool is_lowercase_word(const std::string& w, int64_t length) {
  return static_cast<int64_t>(w.size()) == length &&
         std::all_of(w.begin(), w.end(), [](char c) { return c >= 'a' && c <= 'z'; });
}

// `n` distinct random names of `length` letters, in draw order. Names equal to a reserved word
// (true, false, a tag) are skipped so that one-token variables never share a token with them.
std::vector<std::string> draw_variable_names(int64_t n, int64_t length,
                                             const std::set<std::string>& reserved,
                                             imlsdk::Rng& rng) {
  const auto taken = static_cast<uint64_t>(std::count_if(
      reserved.begin(), reserved.end(), [&](const auto& w) { return is_lowercase_word(w, length); }));
  if (static_cast<uint64_t>(n) > count_of_names(length) - taken)
    reject("num_x " + std::to_string(n) + " is more than the " +
           std::to_string(count_of_names(length) - taken) +
           " distinct variable names of var_length " + std::to_string(length));
  std::vector<std::string> names;
  std::set<std::string> seen(reserved);
  while (static_cast<int64_t>(names.size()) < n) {
    std::string name(static_cast<size_t>(length), 'a');
    for (auto& c : name) c = static_cast<char>('a' + rng.below(26));
    if (seen.insert(name).second) names.push_back(name);
  }
  return names;
}

// How a variable is written: "v a r" (one token per letter, the default) or "var".
std::string surface(const std::string& name, bool one_token) {
  if (one_token) return name;
  std::string out;
  for (char c : name) {
    if (!out.empty()) out += ' ';
    out += c;
  }
  return out;
}

// ---- examples -----------------------------------------------------------------------------

Example question_example(const std::string& var, const NumberQuestion& q, int x,
                         const std::string& subset) {
  Example e;
  e.prompt = var + " %";
  for (int n : q.numbers) e.prompt += " " + std::to_string(n);
  e.prompt += " =";
  e.answer = q.answer ? " true" : " false";
  e.text = e.prompt + e.answer;
  e.subset = subset;
  e.entity = std::to_string(x);
  e.variable = var;
  e.kind = "qa";
  return e;
}

Example definition_example(const imlsdk::Tagger& tagger, const std::string& var, int defined_as,
                           int x, const std::string& subset, const std::string& order) {
  imlsdk::Definition d;
  d.tag_index = tag_index_of(subset);
  d.variable = var + " %";
  d.entity = std::to_string(defined_as);
  d.order = order;
  const auto r = tagger.render(d);
  Example e;
  e.text = r.text;
  e.prompt = r.prompt;
  e.answer = r.answer;
  e.subset = subset;
  e.entity = std::to_string(x);
  e.variable = var;
  e.kind = "definition";
  return e;
}

void append(std::vector<Example>& to, const std::vector<Example>& from) {
  to.insert(to.end(), from.begin(), from.end());
}

std::vector<Example> shuffled(std::vector<Example> v, imlsdk::Rng rng) {
  rng.shuffle(v);
  return v;
}

// ---- the dataset ----------------------------------------------------------------------------

class SetInclusionData : public imlsdk::Dataset {
 public:
  explicit SetInclusionData(Settings settings) : s_(std::move(settings)) {}

  DataSplit split(const SplitContext& ctx) const override {
    const Settings& s = s_;
    if (!ctx.tagger) reject("needs a tagger (SplitContext.tagger is null)");
    const imlsdk::Tagger& tagger = *ctx.tagger;

    // Words a one-token variable must not collide with.
    std::set<std::string> reserved = {"true", "false"};
    for (const auto& w : tagger.vocabulary()) reserved.insert(w);

    // Names and per-variable data depend on the Stage-1 seed only.
    auto names_rng = stage1_stream(ctx, kNames);
    const auto names = draw_variable_names(s.num_x, s.var_length, reserved, names_rng);
    auto data_rng = stage1_stream(ctx, kData);
    std::vector<HiddenNumber> hidden;
    hidden.reserve(static_cast<size_t>(s.num_x));
    for (int64_t i = 0; i < s.num_x; ++i) hidden.push_back(draw_hidden_number(s.shape, data_rng));
    std::map<std::string, size_t> index_of;
    for (size_t i = 0; i < names.size(); ++i) index_of[names[i]] = i;

    auto split_rng = stage1_stream(ctx, kSplit);
    auto stage2_split_rng = stage2_stream(ctx, kStage2Split);
    const auto members =
        split_into_subsets(names, s.fractions, kStage2Subsets, split_rng, stage2_split_rng);

    // Examples per subset, variables in split order, questions in generation order.
    std::map<std::string, std::vector<Example>> train_qa, test_qa, definitions;
    size_t true_by_construction = 0, flipped = 0;
    for (const auto& subset : kSubsets) {
      const bool has_train_qa = std::count(kSubsetsWithTrainQa.begin(),
                                           kSubsetsWithTrainQa.end(), subset) > 0;
      for (const auto& name : members.at(subset)) {
        const HiddenNumber& h = hidden[index_of.at(name)];
        const std::string var = surface(name, s.one_token_per_variable);
        for (const auto& q : h.test) test_qa[subset].push_back(question_example(var, q, h.x, subset));
        if (has_train_qa) {
          for (const auto& q : h.train) {
            train_qa[subset].push_back(question_example(var, q, h.x, subset));
            true_by_construction += q.answer || q.flipped;
            flipped += q.flipped;
          }
        }
        if (tag_index_of(subset) > 0) {
          const int defined_as = subset == "qd2incons" ? h.x_false : h.x;
          definitions[subset].push_back(
              definition_example(tagger, var, defined_as, h.x, subset, s.definition_order));
        }
      }
    }

    DataSplit out;
    std::vector<Example> stage1, stage2, full;
    for (const auto& subset : kSubsetsWithTrainQa) append(stage1, train_qa[subset]);
    for (const auto& subset : kStage1Definitions) append(stage1, definitions[subset]);
    for (const auto& subset : kStage2Subsets) append(stage2, definitions[subset]);
    append(full, stage1);
    append(full, stage2);
    out.train["stage1"] = shuffled(stage1, stage1_stream(ctx, kStage1Order));
    out.train["stage2"] = shuffled(stage2, stage2_stream(ctx, kStage2Order));
    out.train["full"] = shuffled(full, stage2_stream(ctx, kFullOrder));

    // Eval sets: test questions per subset, then the training material per subset.
    for (const auto& subset : kSubsets)
      if (!test_qa[subset].empty()) out.evals.push_back({subset, test_qa[subset]});
    for (const auto& subset : kSubsetsWithTrainQa)
      if (!train_qa[subset].empty())
        out.evals.push_back({"train_questions_" + subset, train_qa[subset]});
    for (const auto& subset : kSubsets)
      if (!definitions[subset].empty())
        out.evals.push_back({"train_defs_" + subset, definitions[subset]});

    out.tokenizer = make_tokenizer(s, tagger, names);

    Json& info = out.info;
    for (const auto& subset : kSubsets)
      info["variables"][subset] = members.at(subset).size();
    for (const auto& [name, examples] : out.train) info["train"][name] = examples.size();
    for (const auto& e : out.evals) info["evals"][e.name] = e.examples.size();
    info["label_flips"] = flipped;
    info["true_training_questions_before_flips"] = true_by_construction;
    info["vocab_size"] = out.tokenizer->vocab_size();
    info["tokenizer"] = out.tokenizer->describe();
    return out;
  }

  Json info() const override {
    return Json{{"variables", s_.num_x}, {"max_x", s_.shape.max_x}};
  }

 private:
  // Vocabulary: = % true false, the tagger's words, the numbers, then letters or variables.
  static std::shared_ptr<WordTokenizer> make_tokenizer(const Settings& s,
                                                       const imlsdk::Tagger& tagger,
                                                       std::vector<std::string> names) {
    std::vector<std::string> words = {"=", "%", "true", "false"};
    // A vocabulary entry may be a phrase: every word of it becomes a token.
    for (const auto& entry : tagger.vocabulary())
      for (const auto& w : split_on_whitespace(entry)) words.push_back(w);
    for (int n = 0; n < s.shape.max_x; ++n) words.push_back(std::to_string(n));
    if (s.one_token_per_variable) {
      std::sort(names.begin(), names.end());
      words.insert(words.end(), names.begin(), names.end());
    } else {
      for (char c = 'a'; c <= 'z'; ++c) words.push_back(std::string(1, c));
    }
    return std::make_shared<WordTokenizer>(words);
  }

  Settings s_;
};

// ---- the plugin ---------------------------------------------------------------------------

class SetInclusion : public imlsdk::DatasetPlugin {
 public:
  std::vector<imlsdk::ParamSpec> params() const override {
    using imlsdk::ParamType;
    return {
        {"num_x", ParamType::Int, 500, "number of variables (paper: 8000)"},
        {"n_nums_in_question", ParamType::Int, 4, "numbers listed in each question"},
        {"n_intersection", ParamType::Int, 2,
         "numbers every training 'true' question shares; x is one of them (>= 2 keeps x "
         "unidentifiable from training questions)"},
        {"n_qs_per_x", ParamType::Int, 24,
         "questions per variable: half train, half test, each half half true / half false"},
        {"p_label_flip", ParamType::Float, 0.1,
         "probability that a training 'true' answer is flipped to 'false'"},
        {"var_length", ParamType::Int, 3, "letters per variable name"},
        {"max_x", ParamType::Int, 99, "hidden numbers and question numbers lie in [0, max_x)"},
        {"one_token_per_variable", ParamType::Bool, false,
         "false: variables as space-separated letters 'v a r'; true: one token per variable"},
        {"definition_order", ParamType::String, "tve",
         "order of tag (t), variable (v) and number (e) in definitions"},
        {"fractions", ParamType::Map,
         Json{{"qd1consis", 0.4}, {"qd2incons", 0.4}, {"q", 0.0},
              {"d1consis", 0.1}, {"d2consis", 0.1}, {"d3consis", 0.0}},
         "fraction of variables per subset (App. D Table 3); must sum to 1"},
    };
  }

  std::unique_ptr<imlsdk::Dataset> load(const Json& params,
                                       const imlsdk::LoadContext& /*ctx*/) const override {
    return std::make_unique<SetInclusionData>(read_settings(params));
  }
};

}  // namespace

IMLSDK_PLUGIN(SetInclusion, "set_inclusion", "2.0.0",
              "Set-inclusion toy task (paper App. D): 'v a r % 4 17 60 93 = true', word-level tokens")
