// Building blocks shared by the language models: loss, attention bias, rotary embeddings,
// position ids and loading weights by name.
#include <ATen/ATen.h>
#include <ATen/core/grad_mode.h>
#include <torch/csrc/autograd/custom_function.h>

#include <algorithm>
#include <limits>
#include <stdexcept>

#include "imlsdk/model.hpp"
#include "row_softmax.hpp"

namespace imlsdk {

namespace {

// Whether a loss's incoming gradient is exactly 1 (a CPU scalar: the usual case), so that a
// gradient computed in the forward pass needs no scaling. Not asked of other devices (a sync).
bool unit_gradient(const torch::Tensor& g) { return g.device().is_cpu() && g.item<double>() == 1.0; }

// Next-token targets [B, T] for labels [B, T] on `device`: HF shifts logits[:, :-1] against
// labels[:, 1:]; shifting the labels instead (the last position gets -100) gives the same mean
// without copying the [B, T, V] logits (or their head's input).
torch::Tensor next_token_targets(const torch::Tensor& labels, int64_t B, int64_t T, const c10::Device& device) {
  torch::Tensor targets = at::full({B, T}, -100, labels.options().dtype(at::kLong).device(device));
  targets.narrow(1, 0, T - 1).copy_(labels.narrow(1, 1, T - 1));
  return targets;
}

// Mean cross-entropy over rows whose target is not -100. When a gradient will be needed, the
// forward pass also computes it, (softmax - onehot) / count, row block by row block while the
// block is in cache (log_softmax, gather, exp, scale), into one [N, V] buffer that the
// backward pass only rescales. Autograd's own path would make four more passes over [N, V]
// in memory and allocate two more [N, V] tensors (nll_loss's and log_softmax's gradients);
// at LM vocabulary sizes each pass costs tens of milliseconds.
struct CrossEntropy : torch::autograd::Function<CrossEntropy> {
  static torch::Tensor forward(torch::autograd::AutogradContext* ctx, const torch::Tensor& logits,
                               const torch::Tensor& targets) {
    const int64_t N = logits.size(0), V = logits.size(1);
    torch::Tensor keep = targets.ne(-100);
    torch::Tensor safe_targets = targets.clamp_min(0).unsqueeze(1);  // [N, 1]
    torch::Tensor count = keep.sum().to(logits.scalar_type());
    torch::Tensor picked = at::empty({N}, logits.options());
    // ~1 MB of logits per block on the CPU (stays in L2); one block on other devices.
    const int64_t rows = logits.device().is_cpu()
                             ? std::max<int64_t>(1, (int64_t{1} << 18) / std::max<int64_t>(1, V))
                             : N;
    if (!logits.requires_grad()) {  // evaluation: the loss only
      // Row block by row block into one reused buffer instead of a whole [N, V] log_softmax:
      // log_softmax is computed row by row, so every picked value is the same.
      torch::Tensor buf = at::empty({std::min(rows, N), V}, logits.options());
      for (int64_t r0 = 0; r0 < N; r0 += rows) {
        const int64_t n = std::min(rows, N - r0);
        torch::Tensor g = buf.narrow(0, 0, n);
        at::_log_softmax_out(g, logits.narrow(0, r0, n), 1, false);
        picked.narrow(0, r0, n).copy_(g.gather(1, safe_targets.narrow(0, r0, n)).squeeze(1));
      }
      return -(picked * keep).sum() / count;
    }
    torch::Tensor grad = at::empty_like(logits, at::MemoryFormat::Contiguous);
    const torch::Tensor weight = keep.to(logits.scalar_type()) / count;  // [N]
    for (int64_t r0 = 0; r0 < N; r0 += rows) {
      const int64_t n = std::min(rows, N - r0);
      torch::Tensor g = grad.narrow(0, r0, n);
      at::_log_softmax_out(g, logits.narrow(0, r0, n), 1, false);
      const torch::Tensor t = safe_targets.narrow(0, r0, n);
      picked.narrow(0, r0, n).copy_(g.gather(1, t).squeeze(1));
      g.exp_().mul_(weight.narrow(0, r0, n).unsqueeze(1));
    }
    grad.scatter_add_(1, safe_targets, -weight.unsqueeze(1));
    ctx->save_for_backward({grad});
    return -(picked * keep).sum() / count;
  }

