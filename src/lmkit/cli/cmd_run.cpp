// `lmkit run MODEL "prompt"`: one completion, streamed to stdout, or with --json one JSON
// object with the generated ids, text, token counts, timings and optional logprobs.
#include <chrono>
#include <cstdio>
#include <memory>

#include <nlohmann/json.hpp>

#include "lmkit/base/error.h"
#include "lmkit/base/thread_pool.h"
#include "lmkit/cli/command.h"
#include "lmkit/cli/generation_options.h"
#include "lmkit/engine/generator.h"
#include "lmkit/engine/loaded_model.h"
#include "lmkit/models/model.h"
#include "lmkit/tokenizer/tokenizer.h"

namespace lmkit::cli {
namespace {

struct RunArgs {
  ModelArgs model;
  SamplingArgs sampling;
  std::string prompt;
  std::string prompt_ids;
  std::string system;
  bool json = false;
  int32_t logprobs = 0;
  bool chat = false;
  bool no_chat_template = false;
};

using Clock = std::chrono::steady_clock;

nlohmann::ordered_json token_logprob_json(const engine::TokenLogprob& t, const Tokenizer* tok) {
  nlohmann::ordered_json j = {{"id", t.id}, {"logprob", t.logprob}};
  if (tok) j["token"] = tok->id_to_token(t.id);
  return j;
}

int run_command(const RunArgs& a) {
  const bool have_text = !a.prompt.empty();
  const bool have_ids = !a.prompt_ids.empty();
  if (have_text == have_ids)
    throw_error("give either a prompt text or --prompt-ids (exactly one of them)");
  if (a.chat && a.no_chat_template) throw_error("--chat and --no-chat-template contradict each other");
  if (a.logprobs > 0 && !a.json) throw_error("--logprobs N is reported in the --json output: add --json");

  const auto t_load = Clock::now();
  engine::LoadedModel model = engine::load_model(a.model.model, load_options(a.model));
  const double load_ms = std::chrono::duration<double, std::milli>(Clock::now() - t_load).count();
  engine::GenerateOptions options = generate_options(a.sampling, model);
  options.logprobs = a.logprobs;

  // The chat template wraps a text prompt when the model has one, unless told otherwise;
  // token ids are always taken as they are.
  std::vector<int32_t> prompt;
  bool templated = false;
  if (have_ids) {
    if (a.chat) throw_error("--chat applies to a text prompt, not to --prompt-ids");
    prompt = parse_token_ids(a.prompt_ids, "--prompt-ids");
  } else if (a.chat || (!a.no_chat_template && model.chat_template())) {
    nlohmann::json messages = nlohmann::json::array();
    if (!a.system.empty()) messages.push_back({{"role", "system"}, {"content", a.system}});
    messages.push_back({{"role", "user"}, {"content", a.prompt}});
    prompt = model.tokenize_chat(messages, true);
    templated = true;
  } else {
    if (!a.system.empty()) throw_error("--system needs the chat template (drop --no-chat-template)");
    prompt = model.tokenize(a.prompt);
  }

  ThreadPool pool(a.model.threads);
  engine::Generator generator(model.model(), model.tokenizer(), pool, model.context_size());
  engine::Sequence seq = generator.new_sequence();
  engine::StreamCallback on_text;
  if (!a.json) {
    on_text = [](std::string_view piece) {
      std::fwrite(piece.data(), 1, piece.size(), stdout);
      std::fflush(stdout);
      return true;
    };
  }
  engine::GenerateResult r = generator.generate(seq, prompt, options, on_text);

  const Tokenizer* tok = model.tokenizer();
  if (a.json) {
    nlohmann::ordered_json out;
    out["model"] = model.path();
    out["prompt_ids"] = prompt;
    out["chat_template"] = templated;
    out["generated_ids"] = r.ids;
    out["text"] = tok ? nlohmann::ordered_json(r.text) : nlohmann::ordered_json(nullptr);
    out["finish_reason"] = engine::finish_reason_name(r.finish_reason);
    if (r.eos_token >= 0) out["eos_token_id"] = r.eos_token;
    if (!r.stop_string.empty()) out["stop_string"] = r.stop_string;
    out["prompt_tokens"] = r.prompt_tokens;
    out["completion_tokens"] = static_cast<int64_t>(r.ids.size());
    out["seed"] = options.sampling.seed;
    out["threads"] = pool.size();
    out["timings"] = {{"load_ms", load_ms},
                      {"prefill_ms", r.timings.prefill_ms},
                      {"prefill_tokens", r.timings.prefill_tokens},
                      {"prefill_tokens_per_s", r.timings.prefill_tokens_per_s()},
                      {"decode_ms", r.timings.decode_ms},
                      {"decode_tokens", r.timings.decode_tokens},
                      {"decode_tokens_per_s", r.timings.decode_tokens_per_s()}};
    if (a.logprobs > 0) {
      nlohmann::ordered_json lps = nlohmann::ordered_json::array();
      for (const auto& p : r.logprobs) {
        nlohmann::ordered_json pos = token_logprob_json(p.chosen, tok);
        nlohmann::ordered_json top = nlohmann::ordered_json::array();
        for (const auto& t : p.top) top.push_back(token_logprob_json(t, tok));
        pos["top_logprobs"] = std::move(top);
        lps.push_back(std::move(pos));
      }
      out["logprobs"] = std::move(lps);
    }
    std::printf("%s\n", out.dump(1).c_str());
  } else {
    if (!tok) {
      // Nothing to decode with: show the ids so the command is still useful.
      for (size_t i = 0; i < r.ids.size(); ++i) std::printf(i ? ",%d" : "%d", r.ids[i]);
    }
    std::printf("\n");
    std::fflush(stdout);
  }
  if (a.model.verbose)
    std::fprintf(stderr,
                 "lmkit: %s, %lld prompt tokens (%lld cached) %.1f ms (%.1f tok/s), %zu generated "
                 "%.1f ms (%.1f tok/s), %d threads, load %.1f ms\n",
                 engine::finish_reason_name(r.finish_reason),
                 static_cast<long long>(r.prompt_tokens),
                 static_cast<long long>(r.cached_prompt_tokens), r.timings.prefill_ms,
                 r.timings.prefill_tokens_per_s(), r.ids.size(), r.timings.decode_ms,
                 r.timings.decode_tokens_per_s(), pool.size(), load_ms);
  return 0;
}

Runner setup_run(CLI::App& app) {
  auto a = std::make_shared<RunArgs>();
  add_model_args(app, a->model);
  app.add_option("prompt", a->prompt, "The prompt text");
  add_sampling_args(app, a->sampling);
  app.add_option("--prompt-ids", a->prompt_ids,
                 "Token ids instead of text, e.g. 1,403,407 (no template, nothing added)");
  app.add_option("--system", a->system, "System message (with the chat template)");
  app.add_flag("--json", a->json, "Print one JSON object instead of streaming the text");
  app.add_option("--logprobs", a->logprobs,
                 "With --json: the top-N log-probabilities at each generated position")
      ->check(CLI::Range(0, 100));
  app.add_flag("--chat", a->chat, "Wrap the prompt in the chat template (an error if none)");
  app.add_flag("--no-chat-template", a->no_chat_template,
               "Use the prompt as raw text even if the model has a chat template");
  return [a] { return run_command(*a); };
}

const Registration registration("run", "Generate one completion for a prompt", setup_run);

}  // namespace
}  // namespace lmkit::cli
