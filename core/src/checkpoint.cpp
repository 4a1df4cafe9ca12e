#include "checkpoint.hpp"

#include <fcntl.h>
#include <unistd.h>

#include <ATen/ATen.h>
#include <ATen/Context.h>

#include <cstdio>
#include <filesystem>
#include <mutex>
#include <utility>

#include "errors.hpp"
#include "imlsdk/safetensors.hpp"
#include "kill_points.hpp"

namespace fs = std::filesystem;

namespace imlcore {

namespace {

constexpr const char* kMetaKey = "imlhost_checkpoint";
constexpr int kFormat = 1;

void fsync_dir(const std::string& dir) {
  const int fd = ::open(dir.c_str(), O_RDONLY | O_DIRECTORY | O_CLOEXEC);
  if (fd < 0) throw UserError(dir + ": cannot open the folder to fsync it");
  const int rc = ::fsync(fd);
  ::close(fd);
  if (rc != 0) throw UserError(dir + ": fsync of the folder failed");
}

}  // namespace

void write_stage_checkpoint(const std::string& path, const StageCheckpoint& c) {
  std::map<std::string, at::Tensor> t;
  for (const auto& [k, v] : c.model) t["model/" + k] = v;
  for (const auto& [k, v] : c.optimizer) t["optimizer/" + k] = v;
  for (const auto& [k, v] : c.rng) t["rng/" + k] = v;
  const Json meta = {{"format", kFormat},       {"config_hash", c.config_hash}, {"stage2_seed", c.stage2_seed},
                     {"stage_index", c.stage_index}, {"stage", c.stage},       {"step", c.step},
                     {"units", c.units},         {"seconds", c.seconds},       {"loss_ema", c.loss_ema},
                     {"last_loss", c.last_loss}, {"records", c.records},       {"stage_entries", c.stage_entries},
                     {"analyses", c.analyses}};
  const std::string partial = path + ".partial";
  try {
    imlsdk::write_safetensors(partial, t, {{"format", "pt"}, {kMetaKey, meta.dump()}});
  } catch (const std::runtime_error& e) {
    throw UserError(e.what());
  }
  kill_point("checkpoint");
  if (std::rename(partial.c_str(), path.c_str()) != 0) throw UserError(path + ": cannot rename " + partial + " onto it");
  const fs::path parent = fs::path(path).parent_path();
  fsync_dir(parent.empty() ? "." : parent.string());
}

CheckpointWriter::~CheckpointWriter() {
  if (thread_.joinable()) thread_.join();  // an error now has no one to report to: the run is ending anyway
}

void CheckpointWriter::wait() {
  if (thread_.joinable()) thread_.join();
  if (error_) std::rethrow_exception(std::exchange(error_, nullptr));
}

void CheckpointWriter::write(const std::string& path, StageCheckpoint c) {
  wait();
  // The thread writes while training goes on, so it gets CPU copies of whatever the run may still
  // change: tensors on a device, and those whose tensor or memory someone else holds (parameters,
  // views of them). A CPU tensor that only this checkpoint holds is written as it is: optimizers'
  // state() already returns copies, and a second one would double the memory the state needs at
  // each checkpoint (AdamW: twice the model's size).
  for (auto* group : {&c.model, &c.optimizer, &c.rng})
    for (auto& kv : *group) {
      at::Tensor& t = kv.second;
      if (!t.defined()) continue;
      const bool ours = t.device().is_cpu() && t.use_count() == 1 && t.storage().use_count() == 1;
      if (!ours) t = t.detach().to(t.options().device(at::kCPU), /*non_blocking=*/false, /*copy=*/true);
    }
  if (kill_points_armed()) {
    write_stage_checkpoint(path, c);
    return;
  }
  thread_ = std::thread([this, path, c = std::move(c)] {
    try {
      write_stage_checkpoint(path, c);
    } catch (...) {
      error_ = std::current_exception();
    }
  });
}

StageCheckpoint read_stage_checkpoint(const std::string& path) {
  const std::string hint = "; delete it or set experiment.resume=false";
  try {
    imlsdk::SafetensorsFile f(path);
    auto it = f.metadata().find(kMetaKey);
    if (it == f.metadata().end()) throw std::runtime_error("no '" + std::string(kMetaKey) + "' metadata: not an imlhost checkpoint");
    const Json m = Json::parse(it->second);
    if (m.value("format", 0) != kFormat)
      throw std::runtime_error("checkpoint format " + m.value("format", Json()).dump() + ", expected " + std::to_string(kFormat));
    StageCheckpoint c;
    c.config_hash = m.at("config_hash").get<std::string>();
    c.stage2_seed = m.at("stage2_seed");
    c.stage_index = m.at("stage_index").get<int64_t>();
    c.stage = m.at("stage").get<std::string>();
    c.step = m.at("step").get<int64_t>();
    c.units = m.at("units").get<int64_t>();
    c.seconds = m.at("seconds").get<double>();
    c.loss_ema = m.at("loss_ema").get<double>();
    c.last_loss = m.at("last_loss").get<double>();
    c.records = m.at("records");
    c.stage_entries = m.at("stage_entries");
    c.analyses = m.at("analyses");
    for (const auto& name : f.names()) {
      const auto slash = name.find('/');
      const std::string group = name.substr(0, slash), key = slash == std::string::npos ? "" : name.substr(slash + 1);
      at::Tensor v = f.view(name).clone();
      if (group == "model") c.model[key] = v;
      else if (group == "optimizer") c.optimizer[key] = v;
      else if (group == "rng") c.rng[key] = v;
      else throw std::runtime_error("unexpected tensor '" + name + "'");
    }
    return c;
  } catch (const UserError&) {
    throw;
  } catch (const std::exception& e) {
    const std::string what = e.what();
    throw UserError(what.rfind(path, 0) == 0 ? what + hint : path + ": " + what + hint);
  }
}

std::map<std::string, at::Tensor> rng_states(const c10::Device& device) {
  std::map<std::string, at::Tensor> out;
  std::vector<c10::Device> devices = {c10::Device(c10::kCPU)};
  if (device.type() != c10::kCPU) devices.push_back(device);
  for (const auto& d : devices) {
    at::Generator gen = at::globalContext().defaultGenerator(d);
    std::lock_guard<std::mutex> lock(gen.mutex());
    out[c10::DeviceTypeName(d.type(), /*lower_case=*/true)] = gen.get_state();
  }
  return out;
}

void set_rng_states(const std::map<std::string, at::Tensor>& states, const c10::Device& device, const std::string& path) {
  std::vector<c10::Device> devices = {c10::Device(c10::kCPU)};
  if (device.type() != c10::kCPU) devices.push_back(device);
  for (const auto& d : devices) {
    const std::string name = c10::DeviceTypeName(d.type(), /*lower_case=*/true);
    auto it = states.find(name);
    if (it == states.end()) throw UserError(path + ": checkpoint lacks the generator state 'rng/" + name + "'; delete it or set experiment.resume=false");
    at::Generator gen = at::globalContext().defaultGenerator(d);
    std::lock_guard<std::mutex> lock(gen.mutex());
    gen.set_state(it->second);
  }
}

}  // namespace imlcore
