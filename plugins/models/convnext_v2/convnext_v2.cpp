// ConvNeXt V2 as an image classifier, following HF Transformers 4.33's modeling_convnextv2.py
// (ConvNextV2ForImageClassification). Parameter names equal HF's, so HF checkpoints load by name:
//
//   convnextv2.embeddings.patch_embeddings.{weight,bias}      [C0, in, p, p] conv k = s = patch_size
//   convnextv2.embeddings.layernorm.{weight,bias}             [C0] channels-first LayerNorm (eps 1e-6)
//   convnextv2.encoder.stages.<s>.downsampling_layer.0.*      [C_{s-1}] channels-first LayerNorm (s > 0)
//   convnextv2.encoder.stages.<s>.downsampling_layer.1.*      [C_s, C_{s-1}, 2, 2] conv k = s = 2
//   convnextv2.encoder.stages.<s>.layers.<i>.dwconv.*         [C, 1, 7, 7] depthwise, padding 3
//   convnextv2.encoder.stages.<s>.layers.<i>.layernorm.*      [C] channels-last LayerNorm (eps 1e-6)
//   convnextv2.encoder.stages.<s>.layers.<i>.pwconv1.*        [4C, C] Linear
//   convnextv2.encoder.stages.<s>.layers.<i>.grn.{weight,bias} [1, 1, 1, 4C] global response norm
//   convnextv2.encoder.stages.<s>.layers.<i>.pwconv2.*        [C, 4C] Linear
//   convnextv2.layernorm.{weight,bias}                        [C_last] pooler LayerNorm (layer_norm_eps)
//   classifier.{weight,bias}                                  [K * num_labels, C_last]
//
// Block (HF's ConvNextV2Layer): x + drop_path(pwconv2(grn(gelu(pwconv1(ln(dwconv(x))))))); the
// drop-path rate rises linearly from 0 over all blocks to drop_path_rate and is applied only in
// training mode (Module::is_training()), drawing from the global torch generator as HF does.
//
// Layout: after the stem, activations are NCHW tensors with channels-last strides, so that the
// channels-last part of every block (LayerNorm, the two Linears, GELU, GRN) runs on [B*H*W, C]
// rows without copies (a permute is a view) and the convolutions get NHWC memory.
//
// Grid outputs (not in HF): `outputs` = K classifications per image, each over num_labels
// classes. The classifier has K * num_labels rows; logits are [B, K, num_labels] (K = 1: [B,
// num_labels] as HF). A K > 1 model's config.json says num_labels = K * num_labels (HF loads it
// as one classifier) plus "iml_outputs": K.
//
// Hidden states (ModelInput::output_hidden_states): as HF, the embedding (stem) output, then each
// stage's output: num_stages + 1 tensors [B, C_s, H_s, W_s].
#include <ATen/ATen.h>
#include <torch/nn/module.h>

#include <algorithm>
#include <filesystem>
#include <map>
#include <numeric>
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

// HF hard-codes eps 1e-6 for every LayerNorm but the pooler's (which uses layer_norm_eps).
constexpr double kInnerEps = 1e-6;
constexpr int64_t kDepthwiseKernel = 7;

std::string join(const std::vector<int64_t>& v) {
  std::string s = "[";
  for (size_t i = 0; i < v.size(); ++i) s += (i ? ", " : "") + std::to_string(v[i]);
  return s + "]";
}

// The settings of one model, each key declared once in convnext_schema() below.
struct ConvNextConfig {
  int64_t num_channels = 0;
  int64_t patch_size = 0;
  std::vector<int64_t> hidden_sizes;
  std::vector<int64_t> depths;
  double layer_norm_eps = 0;
  double drop_path_rate = 0;
  int64_t image_size = 0;
  std::string hidden_act;
  double initializer_range = 0;
  int64_t num_labels = 0;  // classes per output
  int64_t outputs = 0;     // K classifications per image
  std::string checkpoint;  // not architecture: the HF folder to load ("" = from scratch)

  int64_t num_stages() const { return static_cast<int64_t>(hidden_sizes.size()); }
  int64_t num_blocks() const { return std::accumulate(depths.begin(), depths.end(), int64_t{0}); }

