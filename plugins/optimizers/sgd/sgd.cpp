// Stochastic gradient descent with the semantics of torch.optim.SGD:
//   d = g + weight_decay*p                        (L2 penalty, coupled)
//   b = d on the first step, else momentum*b + (1-dampening)*d
//   d = d + momentum*b (nesterov) or b            (only with momentum != 0)
//   p -= lr*d
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

struct SgdOptions {
  double momentum = 0.0;
  double dampening = 0.0;
  double weight_decay = 0.0;
  bool nesterov = false;
};

struct ParamState {
  std::string name;
  at::Tensor param;
  at::Tensor momentum_buffer;  // undefined until the first step with momentum
};

class Sgd : public imlsdk::Optimizer {
 public:
  Sgd(const SgdOptions& opt, const imlsdk::NamedTensors& parameters) : opt_(opt) {
    for (const auto& [name, p] : parameters) states_.push_back(ParamState{name, p});
  }

  void step(double lr) override {
    if (!(std::isfinite(lr) && lr >= 0))
      throw std::invalid_argument("sgd: learning rate must be finite and >= 0, got " +
                                  std::to_string(lr));
    at::NoGradGuard no_grad;
    for (auto& s : states_) {
      at::Tensor d = s.param.grad();
      if (!d.defined()) continue;  // torch skips parameters without a gradient
      if (d.is_sparse()) throw std::runtime_error("sgd: sparse gradients are not supported");
      if (opt_.weight_decay != 0) d = d.add(s.param, opt_.weight_decay);
      if (opt_.momentum != 0) {
        if (!s.momentum_buffer.defined())
          s.momentum_buffer = d.clone();
        else
          s.momentum_buffer.mul_(opt_.momentum).add_(d, 1.0 - opt_.dampening);
        d = opt_.nesterov ? d.add(s.momentum_buffer, opt_.momentum) : s.momentum_buffer;
      }
      s.param.add_(d, -lr);
    }
  }

  std::map<std::string, at::Tensor> state() const override {
    // Snapshot copies on the CPU: a checkpoint must not change when training goes on.
    std::map<std::string, at::Tensor> out;
    for (const auto& s : states_)
      if (s.momentum_buffer.defined())
        out[s.name + ".momentum_buffer"] = s.momentum_buffer.to(at::kCPU, false, /*copy=*/true);
    return out;
  }

  void load_state(const std::map<std::string, at::Tensor>& state) override {
    std::set<std::string> used;
    std::vector<ParamState> loaded;
    for (const auto& old : states_) {
      ParamState s{old.name, old.param};
      const std::string key = s.name + ".momentum_buffer";
      auto it = state.find(key);
      if (it != state.end()) {
        if (it->second.sizes() != s.param.sizes())
          throw std::invalid_argument("sgd: optimizer state '" + key + "' has the wrong shape");
        s.momentum_buffer = it->second.to(s.param.options(), false, /*copy=*/true);
        used.insert(key);
      }
      loaded.push_back(std::move(s));
    }
    for (const auto& kv : state)
      if (!used.count(kv.first))
        throw std::invalid_argument("sgd: unexpected optimizer state '" + kv.first + "'");
    states_ = std::move(loaded);
  }

 private:
  SgdOptions opt_;
  std::vector<ParamState> states_;
};

class SgdPlugin : public imlsdk::OptimizerPlugin {
 public:
  std::vector<ParamSpec> params() const override {
    return {
        {"momentum", ParamType::Float, 0.0, "momentum factor (0 = plain SGD)"},
        {"dampening", ParamType::Float, 0.0, "momentum dampening"},
        {"weight_decay", ParamType::Float, 0.0, "L2 penalty added to the gradient"},
        {"nesterov", ParamType::Bool, false, "Nesterov momentum (needs momentum > 0, dampening 0)"},
    };
  }

  std::unique_ptr<imlsdk::Optimizer> create(const Json& params,
                                            const imlsdk::NamedTensors& parameters) const override {
    SgdOptions o;
    o.momentum = params.at("momentum").get<double>();
    o.dampening = params.at("dampening").get<double>();
    o.weight_decay = params.at("weight_decay").get<double>();
    o.nesterov = params.at("nesterov").get<bool>();
    if (!(o.momentum >= 0)) throw std::invalid_argument("sgd: momentum must be >= 0");
    if (!(o.weight_decay >= 0)) throw std::invalid_argument("sgd: weight_decay must be >= 0");
    if (!std::isfinite(o.dampening)) throw std::invalid_argument("sgd: dampening must be finite");
    if (o.nesterov && (o.momentum <= 0 || o.dampening != 0))
      throw std::invalid_argument("sgd: nesterov requires momentum > 0 and dampening 0");
    return std::make_unique<Sgd>(o, parameters);
  }
};

}  // namespace

IMLSDK_PLUGIN(SgdPlugin, "sgd", "1.0.0", "SGD as torch.optim.SGD (momentum, dampening, nesterov)");
