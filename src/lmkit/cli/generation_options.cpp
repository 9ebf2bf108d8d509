#include "lmkit/cli/generation_options.h"

#include <cerrno>
#include <cstdlib>
#include <random>

#include "lmkit/base/error.h"

namespace lmkit::cli {

void add_thread_arg(CLI::App& app, int& threads) {
  app.add_option("-t,--threads", threads,
                 "Threads for the kernels (default: one per core)")
      ->check(CLI::Range(1, 1024));
}

void add_model_args(CLI::App& app, ModelArgs& args, bool model_required) {
  auto* opt = app.add_option("model", args.model,
                             "Model: a Hugging Face model directory, a .gguf file, or ORG/NAME "
                             "in the Hugging Face cache");
  if (model_required) opt->required();
  add_thread_arg(app, args.threads);
  app.add_option("-c,--ctx-size", args.ctx_size,
                 "Context size in tokens (default: the model's, at most 4096)")
      ->check(CLI::Range(int64_t{1}, int64_t{1} << 24));
  app.add_option("--chat-template", args.chat_template,
                 "A file with a Jinja chat template replacing the model's");
  app.add_flag("--pull", args.pull,
               "Download ORG/NAME from the hub (HF_ENDPOINT, HF_TOKEN) if it is not in the cache");
  app.add_flag("-v,--verbose", args.verbose, "Print loading details and timings to stderr");
}

void add_sampling_args(CLI::App& app, SamplingArgs& a) {
  app.add_option("-n,--max-tokens", a.max_tokens,
                 "Most tokens to generate (default: until an end token or a full context)")
      ->check(CLI::Range(int64_t{0}, int64_t{1} << 40));
  app.add_option("--temperature,--temp", a.temperature, "Sampling temperature; 0 is greedy")
      ->check(CLI::Range(0.0f, 100.0f));
  app.add_option("--top-k", a.top_k, "Keep the k most likely tokens (0: off)")
      ->check(CLI::Range(0, 1 << 30));
  app.add_option("--top-p", a.top_p, "Nucleus sampling: smallest set with this mass (1: off)")
      ->check(CLI::Range(0.0f, 1.0f));
  app.add_option("--min-p", a.min_p, "Drop tokens below min-p times the best one's probability")
      ->check(CLI::Range(0.0f, 1.0f));
  app.add_option("--repeat-penalty,--repetition-penalty", a.repeat_penalty,
                 "Hugging Face repetition penalty over prompt and output (1: off)")
      ->check(CLI::Range(0.01f, 100.0f));
  app.add_option("--presence-penalty", a.presence_penalty, "OpenAI presence penalty")
      ->check(CLI::Range(-2.0f, 2.0f));
  app.add_option("--frequency-penalty", a.frequency_penalty, "OpenAI frequency penalty")
      ->check(CLI::Range(-2.0f, 2.0f));
  app.add_option("-s,--seed", a.seed, "Random seed (default: a random one)");
  app.add_option("--stop", a.stop, "Stop when this text is generated (repeatable)");
  app.add_flag("--ignore-eos", a.ignore_eos, "Keep generating past end-of-sequence tokens");
}

engine::LoadOptions load_options(const ModelArgs& args) {
  engine::LoadOptions o;
  o.context_size = args.ctx_size;
  o.chat_template_file = args.chat_template;
  o.download_if_missing = args.pull;
  return o;
}

engine::GenerateOptions generate_options(const SamplingArgs& a, const engine::LoadedModel& model) {
  engine::GenerateOptions o;
  o.sampling = model.defaults().sampling;
  if (a.temperature) o.sampling.temperature = *a.temperature;
  if (a.top_k) o.sampling.top_k = *a.top_k;
  if (a.top_p) o.sampling.top_p = *a.top_p;
  if (a.min_p) o.sampling.min_p = *a.min_p;
  if (a.repeat_penalty) o.sampling.repetition_penalty = *a.repeat_penalty;
  if (a.presence_penalty) o.sampling.presence_penalty = *a.presence_penalty;
  if (a.frequency_penalty) o.sampling.frequency_penalty = *a.frequency_penalty;
  o.sampling.seed = a.seed ? *a.seed : std::random_device{}();
  engine::validate(o.sampling);
  o.max_tokens = a.max_tokens ? *a.max_tokens : model.defaults().max_new_tokens.value_or(-1);
  o.stop = a.stop;
  o.eos_token_ids = model.eos_token_ids();
  o.ignore_eos = a.ignore_eos;
  return o;
}

std::vector<int32_t> parse_token_ids(const std::string& text, const std::string& flag) {
  std::vector<int32_t> ids;
  size_t pos = 0;
  size_t index = 0;
  while (pos <= text.size()) {
    size_t comma = text.find(',', pos);
    if (comma == std::string::npos) comma = text.size();
    std::string item = text.substr(pos, comma - pos);
    const auto first = item.find_first_not_of(" \t");
    const auto last = item.find_last_not_of(" \t");
    item = first == std::string::npos ? "" : item.substr(first, last - first + 1);
    char* end = nullptr;
    errno = 0;
    const long long v = item.empty() ? 0 : std::strtoll(item.c_str(), &end, 10);
    if (item.empty() || *end != '\0' || errno == ERANGE || v < 0 || v > INT32_MAX)
      throw_error(flag + ": element " + std::to_string(index) + " is \"" + item +
                  "\"; expected comma-separated non-negative token ids like 1,2,3");
    ids.push_back(static_cast<int32_t>(v));
    pos = comma + 1;
    ++index;
  }
  return ids;
}

}  // namespace lmkit::cli
