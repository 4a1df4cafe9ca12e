// Hugging Face checkpoint folders as they are on researchers' disks (SDK 2.1): config.json plus
// model.safetensors, or shards listed in model.safetensors.index.json. Model plugins read and
// write them with these functions; each error names the file (and the tensor or key).
#pragma once
#include <string>
#include <vector>

#include <torch/nn/module.h>

#include "imlsdk/plugin.hpp"

namespace imlsdk {

// <dir>/config.json as a JSON object. std::runtime_error naming the file if it is missing, not
// JSON or not an object.
Json read_hf_config(const std::string& dir);

// The folder's config.json "model_type" ("" if it has none).
std::string hf_model_type(const std::string& dir);

// Throws std::runtime_error "<dir>/config.json: missing key 'k'" for the first of `keys` that
// config.json lacks (or holds null).
void require_hf_keys(const Json& config, const std::string& dir, const std::vector<std::string>& keys);

struct WeightLoadOptions {
  // Tensors in the files the model computes itself (rotary tables, causal-mask buffers), by name
  // suffix: skipped instead of refused as unexpected.
  std::vector<std::string> ignore_suffixes;
};

// Loads the folder's weights into `model`'s parameters and buffers, by name. The files are
// memory-mapped and each tensor is converted (bf16/fp16/fp32/fp64 -> the parameter's dtype and
// device) straight into its parameter, its pages released after the copy, so loading never holds
// two copies of the model. Refused, naming file and tensor: a missing config-listed shard, a
// truncated file, an index entry the shard lacks, a missing or unexpected tensor, a wrong shape,
// a non-floating tensor for a floating parameter.
void load_hf_weights(torch::nn::Module& model, const std::string& dir,
                     const WeightLoadOptions& options = {});

// Writes `model` as a folder HF's from_pretrained loads: model.safetensors (every parameter and
// persistent buffer, except the names in `omit`, e.g. tied copies) and config.json
// (`hf_config`), each written atomically; the folder is created if missing.
void save_hf_checkpoint(const torch::nn::Module& model, const Json& hf_config,
                        const std::string& dir, const std::vector<std::string>& omit = {});

}  // namespace imlsdk
