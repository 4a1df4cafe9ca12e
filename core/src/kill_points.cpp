#include "kill_points.hpp"

#include <csignal>
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <map>
#include <string>

#include <unistd.h>

namespace imlcore {

namespace {

struct KillAt {
  bool armed = false;
  std::string event;
  long n = 0;
  std::map<std::string, long> seen;
};

KillAt& kill_at() {
  static KillAt k = [] {
    KillAt out;
    const char* v = std::getenv("IMLHOST_TEST_KILL_AT");
    if (!v || !*v) return out;
    const std::string s(v);
    const auto colon = s.find(':');
    if (colon == std::string::npos) return out;
    out.event = s.substr(0, colon);
    out.n = std::strtol(s.c_str() + colon + 1, nullptr, 10);
    out.armed = out.n > 0;
    return out;
  }();
  return k;
}

}  // namespace

bool kill_points_armed() { return kill_at().armed; }

void kill_point(const char* event) {
  KillAt& k = kill_at();
  if (!k.armed || k.event != event) return;
  if (++k.seen[k.event] == k.n) {
    std::fflush(nullptr);
    ::kill(::getpid(), SIGKILL);
  }
}

}  // namespace imlcore
