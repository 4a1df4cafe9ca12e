// Analysis `accuracy`: at every evaluation, for every eval set, the classification accuracy of
// the task's predictions (Prediction::labels, one class per output) — the paper's "masked
// accuracy" for the MNIST grid (§4.2): a QA example (features["cell"] = the asked output) is
// right when the prediction of that output equals features["labels"] there; an example without
// "cell" (a definition) is right when every asked output (label != -100) is. Also the mean loss,
// as exact_match reports it. Metric names: "accuracy" and "loss"; the host's summary table
// aggregates "accuracy" with `experiment.summary_metric: accuracy`.
#include <ATen/ATen.h>
#include <c10/core/GradMode.h>

#include <algorithm>
#include <stdexcept>

#include "imlsdk/analysis.hpp"
#include "imlsdk/params.hpp"

namespace {

using imlsdk::Json;

struct Settings {
  bool loss = true;
  std::vector<std::string> sets;
  int64_t max_examples = 0;
};

const imlsdk::Schema<Settings>& schema() {
  static const auto s = imlsdk::Schema<Settings>()
      .add("loss", &Settings::loss, true, "report the mean loss of each eval set")
      .add("sets", &Settings::sets, std::vector<std::string>{}, "eval sets to evaluate (empty = all)")
      .add("max_examples", &Settings::max_examples, int64_t{0}, "evaluate at most this many examples per set (0 = all)");
  return s;
}

// Is `p` right about `x`? Throws std::invalid_argument for an example the metric cannot grade.
bool correct(const imlsdk::Example& x, const imlsdk::Prediction& p) {
  const auto y = x.features.find("labels");
  if (y == x.features.end()) throw std::invalid_argument("accuracy: an example has no features[\"labels\"]");
  if (p.labels.size() != y->second.size())
    throw std::invalid_argument("accuracy: a prediction has " + std::to_string(p.labels.size()) + " outputs, its example " +
                                std::to_string(y->second.size()) + " labels");
  const auto c = x.features.find("cell");
  if (c != x.features.end()) {
    if (c->second.size() != 1 || c->second[0] < 0 || c->second[0] >= static_cast<int64_t>(y->second.size()))
      throw std::invalid_argument("accuracy: features[\"cell\"] must name one output of the example");
    const size_t k = static_cast<size_t>(c->second[0]);
    return p.labels[k] == y->second[k];
  }
  for (size_t k = 0; k < y->second.size(); ++k)
    if (y->second[k] != -100 && p.labels[k] != y->second[k]) return false;
  return true;
}

class Accuracy : public imlsdk::Analysis {
 public:
  explicit Accuracy(Settings s) : s_(std::move(s)) {}

  std::vector<imlsdk::Metric> on_evaluate(const imlsdk::EvalState& st) override {
    at::NoGradGuard no_grad;
    std::vector<imlsdk::Metric> out;
    for (const auto& set : st.data->evals) {
      if (!s_.sets.empty() && std::find(s_.sets.begin(), s_.sets.end(), set.name) == s_.sets.end()) continue;
      size_t n = set.examples.size();
      if (s_.max_examples > 0) n = std::min(n, static_cast<size_t>(s_.max_examples));
      if (n == 0) continue;
      if (s_.loss) out.push_back({set.name, "loss", mean_loss(st, set.examples, n), static_cast<int64_t>(n)});
      out.push_back({set.name, "accuracy", accuracy(st, set.examples, n), static_cast<int64_t>(n)});
    }
    return out;
  }

 private:
  static double mean_loss(const imlsdk::EvalState& st, const std::vector<imlsdk::Example>& xs, size_t n) {
    double sum = 0;
    int64_t count = 0;
    imlsdk::Rng unused(0);
    for (size_t b0 = 0; b0 < n; b0 += static_cast<size_t>(st.batch_size)) {
      const imlsdk::Batch batch = st.task->collate(imlsdk::example_refs(xs, b0, std::min(n, b0 + st.batch_size)),
                                                   imlsdk::Phase::Eval, unused);
      const imlsdk::Loss loss = st.task->loss(st.model->forward(batch.input), batch);
      sum += loss.value.item<double>() * static_cast<double>(loss.count);
      count += loss.count;
    }
    return count > 0 ? sum / static_cast<double>(count) : 0.0;
  }

  static double accuracy(const imlsdk::EvalState& st, const std::vector<imlsdk::Example>& xs, size_t n) {
    int64_t hits = 0;
    for (size_t b0 = 0; b0 < n; b0 += static_cast<size_t>(st.batch_size)) {
      const size_t b1 = std::min(n, b0 + st.batch_size);
      const auto predictions = st.task->predict(*st.model, imlsdk::example_refs(xs, b0, b1));
      if (predictions.size() != b1 - b0) throw std::runtime_error("accuracy: the task returned a wrong number of predictions");
      for (size_t i = b0; i < b1; ++i) hits += correct(xs[i], predictions[i - b0]) ? 1 : 0;
    }
    return static_cast<double>(hits) / static_cast<double>(n);
  }

  Settings s_;
};

class AccuracyPlugin : public imlsdk::AnalysisPlugin {
 public:
  std::vector<imlsdk::ParamSpec> params() const override { return schema().specs(); }

  std::unique_ptr<imlsdk::Analysis> create(const Json& params, const imlsdk::AnalysisContext& ctx) const override {
    Settings s = schema().read(params);
    if (s.max_examples < 0) throw std::invalid_argument("max_examples must be >= 0");
    imlsdk::require_known_names(s.sets, ctx.eval_sets, "sets", "eval set");
    return std::make_unique<Accuracy>(std::move(s));
  }
};

}  // namespace

IMLSDK_PLUGIN(AccuracyPlugin, "accuracy", "1.0.0",
              "Classification accuracy on the asked output (MNIST grid: the highlighted cell) and mean loss per eval set")
