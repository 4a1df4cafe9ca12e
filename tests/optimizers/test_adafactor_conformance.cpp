// Adafactor parity with HF Transformers: trains the GPT-NeoX fixture model with the adafactor
// plugin following expected.json `adafactor` (procedure, settings, tolerance rule) and compares
// the saved parameters and the losses. Everything comes from the descriptor, so other fixture
// sets with other settings run unchanged. The test counts what it compared and asserts that it
// is everything the fixture holds; without the fixture it skips, or fails under CI=true.
#include <gtest/gtest.h>

#include <ATen/ATen.h>
#include <ATen/core/grad_mode.h>

#include <cmath>
#include <filesystem>
#include <fstream>
#include <iostream>
#include <set>

#include "imlsdk/model.hpp"
#include "imlsdk/optimizer.hpp"
#include "imlsdk/safetensors.hpp"
#include "require_fixture.hpp"
#include "test_plugins.hpp"

namespace {

namespace fs = std::filesystem;
using imlsdk::Json;

Json read_json(const fs::path& path) {
  std::ifstream in(path);
  if (!in) throw std::runtime_error("cannot open " + path.string());
  return Json::parse(in);
}

at::Tensor int_matrix(const Json& rows) {
  std::vector<int64_t> flat;
  for (const auto& row : rows)
    for (const auto& v : row) flat.push_back(v.get<int64_t>());
  const int64_t b = static_cast<int64_t>(rows.size());
  return at::tensor(flat, at::kLong).view({b, static_cast<int64_t>(flat.size()) / b});
}

// HF Adafactor kwargs -> adafactor plugin params; the lr goes to step(). Unknown kwargs fail the
// test so that a fixture set exercising a new option is noticed.
Json plugin_params(const Json& kwargs) {
  Json out = Json::object();
  for (const auto& [key, value] : kwargs.items()) {
    if (key == "lr") continue;
    if (key == "eps") {
      out["eps1"] = value.at(0);
      out["eps2"] = value.at(1);
    } else if (key == "beta1") {
      if (!value.is_null()) out["beta1"] = value;
    } else if (key == "clip_threshold" || key == "decay_rate" || key == "weight_decay" ||
               key == "scale_parameter" || key == "relative_step" || key == "warmup_init") {
      out[key] = value;
    } else {
      throw std::runtime_error("unknown Adafactor kwarg in the descriptor: " + key);
    }
  }
  return out;
}

// The descriptor's tolerance rule for one parameter at saved step K: a per-element atol tensor.
struct Tolerance {
  const Json& tol;
  const Json& roundoff;  // {param: [flat indices]}

