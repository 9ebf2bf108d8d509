// The Precompiled normalizer: SentencePiece's precompiled_charsmap (e.g. nmt_nfkc), applied
// the way Hugging Face's Rust `Precompiled` does it.
//
// The charsmap is a little-endian u32 byte size, that many bytes of darts-clone double-array
// units, then NUL-terminated replacement strings the trie's values point into. Hugging Face
// walks the text by extended grapheme cluster: a cluster shorter than 6 bytes is looked up
// whole, otherwise (or when that finds nothing) each character is looked up alone. A look-up
// takes the SHORTEST key that is a prefix of the chunk and replaces the whole chunk by its
// string; that is what the reference does and what its outputs depend on.
//
// Offsets follow Hugging Face's NormalizedString::transform: every output character carries
// one original character's range (a replaced character its own; an added character the
// previous one's; removed characters vanish, the preceding output absorbing the count).
#include <utf8proc.h>

#include <cstring>

#include "lmkit/base/error.h"
#include "lmkit/tokenizer/pipeline.h"
#include "lmkit/tokenizer/utf8.h"

namespace lmkit::tok {

std::optional<std::string> base64_decode(std::string_view text) {
  auto value = [](char c) -> int {
    if (c >= 'A' && c <= 'Z') return c - 'A';
    if (c >= 'a' && c <= 'z') return c - 'a' + 26;
    if (c >= '0' && c <= '9') return c - '0' + 52;
    if (c == '+') return 62;
    if (c == '/') return 63;
    return -1;
  };
  while (!text.empty() && text.back() == '=') text.remove_suffix(1);
  if (text.size() % 4 == 1) return std::nullopt;
  std::string out;
  out.reserve(text.size() * 3 / 4);
  uint32_t acc = 0;
  int bits = 0;
  for (char c : text) {
    int v = value(c);
    if (v < 0) return std::nullopt;
    acc = (acc << 6) | static_cast<uint32_t>(v);
    bits += 6;
    if (bits >= 8) {
      bits -= 8;
      out += static_cast<char>((acc >> bits) & 0xFF);
    }
  }
  return out;
}

namespace {

class Precompiled : public Normalizer {
 public:
  explicit Precompiled(const std::string& charsmap) {
    if (charsmap.size() < 4) throw_error("precompiled_charsmap is shorter than its 4-byte header");
    uint32_t trie_bytes;
    std::memcpy(&trie_bytes, charsmap.data(), 4);  // little-endian on every supported CPU
    size_t units = trie_bytes / 4;
    if (units == 0) throw_error("precompiled_charsmap has an empty trie");
    if (units > (charsmap.size() - 4) / 4)
      throw_error("precompiled_charsmap declares a " + std::to_string(trie_bytes) + "-byte trie but holds only " +
                  std::to_string(charsmap.size() - 4) + " bytes after the header");
    units_.resize(units);
    std::memcpy(units_.data(), charsmap.data() + 4, units * 4);
    normalized_ = charsmap.substr(4 + units * 4);
    if (!utf8::is_valid(normalized_)) throw_error("precompiled_charsmap replacement strings are not valid UTF-8");
  }

  void apply(NormalizedText& t) const override {
    if (t.text.empty()) return;
    std::vector<std::pair<uint32_t, int32_t>> changes;  // (code point, change) as in Hugging Face
    changes.reserve(t.text.size());
    bool modified = false;
    const std::string& s = t.text;
    size_t g = 0;
    while (g < s.size()) {
      size_t g_end = grapheme_end(s, g);
      std::string_view grapheme(s.data() + g, g_end - g);
      std::optional<std::string_view> whole;
      if (grapheme.size() < 6) whole = lookup(grapheme);
      if (whole) {
        modified = true;
        replace(changes, grapheme, *whole);
      } else {
        for (size_t i = g; i < g_end;) {
          size_t start = i;
          uint32_t cp = utf8::next(s, i);
          std::string_view part(s.data() + start, i - start);
          if (auto norm = lookup(part)) {
            modified = true;
            replace(changes, part, *norm);
          } else {
            changes.emplace_back(cp, 0);
          }
        }
      }
      g = g_end;
    }
    if (modified) transform(t, changes);
  }

