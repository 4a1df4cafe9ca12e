// Analyses run at evaluation points (every `eval_every` epochs of every stage) and return metrics.
#pragma once
#include <memory>
#include <string>
#include <vector>

#include "imlsdk/data.hpp"
#include "imlsdk/model.hpp"

namespace imlsdk {

struct EvalSettings {
  int64_t batch_size = 64;
  int64_t block_size = 48;
  int64_t max_new_tokens = 8;
  bool mask_padding = true;
};

struct EvalRequest {
  LanguageModel* model = nullptr;
  const Tokenizer* tokenizer = nullptr;
  const std::vector<EvalSet>* sets = nullptr;
  EvalSettings settings;
  std::string stage;  // stage name
  int epoch = 0;
};

struct Metric {
  std::string eval_set;
  std::string name;  // e.g. "loss", "em"
  double value = 0;
  int64_t count = 0;  // examples behind the value
};

class Analysis {
 public:
  virtual ~Analysis() = default;
  virtual std::vector<Metric> run(const EvalRequest& request) = 0;
};

class AnalysisPlugin : public Plugin {
 public:
  static constexpr Kind kKind = Kind::Analysis;
  virtual std::unique_ptr<Analysis> create(const Json& params) const = 0;
};

}  // namespace imlsdk
