// Test helper: where reference data (fixtures) lives, and what a test does when it is absent.
//
// Fixtures are read from $IML_FIXTURES_DIR, default ../shared/fixtures relative to the source
// tree. A test that needs one writes
//
//   IMLTEST_FIXTURE_DIR_OR_SKIP(dir, "tokenizers/gpt2");   // declares std::string dir
//
// which skips the test with a message when that folder is absent — except under CI (the
// environment variable CI is "true"), where missing reference data is a test failure, so a CI
// job can never pass by skipping every parity check.
#pragma once
#include <cstdlib>
#include <filesystem>
#include <string>

#include <gtest/gtest.h>

#ifndef IMLTEST_SOURCE_DIR
#error "IMLTEST_SOURCE_DIR must be defined by the build"
#endif

namespace imltest {

// The fixture root: $IML_FIXTURES_DIR, else <source>/../shared/fixtures.
inline std::string fixtures_root() {
  if (const char* e = std::getenv("IML_FIXTURES_DIR"); e != nullptr && *e != '\0') return e;
  return std::string(IMLTEST_SOURCE_DIR) + "/../shared/fixtures";
}

// The folder of one fixture set, e.g. fixture_dir("tokenizers/gpt2"); it may not exist.
inline std::string fixture_dir(const std::string& sub) { return fixtures_root() + "/" + sub; }

inline bool in_ci() {
  const char* e = std::getenv("CI");
  return e != nullptr && std::string(e) == "true";
}

}  // namespace imltest

// Declares `const std::string var` = the fixture folder `sub`; returns from the test (skipped,
// or failed under CI=true) when that folder is absent. Use it in a test body (a void function).
#define IMLTEST_FIXTURE_DIR_OR_SKIP(var, sub)                                                  \
  const std::string var = ::imltest::fixture_dir(sub);                                         \
  if (!std::filesystem::is_directory(var)) {                                                   \
    if (::imltest::in_ci()) {                                                                  \
      FAIL() << "fixture folder " << var << " is absent (CI=true: reference data is required; " \
             << "set IML_FIXTURES_DIR)";                                                       \
    } else {                                                                                   \
      GTEST_SKIP() << "fixture folder " << var << " is absent (set IML_FIXTURES_DIR)";         \
    }                                                                                          \
  }
