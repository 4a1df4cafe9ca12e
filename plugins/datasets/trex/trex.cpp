// T-REx creative works (paper A.2, Table 2; spec §6): questions about novels, films, albums,
// paintings and games, read from the T-REx dump or a pre-extracted triplet file, handed to
// the shared text-QA protocol (imlqa/protocol.hpp) which builds every subset of Table 1.
//
//   trex:
//     path: ../data/trex            # a file or a folder (relative to the config's folder)
//     n_entities: 6900              # the paper's count; the embedded sample has 396 works
//     predicates: paper             # Table 2; `reference` also asks P31 "What is the type of X?"
//
// load() reads the inputs and applies every rule that needs no seed once (the full dump takes
// minutes to read); split() draws, with a stream of the Stage-1 seed only, which works and
// which questions to keep, and hands them to the protocol. The processing (trex_extract.hpp) is
// deterministic: triples are taken in file order (folders in name order) and de-duplicated in
// first-seen order. Every triple and work a rule drops is counted in each split's info["trex"].
#include <memory>
#include <stdexcept>
#include <string>
#include <utility>
#include <vector>

#include <imlqa/protocol.hpp>
#include <imlsdk/data.hpp>

#include "trex_extract.hpp"
#include "trex_read.hpp"
#include "trex_templates.hpp"

namespace {

using imlsdk::DataSplit;
using imlsdk::Json;
using imlsdk::ParamType;
using imlsdk::SplitContext;

[[noreturn]] void reject(const std::string& message) {
  throw std::invalid_argument("trex: " + message);
}

// The configured inputs: `path` (if set) then every entry of `paths`.
std::vector<std::string> configured_paths(const Json& p) {
  std::vector<std::string> paths;
  if (p.contains("path") && !p.at("path").is_null()) {
    if (!p.at("path").is_string()) reject("path must be a string");
    paths.push_back(p.at("path").get<std::string>());
  }
  for (const auto& entry : p.at("paths")) {
    if (!entry.is_string()) reject("paths must list strings (files or folders)");
    paths.push_back(entry.get<std::string>());
  }
  if (paths.empty())
    reject("set path (a T-REx .json file, a .jsonl/.tsv triplet file or a folder of them) or "
           "paths");
  return paths;
}

trex::Selection read_selection(const Json& p, trex::PredicateSet predicates) {
  trex::Selection s;
  s.min_predicates = p.at("min_predicates").get<int64_t>();
  s.questions_per_entity = p.at("questions_per_entity").get<int64_t>();
  s.n_entities = p.at("n_entities").get<int64_t>();
  const auto n = static_cast<int64_t>(trex::predicate_templates(predicates).size());
  if (s.min_predicates < 1 || s.min_predicates > n)
    reject("min_predicates must be in [1, " + std::to_string(n) + "] (there are " +
           std::to_string(n) + " predicates to ask about)");
  if (s.questions_per_entity < 0) reject("questions_per_entity must be >= 0 (0 = all)");
  if (s.n_entities < 1) reject("n_entities must be >= 1");
  return s;
}

uint64_t mix(uint64_t h, uint64_t v) {
  uint64_t z = h ^ (v + 0x9E3779B97F4A7C15ULL + (h << 6) + (h >> 2));
  z = (z ^ (z >> 30)) * 0xBF58476D1CE4E5B9ULL;
  z = (z ^ (z >> 27)) * 0x94D049BB133111EBULL;
  return z ^ (z >> 31);
}
constexpr uint64_t kSelectionSalt = 0x7472657853656cULL;  // "trexSel"

// What reading the inputs produced, before the seeded selection.
struct Extracted {
  std::vector<trex::Work> works;  // passed the per-work rules (eligible_works)
  trex::Counts counts;
  size_t works_with_questions = 0, triples_read = 0, duplicate_triples = 0;
};

Extracted extract(const std::vector<std::string>& files, trex::Format format,
                  trex::PredicateSet predicates, const trex::Selection& selection) {
  trex::TripleStore store;
  for (const auto& f : files) trex::read_triples(f, format, store);
  Extracted x;
  auto works = trex::collect_works(store, x.counts, predicates);
  x.works_with_questions = works.size();
  x.works = trex::eligible_works(std::move(works), selection, x.counts);
  x.triples_read = store.read();
  x.duplicate_triples = store.duplicates();
  return x;
}

// The works of the configured inputs; each split draws its entities from them.
class TrexData : public imlsdk::Dataset {
 public:
  TrexData(Extracted x, trex::Selection selection, std::vector<std::string> files,
           std::string predicates, Json params)
      : x_(std::move(x)),
        selection_(selection),
        files_(std::move(files)),
        predicates_(std::move(predicates)),
        params_(std::move(params)) {}

