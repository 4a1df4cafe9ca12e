// A UserError is bad input (config, data file, checkpoint, plugin): imlhost prints its one-line
// message and exits with code 2, without a stack trace.
#pragma once
#include <stdexcept>
#include <vector>
#include <string>

namespace imlcore {

class UserError : public std::runtime_error {
 public:
  using std::runtime_error::runtime_error;
};

// Closest candidates to `word` among `options` by edit distance (for "did you mean").
std::string suggest(const std::string& word, const std::vector<std::string>& options);

}  // namespace imlcore
