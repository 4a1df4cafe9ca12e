// GPT-NeoX (the Pythia models) as a causal language model, following HF Transformers'
// modeling_gpt_neox.py. Parameter names equal HF's, so HF checkpoints load by name:
//
//   gpt_neox.embed_in.weight                                  [V, C]
//   gpt_neox.layers.<i>.input_layernorm.{weight,bias}         [C]
//   gpt_neox.layers.<i>.attention.query_key_value.{weight,bias} [3C, C]: rows per head [q_h,k_h,v_h]
//   gpt_neox.layers.<i>.attention.dense.{weight,bias}         [C, C]
//   gpt_neox.layers.<i>.post_attention_layernorm.{weight,bias}
//   gpt_neox.layers.<i>.mlp.dense_h_to_4h.{weight,bias}       [4C, C]
//   gpt_neox.layers.<i>.mlp.dense_4h_to_h.{weight,bias}       [C, 4C]
//   gpt_neox.final_layer_norm.{weight,bias}
//   embed_out.weight                                          [V, C] (not tied to embed_in)
//
// Activations flow as [N, C] rows (N = B*T) so that every linear layer is one GEMM. With
// ModelInput::output_hidden_states, forward() also returns HF's hidden states: the input of every
// layer, then the output after final_layer_norm (num_layers + 1 tensors [B, T, C]).
#include <ATen/ATen.h>
#include <c10/core/InferenceMode.h>
#include <torch/nn/module.h>

#include <cmath>
#include <filesystem>
#include <stdexcept>
#include <string>
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

// The settings of one model. Each key is declared once, with its default, in neox_schema() below;
// the plugin's params(), reading validated params, reading HF's config.json and hf_config() all
// follow from that declaration.
struct NeoXConfig {
  int64_t vocab_size = 0;
  int64_t hidden_size = 0;
  int64_t num_layers = 0;
  int64_t num_heads = 0;
  int64_t intermediate_size = 0;
  double rotary_pct = 0;
  double rotary_emb_base = 0;
  int64_t max_positions = 0;
  double layer_norm_eps = 0;
  bool use_parallel_residual = false;
  double init_std = 0;
  std::string checkpoint;  // not architecture: the HF folder to load ("" = from scratch)

  int64_t head_size() const { return hidden_size / num_heads; }
  int64_t rotary_dims() const { return static_cast<int64_t>(head_size() * rotary_pct); }

  // Throws std::invalid_argument naming `where` (a param key prefix or a config file).
  void validate(const std::string& where) const {
    auto require = [&](bool ok, const std::string& key, const std::string& what) {
      if (!ok) throw std::invalid_argument(where + key + " " + what);
    };
    require(hidden_size > 0, "hidden_size", "must be > 0");
    require(num_layers > 0, "num_layers", "must be > 0");
    require(num_heads > 0 && hidden_size % num_heads == 0, "num_heads",
            "must be > 0 and divide hidden_size (" + std::to_string(hidden_size) + ")");
    require(intermediate_size > 0, "intermediate_size", "must be > 0");
    require(rotary_pct > 0 && rotary_pct <= 1, "rotary_pct", "must be in (0, 1]");
    require(rotary_dims() >= 2 && rotary_dims() % 2 == 0, "rotary_pct",
            "must give an even number (>= 2) of rotary dims per head, got " +
                std::to_string(rotary_dims()));
    require(rotary_emb_base > 0, "rotary_emb_base", "must be > 0");
    require(max_positions > 0, "max_position_embeddings", "must be > 0");
    require(layer_norm_eps > 0, "layer_norm_eps", "must be > 0");
    require(init_std >= 0, "init_std", "must be >= 0");
    require(vocab_size > 0, "vocab_size", "must be > 0");
  }
};

// The schema, plus the config.json keys a checkpoint must give: the others default as in HF's
// GPTNeoXConfig, which our defaults equal (older configs, e.g. gpt-neox-20b's, omit some).
struct NeoXSchema {
  imlsdk::Schema<NeoXConfig> schema;
  std::vector<std::string> required_hf_keys;
};

