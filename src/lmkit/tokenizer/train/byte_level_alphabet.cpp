#include "lmkit/tokenizer/train/byte_level_alphabet.h"

#include <algorithm>

namespace lmkit::bpe_train {
namespace {

bool stands_for_itself(uint8_t b) {
  return (b >= '!' && b <= '~') || (b >= 0xA1 && b <= 0xAC) || (b >= 0xAE);
}

struct Tables {
  std::array<uint32_t, 256> code_point{};
  std::array<uint8_t, 256> ordered{};
  Tables() {
    uint32_t next = 256;
    for (int b = 0; b < 256; ++b)
      code_point[b] = stands_for_itself(static_cast<uint8_t>(b)) ? static_cast<uint32_t>(b) : next++;
    for (int b = 0; b < 256; ++b) ordered[b] = static_cast<uint8_t>(b);
    std::sort(ordered.begin(), ordered.end(),
              [&](uint8_t x, uint8_t y) { return code_point[x] < code_point[y]; });
  }
};

const Tables& tables() {
  static const Tables t;
  return t;
}

void append_utf8(std::string& out, uint32_t cp) {
  // Every code point of the table is below U+0800: one or two bytes.
  if (cp < 0x80) {
    out.push_back(static_cast<char>(cp));
  } else {
    out.push_back(static_cast<char>(0xC0 | (cp >> 6)));
    out.push_back(static_cast<char>(0x80 | (cp & 0x3F)));
  }
}

}  // namespace

uint32_t byte_level_code_point(uint8_t b) { return tables().code_point[b]; }

const std::array<uint8_t, 256>& bytes_in_byte_level_order() { return tables().ordered; }

std::string bytes_to_byte_level(std::string_view raw) {
  const auto& cp = tables().code_point;
  std::string out;
  out.reserve(raw.size() * 2);
  for (unsigned char c : raw) append_utf8(out, cp[c]);
  return out;
}

std::optional<std::string> byte_level_to_bytes(std::string_view text) {
  // Code point -> byte; the table's code points are all below 0x144.
  static const auto inverse = [] {
    std::array<int, 0x200> inv;
    inv.fill(-1);
    for (int b = 0; b < 256; ++b) inv[tables().code_point[b]] = b;
    return inv;
  }();
  std::string out;
  out.reserve(text.size());
  for (size_t i = 0; i < text.size();) {
    unsigned char c = static_cast<unsigned char>(text[i]);
    uint32_t cp;
    if (c < 0x80) {
      cp = c;
      i += 1;
    } else if ((c & 0xE0) == 0xC0 && i + 1 < text.size() &&
               (static_cast<unsigned char>(text[i + 1]) & 0xC0) == 0x80) {
      cp = ((c & 0x1Fu) << 6) | (static_cast<unsigned char>(text[i + 1]) & 0x3Fu);
      i += 2;
      if (cp < 0x80) return std::nullopt;  // overlong encoding
    } else {
      return std::nullopt;  // three- and four-byte characters are never in the table
    }
    if (cp >= inverse.size() || inverse[cp] < 0) return std::nullopt;
    out.push_back(static_cast<char>(inverse[cp]));
  }
  return out;
}

}  // namespace lmkit::bpe_train
