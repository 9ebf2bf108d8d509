#include <array>
#include <unordered_map>

#include "lmkit/tokenizer/pipeline.h"
#include "lmkit/tokenizer/train/byte_level_alphabet.h"
#include "lmkit/tokenizer/utf8.h"

namespace lmkit::tok {
namespace {

// One table of the GPT-2 byte alphabet for the whole project: built from the trainer's
// byte_level_code_point so training and encoding can never disagree.
struct ByteTables {
  std::array<std::string, 256> to_char;
  std::unordered_map<uint32_t, uint8_t> to_byte;
  ByteTables() {
    for (int b = 0; b < 256; ++b) {
      uint32_t cp = bpe_train::byte_level_code_point(static_cast<uint8_t>(b));
      utf8::append(to_char[b], cp);
      to_byte[cp] = static_cast<uint8_t>(b);
    }
  }
};

const ByteTables& tables() {
  static const ByteTables t;
  return t;
}

}  // namespace

const std::string& byte_to_char_utf8(uint8_t b) { return tables().to_char[b]; }

std::optional<std::string> byte_level_decode(std::string_view text) {
  std::string out;
  out.reserve(text.size());
  size_t i = 0;
  const auto& map = tables().to_byte;
  while (i < text.size()) {
    uint32_t cp = utf8::next(text, i);
    auto it = map.find(cp);
    if (it == map.end()) return std::nullopt;
    out += static_cast<char>(it->second);
  }
  return out;
}

std::string utf8_lossy(std::string_view s) {
  static const std::string kReplacement = "\xEF\xBF\xBD";
  std::string out;
  out.reserve(s.size());
  size_t i = 0;
  auto byte = [&](size_t k) { return static_cast<unsigned char>(s[k]); };
  while (i < s.size()) {
    unsigned char b0 = byte(i);
    if (b0 < 0x80) {
      out += static_cast<char>(b0);
      ++i;
      continue;
    }
    size_t need;
    unsigned char lo = 0x80, hi = 0xBF;  // allowed range of the second byte
    if (b0 >= 0xC2 && b0 <= 0xDF) {
      need = 1;
    } else if (b0 >= 0xE0 && b0 <= 0xEF) {
      need = 2;
      if (b0 == 0xE0) lo = 0xA0;
      if (b0 == 0xED) hi = 0x9F;
    } else if (b0 >= 0xF0 && b0 <= 0xF4) {
      need = 3;
      if (b0 == 0xF0) lo = 0x90;
      if (b0 == 0xF4) hi = 0x8F;
    } else {
      out += kReplacement;
      ++i;
      continue;
    }
    size_t k = 1;
    bool ok = true;
    for (; k <= need; ++k) {
      if (i + k >= s.size()) {
        ok = false;
        break;
      }
      unsigned char c = byte(i + k);
      unsigned char l = k == 1 ? lo : 0x80, h = k == 1 ? hi : 0xBF;
      if (c < l || c > h) {
        ok = false;
        break;
      }
    }
    if (ok) {
      out.append(s.substr(i, need + 1));
      i += need + 1;
    } else {
      out += kReplacement;  // the maximal valid prefix [i, i + k) becomes one U+FFFD
      i += k;
    }
  }
  return out;
}

}  // namespace lmkit::tok