const NeoXSchema& neox_schema() {
  static const NeoXSchema s = [] {
    NeoXSchema n;
    // Config key, member, default, help, HF config.json key, must config.json give it?
    auto key = [&n](const char* name, auto member, auto default_value, const char* help,
                    const char* hf_key = "", bool hf_required = false) {
      n.schema.add(name, member, default_value, help, hf_key);
      if (hf_required) n.required_hf_keys.push_back(hf_key);
    };
    key("hidden_size", &NeoXConfig::hidden_size, int64_t{512}, "model width C", "hidden_size",
        true);
    key("num_layers", &NeoXConfig::num_layers, int64_t{6}, "transformer blocks",
        "num_hidden_layers", true);
    key("num_heads", &NeoXConfig::num_heads, int64_t{8},
        "attention heads (must divide hidden_size)", "num_attention_heads", true);
    key("intermediate_size", &NeoXConfig::intermediate_size, int64_t{2048}, "MLP width",
        "intermediate_size", true);
    key("rotary_pct", &NeoXConfig::rotary_pct, 0.25, "fraction of each head's dims that get rotary",
        "rotary_pct");
    key("rotary_emb_base", &NeoXConfig::rotary_emb_base, 10000.0, "rotary frequency base",
        "rotary_emb_base");
    key("max_position_embeddings", &NeoXConfig::max_positions, int64_t{2048}, "longest sequence",
        "max_position_embeddings", true);
    key("layer_norm_eps", &NeoXConfig::layer_norm_eps, 1e-5, "LayerNorm epsilon", "layer_norm_eps");
    key("use_parallel_residual", &NeoXConfig::use_parallel_residual, true,
        "x + attn(ln1(x)) + mlp(ln2(x)) (false: sequential blocks)", "use_parallel_residual");
    key("vocab_size", &NeoXConfig::vocab_size, int64_t{0},
        "embedding rows; 0 = the tokenizer's vocabulary size", "vocab_size", true);
    key("init_std", &NeoXConfig::init_std, 0.02, "std of the N(0, std) weight init",
        "initializer_range");
    key("checkpoint", &NeoXConfig::checkpoint, std::string(),
        "HF directory (config.json + model.safetensors or shards) to load; its config.json gives "
        "the architecture, so shape keys set beside it are refused");
    return n;
  }();
  return s;
}

// ---- layers ---------------------------------------------------------------------------------

using imlsdk::Embedding;
using imlsdk::LayerNorm;
using imlsdk::Linear;

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

struct Attention : torch::nn::Module {
  int64_t heads, head_size;
  std::shared_ptr<Linear> query_key_value, dense;

  explicit Attention(const NeoXConfig& c) : heads(c.num_heads), head_size(c.head_size()) {
    query_key_value = register_module("query_key_value",
                                      std::make_shared<Linear>(c.hidden_size, 3 * c.hidden_size));
    dense = register_module("dense", std::make_shared<Linear>(c.hidden_size, c.hidden_size));
  }

  // x [N, C] -> [N, C] (N = s.rows.rows(); attention itself runs on the [B, T] layout)
  Tensor forward(const Tensor& x, const Step& s, int64_t layer) {
    const int64_t B = s.B, T = s.T, H = heads, D = head_size;
    // The fused projection's output columns are per head [q_h, k_h, v_h].
    auto qkv = s.rows.unpack((*query_key_value)(x)).view({B, T, H, 3 * D}).split(D, -1);
    Tensor q = qkv[0].transpose(1, 2);  // [B, H, T, D] views
    Tensor k = qkv[1].transpose(1, 2);
    Tensor v = qkv[2].transpose(1, 2);
    s.rotary->apply(q, k, s.position_ids);  // q, k become contiguous [B, H, T, D]

    if (s.cache) {
      Tensor& past_k = s.cache->k[layer];
      Tensor& past_v = s.cache->v[layer];
      k = past_k = imlsdk::kv_append(past_k, k);
      v = past_v = imlsdk::kv_append(past_v, v);
    }
    if (s.last_only) return (*dense)(imlsdk::attention(q.narrow(2, T - 1, 1), k, v, s.bias.narrow(2, T - 1, 1),
                                                        1.0 / std::sqrt(static_cast<double>(D))));
    const Tensor context = imlsdk::attention(q, k, v, s.bias, 1.0 / std::sqrt(static_cast<double>(D)));
    return (*dense)(s.rows.pack(context));
  }
};

struct MLP : torch::nn::Module {
  std::shared_ptr<Linear> dense_h_to_4h, dense_4h_to_h;
  explicit MLP(const NeoXConfig& c) {
    dense_h_to_4h = register_module("dense_h_to_4h",
                                    std::make_shared<Linear>(c.hidden_size, c.intermediate_size));
    dense_4h_to_h = register_module("dense_4h_to_h",
                                    std::make_shared<Linear>(c.intermediate_size, c.hidden_size));
  }
  Tensor forward(const Tensor& x) {
    return (*dense_4h_to_h)(imlsdk::gelu((*dense_h_to_4h)(x)));  // exact GELU
  }
};

