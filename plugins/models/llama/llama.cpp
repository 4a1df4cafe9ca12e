// Llama as a causal language model, following HF Transformers 4.33's modeling_llama.py
// (LlamaForCausalLM). Parameter names equal HF's, so HF checkpoints load by name:
//
//   model.embed_tokens.weight                          [V, C]
//   model.layers.<i>.input_layernorm.weight            [C]      (RMSNorm)
//   model.layers.<i>.self_attn.q_proj.weight           [H*D, C]
//   model.layers.<i>.self_attn.{k,v}_proj.weight       [KVH*D, C] (grouped-query attention)
//   model.layers.<i>.self_attn.o_proj.weight           [C, H*D]
//   model.layers.<i>.post_attention_layernorm.weight   [C]
//   model.layers.<i>.mlp.{gate,up}_proj.weight         [I, C]   down(silu(gate(x)) * up(x))
//   model.layers.<i>.mlp.down_proj.weight              [C, I]
//   model.norm.weight                                  [C]
//   lm_head.weight                                     [V, C]   (absent with tie_word_embeddings:
//                                                               the head is embed_tokens')
//
// No biases; rotary embeddings (rotate-half) on the full head dim with base rope_theta. The KV
// cache holds the KVH un-repeated key/value heads; they are repeated to H heads for attention,
// as HF's repeat_kv. Activations flow as [N, C] rows (N = B*T) so that every linear layer is one
// GEMM. With ModelInput::output_hidden_states, forward() also returns HF's hidden states: the
// input of every layer, then the output after the final norm (num_layers + 1 tensors [B, T, C]).
#include <ATen/ATen.h>
#include <c10/core/InferenceMode.h>
#include <torch/nn/module.h>

#include <cmath>
#include <filesystem>
#include <stdexcept>
#include <string>
#include <utility>
#include <vector>

#include "imlsdk/checkpoint.hpp"
#include "imlsdk/layers.hpp"
#include "imlsdk/model.hpp"
#include "imlsdk/params.hpp"

namespace {

using imlsdk::Json;
using torch::Tensor;

// y + x, into y's buffer when both have one dtype (y is a GEMM output, ours to overwrite). Under
// training.precision=bf16 y is bf16 and x fp32: then y + x promotes, so that the residual stream
// stays fp32 as in HF's `hidden_states = attn_output + residual` under autocast.
Tensor residual(Tensor y, const Tensor& x) { return y.scalar_type() == x.scalar_type() ? y.add_(x) : y + x; }
namespace fs = std::filesystem;

// The settings of one model. Each key is declared once, with its default, in llama_schema()
// below; the plugin's params(), reading validated params, reading HF's config.json and
// hf_config() all follow from that declaration.
struct LlamaConfig {
  int64_t vocab_size = 0;
  int64_t hidden_size = 0;
  int64_t num_layers = 0;
  int64_t num_heads = 0;
  int64_t num_kv_heads = 0;  // 0 = num_heads (multi-head attention), as HF's None
  int64_t intermediate_size = 0;
  double rope_theta = 0;
  int64_t max_positions = 0;
  double rms_norm_eps = 0;
  bool tie_word_embeddings = false;
  double init_std = 0;
  std::string checkpoint;  // not architecture: the HF folder to load ("" = from scratch)

  int64_t head_dim() const { return hidden_size / num_heads; }