 private:
  // darts-clone unit fields.
  static bool has_leaf(uint32_t u) { return (u >> 8) & 1; }
  static uint32_t value(uint32_t u) { return u & ((1u << 31) - 1); }
  static uint32_t label(uint32_t u) { return u & ((1u << 31) | 0xFF); }
  static uint32_t offset(uint32_t u) { return (u >> 10) << ((u & (1u << 9)) >> 6); }

  uint32_t unit(size_t pos) const {
    if (pos >= units_.size()) throw_error("precompiled_charsmap trie is corrupt: index out of range");
    return units_[pos];
  }

  // The replacement for the shortest charsmap key that prefixes chunk (a NUL ends the key).
  std::optional<std::string_view> lookup(std::string_view chunk) const {
    size_t pos = 0;
    uint32_t u = unit(pos);
    pos ^= offset(u);
    for (char ch : chunk) {
      unsigned char c = static_cast<unsigned char>(ch);
      if (c == 0) break;
      pos ^= c;
      u = unit(pos);
      if (label(u) != c) return std::nullopt;
      pos ^= offset(u);
      if (has_leaf(u)) {
        size_t index = value(unit(pos));
        if (index > normalized_.size() ||
            (index < normalized_.size() && (static_cast<unsigned char>(normalized_[index]) & 0xC0) == 0x80))
          throw_error("precompiled_charsmap trie points outside its replacement strings");
        size_t end = normalized_.find('\0', index);
        if (end == std::string::npos) end = normalized_.size();
        return std::string_view(normalized_).substr(index, end - index);
      }
    }
    return std::nullopt;
  }

  // End of the extended grapheme cluster starting at byte i.
  static size_t grapheme_end(const std::string& s, size_t i) {
    utf8proc_int32_t state = 0;
    uint32_t prev = utf8::next(s, i);
    while (i < s.size()) {
      size_t j = i;
      uint32_t cp = utf8::next(s, j);
      if (utf8proc_grapheme_break_stateful(static_cast<utf8proc_int32_t>(prev), static_cast<utf8proc_int32_t>(cp),
                                           &state))
        break;
      prev = cp;
      i = j;
    }
    return i;
  }

  // Records `old_part` becoming `new_part`: each new character replaces one old character;
  // extra new characters are insertions (+1); missing ones are removals charged to the last
  // recorded character, whichever chunk it came from.
  static void replace(std::vector<std::pair<uint32_t, int32_t>>& changes, std::string_view old_part,
                      std::string_view new_part) {
    int32_t old_count = static_cast<int32_t>(utf8::count(old_part));
    int32_t new_count = 0;
    for (size_t i = 0; i < new_part.size(); ++new_count) changes.emplace_back(utf8::next(new_part, i), 0);
    int32_t diff = new_count - old_count;
    if (diff > 0) {
      for (int32_t k = 0; k < diff; ++k) changes[changes.size() - 1 - k].second = 1;
    } else if (diff < 0 && !changes.empty()) {
      changes.back().second += diff;
    }
  }

  // Hugging Face's NormalizedString::transform over the whole text.
  static void transform(NormalizedText& t, const std::vector<std::pair<uint32_t, int32_t>>& changes) {
    NormalizedText out;
    out.text.reserve(t.text.size());
    size_t consumed = 0;  // bytes of t.text replaced or removed so far
    auto skip_char = [&] {
      if (consumed < t.text.size()) utf8::next(t.text, consumed);
    };
    for (auto [cp, change] : changes) {
      uint32_t ob, oe;
      if (change > 0) {
        size_t k = consumed == 0 ? 0 : consumed - 1;
        ob = t.orig_begin[k];
        oe = consumed == 0 ? ob : t.orig_end[k];
      } else {
        size_t k = std::min(consumed, t.text.size() - 1);
        ob = t.orig_begin[k];
        oe = t.orig_end[k];
        skip_char();
        for (int32_t r = 0; r < -change; ++r) skip_char();
      }
      size_t before = out.text.size();
      utf8::append(out.text, cp);
      out.orig_begin.insert(out.orig_begin.end(), out.text.size() - before, ob);
      out.orig_end.insert(out.orig_end.end(), out.text.size() - before, oe);
    }
    t = std::move(out);
  }

  std::vector<uint32_t> units_;
  std::string normalized_;
};

}  // namespace

std::unique_ptr<Normalizer> make_precompiled(std::string charsmap) {
  return std::make_unique<Precompiled>(charsmap);
}

}  // namespace lmkit::tok
