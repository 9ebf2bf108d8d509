// `lmkit serve MODEL`: the OpenAI-compatible HTTP server (src/lmkit/server) over the
// continuous-batching Scheduler. SIGINT/SIGTERM stop it cleanly: queued and running requests
// are finished as cancelled (their clients get an error reply), then the process exits 0.
#include <pthread.h>
#include <signal.h>

#include <atomic>
#include <cstdio>
#include <fstream>
#include <sstream>
#include <thread>

#include <fmt/format.h>

#include "lmkit/base/error.h"
#include "lmkit/base/thread_pool.h"
#include "lmkit/cli/command.h"
#include "lmkit/cli/generation_options.h"
#include "lmkit/engine/loaded_model.h"
#include "lmkit/engine/scheduler.h"
#include "lmkit/models/model.h"
#include "lmkit/server/http_server.h"

namespace lmkit::cli {
namespace {

struct ServeArgs {
  ModelArgs model;
  std::string host = "127.0.0.1";
  int port = 8000;
  std::string api_key, api_key_file, alias;
  int64_t max_batch = 16;
  int64_t max_waiting = 256;
  int64_t kv_cache_bytes = 0;
  double kv_cache_fraction = 0.5;
  double timeout_s = 0;
  int http_threads = 128;
  int64_t max_body_mb = 16;
  std::string random_shape, random_type = "bf16", tokenizer;
  std::string tool_parser;  // empty: from the chat template
};

std::string read_key_file(const std::string& path) {
  std::ifstream in(path);
  if (!in) throw_error("--api-key-file " + path + ": cannot read it");
  std::stringstream ss;
  ss << in.rdbuf();
  std::string key = ss.str();
  while (!key.empty() && (key.back() == '\n' || key.back() == '\r' || key.back() == ' '))
    key.pop_back();
  if (key.empty()) throw_error("--api-key-file " + path + " is empty");
  if (key.find_first_of("\r\n") != std::string::npos)
    throw_error("--api-key-file " + path + " must hold one key on one line");
  return key;
}

std::string mib(int64_t bytes) { return fmt::format("{:.1f} MiB", static_cast<double>(bytes) / (1 << 20)); }

int serve_command(const ServeArgs& a) {
  if (!a.api_key.empty() && !a.api_key_file.empty())
    throw_error("give --api-key or --api-key-file, not both");
  server::ServerOptions so;
  so.host = a.host;
  so.port = a.port;
  so.api_key = a.api_key_file.empty() ? a.api_key : read_key_file(a.api_key_file);
  if (!a.alias.empty()) so.model_names.push_back(a.alias);
  so.http_threads = a.http_threads;
  so.max_body_bytes = static_cast<size_t>(a.max_body_mb) << 20;
  so.request_timeout_ms = static_cast<int64_t>(a.timeout_s * 1000.0);
  so.tool_parser = a.tool_parser;

  // Signals are taken by one thread with sigwait, so block them before any thread starts
  // (every thread inherits the mask). SIGPIPE from a client that went away is not fatal.
  sigset_t stop_signals;
  sigemptyset(&stop_signals);
  sigaddset(&stop_signals, SIGINT);
  sigaddset(&stop_signals, SIGTERM);
  pthread_sigmask(SIG_BLOCK, &stop_signals, nullptr);
  signal(SIGPIPE, SIG_IGN);

  if (a.model.model.empty() == a.random_shape.empty())
    throw_error("serve: give either a MODEL or --random SHAPE (one of them)");
  if (!a.tokenizer.empty() && a.random_shape.empty())
    throw_error("serve: --tokenizer goes with --random (a model brings its own tokenizer)");
  engine::LoadOptions lo = load_options(a.model);
  lo.random_shape = a.random_shape;
  lo.random_weight_type = a.random_type;
  lo.tokenizer_path = a.tokenizer;
  engine::LoadedModel model = engine::load_model(a.model.model, lo);
  ThreadPool pool(a.model.threads);
  engine::EngineConfig ec;
  ec.max_batch_size = a.max_batch;
  ec.context_size = a.model.ctx_size;
  ec.kv_cache_bytes = a.kv_cache_bytes;
  ec.kv_cache_fraction = a.kv_cache_fraction;
  ec.max_waiting = a.max_waiting;
  engine::Scheduler scheduler(model, pool, ec);
  server::HttpServer http(model, scheduler, so);
  const int port = http.bind();

  const int64_t ctx = scheduler.context_size();
  const int64_t capacity = scheduler.kv_capacity_tokens();
  std::fprintf(stderr,
               "lmkit serve: %s (%s), context %lld, KV cache %s = %lld tokens (%.1f full-length "
               "sequences), max batch %lld, %d threads, listening on http://%s:%d%s\n",
               model.path().c_str(), model.weight_type().c_str(), static_cast<long long>(ctx),
               mib(scheduler.kv_cache_bytes()).c_str(), static_cast<long long>(capacity),
               static_cast<double>(capacity) / static_cast<double>(ctx),
               static_cast<long long>(a.max_batch), pool.size(), a.host.c_str(), port,
               so.api_key.empty() ? "" : " (API key required)");
  std::fflush(stderr);

  std::atomic<bool> serving{true};
  std::atomic<int> got_signal{0};
  std::thread signal_waiter([&] {
    const timespec tick{0, 200 * 1000 * 1000};
    while (serving) {
      const int sig = sigtimedwait(&stop_signals, nullptr, &tick);
      if (sig == SIGINT || sig == SIGTERM) {
        got_signal = sig;
        http.stop();
        return;
      }
    }
  });
  http.run();
  serving = false;
  signal_waiter.join();
  http.stop();
  if (got_signal)
    std::fprintf(stderr, "lmkit serve: stopped on %s\n", got_signal == SIGINT ? "SIGINT" : "SIGTERM");
  return 0;
}

Runner setup_serve(CLI::App& app) {
  auto a = std::make_shared<ServeArgs>();
  app.add_option("model", a->model.model,
                 "Model: a Hugging Face model directory, a .gguf file, or ORG/NAME in the "
                 "Hugging Face cache");
  std::string shapes;
  for (const auto& s : random_shape_names()) shapes += (shapes.empty() ? "" : ", ") + s;
  app.add_option("--random", a->random_shape,
                 "Serve a model of this real shape with random weights (benchmarks): " + shapes);
  app.add_option("--type", a->random_type, "Weight type for --random (f32, f16, bf16, q8_0, q4_0)")
      ->capture_default_str();
  app.add_option("--tokenizer", a->tokenizer,
                 "Tokenizer for --random: a tokenizer file or a directory with tokenizer.json and "
                 "tokenizer_config.json (without one, prompts must be token ids)");
  app.add_option("--host", a->host, "Address to listen on (default 127.0.0.1: this machine only)");
  app.add_option("--port", a->port, "Port to listen on (0: any free port)")->check(CLI::Range(0, 65535));
  app.add_option("--api-key", a->api_key, "Require 'Authorization: Bearer KEY' on every route but /health");
  app.add_option("--api-key-file", a->api_key_file, "Read the API key from this file");
  app.add_option("--alias", a->alias, "Model name clients use and responses report (default: the file or folder name)");
  app.add_option("-c,--ctx,--ctx-size", a->model.ctx_size,
                 "Positions per sequence, prompt + completion (default: the model's, at most 4096)")
      ->check(CLI::Range(int64_t{1}, int64_t{1} << 24));
  app.add_option("--max-batch", a->max_batch, "Sequences decoded at once")->check(CLI::Range(int64_t{1}, int64_t{4096}));
  app.add_option("--max-waiting", a->max_waiting, "Queued requests before 429")->check(CLI::Range(int64_t{0}, int64_t{1} << 20));
  auto* bytes = app.add_option("--kv-cache-bytes", a->kv_cache_bytes, "KV cache size in bytes")
                    ->check(CLI::Range(int64_t{1}, int64_t{1} << 50));
  app.add_option("--kv-cache-fraction", a->kv_cache_fraction,
                 "KV cache size as a fraction of available memory (default 0.5)")
      ->check(CLI::Range(0.001, 0.95))->excludes(bytes);
  app.add_option("--timeout", a->timeout_s, "Seconds a generation request may take (0: no limit)")
      ->check(CLI::Range(0.0, 1e7));
  app.add_option("--http-threads", a->http_threads, "Connections served at once (a stream holds one)")
      ->check(CLI::Range(1, 4096));
  app.add_option("--max-body-mb", a->max_body_mb, "Largest request body in MiB (larger: 413)")
      ->check(CLI::Range(int64_t{1}, int64_t{4096}));
  app.add_option("--tool-parser", a->tool_parser,
                 "How the model writes tool calls (default: what its chat template renders)")
      ->check(CLI::IsMember({"qwen", "hermes", "llama3", "mistral", "none"}));
  add_thread_arg(app, a->model.threads);
  app.add_option("--chat-template", a->model.chat_template, "A file with a Jinja chat template replacing the model's");
  app.add_flag("--pull", a->model.pull, "Download ORG/NAME from the hub if it is not in the cache");
  return [a] { return serve_command(*a); };
}

const Registration registration("serve", "Serve a model over an OpenAI-compatible HTTP API",
                                setup_serve);

}  // namespace
}  // namespace lmkit::cli
