// A character-level recognizer of JSON text whose top-level value is an object, for
// response_format json_object: feed() says whether a character can continue a valid document,
// complete() whether the object has closed. The state is a few bytes (a fixed-depth stack), so
// trying every vocabulary token from the current state is a cheap copy each.
#pragma once
#include <array>
#include <cstdint>
#include <string_view>

namespace lmkit::server {

class JsonObjectGrammar {
 public:
  static constexpr int kMaxDepth = 32;      // deeper nesting is refused (the mask stops it)
  // Whitespace in a row outside strings: enough for pretty-printing, not for a model to spend
  // its tokens on blanks (none before the opening brace).
  static constexpr int kMaxBlankRun = 4;

  bool feed(char c);
  bool feed(std::string_view text) {
    for (char c : text)
      if (!feed(c)) return false;
    return true;
  }
  bool complete() const { return state_ == State::Done; }

 private:
  enum class State : uint8_t {
    Start, Value, KeyOrEnd, Key, Colon, ValueOrEnd, AfterValue, String, Escape, Unicode,
    NumMinus, NumZero, NumInt, NumDot, NumFrac, NumExp, NumExpSign, NumExpDigits, Literal, Done
  };
  bool after_value_char(char c);
  bool start_value(char c);
  bool close(char c);

  State state_ = State::Start;
  std::array<char, kMaxDepth> stack_{};  // '{' or '['
  int8_t depth_ = 0;
  bool string_is_key_ = false;
  uint8_t unicode_left_ = 0;
  uint8_t blank_run_ = 0;
  const char* literal_rest_ = nullptr;  // the rest of "true", "false" or "null"
};

}  // namespace lmkit::server
