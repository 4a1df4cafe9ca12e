// T5 as an encoder-decoder LM (T5ForConditionalGeneration), following HF Transformers 4.33's
// modeling_t5.py, in both layouts: the original T5 (feed_forward_proj "relu", lm_head tied to
// the shared embedding) and T5 v1.1 / Flan-T5 (feed_forward_proj "gated-gelu", separate
// lm_head). Parameter names equal HF's, so HF checkpoints load by name:
//
//   shared.weight                                                   [V, C] (both stacks' input)
//   encoder.block.<i>.layer.0.SelfAttention.{q,k,v,o}.weight         q,k,v [H*D, C], o [C, H*D]
//   encoder.block.0.layer.0.SelfAttention.relative_attention_bias.weight  [num_buckets, H]
//   encoder.block.<i>.layer.0.layer_norm.weight                      [C]
//   encoder.block.<i>.layer.1.DenseReluDense.{wi,wo | wi_0,wi_1,wo}.weight
//   encoder.block.<i>.layer.1.layer_norm.weight
//   encoder.final_layer_norm.weight
//   decoder.block.<i>.layer.0.SelfAttention...   (block 0 also has relative_attention_bias)
//   decoder.block.<i>.layer.1.EncDecAttention.{q,k,v,o}.weight, layer.1.layer_norm.weight
//   decoder.block.<i>.layer.2.DenseReluDense..., layer.2.layer_norm.weight
//   decoder.final_layer_norm.weight
//   lm_head.weight                                                  [V, C] (untied layouts only)
//
// HF's encoder.embed_tokens.weight / decoder.embed_tokens.weight (and lm_head.weight when tied)
// are the same tensor as shared.weight: registered once here, skipped if a file carries them.
// T5 facts: no 1/sqrt(d_kv) score scaling; a learned relative position bias (bidirectional
// buckets in the encoder, causal in the decoder) computed by block 0 of each stack and added in
// every block's self-attention, not in cross-attention; RMS norm without bias; with a tied head
// the decoder output is scaled by d_model^-0.5 before it.
//
// forward(): input_ids + attention_mask feed the encoder, decoder_input_ids the decoder. With a
// KVCache the encoder runs once (cache.encoder_output), each layer's cross-attention keys and
// values are computed once (cache.cross_k/v), and decoder self-attention keys/values are
// appended per step. Activations flow as [N, C] rows (N = B*T). The head is one linear map
// (linear_head: shared.weight with scale d_model^-0.5 when tied, else lm_head.weight), so the
// host's training step takes the loss from forward_head_input, the decoder's output, without
// [B, T, V] logits (seq2seq_lm's head_loss).
#include <ATen/ATen.h>
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
namespace fs = std::filesystem;

// The settings of one model, each key declared once (with its default, equal to HF's T5Config
// default) in t5_schema() below.
struct T5Config {
  int64_t vocab_size = 0;
  int64_t d_model = 0;
  int64_t d_kv = 0;
  int64_t d_ff = 0;
  int64_t num_layers = 0;
  int64_t num_decoder_layers = 0;  // 0 = num_layers (HF: None)
  int64_t num_heads = 0;
  int64_t num_buckets = 0;
  int64_t max_distance = 0;
  double dropout_rate = 0;
  double layer_norm_eps = 0;
  double initializer_factor = 0;
  std::string feed_forward_proj;
  bool tie_word_embeddings = true;
  std::string checkpoint;  // not architecture: the HF folder to load ("" = from scratch)

  int64_t decoder_layers() const { return num_decoder_layers > 0 ? num_decoder_layers : num_layers; }
  int64_t inner_dim() const { return num_heads * d_kv; }
  bool gated() const { return feed_forward_proj == "gated-gelu"; }
  // HF's dense_act_fn for the supported feed_forward_proj values.
  std::string dense_act_fn() const { return gated() ? "gelu_new" : "relu"; }

