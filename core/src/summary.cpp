#include "summary.hpp"

#include <algorithm>
#include <cmath>
#include <cstdio>
#include <map>
#include <set>

#include "stats.hpp"

namespace imlcore {

using imlsdk::Json;

namespace {
// The run a record belongs to: "seed/stage2_seed" ("seed/-" before the Stage-2 branch).
std::string run_key(const Json& r) {
  return std::to_string(r.at("seed").get<uint64_t>()) + "/" +
         (r.at("stage2_seed").is_null() ? std::string("-") : std::to_string(r.at("stage2_seed").get<uint64_t>()));
}
std::string fmt(const char* f, double a, double b) {
  char buf[64];
  std::snprintf(buf, sizeof buf, f, a, b);
  return buf;
}
}  // namespace

SummaryOut summarize_runs(const std::vector<Json>& metrics, const std::vector<std::string>& stage_order,
                          const std::string& reliable, const std::string& unreliable, const std::string& metric) {
  // last epoch of each (stage, run): value per eval set
  std::map<std::string, std::map<std::string, int64_t>> last_epoch;  // stage -> run -> epoch
  for (const auto& r : metrics)
    if (r.contains(metric)) {
      auto& e = last_epoch[r.at("stage").get<std::string>()][run_key(r)];
      e = std::max<int64_t>(e, r.at("epoch").get<int64_t>());
    }
  // stage -> eval set -> run -> value
  std::map<std::string, std::map<std::string, std::map<std::string, double>>> v;
  std::vector<std::string> sets;
  for (const auto& r : metrics) {
    if (!r.contains(metric)) continue;
    const std::string stage = r.at("stage").get<std::string>(), run = run_key(r);
    if (r.at("epoch").get<int64_t>() != last_epoch[stage][run]) continue;
    const std::string set = r.at("eval_set").get<std::string>();
    if (std::find(sets.begin(), sets.end(), set) == sets.end()) sets.push_back(set);
    v[stage][set][run] = r.at(metric).get<double>();
  }
  // test subsets first, then train_* monitoring sets
  std::stable_partition(sets.begin(), sets.end(), [](const std::string& s) { return s.rfind("train_", 0) != 0; });

  SummaryOut out;
  out.json = Json::object();
  out.json["metric"] = metric;
  std::string text;
  size_t w = 10;
  for (const auto& s : sets) w = std::max(w, s.size());
  char line[512];
  std::snprintf(line, sizeof line, "%-*s", static_cast<int>(w), "eval set");
  text += line;
  for (const auto& st : stage_order) {
    std::snprintf(line, sizeof line, " | %-22s", (metric + " after " + st).c_str());
    text += line;
  }
  text += "\n" + std::string(w, '-');
  for (size_t i = 0; i < stage_order.size(); ++i) text += "-+-" + std::string(22, '-');
  text += "\n";
  Json table = Json::object();
  for (const auto& set : sets) {
    std::snprintf(line, sizeof line, "%-*s", static_cast<int>(w), set.c_str());
    text += line;
    for (const auto& st : stage_order) {
      std::vector<double> xs;
      for (const auto& kv : v[st][set]) xs.push_back(kv.second);
      std::string cell = "-";
      if (!xs.empty()) {
        const Summary s = summarize(xs);
        cell = fmt("%.3f ± %.3f", s.mean, s.ci95) + " (n=" + std::to_string(s.n) + ")";
        table[set][st] = {{"mean", s.mean}, {"ci95", s.ci95}, {"sd", s.sd}, {"n", s.n}};
      }
      // "±" is two bytes but one column wide
      const int pad = 22 + (cell.find("±") != std::string::npos ? 1 : 0);
      std::snprintf(line, sizeof line, " | %-*s", pad, cell.c_str());
      text += line;
    }
    text += "\n";
  }
  out.json["table"] = table;
  text += "(mean ± 95% CI half-width across runs; a run is one Stage-1 seed x Stage-2 seed)\n";

  Json gaps = Json::object();
  for (const auto& st : stage_order) {
    auto& a = v[st][reliable];
    auto& b = v[st][unreliable];
    std::vector<double> xa, xb, d;
    for (const auto& kv : a)
      if (b.count(kv.first)) {
        xa.push_back(kv.second);
        xb.push_back(b.at(kv.first));
        d.push_back(kv.second - b.at(kv.first));
      }
    if (d.empty()) continue;
    const Summary s = summarize(d);
    const double p = paired_t_pvalue(xa, xb);
    char buf[256];
    std::snprintf(buf, sizeof buf, "IML gap after %s: %s(%s) - %s(%s) = %+.4f ± %.4f (95%% CI, n=%zu), paired t-test p = %s\n",
                  st.c_str(), metric.c_str(), reliable.c_str(), metric.c_str(), unreliable.c_str(), s.mean, s.ci95, s.n,
                  std::isnan(p) ? "n/a" : fmt("%.3g", p, 0).c_str());
    text += buf;
    gaps[st] = {{"mean", s.mean}, {"ci95", s.ci95}, {"n", s.n}, {"p_value", std::isnan(p) ? Json(nullptr) : Json(p)}};
  }
  out.json["gap"] = {{"reliable", reliable}, {"unreliable", unreliable}, {"by_stage", gaps}};
  out.text = text;
  return out;
}

}  // namespace imlcore
