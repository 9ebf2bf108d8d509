// A real lmkit server on 127.0.0.1 (any free port) over stories260K, in-process, plus helpers
// to talk to it with httplib::Client and raw sockets.
#pragma once
#include <memory>
#include <string>
#include <thread>
#include <vector>

#include <gtest/gtest.h>
#include <httplib.h>
#include <nlohmann/json.hpp>

#include "lmkit/base/thread_pool.h"
#include "lmkit/engine/loaded_model.h"
#include "lmkit/engine/scheduler.h"
#include "lmkit/server/http_server.h"

namespace lmkit::testing {

struct TestServerConfig {
  std::string api_key;
  int64_t context = 512;
  int64_t max_batch = 16;
  int64_t max_waiting = 256;
  size_t max_body_bytes = size_t{1} << 20;
  int64_t request_timeout_ms = 0;
  std::string chat_template_file;  // empty: the small template below
  std::string tool_parser;         // ServerOptions::tool_parser
};

// stories260K with a small chat template (or the one in chat_template_file), so both
// endpoints work.
engine::LoadedModel load_test_model(int64_t context, const std::string& chat_template_file = "");

class TestServer {
 public:
  explicit TestServer(TestServerConfig config = {});
  ~TestServer();
  int port() const { return port_; }
  httplib::Client client() const;
  engine::Scheduler& scheduler() { return *scheduler_; }
  const engine::LoadedModel& model() const { return model_; }
  void stop();

 private:
  engine::LoadedModel model_;
  ThreadPool pool_{1};
  std::unique_ptr<engine::Scheduler> scheduler_;
  std::unique_ptr<server::HttpServer> http_;
  std::thread thread_;
  int port_ = 0;
};

// One default TestServer per test suite, for suites whose tests share a server.
class SharedServerTest : public ::testing::Test {
 protected:
  static void SetUpTestSuite() { server_ = new TestServer(); }
  static void TearDownTestSuite() {
    delete server_;
    server_ = nullptr;
  }
  static inline TestServer* server_ = nullptr;
};

// POST a JSON body; returns the result (status 0 / no body when the connection failed).
httplib::Result post_json(httplib::Client& c, const std::string& path, const nlohmann::json& body);

// The JSON payloads of "data: ..." events of an SSE body, in order; "[DONE]" comes back as a
// string json.
std::vector<nlohmann::json> sse_payloads(const std::string& body);

// A raw TCP connection, for what httplib::Client cannot do (hang up mid-stream, send a bogus
// Content-Length).
class RawConnection {
 public:
  explicit RawConnection(int port);
  ~RawConnection();
  void send_all(const std::string& data);  // returns quietly if the peer closed
  std::string read_some(size_t max_bytes);  // "" at end of stream
  std::string read_until(const std::string& marker, size_t max_bytes);
  void close();

 private:
  int fd_ = -1;
};

std::string http_post_request(const std::string& path, const std::string& body);

// Polls `done` every 20 ms, at most `tries` times (a bounded wait, not a timing assertion).
bool eventually(const std::function<bool()>& done, int tries = 500);

}  // namespace lmkit::testing
