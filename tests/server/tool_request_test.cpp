// tools / tool_choice through the real server (stories260K served with Qwen2.5's real chat
// template): tools and tool-call history reach the template as transformers passes them, bad
// tool fields are OpenAI-shaped 400s, and with tools the streamed reply equals the
// non-streamed one (the tool-call hold-back never loses or duplicates text).
#include <gtest/gtest.h>

#include "lmkit/jinja/chat_template.h"
#include "lmkit/tokenizer/tokenizer.h"
#include "server_fixture.h"

namespace lmkit::testing {
namespace {

using nlohmann::json;
using OJson = nlohmann::ordered_json;

std::string qwen25_template() {
  return std::string(LMKIT_SOURCE_DIR) + "/tests/jinja/data/qwen2_5/chat_template.jinja";
}

// Written in an order nlohmann::json would change (it sorts keys): "type" before "function",
// "name" before "description", "unit" before "city".
const char* kToolsText = R"([{"type": "function", "function": {"name": "get_weather",
  "description": "Current weather for a city", "parameters": {"type": "object",
  "properties": {"unit": {"type": "string", "enum": ["celsius", "fahrenheit"]},
  "city": {"type": "string"}}, "required": ["city"]}}}])";

class ToolServerTest : public ::testing::Test {
 protected:
  static void SetUpTestSuite() {
    TestServerConfig config;
    config.chat_template_file = qwen25_template();
    config.context = 2048;  // Qwen's tool prompt is long in stories260K's 512 tokens
    server_ = new TestServer(config);
  }
  static void TearDownTestSuite() {
    delete server_;
    server_ = nullptr;
  }
  static inline TestServer* server_ = nullptr;

  // Bodies are sent as text so that key order reaches the server as written.
  static httplib::Result post_text(const std::string& path, const std::string& body) {
    auto c = server_->client();
    return c.Post(path.c_str(), body, "application/json");
  }
  static std::string detokenize(const json& tokens) {
    auto r = post_text("/detokenize", json{{"tokens", tokens}}.dump());
    EXPECT_TRUE(r && r->status == 200);
    return json::parse(r->body)["prompt"];
  }
};

TEST_F(ToolServerTest, ToolsRenderIntoThePromptInTheClientsOrder) {
  const std::string body = std::string(R"({"messages": [{"role": "user", "content": "Weather in Paris?"}],
    "tools": )") + kToolsText + "}";
  auto r = post_text("/tokenize", body);
  ASSERT_TRUE(r);
  ASSERT_EQ(r->status, 200) << r->body;
  const json tokens = json::parse(r->body)["tokens"];
  const std::string prompt = detokenize(tokens);
  EXPECT_NE(prompt.find("# Tools"), std::string::npos) << prompt;
  EXPECT_NE(prompt.find(R"({"type": "function", "function": {"name": "get_weather", "description": "Current weather for a city", "parameters": {"type": "object", "properties": {"unit": )"),
            std::string::npos) << prompt;

  // Exactly what the template renders for transformers' context (tools as given), tokenized.
  OJson context = {{"messages", OJson::parse(R"([{"role": "user", "content": "Weather in Paris?"}])")},
                   {"tools", OJson::parse(kToolsText)},
                   {"add_generation_prompt", true},
                   {"bos_token", server_->model().bos_token()},
                   {"eos_token", server_->model().eos_token()}};
  const std::string expected = server_->model().chat_template()->render(context);
  EXPECT_EQ(tokens.get<std::vector<int32_t>>(),
            server_->model().tokenizer()->encode(expected, /*add_special_tokens=*/false));

  // The chat route renders the same prompt.
  auto chat = post_text("/v1/chat/completions",
                        body.substr(0, body.size() - 1) + R"(, "max_tokens": 2, "temperature": 0})");
  ASSERT_TRUE(chat);
  ASSERT_EQ(chat->status, 200) << chat->body;
  EXPECT_EQ(json::parse(chat->body)["usage"]["prompt_tokens"], tokens.size());
}

