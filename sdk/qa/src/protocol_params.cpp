#include "protocol_params.hpp"

#include <algorithm>
#include <cmath>
#include <stdexcept>

#include "imlqa/protocol.hpp"

namespace imlqa {

using imlsdk::ParamSpec;
using imlsdk::ParamType;
namespace qa {
namespace {

const std::vector<std::string> kStage2Subsets = {"d1consis", "d2consis", "d3consis",
                                                 "no_qd_baseline"};

[[noreturn]] void reject(const std::string& message) {
  throw std::invalid_argument("text-QA protocol: " + message);
}

// The reference's CVDB fractions (spec §3); absent keys are 0.
Json default_fractions() {
  return Json{{"q_no_replacement_baseline", 0.1}, {"qd1consis", 0.25}, {"qd1incons", 0.0},
              {"qd2consis", 0.0},  {"qd2incons", 0.25}, {"qd4consis", 0.0},
              {"q", 0.1},          {"d1consis", 0.08},  {"d2consis", 0.08},
              {"d3consis", 0.08},  {"no_qd_baseline", 0.06}};
}

bool is_permutation_of_tve(std::string order) {
  std::sort(order.begin(), order.end());
  return order == "etv";
}

}  // namespace

Settings read_settings(const Json& p) {
  Settings s;
  for (const auto& spec : qa_protocol_params())
    if (!p.contains(spec.key)) reject("parameter '" + spec.key + "' is missing");

  // fractions: known subsets, non-negative, summing to 1.
  const Json& map = p.at("fractions");
  if (!map.is_object()) reject("fractions must be a map from subset name to fraction");
  const auto& subsets = qa_entity_subsets();
  std::map<std::string, double> f;
  for (const auto& [key, value] : map.items()) {
    if (std::find(subsets.begin(), subsets.end(), key) == subsets.end())
      reject("fractions: unknown subset '" + key + "'");
    if (!value.is_number() || !(value.get<double>() >= 0))
      reject("fractions." + key + " must be a non-negative number");
    f[key] = value.get<double>();
  }
  double sum = 0;
  for (const auto& name : subsets) sum += f[name];
  if (std::abs(sum - 1.0) > 1e-6)
    reject("fractions must sum to 1, they sum to " + std::to_string(sum));

  // alpha (Fig. 4a): the probability that a tag predicts consistency. It moves a share 1 - alpha
  // of the consistent entities of each tag to the other consistency: qd1consis -> qd1incons and
  // qd2incons -> qd2consis. With the default qd1incons = qd2consis = 0 this gives the
  // reference's def_tag_and_consistency_correlation configs (alpha 0.7: 0.175 / 0.075 / 0.075
  // / 0.175).
  s.alpha = p.at("alpha").get<double>();
  if (!(s.alpha >= 0 && s.alpha <= 1)) reject("alpha must be in [0, 1]");
  const double moved1 = (1 - s.alpha) * f["qd1consis"], moved2 = (1 - s.alpha) * f["qd2incons"];
  f["qd1consis"] -= moved1;
  f["qd1incons"] += moved1;
  f["qd2incons"] -= moved2;
  f["qd2consis"] += moved2;

  for (const auto& name : subsets) {
    const bool stage2 =
        std::find(kStage2Subsets.begin(), kStage2Subsets.end(), name) != kStage2Subsets.end();
    (stage2 ? s.stage2_fractions : s.stage1_fractions).emplace_back(name, f[name]);
  }

  s.test_questions_per_entity = p.at("test_questions_per_entity").get<int64_t>();
  if (s.test_questions_per_entity < 1) reject("test_questions_per_entity must be >= 1");
  s.definition_order = p.at("definition_order").get<std::string>();
  if (!is_permutation_of_tve(s.definition_order))
    reject("definition_order '" + s.definition_order +
           "' is not a permutation of t, v, e (tve, tev, vte, vet, etv, evt)");
  s.alias_length = p.at("alias_length").get<int64_t>();
  if (s.alias_length < 1 || s.alias_length > 32) reject("alias_length must be in [1, 32]");
  s.alias_format = p.at("alias_format").get<std::string>();
  const auto slot = s.alias_format.find("{}");
  if (slot == std::string::npos || s.alias_format.find("{}", slot + 2) != std::string::npos)
    reject("alias_format must contain {} exactly once");
  for (unsigned char c : s.alias_format)
    if (c == ' ' || c == '\n' || c == '\t') reject("alias_format must not contain whitespace");
  s.entity_attribution = p.at("entity_attribution").get<bool>();
  s.letters = p.at("letters").get<bool>();
  s.in_context = p.at("in_context").get<bool>();
  s.knowledge_stage = p.at("knowledge_stage").get<bool>();
  s.knowledge_eval_size = p.at("knowledge_eval_size").get<int64_t>();
  if (s.knowledge_eval_size < 0) reject("knowledge_eval_size must be >= 0 (0 = all)");
  return s;
}

}  // namespace qa

const std::vector<std::string>& qa_entity_subsets() {
  static const std::vector<std::string> v = {
      "q_no_replacement_baseline", "qd1consis", "qd1incons", "qd2consis",
      "qd2incons",                 "qd4consis", "q",         "d1consis",
      "d2consis",                  "d3consis",  "no_qd_baseline"};
  return v;
}

std::vector<ParamSpec> qa_protocol_params(const Json& default_overrides) {
  std::vector<ParamSpec> specs = {
      {"fractions", ParamType::Map, qa::default_fractions(),
       "fraction of entities per subset (spec §3; absent subsets get 0; must sum to 1). "
       "Subsets: q_no_replacement_baseline, qd1consis, qd1incons, qd2consis, qd2incons, "
       "qd4consis, q, d1consis, d2consis, d3consis, no_qd_baseline. qd4consis gives each "
       "entity its own tag (indices 4, 5, ...), which the tag plugin must provide"},
      {"alpha", ParamType::Float, 1.0,
       "tag/consistency correlation (Fig. 4a): a share 1-alpha of qd1consis becomes qd1incons "
       "and of qd2incons becomes qd2consis (1 = tags predict consistency perfectly)"},
      {"test_questions_per_entity", ParamType::Int, 1,
       "questions per entity held out for testing in subsets with training QA (stratified by "
       "entity; CVDB 1 of 6, T-REx 1 of 4); at least one question per entity stays in training"},
      {"definition_order", ParamType::String, "tve",
       "order of tag (t), alias (v) and entity (e) in definitions: tve tev vte vet etv evt"},
      {"alias_length", ParamType::Int, 5, "random letters per alias"},
      {"alias_format", ParamType::String, "<|{}|>", "how an alias is written; {} = the letters"},
      {"entity_attribution", ParamType::Bool, false,
       "add ent_assoc_{who,meaning,standFor,name}_{subset} eval sets (alias -> entity name)"},
      {"letters", ParamType::Bool, false,
       "add ent_assoc_{letter0,letter1,letterLast}_{subset} eval sets (letters of the name)"},
      {"in_context", ParamType::Bool, false,
       "prepend each aliased question with its definition ('DEFINITION. Q: ...') instead of "
       "training on definitions separately in Stage 1"},
      {"knowledge_stage", ParamType::Bool, false,
       "add train subset and eval set 'knowledge': QA by real names about every entity (Stage 0 "
       "for models without pretrained knowledge)"},
      {"knowledge_eval_size", ParamType::Int, 0,
       "evaluate at most this many knowledge questions (a fixed random sample; 0 = all)"},
  };
  if (!default_overrides.is_object())
    throw std::invalid_argument("qa_protocol_params: default_overrides must be an object");
  for (const auto& item : default_overrides.items()) {
    // Not a structured binding: clang before 16 cannot capture one in the lambda below.
    const std::string& key = item.key();
    const Json& value = item.value();
    auto it = std::find_if(specs.begin(), specs.end(), [&](const ParamSpec& s) { return s.key == key; });
    if (it == specs.end())
      throw std::invalid_argument("qa_protocol_params: '" + key + "' is not a protocol key");
    it->default_value = value;
  }
  return specs;
}

}  // namespace imlqa
