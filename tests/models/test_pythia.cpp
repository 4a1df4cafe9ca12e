// The pythia (GPT-NeoX) model plugin: HF conformance fixtures, KV-cache parity, causal
// masking, left-padding invariance and checkpoint round trips.
#include <ATen/ATen.h>
#include <gtest/gtest.h>

#include <filesystem>
#include <fstream>
#include <nlohmann/json.hpp>

#include "imlsdk/model.hpp"
#include "imlsdk/safetensors.hpp"
#include "test_plugins.hpp"

namespace {

namespace fs = std::filesystem;
using imlsdk::Json;
using torch::Tensor;

std::shared_ptr<imlsdk::ModelPlugin> plugin() {
  static auto p = imltest::load_plugin<imlsdk::ModelPlugin>("pythia");
  return p;
}

Tensor ids_tensor(const nlohmann::json& rows) {
  std::vector<Tensor> out;
  for (const auto& r : rows) out.push_back(at::tensor(r.get<std::vector<int64_t>>(), at::kLong));
  return at::stack(out);
}

double max_abs_diff(const Tensor& a, const Tensor& b) {
  return (a.to(at::kDouble) - b.to(at::kDouble)).abs().max().item<double>();
}

// ---- HF conformance fixtures ------------------------------------------------------------------

// One folder per architecture under the conformance dir; only gpt_neox is this plugin's.
class Conformance : public ::testing::TestWithParam<std::string> {
 protected:
  void SetUp() override {
    dir_ = fs::path(imltest::conformance_dir()) / GetParam();
    if (!fs::exists(dir_ / "model.safetensors"))
      GTEST_SKIP() << "conformance fixture " << dir_ << " is absent";
    at::manual_seed(0);
    imlsdk::ModelContext ctx;
    model_ = plugin()->create(imltest::with_defaults(*plugin(), {{"checkpoint", dir_.string()}}),
                              ctx);
    std::ifstream in(dir_ / "input.json");
    input_ = nlohmann::json::parse(in);
    std::ifstream ein(dir_ / "expected.json");
    expected_json_ = nlohmann::json::parse(ein);
    expected_ = imlsdk::read_safetensors((dir_ / "expected.safetensors").string());
  }
  fs::path dir_;
  std::shared_ptr<imlsdk::LanguageModel> model_;
  nlohmann::json input_, expected_json_;
  std::map<std::string, Tensor> expected_;
};

TEST_P(Conformance, LogitsLossAndGradients) {
  imlsdk::ForwardArgs args;
  args.input_ids = ids_tensor(input_["input_ids"]);
  args.attention_mask = ids_tensor(input_["attention_mask"]);
  Tensor logits = model_->forward(args);
  EXPECT_TRUE(at::allclose(logits, expected_.at("logits"), 1e-4, 1e-4));
  std::cout << "[ parity ] logits max |diff| " << max_abs_diff(logits, expected_.at("logits"))
            << "\n";

  Tensor loss = imlsdk::causal_lm_loss(logits, ids_tensor(input_["labels"]));
  EXPECT_NEAR(loss.item<double>(), expected_json_["loss"].get<double>(), 1e-5);
  std::cout << "[ parity ] loss |diff| "
            << std::abs(loss.item<double>() - expected_json_["loss"].get<double>()) << "\n";

  model_->zero_grad();
  loss.backward();
  const auto grads = imlsdk::read_safetensors((dir_ / "grads.safetensors").string());
  const auto params = model_->named_parameters();
  EXPECT_EQ(grads.size(), params.size());
  double worst = 0;
  for (const auto& p : params) {
    auto it = grads.find(p.key());
    ASSERT_NE(it, grads.end()) << "no reference gradient for " << p.key();
    ASSERT_TRUE(p.value().grad().defined()) << p.key();
    const double d = max_abs_diff(p.value().grad(), it->second);
    EXPECT_LE(d, 1e-4) << p.key();
    worst = std::max(worst, d);
  }
  std::cout << "[ parity ] gradients max |diff| " << worst << " over " << params.size()
            << " tensors\n";
}

TEST_P(Conformance, PaddedLogitsAndLoss) {
  // Right padding; positions default to 0..T-1 as in HF's forward.
  imlsdk::ForwardArgs args;
  args.input_ids = ids_tensor(input_["input_ids"]);
  args.attention_mask = ids_tensor(input_["attention_mask_padded"]);
  at::NoGradGuard no_grad;
  Tensor logits = model_->forward(args);
  EXPECT_TRUE(at::allclose(logits, expected_.at("logits_masked"), 1e-4, 1e-4));
  std::cout << "[ parity ] logits_masked max |diff| "
            << max_abs_diff(logits, expected_.at("logits_masked")) << "\n";
  Tensor loss = imlsdk::causal_lm_loss(logits, ids_tensor(input_["labels_padded"]));
  EXPECT_NEAR(loss.item<double>(), expected_json_["loss_masked"].get<double>(), 1e-5);
  std::cout << "[ parity ] loss_masked |diff| "
            << std::abs(loss.item<double>() - expected_json_["loss_masked"].get<double>()) << "\n";
}

TEST_P(Conformance, GreedyWithAndWithoutCache) {
  const auto& greedy = expected_json_["greedy"];
  const int64_t max_new = greedy["settings"]["max_new_tokens"].get<int64_t>();
  std::vector<std::vector<int64_t>> prompts;
  for (const auto& row : input_["input_ids"]) prompts.push_back(row.get<std::vector<int64_t>>());
  const auto want = greedy["new_tokens"].get<std::vector<std::vector<int64_t>>>();
  const Tensor& scores = expected_.at("greedy_scores");  // [steps, B, V]
  for (bool use_cache : {true, false}) {
    std::vector<Tensor> steps;
    auto got = imlsdk::greedy_generate(*model_, prompts, max_new, /*pad_id=*/0, /*eos_id=*/-1,
                                       use_cache, &steps);
    EXPECT_EQ(got, want) << "use_cache=" << use_cache;
    ASSERT_EQ(static_cast<int64_t>(steps.size()), scores.size(0));
    const double d = max_abs_diff(at::stack(steps), scores);
    EXPECT_LE(d, 1e-4) << "use_cache=" << use_cache;
    std::cout << "[ parity ] greedy step logits max |diff| (use_cache=" << use_cache << ") " << d
              << "\n";
  }
}

INSTANTIATE_TEST_SUITE_P(HF, Conformance, ::testing::Values("gpt_neox"));

// ---- a small random model ---------------------------------------------------------------------

constexpr int64_t kVocab = 97;

// A wide init (std 0.3) so that greedy choices are not near-ties.
std::shared_ptr<imlsdk::LanguageModel> small_model(Json overrides = Json::object()) {
  Json p = {{"hidden_size", 32}, {"num_layers", 2}, {"num_heads", 4}, {"intermediate_size", 64},
            {"max_position_embeddings", 64}, {"init_std", 0.3}};
  for (auto it = overrides.begin(); it != overrides.end(); ++it) p[it.key()] = it.value();
  imlsdk::ModelContext ctx;
  ctx.vocab_size = kVocab;
  at::manual_seed(7);
  return plugin()->create(imltest::with_defaults(*plugin(), p), ctx);
}

const std::vector<std::vector<int64_t>> kPrompts = {
    {5, 17, 3, 88, 41, 9, 60}, {12, 7}, {33, 2, 90, 14}, {71}};

TEST(Pythia, ParamsAndShapes) {
  auto model = small_model();
  EXPECT_EQ(model->vocab_size(), kVocab);
  EXPECT_EQ(model->max_positions(), 64);
  int64_t total = 0;
  for (const auto& p : model->parameters()) total += p.numel();
  EXPECT_EQ(model->flop_params(), total - kVocab * 32);
  const Json cfg = model->hf_config();
  EXPECT_EQ(cfg["model_type"], "gpt_neox");
  EXPECT_EQ(cfg["num_hidden_layers"], 2);
  EXPECT_TRUE(model->named_parameters().contains(
      "gpt_neox.layers.1.attention.query_key_value.weight"));
  EXPECT_TRUE(model->named_parameters().contains("embed_out.weight"));
}

TEST(Pythia, RejectsBadParams) {
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
  expect_error_naming({{"rotary_pct", 0.0}}, "rotary_pct");
  expect_error_naming({{"vocab_size", 50}}, "vocab_size");
}

TEST(Pythia, KVCacheMatchesFullRecompute) {
  // Parallel and sequential residuals; partial and full rotary.
  for (const Json& variant : {Json{{"use_parallel_residual", true}},
                              Json{{"use_parallel_residual", false}}, Json{{"rotary_pct", 1.0}}}) {
    auto model = small_model(variant);
    std::vector<Tensor> cached_logits, full_logits;
    auto cached = imlsdk::greedy_generate(*model, kPrompts, 6, 0, -1, true, &cached_logits);
    auto full = imlsdk::greedy_generate(*model, kPrompts, 6, 0, -1, false, &full_logits);
    EXPECT_EQ(cached, full) << variant.dump();
    EXPECT_LE(max_abs_diff(at::stack(cached_logits), at::stack(full_logits)), 1e-4);
    for (const auto& row : cached) EXPECT_EQ(row.size(), 6u);
  }
}

TEST(Pythia, StopsAfterEos) {
  auto model = small_model();
  auto free_run = imlsdk::greedy_generate(*model, kPrompts, 6, 0);
  const int64_t eos = free_run[0][2];  // row 0 must stop at its third token
  auto stopped = imlsdk::greedy_generate(*model, kPrompts, 6, 0, eos);
  ASSERT_EQ(stopped[0].size(), 3u);
  EXPECT_EQ(stopped[0].back(), eos);
  for (size_t r = 0; r < kPrompts.size(); ++r) {
    // Each row is the free run cut after its first eos.
    auto first_eos = std::find(free_run[r].begin(), free_run[r].end(), eos);
    std::vector<int64_t> want(free_run[r].begin(),
                              first_eos == free_run[r].end() ? first_eos : first_eos + 1);
    EXPECT_EQ(stopped[r], want) << "row " << r;
  }
}

TEST(Pythia, CausalMasking) {
  auto model = small_model();
  at::NoGradGuard no_grad;
  imlsdk::ForwardArgs args;
  args.input_ids = at::randint(kVocab, {2, 12}, at::kLong);
  Tensor before = model->forward(args);
  args.input_ids = args.input_ids.clone();
  Tensor changed = args.input_ids.select(1, 8);
  changed.add_(1).remainder_(kVocab);  // a different token at position 8 in every row
  Tensor after = model->forward(args);
  EXPECT_LE(max_abs_diff(before.narrow(1, 0, 8), after.narrow(1, 0, 8)), 1e-6);
  EXPECT_GT(max_abs_diff(before.narrow(1, 8, 4), after.narrow(1, 8, 4)), 1e-3);
}

TEST(Pythia, LeftPaddingInvariance) {
  auto model = small_model();
  for (size_t r = 0; r < kPrompts.size(); ++r) {
    std::vector<Tensor> alone_logits, batch_logits;
    auto alone = imlsdk::greedy_generate(*model, {kPrompts[r]}, 5, 0, -1, true, &alone_logits);
    auto batch = imlsdk::greedy_generate(*model, kPrompts, 5, 0, -1, true, &batch_logits);
    EXPECT_EQ(alone[0], batch[r]) << "row " << r;
    for (size_t s = 0; s < alone_logits.size(); ++s)
      EXPECT_LE(max_abs_diff(alone_logits[s][0], batch_logits[s][r]), 1e-4) << "row " << r;
  }
}

TEST(Pythia, LossIgnoresMinus100AndShifts) {
  at::manual_seed(3);
  Tensor logits = at::randn({2, 5, 11});
  Tensor labels = at::randint(11, {2, 5}, at::kLong);
  labels[1][3] = -100;
  // Reference: HF's shift-then-mean over the kept labels.
  Tensor shift_logits = logits.narrow(1, 0, 4).reshape({-1, 11});
  Tensor shift_labels = labels.narrow(1, 1, 4).reshape({-1});
  Tensor keep = shift_labels.ne(-100);
  Tensor logp = at::log_softmax(shift_logits, -1);
  Tensor nll = -logp.index({keep}).gather(1, shift_labels.index({keep}).unsqueeze(1));
  EXPECT_NEAR(imlsdk::causal_lm_loss(logits, labels).item<double>(), nll.mean().item<double>(),
              1e-6);

  // The hand-written backward equals autograd's through the reference formula.
  Tensor x1 = logits.clone().requires_grad_(true), x2 = logits.clone().requires_grad_(true);
  (imlsdk::causal_lm_loss(x1, labels) * 3).backward();
  (at::cross_entropy_loss(x2.narrow(1, 0, 4).reshape({-1, 11}), shift_labels, {},
                          at::Reduction::Mean, -100) * 3)
      .backward();
  EXPECT_LE(max_abs_diff(x1.grad(), x2.grad()), 1e-6);
  EXPECT_EQ(x1.grad()[0][4].abs().max().item<float>(), 0.f);  // the last position predicts nothing
}

TEST(Pythia, PositionIdsFromLeftPadding) {
  Tensor mask = at::tensor(std::vector<int64_t>{0, 0, 1, 1, 1, 1, 1, 1}, at::kLong).view({2, 4});
  Tensor ids = at::zeros({2, 4}, at::kLong);
  EXPECT_TRUE(at::equal(imlsdk::default_position_ids(ids, mask, 0),
                        at::tensor(std::vector<int64_t>{1, 1, 0, 1, 0, 1, 2, 3}).view({2, 4})));
  EXPECT_TRUE(at::equal(imlsdk::default_position_ids(ids.narrow(1, 3, 1), mask, 3),
                        at::tensor(std::vector<int64_t>{1, 3}).view({2, 1})));
  EXPECT_TRUE(at::equal(imlsdk::default_position_ids(ids, Tensor(), 2)[1],
                        at::arange(2, 6, at::kLong)));
}

// ---- checkpoints ------------------------------------------------------------------------------

struct TempDir {
  fs::path path;
  TempDir() {
    path = fs::temp_directory_path() /
           ("imltest_pythia_" + std::to_string(::getpid()) + "_" + std::to_string(counter()++));
    fs::create_directories(path);
  }
  ~TempDir() { fs::remove_all(path); }
  static int& counter() {
    static int n = 0;
    return n;
  }
};

void save_hf(const imlsdk::LanguageModel& model, const fs::path& dir,
             const std::string& drop = "", const std::string& add = "") {
  std::ofstream(dir / "config.json") << model.hf_config().dump(2);
  std::map<std::string, Tensor> tensors;
  for (const auto& p : model.named_parameters())
    if (p.key() != drop) tensors[p.key()] = p.value();
  if (!add.empty()) tensors[add] = at::zeros({3});
  // Real Pythia checkpoints also carry these; the loader ignores them.
  tensors["gpt_neox.layers.0.attention.rotary_emb.inv_freq"] = at::zeros({4});
  imlsdk::write_safetensors((dir / "model.safetensors").string(), tensors);
}

imlsdk::ForwardArgs some_tokens() {
  imlsdk::ForwardArgs args;
  args.input_ids = at::tensor(std::vector<int64_t>{4, 8, 15, 16, 23, 42}, at::kLong).view({1, 6});
  return args;
}

TEST(PythiaCheckpoint, RoundTripGivesIdenticalLogits) {
  auto model = small_model();
  TempDir dir;
  save_hf(*model, dir.path);
  imlsdk::ModelContext ctx;
  ctx.vocab_size = kVocab;
  // The checkpoint's config wins over shape params.
  auto loaded = plugin()->create(
      imltest::with_defaults(*plugin(), {{"checkpoint", dir.path.string()}, {"hidden_size", 8}}),
      ctx);
  at::NoGradGuard no_grad;
  EXPECT_TRUE(at::equal(model->forward(some_tokens()), loaded->forward(some_tokens())));
}

TEST(PythiaCheckpoint, ErrorsNameFileAndProblem) {
  auto model = small_model();
  imlsdk::ModelContext ctx;
  ctx.vocab_size = kVocab;
  auto expect_error = [&](const fs::path& dir, const std::string& needle) {
    try {
      plugin()->create(imltest::with_defaults(*plugin(), {{"checkpoint", dir.string()}}), ctx);
      ADD_FAILURE() << "no error for " << needle;
    } catch (const std::exception& e) {
      const std::string what = e.what();
      EXPECT_NE(what.find(dir.string()), std::string::npos) << what;
      EXPECT_NE(what.find(needle), std::string::npos) << what;
    }
  };
  {
    TempDir dir;
    save_hf(*model, dir.path, "gpt_neox.final_layer_norm.bias");
    expect_error(dir.path, "missing tensor 'gpt_neox.final_layer_norm.bias'");
  }
  {
    TempDir dir;
    save_hf(*model, dir.path, "", "gpt_neox.layers.0.mlp.extra");
    expect_error(dir.path, "unexpected tensor 'gpt_neox.layers.0.mlp.extra'");
  }
  {
    TempDir dir;
    save_hf(*model, dir.path);
    Json cfg = model->hf_config();
    cfg["intermediate_size"] = 48;
    std::ofstream(dir.path / "config.json") << cfg.dump();
    expect_error(dir.path, "dense_h_to_4h.weight' has shape");
  }
  {
    TempDir dir;
    save_hf(*model, dir.path);
    ctx.vocab_size = kVocab + 1;
    expect_error(dir.path, "smaller than the tokenizer");
    ctx.vocab_size = kVocab;
  }
  {
    TempDir dir;
    save_hf(*model, dir.path);
    std::ofstream(dir.path / "config.json") << "{\"model_type\": \"llama\"}";
    expect_error(dir.path, "model_type");
  }
}

}  // namespace
