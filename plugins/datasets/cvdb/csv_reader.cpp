#include "csv_reader.hpp"

#include <algorithm>
#include <cctype>
#include <stdexcept>

namespace cvdb {

Encoding parse_encoding(const std::string& name) {
  std::string n = name;
  std::transform(n.begin(), n.end(), n.begin(), [](unsigned char c) { return std::tolower(c); });
  if (n == "iso-8859-1" || n == "latin1" || n == "latin-1") return Encoding::Latin1;
  if (n == "utf-8" || n == "utf8") return Encoding::Utf8;
  throw std::invalid_argument("cvdb: encoding '" + name + "' is not iso-8859-1 or utf-8");
}

CsvReader::CsvReader(const std::string& path, Encoding encoding)
    : path_(path), encoding_(encoding), in_(path, std::ios::binary) {
  if (!in_) throw std::runtime_error(path + ": cannot open the file");
  // A UTF-8 byte-order mark is not part of the first column's name.
  if (peek() == 0xEF) {
    char bom[3] = {};
    in_.read(bom, 3);
    if (!(in_.gcount() == 3 && bom[1] == '\xBB' && bom[2] == '\xBF')) {
      in_.clear();
      in_.seekg(0);
    }
  }
}

int CsvReader::get() {
  const auto c = in_.rdbuf()->sbumpc();
  if (c == std::char_traits<char>::eof()) return -1;
  if (c == '\n') ++current_line_;
  return static_cast<unsigned char>(c);
}

int CsvReader::peek() {
  const auto c = in_.rdbuf()->sgetc();
  return c == std::char_traits<char>::eof() ? -1 : static_cast<unsigned char>(c);
}

void CsvReader::fail(const std::string& what) const {
  throw std::runtime_error(path_ + ":" + std::to_string(record_line_) + ": " + what);
}

std::string CsvReader::to_utf8(const std::string& raw) const {
  if (encoding_ == Encoding::Latin1) {
    // Every byte is the code point of the same value.
    std::string out;
    out.reserve(raw.size());
    for (unsigned char c : raw) {
      if (c < 0x80) {
        out += static_cast<char>(c);
      } else {
        out += static_cast<char>(0xC0 | (c >> 6));
        out += static_cast<char>(0x80 | (c & 0x3F));
      }
    }
    return out;
  }
  // UTF-8: check that every sequence is well formed.
  for (size_t i = 0; i < raw.size();) {
    const auto c = static_cast<unsigned char>(raw[i]);
    const size_t len = c < 0x80 ? 1 : (c >> 5) == 6 ? 2 : (c >> 4) == 14 ? 3 : (c >> 3) == 30 ? 4 : 0;
    if (len == 0 || i + len > raw.size()) fail("invalid UTF-8 (is the file ISO-8859-1?)");
    for (size_t k = 1; k < len; ++k)
      if ((static_cast<unsigned char>(raw[i + k]) & 0xC0) != 0x80)
        fail("invalid UTF-8 (is the file ISO-8859-1?)");
    i += len;
  }
  return raw;
}

bool CsvReader::next(std::vector<std::string>& fields) {
  for (;;) {
    fields.clear();
    record_line_ = current_line_;
    if (peek() < 0) return false;
    std::string field;
    bool at_field_start = true, end_of_record = false;
    while (!end_of_record) {
      int c = get();
      if (c == '"' && at_field_start) {
        // Quoted field: runs to the next quote that is not doubled.
        for (;;) {
          c = get();
          if (c < 0) fail("a quoted field starting here never ends");
          if (c == '"') {
            if (peek() == '"') {
              get();
              field += '"';
              continue;
            }
            break;
          }
          field += static_cast<char>(c);
        }
        const int after = peek();
        if (after == '\r') get();
        if (!(peek() == ',' || peek() == '\n' || peek() < 0))
          fail("unexpected character after the closing quote of field " +
               std::to_string(fields.size() + 1));
        at_field_start = false;
        continue;
      }
      at_field_start = false;
      if (c < 0 || c == '\n') {
        end_of_record = true;
      } else if (c == ',') {
        fields.push_back(to_utf8(field));
        field.clear();
        at_field_start = true;
      } else if (c == '\r' && (peek() == '\n' || peek() < 0)) {
        // CR of a CRLF line end
      } else {
        field += static_cast<char>(c);
      }
    }
    fields.push_back(to_utf8(field));
    if (fields.size() == 1 && fields[0].empty()) continue;  // blank line
    return true;
  }
}

}  // namespace cvdb
