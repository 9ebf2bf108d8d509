// A template is hostile input: runaway recursion, huge loops and exploding strings end in an
// lmkit::Error instead of exhausting the stack, the CPU or memory.
#include <gtest/gtest.h>

#include <nlohmann/json.hpp>

#include "lmkit/base/error.h"
#include "lmkit/jinja/chat_template.h"
#include "lmkit/jinja/template.h"

namespace lmkit {
namespace {

std::string render_error(const std::string& source, jinja::Limits limits = {}) {
  jinja::Template t(source, "tmpl", limits);
  try {
    t.render(nlohmann::json::object());
  } catch (const Error& e) {
    return e.what();
  }
  return "";
}

bool contains(const std::string& haystack, const std::string& needle) {
  return haystack.find(needle) != std::string::npos;
}

TEST(TemplateLimits, RunawayMacroRecursionStops) {
  std::string message = render_error("{% macro f(n) %}{{ f(n + 1) }}{% endmacro %}{{ f(0) }}");
  EXPECT_TRUE(contains(message, "macro calls nested deeper than 100 levels")) << message;
  EXPECT_TRUE(contains(message, "tmpl: line 1")) << message;
}

TEST(TemplateLimits, RecursionThroughCallerStops) {
  std::string message = render_error(
      "{% macro f() %}{% call f() %}x{% endcall %}{% endmacro %}{{ f() }}");
  EXPECT_TRUE(contains(message, "nested deeper than")) << message;
}

TEST(TemplateLimits, BoundedRecursionStillWorks) {
  jinja::Template t("{% macro count(n) %}{% if n > 0 %}{{ n }}{{ count(n - 1) }}{% endif %}{% endmacro %}{{ count(50) }}");
  std::string expected;
  for (int n = 50; n > 0; --n) expected += std::to_string(n);
  EXPECT_EQ(t.render(nlohmann::json::object()), expected);
}

TEST(TemplateLimits, HugeRangeIsRefusedBeforeAllocating) {
  std::string message = render_error("{% for i in range(1000000000000) %}x{% endfor %}");
  EXPECT_TRUE(contains(message, "exceeds the limit")) << message;
}

TEST(TemplateLimits, NestedLoopsShareOneIterationBudget) {
  jinja::Limits limits;
  limits.max_loop_iterations = 10000;
  std::string message = render_error("{% for a in range(1000) %}{% for b in range(1000) %}{% endfor %}{% endfor %}", limits);
  EXPECT_TRUE(contains(message, "loops ran more than 10000 iterations")) << message;
  EXPECT_EQ(render_error("{% for a in range(50) %}{% for b in range(50) %}{% endfor %}{% endfor %}", limits), "");
}

TEST(TemplateLimits, StringDoublingIsStopped) {
  jinja::Limits limits;
  limits.max_string_bytes = 1 << 20;
  std::string message = render_error(
      "{% set ns = namespace(s='ab') %}{% for i in range(64) %}{% set ns.s = ns.s ~ ns.s %}{% endfor %}{{ ns.s }}", limits);
  EXPECT_TRUE(contains(message, "exceeds the limit of 1048576 bytes")) << message;
  message = render_error("{{ 'x' * 100000000000 }}", limits);
  EXPECT_TRUE(contains(message, "exceeds the limit")) << message;
}

TEST(TemplateLimits, ListDoublingIsStopped) {
  jinja::Limits limits;
  limits.max_list_items = 100000;
  std::string message = render_error(
      "{% set ns = namespace(l=[1]) %}{% for i in range(64) %}{% set ns.l = ns.l + ns.l %}{% endfor %}", limits);
  EXPECT_TRUE(contains(message, "exceeds the limit of 100000")) << message;
}

TEST(TemplateLimits, OutputSizeIsBounded) {
  jinja::Limits limits;
  limits.max_string_bytes = 1000;
  std::string message = render_error("{% for i in range(500) %}0123456789{% endfor %}", limits);
  EXPECT_TRUE(contains(message, "exceeds the limit of 1000 bytes")) << message;
}

TEST(TemplateLimits, CyclicNamespaceCannotBeSerialisedForever) {
  std::string message = render_error("{% set ns = namespace() %}{% set ns.me = ns %}{{ ns | tojson }}");
  EXPECT_TRUE(contains(message, "nested deeper than")) << message;
}

TEST(TemplateLimits, DeeplyNestedValuesAreRefused) {
  // Without a bound, destroying or comparing a million-deep list would overflow the stack.
  std::string message =
      render_error("{% set ns = namespace(l=[]) %}{% for i in range(100000) %}{% set ns.l = [ns.l] %}{% endfor %}");
  EXPECT_TRUE(contains(message, "value nested deeper than 128 levels")) << message;
  message = render_error(
      "{% set ns = namespace(n=none) %}{% for i in range(100000) %}{% set ns.n = namespace(child=ns.n) %}{% endfor %}");
  EXPECT_TRUE(contains(message, "value nested deeper than 128 levels")) << message;
  message = render_error(
      "{% macro m() %}{{ kwargs }}{% endmacro %}{% set ns = namespace(d={}) %}"
      "{% for i in range(100000) %}{% set ns.d = {'k': ns.d} %}{% endfor %}");
  EXPECT_TRUE(contains(message, "value nested deeper than 128 levels")) << message;
}

TEST(TemplateLimits, ListsCannotBeMutatedIntoCycles) {
  std::string message = render_error("{% set l = [] %}{% set _ = l.append(l) %}");
  EXPECT_TRUE(contains(message, "no method 'append' on a value of type list")) << message;
}

TEST(TemplateLimits, RepeatingNothingManyTimesIsInstant) {
  jinja::Template t("[{{ '' * 100000000000000 }}{{ [] * 100000000000000 }}]");
  EXPECT_EQ(t.render(nlohmann::json::object()), "[[]]");
}

TEST(TemplateLimits, ExtremeSliceStepsAndRanges) {
  jinja::Template t("{{ [1, 2, 3][::-9223372036854775807] }} {{ [1, 2, 3][::9223372036854775807] }} "
                    "{{ range(-9223372036854775807, 9223372036854775807, 4611686018427387904) | length }}");
  EXPECT_EQ(t.render(nlohmann::json::object()), "[3] [1] 4");
}

TEST(TemplateLimits, StoredCallerOutlivingItsBlockIsSafe) {
  // caller() kept in a namespace and called after its block ended must not touch freed scopes.
  jinja::Template t(
      "{% set ns = namespace() %}{% macro keep() %}{% set ns.c = caller %}{% endmacro %}"
      "{% call keep() %}[{{ 1 + 1 }}]{% endcall %}{{ ns.c() }}");
  EXPECT_EQ(t.render(nlohmann::json::object()), "[2]");
}

}  // namespace
}  // namespace lmkit