  // Throws std::invalid_argument naming `where` (a param key prefix or a config file) and the key.
  void validate(const std::string& where) const {
    auto require = [&](bool ok, const std::string& key, const std::string& what) {
      if (!ok) throw std::invalid_argument(where + key + " " + what);
    };
    require(num_channels > 0, "num_channels", "must be > 0");
    require(patch_size > 0, "patch_size", "must be > 0");
    require(!hidden_sizes.empty(), "hidden_sizes", "must list at least one stage width");
    for (int64_t c : hidden_sizes) require(c > 0, "hidden_sizes", "must all be > 0, got " + join(hidden_sizes));
    require(depths.size() == hidden_sizes.size(), "depths",
            "must have one entry per stage (hidden_sizes has " + std::to_string(hidden_sizes.size()) +
                "), got " + join(depths));
    for (int64_t d : depths) require(d >= 0, "depths", "must all be >= 0, got " + join(depths));
    require(layer_norm_eps > 0, "layer_norm_eps", "must be > 0");
    require(drop_path_rate >= 0 && drop_path_rate < 1, "drop_path_rate", "must be in [0, 1)");
    require(image_size > 0, "image_size", "must be > 0");
    require(hidden_act == "gelu", "hidden_act", "must be \"gelu\" (the only one implemented), got \"" + hidden_act + "\"");
    require(initializer_range >= 0, "initializer_range", "must be >= 0");
    require(num_labels > 0, "num_labels", "must be > 0");
    require(outputs > 0, "outputs", "must be > 0");
  }
};

struct ConvNextSchema {
  imlsdk::Schema<ConvNextConfig> schema;
  std::vector<std::string> architecture_keys;  // refused beside `checkpoint`
};

const ConvNextSchema& convnext_schema() {
  static const ConvNextSchema s = [] {
    ConvNextSchema n;
    // Config key, member, default, help, HF config.json key; shape keys are refused beside a
    // checkpoint. Defaults: HF's ConvNextV2Config (the Tiny shape).
    auto key = [&n](const char* name, auto member, auto default_value, const char* help,
                    const char* hf_key, bool shape) {
      n.schema.add(name, member, default_value, help, hf_key);
      if (shape) n.architecture_keys.push_back(name);
    };
    key("num_channels", &ConvNextConfig::num_channels, int64_t{3}, "input image channels",
        "num_channels", true);
    key("patch_size", &ConvNextConfig::patch_size, int64_t{4}, "stem conv kernel = stride",
        "patch_size", true);
    key("hidden_sizes", &ConvNextConfig::hidden_sizes, std::vector<int64_t>{96, 192, 384, 768},
        "channels of each stage (list of ints)", "hidden_sizes", true);
    key("depths", &ConvNextConfig::depths, std::vector<int64_t>{3, 3, 9, 3},
        "blocks of each stage (list of ints)", "depths", true);
    key("layer_norm_eps", &ConvNextConfig::layer_norm_eps, 1e-12,
        "epsilon of the final (pooler) LayerNorm; the inner ones use 1e-6 as in HF", "layer_norm_eps",
        true);
    key("drop_path_rate", &ConvNextConfig::drop_path_rate, 0.0,
        "stochastic depth of the last block (linearly from 0 over the blocks; training only); "
        "may be set beside a checkpoint",
        "drop_path_rate", false);
    key("image_size", &ConvNextConfig::image_size, int64_t{224},
        "nominal input size, recorded in config.json (any size >= patch_size * 2^(stages-1) runs)",
        "image_size", true);
    key("hidden_act", &ConvNextConfig::hidden_act, std::string("gelu"), "block activation (only gelu)",
        "hidden_act", true);
    key("initializer_range", &ConvNextConfig::initializer_range, 0.02,
        "std of the N(0, std) init of conv and linear weights", "initializer_range", true);
    key("num_labels", &ConvNextConfig::num_labels, int64_t{10}, "classes per output", "", true);
    key("outputs", &ConvNextConfig::outputs, int64_t{1},
        "classifications per image K (e.g. grid cells): logits [B, K, num_labels]; 1 = [B, num_labels]",
        "", true);
    n.schema.add("checkpoint", &ConvNextConfig::checkpoint, std::string(),
                 "HF directory (config.json + model.safetensors) to load; its config.json gives the "
                 "architecture, so shape keys set beside it are refused");
    return n;
  }();
  return s;
}

