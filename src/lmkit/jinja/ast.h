// Syntax tree of a parsed template. Every node keeps the byte offset of its first token so
// runtime errors can name a line and column.
#pragma once
#include <cstdint>
#include <memory>
#include <string>
#include <vector>

#include "lmkit/jinja/value.h"

namespace lmkit::jinja {

struct Expr;
struct Stmt;
using ExprPtr = std::unique_ptr<Expr>;
using StmtPtr = std::unique_ptr<Stmt>;
using Body = std::vector<StmtPtr>;

enum class ExprKind : uint8_t {
  Literal,     // literal
  Name,        // text
  List,        // items
  Tuple,       // items
  Dict,        // items: key, value, key, value, ...
  Attribute,   // a.text
  Index,       // a[b]
  Slice,       // a[items[0]:items[1]:items[2]] (null items are omitted bounds)
  Call,        // a(args)
  Unary,       // text a   (text: "not", "-", "+")
  Binary,      // a text b
  Filter,      // a | text(args); a is null in a {% filter %} block
  Test,        // a is [not] text(args)
  Conditional, // b if a else c; without else (c null) the value is undefined when a is false
};

struct Arg {
  std::string keyword;  // empty for a positional argument
  ExprPtr value;
  bool spread = false;          // *value
  bool keyword_spread = false;  // **value
};

struct Expr {
  ExprKind kind;
  uint32_t offset;
  std::string text;
  Value literal;
  ExprPtr a, b, c;
  std::vector<ExprPtr> items;
  std::vector<Arg> args;
  bool negated = false;  // Test: `is not`
};

struct Param {
  std::string name;
  ExprPtr default_value;  // null when required
};

enum class StmtKind : uint8_t {
  Text,         // text
  Output,       // {{ expr }}
  If,           // expr, body, else_body (an elif is an If alone in else_body)
  For,          // target in expr [if condition], body, else_body
  Set,          // target = expr, or block set when expr is null (body)
  Macro,        // name(params) body
  CallBlock,    // {% call(params) expr %} body
  FilterBlock,  // {% filter expr %} body, expr is a Filter with a null operand
  Break,
  Continue,
};

struct Stmt {
  StmtKind kind;
  uint32_t offset;
  std::string text;
  ExprPtr expr;
  ExprPtr target;
  ExprPtr condition;
  Body body;
  Body else_body;
  std::vector<Param> params;
};

}  // namespace lmkit::jinja