  bool roundoff_active(int64_t k) const {
    return !roundoff.empty() && k >= tol.at("roundoff_from_step").get<int64_t>();
  }
  bool loss_late(int64_t i) const { return roundoff_active(i); }
  double loss_atol(int64_t i) const {
    return loss_late(i) ? tol.at("roundoff_losses_atol").get<double>()
                        : tol.at("losses_atol").get<double>();
  }
  // Elements of `name` listed in roundoff_elements (flat, as a bool mask), or undefined.
  at::Tensor roundoff_mask(const std::string& name, const at::Tensor& like) const {
    if (!roundoff.contains(name)) return {};
    at::Tensor mask = at::zeros({like.numel()}, at::kBool);
    for (const auto& i : roundoff.at(name)) mask[i.get<int64_t>()] = true;
    return mask.view(like.sizes());
  }
  at::Tensor atol(const std::string& name, const at::Tensor& like, int64_t k) const {
    const bool late = roundoff_active(k);
    const at::Tensor mask = roundoff_mask(name, like);
    double rest = tol.at("params_atol").get<double>();
    if (late) rest = tol.at(mask.defined() ? "roundoff_tensors_atol" : "roundoff_params_atol").get<double>();
    at::Tensor a = at::full(like.sizes(), rest, at::kDouble);
    if (mask.defined()) a.masked_fill_(mask, tol.at("roundoff_elements_atol").get<double>());
    return a;
  }
};

// Largest |diff| per class of elements, for the report.
struct DiffReport {
  double other_params = 0, roundoff_tensors_rest = 0, roundoff_elements = 0;
  void add(const at::Tensor& diff, const at::Tensor& mask) {
    if (!mask.defined()) {
      other_params = std::max(other_params, diff.max().item<double>());
      return;
    }
    roundoff_elements = std::max(roundoff_elements, diff.masked_select(mask).max().item<double>());
    const at::Tensor rest = diff.masked_select(mask.logical_not());
    if (rest.numel() > 0) roundoff_tensors_rest = std::max(roundoff_tensors_rest, rest.max().item<double>());
  }
};

TEST(AdafactorConformance, GptNeoxMatchesHfTransformers) {
  const fs::path dir = fs::path(imltest::conformance_dir()) / "gpt_neox";
  if (!imltest::require_fixture_dir(dir.string(), "set IML_CONFORMANCE_DIR")) return;
  const Json expected = read_json(dir / "expected.json");
  ASSERT_TRUE(expected.contains("adafactor")) << "no adafactor section in " << dir / "expected.json";
  const Json& desc = expected.at("adafactor");
  const Json input = read_json(dir / "input.json");
  const auto saved = imlsdk::read_safetensors((dir / desc.at("file").get<std::string>()).string());
  ASSERT_EQ(desc.at("key_format").get<std::string>(), "<prefix>.step<K>.<param>");
  ASSERT_EQ(desc.at("initial_params").get<std::string>(), "model.safetensors");
  ASSERT_TRUE(desc.at("same_batch_every_step").get<bool>());

  const Json& batch = desc.at("batch");
  auto input_field = [&](const char* key) {
    const std::string ref = batch.at(key).get<std::string>();  // "input.json <field>"
    return int_matrix(input.at(ref.substr(ref.find(' ') + 1)));
  };
  imlsdk::ModelInput in;
  in.input_ids = input_field("input_ids");
  in.attention_mask = input_field("attention_mask");
  const at::Tensor labels = input_field("labels");

  const Tolerance tolerance{desc.at("suggested_tolerance"), desc.at("roundoff_elements")};
  const double rtol = tolerance.tol.at("params_rtol").get<double>();
  auto model_plugin = imltest::load_plugin<imlsdk::ModelPlugin>("pythia");
  auto adafactor = imltest::load_plugin<imlsdk::OptimizerPlugin>("adafactor");
  // Every parameter is saved at every saved step ("param_names": the keys of grads.safetensors).
  const size_t num_params = imlsdk::read_safetensors((dir / "grads.safetensors").string()).size();

  // What was compared, to check against what the fixture holds.
  int64_t steps_compared = 0, steps_listed = 0, losses_compared = 0, losses_listed = 0;
  std::set<std::string> tensors_compared;

  for (const Json& setting : desc.at("settings")) {
    const std::string prefix = setting.at("prefix").get<std::string>();
    SCOPED_TRACE("setting " + prefix);
    ASSERT_EQ(setting.at("optimizer").get<std::string>(), "Adafactor");
    ASSERT_EQ(setting.at("lr_schedule").get<std::string>(), "constant");
    const Json& kwargs = setting.at("optimizer_kwargs");
    const Json opt_params = imltest::with_defaults(*adafactor, plugin_params(kwargs));
    const bool relative_step = opt_params.at("relative_step").get<bool>();
    ASSERT_TRUE(kwargs.at("lr").is_null() == relative_step) << "lr must be null iff relative_step";
    const double lr = relative_step ? std::nan("") : kwargs.at("lr").get<double>();
    const Json& max_grad_norm = setting.at("max_grad_norm");
    const double norm_type = setting.value("norm_type", 2.0);
    const int64_t steps = setting.at("steps").get<int64_t>();
    const auto steps_saved = setting.at("steps_saved").get<std::vector<int64_t>>();
    const auto ref_losses = setting.at("losses").get<std::vector<double>>();
    ASSERT_EQ(static_cast<int64_t>(ref_losses.size()), steps + 1);
    steps_listed += static_cast<int64_t>(steps_saved.size());
    losses_listed += static_cast<int64_t>(ref_losses.size());

    // Each setting is a separate run from the initial weights.
    auto model = model_plugin->create(
        imltest::with_defaults(*model_plugin, {{"checkpoint", dir.string()}}), imlsdk::ModelContext{});
    model->train();
    imlsdk::NamedTensors params;
    std::vector<at::Tensor> param_list;
    for (const auto& item : model->named_parameters()) {
      params.emplace_back(item.key(), item.value());
      param_list.push_back(item.value());
    }
    auto opt = adafactor->create(opt_params, params);

    std::vector<double> losses;
    for (int64_t k = 1; k <= steps; ++k) {
      model->zero_grad(/*set_to_none=*/true);
      at::Tensor loss = imlsdk::causal_lm_loss(model->forward(in).logits, labels);
      losses.push_back(loss.item<double>());
      loss.backward();
      if (!max_grad_norm.is_null()) {
        const double norm = imlsdk::clip_grad_norm(param_list, max_grad_norm.get<double>(), norm_type);
        if (setting.contains("grad_norm_before_clip"))
          std::cout << "[adafactor " << prefix << "] step " << k << " grad norm " << norm << " (ref "
                    << setting["grad_norm_before_clip"][k - 1].get<double>() << ")\n";
      }
      opt->step(lr);

      if (std::find(steps_saved.begin(), steps_saved.end(), k) == steps_saved.end()) continue;
      const std::string key_prefix = prefix + ".step" + std::to_string(k) + ".";
      std::set<std::string> compared;
      DiffReport report;
      for (const auto& [name, p] : params) {
        auto it = saved.find(key_prefix + name);
        ASSERT_NE(it, saved.end()) << "no reference for " << key_prefix + name;
        compared.insert(it->first);
        const at::Tensor ref = it->second.to(at::kDouble);
        const at::Tensor diff = (p.detach().to(at::kDouble) - ref).abs();
        const at::Tensor allowed = tolerance.atol(name, ref, k) + rtol * ref.abs();
        const int64_t bad = (diff > allowed).sum().item<int64_t>();
        EXPECT_EQ(bad, 0) << name << " at step " << k << ": " << bad << " elements out of tolerance, max |diff| "
                          << diff.max().item<double>();
        report.add(diff, tolerance.roundoff_mask(name, ref));
      }
      for (const auto& kv : saved)  // every saved parameter of this step has a model parameter
        if (kv.first.rfind(key_prefix, 0) == 0) EXPECT_TRUE(compared.count(kv.first)) << kv.first;
      EXPECT_EQ(compared.size(), num_params) << "tensors compared at step " << k;
      ++steps_compared;
      tensors_compared.insert(compared.begin(), compared.end());
      std::cout << "[adafactor " << prefix << "] step " << k << " max |diff|: other params "
                << report.other_params << ", roundoff tensors (rest) " << report.roundoff_tensors_rest
                << ", roundoff elements " << report.roundoff_elements << "\n";
    }
    {
      at::NoGradGuard no_grad;
      losses.push_back(imlsdk::causal_lm_loss(model->forward(in).logits, labels).item<double>());
    }
    for (int64_t i = 0; i <= steps; ++i) {
      const double d = std::abs(losses[i] - ref_losses[i]);
      EXPECT_LE(d, tolerance.loss_atol(i)) << "loss after " << i << " steps: " << losses[i] << " vs "
                                           << ref_losses[i];
      std::cout << "[adafactor " << prefix << "] loss after " << i << " steps " << losses[i]
                << " |diff| " << d << "\n";
      ++losses_compared;
    }
  }
  // It compared every saved step, every tensor of the file and every loss the fixture lists.
  EXPECT_GT(steps_compared, 0);
  EXPECT_EQ(steps_compared, steps_listed);
  EXPECT_GT(num_params, 0u);
  EXPECT_EQ(tensors_compared.size(), saved.size());
  EXPECT_EQ(tensors_compared.size(), static_cast<size_t>(steps_listed) * num_params);
  EXPECT_GT(losses_compared, 0);
  EXPECT_EQ(losses_compared, losses_listed);
  std::cout << "[adafactor] compared " << steps_compared << " saved steps, " << tensors_compared.size()
            << " tensors, " << losses_compared << " losses\n";
}

}  // namespace
