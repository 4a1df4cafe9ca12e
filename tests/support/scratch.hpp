// Scratch folders for tests: <temp>/imltest-<pid>/<name>, so that test processes running side by
// side (ctest -j, two build trees, two users of one machine) never share one. The process's
// folder goes when the process exits with every test passed; after a failure it stays, and the
// exit prints where.
#pragma once
#include <gtest/gtest.h>
#include <unistd.h>

#include <atomic>
#include <cstdio>
#include <cstdlib>
#include <filesystem>
#include <fstream>
#include <string>
#include <system_error>

namespace imltest {

namespace detail {
inline void remove_scratch_root();
// Never destroyed: the atexit handler below reads it after static destructors may have run.
inline const std::string* scratch_root_path() {
  static const std::string* root = [] {
    auto* r = new std::string(
        (std::filesystem::temp_directory_path() / ("imltest-" + std::to_string(::getpid()))).string());
    std::atexit(remove_scratch_root);
    return r;
  }();
  return root;
}
inline void remove_scratch_root() {
  const std::string& root = *scratch_root_path();
  if (!std::filesystem::exists(root)) return;
  if (!::testing::UnitTest::GetInstance()->Passed()) {
    std::fprintf(stderr, "imltest: a test failed; its scratch files stay in %s\n", root.c_str());
    return;
  }
  std::error_code ec;
  std::filesystem::remove_all(root, ec);
}
}  // namespace detail

// This process's scratch folder, created.
inline std::filesystem::path scratch_root() {
  const std::filesystem::path root = *detail::scratch_root_path();
  std::filesystem::create_directories(root);
  return root;
}

// <scratch_root>/<name>, emptied and created.
inline std::filesystem::path scratch_dir(const std::string& name) {
  const std::filesystem::path d = scratch_root() / name;
  std::filesystem::remove_all(d);
  std::filesystem::create_directories(d);
  return d;
}

// A fresh folder of its own under this process's scratch folder, removed with the object.
struct TempDir {
  std::filesystem::path path;
  TempDir() {
    static std::atomic<int> n{0};
    path = scratch_dir("tmp_" + std::to_string(n++));
  }
  ~TempDir() {
    std::error_code ec;
    std::filesystem::remove_all(path, ec);
  }
  TempDir(const TempDir&) = delete;
  TempDir& operator=(const TempDir&) = delete;
  // The folder, or a file name in it, as a string.
  std::string str(const std::string& name = "") const { return name.empty() ? path.string() : (path / name).string(); }
  // Writes `bytes` to the file `name` in the folder; returns its path.
  std::string write(const std::string& name, const std::string& bytes) const {
    const std::string file = str(name);
    std::ofstream(file, std::ios::binary) << bytes;
    return file;
  }
};

}  // namespace imltest
