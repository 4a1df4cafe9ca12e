// GPT-Neo as a causal language model, following HF Transformers 4.33's modeling_gpt_neo.py
// (GPTNeoForCausalLM). Parameter names equal HF's, so HF checkpoints load by name:
//
//   transformer.wte.weight                                   [V, C] (also the LM head: tied)
//   transformer.wpe.weight                                   [P, C] learned absolute positions
//   transformer.h.<i>.ln_1.{weight,bias}                     [C]
//   transformer.h.<i>.attn.attention.{q,k,v}_proj.weight     [C, C] (no bias)
//   transformer.h.<i>.attn.attention.out_proj.{weight,bias}  [C, C]
//   transformer.h.<i>.ln_2.{weight,bias}
//   transformer.h.<i>.mlp.c_fc.{weight,bias}                 [I, C]
//   transformer.h.<i>.mlp.c_proj.{weight,bias}               [C, I]
//   transformer.ln_f.{weight,bias}
//
// What sets GPT-Neo apart from GPT-2/NeoX, as HF implements it:
// - each layer's attention is "global" (causal) or "local" (causal, and query i sees only keys
//   i-window_size+1 .. i, by index in the sequence incl. the cached past), as config.json's
//   attention_types expands ([[["global","local"], 12]] = 24 layers alternating);
// - attention scores are NOT scaled by 1/sqrt(head_dim);
// - scores and softmax are computed in fp32 whatever the weights' dtype (here the probs x values
//   product too; HF does that one in the values' dtype);
// - the LM head is the token embedding (lm_head.weight = transformer.wte.weight).
//
// Activations flow as [N, C] rows (N = B*T) so that every linear layer is one GEMM. With
// ModelInput::output_hidden_states, forward() also returns HF's hidden states: the input of every
// block, then the output of ln_f (num_layers + 1 tensors [B, T, C]).
#include <ATen/ATen.h>
#include <torch/nn/module.h>

#include <filesystem>
#include <limits>
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

// The MLP activations of HF's ACT2FN this plugin has (the cheap ones).
enum class Activation { GeluNew, Gelu, Relu, Silu };
const std::vector<std::string> kActivations = {"gelu_new", "gelu", "relu", "silu"};

// The settings of one model. Each key is declared once, with its default, in neo_schema() below;
// params(), reading validated params, reading HF's config.json and hf_config() follow from it.
// attention_types is the exception: HF nests it ([[kinds, repeats], ...]), the config gives a
// flat pattern; both become `layer_kinds` (one per layer).
struct NeoConfig {
  int64_t vocab_size = 0;
  int64_t hidden_size = 0;
  int64_t num_layers = 0;
  int64_t num_heads = 0;
  int64_t intermediate_size = 0;  // 0 = 4 * hidden_size (HF: null)
  int64_t window_size = 0;
  int64_t max_positions = 0;
  double layer_norm_eps = 0;
  double init_std = 0;
  std::string activation;
  std::vector<std::string> attention_pattern;  // config key: kinds repeated over the layers
  std::string checkpoint;  // not architecture: the HF folder to load ("" = from scratch)

  // Derived: one kind per layer, and HF's nested form (written back to config.json as read).
  std::vector<std::string> layer_kinds;
  Json attention_types;

  int64_t head_size() const { return hidden_size / num_heads; }
  int64_t inner_size() const { return intermediate_size > 0 ? intermediate_size : 4 * hidden_size; }
  bool has_local() const {
    for (const auto& k : layer_kinds)
      if (k == "local") return true;
    return false;
  }
  Activation act() const {
    for (size_t i = 0; i < kActivations.size(); ++i)
      if (activation == kActivations[i]) return static_cast<Activation>(i);
    throw std::logic_error("gpt_neo: unvalidated activation " + activation);
  }

