// Behaviour the oracle snippets cannot check: where @huggingface/jinja fails or differs from
// Python's Jinja2 (which transformers uses), lmkit follows Python. Expected values here are
// what Python's Jinja2 / str methods give.
#include <gtest/gtest.h>

#include <ctime>
#include <nlohmann/json.hpp>
#include <regex>
#include <thread>
#include <vector>

#include "lmkit/base/error.h"
#include "lmkit/jinja/chat_template.h"

namespace lmkit {
namespace {

std::string render(const std::string& source, const nlohmann::ordered_json& context = nlohmann::ordered_json::object()) {
  return ChatTemplate(source, "tmpl").render(context);
}

TEST(TemplateSemantics, StripWithCharactersRemovesOnlyThoseCharacters) {
  EXPECT_EQ(render("[{{ '\\n  x \\n'.strip('\\n') }}]"), "[  x ]");
  EXPECT_EQ(render("[{{ 'xxhixx'.lstrip('x') }}|{{ 'xxhixx'.rstrip('x') }}]"), "[hixx|xxhi]");
  EXPECT_EQ(render("[{{ '  x  '.strip() }}]"), "[x]");
}

TEST(TemplateSemantics, PythonArithmetic) {
  EXPECT_EQ(render("{{ -7 // 2 }} {{ -7 % 3 }} {{ 7 % -3 }} {{ 2 ** -1 }}"), "-4 2 -2 0.5");
  EXPECT_EQ(render("{{ 'ab' * 3 }} {{ [1] * 2 }}"), "ababab [1, 1]");
}

TEST(TemplateSemantics, DeepEqualityOfListsAndDicts) {
  EXPECT_EQ(render("{{ [1, [2]] == [1, [2]] }} {{ {'a': 1} == {'a': 1} }} {{ [1] == [2] }}"), "true true false");
  // The idiom of Mistral templates: is this message the last user message?
  EXPECT_EQ(render("{% set users = messages | selectattr('role', 'equalto', 'user') | list %}"
                   "{% for m in messages %}{{ m == users[-1] }} {% endfor %}",
                   {{"messages", {{{"role", "user"}, {"content", "a"}}, {{"role", "user"}, {"content", "b"}}}}}),
            "false true ");
}

TEST(TemplateSemantics, StringComparisonAndChainedTests) {
  EXPECT_EQ(render("{{ 'a' < 'b' }} {{ 'b' >= 'c' }}"), "true false");
  EXPECT_EQ(render("{{ 6 is divisibleby 3 }} {{ 5 is divisibleby(2) }} {{ 2 is equalto 2 }} {{ 'a' is in 'cat' }}"),
            "true false true true");
}

TEST(TemplateSemantics, LoopingOverStringsAndUndefined) {
  EXPECT_EQ(render("{% for c in 'héllo' %}{{ c }}.{% endfor %}"), "h.é.l.l.o.");
  EXPECT_EQ(render("{% for x in nothing %}x{% else %}empty{% endfor %}"), "empty");
}

TEST(TemplateSemantics, LoopElseRunsOnlyWhenNothingWasIterated) {
  EXPECT_EQ(render("{% for x in [1, 2] %}{% continue %}{% else %}else{% endfor %}"), "");
}

TEST(TemplateSemantics, MoreFiltersAndMethods) {
  EXPECT_EQ(render("{{ [3, 1, 2] | max }} {{ [3, 1, 2] | min }} {{ [1, 2, 3] | sum }} {{ 2.567 | round(2) }}"),
            "3 1 6 2.57");
  EXPECT_EQ(render("{{ [1, 2, 3, 4, 5] | select('odd') | list }} {{ [1, 2, 3] | reject('even') | list }}"),
            "[1, 3, 5] [1, 3]");
  EXPECT_EQ(render("{{ ['a', 'b'] | map('upper') | join(',') }} {{ [1, 2, 3, 4, 5] | batch(2) | list }}"),
            "A,B [[1, 2], [3, 4], [5]]");
  EXPECT_EQ(render("{{ '<a href=\"x\">&</a>' | escape }}"), "&lt;a href=&#34;x&#34;&gt;&amp;&lt;/a&gt;");
  EXPECT_EQ(render("{{ 'a,b'.split(',') | count }} {{ 'abcabc'.find('c') }} {{ 'abcabc'.count('bc') }} {{ '-'.join(['x', 'y']) }}"),
            "2 2 2 x-y");
  EXPECT_EQ(render("{{ 'HeLLo'.capitalize() }} {{ 'hello world' | wordcount }}"), "Hello 2");
  EXPECT_EQ(render("{{ dict(a=1, b='x') | tojson }} {{ namespace({'k': 1}).k }}"), "{\"a\": 1, \"b\": \"x\"} 1");
  EXPECT_EQ(render("{% for x in [1, 2, 3] %}{{ loop.cycle('odd', 'even') }} {% endfor %}"), "odd even odd ");
}

TEST(TemplateSemantics, MacroVarargsAndKwargs) {
  EXPECT_EQ(render("{% macro m(a) %}{{ a }}{{ varargs }}{{ kwargs | tojson }}{% endmacro %}{{ m(1, 2, 3, k='v') }}"),
            "1[2, 3]{\"k\": \"v\"}");
}

TEST(TemplateSemantics, FilterBlock) {
  EXPECT_EQ(render("{% filter upper %}hello {{ 'you' }}{% endfilter %}"), "HELLO YOU");
}

TEST(TemplateSemantics, GenerationMarkersAreDropped) {
  // Expected values from @huggingface/jinja, which strips around markers written with '-'.
  EXPECT_EQ(render("A{% generation %}B{% endgeneration %}C\n  {%- generation -%}  D  {%- endgeneration %}"), "ABCD");
  EXPECT_EQ(render("x {% generation %} y {% endgeneration %} z"), "x  y  z");
}

TEST(TemplateSemantics, StrftimeNowFormatsTheCurrentDate) {
  std::string out = render("{{ strftime_now('%d %b %Y') }}|{{ strftime_now('%Y-%m-%d %H:%M') }}");
  EXPECT_TRUE(std::regex_match(out, std::regex(R"(\d\d [A-Z][a-z]{2} \d{4}\|\d{4}-\d\d-\d\d \d\d:\d\d)"))) << out;
  std::time_t now = std::time(nullptr);
  std::tm local{};
  localtime_r(&now, &local);
  EXPECT_NE(out.find(std::to_string(1900 + local.tm_year)), std::string::npos) << out;
}

TEST(ChatTemplateInterface, OrderedJsonKeepsKeyOrderForToJson) {
  auto ordered = nlohmann::ordered_json::parse(R"({"tool": {"name": "f", "description": "d", "args": 1}})");
  EXPECT_EQ(render("{{ tool | tojson }}", ordered), R"({"name": "f", "description": "d", "args": 1})");
  // nlohmann::json itself sorts keys: rendering is still correct, only in that order.
  ChatTemplate t("{{ tool | tojson }}");
  EXPECT_EQ(t.render(nlohmann::json::parse(R"({"tool": {"name": "f", "description": "d"}})")),
            R"({"description": "d", "name": "f"})");
}

TEST(ChatTemplateInterface, ParsedOnceRenderedManyTimes) {
  ChatTemplate t("{% for m in messages %}<{{ m.role }}>{{ m.content }}{% endfor %}{% if add_generation_prompt %}<assistant>{% endif %}");
  for (int i = 0; i < 3; ++i) {
    nlohmann::json ctx = {{"messages", {{{"role", "user"}, {"content", std::to_string(i)}}}}, {"add_generation_prompt", i % 2 == 1}};
    EXPECT_EQ(t.render(ctx), "<user>" + std::to_string(i) + (i % 2 ? "<assistant>" : ""));
  }
  ChatTemplate moved = std::move(t);
  EXPECT_EQ(moved.render(nlohmann::json{{"messages", nlohmann::json::array()}}), "");
}

TEST(ChatTemplateInterface, ConcurrentRendersOfOneTemplateAgree) {
  // The server renders one model's template from many request threads at once.
  ChatTemplate t("{% set ns = namespace(n=0) %}{% macro item(m) %}<{{ m.role }}>{{ m.content | trim }}{% endmacro %}"
                 "{% for m in messages %}{% set ns.n = ns.n + 1 %}{{ item(m) }}{% endfor %}#{{ ns.n }}");
  std::vector<std::string> results(8);
  std::vector<std::thread> threads;
  for (int k = 0; k < 8; ++k) {
    threads.emplace_back([&, k] {
      nlohmann::json ctx = {{"messages", nlohmann::json::array()}};
      for (int i = 0; i <= k; ++i) ctx["messages"].push_back({{"role", "user"}, {"content", " m" + std::to_string(i) + " "}});
      for (int r = 0; r < 200; ++r) results[static_cast<size_t>(k)] = t.render(ctx);
    });
  }
  for (auto& th : threads) th.join();
  for (int k = 0; k < 8; ++k) {
    std::string expected;
    for (int i = 0; i <= k; ++i) expected += "<user>m" + std::to_string(i);
    EXPECT_EQ(results[static_cast<size_t>(k)], expected + "#" + std::to_string(k + 1));
  }
}

TEST(ChatTemplateInterface, WholeJsonNumbersAreIntegers) {
  EXPECT_EQ(render("{{ a }} {{ b }} {{ a is integer }} {{ b | tojson }}", nlohmann::ordered_json::parse(R"({"a": 2.0, "b": 2.5})")),
            "2 2.5 true 2.5");
}

}  // namespace
}  // namespace lmkit