struct Layer : torch::nn::Module {
  bool parallel_residual;
  std::shared_ptr<LayerNorm> input_layernorm, post_attention_layernorm;
  std::shared_ptr<Attention> attention;
  std::shared_ptr<MLP> mlp;

  explicit Layer(const NeoXConfig& c) : parallel_residual(c.use_parallel_residual) {
    input_layernorm = register_module(
        "input_layernorm", std::make_shared<LayerNorm>(c.hidden_size, c.layer_norm_eps));
    post_attention_layernorm = register_module(
        "post_attention_layernorm", std::make_shared<LayerNorm>(c.hidden_size, c.layer_norm_eps));
    attention = register_module("attention", std::make_shared<Attention>(c));
    mlp = register_module("mlp", std::make_shared<MLP>(c));
  }

  Tensor forward(const Tensor& in, const Step& s, int64_t layer) {
    Tensor attn_out = attention->forward((*input_layernorm)(in), s, layer);
    const Tensor x = s.last_only ? in.view({s.B, s.T, -1}).select(1, s.T - 1) : in;
    if (parallel_residual) {
      // x + attn(ln1(x)) + mlp(ln2(x)), summed in HF's order; the GEMM outputs are ours to
      // overwrite (their backward does not need them).
      return residual(mlp->forward((*post_attention_layernorm)(x)).add_(attn_out), x);
    }
    const Tensor h = residual(attn_out, x);
    return residual(mlp->forward((*post_attention_layernorm)(h)), h);
  }
};

struct GPTNeoXModel : torch::nn::Module {
  std::shared_ptr<Embedding> embed_in;
  std::vector<std::shared_ptr<Layer>> layers;
  std::shared_ptr<LayerNorm> final_layer_norm;

  explicit GPTNeoXModel(const NeoXConfig& c) {
    embed_in = register_module("embed_in", std::make_shared<Embedding>(c.vocab_size, c.hidden_size));
    auto list = register_module("layers", std::make_shared<torch::nn::Module>());
    for (int64_t i = 0; i < c.num_layers; ++i)
      layers.push_back(list->register_module(std::to_string(i), std::make_shared<Layer>(c)));
    final_layer_norm = register_module(
        "final_layer_norm", std::make_shared<LayerNorm>(c.hidden_size, c.layer_norm_eps));
  }
};

class GPTNeoXForCausalLM : public imlsdk::Model {
 public:
  GPTNeoXForCausalLM(const NeoXConfig& c, int64_t bos_id, int64_t eos_id)
      : config_(c),
        bos_id_(bos_id),
        eos_id_(eos_id),
        rotary_(c.rotary_dims(), c.rotary_emb_base, c.max_positions) {
    gpt_neox = register_module("gpt_neox", std::make_shared<GPTNeoXModel>(c));
    embed_out = register_module("embed_out",
                                std::make_shared<Linear>(c.hidden_size, c.vocab_size, false));
    for (const auto& p : named_parameters())
      if (p.key() != "gpt_neox.embed_in.weight") flop_params_ += p.value().numel();
  }

  // HF's _init_weights: N(0, initializer_range) for linear and embedding weights, zero biases,
  // LayerNorm 1/0. Draws from the global torch generator.
  void init_weights() {
    at::NoGradGuard no_grad;
    gpt_neox->embed_in->weight.normal_(0, config_.init_std);
    for (auto& layer : gpt_neox->layers) {
      layer->attention->query_key_value->init(config_.init_std);
      layer->attention->dense->init(config_.init_std);
      layer->mlp->dense_h_to_4h->init(config_.init_std);
      layer->mlp->dense_4h_to_h->init(config_.init_std);
    }
    embed_out->init(config_.init_std);
  }

  // HF 4.33's GPTNeoXRotaryEmbedding keeps inv_freq = 1 / base^(2i / rot_dims) as a persistent
  // buffer: save_pretrained writes it and from_pretrained reports it missing when a folder lacks
  // it. It is registered after the weights are in place (a checkpoint of a later HF version may
  // lack it; the loader ignores a stored copy), so that our saved folders carry it too. The
  // rotary tables themselves are computed (imlsdk::Rotary), not read from it.
  void add_hf_buffers() {
    const int64_t d = config_.rotary_dims();
    const Tensor inv_freq =
        at::reciprocal(at::pow(config_.rotary_emb_base, at::arange(0, d, 2, at::kFloat).div_(d)));
    for (auto& layer : gpt_neox->layers) {
      auto rotary = layer->attention->register_module("rotary_emb", std::make_shared<torch::nn::Module>());
      rotary->register_buffer("inv_freq", inv_freq.clone());
    }
  }