  // Throws std::invalid_argument naming `where` (a param key prefix or a config file).
  void validate(const std::string& where) const {
    auto require = [&](bool ok, const std::string& key, const std::string& what) {
      if (!ok) throw std::invalid_argument(where + key + " " + what);
    };
    require(d_model > 0, "d_model", "must be > 0");
    require(d_kv > 0, "d_kv", "must be > 0");
    require(d_ff > 0, "d_ff", "must be > 0");
    require(num_layers > 0, "num_layers", "must be > 0");
    require(num_decoder_layers >= 0, "num_decoder_layers", "must be >= 0 (0 = num_layers)");
    require(num_heads > 0, "num_heads", "must be > 0");
    require(num_buckets >= 4, "relative_attention_num_buckets", "must be >= 4");
    require(max_distance > num_buckets / 2, "relative_attention_max_distance",
            "must be > relative_attention_num_buckets / 2 (" + std::to_string(num_buckets / 2) + ")");
    require(dropout_rate >= 0 && dropout_rate < 1, "dropout_rate", "must be in [0, 1)");
    require(layer_norm_eps > 0, "layer_norm_epsilon", "must be > 0");
    require(initializer_factor > 0, "initializer_factor", "must be > 0");
    require(feed_forward_proj == "relu" || feed_forward_proj == "gated-gelu", "feed_forward_proj",
            "must be \"relu\" (T5) or \"gated-gelu\" (T5 v1.1), got \"" + feed_forward_proj + "\"");
    require(vocab_size > 0, "vocab_size", "must be > 0");
  }
};

struct T5Schema {
  imlsdk::Schema<T5Config> schema;
  std::vector<std::string> required_hf_keys;
};

const T5Schema& t5_schema() {
  static const T5Schema s = [] {
    T5Schema n;
    // Config key, member, default, help, HF config.json key, must config.json give it?
    auto key = [&n](const char* name, auto member, auto default_value, const char* help,
                    const char* hf_key = "", bool hf_required = false) {
      n.schema.add(name, member, default_value, help, hf_key);
      if (hf_required) n.required_hf_keys.push_back(hf_key);
    };
    key("d_model", &T5Config::d_model, int64_t{512}, "model width C", "d_model", true);
    key("d_kv", &T5Config::d_kv, int64_t{64}, "width of each attention head (num_heads * d_kv may differ from d_model)",
        "d_kv", true);
    key("d_ff", &T5Config::d_ff, int64_t{2048}, "feed-forward width", "d_ff", true);
    key("num_layers", &T5Config::num_layers, int64_t{6}, "encoder blocks", "num_layers", true);
    key("num_decoder_layers", &T5Config::num_decoder_layers, int64_t{0},
        "decoder blocks (0 = num_layers)", "num_decoder_layers");
    key("num_heads", &T5Config::num_heads, int64_t{8}, "attention heads", "num_heads", true);
    key("relative_attention_num_buckets", &T5Config::num_buckets, int64_t{32},
        "relative position buckets", "relative_attention_num_buckets");
    key("relative_attention_max_distance", &T5Config::max_distance, int64_t{128},
        "distance from which relative positions share the last bucket", "relative_attention_max_distance");
    key("dropout_rate", &T5Config::dropout_rate, 0.1, "dropout in training (HF's places, attention weights included)",
        "dropout_rate");
    key("layer_norm_epsilon", &T5Config::layer_norm_eps, 1e-6, "RMS norm epsilon", "layer_norm_epsilon");
    key("initializer_factor", &T5Config::initializer_factor, 1.0, "scale of HF's T5 weight init",
        "initializer_factor");
    key("feed_forward_proj", &T5Config::feed_forward_proj, std::string("relu"),
        "\"relu\" (T5: wi, wo) or \"gated-gelu\" (T5 v1.1: wi_0, wi_1, wo with tanh GELU)",
        "feed_forward_proj");
    key("tie_word_embeddings", &T5Config::tie_word_embeddings, true,
        "lm_head = shared embedding, decoder output scaled by d_model^-0.5 (false: own lm_head.weight)",
        "tie_word_embeddings");
    key("vocab_size", &T5Config::vocab_size, int64_t{0},
        "embedding rows; 0 = the tokenizer's vocabulary size", "vocab_size", true);
    key("checkpoint", &T5Config::checkpoint, std::string(),
        "HF directory (config.json + model.safetensors or shards) to load; its config.json gives "
        "the architecture, so other keys set beside it are refused");
    return n;
  }();
  return s;
}

// ---- layers ---------------------------------------------------------------------------------

using imlsdk::Embedding;
using imlsdk::Linear;
using imlsdk::RMSNorm;

