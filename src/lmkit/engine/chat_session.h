// A multi-turn conversation whose KV cache survives between turns. Each turn renders the whole
// conversation with the model's chat template (templates may rewrite earlier turns, so
// appending tokens is not enough), then the generator reuses the longest token prefix the
// cache already holds and computes only the rest.
#pragma once
#include <memory>
#include <string>
#include <vector>

#include "lmkit/engine/generator.h"

namespace lmkit::engine {

class LoadedModel;

struct ChatMessage {
  std::string role;  // "system", "user", "assistant"
  std::string content;
};

class ChatSession {
 public:
  // `model` and `generator` must outlive the session. The generator must run model.model().
  ChatSession(const LoadedModel& model, Generator& generator, std::string system_prompt = {});

  // Adds the user's message, generates the assistant's reply (streamed through on_text) and
  // adds it to the history, even when cut short by cancellation. When the turn cannot run at
  // all (the conversation no longer fits the context), the user's message is dropped again and
  // the lmkit::Error propagates; the session stays usable.
  GenerateResult send(const std::string& user_text, const GenerateOptions& options,
                      const StreamCallback& on_text = {});

  // Forgets the conversation (the system prompt stays) and frees its KV blocks.
  void clear();

  const std::vector<ChatMessage>& messages() const { return messages_; }
  // Tokens currently held in the KV cache for this conversation.
  int64_t cached_tokens() const { return sequence_.length(); }

 private:
  const LoadedModel& model_;
  Generator& generator_;
  std::string system_prompt_;
  std::vector<ChatMessage> messages_;
  Sequence sequence_;
};

}  // namespace lmkit::engine
