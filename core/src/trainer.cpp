#include "trainer.hpp"

#include <ATen/ATen.h>
#include <torch/csrc/autograd/autograd.h>

#include <algorithm>
#include <cmath>
#include <cstdio>
#include <functional>
#include <stdexcept>

#include "errors.hpp"
#include "imlsdk/analysis.hpp"
#include "imlsdk/parallel.hpp"
#include "kill_points.hpp"
#include "precision.hpp"
#include "progress.hpp"

namespace imlcore {

namespace {

struct MicroResult {
  double loss = 0;    // this micro-batch's contribution to the step loss
  int64_t units = 0;
};

// The training loss of one batch: forward + loss, or (StageRun::head_loss) the task's loss
// from the head's input and the model's linear head, without the logits; with
// StageRun::head_rows the head's input only at the rows the loss reads.
imlsdk::Loss forward_loss(imlsdk::Model& model, const imlsdk::Task& task, const imlsdk::Batch& b, const StageRun& run) {
  if (!run.head_loss) return task.loss(model.forward(b.input), b);
  const at::Tensor head_input = run.head_rows ? model.forward_head_input_at(b.input, task.head_rows(b))
                                              : model.forward_head_input(b.input);
  return task.head_loss(head_input, model.linear_head(), b);
}

// One micro-batch in parts side by side (experiment.streams), as imlsdk::side_by_side_plan
// splits it: each job runs the forward pass and loss of its chunks on a core of its own, then the
// gradient of its chunks' losses weighted by their shares of the micro-batch's targets, so that
// the jobs' gradients add up to the gradient of the micro-batch's mean loss; they are added to
// the parameters' in job order (deterministic).
MicroResult split_micro_batch(imlsdk::Model& model, const imlsdk::Task& task,
                              const std::vector<const imlsdk::Example*>& examples,
                              const std::vector<std::vector<std::vector<int64_t>>>& plan, uint64_t seed, int64_t accum,
                              const std::string& precision, const StageRun& run, c10::DeviceType device,
                              std::vector<at::Tensor>& params, std::vector<double>* sumsq) {
  const size_t n = plan.size();
  std::vector<std::vector<imlsdk::Batch>> batches(n);
  imlsdk::Rng rng(seed);  // collate draws from one generator, chunk after chunk
  for (size_t j = 0; j < n; ++j)
    for (const auto& chunk : plan[j])
      batches[j].push_back(task.collate(imlsdk::example_refs(examples, chunk), imlsdk::Phase::Train, rng));
  std::vector<std::vector<imlsdk::Loss>> losses(n);
  std::vector<std::function<void()>> jobs;
  for (size_t j = 0; j < n; ++j)
    jobs.push_back([&, j] {
      PrecisionGuard guard(precision, device);
      for (const auto& b : batches[j]) losses[j].push_back(forward_loss(model, task, b, run));
    });
  imlsdk::run_side_by_side(jobs);
  int64_t count = 0;
  for (const auto& ls : losses)
    for (const auto& l : ls) count += std::max<int64_t>(0, l.count);
  // Gradients of the parameters that take one (a frozen parameter would make autograd::grad throw).
  std::vector<at::Tensor> trainable;
  for (const auto& p : params)
    if (p.requires_grad()) trainable.push_back(p);
  std::vector<std::vector<at::Tensor>> grads(n);
  std::vector<double> scaled_loss(n, 0.0);
  jobs.clear();
  for (size_t j = 0; j < n; ++j)
    jobs.push_back([&, j] {
      at::Tensor scaled;
      for (const auto& l : losses[j]) {
        if (l.count <= 0 || count <= 0) continue;
        // HF Trainer divides each micro-batch loss by the accumulation steps.
        const at::Tensor s = l.value * (static_cast<double>(l.count) / static_cast<double>(count)) / static_cast<double>(accum);
        scaled = scaled.defined() ? scaled + s : s;
      }
      if (!scaled.defined()) return;
      grads[j] = torch::autograd::grad({scaled}, trainable, {}, /*retain_graph=*/false, /*create_graph=*/false,
                                       /*allow_unused=*/true);
      scaled_loss[j] = scaled.item<double>();
    });
  imlsdk::run_side_by_side(jobs);
  MicroResult out;
  for (size_t j = 0; j < n; ++j) {
    out.loss += scaled_loss[j];
    for (const auto& b : batches[j]) out.units += b.units;
  }
  add_part_gradients(trainable, grads, sumsq);
  return out;
}

}  // namespace

double scheduled_lr(const TrainingConfig& t, int64_t step, int64_t total) {
  int64_t warmup = t.warmup_steps > 0 ? t.warmup_steps
                                      : static_cast<int64_t>(std::ceil(t.warmup_ratio * total));
  if (step < warmup) return t.learning_rate * static_cast<double>(step) / std::max<int64_t>(1, warmup);
  if (t.lr_scheduler == "constant") return t.learning_rate;
  const double left = static_cast<double>(total - step) / std::max<int64_t>(1, total - warmup);
  return t.learning_rate * std::max(0.0, left);
}

uint64_t micro_batch_seed(uint64_t batch_seed, int64_t epoch, int64_t index) {
  uint64_t h = batch_seed ^ 0x9E3779B97F4A7C15ULL;
  for (uint64_t v : {static_cast<uint64_t>(epoch), static_cast<uint64_t>(index)}) {
    h ^= v + 0x9E3779B97F4A7C15ULL + (h << 6) + (h >> 2);
    h *= 0xBF58476D1CE4E5B9ULL;
  }
  return h;
}

int64_t stage_steps(const StageConfig& st, int64_t n) {
  const TrainingConfig& t = st.training;
  const int64_t micro_per_epoch = (n + t.batch_size - 1) / t.batch_size;
  const int64_t steps_per_epoch = (micro_per_epoch + t.gradient_accumulation_steps - 1) / t.gradient_accumulation_steps;
  return steps_per_epoch * st.epochs;
}

int64_t checkpoint_interval(const TrainingConfig& t, int64_t total_steps) {
  if (t.checkpoint_every > 0) return t.checkpoint_every;
  return std::max<int64_t>(1, (total_steps + 19) / 20);
}

StageStats train_stage(imlsdk::Model& model, const StageRun& run) {
  const StageConfig& st = *run.stage;
  const TrainingConfig& t = st.training;
  const imlsdk::Task& task = *run.task;
  const std::vector<imlsdk::Example>& xs = *run.examples;
  if (xs.empty() && st.epochs > 0)
    throw UserError("stage '" + st.name + "': train subset '" + st.train_subset + "' is empty");

  const int64_t n = static_cast<int64_t>(xs.size());
  const int64_t accum = t.gradient_accumulation_steps;
  const int64_t micro_per_epoch = (n + t.batch_size - 1) / t.batch_size;
  const int64_t steps_per_epoch = (micro_per_epoch + accum - 1) / accum;
  const int64_t total_steps = steps_per_epoch * st.epochs;
  const int64_t every = std::max<int64_t>(1, run.checkpoint_every);

  std::vector<at::Tensor> params;
  imlsdk::NamedTensors named;
  for (auto& kv : model.named_parameters()) {
    params.push_back(kv.value());
    named.emplace_back(kv.key(), kv.value());
  }
  auto optimizer = run.optimizer->create(st.optimizer_params, named);
  const c10::DeviceType device = params.empty() ? c10::DeviceType::CPU : params[0].device().type();

  StageStats stats;
  int64_t step = 0;
  double loss_ema = 0, seconds_before = 0;
  if (run.resume) {  // go on where a checkpoint left off
    if (run.resume->step < 0 || run.resume->step > total_steps)
      throw UserError("stage '" + st.name + "': checkpoint at step " + std::to_string(run.resume->step) + " of a stage of " +
                      std::to_string(total_steps) + " steps");
    step = run.resume->step;
    loss_ema = run.resume->loss_ema;
    stats.last_loss = run.resume->last_loss;
    stats.units = run.resume->units;
    seconds_before = run.resume->seconds;
    if (run.resume_optimizer) {
      try {
        optimizer->load_state(*run.resume_optimizer);
      } catch (const std::exception& e) {
        throw UserError(run.resume_source + ": optimizer state: " + e.what() + "; delete it or set experiment.resume=false");
      }
    }
  }
  ProgressBar bar(run.label, std::max<int64_t>(1, total_steps));
  const int64_t first_epoch = steps_per_epoch > 0 ? step / steps_per_epoch + 1 : 1;
  for (int64_t epoch = first_epoch; epoch <= st.epochs; ++epoch) {
    model.train();
    for (int64_t s = epoch == first_epoch ? step % steps_per_epoch : 0; s < steps_per_epoch; ++s) {
      const int64_t first = s * accum, last = std::min(micro_per_epoch, first + accum);
      double step_loss = 0;
      // Clipping's sums of squares, where the step's last micro-batch is split into parts: taken
      // while the parts' gradients are added (add_part_gradients), instead of a pass of their own.
      std::vector<double> sumsq;
      bool have_sumsq = false;
      for (int64_t m = first; m < last; ++m) {
        const auto examples = imlsdk::example_refs(xs, m * t.batch_size, (m + 1) * t.batch_size);
        std::vector<std::vector<std::vector<int64_t>>> plan;
        if (run.streams > 1)
          plan = run.head_rows ? imlsdk::balanced_side_by_side_plan(imlsdk::example_sizes(examples), run.streams,
                                                                    imlsdk::kMinRowsPerStream)
                               : imlsdk::side_by_side_plan(imlsdk::example_sizes(examples), run.streams,
                                                           imlsdk::kMinRowsPerStream);
        if (plan.size() > 1) {
          have_sumsq = t.max_grad_norm > 0 && m + 1 == last;
          const MicroResult r = split_micro_batch(model, task, examples, plan, micro_batch_seed(run.batch_seed, epoch, m),
                                                  accum, t.precision, run, device, params, have_sumsq ? &sumsq : nullptr);
          step_loss += r.loss;
          stats.units += r.units;
          continue;
        }
        imlsdk::Rng rng(micro_batch_seed(run.batch_seed, epoch, m));
        imlsdk::Batch batch = task.collate(examples, imlsdk::Phase::Train, rng);  // examples -> tensors
        at::Tensor loss;
        {  // training.precision: bf16 autocasts the forward pass and the loss, not the backward
          PrecisionGuard precision(t.precision, device);
          // forward + loss. HF Trainer divides each micro-batch loss by the accumulation steps.
          loss = forward_loss(model, task, batch, run).value / static_cast<double>(accum);
        }
        loss.backward();                                                            // backward
        step_loss += loss.item<double>();
        stats.units += batch.units;
      }
      const double factor = t.max_grad_norm > 0                                          // clip
                                ? clip_factor_for(params, t.max_grad_norm, have_sumsq ? &sumsq : nullptr)
                                : 1.0;
      const double lr = scheduled_lr(t, step, total_steps);
      step_with_factor(*optimizer, run.scaled_step, params, factor, lr);               // step
      for (auto& p : params) p.mutable_grad().reset();
      ++step;

      loss_ema = step == 1 ? step_loss : 0.9 * loss_ema + 0.1 * step_loss;
      stats.last_loss = step_loss;
      char status[64];
      std::snprintf(status, sizeof status, "epoch %lld/%lld loss %.4f", static_cast<long long>(epoch),
                    static_cast<long long>(st.epochs), loss_ema);
      bar.update(step, status);
      if (run.on_step) run.on_step({epoch, step, total_steps, step_loss, lr});
      kill_point("step");

      if (s + 1 == steps_per_epoch && ((epoch % t.eval_every == 0) || epoch == st.epochs) && run.on_eval) {
        model.eval();
        const double e0 = bar.elapsed_seconds();
        run.on_eval(epoch);
        stats.eval_seconds += bar.elapsed_seconds() - e0;
        ++stats.eval_passes;
      }
      if (run.on_checkpoint && (step % every == 0 || step == total_steps))  // resumable from here
        run.on_checkpoint({step, epoch, stats.units, seconds_before + bar.elapsed_seconds(), loss_ema, stats.last_loss},
                          *optimizer);
    }
  }
  if (st.epochs == 0 && run.on_eval) {
    model.eval();
    const double e0 = bar.elapsed_seconds();
    run.on_eval(0);
    stats.eval_seconds += bar.elapsed_seconds() - e0;
    ++stats.eval_passes;
  }
  bar.finish();
  stats.optimizer_steps = step;
  stats.seconds = seconds_before + bar.elapsed_seconds();
  return stats;
}

}  // namespace imlcore
