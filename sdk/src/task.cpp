#include "imlsdk/task.hpp"

#include "imlsdk/generate.hpp"

namespace imlsdk {

std::vector<const Example*> example_refs(const std::vector<Example>& xs, size_t b0, size_t b1) {
  std::vector<const Example*> out;
  b1 = std::min(b1, xs.size());
  for (size_t i = b0; i < b1; ++i) out.push_back(&xs[i]);
  return out;
}

std::vector<Prediction> greedy_predictions(Model& model, const Tokenizer& tokenizer,
                                           const std::vector<std::vector<int64_t>>& prompts,
                                           int64_t max_new_tokens) {
  GenerateOptions o;
  o.max_new_tokens = max_new_tokens;
  o.pad_id = tokenizer.pad_id();
  o.eos_id = tokenizer.eos_id();
  std::vector<Prediction> out;
  for (auto& ids : greedy_generate(model, prompts, o)) {
    Prediction p;
    p.text = tokenizer.decode(ids);
    p.tokens = std::move(ids);
    out.push_back(std::move(p));
  }
  return out;
}

}  // namespace imlsdk
