#include "report.hpp"

#include <torch/version.h>

#include <algorithm>
#include <cmath>
#include <cstdio>
#include <fstream>

#include <nlohmann/json.hpp>

namespace bench {

namespace {

using Json = nlohmann::ordered_json;

std::string fmt_rate(double v) {
  char buf[32];
  if (std::isnan(v)) return "-";
  std::snprintf(buf, sizeof buf, v >= 100 ? "%.0f" : "%.1f", v);
  return buf;
}

const Workload* find(const std::vector<Workload>& work, const std::string& id) {
  for (const auto& w : work)
    if (w.id == id) return &w;
  return nullptr;
}

// The machine's peak for MFU: the best single GEMM sample under a set-up (not the median: on
// a shared VM a slow repetition would understate the peak and overstate every MFU).
double gemm_peak(const std::vector<Workload>& work, const std::string& setup,
                 std::string* from = nullptr) {
  double best = std::nan("");
  for (const auto& w : work) {
    if (w.kind != "gemm") continue;
    auto it = w.rates.find(setup);
    if (it == w.rates.end()) continue;
    for (double r : it->second)
      if (!(r <= best)) {
        best = r;
        if (from) *from = w.label + ", best of " + std::to_string(it->second.size());
      }
  }
  return best;
}

double model_gflops(const Workload& w, const std::string& setup) {
  return w.model_gflop * w.rate(setup) / w.work_per_call;
}

// ---- targets against the peer measured in this run ------------------------------------------

struct Target {
  std::string what;
  double ours = 0;
  double peer = std::nan(""), peer_low = std::nan(""), peer_high = std::nan("");  // over invocations
  double ratio_low = std::nan(""), ratio_high = std::nan("");  // paired: rep k ours / rep k peer
  std::string peer_missing;  // why there is no peer figure (rate targets only)
  double goal = 0;           // required ours / peer, or the absolute value (MFU %)
  bool absolute = false;
  double needed_mfu = std::nan("");  // the MFU (%) that meeting the goal needs against the GEMM peak
  bool judged() const { return absolute || !std::isnan(peer); }
  bool pass() const { return absolute ? ours >= goal : ours >= goal * peer; }
};

// The targets: training >= 1.2x the peer at 70M and at the small shape (V134, V2100), generation
// >= 2x, and MFU >= 80 % at 70M. Only the reference set-up `def` of imlhost is compared.
std::vector<Target> peer_targets(const std::vector<Workload>& work, const std::string& def,
                                 const Peer& peer) {
  std::vector<Target> targets;
  const double peak = gemm_peak(work, def);
  auto rate_target = [&](const std::string& what, const std::string& id, double goal) {
    const Workload* w = find(work, id);
    if (!w) return;
    Target t{what, w->rate(def)};
    t.goal = goal;
    const PeerWorkload* p = peer.find(id);
    if (!p) {
      t.peer_missing = "no peer";
    } else if (p->rates.empty()) {
      t.peer_missing = !p->skipped.empty() ? p->skipped : "failed";
    } else {
      t.peer = median(p->rates);
      t.peer_low = *std::min_element(p->rates.begin(), p->rates.end());
      t.peer_high = *std::max_element(p->rates.begin(), p->rates.end());
      const auto it = w->rates.find(def);
      for (size_t i = 0; it != w->rates.end() && i < p->rates.size(); ++i) {
        const size_t rep = static_cast<size_t>(p->reps[i]);
        if (rep >= it->second.size()) continue;
        const double r = it->second[rep] / p->rates[i];
        if (!(r >= t.ratio_low)) t.ratio_low = r;
        if (!(r <= t.ratio_high)) t.ratio_high = r;
      }
      t.needed_mfu = 100 * goal * t.peer * w->model_gflop / w->work_per_call / peak;
    }
    targets.push_back(t);
  };
  rate_target("train 70M (B32 T48) tok/s", "train_70M", 1.2);
  rate_target("train hf-small V134 tok/s", "train_hf-small-v134", 1.2);
  rate_target("train hf-small V2100 tok/s", "train_hf-small-v2100", 1.2);
  rate_target("generate 70M (64x20 +8) new tok/s", "generate_70M", 2.0);
  if (const Workload* w = find(work, "train_70M"); w && !std::isnan(peak)) {
    Target t{"MFU train 70M (%)", 100 * model_gflops(*w, def) / peak};
    t.goal = 80;
    t.absolute = true;
    t.needed_mfu = 80;
    if (const PeerWorkload* p = peer.find("train_70M"); p && !p->runs.empty()) {
      // The peer's own MFU against its own GEMM peak (same formula: 6 x (N - embed_in)).
      t.peer = 100 * p->median_of("mfu_6N_excl_embed_in");
      std::vector<double> m;
      for (const auto& r : p->runs) m.push_back(100 * r.value("mfu_6N_excl_embed_in", 0.0));
      t.peer_low = *std::min_element(m.begin(), m.end());
      t.peer_high = *std::max_element(m.begin(), m.end());
    }
    targets.push_back(t);
  }
  return targets;
}

void print_rates(const std::vector<Workload>& work, const std::vector<ThreadSetup>& setups,
                 int reps) {
  const std::string def = setups[0].label();
  std::printf("== medians of %d reps (per set-up) ==\n", reps);
  std::printf("%-32s %-10s", "workload", "unit");
  for (const auto& s : setups) std::printf(" %9s", s.label().c_str());
  if (setups.size() > 1) std::printf("  best");
  std::printf("\n");
  for (const auto& w : work) {
    std::printf("%-32s %-10s", w.label.c_str(), w.unit.c_str());
    std::string best;
    double best_rate = -1;
    for (const auto& s : setups) {
      const double r = w.rate(s.label());
      std::printf(" %9s", fmt_rate(r).c_str());
      if (r > best_rate) best_rate = r, best = s.label();
    }
    if (setups.size() > 1 && best == def)
      std::printf("  %s", best.c_str());
    else if (setups.size() > 1)
      std::printf("  %s (%+.0f%% vs %s)", best.c_str(), 100.0 * (best_rate / w.rate(def) - 1),
                  def.c_str());
    std::printf("\n");
  }
  if (setups.size() < 2) return;
  // One number per set-up: the geometric mean of its speed relative to the reference set-up.
  std::printf("%-43s", "geomean vs reference (model workloads)");
  for (const auto& s : setups) {
    double log_sum = 0;
    int n = 0;
    for (const auto& w : work)
      if (w.kind != "gemm") log_sum += std::log(w.rate(s.label()) / w.rate(def)), ++n;
    char cell[16] = "-";
    if (n) std::snprintf(cell, sizeof cell, "%.0f%%", 100 * std::exp(log_sum / n));
    std::printf(" %9s", cell);
  }
  std::printf("\n");
}

void print_utilisation(const std::vector<Workload>& work, const std::string& def) {
  std::string from;
  const double peak = gemm_peak(work, def, &from);
  if (std::isnan(peak)) return;
  std::printf("\nGEMM peak (set-up %s): %.1f GFLOP/s (%s)\n", def.c_str(), peak, from.c_str());
  std::printf("\n== utilisation, set-up %s (MFU = model FLOP/s / GEMM peak; bound = rate at 100%% "
              "MFU) ==\n", def.c_str());
  std::printf("%-32s %-10s %9s %9s %7s %9s\n", "workload", "unit", "rate", "GFLOP/s", "MFU", "bound");
  for (const auto& w : work) {
    if (w.kind == "gemm") continue;
    std::printf("%-32s %-10s %9s %9.1f %6.1f%% %9s\n", w.label.c_str(), w.unit.c_str(),
                fmt_rate(w.rate(def)).c_str(), model_gflops(w, def),
                100 * model_gflops(w, def) / peak,
                fmt_rate(w.work_per_call * peak / w.model_gflop).c_str());
  }
}

void print_phases(const std::vector<Workload>& work, const std::string& def) {
  bool header = false;
  for (const auto& w : work) {
    if (w.kind != "train") continue;
    if (!header) {
      std::printf("\n== training step phases, set-up %s (ms, median) ==\n%-32s", def.c_str(),
                  "workload");
      for (const char* p : kPhaseNames) std::printf(" %10s", p);
      std::printf("\n");
      header = true;
    }
    std::printf("%-32s", w.label.c_str());
    for (int p = 0; p < kPhases; ++p) {
      std::vector<double> v;
      for (const auto& ph : w.phases) v.push_back(ph[p]);
      std::printf(" %10.1f", 1e3 * median(v));
    }
    std::printf("\n");
  }
  if (header)
    std::printf("(part wait: of forward + backward, the time a part's thread waits for the slower part where\n"
                " the batch runs in parts side by side, the mean over the parts; 0 in one part)\n");
}

void print_targets(const std::vector<Workload>& work, const std::string& def, const Peer& peer) {
  const auto targets = peer_targets(work, def, peer);
  if (targets.empty()) return;
  std::printf("\n== vs the HF Transformers 4.33 peer, measured in this run (imlhost set-up %s) ==\n",
              def.c_str());
  std::printf("%-34s %9s %21s %17s %7s %6s %9s\n", "figure", "ours", "peer (min-max)",
              "ratio (paired)", "target", "result", "goal MFU");
  for (const auto& t : targets) {
    char ref[48] = "-", ratio[48] = "-", goal[20], needs[20] = "-";
    if (!std::isnan(t.peer))
      std::snprintf(ref, sizeof ref, "%s (%s-%s)", fmt_rate(t.peer).c_str(),
                    fmt_rate(t.peer_low).c_str(), fmt_rate(t.peer_high).c_str());
    else if (!t.absolute)
      std::snprintf(ref, sizeof ref, "missing (%s)", t.peer_missing.c_str());
    if (!t.absolute && !std::isnan(t.peer)) {
      if (!std::isnan(t.ratio_low) && t.ratio_low != t.ratio_high)
        std::snprintf(ratio, sizeof ratio, "%.2fx (%.2f-%.2f)", t.ours / t.peer, t.ratio_low,
                      t.ratio_high);
      else
        std::snprintf(ratio, sizeof ratio, "%.2fx", t.ours / t.peer);
    }
    std::snprintf(goal, sizeof goal, t.absolute ? ">=%.0f" : ">=%.1fx", t.goal);
    if (!std::isnan(t.needed_mfu)) std::snprintf(needs, sizeof needs, "%.0f%%", t.needed_mfu);
    std::printf("%-34s %9s %21s %17s %7s %6s %9s\n", t.what.c_str(), fmt_rate(t.ours).c_str(), ref,
                ratio, goal, !t.judged() ? "-" : t.pass() ? "PASS" : "MISS", needs);
  }
  std::printf("(peer: median over its invocations, each the median of its own steps; ratio = ours /\n"
              " peer medians, in brackets the range of rep-by-rep ratios; goal MFU: the MFU that the\n"
              " target needs against this run's GEMM peak, > 100%% = out of reach; the MFU row's peer\n"
              " column is the peer's own MFU against the GEMM peak measured in its own process)\n");
  if (const PeerWorkload* p = peer.find("train_70M"); p && !p->runs.empty()) {
    const double peak = gemm_peak(work, def);
    std::printf("MFU at 70M: imlhost %.1f%% of %.1f GFLOP/s; peer %.1f%% of %.1f GFLOP/s (medians)\n",
                100 * model_gflops(*find(work, "train_70M"), def) / peak, peak,
                100 * p->median_of("mfu_6N_excl_embed_in"), [&] {
                  std::vector<double> g;
                  for (const auto& r : p->runs)
                    g.push_back(r.at("gemm_gflops").value("2048", std::nan("")));
                  return median(g);
                }());
  }
  for (const auto& p : peer.workloads)
    for (const auto& f : p.failures) std::printf("%s\n", f.c_str());
}

}  // namespace

void print_report(const std::vector<Workload>& work, const std::vector<ThreadSetup>& setups,
                  const RunInfo& info, const Peer& peer) {
  const std::string def = setups[0].label();
  print_rates(work, setups, info.reps);
  print_utilisation(work, def);
  print_phases(work, def);
  print_targets(work, def, peer);
  std::printf("\nload average %.2f at start, %.2f at end (cores: %d); wall time %.0f s\n",
              info.load_start, info.load_end, info.cores, info.wall_seconds);
  if (info.load_start > 0.5 * info.cores || info.load_end > 0.5 * info.cores)
    std::printf("note: the machine was busy; figures are lower bounds of what it can do\n");
}

void write_json(const std::string& path, const std::vector<Workload>& work,
                const std::vector<ThreadSetup>& setups, const RunInfo& info, const Peer& peer) {
  const std::string def = setups[0].label();
  const double peak = gemm_peak(work, def);
  Json j;
  j["torch_version"] = TORCH_VERSION;
  j["cores"] = info.cores;
  j["configure_threads"] = info.configure_threads;
  j["allocator"] = info.allocator;
  j["gemm_backend"] = info.gemm_backend;
  j["reps"] = info.reps;
  j["load_average"] = {info.load_start, info.load_end};
  j["reference_setup"] = def;
  j["gemm_peak_gflops"] = std::isnan(peak) ? Json() : Json(peak);
  Json ws = Json::array();
  for (const auto& w : work) {
    Json e = {{"id", w.id}, {"kind", w.kind}, {"label", w.label}, {"unit", w.unit},
              {"calls_per_rep", w.calls_per_rep}};
    for (const auto& s : setups) {
      auto it = w.rates.find(s.label());
      if (it == w.rates.end()) continue;
      e["median"][s.label()] = median(it->second);
      e["samples"][s.label()] = it->second;
    }
    if (w.kind != "gemm") {
      e["flop_params"] = w.flop_params;
      e["model_gflop_per_call"] = w.model_gflop;
      if (!std::isnan(peak)) e["mfu"] = model_gflops(w, def) / peak;
    }
    ws.push_back(e);
  }
  j["workloads"] = ws;
  Json pj = {{"script", peer.script}, {"status", peer.status}};
  Json pws = Json::array();
  for (const auto& p : peer.workloads) {
    Json e = {{"compares_with", p.workload_id}, {"command", peer.command(p)},
              {"rate_key", p.rate_key}, {"rates", p.rates}, {"reps", p.reps}};
    if (!p.rates.empty()) e["median"] = median(p.rates);
    if (!p.skipped.empty()) e["skipped"] = p.skipped;
    e["failures"] = p.failures;
    e["invocations"] = p.runs;  // every invocation's own JSON (step times, GEMM peak, MFU, ...)
    pws.push_back(e);
  }
  pj["workloads"] = pws;
  j["peer"] = pj;
  auto num = [](double v) { return std::isnan(v) ? Json() : Json(v); };
  Json ts = Json::array();
  for (const auto& t : peer_targets(work, def, peer))
    ts.push_back({{"what", t.what}, {"ours", t.ours}, {"peer", num(t.peer)},
                  {"peer_range", {num(t.peer_low), num(t.peer_high)}},
                  {"paired_ratio_range", {num(t.ratio_low), num(t.ratio_high)}},
                  {"peer_missing", t.peer_missing}, {"goal", t.goal}, {"absolute", t.absolute},
                  {"pass", t.judged() ? Json(t.pass()) : Json()},
                  {"needed_mfu_percent", num(t.needed_mfu)}});
  j["targets"] = ts;
  std::ofstream out(path);
  if (!out) throw std::runtime_error("cannot write " + path);
  out << j.dump(2) << "\n";
}

}  // namespace bench
