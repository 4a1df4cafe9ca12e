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
// first moment) does the same arithmetic in two passes over the gradient and skips rows whose
// gradient is entirely zero (their update is exactly 0: most rows of an input embedding).
// `kernel: auto` takes `fused` where it applies.
#include <ATen/ATen.h>
#include <ATen/Dispatch.h>
#include <ATen/core/grad_mode.h>

#include <algorithm>
#include <cstdlib>
#include <cmath>
#include <functional>
#include <memory>
#include <optional>
#include <set>
#include <vector>
#include <stdexcept>

#include "imlsdk/cpu.hpp"
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
  int isa = 0;        // the fused kernel's row pass: 0 generic, 1 AVX2, 2 AVX-512 (kIsaNames)
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
//   pass 1 (factored_moments): row sums and column sums of g^2, and whether a row is all zeros;
//     the decayed row second moment of each row as soon as the row is summed (HF: u = g^2 + eps1
//     averaged); then the column moments and the rsqrt factors r_i = rsqrt(row_i / mean(row)),
//     c_j = rsqrt(col_j).
//     The update's sum of squares, for the RMS clip, comes out of the same pass:
//       sum_ij (r_i c_j g_ij)^2 = mean(row) * sum_j (1 / col_j) * sum_i g_ij^2 / row_i,
//     where the inner sum S_j accumulates row by row (row_i is known once row i is summed).
//   pass 2 (FusedApply::run_rows): p_ij -= scale * r_i * c_j * g_ij over nonzero rows (every row with
//     weight decay), with scale = step size / max(1, RMS / clip_threshold). Rows are independent,
//     so the rows of one matrix can be split across threads without changing a bit.
// Sums accumulate in double (row sums in kLanes float lanes); the result equals the reference to
// float round-off.
//
// The row reductions run in kLanes interleaved partial sums (element j goes to sum j % kLanes),
// added up in a fixed tree at the end: independent chains the compiler turns into vector adds,
// instead of one serial chain of dependent adds per row. A fixed order, so the same bits on
// every run.
constexpr int kLanes = 16;

#if defined(__GNUC__)
#define IMLSDK_ALWAYS_INLINE __attribute__((always_inline))
#else
#define IMLSDK_ALWAYS_INLINE
#endif

template <typename T>
IMLSDK_ALWAYS_INLINE inline T lane_sum(const T (&v)[kLanes]) {
  T s[kLanes / 2];
  for (int l = 0; l < kLanes / 2; ++l) s[l] = v[l] + v[l + kLanes / 2];
  for (int w = kLanes / 4; w >= 1; w /= 2)
    for (int l = 0; l < w; ++l) s[l] += s[l + w];
  return s[0];
}

// Row i's sum in kLanes lanes (the vectorizable form of lane_sum's order).
template <typename T>
IMLSDK_ALWAYS_INLINE inline T lane_row_sum(const T* x, int64_t n) {
  T acc[kLanes] = {};
  int64_t j = 0;
  for (; j + kLanes <= n; j += kLanes)
    for (int l = 0; l < kLanes; ++l) acc[l] += x[j + l];
  for (int l = 0; j < n; ++j, ++l) acc[l] += x[j];
  return lane_sum(acc);
}

// q_j = (k x_j)^2; whether any k x_j is not 0 (NaN counts as not 0).
template <typename T>
IMLSDK_ALWAYS_INLINE inline bool square_any_nonzero(const T* x, T k, T* q, int64_t n) {
  unsigned any = 0;
  for (int64_t j = 0; j < n; ++j) {
    const T v = x[j] * k;
    q[j] = v * v;
    any |= v != 0;
  }
  return any != 0;
}

// Pass 2 runs in blocks of about this many elements, spread over both threads.
constexpr int64_t kPass2BlockElements = int64_t{1} << 18;

// Pass 2 of a fused update, ready to run on any range of the gradient's rows (all matrices'
// rows in one numbering, m * R + i).
struct FusedApply {
  int64_t rows = 0, cols = 0;
  // Per row, what pass 2 does: 0 nothing, 1 the weight decay only (a zero-gradient row), 2 the
  // update (and the decay, if any).
  std::vector<char> work;
  std::function<void(int64_t, int64_t)> run_rows;  // pass 2 on rows [begin, end)
};

