// training.precision: the dtype the training step's matrix products run in.
//
//   fp32  everything in fp32 (the default).
//   bf16  bf16 compute with fp32 master weights, as HF Trainer's bf16=True: the forward pass and
//         the loss run under LibTorch's autocast with dtype bfloat16 on the model's device type,
//         so GEMMs and convolutions (mm, addmm, bmm, matmul, linear, conv) take bf16 copies of
//         their operands and return bf16; everything else keeps its dtype. Parameters, their
//         gradients and the optimizer state stay fp32 (the casts' backward returns fp32
//         gradients). The backward pass runs outside the guard, as torch.autocast recommends.
//
// The autocast calls differ between LibTorch versions (1.13: set_cpu_enabled /
// set_autocast_cpu_dtype; 2.4+: set_autocast_enabled(device, ...) / set_autocast_dtype), so they
// live in precision.cpp behind TORCH_VERSION_* and nowhere else.
#pragma once
#include <c10/core/DeviceType.h>
#include <c10/core/ScalarType.h>

#include <string>

namespace imlcore {

// The values training.precision accepts, as the one-line refusal lists them.
inline const char* precision_values() { return "fp32 or bf16"; }
inline bool valid_precision(const std::string& p) { return p == "fp32" || p == "bf16"; }

// Enables autocast (bf16) on `device`'s type for its scope when `precision` is "bf16"; does
// nothing for "fp32". Restores the previous autocast state on exit and, when it leaves the
// outermost autocast scope, clears autocast's cache of cast weights (as torch.autocast does).
// Thread-local, like autocast itself. Throws std::invalid_argument for other precisions or
// for bf16 on a device type autocast has no bf16 mode for here (only cpu and cuda).
class PrecisionGuard {
 public:
  PrecisionGuard(const std::string& precision, c10::DeviceType device);
  ~PrecisionGuard();
  PrecisionGuard(const PrecisionGuard&) = delete;
  PrecisionGuard& operator=(const PrecisionGuard&) = delete;
  bool active() const { return active_; }

 private:
  bool active_ = false;
  c10::DeviceType device_ = c10::DeviceType::CPU;
  bool prev_enabled_ = false;
  c10::ScalarType prev_dtype_ = c10::ScalarType::Float;
};

}  // namespace imlcore
