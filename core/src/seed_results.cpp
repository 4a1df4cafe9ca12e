#include "seed_results.hpp"

#include <algorithm>
#include <filesystem>
#include <sstream>

#include "results.hpp"

namespace fs = std::filesystem;

namespace imlcore {

SeedResults::SeedResults(std::string dir, std::string hash, bool resume)
    : dir_(std::move(dir)), hash_(std::move(hash)) {
  const std::string mpath = dir_ + "/manifest.json", rpath = dir_ + "/metrics.jsonl";
  if (resume && fs::exists(mpath) && fs::exists(rpath)) {
    try {
      Json old = Json::parse(read_file(mpath));
      if (old.value("config_hash", "") == hash_) {
        manifest_ = old;
        std::istringstream in(read_file(rpath));
        std::string line;
        while (std::getline(in, line))
          if (!line.empty()) records_.push_back(Json::parse(line));
        for (const auto& s : old.value("completed_stage2_seeds", Json::array())) done_s2_.insert(s.get<uint64_t>());
        resumed_ = true;
      }
    } catch (const std::exception&) {  // unreadable: start over
      manifest_ = Json::object();
      records_.clear();
      done_s2_.clear();
      resumed_ = false;
    }
  }
  manifest_["config_hash"] = hash_;
  manifest_["complete"] = false;
  if (!manifest_.contains("stages")) manifest_["stages"] = Json::array();
}

template <typename Pred>
void SeedResults::drop_records(Pred pred) {
  records_.erase(std::remove_if(records_.begin(), records_.end(), pred), records_.end());
  Json kept = Json::array();
  for (const auto& s : manifest_["stages"])
    if (!pred(s)) kept.push_back(s);
  manifest_["stages"] = kept;
}

void SeedResults::drop_pre_branch() {
  drop_records([](const Json& r) { return r.at("stage2_seed").is_null(); });
}

void SeedResults::drop_stage2(uint64_t s2) {
  drop_records([&](const Json& r) {
    return !r.at("stage2_seed").is_null() && r.at("stage2_seed").get<uint64_t>() == s2;
  });
}

Json SeedResults::part_records(const Json& s2) const {
  Json out = Json::array();
  for (const auto& r : records_)
    if (r.at("stage2_seed") == s2) out.push_back(r);
  return out;
}

Json SeedResults::part_stage_entries(const Json& s2) const {
  Json out = Json::array();
  for (const auto& e : manifest_.at("stages"))
    if (e.at("stage2_seed") == s2) out.push_back(e);
  return out;
}

void SeedResults::restore_part(const Json& s2, const Json& records, const Json& stage_entries) {
  drop_records([&](const Json& r) { return r.at("stage2_seed") == s2; });
  for (const auto& r : records) records_.push_back(r);
  for (const auto& e : stage_entries) manifest_["stages"].push_back(e);
}

void SeedResults::set_stage_stats(const Json& stats) {
  Json kept = Json::array();
  for (const auto& s : manifest_["stages"])
    if (!(s.at("stage") == stats.at("stage") && s.at("stage2_seed") == stats.at("stage2_seed"))) kept.push_back(s);
  kept.push_back(stats);
  manifest_["stages"] = kept;
}

void SeedResults::mark_pre_branch_complete() {
  manifest_["pre_branch_complete"] = true;
  flush();
}

void SeedResults::mark_stage2_done(uint64_t s2) {
  done_s2_.insert(s2);
  manifest_["completed_stage2_seeds"] = Json(std::vector<uint64_t>(done_s2_.begin(), done_s2_.end()));
  flush();
}

void SeedResults::mark_complete() {
  manifest_["complete"] = true;
  flush();
}

void SeedResults::flush() const {
  std::string s;
  for (const auto& r : records_) s += r.dump() + "\n";
  write_file_atomic(dir_ + "/metrics.jsonl", s);
  write_file_atomic(dir_ + "/manifest.json", manifest_.dump(2) + "\n");
}

}  // namespace imlcore
