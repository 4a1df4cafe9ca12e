// Task `seq2seq_lm`: an encoder-decoder LM (T5) reads the prompt and is trained to produce the
// answer; the loss is on the answer tokens only (spec §5). It answers by greedy decoding from
// the model's decoder start token, with the cache.
//
//   collate: encoder input  [BOS] prompt EOS, truncated to block_size, right-padded
//            labels         answer EOS, truncated to target_block_size, padding = -100
//            decoder input  the labels shifted right behind decoder_start_id (HF's
//                           _shift_right: -100 becomes the pad id)
//   loss:    mean cross-entropy over the answer tokens
#include <ATen/ATen.h>

#include <algorithm>
#include <stdexcept>

#include "imlsdk/batching.hpp"
#include "imlsdk/params.hpp"
#include "imlsdk/task.hpp"

namespace {

using imlsdk::Json;

struct Settings {
  int64_t block_size = 0;
  int64_t target_block_size = 0;
  int64_t max_new_tokens = 0;
};

const imlsdk::Schema<Settings>& schema() {
  static const auto s = imlsdk::Schema<Settings>()
      .add("block_size", &Settings::block_size, int64_t{48}, "maximum encoder tokens per prompt (longer ones are truncated)")
      .add("target_block_size", &Settings::target_block_size, int64_t{8}, "maximum answer tokens (spec §5: label block 8)")
      .add("max_new_tokens", &Settings::max_new_tokens, int64_t{8}, "greedy tokens generated when the model answers");
  return s;
}

class Seq2SeqLm : public imlsdk::Task {
 public:
  Seq2SeqLm(const Settings& s, const imlsdk::TaskContext& ctx)
      : s_(s), tok_(*ctx.tokenizer), device_(ctx.device), start_(ctx.model.decoder_start_id) {}

  imlsdk::Batch collate(const std::vector<const imlsdk::Example*>& xs, imlsdk::Phase,
                        imlsdk::Rng&) const override {
    std::vector<std::vector<int64_t>> inputs, targets;
    for (const auto* x : xs) {
      if (x->prompt.empty() || x->answer.empty())
        throw std::invalid_argument("seq2seq_lm: every example needs a prompt and an answer (got one with text '" +
                                    x->text.substr(0, 40) + "')");
      inputs.push_back(imlsdk::encode_for_training(tok_, x->prompt, s_.block_size));
      std::vector<int64_t> t = tok_.encode(x->answer);
      t.push_back(tok_.eos_id());
      if (static_cast<int64_t>(t.size()) > s_.target_block_size) t.resize(s_.target_block_size);
      targets.push_back(std::move(t));
    }
    const imlsdk::PaddedTokens in = imlsdk::pad_sequences(inputs, tok_.pad_id(), true);
    const imlsdk::PaddedTokens out = imlsdk::pad_sequences(targets, tok_.pad_id(), true);
    const int64_t B = out.labels.size(0), T = out.labels.size(1);
    at::Tensor decoder = at::full({B, T}, tok_.pad_id(), at::kLong);
    decoder.select(1, 0).fill_(start_);
    if (T > 1) decoder.narrow(1, 1, T - 1).copy_(out.input_ids.narrow(1, 0, T - 1));

    imlsdk::Batch b;
    b.examples = static_cast<int64_t>(xs.size());
    b.units = in.tokens + out.tokens;
    b.targets = out.tokens;
    b.input.input_ids = in.input_ids.to(device_);
    b.input.attention_mask = in.attention_mask.to(device_);
    b.input.decoder_input_ids = decoder.to(device_);
    b.labels = out.labels.to(device_);
    return b;
  }

  imlsdk::Loss loss(const imlsdk::ModelOutput& out, const imlsdk::Batch& b) const override {
    return {imlsdk::token_cross_entropy(out.logits, b.labels), b.targets};
  }

  std::vector<imlsdk::Prediction> predict(imlsdk::Model& model,
                                          const std::vector<const imlsdk::Example*>& xs) const override {
    std::vector<std::vector<int64_t>> prompts;
    for (const auto* x : xs) prompts.push_back(imlsdk::encode_for_training(tok_, x->prompt, s_.block_size));
    return imlsdk::greedy_predictions(model, tok_, prompts, s_.max_new_tokens);
  }

 private:
  Settings s_;
  const imlsdk::Tokenizer& tok_;
  c10::Device device_;
  int64_t start_;
};

class Seq2SeqLmPlugin : public imlsdk::TaskPlugin {
 public:
  std::vector<imlsdk::ParamSpec> params() const override { return schema().specs(); }

  std::unique_ptr<imlsdk::Task> create(const Json& params, const imlsdk::TaskContext& ctx) const override {
    const Settings s = schema().read(params);
    if (!ctx.tokenizer) throw std::invalid_argument("needs a tokenizer");
    if (ctx.model.family != imlsdk::ModelFamily::Seq2SeqLM)
      throw std::invalid_argument(std::string("trains encoder-decoder LMs; the model is a ") + imlsdk::family_name(ctx.model.family));
    if (ctx.model.decoder_start_id < 0) throw std::invalid_argument("the model names no decoder start token");
    for (auto [key, v] : {std::pair<const char*, int64_t>{"block_size", s.block_size},
                          {"target_block_size", s.target_block_size}, {"max_new_tokens", s.max_new_tokens}})
      if (v < 1) throw std::invalid_argument(std::string(key) + " must be >= 1, got " + std::to_string(v));
    if (ctx.model.max_positions > 0 && s.block_size > ctx.model.max_positions)
      throw std::invalid_argument("block_size " + std::to_string(s.block_size) + " exceeds the model's " +
                                  std::to_string(ctx.model.max_positions) + " positions");
    return std::make_unique<Seq2SeqLm>(s, ctx);
  }
};

}  // namespace

IMLSDK_PLUGIN(Seq2SeqLmPlugin, "seq2seq_lm", "1.0.0",
              "Encoder-decoder LM: prompt in, loss on the answer tokens, greedy decoding")