// ---- layers ---------------------------------------------------------------------------------

using imlsdk::Linear;

struct Conv2d : torch::nn::Module {
  Tensor weight, bias;
  int64_t stride, padding, groups;
  Conv2d(int64_t in, int64_t out, int64_t kernel, int64_t stride_, int64_t padding_ = 0, int64_t groups_ = 1)
      : stride(stride_), padding(padding_), groups(groups_) {
    weight = register_parameter("weight", at::empty({out, in / groups, kernel, kernel}));
    bias = register_parameter("bias", at::empty({out}));
  }
  Tensor operator()(const Tensor& x) const {
    return at::conv2d(x, weight, bias, {stride, stride}, {padding, padding}, {1, 1}, groups);
  }
  void init(double std) {
    at::NoGradGuard no_grad;
    weight.normal_(0, std);
    bias.zero_();
  }
};

// HF's ConvNextV2LayerNorm with data_format="channels_first": normalises x [B, C, H, W] over C.
// Computed as a LayerNorm over the last dim of the NHWC permutation; the result is NCHW with
// channels-last strides.
struct ChannelsFirstLayerNorm : torch::nn::Module {
  Tensor weight, bias;
  double eps;
  ChannelsFirstLayerNorm(int64_t dim, double eps_) : eps(eps_) {
    weight = register_parameter("weight", at::ones({dim}));
    bias = register_parameter("bias", at::zeros({dim}));
  }
  Tensor operator()(const Tensor& x) const {
    // A bf16 convolution output (training.precision=bf16) is normalised in fp32, as autocast does.
    const Tensor in = x.scalar_type() == weight.scalar_type() ? x : x.to(weight.scalar_type());
    return at::layer_norm(in.permute({0, 2, 3, 1}), {weight.size(0)}, weight, bias, eps).permute({0, 3, 1, 2});
  }
};

// Global response normalisation on rows x [B, HW, D]: the L2 norm of each channel over the
// image, divided by its mean over the channels, scales x: x + weight * (x * n) + bias.
struct GRN : torch::nn::Module {
  Tensor weight, bias;
  explicit GRN(int64_t dim) {
    weight = register_parameter("weight", at::zeros({1, 1, 1, dim}));
    bias = register_parameter("bias", at::zeros({1, 1, 1, dim}));
  }
  Tensor operator()(const Tensor& x) const {
    const int64_t D = weight.size(3);
    const Tensor g = at::norm(x, 2, {1}, /*keepdim=*/true);                 // [B, 1, D]
    const Tensor n = g / (g.mean(-1, /*keepdim=*/true) + 1e-6);           // [B, 1, D]
    // weight * (x * n) + bias + x, as x * (1 + weight * n) + bias: one pass over x.
    return at::addcmul(bias.view({1, 1, D}), x, (weight.view({1, 1, D}) * n).add_(1));
  }
};

// HF's drop_path: each sample's residual branch is zeroed with probability p, the kept ones
// scaled by 1 / (1 - p). x is [B, ...].
Tensor drop_path(const Tensor& x, double p, bool training) {
  if (p == 0.0 || !training) return x;
  const double keep = 1.0 - p;
  std::vector<int64_t> shape(static_cast<size_t>(x.dim()), 1);
  shape[0] = x.size(0);
  const Tensor mask = (at::rand(shape, x.options()) + keep).floor_();
  return x.div(keep) * mask;
}

struct Block : torch::nn::Module {
  std::shared_ptr<Conv2d> dwconv;
  std::shared_ptr<imlsdk::LayerNorm> layernorm;
  std::shared_ptr<Linear> pwconv1, pwconv2;
  std::shared_ptr<GRN> grn;
  double drop_prob;

