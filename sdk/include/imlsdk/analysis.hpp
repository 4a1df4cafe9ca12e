// Analyses: callbacks at named moments of an experiment (PyTorch Lightning's Callback, HF's
// TrainerCallback). The host's loop calls them and contains none of their logic. An analysis
// sees the model, the task and the data, may read model internals (hidden states through
// ModelInput::output_hidden_states, gradients of chosen examples through example_gradient()),
// returns any number of metrics, and writes its own files into the run folder it is given.
//
//   moment                      called                                  sees
//   on_stage_begin              before a stage's first step             StageState
//   on_step_end                 after every optimizer step              StepState
//   on_evaluate                 at every evaluation point               EvalState -> metrics
//   on_seed_end                 when a (seed, stage-2 seed) run ends    SeedEndState
//   on_experiment_end           once, after every seed                  ExperimentEndState
#pragma once
#include <memory>
#include <string>
#include <vector>

#include "imlsdk/data.hpp"
#include "imlsdk/files.hpp"
#include "imlsdk/model.hpp"
#include "imlsdk/task.hpp"

namespace imlsdk {

// Where in the experiment a callback is called.
struct RunPoint {
  uint64_t seed = 0;
  Json stage2_seed;           // null before the Stage-2 branch
  std::string stage;          // stage name
  int64_t epoch = 0;          // 1-based; 0 = before the first epoch
  int64_t step = 0;           // optimizer steps done in this stage
  int64_t total_steps = 0;    // optimizer steps this stage will take
  std::string output_dir;     // this seed's results folder: write files here (write_file_atomic)
};

struct StageState {
  RunPoint at;
  Model* model = nullptr;
  const Task* task = nullptr;
  const DataSplit* data = nullptr;
  const std::vector<Example>* train = nullptr;  // the stage's training set, in training order
};

struct StepState {
  RunPoint at;
  Model* model = nullptr;
  const Task* task = nullptr;
  const DataSplit* data = nullptr;
  double loss = 0;  // this step's training loss (mean over its micro-batches)
  double lr = 0;    // the learning rate the step used
};

struct EvalState {
  RunPoint at;
  Model* model = nullptr;
  const Task* task = nullptr;
  const DataSplit* data = nullptr;
  const Tokenizer* tokenizer = nullptr;  // null for tasks without text
  int64_t batch_size = 64;               // examples per evaluation batch
  // SDK 2.2, set by the host: the task plugin was built against SDK >= 2.2, so its vtable has
  // Task::evaluate (analyses call evaluate_examples(), which checks this).
  bool task_has_evaluate = false;
};

// SDK 2.3: how many jobs evaluate_examples() splits a batch into (imlsdk::run_side_by_side). Set
// by the host around each evaluation pass: experiment.streams where the model and the task allow
// concurrent calls (Model::concurrent_forward, Task::concurrent_calls), else 1. Process-wide,
// not an EvalState field, so that analyses built against 2.2 that pass on a copy of their
// EvalState (whose layout ends before any new field) work unchanged. Values < 1 count as 1.
void set_evaluation_streams(int64_t streams);
int64_t evaluation_streams();

// The loss and/or the predictions of `xs` under `st`: st.task->evaluate() where the task has it
// (SDK >= 2.2), else collate + forward + loss and predict(), as Task::evaluate's default does.
// With evaluation_streams() > 1 (SDK 2.3) and at least kMinRowsPerStream examples per job, `xs` is split
// as side_by_side_plan (parallel.hpp) says, into chunks that jobs evaluate side by side (big
// batches by example size, so that each chunk pads less); the chunks' losses are combined
// weighted by their counts, and their predictions put back in the examples' order, so the result
// is the one-call result up to the float rounding of sums and of logits computed in another
// batch layout.
constexpr int64_t kMinRowsPerStream = 8;
EvalOutput evaluate_examples(const EvalState& st, const std::vector<const Example*>& xs, bool want_loss,
                             bool want_predictions);

// One result. `value` is usually a number; any JSON (a list per layer, a map) is allowed and
// lands in metrics.jsonl as it is. The summary table aggregates numeric values across seeds.
struct Metric {
  std::string eval_set;  // the eval set (or another group name) it is about
  std::string name;      // e.g. "loss", "em", "probe_acc_layer3"
  Json value;
  int64_t count = 0;     // examples behind the value
};

struct SeedEndState {
  RunPoint at;
  Model* model = nullptr;
  const Task* task = nullptr;
  const DataSplit* data = nullptr;
};

struct ExperimentEndState {
  std::string output_dir;           // results/<experiment>: write experiment-wide files here
  const std::vector<Json>* records = nullptr;  // every metrics.jsonl line of every seed
};

class Analysis {
 public:
  virtual ~Analysis() = default;
  virtual void on_stage_begin(const StageState&) {}
  virtual void on_step_end(const StepState&) {}
  virtual std::vector<Metric> on_evaluate(const EvalState&) { return {}; }
  virtual void on_seed_end(const SeedEndState&) {}
  virtual void on_experiment_end(const ExperimentEndState&) {}

  // SDK 2.1: what the analysis carries between callbacks (measurements it reports later, lines
  // of its files), for mid-stage checkpoints. The host saves state() in each checkpoint and, when
  // a killed run resumes from it, calls on_stage_begin for the resumed stage and then
  // load_state(saved), so the resumed run reports exactly what an uninterrupted one would.
  // Any JSON; null (the default) = no state. The host also restores the state saved before the
  // Stage-2 branch at the start of every Stage-2 seed. Called only for plugins built against
  // SDK >= 2.1.
  virtual Json state() const { return Json(); }
  virtual void load_state(const Json& /*state*/) {}
};

// What an analysis may check its params against when it is created (before anything runs), so
// that a name matching nothing is refused instead of silently ignored.
struct AnalysisContext {
  std::vector<std::string> eval_sets;  // every eval set the data has (first seed)
  std::vector<std::string> stages;     // the config's stage names, in run order
};

// Throws std::invalid_argument "<key>: no <what> named '<name>' (known: a, b, ...)" for
// the first of `names` that is not in `known` (e.g. eval sets, stages).
void require_known_names(const std::vector<std::string>& names, const std::vector<std::string>& known,
                         const std::string& key, const std::string& what);

class AnalysisPlugin : public Plugin {
 public:
  static constexpr Kind kKind = Kind::Analysis;
  virtual std::unique_ptr<Analysis> create(const Json& params, const AnalysisContext& ctx) const = 0;
};

// The gradient of `task`'s loss on `x` alone with respect to every parameter of `model`,
// flattened into one vector (parameter order). The model's own .grad() fields are left as they
// were, so an analysis may call it in the middle of training.
torch::Tensor example_gradient(Model& model, const Task& task, const Example& x);

}  // namespace imlsdk