// HF's T5Attention._relative_position_bucket, op for op (so that the fp32 log rounds the same).
Tensor relative_position_bucket(Tensor rel, bool bidirectional, int64_t num_buckets, int64_t max_distance) {
  Tensor buckets = at::zeros_like(rel);
  if (bidirectional) {
    num_buckets /= 2;
    buckets = buckets + rel.gt(0).to(at::kLong) * num_buckets;
    rel = rel.abs();
  } else {
    rel = rel.clamp_max(0).neg();
  }
  const int64_t max_exact = num_buckets / 2;
  const Tensor is_small = rel.lt(max_exact);
  // clamp_min(1): log(0) is never selected (is_small), but must not be cast to an integer.
  Tensor large = (at::log(rel.clamp_min(1).to(at::kFloat) / max_exact) /
                  std::log(static_cast<double>(max_distance) / static_cast<double>(max_exact)) *
                  (num_buckets - max_exact))
                     .to(at::kLong)
                     .add_(max_exact)
                     .clamp_max_(num_buckets - 1);
  return buckets + at::where(is_small, rel, large);
}

struct Dropout {
  double p = 0;
  Tensor operator()(const Tensor& x, bool training) const {
    return training && p > 0 ? at::dropout(x, p, true) : x;
  }
};

struct T5Attention : torch::nn::Module {
  int64_t heads, d_kv, num_buckets, max_distance;
  bool bidirectional;
  Dropout dropout;
  std::shared_ptr<Linear> q, k, v, o;
  std::shared_ptr<Embedding> relative_attention_bias;  // block 0's self-attention only

  T5Attention(const T5Config& c, bool has_relative_bias, bool bidirectional_)
      : heads(c.num_heads),
        d_kv(c.d_kv),
        num_buckets(c.num_buckets),
        max_distance(c.max_distance),
        bidirectional(bidirectional_),
        dropout{c.dropout_rate} {
    q = register_module("q", std::make_shared<Linear>(c.d_model, c.inner_dim(), false));
    k = register_module("k", std::make_shared<Linear>(c.d_model, c.inner_dim(), false));
    v = register_module("v", std::make_shared<Linear>(c.d_model, c.inner_dim(), false));
    o = register_module("o", std::make_shared<Linear>(c.inner_dim(), c.d_model, false));
    if (has_relative_bias)
      relative_attention_bias = register_module(
          "relative_attention_bias", std::make_shared<Embedding>(c.num_buckets, c.num_heads));
  }

  // [1, H, T, S]: the bias of queries at positions past .. past+T-1 over keys 0 .. S-1
  // (HF's compute_bias(past+T, S) with its last T query rows).
  Tensor compute_bias(int64_t T, int64_t S, int64_t past) const {
    const auto opts = at::TensorOptions().dtype(at::kLong).device(relative_attention_bias->weight.device());
    const Tensor context = at::arange(past, past + T, opts).view({T, 1});
    const Tensor memory = at::arange(S, opts).view({1, S});
    const Tensor buckets = relative_position_bucket(memory - context, bidirectional, num_buckets, max_distance);
    return (*relative_attention_bias)(buckets).permute({2, 0, 1}).unsqueeze(0);  // [1, H, T, S]
  }

  // x [B*T, C] -> [B, H, T, D]
  Tensor heads_of(const Linear& proj, const Tensor& x, int64_t B) const {
    return proj(x).view({B, -1, heads, d_kv}).transpose(1, 2);
  }

  // Attention of the queries from x [B*T, C] over keys/values [B, H, S, D]; returns [B*T, C].
  Tensor attend(const Tensor& x, int64_t B, const Tensor& keys, const Tensor& values, const Tensor& bias) {
    const Tensor query = heads_of(*q, x, B);
    Tensor context;
    if (is_training() && dropout.p > 0) {
      // HF drops attention weights in training; imlsdk::attention has no dropout.
      Tensor scores = at::matmul(query, keys.transpose(-1, -2));
      if (bias.defined()) scores = scores + bias;
      const Tensor probs = dropout(at::softmax(scores.to(at::kFloat), -1).to(scores.scalar_type()), true);
      const Tensor ctx = at::matmul(probs, values);  // [B, H, T, D]
      context = ctx.transpose(1, 2).reshape({-1, heads * d_kv});
    } else {
      context = imlsdk::attention(query, keys, values, bias, 1.0);  // T5: no 1/sqrt(d_kv)
    }
    return (*o)(context);
  }
};

