// T-REx creative works (paper A.2, Table 2; spec §6): questions about novels, films, albums,
// paintings and games, read from the T-REx dump or a pre-extracted triplet file, handed to
// the shared text-QA protocol (imlsdk/qa_protocol.hpp) which builds every subset of Table 1.
//
//   trex:
//     path: ../data/trex            # a file or a folder (relative to the config's folder)
//     n_entities: 6900              # the paper's count; the embedded sample has 396 works
//
// The processing (trex_extract.hpp) is deterministic: triples are taken in file order (folders
// in name order) and de-duplicated in first-seen order; the draws of which works and which
// questions to keep use a stream of the Stage-1 seed only. Every triple and work a rule drops
// is counted in bundle.info["trex"].
#include <filesystem>
#include <mutex>
#include <stdexcept>
#include <string>
#include <vector>

#include <imlsdk/data.hpp>
#include <imlsdk/qa_protocol.hpp>

#include "trex_extract.hpp"
#include "trex_read.hpp"

namespace {

using imlsdk::Json;
using imlsdk::ParamType;

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

trex::Selection read_selection(const Json& p) {
  trex::Selection s;
  s.min_predicates = p.at("min_predicates").get<int64_t>();
  s.questions_per_entity = p.at("questions_per_entity").get<int64_t>();
  s.n_entities = p.at("n_entities").get<int64_t>();
  if (s.min_predicates < 1 || s.min_predicates > 26)
    reject("min_predicates must be in [1, 26] (Table 2 has 26 predicates)");
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
  std::vector<trex::Work> works;
  trex::Counts counts;
  size_t triples_read = 0, duplicate_triples = 0;
};

// The key of an input set: files, sizes and modification times, and the format.
std::string input_key(const std::vector<std::string>& files, const std::string& format) {
  namespace fs = std::filesystem;
  std::string key = format;
  for (const auto& f : files) {
    std::error_code ec;
    key += "\n" + f + "\t" + std::to_string(fs::file_size(f, ec)) + "\t" +
           std::to_string(fs::last_write_time(f, ec).time_since_epoch().count());
  }
  return key;
}

Extracted extract(const std::vector<std::string>& files, trex::Format format) {
  trex::TripleStore store;
  for (const auto& f : files) trex::read_triples(f, format, store);
  Extracted x;
  x.works = trex::collect_works(store, x.counts);
  x.triples_read = store.read();
  x.duplicate_triples = store.duplicates();
  return x;
}

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
        {"n_entities", ParamType::Int, 6900,
         "at most this many works (a seeded draw when there are more; paper: 6900)"},
        {"min_predicates", ParamType::Int, 4,
         "keep works with at least this many distinct Table-2 questions (paper: 4)"},
        {"questions_per_entity", ParamType::Int, 4,
         "questions kept per work, a seeded draw when it has more (paper: 4; 0 = all)"},
    };
    for (auto& spec : imlsdk::qa_protocol_params()) p.push_back(std::move(spec));
    return p;
  }

  imlsdk::DataBundle generate(const Json& p, const imlsdk::DataContext& ctx) const override {
    const auto selection = read_selection(p);
    const std::string format_name = p.at("format").get<std::string>();
    const auto format = trex::parse_format(format_name);
    const auto files = trex::resolve_inputs(configured_paths(p), ctx.base_dir);

    const Extracted x = cached_extract(files, format_name, format);
    trex::Counts counts = x.counts;
    imlsdk::Rng rng(mix(ctx.seed, kSelectionSalt));
    const auto entities = trex::select_entities(x.works, selection, rng, counts);
    if (entities.empty())
      throw std::runtime_error("trex: no work has " + std::to_string(selection.min_predicates) +
                               " Table-2 questions in " + files.front() +
                               (files.size() > 1 ? " and the other inputs" : ""));

    imlsdk::DataBundle bundle = imlsdk::build_qa_protocol(entities, p, ctx);
    size_t questions = 0;
    for (const auto& e : entities) questions += e.qa.size();
    Json info;
    info["files"] = files;
    info["triples_read"] = x.triples_read;
    info["duplicate_triples"] = x.duplicate_triples;
    info["triples_dropped"] = counts.triples;
    info["works_with_questions"] = x.works.size();
    info["works_dropped"] = counts.entities;
    info["works"] = entities.size();
    info["questions"] = questions;
    info["questions_not_selected"] = counts.questions_not_selected;
    bundle.info["trex"] = info;
    return bundle;
  }

 private:
  // generate() runs once per (seed, seed_stage2); the full dump takes minutes to read, so the
  // last input set's works are kept (they do not depend on the seeds).
  Extracted cached_extract(const std::vector<std::string>& files, const std::string& format_name,
                           trex::Format format) const {
    const std::string key = input_key(files, format_name);
    std::lock_guard<std::mutex> lock(cache_mutex_);
    if (cache_key_ != key) {
      cache_ = extract(files, format);
      cache_key_ = key;
    }
    return cache_;
  }

  mutable std::mutex cache_mutex_;
  mutable std::string cache_key_;
  mutable Extracted cache_;
};

}  // namespace

IMLSDK_PLUGIN(Trex, "trex", "1.0.0",
              "T-REx creative works (paper Table 2): QA about novels, films, albums, games...")