  imlsdk::ModelOutput forward(const imlsdk::ModelInput& a) override {
    imlsdk::ModelOutput out;
    Tensor x = body(a, &out);  // [B * T, C], or [B, C] with last_logits_only
    const int64_t B = a.input_ids.size(0), T = a.input_ids.size(1);
    if (a.last_logits_only) {
      if (x.size(0) != B) x = x.view({B, T, -1}).select(1, T - 1);
      out.logits = (*embed_out)(x).view({B, 1, -1});
    } else {
      out.logits = (*embed_out)(x).view({B, T, -1});
    }
    return out;
  }

  // SDK 2.4: the head is embed_out, a linear map of the final layer norm's output.
  imlsdk::LinearHead linear_head() const override { return {embed_out->weight, 1.0}; }
  // SDK 2.5: only the rows that are read or attended to go through the blocks' projections,
  // norms and MLP (imlsdk::TokenRows; the padding's rows of the head input are zero).
  Tensor forward_head_input(const imlsdk::ModelInput& a) override { return forward_head_input_at(a, Tensor()); }
  Tensor forward_head_input_at(const imlsdk::ModelInput& a, const Tensor& rows) override {
    return imlsdk::TokenRows::head_input_at(a.input_ids, a.attention_mask, rows,
                                            [&](const imlsdk::TokenRows& keep) { return body(a, nullptr, keep); });
  }

  // The blocks and the final layer norm: the head's input [N, C] on `rows` (default: all B * T);
  // the hidden states into `out` when asked for.
  Tensor body(const imlsdk::ModelInput& a, imlsdk::ModelOutput* out, imlsdk::TokenRows rows = {}) {
    if (!a.input_ids.defined())
      throw std::invalid_argument("pythia: ModelInput.input_ids is not set");
    const int64_t B = a.input_ids.size(0), T = a.input_ids.size(1);
    const int64_t past = a.cache ? a.cache->length() : 0;
    if (past + T > config_.max_positions)
      throw std::invalid_argument("pythia: sequence of " + std::to_string(past + T) +
                                  " positions exceeds max_position_embeddings " +
                                  std::to_string(config_.max_positions));
    const Tensor& w = gpt_neox->embed_in->weight;
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
      a.cache->k.resize(gpt_neox->layers.size());
      a.cache->v.resize(gpt_neox->layers.size());
      s.cache = a.cache;
    }

    // As HF: the input of every block, then the final normed output. Views, no copies: no layer
    // writes into its input.
    auto keep = [&](const Tensor& x) {
      if (out && a.output_hidden_states) out->hidden_states.push_back(x.view({B, T, -1}));
    };
    Tensor x = (*gpt_neox->embed_in)(s.rows.pack(a.input_ids.reshape({-1}).to(w.device())));  // [N, C]
    for (size_t i = 0; i < gpt_neox->layers.size(); ++i) {
      keep(x);
      // Only the last position's logits wanted: the last block runs its attention output and MLP
      // on that position alone (its keys and values still on every position, for the cache).
      s.last_only = a.last_logits_only && !s.rows.packed() && !(out && a.output_hidden_states) &&
                    i + 1 == gpt_neox->layers.size();
      x = gpt_neox->layers[i]->forward(x, s, static_cast<int64_t>(i));
    }
    x = (*gpt_neox->final_layer_norm)(x);
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
    i.flop_params = flop_params_;  // every parameter but the input embedding
    return i;
  }

  // SDK 2.3: forward writes nothing but its outputs (and the KVCache it is handed) and draws no
  // random numbers: batch parts may run side by side.
  bool concurrent_forward(bool) const override { return true; }

  Json hf_config() const override {
    Json j = {{"architectures", {"GPTNeoXForCausalLM"}}, {"model_type", "gpt_neox"}};
    j.update(neox_schema().schema.write_hf(config_));
    // HF writes an integral base as an int (10000).
    if (config_.rotary_emb_base == std::floor(config_.rotary_emb_base))
      j["rotary_emb_base"] = static_cast<int64_t>(config_.rotary_emb_base);
    j["hidden_act"] = "gelu";
    j["tie_word_embeddings"] = false;
    j["attention_dropout"] = 0.0;
    j["hidden_dropout"] = 0.0;
    j["rope_scaling"] = nullptr;
    j["bos_token_id"] = bos_id_ >= 0 ? bos_id_ : eos_id_;
    j["eos_token_id"] = eos_id_;
    j["use_cache"] = true;
    j["torch_dtype"] = "float32";
    return j;
  }

  std::shared_ptr<GPTNeoXModel> gpt_neox;
  std::shared_ptr<Linear> embed_out;

 private:
  NeoXConfig config_;
  int64_t bos_id_, eos_id_;
  int64_t flop_params_ = 0;
  imlsdk::Rotary rotary_;
};