  // Throws std::invalid_argument naming `where` (a prefix or a config file) and the key under
  // the config's names, or, with `hf`, under config.json's.
  void validate(const std::string& where, bool hf) const {
    auto require = [&](bool ok, const char* ours, const char* theirs, const std::string& what) {
      if (!ok) throw std::invalid_argument(where + (hf ? theirs : ours) + " " + what);
    };
    require(hidden_size > 0, "hidden_size", "hidden_size", "must be > 0");
    require(num_layers > 0, "num_layers", "num_layers", "must be > 0");
    require(num_heads > 0 && hidden_size % num_heads == 0, "num_heads", "num_heads",
            "must be > 0 and divide hidden_size (" + std::to_string(hidden_size) + ")");
    require(intermediate_size >= 0, "intermediate_size", "intermediate_size",
            "must be >= 0 (0 = 4 * hidden_size)");
    require(window_size > 0, "window_size", "window_size", "must be > 0");
    require(max_positions > 0, "max_position_embeddings", "max_position_embeddings", "must be > 0");
    require(layer_norm_eps > 0, "layer_norm_eps", "layer_norm_epsilon", "must be > 0");
    require(init_std >= 0, "init_std", "initializer_range", "must be >= 0");
    require(vocab_size > 0, "vocab_size", "vocab_size", "must be > 0");
    bool known = false;
    for (const auto& a : kActivations) known = known || a == activation;
    require(known, "activation_function", "activation_function",
            "'" + activation + "' is not supported (gelu_new, gelu, relu or silu)");
    require(static_cast<int64_t>(layer_kinds.size()) == num_layers, "attention_pattern",
            "attention_types",
            "gives " + std::to_string(layer_kinds.size()) + " layers, num_layers is " +
                std::to_string(num_layers));
  }
};

// The schema, plus the config.json keys a checkpoint must give: the shape keys, whose HF defaults
// (GPTNeoConfig's 1.3B shape) differ from ours; the others default as in HF.
struct NeoSchema {
  imlsdk::Schema<NeoConfig> schema;
  std::vector<std::string> required_hf_keys;
};

const NeoSchema& neo_schema() {
  static const NeoSchema s = [] {
    NeoSchema n;
    // Config key, member, default, help, HF config.json key, must config.json give it?
    auto key = [&n](const char* name, auto member, auto default_value, const char* help,
                    const char* hf_key = "", bool hf_required = false) {
      n.schema.add(name, member, default_value, help, hf_key);
      if (hf_required) n.required_hf_keys.push_back(hf_key);
    };
    // Defaults: GPT-Neo 125M's shape.
    key("hidden_size", &NeoConfig::hidden_size, int64_t{768}, "model width C", "hidden_size", true);
    key("num_layers", &NeoConfig::num_layers, int64_t{12}, "transformer blocks", "num_layers", true);
    key("num_heads", &NeoConfig::num_heads, int64_t{12},
        "attention heads (must divide hidden_size)", "num_heads", true);
    key("intermediate_size", &NeoConfig::intermediate_size, int64_t{0},
        "MLP width; 0 = 4 * hidden_size", "intermediate_size");
    key("attention_pattern", &NeoConfig::attention_pattern,
        std::vector<std::string>{"global", "local"},
        "attention kind (global|local) of each layer, the list repeated over the layers "
        "(num_layers must be a multiple of its length): [global, local] alternates; config.json "
        "writes it as attention_types [[pattern, num_layers / length]]");
    key("window_size", &NeoConfig::window_size, int64_t{256},
        "keys a local-attention query sees (itself and the window_size - 1 before it)",
        "window_size");
    key("max_position_embeddings", &NeoConfig::max_positions, int64_t{2048},
        "longest sequence (rows of the position embedding)", "max_position_embeddings", true);
    key("layer_norm_eps", &NeoConfig::layer_norm_eps, 1e-5, "LayerNorm epsilon",
        "layer_norm_epsilon");
    key("activation_function", &NeoConfig::activation, std::string("gelu_new"),
        "MLP activation: gelu_new (tanh approximation), gelu, relu or silu",
        "activation_function");
    key("vocab_size", &NeoConfig::vocab_size, int64_t{0},
        "embedding rows; 0 = the tokenizer's vocabulary size", "vocab_size", true);
    key("init_std", &NeoConfig::init_std, 0.02, "std of the N(0, std) weight init",
        "initializer_range");
    key("checkpoint", &NeoConfig::checkpoint, std::string(),
        "HF directory (config.json + model.safetensors or shards) to load; its config.json gives "
        "the architecture, so shape keys set beside it are refused");
    return n;
  }();
  return s;
}

