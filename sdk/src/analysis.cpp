#include "imlsdk/analysis.hpp"
#include "imlsdk/parallel.hpp"

#include <ATen/ATen.h>
#include <c10/core/GradMode.h>

#include <algorithm>
#include <atomic>
#include <functional>
#include <stdexcept>

namespace imlsdk {

void require_known_names(const std::vector<std::string>& names, const std::vector<std::string>& known,
                         const std::string& key, const std::string& what) {
  for (const auto& name : names)
    if (std::find(known.begin(), known.end(), name) == known.end()) {
      std::string all;
      for (const auto& k : known) all += (all.empty() ? "" : ", ") + k;
      throw std::invalid_argument(key + ": no " + what + " named '" + name + "' (known: " + all + ")");
    }
}

namespace {
std::atomic<int64_t> g_evaluation_streams{1};
}  // namespace

void set_evaluation_streams(int64_t streams) { g_evaluation_streams = std::max<int64_t>(1, streams); }
int64_t evaluation_streams() { return g_evaluation_streams.load(); }

EvalOutput evaluate_examples(const EvalState& st, const std::vector<const Example*>& xs, bool want_loss,
                             bool want_predictions) {
  if (st.task == nullptr || st.model == nullptr) throw std::invalid_argument("evaluate_examples: no task or model");
  auto one = [&](const std::vector<const Example*>& part) {
    // A task built against SDK < 2.2 has no evaluate() in its vtable: the base class's way, here.
    if (st.task_has_evaluate) return st.task->evaluate(*st.model, part, want_loss, want_predictions);
    return st.task->Task::evaluate(*st.model, part, want_loss, want_predictions);
  };
  const auto plan = side_by_side_plan(example_sizes(xs), evaluation_streams(), kMinRowsPerStream);
  if (plan.size() <= 1) return one(xs);
  // Each job evaluates its chunks one after the other; results go back to the examples' places.
  std::vector<std::vector<EvalOutput>> outs(plan.size());
  std::vector<std::function<void()>> jobs;
  for (size_t j = 0; j < plan.size(); ++j)
    jobs.push_back([&, j] {
      for (const auto& chunk : plan[j]) outs[j].push_back(one(example_refs(xs, chunk)));
    });
  run_side_by_side(jobs);
  EvalOutput r;
  double sum = 0;  // count-weighted means, in plan order; parts without targets add nothing
  int64_t count = 0;
  if (want_predictions) r.predictions.resize(xs.size());
  for (size_t j = 0; j < plan.size(); ++j)
    for (size_t c = 0; c < plan[j].size(); ++c) {
      EvalOutput& o = outs[j][c];
      if (want_loss && o.loss.count > 0) {
        sum += o.loss.value.item<double>() * static_cast<double>(o.loss.count);
        count += o.loss.count;
      }
      if (want_predictions) {
        if (o.predictions.size() != plan[j][c].size())
          throw std::runtime_error("task gave " + std::to_string(o.predictions.size()) + " predictions for " +
                                   std::to_string(plan[j][c].size()) + " examples");
        for (size_t k = 0; k < o.predictions.size(); ++k)
          r.predictions[static_cast<size_t>(plan[j][c][k])] = std::move(o.predictions[k]);
      }
      r.predictions_from_loss_pass += o.predictions_from_loss_pass;
    }
  if (want_loss) {
    r.loss.count = count;
    r.loss.value = count > 0 ? at::scalar_tensor(sum / static_cast<double>(count), at::kDouble) : outs[0][0].loss.value;
  }
  return r;
}

torch::Tensor example_gradient(Model& model, const Task& task, const Example& x) {
  at::AutoGradMode grad_on(true);
  std::vector<torch::Tensor> params = model.parameters();
  // Keep the training loop's accumulated gradients aside.
  std::vector<torch::Tensor> saved;
  saved.reserve(params.size());
  for (auto& p : params) {
    saved.push_back(p.grad().defined() ? p.grad().clone() : torch::Tensor());
    p.mutable_grad().reset();
  }
  Rng rng(0);  // evaluation-phase collate: must not depend on it
  Batch batch = task.collate({&x}, Phase::Eval, rng);
  Loss loss = task.loss(model.forward(batch.input), batch);
  loss.value.backward();
  std::vector<torch::Tensor> flat;
  flat.reserve(params.size());
  for (auto& p : params)
    flat.push_back(p.grad().defined() ? p.grad().reshape({-1}) : at::zeros({p.numel()}, p.options()));
  torch::Tensor g = at::cat(flat);
  for (size_t i = 0; i < params.size(); ++i) {
    params[i].mutable_grad().reset();
    if (saved[i].defined()) params[i].mutable_grad() = saved[i];
  }
  return g;
}

}  // namespace imlsdk
