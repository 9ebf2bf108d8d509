#include "lmkit/jinja/template.h"

#include <nlohmann/json.hpp>

#include "lmkit/base/error.h"
#include "lmkit/jinja/lexer.h"
#include "lmkit/jinja/parser.h"

namespace lmkit::jinja {

struct Template::Parsed {
  std::string source;
  std::string origin;
  Limits limits;
  Body body;
};

Template::Template(std::string source, std::string origin, Limits limits) : parsed_(std::make_unique<Parsed>()) {
  parsed_->source = std::move(source);
  parsed_->origin = std::move(origin);
  parsed_->limits = limits;
  if (parsed_->source.size() > limits.max_string_bytes)
    throw_error(parsed_->origin + ": template of " + std::to_string(parsed_->source.size()) + " bytes is too large");
  parsed_->body = parse(tokenize(parsed_->source, parsed_->origin), parsed_->source, parsed_->origin);
}

Template::~Template() = default;
Template::Template(Template&&) noexcept = default;
Template& Template::operator=(Template&&) noexcept = default;

std::string Template::render(const nlohmann::json& context) const {
  if (!context.is_object() && !context.is_null())
    throw_error(parsed_->origin + ": the render context must be a JSON object, got " + context.type_name());
  return render_value(from_json(context));
}

std::string Template::render(const nlohmann::ordered_json& context) const {
  if (!context.is_object() && !context.is_null())
    throw_error(parsed_->origin + ": the render context must be a JSON object, got " + context.type_name());
  return render_value(from_json(context));
}

std::string Template::render_value(const Value& context) const {
  Interpreter interpreter(parsed_->source, parsed_->origin, parsed_->limits);
  Scope globals;
  define_globals(interpreter, globals);
  if (context.kind == Value::Kind::Object)
    for (const auto& [name, value] : context.object->entries) globals.set(name, value);
  return interpreter.render(parsed_->body, globals);
}

}  // namespace lmkit::jinja
