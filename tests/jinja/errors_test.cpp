// Bad templates and bad contexts: every failure is an lmkit::Error naming where and what.
#include <gtest/gtest.h>

#include <nlohmann/json.hpp>

#include "lmkit/base/error.h"
#include "lmkit/jinja/chat_template.h"

namespace lmkit {
namespace {

// The message of the lmkit::Error that parsing `source` throws ("" if none).
std::string parse_error(const std::string& source) {
  try {
    ChatTemplate t(source, "tmpl");
  } catch (const Error& e) {
    return e.what();
  }
  return "";
}

std::string render_error(const std::string& source, const nlohmann::json& context = nlohmann::json::object()) {
  ChatTemplate t(source, "tmpl");
  try {
    t.render(context);
  } catch (const Error& e) {
    return e.what();
  }
  return "";
}

TEST(TemplateSyntaxErrors, UnknownStatementNamesLineAndColumn) {
  EXPECT_EQ(parse_error("line one\n  {% frobnicate x %}"), "tmpl: line 2, column 6: unknown statement 'frobnicate'");
}

TEST(TemplateSyntaxErrors, UnsupportedJinjaStatementsSaySo) {
  EXPECT_EQ(parse_error("{% include 'other.jinja' %}"),
            "tmpl: line 1, column 4: the 'include' statement is not supported by lmkit's template engine");
  EXPECT_EQ(parse_error("ok\n{% extends 'base' %}"),
            "tmpl: line 2, column 4: the 'extends' statement is not supported by lmkit's template engine");
}

TEST(TemplateSyntaxErrors, UnclosedBlocksNameTheOpeningTag) {
  EXPECT_EQ(parse_error("a\n{% if x %}b"),
            "tmpl: line 2, column 1: 'if' block is never closed (expected {% elif %}, one of 'elif' or 'else' or 'endif')");
  EXPECT_EQ(parse_error("{% for m in messages %}{{ m }}"),
            "tmpl: line 1, column 1: 'for' block is never closed (expected {% endfor %}, one of 'endfor' or 'else')");
  EXPECT_EQ(parse_error("{% macro f() %}x"), "tmpl: line 1, column 1: 'macro' block is never closed (expected {% endmacro %})");
}

TEST(TemplateSyntaxErrors, MisplacedEndTags) {
  EXPECT_EQ(parse_error("{% if x %}a{% endfor %}"), "tmpl: line 1, column 15: 'endfor' does not belong to the open 'if' block");
  EXPECT_EQ(parse_error("text {% endif %}"), "tmpl: line 1, column 9: 'endif' without an open block to close");
  EXPECT_EQ(parse_error("{% for x in y %}{% else %}{% else %}{% endfor %}"),
            "tmpl: line 1, column 30: 'else' does not belong to the open 'for' block");
}

TEST(TemplateSyntaxErrors, UnknownFilterAndTest) {
  EXPECT_EQ(parse_error("{{ x | frobnicate }}"), "tmpl: line 1, column 8: unknown filter 'frobnicate'");
  EXPECT_EQ(parse_error("{% if x is frobnicated %}{% endif %}"), "tmpl: line 1, column 12: unknown test 'frobnicated'");
}

TEST(TemplateSyntaxErrors, UnterminatedStringAndComment) {
  EXPECT_EQ(parse_error("{{ 'abc }}"), "tmpl: line 1, column 4: string literal is never closed with '");
  EXPECT_EQ(parse_error("x\n{# never closed"), "tmpl: line 2, column 1: comment opened with '{#' is never closed with '#}'");
}

TEST(TemplateSyntaxErrors, BadExpressions) {
  EXPECT_EQ(parse_error("{{ }}"), "tmpl: line 1, column 4: expected an expression, found '}}'");
  EXPECT_EQ(parse_error("{{ a + }}"), "tmpl: line 1, column 8: expected an expression, found '}}'");
  EXPECT_EQ(parse_error("{{ a b }}"), "tmpl: line 1, column 6: expected '}}' to close the expression, found 'b'");
  EXPECT_EQ(parse_error("{{ f(a=1, 2) }}"), "tmpl: line 1, column 11: positional argument follows keyword argument");
  EXPECT_EQ(parse_error("{{ x ? 1 }}"), "tmpl: line 1, column 6: unexpected character '?'");
  EXPECT_EQ(parse_error("{% set 1 = 2 %}"), "tmpl: line 1, column 8: cannot assign to this expression");
  EXPECT_EQ(parse_error("{{ 'a' '"), "tmpl: line 1, column 8: string literal is never closed with '");
}

TEST(TemplateSyntaxErrors, OutOfRangeNumbers) {
  EXPECT_EQ(parse_error("{{ 99999999999999999999999 }}"), "tmpl: line 1, column 4: integer literal 99999999999999999999999 is out of range");
  std::string huge = "1" + std::string(400, '0') + ".5";
  EXPECT_EQ(parse_error("{{ " + huge + " }}"), "tmpl: line 1, column 4: number literal " + huge + " is out of range");
  EXPECT_EQ(parse_error("{{ x.99999999999999999999999 }}"), "tmpl: line 1, column 6: index 99999999999999999999999 is out of range");
}

TEST(TemplateSyntaxErrors, ColumnsCountCharactersNotBytes) {
  EXPECT_EQ(parse_error("日本語 {% bogus %}"), "tmpl: line 1, column 8: unknown statement 'bogus'");
}

TEST(TemplateSyntaxErrors, DeepNestingIsRefused) {
  std::string deep = "{{ " + std::string(5000, '(') + "1" + std::string(5000, ')') + " }}";
  std::string message = parse_error(deep);
  EXPECT_NE(message.find("nested deeper than"), std::string::npos) << message;
  std::string blocks;
  for (int i = 0; i < 1000; ++i) blocks += "{% if true %}";
  message = parse_error(blocks);
  EXPECT_NE(message.find("nested deeper than"), std::string::npos) << message;
}

TEST(TemplateRuntimeErrors, RaiseExceptionMessageIsExact) {
  EXPECT_EQ(render_error("{{ raise_exception('Conversation roles must alternate!') }}"),
            "Conversation roles must alternate!");
  // Also from inside a macro called in a loop: no location is prepended.
  EXPECT_EQ(render_error("{% macro f(m) %}{{ raise_exception('bad role: ' + m) }}{% endmacro %}"
                         "{% for m in ['x'] %}{{ f(m) }}{% endfor %}"),
            "bad role: x");
}

TEST(TemplateRuntimeErrors, RuntimeErrorsNameLineAndColumn) {
  EXPECT_EQ(render_error("a\n{{ 1 // 0 }}"), "tmpl: line 2, column 6: integer division by zero");
  EXPECT_EQ(render_error("{{ nope(1) }}"), "tmpl: line 1, column 4: unknown function 'nope'");
  EXPECT_EQ(render_error("{{ 'abc'.nothing() }}"), "tmpl: line 1, column 9: no method 'nothing' on a value of type string");
  EXPECT_EQ(render_error("{% for x in 5 %}{% endfor %}"), "tmpl: line 1, column 13: cannot loop over a value of type integer");
  EXPECT_EQ(render_error("{% set x = 1 %}{% set x.y = 2 %}"),
            "tmpl: line 1, column 16: cannot set attribute 'y' on a value of type integer; only namespace() objects can be assigned to");
  EXPECT_EQ(render_error("{{ messages[0].content.strip() }}", {{"messages", {{{"content", nullptr}}}}}),
            "tmpl: line 1, column 23: no method 'strip' on a value of type none");
  EXPECT_EQ(render_error("{{ 1 < 'a' }}"), "tmpl: line 1, column 6: cannot compare integer with string");
  EXPECT_EQ(render_error("{{ none + 1 }}"), "tmpl: line 1, column 9: cannot apply '+' to none and integer");
  EXPECT_EQ(render_error("{{ 5 | trim }}"), "tmpl: line 1, column 8: filter 'trim' cannot be applied to a value of type integer");
}

TEST(TemplateRuntimeErrors, ContextMustBeAnObject) {
  ChatTemplate t("x", "tmpl");
  try {
    t.render(nlohmann::json::array({1, 2}));
    FAIL() << "expected an error";
  } catch (const Error& e) {
    EXPECT_STREQ(e.what(), "tmpl: the render context must be a JSON object, got array");
  }
}

}  // namespace
}  // namespace lmkit
