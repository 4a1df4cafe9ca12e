#include "byte_level.hpp"

#include <unicode/bytestream.h>
#include <unicode/normalizer2.h>
#include <unicode/stringpiece.h>
#include <unicode/uchar.h>

#include <algorithm>
#include <stdexcept>

namespace imlsdk::tok {
namespace {

void append_utf8(uint32_t cp, std::string& out) {
  if (cp < 0x80) {
    out += static_cast<char>(cp);
  } else if (cp < 0x800) {
    out += static_cast<char>(0xC0 | (cp >> 6));
    out += static_cast<char>(0x80 | (cp & 0x3F));
  } else if (cp < 0x10000) {
    out += static_cast<char>(0xE0 | (cp >> 12));
    out += static_cast<char>(0x80 | ((cp >> 6) & 0x3F));
    out += static_cast<char>(0x80 | (cp & 0x3F));
  } else {
    out += static_cast<char>(0xF0 | (cp >> 18));
    out += static_cast<char>(0x80 | ((cp >> 12) & 0x3F));
    out += static_cast<char>(0x80 | ((cp >> 6) & 0x3F));
    out += static_cast<char>(0x80 | (cp & 0x3F));
  }
}

// Classes of the ASCII characters, computed once (the common case never reaches ICU).
struct AsciiClasses {
  CharClass cls[128];
  AsciiClasses() {
    for (int c = 0; c < 128; ++c) {
      if ((c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z'))
        cls[c] = CharClass::kLetter;
      else if (c >= '0' && c <= '9')
        cls[c] = CharClass::kNumber;
      else if ((c >= 0x09 && c <= 0x0D) || c == ' ')
        cls[c] = CharClass::kSpace;
      else
        cls[c] = CharClass::kOther;
    }
  }
};
const AsciiClasses kAscii;

// GPT-2's bytes_to_unicode(): the bytes that are printable Latin-1 keep their code point, the
// other 68 get U+0100, U+0101, ... in byte order.
struct ByteMap {
  std::array<std::string, 256> chars;
  int byte_of[256 + 68];
  ByteMap() {
    auto keeps = [](int b) { return (b >= 0x21 && b <= 0x7E) || (b >= 0xA1 && b <= 0xAC) || b >= 0xAE; };
    for (int& b : byte_of) b = -1;
    uint32_t next = 256;
    for (int b = 0; b < 256; ++b) {
      const uint32_t cp = keeps(b) ? static_cast<uint32_t>(b) : next++;
      append_utf8(cp, chars[static_cast<size_t>(b)]);
      byte_of[cp] = b;
    }
  }
};
const ByteMap& byte_map() {
  static const ByteMap m;
  return m;
}

const icu::Normalizer2& nfc() {
  static const icu::Normalizer2* n = [] {
    UErrorCode status = U_ZERO_ERROR;
    const icu::Normalizer2* p = icu::Normalizer2::getNFCInstance(status);
    if (U_FAILURE(status) || p == nullptr)
      throw std::runtime_error(std::string("ICU: no NFC normalizer (") + u_errorName(status) + ")");
    return p;
  }();
  return *n;
}

// Appends the NFC of a well-formed UTF-8 run; returns whether it changed.
bool nfc_run(std::string_view run, std::string& out) {
  const icu::StringPiece sp(run.data(), static_cast<int32_t>(run.size()));
  UErrorCode status = U_ZERO_ERROR;
  if (nfc().isNormalizedUTF8(sp, status) && U_SUCCESS(status)) {
    out.append(run);
    return false;
  }
  status = U_ZERO_ERROR;
  icu::StringByteSink<std::string> sink(&out);
  nfc().normalizeUTF8(0, sp, sink, nullptr, status);
  if (U_FAILURE(status))
    throw std::runtime_error(std::string("ICU: NFC normalization failed (") + u_errorName(status) + ")");
  return true;
}

}  // namespace

size_t utf8_next(std::string_view s, size_t i, uint32_t& cp) {
  const auto b0 = static_cast<unsigned char>(s[i]);
  if (b0 < 0x80) {
    cp = b0;
    return 1;
  }
  size_t len;
  uint32_t min;
  if (b0 >= 0xC2 && b0 <= 0xDF) {
    len = 2, min = 0x80, cp = b0 & 0x1F;
  } else if (b0 >= 0xE0 && b0 <= 0xEF) {
    len = 3, min = 0x800, cp = b0 & 0x0F;
  } else if (b0 >= 0xF0 && b0 <= 0xF4) {
    len = 4, min = 0x10000, cp = b0 & 0x07;
  } else {
    cp = kInvalidCodePoint;
    return 1;
  }
  if (i + len > s.size()) {
    cp = kInvalidCodePoint;
    return 1;
  }
  for (size_t k = 1; k < len; ++k) {
    const auto b = static_cast<unsigned char>(s[i + k]);
    if ((b & 0xC0) != 0x80) {
      cp = kInvalidCodePoint;
      return 1;
    }
    cp = (cp << 6) | (b & 0x3F);
  }
  if (cp < min || cp > 0x10FFFF || (cp >= 0xD800 && cp <= 0xDFFF)) {
    cp = kInvalidCodePoint;
    return 1;
  }
  return len;
}

CharClass char_class(uint32_t cp) {
  if (cp < 0x80) return kAscii.cls[cp];
  if (cp == kInvalidCodePoint) return CharClass::kOther;
  const auto c = static_cast<UChar32>(cp);
  if (u_isUWhiteSpace(c)) return CharClass::kSpace;
  const uint32_t mask = U_GET_GC_MASK(c);
  if (mask & U_GC_L_MASK) return CharClass::kLetter;
  if (mask & U_GC_N_MASK) return CharClass::kNumber;
  return CharClass::kOther;
}

bool is_whitespace(uint32_t cp) { return char_class(cp) == CharClass::kSpace; }

bool is_word_char(uint32_t cp) {
  const CharClass c = char_class(cp);
  return c == CharClass::kLetter || c == CharClass::kNumber || cp == '_';
}

void split_gpt2(std::string_view text, std::vector<std::string_view>& out) {
  const size_t n = text.size();
  // The class of the character at byte i, and its length.
  auto peek = [&](size_t i, size_t& len) {
    uint32_t cp;
    len = utf8_next(text, i, cp);
    return char_class(cp);
  };
  size_t i = 0;
  while (i < n) {
    const size_t start = i;
    size_t len0;
    const CharClass c0 = peek(i, len0);
    // 's 't 're 've 'm 'll 'd (ASCII, lower case only).
    if (text[i] == '\'' && i + 1 < n) {
      const char c1 = text[i + 1];
      size_t len = 0;
      if (c1 == 's' || c1 == 't' || c1 == 'm' || c1 == 'd') {
        len = 2;
      } else if (i + 2 < n) {
        const char c2 = text[i + 2];
        if ((c1 == 'r' && c2 == 'e') || (c1 == 'v' && c2 == 'e') || (c1 == 'l' && c2 == 'l')) len = 3;
      }
      if (len > 0) {
        out.push_back(text.substr(i, len));
        i += len;
        continue;
      }
    }
    // ` ?\p{L}+`, ` ?\p{N}+`, ` ?[^\s\p{L}\p{N}]+`: one optional U+0020, then a run of one class.
    size_t j = i;
    CharClass cls = c0;
    if (text[i] == ' ' && i + 1 < n) {
      size_t len1;
      const CharClass c1 = peek(i + 1, len1);
      if (c1 != CharClass::kSpace) j = i + 1, cls = c1;
    }
    if (cls != CharClass::kSpace) {
      size_t k = j, len;
      while (k < n && peek(k, len) == cls) k += len;
      out.push_back(text.substr(start, k - start));
      i = k;
      continue;
    }
    // `\s+(?!\S)|\s+`: a whitespace run that ends the text is taken whole; one followed by
    // other text leaves its last character to start the next piece (so " word" stays
    // together), unless the run is that one character.
    size_t k = i, last = i, len;
    while (k < n && peek(k, len) == CharClass::kSpace) last = k, k += len;
    const size_t end = (k == n || last == i) ? k : last;
    out.push_back(text.substr(start, end - start));
    i = end;
  }
}

bool nfc_normalize(std::string_view text, std::string& out) {
  // ASCII is always NFC.
  if (std::all_of(text.begin(), text.end(), [](char c) { return static_cast<unsigned char>(c) < 0x80; }))
    return false;
  std::string result;
  bool changed = false;
  size_t i = 0;
  while (i < text.size()) {
    // The next well-formed run, then the ill-formed bytes after it.
    size_t j = i;
    uint32_t cp;
    size_t len;
    while (j < text.size() && ((len = utf8_next(text, j, cp)), cp != kInvalidCodePoint)) j += len;
    if (j > i) changed |= nfc_run(text.substr(i, j - i), result);
    while (j < text.size() && ((len = utf8_next(text, j, cp)), cp == kInvalidCodePoint)) result += text[j++];
    i = j;
  }
  if (!changed) return false;
  out = std::move(result);
  return true;
}

const std::array<std::string, 256>& byte_chars() { return byte_map().chars; }

int char_byte(uint32_t cp) { return cp < 256 + 68 ? byte_map().byte_of[cp] : -1; }

}  // namespace imlsdk::tok
