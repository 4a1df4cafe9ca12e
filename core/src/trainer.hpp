// One training stage: the loop HF Trainer runs by default — sequential micro-batches, gradient
// accumulation, global-norm clipping, linear decay with optional warm-up, one optimizer step —
// written out so it can be read in one sitting. It knows nothing of the task: the task plugin
// turns examples into tensors and computes the loss, so causal LMs, seq2seq models and image
// classifiers train through the same lines.
#pragma once
#include <functional>
#include <map>
#include <string>
#include <vector>

#include "config.hpp"
#include "imlsdk/data.hpp"
#include "imlsdk/model.hpp"
#include "imlsdk/optimizer.hpp"
#include "imlsdk/task.hpp"

namespace imlcore {

struct StepInfo {
  int64_t epoch = 0;  // 1-based
  int64_t step = 0;   // optimizer steps done in this stage
  int64_t total_steps = 0;
  double loss = 0;    // this step's training loss
  double lr = 0;
};

// Where a stage's loop stands after an optimizer step: what a mid-stage checkpoint saves besides
// the model, optimizer and generator states, and where a resumed stage goes on from. The data
// order needs no more than the step: examples are visited in a fixed order and each
// micro-batch's Rng is micro_batch_seed(batch_seed, epoch, index).
struct TrainerState {
  int64_t step = 0;   // optimizer steps done in this stage
  int64_t epoch = 0;  // 1-based epoch of that step
  int64_t units = 0;  // tokens (or images) trained on so far
  double seconds = 0; // training time so far (manifest only)
  double loss_ema = 0, last_loss = 0;
};

struct StageRun {
  const StageConfig* stage = nullptr;
  const std::vector<imlsdk::Example>* examples = nullptr;  // in training order
  const imlsdk::Task* task = nullptr;
  const imlsdk::OptimizerPlugin* optimizer = nullptr;
  // The optimizer's plugin was built against SDK >= 2.9: clipping may call Optimizer::step_scaled.
  bool scaled_step = false;
  uint64_t batch_seed = 0;  // seeds each micro-batch's Rng (online sampling), with epoch and index
  // Parts each micro-batch is split into, computed side by side (experiment.streams; 1 = whole).
  int64_t streams = 1;
  // The loss from the head's input (Task::head_loss of Model::forward_head_input) instead of
  // forward() + loss(): set where both plugins have SDK >= 2.4, the model's head is a linear map
  // and training is fp32.
  bool head_loss = false;
  // SDK 2.5, both plugins: the head's input only where the task's loss reads it or the model
  // attends (Task::head_rows, Model::forward_head_input_at), so the model may skip padding rows;
  // a micro-batch's parts are then balanced by their texts' sizes
  // (imlsdk::balanced_side_by_side_plan) instead of chunked by size against padding.
  bool head_rows = false;
  std::string label;        // progress-bar label
  std::function<void(const StepInfo&)> on_step;  // after every optimizer step
  std::function<void(int64_t epoch)> on_eval;    // after an evaluation epoch (0: stage of 0 epochs)
  // Mid-stage checkpoints: on_checkpoint is called every `checkpoint_every` optimizer steps and
  // after the stage's last step, after that step's evaluation if it has one.
  int64_t checkpoint_every = 0;
  std::function<void(const TrainerState&, const imlsdk::Optimizer&)> on_checkpoint;
  // Resume: go on after `resume->step` with the optimizer state `resume_optimizer`.
  const TrainerState* resume = nullptr;
  const std::map<std::string, at::Tensor>* resume_optimizer = nullptr;
  std::string resume_source;  // the checkpoint's path, for messages
};

struct StageStats {
  int64_t optimizer_steps = 0;
  int64_t units = 0;  // tokens (or images) trained on
  double seconds = 0;
  double eval_seconds = 0;  // of `seconds`, the time spent in evaluation passes (on_eval)
  int64_t eval_passes = 0;
  double last_loss = 0;
};

// The learning rate at optimizer step `step` (0-based) of `total`, as HF's schedules compute it.
double scheduled_lr(const TrainingConfig& t, int64_t step, int64_t total);

// The Rng seed of micro-batch `index` of `epoch`: a pure function, so a resumed run draws the
// same online samples as an uninterrupted one.
uint64_t micro_batch_seed(uint64_t batch_seed, int64_t epoch, int64_t index);

// Optimizer steps of a stage with these settings over `n` examples.
int64_t stage_steps(const StageConfig& st, int64_t n);

// Steps between mid-stage checkpoints: training.checkpoint_every, or when 0, ceil(total / 20)
// (a kill loses at most ~5% of a stage).
int64_t checkpoint_interval(const TrainingConfig& t, int64_t total_steps);

StageStats train_stage(imlsdk::Model& model, const StageRun& run);

// Adds the gradients of a micro-batch's parts (experiment.streams) to the parameters' own:
// grads[j][i] is part j's gradient of params[i] (undefined: none). For each parameter the parts
// are added in part order, so the sum does not depend on threads; on the CPU the parameters are
// summed side by side (imlsdk::for_each_side_by_side). With `sumsq`, also each parameter's
// resulting gradient's sum of squares ((*sumsq)[i], in double; 0 without a gradient): taken in
// the same pass where the gradients are fp32 and contiguous on the CPU (part_gradients.cpp),
// else afterwards.
void add_part_gradients(const std::vector<at::Tensor>& params, const std::vector<std::vector<at::Tensor>>& grads,
                        std::vector<double>* sumsq = nullptr);

// Gradient clipping (training.max_grad_norm > 0) in two halves around the norm. clip_factor_for:
// imlsdk::clip_factor of the gradients' 2-norm, from `sumsq` (add_part_gradients' sums of
// squares of every gradient there is) where given, else imlsdk::grad_norm. step_with_factor:
// the optimizer's step at lr with the gradients scaled by `factor` (1: as they are), by the
// optimizer as it reads them where `scaled_step` (its plugin was built against SDK >= 2.9) and
// Optimizer::step_scaled takes it, else by imlsdk::scale_grads before step(lr). Without sumsq,
// the same values as imlsdk::clip_grad_norm and step(lr).
double clip_factor_for(const std::vector<at::Tensor>& params, double max_norm, const std::vector<double>* sumsq);
void step_with_factor(imlsdk::Optimizer& optimizer, bool scaled_step, const std::vector<at::Tensor>& params,
                      double factor, double lr);

namespace detail {
// add_part_gradients' fused pass over n fp32 values: d += adds[0], adds[1], ... in order, element
// by element; returns the result's sum of squares (double, 16 partial sums in a fixed tree).
// isa: 0 the generic build, 1 AVX2, 2 AVX-512 (imlsdk/cpu.hpp: call only one this CPU runs);
// every one gives the same bits.
double add_and_square(int isa, float* d, const float* const* adds, int nadds, int64_t n);
}  // namespace detail

}  // namespace imlcore