  // Throws std::invalid_argument naming `where` (a param key prefix or a config file).
  void validate(const std::string& where) const {
    auto require = [&](bool ok, const std::string& key, const std::string& what) {
      if (!ok) throw std::invalid_argument(where + key + " " + what);
    };
    require(hidden_size > 0, "hidden_size", "must be > 0");
    require(num_layers > 0, "num_layers", "must be > 0");
    require(num_heads > 0 && hidden_size % num_heads == 0, "num_heads",
            "must be > 0 and divide hidden_size (" + std::to_string(hidden_size) + ")");
    require(head_dim() % 2 == 0, "num_heads",
            "must give an even head dim for rotary embeddings, got hidden_size / num_heads = " +
                std::to_string(head_dim()));
    require(num_kv_heads > 0 && num_heads % num_kv_heads == 0, "num_key_value_heads",
            "must be > 0 and divide num_heads (" + std::to_string(num_heads) + "), got " +
                std::to_string(num_kv_heads));
    require(intermediate_size > 0, "intermediate_size", "must be > 0");
    require(rope_theta > 0, "rope_theta", "must be > 0");
    require(max_positions > 0, "max_position_embeddings", "must be > 0");
    require(rms_norm_eps > 0, "rms_norm_eps", "must be > 0");
    require(init_std >= 0, "init_std", "must be >= 0");
    require(vocab_size > 0, "vocab_size", "must be > 0");
  }
};

// The schema, plus the config.json keys a checkpoint must give: the others default as in HF's
// LlamaConfig (4.33), which our defaults for them equal.
struct LlamaSchema {
  imlsdk::Schema<LlamaConfig> schema;
  std::vector<std::string> required_hf_keys;
};

const LlamaSchema& llama_schema() {
  static const LlamaSchema s = [] {
    LlamaSchema n;
    // Config key, member, default, help, HF config.json key, must config.json give it?
    auto key = [&n](const char* name, auto member, auto default_value, const char* help,
                    const char* hf_key = "", bool hf_required = false) {
      n.schema.add(name, member, default_value, help, hf_key);
      if (hf_required) n.required_hf_keys.push_back(hf_key);
    };
    // The shape defaults are a small model; config.json must give each of them.
    key("hidden_size", &LlamaConfig::hidden_size, int64_t{512}, "model width C", "hidden_size",
        true);
    key("num_layers", &LlamaConfig::num_layers, int64_t{8}, "transformer blocks",
        "num_hidden_layers", true);
    key("num_heads", &LlamaConfig::num_heads, int64_t{8},
        "attention (query) heads (must divide hidden_size)", "num_attention_heads", true);
    key("num_key_value_heads", &LlamaConfig::num_kv_heads, int64_t{0},
        "key/value heads for grouped-query attention (must divide num_heads); 0 = num_heads",
        "num_key_value_heads");
    key("intermediate_size", &LlamaConfig::intermediate_size, int64_t{1376},
        "SwiGLU MLP width", "intermediate_size", true);
    // The rest default as HF's LlamaConfig.
    key("rope_theta", &LlamaConfig::rope_theta, 10000.0, "rotary frequency base", "rope_theta");
    key("max_position_embeddings", &LlamaConfig::max_positions, int64_t{2048},
        "longest sequence", "max_position_embeddings");
    key("rms_norm_eps", &LlamaConfig::rms_norm_eps, 1e-6, "RMSNorm epsilon", "rms_norm_eps");
    key("tie_word_embeddings", &LlamaConfig::tie_word_embeddings, false,
        "the head uses embed_tokens' weight (no lm_head parameter)", "tie_word_embeddings");
    key("vocab_size", &LlamaConfig::vocab_size, int64_t{0},
        "embedding rows; 0 = the tokenizer's vocabulary size", "vocab_size", true);
    key("init_std", &LlamaConfig::init_std, 0.02, "std of the N(0, std) weight init",
        "initializer_range");
    key("checkpoint", &LlamaConfig::checkpoint, std::string(),
        "HF directory (config.json + model.safetensors or shards) to load; its config.json gives "
        "the architecture, so shape keys set beside it are refused");
    return n;
  }();
  return s;
}

// ---- layers ---------------------------------------------------------------------------------

using imlsdk::Embedding;
using imlsdk::Linear;
using imlsdk::RMSNorm;

// What every layer needs to know about the current forward pass.
struct Step {
  int64_t B = 0, T = 0;
  Tensor bias;          // additive attention bias [B or 1, 1, T, T_past + T]
  Tensor position_ids;  // [B, T]
  const imlsdk::Rotary* rotary = nullptr;
  imlsdk::KVCache* cache = nullptr;
  imlsdk::TokenRows rows;  // the rows x holds: all B*T, or those forward_head_input_at needs
  bool last_only = false;  // this layer's output is wanted at the last position only: x's rows
                           // go in, [B, C] comes out (keys and values still from every row)
};

// [B, KVH, S, D] -> [B, KVH * n_rep, S, D], head h reading key/value head h / n_rep (HF's
// repeat_kv).
Tensor repeat_kv(const Tensor& x, int64_t n_rep) {
  if (n_rep == 1) return x;
  const int64_t B = x.size(0), KVH = x.size(1), S = x.size(2), D = x.size(3);
  return x.unsqueeze(2).expand({B, KVH, n_rep, S, D}).reshape({B, KVH * n_rep, S, D});
}

struct Attention : torch::nn::Module {
  int64_t heads, kv_heads, head_dim;
  std::shared_ptr<Linear> q_proj, k_proj, v_proj, o_proj;

