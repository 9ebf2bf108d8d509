#include "lmkit/server/tool_calls_constraint.h"

#include <algorithm>
#include <limits>

#include "lmkit/base/error.h"
#include "lmkit/server/api_error.h"
#include "lmkit/server/json_constraint.h"
#include "lmkit/server/json_grammar.h"
#include "lmkit/server/json_schema.h"

namespace lmkit::server {

std::shared_ptr<const JsonSchema> forced_arguments_schema(const nlohmann::ordered_json& function,
                                                          const std::string& where) {
  nlohmann::json schema;
  auto p = function.find("parameters");
  if (p == function.end() || p->is_null()) {
    schema = {{"type", "object"}, {"properties", nlohmann::json::object()},
              {"additionalProperties", false}};
  } else {
    schema = nlohmann::json(*p);
    if (!schema.contains("type")) schema["type"] = "object";
    if (schema["type"] != "object")
      bad_request("'" + where + ".parameters' must describe an object (the arguments of a "
                  "call are one), got \"type\": " + schema["type"].dump(), "tools");
  }
  try {
    return std::make_shared<const JsonSchema>(JsonSchema::compile(schema));
  } catch (const JsonSchemaError& e) {
    bad_request("'" + where + ".parameters' cannot be enforced for a forced tool call: " +
                    e.what(), "tools");
  }
}

std::string forced_call_head(ToolFormat format, const std::string& name) {
  // Names are [a-zA-Z0-9_-] (checked with the request), nothing to escape; so no head is a
  // prefix of another: each ends with the name's closing quote and what follows it.
  switch (format) {
    case ToolFormat::Hermes: return "<tool_call>\n{\"name\": \"" + name + "\", \"arguments\": ";
    case ToolFormat::Llama3: return "{\"name\": \"" + name + "\", \"parameters\": ";
    case ToolFormat::Mistral: return "[TOOL_CALLS][{\"name\": \"" + name + "\", \"arguments\": ";
    case ToolFormat::None: break;
  }
  throw_error("a forced tool call needs a tool-call format");
}

std::string forced_call_tail(ToolFormat format) {
  switch (format) {
    case ToolFormat::Hermes: return "}\n</tool_call>";
    case ToolFormat::Llama3: return "}";
    case ToolFormat::Mistral: return "}]";
    case ToolFormat::None: break;
  }
  throw_error("a forced tool call needs a tool-call format");
}

namespace {

constexpr float kNever = -std::numeric_limits<float>::infinity();

// Three phases: the head (literal text up to the arguments, the function chosen by the name),
// the arguments (delegated to the JSON-Schema constraint of that function; a recognizer fed
// with the same pieces says when the object closes), the tail (literal), then an end token.
// A token never straddles two phases: the split points are where the model must pick a token
// boundary, which a byte-level or byte-fallback vocabulary always allows.
class ToolCallConstraint : public engine::LogitsConstraint {
 public:
  ToolCallConstraint(std::shared_ptr<const TokenPieces> pieces, ToolFormat format,
                     std::vector<ForcedFunction> functions, std::vector<int32_t> end_ids)
      : pieces_(std::move(pieces)), functions_(std::move(functions)),
        tail_(forced_call_tail(format)), end_ids_(std::move(end_ids)) {
    if (functions_.empty() || functions_.size() > kMaxForcedFunctions)
      throw_error("a forced tool call needs 1 to 64 functions, got " +
                  std::to_string(functions_.size()));
    for (const auto& f : functions_) heads_.push_back(forced_call_head(format, f.name));
    alive_ = functions_.size() == 64 ? ~uint64_t{0} : (uint64_t{1} << functions_.size()) - 1;
  }

  void mask(std::span<float> logits) override {
    if (phase_ == Phase::Arguments) {
      args_->mask(logits);
      return;
    }
    bool any = false;
    for (size_t i = 0; i < logits.size(); ++i) {
      const auto id = static_cast<int32_t>(i);
      if (logits[i] == kNever) continue;
      bool ok;
      if (phase_ == Phase::Done) ok = is_end(id);
      else ok = !is_end(id) && pieces_->usable(id) && literal_fits(pieces_->piece(id));
      if (ok) any = true;
      else logits[i] = kNever;
    }
    // Unreachable with a vocabulary that spells ASCII; rather than sample from nothing, end
    // (the reply is then plain content, not a call).
    if (!any)
      for (int32_t id : end_ids_)
        if (id >= 0 && static_cast<size_t>(id) < logits.size()) logits[static_cast<size_t>(id)] = 0.0f;
  }

  void accept(int32_t token) override {
    if (is_end(token) || !pieces_->usable(token)) return;
    const std::string& piece = pieces_->piece(token);
    switch (phase_) {
      case Phase::Head: {
        uint64_t next = 0;
        int finished = -1;
        for (size_t f = 0; f < heads_.size(); ++f) {
          if (!(alive_ >> f & 1) || heads_[f].compare(pos_, piece.size(), piece) != 0) continue;
          next |= uint64_t{1} << f;
          if (pos_ + piece.size() == heads_[f].size()) finished = static_cast<int>(f);
        }
        alive_ = next;
        pos_ += piece.size();
        if (finished >= 0) {
          const auto& schema = functions_[static_cast<size_t>(finished)].arguments;
          args_ = make_json_schema_constraint(pieces_, schema, end_ids_);
          recognizer_.emplace(*schema, log_);
          phase_ = Phase::Arguments;
        }
        break;
      }
      case Phase::Arguments:
        args_->accept(token);
        if (recognizer_->feed(piece) && recognizer_->complete()) {
          phase_ = Phase::Tail;
          pos_ = 0;
        }
        break;
      case Phase::Tail:
        pos_ += piece.size();
        if (pos_ >= tail_.size()) phase_ = Phase::Done;
        break;
      case Phase::Done:
        break;
    }
  }

 private:
  enum class Phase : uint8_t { Head, Arguments, Tail, Done };

  // The piece continues the literal of the current phase without passing its end.
  bool literal_fits(const std::string& piece) const {
    if (phase_ == Phase::Tail) return tail_.compare(pos_, piece.size(), piece) == 0 && pos_ + piece.size() <= tail_.size();
    for (size_t f = 0; f < heads_.size(); ++f)
      if ((alive_ >> f & 1) && pos_ + piece.size() <= heads_[f].size() &&
          heads_[f].compare(pos_, piece.size(), piece) == 0)
        return true;
    return false;
  }
  bool is_end(int32_t id) const {
    return std::find(end_ids_.begin(), end_ids_.end(), id) != end_ids_.end();
  }

  std::shared_ptr<const TokenPieces> pieces_;
  std::vector<ForcedFunction> functions_;
  std::vector<std::string> heads_;
  std::string tail_;
  std::vector<int32_t> end_ids_;
  Phase phase_ = Phase::Head;
  size_t pos_ = 0;      // characters of the head or tail written
  uint64_t alive_ = 0;  // functions whose head matches what was written
  std::unique_ptr<engine::LogitsConstraint> args_;
  JsonKeyLog log_;
  std::optional<JsonRecognizer> recognizer_;
};

}  // namespace

std::unique_ptr<engine::LogitsConstraint> make_tool_call_constraint(
    std::shared_ptr<const TokenPieces> pieces, ToolFormat format,
    std::vector<ForcedFunction> functions, std::vector<int32_t> end_token_ids) {
  return std::make_unique<ToolCallConstraint>(std::move(pieces), format, std::move(functions),
                                              std::move(end_token_ids));
}

}  // namespace lmkit::server