  Block(int64_t dim, double drop_prob_) : drop_prob(drop_prob_) {
    dwconv = register_module("dwconv", std::make_shared<Conv2d>(dim, dim, kDepthwiseKernel, 1,
                                                                 kDepthwiseKernel / 2, dim));
    layernorm = register_module("layernorm", std::make_shared<imlsdk::LayerNorm>(dim, kInnerEps));
    pwconv1 = register_module("pwconv1", std::make_shared<Linear>(dim, 4 * dim));
    grn = register_module("grn", std::make_shared<GRN>(4 * dim));
    pwconv2 = register_module("pwconv2", std::make_shared<Linear>(4 * dim, dim));
  }

  // x [B, C, H, W] (channels-last strides) -> same shape and layout.
  Tensor forward(const Tensor& x) {
    const int64_t B = x.size(0), C = x.size(1), H = x.size(2), W = x.size(3);
    // NHWC rows; contiguous() is free when the conv kept the channels-last layout.
    Tensor h = (*dwconv)(x).permute({0, 2, 3, 1}).contiguous().view({B * H * W, C});
    h = imlsdk::gelu((*pwconv1)((*layernorm)(h)));
    h = (*grn)(h.view({B, H * W, 4 * C})).view({B * H * W, 4 * C});
    h = (*pwconv2)(h).view({B, H, W, C});
    return x + drop_path(h, drop_prob, is_training()).permute({0, 3, 1, 2});
  }
};

struct Downsampling : torch::nn::Module {
  std::shared_ptr<ChannelsFirstLayerNorm> norm;
  std::shared_ptr<Conv2d> conv;
  Downsampling(int64_t in, int64_t out) {
    norm = register_module("0", std::make_shared<ChannelsFirstLayerNorm>(in, kInnerEps));
    conv = register_module("1", std::make_shared<Conv2d>(in, out, 2, 2));
  }
  Tensor forward(const Tensor& x) { return (*conv)((*norm)(x)); }
};

struct Stage : torch::nn::Module {
  std::shared_ptr<Downsampling> downsampling_layer;  // null for stage 0 (HF's nn.Identity)
  std::vector<std::shared_ptr<Block>> layers;
  Stage(int64_t in, int64_t out, bool downsample, int64_t depth, const std::vector<double>& drop) {
    if (downsample)
      downsampling_layer = register_module("downsampling_layer", std::make_shared<Downsampling>(in, out));
    auto list = register_module("layers", std::make_shared<torch::nn::Module>());
    for (int64_t i = 0; i < depth; ++i)
      layers.push_back(list->register_module(std::to_string(i), std::make_shared<Block>(out, drop[i])));
  }
  Tensor forward(Tensor x) {
    if (downsampling_layer) x = downsampling_layer->forward(x);
    for (auto& l : layers) x = l->forward(x);
    return x;
  }
};

struct Embeddings : torch::nn::Module {
  std::shared_ptr<Conv2d> patch_embeddings;
  std::shared_ptr<ChannelsFirstLayerNorm> layernorm;
  explicit Embeddings(const ConvNextConfig& c) {
    patch_embeddings = register_module(
        "patch_embeddings", std::make_shared<Conv2d>(c.num_channels, c.hidden_sizes[0], c.patch_size, c.patch_size));
    layernorm = register_module("layernorm", std::make_shared<ChannelsFirstLayerNorm>(c.hidden_sizes[0], kInnerEps));
  }
};

struct ConvNextV2Model : torch::nn::Module {
  std::shared_ptr<Embeddings> embeddings;
  std::vector<std::shared_ptr<Stage>> stages;
  std::shared_ptr<imlsdk::LayerNorm> layernorm;