  DataSplit split(const SplitContext& ctx) const override {
    trex::Counts counts = x_.counts;
    imlsdk::Rng rng(mix(ctx.seed, kSelectionSalt));
    const auto entities = trex::draw_entities(x_.works, selection_, rng, counts);

    DataSplit out = imlqa::build_qa_protocol(entities, params_, ctx);
    size_t questions = 0;
    for (const auto& e : entities) questions += e.qa.size();
    Json info;
    info["files"] = files_;
    info["triples_read"] = x_.triples_read;
    info["duplicate_triples"] = x_.duplicate_triples;
    info["triples_dropped"] = counts.triples;
    info["works_with_questions"] = x_.works_with_questions;
    info["works_dropped"] = counts.entities;
    info["works"] = entities.size();
    info["questions"] = questions;
    info["questions_not_selected"] = counts.questions_not_selected;
    out.info["trex"] = info;
    return out;
  }

  // What load() found; the seeded draw's counts are in each split's info["trex"].
  Json info() const override {
    Json info;
    info["files"] = files_;
    info["predicates"] = predicates_;
    info["triples_read"] = x_.triples_read;
    info["duplicate_triples"] = x_.duplicate_triples;
    info["triples_dropped"] = x_.counts.triples;
    info["works_with_questions"] = x_.works_with_questions;
    info["works_dropped"] = {{"too_few_questions", x_.counts.entities.at("too_few_questions")},
                             {"ambiguous_name", x_.counts.entities.at("ambiguous_name")}};
    info["works_eligible"] = x_.works.size();
    return info;
  }

 private:
  Extracted x_;
  trex::Selection selection_;
  std::vector<std::string> files_;
  std::string predicates_;
  Json params_;  // the protocol keys build_qa_protocol reads (the whole params object)
};

class Trex : public imlsdk::DatasetPlugin {
 public:
  std::vector<imlsdk::ParamSpec> params() const override {
    std::vector<imlsdk::ParamSpec> p = {
        {"path", ParamType::String, nullptr,
         "T-REx dump (.json list of documents), triplet file (.jsonl / .tsv) or a folder of "
         "them, relative to the config file; e.g. ../data/trex",
         true},
        {"paths", ParamType::List, Json::array(), "more files or folders, read after path"},
        {"format", ParamType::String, "auto",
         "auto (by extension: .json, .jsonl, .tsv), trex_json, triplets_jsonl or triplets_tsv"},
        {"predicates", ParamType::String, "paper",
         "paper: the predicates of the paper's Table 2; reference: also P31 'What is the type "
         "of X?', as the reference code asks"},
        {"n_entities", ParamType::Int, 6900,
         "at most this many works (a seeded draw when there are more; paper: 6900)"},
        {"min_predicates", ParamType::Int, 4,
         "keep works with at least this many distinct questions (paper: 4)"},
        {"questions_per_entity", ParamType::Int, 4,
         "questions kept per work, a seeded draw when it has more (paper: 4; 0 = all)"},
    };
    for (auto& spec : imlqa::qa_protocol_params()) p.push_back(std::move(spec));
    return p;
  }

  std::unique_ptr<imlsdk::Dataset> load(const Json& p,
                                        const imlsdk::LoadContext& ctx) const override {
    const std::string predicates = p.at("predicates").get<std::string>();
    const auto predicate_set = trex::parse_predicate_set(predicates);
    const auto selection = read_selection(p, predicate_set);
    const auto format = trex::parse_format(p.at("format").get<std::string>());
    auto files = trex::resolve_inputs(configured_paths(p), ctx.base_dir);

    Extracted x = extract(files, format, predicate_set, selection);
    if (x.works.empty())
      throw std::runtime_error("trex: no work has " + std::to_string(selection.min_predicates) +
                               " questions in " + files.front() +
                               (files.size() > 1 ? " and the other inputs" : ""));
    return std::make_unique<TrexData>(std::move(x), selection, std::move(files), predicates, p);
  }
};

}  // namespace

IMLSDK_PLUGIN(Trex, "trex", "2.0.0",
              "T-REx creative works (paper Table 2): QA about novels, films, albums, games...")
