#include "lmkit/server/tool_calls.h"

#include <algorithm>
#include <random>

#include <nlohmann/json.hpp>

namespace lmkit::server {

namespace {

using OJson = nlohmann::ordered_json;

constexpr std::string_view kHermesOpen = "<tool_call>";
constexpr std::string_view kHermesClose = "</tool_call>";
constexpr std::string_view kMistralMarker = "[TOOL_CALLS]";
constexpr std::string_view kPythonTag = "<|python_tag|>";

bool is_blank(char c) { return c == ' ' || c == '\t' || c == '\n' || c == '\r'; }

std::string_view trim_end(std::string_view s) {
  while (!s.empty() && is_blank(s.back())) s.remove_suffix(1);
  return s;
}
std::string_view trim_start(std::string_view s) {
  while (!s.empty() && is_blank(s.front())) s.remove_prefix(1);
  return s;
}
bool starts_with(std::string_view s, std::string_view prefix) {
  return s.substr(0, prefix.size()) == prefix;
}
bool all_blank(std::string_view s) { return trim_start(s).empty(); }

// Length of the JSON object or array starting at s[0] ('{' or '['), found by bracket counting
// outside strings; 0 when it does not close. The slice is then parsed strictly by nlohmann.
size_t json_value_length(std::string_view s) {
  int depth = 0;
  bool in_string = false, escaped = false;
  for (size_t i = 0; i < s.size(); ++i) {
    const char c = s[i];
    if (in_string) {
      if (escaped) escaped = false;
      else if (c == '\\') escaped = true;
      else if (c == '"') in_string = false;
      continue;
    }
    if (c == '"') in_string = true;
    else if (c == '{' || c == '[') ++depth;
    else if (c == '}' || c == ']') {
      if (--depth == 0) return i + 1;
    }
  }
  return 0;
}

std::optional<OJson> parse_json(std::string_view text) {
  OJson j = OJson::parse(text.begin(), text.end(), nullptr, /*allow_exceptions=*/false);
  if (j.is_discarded()) return std::nullopt;
  return j;
}

std::string compact(const OJson& j) {
  return j.dump(-1, ' ', false, OJson::error_handler_t::replace);
}

// {"name": N, "arguments": {...}} (or "parameters" for Llama 3) into a call; nullopt when it is
// not one of the declared functions with an object of arguments.
std::optional<ToolCall> call_from_json(const OJson& j, ToolFormat format,
                                       const std::vector<std::string>& known_names) {
  if (!j.is_object()) return std::nullopt;
  auto name = j.find("name");
  if (name == j.end() || !name->is_string()) return std::nullopt;
  ToolCall call;
  call.name = name->get<std::string>();
  if (std::find(known_names.begin(), known_names.end(), call.name) == known_names.end())
    return std::nullopt;
  auto args = j.find("arguments");
  if (format == ToolFormat::Llama3 && args == j.end()) args = j.find("parameters");
  if (args == j.end()) {
    call.arguments = "{}";  // a function without parameters
  } else if (args->is_object()) {
    call.arguments = compact(*args);
  } else if (args->is_string()) {
    // Some fine-tunes write the arguments as a JSON string, as the OpenAI API carries them.
    auto inner = parse_json(args->get_ref<const std::string&>());
    if (!inner || !inner->is_object()) return std::nullopt;
    call.arguments = compact(*inner);
  } else {
    return std::nullopt;
  }
  call.id = new_tool_call_id(format);
  return call;
}

// One JSON object at the start of s; advances s past it.
std::optional<OJson> take_object(std::string_view& s) {
  if (s.empty() || (s.front() != '{' && s.front() != '[')) return std::nullopt;
  const size_t n = json_value_length(s);
  if (n == 0) return std::nullopt;
  auto j = parse_json(s.substr(0, n));
  s.remove_prefix(n);
  return j;
}

std::optional<ParsedToolCalls> parse_hermes(std::string_view text,
                                            const std::vector<std::string>& names) {
  const size_t first = text.find(kHermesOpen);
  if (first == std::string_view::npos) return std::nullopt;
  ParsedToolCalls out;
  out.content = std::string(trim_end(text.substr(0, first)));
  std::string_view rest = text.substr(first);
  while (!rest.empty()) {
    if (!starts_with(rest, kHermesOpen)) return std::nullopt;  // other text between calls
    rest = trim_start(rest.substr(kHermesOpen.size()));
    // The object is delimited by bracket counting, so "</tool_call>" inside an argument
    // string does not cut it.
    auto j = take_object(rest);
    if (!j) return std::nullopt;
    auto call = call_from_json(*j, ToolFormat::Hermes, names);
    if (!call) return std::nullopt;
    out.calls.push_back(std::move(*call));
    rest = trim_start(rest);
    // The last block may lack its closing tag (the model ended right after the JSON).
    if (starts_with(rest, kHermesClose)) rest = trim_start(rest.substr(kHermesClose.size()));
    else if (!rest.empty()) return std::nullopt;
  }
  return out;
}

std::optional<ParsedToolCalls> parse_llama3(std::string_view text,
                                            const std::vector<std::string>& names) {
  std::string_view rest = trim_start(text);
  if (starts_with(rest, kPythonTag)) rest = trim_start(rest.substr(kPythonTag.size()));
  if (!starts_with(rest, "{")) return std::nullopt;
  ParsedToolCalls out;
  while (true) {
    auto j = take_object(rest);
    if (!j) return std::nullopt;
    auto call = call_from_json(*j, ToolFormat::Llama3, names);
    if (!call) return std::nullopt;
    out.calls.push_back(std::move(*call));
    rest = trim_start(rest);
    if (rest.empty()) break;
    if (rest.front() != ';') return std::nullopt;
    rest = trim_start(rest.substr(1));
  }
  return out;
}

std::optional<ParsedToolCalls> parse_mistral(std::string_view text,
                                             const std::vector<std::string>& names) {
  const size_t marker = text.find(kMistralMarker);
  if (marker == std::string_view::npos) return std::nullopt;
  ParsedToolCalls out;
  out.content = std::string(trim_end(text.substr(0, marker)));
  std::string_view rest = trim_start(text.substr(marker + kMistralMarker.size()));
  auto j = take_object(rest);
  if (!j || !all_blank(rest)) return std::nullopt;
  const OJson list = j->is_array() ? *j : OJson::array({*j});
  if (list.empty()) return std::nullopt;
  for (const auto& item : list) {
    auto call = call_from_json(item, ToolFormat::Mistral, names);
    if (!call) return std::nullopt;
    out.calls.push_back(std::move(*call));
  }
  return out;
}

// The longest suffix of s that is a proper prefix of marker.
size_t partial_marker_suffix(std::string_view s, std::string_view marker) {
  for (size_t len = std::min(marker.size() - 1, s.size()); len > 0; --len)
    if (s.substr(s.size() - len) == marker.substr(0, len)) return len;
  return 0;
}

}  // namespace

std::optional<ToolFormat> tool_format_from_name(std::string_view name) {
  if (name == "none") return ToolFormat::None;
  if (name == "qwen" || name == "hermes") return ToolFormat::Hermes;
  if (name == "llama3") return ToolFormat::Llama3;
  if (name == "mistral") return ToolFormat::Mistral;
  return std::nullopt;
}

const char* tool_format_name(ToolFormat format) {
  switch (format) {
    case ToolFormat::Hermes: return "qwen";
    case ToolFormat::Llama3: return "llama3";
    case ToolFormat::Mistral: return "mistral";
    case ToolFormat::None: break;
  }
  return "none";
}

ToolFormat detect_tool_format(std::string_view t) {
  if (t.find(kHermesOpen) != std::string_view::npos) return ToolFormat::Hermes;
  if (t.find(kMistralMarker) != std::string_view::npos) return ToolFormat::Mistral;
  // Llama 3.1+ writes a call as {"name": ..., "parameters": ...} in an ipython-aware template.
  const bool llama_turns = t.find("<|start_header_id|>") != std::string_view::npos;
  if (llama_turns && (t.find(kPythonTag) != std::string_view::npos ||
                      t.find("\"parameters\"") != std::string_view::npos))
    return ToolFormat::Llama3;
  return ToolFormat::None;
}

std::optional<ParsedToolCalls> parse_tool_calls(ToolFormat format, std::string_view text,
                                                const std::vector<std::string>& known_names) {
  switch (format) {
    case ToolFormat::Hermes: return parse_hermes(text, known_names);
    case ToolFormat::Llama3: return parse_llama3(text, known_names);
    case ToolFormat::Mistral: return parse_mistral(text, known_names);
    case ToolFormat::None: break;
  }
  return std::nullopt;
}

std::string new_tool_call_id(ToolFormat format) {
  static thread_local std::mt19937_64 rng{std::random_device{}()};
  static constexpr std::string_view alnum =
      "abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789";
  const bool mistral = format == ToolFormat::Mistral;
  std::string id = mistral ? "" : "call_";
  for (int i = 0; i < (mistral ? 9 : 24); ++i) id += alnum[rng() % alnum.size()];
  return id;
}

std::string mistral_tool_call_id(std::string_view id) {
  std::string kept;
  for (char c : id)
    if ((c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9')) kept += c;
  if (kept.size() > 9) kept.erase(0, kept.size() - 9);
  return std::string(9 - kept.size(), '0') + kept;
}

ToolCallStream::ToolCallStream(ToolFormat format, std::vector<std::string> known_names)
    : format_(format), names_(std::move(known_names)) {}

size_t ToolCallStream::safe_length() const {
  const std::string_view pending = std::string_view(text_).substr(released_);
  switch (format_) {
    case ToolFormat::None: return pending.size();
    case ToolFormat::Llama3: {
      // A call is the whole output: decided by the first non-blank characters.
      if (released_ > 0) return pending.size();
      const std::string_view head = trim_start(pending);
      if (head.empty()) return 0;
      if (head.size() < kPythonTag.size() && starts_with(kPythonTag, head)) return 0;
      if (starts_with(head, "{") || starts_with(head, kPythonTag)) return std::string_view::npos;
      return pending.size();
    }
    case ToolFormat::Hermes:
    case ToolFormat::Mistral: {
      const std::string_view marker = format_ == ToolFormat::Hermes ? kHermesOpen : kMistralMarker;
      const size_t at = pending.find(marker);
      if (at != std::string_view::npos) return std::string_view::npos;
      // Keep back what may be the start of the marker, and the blanks before it (the parse
      // trims them off the content).
      return trim_end(pending.substr(0, pending.size() - partial_marker_suffix(pending, marker))).size();
    }
  }
  return pending.size();
}

std::string ToolCallStream::push(std::string_view piece) {
  text_.append(piece);
  if (holding_) return {};
  size_t safe = safe_length();
  if (safe == std::string_view::npos) {
    // A call may be starting: release the content before it (as the parse will cut it).
    holding_ = true;
    const std::string_view pending = std::string_view(text_).substr(released_);
    const std::string_view marker = format_ == ToolFormat::Hermes ? kHermesOpen : kMistralMarker;
    safe = format_ == ToolFormat::Llama3 ? 0 : trim_end(pending.substr(0, pending.find(marker))).size();
  }
  std::string out = text_.substr(released_, safe);
  released_ += safe;
  return out;
}

ToolCallStream::End ToolCallStream::finish() {
  End end;
  if (format_ != ToolFormat::None) {
    auto parsed = parse_tool_calls(format_, text_, names_);
    // The content already released is exactly the parse's content (see safe_length); checked
    // so that a divergence can only ever fall back to plain content, never duplicate text.
    if (parsed && parsed->content == std::string_view(text_).substr(0, released_)) {
      end.parsed = std::move(parsed);
      released_ = text_.size();
      return end;
    }
  }
  end.content = text_.substr(released_);
  released_ = text_.size();
  return end;
}

}  // namespace lmkit::server
