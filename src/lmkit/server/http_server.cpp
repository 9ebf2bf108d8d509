#include "lmkit/server/http_server.h"

#include <ctime>
#include <filesystem>

#include <httplib.h>

#include "lmkit/base/log.h"
#include "lmkit/engine/loaded_model.h"
#include "lmkit/engine/scheduler.h"
#include "lmkit/models/model.h"
#include "lmkit/server/api_error.h"
#include "lmkit/server/json_fields.h"
#include "lmkit/server/openai_request.h"
#include "lmkit/server/openai_response.h"
#include "lmkit/server/server_context.h"
#include "lmkit/server/web_assets.h"
#include "lmkit/tokenizer/tokenizer.h"

namespace lmkit::server {

void set_error(httplib::Response& res, int status, const std::string& message,
               const std::string& param, const std::string& code) {
  res.status = status;
  res.set_content(error_body(status, message, param, code), "application/json");
}

namespace {

using Handler = std::function<void(ServerContext&, const httplib::Request&, httplib::Response&)>;

// Runs a route, turning exceptions into OpenAI errors: ApiError as it says, lmkit::Error as a
// bad request (it names what was wrong with the input), anything else as a 500.
httplib::Server::Handler guarded(ServerContext& ctx, Handler fn) {
  return [&ctx, fn = std::move(fn)](const httplib::Request& req, httplib::Response& res) {
    try {
      fn(ctx, req, res);
    } catch (const ApiError& e) {
      res.status = e.status();
      if (e.status() == 429) res.set_header("Retry-After", "1");
      res.set_content(error_body(e), "application/json");
    } catch (const Error& e) {
      set_error(res, 400, e.what());
    } catch (const std::exception& e) {
      log_error(std::string("internal error on ") + req.path + ": " + e.what());
      set_error(res, 500, std::string("internal error: ") + e.what());
    }
  };
}

// Equal-time comparison, so the key cannot be guessed byte by byte from response times.
bool same_secret(const std::string& a, const std::string& b) {
  if (b.empty()) return false;
  unsigned char diff = a.size() == b.size() ? 0 : 1;
  for (size_t i = 0; i < a.size(); ++i) diff |= static_cast<unsigned char>(a[i] ^ b[i % b.size()]);
  return diff == 0;
}

// Route label for metrics: the known paths, everything else lumped together.
std::string route_label(const std::string& path) {
  static const char* known[] = {"/health", "/v1/models", "/v1/completions",
                                "/v1/chat/completions", "/tokenize", "/detokenize", "/metrics"};
  for (const char* k : known)
    if (path == k) return k;
  if (path.rfind("/v1/models/", 0) == 0) return "/v1/models/{id}";
  if (find_web_asset(path)) return "web";
  return "other";
}

void send_json(httplib::Response& res, const OJson& j) {
  res.set_content(dump(j), "application/json");
}

OJson model_card(const ServerContext& ctx) {
  OJson m;
  m["id"] = ctx.served_name();
  m["object"] = "model";
  m["created"] = ctx.started_at;
  m["owned_by"] = "lmkit";
  m["root"] = ctx.model.path();
  m["max_model_len"] = ctx.scheduler.context_size();
  return m;
}

void handle_models(ServerContext& ctx, const httplib::Request&, httplib::Response& res) {
  OJson j;
  j["object"] = "list";
  j["data"] = OJson::array({model_card(ctx)});
  send_json(res, j);
}

void handle_model(ServerContext& ctx, const httplib::Request& req, httplib::Response& res) {
  const std::string name = req.matches[1];
  for (const auto& n : ctx.options.model_names)
    if (n == name) return send_json(res, model_card(ctx));
  throw ApiError(404, "The model '" + name + "' does not exist", "model", "model_not_found");
}

const Tokenizer& require_tokenizer(const ServerContext& ctx) {
  if (!ctx.model.tokenizer())
    bad_request(ctx.model.path() + " has no tokenizer (no tokenizer.json); only token ids work");
  return *ctx.model.tokenizer();
}

// vLLM's shape: {"prompt": text, "add_special_tokens": true} or {"messages": [...],
// "add_generation_prompt": true} -> {"count", "max_model_len", "tokens"}.
void handle_tokenize(ServerContext& ctx, const httplib::Request& req, httplib::Response& res) {
  const Json body = parse_body(req.body);
  check_model_name(body, ctx.options.model_names);
  const Tokenizer& tok = require_tokenizer(ctx);
  std::vector<int32_t> ids;
  const auto prompt = get_string(body, "prompt");
  const Json* messages = get_array(body, "messages");
  if (prompt.has_value() == (messages != nullptr))
    bad_request("give exactly one of 'prompt' (a string) or 'messages' (a list)", "prompt");
  if (prompt) {
    ids = tok.encode(*prompt, get_bool(body, "add_special_tokens").value_or(true));
  } else {
    // As the chat route renders it (tools included), in the client's key order.
    ids = chat_prompt_ids(OJson::parse(req.body), ctx.model, ctx.tool_format);
  }
  OJson j;
  j["count"] = ids.size();
  j["max_model_len"] = ctx.scheduler.context_size();
  j["tokens"] = ids;
  if (get_bool(body, "return_token_strs").value_or(false)) {
    OJson strs = OJson::array();
    for (int32_t id : ids) strs.push_back(tok.id_to_token(id));
    j["token_strs"] = std::move(strs);
  }
  send_json(res, j);
}

void handle_detokenize(ServerContext& ctx, const httplib::Request& req, httplib::Response& res) {
  const Json body = parse_body(req.body);
  check_model_name(body, ctx.options.model_names);
  const Tokenizer& tok = require_tokenizer(ctx);
  const Json* tokens = get_array(body, "tokens");
  if (!tokens) bad_request("'tokens' (a list of token ids) is required", "tokens");
  const int64_t vocab = ctx.model.model().config().vocab_size;
  std::vector<int32_t> ids;
  for (size_t i = 0; i < tokens->size(); ++i) {
    const Json& v = (*tokens)[i];
    if (!v.is_number_integer() && !v.is_number_unsigned())
      bad_request("'tokens[" + std::to_string(i) + "]' must be an integer, got " + json_type_name(v),
                  "tokens");
    const bool in_range = v.is_number_unsigned() ? v.get<uint64_t>() < static_cast<uint64_t>(vocab)
                                                 : (v.get<int64_t>() >= 0 && v.get<int64_t>() < vocab);
    if (!in_range)
      bad_request("'tokens[" + std::to_string(i) + "]' is " + v.dump() +
                      ", outside the vocabulary [0, " + std::to_string(vocab) + ")", "tokens");
    ids.push_back(static_cast<int32_t>(v.get<int64_t>()));
  }
  OJson j;
  j["prompt"] = tok.decode(ids, get_bool(body, "skip_special_tokens").value_or(false));
  send_json(res, j);
}

void handle_health(ServerContext& ctx, const httplib::Request&, httplib::Response& res) {
  if (ctx.draining) return set_error(res, 503, "the server is shutting down");
  send_json(res, OJson{{"status", "ok"}});
}

// The chat page and its scripts (web/, embedded at build time).
void handle_web_asset(ServerContext&, const httplib::Request& req, httplib::Response& res) {
  const WebAsset* asset = find_web_asset(req.path);
  if (!asset) throw ApiError(404, "no route for GET " + req.path);
  res.set_content(asset->body.data(), asset->body.size(), std::string(asset->content_type).c_str());
}

void handle_metrics(ServerContext& ctx, const httplib::Request&, httplib::Response& res) {
  res.set_content(ctx.metrics.render(ctx.scheduler.stats()), "text/plain; version=0.0.4");
}

// httplib 0.11 listens with a backlog of 5; under a burst of clients (64 streams at once) the
// kernel then drops connections it cannot queue. Listening again on the same socket only
// raises the backlog (Linux), so the subclass exposes the socket for that.
class Listener : public httplib::Server {
 public:
  void raise_backlog() {
    const socket_t fd = svr_sock_;
    if (fd != INVALID_SOCKET) ::listen(fd, SOMAXCONN);
  }
};

std::string default_model_name(const std::string& path) {
  std::filesystem::path p(path);
  if (p.filename().empty()) p = p.parent_path();
  return p.filename().string();
}

}  // namespace

struct HttpServer::Impl {
  ServerContext ctx;
  Listener http;
  int port = -1;
  std::mutex stop_mutex;
  bool stopped = false;

