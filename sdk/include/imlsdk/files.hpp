// Files a plugin writes into a run folder: written whole or not at all.
#pragma once
#include <string>

namespace imlsdk {

// Writes `content` to `path` atomically: a temporary file in the same folder, fsync, rename,
// then fsync of the folder, so a killed run leaves the old file or the new one, never a part.
// Creates missing folders. Throws std::runtime_error naming the path.
void write_file_atomic(const std::string& path, const std::string& content);

// The whole file; std::runtime_error naming the path if it cannot be read.
std::string read_file(const std::string& path);

}  // namespace imlsdk
