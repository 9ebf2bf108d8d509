// POST /v1/completions and /v1/chat/completions over the Scheduler.
//
// A request with P prompts and n choices becomes P*n scheduler requests submitted all or
// nothing; choice index = prompt * n + sample (as vLLM numbers them). The scheduler thread
// hands each Event to an Inbox; the handler thread (non-streaming) or the chunked content
// provider (streaming) drains it, watching the socket so a client that went away is cancelled
// within one wait (kPollInterval) plus one engine step.
#include <chrono>
#include <condition_variable>
#include <ctime>
#include <deque>
#include <memory>
#include <mutex>
#include <optional>

#include <httplib.h>

#include "lmkit/engine/loaded_model.h"
#include "lmkit/engine/scheduler.h"
#include "lmkit/models/model.h"
#include "lmkit/server/api_error.h"
#include "lmkit/server/json_constraint.h"
#include "lmkit/server/openai_request.h"
#include "lmkit/server/openai_response.h"
#include "lmkit/server/server_context.h"
#include "lmkit/server/socket_watch.h"
#include "lmkit/server/tool_calls.h"
#include "lmkit/server/tool_calls_constraint.h"
#include "lmkit/tokenizer/tokenizer.h"

namespace lmkit::server {

namespace {

using Clock = std::chrono::steady_clock;
constexpr auto kPollInterval = std::chrono::milliseconds(100);

struct ChoiceEvent {
  size_t choice;
  engine::Event event;
};

// Events from the scheduler thread to the thread writing the reply.
class Inbox {
 public:
  void push(size_t choice, const engine::Event& e) {
    {
      std::lock_guard lock(mutex_);
      events_.push_back({choice, e});
    }
    cv_.notify_one();
  }
  // Whatever arrived, waiting up to `timeout` for the first one.
  std::deque<ChoiceEvent> take(std::chrono::milliseconds timeout) {
    std::unique_lock lock(mutex_);
    cv_.wait_for(lock, timeout, [&] { return !events_.empty(); });
    std::deque<ChoiceEvent> out;
    out.swap(events_);
    return out;
  }

 private:
  std::mutex mutex_;
  std::condition_variable cv_;
  std::deque<ChoiceEvent> events_;
};

struct Choice {
  std::string text;
  std::vector<int32_t> ids;
  std::vector<engine::PositionLogprobs> logprobs;
  std::vector<engine::PositionLogprobs> prompt_logprobs;  // echo + logprobs
  bool prompt_logprobs_sent = false;                       // streaming: in the first chunk
  bool finished = false;
  bool started = false;  // streaming: the first chunk (role / echo) went out
  engine::Event last;    // the final event once finished
  std::optional<ToolCallStream> tool_stream;  // streaming with tools: holds back a call
};

// One HTTP generation request in flight: its scheduler ids and everything received so far.
struct Generation {
  ServerContext& ctx;
  GenerationRequest request;
  std::string id;
  int64_t created = 0;
  std::vector<uint64_t> scheduler_ids;
  std::shared_ptr<Inbox> inbox = std::make_shared<Inbox>();
  std::vector<Choice> choices;
  size_t unfinished = 0;
  bool cancelled = false;
  std::unique_ptr<ConnectionWatch> watch;

  Generation(ServerContext& c, GenerationRequest r) : ctx(c), request(std::move(r)) {}
  ~Generation() { cancel(); }

  bool chat() const { return request.endpoint == Endpoint::ChatCompletions; }
  size_t prompt_of(size_t choice) const { return choice / static_cast<size_t>(request.n); }

  void submit() {
    std::vector<engine::Request> requests;
    std::vector<engine::EventCallback> callbacks;
    const size_t n = static_cast<size_t>(request.n);
    for (size_t p = 0; p < request.prompts.size(); ++p) {
      for (size_t k = 0; k < n; ++k) {
        engine::Request er;
        er.prompt = request.prompts[p];
        er.options = request.options;
        er.options.sampling.seed += k;
        er.timeout_ms = ctx.options.request_timeout_ms;
        if (echoes_prompt_logprobs()) er.prompt_logprobs = request.top_logprobs;
        if (request.json_schema)
          er.constraint = make_json_schema_constraint(ctx.token_pieces(), request.json_schema,
                                                      er.options.eos_token_ids);
        else if (!request.tools.forced.empty())
          er.constraint = make_tool_call_constraint(ctx.token_pieces(), request.tools.format,
                                                    request.tools.forced, er.options.eos_token_ids);
        requests.push_back(std::move(er));
        callbacks.push_back(make_callback(p * n + k));
      }
    }
    choices.resize(requests.size());
    unfinished = requests.size();
    try {
      scheduler_ids = ctx.scheduler.submit_all(std::move(requests), std::move(callbacks));
    } catch (const engine::QueueFullError& e) {
      if (ctx.draining) throw ApiError(503, "the server is shutting down");
      throw ApiError(429, std::string("the server is busy: ") + e.what(), "", "queue_full");
    }
  }

