// Task `image_classification`: an image model predicts one class per output (e.g. one label
// per cell of an image grid). The dataset renders each example's pixels (Dataset::image;
// training images may be sampled online from the micro-batch's Rng); the targets are the
// example's features["labels"] (-100 = not asked).
//
//   collate: pixel_values [B, C, H, W], labels [B, K]
//   loss:    mean cross-entropy over the asked outputs, logits [B, K, num_labels]
//   predict: the argmax class of every output
#include <ATen/ATen.h>
#include <c10/core/GradMode.h>

#include <cstring>
#include <stdexcept>

#include "imlsdk/params.hpp"
#include "imlsdk/task.hpp"

namespace {

using imlsdk::Json;

struct Settings {
  int64_t eval_batch_size = 0;
};

const imlsdk::Schema<Settings>& schema() {
  static const auto s = imlsdk::Schema<Settings>().add(
      "predict_batch_size", &Settings::eval_batch_size, int64_t{256}, "images per forward pass when predicting");
  return s;
}

class ImageClassification : public imlsdk::Task {
 public:
  ImageClassification(const Settings& s, const imlsdk::TaskContext& ctx)
      : s_(s), data_(*ctx.dataset), device_(ctx.device), num_labels_(ctx.model.num_labels) {}

  imlsdk::Batch collate(const std::vector<const imlsdk::Example*>& xs, imlsdk::Phase phase,
                        imlsdk::Rng& rng) const override {
    if (xs.empty()) throw std::invalid_argument("image_classification: empty batch");
    const int64_t B = static_cast<int64_t>(xs.size());
    at::Tensor pixels, labels;
    for (int64_t i = 0; i < B; ++i) {
      const imlsdk::Example& x = *xs[i];
      const imlsdk::Image img = data_.image(x, phase == imlsdk::Phase::Train, rng);
      const auto it = x.features.find("labels");
      if (it == x.features.end() || it->second.empty())
        throw std::invalid_argument("image_classification: an example has no features[\"labels\"]");
      const auto& y = it->second;
      if (i == 0) {
        pixels = at::empty({B, img.channels, img.height, img.width}, at::kFloat);
        labels = at::empty({B, static_cast<int64_t>(y.size())}, at::kLong);
      }
      if (pixels.size(1) != img.channels || pixels.size(2) != img.height || pixels.size(3) != img.width ||
          static_cast<int64_t>(img.pixels.size()) != img.channels * img.height * img.width)
        throw std::invalid_argument("image_classification: images of one batch differ in size");
      if (static_cast<int64_t>(y.size()) != labels.size(1))
        throw std::invalid_argument("image_classification: examples of one batch have different numbers of labels");
      for (int64_t v : y)
        if (v != -100 && (v < 0 || v >= num_labels_))
          throw std::invalid_argument("image_classification: label " + std::to_string(v) + " is outside the model's " +
                                      std::to_string(num_labels_) + " classes");
      std::memcpy(pixels[i].data_ptr<float>(), img.pixels.data(), img.pixels.size() * sizeof(float));
      std::memcpy(labels[i].data_ptr<int64_t>(), y.data(), y.size() * sizeof(int64_t));
    }
    imlsdk::Batch b;
    b.examples = B;
    b.units = B;
    b.targets = labels.ne(-100).sum().item<int64_t>();
    b.input.pixel_values = pixels.to(device_);
    b.labels = labels.to(device_);
    return b;
  }

  imlsdk::Loss loss(const imlsdk::ModelOutput& out, const imlsdk::Batch& b) const override {
    const at::Tensor logits = out.logits.reshape({b.labels.size(0), b.labels.size(1), -1});
    return {imlsdk::token_cross_entropy(logits, b.labels), b.targets};
  }

  std::vector<imlsdk::Prediction> predict(imlsdk::Model& model,
                                          const std::vector<const imlsdk::Example*>& xs) const override {
    at::NoGradGuard no_grad;
    std::vector<imlsdk::Prediction> out;
    imlsdk::Rng unused(0);
    for (size_t b0 = 0; b0 < xs.size(); b0 += static_cast<size_t>(s_.eval_batch_size)) {
      const std::vector<const imlsdk::Example*> part(xs.begin() + b0, xs.begin() + std::min(xs.size(), b0 + s_.eval_batch_size));
      const imlsdk::Batch b = collate(part, imlsdk::Phase::Eval, unused);
      const at::Tensor logits = model.forward(b.input).logits.reshape({b.labels.size(0), b.labels.size(1), -1});
      const at::Tensor best = logits.argmax(-1).to(at::kCPU).contiguous();
      for (int64_t i = 0; i < best.size(0); ++i) {
        imlsdk::Prediction p;
        const int64_t* row = best[i].data_ptr<int64_t>();
        p.labels.assign(row, row + best.size(1));
        out.push_back(std::move(p));
      }
    }
    return out;
  }

 private:
  Settings s_;
  const imlsdk::Dataset& data_;
  c10::Device device_;
  int64_t num_labels_;
};

class ImageClassificationPlugin : public imlsdk::TaskPlugin {
 public:
  std::vector<imlsdk::ParamSpec> params() const override { return schema().specs(); }

  std::unique_ptr<imlsdk::Task> create(const Json& params, const imlsdk::TaskContext& ctx) const override {
    const Settings s = schema().read(params);
    if (ctx.model.family != imlsdk::ModelFamily::ImageClassifier)
      throw std::invalid_argument(std::string("trains image classifiers; the model is a ") + imlsdk::family_name(ctx.model.family));
    if (!ctx.dataset) throw std::invalid_argument("needs a dataset that renders images");
    if (ctx.model.num_labels < 1) throw std::invalid_argument("the model declares no classes (num_labels)");
    if (s.eval_batch_size < 1) throw std::invalid_argument("predict_batch_size must be >= 1");
    return std::make_unique<ImageClassification>(s, ctx);
  }
};

}  // namespace

IMLSDK_PLUGIN(ImageClassificationPlugin, "image_classification", "1.0.0",
              "Image classifier: one class per output, pixels rendered by the dataset")