TEST_F(ToolServerTest, ToolCallHistoryReachesTheTemplate) {
  // Arguments arrive as a JSON string (as the OpenAI API carries them); Qwen2.5's template
  // prints them with tojson, so they must reach it as an object (vLLM does the same).
  const std::string body = std::string(R"({"messages": [
    {"role": "user", "content": "Weather in Paris?"},
    {"role": "assistant", "content": null, "tool_calls": [{"id": "call_1", "type": "function",
      "function": {"name": "get_weather", "arguments": "{\"unit\": \"celsius\", \"city\": \"Paris\"}"}}]},
    {"role": "tool", "tool_call_id": "call_1", "content": "18 degrees"}],
    "tools": )") + kToolsText + "}";
  auto r = post_text("/tokenize", body);
  ASSERT_TRUE(r);
  ASSERT_EQ(r->status, 200) << r->body;
  const std::string prompt = detokenize(json::parse(r->body)["tokens"]);
  EXPECT_NE(prompt.find("<|im_start|>assistant\n<tool_call>\n{\"name\": \"get_weather\", \"arguments\": "
                        "{\"unit\": \"celsius\", \"city\": \"Paris\"}}\n</tool_call><|im_end|>"),
            std::string::npos) << prompt;
  EXPECT_NE(prompt.find("<|im_start|>user\n<tool_response>\n18 degrees\n</tool_response><|im_end|>"),
            std::string::npos) << prompt;
}

TEST_F(ToolServerTest, BadToolFieldsAre400InOpenAIsShape) {
  struct Case {
    std::string extra;  // JSON members added to a valid body
    std::string param, code;
  };
  const std::vector<Case> cases = {
      {R"("tools": {"type": "function"})", "tools", "invalid_type"},
      {R"("tools": ["get_weather"])", "tools[0]", "invalid_type"},
      {R"("tools": [{"function": {"name": "f"}}])", "tools[0].type", "missing_required_parameter"},
      {R"("tools": [{"type": "retrieval", "function": {"name": "f"}}])", "tools[0].type", "invalid_value"},
      {R"("tools": [{"type": "function"}])", "tools[0].function", "missing_required_parameter"},
      {R"("tools": [{"type": "function", "function": "f"}])", "tools[0].function", "invalid_type"},
      {R"("tools": [{"type": "function", "function": {"description": "x"}}])", "tools[0].function.name", "missing_required_parameter"},
      {R"("tools": [{"type": "function", "function": {"name": "get weather"}}])", "tools[0].function.name", "invalid_value"},
      {R"("tools": [{"type": "function", "function": {"name": ""}}])", "tools[0].function.name", "invalid_value"},
      {R"("tools": [{"type": "function", "function": {"name": "f", "parameters": "object"}}])", "tools[0].function.parameters", "invalid_type"},
      {R"("tools": [{"type": "function", "function": {"name": "f", "description": 3}}])", "tools[0].function.description", "invalid_type"},
      {R"("tools": [{"type": "function", "function": {"name": "f"}}, {"type": "function", "function": {"name": "f"}}])", "tools[1].function.name", "invalid_value"},
      {R"("tools": [{"type": "function", "function": {"name": "f"}}], "tool_choice": "sometimes")", "tool_choice", "invalid_value"},
      {R"("tools": [{"type": "function", "function": {"name": "f"}}], "tool_choice": 1)", "tool_choice", "invalid_type"},
      {R"("tools": [{"type": "function", "function": {"name": "f"}}], "tool_choice": {"type": "function", "function": {"name": "g"}})", "tool_choice", "invalid_value"},
      {R"("tools": [{"type": "function", "function": {"name": "f"}}], "tool_choice": {"type": "function"})", "tool_choice.function", "missing_required_parameter"},
      {R"("tool_choice": "auto")", "tool_choice", "invalid_value"},
      {R"("tools": [{"type": "function", "function": {"name": "f"}}], "parallel_tool_calls": "yes")", "parallel_tool_calls", "invalid_type"},
      {R"("tools": [{"type": "function", "function": {"name": "f"}}], "response_format": {"type": "json_object"})", "response_format", ""},
      // Fail closed: a forced call's arguments must be checkable against its parameters.
      {R"("tools": [{"type": "function", "function": {"name": "f", "parameters": {"type": "object", "properties": {"a": {"type": "string", "format": "email"}}}}}], "tool_choice": "required")", "tools", ""},
      {R"("tools": [{"type": "function", "function": {"name": "f", "parameters": {"type": "array"}}}], "tool_choice": {"type": "function", "function": {"name": "f"}})", "tools", ""},
      {R"("tools": [{"type": "function", "function": {"name": "f"}}], "tool_choice": "required", "ignore_eos": true)", "ignore_eos", ""},
  };
  for (const auto& c : cases) {
    const std::string body = R"({"messages": [{"role": "user", "content": "hi"}], "max_tokens": 1, )" + c.extra + "}";
    auto r = post_text("/v1/chat/completions", body);
    ASSERT_TRUE(r);
    EXPECT_EQ(r->status, 400) << body << "\n" << r->body;
    const json e = json::parse(r->body)["error"];
    EXPECT_EQ(e["type"], "invalid_request_error") << r->body;
    EXPECT_EQ(e["param"], c.param) << body << "\n" << r->body;
    if (c.code.empty()) {
      EXPECT_TRUE(e["code"].is_null()) << r->body;
    } else {
      EXPECT_EQ(e["code"], c.code) << body << "\n" << r->body;
    }
    EXPECT_FALSE(e["message"].get<std::string>().empty());
  }
}

