// OpenAI request bodies (/v1/completions, /v1/chat/completions) turned into engine work:
// validated fields, tokenized prompts, GenerateOptions built over the model's own defaults.
// Unknown fields are ignored; known fields of the wrong type or out of range are a 400 naming
// the field; features lmkit cannot honour (logit_bias, suffix, a JSON schema keyword outside
// the enforced subset) are a 400 too, never silently dropped.
#pragma once
#include <cstdint>
#include <memory>
#include <string>
#include <string_view>
#include <vector>

#include "lmkit/engine/generator.h"
#include "lmkit/server/json_fields.h"
#include "lmkit/server/tool_calls_request.h"

namespace lmkit::engine {
class LoadedModel;
}

namespace lmkit::server {

class JsonSchema;

enum class Endpoint { Completions, ChatCompletions };

struct GenerationRequest {
  Endpoint endpoint = Endpoint::Completions;
  // One entry per prompt (completions may send several; chat has one). Each is run n times.
  std::vector<std::vector<int32_t>> prompts;
  std::vector<std::string> prompt_texts;  // for echo: the text each prompt stands for
  int64_t n = 1;
  bool stream = false;
  bool include_usage = false;  // stream_options.include_usage
  bool echo = false;
  bool logprobs = false;       // report logprobs of the generated tokens
  int32_t top_logprobs = 0;    // alternatives per position
  // response_format json_object / json_schema: the schema every output must satisfy (null: none).
  std::shared_ptr<const JsonSchema> json_schema;
  ToolRequest tools;           // chat: tools, tool_choice, and how the output is parsed
  // Shared by every choice; the seed of choice i is options.sampling.seed + i so that n
  // samples differ yet stay reproducible.
  engine::GenerateOptions options;
};

// Throws ApiError. context_size: the most positions a sequence may hold; a prompt (plus an
// explicit max_tokens) over it is a 400 context_length_exceeded saying both numbers.
// tool_format: how the model writes tool calls (--tool-parser or its chat template's).
// raw_body: the body's text, read again in key order for chat (see chat_prompt_ids).
GenerationRequest parse_generation_request(Endpoint endpoint, const Json& body,
                                           const engine::LoadedModel& model,
                                           int64_t context_size,
                                           ToolFormat tool_format = ToolFormat::None,
                                           std::string_view raw_body = {});

// The "model" field, checked against the names the server answers to (404 model_not_found).
void check_model_name(const Json& body, const std::vector<std::string>& served_names);

// Chat messages with content normalised for the template: a list of text parts becomes one
// string; non-text parts are a 400. Other message fields are passed through.
Json normalise_messages(const Json& messages);
nlohmann::ordered_json normalise_messages(const nlohmann::ordered_json& messages);

// A chat body's prompt: messages normalised, their tool parts prepared and `tools` validated
// (into *tools when given), rendered by the chat template with the tools and tokenized.
// The body is read in the client's key order (nlohmann::json would sort keys, and templates
// print tools and tool-call arguments with tojson: transformers keeps dict order).
// Template errors are a 400 on 'messages'.
std::vector<int32_t> chat_prompt_ids(const nlohmann::ordered_json& body,
                                     const engine::LoadedModel& model, ToolFormat tool_format,
                                     ToolRequest* tools = nullptr);

}  // namespace lmkit::server
