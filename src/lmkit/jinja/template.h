// The generic template engine: parse once, render many times with JSON variables.
// ChatTemplate (chat_template.h) is the front the rest of lmkit uses.
#pragma once
#include <memory>
#include <string>

#include <nlohmann/json_fwd.hpp>

#include "lmkit/jinja/interpreter.h"

namespace lmkit::jinja {

class Template {
 public:
  // `origin` names the template in error messages ("tokenizer_config.json chat_template").
  explicit Template(std::string source, std::string origin = "template", Limits limits = {});
  ~Template();
  Template(Template&&) noexcept;
  Template& operator=(Template&&) noexcept;

  // `context` must be a JSON object; its members become the template's variables.
  std::string render(const nlohmann::json& context) const;
  std::string render(const nlohmann::ordered_json& context) const;

 private:
  std::string render_value(const Value& context) const;
  struct Parsed;
  std::unique_ptr<Parsed> parsed_;
};

}  // namespace lmkit::jinja
