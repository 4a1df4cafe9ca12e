// safetensors (sdk/src/safetensors.cpp): the header and the data behind it. The input is the
// whole file; it is opened with SafetensorsFile (mmap, views, release) and read_safetensors.
#include <ATen/ATen.h>

#include <stdexcept>

#include "fuzz_util.hpp"
#include "imlsdk/safetensors.hpp"

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  const std::string& path = fuzz::write_input(data, size, "model.safetensors");
  try {
    imlsdk::SafetensorsFile f(path);
    for (const auto& kv : f.metadata()) (void)kv.second.size();
    for (const auto& name : f.names()) {
      if (!f.contains(name)) std::abort();
      const at::Tensor t = f.view(name);
      // Touch every byte of the view (inside the mapping, or ASan/SEGV says otherwise).
      const auto* p = static_cast<const unsigned char*>(t.data_ptr());
      const size_t n = static_cast<size_t>(t.numel()) * t.element_size();
      unsigned sum = 0;
      for (size_t i = 0; i < n; ++i) sum += p[i];
      (void)sum;
      f.release(name);
    }
  } catch (const std::runtime_error& e) {
    fuzz::check_message(e.what());
  }
  try {
    const auto tensors = imlsdk::read_safetensors(path);
    for (const auto& kv : tensors) (void)kv.second.numel();
  } catch (const std::runtime_error& e) {
    fuzz::check_message(e.what());
  }
  return 0;
}