  explicit ConvNextV2Model(const ConvNextConfig& c) {
    embeddings = register_module("embeddings", std::make_shared<Embeddings>(c));
    // HF: torch.linspace(0, drop_path_rate, sum(depths)) (fp32), split per stage.
    std::vector<double> rates;
    if (c.num_blocks() > 0) {
      const Tensor r = at::linspace(0.0, c.drop_path_rate, c.num_blocks(), at::kFloat);
      for (int64_t i = 0; i < c.num_blocks(); ++i) rates.push_back(r[i].item<float>());
    }
    auto encoder = register_module("encoder", std::make_shared<torch::nn::Module>());
    auto list = encoder->register_module("stages", std::make_shared<torch::nn::Module>());
    int64_t prev = c.hidden_sizes[0], first = 0;
    for (int64_t s = 0; s < c.num_stages(); ++s) {
      const int64_t out = c.hidden_sizes[s];
      const std::vector<double> drop(rates.begin() + first, rates.begin() + first + c.depths[s]);
      first += c.depths[s];
      // HF downsamples when in != out or stride > 1 (stride 2 for every stage but the first).
      stages.push_back(list->register_module(
          std::to_string(s), std::make_shared<Stage>(prev, out, s > 0 || prev != out, c.depths[s], drop)));
      prev = out;
    }
    layernorm = register_module("layernorm", std::make_shared<imlsdk::LayerNorm>(prev, c.layer_norm_eps));
  }
};

class ConvNextV2ForImageClassification : public imlsdk::Model {
 public:
  ConvNextV2ForImageClassification(const ConvNextConfig& c, Json id2label)
      : config_(c), id2label_(std::move(id2label)) {
    convnextv2 = register_module("convnextv2", std::make_shared<ConvNextV2Model>(c));
    classifier = register_module("classifier",
                                 std::make_shared<Linear>(c.hidden_sizes.back(), c.outputs * c.num_labels));
  }

  // HF's _init_weights: N(0, initializer_range) for conv and linear weights, zero biases;
  // LayerNorms 1/0 and GRN 0/0 from construction. Draws from the global torch generator.
  void init_weights() {
    const double std = config_.initializer_range;
    convnextv2->embeddings->patch_embeddings->init(std);
    for (auto& stage : convnextv2->stages) {
      if (stage->downsampling_layer) stage->downsampling_layer->conv->init(std);
      for (auto& b : stage->layers) {
        b->dwconv->init(std);
        b->pwconv1->init(std);
        b->pwconv2->init(std);
      }
    }
    classifier->init(std);
  }

  imlsdk::ModelOutput forward(const imlsdk::ModelInput& a) override {
    const Tensor& w = classifier->weight;
    if (!a.pixel_values.defined())
      throw std::invalid_argument("convnext_v2: ModelInput.pixel_values is not set");
    const int64_t min_side = config_.patch_size << (config_.num_stages() - 1);
    if (a.pixel_values.dim() != 4 || a.pixel_values.size(1) != config_.num_channels ||
        a.pixel_values.size(2) < min_side || a.pixel_values.size(3) < min_side)
      throw std::invalid_argument("convnext_v2: pixel_values must be [B, " + std::to_string(config_.num_channels) +
                                  " (num_channels), H, W] with H, W >= " + std::to_string(min_side) + ", got " +
                                  join(a.pixel_values.sizes().vec()));
    const Tensor pixels = a.pixel_values.to(w.device(), w.scalar_type());
    const int64_t B = pixels.size(0);

    imlsdk::ModelOutput out;
    // HF: the embedding output, then every stage's output. No layer writes into its input.
    auto keep = [&](const Tensor& x) {
      if (a.output_hidden_states) out.hidden_states.push_back(x);
    };
    const Embeddings& emb = *convnextv2->embeddings;
    Tensor x = (*emb.layernorm)((*emb.patch_embeddings)(pixels));
    for (auto& stage : convnextv2->stages) {
      keep(x);
      x = stage->forward(x);
    }
    keep(x);
    const Tensor pooled = (*convnextv2->layernorm)(x.mean({2, 3}));  // HF's pooler_output [B, C]
    out.logits = (*classifier)(pooled);
    if (config_.outputs > 1) out.logits = out.logits.view({B, config_.outputs, config_.num_labels});
    return out;
  }

