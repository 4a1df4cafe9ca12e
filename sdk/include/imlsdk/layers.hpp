// Layers every transformer plugin needs, with HF's parameter names ("weight", "bias") so that HF
// checkpoints load by name. Activations flow as rows [N, C] (N = B*T) so that each linear layer
// is one GEMM. Header-only: plugins compile them in.
#pragma once
#include <ATen/ATen.h>
#include <torch/nn/module.h>

#include <algorithm>
#include <cmath>
#include <stdexcept>
#include <string>
#include <vector>

namespace imlsdk {

// y = x W^T (+ b) on rows x [N, in]; W is [out, in] as in torch.nn.Linear.
struct Linear : torch::nn::Module {
  torch::Tensor weight, bias;
  Linear(int64_t in, int64_t out, bool with_bias = true) {
    weight = register_parameter("weight", at::empty({out, in}));
    if (with_bias) bias = register_parameter("bias", at::empty({out}));
  }
  torch::Tensor operator()(const torch::Tensor& x) const {
    return bias.defined() ? at::addmm(bias, x, weight.t()) : at::mm(x, weight.t());
  }
  // N(0, std) weight, zero bias (HF's _init_weights for nn.Linear).
  void init(double std) {
    at::NoGradGuard no_grad;
    weight.normal_(0, std);
    if (bias.defined()) bias.zero_();
  }
};

// torch.nn.LayerNorm over the last dim (weight 1, bias 0 at construction). An input of another
// dtype than the weight (a bf16 GEMM output under autocast, training.precision=bf16) is
// normalised in the weight's dtype, as autocast runs layer_norm in fp32.
struct LayerNorm : torch::nn::Module {
  torch::Tensor weight, bias;
  double eps;
  LayerNorm(int64_t dim, double eps_, bool with_bias = true) : eps(eps_) {
    weight = register_parameter("weight", at::ones({dim}));
    if (with_bias) bias = register_parameter("bias", at::zeros({dim}));
  }
  torch::Tensor operator()(const torch::Tensor& x) const {
    const torch::Tensor& in = x.scalar_type() == weight.scalar_type() ? x : x.to(weight.scalar_type());
    return at::layer_norm(in, {weight.size(0)}, weight, bias, eps);
  }
};

// Root-mean-square norm without mean or bias, as HF's LlamaRMSNorm and T5LayerNorm:
// the statistic in fp32, then weight * (x / rms) in the weight's dtype.
struct RMSNorm : torch::nn::Module {
  torch::Tensor weight;
  double eps;
  RMSNorm(int64_t dim, double eps_) : eps(eps_) { weight = register_parameter("weight", at::ones({dim})); }
  torch::Tensor operator()(const torch::Tensor& x) const {
    const torch::Tensor xf = x.scalar_type() == at::kFloat || x.scalar_type() == at::kDouble
                                 ? x
                                 : x.to(at::kFloat);
    const torch::Tensor normed = xf * at::rsqrt(xf.pow(2).mean(-1, /*keepdim=*/true).add_(eps));
    return weight * normed.to(weight.scalar_type());
  }
};

struct Embedding : torch::nn::Module {
  torch::Tensor weight;
  Embedding(int64_t num, int64_t dim) { weight = register_parameter("weight", at::empty({num, dim})); }
  torch::Tensor operator()(const torch::Tensor& ids) const { return at::embedding(weight, ids); }
};

// SDK 2.5: the rows of a [B, T] batch that a model computes (Model::forward_head_input_at: the
// real tokens and the rows a loss reads), so that its per-token layers (projections, norms, MLP)
// run on those rows only: pack() takes them out of [B*T, ...] rows, unpack() puts them back, with
// zero rows elsewhere, where attention needs the [B, T] layout. Both are differentiable. When
// every row is kept both return their input. Header-only.
struct TokenRows {
  torch::Tensor index;  // [n] int64 row numbers b*T + t of the kept rows; undefined: every row
  int64_t total = 0;    // B*T

