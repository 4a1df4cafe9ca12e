#include "imlsdk/analysis.hpp"

#include <ATen/ATen.h>
#include <c10/core/GradMode.h>

#include <algorithm>
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
  // A task built against SDK < 2.2 has no evaluate() in its vtable: the base class's way, here.
  if (st.task_has_evaluate) return st.task->evaluate(*st.model, xs, want_loss, want_predictions);
  return st.task->Task::evaluate(*st.model, xs, want_loss, want_predictions);
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