// HF's GPTNeoConfig.expand_attention_types_params: [[["global","local"], 2]] ->
// [global, local, global, local]. Errors name `where` (the config file).
std::vector<std::string> expand_attention_types(const Json& types, const std::string& where) {
  const std::string expected =
      "attention_types must be a list of [[kinds...], repeats] with kinds 'global' or 'local', got " +
      types.dump();
  if (!types.is_array() || types.empty()) throw std::runtime_error(where + expected);
  std::vector<std::string> kinds;
  for (const auto& item : types) {
    if (!item.is_array() || item.size() != 2 || !item[0].is_array() ||
        !item[1].is_number_integer() || item[1].get<int64_t>() < 0)
      throw std::runtime_error(where + expected);
    for (const auto& k : item[0])
      if (!k.is_string() || (k != "global" && k != "local")) throw std::runtime_error(where + expected);
    for (int64_t r = 0; r < item[1].get<int64_t>(); ++r)
      for (const auto& k : item[0]) kinds.push_back(k.get<std::string>());
  }
  return kinds;
}

// The config from validated params: the pattern repeated over the layers.
NeoConfig config_from_params(const Json& p) {
  NeoConfig c = neo_schema().schema.read(p);
  const auto& pattern = c.attention_pattern;
  if (pattern.empty())
    throw std::invalid_argument("gpt_neo: attention_pattern must list at least one kind");
  for (const auto& k : pattern)
    if (k != "global" && k != "local")
      throw std::invalid_argument("gpt_neo: attention_pattern: '" + k +
                                  "' is not an attention kind (global or local)");
  const int64_t n = static_cast<int64_t>(pattern.size());
  if (c.num_layers <= 0 || c.num_layers % n != 0)
    throw std::invalid_argument("gpt_neo: num_layers " + std::to_string(c.num_layers) +
                                " must be a positive multiple of attention_pattern's length " +
                                std::to_string(n));
  c.attention_types = Json::array({Json::array({pattern, c.num_layers / n})});
  for (int64_t i = 0; i < c.num_layers; ++i) c.layer_kinds.push_back(pattern[i % n]);
  return c;
}

// ---- layers ---------------------------------------------------------------------------------

using imlsdk::Embedding;
using imlsdk::LayerNorm;
using imlsdk::Linear;

// What every layer needs to know about the current forward pass.
struct Step {
  int64_t B = 0, T = 0;
  at::ScalarType attn_dtype = at::kFloat;  // scores and softmax: fp32 (or fp64 for fp64 weights)
  Tensor global_bias;  // additive [B or 1, 1, T, T_past + T]: causal + padding
  Tensor local_bias;   // the same, and keys window_size or more positions back hidden
  imlsdk::KVCache* cache = nullptr;
  imlsdk::TokenRows rows;  // the rows x holds: all B*T, or those forward_head_input_at needs
  bool last_only = false;  // this layer's output is wanted at the last position only: x's rows
                           // go in, [B, C] comes out (keys and values still from every row)
};

struct SelfAttention : torch::nn::Module {
  int64_t heads, head_size;
  bool local;
  std::shared_ptr<Linear> k_proj, v_proj, q_proj, out_proj;

  SelfAttention(const NeoConfig& c, bool local_)
      : heads(c.num_heads), head_size(c.head_size()), local(local_) {
    const int64_t C = c.hidden_size;
    k_proj = register_module("k_proj", std::make_shared<Linear>(C, C, false));
    v_proj = register_module("v_proj", std::make_shared<Linear>(C, C, false));
    q_proj = register_module("q_proj", std::make_shared<Linear>(C, C, false));
    out_proj = register_module("out_proj", std::make_shared<Linear>(C, C));
  }