// ---- checkpoints ----------------------------------------------------------------------------

// Reads the architecture from the folder's HF config.json. Errors name the file and the key.
NeoXConfig read_neox_config(const fs::path& dir) {
  const Json j = imlsdk::read_hf_config(dir.string());
  const std::string file = (dir / "config.json").string();
  const std::string where = file + ": ";
  const Json model_type = j.value("model_type", Json());
  if (model_type != "gpt_neox")
    throw std::runtime_error(where + "model_type is " + model_type.dump() +
                             ", expected \"gpt_neox\"");
  imlsdk::require_hf_keys(j, dir.string(), neox_schema().required_hf_keys);
  // Options of HF's GPT-NeoX this implementation does not have.
  if (j.value("hidden_act", Json("gelu")) != "gelu")
    throw std::runtime_error(where + "only hidden_act 'gelu' is supported");
  if (j.value("tie_word_embeddings", Json(false)) != false)
    throw std::runtime_error(where + "tie_word_embeddings true is not supported");
  if (j.value("attention_bias", Json(true)) != true)
    throw std::runtime_error(where + "attention_bias false is not supported");
  if (j.contains("rope_scaling") && !j.at("rope_scaling").is_null())
    throw std::runtime_error(where + "rope_scaling is not supported");

  NeoXConfig c = neox_schema().schema.read_hf(j, file);
  c.validate(where);
  return c;
}

// ---- the plugin -----------------------------------------------------------------------------

class Pythia : public imlsdk::ModelPlugin {
 public:
  std::vector<imlsdk::ParamSpec> params() const override { return neox_schema().schema.specs(); }

  std::string default_task() const override { return "causal_lm"; }
  std::vector<std::string> hf_model_types() const override { return {"gpt_neox"}; }

  std::string checkpoint_dir(const Json& p, const std::string& base_dir) const override {
    const std::string checkpoint = neox_schema().schema.read(p).checkpoint;
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
      for (const auto& spec : neox_schema().schema.specs())
        if (spec.key != "checkpoint" && p.contains(spec.key) && p.at(spec.key) != spec.default_value)
          throw std::invalid_argument("pythia: '" + spec.key + "' is set together with checkpoint " + dir +
                                      ", whose config.json gives the architecture; remove '" + spec.key + "'");
      return load(dir, ctx);
    }

    NeoXConfig c = neox_schema().schema.read(p);
    if (c.vocab_size == 0) c.vocab_size = ctx.vocab_size;
    if (c.vocab_size <= 0)
      throw std::invalid_argument("pythia: vocab_size is 0 and no tokenizer gives one; set it");
    if (c.vocab_size < ctx.vocab_size)
      throw std::invalid_argument("pythia: vocab_size " + std::to_string(c.vocab_size) +
                                  " is smaller than the tokenizer's " +
                                  std::to_string(ctx.vocab_size));
    c.validate("pythia: ");
    auto model = std::make_shared<GPTNeoXForCausalLM>(c, ctx.bos_id, ctx.eos_id);
    model->init_weights();
    model->add_hf_buffers();
    return model;
  }

 private:
  static std::shared_ptr<imlsdk::Model> load(const fs::path& dir, const imlsdk::ModelContext& ctx) {
    if (!fs::is_directory(dir))
      throw std::runtime_error("pythia: checkpoint " + dir.string() + " is not a directory");
    const NeoXConfig c = read_neox_config(dir);
    if (c.vocab_size < ctx.vocab_size)
      throw std::runtime_error((dir / "config.json").string() + ": vocab_size " +
                               std::to_string(c.vocab_size) + " is smaller than the tokenizer's " +
                               std::to_string(ctx.vocab_size));
    auto model = std::make_shared<GPTNeoXForCausalLM>(c, ctx.bos_id, ctx.eos_id);
    // HF checkpoints may carry rotary tables and old causal-mask buffers; we compute those.
    imlsdk::load_hf_weights(*model, dir.string(),
                            {{".rotary_emb.inv_freq", ".attention.bias", ".attention.masked_bias"}});
    model->add_hf_buffers();
    return model;
  }
};

}  // namespace

IMLSDK_PLUGIN(Pythia, "pythia", "2.6.0", "GPT-NeoX / Pythia causal LM (HF-compatible weights)")
