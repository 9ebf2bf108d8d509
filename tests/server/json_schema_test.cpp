// response_format json_schema through the real server (stories260K, which knows no JSON: the
// constraint alone makes its replies valid): for each schema of json_schema_cases.json, at
// several seeds and temperatures, streamed and not, every reply is a prefix the recognizer
// accepts, every reply that stops is a whole document nlohmann parses, and the streamed
// text equals the non-streamed one. Schemas the constraint cannot enforce are a 400 naming
// the keyword's JSON pointer. (tests/node/json_schema.test.cjs validates the same replies with
// ajv, an independent validator.)
#include <gtest/gtest.h>

#include <fstream>
#include <map>

#include "lmkit/server/json_grammar.h"
#include "lmkit/server/json_schema.h"
#include "server_fixture.h"

namespace lmkit::testing {
namespace {

using nlohmann::json;

const json& cases_file() {
  static const json cases = [] {
    std::ifstream in(std::string(LMKIT_SOURCE_DIR) + "/tests/server/json_schema_cases.json");
    EXPECT_TRUE(in) << "tests/server/json_schema_cases.json is missing";
    return json::parse(in);
  }();
  return cases;
}

json schema_format(const json& schema, const json& strict = nullptr) {
  json spec = {{"name", "reply"}, {"schema", schema}};
  if (!strict.is_null()) spec["strict"] = strict;
  return {{"type", "json_schema"}, {"json_schema", spec}};
}

struct Reply {
  std::string text;
  std::string finish_reason;
};

std::vector<Reply> chat(httplib::Client& c, const json& body) {
  auto r = post_json(c, "/v1/chat/completions", body);
  EXPECT_TRUE(r);
  if (!r) return {};
  EXPECT_EQ(r->status, 200) << r->body;
  if (r->status != 200) return {};
  std::vector<Reply> replies;
  if (!body.value("stream", false)) {
    const json reply = json::parse(r->body);
    for (const auto& choice : reply["choices"])
      replies.push_back({choice["message"]["content"].get<std::string>(),
                         choice["finish_reason"].get<std::string>()});
    return replies;
  }
  std::map<int, Reply> by_index;
  for (const auto& chunk : sse_payloads(r->body)) {
    if (chunk.is_string()) continue;  // [DONE]
    for (const auto& choice : chunk["choices"]) {
      Reply& reply = by_index[choice["index"].get<int>()];
      const auto& delta = choice["delta"];
      if (delta.contains("content") && delta["content"].is_string()) reply.text += delta["content"].get<std::string>();
      if (choice["finish_reason"].is_string()) reply.finish_reason = choice["finish_reason"];
    }
  }
  for (auto& [index, reply] : by_index) replies.push_back(reply);
  return replies;
}

class JsonSchemaTest : public SharedServerTest {};

TEST_F(JsonSchemaTest, RepliesFollowTheSchemaStreamedOrNot) {
  auto c = server_->client();
  int total_complete = 0;
  int schemas_completed = 0;
  for (const auto& cs : cases_file()["cases"]) {
    const std::string name = cs["name"];
    SCOPED_TRACE(name);
    const server::JsonSchema schema = server::JsonSchema::compile(cs["schema"]);
    int complete = 0;
    for (const auto& [seed, temperature] : std::vector<std::pair<int, double>>{{1, 1.5}, {100, 0.8}}) {
      const json body = {{"messages", {{{"role", "user"}, {"content", "Reply in JSON"}}}},
                         {"max_tokens", 120}, {"temperature", temperature}, {"seed", seed},
                         {"n", 4}, {"response_format", schema_format(cs["schema"])}};
      const auto plain = chat(c, body);
      json streamed_body = body;
      streamed_body["stream"] = true;
      const auto streamed = chat(c, streamed_body);
      ASSERT_EQ(plain.size(), 4u);
      ASSERT_EQ(streamed.size(), 4u);
      for (size_t i = 0; i < plain.size(); ++i) {
        const Reply& reply = plain[i];
        SCOPED_TRACE(reply.text);
        EXPECT_EQ(streamed[i].text, reply.text);
        EXPECT_EQ(streamed[i].finish_reason, reply.finish_reason);
        server::JsonKeyLog log;
        server::JsonRecognizer r(schema, log);
        EXPECT_TRUE(r.feed(reply.text));
        if (reply.finish_reason == "stop") {
          EXPECT_TRUE(r.complete());
          EXPECT_TRUE(json::accept(reply.text));
          ++complete;
        } else {
          EXPECT_EQ(reply.finish_reason, "length");
        }
      }
    }
    total_complete += complete;
    schemas_completed += complete > 0;
  }
  // The tiny model runs out of tokens inside long free strings now and then; most schemas
  // still get whole documents.
  EXPECT_GT(schemas_completed, static_cast<int>(cases_file()["cases"].size()) * 2 / 3);
  EXPECT_GT(total_complete, 100);
}

TEST_F(JsonSchemaTest, CompletionsEndpointToo) {
  auto c = server_->client();
  const json schema = json::parse(R"({"type": "object", "properties": {"ok": {"type": "boolean"}},
                                      "required": ["ok"], "additionalProperties": false})");
  auto r = post_json(c, "/v1/completions",
                     {{"prompt", "Once upon a time"}, {"max_tokens", 40}, {"seed", 3}, {"n", 4},
                      {"temperature", 1.0}, {"response_format", schema_format(schema)}});
  ASSERT_TRUE(r);
  ASSERT_EQ(r->status, 200) << r->body;
  const json reply = json::parse(r->body);
  for (const auto& choice : reply["choices"]) {
    ASSERT_EQ(choice["finish_reason"], "stop") << choice.dump();
    const json value = json::parse(choice["text"].get<std::string>());
    EXPECT_EQ(value.size(), 1u);
    EXPECT_TRUE(value["ok"].is_boolean());
  }
}

TEST_F(JsonSchemaTest, StrictFlagIsAcceptedEitherWay) {
  auto c = server_->client();
  const json schema = json::parse(R"({"enum": ["yes", "no"]})");
  for (const json& strict : {json(true), json(false)}) {
    auto replies = chat(c, {{"messages", {{{"role", "user"}, {"content", "?"}}}}, {"max_tokens", 8},
                            {"seed", 1}, {"response_format", schema_format(schema, strict)}});
    ASSERT_EQ(replies.size(), 1u);
    EXPECT_EQ(replies[0].finish_reason, "stop");
    EXPECT_TRUE(replies[0].text == "\"yes\"" || replies[0].text == "\"no\"") << replies[0].text;
  }
  auto r = post_json(c, "/v1/chat/completions",
                     {{"messages", {{{"role", "user"}, {"content", "?"}}}},
                      {"response_format", schema_format(schema, "yes")}});
  ASSERT_TRUE(r);
  EXPECT_EQ(r->status, 400) << r->body;
}

TEST_F(JsonSchemaTest, SchemasItCannotEnforceAre400WithThePointer) {
  auto c = server_->client();
  const json messages = {{{"role", "user"}, {"content", "x"}}};
  auto expect_400 = [&](const json& schema, const std::string& pointer) {
    SCOPED_TRACE(schema.dump());
    auto r = post_json(c, "/v1/chat/completions",
                       {{"messages", messages}, {"response_format", schema_format(schema)}});
    ASSERT_TRUE(r);
    EXPECT_EQ(r->status, 400) << r->body;
    const json error = json::parse(r->body)["error"];
    EXPECT_EQ(error["param"], "response_format");
    EXPECT_NE(error["message"].get<std::string>().find("'#" + pointer + "'"), std::string::npos)
        << error["message"];
  };
  for (const char* list : {"refused", "malformed"})
    for (const auto& r : cases_file()[list]) expect_400(r["schema"], r["pointer"]);
  for (const auto& s : cases_file()["unsatisfiable"]) expect_400(s, "");
}

}  // namespace
}  // namespace lmkit::testing
