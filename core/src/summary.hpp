// Aggregation of metrics across seeds into the end-of-run table.
#pragma once
#include <string>
#include <vector>

#include "imlsdk/plugin.hpp"

namespace imlcore {

// metrics: every metrics.jsonl record of every seed. stage_order: stage names in run order.
// Returns {"table": text for the terminal, "json": summary object}.
struct SummaryOut {
  std::string text;
  imlsdk::Json json;
};
SummaryOut summarize_runs(const std::vector<imlsdk::Json>& metrics,
                          const std::vector<std::string>& stage_order, const std::string& reliable,
                          const std::string& unreliable, const std::string& metric = "em");

}  // namespace imlcore
