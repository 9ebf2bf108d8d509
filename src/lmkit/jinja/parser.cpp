#include "lmkit/jinja/parser.h"

#include <algorithm>
#include <cmath>
#include <initializer_list>
#include <set>

#include "lmkit/base/error.h"
#include "lmkit/jinja/interpreter.h"

namespace lmkit::jinja {
namespace {

ExprPtr make_expr(ExprKind kind, uint32_t offset) {
  auto e = std::make_unique<Expr>();
  e->kind = kind;
  e->offset = offset;
  return e;
}

StmtPtr make_stmt(StmtKind kind, uint32_t offset) {
  auto s = std::make_unique<Stmt>();
  s->kind = kind;
  s->offset = offset;
  return s;
}

// Statements Jinja2 has that this subset does not implement get a specific message.
const std::set<std::string> kUnsupportedStatements = {"include", "import", "from", "extends", "block",
                                                      "raw", "with", "autoescape", "do", "trans"};

class Parser {
 public:
  Parser(const std::vector<Token>& tokens, const std::string& source, const std::string& origin)
      : tokens_(tokens), source_(source), origin_(origin) {}

  Body run() {
    Body body;
    while (pos_ < tokens_.size()) body.push_back(parse_any());
    return body;
  }

 private:
  struct DepthGuard {
    Parser& p;
    explicit DepthGuard(Parser& parser) : p(parser) {
      if (++p.depth_ > kMaxParseDepth)
        p.error_here("template nested deeper than " + std::to_string(kMaxParseDepth) + " levels");
    }
    ~DepthGuard() { --p.depth_; }
  };

  [[noreturn]] void error_at(uint32_t offset, const std::string& message) const {
    throw_error(location_prefix(source_, origin_, offset) + message);
  }
  [[noreturn]] void error_here(const std::string& message) const {
    if (pos_ < tokens_.size()) error_at(tokens_[pos_].offset, message);
    error_at(static_cast<uint32_t>(source_.size()), message);
  }
  std::string found() const { return pos_ < tokens_.size() ? describe(tokens_[pos_]) : "the end of the template"; }

  bool at_end() const { return pos_ >= tokens_.size(); }
  bool is(TokenType type, size_t ahead = 0) const {
    return pos_ + ahead < tokens_.size() && tokens_[pos_ + ahead].type == type;
  }
  bool is_name(std::string_view name, size_t ahead = 0) const {
    return is(TokenType::Identifier, ahead) && tokens_[pos_ + ahead].value == name;
  }
  bool is_statement(std::initializer_list<std::string_view> names) const {
    if (!is(TokenType::OpenStatement) || !is(TokenType::Identifier, 1)) return false;
    return std::find(names.begin(), names.end(), tokens_[pos_ + 1].value) != names.end();
  }
  const Token& expect(TokenType type, const std::string& what) {
    if (!is(type)) error_here("expected " + what + ", found " + found());
    return tokens_[pos_++];
  }
  void expect_name(std::string_view name) {
    if (!is_name(name)) error_here("expected '" + std::string(name) + "', found " + found());
    ++pos_;
  }
  // Body of a block up to one of `ends`; a missing end tag names the block that opened it.
  Body parse_until(std::initializer_list<std::string_view> ends, const std::string& block, uint32_t opened_at) {
    open_blocks_.push_back(block);
    struct Pop {
      std::vector<std::string>& v;
      ~Pop() { v.pop_back(); }
    } pop{open_blocks_};
    Body body;
    while (!is_statement(ends)) {
      if (at_end()) {
        std::string expected;
        for (auto e : ends) expected += (expected.empty() ? "'" : " or '") + std::string(e) + "'";
        error_at(opened_at, "'" + block + "' block is never closed (expected {% " + std::string(*ends.begin()) +
                                " %}" + (ends.size() > 1 ? ", one of " + expected : "") + ")");
      }
      body.push_back(parse_any());
    }
    return body;
  }
  void expect_end_tag(std::string_view name) {
    expect(TokenType::OpenStatement, "'{%'");
    expect_name(name);
    expect(TokenType::CloseStatement, "'%}' after '" + std::string(name) + "'");
  }

