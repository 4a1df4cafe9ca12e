// Adafactor (Shazeer & Stern 2018, https://arxiv.org/abs/1804.04235) with the semantics of
// HF Transformers 4.33 `transformers.optimization.Adafactor`:
//   - second moment factored into row and column averages for >= 2-D parameters, a full
//     average for 0-D/1-D ones, decaying with beta2t = 1 - step^decay_rate;
//   - the update grad / sqrt(second moment) is clipped to RMS <= clip_threshold;
//   - step size: the host's lr, or with relative_step min(1e-2 (1e-6*step with warmup_init),
//     1/sqrt(step)); times max(eps2, RMS(param)) with scale_parameter;
//   - optional first moment (beta1), weight decay p -= weight_decay * step_size * p.
// fp16/bf16 parameters are updated in fp32 and copied back, as HF does.
#include <ATen/ATen.h>
#include <ATen/core/grad_mode.h>

#include <algorithm>
#include <cmath>
#include <optional>
#include <set>
#include <stdexcept>

#include "imlsdk/optimizer.hpp"

namespace {

using imlsdk::Json;
using imlsdk::ParamSpec;
using imlsdk::ParamType;

struct AdafactorOptions {
  double eps1 = 1e-30;  // added to grad^2
  double eps2 = 1e-3;   // floor of the parameter RMS in the relative step size
  double clip_threshold = 1.0;
  double decay_rate = -0.8;
  std::optional<double> beta1;  // first moment only if set
  double weight_decay = 0.0;
  bool scale_parameter = false;
  bool relative_step = false;
  bool warmup_init = false;
};

// Per-parameter state, named as in HF's optimizer state dict.
struct ParamState {
  std::string name;
  at::Tensor param;
  int64_t step = 0;           // updates applied to this parameter (0 = no state yet)
  at::Tensor exp_avg;         // first moment (beta1 only)
  at::Tensor exp_avg_sq_row;  // factored second moment: mean over the last dim...
  at::Tensor exp_avg_sq_col;  // ...and over the second-to-last dim
  at::Tensor exp_avg_sq;      // unfactored second moment (0-D/1-D parameters)

  bool factored() const { return param.dim() >= 2; }
};

at::Tensor rms(const at::Tensor& t) { return t.norm() / std::sqrt(static_cast<double>(t.numel())); }

// fp16/bf16 are computed in fp32; fp32/fp64 in their own precision.
at::ScalarType compute_dtype(at::ScalarType t) {
  return (t == at::kHalf || t == at::kBFloat16) ? at::kFloat : t;
}

class Adafactor : public imlsdk::Optimizer {
 public:
  Adafactor(const AdafactorOptions& opt, const imlsdk::NamedTensors& parameters) : opt_(opt) {
    for (const auto& [name, p] : parameters) states_.push_back(ParamState{name, p});
  }

  void step(double lr) override {
    if (!opt_.relative_step && !(std::isfinite(lr) && lr >= 0))
      throw std::invalid_argument("adafactor: learning rate must be finite and >= 0, got " +
                                  std::to_string(lr));
    at::NoGradGuard no_grad;
    for (auto& s : states_) {
      if (!s.param.grad().defined()) continue;  // HF skips parameters without a gradient
      update(s, lr);
    }
  }

  std::map<std::string, at::Tensor> state() const override {
    // Snapshot copies on the CPU: a checkpoint must not change when training goes on.
    std::map<std::string, at::Tensor> out;
    auto put = [&](const std::string& key, const at::Tensor& t) {
      if (t.defined()) out[key] = t.detach().to(at::kCPU, /*non_blocking=*/false, /*copy=*/true);
    };
    for (const auto& s : states_) {
      if (s.step == 0) continue;
      out[s.name + ".step"] = at::scalar_tensor(s.step, at::kLong);
      put(s.name + ".exp_avg", s.exp_avg);
      put(s.name + ".exp_avg_sq_row", s.exp_avg_sq_row);
      put(s.name + ".exp_avg_sq_col", s.exp_avg_sq_col);
      put(s.name + ".exp_avg_sq", s.exp_avg_sq);
    }
    return out;
  }