  Impl(const engine::LoadedModel& model, engine::Scheduler& scheduler, ServerOptions options)
      : ctx(model, scheduler, std::move(options)) {
    if (ctx.options.model_names.empty()) ctx.options.model_names.push_back(default_model_name(model.path()));
    // The full path also works as a name (clients often send what they passed to serve).
    ctx.options.model_names.push_back(model.path());
    ctx.started_at = static_cast<int64_t>(std::time(nullptr));
    ctx.tool_format = resolve_tool_format(ctx.options.tool_parser, model);
    routes();
  }

  void routes() {
    const int threads = std::max(1, ctx.options.http_threads);
    http.new_task_queue = [threads] { return new httplib::ThreadPool(static_cast<size_t>(threads)); };
    http.set_payload_max_length(ctx.options.max_body_bytes);
    http.set_tcp_nodelay(true);

    http.set_pre_routing_handler([this](const httplib::Request& req, httplib::Response& res) {
      // The page and its scripts hold no data; the API calls they make need the key.
      const bool open_path = req.path == "/health" || (req.method == "GET" && find_web_asset(req.path));
      if (ctx.options.api_key.empty() || open_path)
        return httplib::Server::HandlerResponse::Unhandled;
      const std::string auth = req.get_header_value("Authorization");
      const std::string prefix = "Bearer ";
      if (auth.rfind(prefix, 0) == 0 && same_secret(auth.substr(prefix.size()), ctx.options.api_key))
        return httplib::Server::HandlerResponse::Unhandled;
      res.set_header("WWW-Authenticate", "Bearer");
      set_error(res, 401,
                auth.empty() ? "missing API key: send 'Authorization: Bearer <key>'"
                             : "incorrect API key",
                "", "invalid_api_key");
      return httplib::Server::HandlerResponse::Handled;
    });
    // httplib's own errors (no route, body too large, unparsable request) come without a
    // body; give them the OpenAI shape. Replies the routes made already have one.
    http.set_error_handler(httplib::Server::HandlerWithResponse([](const httplib::Request& req,
                                                                   httplib::Response& res) {
      if (!res.body.empty()) return httplib::Server::HandlerResponse::Unhandled;
      std::string message;
      switch (res.status) {
        case 404: message = "no route for " + req.method + " " + req.path; break;
        case 405: message = "method " + req.method + " not allowed on " + req.path; break;
        case 413: message = "the request body is too large"; break;
        case 499: return httplib::Server::HandlerResponse::Unhandled;
        default: message = "the request could not be processed (HTTP " + std::to_string(res.status) + ")";
      }
      set_error(res, res.status, message, "", res.status == 413 ? "request_too_large" : "");
      return httplib::Server::HandlerResponse::Handled;
    }));
    http.set_logger([this](const httplib::Request& req, const httplib::Response& res) {
      ctx.metrics.count_request(route_label(req.path), res.status);
    });

    http.Get("/health", guarded(ctx, handle_health));
    http.Get("/|/index\\.html|/assets/.+", guarded(ctx, handle_web_asset));
    http.Get("/v1/models", guarded(ctx, handle_models));
    http.Get("/v1/models/(.+)", guarded(ctx, handle_model));
    http.Post("/tokenize", guarded(ctx, handle_tokenize));
    http.Post("/detokenize", guarded(ctx, handle_detokenize));
    http.Get("/metrics", guarded(ctx, handle_metrics));
    http.Post("/v1/completions", guarded(ctx, handle_completions));
    http.Post("/v1/chat/completions", guarded(ctx, handle_chat_completions));
  }
};

HttpServer::HttpServer(const engine::LoadedModel& model, engine::Scheduler& scheduler,
                       ServerOptions options)
    : impl_(std::make_unique<Impl>(model, scheduler, std::move(options))) {}

HttpServer::~HttpServer() { stop(); }

int HttpServer::bind() {
  const auto& o = impl_->ctx.options;
  if (o.port == 0) {
    impl_->port = impl_->http.bind_to_any_port(o.host);
    if (impl_->port < 0) throw_error("cannot listen on " + o.host + " (any port)");
  } else {
    if (!impl_->http.bind_to_port(o.host, o.port))
      throw_error("cannot listen on " + o.host + ":" + std::to_string(o.port) +
                  " (in use, or not an address of this machine?): pick another --port or --host");
    impl_->port = o.port;
  }
  impl_->http.raise_backlog();
  return impl_->port;
}

int HttpServer::port() const { return impl_->port; }

void HttpServer::run() {
  if (impl_->port < 0) throw_error("HttpServer::run() before bind()");
  impl_->http.listen_after_bind();
}

void HttpServer::stop() {
  std::lock_guard lock(impl_->stop_mutex);
  if (impl_->stopped) return;
  impl_->stopped = true;
  ServerContext& ctx = impl_->ctx;
  ctx.draining = true;
  // Every queued and running request finishes now (as cancelled, with an error the replies
  // carry); give their writers a bounded time to send it before the listener goes.
  ctx.scheduler.shutdown();
  {
    std::unique_lock wait(ctx.inflight_mutex);
    ctx.inflight_cv.wait_for(wait, std::chrono::seconds(10), [&] { return ctx.inflight == 0; });
  }
  impl_->http.stop();
}

}  // namespace lmkit::server
