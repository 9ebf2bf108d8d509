// libFuzzer target: any template source either parses or throws lmkit::Error; one that parses
// renders a chat context (messages with a tool call, tools, add_generation_prompt) or throws
// lmkit::Error. Nothing else may happen: no crash, no hang (the engine bounds loops and output).
#include <cstddef>
#include <cstdint>
#include <string>

#include <nlohmann/json.hpp>

#include "lmkit/base/error.h"
#include "lmkit/jinja/chat_template.h"

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  static const nlohmann::json context = nlohmann::json::parse(R"({
    "messages": [
      {"role": "system", "content": "You are terse."},
      {"role": "user", "content": "Hi <b>there</b> 你好"},
      {"role": "assistant", "content": "", "tool_calls": [{"type": "function",
        "function": {"name": "get", "arguments": {"city": "Paris", "n": [1, 2.5, null, true]}}}]},
      {"role": "tool", "content": "{\"t\": 20}"},
      {"role": "user", "content": [{"type": "text", "text": "again"}]}
    ],
    "tools": [{"type": "function", "function": {"name": "get", "description": "d",
      "parameters": {"type": "object", "properties": {"city": {"type": "string"}}}}}],
    "add_generation_prompt": true, "bos_token": "<s>", "eos_token": "</s>"
  })");
  std::string source(reinterpret_cast<const char*>(data), size);
  try {
    lmkit::ChatTemplate t(source, "fuzz");
    (void)t.render(context);
  } catch (const lmkit::Error&) {
  }
  return 0;
}
