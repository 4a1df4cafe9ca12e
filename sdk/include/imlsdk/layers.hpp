// Layers every transformer plugin needs, with HF's parameter names ("weight", "bias") so that HF
// checkpoints load by name. Activations flow as rows [N, C] (N = B*T) so that each linear layer
// is one GEMM. Header-only: plugins compile them in.
#pragma once
#include <ATen/ATen.h>
#include <torch/nn/module.h>

#include <cmath>

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

// softmax(q k^T * scale + bias) v for q [B, H, T, D] and k, v [B, H, S, D] (any strides), with
// `bias` broadcastable to the [B, H, T, S] scores (undefined = none). Scores are one batched GEMM
// over B*H (imlsdk::batched_matmul); the softmax runs in fp32 for half-precision inputs, as HF
// does. Returns the heads merged into rows: [B*T, H*D].
torch::Tensor attention(const torch::Tensor& q, const torch::Tensor& k, const torch::Tensor& v,
                        const torch::Tensor& bias, double scale);

}  // namespace imlsdk