  explicit Attention(const LlamaConfig& c)
      : heads(c.num_heads), kv_heads(c.num_kv_heads), head_dim(c.head_dim()) {
    const int64_t C = c.hidden_size;
    q_proj = register_module("q_proj", std::make_shared<Linear>(C, heads * head_dim, false));
    k_proj = register_module("k_proj", std::make_shared<Linear>(C, kv_heads * head_dim, false));
    v_proj = register_module("v_proj", std::make_shared<Linear>(C, kv_heads * head_dim, false));
    o_proj = register_module("o_proj", std::make_shared<Linear>(heads * head_dim, C, false));
  }

  // x [N, C] -> [N, C] (N = s.rows.rows(); attention itself runs on the [B, T] layout)
  Tensor forward(const Tensor& x, const Step& s, int64_t layer) {
    const int64_t B = s.B, T = s.T, D = head_dim;
    Tensor q = s.rows.unpack((*q_proj)(x)).view({B, T, heads, D}).transpose(1, 2);  // [B, H, T, D]
    Tensor k = s.rows.unpack((*k_proj)(x)).view({B, T, kv_heads, D}).transpose(1, 2);  // [B, KVH, T, D]
    Tensor v = s.rows.unpack((*v_proj)(x)).view({B, T, kv_heads, D}).transpose(1, 2);
    s.rotary->apply(q, k, s.position_ids);  // q, k become contiguous

    if (s.cache) {
      // The cache holds the un-repeated heads, as HF's past_key_values.
      Tensor& past_k = s.cache->k[layer];
      Tensor& past_v = s.cache->v[layer];
      k = past_k = imlsdk::kv_append(past_k, k);
      v = past_v = imlsdk::kv_append(past_v, v);
    }
    const int64_t n_rep = heads / kv_heads;
    const Tensor context = imlsdk::attention(s.last_only ? q.narrow(2, T - 1, 1) : q, repeat_kv(k, n_rep),
                                             repeat_kv(v, n_rep), s.last_only ? s.bias.narrow(2, T - 1, 1) : s.bias,
                                             1.0 / std::sqrt(static_cast<double>(D)));
    return (*o_proj)(s.rows.pack(context));
  }
};

struct MLP : torch::nn::Module {
  std::shared_ptr<Linear> gate_proj, up_proj, down_proj;
  explicit MLP(const LlamaConfig& c) {
    gate_proj = register_module(
        "gate_proj", std::make_shared<Linear>(c.hidden_size, c.intermediate_size, false));
    up_proj = register_module(
        "up_proj", std::make_shared<Linear>(c.hidden_size, c.intermediate_size, false));
    down_proj = register_module(
        "down_proj", std::make_shared<Linear>(c.intermediate_size, c.hidden_size, false));
  }
  Tensor forward(const Tensor& x) {
    return (*down_proj)(at::silu((*gate_proj)(x)).mul_((*up_proj)(x)));
  }
};

struct Layer : torch::nn::Module {
  std::shared_ptr<Attention> self_attn;
  std::shared_ptr<MLP> mlp;
  std::shared_ptr<RMSNorm> input_layernorm, post_attention_layernorm;

  explicit Layer(const LlamaConfig& c) {
    self_attn = register_module("self_attn", std::make_shared<Attention>(c));
    mlp = register_module("mlp", std::make_shared<MLP>(c));
    input_layernorm = register_module(
        "input_layernorm", std::make_shared<RMSNorm>(c.hidden_size, c.rms_norm_eps));
    post_attention_layernorm = register_module(
        "post_attention_layernorm", std::make_shared<RMSNorm>(c.hidden_size, c.rms_norm_eps));
  }

  // Sequential residuals: h = x + attn(norm1(x)); h + mlp(norm2(h)). The GEMM outputs are ours
  // to overwrite (their backward does not need them).
  Tensor forward(const Tensor& x, const Step& s, int64_t layer) {
    const Tensor h = residual(self_attn->forward((*input_layernorm)(x), s, layer),
                              s.last_only ? x.view({s.B, s.T, -1}).select(1, s.T - 1) : x);
    return residual(mlp->forward((*post_attention_layernorm)(h)), h);
  }
};

struct LlamaModel : torch::nn::Module {
  std::shared_ptr<Embedding> embed_tokens;
  std::vector<std::shared_ptr<Layer>> layers;
  std::shared_ptr<RMSNorm> norm;

