// Pieces of OpenAI response bodies: ids, usage, logprobs in the completions and chat shapes,
// and the SSE framing of streamed chunks.
#pragma once
#include <cstdint>
#include <string>
#include <vector>

#include <nlohmann/json.hpp>

#include "lmkit/engine/sampling.h"

namespace lmkit {
class Tokenizer;
}

namespace lmkit::server {

using OJson = nlohmann::ordered_json;

// "cmpl-<24 hex>", "chatcmpl-<24 hex>".
std::string new_response_id(const char* prefix);

// {"prompt_tokens", "completion_tokens", "total_tokens",
//  "prompt_tokens_details": {"cached_tokens"}}
OJson usage_json(int64_t prompt_tokens, int64_t completion_tokens, int64_t cached_tokens);

// The text a single token stands for (what OpenAI puts in "token"); without a tokenizer the
// decimal id.
std::string token_text(const Tokenizer* tokenizer, int32_t id);

// Completions shape: {"tokens", "token_logprobs", "top_logprobs": [{token: logprob}],
// "text_offset"}; `offsets` holds each token's byte offset in the choice's text.
OJson completion_logprobs_json(const std::vector<int32_t>& ids,
                               const std::vector<engine::PositionLogprobs>& logprobs,
                               int32_t top_n, const Tokenizer* tokenizer,
                               const std::vector<int64_t>& offsets);
// echo + logprobs: the same for the prompt's tokens, the first with null logprob and null
// alternatives (nothing predicts it).
OJson prompt_logprobs_json(const std::vector<int32_t>& prompt,
                           const std::vector<engine::PositionLogprobs>& logprobs, int32_t top_n,
                           const Tokenizer* tokenizer, const std::vector<int64_t>& offsets);
// Appends the four arrays of `tail` (a completion_logprobs_json) to those of `head`.
void append_logprobs(OJson& head, const OJson& tail);

// Chat shape: the "content" array [{"token", "logprob", "bytes", "top_logprobs": [...]}].
OJson chat_logprobs_content(const std::vector<engine::PositionLogprobs>& logprobs, int32_t top_n,
                            const Tokenizer* tokenizer);

// JSON text that never throws on invalid UTF-8 (replaced by U+FFFD).
std::string dump(const OJson& j);
// "data: <json>\n\n"
std::string sse_event(const OJson& j);
inline constexpr const char* kSseDone = "data: [DONE]\n\n";

}  // namespace lmkit::server
