// Greedy decoding for any Model: causal LMs continue left-padded prompts; seq2seq models encode
// the prompts once (kept in the cache) and decode from the decoder start token.
#include "imlsdk/generate.hpp"

#include <ATen/ATen.h>
#include <c10/core/InferenceMode.h>

#include <algorithm>
#include <stdexcept>
#include <string>

namespace imlsdk {

namespace {

// Records the chosen token of every unfinished row; finished rows produce padding, as HF does.
// Returns true when every row is done.
bool take_step(const torch::Tensor& next, const GenerateOptions& o, std::vector<bool>& done,
               std::vector<std::vector<int64_t>>& out, std::vector<int64_t>& chosen) {
  const torch::Tensor next_cpu = next.to(at::kCPU).contiguous();
  const int64_t* nc = next_cpu.data_ptr<int64_t>();
  bool all_done = true;
  for (size_t b = 0; b < done.size(); ++b) {
    chosen[b] = done[b] ? o.pad_id : nc[b];
    if (!done[b]) {
      out[b].push_back(chosen[b]);
      if (o.eos_id >= 0 && chosen[b] == o.eos_id) done[b] = true;
    }
    all_done = all_done && done[b];
  }
  return all_done;
}

// Prompts as one [B, L] tensor, padded with pad_id on the left (causal: every row ends at the
// same column) or on the right (an encoder's input), and its mask.
std::pair<torch::Tensor, torch::Tensor> pad_prompts(const std::vector<std::vector<int64_t>>& prompts,
                                                    int64_t pad_id, bool left) {
  const int64_t B = static_cast<int64_t>(prompts.size());
  int64_t L = 0;
  for (const auto& p : prompts) {
    if (p.empty()) throw std::invalid_argument("greedy_generate: empty prompt");
    L = std::max<int64_t>(L, static_cast<int64_t>(p.size()));
  }
  torch::Tensor ids = at::full({B, L}, pad_id, at::kLong);
  torch::Tensor mask = at::zeros({B, L}, at::kLong);
  int64_t* pi = ids.data_ptr<int64_t>();  // filled in place: two tensor ops per row cost more than the copy
  int64_t* pm = mask.data_ptr<int64_t>();
  for (int64_t b = 0; b < B; ++b) {
    const auto& p = prompts[b];
    const int64_t n = static_cast<int64_t>(p.size());
    const int64_t at = b * L + (left ? L - n : 0);
    std::copy(p.begin(), p.end(), pi + at);
    std::fill(pm + at, pm + at + n, int64_t{1});
  }
  return {ids, mask};
}

std::vector<std::vector<int64_t>> generate_causal(Model& model, const ModelInfo& info,
                                                  const std::vector<std::vector<int64_t>>& prompts,
                                                  const GenerateOptions& o) {
  const int64_t B = static_cast<int64_t>(prompts.size());
  std::vector<std::vector<int64_t>> out(B);
  auto [ids, mask] = pad_prompts(prompts, o.pad_id, /*left=*/true);
  const int64_t L = ids.size(1);
  if (info.max_positions > 0 && L + o.max_new_tokens > info.max_positions)
    throw std::invalid_argument("greedy_generate: prompt length " + std::to_string(L) + " + " +
                                std::to_string(o.max_new_tokens) + " new tokens exceeds the model's " +
                                std::to_string(info.max_positions) + " positions");
  const torch::Device device = model.parameters().front().device();
  ids = ids.to(device);
  mask = mask.to(device);

  KVCache cache;
  std::vector<bool> done(B, false);
  std::vector<int64_t> chosen(B);
  torch::Tensor next;  // [B, 1], the tokens chosen at the previous step
  for (int64_t step = 0; step < o.max_new_tokens; ++step) {
    ModelInput in;
    in.attention_mask = mask;
    in.last_logits_only = true;
    if (o.use_cache) {
      in.cache = &cache;
      in.input_ids = step == 0 ? ids : next;
    } else {
      in.input_ids = ids;  // the whole sequence again
    }
    in.position_ids = default_position_ids(in.input_ids, mask, o.use_cache ? cache.length() : 0);
    torch::Tensor logits = model.forward(in).logits.select(1, -1);  // [B, V]
    if (o.step_logits) o.step_logits->push_back(logits);
    next = logits.argmax(-1, /*keepdim=*/true);  // [B, 1]
    if (take_step(next, o, done, out, chosen) || step + 1 == o.max_new_tokens) break;
    next = at::tensor(chosen, at::kLong).view({B, 1}).to(device);
    ids = at::cat({ids, next}, 1);
    mask = at::cat({mask, at::ones({B, 1}, mask.options())}, 1);
  }
  return out;
}

std::vector<std::vector<int64_t>> generate_seq2seq(Model& model, const ModelInfo& info,
                                                   const std::vector<std::vector<int64_t>>& prompts,
                                                   const GenerateOptions& o) {
  if (info.decoder_start_id < 0)
    throw std::invalid_argument("greedy_generate: the seq2seq model names no decoder start token");
  const int64_t B = static_cast<int64_t>(prompts.size());
  std::vector<std::vector<int64_t>> out(B);
  auto [ids, mask] = pad_prompts(prompts, o.pad_id, /*left=*/false);
  const torch::Device device = model.parameters().front().device();
  ids = ids.to(device);
  mask = mask.to(device);

  KVCache cache;  // holds the encoder output after the first step
  std::vector<bool> done(B, false);
  std::vector<int64_t> chosen(B);
  torch::Tensor dec = at::full({B, 1}, info.decoder_start_id, at::kLong).to(device);
  torch::Tensor next = dec;
  for (int64_t step = 0; step < o.max_new_tokens; ++step) {
    ModelInput in;
    in.input_ids = ids;
    in.attention_mask = mask;
    in.last_logits_only = true;
    if (o.use_cache) in.cache = &cache;
    in.decoder_input_ids = o.use_cache ? next : dec;
    torch::Tensor logits = model.forward(in).logits.select(1, -1);  // [B, V]
    if (o.step_logits) o.step_logits->push_back(logits);
    next = logits.argmax(-1, /*keepdim=*/true);
    if (take_step(next, o, done, out, chosen) || step + 1 == o.max_new_tokens) break;
    next = at::tensor(chosen, at::kLong).view({B, 1}).to(device);
    dec = at::cat({dec, next}, 1);
  }
  return out;
}

}  // namespace

std::vector<std::vector<int64_t>> greedy_continue(Model& model, const KVCache& cache,
                                                  const std::vector<int64_t>& rows,
                                                  const std::vector<int64_t>& past_len,
                                                  const std::vector<int64_t>& next,
                                                  const std::vector<int64_t>& max_new,
                                                  const GenerateOptions& o) {
  const int64_t R = static_cast<int64_t>(rows.size());
  if (past_len.size() != rows.size() || next.size() != rows.size() || max_new.size() != rows.size())
    throw std::invalid_argument("greedy_continue: rows, past_len, next and max_new differ in length");
  std::vector<std::vector<int64_t>> out(R);
  if (R == 0) return out;
  if (cache.k.empty() || cache.k.size() != cache.v.size())
    throw std::invalid_argument("greedy_continue: the cache holds no keys and values");
  c10::InferenceMode inference;
  const ModelInfo info = model.info();
  if (info.family != ModelFamily::CausalLM) throw std::invalid_argument("greedy_continue: causal LMs only");
  const int64_t B = cache.k[0].size(0), T = cache.k[0].size(2);
  int64_t L = 0, steps = 0;
  for (int64_t i = 0; i < R; ++i) {
    if (rows[i] < 0 || rows[i] >= B || past_len[i] < 1 || past_len[i] > T)
      throw std::invalid_argument("greedy_continue: row " + std::to_string(rows[i]) + " with a past of " +
                                  std::to_string(past_len[i]) + " does not fit a cache of " + std::to_string(B) +
                                  " rows x " + std::to_string(T) + " positions");
    // the tokens fed: the past, next, and all but the last new one
    if (info.max_positions > 0 && past_len[i] + std::max<int64_t>(1, max_new[i]) > info.max_positions)
      throw std::invalid_argument("greedy_continue: past " + std::to_string(past_len[i]) + " + " +
                                  std::to_string(max_new[i]) + " new tokens exceeds the model's " +
                                  std::to_string(info.max_positions) + " positions");
    L = std::max(L, past_len[i]);
    steps = std::max(steps, max_new[i]);
  }
  // Each layer's past, right-aligned in [R, H, L, D] (zeros in front, masked out).
  KVCache past;
  const auto relayout = [&](const torch::Tensor& src) {
    torch::Tensor dst = at::zeros({R, src.size(1), L, src.size(3)}, src.options());
    for (int64_t i = 0; i < R; ++i)
      dst.select(0, i).narrow(1, L - past_len[i], past_len[i]).copy_(src.select(0, rows[i]).narrow(1, 0, past_len[i]));
    return dst;
  };
  for (size_t l = 0; l < cache.k.size(); ++l) {
    past.k.push_back(relayout(cache.k[l]));
    past.v.push_back(relayout(cache.v[l]));
  }
  torch::Tensor mask = at::zeros({R, L}, at::kLong);
  for (int64_t i = 0; i < R; ++i) mask.select(0, i).narrow(0, L - past_len[i], past_len[i]).fill_(1);
  const torch::Device device = cache.k[0].device();
  mask = mask.to(device);

  std::vector<bool> done(R, false);
  std::vector<int64_t> chosen(next);
  for (int64_t i = 0; i < R; ++i) done[i] = (o.eos_id >= 0 && next[i] == o.eos_id) || max_new[i] <= 0;
  for (int64_t step = 0; step < steps; ++step) {
    bool all_done = true;
    for (int64_t i = 0; i < R; ++i) {
      if (!done[i] && static_cast<int64_t>(out[i].size()) >= max_new[i]) done[i] = true;  // its own limit
      if (done[i]) chosen[i] = o.pad_id;  // finished rows feed padding, as greedy_generate does
      all_done = all_done && done[i];
    }
    if (all_done) break;
    ModelInput in;
    in.input_ids = at::tensor(chosen, at::kLong).view({R, 1}).to(device);
    mask = at::cat({mask, at::ones({R, 1}, mask.options())}, 1);
    in.attention_mask = mask;
    in.last_logits_only = true;
    in.cache = &past;
    in.position_ids = default_position_ids(in.input_ids, mask, past.length());
    torch::Tensor logits = model.forward(in).logits.select(1, -1);  // [R, V]
    if (o.step_logits) o.step_logits->push_back(logits);
    if (take_step(logits.argmax(-1, /*keepdim=*/true), o, done, out, chosen)) break;
  }
  return out;
}

std::vector<std::vector<int64_t>> greedy_generate(Model& model,
                                                  const std::vector<std::vector<int64_t>>& prompts,
                                                  const GenerateOptions& options) {
  if (prompts.empty() || options.max_new_tokens <= 0)
    return std::vector<std::vector<int64_t>>(prompts.size());
  c10::InferenceMode inference;
  const ModelInfo info = model.info();
  switch (info.family) {
    case ModelFamily::CausalLM: return generate_causal(model, info, prompts, options);
    case ModelFamily::Seq2SeqLM: return generate_seq2seq(model, info, prompts, options);
    case ModelFamily::ImageClassifier: break;
  }
  throw std::invalid_argument("greedy_generate: an image classifier does not generate text");
}

}  // namespace imlsdk