struct FeedForward : torch::nn::Module {
  bool gated;
  Dropout dropout;
  std::shared_ptr<Linear> wi, wi_0, wi_1, wo;
  explicit FeedForward(const T5Config& c) : gated(c.gated()), dropout{c.dropout_rate} {
    if (gated) {
      wi_0 = register_module("wi_0", std::make_shared<Linear>(c.d_model, c.d_ff, false));
      wi_1 = register_module("wi_1", std::make_shared<Linear>(c.d_model, c.d_ff, false));
    } else {
      wi = register_module("wi", std::make_shared<Linear>(c.d_model, c.d_ff, false));
    }
    wo = register_module("wo", std::make_shared<Linear>(c.d_ff, c.d_model, false));
  }
  Tensor forward(const Tensor& x) {
    Tensor h;
    if (gated)  // wo(gelu_new(wi_0 x) * wi_1 x); gelu_new is the tanh approximation
      h = at::gelu((*wi_0)(x), "tanh") * (*wi_1)(x);
    else
      h = at::relu((*wi)(x));
    return (*wo)(dropout(h, is_training()));
  }
};

// layer.0 of every block (and layer.1 of a decoder block): pre-norm attention with a residual.
struct AttentionLayer : torch::nn::Module {
  std::shared_ptr<T5Attention> attention;
  std::shared_ptr<RMSNorm> layer_norm;
  Dropout dropout;
  AttentionLayer(const T5Config& c, const char* name, bool has_relative_bias, bool bidirectional)
      : dropout{c.dropout_rate} {
    attention = register_module(name, std::make_shared<T5Attention>(c, has_relative_bias, bidirectional));
    layer_norm = register_module("layer_norm", std::make_shared<RMSNorm>(c.d_model, c.layer_norm_eps));
  }
};

struct FeedForwardLayer : torch::nn::Module {
  std::shared_ptr<FeedForward> DenseReluDense;
  std::shared_ptr<RMSNorm> layer_norm;
  Dropout dropout;
  explicit FeedForwardLayer(const T5Config& c) : dropout{c.dropout_rate} {
    DenseReluDense = register_module("DenseReluDense", std::make_shared<FeedForward>(c));
    layer_norm = register_module("layer_norm", std::make_shared<RMSNorm>(c.d_model, c.layer_norm_eps));
  }
  Tensor forward(const Tensor& x) {
    return x + dropout(DenseReluDense->forward((*layer_norm)(x)), is_training());
  }
};

struct Block : torch::nn::Module {
  std::shared_ptr<AttentionLayer> self_attention, cross_attention;  // cross: decoder only
  std::shared_ptr<FeedForwardLayer> ff;

  Block(const T5Config& c, bool decoder, bool first) {
    auto layer = register_module("layer", std::make_shared<torch::nn::Module>());
    self_attention = layer->register_module(
        "0", std::make_shared<AttentionLayer>(c, "SelfAttention", first, /*bidirectional=*/!decoder));
    if (decoder)
      cross_attention = layer->register_module(
          "1", std::make_shared<AttentionLayer>(c, "EncDecAttention", false, false));
    ff = layer->register_module(decoder ? "2" : "1", std::make_shared<FeedForwardLayer>(c));
  }
};

struct Stack : torch::nn::Module {
  std::vector<std::shared_ptr<Block>> block;
  std::shared_ptr<RMSNorm> final_layer_norm;
  Dropout dropout;
  Stack(const T5Config& c, bool decoder) : dropout{c.dropout_rate} {
    auto list = register_module("block", std::make_shared<torch::nn::Module>());
    const int64_t n = decoder ? c.decoder_layers() : c.num_layers;
    for (int64_t i = 0; i < n; ++i)
      block.push_back(list->register_module(std::to_string(i), std::make_shared<Block>(c, decoder, i == 0)));
    final_layer_norm = register_module("final_layer_norm", std::make_shared<RMSNorm>(c.d_model, c.layer_norm_eps));
  }
};

// The special ids config.json carries beside the architecture.
struct SpecialIds {
  int64_t pad = 0, eos = 1, decoder_start = 0;
};

class T5ForConditionalGeneration : public imlsdk::Model {
 public:
  T5ForConditionalGeneration(const T5Config& c, const SpecialIds& ids) : config_(c), ids_(ids) {
    shared = register_module("shared", std::make_shared<Embedding>(c.vocab_size, c.d_model));
    encoder = register_module("encoder", std::make_shared<Stack>(c, false));
    decoder = register_module("decoder", std::make_shared<Stack>(c, true));
    if (!c.tie_word_embeddings)
      lm_head = register_module("lm_head", std::make_shared<Linear>(c.d_model, c.vocab_size, false));
    for (const auto& p : named_parameters()) {
      const std::string& name = p.key();
      const bool lookup = name.find("relative_attention_bias") != std::string::npos ||
                          (name == "shared.weight" && !c.tie_word_embeddings);
      if (!lookup) flop_params_ += p.value().numel();
    }
  }

