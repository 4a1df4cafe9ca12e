// Internal: the text side of byte-level BPE — UTF-8 scanning, Unicode character classes (ICU),
// the GPT-2 pre-tokenization pattern written out by hand, NFC, and GPT-2's byte <-> character
// mapping. Not installed.
#pragma once
#include <array>
#include <cstdint>
#include <string>
#include <string_view>
#include <vector>

namespace imlsdk::tok {

// The code point starting at s[i] and its length in bytes. A byte that does not start a
// well-formed UTF-8 sequence (stray continuation byte, overlong form, surrogate, beyond
// U+10FFFF, truncated) is returned alone with cp = kInvalidCodePoint, so every byte string
// scans completely and nothing is lost.
inline constexpr uint32_t kInvalidCodePoint = 0xFFFFFFFFu;
size_t utf8_next(std::string_view s, size_t i, uint32_t& cp);

// The classes the GPT-2 pattern distinguishes: \p{L}, \p{N}, \s (Unicode White_Space), and
// everything else (including ill-formed bytes).
enum class CharClass : uint8_t { kLetter, kNumber, kSpace, kOther };
CharClass char_class(uint32_t cp);

// Unicode White_Space (what Rust's char::is_whitespace and Oniguruma's \s test).
bool is_whitespace(uint32_t cp);
// Letters, digits and '_' (the characters a single_word added token must not touch).
bool is_word_char(uint32_t cp);

// Splits `text` as the regex
//   's|'t|'re|'ve|'m|'ll|'d| ?\p{L}+| ?\p{N}+| ?[^\s\p{L}\p{N}]+|\s+(?!\S)|\s+
// does (leftmost alternative wins at each position, as in a backtracking regex engine). The
// pieces are views into `text` and concatenate to it. Appends to `out`.
void split_gpt2(std::string_view text, std::vector<std::string_view>& out);

// NFC of `text` (ICU). Ill-formed bytes are kept as they are; the well-formed runs between them
// are normalized. Returns false (and leaves `out` alone) when `text` is already NFC.
bool nfc_normalize(std::string_view text, std::string& out);

// GPT-2's reversible byte -> character mapping: printable Latin-1 bytes map to themselves, the
// other 68 bytes to U+0100.. in byte order. byte_chars()[b] is the UTF-8 of b's character.
const std::array<std::string, 256>& byte_chars();
// The byte a mapped character stands for, or -1 for a character outside the mapping.
int char_byte(uint32_t cp);

}  // namespace imlsdk::tok