  void load_state(const std::map<std::string, at::Tensor>& state) override {
    std::set<std::string> used;
    auto take = [&](const ParamState& s, const std::string& suffix,
                    at::IntArrayRef shape) -> at::Tensor {
      const std::string key = s.name + "." + suffix;
      auto it = state.find(key);
      if (it == state.end())
        throw std::invalid_argument("adafactor: optimizer state lacks '" + key + "'");
      if (it->second.sizes() != shape)
        throw std::invalid_argument("adafactor: optimizer state '" + key + "' has the wrong shape");
      used.insert(key);
      const auto dtype = compute_dtype(s.param.scalar_type());
      return it->second.to(s.param.device(), dtype, /*non_blocking=*/false, /*copy=*/true);
    };
    std::vector<ParamState> loaded;
    for (const auto& old : states_) {
      ParamState s{old.name, old.param};
      auto it = state.find(s.name + ".step");
      if (it != state.end()) {
        used.insert(it->first);
        s.step = it->second.item<int64_t>();
        if (s.step < 0) throw std::invalid_argument("adafactor: negative step for " + s.name);
      }
      if (s.step > 0) {
        const auto shape = s.param.sizes();
        if (opt_.beta1) s.exp_avg = take(s, "exp_avg", shape);
        if (s.factored()) {
          s.exp_avg_sq_row = take(s, "exp_avg_sq_row", shape.slice(0, shape.size() - 1));
          std::vector<int64_t> col(shape.begin(), shape.end());
          col.erase(col.end() - 2);
          s.exp_avg_sq_col = take(s, "exp_avg_sq_col", col);
        } else {
          s.exp_avg_sq = take(s, "exp_avg_sq", shape);
        }
      }
      loaded.push_back(std::move(s));
    }
    for (const auto& kv : state)
      if (!used.count(kv.first))
        throw std::invalid_argument("adafactor: unexpected optimizer state '" + kv.first + "'");
    states_ = std::move(loaded);
  }

 private:
  void init_state(ParamState& s, const at::Tensor& grad) const {
    if (opt_.beta1) s.exp_avg = at::zeros_like(grad);
    if (s.factored()) {
      s.exp_avg_sq_row = grad.new_zeros(grad.sizes().slice(0, grad.dim() - 1));
      std::vector<int64_t> col(grad.sizes().begin(), grad.sizes().end());
      col.erase(col.end() - 2);
      s.exp_avg_sq_col = grad.new_zeros(col);
    } else {
      s.exp_avg_sq = at::zeros_like(grad);
    }
  }

  double step_size(const ParamState& s, const at::Tensor& p, double lr) const {
    double size = lr;
    if (opt_.relative_step) {
      const double min_step = opt_.warmup_init ? 1e-6 * static_cast<double>(s.step) : 1e-2;
      size = std::min(min_step, 1.0 / std::sqrt(static_cast<double>(s.step)));
    }
    if (opt_.scale_parameter) size *= std::max(opt_.eps2, rms(p).item<double>());
    return size;
  }

  void update(ParamState& s, double lr) {
    const auto dtype = compute_dtype(s.param.scalar_type());
    const at::Tensor grad = s.param.grad().to(dtype);
    if (grad.is_sparse()) throw std::runtime_error("adafactor: sparse gradients are not supported");
    if (s.step == 0) init_state(s, grad);
    // Work on the parameter itself, or on an fp32 copy that is written back at the end.
    at::Tensor p = s.param.scalar_type() == dtype ? s.param : s.param.to(dtype);

    s.step += 1;
    const double size = step_size(s, p, lr);
    const double beta2t = 1.0 - std::pow(static_cast<double>(s.step), opt_.decay_rate);

    at::Tensor u = grad.pow(2).add_(opt_.eps1);
    if (s.factored()) {
      s.exp_avg_sq_row.mul_(beta2t).add_(u.mean(-1), 1.0 - beta2t);
      s.exp_avg_sq_col.mul_(beta2t).add_(u.mean(-2), 1.0 - beta2t);
      // Rank-1 approximation of the second moment: row * col / mean(row), as rsqrt factors.
      const at::Tensor r =
          (s.exp_avg_sq_row / s.exp_avg_sq_row.mean(-1, /*keepdim=*/true)).rsqrt_().unsqueeze(-1);
      const at::Tensor c = s.exp_avg_sq_col.unsqueeze(-2).rsqrt();
      u = at::mul(r, c).mul_(grad);
    } else {
      s.exp_avg_sq.mul_(beta2t).add_(u, 1.0 - beta2t);
      u = s.exp_avg_sq.rsqrt().mul_(grad);
    }
    u.div_((rms(u) / opt_.clip_threshold).clamp_min_(1.0));
    u.mul_(size);

    if (opt_.beta1) {
      s.exp_avg.mul_(*opt_.beta1).add_(u, 1.0 - *opt_.beta1);
      u = s.exp_avg;
    }
    if (opt_.weight_decay != 0) p.add_(p, -opt_.weight_decay * size);
    p.sub_(u);
    if (!p.is_same(s.param)) s.param.copy_(p);
  }

