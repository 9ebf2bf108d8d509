// A character-level recognizer of JSON text that satisfies a compiled JSON Schema
// (json_schema.h): feed() says whether a character can continue a valid document, complete()
// whether the document may end here. Constrained decoding copies it once per node of a trie
// of token texts, so a copy moves only the live frames (a few dozen bytes for one parse).
//
// It is a pushdown recognizer: one frame per open value (object, array, string, number,
// literal, object key). anyOf makes parsing ambiguous until the text decides, so the state is
// a small set of parses ("threads") of the same text; a thread that cannot take a character
// dies. Every thread only ever accepts text that can still be completed into a valid document
// (a value is only started when it fits in the nesting limit, a key only when its value can
// follow, a string escape only when the length budget allows it), so a generation never
// reaches a dead end. Beyond kMaxThreads live parses the extra alternatives are dropped: that
// only narrows what may be generated, never lets an invalid document through.
//
// The text is read as a constrained output is, a subset of JSON: no blanks before the value or
// after it, at most kMaxBlankRun blanks in a row, integers without fraction or exponent,
// numbers of bounded length (below), no escapes in object keys (a declared name that needs them is matched as written by a JSON
// encoder), enum values in compact form. The byte 0xFF stands for text a tokenizer could only
// decode lossily (see TokenPieces): it may appear inside strings without minLength, nowhere else.
#pragma once
#include <cstdint>
#include <cstring>
#include <string_view>
#include <vector>

#include "lmkit/server/json_schema.h"

namespace lmkit::server {

// The keys an object's parse has seen that are not declared properties, as 64-bit hashes in
// linked lists (one per open object, sharing tails between threads), so frames stay small
// while duplicate keys are still refused. Append-only within a step; the constraint truncates
// back what a trial walk added.
class JsonKeyLog {
 public:
  struct Entry {
    uint64_t hash;
    uint32_t next;  // 1-based index of the previous entry; 0 ends the list
  };
  uint32_t append(uint64_t hash, uint32_t head) {
    entries_.push_back({hash, head});
    return static_cast<uint32_t>(entries_.size());
  }
  bool contains(uint32_t head, uint64_t hash) const {
    for (uint32_t i = head; i != 0; i = entries_[i - 1].next)
      if (entries_[i - 1].hash == hash) return true;
    return false;
  }
  size_t size() const { return entries_.size(); }
  void truncate(size_t n) { entries_.resize(n); }

 private:
  std::vector<Entry> entries_;
};

class JsonRecognizer {
 public:
  static constexpr int kMaxDepth = 32;   // open values, object keys included
  static constexpr int kMaxThreads = 8;  // live parses under anyOf
  static constexpr int kMaxBlankRun = 4; // pretty-printing, not pages of blanks
  // Numbers every JSON parser reads back as written (JavaScript's and nlohmann's doubles
  // included): up to 15 integer digits (exact below 2^53), 15 fraction digits and a
  // two-digit exponent, so no value overflows to infinity.
  static constexpr uint32_t kMaxIntegerDigits = 15;
  static constexpr uint32_t kMaxFractionDigits = 15;
  static constexpr uint32_t kMaxExponentDigits = 2;

  // Both must outlive the recognizer and its copies.
  JsonRecognizer(const JsonSchema& schema, JsonKeyLog& log);
  // A document that is a value of schema.node(start_node) (the compiler checks enum values so).
  JsonRecognizer(const JsonSchema& schema, JsonKeyLog& log, uint32_t start_node);
  JsonRecognizer() = default;  // unusable until assigned
  JsonRecognizer(const JsonRecognizer& other) { *this = other; }
  JsonRecognizer& operator=(const JsonRecognizer& other);

  // False: the character cannot continue a valid document. The recognizer is then spent
  // (copy before feeding to keep the old state).
  bool feed(char c);
  bool feed(std::string_view text) {
    for (char c : text)
      if (!feed(c)) return false;
    return true;
  }
  // The text so far is a whole valid document.
  bool complete() const;
  // When the text is inside a string or a free object key of a single parse, any run of
  // "plain" characters (printable, not '"' or '\\', valid UTF-8, no 0xFF) of at most this
  // many code points is accepted and changes nothing but counters: the constraint allows such
  // tokens wholesale instead of walking them. -1 otherwise.
  int64_t plain_budget() const;

 private:
  struct Frame {
    uint32_t node;
    uint8_t kind;
    uint8_t phase;
    uint8_t aux;
    uint8_t flags;
    uint32_t a;
    uint32_t b;
    uint64_t bits;
  };
  static_assert(sizeof(Frame) == 24, "frames are compared with memcmp: no padding");
  struct Thread {
    uint8_t depth;
    uint8_t blank_run;
  };

  bool step(int t, char c);
  bool start_value(int t, Frame& f, unsigned char c);
  bool object_char(int t, Frame& f, unsigned char c);
  bool array_char(int t, Frame& f, unsigned char c);
  bool key_char(int t, Frame& f, unsigned char c);
  bool string_char(int t, Frame& f, unsigned char c);
  bool blank(int t);
  bool push_value(int t, uint32_t node, uint8_t flags);
  bool fits(uint32_t node, int depth) const;
  bool object_has_viable_key(const Frame& object, int object_depth) const;
  void expand_unions();
  void remove_duplicates();
  void copy_thread(int to, int from);

  const JsonSchema* schema_ = nullptr;
  JsonKeyLog* log_ = nullptr;
  int n_ = 0;
  Thread threads_[kMaxThreads]{};
  Frame frames_[kMaxThreads][kMaxDepth];
};

}  // namespace lmkit::server