  // Runs on the scheduler thread: queue the event, record latency metrics, nothing more.
  engine::EventCallback make_callback(size_t choice) {
    struct Timing {
      Clock::time_point submitted = Clock::now(), last;
      bool first = true;
    };
    auto timing = std::make_shared<Timing>();
    return [inbox = inbox, &metrics = ctx.metrics, timing, choice](const engine::Event& e) {
      if (!e.ids.empty()) {
        const auto now = Clock::now();
        if (timing->first) {
          metrics.observe_time_to_first_token(
              std::chrono::duration<double>(now - timing->submitted).count());
          timing->first = false;
          for (size_t i = 1; i < e.ids.size(); ++i) metrics.observe_inter_token(0.0);
        } else {
          const double each = std::chrono::duration<double>(now - timing->last).count() /
                              static_cast<double>(e.ids.size());
          for (size_t i = 0; i < e.ids.size(); ++i) metrics.observe_inter_token(each);
        }
        timing->last = now;
      }
      inbox->push(choice, e);
    };
  }

  void cancel() {
    if (cancelled || unfinished == 0) return;
    cancelled = true;
    for (uint64_t id : scheduler_ids) ctx.scheduler.cancel(id);
  }

  void apply(const ChoiceEvent& ce) {
    Choice& c = choices[ce.choice];
    const engine::Event& e = ce.event;
    c.text += e.text;
    c.ids.insert(c.ids.end(), e.ids.begin(), e.ids.end());
    c.logprobs.insert(c.logprobs.end(), e.logprobs.begin(), e.logprobs.end());
    if (!e.prompt_logprobs.empty()) c.prompt_logprobs = e.prompt_logprobs;
    if (e.finished && !c.finished) {
      c.finished = true;
      c.last = e;
      --unfinished;
    }
  }

  // The first engine error among finished choices (timeout, shutdown), if any.
  const engine::Event* engine_error() const {
    for (const auto& c : choices)
      if (c.finished && !c.last.error.empty()) return &c.last;
    return nullptr;
  }
  ApiError error_for(const engine::Event& e) const {
    if (ctx.draining) return ApiError(503, e.error);
    if (e.error.find("timed out") != std::string::npos) return ApiError(504, e.error, "", "timeout");
    return ApiError(500, e.error);
  }

  OJson usage() const {
    int64_t prompt = 0, cached = 0, completion = 0;
    for (size_t i = 0; i < choices.size(); ++i) {
      completion += static_cast<int64_t>(choices[i].ids.size());
      // The prompt counts once per prompt, not per sample (as OpenAI bills it); its cached
      // share is what the first sample found in the prefix cache.
      if (i % static_cast<size_t>(request.n) == 0) {
        prompt += static_cast<int64_t>(request.prompts[prompt_of(i)].size());
        cached += choices[i].last.cached_prompt_tokens;
      }
    }
    return usage_json(prompt, completion, cached);
  }

  static const char* finish_name(const engine::Event& e) {
    return engine::finish_reason_name(e.finish_reason);
  }

  // Completions with echo + logprobs: the prompt's tokens lead the choice's logprobs, as
  // OpenAI's legacy completions give them.
  bool echoes_prompt_logprobs() const { return !chat() && request.echo && request.logprobs; }

