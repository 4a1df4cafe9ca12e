#include "trainer.hpp"

#include <ATen/ATen.h>
#include <c10/core/GradMode.h>

#include <algorithm>
#include <cmath>

#include "errors.hpp"
#include "imlsdk/batching.hpp"
#include "progress.hpp"

namespace imlcore {

double scheduled_lr(const TrainingConfig& t, int64_t step, int64_t total) {
  int64_t warmup = t.warmup_steps > 0 ? t.warmup_steps
                                      : static_cast<int64_t>(std::ceil(t.warmup_ratio * total));
  if (step < warmup) return t.learning_rate * static_cast<double>(step) / std::max<int64_t>(1, warmup);
  if (t.lr_scheduler == "constant") return t.learning_rate;
  const double left = static_cast<double>(total - step) / std::max<int64_t>(1, total - warmup);
  return t.learning_rate * std::max(0.0, left);
}

StageStats train_stage(imlsdk::LanguageModel& model, const StageRun& run) {
  const StageConfig& st = *run.stage;
  const TrainingConfig& t = st.training;
  StageStats stats;
  if (run.examples->empty() && st.epochs > 0)
    throw UserError("stage '" + st.name + "': train subset '" + st.train_subset + "' is empty");

  // Tokenize once; the order is the dataset's (shuffled once at generation, spec §5).
  std::vector<std::vector<int64_t>> seqs;
  seqs.reserve(run.examples->size());
  for (const auto& ex : *run.examples)
    seqs.push_back(imlsdk::encode_for_training(*run.tokenizer, ex.text, t.block_size));

  const int64_t n = static_cast<int64_t>(seqs.size());
  const int64_t micro_per_epoch = (n + t.batch_size - 1) / t.batch_size;
  const int64_t steps_per_epoch = (micro_per_epoch + t.gradient_accumulation_steps - 1) / t.gradient_accumulation_steps;
  const int64_t total_steps = steps_per_epoch * st.epochs;

  std::vector<at::Tensor> params;
  imlsdk::NamedTensors named;
  for (auto& kv : model.named_parameters()) {
    params.push_back(kv.value());
    named.emplace_back(kv.key(), kv.value());
  }
  auto optimizer = run.optimizer->create(st.optimizer_params, named);

  ProgressBar bar(run.label, std::max<int64_t>(1, total_steps));
  int64_t step = 0;
  double loss_ema = 0;
  for (int64_t epoch = 1; epoch <= st.epochs; ++epoch) {
    model.train();
    for (int64_t s = 0; s < steps_per_epoch; ++s) {
      const int64_t first_micro = s * t.gradient_accumulation_steps;
      const int64_t last_micro = std::min(micro_per_epoch, first_micro + t.gradient_accumulation_steps);
      double step_loss = 0;
      for (int64_t m = first_micro; m < last_micro; ++m) {
        const int64_t b0 = m * t.batch_size, b1 = std::min(n, b0 + t.batch_size);
        std::vector<std::vector<int64_t>> mb(seqs.begin() + b0, seqs.begin() + b1);
        imlsdk::Batch batch = imlsdk::collate(mb, run.tokenizer->pad_id(), t.mask_padding,
                                              t.pad_to_block ? t.block_size : 0);
        imlsdk::ForwardArgs args;
        args.input_ids = batch.input_ids.to(run.device);
        args.attention_mask = batch.attention_mask.to(run.device);
        at::Tensor logits = model.forward(args);
        // HF Trainer divides each micro-batch loss by the accumulation steps.
        at::Tensor loss = imlsdk::causal_lm_loss(logits, batch.labels.to(run.device)) /
                          static_cast<double>(t.gradient_accumulation_steps);
        loss.backward();
        step_loss += loss.item<double>();
        stats.tokens += batch.tokens;
      }
      if (t.max_grad_norm > 0) imlsdk::clip_grad_norm(params, t.max_grad_norm, 2.0);
      optimizer->step(scheduled_lr(t, step, total_steps));
      for (auto& p : params) p.mutable_grad().reset();
      ++step;
      loss_ema = step == 1 ? step_loss : 0.9 * loss_ema + 0.1 * step_loss;
      stats.last_loss = step_loss;
      char status[64];
      std::snprintf(status, sizeof status, "epoch %lld/%lld loss %.4f", static_cast<long long>(epoch),
                    static_cast<long long>(st.epochs), loss_ema);
      bar.update(step, status);
    }
    const bool eval_now = (epoch % t.eval_every == 0) || epoch == st.epochs;
    if (eval_now && run.on_eval) {
      model.eval();
      run.on_eval(epoch);
    }
  }
  if (st.epochs == 0 && run.on_eval) {
    model.eval();
    run.on_eval(0);
  }
  bar.finish();
  stats.optimizer_steps = step;
  stats.seconds = bar.elapsed_seconds();
  return stats;
}

}  // namespace imlcore
