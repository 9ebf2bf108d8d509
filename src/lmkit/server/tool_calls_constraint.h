// tool_choice "required" or a named function, made honest by constrained decoding: the output
// is forced to be one call written exactly as the chat template renders one (Qwen/Hermes
// `<tool_call>\n{"name": N, "arguments": ARGS}\n</tool_call>`, Llama 3 `{"name": N,
// "parameters": ARGS}`, Mistral `[TOOL_CALLS][{"name": N, "arguments": ARGS}]`), N one of the
// allowed functions and ARGS a JSON object valid for N's `parameters` (json_schema.h; masked by
// the response_format constraint of json_constraint.h), then an end token.
#pragma once
#include <cstdint>
#include <memory>
#include <string>
#include <vector>

#include <nlohmann/json.hpp>

#include "lmkit/engine/scheduler.h"
#include "lmkit/server/tool_calls.h"

namespace lmkit::server {

class TokenPieces;

inline constexpr size_t kMaxForcedFunctions = 64;  // one bit each while the name is read

// The schema a forced call's arguments must satisfy: `parameters` as the function declares
// it, "type": "object" added when it names no type (arguments are an object); without
// `parameters` exactly {} (the function takes none). Throws ApiError (400) for parameters the
// schema compiler refuses (naming the keyword's pointer) or that are not an object schema.
std::shared_ptr<const JsonSchema> forced_arguments_schema(const nlohmann::ordered_json& function,
                                                          const std::string& where);

// The text before and after a call's arguments, per format (exactly the templates' rendering).
std::string forced_call_head(ToolFormat format, const std::string& function_name);
std::string forced_call_tail(ToolFormat format);

// Throws lmkit::Error for ToolFormat::None, no function or more than kMaxForcedFunctions.
std::unique_ptr<engine::LogitsConstraint> make_tool_call_constraint(
    std::shared_ptr<const TokenPieces> pieces, ToolFormat format,
    std::vector<ForcedFunction> functions, std::vector<int32_t> end_token_ids);

}  // namespace lmkit::server
