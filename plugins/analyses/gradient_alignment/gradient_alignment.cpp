// Analysis `gradient_alignment` (paper App. F, spec §7): during training, how aligned is the
// gradient of a definition with the gradients of the questions about the same alias? For each
// subset (default d1consis and d2consis), pairs (definition, question) that share an alias are
// taken from the eval sets `train_defs_<subset>` and `<subset>`; every `every_n_steps` optimizer
// steps of the listed stages, each pair's two gradients (of the task's mean loss, over every
// parameter, imlsdk::example_gradient) give a cosine similarity, an inner product, a squared
// Euclidean distance and both norms, averaged per subset.
//
// Files: <seed folder>/gradient_alignment[_s2-<stage-2 seed>].jsonl, one line per (step, subset),
// rewritten atomically at every measurement. Metrics: at every evaluation, the latest
// measurement per subset (grad_cos, grad_dot, grad_sqdist, grad_norm_def, grad_norm_q).
#include <ATen/ATen.h>

#include <algorithm>
#include <map>
#include <stdexcept>

#include "imlsdk/analysis.hpp"
#include "imlsdk/params.hpp"

namespace {

using imlsdk::Json;

struct Settings {
  std::vector<std::string> subsets;
  std::vector<std::string> stages;
  int64_t every_n_steps = 0;
  int64_t max_pairs = 0;
};

const imlsdk::Schema<Settings>& schema() {
  static const auto s = imlsdk::Schema<Settings>()
      .add("subsets", &Settings::subsets, std::vector<std::string>{"d1consis", "d2consis"}, "subsets whose definition/question gradients are compared (eval sets train_defs_<s> and <s>)")
      .add("stages", &Settings::stages, std::vector<std::string>{"stage1"}, "stages during which to measure")
      .add("every_n_steps", &Settings::every_n_steps, int64_t{50}, "measure every N optimizer steps (and at each measured stage's first step)")
      .add("max_pairs", &Settings::max_pairs, int64_t{16}, "at most this many (definition, question) pairs per subset, the first by alias");
  return s;
}

struct Pair {
  const imlsdk::Example* definition;
  const imlsdk::Example* question;
};

class GradientAlignment : public imlsdk::Analysis {
 public:
  explicit GradientAlignment(Settings s) : s_(std::move(s)) {}

  void on_step_end(const imlsdk::StepState& st) override {
    if (std::find(s_.stages.begin(), s_.stages.end(), st.at.stage) == s_.stages.end()) return;
    if (st.at.step != 1 && st.at.step % s_.every_n_steps != 0) return;
    const std::string name = "gradient_alignment" + (st.at.stage2_seed.is_null() ? "" : "_s2-" + st.at.stage2_seed.dump()) + ".jsonl";
    // keyed by seed and file name, not path: the state stays valid if the results folder moves
    auto& lines = files_[std::to_string(st.at.seed) + "/" + name];
    for (const auto& subset : s_.subsets) {
      const Json m = measure(st, pairs(*st.data, subset));
      if (m.is_null()) continue;
      Json line = {{"stage", st.at.stage}, {"epoch", st.at.epoch}, {"step", st.at.step}, {"subset", subset}};
      line.update(m);
      lines.push_back(line.dump());
      latest_[subset] = m;
    }
    std::string text;
    for (const auto& l : lines) text += l + "\n";
    imlsdk::write_file_atomic(st.at.output_dir + "/" + name, text);
  }

  // What a resumed run needs: the latest measurements (reported at evaluations) and the lines
  // of each file so far (a file is rewritten whole at each measurement).
  Json state() const override { return {{"files", files_}, {"latest", latest_}}; }

  void load_state(const Json& state) override {
    if (state.is_null()) return;
    files_ = state.at("files").get<std::map<std::string, std::vector<std::string>>>();
    latest_ = state.at("latest").get<std::map<std::string, Json>>();
  }

