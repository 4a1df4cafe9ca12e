// AdamW (Loshchilov & Hutter 2019) with the semantics of torch.optim.AdamW (amsgrad off), the
// optimizer HF Trainer builds for its default `optim: adamw_torch`:
//   p *= 1 - lr*weight_decay                      (decoupled weight decay)
//   m = beta1*m + (1-beta1)*g;  v = beta2*v + (1-beta2)*g^2
//   p -= lr/(1-beta1^t) * m / (sqrt(v)/sqrt(1-beta2^t) + eps)
// Math in the parameter's dtype, as torch does.
#include <ATen/ATen.h>
#include <ATen/core/grad_mode.h>

#include <cmath>
#include <set>
#include <stdexcept>

#include "imlsdk/optimizer.hpp"

namespace {

using imlsdk::Json;
using imlsdk::ParamSpec;
using imlsdk::ParamType;

struct AdamWOptions {
  double beta1 = 0.9;
  double beta2 = 0.999;
  double eps = 1e-8;
  double weight_decay = 0.0;
};

struct ParamState {
  std::string name;
  at::Tensor param;
  int64_t step = 0;       // updates applied to this parameter (0 = no state yet)
  at::Tensor exp_avg;     // first moment m
  at::Tensor exp_avg_sq;  // second moment v
};

class AdamW : public imlsdk::Optimizer {
 public:
  AdamW(const AdamWOptions& opt, const imlsdk::NamedTensors& parameters) : opt_(opt) {
    for (const auto& [name, p] : parameters) states_.push_back(ParamState{name, p});
  }

  void step(double lr) override {
    if (!(std::isfinite(lr) && lr >= 0))
      throw std::invalid_argument("adamw: learning rate must be finite and >= 0, got " +
                                  std::to_string(lr));
    at::NoGradGuard no_grad;
    for (auto& s : states_) {
      const at::Tensor& grad = s.param.grad();
      if (!grad.defined()) continue;  // torch skips parameters without a gradient
      if (grad.is_sparse()) throw std::runtime_error("adamw: sparse gradients are not supported");
      if (s.step == 0) {
        s.exp_avg = at::zeros_like(s.param);
        s.exp_avg_sq = at::zeros_like(s.param);
      }
      s.step += 1;
      s.param.mul_(1.0 - lr * opt_.weight_decay);
      s.exp_avg.mul_(opt_.beta1).add_(grad, 1.0 - opt_.beta1);
      s.exp_avg_sq.mul_(opt_.beta2).addcmul_(grad, grad, 1.0 - opt_.beta2);
      const double t = static_cast<double>(s.step);
      const double bias_correction1 = 1.0 - std::pow(opt_.beta1, t);
      const double bias_correction2 = 1.0 - std::pow(opt_.beta2, t);
      const at::Tensor denom = (s.exp_avg_sq.sqrt() / std::sqrt(bias_correction2)).add_(opt_.eps);
      s.param.addcdiv_(s.exp_avg, denom, -lr / bias_correction1);
    }
  }

  std::map<std::string, at::Tensor> state() const override {
    // Snapshot copies on the CPU: a checkpoint must not change when training goes on.
    std::map<std::string, at::Tensor> out;
    for (const auto& s : states_) {
      if (s.step == 0) continue;
      out[s.name + ".step"] = at::scalar_tensor(s.step, at::kLong);
      out[s.name + ".exp_avg"] = s.exp_avg.to(at::kCPU, false, /*copy=*/true);
      out[s.name + ".exp_avg_sq"] = s.exp_avg_sq.to(at::kCPU, false, /*copy=*/true);
    }
    return out;
  }

  void load_state(const std::map<std::string, at::Tensor>& state) override {
    std::set<std::string> used;
    auto take = [&](const ParamState& s, const std::string& suffix) {
      const std::string key = s.name + "." + suffix;
      auto it = state.find(key);
      if (it == state.end())
        throw std::invalid_argument("adamw: optimizer state lacks '" + key + "'");
      if (it->second.sizes() != s.param.sizes())
        throw std::invalid_argument("adamw: optimizer state '" + key + "' has the wrong shape");
      used.insert(key);
      return it->second.to(s.param.options(), false, /*copy=*/true);
    };
    std::vector<ParamState> loaded;
    for (const auto& old : states_) {
      ParamState s{old.name, old.param};
      auto it = state.find(s.name + ".step");
      if (it != state.end()) {
        used.insert(it->first);
        s.step = it->second.item<int64_t>();
        if (s.step < 0) throw std::invalid_argument("adamw: negative step for " + s.name);
      }
      if (s.step > 0) {
        s.exp_avg = take(s, "exp_avg");
        s.exp_avg_sq = take(s, "exp_avg_sq");
      }
      loaded.push_back(std::move(s));
    }
    for (const auto& kv : state)
      if (!used.count(kv.first))
        throw std::invalid_argument("adamw: unexpected optimizer state '" + kv.first + "'");
    states_ = std::move(loaded);
  }

 private:
  AdamWOptions opt_;
  std::vector<ParamState> states_;
};

class AdamWPlugin : public imlsdk::OptimizerPlugin {
 public:
  std::vector<ParamSpec> params() const override {
    // Defaults: torch.optim.AdamW as HF Trainer builds it (adamw_torch, weight_decay 0).
    return {
        {"beta1", ParamType::Float, 0.9, "first-moment decay"},
        {"beta2", ParamType::Float, 0.999, "second-moment decay"},
        {"eps", ParamType::Float, 1e-8, "added to the bias-corrected sqrt of the second moment"},
        {"weight_decay", ParamType::Float, 0.0, "decoupled weight decay: p *= 1 - lr*weight_decay"},
    };
  }

  std::unique_ptr<imlsdk::Optimizer> create(const Json& params,
                                            const imlsdk::NamedTensors& parameters) const override {
    AdamWOptions o;
    o.beta1 = params.at("beta1").get<double>();
    o.beta2 = params.at("beta2").get<double>();
    o.eps = params.at("eps").get<double>();
    o.weight_decay = params.at("weight_decay").get<double>();
    if (!(o.beta1 >= 0 && o.beta1 < 1)) throw std::invalid_argument("adamw: beta1 must be in [0, 1)");
    if (!(o.beta2 >= 0 && o.beta2 < 1)) throw std::invalid_argument("adamw: beta2 must be in [0, 1)");
    if (!(o.eps >= 0)) throw std::invalid_argument("adamw: eps must be >= 0");
    if (!(o.weight_decay >= 0)) throw std::invalid_argument("adamw: weight_decay must be >= 0");
    return std::make_unique<AdamW>(o, parameters);
  }
};

}  // namespace

IMLSDK_PLUGIN(AdamWPlugin, "adamw", "1.0.0",
              "AdamW as torch.optim.AdamW (decoupled weight decay, bias correction)");