  // HF's T5PreTrainedModel._init_weights (factor = initializer_factor). Draws from the global
  // torch generator.
  void init_weights() {
    at::NoGradGuard no_grad;
    const double f = config_.initializer_factor;
    const double d_model = static_cast<double>(config_.d_model);
    const double d_ff = static_cast<double>(config_.d_ff);
    const double inner = static_cast<double>(config_.inner_dim());
    shared->weight.normal_(0, f * 1.0);
    if (lm_head) lm_head->weight.normal_(0, f * 1.0);
    for (Stack* stack : {encoder.get(), decoder.get()}) {
      stack->final_layer_norm->weight.fill_(f);
      for (auto& b : stack->block) {
        std::vector<AttentionLayer*> layers = {b->self_attention.get()};
        if (b->cross_attention) layers.push_back(b->cross_attention.get());
        for (AttentionLayer* l : layers) {
          l->layer_norm->weight.fill_(f);
          T5Attention& a = *l->attention;
          a.q->weight.normal_(0, f * std::pow(d_model * config_.d_kv, -0.5));
          a.k->weight.normal_(0, f * std::pow(d_model, -0.5));
          a.v->weight.normal_(0, f * std::pow(d_model, -0.5));
          a.o->weight.normal_(0, f * std::pow(inner, -0.5));
          if (a.relative_attention_bias) a.relative_attention_bias->weight.normal_(0, f * std::pow(d_model, -0.5));
        }
        b->ff->layer_norm->weight.fill_(f);
        FeedForward& ff = *b->ff->DenseReluDense;
        for (Linear* wi : {ff.wi.get(), ff.wi_0.get(), ff.wi_1.get()})
          if (wi) wi->weight.normal_(0, f * std::pow(d_model, -0.5));
        ff.wo->weight.normal_(0, f * std::pow(d_ff, -0.5));
      }
    }
  }

  imlsdk::ModelOutput forward(const imlsdk::ModelInput& a) override {
    imlsdk::ModelOutput out;
    const Tensor y = decoder_output(a, out);  // [B, T, C]
    const int64_t B = y.size(0), T_out = a.last_logits_only ? 1 : y.size(1);
    const Tensor x = a.last_logits_only ? y.select(1, y.size(1) - 1) : y.view({B * T_out, -1});
    // With a tied head HF rescales the output before it (Mesh TensorFlow's convention).
    const imlsdk::LinearHead head = linear_head();
    out.logits = at::mm(head.scale == 1.0 ? x : x * head.scale, head.weight.t()).view({B, T_out, -1});
    return out;
  }

  // SDK 2.4: the head is one linear map of the decoder's output: the shared embedding with HF's
  // d_model^-0.5 rescaling as the head's scale (tied), or lm_head. The training loss then comes
  // from the decoder's output block by block (seq2seq_lm's head_loss), without [B, T, V] logits.
  imlsdk::LinearHead linear_head() const override {
    if (config_.tie_word_embeddings) return {shared->weight, std::pow(static_cast<double>(config_.d_model), -0.5)};
    return {lm_head->weight, 1.0};
  }
  Tensor forward_head_input(const imlsdk::ModelInput& a) override {
    imlsdk::ModelOutput out;  // hidden states, if asked for, are not returned here
    return decoder_output(a, out);
  }

