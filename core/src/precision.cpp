#include "precision.hpp"

#include <ATen/autocast_mode.h>
#include <torch/version.h>

#include <stdexcept>

// LibTorch 2.4 replaced the per-device autocast setters with ones taking the device type (the old
// names are deprecated there). 1.13 and 2.0-2.3 have only the old names.
#if TORCH_VERSION_MAJOR > 2 || (TORCH_VERSION_MAJOR == 2 && TORCH_VERSION_MINOR >= 4)
#define IMLCORE_AUTOCAST_BY_DEVICE 1
#else
#define IMLCORE_AUTOCAST_BY_DEVICE 0
#endif

namespace imlcore {

namespace {

bool autocast_enabled(c10::DeviceType d) {
#if IMLCORE_AUTOCAST_BY_DEVICE
  return at::autocast::is_autocast_enabled(d);
#else
  return d == c10::DeviceType::CPU ? at::autocast::is_cpu_enabled() : at::autocast::is_enabled();
#endif
}

void set_autocast_enabled(c10::DeviceType d, bool on) {
#if IMLCORE_AUTOCAST_BY_DEVICE
  at::autocast::set_autocast_enabled(d, on);
#else
  if (d == c10::DeviceType::CPU)
    at::autocast::set_cpu_enabled(on);
  else
    at::autocast::set_enabled(on);
#endif
}

c10::ScalarType autocast_dtype(c10::DeviceType d) {
#if IMLCORE_AUTOCAST_BY_DEVICE
  return at::autocast::get_autocast_dtype(d);
#else
  return d == c10::DeviceType::CPU ? at::autocast::get_autocast_cpu_dtype()
                                   : at::autocast::get_autocast_gpu_dtype();
#endif
}

void set_autocast_dtype(c10::DeviceType d, c10::ScalarType t) {
#if IMLCORE_AUTOCAST_BY_DEVICE
  at::autocast::set_autocast_dtype(d, t);
#else
  if (d == c10::DeviceType::CPU)
    at::autocast::set_autocast_cpu_dtype(t);
  else
    at::autocast::set_autocast_gpu_dtype(t);
#endif
}

}  // namespace

PrecisionGuard::PrecisionGuard(const std::string& precision, c10::DeviceType device) : device_(device) {
  if (!valid_precision(precision))
    throw std::invalid_argument("'training.precision': expected " + std::string(precision_values()) +
                                ", got '" + precision + "'");
  if (precision == "fp32") return;
  if (device != c10::DeviceType::CPU && device != c10::DeviceType::CUDA)
    throw std::invalid_argument("'training.precision': bf16 runs on cpu and cuda devices only, not " +
                                c10::DeviceTypeName(device, /*lower_case=*/true));
  prev_enabled_ = autocast_enabled(device);
  prev_dtype_ = autocast_dtype(device);
  set_autocast_dtype(device, c10::ScalarType::BFloat16);
  set_autocast_enabled(device, true);
  at::autocast::increment_nesting();
  active_ = true;
}

PrecisionGuard::~PrecisionGuard() {
  if (!active_) return;
  if (at::autocast::decrement_nesting() == 0) at::autocast::clear_cache();
  set_autocast_enabled(device_, prev_enabled_);
  set_autocast_dtype(device_, prev_dtype_);
}

}  // namespace imlcore
