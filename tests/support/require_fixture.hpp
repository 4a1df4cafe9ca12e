// Test helper: a test that needs reference data (e.g. the HF conformance fixtures) is skipped
// with a message when the data's folder is absent, except under CI (environment variable CI is
// "true"), where that is a failure: a CI job must never pass by skipping every parity check.
//
//   if (!imltest::require_fixture_dir(dir, "set IML_CONFORMANCE_DIR")) return;  // body or SetUp()
#pragma once
#include <cstdlib>
#include <filesystem>
#include <string>

#include <gtest/gtest.h>

#include "fixtures.hpp"  // in_ci()

namespace imltest {

// True when `dir` is a folder. Otherwise records a skip (or, under CI=true, a fatal failure) for
// the running test and returns false; the caller then returns. From SetUp(), either outcome
// keeps the test body from running. `hint` (e.g. which variable names the folder) ends the message.
inline bool require_fixture_dir(const std::string& dir, const std::string& hint = "") {
  if (std::filesystem::is_directory(dir)) return true;
  const std::string tail = hint.empty() ? "" : " (" + hint + ")";
  if (in_ci())
    [&] { FAIL() << "fixture folder " << dir << " is absent and CI=true requires it" << tail; }();
  else
    [&] { GTEST_SKIP() << "fixture folder " << dir << " is absent" << tail; }();
  return false;
}

}  // namespace imltest
