#include "imlsdk/layers.hpp"

#include "imlsdk/model.hpp"  // batched_matmul

namespace imlsdk {

torch::Tensor attention(const torch::Tensor& q, const torch::Tensor& k, const torch::Tensor& v,
                        const torch::Tensor& bias, double scale) {
  const int64_t B = q.size(0), H = q.size(1), T = q.size(2), D = q.size(3), S = k.size(2);
  const int64_t Dv = v.size(3);
  const torch::Tensor q3 = q.reshape({B * H, T, D}), k3 = k.reshape({B * H, S, D}),
                      v3 = v.reshape({B * H, S, Dv});
  torch::Tensor scores = batched_matmul(q3, k3.transpose(1, 2), scale).view({B, H, T, S});
  if (bias.defined()) scores.add_(bias);
  const bool full = scores.scalar_type() == at::kFloat || scores.scalar_type() == at::kDouble;
  const torch::Tensor probs = full ? at::softmax(scores, -1)
                                   : at::softmax(scores, -1, at::kFloat).to(scores.scalar_type());
  const torch::Tensor context = batched_matmul(probs.view({B * H, T, S}), v3);  // [B*H, T, Dv]
  return context.view({B, H, T, Dv}).transpose(1, 2).reshape({B * T, H * Dv});
}

}  // namespace imlsdk
