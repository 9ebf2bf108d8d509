// Chat templates: a Jinja subset large enough for real `chat_template` strings, rendered
// the way transformers does (trim_blocks and lstrip_blocks on). Context values are JSON.
// The engine itself is lmkit/jinja/template.h; docs/chat-templates.md lists what is
// supported and where rendering follows @huggingface/jinja rather than Python's Jinja2.
#pragma once
#include <memory>
#include <string>

#include <nlohmann/json_fwd.hpp>

namespace lmkit {

class ChatTemplate {
 public:
  // Parses the template; unsupported syntax is an lmkit::Error naming `origin` (e.g.
  // "tokenizer_config.json chat_template"), the line and the column.
  explicit ChatTemplate(const std::string& source, const std::string& origin = "chat template");
  ~ChatTemplate();
  ChatTemplate(ChatTemplate&&) noexcept;
  ChatTemplate& operator=(ChatTemplate&&) noexcept;

  // Renders with the given variables (messages, add_generation_prompt, bos_token, tools, ...).
  // A template's raise_exception(msg) throws lmkit::Error whose message is msg.
  // nlohmann::json sorts object keys; pass an ordered_json (e.g. ordered_json::parse of the
  // request) when the template prints dicts with tojson, so keys keep their written order.
  std::string render(const nlohmann::json& context) const;
  std::string render(const nlohmann::ordered_json& context) const;

 private:
  struct Impl;
  std::unique_ptr<Impl> impl_;
};

}  // namespace lmkit