  StmtPtr parse_any() {
    DepthGuard guard(*this);
    const Token& t = tokens_[pos_];
    switch (t.type) {
      case TokenType::Comment: {
        ++pos_;
        auto s = make_stmt(StmtKind::Text, t.offset);
        return s;
      }
      case TokenType::Text: {
        ++pos_;
        auto s = make_stmt(StmtKind::Text, t.offset);
        s->text = t.value;
        return s;
      }
      case TokenType::OpenStatement: return parse_statement();
      case TokenType::OpenExpression: {
        ++pos_;
        auto s = make_stmt(StmtKind::Output, t.offset);
        s->expr = parse_expression();
        expect(TokenType::CloseExpression, "'}}' to close the expression");
        return s;
      }
      default: error_here("unexpected " + found());
    }
  }

  StmtPtr parse_statement() {
    uint32_t open = tokens_[pos_].offset;
    ++pos_;
    if (!is(TokenType::Identifier)) error_here("expected a statement name after '{%', found " + found());
    const std::string name = tokens_[pos_].value;
    uint32_t at = tokens_[pos_].offset;
    ++pos_;
    if (name == "set") return parse_set(open);
    if (name == "if") {
      auto s = parse_if(open);
      expect_end_tag("endif");
      return s;
    }
    if (name == "for") {
      auto s = parse_for(open);
      expect_end_tag("endfor");
      return s;
    }
    if (name == "macro") {
      auto s = parse_macro(open);
      expect_end_tag("endmacro");
      return s;
    }
    if (name == "call") return parse_call_block(open);
    if (name == "filter") {
      auto s = make_stmt(StmtKind::FilterBlock, open);
      s->expr = parse_filter_spec(nullptr);
      expect(TokenType::CloseStatement, "'%}' after the filter");
      s->body = parse_until({"endfilter"}, "filter", open);
      expect_end_tag("endfilter");
      return s;
    }
    if (name == "break" || name == "continue") {
      expect(TokenType::CloseStatement, "'%}' after '" + name + "'");
      return make_stmt(name == "break" ? StmtKind::Break : StmtKind::Continue, open);
    }
    static const std::set<std::string> kClosers = {"endif", "endfor", "endmacro", "endset", "endcall",
                                                   "endfilter", "elif", "else"};
    if (kClosers.count(name)) {
      if (open_blocks_.empty()) error_at(at, "'" + name + "' without an open block to close");
      error_at(at, "'" + name + "' does not belong to the open '" + open_blocks_.back() + "' block");
    }
    if (kUnsupportedStatements.count(name))
      error_at(at, "the '" + name + "' statement is not supported by lmkit's template engine");
    error_at(at, "unknown statement '" + name + "'");
  }

  StmtPtr parse_set(uint32_t open) {
    auto s = make_stmt(StmtKind::Set, open);
    s->target = parse_sequence(false);
    check_assignable(*s->target);
    if (is(TokenType::Equals)) {
      ++pos_;
      s->expr = parse_sequence(false);
    } else {
      expect(TokenType::CloseStatement, "'=' or '%}' in set");
      s->body = parse_until({"endset"}, "set", open);
      expect(TokenType::OpenStatement, "'{%'");
      expect_name("endset");
    }
    expect(TokenType::CloseStatement, "'%}' to close the set statement");
    return s;
  }

  void check_assignable(const Expr& target) {
    switch (target.kind) {
      case ExprKind::Name: return;
      case ExprKind::Attribute: return;
      case ExprKind::Tuple:
        for (const auto& item : target.items)
          if (item->kind != ExprKind::Name) error_at(item->offset, "can only unpack into plain names");
        return;
      default: error_at(target.offset, "cannot assign to this expression");
    }
  }

  StmtPtr parse_if(uint32_t open) {
    auto s = make_stmt(StmtKind::If, open);
    s->expr = parse_expression();
    expect(TokenType::CloseStatement, "'%}' after the if condition");
    s->body = parse_until({"elif", "else", "endif"}, "if", open);
    if (is_statement({"elif"})) {
      uint32_t elif_at = tokens_[pos_].offset;
      pos_ += 2;
      s->else_body.push_back(parse_if(elif_at));
    } else if (is_statement({"else"})) {
      pos_ += 2;
      expect(TokenType::CloseStatement, "'%}' after 'else'");
      s->else_body = parse_until({"endif"}, "if", open);
    }
    return s;
  }