 private:
  // The encoder (or the cache's encoder output), then the decoder: its output [B, T, C] after
  // the final norm and dropout, the head's input.
  Tensor decoder_output(const imlsdk::ModelInput& a, imlsdk::ModelOutput& out) {
    if (!a.decoder_input_ids.defined())
      throw std::invalid_argument("t5: ModelInput.decoder_input_ids is not set");
    imlsdk::KVCache* cache = a.cache;
    const Tensor& w = shared->weight;
    const bool training = is_training();

    // ---- encoder (once per cache) ----
    Tensor enc;  // [B, S, C]
    if (cache && cache->encoder_output.defined()) {
      enc = cache->encoder_output;
    } else {
      if (!a.input_ids.defined()) throw std::invalid_argument("t5: ModelInput.input_ids is not set");
      enc = run_encoder(a, training, out);
      if (cache) cache->encoder_output = enc;
    }
    const int64_t B = enc.size(0), S = enc.size(1);
    if (a.decoder_input_ids.size(0) != B)
      throw std::invalid_argument("t5: decoder_input_ids has " + std::to_string(a.decoder_input_ids.size(0)) +
                                  " rows, the encoder input " + std::to_string(B));
    const Tensor cross_bias = a.attention_mask.defined()
                                  ? imlsdk::padding_attention_bias(a.attention_mask.to(w.device()), w.scalar_type())
                                  : Tensor();

    // ---- decoder ----
    const int64_t T = a.decoder_input_ids.size(1);
    const int64_t past = cache ? cache->length() : 0;
    const size_t L = decoder->block.size();
    if (cache) {
      cache->k.resize(L);
      cache->v.resize(L);
      cache->cross_k.resize(L);
      cache->cross_v.resize(L);
    }
    Tensor x = decoder->dropout((*shared)(a.decoder_input_ids.reshape({-1}).to(w.device())), training);
    const Tensor self_bias =
        decoder->block[0]->self_attention->attention->compute_bias(T, past + T, past) +
        imlsdk::causal_attention_bias(Tensor(), T, past, w.scalar_type(), w.device());
    const Tensor enc_rows = enc.reshape({B * S, -1});
    for (size_t i = 0; i < L; ++i) {
      if (a.output_hidden_states) out.hidden_states.push_back(x.view({B, T, -1}));
      Block& b = *decoder->block[i];
      // Self-attention over the past and the new positions.
      {
        AttentionLayer& l = *b.self_attention;
        T5Attention& att = *l.attention;
        const Tensor h = (*l.layer_norm)(x);
        Tensor keys = att.heads_of(*att.k, h, B), values = att.heads_of(*att.v, h, B);
        if (cache) {
          keys = cache->k[i] = imlsdk::kv_append(cache->k[i], keys);
          values = cache->v[i] = imlsdk::kv_append(cache->v[i], values);
        }
        x = x + l.dropout(att.attend(h, B, keys, values, self_bias), training);
      }
      // Cross-attention over the encoder output (keys/values once per cache).
      {
        AttentionLayer& l = *b.cross_attention;
        T5Attention& att = *l.attention;
        Tensor keys, values;
        if (cache && cache->cross_k[i].defined()) {
          keys = cache->cross_k[i];
          values = cache->cross_v[i];
        } else {
          keys = att.heads_of(*att.k, enc_rows, B);
          values = att.heads_of(*att.v, enc_rows, B);
          if (cache) {
            cache->cross_k[i] = keys;
            cache->cross_v[i] = values;
          }
        }
        x = x + l.dropout(att.attend((*l.layer_norm)(x), B, keys, values, cross_bias), training);
      }
      x = b.ff->forward(x);
    }
    x = decoder->dropout((*decoder->final_layer_norm)(x), training);
    if (a.output_hidden_states) out.hidden_states.push_back(x.view({B, T, -1}));
    return x.view({B, T, -1});
  }

 public:
  imlsdk::ModelInfo info() const override {
    imlsdk::ModelInfo i;
    i.family = imlsdk::ModelFamily::Seq2SeqLM;
    i.vocab_size = config_.vocab_size;
    i.max_positions = 0;  // relative positions: unbounded
    i.num_layers = config_.num_layers;
    i.hidden_size = config_.d_model;
    i.decoder_start_id = ids_.decoder_start;
    i.flop_params = flop_params_;  // every parameter but lookup tables (an untied input embedding, position biases)
    return i;
  }

  // SDK 2.3: forward writes nothing but its outputs (and the KVCache it is handed); in training,
  // dropout draws from LibTorch's shared generator, whose draws two threads would interleave.
  bool concurrent_forward(bool training) const override { return !training || config_.dropout_rate == 0; }

  Json hf_config() const override {
    Json j = {{"architectures", {"T5ForConditionalGeneration"}}, {"model_type", "t5"}};
    j.update(t5_schema().schema.write_hf(config_));
    j["num_decoder_layers"] = config_.decoder_layers();
    // HF's save_pretrained writes tie_word_embeddings only when it differs from its default.
    if (config_.tie_word_embeddings) j.erase("tie_word_embeddings");
    j["dense_act_fn"] = config_.dense_act_fn();
    j["is_gated_act"] = config_.gated();
    j["is_encoder_decoder"] = true;
    j["classifier_dropout"] = 0.0;
    j["decoder_start_token_id"] = ids_.decoder_start;
    j["pad_token_id"] = ids_.pad;
    j["eos_token_id"] = ids_.eos;
    j["use_cache"] = true;
    j["torch_dtype"] = "float32";
    return j;
  }

