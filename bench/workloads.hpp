// What the benchmark times. A workload is one callable (a GEMM, a training step, a greedy
// generation) with the work it does per call and the rates measured for it under each thread
// set-up. The model shapes and the training step (the host trainer's, phase by phase) live here.
#pragma once
#include <array>
#include <functional>
#include <map>
#include <memory>
#include <string>
#include <vector>

#include "imlsdk/batching.hpp"
#include "imlsdk/generate.hpp"
#include "imlsdk/model.hpp"
#include "imlsdk/optimizer.hpp"

namespace bench {

double median(std::vector<double> v);  // NaN for an empty vector

// ---- model shapes ---------------------------------------------------------------------------

struct ModelShape {
  std::string name;
  int64_t hidden = 0, layers = 0, heads = 0, intermediate = 0, vocab = 0;
  std::string source;  // where the shape comes from
  std::string describe() const;
};

ModelShape pythia_70m();  // hidden 512, 6 layers, 8 heads, MLP 2048, vocab 50304
// The model section of <source_dir>/configs/set_inclusion_cpu.yaml, else hidden 128, 2 layers,
// 4 heads, MLP 512; vocab ~2100 (the set-inclusion tokenizer's) unless the file sets vocab_size.
ModelShape cpu_default(const std::string& source_dir);
// HF's "small shape" reference point (hidden 128, 2 layers, 4 heads, MLP 512). HF's figure does
// not name its vocabulary, so it is measured with Pythia's (50304) and the set-inclusion one.
ModelShape hf_small();
ModelShape hf_small_v2100();
ModelShape hf_small_v134();

// A randomly initialised pythia model of this shape (fixed seed).
std::shared_ptr<imlsdk::Model> build_model(const imlsdk::ModelPlugin& pythia,
                                                   const ModelShape& shape);

// ---- the training step ----------------------------------------------------------------------

// The step's phases, and last ("part wait") how long, within forward and backward, a part's
// thread waits for the slower part where the batch is split (the mean over the parts).
constexpr int kPhases = 7;
using PhaseTimes = std::array<double, kPhases>;  // seconds
extern const std::array<const char*, kPhases> kPhaseNames;

// One micro-batch per optimizer step, as core/src/trainer.cpp does it: forward -> causal_lm_loss
// -> backward -> loss.item() -> clipping to norm 1.0 -> Adafactor (plugin defaults, lr 5e-5) ->
// drop the gradients. Clipping as the trainer's: the norm from the parts' sum where the batch is
// split, the scaling folded into Adafactor's step where `scaled_step` (its plugin built against
// SDK >= 2.9). The batch is random full-length sequences (no padding).
class TrainRig {
 public:
  TrainRig(std::shared_ptr<imlsdk::Model> model, const imlsdk::OptimizerPlugin& adafactor, bool scaled_step,
           int64_t batch_size, int64_t seq_len);
  void step();
  const PhaseTimes& last_phases() const { return phases_; }

 private:
  void forward_backward(const std::function<void(int)>& mark);   // one batch
  // In parts (experiment.streams); the gradients' sums of squares into sumsq_.
  void step_side_by_side(const std::function<void(int)>& mark);
  // The loss of rows of the batch as the trainer computes it; mark(0) after the forward pass.
  at::Tensor loss_of(const at::Tensor& input_ids, const at::Tensor& attention_mask, const at::Tensor& labels,
                     const std::function<void(int)>& mark);
  std::shared_ptr<imlsdk::Model> model_;
  std::unique_ptr<imlsdk::Optimizer> optimizer_;
  bool scaled_step_ = false;
  std::vector<at::Tensor> params_;
  std::vector<double> sumsq_;
  imlsdk::PaddedTokens batch_;
  PhaseTimes phases_{};
};

// ---- workloads ------------------------------------------------------------------------------

struct Workload {
  std::string id, kind, label, unit;  // kind: "gemm", "train" or "generate"
  double work_per_call = 0;            // tokens (GFLOP for GEMMs) per call
  std::function<void()> call;
  std::shared_ptr<TrainRig> rig;       // training workloads: for the phase breakdown
  int64_t flop_params = 0;             // model workloads: parameters counted for MFU
  double model_gflop = 0;              // model FLOPs per call: 6N per trained token, 2N per forward token
  int calls_per_rep = 1;               // calibrated: at least a set time and a set number of calls
  std::map<std::string, std::vector<double>> rates;  // set-up label -> rate of each repetition
  std::vector<PhaseTimes> phases;                    // per repetition, under the reference set-up

  double rate(const std::string& setup) const;       // median; NaN if not measured
};

Workload gemm_workload(int64_t n);  // at::mm of two n x n fp32 matrices
// scaled_step: as TrainRig's (the adafactor plugin built against SDK >= 2.9).
Workload train_workload(const std::string& name, std::shared_ptr<imlsdk::Model> model,
                        const imlsdk::OptimizerPlugin& adafactor, bool scaled_step, int64_t batch, int64_t seq);
// imlsdk::greedy_generate on `prompts` random prompts of `prompt_len` tokens, KV cache on.
Workload generate_workload(const ModelShape& shape, std::shared_ptr<imlsdk::Model> model,
                           int64_t prompts, int64_t prompt_len, int64_t new_tokens);

// Warms `w` up, then sets calls_per_rep so that one repetition lasts >= min_seconds and makes
// at least min_calls calls.
void calibrate(Workload& w, double min_seconds, int min_calls = 1);
// Times one repetition, call by call, and records its rate under `setup` (the work of one call
// over the median call time) and, if asked, each phase's median over the calls.
void measure_once(Workload& w, const std::string& setup, bool record_phases);

}  // namespace bench
