#include "lmkit/server/openai_response.h"

#include <random>

#include "lmkit/tokenizer/tokenizer.h"

namespace lmkit::server {

std::string new_response_id(const char* prefix) {
  static thread_local std::mt19937_64 rng{std::random_device{}()};
  static const char* hex = "0123456789abcdef";
  std::string id = std::string(prefix) + "-";
  for (int i = 0; i < 24; ++i) id += hex[rng() & 15];
  return id;
}

OJson usage_json(int64_t prompt_tokens, int64_t completion_tokens, int64_t cached_tokens) {
  OJson u;
  u["prompt_tokens"] = prompt_tokens;
  u["completion_tokens"] = completion_tokens;
  u["total_tokens"] = prompt_tokens + completion_tokens;
  u["prompt_tokens_details"] = {{"cached_tokens", cached_tokens}};
  return u;
}

std::string token_text(const Tokenizer* tokenizer, int32_t id) {
  if (!tokenizer) return std::to_string(id);
  return tokenizer->decode({id}, /*skip_special_tokens=*/false);
}

namespace {

OJson bytes_of(const std::string& s) {
  OJson b = OJson::array();
  for (unsigned char c : s) b.push_back(static_cast<int>(c));
  return b;
}

size_t top_count(const engine::PositionLogprobs& p, int32_t top_n) {
  return std::min(p.top.size(), static_cast<size_t>(std::max<int32_t>(0, top_n)));
}

}  // namespace

OJson completion_logprobs_json(const std::vector<int32_t>& ids,
                               const std::vector<engine::PositionLogprobs>& logprobs,
                               int32_t top_n, const Tokenizer* tokenizer,
                               const std::vector<int64_t>& offsets) {
  OJson tokens = OJson::array(), token_logprobs = OJson::array(), tops = OJson::array();
  for (size_t i = 0; i < logprobs.size(); ++i) {
    const auto& p = logprobs[i];
    const std::string text = token_text(tokenizer, i < ids.size() ? ids[i] : p.chosen.id);
    tokens.push_back(text);
    token_logprobs.push_back(p.chosen.logprob);
    OJson top = OJson::object();
    for (size_t k = 0; k < top_count(p, top_n); ++k)
      top[token_text(tokenizer, p.top[k].id)] = p.top[k].logprob;
    tops.push_back(std::move(top));
  }
  OJson j;
  j["tokens"] = std::move(tokens);
  j["token_logprobs"] = std::move(token_logprobs);
  j["top_logprobs"] = std::move(tops);
  j["text_offset"] = OJson(std::vector<int64_t>(offsets.begin(), offsets.begin() + static_cast<std::ptrdiff_t>(std::min(offsets.size(), logprobs.size()))));
  return j;
}

OJson prompt_logprobs_json(const std::vector<int32_t>& prompt,
                           const std::vector<engine::PositionLogprobs>& logprobs, int32_t top_n,
                           const Tokenizer* tokenizer, const std::vector<int64_t>& offsets) {
  if (prompt.empty()) return completion_logprobs_json({}, {}, top_n, tokenizer, {});
  const std::vector<int32_t> scored(prompt.begin() + 1, prompt.end());
  OJson j = completion_logprobs_json(scored, logprobs, top_n, tokenizer,
                                     std::vector<int64_t>(offsets.begin() + 1, offsets.end()));
  j["tokens"].insert(j["tokens"].begin(), token_text(tokenizer, prompt[0]));
  j["token_logprobs"].insert(j["token_logprobs"].begin(), nullptr);
  j["top_logprobs"].insert(j["top_logprobs"].begin(), nullptr);
  j["text_offset"].insert(j["text_offset"].begin(), offsets.empty() ? 0 : offsets[0]);
  return j;
}

void append_logprobs(OJson& head, const OJson& tail) {
  for (const char* key : {"tokens", "token_logprobs", "top_logprobs", "text_offset"})
    for (const auto& v : tail[key]) head[key].push_back(v);
}

OJson chat_logprobs_content(const std::vector<engine::PositionLogprobs>& logprobs, int32_t top_n,
                            const Tokenizer* tokenizer) {
  OJson content = OJson::array();
  for (const auto& p : logprobs) {
    const std::string text = token_text(tokenizer, p.chosen.id);
    OJson entry;
    entry["token"] = text;
    entry["logprob"] = p.chosen.logprob;
    entry["bytes"] = bytes_of(text);
    OJson top = OJson::array();
    for (size_t k = 0; k < top_count(p, top_n); ++k) {
      const std::string t = token_text(tokenizer, p.top[k].id);
      top.push_back({{"token", t}, {"logprob", p.top[k].logprob}, {"bytes", bytes_of(t)}});
    }
    entry["top_logprobs"] = std::move(top);
    content.push_back(std::move(entry));
  }
  return content;
}

std::string dump(const OJson& j) {
  return j.dump(-1, ' ', false, OJson::error_handler_t::replace);
}

std::string sse_event(const OJson& j) { return "data: " + dump(j) + "\n\n"; }

}  // namespace lmkit::server
