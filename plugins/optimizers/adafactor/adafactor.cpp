// Adafactor (Shazeer & Stern 2018, https://arxiv.org/abs/1804.04235) with the semantics of
// HF Transformers 4.33 `transformers.optimization.Adafactor`:
//   - second moment factored into row and column averages for >= 2-D parameters, a full
//     average for 0-D/1-D ones, decaying with beta2t = 1 - step^decay_rate;
//   - the update grad / sqrt(second moment) is clipped to RMS <= clip_threshold;
//   - step size: the host's lr, or with relative_step min(1e-2 (1e-6*step with warmup_init),
//     1/sqrt(step)); times max(eps2, RMS(param)) with scale_parameter;
//   - optional first moment (beta1), weight decay p -= weight_decay * step_size * p.
// fp16/bf16 parameters are updated in fp32 and copied back, as HF does.
//
// Two implementations of the factored update: `reference` writes HF's tensor expressions with
// ATen ops (any device, ~20 passes over each matrix), `fused` (CPU, fp32/fp64, contiguous, no
// first moment) does the same arithmetic in three passes over the gradient and skips rows whose
// gradient is entirely zero (their update is exactly 0: most rows of an input embedding).
// `kernel: auto` takes `fused` where it applies.
#include <ATen/ATen.h>
#include <ATen/Dispatch.h>
#include <ATen/core/grad_mode.h>

#include <algorithm>
#include <cmath>
#include <functional>
#include <optional>
#include <set>
#include <vector>
#include <stdexcept>

#include "imlsdk/optimizer.hpp"
#include "imlsdk/parallel.hpp"

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
  bool fused = true;  // kernel auto: the fused CPU update where it applies
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