  // Byte offsets in the choice's text (echoed prompt + generated text) of prompt tokens
  // [0, n_prompt) when `prompt_part`, else of generated tokens [from, end): the length of what
  // the tokens before each decode to, generated ones decoded after the prompt so that a
  // SentencePiece word start keeps its space. Computed from the whole sequence, so streamed
  // chunks and whole replies agree.
  std::vector<int64_t> text_offsets(const Choice& c, size_t choice, bool prompt_part, size_t from) const {
    const Tokenizer* tok = ctx.model.tokenizer();
    const std::vector<int32_t>& prompt = request.prompts[prompt_of(choice)];
    std::vector<int64_t> out;
    if (!tok) {  // ids only: the text is empty
      out.assign(prompt_part ? prompt.size() : c.ids.size() - std::min(from, c.ids.size()), 0);
      return out;
    }
    auto decoded_size = [&](std::vector<int32_t> ids) {
      return static_cast<int64_t>(tok->decode(ids, /*skip_special_tokens=*/true).size());
    };
    const auto echo_size = static_cast<int64_t>(request.echo ? request.prompt_texts[prompt_of(choice)].size() : 0);
    if (prompt_part) {
      for (size_t i = 0; i < prompt.size(); ++i)
        out.push_back(std::min(echo_size, decoded_size({prompt.begin(), prompt.begin() + static_cast<std::ptrdiff_t>(i)})));
      return out;
    }
    const int64_t prompt_size = decoded_size(prompt);
    std::vector<int32_t> all = prompt;
    all.insert(all.end(), c.ids.begin(), c.ids.begin() + static_cast<std::ptrdiff_t>(std::min(from, c.ids.size())));
    for (size_t k = from; k < c.ids.size(); ++k) {
      out.push_back(echo_size + std::max<int64_t>(0, decoded_size(all) - prompt_size));
      all.push_back(c.ids[k]);
    }
    return out;
  }

  // The prompt's part (for the choice's first output), then the generated ids from `from`.
  OJson logprobs_with_prompt(const Choice& c, size_t choice, size_t from) const {
    OJson j = prompt_logprobs_json(request.prompts[prompt_of(choice)], c.prompt_logprobs,
                                   request.top_logprobs, ctx.model.tokenizer(),
                                   text_offsets(c, choice, /*prompt_part=*/true, 0));
    append_logprobs(j, logprobs_json(c, choice, from));
    return j;
  }

  OJson logprobs_json(const Choice& c, size_t choice, size_t from) const {
    if (!request.logprobs) return nullptr;
    std::vector<int32_t> ids(c.ids.begin() + static_cast<std::ptrdiff_t>(from), c.ids.end());
    std::vector<engine::PositionLogprobs> lps(
        c.logprobs.begin() + static_cast<std::ptrdiff_t>(std::min(from, c.logprobs.size())),
        c.logprobs.end());
    const Tokenizer* tok = ctx.model.tokenizer();
    if (chat()) {
      OJson j;
      j["content"] = chat_logprobs_content(lps, request.top_logprobs, tok);
      j["refusal"] = nullptr;
      return j;
    }
    return completion_logprobs_json(ids, lps, request.top_logprobs, tok,
                                    text_offsets(c, choice, /*prompt_part=*/false, from));
  }

  // Tools: the calls in a finished choice's text (parallel_tool_calls false keeps the first).
  std::optional<ParsedToolCalls> tool_calls_of(const std::string& text) const {
    if (!request.tools.parse_output()) return std::nullopt;
    return limit_calls(parse_tool_calls(request.tools.format, text, request.tools.names));
  }
  std::optional<ParsedToolCalls> limit_calls(std::optional<ParsedToolCalls> parsed) const {
    if (parsed && !request.tools.parallel && parsed->calls.size() > 1) parsed->calls.resize(1);
    return parsed;
  }
  static OJson tool_calls_json(const ParsedToolCalls& parsed) {
    OJson calls = OJson::array();
    for (const auto& c : parsed.calls)
      calls.push_back({{"id", c.id},
                       {"type", "function"},
                       {"function", {{"name", c.name}, {"arguments", c.arguments}}}});
    return calls;
  }

  OJson header(const char* object) const {
    OJson j;
    j["id"] = id;
    j["object"] = object;
    j["created"] = created;
    j["model"] = ctx.served_name();
    return j;
  }

