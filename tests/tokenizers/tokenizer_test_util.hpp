// Shared by the tokenizer tests: llama.cpp's .inp/.out case files, scratch folders, and checks
// on error messages.
#pragma once
#include <cstdint>
#include <filesystem>
#include <fstream>
#include <functional>
#include <sstream>
#include <stdexcept>
#include <string>
#include <vector>

#include <gtest/gtest.h>

#include "scratch.hpp"  // TempDir

namespace imltest {

inline std::string read_text_file(const std::string& path) {
  std::ifstream in(path, std::ios::binary);
  if (!in) throw std::runtime_error("cannot read " + path);
  std::ostringstream ss;
  ss << in.rdbuf();
  return ss.str();
}

inline void write_text_file(const std::filesystem::path& path, const std::string& text) {
  std::ofstream out(path, std::ios::binary);
  out << text;
  if (!out) throw std::runtime_error("cannot write " + path.string());
}

// llama.cpp's tokenizer test inputs: cases separated by "\n__ggml_vocab_test__\n", the file
// ending with that separator (so a case may be empty, and none ends the file).
inline std::vector<std::string> read_vocab_test_inputs(const std::string& path) {
  const std::string sep = "\n__ggml_vocab_test__\n";
  const std::string text = read_text_file(path);
  std::vector<std::string> cases;
  size_t start = 0;
  for (size_t pos; (pos = text.find(sep, start)) != std::string::npos; start = pos + sep.size())
    cases.push_back(text.substr(start, pos - start));
  if (start != text.size()) throw std::runtime_error(path + ": does not end with the case separator");
  return cases;
}

// The expected ids: one line per case, each id preceded by a space (an empty line: no ids).
inline std::vector<std::vector<int64_t>> read_vocab_test_outputs(const std::string& path) {
  std::istringstream in(read_text_file(path));
  std::vector<std::vector<int64_t>> out;
  for (std::string line; std::getline(in, line);) {
    std::istringstream ls(line);
    std::vector<int64_t> ids;
    for (int64_t id; ls >> id;) ids.push_back(id);
    out.push_back(std::move(ids));
  }
  return out;
}


// `f` must throw std::invalid_argument with a one-line message containing every string of
// `parts` (typically the file's path and the offending component).
inline void expect_one_line_invalid_argument(const std::function<void()>& f,
                                             const std::vector<std::string>& parts) {
  try {
    f();
    ADD_FAILURE() << "no exception; expected one naming " << parts.front();
  } catch (const std::invalid_argument& e) {
    const std::string what = e.what();
    EXPECT_EQ(what.find('\n'), std::string::npos) << "not one line: " << what;
    for (const auto& p : parts) EXPECT_NE(what.find(p), std::string::npos) << "'" << p << "' missing in: " << what;
  } catch (const std::exception& e) {
    ADD_FAILURE() << "expected std::invalid_argument, got: " << e.what();
  }
}

}  // namespace imltest
