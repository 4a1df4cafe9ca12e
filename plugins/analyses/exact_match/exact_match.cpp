// Analysis `exact_match`: at every evaluation, for every eval set, the mean loss of its examples
// and the exact match of the model's answers (the task's predict(): greedy generation) against
// their expected answers, graded as the QA protocol says (imlqa/answers.hpp, spec §5).
#include <ATen/ATen.h>
#include <c10/core/GradMode.h>

#include <algorithm>
#include <stdexcept>

#include "imlqa/answers.hpp"
#include "imlsdk/analysis.hpp"
#include "imlsdk/params.hpp"

namespace {

using imlsdk::Json;

struct Settings {
  bool loss = true;
  bool em = true;
  std::vector<std::string> sets;
  int64_t max_examples = 0;
};

const imlsdk::Schema<Settings>& schema() {
  static const auto s = imlsdk::Schema<Settings>()
      .add("loss", &Settings::loss, true, "report the mean loss of each eval set")
      .add("em", &Settings::em, true, "report exact match of the model's answers (greedy generation)")
      .add("sets", &Settings::sets, std::vector<std::string>{}, "eval sets to evaluate (empty = all)")
      .add("max_examples", &Settings::max_examples, int64_t{0}, "evaluate at most this many examples per set (0 = all)");
  return s;
}

class ExactMatch : public imlsdk::Analysis {
 public:
  explicit ExactMatch(Settings s) : s_(std::move(s)) {}

  std::vector<imlsdk::Metric> on_evaluate(const imlsdk::EvalState& st) override {
    at::NoGradGuard no_grad;
    std::vector<imlsdk::Metric> out;
    for (const auto& set : st.data->evals) {
      if (!s_.sets.empty() && std::find(s_.sets.begin(), s_.sets.end(), set.name) == s_.sets.end()) continue;
      size_t n = set.examples.size();
      if (s_.max_examples > 0) n = std::min(n, static_cast<size_t>(s_.max_examples));
      if (n == 0 || !(s_.loss || s_.em)) continue;
      // Batch by batch, the loss and the answers in one call: a task may read answers off the
      // loss pass (Task::evaluate, SDK 2.2).
      double loss_sum = 0;
      int64_t loss_count = 0, hits = 0;
      for (size_t b0 = 0; b0 < n; b0 += static_cast<size_t>(st.batch_size)) {
        const size_t b1 = std::min(n, b0 + static_cast<size_t>(st.batch_size));
        const imlsdk::EvalOutput r =
            imlsdk::evaluate_examples(st, imlsdk::example_refs(set.examples, b0, b1), s_.loss, s_.em);
        if (s_.loss) {
          loss_sum += r.loss.value.item<double>() * static_cast<double>(r.loss.count);
          loss_count += r.loss.count;
        }
        if (s_.em) {
          if (r.predictions.size() != b1 - b0)
            throw std::runtime_error("task gave " + std::to_string(r.predictions.size()) + " predictions for " +
                                     std::to_string(b1 - b0) + " examples");
          for (size_t i = b0; i < b1; ++i)
            hits += imlqa::exact_match(imlqa::extract_prediction(r.predictions[i - b0].text), set.examples[i].answer) ? 1 : 0;
        }
      }
      // Mean loss over every target unit (token) of the first n examples.
      if (s_.loss)
        out.push_back({set.name, "loss", loss_count > 0 ? loss_sum / static_cast<double>(loss_count) : 0.0,
                       static_cast<int64_t>(n)});
      if (s_.em) out.push_back({set.name, "em", static_cast<double>(hits) / static_cast<double>(n), static_cast<int64_t>(n)});
    }
    return out;
  }

 private:
  Settings s_;
};

class ExactMatchPlugin : public imlsdk::AnalysisPlugin {
 public:
  std::vector<imlsdk::ParamSpec> params() const override { return schema().specs(); }

  std::unique_ptr<imlsdk::Analysis> create(const Json& params,
                                           const imlsdk::AnalysisContext& ctx) const override {
    Settings s = schema().read(params);
    if (s.max_examples < 0) throw std::invalid_argument("max_examples must be >= 0");
    imlsdk::require_known_names(s.sets, ctx.eval_sets, "sets", "eval set");
    return std::make_unique<ExactMatch>(std::move(s));
  }
};

}  // namespace

IMLSDK_PLUGIN(ExactMatchPlugin, "exact_match", "2.1.0",
              "Mean loss and exact match of the model's answers on every eval set")
