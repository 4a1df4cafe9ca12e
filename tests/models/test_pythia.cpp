// The pythia (GPT-NeoX) model plugin: HF conformance fixtures (logits, every hidden state, loss,
// every gradient, greedy decoding), KV-cache parity, causal masking, left-padding invariance,
// hidden states, the params schema and checkpoint round trips.
#include <ATen/ATen.h>
#include <gtest/gtest.h>

#include <filesystem>
#include <fstream>
#include <regex>
#include <set>

#include "imlsdk/generate.hpp"
#include "imlsdk/model.hpp"
#include "imlsdk/safetensors.hpp"
#include "causal_lm_checks.hpp"
#include "causal_lm_conformance.hpp"
#include "require_fixture.hpp"
#include "test_plugins.hpp"

namespace {

namespace fs = std::filesystem;
using imlsdk::Json;
using torch::Tensor;

std::shared_ptr<imlsdk::ModelPlugin> plugin() {
  static auto p = imltest::load_plugin<imlsdk::ModelPlugin>("pythia");
  return p;
}

using imltest::greedy;
using imltest::max_abs_diff;
using imltest::TempDir;

}  // namespace

using imltest::CausalLMConformance;

// ---- HF conformance fixtures ------------------------------------------------------------------

// The shared causal-LM suite (causal_lm_conformance.hpp) on the gpt_neox folder.
INSTANTIATE_TEST_SUITE_P(HF, CausalLMConformance, ::testing::Values(imltest::CausalLMCase{"pythia", "gpt_neox"}),
                         imltest::CausalLMCase::name);