  // x [N, C] -> [N, C] (N = s.rows.rows(); attention itself runs on the [B, T] layout)
  Tensor forward(const Tensor& x, const Step& s, int64_t layer) {
    const int64_t B = s.B, T = s.T, H = heads, D = head_size;
    auto heads_of = [&](const Tensor& y) { return s.rows.unpack(y).view({B, T, H, D}).transpose(1, 2); };
    Tensor q = heads_of((*q_proj)(x));  // [B, H, T, D] views
    Tensor k = heads_of((*k_proj)(x));
    Tensor v = heads_of((*v_proj)(x));
    if (s.cache) {
      Tensor& past_k = s.cache->k[layer];
      Tensor& past_v = s.cache->v[layer];
      k = past_k = imlsdk::kv_append(past_k, k);
      v = past_v = imlsdk::kv_append(past_v, v);
    }
    if (q.scalar_type() != s.attn_dtype) {
      q = q.to(s.attn_dtype);
      k = k.to(s.attn_dtype);
      v = v.to(s.attn_dtype);
    }
    // No 1/sqrt(D): GPT-Neo's scores are unscaled q.k.
    const Tensor& bias = local ? s.local_bias : s.global_bias;
    const Tensor context = imlsdk::attention(s.last_only ? q.narrow(2, T - 1, 1) : q, k, v,
                                             s.last_only ? bias.narrow(2, T - 1, 1) : bias, 1.0)
                               .to(x.scalar_type());
    return (*out_proj)(s.rows.pack(context));
  }
};

// HF nests the attention one level deeper: attn.attention.q_proj.
struct Attention : torch::nn::Module {
  std::shared_ptr<SelfAttention> attention;
  Attention(const NeoConfig& c, bool local) {
    attention = register_module("attention", std::make_shared<SelfAttention>(c, local));
  }
};

struct MLP : torch::nn::Module {
  Activation act;
  std::shared_ptr<Linear> c_fc, c_proj;
  explicit MLP(const NeoConfig& c) : act(c.act()) {
    c_fc = register_module("c_fc", std::make_shared<Linear>(c.hidden_size, c.inner_size()));
    c_proj = register_module("c_proj", std::make_shared<Linear>(c.inner_size(), c.hidden_size));
  }
  Tensor forward(const Tensor& x) {
    const Tensor h = (*c_fc)(x);
    switch (act) {
      case Activation::GeluNew: return (*c_proj)(at::gelu(h, "tanh"));
      case Activation::Gelu: return (*c_proj)(imlsdk::gelu(h));
      case Activation::Relu: return (*c_proj)(at::relu(h));
      case Activation::Silu: return (*c_proj)(at::silu(h));
    }
    throw std::logic_error("gpt_neo: unknown activation");
  }
};

struct Block : torch::nn::Module {
  std::shared_ptr<LayerNorm> ln_1, ln_2;
  std::shared_ptr<Attention> attn;
  std::shared_ptr<MLP> mlp;

  Block(const NeoConfig& c, bool local) {
    ln_1 = register_module("ln_1", std::make_shared<LayerNorm>(c.hidden_size, c.layer_norm_eps));
    attn = register_module("attn", std::make_shared<Attention>(c, local));
    ln_2 = register_module("ln_2", std::make_shared<LayerNorm>(c.hidden_size, c.layer_norm_eps));
    mlp = register_module("mlp", std::make_shared<MLP>(c));
  }

  // x + attn(ln_1(x)), then + mlp(ln_2(.)); the GEMM outputs are ours to overwrite.
  Tensor forward(const Tensor& x, const Step& s, int64_t layer) {
    const Tensor h = residual(attn->attention->forward((*ln_1)(x), s, layer),
                              s.last_only ? x.view({s.B, s.T, -1}).select(1, s.T - 1) : x);
    return residual(mlp->forward((*ln_2)(h)), h);
  }
};

struct GPTNeoModel : torch::nn::Module {
  std::shared_ptr<Embedding> wte, wpe;
  std::vector<std::shared_ptr<Block>> h;
  std::shared_ptr<LayerNorm> ln_f;

  explicit GPTNeoModel(const NeoConfig& c) {
    wte = register_module("wte", std::make_shared<Embedding>(c.vocab_size, c.hidden_size));
    wpe = register_module("wpe", std::make_shared<Embedding>(c.max_positions, c.hidden_size));
    auto list = register_module("h", std::make_shared<torch::nn::Module>());
    for (int64_t i = 0; i < c.num_layers; ++i)
      h.push_back(list->register_module(
          std::to_string(i), std::make_shared<Block>(c, c.layer_kinds[i] == "local")));
    ln_f = register_module("ln_f", std::make_shared<LayerNorm>(c.hidden_size, c.layer_norm_eps));
  }
};

