// lmkit.h on top of the engine: a LoadedModel, a Generator with one sequence whose cache
// carries over between calls, and a thread pool of the requested size.
#include <nlohmann/json.hpp>

#include "lmkit/base/thread_pool.h"
#include "lmkit/engine/generator.h"
#include "lmkit/engine/loaded_model.h"
#include "lmkit/lmkit.h"
#include "lmkit/models/model.h"
#include "lmkit/tokenizer/tokenizer.h"

namespace lmkit {

struct Model::Impl {
  engine::LoadedModel loaded;
  ThreadPool pool;
  engine::Generator generator;
  engine::Sequence sequence;

  Impl(engine::LoadedModel m, int threads)
      : loaded(std::move(m)),
        pool(threads),
        generator(loaded.model(), loaded.tokenizer(), pool, loaded.context_size()),
        sequence(generator.new_sequence()) {}

  const Tokenizer& tokenizer() const {
    if (!loaded.tokenizer())
      throw_error(loaded.path() + " has no tokenizer (no tokenizer.json): use token ids");
    return *loaded.tokenizer();
  }

  engine::GenerateOptions options(const GenerationOptions& o) const {
    engine::GenerateOptions g;
    g.sampling = loaded.defaults().sampling;
    if (o.temperature) g.sampling.temperature = *o.temperature;
    if (o.top_k) g.sampling.top_k = *o.top_k;
    if (o.top_p) g.sampling.top_p = *o.top_p;
    if (o.min_p) g.sampling.min_p = *o.min_p;
    if (o.repetition_penalty) g.sampling.repetition_penalty = *o.repetition_penalty;
    g.sampling.presence_penalty = o.presence_penalty;
    g.sampling.frequency_penalty = o.frequency_penalty;
    g.sampling.seed = o.seed;
    g.max_tokens = o.max_tokens;
    g.stop = o.stop;
    g.eos_token_ids = loaded.eos_token_ids();
    g.ignore_eos = o.ignore_eos;
    g.logprobs = o.logprobs;
    return g;
  }

  Generation run(const std::vector<int32_t>& ids, const GenerationOptions& o,
                 const TextCallback& on_text) {
    engine::GenerateResult r = generator.generate(sequence, ids, options(o), on_text);
    Generation g;
    g.text = std::move(r.text);
    g.tokens = std::move(r.ids);
    g.finish_reason = engine::finish_reason_name(r.finish_reason);
    g.prompt_tokens = r.prompt_tokens;
    g.cached_prompt_tokens = r.cached_prompt_tokens;
    g.prefill_tokens_per_s = r.timings.prefill_tokens_per_s();
    g.decode_tokens_per_s = r.timings.decode_tokens_per_s();
    for (const auto& p : r.logprobs) {
      g.chosen_logprobs.push_back({p.chosen.id, p.chosen.logprob});
      std::vector<TokenLogprob> top;
      for (const auto& t : p.top) top.push_back({t.id, t.logprob});
      g.top_logprobs.push_back(std::move(top));
    }
    return g;
  }
};

namespace {

nlohmann::json to_json(const std::vector<Message>& messages) {
  nlohmann::json j = nlohmann::json::array();
  for (const auto& m : messages) j.push_back({{"role", m.role}, {"content", m.content}});
  return j;
}

}  // namespace

Model::Model(std::unique_ptr<Impl> impl) : impl_(std::move(impl)) {}
Model::~Model() = default;
Model::Model(Model&&) noexcept = default;
Model& Model::operator=(Model&&) noexcept = default;

Model Model::load(const std::string& spec, const ModelOptions& options) {
  engine::LoadOptions lo;
  lo.context_size = options.context_size;
  lo.download_if_missing = options.download_if_missing;
  lo.chat_template_file = options.chat_template_file;
  return Model(std::make_unique<Impl>(engine::load_model(spec, lo), options.threads));
}

std::vector<int32_t> Model::tokenize(std::string_view text, bool add_special_tokens) const {
  return impl_->tokenizer().encode(text, add_special_tokens);
}

std::string Model::detokenize(const std::vector<int32_t>& ids, bool skip_special_tokens) const {
  return impl_->tokenizer().decode(ids, skip_special_tokens);
}

std::string Model::apply_chat_template(const std::vector<Message>& messages,
                                       bool add_generation_prompt) const {
  return impl_->loaded.render_chat(to_json(messages), add_generation_prompt);
}

Generation Model::generate(const std::string& prompt, const GenerationOptions& options,
                           const TextCallback& on_text) {
  return impl_->run(impl_->loaded.tokenize(prompt), options, on_text);
}

Generation Model::generate(const std::vector<int32_t>& prompt_ids,
                           const GenerationOptions& options, const TextCallback& on_text) {
  return impl_->run(prompt_ids, options, on_text);
}

Generation Model::chat(const std::vector<Message>& messages, const GenerationOptions& options,
                       const TextCallback& on_text) {
  return impl_->run(impl_->loaded.tokenize_chat(to_json(messages), true), options, on_text);
}

int64_t Model::context_size() const { return impl_->loaded.context_size(); }
int64_t Model::vocab_size() const { return impl_->loaded.model().config().vocab_size; }
bool Model::has_tokenizer() const { return impl_->loaded.tokenizer() != nullptr; }
bool Model::has_chat_template() const { return impl_->loaded.chat_template() != nullptr; }

}  // namespace lmkit
