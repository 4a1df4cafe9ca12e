// training.precision=bf16 through the real imlhost executable on tests/e2e/tiny.yaml (pythia,
// set_inclusion): the run completes, its loss decreases, the saved parameters are fp32, two runs
// give byte-identical metrics, the resolved config records the key, a changed precision is not
// resumed from, and bad values are refused with one line and exit 2.
#include <gtest/gtest.h>

#include <array>
#include <cstdio>
#include <filesystem>
#include <fstream>
#include <map>
#include <sstream>

#include <nlohmann/json.hpp>

#include "e2e_support.hpp"
#include "imlsdk/safetensors.hpp"

namespace fs = std::filesystem;
using Json = nlohmann::json;

namespace {

using Result = imltest::RunResult;
Result run(const std::string& args) { return imltest::run_imlhost(args); }
using imltest::slurp;
fs::path scratch(const std::string& name) { return imltest::scratch_dir("bf16_" + name); }

// One seed, one Stage-2 seed, three Stage-1 epochs: a few seconds.
const std::string kTiny = std::string(IMLTEST_E2E_DIR) + "/tiny.yaml experiment.seeds=1 experiment.stage2_seeds=1 "
                          "stages.0.epochs=3";

// Stage-1 eval loss per epoch, averaged over the eval sets.
std::map<int, double> stage1_loss(const fs::path& metrics) {
  std::map<int, double> sum, n;
  std::istringstream lines(slurp(metrics));
  std::string line;
  while (std::getline(lines, line)) {
    const Json j = Json::parse(line);
    if (j.at("stage") != "stage1") continue;
    sum[j.at("epoch").get<int>()] += j.at("loss").get<double>();
    n[j.at("epoch").get<int>()] += 1;
  }
  for (auto& [e, s] : sum) s /= n[e];
  return sum;
}

TEST(Bf16EndToEnd, TinyRunTrainsKeepsFp32ParamsAndIsDeterministic) {
  const fs::path out = scratch("run"), out2 = scratch("run2"), ref = scratch("fp32");
  const Result r = run(kTiny + " training.precision=bf16 experiment.output_dir=" + out.string());
  ASSERT_EQ(r.code, 0) << r.output;
  const fs::path d = out / "tiny" / "0";
  const Json manifest = Json::parse(slurp(d / "manifest.json"));
  EXPECT_TRUE(manifest.at("complete").get<bool>());
  for (const auto& st : manifest.at("stages"))  // bf16 keeps the logits path (its head GEMM in bf16)
    EXPECT_EQ(st.at("loss_from").get<std::string>(), "logits") << st.dump();
  // The resolved config shows the key, and the stages inherit it.
  const Json resolved = Json::parse(slurp(d / "config.json"));
  EXPECT_EQ(resolved.at("training").at("precision"), "bf16") << resolved.dump(2);

  // Loss decreases over Stage 1.
  const auto loss = stage1_loss(d / "metrics.jsonl");
  ASSERT_EQ(loss.size(), 3u);
  EXPECT_LT(loss.at(3), loss.at(1)) << loss.at(1) << " -> " << loss.at(3);

  // The saved model holds fp32 parameters (fp32 master weights).
  const auto saved = imlsdk::read_safetensors((d / "before_stage2.safetensors").string());
  ASSERT_FALSE(saved.empty());
  int64_t floats = 0;
  for (const auto& [name, t] : saved) {
    EXPECT_EQ(t.scalar_type(), at::kFloat) << name;
    floats += t.scalar_type() == at::kFloat;
  }
  EXPECT_EQ(floats, static_cast<int64_t>(saved.size()));

  // Same config, seed and threads: byte-identical metrics in a second process.
  const Result r2 = run(kTiny + " training.precision=bf16 experiment.output_dir=" + out2.string());
  ASSERT_EQ(r2.code, 0) << r2.output;
  EXPECT_EQ(slurp(d / "metrics.jsonl"), slurp(out2 / "tiny/0/metrics.jsonl"));

  // bf16 is not fp32: the metrics differ, but the losses stay close (within 10 %).
  const Result rf = run(kTiny + " experiment.output_dir=" + ref.string());
  ASSERT_EQ(rf.code, 0) << rf.output;
  EXPECT_NE(slurp(d / "metrics.jsonl"), slurp(ref / "tiny/0/metrics.jsonl"));
  EXPECT_EQ(Json::parse(slurp(ref / "tiny/0/config.json")).at("training").at("precision"), "fp32");
  const auto fp32_loss = stage1_loss(ref / "tiny/0/metrics.jsonl");
  for (int e = 1; e <= 3; ++e) EXPECT_NEAR(loss.at(e), fp32_loss.at(e), 0.1 * fp32_loss.at(e)) << "epoch " << e;

  // A changed precision changes the config hash: the bf16 results are not resumed from; the
  // seed starts over in fp32 and reproduces the fp32 run exactly.
  const Result again = run(kTiny + " training.precision=fp32 experiment.output_dir=" + out.string());
  ASSERT_EQ(again.code, 0) << again.output;
  EXPECT_EQ(again.output.find("skipped (resume)"), std::string::npos) << again.output;
  EXPECT_EQ(slurp(d / "metrics.jsonl"), slurp(ref / "tiny/0/metrics.jsonl"));
}

TEST(Bf16EndToEnd, BadPrecisionIsRefusedWithOneLineAndExitCode2) {
  for (const std::string bad : {"fp16", "bf17"}) {
    for (const std::string key : {"training.precision", "stages.0.precision"}) {
      const fs::path out = scratch("bad");
      const Result r = run(kTiny + " " + key + "=" + bad + " experiment.output_dir=" + out.string());
      EXPECT_EQ(r.code, 2) << r.output;
      EXPECT_NE(r.output.find("precision': expected fp32 or bf16, got '" + bad + "'"), std::string::npos) << r.output;
      EXPECT_NE(r.output.find(key == "training.precision" ? "'training.precision'" : "precision'"), std::string::npos)
          << r.output;
      std::string trimmed = r.output;
      while (!trimmed.empty() && trimmed.back() == '\n') trimmed.pop_back();
      EXPECT_EQ(trimmed.find('\n'), std::string::npos) << "not one line: " << r.output;
      EXPECT_FALSE(fs::exists(out / "tiny")) << "a refused config must not leave results behind";
    }
  }
}

}  // namespace
