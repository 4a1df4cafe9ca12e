// safetensors reading and writing (https://github.com/huggingface/safetensors format):
// 8-byte little-endian header length, JSON header, raw little-endian tensor data.
#pragma once
#include <map>
#include <memory>
#include <string>
#include <vector>

#include <ATen/core/Tensor.h>

namespace imlsdk {

// Reads every tensor of a .safetensors file. Validates the header (size bound, JSON, dtype,
// shape x dtype size == byte span, spans inside the file and non-overlapping). Throws
// std::runtime_error naming the file and the problem.
std::map<std::string, at::Tensor> read_safetensors(const std::string& path);

// One .safetensors file, memory-mapped read-only, its header validated on open as above.
// view() is a CPU tensor over the mapping (no copy; valid while this object lives; never write
// to it). prefetch() maps a byte range of a tensor in one call (instead of a page fault per
// page); release() gives the range's pages back to the kernel after it was copied, so that
// loading a model holds one copy of it in RAM, not two (SDK 2.1). Ranges are bytes within the
// tensor's data; `bytes` < 0 = to its end.
class SafetensorsFile {
 public:
  explicit SafetensorsFile(const std::string& path);
  ~SafetensorsFile();
  SafetensorsFile(const SafetensorsFile&) = delete;
  SafetensorsFile& operator=(const SafetensorsFile&) = delete;

  const std::string& path() const;
  std::vector<std::string> names() const;  // sorted
  bool contains(const std::string& name) const;
  at::Tensor view(const std::string& name) const;  // throws naming the file if absent
  void prefetch(const std::string& name, int64_t offset = 0, int64_t bytes = -1) const;
  void release(const std::string& name, int64_t offset = 0, int64_t bytes = -1) const;
  const std::map<std::string, std::string>& metadata() const;

 private:
  struct Impl;
  std::unique_ptr<Impl> impl_;
};

// Writes tensors (contiguous CPU copies) atomically (temp file + rename), sorted by name, with
// `metadata` as "__metadata__" (HF's from_pretrained requires {"format": "pt"}).
void write_safetensors(const std::string& path, const std::map<std::string, at::Tensor>& tensors,
                       const std::map<std::string, std::string>& metadata = {{"format", "pt"}});

}  // namespace imlsdk
