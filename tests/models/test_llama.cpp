// The llama model plugin: HF conformance fixtures (llama: multi-head, llama_gqa: grouped-query;
// logits, every hidden state, loss, every gradient, greedy decoding with and without the KV
// cache), KV-cache parity, causal masking, left padding, tied embeddings, the params schema,
// HF's init, and checkpoint folders (round trip, refusals, shards, bf16).
#include <ATen/ATen.h>
#include <gtest/gtest.h>

#include <unistd.h>

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
  static auto p = imltest::load_plugin<imlsdk::ModelPlugin>("llama");
  return p;
}

using imltest::greedy;
using imltest::max_abs_diff;
using imltest::read_json;
using imltest::TempDir;

std::shared_ptr<imlsdk::Model> load(const fs::path& dir, int64_t tokenizer_vocab = 0) {
  imlsdk::ModelContext ctx;
  ctx.vocab_size = tokenizer_vocab;
  return plugin()->create(imltest::with_defaults(*plugin(), {{"checkpoint", dir.string()}}), ctx);
}

}  // namespace

using imltest::CausalLMConformance;

// ---- HF conformance fixtures ------------------------------------------------------------------

// The shared causal-LM suite (causal_lm_conformance.hpp) on llama (num_key_value_heads =
// num_attention_heads) and llama_gqa (grouped-query attention).
INSTANTIATE_TEST_SUITE_P(HF, CausalLMConformance,
                         ::testing::Values(imltest::CausalLMCase{"llama", "llama"},
                                           imltest::CausalLMCase{"llama", "llama_gqa"}),
                         imltest::CausalLMCase::name);

TEST_P(CausalLMConformance, FixtureShapeIsWhatTheSuiteClaims) {
  const auto params = model_->named_parameters();
  const int64_t heads = config_.at("num_attention_heads").get<int64_t>();
  const int64_t kv = config_.at("num_key_value_heads").get<int64_t>();
  const int64_t C = config_.at("hidden_size").get<int64_t>();
  EXPECT_EQ(GetParam().fixture == "llama_gqa", kv < heads) << "llama_gqa must group the heads";
  EXPECT_EQ(params["model.layers.0.self_attn.k_proj.weight"].sizes(), at::IntArrayRef({kv * (C / heads), C}));
  EXPECT_EQ(params["model.layers.0.self_attn.q_proj.weight"].sizes(), at::IntArrayRef({C, C}));
  // Every one of HF's parameters, each compared by the suite: the embedding, the final norm and
  // lm_head, and nine per layer.
  EXPECT_EQ(static_cast<int64_t>(params.size()), 2 + 9 * config_layers() + 1);
  // The cache holds the un-repeated key/value heads.
  imlsdk::KVCache cache;
  imlsdk::ModelInput in;
  in.input_ids = ids("input_ids");
  in.cache = &cache;
  at::NoGradGuard no_grad;
  model_->forward(in);
  ASSERT_EQ(cache.k.size(), static_cast<size_t>(config_layers()));
  EXPECT_EQ(cache.k[0].sizes(), at::IntArrayRef({2, kv, 10, C / heads}));
  EXPECT_EQ(cache.v[1].sizes(), at::IntArrayRef({2, kv, 10, C / heads}));
}

// hf_config() writes every key of HF's config.json (all LlamaConfig needs) but
// transformers_version; the suite checks the values.
TEST_P(CausalLMConformance, HfConfigHasEveryKeyOfHFs) {
  const Json ours = model_->hf_config();
  for (const auto& [key, value] : config_.items())
    if (key != "transformers_version") EXPECT_TRUE(ours.contains(key)) << "hf_config() lacks " << key;
  EXPECT_EQ(ours.size(), config_.size() - 1);  // all but transformers_version
}

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
  ctx.bos_id = 1;
  ctx.eos_id = 2;
  at::manual_seed(7);
  return plugin()->create(imltest::with_defaults(*plugin(), p), ctx);
}

const Json kGQA = {{"num_key_value_heads", 2}};
const Json kMQA = {{"num_key_value_heads", 1}};
const Json kTied = {{"tie_word_embeddings", true}};

