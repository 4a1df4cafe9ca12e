// Mid-stage checkpoints: everything a run killed inside a stage needs to go on as if it had never
// stopped. One file per seed folder, checkpoint.safetensors, replaced atomically (only the latest
// is kept) and removed when the part of the run it belongs to (the stages before the Stage-2
// branch, or one Stage-2 seed) is complete. Tensors: "model/<name>" (parameters and buffers),
// "optimizer/<key>" (Optimizer::state()), "rng/<device>" (generator states); the rest is JSON in
// the safetensors metadata (key "imlhost_checkpoint").
#pragma once
#include <cstdint>
#include <exception>
#include <map>
#include <string>
#include <thread>

#include <ATen/core/Tensor.h>
#include <c10/core/Device.h>

#include "imlsdk/plugin.hpp"

namespace imlcore {

using imlsdk::Json;

struct StageCheckpoint {
  std::string config_hash;
  Json stage2_seed;        // null: the stages before the Stage-2 branch
  int64_t stage_index = 0;  // into the config's stages
  std::string stage;
  int64_t step = 0;         // optimizer steps done in that stage (all of them: the stage is done)
  // the trainer's running figures
  int64_t units = 0;
  double seconds = 0, loss_ema = 0, last_loss = 0;
  std::map<std::string, at::Tensor> model, optimizer, rng;
  // this part's results so far: metrics.jsonl lines, manifest "stages" entries, analyses' state()
  Json records = Json::array();
  Json stage_entries = Json::array();
  Json analyses = Json::array();
};

// Writes `path` + ".partial" (itself atomically), then renames it onto `path` and fsyncs the
// folder. Throws a UserError naming the path.
void write_stage_checkpoint(const std::string& path, const StageCheckpoint& c);

// Writes checkpoints on a thread of its own while training goes on (as Lightning's
// AsyncCheckpointIO): write() snapshots the tensors (copies on the CPU, so the next optimizer
// steps do not touch them) and returns; the file is written, renamed and fsynced behind. One
// write at a time: write() and wait() first wait for the one before and rethrow its error (a
// UserError naming the path). A kill while a write is in flight loses that checkpoint only:
// the one before stays whole on disk. Under kill-and-resume tests (kill_points_armed()) each
// write completes before write() returns.
class CheckpointWriter {
 public:
  CheckpointWriter() = default;
  CheckpointWriter(const CheckpointWriter&) = delete;
  CheckpointWriter& operator=(const CheckpointWriter&) = delete;
  ~CheckpointWriter();
  void write(const std::string& path, StageCheckpoint c);
  void wait();

 private:
  std::thread thread_;
  std::exception_ptr error_;
};

// Throws a UserError naming the path if the file is not a readable checkpoint.
StageCheckpoint read_stage_checkpoint(const std::string& path);

// The default generators' states (CPU, and `device`'s when it is not the CPU), and back.
std::map<std::string, at::Tensor> rng_states(const c10::Device& device);
void set_rng_states(const std::map<std::string, at::Tensor>& states, const c10::Device& device, const std::string& path);

}  // namespace imlcore
