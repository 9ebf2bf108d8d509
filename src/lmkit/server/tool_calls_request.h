// The tool fields of a chat request (tools, tool_choice, parallel_tool_calls) validated with
// OpenAI's error shapes, and the tool parts of messages prepared for the chat template the way
// vLLM hands them over (assistant tool_calls with their arguments as JSON objects).
#pragma once
#include <string>
#include <vector>

#include <nlohmann/json.hpp>

#include "lmkit/server/tool_calls.h"

namespace lmkit::engine {
class LoadedModel;
}

namespace lmkit::server {

// The server's tool-call format: `parser_name` (--tool-parser: qwen, hermes, llama3, mistral,
// none) when given, else the one the model's chat template renders, found by rendering a
// conversation with a tool call through it. Throws lmkit::Error for an unknown name.
ToolFormat resolve_tool_format(const std::string& parser_name, const engine::LoadedModel& model);

enum class ToolChoice { None, Auto, Required, Named };

struct ToolRequest {
  // [{"type": "function", "function": {...}}] as the client wrote them (key order kept: the
  // template prints them for the model); null when the request has none.
  nlohmann::ordered_json tools;
  std::vector<std::string> names;  // the declared function names
  ToolChoice choice = ToolChoice::None;
  std::string named_function;  // for ToolChoice::Named
  bool parallel = true;        // parallel_tool_calls: false keeps only the first call
  ToolFormat format = ToolFormat::None;  // how the output is parsed
  // tool_choice "required" / named: the functions the forced call may name (constrained
  // decoding, tool_calls_constraint.h); empty otherwise.
  std::vector<ForcedFunction> forced;

  // Whether the output is parsed for calls (tool_choice other than "none").
  bool parse_output() const { return choice != ToolChoice::None && format != ToolFormat::None; }
};

// `server_format`: --tool-parser, or what the chat template renders. Throws ApiError (400).
ToolRequest parse_tool_request(const nlohmann::ordered_json& body, ToolFormat server_format);

// In place, on messages already normalised: assistant tool_calls checked (each a function
// with a name and arguments) and their arguments strings parsed into objects when they hold
// one (templates print them with tojson); a null or empty tool_calls dropped (Llama's template
// tests only for the key); a null content beside tool_calls made ""; role "tool" messages'
// tool_call_id checked. For Mistral, ids become the 9 alphanumerics its template demands.
void prepare_tool_messages(nlohmann::ordered_json& messages, ToolFormat format);

}  // namespace lmkit::server
