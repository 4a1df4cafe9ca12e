// One training stage: the loop HF Trainer runs by default — sequential micro-batches, gradient
// accumulation, global-norm clipping, linear decay with optional warm-up, one optimizer step —
// written out so it can be read in one sitting.
#pragma once
#include <functional>
#include <memory>
#include <string>
#include <vector>

#include <c10/core/Device.h>

#include "config.hpp"
#include "imlsdk/data.hpp"
#include "imlsdk/model.hpp"
#include "imlsdk/optimizer.hpp"

namespace imlcore {

struct StageRun {
  const StageConfig* stage = nullptr;
  const std::vector<imlsdk::Example>* examples = nullptr;
  const imlsdk::Tokenizer* tokenizer = nullptr;
  const imlsdk::OptimizerPlugin* optimizer = nullptr;
  c10::Device device = c10::Device("cpu");
  std::string label;  // progress-bar label
  // Called after epoch e (1-based) when it is an evaluation epoch.
  std::function<void(int64_t epoch)> on_eval;
};

struct StageStats {
  int64_t optimizer_steps = 0;
  int64_t tokens = 0;  // real tokens trained on
  double seconds = 0;
  double last_loss = 0;
};

// The learning rate at optimizer step `step` (0-based) of `total`, as HF's schedules compute it.
double scheduled_lr(const TrainingConfig& t, int64_t step, int64_t total);

StageStats train_stage(imlsdk::LanguageModel& model, const StageRun& run);

}  // namespace imlcore
