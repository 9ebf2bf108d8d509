#include "lmkit/jinja/chat_template.h"

#include <nlohmann/json.hpp>

#include "lmkit/jinja/template.h"

namespace lmkit {

struct ChatTemplate::Impl {
  jinja::Template engine;
};

ChatTemplate::ChatTemplate(const std::string& source, const std::string& origin)
    : impl_(std::make_unique<Impl>(Impl{jinja::Template(source, origin)})) {}

ChatTemplate::~ChatTemplate() = default;
ChatTemplate::ChatTemplate(ChatTemplate&&) noexcept = default;
ChatTemplate& ChatTemplate::operator=(ChatTemplate&&) noexcept = default;

std::string ChatTemplate::render(const nlohmann::json& context) const { return impl_->engine.render(context); }

std::string ChatTemplate::render(const nlohmann::ordered_json& context) const { return impl_->engine.render(context); }

}  // namespace lmkit
