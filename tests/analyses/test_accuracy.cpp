// The `accuracy` analysis on hand-made predictions: the asked output of QA examples
// (features["cell"]), every asked output of definitions, per eval set, `sets` / `max_examples`,
// and the loss through the real image_classification task (uniform logits: ln(num_labels)).
#include <gtest/gtest.h>

#include <ATen/ATen.h>

#include <cmath>

#include "imlsdk/analysis.hpp"
#include "test_plugins.hpp"

using imlsdk::Example;
using imlsdk::Json;

namespace {

// predict() answers features["pred"]; collate/loss are never called with loss: false.
struct FakeTask : imlsdk::Task {
  imlsdk::Batch collate(const std::vector<const Example*>&, imlsdk::Phase, imlsdk::Rng&) const override {
    throw std::logic_error("not used");
  }
  imlsdk::Loss loss(const imlsdk::ModelOutput&, const imlsdk::Batch&) const override { throw std::logic_error("not used"); }
  std::vector<imlsdk::Prediction> predict(imlsdk::Model&, const std::vector<const Example*>& xs) const override {
    std::vector<imlsdk::Prediction> out;
    for (const auto* x : xs) {
      imlsdk::Prediction p;
      p.labels = x->features.at("pred");
      out.push_back(p);
    }
    return out;
  }
};

// Logits all zero: argmax = class 0 everywhere, cross-entropy = ln(num_labels).
struct ZeroModel : imlsdk::Model {
  at::Tensor dummy;
  ZeroModel() { dummy = register_parameter("dummy", at::zeros({1})); }
  imlsdk::ModelOutput forward(const imlsdk::ModelInput& in) override {
    imlsdk::ModelOutput out;
    out.logits = at::zeros({in.pixel_values.size(0), 2, 11}) * dummy;
    return out;
  }
  imlsdk::ModelInfo info() const override {
    imlsdk::ModelInfo i;
    i.family = imlsdk::ModelFamily::ImageClassifier;
    i.num_labels = 11;
    return i;
  }
  Json hf_config() const override { return Json::object(); }
};

struct TinyPictures : imlsdk::Dataset {
  imlsdk::DataSplit split(const imlsdk::SplitContext&) const override { return {}; }
  imlsdk::Image image(const Example&, bool, imlsdk::Rng&) const override { return {1, 2, 2, {0.f, 0.f, 0.f, 0.f}}; }
};

Example qa(int64_t cell, std::vector<int64_t> labels, std::vector<int64_t> pred) {
  Example x;
  x.kind = "qa";
  x.features["cell"] = {cell};
  x.features["labels"] = std::move(labels);
  x.features["pred"] = std::move(pred);
  return x;
}

Example definition(std::vector<int64_t> labels, std::vector<int64_t> pred) {
  Example x = qa(0, std::move(labels), std::move(pred));
  x.kind = "definition";
  x.features.erase("cell");
  return x;
}

imlsdk::DataSplit hand_made() {
  imlsdk::DataSplit s;
  // Cell 1 asked; the other cell's prediction must not matter. Right: 1st, 3rd, 4th -> 3/5.
  s.evals.push_back({"d1consis",
                     {qa(1, {10, 7}, {3, 7}), qa(1, {10, 7}, {10, 2}), qa(0, {4, 10}, {4, 4}), qa(0, {0, 10}, {0, 0}),
                      qa(1, {10, 9}, {9, 8})}});
  // Definitions: right only when every asked output is (-100 is not asked). Right: 1st, 3rd -> 2/4.
  s.evals.push_back({"train_defs", {definition({1, 2}, {1, 2}), definition({1, 2}, {1, 3}), definition({-100, 5}, {0, 5}),
                                    definition({6, -100}, {5, 6})}});
  s.evals.push_back({"d2consis", {qa(0, {2, 10}, {3, 10}), qa(0, {2, 10}, {2, 10})}});
  return s;
}

std::map<std::string, std::map<std::string, double>> evaluate(const Json& overrides, const imlsdk::DataSplit& data,
                                                              const imlsdk::Task& task, imlsdk::Model& model,
                                                              std::map<std::string, int64_t>* counts = nullptr) {
  static auto plugin = imltest::load_plugin<imlsdk::AnalysisPlugin>("accuracy");
  imlsdk::AnalysisContext ctx;
  for (const auto& e : data.evals) ctx.eval_sets.push_back(e.name);
  auto a = plugin->create(imltest::with_defaults(*plugin, overrides), ctx);
  imlsdk::EvalState st;
  st.model = &model;
  st.task = &task;
  st.data = &data;
  st.batch_size = 2;  // several batches per set
  std::map<std::string, std::map<std::string, double>> out;
  for (const auto& m : a->on_evaluate(st)) {
    out[m.eval_set][m.name] = m.value.get<double>();
    if (counts) (*counts)[m.eval_set + "/" + m.name] = m.count;
  }
  return out;
}

}  // namespace

