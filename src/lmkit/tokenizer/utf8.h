// UTF-8 helpers for the tokenizer pipeline: code point iteration and encoding.
#pragma once
#include <cstdint>
#include <string>
#include <string_view>

namespace lmkit::utf8 {

// Length in bytes of the UTF-8 sequence starting with lead byte b (1 for invalid leads, so a
// caller always advances).
inline size_t sequence_length(unsigned char b) {
  if (b < 0x80) return 1;
  if ((b >> 5) == 0x6) return 2;
  if ((b >> 4) == 0xE) return 3;
  if ((b >> 3) == 0x1E) return 4;
  return 1;
}

// Decodes the code point at s[i] and advances i. Assumes valid UTF-8 (checked on entry).
uint32_t next(std::string_view s, size_t& i);
void append(std::string& out, uint32_t cp);
// True when s is well-formed UTF-8 (no overlongs, surrogates or values past U+10FFFF).
bool is_valid(std::string_view s);
// Number of code points in s.
size_t count(std::string_view s);

}  // namespace lmkit::utf8
