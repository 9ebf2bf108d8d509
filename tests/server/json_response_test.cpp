// response_format: the JSON-object grammar on its own (valid documents accepted, every kind of
// invalid one refused at the first bad character), then constrained decoding through the
// server: every output is a valid JSON prefix, every one that stops is a JSON object, and
// schemas the constraint cannot enforce are refused.
#include <gtest/gtest.h>

#include "lmkit/server/json_grammar.h"
#include "server_fixture.h"

namespace lmkit::testing {
namespace {

using nlohmann::json;
using server::JsonObjectGrammar;

bool accepts(const std::string& text, bool* complete = nullptr) {
  JsonObjectGrammar g;
  const bool ok = g.feed(text);
  if (complete) *complete = g.complete();
  return ok;
}

TEST(JsonGrammar, AcceptsValidObjectsAndTheirPrefixes) {
  const std::vector<std::string> valid = {
      "{}", "{ }", R"({"a": 1})", R"({"a":-0.5e+10,"b":[true,false,null,{"c":"d"}],"e":[]})",
      "{\n  \"k\": \"caf\xc3\xa9 \\\" \\\\ \\n \\u00e9\"\n}", R"({"n": [0, 10, 2.25, -3E2, 1e-7]})",
      R"({"nested": {"deeper": {"deepest": [[[]]]}}})"};
  for (const auto& text : valid) {
    SCOPED_TRACE(text);
    EXPECT_NO_THROW((void)json::parse(text));  // the oracle agrees it is valid JSON
    bool complete = false;
    EXPECT_TRUE(accepts(text, &complete));
    EXPECT_TRUE(complete);
    for (size_t n = 0; n < text.size(); ++n) {
      bool prefix_complete = true;
      EXPECT_TRUE(accepts(text.substr(0, n), &prefix_complete)) << n;
      EXPECT_FALSE(prefix_complete) << n;
    }
  }
}

TEST(JsonGrammar, RefusesInvalidText) {
  const std::vector<std::string> invalid = {
      "[]", "\"a\"", "1", "x", "{a: 1}", "{\"a\" 1}", "{\"a\": 01}", "{\"a\": 1,}", "{\"a\": [1,]}",
      "{\"a\": tru}", "{\"a\": .5}", "{\"a\": 1.}", "{\"a\": 1e}", "{\"a\": \"\\x\"}",
      "{\"a\": \"\\u12g4\"}", "{\"a\": \"line\nbreak\"}", "{\"a\": 1]", "{\"a\": [1}", "{}}", "{} {}",
      "{\"a\": -}", "{\"a\": +1}"};
  for (const auto& text : invalid) {
    SCOPED_TRACE(text);
    EXPECT_THROW((void)json::parse(text).get<json::object_t>(), std::exception);
    bool complete = false;
    const bool ok = accepts(text, &complete);
    EXPECT_FALSE(ok && complete);
    if (text != "{\"a\": 1.}" && text != "{\"a\": 1e}" && text != "{\"a\": -}")
      EXPECT_FALSE(ok);
  }
  // Nesting deeper than the limit and endless blanks are refused (the mask ends them).
  EXPECT_FALSE(accepts("{\"a\":" + std::string(40, '[')));
  EXPECT_FALSE(accepts("{" + std::string(40, ' ')));
  EXPECT_FALSE(accepts(" {}"));
}

class JsonResponseTest : public SharedServerTest {};

TEST_F(JsonResponseTest, OutputsAreJsonObjects) {
  auto c = server_->client();
  int stopped = 0;
  for (int seed = 0; seed < 12; ++seed) {
    for (const json& format : {json{{"type", "json_object"}},
                               json{{"type", "json_schema"},
                                    {"json_schema", {{"name", "obj"}, {"schema", {{"type", "object"}}}}}}}) {
      SCOPED_TRACE(format.dump() + " seed " + std::to_string(seed));
      auto r = post_json(c, "/v1/chat/completions",
                         {{"messages", {{{"role", "user"}, {"content", "Reply in JSON"}}}},
                          {"max_tokens", 200}, {"temperature", 1.5}, {"seed", seed},
                          {"response_format", format}});
      ASSERT_TRUE(r);
      ASSERT_EQ(r->status, 200) << r->body;
      const json j = json::parse(r->body);
      const std::string text = j["choices"][0]["message"]["content"];
      bool complete = false;
      EXPECT_TRUE(accepts(text, &complete)) << text;
      if (j["choices"][0]["finish_reason"] == "stop") {
        ++stopped;
        EXPECT_TRUE(complete) << text;
        json parsed;
        ASSERT_NO_THROW(parsed = json::parse(text)) << text;
        EXPECT_TRUE(parsed.is_object()) << text;
      } else {
        EXPECT_EQ(j["choices"][0]["finish_reason"], "length");
      }
    }
  }
  EXPECT_GT(stopped, 0) << "no constrained output ever completed its object";
}

TEST_F(JsonResponseTest, SchemasItCannotEnforceAre400) {
  auto c = server_->client();
  const json messages = {{{"role", "user"}, {"content", "x"}}};
  const std::vector<json> formats = {
      json::parse(R"({"type": "json_schema", "json_schema": {"name": "s", "schema": {"type": "object", "properties": {"a": {"type": "string"}}}}})"),
      json::parse(R"({"type": "json_schema", "json_schema": {"name": "s", "schema": {"type": "array"}}})"),
      json::parse(R"({"type": "json_schema", "json_schema": {"name": "s"}})"),
      json::parse(R"({"type": "yaml"})"),
      json::parse(R"({"format": "json"})"),
  };
  for (const auto& f : formats) {
    SCOPED_TRACE(f.dump());
    auto r = post_json(c, "/v1/chat/completions", {{"messages", messages}, {"response_format", f}});
    ASSERT_TRUE(r);
    EXPECT_EQ(r->status, 400) << r->body;
    EXPECT_EQ(json::parse(r->body)["error"]["param"], "response_format") << r->body;
  }
  auto r = post_json(c, "/v1/chat/completions",
                     {{"messages", messages}, {"response_format", {{"type", "json_object"}}}, {"ignore_eos", true}});
  ASSERT_TRUE(r);
  EXPECT_EQ(r->status, 400) << r->body;
}

}  // namespace
}  // namespace lmkit::testing
