// Helpers shared by the fuzz targets.
#pragma once
#include <sys/stat.h>
#include <unistd.h>

#include <cstddef>
#include <cstdint>
#include <cstdio>
#include <cstdlib>
#include <fstream>
#include <string>
#include <string_view>
#include <vector>

namespace fuzz {

// A file holding the input, for parsers that read from a path: `name` (which keeps the extension
// a parser may look at) in a folder of this process's own, $TMPDIR/imlhost-fuzz-PID (default
// /dev/shm, else /tmp: a disk-backed /tmp makes every run ~10 ms slower), so that nothing else lies beside it. Removed at exit.
inline const std::string& write_input(const uint8_t* data, size_t size, const std::string& name) {
  static std::string path;
  static std::string last_name;
  if (path.empty() || last_name != name) {
    if (!path.empty()) std::remove(path.c_str());
    const char* dir = std::getenv("TMPDIR");
    struct stat st {};
    const std::string base = dir && *dir ? dir : ::stat("/dev/shm", &st) == 0 && S_ISDIR(st.st_mode) ? "/dev/shm" : "/tmp";
    static const std::string folder = base + "/imlhost-fuzz-" + std::to_string(::getpid());
    ::mkdir(folder.c_str(), 0700);
    path = folder + "/" + name;
    last_name = name;
    static bool registered = false;
    if (!registered) {
      registered = true;
      std::atexit([] {
        if (path.empty()) return;
        std::remove(path.c_str());
        ::rmdir(path.substr(0, path.rfind('/')).c_str());
      });
    }
  }
  std::ofstream out(path, std::ios::binary | std::ios::trunc);
  out.write(reinterpret_cast<const char*>(data), static_cast<std::streamsize>(size));
  out.close();
  if (!out) std::abort();  // the harness itself failed, not the parser
  return path;
}

// Splits the input at NUL bytes: the first part and the rest (each part one string).
inline std::vector<std::string> split_nul(const uint8_t* data, size_t size) {
  std::vector<std::string> parts(1);
  for (size_t i = 0; i < size; ++i) {
    if (data[i] == 0)
      parts.emplace_back();
    else
      parts.back() += static_cast<char>(data[i]);
  }
  return parts;
}

// An error must say something. (Messages quote the offending key or value as it was written, so
// an input holding a newline may give a message with one; that is not checked.)
inline void check_message(const char* what) {
  if (what == nullptr || *what == '\0') {
    std::fprintf(stderr, "empty error message\n");
    std::abort();
  }
}

}  // namespace fuzz