  StmtPtr parse_for(uint32_t open) {
    auto s = make_stmt(StmtKind::For, open);
    s->target = parse_sequence(true);
    if (s->target->kind != ExprKind::Name && s->target->kind != ExprKind::Tuple)
      error_at(s->target->offset, "expected a name or names for the loop variable");
    check_assignable(*s->target);
    if (!is_name("in")) error_here("expected 'in' after the loop variable, found " + found());
    ++pos_;
    // `for x in xs if cond`: the condition filters items before loop.* is computed.
    auto iterable = parse_or();
    if (is_name("if")) {
      ++pos_;
      s->condition = parse_or();
    }
    s->expr = std::move(iterable);
    if (is_name("recursive")) error_here("recursive loops are not supported");
    expect(TokenType::CloseStatement, "'%}' after the for header");
    s->body = parse_until({"endfor", "else"}, "for", open);
    if (is_statement({"else"})) {
      pos_ += 2;
      expect(TokenType::CloseStatement, "'%}' after 'else'");
      s->else_body = parse_until({"endfor"}, "for", open);
    }
    return s;
  }

  std::vector<Param> parse_params() {
    std::vector<Param> params;
    expect(TokenType::OpenParen, "'(' to start the parameter list");
    while (!is(TokenType::CloseParen)) {
      const Token& name = expect(TokenType::Identifier, "a parameter name");
      Param p;
      p.name = name.value;
      for (const auto& other : params)
        if (other.name == p.name) error_at(name.offset, "duplicate parameter '" + p.name + "'");
      if (is(TokenType::Equals)) {
        ++pos_;
        p.default_value = parse_expression();
      } else if (!params.empty() && params.back().default_value) {
        error_at(name.offset, "parameter '" + p.name + "' without a default follows one with a default");
      }
      params.push_back(std::move(p));
      if (is(TokenType::Comma)) ++pos_;
      else if (!is(TokenType::CloseParen)) error_here("expected ',' or ')' in the parameter list, found " + found());
    }
    ++pos_;
    return params;
  }

  StmtPtr parse_macro(uint32_t open) {
    auto s = make_stmt(StmtKind::Macro, open);
    s->text = expect(TokenType::Identifier, "the macro name").value;
    s->params = parse_params();
    expect(TokenType::CloseStatement, "'%}' after the macro signature");
    s->body = parse_until({"endmacro"}, "macro", open);
    return s;
  }

  StmtPtr parse_call_block(uint32_t open) {
    auto s = make_stmt(StmtKind::CallBlock, open);
    if (is(TokenType::OpenParen)) s->params = parse_params();
    const Token& callee = expect(TokenType::Identifier, "the name of the macro to call");
    auto name = make_expr(ExprKind::Name, callee.offset);
    name->text = callee.value;
    auto call = make_expr(ExprKind::Call, callee.offset);
    call->a = std::move(name);
    call->args = parse_args();
    s->expr = std::move(call);
    expect(TokenType::CloseStatement, "'%}' after the call");
    s->body = parse_until({"endcall"}, "call", open);
    expect_end_tag("endcall");
    return s;
  }

  // `name` or `name(args)` of a filter; `operand` may be null (filter blocks).
  ExprPtr parse_filter_spec(ExprPtr operand) {
    const Token& name = expect(TokenType::Identifier, "a filter name");
    if (!has_filter(name.value)) error_at(name.offset, "unknown filter '" + name.value + "'");
    auto f = make_expr(ExprKind::Filter, name.offset);
    f->text = name.value;
    f->a = std::move(operand);
    if (is(TokenType::OpenParen)) {
      f->args = parse_args();
    }
    return f;
  }