TEST_F(ToolServerTest, BadToolCallHistoryIs400) {
  const std::vector<std::pair<std::string, std::string>> cases = {
      {R"({"role": "assistant", "tool_calls": {"id": "x"}})", "messages[1].tool_calls"},
      {R"({"role": "assistant", "tool_calls": ["x"]})", "messages[1].tool_calls[0]"},
      {R"({"role": "assistant", "tool_calls": [{"id": "x", "type": "function"}]})", "messages[1].tool_calls[0].function"},
      {R"({"role": "assistant", "tool_calls": [{"id": "x", "function": {"arguments": "{}"}}]})", "messages[1].tool_calls[0].function.name"},
      {R"({"role": "assistant", "tool_calls": [{"id": "x", "function": {"name": "f", "arguments": 5}}]})", "messages[1].tool_calls[0].function.arguments"},
      {R"({"role": "assistant", "tool_calls": [{"id": 7, "function": {"name": "f", "arguments": "{}"}}]})", "messages[1].tool_calls[0].id"},
      {R"({"role": "user", "content": "x", "tool_calls": [{"id": "x", "function": {"name": "f", "arguments": "{}"}}]})", "messages[1].tool_calls"},
      {R"({"role": "tool", "tool_call_id": 5, "content": "x"})", "messages[1].tool_call_id"},
  };
  for (const auto& [message, param] : cases) {
    const std::string body = R"({"messages": [{"role": "user", "content": "hi"}, )" + message +
                             R"(], "max_tokens": 1})";
    auto r = post_text("/v1/chat/completions", body);
    ASSERT_TRUE(r);
    EXPECT_EQ(r->status, 400) << body << "\n" << r->body;
    EXPECT_EQ(json::parse(r->body)["error"]["param"], param) << body << "\n" << r->body;
  }
}

// The assembled message of a chat stream: content (null if none came), tool_calls from the
// deltas (as the openai client assembles them) and the finish reasons per choice.
struct Assembled {
  json content = nullptr;
  json tool_calls = json::array();
  std::string finish_reason;
};

std::map<int, Assembled> assemble(const std::vector<json>& events) {
  std::map<int, Assembled> out;
  for (const json& e : events) {
    if (!e.is_object() || !e.contains("choices")) continue;
    for (const json& c : e["choices"]) {
      Assembled& a = out[c["index"].get<int>()];
      const json& d = c["delta"];
      // As the openai client does: an empty content delta (the role chunk's "") sets nothing.
      if (d.contains("content") && d["content"].is_string() && !d["content"].get<std::string>().empty()) {
        if (a.content.is_null()) a.content = "";
        a.content = a.content.get<std::string>() + d["content"].get<std::string>();
      }
      if (d.contains("tool_calls")) {
        for (const json& t : d["tool_calls"]) {
          const size_t k = t["index"];
          while (a.tool_calls.size() <= k) a.tool_calls.push_back({{"function", {{"arguments", ""}}}});
          json& call = a.tool_calls[k];
          if (t.contains("id")) call["id"] = t["id"];
          if (t.contains("type")) call["type"] = t["type"];
          if (t["function"].contains("name")) call["function"]["name"] = t["function"]["name"];
          call["function"]["arguments"] = call["function"]["arguments"].get<std::string>() +
                                          t["function"]["arguments"].get<std::string>();
        }
      }
      if (!c["finish_reason"].is_null()) a.finish_reason = c["finish_reason"];
    }
  }
  return out;
}

