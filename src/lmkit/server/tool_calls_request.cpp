#include "lmkit/server/tool_calls_request.h"

#include <algorithm>

#include "lmkit/base/error.h"
#include "lmkit/engine/loaded_model.h"
#include "lmkit/jinja/chat_template.h"
#include "lmkit/server/api_error.h"
#include "lmkit/server/json_fields.h"

namespace lmkit::server {

namespace {

using OJson = nlohmann::ordered_json;

std::string type_name(const OJson& v) { return json_type_name(Json(v.type())); }

// OpenAI's wording and codes for the three ways a field can be wrong.
[[noreturn]] void missing(const std::string& path) {
  bad_request("Missing required parameter: '" + path + "'.", path, "missing_required_parameter");
}
[[noreturn]] void wrong_type(const std::string& path, const char* expected, const OJson& got) {
  bad_request("Invalid type for '" + path + "': expected " + expected + ", but got " +
                  type_name(got) + " instead.", path, "invalid_type");
}
[[noreturn]] void invalid_value(const std::string& path, const std::string& why) {
  bad_request("Invalid value for '" + path + "': " + why, path, "invalid_value");
}

const OJson& required_field(const OJson& obj, const char* key, const std::string& path) {
  auto it = obj.find(key);
  if (it == obj.end() || it->is_null()) missing(path + "." + key);
  return *it;
}

// OpenAI's rule for function names: ^[a-zA-Z0-9_-]{1,64}$.
void check_function_name(const std::string& name, const std::string& path) {
  if (name.empty() || name.size() > 64)
    invalid_value(path, "a function name must have 1 to 64 characters, got " +
                            std::to_string(name.size()) + ".");
  for (char c : name)
    if (!((c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9') ||
          c == '_' || c == '-'))
      invalid_value(path, "'" + name + "' does not match the pattern '^[a-zA-Z0-9_-]+$'.");
}

std::string parse_function_tool(const OJson& tool, const std::string& path) {
  if (!tool.is_object()) wrong_type(path, "an object", tool);
  const OJson& type = required_field(tool, "type", path);
  if (!type.is_string()) wrong_type(path + ".type", "a string", type);
  if (type != "function")
    invalid_value(path + ".type", "'" + type.get<std::string>() +
                                      "'. Supported values are: 'function'.");
  const std::string fpath = path + ".function";
  const OJson& fn = required_field(tool, "function", path);
  if (!fn.is_object()) wrong_type(fpath, "an object", fn);
  const OJson& name = required_field(fn, "name", fpath);
  if (!name.is_string()) wrong_type(fpath + ".name", "a string", name);
  check_function_name(name.get<std::string>(), fpath + ".name");
  if (auto d = fn.find("description"); d != fn.end() && !d->is_null() && !d->is_string())
    wrong_type(fpath + ".description", "a string", *d);
  if (auto p = fn.find("parameters"); p != fn.end() && !p->is_null() && !p->is_object())
    wrong_type(fpath + ".parameters", "an object (a JSON Schema)", *p);
  if (auto s = fn.find("strict"); s != fn.end() && !s->is_null() && !s->is_boolean())
    wrong_type(fpath + ".strict", "a boolean", *s);
  return name.get<std::string>();
}

void parse_tool_choice(const OJson& body, ToolRequest& r) {
  auto it = body.find("tool_choice");
  const bool given = it != body.end() && !it->is_null();
  r.choice = r.names.empty() ? ToolChoice::None : ToolChoice::Auto;  // OpenAI's defaults
  if (!given) return;
  const OJson& c = *it;
  if (c.is_string()) {
    const std::string s = c.get<std::string>();
    if (s == "none") r.choice = ToolChoice::None;
    else if (s == "auto") r.choice = ToolChoice::Auto;
    else if (s == "required") r.choice = ToolChoice::Required;
    else
      invalid_value("tool_choice", "'" + s + "'. Supported values are: 'none', 'auto', and 'required'.");
  } else if (c.is_object()) {
    const OJson& type = required_field(c, "type", "tool_choice");
    if (type != "function")
      invalid_value("tool_choice.type", type.dump() + ". Supported values are: 'function'.");
    const OJson& fn = required_field(c, "function", "tool_choice");
    if (!fn.is_object()) wrong_type("tool_choice.function", "an object", fn);
    const OJson& name = required_field(fn, "name", "tool_choice.function");
    if (!name.is_string()) wrong_type("tool_choice.function.name", "a string", name);
    r.choice = ToolChoice::Named;
    r.named_function = name.get<std::string>();
    if (std::find(r.names.begin(), r.names.end(), r.named_function) == r.names.end())
      invalid_value("tool_choice", "function '" + r.named_function + "' is not among 'tools'.");
  } else {
    wrong_type("tool_choice", "a string or an object", c);
  }
  if (r.choice != ToolChoice::None && r.names.empty())
    invalid_value("tool_choice", "'tool_choice' is only allowed when 'tools' are specified.");
}

}  // namespace

ToolFormat resolve_tool_format(const std::string& parser_name, const engine::LoadedModel& model) {
  if (!parser_name.empty()) {
    if (auto f = tool_format_from_name(parser_name)) return *f;
    throw_error("--tool-parser " + parser_name + ": unknown, expected qwen, hermes, llama3, "
                "mistral or none");
  }
  const ChatTemplate* tmpl = model.chat_template();
  if (!tmpl) return ToolFormat::None;
  // The rendering shows how the template writes a call (its text alone could mention tool
  // syntax it never renders). The id has the 9 alphanumerics Mistral's template demands.
  const OJson probe = OJson::parse(R"({
    "messages": [
      {"role": "user", "content": "What is the weather?"},
      {"role": "assistant", "content": "", "tool_calls": [{"id": "a1b2c3d4e", "type": "function",
        "function": {"name": "get_weather", "arguments": {"city": "Paris"}}}]},
      {"role": "tool", "tool_call_id": "a1b2c3d4e", "name": "get_weather", "content": "sunny"}],
    "tools": [{"type": "function", "function": {"name": "get_weather",
      "description": "Weather for a city", "parameters": {"type": "object",
      "properties": {"city": {"type": "string", "description": "city"}}, "required": ["city"]}}}],
    "add_generation_prompt": true})");
  OJson context = probe;
  context["bos_token"] = model.bos_token();
  context["eos_token"] = model.eos_token();
  try {
    return detect_tool_format(tmpl->render(context));
  } catch (const Error&) {
    return ToolFormat::None;  // a template that cannot render tool calls has no format
  }
}

ToolRequest parse_tool_request(const OJson& body, ToolFormat server_format) {
  ToolRequest r;
  r.format = server_format;
  if (auto it = body.find("tools"); it != body.end() && !it->is_null()) {
    if (!it->is_array()) wrong_type("tools", "an array of objects", *it);
    // An empty list means no tools (some clients always send the field).
    if (!it->empty()) r.tools = *it;
    for (size_t i = 0; i < it->size(); ++i) {
      const std::string path = "tools[" + std::to_string(i) + "]";
      std::string name = parse_function_tool((*it)[i], path);
      if (std::find(r.names.begin(), r.names.end(), name) != r.names.end())
        invalid_value(path + ".function.name", "the function '" + name + "' is declared twice.");
      r.names.push_back(std::move(name));
    }
  }
  parse_tool_choice(body, r);
  if (auto it = body.find("parallel_tool_calls"); it != body.end() && !it->is_null()) {
    if (!it->is_boolean()) wrong_type("parallel_tool_calls", "a boolean", *it);
    r.parallel = it->get<bool>();
  }
  return r;
}

void prepare_tool_messages(OJson& messages, ToolFormat format) {
  for (size_t i = 0; i < messages.size(); ++i) {
    OJson& m = messages[i];
    const std::string where = "messages[" + std::to_string(i) + "]";
    if (auto id = m.find("tool_call_id"); id != m.end() && !id->is_null()) {
      if (!id->is_string()) wrong_type(where + ".tool_call_id", "a string", *id);
      if (format == ToolFormat::Mistral) *id = mistral_tool_call_id(id->get<std::string>());
    }
    auto calls = m.find("tool_calls");
    if (calls == m.end()) continue;
    if (calls->is_null() || (calls->is_array() && calls->empty())) {
      m.erase(calls);
      continue;
    }
    if (!calls->is_array()) wrong_type(where + ".tool_calls", "an array", *calls);
    if (m["role"] != "assistant")
      invalid_value(where + ".tool_calls", "only assistant messages carry tool calls.");
    // (An ordered_json object is a vector: adding a key invalidates iterators into it.)
    if (auto c = m.find("content"); c == m.end() || c->is_null()) m["content"] = "";
    OJson& call_list = m["tool_calls"];
    for (size_t k = 0; k < call_list.size(); ++k) {
      OJson& call = call_list[k];
      const std::string path = where + ".tool_calls[" + std::to_string(k) + "]";
      if (!call.is_object()) wrong_type(path, "an object", call);
      if (auto t = call.find("type"); t != call.end() && !t->is_null() && *t != "function")
        invalid_value(path + ".type", "supported values are: 'function'.");
      if (auto id = call.find("id"); id != call.end() && !id->is_null()) {
        if (!id->is_string()) wrong_type(path + ".id", "a string", *id);
        if (format == ToolFormat::Mistral) *id = mistral_tool_call_id(id->get<std::string>());
      }
      auto fn_it = call.find("function");
      if (fn_it == call.end() || fn_it->is_null()) missing(path + ".function");
      OJson& fn = *fn_it;
      if (!fn.is_object()) wrong_type(path + ".function", "an object", fn);
      const OJson& name = required_field(fn, "name", path + ".function");
      if (!name.is_string()) wrong_type(path + ".function.name", "a string", name);
      auto args = fn.find("arguments");
      if (args == fn.end() || args->is_null()) {
        fn["arguments"] = OJson::object();
      } else if (args->is_string()) {
        // As vLLM does: templates print arguments with tojson (Llama, Mistral, Qwen2.5), so a
        // JSON string would come out quoted. A string that is not a JSON object stays as is.
        const std::string& s = args->get_ref<const std::string&>();
        OJson parsed = OJson::parse(s, nullptr, /*allow_exceptions=*/false);
        if (!parsed.is_discarded() && parsed.is_object()) *args = std::move(parsed);
      } else if (!args->is_object()) {
        wrong_type(path + ".function.arguments", "a string (JSON)", *args);
      }
    }
  }
}

}  // namespace lmkit::server
