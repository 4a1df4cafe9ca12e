// Analysis `exact_match`: for every eval set, the mean token loss of its texts and the exact match
// of greedy generation from its prompts against its answers (spec §5 normalisation).
#include <ATen/ATen.h>
#include <c10/core/GradMode.h>

#include <algorithm>

#include "imlsdk/analysis.hpp"
#include "imlsdk/batching.hpp"
#include "imlsdk/text.hpp"

namespace {

using imlsdk::Json;

class ExactMatch : public imlsdk::Analysis {
 public:
  explicit ExactMatch(const Json& p)
      : loss_(p.at("loss").get<bool>()), em_(p.at("em").get<bool>()),
        max_examples_(p.at("max_examples").get<int64_t>()) {
    for (const auto& s : p.at("sets")) sets_.push_back(s.get<std::string>());
  }

  std::vector<imlsdk::Metric> run(const imlsdk::EvalRequest& req) override {
    at::NoGradGuard no_grad;
    std::vector<imlsdk::Metric> out;
    for (const auto& set : *req.sets) {
      if (!sets_.empty() && std::find(sets_.begin(), sets_.end(), set.name) == sets_.end()) continue;
      std::vector<imlsdk::Example> xs = set.examples;
      if (max_examples_ > 0 && static_cast<int64_t>(xs.size()) > max_examples_) xs.resize(max_examples_);
      if (xs.empty()) continue;
      const int64_t n = static_cast<int64_t>(xs.size());
      if (loss_) out.push_back({set.name, "loss", mean_loss(req, xs), n});
      if (em_) out.push_back({set.name, "em", exact_match(req, xs), n});
    }
    return out;
  }

 private:
  // Mean next-token loss over every (unmasked) token of the set.
  double mean_loss(const imlsdk::EvalRequest& req, const std::vector<imlsdk::Example>& xs) {
    const auto& tok = *req.tokenizer;
    const auto device = req.model->parameters().front().device();
    double sum = 0;
    int64_t count = 0;
    for (size_t b0 = 0; b0 < xs.size(); b0 += req.settings.batch_size) {
      const size_t b1 = std::min(xs.size(), b0 + static_cast<size_t>(req.settings.batch_size));
      std::vector<std::vector<int64_t>> seqs;
      for (size_t i = b0; i < b1; ++i)
        seqs.push_back(imlsdk::encode_for_training(tok, xs[i].text, req.settings.block_size));
      imlsdk::Batch batch = imlsdk::collate(seqs, tok.pad_id(), req.settings.mask_padding);
      imlsdk::ForwardArgs args;
      args.input_ids = batch.input_ids.to(device);
      args.attention_mask = batch.attention_mask.to(device);
      at::Tensor labels = batch.labels.to(device);
      at::Tensor loss = imlsdk::causal_lm_loss(req.model->forward(args), labels);
      const int64_t k = labels.slice(1, 1).ne(-100).sum().item<int64_t>();
      sum += loss.item<double>() * k;
      count += k;
    }
    return count > 0 ? sum / count : 0.0;
  }

  double exact_match(const imlsdk::EvalRequest& req, const std::vector<imlsdk::Example>& xs) {
    const auto& tok = *req.tokenizer;
    int64_t hits = 0;
    for (size_t b0 = 0; b0 < xs.size(); b0 += req.settings.batch_size) {
      const size_t b1 = std::min(xs.size(), b0 + static_cast<size_t>(req.settings.batch_size));
      std::vector<std::vector<int64_t>> prompts;
      for (size_t i = b0; i < b1; ++i) prompts.push_back(tok.encode(xs[i].prompt));
      const auto generated = imlsdk::greedy_generate(*req.model, prompts, req.settings.max_new_tokens,
                                                     tok.pad_id(), tok.eos_id(), /*use_cache=*/true);
      for (size_t i = b0; i < b1; ++i) {
        const std::string pred = imlsdk::extract_prediction(tok.decode(generated[i - b0]));
        hits += imlsdk::exact_match(pred, xs[i].answer) ? 1 : 0;
      }
    }
    return static_cast<double>(hits) / static_cast<double>(xs.size());
  }

  bool loss_, em_;
  int64_t max_examples_;
  std::vector<std::string> sets_;
};

class ExactMatchPlugin : public imlsdk::AnalysisPlugin {
 public:
  std::vector<imlsdk::ParamSpec> params() const override {
    return {
        {"loss", imlsdk::ParamType::Bool, true, "report the mean token loss of each eval set"},
        {"em", imlsdk::ParamType::Bool, true, "report exact match of greedy generation"},
        {"sets", imlsdk::ParamType::List, Json::array(), "eval sets to evaluate (empty = all)"},
        {"max_examples", imlsdk::ParamType::Int, 0, "evaluate at most this many examples per set (0 = all)"},
    };
  }
  std::unique_ptr<imlsdk::Analysis> create(const Json& params) const override {
    if (params.at("max_examples").get<int64_t>() < 0) throw std::invalid_argument("max_examples must be >= 0");
    return std::make_unique<ExactMatch>(params);
  }
};

}  // namespace

IMLSDK_PLUGIN(ExactMatchPlugin, "exact_match", "1.0.0",
              "Mean loss and exact match (greedy generation) on every eval set")