  static torch::autograd::variable_list backward(torch::autograd::AutogradContext* ctx,
                                                 torch::autograd::variable_list grad_out) {
    torch::Tensor grad = ctx->get_saved_variables()[0];  // used once: scaled in place
    const torch::Tensor& g = grad_out[0];
    if (!unit_gradient(g)) grad.mul_(g);
    return {grad, torch::Tensor()};
  }
};

// Half-precision logits (bf16 from a head under training.precision=bf16's autocast) are upcast
// so that the softmax, the loss and its gradient run in fp32, as autocast runs its fp32 ops;
// the cast's backward hands the head a gradient in the logits' dtype.
torch::Tensor full_precision(const torch::Tensor& logits) {
  const auto t = logits.scalar_type();
  return t == at::kFloat || t == at::kDouble ? logits : logits.to(at::kFloat);
}

// From this vocabulary size and head width on, a block of logits is [V, n] (see the forward below).
constexpr int64_t kColumnBlockVocab = 4096, kColumnBlockWidth = 256;

// Mean cross-entropy of scale * hidden @ weight^T [N, V] against targets [N] (-100 ignored),
// over the kept rows only, row block by row block (linear_cross_entropy). With a gradient, each
// block's (softmax - onehot) * scale / count goes into the gradients of the kept rows of hidden
// (block @ weight) and of weight (+= block^T @ rows) right after its softmax (still in cache for
// narrow vocabularies; a wide one's block is read back from memory); the backward pass only
// scales those two and puts the rows back in place. The block is big enough that re-reading the
// weight once per block costs less than the logits' traffic it saves.
struct LinearCrossEntropy : torch::autograd::Function<LinearCrossEntropy> {
  static torch::Tensor forward(torch::autograd::AutogradContext* ctx, const torch::Tensor& hidden,
                               const torch::Tensor& weight, const torch::Tensor& targets, double scale,
                               bool grad_hidden, bool grad_weight) {
    const int64_t N = hidden.size(0), C = hidden.size(1), V = weight.size(0);
    const torch::Tensor kept = targets.ne(-100).nonzero().squeeze(1);  // [K]
    const int64_t K = kept.numel();
    const torch::Tensor h = K == N ? hidden.contiguous() : hidden.index_select(0, kept);
    const torch::Tensor t = (K == N ? targets : targets.index_select(0, kept)).unsqueeze(1);  // [K, 1]
    const int64_t rows = hidden.device().is_cpu()
                             ? std::max({int64_t{16}, (int64_t{1} << 17) / std::max<int64_t>(1, V), 4 * C})
                             : std::max<int64_t>(1, K);
    const double w = K > 0 ? scale / static_cast<double>(K) : 0.0;  // d loss / d logit of a kept row
    torch::Tensor picked = at::empty({K}, hidden.options());
    torch::Tensor gh = grad_hidden ? at::empty({K, C}, hidden.options()) : torch::Tensor();
    torch::Tensor gw = grad_weight ? at::empty({V, C}, weight.options()) : torch::Tensor();  // the first block writes it
    // Wide vocabularies and heads take the block transposed, [V, n]: oneDNN runs z^T = W h^T,
    // W^T z^T and z^T h at 3-21 % more FLOP/s there than z = h W^T, z W and z^T h, and the softmax
    // runs down the columns. That softmax reads the block from memory twice (a row of [n, V] is
    // still in cache for its second pass), which costs more than the GEMMs gain where C is small
    // (docs/performance.md: Pythia-70M's step +3.4 % in the median of eight pairs, C 128 4-6 %
    // slower). Others keep [n, V].
    const bool by_column = V >= kColumnBlockVocab && C >= kColumnBlockWidth;
    const int64_t most = std::min(rows, K);
    torch::Tensor buf = by_column ? at::empty({V, most}, hidden.options()) : at::empty({most, V}, hidden.options());
    torch::Tensor ght = by_column && grad_hidden ? at::empty({C, most}, hidden.options()) : torch::Tensor();
    const bool fp32_cpu = buf.device().is_cpu() && buf.scalar_type() == at::kFloat;
    const torch::Tensor wt = weight.t();
    const int64_t vd = by_column ? 0 : 1;  // the vocabulary's dim of z
    for (int64_t r0 = 0; r0 < K; r0 += rows) {
      const int64_t n = std::min(rows, K - r0);
      torch::Tensor z = buf.narrow(1 - vd, 0, n);
      const torch::Tensor hb = h.narrow(0, r0, n);
      const torch::Tensor tb = by_column ? t.narrow(0, r0, n).t() : t.narrow(0, r0, n);  // [1, n] or [n, 1]
      if (by_column) at::mm_out(z, weight, hb.t());
      else at::mm_out(z, hb, wt);
      if (scale != 1.0) z.mul_(scale);
      // One exp per logit: e = exp(z - max), log p[target] = z[target] - max - log(sum e), and
      // the softmax is e / sum e. In fp32 on the CPU the max, exp and sum are one fused kernel
      // (row_softmax.cpp).
      const torch::Tensor at_target = z.gather(vd, tb);  // shaped as tb
      torch::Tensor top = at::empty(tb.sizes(), z.options()), sum = at::empty(tb.sizes(), z.options());
      const bool fused =
          fp32_cpu && (by_column ? detail::exp_cols_fp32(z.data_ptr<float>(), V, n, z.stride(0), top.data_ptr<float>(),
                                                         sum.data_ptr<float>())
                                 : detail::exp_rows_fp32(z.data_ptr<float>(), n, V, z.stride(0), top.data_ptr<float>(),
                                                         sum.data_ptr<float>()));
      if (!fused) {
        top = std::get<0>(z.max(vd, /*keepdim=*/true));
        z.sub_(top).exp_();
        sum = z.sum(vd, /*keepdim=*/true);
      }
      picked.narrow(0, r0, n).copy_((at_target - top - sum.log()).view({n}));
      if (!grad_hidden && !grad_weight) continue;
      // d loss / d (h @ W^T) = w (e / sum - onehot) = (e - sum * onehot) * (w / sum): the block
      // keeps e - sum * onehot, and the row factor w / sum scales the GEMMs' [n, C] sides
      // instead of the [n, V] block.
      z.scatter_add_(vd, tb, sum.neg());
      const torch::Tensor factor = sum.reciprocal().mul_(w).view({n, 1});
      if (grad_hidden) {
        torch::Tensor out = gh.narrow(0, r0, n);
        if (by_column) {
          torch::Tensor outt = ght.narrow(1, 0, n);  // [C, n] = W^T z^T, then transposed into out
          at::mm_out(outt, wt, z);
          at::mul_out(out, outt.t(), factor);
        } else {
          at::mm_out(out, z, weight);
          out.mul_(factor);
        }
      }
      if (grad_weight) {
        const torch::Tensor zv = by_column ? z : z.t();  // [V, n]
        if (r0 == 0) at::mm_out(gw, zv, hb * factor);
        else gw.addmm_(zv, hb * factor);
      }
    }
    if (grad_weight && K == 0) gw.zero_();
    ctx->save_for_backward({gh, gw, kept});
    ctx->saved_data["rows"] = N;
    ctx->saved_data["kept_all"] = K == N;
    return -picked.sum() / static_cast<double>(K);  // 0 / 0 = nan without a kept row, as the mean over none
  }