  std::string full_response() const {
    OJson j = header(chat() ? "chat.completion" : "text_completion");
    OJson out = OJson::array();
    for (size_t i = 0; i < choices.size(); ++i) {
      const Choice& c = choices[i];
      OJson choice;
      choice["index"] = i;
      const auto calls = chat() ? tool_calls_of(c.text) : std::nullopt;
      if (calls) {
        // As OpenAI: the text before the calls, or null; finish_reason "tool_calls".
        choice["message"] = {{"role", "assistant"},
                             {"content", calls->content.empty() ? OJson(nullptr) : OJson(calls->content)},
                             {"tool_calls", tool_calls_json(*calls)}};
        choice["logprobs"] = logprobs_json(c, i, 0);
      } else if (chat()) {
        choice["message"] = {{"role", "assistant"}, {"content", c.text}};
        choice["logprobs"] = logprobs_json(c, i, 0);
      } else {
        const std::string& echo = request.echo ? request.prompt_texts[prompt_of(i)] : std::string();
        choice["text"] = echo + c.text;
        choice["logprobs"] = echoes_prompt_logprobs() ? logprobs_with_prompt(c, i, 0) : logprobs_json(c, i, 0);
      }
      choice["finish_reason"] = calls ? "tool_calls" : finish_name(c.last);
      out.push_back(std::move(choice));
    }
    j["choices"] = std::move(out);
    j["usage"] = usage();
    return dump(j);
  }

  // SSE chunks for one event of a stream.
  std::string stream_chunks(const ChoiceEvent& ce, size_t ids_before) {
    Choice& c = choices[ce.choice];
    const engine::Event& e = ce.event;
    const bool final_event = e.finished && e.error.empty();
    std::string out;
    auto chunk = [&](OJson choice) {
      OJson j = header(chat() ? "chat.completion.chunk" : "text_completion");
      j["choices"] = OJson::array({std::move(choice)});
      if (request.include_usage) j["usage"] = nullptr;
      out += sse_event(j);
    };
    if (chat() && !c.started) {
      c.started = true;
      chunk({{"index", ce.choice},
             {"delta", {{"role", "assistant"}, {"content", ""}}},
             {"logprobs", nullptr},
             {"finish_reason", nullptr}});
    }
    std::string text = e.text;
    std::optional<ParsedToolCalls> calls;
    if (chat() && request.tools.parse_output()) {
      // Held back while it may be a call; at the end either calls or the rest as content.
      if (!c.tool_stream) c.tool_stream.emplace(request.tools.format, request.tools.names);
      text = c.tool_stream->push(e.text);
      if (final_event) {
        auto end = c.tool_stream->finish();
        text += end.content;
        calls = limit_calls(std::move(end.parsed));
      }
    }
    if (!chat()) {
      const std::string& echo = request.prompt_texts[prompt_of(ce.choice)];
      if (request.echo && !c.started) text = echo + text;
      c.started = true;
    }
    if (calls) {
      // The content (if any) with this event's logprobs, then each call as OpenAI streams it:
      // a first delta with the id, type, name and empty arguments, then the arguments.
      if (!text.empty() || c.ids.size() > ids_before)
        chunk({{"index", ce.choice},
               {"delta", text.empty() ? OJson::object() : OJson{{"content", text}}},
               {"logprobs", c.ids.size() > ids_before ? logprobs_json(c, ce.choice, ids_before)
                                                      : OJson(nullptr)},
               {"finish_reason", nullptr}});
      for (size_t k = 0; k < calls->calls.size(); ++k) {
        const ToolCall& call = calls->calls[k];
        OJson head = {{"index", k}, {"id", call.id}, {"type", "function"},
                      {"function", {{"name", call.name}, {"arguments", ""}}}};
        OJson args = {{"index", k}, {"function", {{"arguments", call.arguments}}}};
        for (OJson* part : {&head, &args})
          chunk({{"index", ce.choice},
                 {"delta", {{"tool_calls", OJson::array({std::move(*part)})}}},
                 {"logprobs", nullptr},
                 {"finish_reason", nullptr}});
      }
      chunk({{"index", ce.choice}, {"delta", OJson::object()}, {"logprobs", nullptr},
             {"finish_reason", "tool_calls"}});
      return out;
    }
    const bool with_prompt = echoes_prompt_logprobs() && !c.prompt_logprobs_sent;
    const bool has_new = !text.empty() || c.ids.size() > ids_before || with_prompt;
    if (!has_new && !final_event) return out;
    OJson choice;
    choice["index"] = ce.choice;
    if (chat()) {
      choice["delta"] = text.empty() ? OJson::object() : OJson{{"content", text}};
    } else {
      choice["text"] = text;
    }
    if (with_prompt) {
      choice["logprobs"] = logprobs_with_prompt(c, ce.choice, ids_before);
      c.prompt_logprobs_sent = true;
    } else {
      choice["logprobs"] = c.ids.size() > ids_before ? logprobs_json(c, ce.choice, ids_before)
                                                     : OJson(nullptr);
    }
    choice["finish_reason"] = final_event ? OJson(finish_name(e)) : OJson(nullptr);
    chunk(std::move(choice));
    return out;
  }

