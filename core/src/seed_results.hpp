// One seed's result files and what a rerun resumes from: results/<exp>/<seed>/manifest.json
// (what ran, where, with which versions; which parts are complete) and metrics.jsonl (one line
// per stage, epoch and eval set). Every change is flushed atomically.
#pragma once
#include <cstdint>
#include <functional>
#include <set>
#include <string>
#include <vector>

#include "imlsdk/plugin.hpp"

namespace imlcore {

using imlsdk::Json;

class SeedResults {
 public:
  // Reads an earlier run's files from `dir` when `resume` and their config hash equals `hash`;
  // otherwise starts empty (a changed config never mixes with old results).
  SeedResults(std::string dir, std::string hash, bool resume);

  const std::string& dir() const { return dir_; }
  Json& manifest() { return manifest_; }
  const std::vector<Json>& records() const { return records_; }

  // Whether an earlier run's files were read (same config hash, resume on).
  bool resumed() const { return resumed_; }
  bool pre_branch_complete() const { return manifest_.value("pre_branch_complete", false); }
  bool stage2_done(uint64_t s2) const { return done_s2_.count(s2) > 0; }

  // Forget what a part of the run wrote, before it is run again.
  void drop_pre_branch();
  void drop_stage2(uint64_t s2);

  // One part of the run (s2 null: the stages before the Stage-2 branch; else that Stage-2 seed):
  // its metrics.jsonl lines and manifest "stages" entries, for a mid-stage checkpoint; and put
  // back what a checkpoint holds in place of whatever the part has now (a killed run may have
  // written lines after its last checkpoint).
  Json part_records(const Json& s2) const;
  Json part_stage_entries(const Json& s2) const;
  void restore_part(const Json& s2, const Json& records, const Json& stage_entries);

  void add_record(Json record) { records_.push_back(std::move(record)); }
  // Per-stage throughput; replaces an earlier entry for the same stage and Stage-2 seed.
  void set_stage_stats(const Json& stats);
  void mark_pre_branch_complete();
  void mark_stage2_done(uint64_t s2);
  void mark_complete();

  void flush() const;

 private:
  template <typename Pred>
  void drop_records(Pred pred);
  std::string dir_, hash_;
  Json manifest_ = Json::object();
  std::vector<Json> records_;
  std::set<uint64_t> done_s2_;
  bool resumed_ = false;
};

}  // namespace imlcore
