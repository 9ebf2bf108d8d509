// The non-generating routes and the error shape: /health, /v1/models, /tokenize,
// /detokenize, /metrics, malformed requests, unknown models, auth, oversized bodies.
#include <gtest/gtest.h>

#include "lmkit/tokenizer/tokenizer.h"
#include "server_fixture.h"

namespace lmkit::testing {
namespace {

using nlohmann::json;

// Every error reply: the status, and OpenAI's {"error": {message, type, param, code}}.
json expect_error(const httplib::Result& r, int status, const std::string& param = "") {
  EXPECT_TRUE(r) << "no response";
  if (!r) return {};
  EXPECT_EQ(r->status, status) << r->body;
  EXPECT_EQ(r->get_header_value("Content-Type"), "application/json");
  json j = json::parse(r->body);
  EXPECT_TRUE(j["error"]["message"].is_string()) << r->body;
  EXPECT_FALSE(j["error"]["message"].get<std::string>().empty());
  EXPECT_TRUE(j["error"]["type"].is_string()) << r->body;
  EXPECT_TRUE(j["error"].contains("param")) << r->body;
  EXPECT_TRUE(j["error"].contains("code")) << r->body;
  if (!param.empty()) {
    EXPECT_EQ(j["error"]["param"], param) << r->body;
  }
  return j["error"];
}

class RoutesTest : public SharedServerTest {};

TEST_F(RoutesTest, HealthAndModels) {
  auto c = server_->client();
  auto h = c.Get("/health");
  ASSERT_TRUE(h);
  EXPECT_EQ(h->status, 200);
  EXPECT_EQ(json::parse(h->body)["status"], "ok");

  auto m = c.Get("/v1/models");
  ASSERT_TRUE(m);
  ASSERT_EQ(m->status, 200);
  json j = json::parse(m->body);
  EXPECT_EQ(j["object"], "list");
  ASSERT_EQ(j["data"].size(), 1u);
  EXPECT_EQ(j["data"][0]["id"], "stories");
  EXPECT_EQ(j["data"][0]["object"], "model");
  EXPECT_EQ(j["data"][0]["max_model_len"], 512);

  auto one = c.Get("/v1/models/stories");
  ASSERT_TRUE(one);
  EXPECT_EQ(one->status, 200);
  EXPECT_EQ(json::parse(one->body)["id"], "stories");
  expect_error(c.Get("/v1/models/gpt-4"), 404, "model");
}

TEST_F(RoutesTest, TokenizeAndDetokenizeMatchTheTokenizer) {
  auto c = server_->client();
  const std::string text = "Once upon a time, there was a little dog.";
  const std::vector<int32_t> expected = server_->model().tokenizer()->encode(text, true);
  auto r = post_json(c, "/tokenize", {{"prompt", text}});
  ASSERT_TRUE(r);
  ASSERT_EQ(r->status, 200) << r->body;
  json j = json::parse(r->body);
  EXPECT_EQ(j["tokens"].get<std::vector<int32_t>>(), expected);
  EXPECT_EQ(j["count"], expected.size());
  EXPECT_EQ(j["max_model_len"], 512);

  auto no_special = post_json(c, "/tokenize", {{"prompt", text}, {"add_special_tokens", false}});
  ASSERT_TRUE(no_special);
  EXPECT_EQ(json::parse(no_special->body)["tokens"].get<std::vector<int32_t>>(),
            server_->model().tokenizer()->encode(text, false));

  json messages = json::array({{{"role", "user"}, {"content", "Hi"}}});
  auto chat = post_json(c, "/tokenize", {{"messages", messages}});
  ASSERT_TRUE(chat);
  ASSERT_EQ(chat->status, 200) << chat->body;
  EXPECT_EQ(json::parse(chat->body)["tokens"].get<std::vector<int32_t>>(),
            server_->model().tokenize_chat(messages, true));

  auto d = post_json(c, "/detokenize", {{"tokens", expected}, {"skip_special_tokens", true}});
  ASSERT_TRUE(d);
  ASSERT_EQ(d->status, 200) << d->body;
  EXPECT_EQ(json::parse(d->body)["prompt"], server_->model().tokenizer()->decode(expected, true));

  expect_error(post_json(c, "/tokenize", json::object()), 400, "prompt");
  expect_error(post_json(c, "/tokenize", {{"prompt", 5}}), 400, "prompt");
  expect_error(post_json(c, "/detokenize", {{"tokens", {1, 99999}}}), 400, "tokens");
  expect_error(post_json(c, "/detokenize", {{"tokens", {1, "a"}}}), 400, "tokens");
  expect_error(post_json(c, "/detokenize", {{"tokens", {1, -3}}}), 400, "tokens");
}

TEST_F(RoutesTest, MalformedJsonAndWrongTypes) {
  auto c = server_->client();
  for (const char* path : {"/v1/completions", "/v1/chat/completions", "/tokenize"}) {
    auto r = c.Post(path, "{\"prompt\": \"hi\",", "application/json");
    json e = expect_error(r, 400);
    EXPECT_EQ(e["type"], "invalid_request_error");
    EXPECT_NE(e["message"].get<std::string>().find("not valid JSON"), std::string::npos) << e;
    expect_error(c.Post(path, "[1, 2]", "application/json"), 400);
  }
  struct Case {
    json body;
    std::string param;
  };
  const std::vector<Case> cases = {
      {{{"prompt", "hi"}, {"temperature", "hot"}}, "temperature"},
      {{{"prompt", "hi"}, {"temperature", 3.5}}, "temperature"},
      {{{"prompt", "hi"}, {"max_tokens", "ten"}}, "max_tokens"},
      {{{"prompt", "hi"}, {"max_tokens", 1.5}}, "max_tokens"},
      {{{"prompt", "hi"}, {"max_tokens", 0}}, "max_tokens"},
      {{{"prompt", "hi"}, {"n", 0}}, "n"},
      {{{"prompt", "hi"}, {"top_p", 0}}, "top_p"},
      {{{"prompt", "hi"}, {"stream", "yes"}}, "stream"},
      {{{"prompt", "hi"}, {"stop", {1, 2}}}, "stop"},
      {{{"prompt", "hi"}, {"seed", "x"}}, "seed"},
      {{{"prompt", "hi"}, {"logprobs", 50}}, "logprobs"},
      {{{"prompt", "hi"}, {"stream_options", {{"include_usage", true}}}}, "stream_options"},
      {{{"prompt", "hi"}, {"logit_bias", {{"5", 10}}}}, "logit_bias"},
      {{{"prompt", "hi"}, {"response_format", {{"type", "yaml"}}}}, "response_format"},
      {{{"prompt", {1, "a"}}}, "prompt"},
      {{{"prompt", {1, 100000}}}, "prompt"},
      {{{"prompt", json::array()}}, "prompt"},
      {json::object(), "prompt"},
  };
  for (const auto& k : cases) {
    SCOPED_TRACE(k.body.dump());
    expect_error(post_json(c, "/v1/completions", k.body), 400, k.param);
  }
  const json msgs = json::array({{{"role", "user"}, {"content", "Hi"}}});
  const std::vector<Case> chat_cases = {
      {json::object(), "messages"},
      {{{"messages", "hi"}}, "messages"},
      {{{"messages", json::array()}}, "messages"},
      {{{"messages", {{{"content", "no role"}}}}}, "messages"},
      {{{"messages", {{{"role", "user"}, {"content", 5}}}}}, "messages"},
      {{{"messages", msgs}, {"logprobs", 1}}, "logprobs"},
      {{{"messages", msgs}, {"top_logprobs", 3}}, "top_logprobs"},
      {{{"messages", msgs}, {"max_completion_tokens", -1}}, "max_completion_tokens"},
      {{{"messages", msgs}, {"tools", {{{"type", "function"}}}}}, "tools[0].function"},
  };
  for (const auto& k : chat_cases) {
    SCOPED_TRACE(k.body.dump());
    expect_error(post_json(c, "/v1/chat/completions", k.body), 400, k.param);
  }
}

TEST_F(RoutesTest, UnknownFieldsAreIgnored) {
  auto c = server_->client();
  auto r = post_json(c, "/v1/completions",
                     {{"prompt", "Once"}, {"max_tokens", 2}, {"temperature", 0},
                      {"some_future_field", {{"a", 1}}}, {"user", "me"}});
  ASSERT_TRUE(r);
  EXPECT_EQ(r->status, 200) << r->body;
}

TEST_F(RoutesTest, UnknownModelIs404) {
  auto c = server_->client();
  json e = expect_error(post_json(c, "/v1/completions", {{"model", "gpt-4"}, {"prompt", "hi"}}), 404,
                        "model");
  EXPECT_EQ(e["code"], "model_not_found");
  EXPECT_NE(e["message"].get<std::string>().find("gpt-4"), std::string::npos);
  // The alias and the path both name the model.
  auto ok = post_json(c, "/v1/completions",
                      {{"model", "stories"}, {"prompt", "Once"}, {"max_tokens", 1}});
  ASSERT_TRUE(ok);
  EXPECT_EQ(ok->status, 200) << ok->body;
}

TEST_F(RoutesTest, PromptLongerThanTheContextSaysBothNumbers) {
  auto c = server_->client();
  std::string text;
  for (int i = 0; i < 300; ++i) text += "Once upon a time ";
  const size_t n = server_->model().tokenizer()->encode(text, true).size();
  ASSERT_GT(n, 512u);
  json e = expect_error(post_json(c, "/v1/completions", {{"prompt", text}}), 400);
  EXPECT_EQ(e["code"], "context_length_exceeded");
  const std::string msg = e["message"];
  EXPECT_NE(msg.find("512"), std::string::npos) << msg;
  EXPECT_NE(msg.find(std::to_string(n)), std::string::npos) << msg;

  // Prompt + max_tokens over the context: both parts named.
  json e2 = expect_error(
      post_json(c, "/v1/completions", {{"prompt", "Once upon a time"}, {"max_tokens", 600}}), 400,
      "max_tokens");
  EXPECT_EQ(e2["code"], "context_length_exceeded");
  EXPECT_NE(e2["message"].get<std::string>().find("600"), std::string::npos) << e2;
}

TEST_F(RoutesTest, NoRouteIsAnOpenAiShaped404) {
  auto c = server_->client();
  expect_error(c.Get("/v1/nothing"), 404);
}

TEST_F(RoutesTest, OversizedBodyIs413AndTheServerStaysUp) {
  // 100 MB announced; the server must refuse it without reading it all, and keep serving.
  RawConnection conn(server_->port());
  conn.send_all("POST /v1/completions HTTP/1.1\r\nHost: x\r\nContent-Type: application/json\r\n"
                "Content-Length: 104857600\r\n\r\n{\"prompt\": \"");
  conn.send_all(std::string(1 << 16, 'a'));
  const std::string reply = conn.read_until("}}", 1 << 16);
  EXPECT_EQ(reply.rfind("HTTP/1.1 413", 0), 0u) << reply;
  EXPECT_NE(reply.find("\"error\""), std::string::npos) << reply;
  conn.close();
  auto c = server_->client();
  auto h = c.Get("/health");
  ASSERT_TRUE(h);
  EXPECT_EQ(h->status, 200);
}

TEST_F(RoutesTest, MetricsInPrometheusFormat) {
  auto c = server_->client();
  ASSERT_TRUE(post_json(c, "/v1/completions", {{"prompt", "Once"}, {"max_tokens", 3}}));
  auto m = c.Get("/metrics");
  ASSERT_TRUE(m);
  ASSERT_EQ(m->status, 200);
  EXPECT_EQ(m->get_header_value("Content-Type").rfind("text/plain", 0), 0u);
  const std::string& t = m->body;
  for (const char* needle :
       {"# TYPE lmkit_http_requests_total counter", "route=\"/v1/completions\",status=\"200\"",
        "# TYPE lmkit_prompt_tokens_total counter", "# TYPE lmkit_generation_tokens_total counter",
        "# TYPE lmkit_queue_length gauge", "# TYPE lmkit_running_batch gauge",
        "# TYPE lmkit_kv_blocks_used gauge", "# TYPE lmkit_prefix_cache_hit_rate gauge",
        "# TYPE lmkit_time_to_first_token_seconds histogram",
        "lmkit_time_to_first_token_seconds_bucket{le=\"+Inf\"}",
        "# TYPE lmkit_inter_token_latency_seconds histogram"})
    EXPECT_NE(t.find(needle), std::string::npos) << needle << "\n" << t;
  // Every non-comment line is "name{labels} value" with a number for value.
  size_t pos = 0;
  while (pos < t.size()) {
    size_t end = t.find('\n', pos);
    const std::string line = t.substr(pos, end - pos);
    pos = end + 1;
    if (line.empty() || line[0] == '#') continue;
    const size_t space = line.rfind(' ');
    ASSERT_NE(space, std::string::npos) << line;
    EXPECT_NO_THROW((void)std::stod(line.substr(space + 1))) << line;
  }
  EXPECT_NE(t.find("lmkit_generation_tokens_total "), std::string::npos);
}

TEST(AuthTest, EveryRouteButHealthNeedsTheKey) {
  TestServerConfig cfg;
  cfg.api_key = "sk-test-123";
  TestServer server(cfg);
  auto c = server.client();
  auto h = c.Get("/health");
  ASSERT_TRUE(h);
  EXPECT_EQ(h->status, 200);
  json e = expect_error(c.Get("/v1/models"), 401);
  EXPECT_EQ(e["code"], "invalid_api_key");
  expect_error(post_json(c, "/v1/completions", {{"prompt", "hi"}}), 401);
  expect_error(c.Get("/metrics"), 401);

  httplib::Headers wrong = {{"Authorization", "Bearer sk-test-124"}};
  expect_error(c.Get("/v1/models", wrong), 401);
  httplib::Headers shorter = {{"Authorization", "Bearer sk-test-12"}};
  expect_error(c.Get("/v1/models", shorter), 401);
  httplib::Headers basic = {{"Authorization", "Basic sk-test-123"}};
  expect_error(c.Get("/v1/models", basic), 401);

  c.set_bearer_token_auth("sk-test-123");
  auto ok = c.Get("/v1/models");
  ASSERT_TRUE(ok);
  EXPECT_EQ(ok->status, 200);
  auto gen = post_json(c, "/v1/completions", {{"prompt", "Once"}, {"max_tokens", 2}});
  ASSERT_TRUE(gen);
  EXPECT_EQ(gen->status, 200) << gen->body;
}

}  // namespace
}  // namespace lmkit::testing