  explicit LlamaModel(const LlamaConfig& c) {
    embed_tokens =
        register_module("embed_tokens", std::make_shared<Embedding>(c.vocab_size, c.hidden_size));
    auto list = register_module("layers", std::make_shared<torch::nn::Module>());
    for (int64_t i = 0; i < c.num_layers; ++i)
      layers.push_back(list->register_module(std::to_string(i), std::make_shared<Layer>(c)));
    norm = register_module("norm", std::make_shared<RMSNorm>(c.hidden_size, c.rms_norm_eps));
  }
};

class LlamaForCausalLM : public imlsdk::Model {
 public:
  // bos_id/eos_id: the special ids config.json records (a checkpoint's own values, which may be
  // lists or null, kept as they are).
  LlamaForCausalLM(const LlamaConfig& c, Json bos_id, Json eos_id)
      : config_(c),
        bos_id_(std::move(bos_id)),
        eos_id_(std::move(eos_id)),
        rotary_(c.head_dim(), c.rope_theta, c.max_positions) {
    model = register_module("model", std::make_shared<LlamaModel>(c));
    if (!c.tie_word_embeddings)
      lm_head = register_module("lm_head",
                                std::make_shared<Linear>(c.hidden_size, c.vocab_size, false));
    // Every parameter but the input embedding; a tied embedding is also the head, whose GEMM
    // it is counted for.
    for (const auto& p : named_parameters())
      if (p.key() != "model.embed_tokens.weight" || c.tie_word_embeddings)
        flop_params_ += p.value().numel();
  }

  // HF's _init_weights: N(0, initializer_range) for linear and embedding weights, RMSNorm 1
  // (set at construction). Draws from the global torch generator.
  void init_weights() {
    at::NoGradGuard no_grad;
    model->embed_tokens->weight.normal_(0, config_.init_std);
    for (auto& layer : model->layers) {
      for (auto& proj : {layer->self_attn->q_proj, layer->self_attn->k_proj,
                         layer->self_attn->v_proj, layer->self_attn->o_proj})
        proj->init(config_.init_std);
      for (auto& proj : {layer->mlp->gate_proj, layer->mlp->up_proj, layer->mlp->down_proj})
        proj->init(config_.init_std);
    }
    if (lm_head) lm_head->init(config_.init_std);
  }

  imlsdk::ModelOutput forward(const imlsdk::ModelInput& a) override {
    imlsdk::ModelOutput out;
    Tensor x = body(a, &out);  // [B * T, C], or [B, C] with last_logits_only
    const int64_t B = a.input_ids.size(0), T = a.input_ids.size(1);
    const Tensor& head = linear_head().weight;
    if (a.last_logits_only) {
      if (x.size(0) != B) x = x.view({B, T, -1}).select(1, T - 1);
      out.logits = at::mm(x, head.t()).view({B, 1, -1});
    } else {
      out.logits = at::mm(x, head.t()).view({B, T, -1});
    }
    return out;
  }

  // SDK 2.4: the head is lm_head (or the token embedding, tied), a linear map of the final norm's output.
  imlsdk::LinearHead linear_head() const override {
    return {lm_head ? lm_head->weight : model->embed_tokens->weight, 1.0};
  }
  // SDK 2.5: only the rows that are read or attended to go through the layers' projections,
  // norms and MLP (imlsdk::TokenRows; the padding's rows of the head input are zero).
  Tensor forward_head_input(const imlsdk::ModelInput& a) override { return forward_head_input_at(a, Tensor()); }
  Tensor forward_head_input_at(const imlsdk::ModelInput& a, const Tensor& rows) override {
    return imlsdk::TokenRows::head_input_at(a.input_ids, a.attention_mask, rows,
                                            [&](const imlsdk::TokenRows& keep) { return body(a, nullptr, keep); });
  }