TEST(Llama, InfoParamsAndShapes) {
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
  // Per layer: q, k, v, o [32, 32]; gate, up, down 32x64; two norms. Embedding + norm + head.
  EXPECT_EQ(total, 2 * (4 * 32 * 32 + 3 * 32 * 64 + 2 * 32) + 2 * kVocab * 32 + 32);
  EXPECT_EQ(info.flop_params, total - kVocab * 32);
  EXPECT_EQ(model->named_parameters().size(), 2u * 9 + 3);
  for (const char* name :
       {"model.embed_tokens.weight", "model.layers.1.self_attn.q_proj.weight",
        "model.layers.1.self_attn.k_proj.weight", "model.layers.1.self_attn.v_proj.weight",
        "model.layers.1.self_attn.o_proj.weight", "model.layers.1.mlp.gate_proj.weight",
        "model.layers.1.mlp.up_proj.weight", "model.layers.1.mlp.down_proj.weight",
        "model.layers.1.input_layernorm.weight", "model.layers.1.post_attention_layernorm.weight",
        "model.norm.weight", "lm_head.weight"})
    EXPECT_TRUE(model->named_parameters().contains(name)) << name;
  EXPECT_TRUE(model->named_buffers().is_empty()) << "no buffers: rotary tables are computed";
  const Json cfg = model->hf_config();
  EXPECT_EQ(cfg["model_type"], "llama");
  EXPECT_EQ(cfg["architectures"], Json::array({"LlamaForCausalLM"}));
  EXPECT_EQ(cfg["num_hidden_layers"], 2);
  EXPECT_EQ(cfg["num_key_value_heads"], 4) << "0 = num_heads, written resolved";
  EXPECT_EQ(cfg["bos_token_id"], 1);
  EXPECT_EQ(cfg["eos_token_id"], 2);
  EXPECT_EQ(cfg["tie_word_embeddings"], false);

  // Grouped-query: k and v project to 2 heads of 8 dims.
  auto gqa = small_model(kGQA);
  EXPECT_EQ(gqa->named_parameters()["model.layers.0.self_attn.k_proj.weight"].sizes(),
            at::IntArrayRef({16, 32}));
  EXPECT_EQ(gqa->named_parameters()["model.layers.0.self_attn.v_proj.weight"].sizes(),
            at::IntArrayRef({16, 32}));
  EXPECT_EQ(gqa->hf_config()["num_key_value_heads"], 2);
}

TEST(Llama, TiedEmbeddingsHaveNoHeadParameter) {
  auto model = small_model(kTied);
  const auto params = model->named_parameters();
  EXPECT_FALSE(params.contains("lm_head.weight"));
  EXPECT_EQ(params.size(), 2u * 9 + 2);
  int64_t total = 0;
  for (const auto& p : model->parameters()) total += p.numel();
  EXPECT_EQ(model->info().flop_params, total) << "the tied embedding is counted once, as the head";
  EXPECT_EQ(model->hf_config()["tie_word_embeddings"], true);
  imlsdk::ModelInput in;
  in.input_ids = at::randint(kVocab, {2, 5}, at::kLong);
  in.output_hidden_states = true;
  const auto out = model->forward(in);
  EXPECT_LE(max_abs_diff(at::matmul(out.hidden_states.back(), params["model.embed_tokens.weight"].t()),
                         out.logits),
            1e-5);
  // The embedding gets the gradient of both its uses.
  imlsdk::causal_lm_loss(out.logits, in.input_ids).backward();
  EXPECT_TRUE(params["model.embed_tokens.weight"].grad().defined());
}

TEST(Llama, RejectsBadParams) {
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
  expect_error_naming({{"hidden_size", 24}, {"num_heads", 8}}, "even head dim");
  expect_error_naming({{"num_key_value_heads", 3}}, "num_key_value_heads");
  expect_error_naming({{"rope_theta", 0.0}}, "rope_theta");
  expect_error_naming({{"rms_norm_eps", 0.0}}, "rms_norm_eps");
  expect_error_naming({{"vocab_size", 50}}, "vocab_size 50 is smaller than the tokenizer's 97");
  ctx.vocab_size = 0;
  expect_error_naming(Json::object(), "vocab_size is 0");
}

