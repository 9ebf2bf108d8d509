#include "lmkit/server/json_grammar.h"

namespace lmkit::server {

namespace {

bool is_blank(char c) { return c == ' ' || c == '\t' || c == '\n' || c == '\r'; }
bool is_digit(char c) { return c >= '0' && c <= '9'; }
bool is_hex(char c) { return is_digit(c) || (c >= 'a' && c <= 'f') || (c >= 'A' && c <= 'F'); }

}  // namespace

bool JsonObjectGrammar::start_value(char c) {
  switch (c) {
    case '{':
    case '[':
      if (depth_ >= kMaxDepth) return false;
      stack_[static_cast<size_t>(depth_++)] = c;
      state_ = c == '{' ? State::KeyOrEnd : State::ValueOrEnd;
      return true;
    case '"': state_ = State::String; string_is_key_ = false; return true;
    case '-': state_ = State::NumMinus; return true;
    case '0': state_ = State::NumZero; return true;
    case 't': literal_rest_ = "rue"; state_ = State::Literal; return true;
    case 'f': literal_rest_ = "alse"; state_ = State::Literal; return true;
    case 'n': literal_rest_ = "ull"; state_ = State::Literal; return true;
    default:
      if (c >= '1' && c <= '9') {
        state_ = State::NumInt;
        return true;
      }
      return false;
  }
}

bool JsonObjectGrammar::close(char c) {
  if (depth_ == 0 || stack_[static_cast<size_t>(depth_ - 1)] != (c == '}' ? '{' : '[')) return false;
  --depth_;
  state_ = depth_ == 0 ? State::Done : State::AfterValue;
  return true;
}

bool JsonObjectGrammar::after_value_char(char c) {
  if (c == ',') {
    state_ = stack_[static_cast<size_t>(depth_ - 1)] == '{' ? State::Key : State::Value;
    return true;
  }
  if (c == '}' || c == ']') return close(c);
  return false;
}

bool JsonObjectGrammar::feed(char c) {
  const bool in_string = state_ == State::String || state_ == State::Escape || state_ == State::Unicode;
  if (!in_string && is_blank(c)) {
    if (state_ == State::Start || state_ == State::Done) return false;
    // Blanks end a number or separate tokens; anywhere else they are not allowed.
    switch (state_) {
      case State::NumZero: case State::NumInt: case State::NumFrac: case State::NumExpDigits:
        state_ = State::AfterValue;
        break;
      case State::NumMinus: case State::NumDot: case State::NumExp: case State::NumExpSign:
      case State::Literal:
        return false;
      default: break;
    }
    if (++blank_run_ > kMaxBlankRun) return false;
    return true;
  }
  blank_run_ = 0;
  switch (state_) {
    case State::Start:
      if (c != '{') return false;
      return start_value(c);
    case State::Value: return start_value(c);
    case State::ValueOrEnd: return c == ']' ? close(c) : start_value(c);
    case State::KeyOrEnd:
      if (c == '}') return close(c);
      [[fallthrough]];
    case State::Key:
      if (c != '"') return false;
      state_ = State::String;
      string_is_key_ = true;
      return true;
    case State::Colon:
      if (c != ':') return false;
      state_ = State::Value;
      return true;
    case State::AfterValue: return after_value_char(c);
    case State::String:
      if (c == '"') {
        state_ = string_is_key_ ? State::Colon : State::AfterValue;
        return true;
      }
      if (c == '\\') {
        state_ = State::Escape;
        return true;
      }
      return static_cast<unsigned char>(c) >= 0x20;  // control characters must be escaped
    case State::Escape:
      if (c == 'u') {
        state_ = State::Unicode;
        unicode_left_ = 4;
        return true;
      }
      if (c == '"' || c == '\\' || c == '/' || c == 'b' || c == 'f' || c == 'n' || c == 'r' || c == 't') {
        state_ = State::String;
        return true;
      }
      return false;
    case State::Unicode:
      if (!is_hex(c)) return false;
      if (--unicode_left_ == 0) state_ = State::String;
      return true;
    case State::NumMinus:
      if (c == '0') state_ = State::NumZero;
      else if (is_digit(c)) state_ = State::NumInt;
      else return false;
      return true;
    case State::NumInt:
      if (is_digit(c)) return true;
      [[fallthrough]];
    case State::NumZero:
      if (c == '.') { state_ = State::NumDot; return true; }
      if (c == 'e' || c == 'E') { state_ = State::NumExp; return true; }
      state_ = State::AfterValue;
      return after_value_char(c);
    case State::NumDot:
      if (!is_digit(c)) return false;
      state_ = State::NumFrac;
      return true;
    case State::NumFrac:
      if (is_digit(c)) return true;
      if (c == 'e' || c == 'E') { state_ = State::NumExp; return true; }
      state_ = State::AfterValue;
      return after_value_char(c);
    case State::NumExp:
      if (c == '+' || c == '-') { state_ = State::NumExpSign; return true; }
      [[fallthrough]];
    case State::NumExpSign:
      if (!is_digit(c)) return false;
      state_ = State::NumExpDigits;
      return true;
    case State::NumExpDigits:
      if (is_digit(c)) return true;
      state_ = State::AfterValue;
      return after_value_char(c);
    case State::Literal:
      if (*literal_rest_ != c) return false;
      if (*++literal_rest_ == '\0') state_ = State::AfterValue;
      return true;
    case State::Done: return false;
  }
  return false;
}

}  // namespace lmkit::server
