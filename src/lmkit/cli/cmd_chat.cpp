// `lmkit chat MODEL`: an interactive conversation in the terminal. Replies stream as they are
// generated; the conversation stays in the KV cache, so a new turn only computes its own
// tokens. /clear forgets the conversation, /exit or end of input ends the session, Ctrl-C
// stops the reply being generated (at the prompt it exits, as usual).
#include <unistd.h>

#include <atomic>
#include <csignal>
#include <cstdio>
#include <iostream>
#include <memory>
#include <string>

#include <nlohmann/json.hpp>

#include "lmkit/base/error.h"
#include "lmkit/base/thread_pool.h"
#include "lmkit/cli/command.h"
#include "lmkit/cli/generation_options.h"
#include "lmkit/engine/chat_session.h"
#include "lmkit/engine/generator.h"
#include "lmkit/engine/loaded_model.h"

namespace lmkit::cli {
namespace {

struct ChatArgs {
  ModelArgs model;
  SamplingArgs sampling;
  std::string system;
};

std::atomic<bool> g_generating{false};
std::atomic<bool> g_interrupted{false};

extern "C" void on_sigint(int) {
  if (g_generating.load()) {
    g_interrupted.store(true);
  } else {
    std::signal(SIGINT, SIG_DFL);
    std::raise(SIGINT);
  }
}

int chat_command(const ChatArgs& a) {
  engine::LoadedModel model = engine::load_model(a.model.model, load_options(a.model));
  if (!model.tokenizer())
    throw_error(model.path() + " has no tokenizer (no tokenizer.json): chat needs one");
  // Fail before the first turn rather than after the user typed something.
  (void)model.render_chat(nlohmann::json::array({{{"role", "user"}, {"content", "hi"}}}), true);
  engine::GenerateOptions options = generate_options(a.sampling, model);

  ThreadPool pool(a.model.threads);
  engine::Generator generator(model.model(), model.tokenizer(), pool, model.context_size());
  engine::ChatSession session(model, generator, a.system);

  const bool interactive = isatty(STDIN_FILENO);
  if (interactive) {
    std::signal(SIGINT, on_sigint);
    std::fprintf(stderr, "lmkit chat: %s (%lld-token context). /clear forgets, /exit or Ctrl-D ends.\n",
                 model.path().c_str(), static_cast<long long>(model.context_size()));
  }
  std::string line;
  while (true) {
    if (interactive) {
      std::fputs("> ", stdout);
      std::fflush(stdout);
    }
    g_interrupted.store(false);
    if (!std::getline(std::cin, line)) break;
    if (line.empty()) continue;
    if (line == "/exit" || line == "/quit") break;
    if (line == "/clear") {
      session.clear();
      std::fputs("(conversation cleared)\n", stderr);
      continue;
    }
    engine::GenerateResult r;
    g_generating.store(true);
    struct Done {
      ~Done() { g_generating.store(false); }
    } done;
    try {
      r = session.send(line, options, [](std::string_view piece) {
        std::fwrite(piece.data(), 1, piece.size(), stdout);
        std::fflush(stdout);
        return !g_interrupted.load();
      });
    } catch (const Error& e) {
      // A turn that cannot run (the conversation outgrew the context) does not end the session.
      std::fprintf(stderr, "lmkit: error: %s\n", e.what());
      if (!interactive) return 1;
      continue;
    }
    std::fputs("\n", stdout);
    std::fflush(stdout);
    if (a.model.verbose)
      std::fprintf(stderr, "[%s; %lld prompt tokens, %lld from cache; %zu generated, %.1f tok/s]\n",
                   engine::finish_reason_name(r.finish_reason),
                   static_cast<long long>(r.prompt_tokens),
                   static_cast<long long>(r.cached_prompt_tokens), r.ids.size(),
                   r.timings.decode_tokens_per_s());
    if (r.finish_reason == engine::FinishReason::ContextFull)
      std::fputs("(the context is full: /clear to start over)\n", stderr);
  }
  return 0;
}

Runner setup_chat(CLI::App& app) {
  auto a = std::make_shared<ChatArgs>();
  add_model_args(app, a->model);
  add_sampling_args(app, a->sampling);
  app.add_option("--system", a->system, "System message that starts the conversation");
  return [a] { return chat_command(*a); };
}

const Registration registration("chat", "Chat with a model in the terminal", setup_chat);

}  // namespace
}  // namespace lmkit::cli
