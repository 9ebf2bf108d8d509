// What every route handler shares (internal to the server layer).
#pragma once
#include <atomic>
#include <chrono>
#include <condition_variable>
#include <mutex>
#include <string>

#include <memory>

#include "lmkit/server/http_server.h"
#include "lmkit/server/metrics.h"
#include "lmkit/server/tool_calls.h"

namespace httplib {
struct Request;
struct Response;
}  // namespace httplib

namespace lmkit::server {

class TokenPieces;

struct ServerContext {
  ServerContext(const engine::LoadedModel& m, engine::Scheduler& s, ServerOptions o)
      : model(m), scheduler(s), options(std::move(o)) {}
  const engine::LoadedModel& model;
  engine::Scheduler& scheduler;
  ServerOptions options;
  Metrics metrics;
  std::atomic<bool> draining{false};
  int64_t started_at = 0;  // unix seconds, for /v1/models "created"
  ToolFormat tool_format = ToolFormat::None;  // set at start-up (resolve_tool_format)

  // Generation replies not yet fully written (a stream counts until its last byte), so that
  // stop() lets them finish before the listener goes away.
  std::mutex inflight_mutex;
  std::condition_variable inflight_cv;
  int64_t inflight = 0;
  void begin_reply() {
    std::lock_guard lock(inflight_mutex);
    ++inflight;
  }
  void end_reply() {
    std::lock_guard lock(inflight_mutex);
    if (--inflight == 0) inflight_cv.notify_all();
  }

  const std::string& served_name() const { return options.model_names.front(); }

  // What each token spells, for JSON-constrained decoding; built on first use.
  std::shared_ptr<const TokenPieces> token_pieces();
  std::once_flag token_pieces_once;
  std::shared_ptr<const TokenPieces> token_pieces_;
};

// Sets an OpenAI-shaped JSON error on the response.
void set_error(httplib::Response& res, int status, const std::string& message,
               const std::string& param = "", const std::string& code = "");

// POST /v1/completions and /v1/chat/completions (generation_route.cpp). Throws ApiError and
// lmkit::Error for bad requests, like every handler; the router formats them.
void handle_completions(ServerContext& ctx, const httplib::Request& req, httplib::Response& res);
void handle_chat_completions(ServerContext& ctx, const httplib::Request& req,
                             httplib::Response& res);

}  // namespace lmkit::server
