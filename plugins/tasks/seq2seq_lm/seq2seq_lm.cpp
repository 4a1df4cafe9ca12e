// Task `seq2seq_lm`: an encoder-decoder LM (T5) reads the prompt and is trained to produce the
// answer; the loss is on the answer tokens only (spec §5). It answers by greedy decoding from
// the model's decoder start token, with the cache.
//
//   collate: encoder input  [BOS] prompt EOS, truncated to block_size, right-padded
//            labels         answer EOS, truncated to target_block_size, padding = -100
//            decoder input  the labels shifted right behind decoder_start_id (HF's
//                           _shift_right: -100 becomes the pad id)
//   loss:    mean cross-entropy over the answer tokens
//   evaluate: the loss pass's decoder logits already hold greedy decoding's first steps as long
//            as each chosen token is the answer's next one, so most answers of a trained model
//            are read off them; only the others are generated (SDK 2.2)
#include <ATen/ATen.h>
#include <c10/core/GradMode.h>

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
      targets.push_back(target_ids(*x));
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

  // SDK 2.4: the same loss from the decoder's output and the model's linear head (t5), block by
  // block without the [B, T, V] logits (linear_cross_entropy): the host's training step.
  imlsdk::Loss head_loss(const at::Tensor& head_input, const imlsdk::LinearHead& head,
                         const imlsdk::Batch& b) const override {
    return {imlsdk::linear_cross_entropy(head_input, head, b.labels), b.targets};
  }

  // SDK 2.3: loss, predict and evaluate keep no state but the encoding cache (behind a mutex,
  // or none) and the tokenizer's own, which is thread-safe: batch parts may run side by side.
  bool concurrent_calls() const override { return true; }

  std::vector<imlsdk::Prediction> predict(imlsdk::Model& model,
                                          const std::vector<const imlsdk::Example*>& xs) const override {
    std::vector<std::vector<int64_t>> prompts;
    for (const auto* x : xs) prompts.push_back(imlsdk::encode_for_training(tok_, x->prompt, s_.block_size));
    return imlsdk::greedy_predictions(model, tok_, prompts, s_.max_new_tokens);
  }

  imlsdk::EvalOutput evaluate(imlsdk::Model& model, const std::vector<const imlsdk::Example*>& xs,
                              bool want_loss, bool want_predictions) const override {
    // (collate refuses examples without an answer, which predict() alone would still answer)
    const bool answers = std::all_of(xs.begin(), xs.end(), [](const auto* x) { return !x->prompt.empty() && !x->answer.empty(); });
    if (!want_predictions || xs.empty() || !answers) return Task::evaluate(model, xs, want_loss, want_predictions);
    at::NoGradGuard no_grad;
    imlsdk::Rng unused(0);
    const imlsdk::Batch batch = collate(xs, imlsdk::Phase::Eval, unused);
    const imlsdk::ModelOutput out = model.forward(batch.input);
    imlsdk::EvalOutput r;
    if (want_loss) r.loss = loss(out, batch);
    // Decoder position j saw the start token and the answer's first j tokens: greedy step j's
    // logits, while the tokens chosen before were those. Rows that leave the answer before
    // max_new_tokens are generated by predict().
    const int64_t B = static_cast<int64_t>(xs.size()), T = out.logits.size(1);
    const int64_t steps = s_.max_new_tokens, eos = tok_.eos_id();
    const at::Tensor picked = out.logits.argmax(-1).to(at::kCPU).contiguous();  // [B, T]
    const int64_t* am = picked.data_ptr<int64_t>();
    r.predictions.resize(B);
    std::vector<const imlsdk::Example*> rest;
    std::vector<int64_t> rest_at;
    for (int64_t b = 0; b < B; ++b) {
      const std::vector<int64_t> t = target_ids(*xs[b]);
      const int64_t n = std::min<int64_t>(static_cast<int64_t>(t.size()), T);
      std::vector<int64_t> chosen;
      bool done = false;
      for (int64_t j = 0; j < steps && j < n; ++j) {
        const int64_t g = am[b * T + j];
        chosen.push_back(g);
        if ((eos >= 0 && g == eos) || j + 1 == steps) {
          done = true;
          break;
        }
        if (j + 1 >= n || t[j] != g) break;
      }
      if (done) {
        r.predictions[b].text = tok_.decode(chosen);
        r.predictions[b].tokens = std::move(chosen);
        ++r.predictions_from_loss_pass;
      } else {
        rest.push_back(xs[b]);
        rest_at.push_back(b);
      }
    }
    if (!rest.empty()) {
      auto generated = predict(model, rest);
      for (size_t i = 0; i < rest.size(); ++i) r.predictions[rest_at[i]] = std::move(generated[i]);
    }
    return r;
  }

 private:
  // answer EOS, truncated to target_block_size: the labels of one example
  std::vector<int64_t> target_ids(const imlsdk::Example& x) const {
    std::vector<int64_t> t = tok_.encode(x.answer);
    t.push_back(tok_.eos_id());
    if (static_cast<int64_t>(t.size()) > s_.target_block_size) t.resize(s_.target_block_size);
    return t;
  }

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

IMLSDK_PLUGIN(Seq2SeqLmPlugin, "seq2seq_lm", "1.3.0",
              "Encoder-decoder LM: prompt in, loss on the answer tokens, greedy decoding")