  // The layers and the final norm: the head's input [N, C] on `rows` (default: all B * T); the
  // hidden states into `out` when asked for.
  Tensor body(const imlsdk::ModelInput& a, imlsdk::ModelOutput* out, imlsdk::TokenRows rows = {}) {
    if (!a.input_ids.defined())
      throw std::invalid_argument("llama: ModelInput.input_ids is not set");
    const int64_t B = a.input_ids.size(0), T = a.input_ids.size(1);
    const int64_t past = a.cache ? a.cache->length() : 0;
    if (past + T > config_.max_positions)
      throw std::invalid_argument("llama: sequence of " + std::to_string(past + T) +
                                  " positions exceeds max_position_embeddings " +
                                  std::to_string(config_.max_positions));
    const Tensor& w = model->embed_tokens->weight;
    if (rotary_.cos.device() != w.device()) {
      c10::InferenceMode normal_tensors(false);  // the tables outlive a generate() call
      rotary_.cos = rotary_.cos.to(w.device());
      rotary_.sin = rotary_.sin.to(w.device());
    }

    Step s;
    s.B = B;
    s.T = T;
    s.rotary = &rotary_;
    s.rows = std::move(rows);
    // Like HF's forward, positions default to past .. past+T-1 whatever the mask says
    // (greedy_generate passes left-padding-aware ones).
    s.position_ids = a.position_ids.defined()
                         ? a.position_ids
                         : imlsdk::default_position_ids(a.input_ids, Tensor(), past);
    // One bias for all layers and heads, broadcast over the heads of the [B, H, T, S] scores.
    s.bias = imlsdk::causal_attention_bias(a.attention_mask, T, past, w.scalar_type(), w.device());
    if (a.cache) {
      a.cache->k.resize(model->layers.size());
      a.cache->v.resize(model->layers.size());
      s.cache = a.cache;
    }

    // As HF: the input of every layer, then the final normed output. Views, no copies: no layer
    // writes into its input.
    auto keep = [&](const Tensor& x) {
      if (out && a.output_hidden_states) out->hidden_states.push_back(x.view({B, T, -1}));
    };
    Tensor x = (*model->embed_tokens)(s.rows.pack(a.input_ids.reshape({-1}).to(w.device())));  // [N, C]
    for (size_t i = 0; i < model->layers.size(); ++i) {
      keep(x);
      // Only the last position's logits wanted: the last layer runs its attention output and MLP
      // on that position alone (its keys and values still on every position, for the cache).
      s.last_only = a.last_logits_only && !s.rows.packed() && !(out && a.output_hidden_states) &&
                    i + 1 == model->layers.size();
      x = model->layers[i]->forward(x, s, static_cast<int64_t>(i));
    }
    x = (*model->norm)(x);
    keep(x);
    return x;
  }

  imlsdk::ModelInfo info() const override {
    imlsdk::ModelInfo i;
    i.family = imlsdk::ModelFamily::CausalLM;
    i.vocab_size = config_.vocab_size;
    i.max_positions = config_.max_positions;
    i.num_layers = config_.num_layers;
    i.hidden_size = config_.hidden_size;
    i.flop_params = flop_params_;
    return i;
  }

  // Every key HF 4.33's LlamaConfig takes, as its save_pretrained writes them.
  // SDK 2.3: forward writes nothing but its outputs (and the KVCache it is handed) and draws no
  // random numbers: batch parts may run side by side.
  bool concurrent_forward(bool) const override { return true; }

  Json hf_config() const override {
    Json j = {{"architectures", {"LlamaForCausalLM"}}, {"model_type", "llama"}};
    j.update(llama_schema().schema.write_hf(config_));
    j["hidden_act"] = "silu";
    j["pretraining_tp"] = 1;
    j["rope_scaling"] = nullptr;
    j["bos_token_id"] = bos_id_;
    j["eos_token_id"] = eos_id_;
    j["use_cache"] = true;
    j["torch_dtype"] = "float32";
    return j;
  }

  std::shared_ptr<LlamaModel> model;
  std::shared_ptr<Linear> lm_head;  // null with tie_word_embeddings

 private:
  LlamaConfig config_;
  Json bos_id_, eos_id_;
  int64_t flop_params_ = 0;
  imlsdk::Rotary rotary_;
};

// ---- checkpoints ----------------------------------------------------------------------------

struct LoadedConfig {
  LlamaConfig config;
  Json bos_id, eos_id;  // config.json's, as given (null if absent)
};

// Reads the architecture from the folder's HF config.json. Errors name the file and the key.
LoadedConfig read_llama_config(const fs::path& dir) {
  const Json j = imlsdk::read_hf_config(dir.string());
  const std::string file = (dir / "config.json").string();
  const std::string where = file + ": ";
  const Json model_type = j.value("model_type", Json());
  if (model_type != "llama")
    throw std::runtime_error(where + "model_type is " + model_type.dump() +
                             ", expected \"llama\"");
  imlsdk::require_hf_keys(j, dir.string(), llama_schema().required_hf_keys);
  // Options of HF's Llama this implementation does not have.
  auto refuse = [&](const char* key, const Json& fallback, const Json& supported,
                    const std::string& what) {
    const Json v = j.contains(key) ? j.at(key) : fallback;
    if (v != supported)
      throw std::runtime_error(where + key + " is " + v.dump() + "; only " + what +
                               " is supported");
  };
  refuse("hidden_act", Json("silu"), Json("silu"), "\"silu\"");
  refuse("attention_bias", Json(false), Json(false), "false (no biases)");
  refuse("rope_scaling", Json(nullptr), Json(nullptr), "null (no RoPE scaling)");
  refuse("pretraining_tp", Json(1), Json(1), "1");

  LoadedConfig out;
  LlamaConfig& c = out.config;
  c = llama_schema().schema.read_hf(j, file);
  if (c.num_kv_heads == 0) c.num_kv_heads = c.num_heads;  // HF: None = num_attention_heads
  c.validate(where);
  out.bos_id = j.value("bos_token_id", Json());
  out.eos_id = j.value("eos_token_id", Json());
  return out;
}

// ---- the plugin -----------------------------------------------------------------------------

class Llama : public imlsdk::ModelPlugin {
 public:
  std::vector<imlsdk::ParamSpec> params() const override { return llama_schema().schema.specs(); }

