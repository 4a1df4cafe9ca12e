#include "results.hpp"

#include <unistd.h>

#include <cmath>
#include <cstdio>
#include <cstring>
#include <filesystem>
#include <fstream>
#include <sstream>

#include "errors.hpp"

namespace fs = std::filesystem;

namespace imlcore {

void write_file_atomic(const std::string& path, const std::string& content) {
  const fs::path p(path);
  std::error_code ec;
  if (p.has_parent_path()) fs::create_directories(p.parent_path(), ec);
  const std::string tmp = path + ".tmp." + std::to_string(::getpid());
  {
    std::ofstream out(tmp, std::ios::binary | std::ios::trunc);
    if (!out) throw UserError(path + ": cannot write (" + std::strerror(errno) + ")");
    out << content;
    out.flush();
    if (!out) {
      std::remove(tmp.c_str());
      throw UserError(path + ": write failed");
    }
  }
  fs::rename(tmp, p, ec);
  if (ec) {
    std::remove(tmp.c_str());
    throw UserError(path + ": cannot rename into place: " + ec.message());
  }
}

std::string read_file(const std::string& path) {
  std::ifstream in(path, std::ios::binary);
  if (!in) throw UserError(path + ": cannot read");
  std::ostringstream ss;
  ss << in.rdbuf();
  return ss.str();
}

std::string format_double(double v) {
  if (std::isnan(v)) return "NaN";
  char buf[64];
  for (int prec = 6; prec <= 17; ++prec) {
    std::snprintf(buf, sizeof buf, "%.*g", prec, v);
    if (std::strtod(buf, nullptr) == v) break;
  }
  return buf;
}

#ifndef IMLHOST_SOURCE_DIR
#define IMLHOST_SOURCE_DIR ""
#endif

std::string source_commit() {
  // Read .git/HEAD directly: no git binary needed at run time.
  const fs::path git = fs::path(IMLHOST_SOURCE_DIR) / ".git";
  std::error_code ec;
  if (!fs::exists(git / "HEAD", ec)) return "unknown";
  try {
    std::string head = read_file((git / "HEAD").string());
    while (!head.empty() && (head.back() == '\n' || head.back() == '\r')) head.pop_back();
    if (head.rfind("ref: ", 0) != 0) return head;
    const std::string ref = head.substr(5);
    if (fs::exists(git / ref, ec)) {
      std::string c = read_file((git / ref).string());
      while (!c.empty() && (c.back() == '\n')) c.pop_back();
      return c;
    }
    if (fs::exists(git / "packed-refs", ec)) {
      std::istringstream in(read_file((git / "packed-refs").string()));
      std::string line;
      while (std::getline(in, line))
        if (line.size() > 41 && line.substr(41) == ref) return line.substr(0, 40);
    }
  } catch (...) {
  }
  return "unknown";
}

}  // namespace imlcore
