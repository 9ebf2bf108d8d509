#include "lmkit/engine/chat_session.h"

#include <nlohmann/json.hpp>

#include "lmkit/engine/loaded_model.h"

namespace lmkit::engine {

ChatSession::ChatSession(const LoadedModel& model, Generator& generator, std::string system_prompt)
    : model_(model),
      generator_(generator),
      system_prompt_(std::move(system_prompt)),
      sequence_(generator.new_sequence()) {
  clear();
}

void ChatSession::clear() {
  messages_.clear();
  if (!system_prompt_.empty()) messages_.push_back({"system", system_prompt_});
  sequence_.clear();
}

GenerateResult ChatSession::send(const std::string& user_text, const GenerateOptions& options,
                                 const StreamCallback& on_text) {
  messages_.push_back({"user", user_text});
  nlohmann::json messages = nlohmann::json::array();
  for (const auto& m : messages_) messages.push_back({{"role", m.role}, {"content", m.content}});
  GenerateResult result;
  try {
    std::vector<int32_t> prompt = model_.tokenize_chat(messages, /*add_generation_prompt=*/true);
    result = generator_.generate(sequence_, prompt, options, on_text);
  } catch (...) {
    messages_.pop_back();
    throw;
  }
  messages_.push_back({"assistant", result.text});
  return result;
}

}  // namespace lmkit::engine