// Pass 1 over the rows of one matrix gm [R, C]: the decayed row moments, each row's kind of work,
// and the column sums of g^2 and of g^2 / row moment (in double); returns the rows' moments
// summed. Compiled a second time for AVX2 and for AVX-512 (this file is built with
// -ffp-contract=off and the sums keep their lane order, so every version gives the same bits).
template <typename T>
IMLSDK_ALWAYS_INLINE inline double row_moments_any(const T* __restrict gm, T* __restrict rowm, int64_t R, int64_t C,
                                                   T k, T b, T a, double eps1, bool decays, char* __restrict work,
                                                   double* __restrict colsum, double* __restrict weighted,
                                                   T* __restrict tmp) {
  double row_total = 0;
  for (int64_t i = 0; i < R; ++i) {
    const T* gi = gm + i * C;
    // NaN/inf rows count as nonzero (and spread as in the reference); underflowing g^2 too.
    const bool nonzero = square_any_nonzero(gi, k, tmp, C);
    // An all-zero row's squares are all +0: it adds nothing to the sums, and its update is 0.
    const T acc = nonzero ? lane_row_sum(tmp, C) : T(0);
    const T mean = static_cast<T>(static_cast<double>(acc) / C + eps1);
    rowm[i] = rowm[i] * b + a * mean;
    row_total += rowm[i];
    work[i] = nonzero ? 2 : decays ? 1 : 0;
    if (!nonzero) continue;
    const double w = 1.0 / static_cast<double>(rowm[i]);
    for (int64_t c = 0; c < C; ++c) {
      colsum[c] += tmp[c];
      weighted[c] += w * tmp[c];
    }
  }
  return row_total;
}

#if defined(__x86_64__) && defined(__GNUC__)
template <typename T>
__attribute__((target("avx2"))) double row_moments_avx2(const T* gm, T* rowm, int64_t R, int64_t C, T k, T b, T a,
                                                        double eps1, bool decays, char* work, double* colsum,
                                                        double* weighted, T* tmp) {
  return row_moments_any(gm, rowm, R, C, k, b, a, eps1, decays, work, colsum, weighted, tmp);
}
template <typename T>
__attribute__((target("avx512f"))) double row_moments_avx512(const T* gm, T* rowm, int64_t R, int64_t C, T k, T b, T a,
                                                             double eps1, bool decays, char* work, double* colsum,
                                                             double* weighted, T* tmp) {
  return row_moments_any(gm, rowm, R, C, k, b, a, eps1, decays, work, colsum, weighted, tmp);
}
#endif

// The row pass's versions, by AdafactorOptions::isa (imlsdk/cpu.hpp's numbers; auto: the widest
// this CPU runs).
const char* const kIsaNames[] = {"generic", "avx2", "avx512"};

template <typename T>
double row_moments(int isa, const T* gm, T* rowm, int64_t R, int64_t C, T k, T b, T a, double eps1, bool decays,
                   char* work, double* colsum, double* weighted, T* tmp) {
#if defined(__x86_64__) && defined(__GNUC__)
  if (isa == 2) return row_moments_avx512(gm, rowm, R, C, k, b, a, eps1, decays, work, colsum, weighted, tmp);
  if (isa == 1) return row_moments_avx2(gm, rowm, R, C, k, b, a, eps1, decays, work, colsum, weighted, tmp);
#endif
  return row_moments_any(gm, rowm, R, C, k, b, a, eps1, decays, work, colsum, weighted, tmp);
}

