// imlsdk::Schema (imlsdk/params.hpp): a settings struct's keys declared once, and the ParamSpecs,
// reading params, reading and writing HF's config.json derived from that declaration.
#include <gtest/gtest.h>

#include <stdexcept>
#include <string>
#include <vector>

#include "imlsdk/params.hpp"

namespace {

using imlsdk::Json;
using imlsdk::ParamType;

struct Shape {
  int64_t layers = -1;
  double eps = -1;
  bool parallel = false;
  std::string name = "unset";
  std::vector<std::string> tags;
  int64_t seed = 42;  // add_required(optional): keeps this when absent
};

const imlsdk::Schema<Shape>& schema() {
  static const auto s = imlsdk::Schema<Shape>()
                             .add("num_layers", &Shape::layers, int64_t{6}, "blocks", "num_hidden_layers")
                             .add("layer_norm_eps", &Shape::eps, 1e-5, "epsilon", "layer_norm_eps")
                             .add("parallel", &Shape::parallel, true, "parallel residual", "use_parallel_residual")
                             .add("name", &Shape::name, std::string("tiny"), "a label")
                             .add("tags", &Shape::tags, std::vector<std::string>{"a", "b"}, "labels")
                             .add_required("seed", &Shape::seed, "a seed", /*optional=*/true);
  return s;
}

TEST(Schema, SpecsInDeclarationOrderWithTypesDefaultsAndHelp) {
  const auto specs = schema().specs();
  ASSERT_EQ(specs.size(), 6u);
  const std::vector<std::string> keys = {"num_layers", "layer_norm_eps", "parallel", "name", "tags", "seed"};
  const std::vector<ParamType> types = {ParamType::Int, ParamType::Float, ParamType::Bool,
                                        ParamType::String, ParamType::List, ParamType::Int};
  for (size_t i = 0; i < specs.size(); ++i) {
    EXPECT_EQ(specs[i].key, keys[i]);
    EXPECT_EQ(specs[i].type, types[i]) << keys[i];
    EXPECT_FALSE(specs[i].help.empty()) << keys[i];
  }
  EXPECT_EQ(specs[0].default_value, 6);
  EXPECT_TRUE(specs[0].default_value.is_number_integer());
  EXPECT_EQ(specs[1].default_value, 1e-5);
  EXPECT_EQ(specs[2].default_value, true);
  EXPECT_EQ(specs[3].default_value, "tiny");
  EXPECT_EQ(specs[4].default_value, Json({"a", "b"}));
  EXPECT_TRUE(specs[5].default_value.is_null());
  EXPECT_TRUE(specs[5].optional);
  EXPECT_FALSE(specs[0].optional);
}

TEST(Schema, ReadFillsDefaultsAndTakesGivenValues) {
  const Shape d = schema().read(Json::object());
  EXPECT_EQ(d.layers, 6);
  EXPECT_EQ(d.eps, 1e-5);
  EXPECT_TRUE(d.parallel);
  EXPECT_EQ(d.name, "tiny");
  EXPECT_EQ(d.tags, (std::vector<std::string>{"a", "b"}));
  EXPECT_EQ(d.seed, 42) << "an optional key without a default keeps the member's initial value";

  const Shape s = schema().read({{"num_layers", 2}, {"layer_norm_eps", 3}, {"parallel", false},
                                 {"name", "x"}, {"tags", Json::array()}, {"seed", 7}});
  EXPECT_EQ(s.layers, 2);
  EXPECT_EQ(s.eps, 3.0) << "an int where a float is expected";
  EXPECT_FALSE(s.parallel);
  EXPECT_EQ(s.name, "x");
  EXPECT_TRUE(s.tags.empty());
  EXPECT_EQ(s.seed, 7);
  EXPECT_EQ(schema().read({{"seed", nullptr}}).seed, 42);
}

TEST(Schema, ReadHfUsesHFNamesAndDefaultsForAbsentKeys) {
  const Shape s = schema().read_hf({{"num_hidden_layers", 12}, {"use_parallel_residual", nullptr},
                                    {"num_layers", 99}, {"name", "ignored: no hf key"},
                                    {"torch_dtype", "float32"}},
                                   "config.json");
  EXPECT_EQ(s.layers, 12);
  EXPECT_EQ(s.eps, 1e-5);
  EXPECT_TRUE(s.parallel) << "null is absent";
  EXPECT_EQ(s.name, "tiny") << "keys without an hf_key are not read from config.json";
  EXPECT_EQ(schema().read_hf({{"layer_norm_eps", 1}}, "c.json").eps, 1.0);
}

TEST(Schema, ReadHfWrongTypeIsOneLineNamingFileKeyAndValue) {
  const std::vector<std::pair<Json, std::string>> cases = {
      {{{"num_hidden_layers", "12"}}, "/m/config.json: 'num_hidden_layers' must be int, got \"12\""},
      {{{"num_hidden_layers", 1.5}}, "/m/config.json: 'num_hidden_layers' must be int, got 1.5"},
      {{{"layer_norm_eps", {1, 2}}}, "/m/config.json: 'layer_norm_eps' must be float, got [1,2]"},
      {{{"use_parallel_residual", {{"a", "x\ny"}}}},
       "/m/config.json: 'use_parallel_residual' must be bool, got {\"a\":\"x\\ny\"}"},
  };
  for (const auto& [hf, want] : cases) {
    try {
      schema().read_hf(hf, "/m/config.json");
      ADD_FAILURE() << "accepted " << hf.dump();
    } catch (const std::invalid_argument& e) {
      EXPECT_EQ(std::string(e.what()), want);
      EXPECT_EQ(std::string(e.what()).find('\n'), std::string::npos) << e.what();
    }
  }
}

TEST(Schema, WriteHfRoundTrip) {
  Shape s;
  s.layers = 3;
  s.eps = 2.5e-6;
  s.parallel = false;
  s.name = "not written";
  s.tags = {"z"};
  const Json hf = schema().write_hf(s);
  EXPECT_EQ(hf, Json({{"num_hidden_layers", 3}, {"layer_norm_eps", 2.5e-6}, {"use_parallel_residual", false}}));
  const Shape back = schema().read_hf(Json::parse(hf.dump()), "round trip");
  EXPECT_EQ(back.layers, 3);
  EXPECT_EQ(back.eps, 2.5e-6);
  EXPECT_FALSE(back.parallel);
  EXPECT_EQ(schema().write_hf(back), hf);
  // write() holds every key under the config's names and reads back to the same struct.
  const Json all = schema().write(s);
  EXPECT_EQ(all.size(), 6u);
  const Shape again = schema().read(all);
  EXPECT_EQ(schema().write(again), all);
  EXPECT_EQ(again.name, "not written");
  EXPECT_EQ(again.tags, (std::vector<std::string>{"z"}));
}

}  // namespace