  imlsdk::ModelInfo info() const override {
    imlsdk::ModelInfo i;
    i.family = imlsdk::ModelFamily::ImageClassifier;
    i.num_layers = config_.num_blocks();
    i.hidden_size = config_.hidden_sizes.back();
    i.num_labels = config_.num_labels;
    // A convnet's FLOPs per image depend on the image size, not on a parameter count: 0 = not
    // given (bench_convnext counts them from the layer shapes).
    i.flop_params = 0;
    return i;
  }

  // SDK 2.3: forward writes nothing but its outputs; in training, drop path draws from
  // LibTorch's shared generator, whose draws two threads would interleave.
  bool concurrent_forward(bool training) const override { return !training || config_.drop_path_rate == 0; }

  Json hf_config() const override {
    Json j = {{"architectures", {"ConvNextV2ForImageClassification"}}, {"model_type", "convnextv2"}};
    j.update(convnext_schema().schema.write_hf(config_));
    j["num_stages"] = config_.num_stages();
    const int64_t total = config_.outputs * config_.num_labels;
    Json id2label = id2label_, label2id = Json::object();
    if (id2label.is_null()) {
      id2label = Json::object();
      for (int64_t i = 0; i < total; ++i) id2label[std::to_string(i)] = "LABEL_" + std::to_string(i);
    }
    // HF writes label2id with sorted keys (json sort_keys).
    std::map<std::string, int64_t> sorted;
    for (const auto& [k, v] : id2label.items()) sorted[v.get<std::string>()] = std::stoll(k);
    for (const auto& [label, id] : sorted) label2id[label] = id;
    j["id2label"] = id2label;
    j["label2id"] = label2id;
    if (config_.outputs > 1) j["iml_outputs"] = config_.outputs;
    j["torch_dtype"] = "float32";
    return j;
  }

  std::shared_ptr<ConvNextV2Model> convnextv2;
  std::shared_ptr<Linear> classifier;

 private:
  ConvNextConfig config_;
  Json id2label_;  // from a checkpoint's config.json (null: LABEL_<i>)
};

// ---- checkpoints ----------------------------------------------------------------------------

struct LoadedConfig {
  ConvNextConfig config;
  Json id2label;
};

// Reads the architecture from the folder's HF config.json. Errors name the file and the key.
LoadedConfig read_convnext_config(const fs::path& dir) {
  const Json j = imlsdk::read_hf_config(dir.string());
  const std::string file = (dir / "config.json").string();
  const std::string where = file + ": ";
  const Json model_type = j.value("model_type", Json());
  if (model_type != "convnextv2")
    throw std::runtime_error(where + "model_type is " + model_type.dump() + ", expected \"convnextv2\"");
  LoadedConfig out;
  ConvNextConfig& c = out.config;
  c = convnext_schema().schema.read_hf(j, file);
  c.checkpoint = dir.string();

  // Classes: id2label (what HF's PretrainedConfig goes by), else num_labels, else HF's 2.
  int64_t total = 2;
  if (j.contains("id2label") && !j.at("id2label").is_null()) {
    const Json& m = j.at("id2label");
    if (!m.is_object() || m.empty())
      throw std::runtime_error(where + "'id2label' must be a non-empty object, got " + m.dump());
    std::vector<bool> seen(m.size(), false);
    for (const auto& [k, v] : m.items()) {
      size_t used = 0;
      int64_t id = -1;
      try {
        id = std::stoll(k, &used);
      } catch (const std::exception&) {
      }
      if (used != k.size() || id < 0 || id >= static_cast<int64_t>(m.size()) || seen[id] || !v.is_string())
        throw std::runtime_error(where + "'id2label' must map the ids 0.." + std::to_string(m.size() - 1) +
                                 " once each to strings; bad entry \"" + k + "\": " + v.dump());
      seen[id] = true;
    }
    total = static_cast<int64_t>(m.size());
    out.id2label = m;
    if (j.contains("num_labels") && j.at("num_labels") != Json(total))
      throw std::runtime_error(where + "'num_labels' " + j.at("num_labels").dump() + " disagrees with the " +
                               std::to_string(total) + " entries of 'id2label'");
  } else if (j.contains("num_labels")) {
    if (!j.at("num_labels").is_number_integer())
      throw std::runtime_error(where + "'num_labels' must be int, got " + j.at("num_labels").dump());
    total = j.at("num_labels").get<int64_t>();
  }
  c.outputs = 1;
  if (j.contains("iml_outputs")) {
    if (!j.at("iml_outputs").is_number_integer() || j.at("iml_outputs").get<int64_t>() < 1)
      throw std::runtime_error(where + "'iml_outputs' must be an int >= 1, got " + j.at("iml_outputs").dump());
    c.outputs = j.at("iml_outputs").get<int64_t>();
  }
  if (total < 1 || total % c.outputs != 0)
    throw std::runtime_error(where + "num_labels " + std::to_string(total) + " is not a positive multiple of iml_outputs " +
                             std::to_string(c.outputs));
  c.num_labels = total / c.outputs;
  if (j.contains("num_stages") && j.at("num_stages") != Json(c.num_stages()))
    throw std::runtime_error(where + "'num_stages' " + j.at("num_stages").dump() + " differs from the " +
                             std::to_string(c.num_stages()) + " entries of 'hidden_sizes'");
  try {
    c.validate("");
  } catch (const std::invalid_argument& e) {
    throw std::runtime_error(where + e.what());
  }
  return out;
}