  std::string default_task() const override { return "causal_lm"; }
  std::vector<std::string> hf_model_types() const override { return {"llama"}; }

  std::string checkpoint_dir(const Json& p, const std::string& base_dir) const override {
    const std::string checkpoint = llama_schema().schema.read(p).checkpoint;
    if (checkpoint.empty()) return "";
    fs::path dir(checkpoint);
    if (dir.is_relative() && !base_dir.empty()) dir = fs::path(base_dir) / dir;
    return dir.string();
  }

  std::shared_ptr<imlsdk::Model> create(const Json& p,
                                        const imlsdk::ModelContext& ctx) const override {
    const std::string dir = checkpoint_dir(p, ctx.base_dir);
    if (!dir.empty()) {
      // A shape key beside a checkpoint would be silently overridden by its config.json.
      for (const auto& spec : llama_schema().schema.specs())
        if (spec.key != "checkpoint" && p.contains(spec.key) && p.at(spec.key) != spec.default_value)
          throw std::invalid_argument("llama: '" + spec.key + "' is set together with checkpoint " +
                                      dir + ", whose config.json gives the architecture; remove '" +
                                      spec.key + "'");
      return load(dir, ctx);
    }

    LlamaConfig c = llama_schema().schema.read(p);
    if (c.num_kv_heads == 0) c.num_kv_heads = c.num_heads;
    if (c.vocab_size == 0) c.vocab_size = ctx.vocab_size;
    if (c.vocab_size <= 0)
      throw std::invalid_argument("llama: vocab_size is 0 and no tokenizer gives one; set it");
    if (c.vocab_size < ctx.vocab_size)
      throw std::invalid_argument("llama: vocab_size " + std::to_string(c.vocab_size) +
                                  " is smaller than the tokenizer's " +
                                  std::to_string(ctx.vocab_size));
    c.validate("llama: ");
    // As pythia: a tokenizer without BOS records its EOS as bos_token_id.
    auto model = std::make_shared<LlamaForCausalLM>(c, ctx.bos_id >= 0 ? ctx.bos_id : ctx.eos_id,
                                                    ctx.eos_id);
    model->init_weights();
    return model;
  }

 private:
  static std::shared_ptr<imlsdk::Model> load(const fs::path& dir, const imlsdk::ModelContext& ctx) {
    if (!fs::is_directory(dir))
      throw std::runtime_error("llama: checkpoint " + dir.string() + " is not a directory");
    const LoadedConfig lc = read_llama_config(dir);
    if (lc.config.vocab_size < ctx.vocab_size)
      throw std::runtime_error((dir / "config.json").string() + ": vocab_size " +
                               std::to_string(lc.config.vocab_size) +
                               " is smaller than the tokenizer's " + std::to_string(ctx.vocab_size));
    // The checkpoint's own special ids, written back as its config.json gives them.
    auto model = std::make_shared<LlamaForCausalLM>(lc.config, lc.bos_id, lc.eos_id);
    // Older HF checkpoints carry the rotary inv_freq buffers; we compute those. bf16/fp16
    // tensors are converted to the fp32 parameters.
    imlsdk::load_hf_weights(*model, dir.string(), {{".rotary_emb.inv_freq"}});
    return model;
  }
};

}  // namespace

IMLSDK_PLUGIN(Llama, "llama", "2.5.0", "Llama causal LM (HF-compatible weights, grouped-query attention)")