  std::string stream_end() const {
    std::string out;
    if (const engine::Event* err = engine_error()) {
      const ApiError e = error_for(*err);
      out += "data: " + error_body(e) + "\n\n";
    } else if (request.include_usage) {
      OJson j = header(chat() ? "chat.completion.chunk" : "text_completion");
      j["choices"] = OJson::array();
      j["usage"] = usage();
      out += sse_event(j);
    }
    out += kSseDone;
    return out;
  }
};

void run_non_streaming(Generation& g, httplib::Response& res) {
  while (g.unfinished > 0) {
    for (const ChoiceEvent& ce : g.inbox->take(kPollInterval)) g.apply(ce);
    if (g.unfinished > 0 && g.watch->peer_closed()) {
      g.cancel();
      // Nobody reads the reply; wait for the finals so the scheduler is done with us.
      while (g.unfinished > 0)
        for (const ChoiceEvent& ce : g.inbox->take(kPollInterval)) g.apply(ce);
      res.status = 499;  // nginx's "client closed request", for the log and metrics only
      return;
    }
  }
  if (const engine::Event* err = g.engine_error()) throw g.error_for(*err);
  res.set_content(g.full_response(), "application/json");
}

void run_streaming(std::shared_ptr<Generation> g, httplib::Response& res) {
  g->ctx.begin_reply();
  res.set_header("Cache-Control", "no-cache");
  res.set_header("X-Accel-Buffering", "no");
  res.set_chunked_content_provider(
      "text/event-stream",
      [g](size_t, httplib::DataSink& sink) {
        if (g->unfinished == 0) {
          sink.done();
          return true;
        }
        auto events = g->inbox->take(kPollInterval);
        if (events.empty()) {
          if (g->watch->peer_closed()) {
            g->cancel();
            return false;
          }
          return true;
        }
        std::string out;
        for (const ChoiceEvent& ce : events) {
          const Choice& c = g->choices[ce.choice];
          const size_t ids_before = c.ids.size();
          g->apply(ce);
          out += g->stream_chunks(ce, ids_before);
        }
        if (g->unfinished == 0) out += g->stream_end();
        if (!out.empty() && !sink.write(out.data(), out.size())) {
          g->cancel();
          return false;
        }
        if (g->unfinished == 0) sink.done();
        return true;
      },
      [g](bool) {
        // Whatever ended the stream (done, a failed write, the server stopping): release the
        // engine's work. cancel() is a no-op once every choice finished.
        g->cancel();
        g->ctx.end_reply();
      });
}

void handle_generation(ServerContext& ctx, Endpoint endpoint, const httplib::Request& req,
                       httplib::Response& res) {
  if (ctx.draining) throw ApiError(503, "the server is shutting down");
  const Json body = parse_body(req.body);
  check_model_name(body, ctx.options.model_names);
  auto g = std::make_shared<Generation>(
      ctx, parse_generation_request(endpoint, body, ctx.model, ctx.scheduler.context_size(),
                                    ctx.tool_format, req.body));
  g->id = new_response_id(endpoint == Endpoint::ChatCompletions ? "chatcmpl" : "cmpl");
  g->created = static_cast<int64_t>(std::time(nullptr));
  g->watch = std::make_unique<ConnectionWatch>(req.remote_addr, req.remote_port, req.local_port);
  g->submit();
  if (g->request.stream) {
    run_streaming(std::move(g), res);
  } else {
    ctx.begin_reply();
    struct EndReply {
      ServerContext& c;
      ~EndReply() { c.end_reply(); }
    } end_reply{ctx};
    run_non_streaming(*g, res);
  }
}

}  // namespace

std::shared_ptr<const TokenPieces> ServerContext::token_pieces() {
  std::call_once(token_pieces_once, [&] {
    token_pieces_ = std::make_shared<TokenPieces>(*model.tokenizer(), model.model().config().vocab_size);
  });
  return token_pieces_;
}

void handle_completions(ServerContext& ctx, const httplib::Request& req, httplib::Response& res) {
  handle_generation(ctx, Endpoint::Completions, req, res);
}

void handle_chat_completions(ServerContext& ctx, const httplib::Request& req,
                             httplib::Response& res) {
  handle_generation(ctx, Endpoint::ChatCompletions, req, res);
}

}  // namespace lmkit::server
