// The CVDB text-QA dataset (paper §3, A.1; spec §6): notable people from the Cross-Verified
// Database (Laouenan et al. 2022), six questions each, through the shared text-QA protocol
// (imlqa/protocol.hpp).
//
//   Q: When was <|qwert|> born?\nA: 18 century\n       (years anonymised)
//   Q: What was the nationality of <|qwert|>?\nA: France\n
//
// Reads the real CVDB CSV (ISO-8859-1) from `path`, or by default the hand-written sample in
// data/cvdb/. load() reads the file and picks the people once (nothing there depends on a
// seed); split() hands them to the protocol per seed. Rows the paper's rules drop are counted
// per reason into info()["dropped"] and each split's info["cvdb"].
//
// Duplicate names: rows are compared by their normalised name (underscores as spaces), after
// the row filters, so a bad row never removes a good duplicate. Of the rows sharing a name the
// MOST READ one (wiki_readers_2015_2018) stays, ties going to the first in file order: the most
// read row is the person's main entry, and a sparse duplicate ("Mary_Shelley" next to "Mary
// Shelley") that happens to come first must not replace it. The reference keeps the first row,
// and compares names before normalising them (docs/data-fidelity.md).
#include <filesystem>
#include <memory>
#include <stdexcept>
#include <string>
#include <utility>
#include <vector>

#include <imlqa/protocol.hpp>
#include <imlsdk/data.hpp>

#include "cvdb_table.hpp"

#ifndef CVDB_SAMPLE_PATH
#define CVDB_SAMPLE_PATH ""
#endif

namespace {

using imlsdk::DataSplit;
using imlsdk::Json;
using imlsdk::ParamType;
using imlsdk::SplitContext;

std::string resolve(const std::string& path, const std::string& base_dir) {
  if (path.empty()) {
    if (std::string(CVDB_SAMPLE_PATH).empty())
      throw std::invalid_argument("cvdb: path is empty and this build knows no embedded sample");
    return CVDB_SAMPLE_PATH;
  }
  const std::filesystem::path p(path);
  if (p.is_absolute() || base_dir.empty()) return p.string();
  return (std::filesystem::path(base_dir) / p).lexically_normal().string();
}

// The people of one file, read and selected once; every split draws its subsets from them.
class CvdbData : public imlsdk::Dataset {
 public:
  CvdbData(std::vector<imlqa::Entity> entities, Json params, Json facts)
      : entities_(std::move(entities)), params_(std::move(params)), facts_(std::move(facts)) {}

  DataSplit split(const SplitContext& ctx) const override {
    DataSplit out = imlqa::build_qa_protocol(entities_, params_, ctx);
    out.info["cvdb"] = facts_;
    return out;
  }

  Json info() const override { return facts_; }

 private:
  std::vector<imlqa::Entity> entities_;
  Json params_;  // the protocol keys build_qa_protocol reads (the whole params object)
  Json facts_;   // path, rows, kept, men, women, dropped
};

class Cvdb : public imlsdk::DatasetPlugin {
 public:
  std::vector<imlsdk::ParamSpec> params() const override {
    auto p = imlqa::qa_protocol_params();
    p.push_back({"path", ParamType::String, "",
                 "the CVDB CSV, relative to the config file's folder; empty = the embedded "
                 "sample data/cvdb/cvdb_sample.csv"});
    p.push_back({"encoding", ParamType::String, "iso-8859-1",
                 "the CSV's encoding: iso-8859-1 (the CVDB release) or utf-8"});
    p.push_back({"n_per_gender", ParamType::Int, 2000,
                 "take the most read N men and N women (paper: 2000 + 2000; the sample has fewer, "
                 "so all of them)"});
    return p;
  }

  std::unique_ptr<imlsdk::Dataset> load(const Json& params,
                                        const imlsdk::LoadContext& ctx) const override {
    const auto n_per_gender = params.at("n_per_gender").get<int64_t>();
    if (n_per_gender < 1) throw std::invalid_argument("cvdb: n_per_gender must be >= 1");
    const auto encoding = cvdb::parse_encoding(params.at("encoding").get<std::string>());
    const std::string path = resolve(params.at("path").get<std::string>(), ctx.base_dir);

    cvdb::Table table = cvdb::read_table(path, encoding);
    const auto people =
        cvdb::most_read(table.people, static_cast<size_t>(n_per_gender), table.dropped);
    if (people.empty())
      throw std::runtime_error(path + ": no row passes the paper's filters (dropped: " +
                               Json(table.dropped).dump() + ")");
    std::vector<imlqa::Entity> entities;
    size_t men = 0;
    for (const auto& p : people) {
      entities.push_back(cvdb::to_entity(p));
      men += p.gender == "Male";
    }

    Json facts;
    facts["path"] = path;
    facts["rows"] = table.rows;
    facts["kept"] = people.size();
    facts["men"] = men;
    facts["women"] = people.size() - men;
    facts["dropped"] = Json::object();
    for (const auto& [reason, count] : table.dropped) facts["dropped"][reason] = count;
    return std::make_unique<CvdbData>(std::move(entities), params, std::move(facts));
  }
};

}  // namespace

IMLSDK_PLUGIN(Cvdb, "cvdb", "2.0.0",
              "CVDB notable people (paper §3): six questions each, aliases, the full Table-1 protocol")
