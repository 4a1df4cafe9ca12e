// imlhost on the MNIST grid: a tiny two-stage run (test-only tiny conv model) whose summary
// aggregates the accuracy analysis, `imlhost data`, and bad input refused with exit code 2 and
// nothing written.
#include <gtest/gtest.h>

#include <array>
#include <cstdio>
#include <filesystem>
#include <fstream>
#include <sstream>

#include <nlohmann/json.hpp>

#include "mnist_grid_harness.hpp"
#include "require_fixture.hpp"
#include "scratch.hpp"

namespace fs = std::filesystem;
using Json = nlohmann::json;

namespace {

struct Result {
  int code;
  std::string output;
};

Result run(const std::string& args) {
  const std::string cmd = "IML_PLUGIN_PATH=" + std::string(IMLTEST_TEST_PLUGIN_DIR) + " " + IMLHOST_EXE + " " + args + " 2>&1";
  Result r{0, ""};
  FILE* p = popen(cmd.c_str(), "r");
  std::array<char, 4096> buf;
  while (fgets(buf.data(), buf.size(), p)) r.output += buf.data();
  const int status = pclose(p);
  r.code = WIFEXITED(status) ? WEXITSTATUS(status) : -1;
  return r;
}

fs::path scratch(const std::string& name) { return imltest::scratch_dir("mnist_e2e_" + name); }

std::vector<Json> read_jsonl(const fs::path& p) {
  std::ifstream in(p);
  std::vector<Json> out;
  for (std::string line; std::getline(in, line);)
    if (!line.empty()) out.push_back(Json::parse(line));
  return out;
}

const std::string kTiny = std::string(IMLTEST_SOURCE_DIR) + "/tests/datasets/tiny_mnist_grid.yaml";

class MnistGridE2E : public ::testing::Test {
 protected:
  void SetUp() override {
    if (!imltest::require_fixture_dir(imltest::fixture_dir("mnist"), "set IML_FIXTURES_DIR")) return;
    dir_ = mnist_grid_test::idx_dir(imltest::fixture_dir("mnist"), "e2e");
  }
  std::string base(const fs::path& out) const { return kTiny + " data.path=" + dir_ + " experiment.output_dir=" + out.string(); }
  std::string dir_;
};

}  // namespace

TEST_F(MnistGridE2E, TinyRunSummarisesAccuracyAndTheGap) {
  const fs::path out = scratch("run");
  const Result r = run(base(out));
  ASSERT_EQ(r.code, 0) << r.output;
  EXPECT_NE(r.output.find("accuracy after stage2"), std::string::npos) << r.output;
  EXPECT_NE(r.output.find("IML gap after stage2: accuracy(d1consis) - accuracy(d2consis)"), std::string::npos) << r.output;
  std::ifstream in(out / "tiny_mnist_grid" / "summary.json");
  const Json sum = Json::parse(in);
  EXPECT_EQ(sum.at("metric"), "accuracy");
  EXPECT_EQ(sum.at("gap").at("by_stage").at("stage2").at("n"), 2);
  // Every accuracy is a fraction of the set's examples.
  int seen = 0;
  for (const auto& rec : read_jsonl(out / "tiny_mnist_grid" / "0" / "metrics.jsonl"))
    if (rec.contains("accuracy")) {
      const double a = rec.at("accuracy").get<double>();
      EXPECT_GE(a, 0.0);
      EXPECT_LE(a, 1.0);
      ++seen;
    }
  EXPECT_GT(seen, 10);
}

TEST_F(MnistGridE2E, DataCommandWritesExamplesWithTheirFeatures) {
  const fs::path out = scratch("data");
  const Result r = run("data " + base(out / "results") + " --out " + (out / "data").string());
  ASSERT_EQ(r.code, 0) << r.output;
  const auto xs = read_jsonl(out / "data" / "0" / "0" / "eval_qd1consis.jsonl");
  ASSERT_EQ(xs.size(), 10u);  // 40 variables * 0.25, one held-out cell each
  for (const auto& x : xs) {
    EXPECT_EQ(x.at("kind"), "qa");
    EXPECT_EQ(x.at("features").at("cell").size(), 1u);
    EXPECT_EQ(x.at("features").at("digits").size(), 4u);
    EXPECT_EQ(x.at("features").at("labels").size(), 4u);
  }
}

TEST_F(MnistGridE2E, BadInputExitsTwoWithOneLineAndNothingWritten) {
  const fs::path out = scratch("bad");
  const std::vector<std::pair<std::string, std::string>> cases = {
      {"data.image_size=20", "needs 30x28 pixels; image_size 20 is too small"},
      {"data.path=/nonexistent/mnist", "path /nonexistent/mnist is not a folder"},
      {"experiment.gap=[d1consis,qd9]", "no eval set named 'qd9'"},
  };
  for (const auto& [override, expected] : cases) {
    for (const std::string cmd : {"validate ", ""}) {
      const Result c = run(cmd + base(out) + " '" + override + "'");
      EXPECT_EQ(c.code, 2) << override << "\n" << c.output;
      EXPECT_NE(c.output.find(expected), std::string::npos) << override << "\n" << c.output;
      EXPECT_EQ(c.output.find("terminate"), std::string::npos) << c.output;
      EXPECT_FALSE(fs::exists(out / "tiny_mnist_grid")) << override << ": nothing may be written";
    }
  }
}