template <typename T>
FusedApply factored_moments(int isa, const T* g, T k, T* p, T* row, T* col, int64_t mats, int64_t R, int64_t C,
                            double beta2t, double eps1, double clip_threshold, double size,
                            double weight_decay) {
  std::vector<double> colsum(static_cast<size_t>(C)), weighted(static_cast<size_t>(C));
  std::vector<T> tmp(static_cast<size_t>(C));
  auto cf = std::make_shared<std::vector<T>>(static_cast<size_t>(mats * C));
  auto f = std::make_shared<std::vector<T>>(static_cast<size_t>(mats * R));
  FusedApply out;
  out.rows = mats * R;
  out.cols = C;
  out.work.assign(static_cast<size_t>(mats * R), 0);
  std::vector<double> r(static_cast<size_t>(mats * R));
  double sumsq = 0;  // of the unclipped update, over every matrix
  const T b = static_cast<T>(beta2t), a = static_cast<T>(1.0 - beta2t);
  for (int64_t m = 0; m < mats; ++m) {
    const T* gm = g + m * R * C;
    T* rowm = row + m * R;
    T* colm = col + m * C;
    std::fill(colsum.begin(), colsum.end(), 0.0);
    std::fill(weighted.begin(), weighted.end(), 0.0);
    const double row_total =
        row_moments(isa, gm, rowm, R, C, k, b, a, eps1, weight_decay != 0, out.work.data() + m * R, colsum.data(),
                    weighted.data(), tmp.data());
    const double row_mean = row_total / R;
    for (int64_t i = 0; i < R; ++i)
      r[static_cast<size_t>(m * R + i)] = 1.0 / std::sqrt(static_cast<double>(rowm[i]) / row_mean);
    T* cfm = cf->data() + m * C;
    double part = 0;
    for (int64_t c = 0; c < C; ++c) {
      const T mean = static_cast<T>(colsum[c] / R + eps1);
      colm[c] = colm[c] * b + a * mean;
      cfm[c] = static_cast<T>(1.0 / std::sqrt(static_cast<double>(colm[c])));
      // A column that no nonzero row reaches adds nothing (even where c_j is inf, eps1 = 0).
      if (weighted[c] != 0) part += weighted[c] * (static_cast<double>(cfm[c]) * cfm[c]);
    }
    sumsq += row_mean * part;
  }
  const double rms = std::sqrt(sumsq / static_cast<double>(mats * R * C));
  const double scale = size / std::max(1.0, rms / clip_threshold);
  for (size_t i = 0; i < r.size(); ++i) (*f)[i] = static_cast<T>(scale * r[i]);
  const T decay = static_cast<T>(-weight_decay * size);
  const bool decays = weight_decay != 0;
  out.run_rows = [g, gs = k, p, C, R, cf, f, decay, decays, work = out.work](int64_t begin, int64_t end) {
    for (int64_t k = begin; k < end; ++k) {
      const char what = work[static_cast<size_t>(k)];
      if (what == 0) continue;
      T* pk = p + k * C;
      if (decays)
        for (int64_t j = 0; j < C; ++j) pk[j] += decay * pk[j];
      if (what == 1) continue;
      const T* gk = g + k * C;
      const T* cfm = cf->data() + (k / R) * C;
      const T fk = (*f)[static_cast<size_t>(k)];
      for (int64_t j = 0; j < C; ++j) pk[j] -= (fk * cfm[j]) * (gk[j] * gs);
    }
  };
  return out;
}

class Adafactor : public imlsdk::Optimizer {
 public:
  Adafactor(const AdafactorOptions& opt, const imlsdk::NamedTensors& parameters) : opt_(opt) {
    for (const auto& [name, p] : parameters) states_.push_back(ParamState{name, p});
  }

  void step(double lr) override { step_impl(lr, 1.0); }

  // SDK 2.9: each gradient is read as grad * grad_scale (the fused kernel multiplies as it reads,
  // the reference kernel works on a scaled copy): the bits of scaling the gradients first.
  bool step_scaled(double lr, double grad_scale) override {
    step_impl(lr, grad_scale);
    return true;
  }

