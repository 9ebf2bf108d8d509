// Template source -> tokens, with the whitespace handling of transformers' environment
// (trim_blocks, lstrip_blocks) and of @huggingface/jinja's preprocessing: one trailing
// newline of the template is dropped, and {% generation %} markers are removed.
#pragma once
#include <cstdint>
#include <string>
#include <vector>

namespace lmkit::jinja {

enum class TokenType : uint8_t {
  Text,
  Number,
  String,
  Identifier,
  Equals,
  OpenParen,
  CloseParen,
  OpenStatement,
  CloseStatement,
  OpenExpression,
  CloseExpression,
  OpenBracket,
  CloseBracket,
  OpenBrace,
  CloseBrace,
  Comma,
  Dot,
  Colon,
  Pipe,
  Additive,        // + - ~
  Multiplicative,  // * / // %
  Power,           // **
  Comparison,      // == != < > <= >=
  Unary,           // a sign before an operand
  Comment,
};

struct Token {
  TokenType type;
  std::string value;
  uint32_t offset;  // byte offset in the original template source
};

// Throws lmkit::Error naming `origin`, the line and the column on malformed input.
std::vector<Token> tokenize(const std::string& source, const std::string& origin);

// Human-readable token description for error messages ("'%}'", "identifier 'foo'", ...).
std::string describe(const Token& token);

// "ORIGIN: line L, column C: " for a byte offset of the original source.
std::string location_prefix(const std::string& source, const std::string& origin, uint32_t offset);

}  // namespace lmkit::jinja
