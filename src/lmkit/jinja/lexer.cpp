#include "lmkit/jinja/lexer.h"

#include <cctype>
#include <string_view>

#include "lmkit/base/error.h"
#include "lmkit/jinja/text.h"

namespace lmkit::jinja {
namespace {

// Template text after preprocessing, remembering for each byte where it came from so that
// errors point into the text the user wrote.
struct MappedText {
  std::string text;
  std::vector<uint32_t> origin;

  void push(char c, uint32_t from) {
    text.push_back(c);
    origin.push_back(from);
  }
  uint32_t offset_of(size_t i) const {
    if (i < origin.size()) return origin[i];
    return origin.empty() ? 0 : origin.back() + 1;
  }
};

bool starts_with(std::string_view s, size_t i, std::string_view prefix) {
  return s.size() >= i + prefix.size() && s.compare(i, prefix.size(), prefix) == 0;
}

MappedText preprocess(const std::string& source) {
  MappedText in;
  size_t n = source.size();
  if (n > 0 && source[n - 1] == '\n') --n;
  for (size_t i = 0; i < n; ++i) in.push(source[i], static_cast<uint32_t>(i));

  // lstrip_blocks: spaces and tabs at the start of a line before a block or comment tag.
  MappedText lstripped;
  const std::string& t = in.text;
  for (size_t i = 0; i < t.size();) {
    bool line_start = i == 0 || t[i - 1] == '\n' || t[i - 1] == '\r';
    if (line_start) {
      size_t j = i;
      while (j < t.size() && (t[j] == ' ' || t[j] == '\t')) ++j;
      if (j > i && j + 1 < t.size() && t[j] == '{' && (t[j + 1] == '#' || t[j + 1] == '%' || t[j + 1] == '-')) {
        i = j;
      }
    }
    // Copy up to and including the next line break.
    while (i < t.size()) {
      lstripped.push(t[i], in.origin[i]);
      ++i;
      if (t[i - 1] == '\n' || t[i - 1] == '\r') break;
    }
  }

  // trim_blocks: the newline right after a block or comment tag (also after "-}").
  MappedText trimmed;
  const std::string& l = lstripped.text;
  for (size_t i = 0; i < l.size(); ++i) {
    trimmed.push(l[i], lstripped.origin[i]);
    if (l[i] == '}' && i > 0 && (l[i - 1] == '#' || l[i - 1] == '%' || l[i - 1] == '-') && i + 1 < l.size() &&
        l[i + 1] == '\n') {
      ++i;
    }
  }

  // {% generation %} / {% endgeneration %} only mark assistant spans for training masks.
  MappedText out;
  const std::string& g = trimmed.text;
  for (size_t i = 0; i < g.size();) {
    if (starts_with(g, i, "{%")) {
      size_t j = i + 2;
      bool lstrip = j < g.size() && g[j] == '-';
      if (lstrip) ++j;
      while (size_t sp = text::space_length(g, j)) j += sp;
      if (starts_with(g, j, "endgeneration")) j += 13;
      else if (starts_with(g, j, "generation")) j += 10;
      else j = std::string::npos;
      if (j != std::string::npos) {
        while (size_t sp = text::space_length(g, j)) j += sp;
        bool rstrip = j < g.size() && g[j] == '-';
        if (rstrip) ++j;
        if (starts_with(g, j, "%}")) {
          j += 2;
          if (lstrip) {
            std::string kept = text::trim_end(out.text);
            out.text.resize(kept.size());
            out.origin.resize(kept.size());
          }
          if (rstrip)
            while (size_t sp = text::space_length(g, j)) j += sp;
          i = j;
          continue;
        }
      }
    }
    out.push(g[i], trimmed.origin[i]);
    ++i;
  }
  return out;
}

bool is_digit(char c) { return c >= '0' && c <= '9'; }
bool is_word(char c) { return is_digit(c) || (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || c == '_'; }

struct Table {
  std::string_view seq;
  TokenType type;
};
// Order matters: longer operators first where they share a prefix.
constexpr Table kSymbols[] = {
    {"{%", TokenType::OpenStatement}, {"%}", TokenType::CloseStatement}, {"{{", TokenType::OpenExpression},
    {"}}", TokenType::CloseExpression}, {"(", TokenType::OpenParen},     {")", TokenType::CloseParen},
    {"{", TokenType::OpenBrace},        {"}", TokenType::CloseBrace},     {"[", TokenType::OpenBracket},
    {"]", TokenType::CloseBracket},     {",", TokenType::Comma},          {".", TokenType::Dot},
    {":", TokenType::Colon},            {"|", TokenType::Pipe},           {"<=", TokenType::Comparison},
    {">=", TokenType::Comparison},      {"==", TokenType::Comparison},    {"!=", TokenType::Comparison},
    {"<", TokenType::Comparison},       {">", TokenType::Comparison},     {"+", TokenType::Additive},
    {"-", TokenType::Additive},         {"~", TokenType::Additive},       {"**", TokenType::Power},
    {"*", TokenType::Multiplicative},   {"//", TokenType::Multiplicative}, {"/", TokenType::Multiplicative},
    {"%", TokenType::Multiplicative},   {"=", TokenType::Equals},
};

class Lexer {
 public:
  Lexer(const std::string& source, const std::string& origin)
      : source_(source), origin_(origin), mapped_(preprocess(source)), src_(mapped_.text) {}

  std::vector<Token> run() {
    while (pos_ < src_.size()) {
      TokenType* last = tokens_.empty() ? nullptr : &tokens_.back().type;
      if (!last || *last == TokenType::CloseStatement || *last == TokenType::CloseExpression ||
          *last == TokenType::Comment) {
        size_t start = pos_;
        while (pos_ < src_.size() &&
               !(src_[pos_] == '{' && pos_ + 1 < src_.size() &&
                 (src_[pos_ + 1] == '%' || src_[pos_ + 1] == '{' || src_[pos_ + 1] == '#'))) {
          ++pos_;
        }
        if (pos_ > start) {
          push(TokenType::Text, src_.substr(start, pos_ - start), start);
          continue;
        }
      }
      if (starts_with(src_, pos_, "{#")) {
        lex_comment();
        continue;
      }
      if (starts_with(src_, pos_, "{%-") || starts_with(src_, pos_, "{{-")) {
        strip_trailing_whitespace();
        bool statement = src_[pos_ + 1] == '%';
        push(statement ? TokenType::OpenStatement : TokenType::OpenExpression, statement ? "{%" : "{{", pos_);
        if (!statement) brace_depth_ = 0;
        pos_ += 3;
        continue;
      }
      while (size_t sp = text::space_length(src_, pos_)) pos_ += sp;
      if (pos_ >= src_.size()) break;
      if (starts_with(src_, pos_, "-%}") || starts_with(src_, pos_, "-}}")) {
        bool statement = src_[pos_ + 1] == '%';
        push(statement ? TokenType::CloseStatement : TokenType::CloseExpression, statement ? "%}" : "}}", pos_);
        pos_ += 3;
        while (size_t sp = text::space_length(src_, pos_)) pos_ += sp;
        continue;
      }
      char c = src_[pos_];
      if ((c == '-' || c == '+') && lex_sign()) continue;
      if (lex_symbol()) continue;
      if (c == '\'' || c == '"') {
        lex_string(c);
        continue;
      }
      if (is_digit(c)) {
        size_t start = pos_;
        std::string num = digits();
        if ((tokens_.empty() || tokens_.back().type != TokenType::Dot) && pos_ + 1 < src_.size() && src_[pos_] == '.' &&
            is_digit(src_[pos_ + 1])) {
          ++pos_;
          num += "." + digits();
        }
        push(TokenType::Number, num, start);
        continue;
      }
      if (is_word(c)) {
        size_t start = pos_;
        while (pos_ < src_.size() && is_word(src_[pos_])) ++pos_;
        push(TokenType::Identifier, src_.substr(start, pos_ - start), start);
        continue;
      }
      std::string shown = text::code_points(std::string_view(src_).substr(pos_, 4)).front();
      error(pos_, "unexpected character '" + shown + "'");
    }
    return std::move(tokens_);
  }

 private:
  [[noreturn]] void error(size_t at, const std::string& message) {
    throw_error(location_prefix(source_, origin_, mapped_.offset_of(at)) + message);
  }

  void push(TokenType type, std::string value, size_t at) {
    tokens_.push_back(Token{type, std::move(value), mapped_.offset_of(at)});
  }

  std::string digits() {
    size_t start = pos_;
    while (pos_ < src_.size() && is_digit(src_[pos_])) ++pos_;
    return src_.substr(start, pos_ - start);
  }

  void strip_trailing_whitespace() {
    if (!tokens_.empty() && tokens_.back().type == TokenType::Text) {
      tokens_.back().value = text::trim_end(tokens_.back().value);
      if (tokens_.back().value.empty()) tokens_.pop_back();
    }
  }

  void lex_comment() {
    size_t start = pos_;
    pos_ += 2;
    bool strip_before = pos_ < src_.size() && src_[pos_] == '-';
    if (strip_before) ++pos_;
    size_t end = src_.find("#}", pos_);
    if (end == std::string::npos) error(start, "comment opened with '{#' is never closed with '#}'");
    std::string body = src_.substr(pos_, end - pos_);
    bool strip_after = !body.empty() && body.back() == '-';
    if (strip_after) body.pop_back();
    if (strip_before) strip_trailing_whitespace();
    push(TokenType::Comment, body, start);
    pos_ = end + 2;
    if (strip_after)
      while (size_t sp = text::space_length(src_, pos_)) pos_ += sp;
  }

  // A sign: part of a number literal or a unary operator, unless it follows an operand.
  bool lex_sign() {
    char c = src_[pos_];
    if (tokens_.empty() || tokens_.back().type == TokenType::Text)
      error(pos_, std::string("unexpected '") + c + "' outside of a tag");
    switch (tokens_.back().type) {
      case TokenType::Identifier:
      case TokenType::Number:
      case TokenType::String:
      case TokenType::CloseParen:
      case TokenType::CloseBracket:
        return false;
      default: break;
    }
    size_t start = pos_;
    ++pos_;
    std::string num = digits();
    if (!num.empty() && pos_ + 1 < src_.size() && src_[pos_] == '.' && is_digit(src_[pos_ + 1])) {
      ++pos_;
      num += "." + digits();
    }
    push(num.empty() ? TokenType::Unary : TokenType::Number, std::string(1, c) + num, start);
    return true;
  }

  bool lex_symbol() {
    for (const auto& [seq, type] : kSymbols) {
      if (seq == "}}" && brace_depth_ > 0) continue;
      if (!starts_with(src_, pos_, seq)) continue;
      push(type, std::string(seq), pos_);
      if (type == TokenType::OpenExpression) brace_depth_ = 0;
      else if (type == TokenType::OpenBrace) ++brace_depth_;
      else if (type == TokenType::CloseBrace) --brace_depth_;
      pos_ += seq.size();
      return true;
    }
    return false;
  }

  void lex_string(char quote) {
    size_t start = pos_;
    ++pos_;
    std::string value;
    while (true) {
      if (pos_ >= src_.size()) error(start, std::string("string literal is never closed with ") + quote);
      char c = src_[pos_];
      if (c == quote) break;
      if (c != '\\') {
        value += c;
        ++pos_;
        continue;
      }
      if (pos_ + 1 >= src_.size()) error(start, std::string("string literal is never closed with ") + quote);
      char e = src_[pos_ + 1];
      pos_ += 2;
      switch (e) {
        case 'n': value += '\n'; break;
        case 't': value += '\t'; break;
        case 'r': value += '\r'; break;
        case 'b': value += '\b'; break;
        case 'f': value += '\f'; break;
        case 'v': value += '\v'; break;
        case '\'': value += '\''; break;
        case '"': value += '"'; break;
        case '\\': value += '\\'; break;
        case 'x':
        case 'u': {
          size_t len = e == 'x' ? 2 : 4;
          std::string hex = src_.substr(pos_, len);
          bool ok = hex.size() == len;
          for (char h : hex) ok = ok && std::isxdigit(static_cast<unsigned char>(h));
          if (!ok) error(pos_ - 2, std::string("invalid escape \\") + e + hex);
          append_utf8(value, static_cast<uint32_t>(std::stoul(hex, nullptr, 16)));
          pos_ += len;
          break;
        }
        default: error(pos_ - 2, std::string("unknown escape sequence \\") + e + " in string literal");
      }
    }
    ++pos_;
    push(TokenType::String, std::move(value), start);
  }

  static void append_utf8(std::string& out, uint32_t cp) {
    if (cp < 0x80) {
      out += static_cast<char>(cp);
    } else if (cp < 0x800) {
      out += static_cast<char>(0xC0 | (cp >> 6));
      out += static_cast<char>(0x80 | (cp & 0x3F));
    } else {
      out += static_cast<char>(0xE0 | (cp >> 12));
      out += static_cast<char>(0x80 | ((cp >> 6) & 0x3F));
      out += static_cast<char>(0x80 | (cp & 0x3F));
    }
  }

  const std::string& source_;
  const std::string& origin_;
  MappedText mapped_;
  const std::string& src_;
  size_t pos_ = 0;
  int brace_depth_ = 0;
  std::vector<Token> tokens_;
};

}  // namespace

std::vector<Token> tokenize(const std::string& source, const std::string& origin) {
  return Lexer(source, origin).run();
}

std::string describe(const Token& token) {
  switch (token.type) {
    case TokenType::Text: return "text";
    case TokenType::Number: return "number " + token.value;
    case TokenType::String: return "string literal";
    case TokenType::Identifier: return "'" + token.value + "'";
    case TokenType::Comment: return "comment";
    default: return "'" + token.value + "'";
  }
}

std::string location_prefix(const std::string& source, const std::string& origin, uint32_t offset) {
  size_t line, column;
  text::line_and_column(source, offset, line, column);
  return origin + ": line " + std::to_string(line) + ", column " + std::to_string(column) + ": ";
}

}  // namespace lmkit::jinja