TEST(Accuracy, ScoresTheAskedCellOfQuestionsAndEveryAskedCellOfDefinitions) {
  FakeTask task;
  ZeroModel model;
  std::map<std::string, int64_t> counts;
  const auto m = evaluate({{"loss", false}}, hand_made(), task, model, &counts);
  ASSERT_EQ(m.size(), 3u);
  EXPECT_DOUBLE_EQ(m.at("d1consis").at("accuracy"), 0.6);
  EXPECT_DOUBLE_EQ(m.at("train_defs").at("accuracy"), 0.5);
  EXPECT_DOUBLE_EQ(m.at("d2consis").at("accuracy"), 0.5);
  EXPECT_EQ(m.at("d1consis").count("loss"), 0u);
  EXPECT_EQ(counts.at("d1consis/accuracy"), 5);
}

TEST(Accuracy, SetsAndMaxExamplesAndBadNames) {
  FakeTask task;
  ZeroModel model;
  const auto m = evaluate({{"loss", false}, {"sets", {"d1consis"}}, {"max_examples", 2}}, hand_made(), task, model);
  ASSERT_EQ(m.size(), 1u);
  EXPECT_DOUBLE_EQ(m.at("d1consis").at("accuracy"), 0.5);  // the first two: right, wrong
  try {
    evaluate({{"sets", {"d1consis", "nosuch"}}}, hand_made(), task, model);
    FAIL() << "an unknown set must be refused";
  } catch (const std::invalid_argument& e) {
    EXPECT_NE(std::string(e.what()).find("no eval set named 'nosuch'"), std::string::npos) << e.what();
  }
  imlsdk::DataSplit bad;
  bad.evals.push_back({"x", {qa(5, {1, 2}, {1, 2})}});
  EXPECT_THROW(evaluate({{"loss", false}}, bad, task, model), std::invalid_argument);
}

TEST(Accuracy, LossAndPredictionsThroughTheImageClassificationTask) {
  TinyPictures data;
  ZeroModel model;
  auto plugin = imltest::load_plugin<imlsdk::TaskPlugin>("image_classification");
  imlsdk::TaskContext ctx;
  ctx.dataset = &data;
  ctx.model = model.info();
  auto task = plugin->create(imltest::with_defaults(*plugin), ctx);
  // Zero logits predict class 0 everywhere: right where the asked label is 0.
  imlsdk::DataSplit s;
  s.evals.push_back({"q", {qa(0, {0, 10}, {}), qa(1, {10, 0}, {}), qa(1, {10, 3}, {}), qa(0, {5, -100}, {})}});
  const auto m = evaluate(Json::object(), s, *task, model);
  EXPECT_DOUBLE_EQ(m.at("q").at("accuracy"), 0.5);
  EXPECT_NEAR(m.at("q").at("loss"), std::log(11.0), 1e-6);
}
