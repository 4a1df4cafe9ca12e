#include "imlsdk/checkpoint.hpp"

#include <ATen/ATen.h>
#include <sys/mman.h>

#include <algorithm>
#include <cstdint>

#include <filesystem>
#include <fstream>
#include <memory>
#include <set>
#include <stdexcept>

#include "imlsdk/files.hpp"
#include "imlsdk/safetensors.hpp"

namespace fs = std::filesystem;

namespace imlsdk {

namespace {

Json parse_json_file(const fs::path& file) {
  std::ifstream in(file);
  if (!in) throw std::runtime_error(file.string() + ": cannot open");
  try {
    return Json::parse(in);
  } catch (const Json::exception& e) {
    throw std::runtime_error(file.string() + ": not valid JSON (" + e.what() + ")");
  }
}

bool has_suffix(const std::string& name, const std::string& suffix) {
  return name.size() >= suffix.size() &&
         name.compare(name.size() - suffix.size(), suffix.size(), suffix) == 0;
}

// The folder's weight files: each tensor name -> the file that holds it.
struct Weights {
  std::vector<std::unique_ptr<SafetensorsFile>> files;
  std::map<std::string, const SafetensorsFile*> where;
};

Weights open_weights(const fs::path& dir) {
  Weights w;
  const fs::path single = dir / "model.safetensors";
  const fs::path index = dir / "model.safetensors.index.json";
  if (fs::exists(single)) {
    w.files.push_back(std::make_unique<SafetensorsFile>(single.string()));
    for (const auto& n : w.files.back()->names()) w.where[n] = w.files.back().get();
    return w;
  }
  if (!fs::exists(index))
    throw std::runtime_error(dir.string() +
                             ": no model.safetensors or model.safetensors.index.json "
                             "(pytorch_model.bin is not supported; convert it to safetensors)");
  const Json j = parse_json_file(index);
  if (!j.is_object() || !j.contains("weight_map") || !j.at("weight_map").is_object())
    throw std::runtime_error(index.string() + ": expected an object with a 'weight_map' object");
  std::map<std::string, const SafetensorsFile*> by_shard;
  for (const auto& item : j.at("weight_map").items()) {
    if (!item.value().is_string())
      throw std::runtime_error(index.string() + ": weight_map entry '" + item.key() +
                               "' is not a file name");
    const std::string shard = item.value().get<std::string>();
    if (shard.empty() || shard.find('/') != std::string::npos || shard == "." || shard == "..")
      throw std::runtime_error(index.string() + ": weight_map entry '" + item.key() +
                               "' names '" + shard + "', expected a file in the folder");
    auto it = by_shard.find(shard);
    if (it == by_shard.end()) {
      const fs::path file = dir / shard;
      if (!fs::exists(file))
        throw std::runtime_error(file.string() + ": missing shard (listed in " +
                                 index.filename().string() + " for tensor '" + item.key() + "')");
      w.files.push_back(std::make_unique<SafetensorsFile>(file.string()));
      it = by_shard.emplace(shard, w.files.back().get()).first;
    }
    if (!it->second->contains(item.key()))
      throw std::runtime_error(it->second->path() + ": has no tensor '" + item.key() + "' (" +
                               index.filename().string() + " lists it there)");
    w.where[item.key()] = it->second;
  }
  // A tensor in a shard that the index does not list is as unexpected as an unknown name.
  for (const auto& f : w.files)
    for (const auto& n : f->names())
      if (!w.where.count(n))
        throw std::runtime_error(f->path() + ": tensor '" + n + "' is not listed in " +
                                 index.filename().string());
  return w;
}

// dst <- src (converting dtype, bf16/fp16 -> configured, and device) in row blocks of ~32 MB:
// each block's file pages are mapped in one call, copied, then released, so at most one block
// of the file is resident beside the model.
void copy_in_chunks(const SafetensorsFile& file, const std::string& name, const at::Tensor& src,
                    at::Tensor& dst) {
  if (dst.is_cpu() && dst.is_contiguous() && dst.nbytes() >= (4u << 20)) {
    // Transparent huge pages for big parameters (THP "madvise" mode): far fewer page faults.
    const uintptr_t page = 2u << 20;
    const uintptr_t b = (reinterpret_cast<uintptr_t>(dst.data_ptr()) + page - 1) / page * page;
    const uintptr_t e = (reinterpret_cast<uintptr_t>(dst.data_ptr()) + dst.nbytes()) / page * page;
#ifdef MADV_HUGEPAGE
    if (e > b) ::madvise(reinterpret_cast<void*>(b), e - b, MADV_HUGEPAGE);
#endif
  }
  const int64_t rows = src.dim() == 0 ? 1 : src.size(0);
  const int64_t row_bytes = rows ? static_cast<int64_t>(src.nbytes()) / rows : 0;
  if (src.dim() == 0 || row_bytes == 0) {
    dst.copy_(src);
    file.release(name);
    return;
  }
  const int64_t block = std::max<int64_t>(1, (32 << 20) / row_bytes);
  for (int64_t r = 0; r < rows; r += block) {
    const int64_t n = std::min(block, rows - r);
    file.prefetch(name, r * row_bytes, n * row_bytes);
    dst.narrow(0, r, n).copy_(src.narrow(0, r, n));
    file.release(name, r * row_bytes, n * row_bytes);
  }
}

}  // namespace

Json read_hf_config(const std::string& dir) {
  const fs::path file = fs::path(dir) / "config.json";
  if (!fs::exists(file)) throw std::runtime_error(file.string() + ": missing (an HF checkpoint folder has a config.json)");
  Json j = parse_json_file(file);
  if (!j.is_object()) throw std::runtime_error(file.string() + ": not a JSON object");
  return j;
}

std::string hf_model_type(const std::string& dir) {
  const Json j = read_hf_config(dir);
  const Json t = j.value("model_type", Json());
  return t.is_string() ? t.get<std::string>() : "";
}

void require_hf_keys(const Json& config, const std::string& dir, const std::vector<std::string>& keys) {
  for (const auto& key : keys)
    if (!config.contains(key) || config.at(key).is_null())
      throw std::runtime_error((fs::path(dir) / "config.json").string() + ": missing key '" + key + "'");
}

void load_hf_weights(torch::nn::Module& model, const std::string& dir,
                     const WeightLoadOptions& options) {
  const Weights w = open_weights(dir);
  auto targets = model.named_parameters(/*recurse=*/true);
  for (const auto& b : model.named_buffers(/*recurse=*/true)) targets.insert(b.key(), b.value());

  for (const auto& [name, file] : w.where) {
    if (targets.contains(name)) continue;
    bool ignored = false;
    for (const auto& s : options.ignore_suffixes) ignored = ignored || has_suffix(name, s);
    if (!ignored)
      throw std::runtime_error(file->path() + ": unexpected tensor '" + name +
                               "' (the model has no parameter of that name)");
  }
  at::NoGradGuard no_grad;
  for (const auto& item : targets) {
    auto it = w.where.find(item.key());
    if (it == w.where.end())
      throw std::runtime_error(dir + ": missing tensor '" + item.key() + "'");
    const SafetensorsFile& file = *it->second;
    const at::Tensor src = file.view(item.key());
    at::Tensor dst = item.value();
    if (!src.sizes().equals(dst.sizes()))
      throw std::runtime_error(file.path() + ": tensor '" + item.key() + "' has shape " +
                               c10::str(src.sizes()) + ", the model expects " +
                               c10::str(dst.sizes()));
    if (at::isFloatingType(dst.scalar_type()) != at::isFloatingType(src.scalar_type()))
      throw std::runtime_error(file.path() + ": tensor '" + item.key() + "' is " +
                               std::string(c10::toString(src.scalar_type())) +
                               ", the model expects " +
                               std::string(c10::toString(dst.scalar_type())));
    copy_in_chunks(file, item.key(), src, dst);
  }
}

void save_hf_checkpoint(const torch::nn::Module& model, const Json& hf_config,
                        const std::string& dir, const std::vector<std::string>& omit) {
  std::error_code ec;
  fs::create_directories(dir, ec);
  if (!fs::is_directory(dir))
    throw std::runtime_error(dir + ": cannot create the checkpoint folder (" + ec.message() + ")");
  const std::set<std::string> skip(omit.begin(), omit.end());
  std::map<std::string, at::Tensor> tensors;
  for (const auto& p : model.named_parameters(/*recurse=*/true))
    if (!skip.count(p.key())) tensors[p.key()] = p.value().detach();
  for (const auto& b : model.named_buffers(/*recurse=*/true))
    if (!skip.count(b.key())) tensors[b.key()] = b.value().detach();
  write_safetensors((fs::path(dir) / "model.safetensors").string(), tensors);
  write_file_atomic((fs::path(dir) / "config.json").string(), hf_config.dump(2) + "\n");
}

}  // namespace imlsdk
