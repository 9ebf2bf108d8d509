// response_format json_object through the server: every output is a valid JSON prefix, every
// one that stops is a JSON object; malformed response_format fields are refused. (The
// recognizer's own tests are in json_grammar_test.cpp, json_schema through the server in
// json_schema_test.cpp.)
#include <gtest/gtest.h>

#include "lmkit/server/json_grammar.h"
#include "lmkit/server/json_schema.h"
#include "server_fixture.h"

namespace lmkit::testing {
namespace {

using nlohmann::json;

bool accepts(const std::string& text, bool* complete = nullptr) {
  server::JsonKeyLog log;
  server::JsonRecognizer r(server::JsonSchema::any_object(), log);
  const bool ok = r.feed(text);
  if (complete) *complete = ok && r.complete();
  return ok;
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

TEST_F(JsonResponseTest, MalformedResponseFormatsAre400) {
  auto c = server_->client();
  const json messages = {{{"role", "user"}, {"content", "x"}}};
  const std::vector<json> formats = {
      json::parse(R"({"type": "json_schema", "json_schema": {"name": "s"}})"),
      json::parse(R"({"type": "json_schema", "json_schema": {"name": "s", "schema": "object"}})"),
      json::parse(R"({"type": "json_schema"})"),
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