TEST_F(ToolServerTest, StreamedEqualsNonStreamedWithTools) {
  for (int seed = 0; seed < 6; ++seed) {
    SCOPED_TRACE("seed " + std::to_string(seed));
    const std::string base = std::string(R"({"messages": [{"role": "user", "content": "Tell me about the weather"}],
      "n": 3, "max_tokens": 40, "temperature": 1.2, "seed": )") + std::to_string(seed) +
                             R"(, "tools": )" + kToolsText;
    auto plain = post_text("/v1/chat/completions", base + "}");
    auto streamed = post_text("/v1/chat/completions", base + R"(, "stream": true})");
    ASSERT_TRUE(plain && streamed);
    ASSERT_EQ(plain->status, 200) << plain->body;
    ASSERT_EQ(streamed->status, 200) << streamed->body;
    const auto chunks = assemble(sse_payloads(streamed->body));
    const json j = json::parse(plain->body);
    ASSERT_EQ(chunks.size(), 3u);
    for (const json& c : j["choices"]) {
      const Assembled& a = chunks.at(c["index"].get<int>());
      const json& m = c["message"];
      // stories260K writes stories, not tool calls: plain content, as a string.
      EXPECT_TRUE(m["content"].is_string());
      EXPECT_FALSE(m.contains("tool_calls"));
      EXPECT_EQ(a.content.is_null() ? json("") : a.content, m["content"]);
      EXPECT_TRUE(a.tool_calls.empty());
      EXPECT_EQ(a.finish_reason, c["finish_reason"]);
    }
  }
}

