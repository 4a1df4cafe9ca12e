// Task `causal_lm`: a decoder-only LM trains on each example's text (+ EOS) with next-token
// cross-entropy, and answers by greedy continuation of the prompt (spec §5).
//
//   collate: [BOS] text EOS, truncated to block_size, right-padded (padding left out of the loss
//            unless mask_padding: false, the reference's way); pad_to_block pads training
//            batches to block_size as the reference does
//   loss:    mean next-token cross-entropy over the unmasked labels
//   predict: greedy decoding of max_new_tokens from [BOS] prompt, with the KV cache
#include <ATen/ATen.h>

#include <mutex>
#include <stdexcept>
#include <unordered_map>

#include "imlsdk/batching.hpp"
#include "imlsdk/params.hpp"
#include "imlsdk/task.hpp"

namespace {

using imlsdk::Json;

struct Settings {
  int64_t block_size = 0;
  bool mask_padding = true;
  bool pad_to_block = false;
  int64_t max_new_tokens = 0;
};

const imlsdk::Schema<Settings>& schema() {
  static const auto s = imlsdk::Schema<Settings>()
      .add("block_size", &Settings::block_size, int64_t{48}, "maximum tokens per example (longer ones are truncated)")
      .add("mask_padding", &Settings::mask_padding, true, "leave padding out of the loss (false = the reference's unmasked EOS padding)")
      .add("pad_to_block", &Settings::pad_to_block, false, "pad every training batch to block_size as the reference does (default: to the longest example)")
      .add("max_new_tokens", &Settings::max_new_tokens, int64_t{8}, "greedy tokens generated when the model answers");
  return s;
}

class CausalLm : public imlsdk::Task {
 public:
  CausalLm(const Settings& s, const imlsdk::TaskContext& ctx) : s_(s), tok_(*ctx.tokenizer), device_(ctx.device) {}

  imlsdk::Batch collate(const std::vector<const imlsdk::Example*>& xs, imlsdk::Phase phase,
                        imlsdk::Rng&) const override {
    std::vector<std::vector<int64_t>> seqs;
    seqs.reserve(xs.size());
    for (const auto* x : xs) seqs.push_back(encoded(x->text));
    const bool pad_to_block = s_.pad_to_block && phase == imlsdk::Phase::Train;
    imlsdk::PaddedTokens t = imlsdk::pad_sequences(seqs, tok_.pad_id(), s_.mask_padding,
                                                   pad_to_block ? s_.block_size : 0);
    imlsdk::Batch b;
    b.examples = static_cast<int64_t>(xs.size());
    b.units = t.tokens;
    b.targets = t.labels.numel() == 0 ? 0 : t.labels.slice(1, 1).ne(-100).sum().item<int64_t>();
    b.input.input_ids = t.input_ids.to(device_);
    b.input.attention_mask = t.attention_mask.to(device_);
    b.labels = t.labels.to(device_);
    return b;
  }

  imlsdk::Loss loss(const imlsdk::ModelOutput& out, const imlsdk::Batch& b) const override {
    return {imlsdk::causal_lm_loss(out.logits, b.labels), b.targets};
  }

  std::vector<imlsdk::Prediction> predict(imlsdk::Model& model,
                                          const std::vector<const imlsdk::Example*>& xs) const override {
    std::vector<std::vector<int64_t>> prompts;
    for (const auto* x : xs) {
      std::vector<int64_t> p;
      if (tok_.add_bos() && tok_.bos_id() >= 0) p.push_back(tok_.bos_id());
      const auto ids = tok_.encode(x->prompt);
      p.insert(p.end(), ids.begin(), ids.end());
      prompts.push_back(std::move(p));
    }
    return imlsdk::greedy_predictions(model, tok_, prompts, s_.max_new_tokens);
  }

 private:
  // Examples are re-encoded every epoch; a text's ids are computed once per task.
  const std::vector<int64_t>& encoded(const std::string& text) const {
    std::lock_guard<std::mutex> lock(mutex_);
    auto it = cache_.find(text);
    if (it == cache_.end()) it = cache_.emplace(text, imlsdk::encode_for_training(tok_, text, s_.block_size)).first;
    return it->second;
  }

  Settings s_;
  const imlsdk::Tokenizer& tok_;
  c10::Device device_;
  mutable std::mutex mutex_;
  mutable std::unordered_map<std::string, std::vector<int64_t>> cache_;
};

class CausalLmPlugin : public imlsdk::TaskPlugin {
 public:
  std::vector<imlsdk::ParamSpec> params() const override { return schema().specs(); }

  std::unique_ptr<imlsdk::Task> create(const Json& params, const imlsdk::TaskContext& ctx) const override {
    const Settings s = schema().read(params);
    if (!ctx.tokenizer) throw std::invalid_argument("needs a tokenizer (the dataset builds none and the model has no checkpoint)");
    if (ctx.model.family != imlsdk::ModelFamily::CausalLM)
      throw std::invalid_argument(std::string("trains causal LMs; the model is a ") + imlsdk::family_name(ctx.model.family));
    if (s.block_size < 1) throw std::invalid_argument("block_size must be >= 1, got " + std::to_string(s.block_size));
    if (s.max_new_tokens < 1) throw std::invalid_argument("max_new_tokens must be >= 1, got " + std::to_string(s.max_new_tokens));
    if (ctx.model.max_positions > 0 && s.block_size > ctx.model.max_positions)
      throw std::invalid_argument("block_size " + std::to_string(s.block_size) + " exceeds the model's " +
                                  std::to_string(ctx.model.max_positions) + " positions (max_position_embeddings)");
    return std::make_unique<CausalLm>(s, ctx);
  }
};

}  // namespace

IMLSDK_PLUGIN(CausalLmPlugin, "causal_lm", "1.0.0",
              "Causal LM: next-token loss on each text, greedy continuation of prompts")