  void step_impl(double lr, double grad_scale) {
    if (!opt_.relative_step && !(std::isfinite(lr) && lr >= 0))
      throw std::invalid_argument("adafactor: learning rate must be finite and >= 0, got " +
                                  std::to_string(lr));
    at::NoGradGuard no_grad;
    std::vector<ParamState*> todo;
    for (auto& s : states_)
      if (s.param.grad().defined()) todo.push_back(&s);  // HF skips parameters without a gradient
    // On the CPU the work runs side by side (imlsdk::for_each_side_by_side: two groups of about
    // equal cost) in two rounds: each parameter's moments (the fused kernel's pass 1, or the whole
    // reference update), then the fused kernel's pass 2 in blocks of rows, so that one big matrix
    // (an LM head) is split across both threads. Each piece reads and writes only its own
    // tensors or rows, so the result is the same bits as one after the other.
    const int64_t parts = todo.empty() || todo.front()->param.device().is_cpu() ? 2 : 1;
    std::vector<int64_t> sizes;
    for (const ParamState* s : todo) sizes.push_back(s->param.numel());
    std::vector<FusedApply> pending(todo.size());
    imlsdk::for_each_side_by_side(sizes, [&](size_t i) { pending[i] = update(*todo[i], lr, grad_scale); }, parts);

    struct Block {
      size_t param;
      int64_t begin, end;
    };
    std::vector<Block> blocks;
    std::vector<int64_t> costs;
    const bool decays = opt_.weight_decay != 0;
    for (size_t i = 0; i < pending.size(); ++i) {
      const FusedApply& a = pending[i];
      if (!a.run_rows) continue;
      const int64_t rows_per_block = std::max<int64_t>(1, kPass2BlockElements / std::max<int64_t>(1, a.cols));
      for (int64_t b = 0; b < a.rows; b += rows_per_block) {
        const int64_t e = std::min(a.rows, b + rows_per_block);
        int64_t cost = 0;  // memory passes over a row: update 3 (+2 with decay), decay only 2
        for (int64_t k = b; k < e; ++k) {
          const char what = a.work[static_cast<size_t>(k)];
          cost += what == 2 ? 3 + (decays ? 2 : 0) : what == 1 ? 2 : 0;
        }
        if (cost == 0) continue;
        blocks.push_back({i, b, e});
        costs.push_back(cost * a.cols);
      }
    }
    imlsdk::for_each_side_by_side(
        costs, [&](size_t k) { pending[blocks[k].param].run_rows(blocks[k].begin, blocks[k].end); }, parts);
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

  // The whole update, or for the fused kernel its pass 1, with pass 2 returned to run later.
  FusedApply update(ParamState& s, double lr, double grad_scale) {
    const auto dtype = compute_dtype(s.param.scalar_type());
    const at::Tensor raw = s.param.grad();
    if (raw.is_sparse()) throw std::runtime_error("adafactor: sparse gradients are not supported");
    if (s.step == 0) init_state(s, raw.to(dtype));
    const bool fused = s.factored() && fused_applies(s, raw);
    // The fused kernel scales as it reads; the reference kernel (and any dtype conversion) starts
    // from the gradient scaled as clip_grad_norm leaves it, in its own dtype.
    const bool scale_here = grad_scale != 1.0 && !fused;
    const at::Tensor grad = (scale_here ? raw * grad_scale : raw).to(dtype);
    // Work on the parameter itself, or on an fp32 copy that is written back at the end.
    at::Tensor p = s.param.scalar_type() == dtype ? s.param : s.param.to(dtype);

    s.step += 1;
    const double size = step_size(s, p, lr);
    const double beta2t = 1.0 - std::pow(static_cast<double>(s.step), opt_.decay_rate);

    if (fused) {
      const int64_t C = grad.size(-1), R = grad.size(-2), mats = grad.numel() / std::max<int64_t>(1, R * C);
      if (grad.numel() == 0) return {};
      FusedApply out;
      AT_DISPATCH_FLOATING_TYPES(grad.scalar_type(), "adafactor_fused", [&] {
        const auto k = static_cast<scalar_t>(grad_scale);
        out = factored_moments<scalar_t>(opt_.isa, grad.data_ptr<scalar_t>(), k, s.param.data_ptr<scalar_t>(),
                                         s.exp_avg_sq_row.data_ptr<scalar_t>(),
                                         s.exp_avg_sq_col.data_ptr<scalar_t>(), mats, R, C, beta2t,
                                         opt_.eps1, opt_.clip_threshold, size, opt_.weight_decay);
      });
      // Pass 2 reads the gradient and writes the parameter: hold both until it has run.
      out.run_rows = [run = std::move(out.run_rows), grad, param = s.param](int64_t b, int64_t e) { run(b, e); };
      return out;
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
    return {};
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
         "auto: fused 2-pass CPU update for matrices where it applies, its row pass in the widest vectors this "
         "CPU has; reference: HF's ATen expressions; fused-generic, fused-avx2, fused-avx512: the fused update "
         "with that row pass (the same bits as auto; for tests, refused where the CPU lacks it)"},
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
    o.fused = kernel != "reference";
    o.isa = imlsdk::widest_isa();
    if (kernel != "auto" && kernel != "reference") {
      int isa = -1;
      for (int i = 0; i < 3; ++i)
        if (kernel == std::string("fused-") + kIsaNames[i]) isa = i;
      if (isa < 0)
        throw std::invalid_argument("adafactor: kernel must be 'auto', 'reference', 'fused-generic', 'fused-avx2' "
                                    "or 'fused-avx512', got '" + kernel + "'");
      if (!imlsdk::cpu_runs_isa(isa))
        throw std::invalid_argument("adafactor: kernel '" + kernel + "': this CPU (or this build) lacks " +
                                    kIsaNames[isa]);
      o.isa = isa;
    }

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

IMLSDK_PLUGIN(AdafactorPlugin, "adafactor", "1.4.0",
              "Adafactor as HF Transformers implements it (factored second moments, update clipping)");