  std::vector<imlsdk::Metric> on_evaluate(const imlsdk::EvalState&) override {
    std::vector<imlsdk::Metric> out;
    for (const auto& [subset, m] : latest_)
      for (const char* k : {"grad_cos", "grad_dot", "grad_sqdist", "grad_norm_def", "grad_norm_q"})
        out.push_back({subset, k, m.at(k), m.at("pairs").get<int64_t>()});
    return out;
  }

 private:
  std::vector<Pair> pairs(const imlsdk::DataSplit& data, const std::string& subset) const {
    const imlsdk::EvalSet* defs = nullptr;
    const imlsdk::EvalSet* questions = nullptr;
    for (const auto& e : data.evals) {
      if (e.name == "train_defs_" + subset) defs = &e;
      if (e.name == subset) questions = &e;
    }
    std::vector<Pair> out;
    if (!defs || !questions) return out;
    std::map<std::string, const imlsdk::Example*> by_alias;
    for (const auto& d : defs->examples) by_alias.emplace(d.variable, &d);
    for (const auto& q : questions->examples) {
      auto it = by_alias.find(q.variable);
      if (it == by_alias.end()) continue;
      out.push_back({it->second, &q});
      if (static_cast<int64_t>(out.size()) >= s_.max_pairs) break;
    }
    return out;
  }

  static Json measure(const imlsdk::StepState& st, const std::vector<Pair>& pairs) {
    if (pairs.empty()) return Json();
    double cos = 0, dot = 0, dist = 0, nd = 0, nq = 0;
    for (const auto& p : pairs) {
      const at::Tensor gd = imlsdk::example_gradient(*st.model, *st.task, *p.definition).to(at::kDouble);
      const at::Tensor gq = imlsdk::example_gradient(*st.model, *st.task, *p.question).to(at::kDouble);
      const double d = gd.dot(gq).item<double>(), a = gd.norm().item<double>(), b = gq.norm().item<double>();
      dot += d;
      cos += (a > 0 && b > 0) ? d / (a * b) : 0.0;
      dist += (gd - gq).pow(2).sum().item<double>();
      nd += a;
      nq += b;
    }
    const double n = static_cast<double>(pairs.size());
    return {{"pairs", pairs.size()}, {"grad_cos", cos / n}, {"grad_dot", dot / n}, {"grad_sqdist", dist / n},
            {"grad_norm_def", nd / n}, {"grad_norm_q", nq / n}};
  }

  Settings s_;
  std::map<std::string, std::vector<std::string>> files_;  // "<seed>/<file name>" -> its lines so far
  std::map<std::string, Json> latest_;                     // subset -> latest measurement
};

class GradientAlignmentPlugin : public imlsdk::AnalysisPlugin {
 public:
  std::vector<imlsdk::ParamSpec> params() const override { return schema().specs(); }

  std::unique_ptr<imlsdk::Analysis> create(const Json& params,
                                           const imlsdk::AnalysisContext& ctx) const override {
    Settings s = schema().read(params);
    if (s.every_n_steps < 1) throw std::invalid_argument("every_n_steps must be >= 1");
    if (s.max_pairs < 1) throw std::invalid_argument("max_pairs must be >= 1");
    imlsdk::require_known_names(s.stages, ctx.stages, "stages", "stage");
    if (s.subsets.empty()) throw std::invalid_argument("subsets must name at least one subset");
    for (const auto& subset : s.subsets)
      for (const std::string& need : {subset, "train_defs_" + subset})
        if (std::find(ctx.eval_sets.begin(), ctx.eval_sets.end(), need) == ctx.eval_sets.end())
          throw std::invalid_argument("subsets: '" + subset + "' needs the eval sets " + subset + " and train_defs_" +
                                      subset + ", and the data has no '" + need + "'");
    return std::make_unique<GradientAlignment>(std::move(s));
  }
};

}  // namespace

IMLSDK_PLUGIN(GradientAlignmentPlugin, "gradient_alignment", "1.1.0",
              "Cosine, inner product and distance of definition vs question gradients during training (App. F)")
