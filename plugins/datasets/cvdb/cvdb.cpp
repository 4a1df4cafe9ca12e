// The CVDB text-QA dataset (paper §3, A.1; spec §6): notable people from the Cross-Verified
// Database (Laouenan et al. 2022), six questions each, through the shared text-QA protocol.
//
//   Q: When was <|qwert|> born?\nA: 18 century\n       (years anonymised)
//   Q: What was the nationality of <|qwert|>?\nA: France\n
//
// Reads the real CVDB CSV (ISO-8859-1) from `path`, or by default the hand-written sample in
// data/cvdb/. Rows the paper's rules drop are counted per reason into bundle.info["cvdb"].
#include <cstdint>
#include <filesystem>
#include <map>
#include <memory>
#include <mutex>
#include <stdexcept>
#include <string>
#include <tuple>
#include <vector>

#include <imlsdk/data.hpp>
#include <imlsdk/qa_protocol.hpp>

#include "cvdb_table.hpp"

#ifndef CVDB_SAMPLE_PATH
#define CVDB_SAMPLE_PATH ""
#endif

namespace {

using imlsdk::Json;
using imlsdk::ParamType;

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

// The people a file yields, with the counts of what was dropped.
struct Selection {
  std::vector<cvdb::Person> people;
  size_t rows = 0;
  cvdb::DropCounts dropped;
};

// The host calls generate() once per (seed, stage-2 seed) and the full CVDB takes seconds to
// read, so each (file, encoding, n_per_gender) is read once per process; a file whose size or
// modification time changed is read again.
class SelectionCache {
 public:
  std::shared_ptr<const Selection> get(const std::string& path, cvdb::Encoding encoding,
                                       size_t n_per_gender) {
    std::error_code size_error, time_error;
    const auto size = std::filesystem::file_size(path, size_error);
    const auto time = std::filesystem::last_write_time(path, time_error);
    if (size_error || time_error) return read(path, encoding, n_per_gender);  // reports the error
    const Key key{path, static_cast<int>(encoding), n_per_gender, size,
                  static_cast<int64_t>(time.time_since_epoch().count())};
    std::lock_guard<std::mutex> lock(mutex_);
    auto& slot = cache_[key];
    if (!slot) slot = read(path, encoding, n_per_gender);
    return slot;
  }

 private:
  static std::shared_ptr<const Selection> read(const std::string& path, cvdb::Encoding encoding,
                                               size_t n_per_gender) {
    cvdb::Table table = cvdb::read_table(path, encoding);
    auto s = std::make_shared<Selection>();
    s->people = cvdb::most_read(table.people, n_per_gender, table.dropped);
    s->rows = table.rows;
    s->dropped = std::move(table.dropped);
    return s;
  }

  using Key = std::tuple<std::string, int, size_t, uintmax_t, int64_t>;
  std::mutex mutex_;
  std::map<Key, std::shared_ptr<const Selection>> cache_;
};

class Cvdb : public imlsdk::DatasetPlugin {
 public:
  std::vector<imlsdk::ParamSpec> params() const override {
    auto p = imlsdk::qa_protocol_params();
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

  imlsdk::DataBundle generate(const Json& params, const imlsdk::DataContext& ctx) const override {
    const auto n_per_gender = params.at("n_per_gender").get<int64_t>();
    if (n_per_gender < 1) throw std::invalid_argument("cvdb: n_per_gender must be >= 1");
    const auto encoding = cvdb::parse_encoding(params.at("encoding").get<std::string>());
    const std::string path = resolve(params.at("path").get<std::string>(), ctx.base_dir);

    const auto selection = cache_.get(path, encoding, static_cast<size_t>(n_per_gender));
    const auto& people = selection->people;
    if (people.empty())
      throw std::runtime_error(path + ": no row passes the paper's filters (dropped: " +
                               Json(selection->dropped).dump() + ")");
    std::vector<imlsdk::Entity> entities;
    size_t men = 0;
    for (const auto& p : people) {
      entities.push_back(cvdb::to_entity(p));
      men += p.gender == "Male";
    }

    imlsdk::DataBundle bundle = imlsdk::build_qa_protocol(entities, params, ctx);
    Json& info = bundle.info["cvdb"];
    info["path"] = path;
    info["rows"] = selection->rows;
    info["kept"] = people.size();
    info["men"] = men;
    info["women"] = people.size() - men;
    info["dropped"] = Json::object();
    for (const auto& [reason, count] : selection->dropped) info["dropped"][reason] = count;
    return bundle;
  }

 private:
  mutable SelectionCache cache_;
};

}  // namespace

IMLSDK_PLUGIN(Cvdb, "cvdb", "1.0.0",
              "CVDB notable people (paper §3): six questions each, aliases, the full Table-1 protocol")
