// The gpt_neo (GPT-Neo) model plugin: HF conformance fixtures (logits, every hidden state, loss,
// every gradient, greedy decoding with and without the KV cache), local attention's window, KV-cache
// parity, causal masking, left-padding invariance, hidden states, the params schema and its HF
// form (attention_pattern <-> attention_types), and checkpoint round trips and refusals.
#include <ATen/ATen.h>
#include <gtest/gtest.h>

#include <filesystem>
#include <fstream>
#include <set>

#include "imlsdk/checkpoint.hpp"
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
  static auto p = imltest::load_plugin<imlsdk::ModelPlugin>("gpt_neo");
  return p;
}

using imltest::greedy;
using imltest::max_abs_diff;
using imltest::TempDir;

}  // namespace

using imltest::CausalLMConformance;

// ---- HF conformance fixtures ------------------------------------------------------------------

// The shared causal-LM suite (causal_lm_conformance.hpp) on the gpt_neo folder: a 2-layer model,
// layer 0 global, layer 1 local (window 4, with 10-token inputs, so the window bites); HF's
// bos/eos ids in the context, so that hf_config() can be compared with HF's.
INSTANTIATE_TEST_SUITE_P(HF, CausalLMConformance,
                         ::testing::Values(imltest::CausalLMCase{"gpt_neo", "gpt_neo", /*ids_from_config=*/true}),
                         imltest::CausalLMCase::name);

// The fixture exercises both kinds of attention with a window shorter than its input.
TEST_P(CausalLMConformance, FixtureHasBothAttentionKindsAndAWindowThatBites) {
  EXPECT_EQ(config_.at("attention_layers"), Json({"global", "local"}));
  EXPECT_LT(config_.at("window_size").get<int64_t>(), static_cast<int64_t>(input_.at("input_ids")[0].size()));
}

// HF's 30 parameters (the tied head has none of its own), each compared by the suite.
TEST_P(CausalLMConformance, ParametersAreHFs) {
  EXPECT_EQ(model_->named_parameters().size(), 30u);
  EXPECT_EQ(imlsdk::read_safetensors((dir_ / "grads.safetensors").string()).size(), 30u);
}

// Every architecture key of the schema and HF's fixed ones; HF's null intermediate_size.
TEST_P(CausalLMConformance, HfConfigHasEveryKey) {
  const Json ours = model_->hf_config();
  EXPECT_GE(static_cast<int64_t>(ours.size()), 20);
  EXPECT_EQ(ours.at("intermediate_size"), Json()) << "HF's null = 4 * hidden_size";
}

