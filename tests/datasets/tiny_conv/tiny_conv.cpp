// Test-only model plugin `test_tiny_conv`: a small image classifier (two strided 3x3
// convolutions, ReLU, adaptive average pooling to 4x4, one linear layer) giving logits
// [B, outputs, num_labels], so the MNIST-grid pipeline runs end to end in tests without the
// real ConvNeXt plugin. Built into the test-plugin folder, never installed.
#include <ATen/ATen.h>

#include <cmath>

#include "imlsdk/model.hpp"
#include "imlsdk/params.hpp"

namespace {

using imlsdk::Json;

struct Shape {
  int64_t outputs = 4, num_labels = 11, channels = 16;
};

const imlsdk::Schema<Shape>& schema() {
  static const auto s = imlsdk::Schema<Shape>()
      .add("outputs", &Shape::outputs, int64_t{4}, "outputs (grid cells)")
      .add("num_labels", &Shape::num_labels, int64_t{11}, "classes per output")
      .add("channels", &Shape::channels, int64_t{16}, "channels of the first convolution (the second has twice as many)");
  return s;
}

at::Tensor uniform(std::vector<int64_t> shape, int64_t fan_in) {
  const double b = 1.0 / std::sqrt(static_cast<double>(fan_in));
  return at::empty(shape).uniform_(-b, b);
}

struct TinyConv : imlsdk::Model {
  Shape s;
  at::Tensor w1, b1, w2, b2, w3, b3;
  explicit TinyConv(const Shape& shape) : s(shape) {
    const int64_t c = s.channels;
    w1 = register_parameter("conv1_weight", uniform({c, 1, 3, 3}, 9));
    b1 = register_parameter("conv1_bias", uniform({c}, 9));
    w2 = register_parameter("conv2_weight", uniform({2 * c, c, 3, 3}, 9 * c));
    b2 = register_parameter("conv2_bias", uniform({2 * c}, 9 * c));
    w3 = register_parameter("head_weight", uniform({s.outputs * s.num_labels, 2 * c * 16}, 2 * c * 16));
    b3 = register_parameter("head_bias", uniform({s.outputs * s.num_labels}, 2 * c * 16));
  }
  imlsdk::ModelOutput forward(const imlsdk::ModelInput& in) override {
    at::Tensor x = at::relu(at::conv2d(in.pixel_values, w1, b1, {2, 2}, {1, 1}));
    x = at::relu(at::conv2d(x, w2, b2, {2, 2}, {1, 1}));
    x = at::adaptive_avg_pool2d(x, {4, 4}).flatten(1);
    imlsdk::ModelOutput out;
    out.logits = at::linear(x, w3, b3).view({-1, s.outputs, s.num_labels});
    return out;
  }
  imlsdk::ModelInfo info() const override {
    imlsdk::ModelInfo i;
    i.family = imlsdk::ModelFamily::ImageClassifier;
    i.num_labels = s.num_labels;
    return i;
  }
  Json hf_config() const override { return schema().write(s); }
};

class TinyConvPlugin : public imlsdk::ModelPlugin {
 public:
  std::vector<imlsdk::ParamSpec> params() const override { return schema().specs(); }
  std::shared_ptr<imlsdk::Model> create(const Json& params, const imlsdk::ModelContext&) const override {
    const Shape s = schema().read(params);
    if (s.outputs < 1 || s.num_labels < 2 || s.channels < 1) throw std::invalid_argument("test_tiny_conv: bad shape");
    return std::make_shared<TinyConv>(s);
  }
  std::string default_task() const override { return "image_classification"; }
};

}  // namespace

IMLSDK_PLUGIN(TinyConvPlugin, "test_tiny_conv", "0.1.0", "Test-only tiny conv image classifier")