  static torch::autograd::variable_list backward(torch::autograd::AutogradContext* ctx,
                                                 torch::autograd::variable_list grad_out) {
    const auto saved = ctx->get_saved_variables();
    const torch::Tensor& g = grad_out[0];
    const bool one = unit_gradient(g);
    torch::Tensor gh, gw;
    if (saved[0].defined()) {
      torch::Tensor rows = one ? saved[0] : saved[0] * g;
      if (ctx->saved_data["kept_all"].toBool()) {
        gh = rows;
      } else {
        gh = at::zeros({ctx->saved_data["rows"].toInt(), rows.size(1)}, rows.options());
        gh.index_copy_(0, saved[2], rows);
      }
    }
    if (saved[1].defined()) gw = one ? saved[1] : saved[1] * g;
    return {gh, gw, torch::Tensor(), torch::Tensor(), torch::Tensor(), torch::Tensor()};
  }
};

}  // namespace

torch::Tensor causal_lm_loss(const torch::Tensor& logits, const torch::Tensor& labels) {
  const int64_t B = logits.size(0), T = logits.size(1), V = logits.size(2);
  const torch::Tensor full = full_precision(logits);
  return CrossEntropy::apply(full.reshape({B * T, V}), next_token_targets(labels, B, T, logits.device()).view({B * T}));
}

torch::Tensor token_cross_entropy(const torch::Tensor& logits, const torch::Tensor& labels) {
  const int64_t V = logits.size(-1);
  return CrossEntropy::apply(full_precision(logits).reshape({-1, V}),
                             labels.reshape({-1}).to(logits.device()));
}

torch::Tensor linear_cross_entropy(const torch::Tensor& hidden, const LinearHead& head,
                                   const torch::Tensor& targets) {
  if (!head.weight.defined()) throw std::invalid_argument("linear_cross_entropy: the head has no weight");
  const int64_t C = hidden.size(-1);
  if (head.weight.dim() != 2 || head.weight.size(1) != C)
    throw std::invalid_argument("linear_cross_entropy: head weight [V, " + std::to_string(C) + "] expected");
  // Half-precision inputs (autocast) are upcast, as full_precision does for logits.
  const torch::Tensor h = full_precision(hidden).reshape({-1, C});
  const torch::Tensor w = head.weight.scalar_type() == h.scalar_type() ? head.weight : head.weight.to(h.scalar_type());
  const torch::Tensor t = targets.reshape({-1}).to(h.device());
  if (t.size(0) != h.size(0))
    throw std::invalid_argument("linear_cross_entropy: " + std::to_string(t.size(0)) + " targets for " +
                                std::to_string(h.size(0)) + " rows");
  const bool grad = at::GradMode::is_enabled();
  return LinearCrossEntropy::apply(h, w, t, head.scale, grad && h.requires_grad(), grad && w.requires_grad());
}

torch::Tensor causal_lm_loss(const torch::Tensor& head_input, const LinearHead& head, const torch::Tensor& labels) {
  return linear_cross_entropy(head_input, head,
                              next_token_targets(labels, head_input.size(0), head_input.size(1), head_input.device()));
}

torch::Tensor Model::forward_head_input(const ModelInput& input) {
  (void)input;
  throw std::logic_error("forward_head_input: this model's head is not a linear map (linear_head() is undefined)");
}

torch::Tensor Model::forward_head_input_at(const ModelInput& input, const torch::Tensor& rows) {
  (void)rows;
  return forward_head_input(input);
}

const char* family_name(ModelFamily f) {
  switch (f) {
    case ModelFamily::CausalLM: return "causal LM";
    case ModelFamily::Seq2SeqLM: return "seq2seq LM";
    case ModelFamily::ImageClassifier: return "image classifier";
  }
  return "unknown";
}

namespace {

// [B, H, len, D] over the first len positions of a [B, H, cap, D] buffer. Made with set_, not as
// a view, so that the tensor is the storage's only holder (a view would keep its base alive),
// which is what kv_append checks before writing into the spare room.
torch::Tensor over(const c10::Storage& storage, int64_t cap, int64_t len, int64_t B, int64_t H,
                   int64_t D, const at::TensorOptions& options) {
  return at::empty({0}, options).set_(storage, 0, {B, H, len, D}, {H * cap * D, cap * D, D, 1});
}

}  // namespace

torch::Tensor kv_append(const torch::Tensor& past, const torch::Tensor& x) {
  TORCH_CHECK(x.dim() == 4, "kv_append: expected [B, H, T, D], got ", x.sizes());
  const bool tracked = at::GradMode::is_enabled() && (x.requires_grad() ||
                                                      (past.defined() && past.requires_grad()));
  if (tracked) return past.defined() ? at::cat({past, x}, 2) : x;
  const int64_t B = x.size(0), H = x.size(1), T = x.size(2), D = x.size(3);
  const int64_t S = past.defined() ? past.size(2) : 0;
  if (past.defined()) {
    TORCH_CHECK(past.dim() == 4 && past.size(0) == B && past.size(1) == H && past.size(3) == D,
                "kv_append: cache entry ", past.sizes(), " does not match ", x.sizes());
    // Room left in past's buffer? Layout [B, H, cap, D] with past = buffer[:, :, :S].
    const int64_t cap = D > 0 ? past.stride(1) / D : 0;
    // Only when nothing else holds this entry or its buffer: a forked cache (two continuations
    // of one past) must not write into the other's rows, so it gets a buffer of its own.
    const bool alone = past.use_count() == 1 && past.storage().use_count() == 1;
    const bool ours = alone && past.stride(3) == 1 && past.stride(2) == D && past.stride(1) == cap * D &&
                      past.stride(0) == H * cap * D && past.storage_offset() == 0 &&
                      past.scalar_type() == x.scalar_type() && past.device() == x.device() &&
                      static_cast<int64_t>(past.storage().nbytes()) >=
                          B * H * cap * D * static_cast<int64_t>(past.element_size());
    if (ours && S + T <= cap) {
      torch::Tensor full = over(past.storage(), cap, S + T, B, H, D, x.options());
      full.narrow(2, S, T).copy_(x);
      return full;
    }
  }
  // A new buffer with room to grow: double the length (at least 16 more positions).
  const int64_t cap = std::max<int64_t>(2 * (S + T), S + T + 16);
  torch::Tensor full =
      over(at::empty({B, H, cap, D}, x.options()).storage(), cap, S + T, B, H, D, x.options());
  if (S > 0) full.narrow(2, 0, S).copy_(past);
  full.narrow(2, S, T).copy_(x);
  return full;
}

// Large negative but finite, so that a row with every key masked (a left-padding position)
// gives a uniform softmax instead of NaN; half of the lowest value leaves room for the scores.
static double masked_value(torch::ScalarType dtype) {
  switch (dtype) {
    case at::kHalf: return -32752.0;
    case at::kBFloat16: return -1.6e38;
    default: return std::numeric_limits<float>::lowest() / 2;
  }
}

torch::Tensor causal_attention_bias(const torch::Tensor& attention_mask, int64_t query_len,
                                    int64_t past_len, torch::ScalarType dtype,
                                    torch::Device device) {
  const int64_t S = past_len + query_len;
  const auto long_opts = at::TensorOptions().dtype(at::kLong).device(device);
  // Query i sits at absolute position past_len + i and may see keys 0 .. past_len + i.
  torch::Tensor q_pos = at::arange(past_len, S, long_opts).view({query_len, 1});
  torch::Tensor allowed = at::arange(S, long_opts).view({1, S}).le(q_pos);  // [T, S]
  allowed = allowed.view({1, 1, query_len, S});
  if (attention_mask.defined()) {
    TORCH_CHECK(attention_mask.dim() == 2 && attention_mask.size(1) == S,
                "attention_mask must be [B, past + T] = [B, ", S, "], got ",
                attention_mask.sizes());
    allowed = allowed.logical_and(attention_mask.to(device).ne(0).view({-1, 1, 1, S}));
  }
  return at::zeros(allowed.sizes(), at::TensorOptions().dtype(dtype).device(device))
      .masked_fill_(allowed.logical_not(), masked_value(dtype));
}

torch::Tensor padding_attention_bias(const torch::Tensor& attention_mask, torch::ScalarType dtype) {
  const int64_t B = attention_mask.size(0), T = attention_mask.size(1);
  return at::zeros({B, 1, 1, T}, at::TensorOptions().dtype(dtype).device(attention_mask.device()))
      .masked_fill_(attention_mask.eq(0).view({B, 1, 1, T}), masked_value(dtype));
}

Rotary::Rotary(int64_t rot_dims_, double base, int64_t max_positions) : rot_dims(rot_dims_) {
  TORCH_CHECK(rot_dims > 0 && rot_dims % 2 == 0, "rotary dims must be even and > 0, got ",
              rot_dims);
  // Exactly as HF computes it, in fp32: inv_freq = 1 / base^(arange(0, d, 2) / d),
  // emb = cat(freqs, freqs).
  torch::Tensor inv_freq =
      at::pow(base, at::arange(0, rot_dims, 2, at::kFloat) / static_cast<double>(rot_dims))
          .reciprocal();
  torch::Tensor freqs = at::outer(at::arange(max_positions, at::kFloat), inv_freq);
  torch::Tensor emb = at::cat({freqs, freqs}, -1);
  cos = emb.cos();
  sin = emb.sin();
}

namespace {

// Rotary::apply without autograd on fp32 CPU tensors: one pass writing the contiguous output, instead
// of a gather, six element-wise ops and a cat per tensor (tens of LibTorch ops per layer, which cost
// more than the arithmetic at evaluation and decoding sizes). Each value is computed with the same
// float operations as the ATen expression below (x1*c and x2*s rounded, then one subtraction or
// addition; no contraction into FMA: the SDK is built without -mfma), so the results are identical.
torch::Tensor rotate_inference(const torch::Tensor& x, const torch::Tensor& cos, const torch::Tensor& sin,
                               const torch::Tensor& position_ids, int64_t rot_dims) {
  const int64_t B = x.size(0), H = x.size(1), T = x.size(2), D = x.size(3), half = rot_dims / 2;
  const int64_t P = cos.size(0);
  torch::Tensor out = at::empty({B, H, T, D}, x.options());
  const float* xp = x.data_ptr<float>();
  const float* cp = cos.data_ptr<float>();
  const float* sp = sin.data_ptr<float>();
  float* op = out.data_ptr<float>();
  const int64_t s0 = x.stride(0), s1 = x.stride(1), s2 = x.stride(2), s3 = x.stride(3);
  const int64_t cs = cos.stride(0), ss = sin.stride(0);
  const auto pos = position_ids.accessor<int64_t, 2>();
  for (int64_t b = 0; b < B; ++b)
    for (int64_t t = 0; t < T; ++t) {
      const int64_t p = pos[b][t];
      TORCH_CHECK(p >= 0 && p < P, "rotary: position ", p, " is outside the table of ", P, " positions");
      const float* c = cp + p * cs;
      const float* s = sp + p * ss;
      for (int64_t h = 0; h < H; ++h) {
        const float* xi = xp + b * s0 + h * s1 + t * s2;
        float* o = op + ((b * H + h) * T + t) * D;
        for (int64_t i = 0; i < half; ++i) {
          const float x1 = xi[i * s3], x2 = xi[(i + half) * s3];
          const float a = x1 * c[i], bb = x2 * s[i], e = x2 * c[i], f = x1 * s[i];
          o[i] = a - bb;
          o[i + half] = e + f;
        }
        for (int64_t i = rot_dims; i < D; ++i) o[i] = xi[i * s3];
      }
    }
  return out;
}

// The gradient of rotate_inference's output g (any strides) -> the gradient of its input, contiguous.
// Autograd's graph of the ATen expression gives, per value, g1*c + g2*s for x1 (the two products
// rounded, then added: the order of the two terms does not matter) and g2*c - g1*s for x2
// (sub's backward negates, which is exact), g for the other dims; the same operations here.
torch::Tensor rotate_backward(const torch::Tensor& g, const torch::Tensor& cos, const torch::Tensor& sin,
                              const torch::Tensor& position_ids, int64_t rot_dims) {
  const int64_t B = g.size(0), H = g.size(1), T = g.size(2), D = g.size(3), half = rot_dims / 2;
  torch::Tensor gx = at::empty({B, H, T, D}, g.options().memory_format(at::MemoryFormat::Contiguous));
  const float* gp = g.data_ptr<float>();
  const float* cp = cos.data_ptr<float>();
  const float* sp = sin.data_ptr<float>();
  float* op = gx.data_ptr<float>();
  const int64_t s0 = g.stride(0), s1 = g.stride(1), s2 = g.stride(2), s3 = g.stride(3);
  const int64_t cs = cos.stride(0), ss = sin.stride(0);
  const auto pos = position_ids.accessor<int64_t, 2>();
  for (int64_t b = 0; b < B; ++b)
    for (int64_t t = 0; t < T; ++t) {
      const int64_t p = pos[b][t];
      const float* c = cp + p * cs;
      const float* s = sp + p * ss;
      for (int64_t h = 0; h < H; ++h) {
        const float* gi = gp + b * s0 + h * s1 + t * s2;
        float* o = op + ((b * H + h) * T + t) * D;
        for (int64_t i = 0; i < half; ++i) {
          const float g1 = gi[i * s3], g2 = gi[(i + half) * s3];
          const float a = g1 * c[i], bb = g2 * s[i], e = g2 * c[i], f = g1 * s[i];
          o[i] = a + bb;
          o[i + half] = e - f;
        }
        for (int64_t i = rot_dims; i < D; ++i) o[i] = gi[i * s3];
      }
    }
  return gx;
}

// Rotary on a tensor that needs a gradient: the fused pass both ways (values as autograd's).
struct RotaryFunction : torch::autograd::Function<RotaryFunction> {
  static torch::Tensor forward(torch::autograd::AutogradContext* ctx, const torch::Tensor& x, const torch::Tensor& cos,
                               const torch::Tensor& sin, const torch::Tensor& position_ids, int64_t rot_dims) {
    ctx->save_for_backward({cos, sin, position_ids});
    ctx->saved_data["rot_dims"] = rot_dims;
    return rotate_inference(x, cos, sin, position_ids, rot_dims);
  }
  static torch::autograd::variable_list backward(torch::autograd::AutogradContext* ctx,
                                                 torch::autograd::variable_list grad_out) {
    const auto saved = ctx->get_saved_variables();
    torch::Tensor gx = rotate_backward(grad_out[0], saved[0], saved[1], saved[2], ctx->saved_data["rot_dims"].toInt());
    return {gx, torch::Tensor(), torch::Tensor(), torch::Tensor(), torch::Tensor()};
  }
};

}  // namespace

void Rotary::apply(torch::Tensor& q, torch::Tensor& k, const torch::Tensor& position_ids) const {
  // Rotate-half on the first rot_dims dims: with x = [x1, x2] (halves),
  // x' = [x1*cos - x2*sin, x2*cos + x1*sin]; both halves of the cos/sin tables are equal, so
  // only the first half is gathered. The output is one contiguous [B, H, T, D] tensor.
  const int64_t B = position_ids.size(0), T = position_ids.size(1), half = rot_dims / 2;
  auto fits = [&](const torch::Tensor& x) {
    return x.dim() == 4 && x.size(0) == B && x.size(2) == T && x.size(3) >= rot_dims && x.device().is_cpu() &&
           x.scalar_type() == at::kFloat;
  };
  if (fits(q) && fits(k) && cos.device().is_cpu() && cos.scalar_type() == at::kFloat && sin.scalar_type() == at::kFloat &&
      cos.stride(1) == 1 && sin.stride(1) == 1 && position_ids.device().is_cpu() &&
      position_ids.scalar_type() == at::kLong && position_ids.dim() == 2) {
    auto rotate1 = [&](const torch::Tensor& x) {
      if (at::GradMode::is_enabled() && x.requires_grad())
        return RotaryFunction::apply(x, cos, sin, position_ids, rot_dims);
      return rotate_inference(x, cos, sin, position_ids, rot_dims);
    };
    q = rotate1(q);
    k = rotate1(k);
    return;
  }
  const auto pos = position_ids.reshape({-1}).to(cos.device());
  auto gather = [&](const torch::Tensor& table) {
    return table.narrow(1, 0, half).index_select(0, pos).view({B, 1, T, half})
        .to(q.device(), q.scalar_type());
  };
  const torch::Tensor c = gather(cos), s = gather(sin);
  auto rotate = [&](const torch::Tensor& x) {
    const int64_t D = x.size(-1);
    auto parts = x.split_with_sizes({half, half, D - rot_dims}, -1);
    const torch::Tensor& x1 = parts[0];
    const torch::Tensor& x2 = parts[1];
    return at::cat({x1 * c - x2 * s, x2 * c + x1 * s, parts[2]}, -1).contiguous();
  };
  q = rotate(q);
  k = rotate(k);
}

torch::Tensor default_position_ids(const torch::Tensor& input_ids,
                                   const torch::Tensor& attention_mask, int64_t past_len) {
  const int64_t B = input_ids.size(0), T = input_ids.size(1);
  const auto opts = input_ids.options().dtype(at::kLong);
  if (!attention_mask.defined())
    return at::arange(past_len, past_len + T, opts).view({1, T}).expand({B, T});
  // Real tokens before each position; padding positions get 1, as HF's generate() does
  // (their outputs are never attended to).
  const torch::Tensor mask = attention_mask.to(opts);
  torch::Tensor pos = mask.cumsum(1).sub_(1).masked_fill_(mask.eq(0), 1);
  return pos.narrow(1, pos.size(1) - T, T);
}

void load_state(torch::nn::Module& model, const std::map<std::string, torch::Tensor>& tensors,
                const std::vector<std::string>& ignore_suffixes, const std::string& source) {
  auto targets = model.named_parameters(/*recurse=*/true);
  for (const auto& b : model.named_buffers(/*recurse=*/true)) targets.insert(b.key(), b.value());
  auto ignored = [&](const std::string& name) {
    for (const auto& suffix : ignore_suffixes)
      if (name.size() >= suffix.size() &&
          name.compare(name.size() - suffix.size(), suffix.size(), suffix) == 0)
        return true;
    return false;
  };
  for (const auto& [name, tensor] : tensors) {
    if (!targets.contains(name)) {
      if (ignored(name)) continue;
      throw std::runtime_error(source + ": unexpected tensor '" + name +
                               "' (the model has no parameter of that name)");
    }
  }
  at::NoGradGuard no_grad;
  for (const auto& item : targets) {
    auto it = tensors.find(item.key());
    if (it == tensors.end())
      throw std::runtime_error(source + ": missing tensor '" + item.key() + "'");
    torch::Tensor dst = item.value();
    if (!it->second.sizes().equals(dst.sizes()))
      throw std::runtime_error(source + ": tensor '" + item.key() + "' has shape " +
                               c10::str(it->second.sizes()) + ", the model expects " +
                               c10::str(dst.sizes()));
    dst.copy_(it->second);
  }
}

}  // namespace imlsdk
