#include "imlsdk/analysis.hpp"
#include "imlsdk/parallel.hpp"

#include <ATen/ATen.h>
#include <c10/core/GradMode.h>

#include <algorithm>
#include <functional>
#include <iterator>
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

EvalOutput evaluate_examples(const EvalState& st, const std::vector<const Example*>& xs, bool want_loss,
                             bool want_predictions) {
  if (st.task == nullptr || st.model == nullptr) throw std::invalid_argument("evaluate_examples: no task or model");
  auto one = [&](const std::vector<const Example*>& part) {
    // A task built against SDK < 2.2 has no evaluate() in its vtable: the base class's way, here.
    if (st.task_has_evaluate) return st.task->evaluate(*st.model, part, want_loss, want_predictions);
    return st.task->Task::evaluate(*st.model, part, want_loss, want_predictions);
  };
  const int64_t n = static_cast<int64_t>(xs.size());
  const int64_t parts = std::min(st.streams, n / kMinRowsPerStream);
  if (parts <= 1) return one(xs);
  const auto ranges = split_evenly(n, parts);
  std::vector<EvalOutput> outs(ranges.size());
  std::vector<std::function<void()>> jobs;
  for (size_t p = 0; p < ranges.size(); ++p)
    jobs.push_back([&, p] {
      outs[p] = one(std::vector<const Example*>(xs.begin() + ranges[p].first, xs.begin() + ranges[p].second));
    });
  run_side_by_side(jobs);
  EvalOutput r;
  if (want_loss) {
    // sum of count-weighted means, in part order; parts without targets add nothing
    double sum = 0;
    int64_t count = 0;
    for (const auto& o : outs)
      if (o.loss.count > 0) {
        sum += o.loss.value.item<double>() * static_cast<double>(o.loss.count);
        count += o.loss.count;
      }
    r.loss.count = count;
    r.loss.value = count > 0 ? at::scalar_tensor(sum / static_cast<double>(count), at::kDouble)
                             : outs.front().loss.value;
  }
  for (auto& o : outs) {
    r.predictions.insert(r.predictions.end(), std::make_move_iterator(o.predictions.begin()),
                         std::make_move_iterator(o.predictions.end()));
    r.predictions_from_loss_pass += o.predictions_from_loss_pass;
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
