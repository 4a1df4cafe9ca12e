// safetensors reading and writing (https://github.com/huggingface/safetensors format):
// 8-byte little-endian header length, JSON header, raw little-endian tensor data.
#pragma once
#include <map>
#include <string>

#include <ATen/core/Tensor.h>

namespace imlsdk {

// Reads every tensor of a .safetensors file. Validates the header (size bound, JSON, dtype,
// shape x dtype size == byte span, spans inside the file and non-overlapping). Throws
// std::runtime_error naming the file and the problem.
std::map<std::string, at::Tensor> read_safetensors(const std::string& path);

// Writes tensors (contiguous CPU copies) atomically (temp file + rename), sorted by name, with
// `metadata` as "__metadata__" (HF's from_pretrained requires {"format": "pt"}).
void write_safetensors(const std::string& path, const std::map<std::string, at::Tensor>& tensors,
                       const std::map<std::string, std::string>& metadata = {{"format", "pt"}});

}  // namespace imlsdk
