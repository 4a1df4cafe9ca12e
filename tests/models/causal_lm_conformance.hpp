// The HF conformance suite every causal LM plugin passes (pythia, gpt_neo, llama): against one
// folder of ../shared/conformance (IML_CONFORMANCE_DIR), the logits, every hidden state, the loss
// and every gradient; the loss from the head's input, also at the loss's rows only; the last
// position's logits alone; right padding; greedy decoding with and without the KV cache; and
// hf_config() against HF's config.json. A test file includes this once and instantiates it:
//
//   INSTANTIATE_TEST_SUITE_P(HF, CausalLMConformance,
//                            ::testing::Values(imltest::CausalLMCase{"pythia", "gpt_neox"}),
//                            imltest::CausalLMCase::name);
//
// and adds its architecture's own checks as more TEST_P on the same fixture. A folder that is
// absent skips the suite, or fails it under CI=true.
#pragma once
#include <ATen/ATen.h>
#include <gtest/gtest.h>

#include <filesystem>
#include <map>
#include <memory>
#include <ostream>
#include <set>
#include <string>
#include <vector>

#include "head_loss_parity.hpp"
#include "imlsdk/generate.hpp"
#include "imlsdk/model.hpp"
#include "imlsdk/safetensors.hpp"
#include "model_test_support.hpp"
#include "require_fixture.hpp"
#include "test_plugins.hpp"

namespace imltest {

struct CausalLMCase {
  std::string plugin;   // the model plugin
  std::string fixture;  // its folder in the conformance directory
  // The ModelContext's bos/eos ids from the fixture's config.json (so that hf_config() writes
  // HF's), where the plugin writes them.
  bool ids_from_config = false;
  static std::string name(const ::testing::TestParamInfo<CausalLMCase>& info) { return info.param.fixture; }
};

// How GoogleTest prints a case (in test listings and CTest's names), instead of its bytes.
inline void PrintTo(const CausalLMCase& c, std::ostream* os) { *os << c.plugin << " on " << c.fixture; }

inline std::shared_ptr<imlsdk::ModelPlugin> model_plugin(const std::string& name) {
  static std::map<std::string, std::shared_ptr<imlsdk::ModelPlugin>> loaded;
  auto& p = loaded[name];
  if (!p) p = load_plugin<imlsdk::ModelPlugin>(name);
  return p;
}

class CausalLMConformance : public ::testing::TestWithParam<CausalLMCase> {
 protected:
  void SetUp() override {
    dir_ = std::filesystem::path(conformance_dir()) / GetParam().fixture;
    if (!require_fixture_dir(dir_.string(), "set IML_CONFORMANCE_DIR")) return;
    config_ = read_json(dir_ / "config.json");
    imlsdk::ModelContext ctx;
    if (GetParam().ids_from_config) {
      ctx.bos_id = config_.at("bos_token_id").get<int64_t>();
      ctx.eos_id = config_.at("eos_token_id").get<int64_t>();
    }
    at::manual_seed(0);
    const auto plugin = model_plugin(GetParam().plugin);
    model_ = plugin->create(with_defaults(*plugin, {{"checkpoint", dir_.string()}}), ctx);
    input_ = read_json(dir_ / "input.json");
    expected_json_ = read_json(dir_ / "expected.json");
    expected_ = imlsdk::read_safetensors((dir_ / "expected.safetensors").string());
  }
  // The fixture's hidden states: "hidden_states.<i>" for i = 0..L.
  std::vector<std::string> hidden_state_keys() const {
    std::vector<std::string> keys;
    while (expected_.count("hidden_states." + std::to_string(keys.size())))
      keys.push_back("hidden_states." + std::to_string(keys.size()));
    return keys;
  }
  // The fixture's layer count (GPT-Neo's config calls it num_layers).
  int64_t config_layers() const {
    return config_.contains("num_hidden_layers") ? config_.at("num_hidden_layers").get<int64_t>()
                                                 : config_.at("num_layers").get<int64_t>();
  }
  std::string tag(const std::string& what) const { return GetParam().fixture + " " + what; }
  at::Tensor ids(const char* key) const { return ids_tensor(input_.at(key)); }

