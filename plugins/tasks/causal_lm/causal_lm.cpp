// Task `causal_lm`: a decoder-only LM trains on each example's text (+ EOS) with next-token
// cross-entropy, and answers by greedy continuation of the prompt (spec §5).
//
//   collate: [BOS] text EOS, truncated to block_size, right-padded (padding left out of the loss
//            unless mask_padding: false, the reference's way); pad_to_block pads training
//            batches to block_size and has every padded position computed, as the reference
//   loss:    mean next-token cross-entropy over the unmasked labels (in training, from the
//            head's input where the model's head is a linear map: only the unmasked rows are
//            projected, block by block, SDK 2.4)
//   predict: greedy decoding of max_new_tokens from [BOS] prompt, with the KV cache
//   evaluate: the loss pass's logits already hold greedy decoding's first steps wherever the
//            text continues the prompt's tokens (causal attention: position i sees tokens
//            0..i only), so an answer is read off them as long as each chosen token is the
//            text's next one; where it is not, decoding goes on from the pass's keys and values
//            (SDK 2.2). Only texts that do not start with their prompt are generated afresh.
#include <ATen/ATen.h>
#include <c10/core/GradMode.h>

#include <algorithm>

#include <mutex>
#include <stdexcept>
#include <unordered_map>

#include "imlsdk/batching.hpp"
#include "imlsdk/generate.hpp"
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
      .add("pad_to_block", &Settings::pad_to_block, false, "pad every training batch to block_size and compute every padded position, as the reference does (default: pad to the longest example; the model skips the padding)")
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

  // SDK 2.4: the same loss from the head's input, without the [B, T, V] logits.
  imlsdk::Loss head_loss(const at::Tensor& head_input, const imlsdk::LinearHead& head,
                         const imlsdk::Batch& b) const override {
    return {imlsdk::causal_lm_loss(head_input, head, b.labels), b.targets};
  }
  // SDK 2.5: position t's head input predicts label t + 1; the last position's predicts nothing.
  // With pad_to_block every position is computed, as the reference computes it: that setting
  // exists to compare equal work (bench/bench_experiment.sh's "at equal padding").
  at::Tensor head_rows(const imlsdk::Batch& b) const override {
    if (s_.pad_to_block) return {};
    at::Tensor rows = at::zeros(b.labels.sizes(), b.labels.options().dtype(at::kBool));
    if (b.labels.size(1) > 1) rows.slice(1, 0, -1).copy_(b.labels.slice(1, 1).ne(-100));
    return rows;
  }

  // SDK 2.3: loss, predict and evaluate keep no state but the encoding cache (behind a mutex,
  // or none) and the tokenizer's own, which is thread-safe: batch parts may run side by side.
  bool concurrent_calls() const override { return true; }

  std::vector<imlsdk::Prediction> predict(imlsdk::Model& model,
                                          const std::vector<const imlsdk::Example*>& xs) const override {
    std::vector<std::vector<int64_t>> prompts;
    for (const auto* x : xs) prompts.push_back(prompt_ids(*x));
    return imlsdk::greedy_predictions(model, tok_, prompts, s_.max_new_tokens);
  }

  imlsdk::EvalOutput evaluate(imlsdk::Model& model, const std::vector<const imlsdk::Example*>& xs,
                              bool want_loss, bool want_predictions) const override {
    if (!want_predictions || xs.empty()) return Task::evaluate(model, xs, want_loss, want_predictions);
    at::NoGradGuard no_grad;
    imlsdk::Rng unused(0);
    imlsdk::Batch batch = collate(xs, imlsdk::Phase::Eval, unused);
    imlsdk::KVCache cache;  // the texts' keys and values: where generation goes on from
    batch.input.cache = &cache;
    const imlsdk::ModelOutput out = model.forward(batch.input);
    batch.input.cache = nullptr;
    imlsdk::EvalOutput r;
    if (want_loss) r.loss = loss(out, batch);
    r.predictions = predictions_from_logits(model, xs, out.logits, cache, r.predictions_from_loss_pass);
    return r;
  }

 private:
  std::vector<int64_t> prompt_ids(const imlsdk::Example& x) const {
    std::vector<int64_t> p;
    if (tok_.add_bos() && tok_.bos_id() >= 0) p.push_back(tok_.bos_id());
    const auto ids = tok_.encode(x.prompt);
    p.insert(p.end(), ids.begin(), ids.end());
    return p;
  }

  // Greedy answers from the logits [B, T, V] of a forward pass over collate(xs)'s texts, and its
  // cache. Row b's text ids t (as collate encoded them) start with its prompt ids p (|p| = P): the
  // logits at position P-1+j are then exactly what greedy decoding sees at its step j, provided
  // the tokens chosen at steps 0..j-1 were t[P..P+j-1]. Each row is followed while that holds
  // (`resolved` counts the rows answered entirely so). A row whose chosen token leaves its text
  // goes on from the text's keys and values of positions 0..P+j-1 (imlsdk::greedy_continue); only
  // rows whose text does not start with their prompt are generated from scratch (predict()).
  std::vector<imlsdk::Prediction> predictions_from_logits(imlsdk::Model& model,
                                                          const std::vector<const imlsdk::Example*>& xs,
                                                          const at::Tensor& logits, const imlsdk::KVCache& cache,
                                                          int64_t& resolved) const {
    const int64_t B = static_cast<int64_t>(xs.size()), T = logits.size(1), V = logits.size(2);
    const int64_t steps = s_.max_new_tokens, eos = tok_.eos_id();
    std::vector<int64_t> prompt_len(B);
    std::vector<const std::vector<int64_t>*> texts(B);
    int64_t longest_prompt = 0;
    std::vector<int64_t> rows;          // flat [B * T] indices of the logits rows the chains may read
    std::vector<int64_t> first(B, -1);  // row b's first index into `rows`, -1 = not a continuation
    for (int64_t b = 0; b < B; ++b) {
      const std::vector<int64_t> p = prompt_ids(*xs[b]);
      texts[b] = &encoded(xs[b]->text);
      const auto& t = *texts[b];
      const int64_t P = static_cast<int64_t>(p.size()), n = static_cast<int64_t>(t.size());
      prompt_len[b] = P;
      longest_prompt = std::max(longest_prompt, P);
      if (P == 0 || P > n || !std::equal(p.begin(), p.end(), t.begin())) continue;
      first[b] = static_cast<int64_t>(rows.size());
      for (int64_t pos = P - 1; pos < std::min(n, P - 1 + steps); ++pos) rows.push_back(b * T + pos);
    }
    // Generation refuses prompts that leave no room for the new tokens: let it say so.
    const int64_t max_positions = model.info().max_positions;
    if (rows.empty() || cache.k.empty() || (max_positions > 0 && longest_prompt + steps > max_positions))
      return predict(model, xs);

    const at::Tensor picked = logits.reshape({B * T, V})
                                  .index_select(0, at::tensor(rows, at::kLong).to(logits.device()))
                                  .argmax(-1)
                                  .to(at::kCPU)
                                  .contiguous();
    const int64_t* am = picked.data_ptr<int64_t>();
    std::vector<imlsdk::Prediction> out(B);
    std::vector<const imlsdk::Example*> fresh;  // generated from scratch
    std::vector<int64_t> fresh_at, go_on_at, go_on_past, go_on_next, go_on_steps;
    for (int64_t b = 0; b < B; ++b) {
      if (first[b] < 0) {
        fresh.push_back(xs[b]);
        fresh_at.push_back(b);
        continue;
      }
      const auto& t = *texts[b];
      const int64_t P = prompt_len[b], n = static_cast<int64_t>(t.size());
      std::vector<int64_t>& chosen = out[b].tokens;
      bool done = false;
      for (int64_t j = 0; j < steps; ++j) {  // position P-1+j < n: the previous step checked it
        const int64_t g = am[first[b] + j];
        chosen.push_back(g);
        // finished: EOS, or the last step; else the next step's logits are the text's only if
        // this token is the text's next one
        if ((eos >= 0 && g == eos) || j + 1 == steps) {
          done = true;
          break;
        }
        if (P + j >= n || t[P + j] != g) {  // leaves the text: go on from its first P+j positions
          go_on_at.push_back(b);
          go_on_past.push_back(P + j);
          go_on_next.push_back(g);
          go_on_steps.push_back(steps - j - 1);
          break;
        }
      }
      if (done) ++resolved;
    }
    if (!go_on_at.empty()) {
      imlsdk::GenerateOptions o;
      o.pad_id = tok_.pad_id();
      o.eos_id = eos;
      const auto more = imlsdk::greedy_continue(model, cache, go_on_at, go_on_past, go_on_next, go_on_steps, o);
      for (size_t i = 0; i < go_on_at.size(); ++i) {
        auto& tokens = out[go_on_at[i]].tokens;
        tokens.insert(tokens.end(), more[i].begin(), more[i].end());
      }
    }
    for (int64_t b = 0; b < B; ++b)
      if (first[b] >= 0) out[b].text = tok_.decode(out[b].tokens);
    if (!fresh.empty()) {
      auto generated = predict(model, fresh);
      for (size_t i = 0; i < fresh.size(); ++i) out[fresh_at[i]] = std::move(generated[i]);
    }
    return out;
  }

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

IMLSDK_PLUGIN(CausalLmPlugin, "causal_lm", "1.4.0",
              "Causal LM: next-token loss on each text, greedy continuation of prompts")
