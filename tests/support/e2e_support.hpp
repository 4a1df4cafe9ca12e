// Test helper for end-to-end tests: run the imlhost executable (IMLHOST_EXE, defined by the build)
// and capture its exit code and output, and read a whole file; scratch folders: scratch.hpp.
#pragma once
#include <sys/wait.h>

#include <array>
#include <cstdio>
#include <filesystem>
#include <fstream>
#include <sstream>
#include <string>

#include "scratch.hpp"

#ifndef IMLHOST_EXE
#error "IMLHOST_EXE must be defined by the build"
#endif

namespace imltest {

struct RunResult {
  int code;            // exit status (-1: killed by a signal)
  std::string output;  // stdout and stderr together
};

// `imlhost <args>` through the shell (quote arguments with spaces).
inline RunResult run_imlhost(const std::string& args) {
  const std::string cmd = std::string(IMLHOST_EXE) + " " + args + " 2>&1";
  RunResult r{-1, ""};
  FILE* p = ::popen(cmd.c_str(), "r");
  if (p == nullptr) return r;
  std::array<char, 4096> buf;
  while (std::fgets(buf.data(), buf.size(), p)) r.output += buf.data();
  const int status = ::pclose(p);
  r.code = WIFEXITED(status) ? WEXITSTATUS(status) : -1;
  return r;
}

// A whole file, byte for byte.
inline std::string slurp(const std::filesystem::path& p) {
  std::ifstream in(p, std::ios::binary);
  std::stringstream ss;
  ss << in.rdbuf();
  return ss.str();
}

}  // namespace imltest
