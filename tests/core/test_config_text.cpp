// The config's text half (core/src/config_text.cpp): inputs the fuzz target (fuzz/fuzz_config)
// found that escaped as yaml-cpp / JSON exceptions are refused with one UserError naming
// file:line or the override.
#include <gtest/gtest.h>

#include "config_text.hpp"
#include "errors.hpp"

namespace {

std::string refusal(const std::string& text, const std::vector<std::string>& overrides = {}) {
  imlcore::SourceMap src;
  src.file = "c.yaml";
  try {
    imlcore::config_document("c.yaml", text, overrides, src);
  } catch (const imlcore::UserError& e) {
    return e.what();
  }
  return "(accepted)";
}

TEST(ConfigText, ParsesWithLinesAndOverrides) {
  imlcore::SourceMap src;
  src.file = "c.yaml";
  const auto doc = imlcore::config_document("c.yaml", "experiment:\n  seeds: 3\nstages:\n  - {epochs: 1}\n",
                                            {"stages.0.epochs=7", "model.hidden_size=64"}, src);
  EXPECT_EQ(doc["experiment"]["seeds"], 3);
  EXPECT_EQ(doc["stages"][0]["epochs"], 7);
  EXPECT_EQ(doc["model"]["hidden_size"], 64);
  EXPECT_EQ(src.where("experiment.seeds"), "c.yaml:2");
  EXPECT_EQ(src.where("model.hidden_size"), "command line override");
}

TEST(ConfigText, NonUtf8ValueAndKeyAreRefused) {
  EXPECT_EQ(refusal("experiment:\n  name: caf\xe9\n"),
            "c.yaml:2: 'experiment.name': the value is not valid UTF-8 (save the file as UTF-8)");
  EXPECT_EQ(refusal("caf\xe9: 1\n"), "c.yaml:1: a key is not valid UTF-8 (save the file as UTF-8)");
  EXPECT_EQ(refusal("a: 1\n", {"a=caf\xe9"}), "override 'a...': not valid UTF-8");
}

TEST(ConfigText, KeyThatIsNotAScalarIsRefused) {
  EXPECT_EQ(refusal("experiment:\n  [a, b]: 1\n"),
            "c.yaml:2: a key in 'experiment' must be a plain name, not a list, map or null");
  EXPECT_EQ(refusal("? {a: 1}\n: 2\n"), "c.yaml:1: a key must be a plain name, not a list, map or null");
}

TEST(ConfigText, OverrideIntoAValueIsRefused) {
  EXPECT_EQ(refusal("stages: [1, 2]\n", {"stages.0.epochs=7"}),
            "override 'stages.0.epochs=7': 'stages.0' is a value, not a map or list");
  EXPECT_EQ(refusal("stages: [1, 2]\n", {"stages.1.x.y=1"}),
            "override 'stages.1.x.y=1': 'stages.1' is a value, not a map or list");
  // A value on the way to a map key is replaced by a map, as before.
  EXPECT_EQ(refusal("experiment:\n  seeds: 3\n", {"experiment.seeds.x=1"}), "(accepted)");
}

}  // namespace
