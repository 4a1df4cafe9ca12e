// Result files: written atomically (temp file in the same folder, fsync, rename, fsync of the
// folder), so a crash or a refused input never leaves a half-written file behind. Errors are
// UserErrors naming the path.
#pragma once
#include <string>

namespace imlcore {

void write_file_atomic(const std::string& path, const std::string& content);
std::string read_file(const std::string& path);

// Stable text form of a double for result files (shortest round-trip).
std::string format_double(double v);

// The project's git commit (from the source tree, if it is a git checkout), else "unknown".
std::string source_commit();

}  // namespace imlcore