// tool_choice named / required: the call is forced by constrained decoding, so even a model
// that writes stories returns a well-formed call of an allowed function; streamed == not.
TEST_F(ToolServerTest, ForcedCallsComeBackAsToolCalls) {
  const std::string forcible = R"(
    {"type": "function", "function": {"name": "get_time", "description": "The time now",
     "parameters": {"type": "object", "properties": {}}}},
    {"type": "function", "function": {"name": "get_date"}},
    {"type": "function", "function": {"name": "note", "parameters": {"type": "object"}}})";
  const std::string weather = R"(
    {"type": "function", "function": {"name": "get_weather", "parameters": {"type": "object",
     "properties": {"city": {"type": "string", "maxLength": 12}, "days": {"type": "integer"}},
     "required": ["city", "days"], "additionalProperties": false}}})";
  int calls = 0;
  for (const std::string choice : {R"({"type": "function", "function": {"name": "get_date"}})",
                                   R"({"type": "function", "function": {"name": "note"}})",
                                   R"({"type": "function", "function": {"name": "get_weather"}})",
                                   R"("required")"}) {
    const std::string request_tools = "[" + forcible + "," + weather + "]";
    for (int seed = 0; seed < 4; ++seed) {
      SCOPED_TRACE(choice + " seed " + std::to_string(seed));
      const std::string base = R"({"messages": [{"role": "user", "content": "What time is it?"}],
        "max_tokens": 150, "temperature": 0.8, "seed": )" + std::to_string(seed) +
                               R"(, "tools": )" + request_tools + R"(, "tool_choice": )" + choice;
      auto plain = post_text("/v1/chat/completions", base + "}");
      auto streamed = post_text("/v1/chat/completions", base + R"(, "stream": true})");
      ASSERT_TRUE(plain && streamed);
      ASSERT_EQ(plain->status, 200) << plain->body;
      ASSERT_EQ(streamed->status, 200) << streamed->body;
      const json c = json::parse(plain->body)["choices"][0];
      const auto assembled = assemble(sse_payloads(streamed->body));
      const Assembled& a = assembled.at(0);
      EXPECT_EQ(a.finish_reason, c["finish_reason"]);
      // "note" takes any object: stories260K may ramble inside it past max_tokens, and a cut
      // call is plain content. get_date takes no arguments: that call always completes.
      if (c["finish_reason"] == "length") {
        EXPECT_EQ(choice.find("get_date"), std::string::npos) << plain->body;
        EXPECT_TRUE(c["message"]["content"].is_string());
        EXPECT_EQ(a.content, c["message"]["content"]);
        continue;
      }
      ++calls;
      ASSERT_EQ(c["finish_reason"], "tool_calls") << plain->body;
      EXPECT_TRUE(c["message"]["content"].is_null()) << plain->body;
      const json& call = c["message"]["tool_calls"].at(0);
      EXPECT_EQ(call["type"], "function");
      EXPECT_EQ(call["id"].get<std::string>().rfind("call_", 0), 0u);
      const std::string name = call["function"]["name"];
      if (choice == R"("required")") {
        EXPECT_TRUE(name == "get_time" || name == "get_date" || name == "note" || name == "get_weather") << name;
      } else {
        EXPECT_NE(choice.find("\"" + name + "\""), std::string::npos) << name;
      }
      // The arguments satisfy the function's parameters.
      const json args = json::parse(call["function"]["arguments"].get<std::string>());
      EXPECT_TRUE(args.is_object());
      if (name == "get_date") {
        EXPECT_EQ(args, json::object());
      }
      if (name == "get_weather") {
        EXPECT_EQ(args.size(), 2u) << args;
        EXPECT_TRUE(args["city"].is_string() && args["city"].get<std::string>().size() <= 12) << args;
        EXPECT_TRUE(args["days"].is_number_integer()) << args;
      }
      // The stream: the same call (ids are drawn per reply).
      EXPECT_TRUE(a.content.is_null());
      ASSERT_EQ(a.tool_calls.size(), 1u) << streamed->body;
      EXPECT_EQ(a.tool_calls[0]["function"]["name"], name);
      EXPECT_EQ(a.tool_calls[0]["function"]["arguments"], call["function"]["arguments"]);
      EXPECT_EQ(a.tool_calls[0]["type"], "function");
      EXPECT_EQ(a.tool_calls[0]["id"].get<std::string>().size(), 29u);
    }
  }
  EXPECT_GE(calls, 4) << "forced calls of functions without arguments must complete";
}

TEST(ToolServerFormat, ToolsNeedAFormat) {
  // The default test template renders no tool calls: tools with "auto" cannot be parsed.
  TestServer plain;
  auto c = plain.client();
  const json tools = json::parse(kToolsText);
  const json messages = {{{"role", "user"}, {"content", "hi"}}};
  auto r = post_json(c, "/v1/chat/completions", {{"messages", messages}, {"tools", tools}, {"max_tokens", 1}});
  ASSERT_TRUE(r);
  EXPECT_EQ(r->status, 400) << r->body;
  EXPECT_EQ(json::parse(r->body)["error"]["param"], "tools");
  EXPECT_NE(r->body.find("--tool-parser"), std::string::npos) << r->body;
  // tool_choice "none": the tools go to the template and the output is not parsed.
  r = post_json(c, "/v1/chat/completions",
                {{"messages", messages}, {"tools", tools}, {"tool_choice", "none"}, {"max_tokens", 1}});
  ASSERT_TRUE(r);
  EXPECT_EQ(r->status, 200) << r->body;
  // Tools are for chat only.
  r = post_json(c, "/v1/completions", {{"prompt", "x"}, {"tools", tools}, {"max_tokens", 1}});
  ASSERT_TRUE(r);
  EXPECT_EQ(r->status, 400) << r->body;

  // --tool-parser names the format when the template does not show it.
  TestServerConfig config;
  config.tool_parser = "qwen";
  TestServer forced(config);
  auto c2 = forced.client();
  r = post_json(c2, "/v1/chat/completions", {{"messages", messages}, {"tools", tools}, {"max_tokens", 1}});
  ASSERT_TRUE(r);
  EXPECT_EQ(r->status, 200) << r->body;

  config.tool_parser = "gpt";
  EXPECT_THROW(TestServer bad(config), Error);
}

}  // namespace
}  // namespace lmkit::testing
