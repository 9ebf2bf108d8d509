// 64 concurrent streaming clients against the tiny model with a small queue: every request
// either completes its stream ([DONE] after a finish_reason) or gets a 429; afterwards no KV
// block is held by a sequence, nothing is queued or running, and no thread was leaked.
#include <dirent.h>

#include <atomic>
#include <thread>

#include <gtest/gtest.h>

#include "server_fixture.h"

namespace lmkit::testing {
namespace {

using nlohmann::json;

int thread_count() {
  int n = 0;
  if (DIR* d = opendir("/proc/self/task")) {
    while (dirent* e = readdir(d))
      if (e->d_name[0] != '.') ++n;
    closedir(d);
  }
  return n;
}

TEST(Load, SixtyFourStreamsCompleteOrGet429AndNothingLeaks) {
  TestServerConfig cfg;
  cfg.max_batch = 16;
  cfg.max_waiting = 24;
  TestServer server(cfg);
  {
    // The server's thread pool starts with its listener: count threads once it answers.
    auto warm = server.client();
    ASSERT_TRUE(warm.Get("/health"));
  }
  const int threads_before = thread_count();
  std::atomic<int> completed{0}, rejected{0}, other{0};
  std::vector<std::string> failures(64);
  std::vector<std::thread> clients;
  for (int i = 0; i < 64; ++i) {
    clients.emplace_back([&, i] {
      auto c = server.client();
      json body = {{"prompt", "Once upon a time"}, {"max_tokens", 48}, {"temperature", 0.7},
                   {"seed", i}, {"stream", true}};
      auto r = post_json(c, "/v1/completions", body);
      if (r && r->status == 429) {
        ++rejected;
        return;
      }
      if (!r || r->status != 200) {
        failures[i] = r ? r->body : "no response: " + httplib::to_string(r.error());
        ++other;
        return;
      }
      auto events = sse_payloads(r->body);
      bool finished = false;
      for (const auto& e : events)
        if (e.is_object() && !e["choices"].empty() && !e["choices"][0]["finish_reason"].is_null())
          finished = true;
      if (finished && !events.empty() && events.back() == "[DONE]") {
        ++completed;
      } else {
        failures[i] = r->body;
        ++other;
      }
    });
  }
  for (auto& t : clients) t.join();
  for (const auto& f : failures) EXPECT_TRUE(f.empty()) << f;
  EXPECT_EQ(completed + rejected, 64);
  EXPECT_EQ(other, 0);
  EXPECT_GT(completed, 0);

  auto& sched = server.scheduler();
  EXPECT_TRUE(eventually([&] {
    const auto s = sched.stats();
    return s.running == 0 && s.waiting == 0 && s.requests_finished == s.requests_submitted;
  }));
  const auto s = sched.stats();
  EXPECT_EQ(s.kv_blocks_free + s.kv_blocks_cached, s.kv_blocks_total) << "KV blocks leaked";
  EXPECT_EQ(s.requests_rejected, rejected.load());
  EXPECT_TRUE(eventually([&] { return thread_count() <= threads_before; }))
      << thread_count() << " threads after, " << threads_before << " before";
  auto c = server.client();
  auto h = c.Get("/health");
  ASSERT_TRUE(h);
  EXPECT_EQ(h->status, 200);
}

TEST(Load, SlowReaderAndHeaderFloodLeaveTheServerUp) {
  TestServer server;
  // A client that sends a stream request and reads nothing for a while.
  RawConnection slow(server.port());
  slow.send_all(http_post_request(
      "/v1/completions",
      json({{"prompt", "Once upon a time"}, {"max_tokens", 400}, {"ignore_eos", true}, {"stream", true}}).dump()));
  // A request with thousands of headers.
  RawConnection flood(server.port());
  std::string req = "GET /health HTTP/1.1\r\nHost: x\r\n";
  for (int i = 0; i < 5000; ++i) req += "X-Flood-" + std::to_string(i) + ": " + std::string(100, 'a') + "\r\n";
  req += "\r\n";
  flood.send_all(req);
  const std::string flood_reply = flood.read_some(4096);
  flood.close();
  // Whatever the flood got (an error or nothing), the server keeps serving others meanwhile.
  auto c = server.client();
  auto r = post_json(c, "/v1/completions", {{"prompt", "Once"}, {"max_tokens", 4}});
  ASSERT_TRUE(r);
  EXPECT_EQ(r->status, 200) << r->body;
  // The slow reader still gets its whole stream.
  const std::string all = slow.read_until("data: [DONE]", 1 << 24);
  EXPECT_NE(all.find("data: [DONE]"), std::string::npos);
  (void)flood_reply;
}

}  // namespace
}  // namespace lmkit::testing
