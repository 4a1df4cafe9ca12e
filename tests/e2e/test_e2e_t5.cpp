// Runs the real imlhost executable on a tiny from-scratch T5 (task seq2seq_lm, chosen by the
// model's default_task) through the knowledge stage, Stage 1 and Stage 2 of the CVDB sample, and
// checks what it writes.
#include <gtest/gtest.h>

#include <array>
#include <cmath>
#include <cstdio>
#include <filesystem>
#include <fstream>
#include <map>
#include <set>
#include <sstream>

#include <nlohmann/json.hpp>

#include "e2e_support.hpp"

namespace fs = std::filesystem;
using Json = nlohmann::json;

namespace {

using Result = imltest::RunResult;
Result run(const std::string& args) { return imltest::run_imlhost(args); }
using imltest::slurp;
fs::path scratch(const std::string& name) { return imltest::scratch_dir("e2e_t5_" + name); }

const std::string kTinyT5 = std::string(IMLTEST_E2E_DIR) + "/tiny_t5.yaml";

TEST(EndToEndT5, ThreeStagesWriteMetricsSummaryAndTheGap) {
  const fs::path out = scratch("run");
  const Result r = run(kTinyT5 + " experiment.output_dir=" + out.string());
  ASSERT_EQ(r.code, 0) << r.output;
  EXPECT_NE(r.output.find("IML gap after stage2"), std::string::npos) << r.output;
  const fs::path d = out / "tiny_t5" / "0";
  const Json manifest = Json::parse(slurp(d / "manifest.json"));
  EXPECT_TRUE(manifest.at("complete").get<bool>());
  EXPECT_EQ(manifest.at("stages").size(), 3u) << manifest.dump(2);  // knowledge, stage1, stage2
  for (const auto& st : manifest.at("stages"))  // t5's head is a linear map: the loss from its input
    EXPECT_EQ(st.at("loss_from").get<std::string>(), "head_input_rows") << st.dump();
  EXPECT_NE(slurp(d / "config.json").find("seq2seq_lm"), std::string::npos) << "the t5 model's default task";

  // Per stage: every eval set's loss and exact match, finite and in range.
  std::istringstream lines(slurp(d / "metrics.jsonl"));
  std::string line;
  std::map<std::string, std::map<std::string, Json>> by_stage;  // stage -> eval set -> last line
  while (std::getline(lines, line)) {
    const Json j = Json::parse(line);
    ASSERT_TRUE(j.contains("em") && j.contains("loss") && j.contains("eval_set")) << line;
    const double loss = j["loss"].get<double>(), em = j["em"].get<double>();
    EXPECT_TRUE(std::isfinite(loss) && loss > 0) << line;
    EXPECT_GE(em, 0.0) << line;
    EXPECT_LE(em, 1.0) << line;
    by_stage[j["stage"].get<std::string>()][j["eval_set"].get<std::string>()] = j;
  }
  ASSERT_EQ(by_stage.size(), 3u);
  for (const char* stage : {"knowledge", "stage1", "stage2"})
    for (const char* set : {"d1consis", "d2consis", "qd1consis", "knowledge"})
      EXPECT_TRUE(by_stage[stage].count(set)) << stage << " " << set;
  // Training moves the model: Stage 1 trains on the Stage-1 questions, so their loss drops
  // from where the knowledge stage left it.
  const std::string s1 = "train_questions_qd1consis";
  ASSERT_TRUE(by_stage["knowledge"].count(s1) && by_stage["stage1"].count(s1));
  EXPECT_LT(by_stage["stage1"][s1]["loss"].get<double>(), by_stage["knowledge"][s1]["loss"].get<double>());

  const Json summary = Json::parse(slurp(out / "tiny_t5" / "summary.json"));
  for (const char* set : {"d1consis", "d2consis", "qd1consis", "qd2incons", "knowledge"})
    EXPECT_TRUE(summary["table"].contains(set)) << set;

  // Same config, same seed: byte-identical metrics in a second process.
  const fs::path out2 = scratch("run2");
  const Result r2 = run(kTinyT5 + " experiment.output_dir=" + out2.string());
  ASSERT_EQ(r2.code, 0) << r2.output;
  EXPECT_EQ(slurp(d / "metrics.jsonl"), slurp(out2 / "tiny_t5" / "0" / "metrics.jsonl"));
}

TEST(EndToEndT5, BadT5KeyFailsWithOneLineAndExitCode2) {
  const fs::path out = scratch("bad");
  const Result r = run(kTinyT5 + " experiment.output_dir=" + out.string() + " model.feed_forward_proj=gated-silu");
  EXPECT_EQ(r.code, 2) << r.output;
  EXPECT_NE(r.output.find("feed_forward_proj"), std::string::npos) << r.output;
  EXPECT_FALSE(fs::exists(out / "tiny_t5")) << "a refused config must not leave results behind";
}

}  // namespace
