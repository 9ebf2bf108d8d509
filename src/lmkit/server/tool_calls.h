// Tool calls in a model's output: the formats chat models are trained to emit (the text their
// chat template renders for an assistant turn with tool_calls), parsed back into OpenAI
// tool_calls. The parse is all or nothing: an output with a malformed call stays plain content,
// as vLLM's parsers do, so a client never gets half a call.
//
// Formats:
//   hermes  (Qwen2.5, Qwen3, Hermes): [content] <tool_call>\n{"name": N, "arguments": {..}}\n</tool_call>
//           repeated, blank text between the blocks; the last block may miss its closing tag.
//   llama3  (Llama 3.1+): [<|python_tag|>] {"name": N, "parameters": {..}} (or "arguments"),
//           several separated by ';'; nothing before the call.
//   mistral (Mistral v0.3, Nemo): [content] [TOOL_CALLS] [{"name": N, "arguments": {..}}, ...]
//           (ids in the output, if any, are replaced: Mistral ids are 9 alphanumerics).
#pragma once
#include <memory>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

namespace lmkit::server {

enum class ToolFormat { None, Hermes, Llama3, Mistral };

// "none", "qwen" (also "hermes"), "llama3", "mistral"; anything else is nullopt.
std::optional<ToolFormat> tool_format_from_name(std::string_view name);
const char* tool_format_name(ToolFormat format);
// The format a chat template renders assistant tool calls in, read from its text (None when it
// renders none of the known ones).
ToolFormat detect_tool_format(std::string_view chat_template_text);

struct ToolCall {
  std::string id;
  std::string name;
  std::string arguments;  // a JSON object as compact text, as OpenAI returns it
};

class JsonSchema;

// A function a forced call (tool_choice "required" / named) may name, with the schema its
// arguments must satisfy (tool_calls_constraint.h).
struct ForcedFunction {
  std::string name;
  std::shared_ptr<const JsonSchema> arguments;
};

struct ParsedToolCalls {
  std::string content;  // text before the first call, trailing blanks removed
  std::vector<ToolCall> calls;  // at least one
};

// Parses a complete output. nullopt when it holds no call or a malformed one (bad JSON, no
// name, a name not in `known_names`, arguments that are not an object, other text between the
// calls). Ids are filled in fresh (new_tool_call_id).
std::optional<ParsedToolCalls> parse_tool_calls(ToolFormat format, std::string_view text,
                                                const std::vector<std::string>& known_names);

// "call_<24 alphanumerics>"; for Mistral 9 alphanumerics (its template refuses other ids).
std::string new_tool_call_id(ToolFormat format);
// What the Mistral template accepts for an id the client sent ("call_..."): its last 9
// alphanumerics, left-padded with '0' (vLLM keeps the last 9 characters).
std::string mistral_tool_call_id(std::string_view id);

// Streaming: text that cannot belong to a tool call is released at once; from the point where
// a call may start, everything is held back until the end, then either parsed into calls or
// released as content. The concatenation of push() and finish().content is therefore exactly
// the content of parse_tool_calls on the whole text (or the whole text when that fails).
class ToolCallStream {
 public:
  ToolCallStream(ToolFormat format, std::vector<std::string> known_names);
  // Feeds the next piece of output; returns the content now safe to send.
  std::string push(std::string_view piece);
  struct End {
    std::string content;  // the rest of the content
    std::optional<ParsedToolCalls> parsed;
  };
  End finish();

 private:
  size_t safe_length() const;  // how much of pending_ can be released

  ToolFormat format_;
  std::vector<std::string> names_;
  std::string text_;     // everything so far
  size_t released_ = 0;  // bytes of text_ returned as content
  bool holding_ = false;  // a call may have started: nothing more is released until finish()
};

}  // namespace lmkit::server