// HF's _init_weights: N(0, initializer_range) for linear and embedding weights, RMSNorm 1.
TEST(Llama, FromScratchInitIsHFs) {
  auto model = small_model({{"init_std", 0.05}, {"hidden_size", 64}, {"intermediate_size", 256}});
  int64_t matrices = 0, norms = 0;
  for (const auto& p : model->named_parameters()) {
    const Tensor& w = p.value();
    if (w.dim() == 1) {
      EXPECT_TRUE(at::equal(w, at::ones_like(w))) << p.key();
      ++norms;
    } else {
      EXPECT_NEAR(w.std().item<double>(), 0.05, 0.005) << p.key();
      EXPECT_NEAR(w.mean().item<double>(), 0.0, 0.005) << p.key();
      ++matrices;
    }
  }
  EXPECT_EQ(matrices, 2 * 7 + 2);
  EXPECT_EQ(norms, 2 * 2 + 1);
  // Same seed, same weights.
  auto again = small_model({{"init_std", 0.05}, {"hidden_size", 64}, {"intermediate_size", 256}});
  for (const auto& p : model->named_parameters())
    EXPECT_TRUE(at::equal(p.value(), again->named_parameters()[p.key()])) << p.key();
}

TEST(Llama, KVCacheMatchesFullRecompute) {
  for (const Json& variant : {Json::object(), kGQA, kMQA, kTied})
    imltest::expect_kv_cache_matches_full_recompute(*small_model(variant), variant.dump());
}

// Grouped-query attention equals multi-head attention whose key/value heads are repeated.
TEST(Llama, GroupedQueryEqualsRepeatedHeads) {
  auto gqa = small_model(kGQA);
  auto mha = small_model();
  {
    at::NoGradGuard no_grad;
    auto g = gqa->named_parameters();
    for (auto& p : mha->named_parameters()) {
      const Tensor& src = g[p.key()];
      if (src.sizes() == p.value().sizes()) {
        p.value().copy_(src);
      } else {  // k/v [2 heads * 8, 32] -> [4 heads * 8, 32], head h from kv head h / 2
        p.value().copy_(src.view({2, 1, 8, 32}).expand({2, 2, 8, 32}).reshape({32, 32}));
      }
    }
  }
  at::NoGradGuard no_grad;
  imlsdk::ModelInput in;
  in.input_ids = at::randint(kVocab, {2, 9}, at::kLong);
  EXPECT_LE(max_abs_diff(gqa->forward(in).logits, mha->forward(in).logits), 1e-5);
}

TEST(Llama, StopsAfterEos) { imltest::expect_stops_after_eos(*small_model()); }

TEST(Llama, CausalMasking) { imltest::expect_causal(*small_model(kGQA), kVocab); }

TEST(Llama, LeftPaddingInvariance) { imltest::expect_left_padding_invariance(*small_model(kGQA)); }

TEST(Llama, HiddenStatesOnlyWhenAskedAsHFLaysThemOut) {
  auto model = small_model();
  at::NoGradGuard no_grad;
  imlsdk::ModelInput in;
  in.input_ids = at::randint(kVocab, {3, 9}, at::kLong);
  const imlsdk::ModelOutput plain = model->forward(in);
  EXPECT_TRUE(plain.hidden_states.empty());

  in.output_hidden_states = true;
  const imlsdk::ModelOutput out = model->forward(in);
  ASSERT_EQ(out.hidden_states.size(), 3u);  // num_layers + 1
  for (const auto& h : out.hidden_states) EXPECT_EQ(h.sizes(), at::IntArrayRef({3, 9, 32}));
  EXPECT_TRUE(at::equal(out.logits, plain.logits)) << "asking for hidden states changes nothing";
  const auto params = model->named_parameters();
  EXPECT_TRUE(at::equal(out.hidden_states[0],
                        at::embedding(params["model.embed_tokens.weight"], in.input_ids)));
  EXPECT_LE(max_abs_diff(at::matmul(out.hidden_states.back(), params["lm_head.weight"].t()),
                         out.logits),
            1e-5);
  // last_logits_only: the last position's logits, every position's hidden states.
  in.last_logits_only = true;
  const imlsdk::ModelOutput last = model->forward(in);
  EXPECT_EQ(last.logits.sizes(), at::IntArrayRef({3, 1, kVocab}));
  EXPECT_LE(max_abs_diff(last.logits.select(1, 0), out.logits.select(1, 8)), 1e-5);
  ASSERT_EQ(last.hidden_states.size(), 3u);
  for (size_t i = 0; i < 3; ++i) EXPECT_TRUE(at::equal(last.hidden_states[i], out.hidden_states[i]));
}

