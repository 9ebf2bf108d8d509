// Chat templates: a Jinja subset large enough for real `chat_template` strings, rendered
// the way transformers does (trim_blocks and lstrip_blocks on). Context values are JSON.
#pragma once
#include <memory>
#include <string>

#include <nlohmann/json_fwd.hpp>

namespace lmkit {

class ChatTemplate {
 public:
  // Parses the template; unsupported syntax is an lmkit::Error naming the line.
  explicit ChatTemplate(const std::string& source);
  ~ChatTemplate();
  ChatTemplate(ChatTemplate&&) noexcept;
  ChatTemplate& operator=(ChatTemplate&&) noexcept;

  // Renders with the given variables (messages, add_generation_prompt, bos_token, tools, ...).
  // A template's raise_exception(msg) throws lmkit::Error whose message is msg.
  std::string render(const nlohmann::json& context) const;

 private:
  struct Impl;
  std::unique_ptr<Impl> impl_;
};

}  // namespace lmkit