  std::vector<Arg> parse_args() {
    expect(TokenType::OpenParen, "'('");
    std::vector<Arg> args;
    bool saw_keyword = false;
    while (!is(TokenType::CloseParen)) {
      DepthGuard guard(*this);
      Arg arg;
      if (is(TokenType::Power)) {
        ++pos_;
        arg.keyword_spread = true;
        arg.value = parse_expression();
      } else if (is(TokenType::Multiplicative) && tokens_[pos_].value == "*") {
        ++pos_;
        arg.spread = true;
        arg.value = parse_expression();
      } else if (is(TokenType::Identifier) && is(TokenType::Equals, 1)) {
        arg.keyword = tokens_[pos_].value;
        pos_ += 2;
        arg.value = parse_expression();
        saw_keyword = true;
      } else {
        uint32_t at = pos_ < tokens_.size() ? tokens_[pos_].offset : 0;
        if (saw_keyword) error_at(at, "positional argument follows keyword argument");
        arg.value = parse_expression();
      }
      args.push_back(std::move(arg));
      if (is(TokenType::Comma)) ++pos_;
      else if (!is(TokenType::CloseParen)) error_here("expected ',' or ')' in the argument list, found " + found());
    }
    ++pos_;
    return args;
  }

  // a, b, c -> tuple; a single expression stays itself.
  ExprPtr parse_sequence(bool primary_only) {
    uint32_t at = pos_ < tokens_.size() ? tokens_[pos_].offset : 0;
    auto first = primary_only ? parse_primary() : parse_expression();
    if (!is(TokenType::Comma)) return first;
    auto tuple = make_expr(ExprKind::Tuple, at);
    tuple->items.push_back(std::move(first));
    while (is(TokenType::Comma)) {
      ++pos_;
      if (is(TokenType::CloseParen) || is(TokenType::CloseStatement) || is(TokenType::Equals) || is_name("in")) break;
      tuple->items.push_back(primary_only ? parse_primary() : parse_expression());
    }
    return tuple;
  }

  ExprPtr parse_expression() {
    DepthGuard guard(*this);
    auto value = parse_or();
    if (!is_name("if")) return value;
    uint32_t at = tokens_[pos_].offset;
    ++pos_;
    auto cond = make_expr(ExprKind::Conditional, at);
    cond->a = parse_or();
    cond->b = std::move(value);
    if (is_name("else")) {
      ++pos_;
      cond->c = parse_expression();
    }
    return cond;
  }

  ExprPtr binary(std::string op, ExprPtr left, ExprPtr right, uint32_t at) {
    auto e = make_expr(ExprKind::Binary, at);
    e->text = std::move(op);
    e->a = std::move(left);
    e->b = std::move(right);
    return e;
  }

  ExprPtr parse_or() {
    auto left = parse_and();
    while (is_name("or")) {
      uint32_t at = tokens_[pos_++].offset;
      left = binary("or", std::move(left), parse_and(), at);
    }
    return left;
  }

  ExprPtr parse_and() {
    auto left = parse_not();
    while (is_name("and")) {
      uint32_t at = tokens_[pos_++].offset;
      left = binary("and", std::move(left), parse_not(), at);
    }
    return left;
  }

  ExprPtr parse_not() {
    if (is_name("not")) {
      DepthGuard guard(*this);
      auto e = make_expr(ExprKind::Unary, tokens_[pos_++].offset);
      e->text = "not";
      e->a = parse_not();
      return e;
    }
    return parse_comparison();
  }

  ExprPtr parse_comparison() {
    auto left = parse_additive();
    while (true) {
      std::string op;
      uint32_t at = pos_ < tokens_.size() ? tokens_[pos_].offset : 0;
      if (is_name("not") && is_name("in", 1)) {
        op = "not in";
        pos_ += 2;
      } else if (is_name("in")) {
        op = "in";
        ++pos_;
      } else if (is(TokenType::Comparison)) {
        op = tokens_[pos_++].value;
      } else {
        break;
      }
      left = binary(op, std::move(left), parse_additive(), at);
    }
    return left;
  }

  ExprPtr parse_additive() {
    auto left = parse_multiplicative();
    while (is(TokenType::Additive)) {
      const Token& t = tokens_[pos_++];
      left = binary(t.value, std::move(left), parse_multiplicative(), t.offset);
    }
    return left;
  }

  ExprPtr parse_multiplicative() {
    auto left = parse_power();
    while (is(TokenType::Multiplicative)) {
      const Token& t = tokens_[pos_++];
      left = binary(t.value, std::move(left), parse_power(), t.offset);
    }
    return left;
  }

