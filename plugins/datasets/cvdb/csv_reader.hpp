// A streaming CSV reader (RFC 4180: comma-separated, fields optionally in double quotes, ""
// for a quote inside quotes, LF or CRLF line ends) that converts ISO-8859-1 or UTF-8 input to
// UTF-8 and reports errors as "FILE:LINE: what is wrong".
#pragma once
#include <cstddef>
#include <fstream>
#include <string>
#include <vector>

namespace cvdb {

enum class Encoding { Latin1, Utf8 };

// "iso-8859-1" / "latin1" or "utf-8" / "utf8" (case-insensitive); throws std::invalid_argument.
Encoding parse_encoding(const std::string& name);

class CsvReader {
 public:
  // Opens `path`; throws std::runtime_error if it cannot be read.
  CsvReader(const std::string& path, Encoding encoding);

  // Reads the next record into `fields` (UTF-8); false at the end of the file. Blank lines are
  // skipped. Throws std::runtime_error for a quoted field that never ends or a character after
  // a closing quote, and, in UTF-8 mode, for invalid UTF-8.
  bool next(std::vector<std::string>& fields);

  // The line the last record started on (1-based).
  size_t line() const { return record_line_; }
  const std::string& path() const { return path_; }

  // Throws std::runtime_error("PATH:LINE: what") for the last record.
  [[noreturn]] void fail(const std::string& what) const;

 private:
  int get();   // next byte, or -1 at the end
  int peek();
  std::string to_utf8(const std::string& raw) const;

  std::string path_;
  Encoding encoding_;
  std::ifstream in_;
  size_t current_line_ = 1;  // the line the reader is on
  size_t record_line_ = 0;
};

}  // namespace cvdb
