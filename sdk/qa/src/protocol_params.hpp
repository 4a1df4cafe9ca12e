// Internal to the SDK: the text-QA protocol's parameters, read and checked.
#pragma once
#include <cstdint>
#include <string>

#include "imlsdk/plugin.hpp"
#include "imlqa/split.hpp"

namespace imlqa {
namespace qa {

using imlsdk::Json;

struct Settings {
  SubsetFractions stage1_fractions;  // the Stage-1 subsets, cut order, after alpha
  SubsetFractions stage2_fractions;  // d1consis, d2consis, d3consis, no_qd_baseline
  double alpha = 1.0;
  int64_t test_questions_per_entity = 1;
  std::string definition_order = "tve";
  int64_t alias_length = 5;
  std::string alias_format = "<|{}|>";
  bool entity_attribution = false;
  bool letters = false;
  bool in_context = false;
  bool knowledge_stage = false;
  int64_t knowledge_eval_size = 0;  // 0: every knowledge question
};

// Reads every protocol key of `params`; throws std::invalid_argument naming a bad key.
Settings read_settings(const Json& params);

}  // namespace qa
}  // namespace imlqa
