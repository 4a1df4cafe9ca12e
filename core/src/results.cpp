#include "results.hpp"

#include <unistd.h>

#include <cmath>
#include <cstdio>
#include <cstring>
#include <filesystem>
#include <fstream>
#include <sstream>

#include "errors.hpp"
#include "imlsdk/files.hpp"

namespace fs = std::filesystem;

namespace imlcore {

void write_file_atomic(const std::string& path, const std::string& content) {
  try {
    imlsdk::write_file_atomic(path, content);
  } catch (const std::runtime_error& e) {
    throw UserError(e.what());
  }
}

std::string read_file(const std::string& path) {
  try {
    return imlsdk::read_file(path);
  } catch (const std::runtime_error& e) {
    throw UserError(e.what());
  }
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