namespace {

// ---- a small random model ---------------------------------------------------------------------

constexpr int64_t kVocab = 97;

// A wide init (std 0.3) so that greedy choices are not near-ties.
std::shared_ptr<imlsdk::Model> small_model(Json overrides = Json::object()) {
  Json p = {{"hidden_size", 32}, {"num_layers", 2}, {"num_heads", 4}, {"intermediate_size", 64},
            {"max_position_embeddings", 64}, {"init_std", 0.3}};
  for (auto it = overrides.begin(); it != overrides.end(); ++it) p[it.key()] = it.value();
  imlsdk::ModelContext ctx;
  ctx.vocab_size = kVocab;
  at::manual_seed(7);
  return plugin()->create(imltest::with_defaults(*plugin(), p), ctx);
}

TEST(Pythia, InfoParamsAndShapes) {
  auto model = small_model();
  const imlsdk::ModelInfo info = model->info();
  EXPECT_EQ(info.family, imlsdk::ModelFamily::CausalLM);
  EXPECT_EQ(info.vocab_size, kVocab);
  EXPECT_EQ(info.max_positions, 64);
  EXPECT_EQ(info.num_layers, 2);
  EXPECT_EQ(info.hidden_size, 32);
  EXPECT_EQ(info.num_labels, 0);
  EXPECT_EQ(info.decoder_start_id, -1);
  int64_t total = 0;
  for (const auto& p : model->parameters()) total += p.numel();
  EXPECT_EQ(info.flop_params, total - kVocab * 32);
  const Json cfg = model->hf_config();
  EXPECT_EQ(cfg["model_type"], "gpt_neox");
  EXPECT_EQ(cfg["num_hidden_layers"], 2);
  EXPECT_TRUE(model->named_parameters().contains(
      "gpt_neox.layers.1.attention.query_key_value.weight"));
  EXPECT_TRUE(model->named_parameters().contains("embed_out.weight"));
}

TEST(Pythia, RejectsBadParams) {
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
  expect_error_naming({{"num_heads", 7}}, "num_heads");
  expect_error_naming({{"rotary_pct", 0.0}}, "rotary_pct");
  expect_error_naming({{"vocab_size", 50}}, "vocab_size");
}

TEST(Pythia, KVCacheMatchesFullRecompute) {
  // Parallel and sequential residuals; partial and full rotary.
  for (const Json& variant : {Json{{"use_parallel_residual", true}},
                              Json{{"use_parallel_residual", false}}, Json{{"rotary_pct", 1.0}}})
    imltest::expect_kv_cache_matches_full_recompute(*small_model(variant), variant.dump());
}

TEST(Pythia, StopsAfterEos) { imltest::expect_stops_after_eos(*small_model()); }

TEST(Pythia, CausalMasking) { imltest::expect_causal(*small_model(), kVocab); }

TEST(Pythia, LeftPaddingInvariance) { imltest::expect_left_padding_invariance(*small_model()); }

TEST(Pythia, LossIgnoresMinus100AndShifts) {
  at::manual_seed(3);
  Tensor logits = at::randn({2, 5, 11});
  Tensor labels = at::randint(11, {2, 5}, at::kLong);
  labels[1][3] = -100;
  // Reference: HF's shift-then-mean over the kept labels.
  Tensor shift_logits = logits.narrow(1, 0, 4).reshape({-1, 11});
  Tensor shift_labels = labels.narrow(1, 1, 4).reshape({-1});
  Tensor keep = shift_labels.ne(-100);
  Tensor logp = at::log_softmax(shift_logits, -1);
  Tensor nll = -logp.index({keep}).gather(1, shift_labels.index({keep}).unsqueeze(1));
  EXPECT_NEAR(imlsdk::causal_lm_loss(logits, labels).item<double>(), nll.mean().item<double>(),
              1e-6);

  // The hand-written backward equals autograd's through the reference formula.
  Tensor x1 = logits.clone().requires_grad_(true), x2 = logits.clone().requires_grad_(true);
  (imlsdk::causal_lm_loss(x1, labels) * 3).backward();
  (at::cross_entropy_loss(x2.narrow(1, 0, 4).reshape({-1, 11}), shift_labels, {},
                          at::Reduction::Mean, -100) * 3)
      .backward();
  EXPECT_LE(max_abs_diff(x1.grad(), x2.grad()), 1e-6);
  EXPECT_EQ(x1.grad()[0][4].abs().max().item<float>(), 0.f);  // the last position predicts nothing
}

TEST(Pythia, PositionIdsFromLeftPadding) {
  Tensor mask = at::tensor(std::vector<int64_t>{0, 0, 1, 1, 1, 1, 1, 1}, at::kLong).view({2, 4});
  Tensor ids = at::zeros({2, 4}, at::kLong);
  EXPECT_TRUE(at::equal(imlsdk::default_position_ids(ids, mask, 0),
                        at::tensor(std::vector<int64_t>{1, 1, 0, 1, 0, 1, 2, 3}).view({2, 4})));
  EXPECT_TRUE(at::equal(imlsdk::default_position_ids(ids.narrow(1, 3, 1), mask, 3),
                        at::tensor(std::vector<int64_t>{1, 3}).view({2, 1})));
  EXPECT_TRUE(at::equal(imlsdk::default_position_ids(ids, Tensor(), 2)[1],
                        at::arange(2, 6, at::kLong)));
}

TEST(Pythia, HiddenStatesOnlyWhenAskedAsHFLaysThemOut) {
  auto model = small_model();
  at::NoGradGuard no_grad;
  imlsdk::ModelInput in;
  in.input_ids = at::randint(kVocab, {3, 9}, at::kLong);
  const imlsdk::ModelOutput plain = model->forward(in);
  EXPECT_TRUE(plain.hidden_states.empty());
  EXPECT_TRUE(plain.encoder_hidden_states.empty());

  in.output_hidden_states = true;
  const imlsdk::ModelOutput out = model->forward(in);
  ASSERT_EQ(out.hidden_states.size(), 3u);  // num_layers + 1
  for (const auto& h : out.hidden_states) EXPECT_EQ(h.sizes(), at::IntArrayRef({3, 9, 32}));
  EXPECT_TRUE(out.encoder_hidden_states.empty());
  EXPECT_TRUE(at::equal(out.logits, plain.logits)) << "asking for hidden states changes nothing";
  // [0] is the embedding output; the last one is what the head reads.
  const auto params = model->named_parameters();
  EXPECT_TRUE(at::equal(out.hidden_states[0],
                        at::embedding(params["gpt_neox.embed_in.weight"], in.input_ids)));
  EXPECT_LE(max_abs_diff(at::matmul(out.hidden_states.back(), params["embed_out.weight"].t()),
                         out.logits),
            1e-5);
  // last_logits_only still returns every position's hidden states.
  in.last_logits_only = true;
  const imlsdk::ModelOutput last = model->forward(in);
  EXPECT_EQ(last.logits.sizes(), at::IntArrayRef({3, 1, kVocab}));
  ASSERT_EQ(last.hidden_states.size(), 3u);
  for (size_t i = 0; i < 3; ++i) EXPECT_TRUE(at::equal(last.hidden_states[i], out.hidden_states[i]));
}

TEST(Pythia, HiddenStatesWithTheCacheCoverTheNewPositions) {
  auto model = small_model();
  at::NoGradGuard no_grad;
  const Tensor ids = at::randint(kVocab, {2, 10}, at::kLong);
  imlsdk::ModelInput full;
  full.input_ids = ids;
  full.output_hidden_states = true;
  const auto whole = model->forward(full).hidden_states;
  imlsdk::KVCache cache;
  imlsdk::ModelInput step;
  step.cache = &cache;
  step.output_hidden_states = true;
  step.input_ids = ids.narrow(1, 0, 7);
  model->forward(step);
  step.input_ids = ids.narrow(1, 7, 3);
  const auto tail = model->forward(step).hidden_states;
  ASSERT_EQ(tail.size(), whole.size());
  for (size_t i = 0; i < tail.size(); ++i) {
    EXPECT_EQ(tail[i].sizes(), at::IntArrayRef({2, 3, 32}));
    EXPECT_LE(max_abs_diff(tail[i], whole[i].narrow(1, 7, 3)), 1e-5) << "hidden state " << i;
  }
}

TEST(Pythia, PluginTaskAndCheckpointFolder) {
  EXPECT_EQ(plugin()->default_task(), "causal_lm");
  auto dir_of = [](Json overrides, const std::string& base) {
    return plugin()->checkpoint_dir(imltest::with_defaults(*plugin(), overrides), base);
  };
  EXPECT_EQ(dir_of(Json::object(), "/configs"), "") << "from scratch";
  EXPECT_EQ(dir_of({{"checkpoint", "models/p70m"}}, "/configs"), "/configs/models/p70m");
  EXPECT_EQ(dir_of({{"checkpoint", "models/p70m"}}, ""), "models/p70m");
  EXPECT_EQ(dir_of({{"checkpoint", "/abs/p70m"}}, "/configs"), "/abs/p70m");
}

// The keys, types and defaults the config sees (declared once, in the plugin's schema).
TEST(Pythia, ParamsDeclaredOnce) {
  std::vector<std::string> keys;
  Json defaults = Json::object();
  for (const auto& spec : plugin()->params()) {
    keys.push_back(spec.key);
    defaults[spec.key] = spec.default_value;
    EXPECT_FALSE(spec.help.empty()) << spec.key;
    EXPECT_TRUE(imlsdk::json_matches(spec.default_value, spec.type)) << spec.key;
  }
  EXPECT_EQ(keys, (std::vector<std::string>{"hidden_size", "num_layers", "num_heads",
                                            "intermediate_size", "rotary_pct", "rotary_emb_base",
                                            "max_position_embeddings", "layer_norm_eps",
                                            "use_parallel_residual", "vocab_size", "init_std",
                                            "checkpoint"}));
  // Pythia-70M's shape.
  EXPECT_EQ(defaults["hidden_size"], 512);
  EXPECT_EQ(defaults["num_layers"], 6);
  EXPECT_EQ(defaults["num_heads"], 8);
  EXPECT_EQ(defaults["intermediate_size"], 2048);
  EXPECT_EQ(defaults["rotary_pct"], 0.25);
  EXPECT_EQ(defaults["rotary_emb_base"], 10000.0);
  EXPECT_EQ(defaults["max_position_embeddings"], 2048);
  EXPECT_EQ(defaults["layer_norm_eps"], 1e-5);
  EXPECT_EQ(defaults["use_parallel_residual"], true);
  EXPECT_EQ(defaults["vocab_size"], 0);
  EXPECT_EQ(defaults["init_std"], 0.02);
  EXPECT_EQ(defaults["checkpoint"], "");
  // A from-scratch model's config.json carries the params under HF's names.
  const Json cfg = small_model({{"rotary_emb_base", 500.5}, {"layer_norm_eps", 1e-6}})->hf_config();
  EXPECT_EQ(cfg["hidden_size"], 32);
  EXPECT_EQ(cfg["num_attention_heads"], 4);
  EXPECT_EQ(cfg["max_position_embeddings"], 64);
  EXPECT_EQ(cfg["initializer_range"], 0.3);
  EXPECT_EQ(cfg["rotary_emb_base"], 500.5);
  EXPECT_EQ(cfg["layer_norm_eps"], 1e-6);
  EXPECT_EQ(cfg["vocab_size"], kVocab);
  EXPECT_EQ(small_model()->hf_config()["rotary_emb_base"].type(), Json::value_t::number_integer)
      << "HF writes an integral base as an int";
}

// ---- checkpoints ------------------------------------------------------------------------------


void save_hf(const imlsdk::Model& model, const fs::path& dir,
             const std::string& drop = "", const std::string& add = "") {
  std::ofstream(dir / "config.json") << model.hf_config().dump(2);
  std::map<std::string, Tensor> tensors;
  for (const auto& p : model.named_parameters())
    if (p.key() != drop) tensors[p.key()] = p.value();
  if (!add.empty()) tensors[add] = at::zeros({3});
  // Real Pythia checkpoints also carry these; the loader ignores them.
  tensors["gpt_neox.layers.0.attention.rotary_emb.inv_freq"] = at::zeros({4});
  imlsdk::write_safetensors((dir / "model.safetensors").string(), tensors);
}

imlsdk::ModelInput some_tokens() {
  imlsdk::ModelInput in;
  in.input_ids = at::tensor(std::vector<int64_t>{4, 8, 15, 16, 23, 42}, at::kLong).view({1, 6});
  return in;
}

TEST(PythiaCheckpoint, RoundTripGivesIdenticalLogits) {
  auto model = small_model();
  TempDir dir;
  save_hf(*model, dir.path);
  imlsdk::ModelContext ctx;
  ctx.vocab_size = kVocab;
  auto loaded = plugin()->create(imltest::with_defaults(*plugin(), {{"checkpoint", dir.path.string()}}), ctx);
  // A shape key beside the checkpoint would be overridden by its config.json: refused.
  try {
    plugin()->create(imltest::with_defaults(*plugin(), {{"checkpoint", dir.path.string()}, {"hidden_size", 8}}), ctx);
    ADD_FAILURE() << "a shape key beside a checkpoint must be refused";
  } catch (const std::invalid_argument& e) {
    EXPECT_NE(std::string(e.what()).find("'hidden_size' is set together with checkpoint"), std::string::npos) << e.what();
  }
  at::NoGradGuard no_grad;
  EXPECT_TRUE(at::equal(model->forward(some_tokens()).logits, loaded->forward(some_tokens()).logits));
  EXPECT_EQ(loaded->hf_config(), model->hf_config());
}

TEST(PythiaCheckpoint, ErrorsNameFileAndProblem) {
  auto model = small_model();
  imlsdk::ModelContext ctx;
  ctx.vocab_size = kVocab;
  auto expect_error = [&](const fs::path& dir, const std::string& needle) {
    try {
      plugin()->create(imltest::with_defaults(*plugin(), {{"checkpoint", dir.string()}}), ctx);
      ADD_FAILURE() << "no error for " << needle;
    } catch (const std::exception& e) {
      const std::string what = e.what();
      EXPECT_NE(what.find(dir.string()), std::string::npos) << what;
      EXPECT_NE(what.find(needle), std::string::npos) << what;
      EXPECT_EQ(what.find('\n'), std::string::npos) << "one line: " << what;
    }
  };
  {
    TempDir dir;
    save_hf(*model, dir.path, "gpt_neox.final_layer_norm.bias");
    expect_error(dir.path, "missing tensor 'gpt_neox.final_layer_norm.bias'");
  }
  {
    TempDir dir;
    save_hf(*model, dir.path, "", "gpt_neox.layers.0.mlp.extra");
    expect_error(dir.path, "unexpected tensor 'gpt_neox.layers.0.mlp.extra'");
  }
  {
    TempDir dir;
    save_hf(*model, dir.path);
    Json cfg = model->hf_config();
    cfg["intermediate_size"] = 48;
    std::ofstream(dir.path / "config.json") << cfg.dump();
    expect_error(dir.path, "dense_h_to_4h.weight' has shape");
  }
  {
    TempDir dir;
    save_hf(*model, dir.path);
    ctx.vocab_size = kVocab + 1;
    expect_error(dir.path, "smaller than the tokenizer");
    ctx.vocab_size = kVocab;
  }
  {
    TempDir dir;
    save_hf(*model, dir.path);
    std::ofstream(dir.path / "config.json") << "{\"model_type\": \"llama\"}";
    expect_error(dir.path, "model_type");
  }
  {
    TempDir dir;
    save_hf(*model, dir.path);
    Json cfg = model->hf_config();
    cfg.erase("num_attention_heads");  // no tensor shape would reveal a wrong default
    std::ofstream(dir.path / "config.json") << cfg.dump();
    expect_error(dir.path, "missing key 'num_attention_heads'");
  }
  {
    TempDir dir;
    save_hf(*model, dir.path);
    Json cfg = model->hf_config();
    cfg["hidden_size"] = "32";
    std::ofstream(dir.path / "config.json") << cfg.dump(2);
    expect_error(dir.path, "'hidden_size' must be int, got \"32\"");
  }
}

// Keys that HF's GPTNeoXConfig defaults (older configs omit some) take those defaults.
TEST(PythiaCheckpoint, OptionalConfigKeysTakeHFsDefaults) {
  auto model = small_model({{"init_std", 0.3}});
  TempDir dir;
  save_hf(*model, dir.path);
  Json cfg = model->hf_config();
  for (const char* key : {"rotary_pct", "rotary_emb_base", "layer_norm_eps", "use_parallel_residual",
                          "initializer_range"})
    cfg.erase(key);
  std::ofstream(dir.path / "config.json") << cfg.dump(2);
  imlsdk::ModelContext ctx;
  auto loaded = plugin()->create(imltest::with_defaults(*plugin(), {{"checkpoint", dir.path.string()}}), ctx);
  const Json back = loaded->hf_config();
  EXPECT_EQ(back["rotary_pct"], 0.25);
  EXPECT_EQ(back["rotary_emb_base"], 10000);
  EXPECT_EQ(back["layer_norm_eps"], 1e-5);
  EXPECT_EQ(back["use_parallel_residual"], true);
  EXPECT_EQ(back["initializer_range"], 0.02);
  at::NoGradGuard no_grad;
  EXPECT_TRUE(at::equal(model->forward(some_tokens()).logits, loaded->forward(some_tokens()).logits));
}

}  // namespace