  // Below this share of rows to skip, for_head_input keeps every row: packing and unpacking copy
  // about as much as the attention projections write, which costs more than the few rows save
  // (set inclusion's 3 % padding: 3.61 -> 3.49 s per epoch without them).
  static constexpr double kMinSkippedShare = 0.10;

  // `keep`: a [B, T] mask (nonzero = keep); undefined: every row. Rows are left out only when
  // at least `min_skipped_share` of them (and at least one) would be.
  static TokenRows of(const torch::Tensor& keep, int64_t batch, int64_t length, double min_skipped_share = 0.0) {
    TokenRows r;
    r.total = batch * length;
    if (!keep.defined()) return r;
    if (keep.dim() != 2 || keep.size(0) != batch || keep.size(1) != length)
      throw std::invalid_argument("TokenRows: a mask of shape [" + std::to_string(batch) + ", " +
                                  std::to_string(length) + "] was expected");
    torch::Tensor index = keep.reshape({-1}).nonzero().reshape({-1});
    if (static_cast<double>(r.total - index.numel()) >= std::max(1.0, min_skipped_share * static_cast<double>(r.total)))
      r.index = index;
    return r;
  }
  // The rows forward_head_input_at(input, rows) must compute: those a loss reads (`rows`) and
  // those other positions attend to (`attention_mask`, [B, T] without a cache); either undefined,
  // or fewer than kMinSkippedShare of the rows left out: every row.
  static TokenRows for_head_input(const torch::Tensor& attention_mask, const torch::Tensor& rows, int64_t batch,
                                  int64_t length) {
    if (!attention_mask.defined() || !rows.defined()) return of({}, batch, length);
    if (attention_mask.sizes() != rows.sizes())
      throw std::invalid_argument("TokenRows: the head rows' mask and the attention mask differ in shape");
    return of(attention_mask.ne(0).logical_or(rows.ne(0)), batch, length, kMinSkippedShare);
  }
  // Model::forward_head_input_at for a model whose body(keep) runs its per-token layers on the
  // rows `keep` holds and returns the head's input on them: those rows back in [B, T, C].
  template <class Body>
  static torch::Tensor head_input_at(const torch::Tensor& input_ids, const torch::Tensor& attention_mask,
                                     const torch::Tensor& rows, Body&& body) {
    const int64_t B = input_ids.size(0), T = input_ids.size(1);
    const TokenRows keep = for_head_input(attention_mask, rows, B, T);
    return keep.unpack(body(keep)).view({B, T, -1});
  }
  bool packed() const { return index.defined(); }
  int64_t rows() const { return packed() ? index.numel() : total; }
  torch::Tensor pack(const torch::Tensor& x) const { return packed() ? x.index_select(0, index) : x; }
  torch::Tensor unpack(const torch::Tensor& x) const {
    if (!packed()) return x;
    std::vector<int64_t> shape = x.sizes().vec();
    shape[0] = total;
    return at::zeros(shape, x.options()).index_copy_(0, index, x);
  }
};

// SDK 2.8: the exact (erf) GELU, as torch.nn.functional.gelu(x) / HF's "gelu". On the CPU in fp32
// (with AVX2 + FMA) one pass computes the output and the derivative, and the backward is one
// multiply; ATen's gelu elsewhere. The values equal ATen's to float round-off. No double
// backward (create_graph) through the fused path.
torch::Tensor gelu(const torch::Tensor& x);

// softmax(q k^T * scale + bias) v for q [B, H, T, D] and k, v [B, H, S, D] (any strides), with
// `bias` broadcastable to the [B, H, T, S] scores (undefined = none). Scores are one batched GEMM
// over B*H (imlsdk::batched_matmul); the softmax runs in fp32 for half-precision inputs, as HF
// does. Returns the heads merged into rows: [B*T, H*D].
torch::Tensor attention(const torch::Tensor& q, const torch::Tensor& k, const torch::Tensor& v,
                        const torch::Tensor& bias, double scale);

}  // namespace imlsdk
