// /v1/completions and /v1/chat/completions: results equal Generator's for the same request,
// streamed equals non-streamed, the OpenAI shapes, n, seeds, stop strings, logprobs, usage,
// client disconnects (streaming or not) and a full queue.
#include <gtest/gtest.h>

#include "lmkit/engine/generator.h"
#include "lmkit/models/model.h"
#include "lmkit/tokenizer/tokenizer.h"
#include "server_fixture.h"

namespace lmkit::testing {
namespace {

using nlohmann::json;

class GenerationTest : public SharedServerTest {
 protected:
  json post_ok(const std::string& path, const json& body) {
    auto c = server_->client();
    auto r = post_json(c, path, body);
    EXPECT_TRUE(r);
    if (!r) return {};
    EXPECT_EQ(r->status, 200) << r->body;
    EXPECT_EQ(r->get_header_value("Content-Type"), "application/json");
    return json::parse(r->body);
  }
  std::vector<json> post_stream(const std::string& path, json body) {
    body["stream"] = true;
    auto c = server_->client();
    auto r = post_json(c, path, body);
    EXPECT_TRUE(r);
    if (!r) return {};
    EXPECT_EQ(r->status, 200) << r->body;
    EXPECT_EQ(r->get_header_value("Content-Type"), "text/event-stream");
    auto events = sse_payloads(r->body);
    EXPECT_FALSE(events.empty());
    if (!events.empty()) EXPECT_EQ(events.back(), "[DONE]");
    return events;
  }
};

// The reference: Generator on a separately loaded copy of the model (the server's copy belongs
// to its scheduler thread).
engine::GenerateResult reference(const std::vector<int32_t>& prompt, int64_t max_tokens,
                                 std::vector<std::string> stop = {}, int32_t logprobs = 0) {
  engine::LoadedModel model = load_test_model(512);
  ThreadPool pool(1);
  engine::Generator gen(model.model(), model.tokenizer(), pool, model.context_size());
  engine::Sequence seq = gen.new_sequence();
  engine::GenerateOptions o;
  o.sampling.temperature = 0;
  o.max_tokens = max_tokens;
  o.stop = std::move(stop);
  o.eos_token_ids = model.eos_token_ids();
  o.logprobs = logprobs;
  return gen.generate(seq, prompt, o);
}

TEST_F(GenerationTest, GreedyCompletionEqualsGenerator) {
  const std::string prompt = "Once upon a time";
  const auto ids = server_->model().tokenize(prompt);
  const auto ref = reference(ids, 24);
  json j = post_ok("/v1/completions", {{"model", "stories"}, {"prompt", prompt},
                                       {"max_tokens", 24}, {"temperature", 0}});
  EXPECT_EQ(j["object"], "text_completion");
  EXPECT_EQ(j["model"], "stories");
  EXPECT_EQ(j["id"].get<std::string>().rfind("cmpl-", 0), 0u);
  EXPECT_TRUE(j["created"].is_number_integer());
  ASSERT_EQ(j["choices"].size(), 1u);
  EXPECT_EQ(j["choices"][0]["index"], 0);
  EXPECT_EQ(j["choices"][0]["text"], ref.text);
  EXPECT_EQ(j["choices"][0]["finish_reason"], engine::finish_reason_name(ref.finish_reason));
  EXPECT_TRUE(j["choices"][0]["logprobs"].is_null());
  EXPECT_EQ(j["usage"]["prompt_tokens"], ids.size());
  EXPECT_EQ(j["usage"]["completion_tokens"], ref.ids.size());
  EXPECT_EQ(j["usage"]["total_tokens"], ids.size() + ref.ids.size());
  EXPECT_TRUE(j["usage"]["prompt_tokens_details"]["cached_tokens"].is_number_integer());
}

TEST_F(GenerationTest, TokenIdPromptsAndSeveralPrompts) {
  const auto a = server_->model().tokenize("Once upon a time");
  const auto b = server_->model().tokenize("The little dog");
  json j = post_ok("/v1/completions", {{"prompt", {a, b}}, {"max_tokens", 8}, {"temperature", 0}});
  ASSERT_EQ(j["choices"].size(), 2u);
  EXPECT_EQ(j["choices"][0]["text"], reference(a, 8).text);
  EXPECT_EQ(j["choices"][1]["text"], reference(b, 8).text);
  EXPECT_EQ(j["usage"]["prompt_tokens"], a.size() + b.size());
  json single = post_ok("/v1/completions", {{"prompt", a}, {"max_tokens", 8}, {"temperature", 0}});
  EXPECT_EQ(single["choices"][0]["text"], j["choices"][0]["text"]);
  json texts = post_ok("/v1/completions", {{"prompt", {"Once upon a time", "The little dog"}},
                                           {"max_tokens", 8}, {"temperature", 0}});
  EXPECT_EQ(texts["choices"][1]["text"], j["choices"][1]["text"]);
}

TEST_F(GenerationTest, StreamedCompletionEqualsNonStreamed) {
  for (bool include_usage : {false, true}) {
    json body = {{"prompt", "Once upon a time"}, {"max_tokens", 40}, {"temperature", 0.8},
                 {"seed", 7}, {"stop", {"dog", "."}}};
    json full = post_ok("/v1/completions", body);
    if (include_usage) body["stream_options"] = {{"include_usage", true}};
    auto events = post_stream("/v1/completions", body);
    ASSERT_GE(events.size(), 2u);
    std::string text;
    std::string finish;
    json usage;
    for (size_t i = 0; i + 1 < events.size(); ++i) {
      const json& e = events[i];
      EXPECT_EQ(e["object"], "text_completion");
      EXPECT_EQ(e["id"], events[0]["id"]);
      if (include_usage) {
        ASSERT_TRUE(e.contains("usage")) << e;
      } else {
        EXPECT_FALSE(e.contains("usage")) << e;
      }
      if (e["choices"].empty()) {
        usage = e["usage"];
        EXPECT_EQ(i + 2, events.size()) << "the usage chunk comes last";
        continue;
      }
      if (include_usage) EXPECT_TRUE(e["usage"].is_null()) << "usage comes only in the last chunk";
      text += e["choices"][0]["text"].get<std::string>();
      if (!e["choices"][0]["finish_reason"].is_null()) finish = e["choices"][0]["finish_reason"];
    }
    EXPECT_EQ(text, full["choices"][0]["text"]);
    EXPECT_EQ(finish, full["choices"][0]["finish_reason"]);
    if (include_usage) {
      EXPECT_EQ(usage["completion_tokens"], full["usage"]["completion_tokens"]);
      EXPECT_EQ(usage["prompt_tokens"], full["usage"]["prompt_tokens"]);
    } else {
      EXPECT_TRUE(usage.is_null());
    }
  }
}

TEST_F(GenerationTest, ChatStreamedEqualsNonStreamed) {
  json body = {{"messages", {{{"role", "system"}, {"content", "Tell a story."}},
                             {{"role", "user"}, {"content", {{{"type", "text"}, {"text", "A cat"}}}}}}},
               {"max_completion_tokens", 30},
               {"temperature", 0}};
  json full = post_ok("/v1/chat/completions", body);
  EXPECT_EQ(full["object"], "chat.completion");
  EXPECT_EQ(full["id"].get<std::string>().rfind("chatcmpl-", 0), 0u);
  EXPECT_EQ(full["choices"][0]["message"]["role"], "assistant");
  const std::string content = full["choices"][0]["message"]["content"];
  json messages = {{{"role", "system"}, {"content", "Tell a story."}},
                   {{"role", "user"}, {"content", "A cat"}}};
  EXPECT_EQ(content, reference(server_->model().tokenize_chat(messages, true), 30).text);

  body["stream_options"] = {{"include_usage", true}};
  auto events = post_stream("/v1/chat/completions", body);
  ASSERT_GE(events.size(), 3u);
  EXPECT_EQ(events[0]["object"], "chat.completion.chunk");
  EXPECT_EQ(events[0]["choices"][0]["delta"]["role"], "assistant");
  std::string text;
  std::string finish;
  for (size_t i = 0; i + 2 < events.size(); ++i) {
    const json& d = events[i]["choices"][0]["delta"];
    if (d.contains("content")) text += d["content"].get<std::string>();
    if (!events[i]["choices"][0]["finish_reason"].is_null())
      finish = events[i]["choices"][0]["finish_reason"];
  }
  EXPECT_EQ(text, content);
  EXPECT_EQ(finish, full["choices"][0]["finish_reason"]);
  EXPECT_EQ(events[events.size() - 2]["usage"]["completion_tokens"],
            full["usage"]["completion_tokens"]);
}

TEST_F(GenerationTest, NChoicesWithSeedAreReproducibleAndDistinct) {
  json body = {{"prompt", "Once upon a time"}, {"max_tokens", 16}, {"temperature", 1.0},
               {"n", 3}, {"seed", 42}, {"ignore_eos", true}};
  json a = post_ok("/v1/completions", body);
  json b = post_ok("/v1/completions", body);
  ASSERT_EQ(a["choices"].size(), 3u);
  for (int i = 0; i < 3; ++i) {
    EXPECT_EQ(a["choices"][i]["index"], i);
    EXPECT_EQ(a["choices"][i]["text"], b["choices"][i]["text"]);
  }
  EXPECT_FALSE(a["choices"][0]["text"] == a["choices"][1]["text"] &&
               a["choices"][1]["text"] == a["choices"][2]["text"])
      << "three samples at temperature 1 came out identical";
  // The prompt counts once, the completions of every choice add up.
  EXPECT_EQ(a["usage"]["prompt_tokens"], server_->model().tokenize("Once upon a time").size());
  EXPECT_EQ(a["usage"]["completion_tokens"], 3 * 16);
  auto events = post_stream("/v1/completions", body);
  std::vector<std::string> texts(3);
  for (const auto& e : events)
    if (e.is_object() && !e["choices"].empty())
      texts[e["choices"][0]["index"].get<size_t>()] += e["choices"][0]["text"].get<std::string>();
  for (int i = 0; i < 3; ++i) EXPECT_EQ(texts[i], a["choices"][i]["text"]);
}

TEST_F(GenerationTest, StopStringsEndTheTextBeforeTheMatch) {
  const auto ids = server_->model().tokenize("Once upon a time");
  const auto free_run = reference(ids, 40);
  ASSERT_GT(free_run.text.size(), 10u);
  const std::string stop = free_run.text.substr(6, 3);  // lands mid-token most likely
  const auto ref = reference(ids, 40, {stop});
  json j = post_ok("/v1/completions",
                   {{"prompt", "Once upon a time"}, {"max_tokens", 40}, {"temperature", 0}, {"stop", stop}});
  EXPECT_EQ(j["choices"][0]["text"], ref.text);
  EXPECT_EQ(j["choices"][0]["finish_reason"], "stop");
  EXPECT_EQ(j["choices"][0]["text"].get<std::string>().find(stop), std::string::npos);
}

TEST_F(GenerationTest, CompletionLogprobs) {
  const auto ids = server_->model().tokenize("Once upon a time");
  const auto ref = reference(ids, 6, {}, 3);
  json j = post_ok("/v1/completions",
                   {{"prompt", "Once upon a time"}, {"max_tokens", 6}, {"temperature", 0}, {"logprobs", 3}});
  const json& lp = j["choices"][0]["logprobs"];
  ASSERT_EQ(lp["tokens"].size(), ref.ids.size());
  ASSERT_EQ(lp["token_logprobs"].size(), ref.ids.size());
  ASSERT_EQ(lp["top_logprobs"].size(), ref.ids.size());
  ASSERT_EQ(lp["text_offset"].size(), ref.ids.size());
  for (size_t i = 0; i < ref.ids.size(); ++i) {
    EXPECT_FLOAT_EQ(lp["token_logprobs"][i].get<float>(), ref.logprobs[i].chosen.logprob);
    EXPECT_EQ(lp["top_logprobs"][i].size(), 3u);
    EXPECT_EQ(lp["tokens"][i], server_->model().tokenizer()->decode({ref.ids[i]}, false));
  }
  EXPECT_EQ(lp["text_offset"][0], 0);
  // logprobs: 0 still reports the chosen tokens, with no alternatives.
  json zero = post_ok("/v1/completions",
                      {{"prompt", "Once upon a time"}, {"max_tokens", 3}, {"temperature", 0}, {"logprobs", 0}});
  EXPECT_EQ(zero["choices"][0]["logprobs"]["token_logprobs"].size(), 3u);
  EXPECT_EQ(zero["choices"][0]["logprobs"]["top_logprobs"][0].size(), 0u);
}

TEST_F(GenerationTest, ChatLogprobs) {
  json j = post_ok("/v1/chat/completions",
                   {{"messages", {{{"role", "user"}, {"content", "Hi"}}}}, {"max_tokens", 5},
                    {"temperature", 0}, {"logprobs", true}, {"top_logprobs", 2}});
  const json& content = j["choices"][0]["logprobs"]["content"];
  ASSERT_EQ(content.size(), j["usage"]["completion_tokens"].get<size_t>());
  for (const auto& entry : content) {
    EXPECT_TRUE(entry["token"].is_string());
    EXPECT_LE(entry["logprob"].get<double>(), 0.0);
    EXPECT_EQ(entry["top_logprobs"].size(), 2u);
    std::string from_bytes;
    for (const auto& b : entry["bytes"]) from_bytes += static_cast<char>(b.get<int>());
    EXPECT_EQ(from_bytes, entry["token"].get<std::string>());
  }
}

TEST_F(GenerationTest, EchoPrependsThePrompt) {
  json j = post_ok("/v1/completions",
                   {{"prompt", "Once upon a time"}, {"max_tokens", 5}, {"temperature", 0}, {"echo", true}});
  json plain = post_ok("/v1/completions", {{"prompt", "Once upon a time"}, {"max_tokens", 5}, {"temperature", 0}});
  EXPECT_EQ(j["choices"][0]["text"], "Once upon a time" + plain["choices"][0]["text"].get<std::string>());
  auto events = post_stream("/v1/completions", {{"prompt", "Once upon a time"}, {"max_tokens", 5},
                                                {"temperature", 0}, {"echo", true}});
  std::string text;
  for (const auto& e : events)
    if (e.is_object() && !e["choices"].empty()) text += e["choices"][0]["text"].get<std::string>();
  EXPECT_EQ(text, j["choices"][0]["text"]);
}

// echo + logprobs scores the prompt as OpenAI's legacy completions do: the prompt's tokens lead
// the logprobs, the first with null (nothing predicts it), each other one with the logprob
// Generator gives it as the next token after the prompt's prefix (an independent path).
TEST_F(GenerationTest, EchoWithLogprobsScoresThePrompt) {
  const std::string prompt = "Once upon a time";
  const auto ids = server_->model().tokenize(prompt);
  ASSERT_GE(ids.size(), 3u);
  std::vector<float> want(ids.size());
  for (size_t p = 1; p < ids.size(); ++p) {
    const auto r = reference(std::vector<int32_t>(ids.begin(), ids.begin() + static_cast<std::ptrdiff_t>(p)), 1, {}, 512);
    for (const auto& t : r.logprobs.at(0).top)
      if (t.id == ids[p]) want[p] = t.logprob;
  }
  const auto gen_ref = reference(ids, 3, {}, 2);
  const json body = {{"prompt", prompt}, {"max_tokens", 3}, {"temperature", 0}, {"echo", true}, {"logprobs", 2}};
  json j = post_ok("/v1/completions", body);
  const json& lp = j["choices"][0]["logprobs"];
  const size_t n = ids.size();
  ASSERT_EQ(lp["tokens"].size(), n + gen_ref.ids.size()) << lp;
  ASSERT_EQ(lp["token_logprobs"].size(), lp["tokens"].size());
  ASSERT_EQ(lp["text_offset"].size(), lp["tokens"].size());
  EXPECT_TRUE(lp["token_logprobs"][0].is_null());
  EXPECT_TRUE(lp["top_logprobs"][0].is_null());
  for (size_t p = 1; p < n; ++p) {
    EXPECT_FLOAT_EQ(lp["token_logprobs"][p].get<float>(), want[p]) << "prompt token " << p;
    EXPECT_EQ(lp["top_logprobs"][p].size(), 2u);
    EXPECT_EQ(lp["tokens"][p], server_->model().tokenizer()->decode({ids[p]}, false));
  }
  for (size_t i = 0; i < gen_ref.ids.size(); ++i)
    EXPECT_FLOAT_EQ(lp["token_logprobs"][n + i].get<float>(), gen_ref.logprobs[i].chosen.logprob);
  // Offsets point into the returned text: the generated part starts after the echoed prompt.
  EXPECT_EQ(lp["text_offset"][n].get<size_t>(), prompt.size());
  for (size_t i = 1; i < lp["text_offset"].size(); ++i)
    EXPECT_LE(lp["text_offset"][i - 1].get<int64_t>(), lp["text_offset"][i].get<int64_t>());

  // Streamed: the same logprobs, the prompt's in the first chunk.
  auto with = [&](const char* key, json value) {
    json b = body;
    b[key] = std::move(value);
    return b;
  };
  json streamed = json::object();
  for (const auto& e : post_stream("/v1/completions", with("stream", true))) {
    if (!e.is_object() || e["choices"].empty() || e["choices"][0]["logprobs"].is_null()) continue;
    for (const auto& [key, values] : e["choices"][0]["logprobs"].items())
      for (const auto& v : values) streamed[key].push_back(v);
  }
  EXPECT_EQ(streamed, lp);

  // max_tokens 0: only the prompt, scored.
  json only = post_ok("/v1/completions", with("max_tokens", 0));
  EXPECT_EQ(only["choices"][0]["text"], prompt);
  EXPECT_EQ(only["choices"][0]["finish_reason"], "length");
  EXPECT_EQ(only["usage"]["completion_tokens"], 0);
  EXPECT_EQ(only["choices"][0]["logprobs"]["tokens"].size(), n);
  EXPECT_FLOAT_EQ(only["choices"][0]["logprobs"]["token_logprobs"][n - 1].get<float>(), want[n - 1]);
}

TEST_F(GenerationTest, RepeatedPromptReportsCachedTokens) {
  std::string prompt;
  for (int i = 0; i < 8; ++i) prompt += "Once upon a time there was a little girl. ";
  json body = {{"prompt", prompt}, {"max_tokens", 2}, {"temperature", 0}};
  post_ok("/v1/completions", body);
  json again = post_ok("/v1/completions", body);
  EXPECT_GT(again["usage"]["prompt_tokens_details"]["cached_tokens"].get<int64_t>(), 0) << again;
}

TEST_F(GenerationTest, DisconnectMidStreamCancelsAndTheNextRequestWorks) {
  const json body = {{"prompt", "Once upon a time"}, {"max_tokens", 480}, {"ignore_eos", true},
                     {"temperature", 1.0}, {"stream", true}, {"n", 8}};
  const auto before = server_->scheduler().stats();
  {
    RawConnection conn(server_->port());
    conn.send_all(http_post_request("/v1/completions", body.dump()));
    const std::string head = conn.read_until("data: ", 1 << 16);
    ASSERT_NE(head.find("200"), std::string::npos) << head;
  }  // hang up
  // Every submitted request finishes (cancelled) without anyone reading it: bounded wait.
  auto& sched = server_->scheduler();
  EXPECT_TRUE(eventually([&] {
    auto s = sched.stats();
    return s.running == 0 && s.waiting == 0 && s.requests_finished == s.requests_submitted;
  }));
  EXPECT_LT(sched.stats().completion_tokens - before.completion_tokens, 8 * 480)
      << "the requests ran to the end: the disconnect was not noticed";
  json j = post_ok("/v1/completions", {{"prompt", "Once"}, {"max_tokens", 4}, {"temperature", 0}});
  EXPECT_EQ(j["choices"].size(), 1u);
}

TEST_F(GenerationTest, DisconnectWhileWaitingForANonStreamedReplyCancels) {
  auto& sched = server_->scheduler();
  const auto before = sched.stats();
  const json body = {{"prompt", "Once upon a time"}, {"max_tokens", 480}, {"ignore_eos", true},
                     {"temperature", 1.0}, {"n", 16}};
  {
    RawConnection conn(server_->port());
    conn.send_all(http_post_request("/v1/completions", body.dump()));
    ASSERT_TRUE(eventually([&] { return sched.stats().requests_submitted >= before.requests_submitted + 16; }));
  }
  ASSERT_TRUE(eventually([&] {
    auto s = sched.stats();
    return s.running == 0 && s.waiting == 0 && s.requests_finished == s.requests_submitted;
  }));
  const int64_t generated = sched.stats().completion_tokens - before.completion_tokens;
  EXPECT_LT(generated, 16 * 480) << "the requests ran to the end: the disconnect was not noticed";
}

TEST(QueueTest, FullQueueIs429WithRetryAfter) {
  TestServerConfig cfg;
  cfg.max_batch = 1;
  cfg.max_waiting = 1;
  TestServer server(cfg);
  const json long_body = {{"prompt", "Once upon a time"}, {"max_tokens", 480}, {"ignore_eos", true},
                          {"stream", true}};
  RawConnection first(server.port());
  first.send_all(http_post_request("/v1/completions", long_body.dump()));
  ASSERT_TRUE(eventually([&] { return server.scheduler().stats().running == 1; }));
  RawConnection second(server.port());
  second.send_all(http_post_request("/v1/completions", long_body.dump()));
  ASSERT_TRUE(eventually([&] { return server.scheduler().stats().waiting == 1; }));
  auto c = server.client();
  auto r = post_json(c, "/v1/completions", {{"prompt", "Once"}, {"max_tokens", 2}});
  ASSERT_TRUE(r);
  EXPECT_EQ(r->status, 429) << r->body;
  EXPECT_EQ(r->get_header_value("Retry-After"), "1");
  EXPECT_TRUE(json::parse(r->body)["error"]["message"].is_string());
  first.close();
  second.close();
  ASSERT_TRUE(eventually([&] { return server.scheduler().stats().running == 0; }));
  auto ok = post_json(c, "/v1/completions", {{"prompt", "Once"}, {"max_tokens", 2}});
  ASSERT_TRUE(ok);
  EXPECT_EQ(ok->status, 200) << ok->body;
}

TEST(TimeoutTest, ATimedOutRequestIs504OrEndsTheStreamWithAnError) {
  TestServerConfig cfg;
  cfg.request_timeout_ms = 1;  // no request of 480 tokens can finish in a millisecond
  TestServer server(cfg);
  auto c = server.client();
  const json body = {{"prompt", "Once upon a time"}, {"max_tokens", 480}, {"ignore_eos", true}};
  auto r = post_json(c, "/v1/completions", body);
  ASSERT_TRUE(r);
  EXPECT_EQ(r->status, 504) << r->body;
  const json e = json::parse(r->body)["error"];
  EXPECT_EQ(e["code"], "timeout") << e;
  EXPECT_NE(e["message"].get<std::string>().find("timed out"), std::string::npos) << e;

  json stream_body = body;
  stream_body["stream"] = true;
  auto s = post_json(c, "/v1/completions", stream_body);
  ASSERT_TRUE(s);
  EXPECT_EQ(s->status, 200);
  const auto events = sse_payloads(s->body);
  ASSERT_GE(events.size(), 2u);
  EXPECT_EQ(events.back(), "[DONE]");
  const json& last = events[events.size() - 2];
  ASSERT_TRUE(last.contains("error")) << last;
  EXPECT_EQ(last["error"]["code"], "timeout");
}

TEST(ShutdownTest, StopEndsStreamsWithAnErrorAndDone) {
  TestServer server;
  RawConnection conn(server.port());
  conn.send_all(http_post_request("/v1/completions",
                                  json({{"prompt", "Once upon a time"}, {"max_tokens", 480},
                                        {"ignore_eos", true}, {"stream", true}}).dump()));
  ASSERT_NE(conn.read_until("data: ", 1 << 16).find("200"), std::string::npos);
  server.stop();
  const std::string rest = conn.read_until("[DONE]", 1 << 22);
  EXPECT_NE(rest.find("shutting down"), std::string::npos) << rest.substr(rest.size() > 400 ? rest.size() - 400 : 0);
  EXPECT_NE(rest.find("data: [DONE]"), std::string::npos);
}

}  // namespace
}  // namespace lmkit::testing