  ExprPtr parse_power() {
    auto left = parse_test();
    while (is(TokenType::Power)) {
      const Token& t = tokens_[pos_++];
      left = binary("**", std::move(left), parse_test(), t.offset);
    }
    return left;
  }

  bool starts_test_argument() const {
    if (is(TokenType::String) || is(TokenType::Number) || is(TokenType::OpenBracket) || is(TokenType::OpenBrace))
      return true;
    if (!is(TokenType::Identifier)) return false;
    static const std::set<std::string> kStop = {"and", "or", "else", "if", "in", "is", "not"};
    return !kStop.count(tokens_[pos_].value);
  }

  ExprPtr parse_test() {
    auto operand = parse_filter();
    while (is_name("is")) {
      uint32_t at = tokens_[pos_++].offset;
      auto e = make_expr(ExprKind::Test, at);
      if (is_name("not")) {
        e->negated = true;
        ++pos_;
      }
      // `none`, `true` and `false` are literals elsewhere but test names here.
      const Token& name = expect(TokenType::Identifier, "a test name after 'is'");
      if (!has_test(name.value)) error_at(name.offset, "unknown test '" + name.value + "'");
      e->text = name.value;
      e->a = std::move(operand);
      if (is(TokenType::OpenParen)) {
        e->args = parse_args();
      } else if (starts_test_argument()) {
        Arg arg;
        arg.value = parse_additive_operand();
        e->args.push_back(std::move(arg));
      }
      operand = std::move(e);
    }
    return operand;
  }

  // The single argument of `x is divisibleby 3` / `x is equalto y`.
  ExprPtr parse_additive_operand() { return parse_postfix(parse_primary()); }

  ExprPtr parse_filter() {
    auto operand = parse_unary_sign();
    while (is(TokenType::Pipe)) {
      ++pos_;
      operand = parse_filter_spec(std::move(operand));
    }
    return operand;
  }

  ExprPtr parse_unary_sign() {
    if ((is(TokenType::Unary) || is(TokenType::Additive)) &&
        (tokens_[pos_].value == "-" || tokens_[pos_].value == "+")) {
      DepthGuard guard(*this);
      auto e = make_expr(ExprKind::Unary, tokens_[pos_].offset);
      e->text = tokens_[pos_++].value;
      e->a = parse_unary_sign();
      return e;
    }
    return parse_postfix(parse_primary());
  }

  ExprPtr parse_postfix(ExprPtr object) {
    while (true) {
      if (is(TokenType::Dot)) {
        uint32_t at = tokens_[pos_++].offset;
        if (is(TokenType::Identifier)) {
          auto e = make_expr(ExprKind::Attribute, at);
          e->text = tokens_[pos_++].value;
          e->a = std::move(object);
          object = std::move(e);
        } else if (is(TokenType::Number) && tokens_[pos_].value.find_first_not_of("0123456789") == std::string::npos) {
          auto e = make_expr(ExprKind::Index, at);
          auto index = make_expr(ExprKind::Literal, tokens_[pos_].offset);
          const Token& digits = tokens_[pos_++];
          try {
            index->literal = Value::from_int(std::stoll(digits.value));
          } catch (const std::out_of_range&) {
            error_at(digits.offset, "index " + digits.value + " is out of range");
          }
          e->a = std::move(object);
          e->b = std::move(index);
          object = std::move(e);
        } else {
          error_here("expected an attribute name after '.', found " + found());
        }
      } else if (is(TokenType::OpenBracket)) {
        object = parse_subscript(std::move(object));
      } else if (is(TokenType::OpenParen)) {
        DepthGuard guard(*this);
        // Errors of a call point at what is called ("nope(" / ".strip("), not at the '('.
        auto e = make_expr(ExprKind::Call, object->offset);
        e->a = std::move(object);
        e->args = parse_args();
        object = std::move(e);
      } else {
        return object;
      }
    }
  }