// ---- fused CPU kernel for factored parameters ------------------------------------------------
//
// For each matrix g [R, C] (the last two dims; leading dims are a batch of matrices):
//   pass 1: row sums and column sums of g^2 (and whether a row is all zeros);
//   then the decayed row/column second moments and their rsqrt factors r_i, c_j (HF: u = g^2 +
//   eps1 averaged, rsqrt(row / mean(row)) and rsqrt(col));
//   pass 2: sum of (r_i c_j g_ij)^2 over nonzero rows (the update's RMS, for clipping);
//   pass 3: p_ij -= scale * r_i * c_j * g_ij over nonzero rows (every row with weight decay),
//   with scale = step size / max(1, RMS / clip_threshold).
// Sums accumulate in double; the result equals the reference to float round-off.
template <typename T>
void fused_factored_update(const T* g, T* p, T* row, T* col, int64_t mats, int64_t R, int64_t C,
                           double beta2t, double eps1, double clip_threshold, double size,
                           double weight_decay) {
  std::vector<double> rowsum(R), colsum(C);
  std::vector<T> cf(C), tmp(C);
  std::vector<char> nonzero(static_cast<size_t>(mats * R));
  double sumsq = 0;  // of the unclipped update, over every matrix
  std::vector<double> scale_r;  // r_i per matrix row, kept for pass 3
  scale_r.reserve(static_cast<size_t>(mats * R));
  std::vector<T> all_cf;
  all_cf.reserve(static_cast<size_t>(mats * C));
  const T b = static_cast<T>(beta2t), a = static_cast<T>(1.0 - beta2t);
  for (int64_t m = 0; m < mats; ++m) {
    const T* gm = g + m * R * C;
    T* rowm = row + m * R;
    T* colm = col + m * C;
    std::fill(colsum.begin(), colsum.end(), 0.0);
    // pass 1
    for (int64_t i = 0; i < R; ++i) {
      const T* gi = gm + i * C;
      T acc = 0, amax = 0;
      for (int64_t j = 0; j < C; ++j) {
        const T q = gi[j] * gi[j];
        tmp[j] = q;
        acc += q;
        amax = std::max(amax, std::abs(gi[j]));
      }
      for (int64_t j = 0; j < C; ++j) colsum[j] += tmp[j];
      rowsum[i] = acc;
      // NaN/inf rows count as nonzero (and spread as in the reference); underflowing g^2 too.
      nonzero[static_cast<size_t>(m * R + i)] = !(amax == 0 && acc == 0);
    }
    // moments and factors
    double row_total = 0;
    for (int64_t i = 0; i < R; ++i) {
      const T mean = static_cast<T>(rowsum[i] / C + eps1);
      rowm[i] = rowm[i] * b + a * mean;
      row_total += rowm[i];
    }
    const double row_mean = row_total / R;
    for (int64_t i = 0; i < R; ++i)
      scale_r.push_back(1.0 / std::sqrt(static_cast<double>(rowm[i]) / row_mean));
    for (int64_t j = 0; j < C; ++j) {
      const T mean = static_cast<T>(colsum[j] / R + eps1);
      colm[j] = colm[j] * b + a * mean;
      cf[j] = static_cast<T>(1.0 / std::sqrt(static_cast<double>(colm[j])));
    }
    all_cf.insert(all_cf.end(), cf.begin(), cf.end());
    // pass 2
    for (int64_t i = 0; i < R; ++i) {
      if (!nonzero[static_cast<size_t>(m * R + i)]) continue;
      const T* gi = gm + i * C;
      T acc = 0;
      for (int64_t j = 0; j < C; ++j) {
        const T u = cf[j] * gi[j];
        acc += u * u;
      }
      const double r = scale_r[static_cast<size_t>(m * R + i)];
      sumsq += r * r * static_cast<double>(acc);
    }
  }
  const double rms = std::sqrt(sumsq / static_cast<double>(mats * R * C));
  const double scale = size / std::max(1.0, rms / clip_threshold);
  const T decay = static_cast<T>(-weight_decay * size);
  // pass 3
  for (int64_t m = 0; m < mats; ++m) {
    const T* cfm = all_cf.data() + m * C;
    for (int64_t i = 0; i < R; ++i) {
      T* pi = p + (m * R + i) * C;
      if (weight_decay != 0)
        for (int64_t j = 0; j < C; ++j) pi[j] += decay * pi[j];
      if (!nonzero[static_cast<size_t>(m * R + i)]) continue;
      const T* gi = g + (m * R + i) * C;
      const T f = static_cast<T>(scale * scale_r[static_cast<size_t>(m * R + i)]);
      for (int64_t j = 0; j < C; ++j) pi[j] -= (f * cfm[j]) * gi[j];
    }
  }
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
    std::vector<ParamState*> todo;
    for (auto& s : states_)
      if (s.param.grad().defined()) todo.push_back(&s);  // HF skips parameters without a gradient
    // On the CPU the parameters are updated side by side (imlsdk::for_each_side_by_side: two
    // groups of about equal size). Each parameter's update reads and writes only its own
    // tensors, so the result is the same bits as one after the other.
    std::vector<int64_t> sizes;
    for (const ParamState* s : todo) sizes.push_back(s->param.numel());
    imlsdk::for_each_side_by_side(sizes, [&](size_t i) { update(*todo[i], lr); },
                                  todo.empty() || todo.front()->param.device().is_cpu() ? 2 : 1);
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

  // The fused kernel's conditions: CPU, fp32/fp64 parameter and gradient in one dtype,
  // contiguous, no first moment.
  bool fused_applies(const ParamState& s, const at::Tensor& grad) const {
    return opt_.fused && !opt_.beta1 && grad.device().is_cpu() && s.param.device().is_cpu() &&
           (grad.scalar_type() == at::kFloat || grad.scalar_type() == at::kDouble) &&
           s.param.scalar_type() == grad.scalar_type() && grad.is_contiguous() &&
           s.param.is_contiguous() && s.exp_avg_sq_row.is_contiguous() &&
           s.exp_avg_sq_col.is_contiguous();
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

    if (s.factored() && fused_applies(s, grad)) {
      const int64_t C = grad.size(-1), R = grad.size(-2), mats = grad.numel() / std::max<int64_t>(1, R * C);
      if (grad.numel() == 0) return;
      AT_DISPATCH_FLOATING_TYPES(grad.scalar_type(), "adafactor_fused", [&] {
        fused_factored_update<scalar_t>(grad.data_ptr<scalar_t>(), s.param.data_ptr<scalar_t>(),
                                        s.exp_avg_sq_row.data_ptr<scalar_t>(),
                                        s.exp_avg_sq_col.data_ptr<scalar_t>(), mats, R, C, beta2t,
                                        opt_.eps1, opt_.clip_threshold, size, opt_.weight_decay);
      });
      return;
    }

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
        {"kernel", ParamType::String, "auto",
         "auto: fused 3-pass CPU update for matrices where it applies; reference: HF's ATen expressions"},
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
    const std::string kernel = params.at("kernel").get<std::string>();
    if (kernel != "auto" && kernel != "reference")
      throw std::invalid_argument("adafactor: kernel must be 'auto' or 'reference', got '" + kernel + "'");
    o.fused = kernel == "auto";

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

IMLSDK_PLUGIN(AdafactorPlugin, "adafactor", "1.2.0",
              "Adafactor as HF Transformers implements it (factored second moments, update clipping)");
