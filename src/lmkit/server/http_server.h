// The OpenAI-compatible HTTP server over one Scheduler: routes, auth, errors, streaming,
// metrics. cpp-httplib stays out of this header (compile time): the routes live in the .cpp.
//
// Threads: httplib's pool runs one handler per connection; handlers only parse, submit to the
// Scheduler, wait for events and write. The Scheduler's own thread runs the model.
#pragma once
#include <cstddef>
#include <cstdint>
#include <memory>
#include <string>
#include <vector>

namespace lmkit::engine {
class LoadedModel;
class Scheduler;
}  // namespace lmkit::engine

namespace lmkit::server {

struct ServerOptions {
  std::string host = "127.0.0.1";
  int port = 8000;  // 0: any free port (see HttpServer::port())
  // Empty: no auth. Otherwise every route but /health needs "Authorization: Bearer <key>".
  std::string api_key;
  // The names "model" may take in requests; the first is reported in /v1/models and responses.
  std::vector<std::string> model_names;
  int http_threads = 128;  // connections served at once (a streaming reply holds one)
  size_t max_body_bytes = size_t{16} << 20;  // larger request bodies get 413
  int64_t request_timeout_ms = 0;  // per generation request; 0: none
  // How the model writes tool calls: qwen (hermes), llama3, mistral or none; empty: found from
  // the chat template (see tool_calls_request.h).
  std::string tool_parser;
};

class HttpServer {
 public:
  // `model` and `scheduler` must outlive the server.
  HttpServer(const engine::LoadedModel& model, engine::Scheduler& scheduler, ServerOptions options);
  ~HttpServer();
  HttpServer(const HttpServer&) = delete;
  HttpServer& operator=(const HttpServer&) = delete;

  // Binds the listening socket (throws lmkit::Error saying why it failed); returns the port.
  int bind();
  int port() const;
  // Serves until stop(); call bind() first.
  void run();
  // Thread-safe, idempotent. New requests get 503; the scheduler is shut down, which finishes
  // every queued and running request as cancelled (streams end with an error event); then
  // the listener stops and run() returns once in-flight handlers have written their replies.
  void stop();

 private:
  struct Impl;
  std::unique_ptr<Impl> impl_;
};

}  // namespace lmkit::server