// ---- the plugin -----------------------------------------------------------------------------

class ConvNextV2 : public imlsdk::ModelPlugin {
  static Json default_of(const std::string& key) {
    for (const auto& spec : convnext_schema().schema.specs())
      if (spec.key == key) return spec.default_value;
    return Json();
  }

 public:
  std::vector<imlsdk::ParamSpec> params() const override { return convnext_schema().schema.specs(); }

  std::string default_task() const override { return "image_classification"; }
  std::vector<std::string> hf_model_types() const override { return {"convnextv2"}; }

  std::string checkpoint_dir(const Json& p, const std::string& base_dir) const override {
    const std::string checkpoint = convnext_schema().schema.read(p).checkpoint;
    if (checkpoint.empty()) return "";
    fs::path dir(checkpoint);
    if (dir.is_relative() && !base_dir.empty()) dir = fs::path(base_dir) / dir;
    return dir.string();
  }

  std::shared_ptr<imlsdk::Model> create(const Json& p, const imlsdk::ModelContext& ctx) const override {
    const auto& schema = convnext_schema();
    const std::string dir = checkpoint_dir(p, ctx.base_dir);
    if (!dir.empty()) {
      // A shape key beside a checkpoint would be silently overridden by its config.json.
      for (const auto& spec : schema.schema.specs())
        if (std::find(schema.architecture_keys.begin(), schema.architecture_keys.end(), spec.key) !=
                schema.architecture_keys.end() &&
            p.contains(spec.key) && p.at(spec.key) != spec.default_value)
          throw std::invalid_argument("convnext_v2: '" + spec.key + "' is set together with checkpoint " + dir +
                                      ", whose config.json gives the architecture; remove '" + spec.key + "'");
      if (!fs::is_directory(dir))
        throw std::runtime_error("convnext_v2: checkpoint " + dir + " is not a directory");
      LoadedConfig loaded = read_convnext_config(dir);
      // drop_path_rate is a training setting: one set here wins over config.json's.
      if (p.contains("drop_path_rate") && p.at("drop_path_rate") != default_of("drop_path_rate"))
        loaded.config.drop_path_rate = schema.schema.read(p).drop_path_rate;
      loaded.config.validate("convnext_v2: ");
      auto model = std::make_shared<ConvNextV2ForImageClassification>(loaded.config, loaded.id2label);
      imlsdk::load_hf_weights(*model, dir);
      return model;
    }
    ConvNextConfig c = schema.schema.read(p);
    c.validate("convnext_v2: ");
    auto model = std::make_shared<ConvNextV2ForImageClassification>(c, Json());
    model->init_weights();
    return model;
  }
};

}  // namespace

IMLSDK_PLUGIN(ConvNextV2, "convnext_v2", "2.3.0",
              "ConvNeXt V2 image classifier, optionally K outputs per image (HF-compatible weights)")