TEST(Llama, HiddenStatesWithTheCacheCoverTheNewPositions) {
  auto model = small_model(kGQA);
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
  EXPECT_EQ(cache.k[0].sizes(), at::IntArrayRef({2, 2, 7, 8})) << "un-repeated kv heads";
  step.input_ids = ids.narrow(1, 7, 3);
  const auto tail = model->forward(step).hidden_states;
  ASSERT_EQ(tail.size(), whole.size());
  for (size_t i = 0; i < tail.size(); ++i) {
    EXPECT_EQ(tail[i].sizes(), at::IntArrayRef({2, 3, 32}));
    EXPECT_LE(max_abs_diff(tail[i], whole[i].narrow(1, 7, 3)), 1e-5) << "hidden state " << i;
  }
  // Beyond max_position_embeddings: refused.
  step.input_ids = at::zeros({2, 55}, at::kLong);
  EXPECT_THROW(model->forward(step), std::invalid_argument);
}

TEST(Llama, PluginTaskModelTypesAndCheckpointFolder) {
  EXPECT_EQ(plugin()->default_task(), "causal_lm");
  EXPECT_EQ(plugin()->hf_model_types(), std::vector<std::string>{"llama"});
  auto dir_of = [](Json overrides, const std::string& base) {
    return plugin()->checkpoint_dir(imltest::with_defaults(*plugin(), overrides), base);
  };
  EXPECT_EQ(dir_of(Json::object(), "/configs"), "") << "from scratch";
  EXPECT_EQ(dir_of({{"checkpoint", "models/l"}}, "/configs"), "/configs/models/l");
  EXPECT_EQ(dir_of({{"checkpoint", "models/l"}}, ""), "models/l");
  EXPECT_EQ(dir_of({{"checkpoint", "/abs/l"}}, "/configs"), "/abs/l");
}

// The keys, types and defaults the config sees (declared once, in the plugin's schema).
TEST(Llama, ParamsDeclaredOnce) {
  std::vector<std::string> keys;
  Json defaults = Json::object();
  for (const auto& spec : plugin()->params()) {
    keys.push_back(spec.key);
    defaults[spec.key] = spec.default_value;
    EXPECT_FALSE(spec.help.empty()) << spec.key;
    EXPECT_TRUE(imlsdk::json_matches(spec.default_value, spec.type)) << spec.key;
  }
  EXPECT_EQ(keys, (std::vector<std::string>{"hidden_size", "num_layers", "num_heads",
                                            "num_key_value_heads", "intermediate_size",
                                            "rope_theta", "max_position_embeddings",
                                            "rms_norm_eps", "tie_word_embeddings", "vocab_size",
                                            "init_std", "checkpoint"}));
  EXPECT_EQ(defaults["hidden_size"], 512);
  EXPECT_EQ(defaults["num_layers"], 8);
  EXPECT_EQ(defaults["num_heads"], 8);
  EXPECT_EQ(defaults["num_key_value_heads"], 0);
  EXPECT_EQ(defaults["intermediate_size"], 1376);
  // HF LlamaConfig's defaults.
  EXPECT_EQ(defaults["rope_theta"], 10000.0);
  EXPECT_EQ(defaults["max_position_embeddings"], 2048);
  EXPECT_EQ(defaults["rms_norm_eps"], 1e-6);
  EXPECT_EQ(defaults["tie_word_embeddings"], false);
  EXPECT_EQ(defaults["vocab_size"], 0);
  EXPECT_EQ(defaults["init_std"], 0.02);
  EXPECT_EQ(defaults["checkpoint"], "");
  // A from-scratch model's config.json carries the params under HF's names.
  const Json cfg = small_model({{"rope_theta", 500000.0}, {"rms_norm_eps", 1e-5}})->hf_config();
  EXPECT_EQ(cfg["hidden_size"], 32);
  EXPECT_EQ(cfg["num_attention_heads"], 4);
  EXPECT_EQ(cfg["intermediate_size"], 64);
  EXPECT_EQ(cfg["max_position_embeddings"], 64);
  EXPECT_EQ(cfg["initializer_range"], 0.3);
  EXPECT_EQ(cfg["rope_theta"], 500000.0);
  EXPECT_EQ(cfg["rms_norm_eps"], 1e-5);
  EXPECT_EQ(cfg["vocab_size"], kVocab);
  EXPECT_EQ(cfg["hidden_act"], "silu");
  EXPECT_EQ(cfg["pretraining_tp"], 1);
  EXPECT_TRUE(cfg["rope_scaling"].is_null());
  EXPECT_EQ(cfg["torch_dtype"], "float32");
  EXPECT_FALSE(cfg.contains("checkpoint"));
}

