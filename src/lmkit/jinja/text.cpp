#include "lmkit/jinja/text.h"

#include <cstdint>

namespace lmkit::jinja::text {
namespace {

// Decodes the code point at s[i] (its byte length in `len`); -1 when the bytes are malformed.
int32_t decode(std::string_view s, size_t i, size_t& len) {
  unsigned char c = static_cast<unsigned char>(s[i]);
  len = sequence_length(c);
  if (i + len > s.size()) {
    len = 1;
    return -1;
  }
  if (len == 1) return c < 0x80 ? c : -1;
  int32_t cp = c & (0xFF >> (len + 1));
  for (size_t k = 1; k < len; ++k) cp = (cp << 6) | (static_cast<unsigned char>(s[i + k]) & 0x3F);
  return cp;
}

bool is_js_space(int32_t cp) {
  switch (cp) {
    case 0x09: case 0x0A: case 0x0B: case 0x0C: case 0x0D: case 0x20: case 0xA0: case 0x1680:
    case 0x2028: case 0x2029: case 0x202F: case 0x205F: case 0x3000: case 0xFEFF:
      return true;
    default:
      return cp >= 0x2000 && cp <= 0x200A;
  }
}

bool is_ascii_alnum(unsigned char c) {
  return (c >= '0' && c <= '9') || (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z');
}

}  // namespace

size_t sequence_length(unsigned char c) {
  if (c < 0x80) return 1;
  if ((c & 0xE0) == 0xC0) return 2;
  if ((c & 0xF0) == 0xE0) return 3;
  if ((c & 0xF8) == 0xF0) return 4;
  return 1;
}

size_t space_length(std::string_view s, size_t i) {
  if (i >= s.size()) return 0;
  size_t len = 0;
  int32_t cp = decode(s, i, len);
  return is_js_space(cp) ? len : 0;
}

std::string trim_start(std::string_view s) {
  size_t i = 0;
  while (size_t n = space_length(s, i)) i += n;
  return std::string(s.substr(i));
}

std::string trim_end(std::string_view s) {
  // Walk forward remembering where the trailing run of spaces starts (UTF-8 is not
  // decodable backwards without care, and strings here are short).
  size_t i = 0, keep = 0;
  while (i < s.size()) {
    if (size_t n = space_length(s, i)) {
      i += n;
    } else {
      i += sequence_length(static_cast<unsigned char>(s[i]));
      keep = i;
    }
  }
  return std::string(s.substr(0, std::min(keep, s.size())));
}

std::string trim(std::string_view s) { return trim_end(trim_start(s)); }

std::vector<std::string> code_points(std::string_view s) {
  std::vector<std::string> out;
  for (size_t i = 0; i < s.size();) {
    size_t n = std::min(sequence_length(static_cast<unsigned char>(s[i])), s.size() - i);
    out.emplace_back(s.substr(i, n));
    i += n;
  }
  return out;
}

size_t code_point_count(std::string_view s) {
  size_t count = 0;
  for (size_t i = 0; i < s.size(); ++count) i += sequence_length(static_cast<unsigned char>(s[i]));
  return count;
}

std::string strip_chars(std::string_view s, std::string_view chars, bool start, bool end) {
  std::vector<std::string> set = code_points(chars);
  std::vector<std::string> cps = code_points(s);
  auto in_set = [&](const std::string& cp) {
    for (const auto& c : set)
      if (c == cp) return true;
    return false;
  };
  size_t b = 0, e = cps.size();
  if (start)
    while (b < e && in_set(cps[b])) ++b;
  if (end)
    while (e > b && in_set(cps[e - 1])) --e;
  std::string out;
  for (size_t k = b; k < e; ++k) out += cps[k];
  return out;
}

std::string to_upper(std::string_view s) {
  std::string out(s);
  for (char& c : out)
    if (c >= 'a' && c <= 'z') c = static_cast<char>(c - 'a' + 'A');
  return out;
}

std::string to_lower(std::string_view s) {
  std::string out(s);
  for (char& c : out)
    if (c >= 'A' && c <= 'Z') c = static_cast<char>(c - 'A' + 'a');
  return out;
}

std::string title_case(std::string_view s) {
  std::string out(s);
  bool in_word = false;
  for (char& c : out) {
    unsigned char u = static_cast<unsigned char>(c);
    bool word = is_ascii_alnum(u) || u == '_';
    if (word && !in_word && c >= 'a' && c <= 'z') c = static_cast<char>(c - 'a' + 'A');
    in_word = word;
  }
  return out;
}

std::string capitalize(std::string_view s) {
  if (s.empty()) return std::string();
  std::string out(s);
  if (out[0] >= 'a' && out[0] <= 'z') out[0] = static_cast<char>(out[0] - 'a' + 'A');
  return out;
}

std::string replace(std::string_view s, std::string_view from, std::string_view to, long long count) {
  std::string out;
  if (count == 0) return std::string(s);
  long long remaining = count < 0 ? -1 : count;
  if (from.empty()) {
    std::vector<std::string> cps = code_points(s);
    for (size_t k = 0; k <= cps.size(); ++k) {
      if (remaining != 0) {
        out += to;
        if (remaining > 0) --remaining;
      }
      if (k < cps.size()) out += cps[k];
    }
    return out;
  }
  size_t pos = 0;
  while (remaining != 0) {
    size_t hit = s.find(from, pos);
    if (hit == std::string_view::npos) break;
    out.append(s.substr(pos, hit - pos));
    out.append(to);
    pos = hit + from.size();
    if (remaining > 0) --remaining;
  }
  out.append(s.substr(pos));
  return out;
}

void line_and_column(std::string_view source, size_t offset, size_t& line, size_t& column) {
  line = 1;
  column = 1;
  offset = std::min(offset, source.size());
  for (size_t i = 0; i < offset;) {
    if (source[i] == '\n') {
      ++line;
      column = 1;
      ++i;
    } else {
      ++column;
      i += sequence_length(static_cast<unsigned char>(source[i]));
    }
  }
}

}  // namespace lmkit::jinja::text
