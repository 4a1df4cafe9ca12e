#include "peer.hpp"

#include <fcntl.h>
#include <spawn.h>
#include <sys/wait.h>
#include <unistd.h>

#include <algorithm>
#include <cerrno>
#include <chrono>
#include <cmath>
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <filesystem>
#include <fstream>
#include <sstream>
#include <stdexcept>

namespace bench {

namespace {

double median_of_values(std::vector<double> v) {
  if (v.empty()) return std::nan("");
  std::sort(v.begin(), v.end());
  const size_t n = v.size();
  return n % 2 ? v[n / 2] : 0.5 * (v[n / 2 - 1] + v[n / 2]);
}

std::string last_lines(const std::string& text, int n) {
  size_t end = text.size();
  while (end > 0 && text[end - 1] == '\n') --end;
  size_t start = end;
  for (int i = 0; i < n && start > 0; ++i) {
    const size_t nl = text.rfind('\n', start - 1);
    start = nl == std::string::npos ? 0 : nl;
    if (start == 0) break;
  }
  if (start < end && text[start] == '\n') ++start;
  return text.substr(start, end - start);
}

std::string read_file(const std::string& path) {
  std::ifstream in(path);
  std::stringstream ss;
  ss << in.rdbuf();
  return ss.str();
}

struct ChildResult {
  int status = 0;
  std::string out, err;
};

// bash <script> <args...>: stdout through a pipe, stderr into a temporary file.
ChildResult run_bash(const std::string& script, const std::vector<std::string>& args) {
  std::vector<std::string> argv_s = {"bash", script};
  argv_s.insert(argv_s.end(), args.begin(), args.end());
  std::vector<char*> argv;
  for (auto& s : argv_s) argv.push_back(s.data());
  argv.push_back(nullptr);

  char err_path[] = "/tmp/bench_peer_stderr.XXXXXX";
  const int err_fd = ::mkstemp(err_path);
  if (err_fd < 0) throw std::runtime_error("cannot create a temporary file for the peer's stderr");
  int out_pipe[2];
  if (::pipe(out_pipe) != 0) {
    ::close(err_fd);
    ::unlink(err_path);
    throw std::runtime_error("pipe() failed");
  }
  std::fflush(stdout);
  std::fflush(stderr);
  // posix_spawn, not fork: glibc spawns with CLONE_VM | CLONE_VFORK, so this process's pages are
  // not write-protected for copy-on-write. After a fork, the first write to each page of the
  // (2 GB at 70M) heap faulted: the forward of the first 70M step after each peer run took
  // 2.6-3.2 s instead of 0.8 s (~216 000 minor faults, ~12 us each on these VMs).
  posix_spawn_file_actions_t actions;
  posix_spawn_file_actions_init(&actions);
  posix_spawn_file_actions_adddup2(&actions, out_pipe[1], 1);
  posix_spawn_file_actions_adddup2(&actions, err_fd, 2);
  posix_spawn_file_actions_addclose(&actions, out_pipe[0]);
  posix_spawn_file_actions_addclose(&actions, out_pipe[1]);
  posix_spawn_file_actions_addclose(&actions, err_fd);
  pid_t pid = 0;
  const int spawned = ::posix_spawnp(&pid, "bash", &actions, nullptr, argv.data(), environ);
  posix_spawn_file_actions_destroy(&actions);
  if (spawned != 0) {
    ::close(err_fd), ::close(out_pipe[0]), ::close(out_pipe[1]);
    ::unlink(err_path);
    throw std::runtime_error(std::string("cannot start bash: ") + std::strerror(spawned));
  }
  ::close(out_pipe[1]);
  ChildResult r;
  char buf[4096];
  for (ssize_t n; (n = ::read(out_pipe[0], buf, sizeof buf)) != 0;) {
    if (n < 0 && errno == EINTR) continue;
    if (n < 0) break;
    r.out.append(buf, static_cast<size_t>(n));
  }
  ::close(out_pipe[0]);
  while (::waitpid(pid, &r.status, 0) < 0 && errno == EINTR) {
  }
  ::close(err_fd);
  r.err = read_file(err_path);
  ::unlink(err_path);
  return r;
}

// The last line of `out` that parses as a JSON object.
nlohmann::json last_json_line(const std::string& out) {
  std::istringstream lines(out);
  nlohmann::json found;
  for (std::string line; std::getline(lines, line);) {
    if (line.empty() || line[0] != '{') continue;
    auto j = nlohmann::json::parse(line, nullptr, /*allow_exceptions=*/false);
    if (j.is_object()) found = std::move(j);
  }
  return found;
}

// Empty when the peer ran the shape imlhost runs; else what differs.
std::string shape_mismatch(const PeerWorkload& w, const nlohmann::json& r) {
  std::string diff;
  for (const auto& [key, value] : w.expect.items())
    if (!r.contains(key) || r.at(key) != value)
      diff += " " + key + " " + (r.contains(key) ? r.at(key).dump() : "missing") + " (imlhost " +
              value.dump() + ")";
  if (w.flop_params > 0) {
    const auto& p = r.value("params", nlohmann::json::object());
    const int64_t peer = p.value("total", int64_t{0}) - p.value("embed_in", int64_t{0});
    if (peer != w.flop_params)
      diff += " parameters without embed_in " + std::to_string(peer) + " (imlhost " +
              std::to_string(w.flop_params) + ")";
  }
  return diff;
}

}  // namespace

double PeerWorkload::median_of(const std::string& key) const {
  std::vector<double> v;
  for (const auto& r : runs)
    if (r.contains(key) && r.at(key).is_number()) v.push_back(r.at(key).get<double>());
  return median_of_values(v);
}

const PeerWorkload* Peer::find(const std::string& workload_id) const {
  for (const auto& w : workloads)
    if (w.workload_id == workload_id) return &w;
  return nullptr;
}

std::string Peer::command(const PeerWorkload& w) const {
  std::string c = "bash " + script;
  for (const auto& a : w.args) c += " " + a;
  return c;
}

std::string find_peer_script(const std::string& source_dir, std::string* why) {
  namespace fs = std::filesystem;
  const char* env = std::getenv("IML_PEERS_DIR");
  const fs::path script = env && *env ? fs::path(env) / "hf_bench.sh"
                                      : fs::path(source_dir) / ".." / "shared" / "peers" / "hf_bench.sh";
  std::error_code ec;
  if (fs::is_regular_file(script, ec)) return fs::weakly_canonical(script, ec).string();
  if (why)
    *why = script.lexically_normal().string() + " not found" +
           (env && *env ? " ($IML_PEERS_DIR)" : " (set IML_PEERS_DIR to its folder)");
  return "";
}

void run_peer_once(const Peer& peer, PeerWorkload& w, int rep) {
  const std::string cmd = peer.command(w);
  const auto t0 = std::chrono::steady_clock::now();
  std::string failure;
  try {
    const ChildResult r = run_bash(peer.script, w.args);
    const std::string tail = last_lines(r.err, 12);
    if (!WIFEXITED(r.status) || WEXITSTATUS(r.status) != 0) {
      failure = (WIFEXITED(r.status) ? "exit status " + std::to_string(WEXITSTATUS(r.status))
                                     : "killed by signal " + std::to_string(WTERMSIG(r.status))) +
                (tail.empty() ? "" : "; its stderr ends:\n" + tail);
    } else {
      const nlohmann::json j = last_json_line(r.out);
      if (!j.is_object() || !j.contains(w.rate_key) || !j.at(w.rate_key).is_number()) {
        failure = "no JSON line with '" + w.rate_key + "' on its stdout" +
                  (tail.empty() ? "" : "; its stderr ends:\n" + tail);
      } else if (const std::string diff = shape_mismatch(w, j); !diff.empty()) {
        failure = "it ran another shape:" + diff;
      } else {
        w.rates.push_back(j.at(w.rate_key).get<double>());
        w.reps.push_back(rep);
        w.runs.push_back(j);
      }
    }
  } catch (const std::exception& e) {
    failure = e.what();
  }
  const double secs =
      std::chrono::duration<double>(std::chrono::steady_clock::now() - t0).count();
  if (failure.empty()) {
    std::fprintf(stderr, "  peer %s: %.1f %s (%.0f s)\n", w.workload_id.c_str(), w.rates.back(),
                 w.rate_key.c_str(), secs);
  } else {
    w.failures.push_back("peer failed (" + cmd + "): " + failure);
    std::fprintf(stderr, "bench_throughput: %s\n  (its rows are reported as missing; not retried)\n",
                 w.failures.back().c_str());
  }
}

}  // namespace bench