// ---- checkpoints ------------------------------------------------------------------------------

// The model's tensors by name (what save_hf_checkpoint writes).
std::map<std::string, Tensor> tensors_of(const imlsdk::Model& model) {
  std::map<std::string, Tensor> out;
  for (const auto& p : model.named_parameters()) out[p.key()] = p.value().detach();
  return out;
}

void write_config(const fs::path& dir, const Json& cfg) { std::ofstream(dir / "config.json") << cfg.dump(2); }

imlsdk::ModelInput some_tokens() {
  imlsdk::ModelInput in;
  in.input_ids = at::tensor(std::vector<int64_t>{4, 8, 15, 16, 23, 42}, at::kLong).view({1, 6});
  return in;
}

Tensor logits_of(imlsdk::Model& m) {
  at::NoGradGuard no_grad;
  return m.forward(some_tokens()).logits;
}

TEST(LlamaCheckpoint, SaveAndCreateRoundTrip) {
  for (const Json& variant : {Json::object(), kGQA, kTied}) {
    auto model = small_model(variant);
    TempDir dir;
    imlsdk::save_hf_checkpoint(*model, model->hf_config(), dir.path.string());
    EXPECT_EQ(read_json(dir.path / "config.json"), model->hf_config()) << variant.dump();
    const imlsdk::SafetensorsFile file((dir.path / "model.safetensors").string());
    EXPECT_EQ(file.contains("lm_head.weight"), variant != kTied) << variant.dump();
    EXPECT_EQ(file.names().size(), model->named_parameters().size());
    auto loaded = load(dir.path, kVocab);
    EXPECT_TRUE(at::equal(logits_of(*model), logits_of(*loaded))) << variant.dump();
    EXPECT_EQ(loaded->hf_config(), model->hf_config()) << variant.dump();
    // Saving the loaded model writes the same config.json.
    TempDir again;
    imlsdk::save_hf_checkpoint(*loaded, loaded->hf_config(), again.path.string());
    EXPECT_EQ(read_json(again.path / "config.json"), read_json(dir.path / "config.json"));
  }
}

