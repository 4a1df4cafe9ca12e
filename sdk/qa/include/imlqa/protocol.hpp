// The shared text-QA protocol (library imlqa, own version: imlqa/version.hpp) (spec §2-§4, paper Table 1): given entities with their QA pairs,
// build every entity subset, the training and evaluation sets, the definitions (rendered by the
// run's tagger) and a word-level tokenizer. Used by the `cvdb` and `trex` datasets and open to
// any third-party knowledge dataset, which only loads its entities:
//
//   std::vector<ParamSpec> params() const override {
//     auto p = imlqa::qa_protocol_params();
//     p.push_back({"path", ParamType::String, "data.csv", "where the entities are"});
//     return p;
//   }
//   // load(): read the entities once, keep them in the Dataset object; split() per seed:
//   DataSplit split(const SplitContext& ctx) const override {
//     return imlqa::build_qa_protocol(entities_, params_, ctx);
//   }
//
// What the bundle holds (subset names as in spec §3):
//   train: full, stage1, stage2, stage1_only_defns, stage1_only_qa, all_defns, and knowledge
//          (QA by real names about every entity) when knowledge_stage is true.
//   evals: the test questions of every non-empty subset, d2incons, train_questions_{subset},
//          train_defs_{subset}; ent_assoc_{who|meaning|standFor|name}_{subset} when
//          entity_attribution, ent_assoc_{letter0|letter1|letterLast}_{subset} when letters
//          (both also for qd1incons_swapped / qd2incons_swapped); knowledge when knowledge_stage.
//   tokenizer: a TextTokenizer over every text of the bundle.
//   info: entities per subset, sizes of every set, the tokenizer.
// Every example says which subset it belongs to, `entity` = the real name it is about (for a
// definition: the entity it names, which in qd1incons / qd2incons is not the alias's own),
// `variable` = the alias in its text ("" when asked by real name), `kind` = "qa" or "definition".
// Training questions answer with the first of the ';'-separated values; evaluated questions
// keep them all in `answer`, so exact match accepts any.
//
// Where this differs from the reference implementation (on purpose):
// - Slice sizes: the rounding remainder is added with the right sign (the reference adds a
//   surplus instead of removing it).
// - Every subset with definitions is handled alike: qd4consis definitions are also in
//   stage1_only_defns and all_defns, and in-context questions exist for every such subset
//   (the reference covers only qd1consis, qd2incons and d1/d2/d3consis).
// - In-context prompts contain the definition too (the reference evaluates them without it),
//   and there is no doubled "Q:" ("DEFINITION. Q: question\nA: answer\n").
// - Evaluated questions accept every ';'-separated answer (the reference keeps the first only).
// - A subset of one entity cannot be deranged: an error (the reference loops forever).
//
// Deterministic: the same entities, params and seeds give byte-identical bundles in every
// process; nothing Stage 1 (or the knowledge stage) sees depends on ctx.seed_stage2.
#pragma once
#include <cstdint>
#include <string>
#include <vector>

#include "imlqa/version.hpp"
#include "imlsdk/data.hpp"
#include "imlsdk/plugin.hpp"

namespace imlqa {

using imlsdk::DataSplit;
using imlsdk::Json;
using imlsdk::ParamSpec;
using imlsdk::SplitContext;

// Every train subset the protocol returns, in the order the spec documents them.
const std::vector<std::string>& train_subsets();

// One question about an entity.
struct QAPair {
  std::string question_template;  // contains "{}" where the entity name or alias goes
  std::string answer;    // may list ';'-separated values; the first is the training answer
  std::string relation;  // e.g. "birth", "P50" (which fact the question asks for)
};

struct Entity {
  std::string name;  // real name, unique among the entities given
  std::vector<QAPair> qa;
};

// The entity subsets of spec §3, in the order the Stage-1 / Stage-2 slices are cut.
const std::vector<std::string>& qa_entity_subsets();

// The config keys every text-QA dataset exposes: fractions, alpha, test_questions_per_entity,
// definition_order, alias_length, alias_format, entity_attribution, letters, in_context,
// knowledge_stage, knowledge_eval_size. `default_overrides` replaces the defaults of the keys it
// names (e.g. another dataset's fractions); it throws std::invalid_argument for a key that is
// not a protocol key.
std::vector<ParamSpec> qa_protocol_params(const Json& default_overrides = Json::object());

// Every subset, train set and eval set of spec §3-§4 for `entities`. `params` must hold every
// key of qa_protocol_params() (other keys are ignored, so a dataset passes its whole params
// object). ctx.tagger must be set. Throws std::invalid_argument, naming the key, for bad
// parameter values, and for bad entities (duplicate names, no questions, a question template
// without "{}", an empty answer).
DataSplit build_qa_protocol(const std::vector<Entity>& entities, const Json& params,
                            const SplitContext& ctx);

// Year anonymisation shared by the knowledge datasets (spec §6): year <= 1900 -> "N century"
// with N = (|year| + 99) / 100 and " BC" appended for negative years; 1901..1999 -> the decade
// ("1920s"); >= 2000 kept as is ("2004").
std::string anonymize_year(int64_t year);

}  // namespace imlqa