class GPTNeoForCausalLM : public imlsdk::Model {
 public:
  GPTNeoForCausalLM(const NeoConfig& c, int64_t bos_id, int64_t eos_id)
      : config_(c), bos_id_(bos_id), eos_id_(eos_id) {
    transformer = register_module("transformer", std::make_shared<GPTNeoModel>(c));
    // flop_params: every parameter but the position embedding. The token embedding's lookup
    // costs nothing, but the same matrix is the tied LM head, a [C, V] GEMM per token, so it
    // counts once (as pythia counts its untied embed_out and not its embed_in).
    for (const auto& p : named_parameters())
      if (p.key() != "transformer.wpe.weight") flop_params_ += p.value().numel();
  }

  // HF's _init_weights: N(0, initializer_range) for linear and embedding weights, zero biases,
  // LayerNorm 1/0 (as constructed). Draws from the global torch generator.
  void init_weights() {
    at::NoGradGuard no_grad;
    transformer->wte->weight.normal_(0, config_.init_std);
    transformer->wpe->weight.normal_(0, config_.init_std);
    for (auto& block : transformer->h) {
      const auto& a = block->attn->attention;
      for (const auto& lin : {a->k_proj, a->v_proj, a->q_proj, a->out_proj, block->mlp->c_fc,
                              block->mlp->c_proj})
        lin->init(config_.init_std);
    }
  }

  imlsdk::ModelOutput forward(const imlsdk::ModelInput& a) override {
    imlsdk::ModelOutput out;
    const Tensor x = body(a, &out);  // [B * T, C], or [B, C] with last_logits_only
    const int64_t B = a.input_ids.size(0), T = a.input_ids.size(1);
    const Tensor& wte = transformer->wte->weight;
    // The head is the token embedding (tied).
    if (a.last_logits_only)
      out.logits = at::mm(x.size(0) == B ? x : x.view({B, T, -1}).select(1, T - 1), wte.t()).view({B, 1, -1});
    else
      out.logits = at::mm(x, wte.t()).view({B, T, -1});
    return out;
  }

  // SDK 2.4: the head is the token embedding (tied), a linear map of ln_f's output.
  imlsdk::LinearHead linear_head() const override { return {transformer->wte->weight, 1.0}; }
  // SDK 2.5: only the rows that are read or attended to go through the blocks' projections,
  // norms and MLP (imlsdk::TokenRows; the padding's rows of the head input are zero).
  Tensor forward_head_input(const imlsdk::ModelInput& a) override { return forward_head_input_at(a, Tensor()); }
  Tensor forward_head_input_at(const imlsdk::ModelInput& a, const Tensor& rows) override {
    return imlsdk::TokenRows::head_input_at(a.input_ids, a.attention_mask, rows,
                                            [&](const imlsdk::TokenRows& keep) { return body(a, nullptr, keep); });
  }