  AdafactorOptions opt_;
  std::vector<ParamState> states_;
};

class AdafactorPlugin : public imlsdk::OptimizerPlugin {
 public:
  std::vector<ParamSpec> params() const override {
    // Defaults: what HF Trainer builds for `optim: adafactor` (external lr, no parameter scaling).
    return {
        {"eps1", ParamType::Float, 1e-30, "regularizer added to grad^2 (HF eps[0])"},
        {"eps2", ParamType::Float, 1e-3, "floor of the parameter RMS with scale_parameter (HF eps[1])"},
        {"clip_threshold", ParamType::Float, 1.0, "the update is scaled down to RMS <= this"},
        {"decay_rate", ParamType::Float, -0.8, "second-moment decay: beta2t = 1 - step^decay_rate"},
        {"beta1", ParamType::Float, nullptr, "first-moment decay; absent/null = no first moment", true},
        {"weight_decay", ParamType::Float, 0.0, "decoupled weight decay: p -= weight_decay*lr*p"},
        {"scale_parameter", ParamType::Bool, false, "scale the step size by max(eps2, RMS(param))"},
        {"relative_step", ParamType::Bool, false,
         "own step size min(1e-2, 1/sqrt(step)) instead of the scheduled lr"},
        {"warmup_init", ParamType::Bool, false,
         "with relative_step: min(1e-6*step, 1/sqrt(step)) (needs relative_step)"},
    };
  }

  std::unique_ptr<imlsdk::Optimizer> create(const Json& params,
                                            const imlsdk::NamedTensors& parameters) const override {
    AdafactorOptions o;
    o.eps1 = params.at("eps1").get<double>();
    o.eps2 = params.at("eps2").get<double>();
    o.clip_threshold = params.at("clip_threshold").get<double>();
    o.decay_rate = params.at("decay_rate").get<double>();
    if (params.contains("beta1") && !params["beta1"].is_null())
      o.beta1 = params["beta1"].get<double>();
    o.weight_decay = params.at("weight_decay").get<double>();
    o.scale_parameter = params.at("scale_parameter").get<bool>();
    o.relative_step = params.at("relative_step").get<bool>();
    o.warmup_init = params.at("warmup_init").get<bool>();

    if (!(o.eps1 >= 0)) throw std::invalid_argument("adafactor: eps1 must be >= 0");
    if (!(o.eps2 >= 0)) throw std::invalid_argument("adafactor: eps2 must be >= 0");
    if (!(o.clip_threshold > 0)) throw std::invalid_argument("adafactor: clip_threshold must be > 0");
    if (!(o.decay_rate <= 0))
      throw std::invalid_argument("adafactor: decay_rate must be <= 0 (beta2t = 1 - step^decay_rate)");
    if (o.beta1 && !(*o.beta1 >= 0 && *o.beta1 < 1))
      throw std::invalid_argument("adafactor: beta1 must be in [0, 1)");
    if (!(o.weight_decay >= 0)) throw std::invalid_argument("adafactor: weight_decay must be >= 0");
    if (o.warmup_init && !o.relative_step)
      throw std::invalid_argument("adafactor: warmup_init requires relative_step");
    return std::make_unique<Adafactor>(o, parameters);
  }
};

}  // namespace

IMLSDK_PLUGIN(AdafactorPlugin, "adafactor", "1.0.0",
              "Adafactor as HF Transformers implements it (factored second moments, update clipping)");