  std::filesystem::path dir_;
  std::shared_ptr<imlsdk::Model> model_;
  imlsdk::Json config_, input_, expected_json_;
  std::map<std::string, at::Tensor> expected_;
};

// Every tensor of expected.safetensors is one this suite compares: a fixture that gains a tensor
// is noticed.
TEST_P(CausalLMConformance, SuiteCoversEveryExpectedTensor) {
  std::set<std::string> covered = {"logits", "logits_masked", "loss", "loss_masked",
                                   "last_hidden_state", "greedy_scores"};
  for (const auto& k : hidden_state_keys()) covered.insert(k);
  std::set<std::string> listed;
  for (const auto& kv : expected_) listed.insert(kv.first);
  EXPECT_EQ(listed, covered);
  EXPECT_EQ(static_cast<int64_t>(hidden_state_keys().size()), config_layers() + 1);
}

TEST_P(CausalLMConformance, LogitsHiddenStatesLossAndGradients) {
  imlsdk::ModelInput in;
  in.input_ids = ids("input_ids");
  in.attention_mask = ids("attention_mask");
  in.output_hidden_states = true;
  const imlsdk::ModelOutput out = model_->forward(in);

  Parity logits{tag("logits")};
  logits.check("logits", out.logits, expected_.at("logits"), 1e-4);
  EXPECT_EQ(logits.compared, 1);

  // hidden_states.i = the input of block i; hidden_states.L = the final norm's output.
  const auto keys = hidden_state_keys();
  Parity hidden{tag("hidden states")};
  ASSERT_EQ(out.hidden_states.size(), keys.size());
  for (size_t i = 0; i < keys.size(); ++i)
    hidden.check(keys[i], out.hidden_states[i], expected_.at(keys[i]), 1e-4);
  hidden.check("last_hidden_state", out.hidden_states.back(), expected_.at("last_hidden_state"), 1e-4);
  EXPECT_EQ(hidden.compared, static_cast<int64_t>(keys.size()) + 1);
  EXPECT_EQ(hidden.compared, model_->info().num_layers + 2);

  at::Tensor loss = imlsdk::causal_lm_loss(out.logits, ids("labels"));
  Parity losses{tag("loss")};
  losses.check("loss", loss, expected_.at("loss"), 1e-5);
  EXPECT_EQ(losses.compared, 1);
  EXPECT_NEAR(loss.item<double>(), expected_json_["loss"].get<double>(), 1e-5);

  model_->zero_grad();
  loss.backward();
  // Every gradient the fixture holds (a tied head's share is in the input embedding's), covering
  // all of HF's parameters.
  expect_gradients_equal_hf(*model_, dir_, tag("gradients"), expected_json_["num_parameters"].get<int64_t>());
}

// SDK 2.4: the training loss from the head's input (no logits) is HF's, with HF's gradients.
TEST_P(CausalLMConformance, HeadInputLossAndGradientsEqualHF) {
  expect_head_loss_equals_hf(*model_, dir_.string(), ids("input_ids"), ids("attention_mask"), ids("labels"),
                             expected_json_["loss"].get<double>(), ids("attention_mask_padded"),
                             ids("labels_padded"), expected_json_["loss_masked"].get<double>());
}

// SDK 2.5: the head's input at the loss's rows only skips the padding, with the same loss and
// gradients.
TEST_P(CausalLMConformance, HeadInputAtTheLosssRowsSkipsPadding) {
  expect_head_rows_skip_padding(*model_, ids("input_ids"), ids("attention_mask_padded"), ids("labels_padded"));
}

// Only the last position's logits: the last block's output on that position alone, the same
// logits, cache and next step as the full forward pass.
TEST_P(CausalLMConformance, LastLogitsOnlyEqualsTheFullForward) {
  expect_last_logits_only_equals_full(*model_, ids("input_ids"));
}

TEST_P(CausalLMConformance, PaddedLogitsAndLoss) {
  // Right padding; positions default to 0..T-1 as in HF's forward.
  imlsdk::ModelInput in;
  in.input_ids = ids("input_ids");
  in.attention_mask = ids("attention_mask_padded");
  at::NoGradGuard no_grad;
  const at::Tensor logits = model_->forward(in).logits;
  Parity parity{tag("logits_masked, loss_masked")};
  parity.check("logits_masked", logits, expected_.at("logits_masked"), 1e-4);
  const at::Tensor loss = imlsdk::causal_lm_loss(logits, ids("labels_padded"));
  parity.check("loss_masked", loss, expected_.at("loss_masked"), 1e-5);
  EXPECT_EQ(parity.compared, 2);
  EXPECT_NEAR(loss.item<double>(), expected_json_["loss_masked"].get<double>(), 1e-5);
}

TEST_P(CausalLMConformance, GreedyWithAndWithoutCacheEqualsHF) {
  const imlsdk::Json& ref = expected_json_["greedy"];
  ASSERT_TRUE(ref["settings"]["eos_token_id"].is_null()) << "the test assumes no early stop";
  const int64_t max_new = ref["settings"]["max_new_tokens"].get<int64_t>();
  std::vector<std::vector<int64_t>> prompts;
  for (const auto& row : input_["input_ids"]) prompts.push_back(row.get<std::vector<int64_t>>());
  const auto want = ref["new_tokens"].get<std::vector<std::vector<int64_t>>>();
  const at::Tensor& scores = expected_.at("greedy_scores");  // [steps, B, V]
  ASSERT_EQ(scores.size(0), max_new);
  std::vector<std::vector<std::vector<int64_t>>> runs;
  for (bool use_cache : {true, false}) {
    std::vector<at::Tensor> steps;
    const auto got = imlsdk::greedy_generate(*model_, prompts, greedy(max_new, -1, use_cache, &steps));
    Parity parity{tag(use_cache ? "greedy step logits (cache)" : "greedy step logits (no cache)")};
    ASSERT_EQ(static_cast<int64_t>(steps.size()), scores.size(0)) << "use_cache=" << use_cache;
    for (size_t k = 0; k < steps.size(); ++k)
      parity.check("step " + std::to_string(k), steps[k], scores[static_cast<int64_t>(k)], 1e-4);
    EXPECT_EQ(parity.compared, max_new);
    EXPECT_EQ(got, want) << "use_cache=" << use_cache;
    EXPECT_EQ(got.size(), want.size());
    for (const auto& row : got) EXPECT_EQ(static_cast<int64_t>(row.size()), max_new);
    runs.push_back(got);
  }
  EXPECT_EQ(runs[0], runs[1]) << "with and without the KV cache";
}

// Our hf_config() writes what HF's save_pretrained wrote for the same model: every key it writes
// is HF's, with HF's value (each architecture's test says how many keys that must be).
TEST_P(CausalLMConformance, HfConfigWritesHFsValues) {
  const imlsdk::Json ours = model_->hf_config();
  int64_t compared = 0;
  for (const auto& [key, value] : ours.items()) {
    ASSERT_TRUE(config_.contains(key)) << key;
    EXPECT_EQ(value, config_.at(key)) << key;
    ++compared;
  }
  EXPECT_GE(compared, 11);  // at least every architecture's own keys and HF's fixed ones
}

}  // namespace imltest