  // The blocks and ln_f: the head's input [N, C] on `rows` (default: all B * T); the hidden
  // states into `out` when asked for.
  Tensor body(const imlsdk::ModelInput& a, imlsdk::ModelOutput* out, imlsdk::TokenRows rows = {}) {
    if (!a.input_ids.defined())
      throw std::invalid_argument("gpt_neo: ModelInput.input_ids is not set");
    const int64_t B = a.input_ids.size(0), T = a.input_ids.size(1);
    const int64_t past = a.cache ? a.cache->length() : 0;
    const int64_t S = past + T;
    if (S > config_.max_positions)
      throw std::invalid_argument("gpt_neo: sequence of " + std::to_string(S) +
                                  " positions exceeds max_position_embeddings " +
                                  std::to_string(config_.max_positions));
    const Tensor& wte = transformer->wte->weight;
    const auto device = wte.device();

    Step s;
    s.B = B;
    s.T = T;
    s.rows = std::move(rows);
    s.attn_dtype = wte.scalar_type() == at::kDouble ? at::kDouble : at::kFloat;
    // One bias per kind for all layers and heads, broadcast over the heads of [B, H, T, S].
    s.global_bias = imlsdk::causal_attention_bias(a.attention_mask, T, past, s.attn_dtype, device);
    if (config_.has_local()) {
      // As HF's local mask: query at index past+t sees keys j with past+t - j < window_size
      // (indices in the sequence, padding included).
      const auto long_opts = at::TensorOptions().dtype(at::kLong).device(device);
      const Tensor query_index = at::arange(past, S, long_opts).view({T, 1});
      const Tensor too_far =
          at::arange(S, long_opts).view({1, S}).le(query_index - config_.window_size);
      // The SDK's masked value (large negative but finite: a row with every key hidden is
      // uniform, not NaN).
      s.local_bias = s.global_bias.masked_fill(too_far.view({1, 1, T, S}),
                                               std::numeric_limits<float>::lowest() / 2);
    }
    if (a.cache) {
      a.cache->k.resize(transformer->h.size());
      a.cache->v.resize(transformer->h.size());
      s.cache = a.cache;
    }
    // Like HF's forward, positions default to past .. past+T-1 whatever the mask says
    // (greedy_generate passes left-padding-aware ones).
    const Tensor position_ids = a.position_ids.defined()
                                    ? a.position_ids
                                    : imlsdk::default_position_ids(a.input_ids, Tensor(), past);

    // As HF: the input of every block, then ln_f's output. Views, no copies: no block writes
    // into its input.
    auto keep = [&](const Tensor& x) {
      if (out && a.output_hidden_states) out->hidden_states.push_back(x.view({B, T, -1}));
    };
    Tensor x = (*transformer->wte)(s.rows.pack(a.input_ids.reshape({-1}).to(device)))
                   .add_((*transformer->wpe)(s.rows.pack(position_ids.reshape({-1}).to(device))));  // [N, C]
    for (size_t i = 0; i < transformer->h.size(); ++i) {
      keep(x);
      // Only the last position's logits wanted: the last block runs its attention output and MLP
      // on that position alone (its keys and values still on every position, for the cache).
      s.last_only = a.last_logits_only && !s.rows.packed() && !(out && a.output_hidden_states) &&
                    i + 1 == transformer->h.size();
      x = transformer->h[i]->forward(x, s, static_cast<int64_t>(i));
    }
    x = (*transformer->ln_f)(x);
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

  // SDK 2.3: forward writes nothing but its outputs (and the KVCache it is handed) and draws no
  // random numbers: batch parts may run side by side.
  bool concurrent_forward(bool) const override { return true; }

  Json hf_config() const override {
    Json j = {{"architectures", {"GPTNeoForCausalLM"}}, {"model_type", "gpt_neo"}};
    j.update(neo_schema().schema.write_hf(config_));
    if (config_.intermediate_size == 0) j["intermediate_size"] = nullptr;  // HF: 4 * hidden_size
    j["attention_types"] = config_.attention_types;
    j["attention_layers"] = config_.layer_kinds;
    j["attention_dropout"] = 0.0;
    j["embed_dropout"] = 0.0;
    j["resid_dropout"] = 0.0;
    j["classifier_dropout"] = 0.1;  // HF's default; only its classification heads read it
    j["bos_token_id"] = bos_id_ >= 0 ? bos_id_ : eos_id_;
    j["eos_token_id"] = eos_id_;
    j["use_cache"] = true;
    j["torch_dtype"] = "float32";
    return j;
  }

  std::shared_ptr<GPTNeoModel> transformer;

 private:
  NeoConfig config_;
  int64_t bos_id_, eos_id_;
  int64_t flop_params_ = 0;
};

// ---- checkpoints ----------------------------------------------------------------------------

// Reads the architecture from the folder's HF config.json. Errors name the file and the key.
NeoConfig read_neo_config(const fs::path& dir) {
  const Json j = imlsdk::read_hf_config(dir.string());
  const std::string file = (dir / "config.json").string();
  const std::string where = file + ": ";
  const Json model_type = j.value("model_type", Json());
  if (model_type != "gpt_neo")
    throw std::runtime_error(where + "model_type is " + model_type.dump() +
                             ", expected \"gpt_neo\"");
  imlsdk::require_hf_keys(j, dir.string(), neo_schema().required_hf_keys);
  imlsdk::require_hf_keys(j, dir.string(), {"attention_types"});
  // The head is always the token embedding here.
  if (j.value("tie_word_embeddings", Json(true)) != true)
    throw std::runtime_error(where + "tie_word_embeddings false is not supported");

  NeoConfig c = neo_schema().schema.read_hf(j, file);
  c.attention_types = j.at("attention_types");
  c.layer_kinds = expand_attention_types(c.attention_types, where);
  // HF keeps a saved attention_layers over the expansion; both must say the same.
  if (j.contains("attention_layers") && !j.at("attention_layers").is_null() &&
      j.at("attention_layers") != Json(c.layer_kinds))
    throw std::runtime_error(where + "attention_layers " + j.at("attention_layers").dump() +
                             " disagrees with attention_types " + c.attention_types.dump());
  try {
    c.validate(where, /*hf=*/true);
  } catch (const std::invalid_argument& e) {
    throw std::runtime_error(e.what());
  }
  return c;
}

// ---- the plugin -----------------------------------------------------------------------------

class GPTNeo : public imlsdk::ModelPlugin {
 public:
  std::vector<imlsdk::ParamSpec> params() const override { return neo_schema().schema.specs(); }