  std::shared_ptr<Embedding> shared;
  std::shared_ptr<Stack> encoder, decoder;
  std::shared_ptr<Linear> lm_head;

 private:
  // The encoder stack; returns its output [B, S, C] (and HF's encoder hidden states if asked).
  Tensor run_encoder(const imlsdk::ModelInput& a, bool training, imlsdk::ModelOutput& out) {
    const Tensor& w = shared->weight;
    const int64_t B = a.input_ids.size(0), S = a.input_ids.size(1);
    if (a.attention_mask.defined() && (a.attention_mask.dim() != 2 || a.attention_mask.size(0) != B ||
                                       a.attention_mask.size(1) != S))
      throw std::invalid_argument("t5: attention_mask must be [B, T_enc] = [" + std::to_string(B) + ", " +
                                  std::to_string(S) + "]");
    Tensor bias = encoder->block[0]->self_attention->attention->compute_bias(S, S, 0);  // [1, H, S, S]
    if (a.attention_mask.defined())
      bias = bias + imlsdk::padding_attention_bias(a.attention_mask.to(w.device()), w.scalar_type());
    Tensor x = encoder->dropout((*shared)(a.input_ids.reshape({-1}).to(w.device())), training);
    for (const auto& b : encoder->block) {
      if (a.output_hidden_states) out.encoder_hidden_states.push_back(x.view({B, S, -1}));
      AttentionLayer& l = *b->self_attention;
      T5Attention& att = *l.attention;
      const Tensor h = (*l.layer_norm)(x);
      x = x + l.dropout(att.attend(h, B, att.heads_of(*att.k, h, B), att.heads_of(*att.v, h, B), bias), training);
      x = b->ff->forward(x);
    }
    x = encoder->dropout((*encoder->final_layer_norm)(x), training).view({B, S, -1});
    if (a.output_hidden_states) out.encoder_hidden_states.push_back(x);
    return x;
  }

  T5Config config_;
  SpecialIds ids_;
  int64_t flop_params_ = 0;
};

// ---- checkpoints ----------------------------------------------------------------------------

int64_t read_id(const Json& j, const std::string& file, const char* key, int64_t fallback, bool required) {
  if (!j.contains(key) || j.at(key).is_null()) {
    if (required) throw std::runtime_error(file + ": missing key '" + key + "'");
    return fallback;
  }
  if (!j.at(key).is_number_integer() || j.at(key).get<int64_t>() < 0)
    throw std::runtime_error(file + ": '" + key + "' must be a non-negative int, got " + j.at(key).dump());
  return j.at(key).get<int64_t>();
}

// Reads the architecture and special ids from the folder's HF config.json. Errors name the file
// and the key.
std::pair<T5Config, SpecialIds> read_t5_config(const fs::path& dir) {
  const Json j = imlsdk::read_hf_config(dir.string());
  const std::string file = (dir / "config.json").string();
  const std::string where = file + ": ";
  const Json model_type = j.value("model_type", Json());
  if (model_type != "t5")
    throw std::runtime_error(where + "model_type is " + model_type.dump() + ", expected \"t5\"");
  imlsdk::require_hf_keys(j, dir.string(), t5_schema().required_hf_keys);
  T5Config c = t5_schema().schema.read_hf(j, file);
  c.validate(where);
  // HF derives these from feed_forward_proj; a config.json that says otherwise overrides them there.
  if (j.contains("dense_act_fn") && j.at("dense_act_fn") != c.dense_act_fn())
    throw std::runtime_error(where + "dense_act_fn " + j.at("dense_act_fn").dump() + " is not supported with feed_forward_proj \"" +
                             c.feed_forward_proj + "\" (expected \"" + c.dense_act_fn() + "\")");
  if (j.contains("is_gated_act") && j.at("is_gated_act") != c.gated())
    throw std::runtime_error(where + "is_gated_act " + j.at("is_gated_act").dump() + " contradicts feed_forward_proj \"" +
                             c.feed_forward_proj + "\"");
  if (j.contains("is_encoder_decoder") && j.at("is_encoder_decoder") != true)
    throw std::runtime_error(where + "is_encoder_decoder false is not supported (T5ForConditionalGeneration)");
  if (j.contains("architectures") && j.at("architectures").is_array())
    for (const auto& arch : j.at("architectures"))
      if (arch != "T5ForConditionalGeneration" && arch != "T5Model" && arch != "T5WithLMHeadModel")
        throw std::runtime_error(where + "architectures " + arch.dump() +
                                 " is not supported (expected \"T5ForConditionalGeneration\")");
  SpecialIds ids;
  ids.pad = read_id(j, file, "pad_token_id", 0, false);
  ids.eos = read_id(j, file, "eos_token_id", 1, false);
  ids.decoder_start = read_id(j, file, "decoder_start_token_id", 0, true);
  if (ids.decoder_start >= c.vocab_size)
    throw std::runtime_error(where + "decoder_start_token_id " + std::to_string(ids.decoder_start) +
                             " is not below vocab_size " + std::to_string(c.vocab_size));
  return {c, ids};
}

