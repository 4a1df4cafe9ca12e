// The convnext_v2 model plugin: HF conformance fixture (logits, every hidden state, the pooler
// output, loss, every gradient), drop-path (identity in eval, active and seeded in training),
// grid outputs [B, K, num_labels] through the image_classification task, the params schema,
// checkpoint round trips and refusals.
#include <ATen/ATen.h>
#include <gtest/gtest.h>

#include <filesystem>
#include <fstream>
#include <set>

#include "imlsdk/checkpoint.hpp"
#include "imlsdk/data.hpp"
#include "imlsdk/model.hpp"
#include "imlsdk/rng.hpp"
#include "imlsdk/safetensors.hpp"
#include "imlsdk/task.hpp"
#include "require_fixture.hpp"
#include "model_test_support.hpp"
#include "test_plugins.hpp"

namespace {

namespace fs = std::filesystem;
using imlsdk::Json;
using torch::Tensor;

std::shared_ptr<imlsdk::ModelPlugin> plugin() {
  static auto p = imltest::load_plugin<imlsdk::ModelPlugin>("convnext_v2");
  return p;
}

using imltest::max_abs_diff;
using imltest::Parity;
using imltest::read_json;
using imltest::TempDir;

// ---- HF conformance fixture -------------------------------------------------------------------

class ConvNextV2Conformance : public ::testing::Test {
 protected:
  void SetUp() override {
    dir_ = fs::path(imltest::conformance_dir()) / "convnextv2";
    if (!imltest::require_fixture_dir(dir_.string(), "set IML_CONFORMANCE_DIR")) return;
    model_ = plugin()->create(imltest::with_defaults(*plugin(), {{"checkpoint", dir_.string()}}),
                              imlsdk::ModelContext{});
    model_->eval();
    input_ = read_json(dir_ / "input.json");
    expected_json_ = read_json(dir_ / "expected.json");
    expected_ = imlsdk::read_safetensors((dir_ / "expected.safetensors").string());
    pixels_ = imlsdk::read_safetensors((dir_ / "input.safetensors").string()).at("pixel_values");
  }
  std::vector<std::string> hidden_state_keys() const {
    std::vector<std::string> keys;
    while (expected_.count("hidden_states." + std::to_string(keys.size())))
      keys.push_back("hidden_states." + std::to_string(keys.size()));
    return keys;
  }
  fs::path dir_;
  std::shared_ptr<imlsdk::Model> model_;
  Json input_, expected_json_;
  std::map<std::string, Tensor> expected_;
  Tensor pixels_;
};

TEST_F(ConvNextV2Conformance, SuiteCoversEveryExpectedTensor) {
  std::set<std::string> covered = {"logits", "loss", "pooler_output"};
  for (const auto& k : hidden_state_keys()) covered.insert(k);
  std::set<std::string> listed;
  for (const auto& kv : expected_) listed.insert(kv.first);
  EXPECT_EQ(listed, covered);
  // HF: the embedding output and each stage's output.
  const Json config = read_json(dir_ / "config.json");
  EXPECT_EQ(hidden_state_keys().size(), config.at("hidden_sizes").size() + 1);
}

TEST_F(ConvNextV2Conformance, LogitsHiddenStatesPoolerLossAndGradients) {
  imlsdk::ModelInput in;
  in.pixel_values = pixels_;
  in.output_hidden_states = true;
  const imlsdk::ModelOutput out = model_->forward(in);

  Parity logits{"logits"};
  logits.check("logits", out.logits, expected_.at("logits"), 1e-4);
  EXPECT_EQ(logits.compared, 1);
  EXPECT_EQ(model_->info().num_labels, 11);

  const auto keys = hidden_state_keys();
  Parity hidden{"hidden states, pooler_output"};
  ASSERT_EQ(out.hidden_states.size(), keys.size());
  for (size_t i = 0; i < keys.size(); ++i)
    hidden.check(keys[i], out.hidden_states[i], expected_.at(keys[i]), 1e-4);
  // pooler_output = the final LayerNorm of the last stage's spatial mean; the logits are the
  // classifier of it, so ours must be the classifier's input.
  const auto params = model_->named_parameters();
  const Tensor pooled = at::layer_norm(out.hidden_states.back().mean({2, 3}), {128},
                                       params["convnextv2.layernorm.weight"], params["convnextv2.layernorm.bias"], 1e-12);
  hidden.check("pooler_output", pooled, expected_.at("pooler_output"), 1e-4);
  EXPECT_LE(max_abs_diff(at::addmm(params["classifier.bias"], pooled, params["classifier.weight"].t()), out.logits), 1e-5);
  EXPECT_EQ(hidden.compared, static_cast<int64_t>(keys.size()) + 1);

  // The loss as the image_classification task computes it: logits [B, K=1, 11], labels [B, 1].
  const auto labels = input_["labels"].get<std::vector<int64_t>>();
  const Tensor y = at::tensor(labels, at::kLong).view({-1, 1});
  Tensor loss = imlsdk::token_cross_entropy(out.logits.view({y.size(0), 1, -1}), y);
  Parity losses{"loss"};
  losses.check("loss", loss, expected_.at("loss"), 1e-5);
  EXPECT_EQ(losses.compared, 1);
  EXPECT_NEAR(loss.item<double>(), expected_json_["loss"].get<double>(), 1e-5);

  model_->zero_grad();
  loss.backward();
  EXPECT_EQ(imltest::expect_gradients_equal_hf(*model_, dir_, "gradients",
                                               expected_json_["num_parameters"].get<int64_t>()),
            60);
}

TEST_F(ConvNextV2Conformance, HfConfigAgreesWithHFs) {
  const Json theirs = read_json(dir_ / "config.json");
  const Json ours = model_->hf_config();
  int64_t compared = 0;
  for (const auto& [key, value] : ours.items()) {
    ASSERT_TRUE(theirs.contains(key)) << key;
    EXPECT_EQ(value, theirs.at(key)) << key;
    ++compared;
  }
  EXPECT_EQ(compared, 15);  // every HF key of the schema, num_stages, labels and fixed keys
}

// ---- small random models ----------------------------------------------------------------------

Json small_params(Json overrides = Json::object()) {
  Json p = {{"num_channels", 1}, {"patch_size", 2}, {"hidden_sizes", {8, 16}}, {"depths", {2, 1}},
            {"image_size", 16}, {"num_labels", 5}, {"initializer_range", 0.3}};
  for (auto it = overrides.begin(); it != overrides.end(); ++it) p[it.key()] = it.value();
  return imltest::with_defaults(*plugin(), p);
}

std::shared_ptr<imlsdk::Model> small_model(Json overrides = Json::object(), uint64_t seed = 7) {
  at::manual_seed(seed);
  auto m = plugin()->create(small_params(std::move(overrides)), imlsdk::ModelContext{});
  // Non-trivial norms and GRN (HF's init has GRN = 0, which would hide it).
  at::NoGradGuard no_grad;
  at::manual_seed(seed + 1);
  for (auto& p : m->named_parameters())
    if (p.value().dim() == 1 || p.key().find(".grn.") != std::string::npos) p.value().add_(at::randn_like(p.value()) * 0.2);
  return m;
}

imlsdk::ModelInput some_images(int64_t B = 3, int64_t side = 16) {
  at::manual_seed(11);
  imlsdk::ModelInput in;
  in.pixel_values = at::randn({B, 1, side, side});
  return in;
}

TEST(ConvNextV2, InfoShapesAndHiddenStates) {
  auto model = small_model();
  const imlsdk::ModelInfo info = model->info();
  EXPECT_EQ(info.family, imlsdk::ModelFamily::ImageClassifier);
  EXPECT_EQ(info.num_labels, 5);
  EXPECT_EQ(info.num_layers, 3);
  EXPECT_EQ(info.hidden_size, 16);
  EXPECT_EQ(info.vocab_size, 0);
  EXPECT_EQ(plugin()->default_task(), "image_classification");
  EXPECT_EQ(plugin()->hf_model_types(), std::vector<std::string>{"convnextv2"});
  model->eval();
  at::NoGradGuard no_grad;
  imlsdk::ModelInput in = some_images();
  const auto plain = model->forward(in);
  EXPECT_EQ(plain.logits.sizes(), at::IntArrayRef({3, 5}));  // K = 1: [B, num_labels] as HF
  EXPECT_TRUE(plain.hidden_states.empty());
  in.output_hidden_states = true;
  const auto out = model->forward(in);
  ASSERT_EQ(out.hidden_states.size(), 3u);
  EXPECT_EQ(out.hidden_states[0].sizes(), at::IntArrayRef({3, 8, 8, 8}));
  EXPECT_EQ(out.hidden_states[1].sizes(), at::IntArrayRef({3, 8, 8, 8}));
  EXPECT_EQ(out.hidden_states[2].sizes(), at::IntArrayRef({3, 16, 4, 4}));
  EXPECT_TRUE(at::equal(out.logits, plain.logits)) << "asking for hidden states changes nothing";
  // Another image size runs (the convolutions do not fix it); too small ones are refused.
  in.pixel_values = at::randn({2, 1, 12, 20});
  EXPECT_EQ(model->forward(in).hidden_states[2].sizes(), at::IntArrayRef({2, 16, 3, 5}));
  in.pixel_values = at::randn({2, 3, 16, 16});
  EXPECT_THROW(model->forward(in), std::invalid_argument);
  in.pixel_values = at::randn({2, 1, 2, 16});
  EXPECT_THROW(model->forward(in), std::invalid_argument);
}

// Each image is its own: a batch gives each row what it gives alone (per-sample GRN statistics).
TEST(ConvNextV2, RowsAreIndependent) {
  auto model = small_model();
  model->eval();
  at::NoGradGuard no_grad;
  const imlsdk::ModelInput in = some_images(4);
  const Tensor batch = model->forward(in).logits;
  for (int64_t i = 0; i < 4; ++i) {
    imlsdk::ModelInput one;
    one.pixel_values = in.pixel_values.narrow(0, i, 1);
    EXPECT_LE(max_abs_diff(model->forward(one).logits[0], batch[i]), 1e-5) << "row " << i;
  }
}

TEST(ConvNextV2, DropPathIsIdentityInEvalAndStochasticInTraining) {
  auto plain = small_model({{"drop_path_rate", 0.0}});
  auto dropping = small_model({{"drop_path_rate", 0.6}});  // same weights (same seed)
  EXPECT_EQ(dropping->hf_config()["drop_path_rate"], 0.6);
  const imlsdk::ModelInput in = some_images(8);
  at::NoGradGuard no_grad;
  plain->eval();
  dropping->eval();
  const Tensor reference = plain->forward(in).logits;
  EXPECT_TRUE(at::equal(dropping->forward(in).logits, reference)) << "eval: drop-path is the identity";
  plain->train();
  EXPECT_TRUE(at::equal(plain->forward(in).logits, reference)) << "rate 0: identity in training too";

  dropping->train();
  at::manual_seed(100);
  const Tensor a = dropping->forward(in).logits;
  at::manual_seed(100);
  const Tensor b = dropping->forward(in).logits;
  at::manual_seed(101);
  const Tensor c = dropping->forward(in).logits;
  EXPECT_TRUE(at::equal(a, b)) << "deterministic from the torch generator";
  EXPECT_GT(max_abs_diff(a, reference), 1e-3) << "training: some residual branch is dropped";
  EXPECT_GT(max_abs_diff(a, c), 1e-3) << "another seed drops other branches";
  // Rates rise linearly over the 3 blocks (0, 0.3, 0.6), and a branch is dropped per image, not
  // per element: each row's training output is one of 4 (kept/dropped for blocks 2 and 3).
  std::vector<std::vector<Tensor>> seen(8);
  for (int seed = 200; seed < 212; ++seed) {
    at::manual_seed(seed);
    const Tensor t = dropping->forward(in).logits;
    for (int64_t i = 0; i < 8; ++i) {
      bool known = false;
      for (const auto& v : seen[i]) known = known || max_abs_diff(v, t[i]) < 1e-5;
      if (!known) seen[i].push_back(t[i]);
    }
  }
  for (int64_t i = 0; i < 8; ++i) {
    EXPECT_GE(seen[i].size(), 2u) << "row " << i;
    EXPECT_LE(seen[i].size(), 4u) << "row " << i;
  }
}

TEST(ConvNextV2, GridOutputs) {
  auto model = small_model({{"outputs", 4}, {"num_labels", 11}});
  EXPECT_EQ(model->info().num_labels, 11);
  EXPECT_EQ(model->named_parameters()["classifier.weight"].sizes(), at::IntArrayRef({44, 16}));
  at::NoGradGuard no_grad;
  const auto out = model->forward(some_images(3));
  EXPECT_EQ(out.logits.sizes(), at::IntArrayRef({3, 4, 11}));
  // Output k is classifier rows k*11 .. k*11+10.
  imlsdk::ModelInput in = some_images(3);
  in.output_hidden_states = true;
  const auto params = model->named_parameters();
  const Tensor pooled = at::layer_norm(model->forward(in).hidden_states.back().mean({2, 3}), {16},
                                       params["convnextv2.layernorm.weight"], params["convnextv2.layernorm.bias"], 1e-12);
  const Tensor flat = at::addmm(params["classifier.bias"], pooled, params["classifier.weight"].t());
  EXPECT_LE(max_abs_diff(flat.view({3, 4, 11}), out.logits), 1e-5);
  const Json cfg = model->hf_config();
  EXPECT_EQ(cfg["iml_outputs"], 4);
  EXPECT_EQ(cfg["id2label"].size(), 44u);  // HF loads one classifier of K * num_labels rows
}

// A grid dataset through the image_classification task: K = 2 outputs, loss falls.
struct TwoCells : imlsdk::Dataset {
  imlsdk::DataSplit split(const imlsdk::SplitContext&) const override { return {}; }
  imlsdk::Image image(const imlsdk::Example& x, bool, imlsdk::Rng&) const override {
    // Left half bright for class 1 of output 0, right half for output 1.
    imlsdk::Image img{1, 16, 16, std::vector<float>(256, 0.f)};
    const auto& y = x.features.at("labels");
    for (int64_t r = 0; r < 16; ++r)
      for (int64_t c = 0; c < 16; ++c) img.pixels[r * 16 + c] = static_cast<float>(y[c < 8 ? 0 : 1]);
    return img;
  }
};

TEST(ConvNextV2, TrainsThroughTheImageClassificationTask) {
  auto model = small_model({{"outputs", 2}, {"num_labels", 2}});
  TwoCells data;
  auto task_plugin = imltest::load_plugin<imlsdk::TaskPlugin>("image_classification");
  imlsdk::TaskContext ctx;
  ctx.dataset = &data;
  ctx.model = model->info();
  auto task = task_plugin->create(imltest::with_defaults(*task_plugin), ctx);
  std::vector<imlsdk::Example> xs(4);
  for (int i = 0; i < 4; ++i) xs[i].features["labels"] = {i & 1, (i >> 1) & 1};
  imlsdk::Rng rng(0);
  const imlsdk::Batch batch = task->collate(imlsdk::example_refs(xs, 0, 4), imlsdk::Phase::Train, rng);
  model->train();
  double first = 0, last = 0;
  for (int step = 0; step < 30; ++step) {
    const imlsdk::Loss loss = task->loss(model->forward(batch.input), batch);
    EXPECT_EQ(loss.count, 8);
    if (step == 0) first = loss.value.item<double>();
    last = loss.value.item<double>();
    model->zero_grad();
    loss.value.backward();
    at::NoGradGuard no_grad;
    for (auto& p : model->parameters()) p.sub_(p.grad() * 0.05);  // plain SGD
  }
  EXPECT_LT(last, 0.5 * first) << first << " -> " << last;
  model->eval();
  const auto preds = task->predict(*model, imlsdk::example_refs(xs, 0, 4));
  for (int i = 0; i < 4; ++i) EXPECT_EQ(preds[i].labels, xs[i].features.at("labels")) << "example " << i;
}

TEST(ConvNextV2, FromScratchInitIsHFs) {
  at::manual_seed(3);
  auto model = plugin()->create(small_params({{"initializer_range", 0.05}, {"hidden_sizes", {32, 64}}}),
                                imlsdk::ModelContext{});
  int64_t checked = 0;
  for (const auto& p : model->named_parameters()) {
    const std::string& k = p.key();
    const Tensor& v = p.value();
    auto ends_with = [&](const std::string& s) { return k.size() >= s.size() && k.compare(k.size() - s.size(), s.size(), s) == 0; };
    const bool norm = k.find("layernorm") != std::string::npos || k.find("downsampling_layer.0") != std::string::npos;
    if (k.find(".grn.") != std::string::npos) {
      EXPECT_EQ(v.abs().max().item<float>(), 0.f) << k;
    } else if (norm) {
      EXPECT_EQ(v.sub(ends_with("weight") ? 1.0 : 0.0).abs().max().item<float>(), 0.f) << k;
    } else if (ends_with("bias")) {
      EXPECT_EQ(v.abs().max().item<float>(), 0.f) << k;
    } else {
      ASSERT_TRUE(ends_with("weight")) << k;
      if (v.numel() >= 1000) {
        EXPECT_NEAR(v.std().item<double>(), 0.05, 0.006) << k;
        EXPECT_NEAR(v.mean().item<double>(), 0.0, 0.01) << k;
      }
    }
    ++checked;
  }
  EXPECT_EQ(checked, 4 + 10 * 3 + 4 + 2 + 2);  // stem, 3 blocks, downsampling, pooler, classifier
}

TEST(ConvNextV2, ParamsDeclaredOnceWithTheTinyShape) {
  std::vector<std::string> keys;
  Json defaults = Json::object();
  for (const auto& spec : plugin()->params()) {
    keys.push_back(spec.key);
    defaults[spec.key] = spec.default_value;
    EXPECT_FALSE(spec.help.empty()) << spec.key;
    EXPECT_TRUE(imlsdk::json_matches(spec.default_value, spec.type)) << spec.key;
  }
  EXPECT_EQ(keys, (std::vector<std::string>{"num_channels", "patch_size", "hidden_sizes", "depths",
                                            "layer_norm_eps", "drop_path_rate", "image_size", "hidden_act",
                                            "initializer_range", "num_labels", "outputs", "checkpoint"}));
  EXPECT_EQ(defaults["hidden_sizes"], Json({96, 192, 384, 768}));
  EXPECT_EQ(defaults["depths"], Json({3, 3, 9, 3}));
  EXPECT_EQ(defaults["num_channels"], 3);
  EXPECT_EQ(defaults["patch_size"], 4);
  EXPECT_EQ(defaults["layer_norm_eps"], 1e-12);
  EXPECT_EQ(defaults["drop_path_rate"], 0.0);
  EXPECT_EQ(defaults["image_size"], 224);
  EXPECT_EQ(defaults["hidden_act"], "gelu");
  EXPECT_EQ(defaults["initializer_range"], 0.02);
  EXPECT_EQ(defaults["outputs"], 1);
  EXPECT_EQ(defaults["checkpoint"], "");
  // ConvNeXt V2 Tiny with ImageNet's 1000 classes: 28.64M parameters, counted per layer shape.
  at::manual_seed(0);
  auto tiny = plugin()->create(imltest::with_defaults(*plugin(), {{"num_labels", 1000}}), imlsdk::ModelContext{});
  int64_t total = 0;
  for (const auto& p : tiny->parameters()) total += p.numel();
  int64_t want = 3 * 96 * 16 + 96 + 2 * 96;  // stem conv + LayerNorm
  const std::vector<int64_t> C = {96, 192, 384, 768}, D = {3, 3, 9, 3};
  for (size_t s = 0; s < 4; ++s) {
    if (s > 0) want += 2 * C[s - 1] + C[s - 1] * C[s] * 4 + C[s];
    // dwconv 7x7 + LN + pwconv1 + GRN + pwconv2
    want += D[s] * (C[s] * 49 + C[s] + 2 * C[s] + 4 * C[s] * C[s] + 4 * C[s] + 8 * C[s] + 4 * C[s] * C[s] + C[s]);
  }
  want += 2 * 768 + 768 * 1000 + 1000;
  EXPECT_EQ(total, want);
  EXPECT_EQ(total, 28635496);
  const Json cfg = tiny->hf_config();
  EXPECT_EQ(cfg["model_type"], "convnextv2");
  EXPECT_EQ(cfg["num_stages"], 4);
  EXPECT_EQ(cfg["id2label"].size(), 1000u);
  EXPECT_FALSE(cfg.contains("iml_outputs"));
}

TEST(ConvNextV2, RejectsBadParams) {
  auto expect_error_naming = [&](Json overrides, const std::string& key) {
    try {
      plugin()->create(small_params(overrides), imlsdk::ModelContext{});
      ADD_FAILURE() << "no error for " << overrides.dump();
    } catch (const std::invalid_argument& e) {
      EXPECT_NE(std::string(e.what()).find(key), std::string::npos) << e.what();
    }
  };
  expect_error_naming({{"depths", {1, 1, 1}}}, "depths");
  expect_error_naming({{"hidden_sizes", Json::array()}}, "hidden_sizes");
  expect_error_naming({{"hidden_sizes", {8, "16"}}}, "hidden_sizes");
  expect_error_naming({{"hidden_act", "relu"}}, "hidden_act");
  expect_error_naming({{"drop_path_rate", 1.0}}, "drop_path_rate");
  expect_error_naming({{"outputs", 0}}, "outputs");
  expect_error_naming({{"num_labels", 0}}, "num_labels");
}

// ---- checkpoints ------------------------------------------------------------------------------

std::shared_ptr<imlsdk::Model> load(const fs::path& dir, Json overrides = Json::object()) {
  overrides["checkpoint"] = dir.string();
  return plugin()->create(imltest::with_defaults(*plugin(), overrides), imlsdk::ModelContext{});
}

TEST(ConvNextV2Checkpoint, RoundTripGivesIdenticalLogits) {
  for (const Json& variant : {Json::object(), Json{{"outputs", 3}}}) {
    auto model = small_model(variant);
    TempDir dir;
    imlsdk::save_hf_checkpoint(*model, model->hf_config(), dir.path.string());
    auto loaded = load(dir.path);
    EXPECT_EQ(loaded->hf_config(), model->hf_config()) << variant.dump();
    EXPECT_EQ(loaded->info().num_labels, 5);
    model->eval();
    loaded->eval();
    at::NoGradGuard no_grad;
    const Tensor a = model->forward(some_images()).logits, b = loaded->forward(some_images()).logits;
    EXPECT_EQ(a.sizes(), b.sizes());
    EXPECT_TRUE(at::equal(a, b)) << variant.dump();
  }
  // A shape key beside the checkpoint would be overridden by its config.json: refused. The
  // training-only drop_path_rate may be set.
  auto model = small_model();
  TempDir dir;
  imlsdk::save_hf_checkpoint(*model, model->hf_config(), dir.path.string());
  for (const char* key : {"hidden_sizes", "outputs", "num_labels"}) {
    Json overrides = {{key, std::string(key) == "hidden_sizes" ? Json({4, 8}) : Json(2)}};
    try {
      load(dir.path, overrides);
      ADD_FAILURE() << key << " beside a checkpoint must be refused";
    } catch (const std::invalid_argument& e) {
      EXPECT_NE(std::string(e.what()).find("'" + std::string(key) + "' is set together with checkpoint"), std::string::npos)
          << e.what();
    }
  }
  EXPECT_EQ(load(dir.path, {{"drop_path_rate", 0.2}})->hf_config()["drop_path_rate"], 0.2);
}

TEST(ConvNextV2Checkpoint, ErrorsNameFileAndProblem) {
  auto model = small_model();
  auto expect_error = [&](const fs::path& dir, const std::string& file, const std::string& needle) {
    try {
      load(dir);
      ADD_FAILURE() << "no error for " << needle;
    } catch (const std::exception& e) {
      const std::string what = e.what();
      // A tensor missing from the whole folder names the folder; the others name the file.
      EXPECT_NE(what.find(file.empty() ? dir.string() : (dir / file).string()), std::string::npos) << what;
      EXPECT_NE(what.find(needle), std::string::npos) << what;
      EXPECT_EQ(what.find('\n'), std::string::npos) << "one line: " << what;
    }
  };
  auto save = [&](const fs::path& dir, const std::vector<std::string>& omit = {}) {
    imlsdk::save_hf_checkpoint(*model, model->hf_config(), dir.string(), omit);
  };
  auto rewrite_config = [](const fs::path& dir, const std::function<void(Json&)>& edit) {
    Json cfg = read_json(dir / "config.json");
    edit(cfg);
    std::ofstream(dir / "config.json") << cfg.dump(2);
  };
  {
    TempDir dir;
    save(dir.path, {"convnextv2.encoder.stages.1.layers.0.grn.weight"});
    expect_error(dir.path, "", "missing tensor 'convnextv2.encoder.stages.1.layers.0.grn.weight'");
  }
  {
    TempDir dir;
    save(dir.path);
    rewrite_config(dir.path, [](Json& c) { c["hidden_sizes"] = {8, 24}; });
    expect_error(dir.path, "model.safetensors", "convnextv2.encoder.stages.1.downsampling_layer.1.weight' has shape");
  }
  {
    TempDir dir;
    save(dir.path);
    rewrite_config(dir.path, [](Json& c) { c["depths"] = {1, 1}; });
    expect_error(dir.path, "model.safetensors", "unexpected tensor 'convnextv2.encoder.stages.0.layers.1.");
  }
  {
    TempDir dir;
    save(dir.path);
    rewrite_config(dir.path, [](Json& c) { c["model_type"] = "convnext"; });
    expect_error(dir.path, "config.json", "model_type is \"convnext\", expected \"convnextv2\"");
  }
  {
    TempDir dir;
    save(dir.path);
    rewrite_config(dir.path, [](Json& c) { c["num_labels"] = 7; });
    expect_error(dir.path, "config.json", "'num_labels' 7 disagrees with the 5 entries of 'id2label'");
  }
  {
    TempDir dir;
    save(dir.path);
    rewrite_config(dir.path, [](Json& c) { c["num_stages"] = 3; });
    expect_error(dir.path, "config.json", "'num_stages' 3 differs");
  }
  {
    TempDir dir;
    save(dir.path);
    rewrite_config(dir.path, [](Json& c) { c["hidden_act"] = "relu"; });
    expect_error(dir.path, "config.json", "hidden_act must be \"gelu\"");
  }
  {
    TempDir dir;
    save(dir.path);
    rewrite_config(dir.path, [](Json& c) { c["patch_size"] = "2"; });
    expect_error(dir.path, "config.json", "'patch_size' must be int, got \"2\"");
  }
}

// An HF config.json without id2label takes num_labels, else HF's default of 2 classes.
TEST(ConvNextV2Checkpoint, ClassesFromNumLabelsOrHFsDefault) {
  auto model = small_model({{"num_labels", 2}});
  TempDir dir;
  imlsdk::save_hf_checkpoint(*model, model->hf_config(), dir.path.string());
  Json cfg = read_json(dir.path / "config.json");
  cfg.erase("id2label");
  cfg.erase("label2id");
  std::ofstream(dir.path / "config.json") << cfg.dump();
  EXPECT_EQ(load(dir.path)->info().num_labels, 2);
  cfg["num_labels"] = 2;
  std::ofstream(dir.path / "config.json") << cfg.dump();
  auto loaded = load(dir.path);
  EXPECT_EQ(loaded->info().num_labels, 2);
  EXPECT_EQ(loaded->hf_config()["id2label"], Json({{"0", "LABEL_0"}, {"1", "LABEL_1"}}));
}

}  // namespace