  ExprPtr parse_subscript(ExprPtr object) {
    DepthGuard guard(*this);
    uint32_t at = tokens_[pos_++].offset;
    std::vector<ExprPtr> parts;
    bool is_slice = false;
    while (!is(TokenType::CloseBracket)) {
      if (at_end()) error_at(at, "'[' is never closed with ']'");
      if (is(TokenType::Colon)) {
        parts.push_back(nullptr);
        ++pos_;
        is_slice = true;
      } else {
        parts.push_back(parse_expression());
        if (is(TokenType::Colon)) {
          ++pos_;
          is_slice = true;
        } else if (!is(TokenType::CloseBracket)) {
          error_here("expected ':' or ']' in the subscript, found " + found());
        }
      }
    }
    ++pos_;
    if (parts.empty()) error_at(at, "empty subscript '[]'");
    if (!is_slice) {
      auto e = make_expr(ExprKind::Index, at);
      e->a = std::move(object);
      e->b = std::move(parts[0]);
      return e;
    }
    if (parts.size() > 3) error_at(at, "a slice takes at most 3 parts (start:stop:step)");
    auto e = make_expr(ExprKind::Slice, at);
    e->a = std::move(object);
    parts.resize(3);
    e->items = std::move(parts);
    return e;
  }

  ExprPtr parse_primary() {
    DepthGuard guard(*this);
    if (at_end()) error_here("expected an expression, found the end of the template");
    const Token& t = tokens_[pos_++];
    switch (t.type) {
      case TokenType::Number: {
        auto e = make_expr(ExprKind::Literal, t.offset);
        if (t.value.find('.') != std::string::npos) {
          try {
            e->literal = Value::from_float(std::stod(t.value));
          } catch (const std::out_of_range&) {
            error_at(t.offset, "number literal " + t.value + " is out of range");
          }
        } else {
          try {
            e->literal = Value::from_int(std::stoll(t.value));
          } catch (const std::out_of_range&) {
            error_at(t.offset, "integer literal " + t.value + " is out of range");
          }
        }
        return e;
      }
      case TokenType::String: {
        auto e = make_expr(ExprKind::Literal, t.offset);
        std::string s = t.value;
        while (is(TokenType::String)) s += tokens_[pos_++].value;  // adjacent literals join
        e->literal = Value::from_string(std::move(s));
        return e;
      }
      case TokenType::Identifier: {
        auto e = make_expr(ExprKind::Literal, t.offset);
        if (t.value == "true" || t.value == "True") e->literal = Value::from_bool(true);
        else if (t.value == "false" || t.value == "False") e->literal = Value::from_bool(false);
        else if (t.value == "none" || t.value == "None") e->literal = Value::none();
        else {
          e->kind = ExprKind::Name;
          e->text = t.value;
        }
        return e;
      }
      case TokenType::OpenParen: {
        if (is(TokenType::CloseParen)) {
          ++pos_;
          return make_expr(ExprKind::Tuple, t.offset);
        }
        auto inner = parse_sequence(false);
        expect(TokenType::CloseParen, "')' to match '('");
        return inner;
      }
      case TokenType::OpenBracket: {
        auto e = make_expr(ExprKind::List, t.offset);
        while (!is(TokenType::CloseBracket)) {
          if (at_end()) error_at(t.offset, "'[' is never closed with ']'");
          e->items.push_back(parse_expression());
          if (is(TokenType::Comma)) ++pos_;
          else if (!is(TokenType::CloseBracket)) error_here("expected ',' or ']' in the list, found " + found());
        }
        ++pos_;
        return e;
      }
      case TokenType::OpenBrace: {
        auto e = make_expr(ExprKind::Dict, t.offset);
        while (!is(TokenType::CloseBrace)) {
          if (at_end()) error_at(t.offset, "'{' is never closed with '}'");
          e->items.push_back(parse_expression());
          expect(TokenType::Colon, "':' between key and value");
          e->items.push_back(parse_expression());
          if (is(TokenType::Comma)) ++pos_;
          else if (!is(TokenType::CloseBrace)) error_here("expected ',' or '}' in the dict, found " + found());
        }
        ++pos_;
        return e;
      }
      default:
        --pos_;
        error_here("expected an expression, found " + found());
    }
  }

  const std::vector<Token>& tokens_;
  const std::string& source_;
  const std::string& origin_;
  size_t pos_ = 0;
  int depth_ = 0;
  std::vector<std::string> open_blocks_;  // innermost last, for misplaced end tags
};

}  // namespace

Body parse(const std::vector<Token>& tokens, const std::string& source, const std::string& origin) {
  return Parser(tokens, source, origin).run();
}

}  // namespace lmkit::jinja