// ---- the plugin -----------------------------------------------------------------------------

class T5 : public imlsdk::ModelPlugin {
 public:
  std::vector<imlsdk::ParamSpec> params() const override { return t5_schema().schema.specs(); }

  std::string default_task() const override { return "seq2seq_lm"; }
  std::vector<std::string> hf_model_types() const override { return {"t5"}; }

  std::string checkpoint_dir(const Json& p, const std::string& base_dir) const override {
    const std::string checkpoint = t5_schema().schema.read(p).checkpoint;
    if (checkpoint.empty()) return "";
    fs::path dir(checkpoint);
    if (dir.is_relative() && !base_dir.empty()) dir = fs::path(base_dir) / dir;
    return dir.string();
  }

  std::shared_ptr<imlsdk::Model> create(const Json& p, const imlsdk::ModelContext& ctx) const override {
    const std::string dir = checkpoint_dir(p, ctx.base_dir);
    if (!dir.empty()) {
      // A key beside a checkpoint would be silently overridden by its config.json.
      for (const auto& spec : t5_schema().schema.specs())
        if (spec.key != "checkpoint" && p.contains(spec.key) && p.at(spec.key) != spec.default_value)
          throw std::invalid_argument("t5: '" + spec.key + "' is set together with checkpoint " + dir +
                                      ", whose config.json gives the architecture; remove '" + spec.key + "'");
      return load(dir, ctx);
    }

    T5Config c = t5_schema().schema.read(p);
    if (c.vocab_size == 0) c.vocab_size = ctx.vocab_size;
    if (c.vocab_size <= 0)
      throw std::invalid_argument("t5: vocab_size is 0 and no tokenizer gives one; set it");
    if (c.vocab_size < ctx.vocab_size)
      throw std::invalid_argument("t5: vocab_size " + std::to_string(c.vocab_size) +
                                  " is smaller than the tokenizer's " + std::to_string(ctx.vocab_size));
    c.validate("t5: ");
    SpecialIds ids;
    ids.pad = ctx.pad_id;
    ids.eos = ctx.eos_id;
    ids.decoder_start = ctx.pad_id;  // as T5: decoding starts from the pad token
    if (ids.pad < 0 || ids.pad >= c.vocab_size)
      throw std::invalid_argument("t5: the tokenizer's pad id " + std::to_string(ids.pad) +
                                  " (the decoder start token) is not below vocab_size " + std::to_string(c.vocab_size));
    auto model = std::make_shared<T5ForConditionalGeneration>(c, ids);
    model->init_weights();
    return model;
  }

 private:
  static std::shared_ptr<imlsdk::Model> load(const fs::path& dir, const imlsdk::ModelContext& ctx) {
    if (!fs::is_directory(dir))
      throw std::runtime_error("t5: checkpoint " + dir.string() + " is not a directory");
    const auto [c, ids] = read_t5_config(dir);
    if (c.vocab_size < ctx.vocab_size)
      throw std::runtime_error((dir / "config.json").string() + ": vocab_size " + std::to_string(c.vocab_size) +
                               " is smaller than the tokenizer's " + std::to_string(ctx.vocab_size));
    auto model = std::make_shared<T5ForConditionalGeneration>(c, ids);
    // HF's tied copies of shared.weight, if a file carries them.
    imlsdk::WeightLoadOptions options;
    options.ignore_suffixes = {"encoder.embed_tokens.weight", "decoder.embed_tokens.weight"};
    if (c.tie_word_embeddings) options.ignore_suffixes.push_back("lm_head.weight");
    imlsdk::load_hf_weights(*model, dir.string(), options);
    return model;
  }
};

}  // namespace

IMLSDK_PLUGIN(T5, "t5", "2.3.0", "T5 / T5 v1.1 encoder-decoder LM (HF-compatible weights)")
