#include "env_study.hpp"

#include <fcntl.h>
#include <spawn.h>
#include <sys/wait.h>
#include <unistd.h>

#include <algorithm>
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <fstream>
#include <map>
#include <stdexcept>
#include <utility>

#include <nlohmann/json.hpp>

extern char** environ;

namespace bench {

namespace {

struct Variant {
  std::string name;
  std::vector<std::string> set;  // "KEY=value"
  std::string library;           // a preloaded library that must exist ("" = none)
  std::string what;              // one line for the legend
};

const char* const kStudiedKeys[] = {"OMP_WAIT_POLICY", "GOMP_SPINCOUNT", "LD_PRELOAD", "IML_HUGEPAGES"};

const char* const kTcmalloc = "/usr/lib/x86_64-linux-gnu/libtcmalloc_minimal.so.4";
const char* const kJemalloc = "/usr/lib/x86_64-linux-gnu/libjemalloc.so.2";
// glibc's malloc and libstdc++'s operator new (which calls malloc) ahead of a linked-in tcmalloc:
// preloaded libraries come before the executable's own in the symbol lookup.
const char* const kLibc = "/lib/x86_64-linux-gnu/libc.so.6";
const char* const kLibstdcxx = "/lib/x86_64-linux-gnu/libstdc++.so.6";

std::vector<Variant> all_variants() {
#ifdef IMLHOST_LINKED_MALLOC
  const std::string glibc = std::string("LD_PRELOAD=") + kLibc + ":" + kLibstdcxx;
  const std::vector<std::string> four_k = {glibc, "IML_HUGEPAGES=0"};
  const std::string default_what = std::string("this build's malloc: ") + IMLHOST_LINKED_MALLOC +
                                   " (linked in, as imlhost is), OpenMP vars unset";
#else
  const std::string glibc;
  const std::vector<std::string> four_k = {"IML_HUGEPAGES=0"};
  const std::string default_what =
      "this build's malloc: glibc + imlhost's configure_memory (mallopt, the heap on 2 MB pages), OpenMP vars unset";
#endif
  std::vector<Variant> out = {{"default", {}, "", default_what}};
  if (!glibc.empty())
    out.push_back({"glibc", {glibc}, kLibc,
                   glibc + ": glibc's malloc + configure_memory (mallopt, the heap on 2 MB pages)"});
  out.push_back({"4k-pages", four_k, glibc.empty() ? "" : kLibc,
                 (glibc.empty() ? std::string() : "glibc's malloc as above, ") +
                     "IML_HUGEPAGES=0 (the heap on 4 KB pages)"});
  out.push_back({"passive", {"OMP_WAIT_POLICY=passive"}, "", "OMP_WAIT_POLICY=passive"});
  out.push_back({"spin10k", {"GOMP_SPINCOUNT=10000"}, "", "GOMP_SPINCOUNT=10000"});
  out.push_back({"tcmalloc", {std::string("LD_PRELOAD=") + kTcmalloc}, kTcmalloc,
                 std::string("LD_PRELOAD=") + kTcmalloc + " (libtcmalloc-minimal4)"});
  out.push_back({"jemalloc", {std::string("LD_PRELOAD=") + kJemalloc}, kJemalloc,
                 std::string("LD_PRELOAD=") + kJemalloc + " (libjemalloc2)"});
  return out;
}

// The variants named in `names` (comma-separated; empty = all) whose libraries exist.
std::vector<Variant> select_variants(const std::string& names) {
  std::vector<Variant> all = all_variants(), out;
  std::vector<std::string> wanted;
  for (size_t pos = 0; pos <= names.size() && !names.empty();) {
    const size_t comma = std::min(names.find(',', pos), names.size());
    wanted.push_back(names.substr(pos, comma - pos));
    pos = comma + 1;
  }
  for (const auto& w : wanted)
    if (std::none_of(all.begin(), all.end(), [&](const Variant& v) { return v.name == w; }))
      throw std::invalid_argument("--env-variants: unknown variant '" + w +
                                  "' (default, glibc, 4k-pages, passive, spin10k, tcmalloc, jemalloc; glibc only in a "
                                  "build linked with tcmalloc)");
  for (const auto& v : all) {
    if (!wanted.empty() && std::find(wanted.begin(), wanted.end(), v.name) == wanted.end()) continue;
    if (!v.library.empty() && ::access(v.library.c_str(), R_OK) != 0) {
      std::printf("env study: %s skipped: %s is not installed\n", v.name.c_str(), v.library.c_str());
      continue;
    }
    out.push_back(v);
  }
  if (out.empty()) throw std::invalid_argument("--env-variants: no variant left to run");
  return out;
}

// The parent's environment without the studied keys, plus the variant's.
std::vector<std::string> environment_for(const Variant& v) {
  std::vector<std::string> env;
  for (char** e = environ; *e; ++e) {
    bool studied = false;
    for (const char* key : kStudiedKeys)
      studied = studied || (std::strncmp(*e, key, std::strlen(key)) == 0 && (*e)[std::strlen(key)] == '=');
    if (!studied) env.emplace_back(*e);
  }
  env.insert(env.end(), v.set.begin(), v.set.end());
  return env;
}

std::vector<char*> c_strings(std::vector<std::string>& v) {
  std::vector<char*> out;
  for (auto& s : v) out.push_back(s.data());
  out.push_back(nullptr);
  return out;
}

// Runs the child with stdout/stderr discarded; returns its JSON report.
nlohmann::json run_child(const std::string& exe, std::vector<std::string> args, const Variant& v,
                         const std::string& json_path) {
  args.insert(args.begin(), exe);
  args.push_back("--json");
  args.push_back(json_path);
  std::vector<std::string> env = environment_for(v);
  std::vector<char*> argv = c_strings(args), envp = c_strings(env);
  std::fflush(stdout);
  // posix_spawn, not fork: no copy-on-write protection of this process's pages (peer.cpp).
  posix_spawn_file_actions_t actions;
  posix_spawn_file_actions_init(&actions);
  posix_spawn_file_actions_addopen(&actions, 1, "/dev/null", O_WRONLY, 0);
  posix_spawn_file_actions_adddup2(&actions, 1, 2);
  pid_t pid = 0;
  const int spawned = ::posix_spawn(&pid, exe.c_str(), &actions, nullptr, argv.data(), envp.data());
  posix_spawn_file_actions_destroy(&actions);
  if (spawned != 0) throw std::runtime_error("env study: cannot start " + exe + ": " + std::strerror(spawned));
  int status = 0;
  ::waitpid(pid, &status, 0);
  if (!WIFEXITED(status) || WEXITSTATUS(status) != 0)
    throw std::runtime_error("env study: the run under '" + v.name + "' failed (rerun it by hand: " +
                             (v.set.empty() ? std::string() : v.set[0] + " ") + exe + " ...)");
  std::ifstream in(json_path);
  return nlohmann::json::parse(in);
}

double median(std::vector<double> v) {
  std::sort(v.begin(), v.end());
  const size_t n = v.size();
  return n == 0 ? 0.0 : n % 2 ? v[n / 2] : 0.5 * (v[n / 2 - 1] + v[n / 2]);
}

}  // namespace

void run_env_study(const std::string& exe, const std::vector<std::string>& child_args, int rounds,
                   const std::string& names) {
  const std::vector<Variant> variants = select_variants(names);
  const std::string json_path = "/tmp/bench_env_study." + std::to_string(::getpid()) + ".json";

  // samples[workload label][variant][set-up]; workloads and set-ups in the children's order.
  std::map<std::string, std::map<std::string, std::map<std::string, std::vector<double>>>> samples;
  std::vector<std::string> workloads, setups;
  std::map<std::string, std::string> units;
  for (int round = 0; round < rounds; ++round) {
    for (const auto& v : variants) {
      std::fprintf(stderr, "env study: round %d/%d, %s\n", round + 1, rounds, v.name.c_str());
      const nlohmann::json report = run_child(exe, child_args, v, json_path);
      if (round == 0)
        std::printf("env study: %-9s child's allocator: %s\n", v.name.c_str(),
                    report.value("allocator", std::string("?")).c_str());
      for (const auto& w : report.at("workloads")) {
        const std::string label = w.at("label");
        if (std::find(workloads.begin(), workloads.end(), label) == workloads.end())
          workloads.push_back(label);
        units[label] = w.at("unit");
        for (const auto& [setup, values] : w.at("samples").items()) {
          if (std::find(setups.begin(), setups.end(), setup) == setups.end()) setups.push_back(setup);
          for (double x : values) samples[label][v.name][setup].push_back(x);
        }
      }
    }
  }
  std::remove(json_path.c_str());

  std::printf("== environment study: medians over %d round(s); the last column: the first set-up\n"
              "   vs the first variant ==\n", rounds);
  for (const auto& v : variants) std::printf("   %-9s %s\n", v.name.c_str(), v.what.c_str());
  std::printf("%-32s %-10s %-9s", "workload", "unit", "env");
  for (const auto& s : setups) std::printf(" %9s", s.c_str());
  std::printf(" %9s\n", "vs first");
  for (const auto& label : workloads) {
    const auto& base = samples[label][variants[0].name][setups.empty() ? "" : setups[0]];
    for (const auto& v : variants) {
      std::printf("%-32s %-10s %-9s", label.c_str(), units[label].c_str(), v.name.c_str());
      for (const auto& s : setups) {
        const auto& xs = samples[label][v.name][s];
        if (xs.empty()) std::printf(" %9s", "-");
        else std::printf(" %9.0f", median(xs));
      }
      const auto& first = samples[label][v.name][setups.empty() ? "" : setups[0]];
      if (first.empty() || base.empty()) std::printf(" %9s\n", "-");
      else std::printf(" %+8.1f%%\n", 100 * (median(first) / median(base) - 1));
    }
  }
}

}  // namespace bench