  std::string default_task() const override { return "causal_lm"; }
  std::vector<std::string> hf_model_types() const override { return {"gpt_neo"}; }

  std::string checkpoint_dir(const Json& p, const std::string& base_dir) const override {
    const std::string checkpoint = neo_schema().schema.read(p).checkpoint;
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
      for (const auto& spec : neo_schema().schema.specs())
        if (spec.key != "checkpoint" && p.contains(spec.key) && p.at(spec.key) != spec.default_value)
          throw std::invalid_argument("gpt_neo: '" + spec.key + "' is set together with checkpoint " +
                                      dir + ", whose config.json gives the architecture; remove '" +
                                      spec.key + "'");
      return load(dir, ctx);
    }

    NeoConfig c = config_from_params(p);
    if (c.vocab_size == 0) c.vocab_size = ctx.vocab_size;
    if (c.vocab_size <= 0)
      throw std::invalid_argument("gpt_neo: vocab_size is 0 and no tokenizer gives one; set it");
    if (c.vocab_size < ctx.vocab_size)
      throw std::invalid_argument("gpt_neo: vocab_size " + std::to_string(c.vocab_size) +
                                  " is smaller than the tokenizer's " +
                                  std::to_string(ctx.vocab_size));
    c.validate("gpt_neo: ", /*hf=*/false);
    auto model = std::make_shared<GPTNeoForCausalLM>(c, ctx.bos_id, ctx.eos_id);
    model->init_weights();
    return model;
  }

 private:
  static std::shared_ptr<imlsdk::Model> load(const fs::path& dir, const imlsdk::ModelContext& ctx) {
    if (!fs::is_directory(dir))
      throw std::runtime_error("gpt_neo: checkpoint " + dir.string() + " is not a directory");
    const NeoConfig c = read_neo_config(dir);
    if (c.vocab_size < ctx.vocab_size)
      throw std::runtime_error((dir / "config.json").string() + ": vocab_size " +
                               std::to_string(c.vocab_size) + " is smaller than the tokenizer's " +
                               std::to_string(ctx.vocab_size));
    auto model = std::make_shared<GPTNeoForCausalLM>(c, ctx.bos_id, ctx.eos_id);
    // Skipped names: HF's old causal-mask buffers (we compute the masks), and lm_head.weight,
    // which HF writes only as a tied copy of transformer.wte.weight (tie_word_embeddings false is
    // refused above), so the head is always wte here and a file's copy is not read.
    imlsdk::load_hf_weights(
        *model, dir.string(),
        {{".attn.attention.bias", ".attn.attention.masked_bias", "lm_head.weight"}});
    return model;
  }
};

}  // namespace

IMLSDK_PLUGIN(GPTNeo, "gpt_neo", "2.6.0", "GPT-Neo causal LM: global/local attention (HF-compatible weights)")