namespace {

// ---- a small random model ---------------------------------------------------------------------

constexpr int64_t kVocab = 97;

// A wide init (std 0.3) so that greedy choices are not near-ties; window 3 so that 12-token
// inputs reach past it.
std::shared_ptr<imlsdk::Model> small_model(Json overrides = Json::object()) {
  Json p = {{"hidden_size", 32}, {"num_layers", 2}, {"num_heads", 4}, {"intermediate_size", 64},
            {"window_size", 3}, {"max_position_embeddings", 64}, {"init_std", 0.3}};
  for (auto it = overrides.begin(); it != overrides.end(); ++it) p[it.key()] = it.value();
  imlsdk::ModelContext ctx;
  ctx.vocab_size = kVocab;
  at::manual_seed(7);
  return plugin()->create(imltest::with_defaults(*plugin(), p), ctx);
}

TEST(GPTNeo, InfoParamsAndShapes) {
  auto model = small_model();
  const imlsdk::ModelInfo info = model->info();
  EXPECT_EQ(info.family, imlsdk::ModelFamily::CausalLM);
  EXPECT_EQ(info.vocab_size, kVocab);
  EXPECT_EQ(info.max_positions, 64);
  EXPECT_EQ(info.num_layers, 2);
  EXPECT_EQ(info.hidden_size, 32);
  EXPECT_EQ(info.num_labels, 0);
  EXPECT_EQ(info.decoder_start_id, -1);
  const auto params = model->named_parameters();
  int64_t total = 0;
  for (const auto& p : params) total += p.value().numel();
  // Per block: q,k,v [C,C], out_proj [C,C]+[C], c_fc [I,C]+[I], c_proj [C,I]+[C], 2 LayerNorms.
  const int64_t C = 32, I = 64, V = kVocab, P = 64;
  const int64_t block = 4 * C * C + C + I * C + I + C * I + C + 4 * C;
  EXPECT_EQ(total, V * C + P * C + 2 * block + 2 * C);
  // flop_params: all but the position embedding (the tied head is a V x C GEMM per token).
  EXPECT_EQ(info.flop_params, total - P * C);
  EXPECT_EQ(params.size(), 2u + 2 * 13 + 2);
  for (const char* name : {"transformer.wte.weight", "transformer.wpe.weight",
                           "transformer.h.1.attn.attention.q_proj.weight",
                           "transformer.h.1.attn.attention.out_proj.bias",
                           "transformer.h.0.mlp.c_fc.weight", "transformer.ln_f.bias"})
    EXPECT_TRUE(params.contains(name)) << name;
  EXPECT_FALSE(params.contains("transformer.h.0.attn.attention.q_proj.bias"));
  EXPECT_FALSE(params.contains("lm_head.weight")) << "the head is tied to wte";
  const Json cfg = model->hf_config();
  EXPECT_EQ(cfg["model_type"], "gpt_neo");
  EXPECT_EQ(cfg["num_layers"], 2);
  EXPECT_EQ(cfg["attention_types"], Json::parse(R"([[["global","local"],1]])"));
  EXPECT_EQ(cfg["attention_layers"], Json({"global", "local"}));
}

// HF's init: N(0, initializer_range) weights, zero biases, LayerNorm 1/0.
TEST(GPTNeo, InitFollowsHF) {
  auto model = small_model({{"init_std", 0.02}, {"hidden_size", 64}, {"intermediate_size", 0}});
  for (const auto& p : model->named_parameters()) {
    const std::string& name = p.key();
    const Tensor& t = p.value();
    auto ends_with = [&](const std::string& s) {
      return name.size() >= s.size() && name.compare(name.size() - s.size(), s.size(), s) == 0;
    };
    const bool norm = name.find("ln_") != std::string::npos;
    if (norm && ends_with(".weight")) {
      EXPECT_TRUE(at::equal(t, at::ones_like(t))) << name;
    } else if (ends_with(".bias")) {
      EXPECT_TRUE(at::equal(t, at::zeros_like(t))) << name;
    } else {
      EXPECT_NEAR(t.std().item<double>(), 0.02, 0.004) << name;
      EXPECT_NEAR(t.mean().item<double>(), 0.0, 0.004) << name;
    }
  }
  // intermediate_size 0 = 4 * hidden_size, written as HF's null.
  EXPECT_EQ(model->named_parameters()["transformer.h.0.mlp.c_fc.weight"].sizes(),
            at::IntArrayRef({256, 64}));
  EXPECT_TRUE(model->hf_config().at("intermediate_size").is_null());
}

TEST(GPTNeo, RejectsBadParams) {
  imlsdk::ModelContext ctx;
  ctx.vocab_size = kVocab;
  auto expect_error_naming = [&](Json overrides, const std::string& needle) {
    Json p = {{"hidden_size", 32}, {"num_layers", 2}, {"num_heads", 4}, {"max_position_embeddings", 64}};
    for (auto it = overrides.begin(); it != overrides.end(); ++it) p[it.key()] = it.value();
    try {
      plugin()->create(imltest::with_defaults(*plugin(), p), ctx);
      ADD_FAILURE() << "no error for " << overrides.dump();
    } catch (const std::invalid_argument& e) {
      EXPECT_NE(std::string(e.what()).find(needle), std::string::npos) << e.what();
      EXPECT_EQ(std::string(e.what()).find('\n'), std::string::npos) << e.what();
    }
  };
  expect_error_naming({{"num_heads", 7}}, "num_heads");
  expect_error_naming({{"window_size", 0}}, "window_size");
  expect_error_naming({{"vocab_size", 50}}, "vocab_size 50 is smaller than the tokenizer's 97");
  expect_error_naming({{"activation_function", "gelu_fast"}},
                      "activation_function 'gelu_fast' is not supported");
  expect_error_naming({{"attention_pattern", {"global", "sparse"}}},
                      "attention_pattern: 'sparse' is not an attention kind");
  expect_error_naming({{"attention_pattern", Json::array()}}, "attention_pattern");
  expect_error_naming({{"num_layers", 3}}, "num_layers 3 must be a positive multiple of attention_pattern's length 2");
  expect_error_naming({{"attention_pattern", {1, 2}}}, "'attention_pattern': expected list of strings");
}

// attention_pattern repeats over the layers and becomes HF's nested attention_types.
TEST(GPTNeo, AttentionPatternBecomesHFsAttentionTypes) {
  const Json cfg = small_model({{"num_layers", 6}, {"attention_pattern", {"local", "local", "global"}}})
                       ->hf_config();
  EXPECT_EQ(cfg["attention_types"], Json::parse(R"([[["local","local","global"],2]])"));
  EXPECT_EQ(cfg["attention_layers"],
            Json({"local", "local", "global", "local", "local", "global"}));
  EXPECT_EQ(small_model({{"num_layers", 3}, {"attention_pattern", Json::array({"global"})}})->hf_config()["attention_types"],
            Json::parse(R"([[["global"],3]])"));
}

// Local attention hides keys window_size or more positions back: with one local layer and
// window 2, a token changed at position 5 changes the outputs at 5 and 6 only; a global layer
// changes every later one; two local layers reach one position further.
TEST(GPTNeo, LocalAttentionMasksBeyondTheWindow) {
  auto changed_positions = [](Json overrides) {
    overrides["window_size"] = 2;
    auto model = small_model(overrides);
    at::NoGradGuard no_grad;
    at::manual_seed(11);
    imlsdk::ModelInput in;
    in.input_ids = at::randint(kVocab, {2, 12}, at::kLong);
    in.output_hidden_states = true;
    const auto before = model->forward(in);
    in.input_ids = in.input_ids.clone();
    Tensor token = in.input_ids.select(1, 5);
    token.add_(1).remainder_(kVocab);
    const auto after = model->forward(in);
    std::vector<int64_t> changed;
    for (int64_t t = 0; t < 12; ++t) {
      // The output of the last block (before ln_f) and the logits agree on which changed.
      const double d = max_abs_diff(before.logits.select(1, t), after.logits.select(1, t));
      const double h = max_abs_diff(before.hidden_states.back().select(1, t),
                                    after.hidden_states.back().select(1, t));
      EXPECT_EQ(d > 1e-4, h > 1e-4) << "position " << t;
      if (d > 1e-4) changed.push_back(t);
      else EXPECT_EQ(d, 0.0) << "position " << t << ": unchanged must be exactly unchanged";
    }
    return changed;
  };
  EXPECT_EQ(changed_positions({{"num_layers", 1}, {"attention_pattern", Json::array({"local"})}}),
            (std::vector<int64_t>{5, 6}));
  EXPECT_EQ(changed_positions({{"num_layers", 2}, {"attention_pattern", Json::array({"local"})}}),
            (std::vector<int64_t>{5, 6, 7}));
  EXPECT_EQ(changed_positions({{"num_layers", 1}, {"attention_pattern", Json::array({"global"})}}),
            (std::vector<int64_t>{5, 6, 7, 8, 9, 10, 11}));
  EXPECT_EQ(changed_positions({{"num_layers", 2}, {"attention_pattern", {"global", "local"}}}),
            (std::vector<int64_t>{5, 6, 7, 8, 9, 10, 11}));
}

TEST(GPTNeo, KVCacheMatchesFullRecompute) {
  // Prompts plus new tokens run past the window (3), so cached decoding must slide it.
  for (const Json& variant :
       {Json::object(), Json{{"attention_pattern", Json::array({"local"})}}, Json{{"attention_pattern", Json::array({"global"})}},
        Json{{"activation_function", "gelu"}}, Json{{"activation_function", "relu"}},
        Json{{"activation_function", "silu"}}})
    imltest::expect_kv_cache_matches_full_recompute(*small_model(variant), variant.dump());
}

// The activations differ (so the key is read), and gelu_new is the tanh approximation.
TEST(GPTNeo, ActivationFunctions) {
  at::NoGradGuard no_grad;
  imlsdk::ModelInput in;
  in.input_ids = at::tensor(std::vector<int64_t>{4, 8, 15, 16, 23, 42}, at::kLong).view({1, 6});
  std::vector<Tensor> logits;
  for (const char* act : {"gelu_new", "gelu", "relu", "silu"})
    logits.push_back(small_model({{"activation_function", act}})->forward(in).logits);
  for (size_t i = 0; i < logits.size(); ++i)
    for (size_t j = i + 1; j < logits.size(); ++j) EXPECT_GT(max_abs_diff(logits[i], logits[j]), 1e-5);
  const Tensor x = at::linspace(-4, 4, 81, at::kDouble);
  const Tensor gelu_new = 0.5 * x * (1 + at::tanh(std::sqrt(2.0 / M_PI) * (x + 0.044715 * x.pow(3))));
  EXPECT_LE(max_abs_diff(at::gelu(x, "tanh"), gelu_new), 1e-12);
}

TEST(GPTNeo, StopsAfterEos) { imltest::expect_stops_after_eos(*small_model()); }

TEST(GPTNeo, CausalMasking) {
  imltest::expect_causal(*small_model({{"attention_pattern", Json::array({"global"})}}), kVocab);
}

// Left padding leaves every row's greedy run as it is alone, local layers included (the window
// counts sequence indices, so pads before a row only add hidden keys).
TEST(GPTNeo, LeftPaddingInvariance) { imltest::expect_left_padding_invariance(*small_model()); }

// Learned positions: the same tokens at other positions give other outputs, and explicit
// position ids equal to the default change nothing.
TEST(GPTNeo, PositionIds) {
  auto model = small_model();
  at::NoGradGuard no_grad;
  imlsdk::ModelInput in;
  in.input_ids = at::randint(kVocab, {2, 6}, at::kLong);
  const Tensor plain = model->forward(in).logits;
  in.position_ids = at::arange(6, at::kLong).view({1, 6}).expand({2, 6});
  EXPECT_TRUE(at::equal(model->forward(in).logits, plain));
  in.position_ids = at::arange(3, 9, at::kLong).view({1, 6}).expand({2, 6});
  EXPECT_GT(max_abs_diff(model->forward(in).logits, plain), 1e-3);
  // Too long for max_position_embeddings: refused.
  in.position_ids = Tensor();
  in.input_ids = at::zeros({1, 65}, at::kLong);
  EXPECT_THROW(model->forward(in), std::invalid_argument);
}

TEST(GPTNeo, HiddenStatesOnlyWhenAskedAsHFLaysThemOut) {
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
  EXPECT_TRUE(at::equal(out.logits, plain.logits)) << "asking for hidden states changes nothing";
  // [0] is token + position embedding; the last one is what the tied head reads.
  const auto params = model->named_parameters();
  const Tensor embedded = at::embedding(params["transformer.wte.weight"], in.input_ids) +
                          params["transformer.wpe.weight"].narrow(0, 0, 9).unsqueeze(0);
  EXPECT_LE(max_abs_diff(out.hidden_states[0], embedded), 1e-6);
  EXPECT_LE(max_abs_diff(at::matmul(out.hidden_states.back(), params["transformer.wte.weight"].t()),
                         out.logits),
            1e-5);
  // last_logits_only: the last position's logits, and still every position's hidden states.
  in.last_logits_only = true;
  const imlsdk::ModelOutput last = model->forward(in);
  EXPECT_EQ(last.logits.sizes(), at::IntArrayRef({3, 1, kVocab}));
  EXPECT_LE(max_abs_diff(last.logits.select(1, 0), out.logits.select(1, 8)), 1e-6);
  ASSERT_EQ(last.hidden_states.size(), 3u);
  for (size_t i = 0; i < 3; ++i) EXPECT_TRUE(at::equal(last.hidden_states[i], out.hidden_states[i]));
}

TEST(GPTNeo, HiddenStatesWithTheCacheCoverTheNewPositions) {
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

TEST(GPTNeo, PluginTaskModelTypesAndCheckpointFolder) {
  EXPECT_EQ(plugin()->default_task(), "causal_lm");
  EXPECT_EQ(plugin()->hf_model_types(), std::vector<std::string>{"gpt_neo"});
  auto dir_of = [](Json overrides, const std::string& base) {
    return plugin()->checkpoint_dir(imltest::with_defaults(*plugin(), overrides), base);
  };
  EXPECT_EQ(dir_of(Json::object(), "/configs"), "") << "from scratch";
  EXPECT_EQ(dir_of({{"checkpoint", "models/neo"}}, "/configs"), "/configs/models/neo");
  EXPECT_EQ(dir_of({{"checkpoint", "/abs/neo"}}, "/configs"), "/abs/neo");
}

// The keys, types and defaults the config sees (declared once, in the plugin's schema).
TEST(GPTNeo, ParamsDeclaredOnce) {
  std::vector<std::string> keys;
  Json defaults = Json::object();
  for (const auto& spec : plugin()->params()) {
    keys.push_back(spec.key);
    defaults[spec.key] = spec.default_value;
    EXPECT_FALSE(spec.help.empty()) << spec.key;
    EXPECT_TRUE(imlsdk::json_matches(spec.default_value, spec.type)) << spec.key;
  }
  EXPECT_EQ(keys, (std::vector<std::string>{"hidden_size", "num_layers", "num_heads",
                                            "intermediate_size", "attention_pattern", "window_size",
                                            "max_position_embeddings", "layer_norm_eps",
                                            "activation_function", "vocab_size", "init_std",
                                            "checkpoint"}));
  // GPT-Neo 125M's shape.
  EXPECT_EQ(defaults["hidden_size"], 768);
  EXPECT_EQ(defaults["num_layers"], 12);
  EXPECT_EQ(defaults["num_heads"], 12);
  EXPECT_EQ(defaults["intermediate_size"], 0);
  EXPECT_EQ(defaults["attention_pattern"], Json({"global", "local"}));
  EXPECT_EQ(defaults["window_size"], 256);
  EXPECT_EQ(defaults["max_position_embeddings"], 2048);
  EXPECT_EQ(defaults["layer_norm_eps"], 1e-5);
  EXPECT_EQ(defaults["activation_function"], "gelu_new");
  EXPECT_EQ(defaults["vocab_size"], 0);
  EXPECT_EQ(defaults["init_std"], 0.02);
  EXPECT_EQ(defaults["checkpoint"], "");
  // A from-scratch model's config.json carries the params under HF's names.
  const Json cfg = small_model({{"layer_norm_eps", 1e-6}, {"activation_function", "silu"}})->hf_config();
  EXPECT_EQ(cfg["hidden_size"], 32);
  EXPECT_EQ(cfg["num_heads"], 4);
  EXPECT_EQ(cfg["intermediate_size"], 64);
  EXPECT_EQ(cfg["window_size"], 3);
  EXPECT_EQ(cfg["max_position_embeddings"], 64);
  EXPECT_EQ(cfg["initializer_range"], 0.3);
  EXPECT_EQ(cfg["layer_norm_epsilon"], 1e-6);
  EXPECT_EQ(cfg["activation_function"], "silu");
  EXPECT_EQ(cfg["vocab_size"], kVocab);
  EXPECT_FALSE(cfg.contains("attention_pattern")) << "HF's form is attention_types";
  EXPECT_FALSE(cfg.contains("checkpoint"));
}

// ---- checkpoints ------------------------------------------------------------------------------

imlsdk::ModelInput some_tokens() {
  imlsdk::ModelInput in;
  in.input_ids = at::tensor(std::vector<int64_t>{4, 8, 15, 16, 23, 42, 7, 1}, at::kLong).view({1, 8});
  return in;
}

std::shared_ptr<imlsdk::Model> load(const fs::path& dir, int64_t vocab = kVocab) {
  imlsdk::ModelContext ctx;
  ctx.vocab_size = vocab;
  return plugin()->create(imltest::with_defaults(*plugin(), {{"checkpoint", dir.string()}}), ctx);
}

TEST(GPTNeoCheckpoint, RoundTripGivesIdenticalLogits) {
  auto model = small_model({{"num_layers", 4}, {"attention_pattern", {"local", "global"}}});
  TempDir dir;
  imlsdk::save_hf_checkpoint(*model, model->hf_config(), dir.path.string());
  auto loaded = load(dir.path);
  at::NoGradGuard no_grad;
  EXPECT_TRUE(at::equal(model->forward(some_tokens()).logits, loaded->forward(some_tokens()).logits));
  EXPECT_EQ(loaded->hf_config(), model->hf_config());
  EXPECT_EQ(loaded->hf_config()["attention_layers"], Json({"local", "global", "local", "global"}));
  // The file holds HF's names, the head once (as wte).
  const auto names = imlsdk::SafetensorsFile((dir.path / "model.safetensors").string()).names();
  EXPECT_EQ(names.size(), model->named_parameters().size());
  EXPECT_EQ(std::count(names.begin(), names.end(), "lm_head.weight"), 0);

  // A shape key beside the checkpoint would be overridden by its config.json: refused.
  imlsdk::ModelContext ctx;
  ctx.vocab_size = kVocab;
  for (const Json& extra : {Json{{"hidden_size", 8}}, Json{{"attention_pattern", Json::array({"local"})}}}) {
    Json p = {{"checkpoint", dir.path.string()}};
    p.update(extra);
    try {
      plugin()->create(imltest::with_defaults(*plugin(), p), ctx);
      ADD_FAILURE() << "a shape key beside a checkpoint must be refused: " << extra.dump();
    } catch (const std::invalid_argument& e) {
      EXPECT_NE(std::string(e.what()).find("'" + extra.begin().key() + "' is set together with checkpoint"),
                std::string::npos)
          << e.what();
    }
  }
}

// What HF files carry beside the parameters: the tied lm_head copy and the old mask buffers
// (skipped); half-precision tensors (converted on load); attention_types with several groups.
TEST(GPTNeoCheckpoint, LoadsWhatHFWrites) {
  auto model = small_model({{"num_layers", 3}, {"attention_pattern", Json::array({"global"})}});
  TempDir dir;
  Json cfg = model->hf_config();
  cfg["attention_types"] = Json::parse(R"([[["global"],1],[["local","global"],1]])");
  cfg["attention_layers"] = {"global", "local", "global"};
  std::map<std::string, Tensor> tensors;
  for (const auto& p : model->named_parameters()) tensors[p.key()] = p.value().to(at::kBFloat16);
  tensors["lm_head.weight"] = tensors.at("transformer.wte.weight");
  tensors["transformer.h.0.attn.attention.bias"] = at::ones({1, 1, 64, 64});
  tensors["transformer.h.0.attn.attention.masked_bias"] = at::tensor(-1e9);
  imlsdk::write_safetensors((dir.path / "model.safetensors").string(), tensors);
  std::ofstream(dir.path / "config.json") << cfg.dump(2);
  auto loaded = load(dir.path);
  const auto params = loaded->named_parameters();
  for (const auto& p : model->named_parameters()) {
    EXPECT_EQ(params[p.key()].scalar_type(), at::kFloat) << p.key();
    EXPECT_TRUE(at::equal(params[p.key()], p.value().to(at::kBFloat16).to(at::kFloat))) << p.key();
  }
  EXPECT_EQ(loaded->hf_config()["attention_types"], cfg["attention_types"]) << "written back as read";
  // Layer 1 is local (window 3): its outputs differ from the all-global original's.
  at::NoGradGuard no_grad;
  auto bf16_global = small_model({{"num_layers", 3}, {"attention_pattern", Json::array({"global"})}});
  for (auto& p : bf16_global->named_parameters()) p.value().copy_(params[p.key()]);
  EXPECT_GT(max_abs_diff(bf16_global->forward(some_tokens()).logits, loaded->forward(some_tokens()).logits),
            1e-4);
}

TEST(GPTNeoCheckpoint, ErrorsNameFileAndProblem) {
  auto model = small_model();
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
  auto saved = [&](const TempDir& dir, Json cfg = Json()) {
    imlsdk::save_hf_checkpoint(*model, cfg.is_null() ? model->hf_config() : cfg, dir.path.string());
  };
  auto with = [&](const std::string& key, Json value) {
    Json cfg = model->hf_config();
    if (value.is_null()) cfg.erase(key);
    else cfg[key] = value;
    return cfg;
  };
  {
    TempDir dir;
    imlsdk::save_hf_checkpoint(*model, model->hf_config(), dir.path.string(),
                               {"transformer.ln_f.bias"});
    expect_error(dir.path, "missing tensor 'transformer.ln_f.bias'");
  }
  {
    TempDir dir;
    saved(dir, with("intermediate_size", 48));
    expect_error(dir.path, "mlp.c_fc.weight' has shape");
  }
  {
    TempDir dir;
    saved(dir, with("max_position_embeddings", 32));
    expect_error(dir.path, "transformer.wpe.weight' has shape");
  }
  {
    TempDir dir;
    saved(dir);
    expect_error(dir.path, "smaller than the tokenizer", kVocab + 1);
  }
  {
    TempDir dir;
    saved(dir, with("model_type", "gpt_neox"));
    expect_error(dir.path, "model_type is \"gpt_neox\", expected \"gpt_neo\"");
  }
  {
    TempDir dir;
    saved(dir, with("num_heads", nullptr));  // no tensor shape would reveal a wrong default
    expect_error(dir.path, "missing key 'num_heads'");
  }
  {
    TempDir dir;
    saved(dir, with("attention_types", nullptr));
    expect_error(dir.path, "missing key 'attention_types'");
  }
  {
    // Three layers' worth of kinds for a two-layer model.
    TempDir dir;
    Json cfg = with("attention_types", Json::parse(R"([[["global","local","global"],1]])"));
    cfg.erase("attention_layers");
    saved(dir, cfg);
    expect_error(dir.path, "attention_types gives 3 layers, num_layers is 2");
  }
  {
    TempDir dir;
    saved(dir, with("attention_types", Json::parse(R"([[["global","sparse"],1]])")));
    expect_error(dir.path, "attention_types must be a list of [[kinds...], repeats]");
  }
  {
    TempDir dir;
    saved(dir, with("attention_layers", {"local", "local"}));
    expect_error(dir.path, "attention_layers [\"local\",\"local\"] disagrees with attention_types");
  }
  {
    TempDir dir;
    saved(dir, with("activation_function", "gelu_fast"));
    expect_error(dir.path, "activation_function 'gelu_fast' is not supported");
  }
  {
    TempDir dir;
    saved(dir, with("tie_word_embeddings", false));
    expect_error(dir.path, "tie_word_embeddings false is not supported");
  }
  {
    TempDir dir;
    saved(dir, with("hidden_size", "32"));
    expect_error(dir.path, "'hidden_size' must be int, got \"32\"");
  }
  {
    TempDir dir;
    saved(dir);
    std::map<std::string, Tensor> tensors;
    for (const auto& p : model->named_parameters()) tensors[p.key()] = p.value();
    tensors["transformer.h.0.mlp.extra"] = at::zeros({3});
    imlsdk::write_safetensors((dir.path / "model.safetensors").string(), tensors);
    expect_error(dir.path, "unexpected tensor 'transformer.h.0.mlp.extra'");
  }
}

// Keys that HF's GPTNeoConfig defaults take those defaults when config.json omits them.
TEST(GPTNeoCheckpoint, OptionalConfigKeysTakeHFsDefaults) {
  auto model = small_model({{"window_size", 256}, {"intermediate_size", 0}, {"init_std", 0.02}});
  TempDir dir;
  Json cfg = model->hf_config();
  for (const char* key : {"intermediate_size", "window_size", "layer_norm_epsilon",
                          "activation_function", "initializer_range", "attention_layers"})
    cfg.erase(key);
  imlsdk::save_hf_checkpoint(*model, cfg, dir.path.string());
  auto loaded = load(dir.path);
  const Json back = loaded->hf_config();
  EXPECT_TRUE(back["intermediate_size"].is_null());
  EXPECT_EQ(back["window_size"], 256);
  EXPECT_EQ(back["layer_norm_epsilon"], 1e-5);
  EXPECT_EQ(back["activation_function"], "gelu_new");
  EXPECT_EQ(back["initializer_range"], 0.02);
  EXPECT_EQ(back["attention_layers"], Json({"global", "local"}));
  at::NoGradGuard no_grad;
  EXPECT_TRUE(at::equal(model->forward(some_tokens()).logits, loaded->forward(some_tokens()).logits));
}

}  // namespace
