// The t5 model plugin: HF conformance fixtures for T5 (relu, tied head) and T5 v1.1 (gated-gelu,
// untied head, num_heads*d_kv != d_model): logits, encoder and decoder hidden states, loss, every
// gradient, greedy decoding with and without the cache; then a small random model (cache parity,
// causal decoder, encoder padding, dropout, params) and checkpoint round trips and errors.
#include <ATen/ATen.h>
#include <gtest/gtest.h>

#include <cmath>
#include <filesystem>
#include <fstream>
#include <set>

#include "imlsdk/checkpoint.hpp"
#include "imlsdk/generate.hpp"
#include "imlsdk/model.hpp"
#include "imlsdk/safetensors.hpp"
#include "require_fixture.hpp"
#include "model_test_support.hpp"
#include "test_plugins.hpp"

namespace {

namespace fs = std::filesystem;
using imlsdk::Json;
using torch::Tensor;

std::shared_ptr<imlsdk::ModelPlugin> plugin() {
  static auto p = imltest::load_plugin<imlsdk::ModelPlugin>("t5");
  return p;
}

using imltest::greedy;
using imltest::ids_tensor;
using imltest::max_abs_diff;
using imltest::Parity;
using imltest::read_json;
using imltest::TempDir;

// max |a - b| relative to the size of b (at least 1): for the wide random models below, whose
// activations reach the hundreds, where fp32 rounding of a different summation order is ~1e-5
// relative.
double rel_diff(const Tensor& a, const Tensor& b) {
  return max_abs_diff(a, b) / std::max(1.0, b.abs().max().item<double>());
}

// ---- HF conformance fixtures (t5 and t5_v1_1) ---------------------------------------------------

class Conformance : public ::testing::TestWithParam<std::string> {
 protected:
  void SetUp() override {
    dir_ = fs::path(imltest::conformance_dir()) / GetParam();
    if (!imltest::require_fixture_dir(dir_.string(), "set IML_CONFORMANCE_DIR")) return;
    at::manual_seed(0);
    model_ = plugin()->create(imltest::with_defaults(*plugin(), {{"checkpoint", dir_.string()}}),
                              imlsdk::ModelContext{});
    model_->eval();
    input_ = read_json(dir_ / "input.json");
    expected_json_ = read_json(dir_ / "expected.json");
    config_ = read_json(dir_ / "config.json");
    expected_ = imlsdk::read_safetensors((dir_ / "expected.safetensors").string());
  }
  // "<stack>_hidden_states.<i>" for i = 0..L.
  std::vector<std::string> keys(const std::string& stack) const {
    std::vector<std::string> out;
    while (expected_.count(stack + "_hidden_states." + std::to_string(out.size())))
      out.push_back(stack + "_hidden_states." + std::to_string(out.size()));
    return out;
  }
  imlsdk::ModelInput input(bool padded) const {
    imlsdk::ModelInput in;
    in.input_ids = ids_tensor(input_["input_ids"]);
    in.attention_mask = ids_tensor(input_[padded ? "attention_mask_padded" : "attention_mask"]);
    in.decoder_input_ids = ids_tensor(input_["decoder_input_ids"]);
    return in;
  }
  fs::path dir_;
  std::shared_ptr<imlsdk::Model> model_;
  Json input_, expected_json_, config_;
  std::map<std::string, Tensor> expected_;
};

TEST_P(Conformance, SuiteCoversEveryExpectedTensor) {
  std::set<std::string> covered = {"logits", "logits_masked", "loss", "loss_masked", "last_hidden_state",
                                   "encoder_last_hidden_state", "greedy_scores"};
  for (const auto& k : keys("encoder")) covered.insert(k);
  for (const auto& k : keys("decoder")) covered.insert(k);
  std::set<std::string> listed;
  for (const auto& kv : expected_) listed.insert(kv.first);
  EXPECT_EQ(listed, covered);
  EXPECT_EQ(static_cast<int64_t>(keys("encoder").size()), config_.at("num_layers").get<int64_t>() + 1);
  EXPECT_EQ(static_cast<int64_t>(keys("decoder").size()), config_.at("num_decoder_layers").get<int64_t>() + 1);
}

TEST_P(Conformance, LogitsHiddenStatesLossAndGradients) {
  imlsdk::ModelInput in = input(false);
  in.output_hidden_states = true;
  const imlsdk::ModelOutput out = model_->forward(in);

  Parity logits{GetParam() + " logits"};
  logits.check("logits", out.logits, expected_.at("logits"), 1e-4);
  EXPECT_EQ(logits.compared, 1);

  Parity hidden{GetParam() + " hidden states"};
  const auto enc = keys("encoder"), dec = keys("decoder");
  ASSERT_EQ(out.encoder_hidden_states.size(), enc.size());
  ASSERT_EQ(out.hidden_states.size(), dec.size());
  for (size_t i = 0; i < enc.size(); ++i) hidden.check(enc[i], out.encoder_hidden_states[i], expected_.at(enc[i]), 1e-4);
  for (size_t i = 0; i < dec.size(); ++i) hidden.check(dec[i], out.hidden_states[i], expected_.at(dec[i]), 1e-4);
  hidden.check("encoder_last_hidden_state", out.encoder_hidden_states.back(),
               expected_.at("encoder_last_hidden_state"), 1e-4);
  hidden.check("last_hidden_state", out.hidden_states.back(), expected_.at("last_hidden_state"), 1e-4);
  EXPECT_EQ(hidden.compared, static_cast<int64_t>(enc.size() + dec.size()) + 2);

  Tensor loss = imlsdk::token_cross_entropy(out.logits, ids_tensor(input_["labels"]));
  Parity losses{GetParam() + " loss"};
  losses.check("loss", loss, expected_.at("loss"), 1e-5);
  EXPECT_EQ(losses.compared, 1);
  EXPECT_NEAR(loss.item<double>(), expected_json_["loss"].get<double>(), 1e-5);

  model_->zero_grad();
  loss.backward();
  imltest::expect_gradients_equal_hf(*model_, dir_, GetParam() + " gradients",
                                     expected_json_["num_parameters"].get<int64_t>());
}

TEST_P(Conformance, PaddedLogitsAndLoss) {
  at::NoGradGuard no_grad;
  const Tensor logits = model_->forward(input(true)).logits;
  Parity parity{GetParam() + " logits_masked, loss_masked"};
  parity.check("logits_masked", logits, expected_.at("logits_masked"), 1e-4);
  const Tensor loss = imlsdk::token_cross_entropy(logits, ids_tensor(input_["labels_padded"]));
  parity.check("loss_masked", loss, expected_.at("loss_masked"), 1e-5);
  EXPECT_EQ(parity.compared, 2);
  EXPECT_NEAR(loss.item<double>(), expected_json_["loss_masked"].get<double>(), 1e-5);
}

// SDK 2.4: the head is a linear map of the decoder's output (tied: the shared embedding with
// scale d_model^-0.5; untied: lm_head), so the loss comes from forward_head_input without the
// logits (linear_cross_entropy, seq2seq_lm's head_loss): HF's logits, losses and every gradient.
TEST_P(Conformance, HeadInputLossAndGradientsEqualHF) {
  const imlsdk::LinearHead head = model_->linear_head();
  ASSERT_TRUE(head.weight.defined());
  const bool tied = config_.value("tie_word_embeddings", true);
  EXPECT_EQ(head.scale, tied ? std::pow(config_.at("d_model").get<double>(), -0.5) : 1.0);
  {
    at::NoGradGuard no_grad;
    for (bool padded : {false, true}) {
      const Tensor h = model_->forward_head_input(input(padded));
      const Tensor logits = model_->forward(input(padded)).logits;
      ASSERT_EQ(h.dim(), 3);
      const Tensor via_head = at::matmul(h, head.weight.t()) * head.scale;
      ASSERT_EQ(via_head.sizes(), logits.sizes());
      EXPECT_LE((via_head - logits).abs().max().item<double>(), 1e-5) << "padded " << padded;
    }
    const Tensor masked = imlsdk::linear_cross_entropy(model_->forward_head_input(input(true)), head,
                                                       ids_tensor(input_["labels_padded"]));
    EXPECT_NEAR(masked.item<double>(), expected_json_["loss_masked"].get<double>(), 1e-5);
  }
  model_->zero_grad();
  const Tensor loss = imlsdk::linear_cross_entropy(model_->forward_head_input(input(false)), head,
                                                   ids_tensor(input_["labels"]));
  EXPECT_NEAR(loss.item<double>(), expected_json_["loss"].get<double>(), 1e-5);
  loss.backward();
  const auto grads = imlsdk::read_safetensors((dir_ / "grads.safetensors").string());
  Parity gradients{GetParam() + " gradients from the head input"};
  for (const auto& p : model_->named_parameters()) {
    auto it = grads.find(p.key());
    ASSERT_NE(it, grads.end()) << "no reference gradient for " << p.key();
    ASSERT_TRUE(p.value().grad().defined()) << p.key();
    gradients.check(p.key(), p.value().grad(), it->second, 1e-4);
  }
  EXPECT_EQ(gradients.compared, static_cast<int64_t>(grads.size()));
  model_->zero_grad();
}

TEST_P(Conformance, GreedyWithAndWithoutCacheEqualsHF) {
  const Json& ref = expected_json_["greedy"];
  ASSERT_TRUE(ref["settings"]["eos_token_id"].is_null()) << "the test assumes no early stop";
  ASSERT_EQ(model_->info().decoder_start_id, config_.at("decoder_start_token_id").get<int64_t>());
  const int64_t max_new = ref["settings"]["max_new_tokens"].get<int64_t>();
  std::vector<std::vector<int64_t>> prompts;
  for (const auto& row : input_["input_ids"]) prompts.push_back(row.get<std::vector<int64_t>>());
  for (const auto& row : input_["attention_mask"]) ASSERT_EQ(at::tensor(row.get<std::vector<int64_t>>()).min().item<int64_t>(), 1);
  const auto want = ref["new_tokens"].get<std::vector<std::vector<int64_t>>>();
  const Tensor& scores = expected_.at("greedy_scores");  // [steps, B, V]
  ASSERT_EQ(scores.size(0), max_new);
  for (bool use_cache : {true, false}) {
    std::vector<Tensor> steps;
    const auto got = imlsdk::greedy_generate(*model_, prompts, greedy(max_new, -1, use_cache, &steps));
    Parity parity{GetParam() + (use_cache ? " greedy step logits (cache)" : " greedy step logits (no cache)")};
    ASSERT_EQ(static_cast<int64_t>(steps.size()), max_new) << "use_cache=" << use_cache;
    for (size_t k = 0; k < steps.size(); ++k)
      parity.check("step " + std::to_string(k), steps[k], scores[static_cast<int64_t>(k)], 1e-4);
    EXPECT_EQ(parity.compared, max_new);
    EXPECT_EQ(got, want) << "use_cache=" << use_cache;
  }
}

// Our hf_config() writes what HF's save_pretrained wrote for the same model.
TEST_P(Conformance, HfConfigAgreesWithHFs) {
  const Json ours = model_->hf_config();
  int64_t compared = 0;
  for (const auto& [key, value] : ours.items()) {
    ASSERT_TRUE(config_.contains(key)) << key;
    EXPECT_EQ(value, config_.at(key)) << key;
    ++compared;
  }
  EXPECT_GE(compared, 22);
}

INSTANTIATE_TEST_SUITE_P(T5, Conformance, ::testing::Values("t5", "t5_v1_1"));

// ---- a small random model ---------------------------------------------------------------------

constexpr int64_t kVocab = 61;

// HF's init (initializer_factor 1): shared embedding and lm_head N(0, 1).
std::shared_ptr<imlsdk::Model> small_model(Json overrides = Json::object()) {
  Json p = {{"d_model", 32}, {"d_kv", 6}, {"d_ff", 48}, {"num_layers", 2}, {"num_decoder_layers", 3},
            {"num_heads", 4}, {"relative_attention_num_buckets", 8}, {"relative_attention_max_distance", 12},
            {"dropout_rate", 0.0}, {"initializer_factor", 1.0}};
  for (auto it = overrides.begin(); it != overrides.end(); ++it) p[it.key()] = it.value();
  imlsdk::ModelContext ctx;
  ctx.vocab_size = kVocab;
  ctx.pad_id = 0;
  ctx.eos_id = 1;
  at::manual_seed(7);
  auto m = plugin()->create(imltest::with_defaults(*plugin(), p), ctx);
  m->eval();
  return m;
}

const Json kV11 = {{"feed_forward_proj", "gated-gelu"}, {"tie_word_embeddings", false}};

// Prompts longer than max_distance, so that the log-spaced buckets are exercised.
const std::vector<std::vector<int64_t>> kPrompts = {
    {5, 17, 3, 28, 41, 9, 60, 11, 12, 13, 14, 15, 16, 18, 19}, {12, 7}, {33, 2, 50, 14}, {57}};

TEST(T5, InfoParamsAndShapes) {
  for (const Json& variant : {Json::object(), kV11}) {
    auto model = small_model(variant);
    const bool v11 = !variant.empty();
    const imlsdk::ModelInfo info = model->info();
    EXPECT_EQ(info.family, imlsdk::ModelFamily::Seq2SeqLM);
    EXPECT_EQ(info.vocab_size, kVocab);
    EXPECT_EQ(info.max_positions, 0);
    EXPECT_EQ(info.num_layers, 2);
    EXPECT_EQ(info.hidden_size, 32);
    EXPECT_EQ(info.decoder_start_id, 0);
    const auto params = model->named_parameters();
    EXPECT_EQ(params["encoder.block.1.layer.0.SelfAttention.q.weight"].sizes(), at::IntArrayRef({24, 32}));
    EXPECT_EQ(params["decoder.block.2.layer.1.EncDecAttention.o.weight"].sizes(), at::IntArrayRef({32, 24}));
    EXPECT_EQ(params["decoder.block.0.layer.0.SelfAttention.relative_attention_bias.weight"].sizes(),
              at::IntArrayRef({8, 4}));
    EXPECT_FALSE(params.contains("decoder.block.1.layer.0.SelfAttention.relative_attention_bias.weight"));
    EXPECT_FALSE(params.contains("decoder.block.0.layer.1.EncDecAttention.relative_attention_bias.weight"));
    EXPECT_FALSE(params.contains("encoder.embed_tokens.weight"));
    EXPECT_EQ(params.contains("lm_head.weight"), v11);
    EXPECT_EQ(params.contains("decoder.block.2.layer.2.DenseReluDense.wi_1.weight"), v11);
    EXPECT_EQ(params.contains("encoder.block.0.layer.1.DenseReluDense.wi.weight"), !v11);
    // 2 encoder blocks (4 tensors + 2 norms + FF), 3 decoder blocks (8 + 3 norms + FF), 2 biases, 2 final norms.
    const int64_t ff = v11 ? 3 : 2;
    EXPECT_EQ(static_cast<int64_t>(params.size()), 1 + 2 * (6 + ff) + 3 * (11 + ff) + 2 + 2 + (v11 ? 1 : 0));
    int64_t total = 0;
    for (const auto& p : model->parameters()) total += p.numel();
    EXPECT_EQ(info.flop_params, total - 2 * 8 * 4 - (v11 ? kVocab * 32 : 0));
    const Json cfg = model->hf_config();
    EXPECT_EQ(cfg["model_type"], "t5");
    EXPECT_EQ(cfg["num_decoder_layers"], 3);
    EXPECT_EQ(cfg["dense_act_fn"], v11 ? "gelu_new" : "relu");
    EXPECT_EQ(cfg.contains("tie_word_embeddings"), v11);
  }
}

// HF's _init_weights: the standard deviations follow d_model, d_kv, d_ff and the factor.
TEST(T5, InitFollowsHF) {
  auto model = small_model({{"d_model", 64}, {"d_ff", 256}, {"d_kv", 16}, {"initializer_factor", 2.0}});
  const auto p = model->named_parameters();
  auto std_of = [&](const std::string& n) { return p[n].std().item<double>(); };
  EXPECT_NEAR(std_of("shared.weight"), 2.0, 0.1);
  EXPECT_NEAR(std_of("encoder.block.0.layer.0.SelfAttention.q.weight"), 2.0 / std::sqrt(64.0 * 16), 0.01);
  EXPECT_NEAR(std_of("encoder.block.0.layer.0.SelfAttention.k.weight"), 2.0 / 8, 0.02);
  EXPECT_NEAR(std_of("decoder.block.1.layer.1.EncDecAttention.o.weight"), 2.0 / std::sqrt(64.0), 0.02);
  EXPECT_NEAR(std_of("decoder.block.0.layer.0.SelfAttention.relative_attention_bias.weight"), 2.0 / 8, 0.1);
  EXPECT_NEAR(std_of("encoder.block.1.layer.1.DenseReluDense.wi.weight"), 2.0 / 8, 0.02);
  EXPECT_NEAR(std_of("encoder.block.1.layer.1.DenseReluDense.wo.weight"), 2.0 / 16, 0.01);
  EXPECT_TRUE(at::equal(p["decoder.final_layer_norm.weight"], at::full({64}, 2.0)));
}

TEST(T5, RejectsBadParams) {
  imlsdk::ModelContext ctx;
  ctx.vocab_size = kVocab;
  auto expect_error_naming = [&](Json overrides, const std::string& key) {
    try {
      plugin()->create(imltest::with_defaults(*plugin(), overrides), ctx);
      ADD_FAILURE() << "no error for " << overrides.dump();
    } catch (const std::invalid_argument& e) {
      EXPECT_NE(std::string(e.what()).find(key), std::string::npos) << e.what();
    }
  };
  expect_error_naming({{"num_heads", 0}}, "num_heads");
  expect_error_naming({{"feed_forward_proj", "gated-silu"}}, "feed_forward_proj");
  expect_error_naming({{"vocab_size", 50}}, "vocab_size");
  expect_error_naming({{"relative_attention_max_distance", 16}}, "relative_attention_max_distance");
  expect_error_naming({{"dropout_rate", 1.0}}, "dropout_rate");
}

TEST(T5, KVCacheMatchesFullRecompute) {
  for (const Json& variant : {Json::object(), kV11}) {
    auto model = small_model(variant);
    std::vector<Tensor> cached_logits, full_logits;
    auto cached = imlsdk::greedy_generate(*model, kPrompts, greedy(14, -1, true, &cached_logits));
    auto full = imlsdk::greedy_generate(*model, kPrompts, greedy(14, -1, false, &full_logits));
    EXPECT_EQ(cached, full) << variant.dump();
    EXPECT_LE(rel_diff(at::stack(cached_logits), at::stack(full_logits)), 1e-5);
    for (const auto& row : cached) EXPECT_EQ(row.size(), 14u);
    // Not a degenerate constant output.
    std::set<int64_t> distinct;
    for (const auto& row : cached) distinct.insert(row.begin(), row.end());
    EXPECT_GE(distinct.size(), 3u);
  }
}

// Right padding of the encoder input changes nothing: each prompt alone equals its batch row.
TEST(T5, EncoderPaddingInvariance) {
  auto model = small_model(kV11);
  std::vector<Tensor> batch_logits;
  auto batch = imlsdk::greedy_generate(*model, kPrompts, greedy(5, -1, true, &batch_logits));
  for (size_t r = 0; r < kPrompts.size(); ++r) {
    std::vector<Tensor> alone_logits;
    auto alone = imlsdk::greedy_generate(*model, {kPrompts[r]}, greedy(5, -1, true, &alone_logits));
    EXPECT_EQ(alone[0], batch[r]) << "row " << r;
    for (size_t s = 0; s < alone_logits.size(); ++s)
      EXPECT_LE(rel_diff(alone_logits[s][0], batch_logits[s][r]), 1e-5) << "row " << r;
  }
}

TEST(T5, DecoderIsCausalEncoderIsNot) {
  auto model = small_model();
  at::NoGradGuard no_grad;
  imlsdk::ModelInput in;
  in.input_ids = at::randint(2, kVocab, {2, 9}, at::kLong);
  in.decoder_input_ids = at::randint(2, kVocab, {2, 12}, at::kLong);
  const Tensor before = model->forward(in).logits;
  imlsdk::ModelInput changed = in;
  changed.decoder_input_ids = in.decoder_input_ids.clone();
  changed.decoder_input_ids.select(1, 8).add_(1).remainder_(kVocab);
  const Tensor after = model->forward(changed).logits;
  EXPECT_LE(max_abs_diff(before.narrow(1, 0, 8), after.narrow(1, 0, 8)), 1e-6);
  EXPECT_GT(max_abs_diff(before.narrow(1, 8, 4), after.narrow(1, 8, 4)), 1e-3);
  // Changing the last encoder token changes every decoder position.
  changed = in;
  changed.input_ids = in.input_ids.clone();
  changed.input_ids.select(1, 8).add_(1).remainder_(kVocab);
  const Tensor enc_changed = model->forward(changed).logits;
  EXPECT_GT(max_abs_diff(before.narrow(1, 0, 1), enc_changed.narrow(1, 0, 1)), 1e-3);
}

TEST(T5, HiddenStatesOnlyWhenAskedAndWithTheCache) {
  auto model = small_model(kV11);
  at::NoGradGuard no_grad;
  imlsdk::ModelInput in;
  in.input_ids = at::randint(2, kVocab, {2, 9}, at::kLong);
  in.decoder_input_ids = at::randint(2, kVocab, {2, 6}, at::kLong);
  const imlsdk::ModelOutput plain = model->forward(in);
  EXPECT_TRUE(plain.hidden_states.empty());
  EXPECT_TRUE(plain.encoder_hidden_states.empty());
  EXPECT_EQ(plain.logits.sizes(), at::IntArrayRef({2, 6, kVocab}));
  in.output_hidden_states = true;
  const imlsdk::ModelOutput out = model->forward(in);
  ASSERT_EQ(out.encoder_hidden_states.size(), 3u);
  ASSERT_EQ(out.hidden_states.size(), 4u);
  EXPECT_EQ(out.encoder_hidden_states[0].sizes(), at::IntArrayRef({2, 9, 32}));
  EXPECT_EQ(out.hidden_states[3].sizes(), at::IntArrayRef({2, 6, 32}));
  EXPECT_TRUE(at::equal(out.logits, plain.logits));
  const auto params = model->named_parameters();
  EXPECT_TRUE(at::equal(out.hidden_states[0], at::embedding(params["shared.weight"], in.decoder_input_ids)));
  EXPECT_LE(rel_diff(at::matmul(out.hidden_states.back(), params["lm_head.weight"].t()), out.logits), 1e-5);

  // With the cache: a prefix of 4 decoder tokens, then 2 more; the hidden states cover the new ones.
  imlsdk::KVCache cache;
  imlsdk::ModelInput step = in;
  step.cache = &cache;
  step.decoder_input_ids = in.decoder_input_ids.narrow(1, 0, 4);
  const auto first = model->forward(step);
  EXPECT_EQ(first.encoder_hidden_states.size(), 3u);
  EXPECT_TRUE(cache.encoder_output.defined());
  EXPECT_EQ(cache.length(), 4);
  EXPECT_EQ(cache.cross_k.size(), 3u);
  EXPECT_EQ(cache.cross_k[0].sizes(), at::IntArrayRef({2, 4, 9, 6}));
  step.decoder_input_ids = in.decoder_input_ids.narrow(1, 4, 2);
  const auto tail = model->forward(step);
  EXPECT_TRUE(tail.encoder_hidden_states.empty()) << "the encoder ran once";
  EXPECT_EQ(cache.length(), 6);
  ASSERT_EQ(tail.hidden_states.size(), 4u);
  for (size_t i = 0; i < 4; ++i)
    EXPECT_LE(rel_diff(tail.hidden_states[i], out.hidden_states[i].narrow(1, 4, 2)), 1e-5) << i;
  EXPECT_LE(rel_diff(tail.logits, out.logits.narrow(1, 4, 2)), 1e-5);
}

TEST(T5, DropoutOnlyInTraining) {
  auto model = small_model({{"dropout_rate", 0.3}});
  imlsdk::ModelInput in;
  in.input_ids = at::randint(2, kVocab, {2, 9}, at::kLong);
  in.decoder_input_ids = at::randint(2, kVocab, {2, 6}, at::kLong);
  at::NoGradGuard no_grad;
  const Tensor eval1 = model->forward(in).logits, eval2 = model->forward(in).logits;
  EXPECT_TRUE(at::equal(eval1, eval2));
  model->train();
  const Tensor train = model->forward(in).logits;
  EXPECT_GT(max_abs_diff(train, eval1), 1e-3);
  model->eval();
  EXPECT_TRUE(at::equal(model->forward(in).logits, eval1));
}

TEST(T5, PluginTaskParamsAndCheckpointFolder) {
  EXPECT_EQ(plugin()->default_task(), "seq2seq_lm");
  EXPECT_EQ(plugin()->hf_model_types(), std::vector<std::string>{"t5"});
  EXPECT_EQ(plugin()->checkpoint_dir(imltest::with_defaults(*plugin(), {{"checkpoint", "m/t5"}}), "/c"), "/c/m/t5");
  EXPECT_EQ(plugin()->checkpoint_dir(imltest::with_defaults(*plugin()), "/c"), "");
  std::vector<std::string> keys;
  Json defaults = Json::object();
  for (const auto& spec : plugin()->params()) {
    keys.push_back(spec.key);
    defaults[spec.key] = spec.default_value;
    EXPECT_FALSE(spec.help.empty()) << spec.key;
    EXPECT_TRUE(imlsdk::json_matches(spec.default_value, spec.type)) << spec.key;
  }
  EXPECT_EQ(keys, (std::vector<std::string>{"d_model", "d_kv", "d_ff", "num_layers", "num_decoder_layers",
                                            "num_heads", "relative_attention_num_buckets",
                                            "relative_attention_max_distance", "dropout_rate", "layer_norm_epsilon",
                                            "initializer_factor", "feed_forward_proj", "tie_word_embeddings",
                                            "vocab_size", "checkpoint"}));
  // HF's T5Config defaults (t5-small's shape).
  EXPECT_EQ(defaults["d_model"], 512);
  EXPECT_EQ(defaults["d_kv"], 64);
  EXPECT_EQ(defaults["d_ff"], 2048);
  EXPECT_EQ(defaults["num_layers"], 6);
  EXPECT_EQ(defaults["num_heads"], 8);
  EXPECT_EQ(defaults["relative_attention_num_buckets"], 32);
  EXPECT_EQ(defaults["relative_attention_max_distance"], 128);
  EXPECT_EQ(defaults["dropout_rate"], 0.1);
  EXPECT_EQ(defaults["layer_norm_epsilon"], 1e-6);
  EXPECT_EQ(defaults["feed_forward_proj"], "relu");
  EXPECT_EQ(defaults["tie_word_embeddings"], true);
}

// ---- checkpoints ------------------------------------------------------------------------------

imlsdk::ModelInput some_tokens() {
  imlsdk::ModelInput in;
  in.input_ids = at::tensor(std::vector<int64_t>{4, 8, 15, 16, 23, 42, 1}, at::kLong).view({1, 7});
  in.decoder_input_ids = at::tensor(std::vector<int64_t>{0, 9, 33}, at::kLong).view({1, 3});
  return in;
}

std::shared_ptr<imlsdk::Model> load(const fs::path& dir, int64_t vocab = kVocab) {
  imlsdk::ModelContext ctx;
  ctx.vocab_size = vocab;
  return plugin()->create(imltest::with_defaults(*plugin(), {{"checkpoint", dir.string()}}), ctx);
}

// Writes the model's tensors (minus `drop`, plus `extra`) and config.json.
void save_tensors(const imlsdk::Model& model, const fs::path& dir, const std::string& drop = "",
                  const std::map<std::string, Tensor>& extra = {}, Json cfg = Json()) {
  std::ofstream(dir / "config.json") << (cfg.is_null() ? model.hf_config() : cfg).dump(2);
  std::map<std::string, Tensor> tensors;
  for (const auto& p : model.named_parameters())
    if (p.key() != drop) tensors[p.key()] = p.value();
  for (const auto& [k, v] : extra) tensors[k] = v;
  imlsdk::write_safetensors((dir / "model.safetensors").string(), tensors);
}

TEST(T5Checkpoint, RoundTripGivesIdenticalLogits) {
  for (const Json& variant : {Json::object(), kV11}) {
    auto model = small_model(variant);
    TempDir dir;
    // The tied names are not the model's: nothing else to omit.
    imlsdk::save_hf_checkpoint(*model, model->hf_config(), dir.path.string(),
                               {"encoder.embed_tokens.weight", "decoder.embed_tokens.weight"});
    auto loaded = load(dir.path);
    loaded->eval();
    at::NoGradGuard no_grad;
    EXPECT_TRUE(at::equal(model->forward(some_tokens()).logits, loaded->forward(some_tokens()).logits));
    EXPECT_EQ(loaded->hf_config(), model->hf_config());
    EXPECT_EQ(loaded->info().decoder_start_id, 0);
    // A key beside the checkpoint would be overridden by its config.json: refused.
    imlsdk::ModelContext ctx;
    try {
      plugin()->create(imltest::with_defaults(*plugin(), {{"checkpoint", dir.path.string()}, {"d_model", 8}}), ctx);
      ADD_FAILURE() << "a shape key beside a checkpoint must be refused";
    } catch (const std::invalid_argument& e) {
      EXPECT_NE(std::string(e.what()).find("'d_model' is set together with checkpoint"), std::string::npos) << e.what();
    }
  }
}

// A file that carries HF's tied copies (encoder/decoder.embed_tokens, a tied lm_head) loads.
TEST(T5Checkpoint, TiedCopiesInAFileAreSkipped) {
  auto model = small_model();
  const Tensor w = model->named_parameters()["shared.weight"];
  TempDir dir;
  save_tensors(*model, dir.path, "",
               {{"encoder.embed_tokens.weight", w}, {"decoder.embed_tokens.weight", w}, {"lm_head.weight", w}});
  auto loaded = load(dir.path);
  at::NoGradGuard no_grad;
  EXPECT_TRUE(at::equal(model->forward(some_tokens()).logits, loaded->forward(some_tokens()).logits));
}

TEST(T5Checkpoint, ErrorsNameFileAndProblem) {
  auto model = small_model(kV11);
  auto expect_error = [&](const fs::path& dir, const std::string& needle, int64_t vocab = kVocab) {
    try {
      load(dir, vocab);
      ADD_FAILURE() << "no error for " << needle;
    } catch (const std::exception& e) {
      const std::string what = e.what();
      EXPECT_NE(what.find(dir.string()), std::string::npos) << what;
      EXPECT_NE(what.find(needle), std::string::npos) << what;
      EXPECT_EQ(what.find('\n'), std::string::npos) << "one line: " << what;
    }
  };
  const Json cfg = model->hf_config();
  auto with = [&](const char* key, Json value) {
    Json c = cfg;
    if (value.is_null()) c.erase(key);
    else c[key] = value;
    return c;
  };
  {
    TempDir dir;
    save_tensors(*model, dir.path, "lm_head.weight");
    expect_error(dir.path, "missing tensor 'lm_head.weight'");
  }
  {
    TempDir dir;
    save_tensors(*model, dir.path, "decoder.block.0.layer.0.SelfAttention.relative_attention_bias.weight");
    expect_error(dir.path, "missing tensor 'decoder.block.0.layer.0.SelfAttention.relative_attention_bias.weight'");
  }
  {
    TempDir dir;
    save_tensors(*model, dir.path, "", {{"decoder.block.1.layer.0.SelfAttention.relative_attention_bias.weight",
                                         at::zeros({8, 4})}});
    expect_error(dir.path, "unexpected tensor 'decoder.block.1.layer.0.SelfAttention.relative_attention_bias.weight'");
  }
  {
    TempDir dir;
    save_tensors(*model, dir.path, "", {}, with("d_ff", 40));
    expect_error(dir.path, "DenseReluDense.wi_0.weight' has shape");
  }
  {
    TempDir dir;  // a gated file under a relu config: the gated weights are not the model's
    Json c = with("feed_forward_proj", "relu");
    c["dense_act_fn"] = "relu";
    c["is_gated_act"] = false;
    save_tensors(*model, dir.path, "", {}, c);
    expect_error(dir.path, "unexpected tensor 'decoder.block.0.layer.2.DenseReluDense.wi_0.weight'");
  }
  {
    TempDir dir;
    save_tensors(*model, dir.path);
    expect_error(dir.path, "smaller than the tokenizer", kVocab + 1);
  }
  {
    TempDir dir;
    save_tensors(*model, dir.path, "", {}, with("model_type", "mt5"));
    expect_error(dir.path, "model_type is \"mt5\", expected \"t5\"");
  }
  {
    TempDir dir;
    save_tensors(*model, dir.path, "", {}, with("d_kv", Json()));
    expect_error(dir.path, "missing key 'd_kv'");
  }
  {
    TempDir dir;
    save_tensors(*model, dir.path, "", {}, with("decoder_start_token_id", Json()));
    expect_error(dir.path, "missing key 'decoder_start_token_id'");
  }
  {
    TempDir dir;
    save_tensors(*model, dir.path, "", {}, with("feed_forward_proj", "gated-silu"));
    expect_error(dir.path, "feed_forward_proj must be \"relu\"");
  }
  {
    TempDir dir;
    save_tensors(*model, dir.path, "", {}, with("dense_act_fn", "gelu"));
    expect_error(dir.path, "dense_act_fn \"gelu\" is not supported");
  }
  {
    TempDir dir;
    save_tensors(*model, dir.path, "", {}, with("d_model", "32"));
    expect_error(dir.path, "'d_model' must be int, got \"32\"");
  }
}

// Old configs (t5-small's) omit keys HF's T5Config defaults: num_decoder_layers = num_layers,
// relative_attention_max_distance 128, feed_forward_proj relu, tied head.
TEST(T5Checkpoint, OptionalConfigKeysTakeHFsDefaults) {
  auto model = small_model({{"num_decoder_layers", 0}, {"relative_attention_max_distance", 128}});
  TempDir dir;
  Json cfg = model->hf_config();
  for (const char* key : {"num_decoder_layers", "relative_attention_max_distance", "feed_forward_proj",
                          "dense_act_fn", "is_gated_act", "layer_norm_epsilon", "initializer_factor"})
    cfg.erase(key);
  save_tensors(*model, dir.path, "", {}, cfg);
  auto loaded = load(dir.path);
  const Json back = loaded->hf_config();
  EXPECT_EQ(back["num_decoder_layers"], 2);
  EXPECT_EQ(back["relative_attention_max_distance"], 128);
  EXPECT_EQ(back["feed_forward_proj"], "relu");
  EXPECT_EQ(back["dropout_rate"], 0.0);
  at::NoGradGuard no_grad;
  loaded->eval();
  EXPECT_TRUE(at::equal(model->forward(some_tokens()).logits, loaded->forward(some_tokens()).logits));
}

}  // namespace
