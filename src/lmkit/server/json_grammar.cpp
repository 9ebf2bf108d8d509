#include "lmkit/server/json_grammar.h"

#include <cassert>
#include <limits>

namespace lmkit::server {

namespace {

enum FrameKind : uint8_t { kValueStart, kObject, kArray, kString, kNumber, kLiteral, kKey };
// Frame flags.
enum : uint8_t {
  kRoot = 1,        // value start: the document's value (no blanks before it)
  kOrClose = 2,     // value start: the first item of an array, which may instead close it
  kFree = 4,        // key: may still become a key that is not a declared property
  kIntegerOnly = 8  // number: no fraction, no exponent
};
enum ObjectPhase : uint8_t { kKeyOrEnd, kKeyNext, kColon, kAfterValue };
enum ArrayPhase : uint8_t { kNoPendingItem, kAfterItem };
// Strings and keys. The UTF-8 phases say which bytes may come as the next continuation byte.
enum TextPhase : uint8_t {
  kPlain, kEscape, kUnicode, kHighDone, kHighSlash, kLowUnicode,
  kUtf8Any, kUtf8E0, kUtf8ED, kUtf8F0, kUtf8F4
};
enum NumberPhase : uint8_t { kMinus, kZero, kInt, kDot, kFrac, kExp, kExpSign, kExpDigits };

constexpr uint32_t kExtraKey = std::numeric_limits<uint32_t>::max();  // object frame: b
constexpr uint64_t kFnvOffset = 14695981039346656037ull;
constexpr uint64_t kFnvPrime = 1099511628211ull;

bool is_blank(unsigned char c) { return c == ' ' || c == '\t' || c == '\n' || c == '\r'; }
bool is_digit(unsigned char c) { return c >= '0' && c <= '9'; }
int hex_value(unsigned char c) {
  if (is_digit(c)) return c - '0';
  if (c >= 'a' && c <= 'f') return c - 'a' + 10;
  if (c >= 'A' && c <= 'F') return c - 'A' + 10;
  return -1;
}
bool is_utf8_phase(uint8_t phase) { return phase >= kUtf8Any; }

// A lead byte of a multi-byte character (RFC 3629: no overlongs, no surrogates, <= U+10FFFF).
bool utf8_lead(uint8_t& phase, uint8_t& left, unsigned char b) {
  if (b >= 0xC2 && b <= 0xDF) { phase = kUtf8Any; left = 1; }
  else if (b == 0xE0) { phase = kUtf8E0; left = 2; }
  else if (b == 0xED) { phase = kUtf8ED; left = 2; }
  else if (b >= 0xE1 && b <= 0xEF) { phase = kUtf8Any; left = 2; }
  else if (b == 0xF0) { phase = kUtf8F0; left = 3; }
  else if (b >= 0xF1 && b <= 0xF3) { phase = kUtf8Any; left = 3; }
  else if (b == 0xF4) { phase = kUtf8F4; left = 3; }
  else return false;
  return true;
}

bool utf8_continue(uint8_t& phase, uint8_t& left, unsigned char b) {
  unsigned char lo = 0x80, hi = 0xBF;
  if (phase == kUtf8E0) lo = 0xA0;
  else if (phase == kUtf8ED) hi = 0x9F;
  else if (phase == kUtf8F0) lo = 0x90;
  else if (phase == kUtf8F4) hi = 0x8F;
  if (b < lo || b > hi) return false;
  phase = --left == 0 ? kPlain : kUtf8Any;
  return true;
}

uint32_t pack_range(uint32_t lo, uint32_t hi) { return lo | (hi << 16); }
uint32_t range_lo(uint32_t packed) { return packed & 0xFFFF; }
uint32_t range_hi(uint32_t packed) { return packed >> 16; }

// The candidates [lo, hi) of a sorted list share their first `pos` bytes; keep those whose
// next byte is c (a contiguous sub-range). False when none is left (lo, hi unchanged).
template <class Text>
bool narrow(uint32_t pos, unsigned char c, uint32_t& lo, uint32_t& hi, Text text) {
  // Order inside the range: the one candidate that ends at pos (if any), then by byte at pos.
  auto rank = [&](uint32_t i) -> int {
    std::string_view s = text(i);
    return s.size() > pos ? static_cast<unsigned char>(s[pos]) + 1 : 0;
  };
  uint32_t first = lo, count = hi - lo;
  while (count > 0) {  // first with rank >= c + 1
    uint32_t half = count / 2;
    if (rank(first + half) < c + 1) { first += half + 1; count -= half + 1; } else count = half;
  }
  uint32_t last = first;
  while (last < hi && rank(last) == c + 1) ++last;
  if (first == last) return false;
  lo = first;
  hi = last;
  return true;
}

}  // namespace

JsonRecognizer::JsonRecognizer(const JsonSchema& schema, JsonKeyLog& log)
    : JsonRecognizer(schema, log, schema.root()) {}

JsonRecognizer::JsonRecognizer(const JsonSchema& schema, JsonKeyLog& log, uint32_t start)
    : schema_(&schema), log_(&log) {
  n_ = 1;
  threads_[0] = {0, 0};
  push_value(0, start, kRoot);
  expand_unions();
}

JsonRecognizer& JsonRecognizer::operator=(const JsonRecognizer& other) {
  schema_ = other.schema_;
  log_ = other.log_;
  n_ = other.n_;
  for (int t = 0; t < n_; ++t) {
    threads_[t] = other.threads_[t];
    std::memcpy(frames_[t], other.frames_[t], sizeof(Frame) * other.threads_[t].depth);
  }
  return *this;
}

void JsonRecognizer::copy_thread(int to, int from) {
  threads_[to] = threads_[from];
  std::memcpy(frames_[to], frames_[from], sizeof(Frame) * threads_[from].depth);
}

bool JsonRecognizer::fits(uint32_t node, int depth) const {
  if (node == kNoNode) return false;
  return static_cast<int64_t>(schema_->node(node).min_depth) <= kMaxDepth - depth + 1;
}

bool JsonRecognizer::push_value(int t, uint32_t node, uint8_t flags) {
  Thread& th = threads_[t];
  if (th.depth >= kMaxDepth) return false;
  Frame& f = frames_[t][th.depth++];
  f = Frame{};
  f.node = node;
  f.kind = kValueStart;
  f.flags = flags;
  return true;
}

bool JsonRecognizer::blank(int t) {
  return ++threads_[t].blank_run <= kMaxBlankRun;
}

bool JsonRecognizer::feed(char c) {
  int live = 0;
  for (int t = 0; t < n_; ++t) {
    if (t != live) copy_thread(live, t);
    if (step(live, c)) ++live;
  }
  n_ = live;
  if (n_ == 0) return false;
  expand_unions();
  if (n_ > 1) remove_duplicates();
  return true;
}

void JsonRecognizer::expand_unions() {
  const int before = n_;
  for (int t = 0; t < before; ++t) {
    const int depth = threads_[t].depth;
    if (depth == 0) continue;
    Frame& f = frames_[t][depth - 1];
    if (f.kind != kValueStart) continue;
    const SchemaNode& u = schema_->node(f.node);
    if (u.kind != SchemaNode::Kind::Union) continue;
    uint32_t chosen = kNoNode;
    for (uint32_t alt : u.alternatives) {
      if (!fits(alt, depth)) continue;
      if (chosen == kNoNode) {
        chosen = alt;  // this thread takes the first alternative, copies the others
        continue;
      }
      if (n_ == kMaxThreads) break;  // narrows the choice; never admits an invalid text
      copy_thread(n_, t);
      frames_[n_][depth - 1].node = alt;
      ++n_;
    }
    // A union is only started where one of its alternatives fits (its min_depth is theirs).
    assert(chosen != kNoNode);
    f.node = chosen;
  }
}

void JsonRecognizer::remove_duplicates() {
  for (int i = 0; i < n_; ++i)
    for (int j = i + 1; j < n_;) {
      const Thread& a = threads_[i];
      const Thread& b = threads_[j];
      if (a.depth == b.depth && a.blank_run == b.blank_run &&
          std::memcmp(frames_[i], frames_[j], sizeof(Frame) * a.depth) == 0) {
        if (j != n_ - 1) copy_thread(j, n_ - 1);
        --n_;
      } else {
        ++j;
      }
    }
}

bool JsonRecognizer::complete() const {
  for (int t = 0; t < n_; ++t) {
    const int depth = threads_[t].depth;
    if (depth == 0) return true;
    if (depth != 1) continue;
    const Frame& f = frames_[t][0];
    if (f.kind == kNumber &&
        (f.phase == kZero || f.phase == kInt || f.phase == kFrac || f.phase == kExpDigits))
      return true;
    if (f.kind == kLiteral &&
        schema_->node(f.node).literals[range_lo(f.b)].size() == f.a)
      return true;
  }
  return false;
}

int64_t JsonRecognizer::plain_budget() const {
  if (n_ != 1 || threads_[0].depth == 0) return -1;
  const Frame& f = frames_[0][threads_[0].depth - 1];
  if (f.phase != kPlain) return -1;
  if (f.kind == kKey) return (f.flags & kFree) ? std::numeric_limits<int64_t>::max() : -1;
  if (f.kind != kString) return -1;
  const uint32_t max = schema_->node(f.node).max_length;
  return max == kUnbounded ? std::numeric_limits<int64_t>::max() : int64_t{max} - f.b;
}

bool JsonRecognizer::step(int t, char ch) {
  const auto c = static_cast<unsigned char>(ch);
  Thread& th = threads_[t];
  for (;;) {
    if (th.depth == 0) return false;  // the document is complete: nothing may follow
    Frame& f = frames_[t][th.depth - 1];
    switch (f.kind) {
      case kString:
        th.blank_run = 0;
        return string_char(t, f, c);
      case kKey:
        th.blank_run = 0;
        return key_char(t, f, c);
      case kNumber: {
        // f.a counts the digits of the current part (integer, fraction, exponent).
        const bool integer = f.flags & kIntegerOnly;
        bool ends = false;
        auto first_digit = [&](uint8_t phase) {
          f.phase = phase;
          f.a = 1;
        };
        auto more_digits = [&](uint32_t limit) {
          if (f.a >= limit) return false;
          ++f.a;
          return true;
        };
        switch (f.phase) {
          case kMinus:
            if (c == '0') first_digit(kZero);
            else if (is_digit(c)) first_digit(kInt);
            else return false;
            break;
          case kZero:
          case kInt:
            if (is_digit(c)) {
              if (f.phase == kZero) return false;  // no leading zeros
              if (!more_digits(kMaxIntegerDigits)) return false;
            } else if (!integer && c == '.') {
              f.phase = kDot;
            } else if (!integer && (c == 'e' || c == 'E')) {
              f.phase = kExp;
            } else {
              ends = true;
            }
            break;
          case kDot:
            if (!is_digit(c)) return false;
            first_digit(kFrac);
            break;
          case kFrac:
            if (c == 'e' || c == 'E') f.phase = kExp;
            else if (!is_digit(c)) ends = true;
            else if (!more_digits(kMaxFractionDigits)) return false;
            break;
          case kExp:
            if (c == '+' || c == '-') f.phase = kExpSign;
            else if (is_digit(c)) first_digit(kExpDigits);
            else return false;
            break;
          case kExpSign:
            if (!is_digit(c)) return false;
            first_digit(kExpDigits);
            break;
          case kExpDigits:
            if (!is_digit(c)) ends = true;
            else if (!more_digits(kMaxExponentDigits)) return false;
            break;
        }
        if (!ends) {
          th.blank_run = 0;
          return true;
        }
        --th.depth;  // the number ended before c: its container reads c
        continue;
      }
      case kLiteral: {
        const auto& literals = schema_->node(f.node).literals;
        uint32_t lo = range_lo(f.b), hi = range_hi(f.b);
        if (narrow(f.a, c, lo, hi, [&](uint32_t i) -> std::string_view { return literals[i]; })) {
          ++f.a;
          f.b = pack_range(lo, hi);
          th.blank_run = 0;
          return true;
        }
        if (literals[lo].size() != f.a) return false;
        --th.depth;  // a whole literal ended before c
        continue;
      }
      case kValueStart:
        if (is_blank(c)) return (f.flags & kRoot) ? false : blank(t);
        th.blank_run = 0;
        if (c == ']' && (f.flags & kOrClose)) {
          --th.depth;  // no first item: the array closes empty
          const Frame& array = frames_[t][th.depth - 1];
          if (schema_->node(array.node).min_items > 0) return false;
          --th.depth;
          return true;
        }
        return start_value(t, f, c);
      case kObject:
        if (is_blank(c)) return blank(t);
        th.blank_run = 0;
        return object_char(t, f, c);
      case kArray:
        if (is_blank(c)) return blank(t);
        th.blank_run = 0;
        return array_char(t, f, c);
    }
    return false;
  }
}

bool JsonRecognizer::start_value(int t, Frame& f, unsigned char c) {
  const uint32_t id = f.node;
  const SchemaNode& n = schema_->node(id);
  const int depth = threads_[t].depth;
  auto become = [&](uint8_t kind, uint8_t phase) {  // value-start flags do not carry over
    f = Frame{};
    f.node = id;
    f.kind = kind;
    f.phase = phase;
  };
  auto start_literal = [&]() {
    uint32_t lo = 0, hi = static_cast<uint32_t>(n.literals.size());
    if (!narrow(0, c, lo, hi, [&](uint32_t i) -> std::string_view { return n.literals[i]; }))
      return false;
    become(kLiteral, 0);
    f.a = 1;
    f.b = pack_range(lo, hi);
    return true;
  };
  if (n.kind == SchemaNode::Kind::Literals) return start_literal();
  // Values. Each type can only start where a whole value of it fits the nesting limit.
  auto fits_here = [&](uint32_t type_depth) {
    return static_cast<int64_t>(type_depth) <= kMaxDepth - depth + 1;
  };
  switch (c) {
    case '{':
      if (!(n.types & kJsonObject) || !fits_here(n.object_depth)) return false;
      become(kObject, kKeyOrEnd);
      return true;
    case '[': {
      if (!(n.types & kJsonArray) || !fits_here(n.array_depth)) return false;
      become(kArray, kNoPendingItem);
      const uint32_t first = n.max_items > 0 ? n.item_node(0) : kNoNode;
      if (first == kNoNode || !fits(first, depth + 1)) return true;  // only ']' can follow
      f.phase = kAfterItem;
      f.a = 1;
      return push_value(t, first, kOrClose);
    }
    case '"':
      if (!(n.types & kJsonString)) return false;
      become(kString, kPlain);
      return true;
    default:
      break;
  }
  if (c == '-' || is_digit(c)) {
    if (!(n.types & (kJsonNumber | kJsonInteger))) return false;
    become(kNumber, c == '-' ? kMinus : c == '0' ? kZero : kInt);
    f.a = c == '-' ? 0 : 1;
    if (!(n.types & kJsonNumber)) f.flags = kIntegerOnly;
    return true;
  }
  return start_literal();  // true, false, null where the types allow them
}

bool JsonRecognizer::object_has_viable_key(const Frame& object, int object_depth) const {
  const SchemaNode& n = schema_->node(object.node);
  if (fits(n.additional, object_depth + 1)) return true;
  for (size_t i = 0; i < n.properties.size(); ++i)
    if (!((object.bits >> i) & 1) && fits(n.properties[i].node, object_depth + 1)) return true;
  return false;
}

bool JsonRecognizer::object_char(int t, Frame& f, unsigned char c) {
  const SchemaNode& n = schema_->node(f.node);
  Thread& th = threads_[t];
  const int depth = th.depth;
  auto close = [&] {
    if ((f.bits & n.required) != n.required) return false;
    --th.depth;
    return true;
  };
  switch (f.phase) {
    case kKeyOrEnd:
      if (c == '}') return close();
      [[fallthrough]];
    case kKeyNext: {
      if (c != '"' || depth >= kMaxDepth || !object_has_viable_key(f, depth)) return false;
      Frame& key = frames_[t][th.depth++];
      key = Frame{};
      key.node = f.node;
      key.kind = kKey;
      key.phase = kPlain;
      key.b = pack_range(0, static_cast<uint32_t>(n.properties.size()));
      key.bits = kFnvOffset;
      if (fits(n.additional, depth + 1)) key.flags = kFree;
      return true;
    }
    case kColon:
      if (c != ':') return false;
      f.phase = kAfterValue;
      return push_value(t, f.b == kExtraKey ? n.additional : n.properties[f.b].node, 0);
    case kAfterValue:
      if (c == '}') return close();
      if (c != ',' || !object_has_viable_key(f, depth)) return false;
      f.phase = kKeyNext;
      return true;
  }
  return false;
}

bool JsonRecognizer::array_char(int t, Frame& f, unsigned char c) {
  const SchemaNode& n = schema_->node(f.node);
  Thread& th = threads_[t];
  if (c == ']') {
    if (f.a < n.min_items) return false;
    --th.depth;
    return true;
  }
  if (c != ',' || f.phase != kAfterItem || f.a >= n.max_items) return false;
  const uint32_t item = n.item_node(f.a);
  if (!fits(item, th.depth + 1)) return false;
  ++f.a;
  return push_value(t, item, 0);
}

bool JsonRecognizer::key_char(int t, Frame& k, unsigned char c) {
  Thread& th = threads_[t];
  Frame& object = frames_[t][th.depth - 2];
  const int object_depth = th.depth - 1;
  const SchemaNode& n = schema_->node(k.node);
  uint32_t lo = range_lo(k.b), hi = range_hi(k.b);
  // The byte after a backslash (only in a declared name written with escapes) is never the
  // closing quote.
  const bool escaped = k.phase == kEscape;
  if (c == '"' && !escaped) {
    if (lo < hi && n.properties[lo].key.size() == k.a) {  // exactly a declared name
      if ((object.bits >> lo) & 1) return false;          // no duplicates
      if (!fits(n.properties[lo].node, object_depth + 1)) return false;
      object.bits |= uint64_t{1} << lo;
      object.b = lo;
    } else {
      if (!(k.flags & kFree) || k.phase != kPlain) return false;
      if (log_->contains(object.a, k.bits)) return false;  // a repeated extra key
      object.a = log_->append(k.bits, object.a);
      object.b = kExtraKey;
    }
    object.phase = kColon;
    --th.depth;
    return true;
  }
  if (c < 0x20) return false;
  auto key_text = [&](uint32_t i) -> std::string_view { return n.properties[i].key; };
  if (!narrow(k.a, c, lo, hi, key_text)) lo = hi = 0;
  bool free = k.flags & kFree;
  if (free) {
    // Extra keys are written without escapes, so their text is their value and two of them
    // are equal exactly when their texts are (and none can spell a declared name differently).
    if (c == '\\' || c == 0xFF) free = false;
    else if (is_utf8_phase(k.phase)) free = utf8_continue(k.phase, k.aux, c);
    else if (c >= 0x80) free = utf8_lead(k.phase, k.aux, c);
    if (!free) k.flags &= static_cast<uint8_t>(~kFree);
  }
  if (!free) k.phase = c == '\\' && !escaped ? kEscape : kPlain;
  if (!free) {
    bool viable = false;
    for (uint32_t i = lo; i < hi && !viable; ++i)
      viable = !((object.bits >> i) & 1) && fits(n.properties[i].node, object_depth + 1);
    if (!viable) return false;
  } else {
    k.bits = (k.bits ^ c) * kFnvPrime;
  }
  ++k.a;
  k.b = pack_range(lo, hi);
  return true;
}

bool JsonRecognizer::string_char(int t, Frame& f, unsigned char c) {
  const SchemaNode& n = schema_->node(f.node);
  auto count = [&] {  // one more code point
    if (f.b >= n.max_length) return false;
    ++f.a;
    ++f.b;
    return true;
  };
  switch (f.phase) {
    case kPlain:
      if (c == '"') {
        if (f.a < n.min_length) return false;
        --threads_[t].depth;
        return true;
      }
      // An escape is a code point: start one only where the budget has room for it.
      if (c == '\\') {
        if (f.b >= n.max_length) return false;
        f.phase = kEscape;
        return true;
      }
      if (c < 0x20) return false;  // control characters must be escaped
      if (c == 0xFF) {
        // Lossily decoded text: 0 to several code points, so never where a minimum counts.
        if (n.min_length > 0 || f.b >= n.max_length) return false;
        ++f.b;
        return true;
      }
      if (c >= 0x80 && !utf8_lead(f.phase, f.aux, c)) return false;
      return count();
    case kEscape:
      if (c == 'u') {
        f.phase = kUnicode;
        f.aux = 4;
        f.bits = 0;
        return true;
      }
      if (c != '"' && c != '\\' && c != '/' && c != 'b' && c != 'f' && c != 'n' && c != 'r' &&
          c != 't')
        return false;
      f.phase = kPlain;
      return count();
    case kUnicode:
    case kLowUnicode: {
      const int v = hex_value(c);
      if (v < 0) return false;
      const int index = 4 - f.aux;
      f.bits = f.bits * 16 + static_cast<uint64_t>(v);
      if (f.phase == kLowUnicode) {
        // The second half of a surrogate pair: \uDC00-\uDFFF.
        if ((index == 0 && v != 0xD) || (index == 1 && v < 0xC)) return false;
      } else if (index == 1 && f.bits >= 0xDC && f.bits <= 0xDF) {
        return false;  // a low surrogate with no high one before it
      }
      if (--f.aux > 0) return true;
      if (f.phase == kUnicode && f.bits >= 0xD800 && f.bits <= 0xDBFF) {
        f.phase = kHighDone;  // a high surrogate must be followed by its low half
        return true;
      }
      f.phase = kPlain;
      return count();
    }
    case kHighDone:
      if (c != '\\') return false;
      f.phase = kHighSlash;
      return true;
    case kHighSlash:
      if (c != 'u') return false;
      f.phase = kLowUnicode;
      f.aux = 4;
      f.bits = 0;
      return true;
    default:
      return utf8_continue(f.phase, f.aux, c);
  }
}

}  // namespace lmkit::server