TEST(LlamaCheckpoint, ShapeKeyBesideCheckpointIsRefused) {
  auto model = small_model();
  TempDir dir;
  imlsdk::save_hf_checkpoint(*model, model->hf_config(), dir.path.string());
  imlsdk::ModelContext ctx;
  ctx.vocab_size = kVocab;
  for (const Json& extra : {Json{{"hidden_size", 8}}, Json{{"num_key_value_heads", 2}},
                            Json{{"tie_word_embeddings", true}}}) {
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

// HF checkpoints of older transformers carry rotary inv_freq buffers; they are ignored.
TEST(LlamaCheckpoint, RotaryInvFreqBuffersAreIgnored) {
  auto model = small_model();
  TempDir dir;
  write_config(dir.path, model->hf_config());
  auto tensors = tensors_of(*model);
  tensors["model.layers.0.self_attn.rotary_emb.inv_freq"] = at::zeros({4});
  tensors["model.layers.1.self_attn.rotary_emb.inv_freq"] = at::zeros({4});
  imlsdk::write_safetensors((dir.path / "model.safetensors").string(), tensors);
  EXPECT_TRUE(at::equal(logits_of(*model), logits_of(*load(dir.path))));
}

void expect_error(const fs::path& dir, const std::vector<std::string>& needles, int64_t vocab = kVocab) {
  try {
    load(dir, vocab);
    ADD_FAILURE() << "no error for " << needles.front();
  } catch (const std::exception& e) {
    const std::string what = e.what();
    for (const auto& needle : needles) EXPECT_NE(what.find(needle), std::string::npos) << what;
    EXPECT_EQ(what.find('\n'), std::string::npos) << "one line: " << what;
  }
}

TEST(LlamaCheckpoint, BadCheckpointsAreRefusedNamingFileAndTensor) {
  auto model = small_model(kGQA);
  const std::string st = "model.safetensors", cj = "config.json";
  auto saved = [&](std::map<std::string, Tensor> tensors, Json cfg, const fs::path& dir) {
    write_config(dir, cfg);
    imlsdk::write_safetensors((dir / st).string(), tensors);
  };
  {
    TempDir dir;
    auto t = tensors_of(*model);
    t.erase("model.layers.1.mlp.up_proj.weight");
    saved(t, model->hf_config(), dir.path);
    expect_error(dir.path, {dir.path.string(), "missing tensor 'model.layers.1.mlp.up_proj.weight'"});
  }
  {
    TempDir dir;
    auto t = tensors_of(*model);
    t["model.layers.0.self_attn.q_proj.bias"] = at::zeros({32});
    saved(t, model->hf_config(), dir.path);
    expect_error(dir.path, {(dir.path / st).string(), "unexpected tensor 'model.layers.0.self_attn.q_proj.bias'"});
  }
  {
    TempDir dir;
    auto t = tensors_of(*model);
    Json cfg = model->hf_config();
    cfg["num_key_value_heads"] = 4;  // the files hold 2 kv heads
    saved(t, cfg, dir.path);
    expect_error(dir.path, {(dir.path / st).string(), "'model.layers.0.self_attn.k_proj.weight' has shape [16, 32]",
                            "expects [32, 32]"});
  }
  {
    TempDir dir;
    Json cfg = model->hf_config();
    cfg["model_type"] = "mistral";
    saved(tensors_of(*model), cfg, dir.path);
    expect_error(dir.path, {(dir.path / cj).string(), "model_type is \"mistral\", expected \"llama\""});
  }
  {
    TempDir dir;
    saved(tensors_of(*model), model->hf_config(), dir.path);
    const auto size = fs::file_size(dir.path / st);
    fs::resize_file(dir.path / st, size - 100);
    expect_error(dir.path, {(dir.path / st).string()});
  }
  {
    TempDir dir;
    saved(tensors_of(*model), model->hf_config(), dir.path);
    expect_error(dir.path, {(dir.path / cj).string(), "vocab_size 97 is smaller than the tokenizer's 98"}, kVocab + 1);
  }
  {
    TempDir dir;
    Json cfg = model->hf_config();
    cfg.erase("num_attention_heads");
    saved(tensors_of(*model), cfg, dir.path);
    expect_error(dir.path, {(dir.path / cj).string(), "missing key 'num_attention_heads'"});
  }
  {
    TempDir dir;
    Json cfg = model->hf_config();
    cfg["hidden_size"] = "32";
    saved(tensors_of(*model), cfg, dir.path);
    expect_error(dir.path, {(dir.path / cj).string(), "'hidden_size' must be int, got \"32\""});
  }
  // HF options this implementation does not have: one line naming config.json and the key.
  const std::vector<std::pair<Json, std::string>> unsupported = {
      {{{"attention_bias", true}}, "attention_bias is true"},
      {{{"rope_scaling", {{"type", "linear"}, {"factor", 2.0}}}}, "rope_scaling is {"},
      {{{"pretraining_tp", 2}}, "pretraining_tp is 2"},
      {{{"hidden_act", "gelu"}}, "hidden_act is \"gelu\""},
      {{{"num_key_value_heads", 3}}, "num_key_value_heads must be > 0 and divide num_heads"},
  };
  for (const auto& [change, needle] : unsupported) {
    TempDir dir;
    Json cfg = model->hf_config();
    cfg.update(change);
    saved(tensors_of(*model), cfg, dir.path);
    expect_error(dir.path, {(dir.path / cj).string(), needle});
  }
  {
    TempDir dir;
    expect_error(dir.path, {(dir.path / cj).string(), "missing"});
  }
  expect_error("/nonexistent/llama", {"/nonexistent/llama", "is not a directory"});
}

// HF's defaults for config.json keys that are optional in LlamaConfig.
TEST(LlamaCheckpoint, OptionalConfigKeysTakeHFsDefaults) {
  auto model = small_model({{"rms_norm_eps", 1e-6}, {"init_std", 0.02}, {"max_position_embeddings", 2048}});
  TempDir dir;
  imlsdk::save_hf_checkpoint(*model, model->hf_config(), dir.path.string());
  Json cfg = model->hf_config();
  for (const char* key : {"num_key_value_heads", "rope_theta", "max_position_embeddings", "rms_norm_eps",
                          "tie_word_embeddings", "initializer_range", "hidden_act", "pretraining_tp",
                          "rope_scaling", "bos_token_id", "eos_token_id"})
    cfg.erase(key);
  write_config(dir.path, cfg);
  auto loaded = load(dir.path);
  const Json back = loaded->hf_config();
  EXPECT_EQ(back["num_key_value_heads"], 4);
  EXPECT_EQ(back["rope_theta"], 10000.0);
  EXPECT_EQ(back["max_position_embeddings"], 2048);
  EXPECT_EQ(back["rms_norm_eps"], 1e-6);
  EXPECT_EQ(back["tie_word_embeddings"], false);
  EXPECT_EQ(back["initializer_range"], 0.02);
  EXPECT_TRUE(back["bos_token_id"].is_null());
  EXPECT_TRUE(at::equal(logits_of(*model), logits_of(*loaded)));
}

// A sharded folder (model.safetensors.index.json + shards) loads; a missing shard is refused.
TEST(LlamaCheckpoint, ShardedFolder) {
  auto model = small_model(kGQA);
  TempDir dir;
  write_config(dir.path, model->hf_config());
  std::map<std::string, Tensor> shard1, shard2;
  Json weight_map = Json::object();
  int64_t total = 0;
  for (const auto& [name, t] : tensors_of(*model)) {
    const bool first = name.rfind("model.layers.1.", 0) != 0 && name != "lm_head.weight" && name != "model.norm.weight";
    const std::string file = first ? "model-00001-of-00002.safetensors" : "model-00002-of-00002.safetensors";
    (first ? shard1 : shard2)[name] = t;
    weight_map[name] = file;
    total += t.numel() * 4;
  }
  ASSERT_FALSE(shard1.empty());
  ASSERT_FALSE(shard2.empty());
  imlsdk::write_safetensors((dir.path / "model-00001-of-00002.safetensors").string(), shard1);
  imlsdk::write_safetensors((dir.path / "model-00002-of-00002.safetensors").string(), shard2);
  std::ofstream(dir.path / "model.safetensors.index.json")
      << Json{{"metadata", {{"total_size", total}}}, {"weight_map", weight_map}}.dump(2);
  auto loaded = load(dir.path);
  for (const auto& p : model->named_parameters())
    EXPECT_TRUE(at::equal(p.value(), loaded->named_parameters()[p.key()])) << p.key();
  EXPECT_TRUE(at::equal(logits_of(*model), logits_of(*loaded)));

  fs::remove(dir.path / "model-00002-of-00002.safetensors");
  expect_error(dir.path, {(dir.path / "model-00002-of-00002.safetensors").string(), "missing shard",
                          "model.safetensors.index.json"});
}

// bf16 (and fp16) checkpoints load into the fp32 parameters, each value the rounded original.
TEST(LlamaCheckpoint, HalfPrecisionCheckpointLoadsAsRoundedFp32) {
  auto model = small_model();
  for (auto dtype : {at::kBFloat16, at::kHalf}) {
    TempDir dir;
    Json cfg = model->hf_config();
    cfg["torch_dtype"] = dtype == at::kBFloat16 ? "bfloat16" : "float16";
    write_config(dir.path, cfg);
    std::map<std::string, Tensor> half;
    for (const auto& [name, t] : tensors_of(*model)) half[name] = t.to(dtype);
    imlsdk::write_safetensors((dir.path / "model.safetensors").string(), half);
    ASSERT_EQ(imlsdk::SafetensorsFile((dir.path / "model.safetensors").string()).view("lm_head.weight").scalar_type(), dtype);
    auto loaded = load(dir.path);
    int64_t compared = 0;
    double rounding = 0;
    for (const auto& p : loaded->named_parameters()) {
      EXPECT_EQ(p.value().scalar_type(), at::kFloat) << p.key();
      const Tensor want = model->named_parameters()[p.key()].to(dtype).to(at::kFloat);
      EXPECT_TRUE(at::equal(p.value(), want)) << p.key();
      rounding = std::max(rounding, max_abs_diff(p.value(), model->named_parameters()[p.key()]));
      ++compared;
    }
    EXPECT_EQ(compared, static_cast<int64_t>(model->named_parameters().size()));
    EXPECT_GT(rounding, 0.0) << "the copy was rounded";
    EXPECT_EQ(loaded->hf_config()["torch_dtype"], "float32") << "the parameters are fp32";
  }
}

}  // namespace
