#include "lmkit/server/openai_request.h"

#include <random>

#include "lmkit/engine/loaded_model.h"
#include "lmkit/models/model.h"
#include "lmkit/server/api_error.h"
#include "lmkit/server/json_constraint.h"
#include "lmkit/server/json_schema.h"
#include "lmkit/server/tool_calls_constraint.h"
#include "lmkit/tokenizer/tokenizer.h"

namespace lmkit::server {

namespace {

constexpr int64_t kMaxChoices = 128;  // OpenAI's limit for n
constexpr int64_t kMaxTopLogprobs = 20;

// Runs a model/tokenizer call whose lmkit::Error is the client's fault (a template that
// rejects the messages, a model without a tokenizer) and reports it as a 400 on `param`.
template <class F>
auto client_side(const char* param, F&& fn) {
  try {
    return fn();
  } catch (const ApiError&) {
    throw;
  } catch (const Error& e) {
    bad_request(e.what(), param);
  }
}

std::vector<int32_t> token_ids(const Json& array, const std::string& where, int64_t vocab_size) {
  std::vector<int32_t> ids;
  ids.reserve(array.size());
  for (size_t i = 0; i < array.size(); ++i) {
    const Json& v = array[i];
    if (!v.is_number_integer() && !v.is_number_unsigned())
      bad_request("'" + where + "[" + std::to_string(i) + "]' must be a token id (an integer), got " +
                      json_type_name(v), "prompt");
    const int64_t id = v.is_number_unsigned() ? static_cast<int64_t>(std::min<uint64_t>(
                                                    v.get<uint64_t>(), uint64_t{1} << 40))
                                              : v.get<int64_t>();
    if (id < 0 || id >= vocab_size)
      bad_request("'" + where + "[" + std::to_string(i) + "]' is token id " + std::to_string(id) +
                      ", outside the vocabulary [0, " + std::to_string(vocab_size) + ")", "prompt");
    ids.push_back(static_cast<int32_t>(id));
  }
  if (ids.empty()) bad_request("'" + where + "' is an empty list of token ids", "prompt");
  return ids;
}

void parse_completion_prompt(const Json& body, const engine::LoadedModel& model,
                             GenerationRequest& r) {
  auto it = body.find("prompt");
  if (it == body.end() || it->is_null()) bad_request("'prompt' is required", "prompt");
  const Json& p = *it;
  const int64_t vocab = model.model().config().vocab_size;
  const Tokenizer* tok = model.tokenizer();
  auto decode = [&](const std::vector<int32_t>& ids) {
    return tok ? tok->decode(ids, r.options.skip_special_tokens) : std::string();
  };
  auto add_text = [&](const std::string& text) {
    r.prompts.push_back(client_side("prompt", [&] { return model.tokenize(text); }));
    r.prompt_texts.push_back(text);
  };
  if (p.is_string()) {
    add_text(p.get<std::string>());
  } else if (p.is_array()) {
    if (p.empty()) bad_request("'prompt' is an empty list", "prompt");
    const Json& first = p[0];
    if (first.is_string()) {
      for (size_t i = 0; i < p.size(); ++i) {
        if (!p[i].is_string())
          bad_request("'prompt[" + std::to_string(i) + "]' must be a string like the first element, got " +
                          json_type_name(p[i]), "prompt");
        add_text(p[i].get<std::string>());
      }
    } else if (first.is_number()) {
      r.prompts.push_back(token_ids(p, "prompt", vocab));
      r.prompt_texts.push_back(decode(r.prompts.back()));
    } else if (first.is_array()) {
      for (size_t i = 0; i < p.size(); ++i) {
        if (!p[i].is_array())
          bad_request("'prompt[" + std::to_string(i) + "]' must be a list of token ids like the first element, got " +
                          json_type_name(p[i]), "prompt");
        r.prompts.push_back(token_ids(p[i], "prompt[" + std::to_string(i) + "]", vocab));
        r.prompt_texts.push_back(decode(r.prompts.back()));
      }
    } else {
      bad_request("'prompt' must be a string, a list of strings, a list of token ids or a list of "
                  "lists of token ids; its first element is " + json_type_name(first), "prompt");
    }
  } else {
    bad_request("'prompt' must be a string, a list of strings, a list of token ids or a list of "
                "lists of token ids, got " + json_type_name(p), "prompt");
  }
}

void parse_chat_prompt(const Json& body, const engine::LoadedModel& model, GenerationRequest& r,
                       ToolFormat tool_format, std::string_view raw_body) {
  const Json* messages = get_array(body, "messages");
  if (!messages) bad_request("'messages' is required", "messages");
  if (messages->empty()) bad_request("'messages' must not be empty", "messages");
  // The body parsed once more, keeping the client's key order for the template.
  const nlohmann::ordered_json ordered =
      raw_body.empty() ? nlohmann::ordered_json(body) : nlohmann::ordered_json::parse(raw_body);
  r.prompts.push_back(chat_prompt_ids(ordered, model, tool_format, &r.tools));
  r.prompt_texts.emplace_back();
}

// Features that would change the output if honoured: refusing them beats ignoring them.
void refuse_unsupported(Endpoint endpoint, const Json& body) {
  if (const Json* bias = get_object(body, "logit_bias"); bias && !bias->empty())
    bad_request("'logit_bias' is not supported", "logit_bias");
  if (auto suffix = get_string(body, "suffix"); suffix && !suffix->empty())
    bad_request("'suffix' is not supported", "suffix");
  if (endpoint == Endpoint::Completions)
    if (const Json* tools = get_array(body, "tools"); tools && !tools->empty())
      bad_request("'tools' are only supported on /v1/chat/completions", "tools");
  if (const Json* functions = get_array(body, "functions"); functions && !functions->empty())
    bad_request("'functions' are not supported", "functions");
}

// response_format: "text", "json_object", or "json_schema" with a schema constrained decoding
// enforces exactly (json_schema.h lists the subset). Anything else is a 400 naming the keyword
// and its JSON pointer: an output that ignores the schema must never come back as a 200.
std::shared_ptr<const JsonSchema> parse_response_format(const Json& body) {
  const Json* fmt = get_object(body, "response_format");
  if (!fmt) return nullptr;
  auto type = get_string(*fmt, "type");
  if (!type) bad_request("'response_format.type' is required", "response_format");
  if (*type == "text") return nullptr;
  if (*type == "json_object") return json_object_schema();
  if (*type != "json_schema")
    bad_request("'response_format.type' must be 'text', 'json_object' or 'json_schema', got '" +
                    *type + "'", "response_format");
  const Json* spec = get_object(*fmt, "json_schema");
  if (!spec) bad_request("'response_format.json_schema' is required for type 'json_schema'", "response_format");
  // OpenAI's strict flag: the schema is enforced whether it is true or false.
  (void)get_bool(*spec, "strict");
  auto it = spec->find("schema");
  if (it == spec->end() || it->is_null())
    bad_request("'response_format.json_schema.schema' is required", "response_format");
  if (!it->is_object() && !it->is_boolean())
    bad_request("'response_format.json_schema.schema' must be a JSON schema (an object), got " +
                    json_type_name(*it), "response_format");
  try {
    return std::make_shared<const JsonSchema>(JsonSchema::compile(*it));
  } catch (const JsonSchemaError& e) {
    bad_request(std::string("'response_format.json_schema.schema': ") + e.what(), "response_format");
  }
}

// tool_choice "required" / named: the call is forced by constrained decoding (the wrapper
// text of the format and arguments valid for the function's parameters).
void force_tool_call(GenerationRequest& r) {
  ToolRequest& t = r.tools;
  if (t.choice == ToolChoice::Required && t.names.size() > kMaxForcedFunctions)
    bad_request("'tool_choice' \"required\" supports at most 64 tools", "tool_choice");
  for (size_t i = 0; i < t.tools.size(); ++i) {
    const auto& fn = t.tools[i]["function"];
    const std::string name = fn["name"].get<std::string>();
    if (t.choice == ToolChoice::Named && name != t.named_function) continue;
    t.forced.push_back({name, forced_arguments_schema(fn, "tools[" + std::to_string(i) + "].function")});
  }
  if (r.options.ignore_eos)
    bad_request("'ignore_eos' cannot be combined with a forced tool call (the output ends with "
                "the call)", "ignore_eos");
  if (r.options.eos_token_ids.empty())
    bad_request("a forced tool call needs an end token and this model has none", "tool_choice");
}

// What tools allow with the other fields, once the tools are parsed.
void check_tool_use(const Json& body, GenerationRequest& r) {
  ToolRequest& t = r.tools;
  if (t.choice != ToolChoice::None && t.format == ToolFormat::None)
    bad_request("'tools' need a tool-call format, and this model's chat template renders none "
                "that lmkit parses (qwen/hermes <tool_call>, llama3 JSON, mistral [TOOL_CALLS]): "
                "start the server with --tool-parser qwen|llama3|mistral, or send "
                "\"tool_choice\": \"none\"", "tools");
  // The model cannot be trusted to comply: the call is forced.
  if (t.choice == ToolChoice::Required || t.choice == ToolChoice::Named) force_tool_call(r);
  if (t.parse_output() && r.json_schema)
    bad_request("'response_format' JSON cannot be combined with 'tools' (a tool call is not the "
                "JSON reply); send \"tool_choice\": \"none\" or drop one of them",
                "response_format");
  // Mistral's [TOOL_CALLS] is a special token: decoded only when special tokens are kept
  // (vLLM's Mistral parser does the same).
  if (t.parse_output() && t.format == ToolFormat::Mistral && !get_bool(body, "skip_special_tokens"))
    r.options.skip_special_tokens = false;
}

[[noreturn]] void context_exceeded(int64_t context, int64_t prompt, int64_t completion) {
  if (completion > 0)
    bad_request("This model's maximum context length is " + std::to_string(context) +
                    " tokens. However, you requested " + std::to_string(prompt + completion) +
                    " tokens (" + std::to_string(prompt) + " in the prompt, " +
                    std::to_string(completion) +
                    " for the completion). Please reduce the prompt or max_tokens.",
                "max_tokens", "context_length_exceeded");
  bad_request("This model's maximum context length is " + std::to_string(context) +
                  " tokens, but the prompt has " + std::to_string(prompt) +
                  " tokens. Please shorten the prompt.",
              "messages", "context_length_exceeded");
}

}  // namespace

void check_model_name(const Json& body, const std::vector<std::string>& served_names) {
  auto name = get_string(body, "model");
  if (!name) return;
  for (const auto& s : served_names)
    if (*name == s) return;
  throw ApiError(404, "The model '" + *name + "' does not exist; this server serves '" +
                          (served_names.empty() ? std::string() : served_names[0]) + "'",
                 "model", "model_not_found");
}

namespace {

template <class J>
J normalise_messages_as(const J& messages) {
  J out = J::array();
  for (size_t i = 0; i < messages.size(); ++i) {
    const J& m = messages[i];
    const std::string where = "messages[" + std::to_string(i) + "]";
    if (!m.is_object())
      bad_request("'" + where + "' must be an object, got " + json_type_name(Json(m.type())), "messages");
    auto role = m.find("role");
    if (role == m.end() || !role->is_string())
      bad_request("'" + where + ".role' must be a string", "messages");
    J copy = m;
    auto content = m.find("content");
    if (content != m.end() && content->is_array()) {
      std::string text;
      for (size_t k = 0; k < content->size(); ++k) {
        const J& part = (*content)[k];
        const std::string pw = where + ".content[" + std::to_string(k) + "]";
        if (!part.is_object() || !part.contains("type") || !part["type"].is_string())
          bad_request("'" + pw + "' must be an object with a 'type'", "messages");
        if (part["type"] != "text")
          bad_request("'" + pw + "' has type '" + part["type"].template get<std::string>() +
                          "'; only text parts are supported", "messages");
        if (!part.contains("text") || !part["text"].is_string())
          bad_request("'" + pw + ".text' must be a string", "messages");
        if (!text.empty()) text += "\n";
        text += part["text"].template get<std::string>();
      }
      copy["content"] = text;
    } else if (content != m.end() && !content->is_string() && !content->is_null()) {
      bad_request("'" + where + ".content' must be a string, a list of parts or null, got " +
                      json_type_name(Json(content->type())), "messages");
    }
    out.push_back(std::move(copy));
  }
  return out;
}

}  // namespace

Json normalise_messages(const Json& messages) { return normalise_messages_as(messages); }
nlohmann::ordered_json normalise_messages(const nlohmann::ordered_json& messages) {
  return normalise_messages_as(messages);
}

std::vector<int32_t> chat_prompt_ids(const nlohmann::ordered_json& body,
                                     const engine::LoadedModel& model, ToolFormat tool_format,
                                     ToolRequest* tools_out) {
  auto m = body.find("messages");
  if (m == body.end() || !m->is_array()) bad_request("'messages' must be a list", "messages");
  ToolRequest tools = parse_tool_request(body, tool_format);
  nlohmann::ordered_json messages = normalise_messages(*m);
  prepare_tool_messages(messages, tools.format);
  bool add_generation_prompt = true;
  if (auto it = body.find("add_generation_prompt"); it != body.end() && !it->is_null()) {
    if (!it->is_boolean())
      bad_request("'add_generation_prompt' must be a boolean, got " + json_type_name(Json(it->type())),
                  "add_generation_prompt");
    add_generation_prompt = it->get<bool>();
  }
  std::vector<int32_t> ids = client_side("messages", [&] {
    return model.tokenize_chat(messages, add_generation_prompt, tools.tools);
  });
  if (tools_out) *tools_out = std::move(tools);
  return ids;
}

GenerationRequest parse_generation_request(Endpoint endpoint, const Json& body,
                                           const engine::LoadedModel& model,
                                           int64_t context_size, ToolFormat tool_format,
                                           std::string_view raw_body) {
  GenerationRequest r;
  r.endpoint = endpoint;
  const bool chat = endpoint == Endpoint::ChatCompletions;
  refuse_unsupported(endpoint, body);

  r.n = get_int(body, "n", 1, kMaxChoices).value_or(1);
  if (auto best_of = get_int(body, "best_of", 1, kMaxChoices); best_of && *best_of != r.n)
    bad_request("'best_of' different from 'n' is not supported", "best_of");
  r.stream = get_bool(body, "stream").value_or(false);
  if (const Json* so = get_object(body, "stream_options")) {
    if (!r.stream) bad_request("'stream_options' is only allowed when 'stream' is true", "stream_options");
    r.include_usage = get_bool(*so, "include_usage").value_or(false);
  }

  engine::GenerateOptions& o = r.options;
  o.sampling = model.defaults().sampling;
  if (auto v = get_number(body, "temperature", 0.0, 2.0)) o.sampling.temperature = static_cast<float>(*v);
  if (auto v = get_number(body, "top_p", 0.0, 1.0)) {
    if (*v <= 0.0) bad_request("'top_p' must be greater than 0 and at most 1, got 0", "top_p");
    o.sampling.top_p = static_cast<float>(*v);
  }
  // -1 means off in vLLM's API, 0 in transformers'; both are accepted.
  if (auto v = get_int(body, "top_k", -1, int64_t{1} << 30)) o.sampling.top_k = static_cast<int32_t>(std::max<int64_t>(0, *v));
  if (auto v = get_number(body, "min_p", 0.0, 1.0)) o.sampling.min_p = static_cast<float>(*v);
  if (auto v = get_number(body, "presence_penalty", -2.0, 2.0)) o.sampling.presence_penalty = static_cast<float>(*v);
  if (auto v = get_number(body, "frequency_penalty", -2.0, 2.0)) o.sampling.frequency_penalty = static_cast<float>(*v);
  if (auto v = get_number(body, "repetition_penalty", 0.0, 100.0)) {
    if (*v <= 0.0) bad_request("'repetition_penalty' must be greater than 0, got 0", "repetition_penalty");
    o.sampling.repetition_penalty = static_cast<float>(*v);
  }
  if (auto v = get_int(body, "seed", INT64_MIN, INT64_MAX))
    o.sampling.seed = static_cast<uint64_t>(*v);
  else
    o.sampling.seed = (static_cast<uint64_t>(std::random_device{}()) << 32) | std::random_device{}();
  if (auto stop = get_string_or_strings(body, "stop")) {
    for (auto& s : *stop)
      if (!s.empty()) o.stop.push_back(std::move(s));
    if (!o.stop.empty() && !model.tokenizer())
      bad_request("'stop' needs a tokenizer and this model has none", "stop");
  }
  o.eos_token_ids = model.eos_token_ids();
  o.ignore_eos = get_bool(body, "ignore_eos").value_or(false);
  o.skip_special_tokens = get_bool(body, "skip_special_tokens").value_or(true);

  // max_completion_tokens is the newer name (chat); max_tokens the older (both endpoints).
  // 0 only to score a prompt (completions with echo: the prompt comes back, nothing is added).
  const bool may_score_prompt = !chat && get_bool(body, "echo").value_or(false);
  std::optional<int64_t> max_tokens = get_int(body, "max_tokens", may_score_prompt ? 0 : 1, int64_t{1} << 40);
  if (chat)
    if (auto v = get_int(body, "max_completion_tokens", 1, int64_t{1} << 40)) max_tokens = v;
  // OpenAI's completions default to 16 tokens; chat runs until an end token or a full context.
  o.max_tokens = max_tokens ? *max_tokens : (chat ? -1 : 16);

  if (chat) {
    r.logprobs = get_bool(body, "logprobs").value_or(false);
    if (auto top = get_int(body, "top_logprobs", 0, kMaxTopLogprobs)) {
      if (!r.logprobs && *top > 0)
        bad_request("'top_logprobs' needs 'logprobs': true", "top_logprobs");
      r.top_logprobs = static_cast<int32_t>(*top);
    }
  } else {
    if (auto lp = get_int(body, "logprobs", 0, kMaxTopLogprobs)) {
      r.logprobs = true;
      r.top_logprobs = static_cast<int32_t>(*lp);
    }
    r.echo = get_bool(body, "echo").value_or(false);
  }
  // The engine reports the chosen token's logprob along with the top N; it needs N >= 1.
  if (r.logprobs) o.logprobs = std::max<int32_t>(1, r.top_logprobs);

  r.json_schema = parse_response_format(body);
  if (r.json_schema) {
    if (!model.tokenizer())
      bad_request("'response_format' needs a tokenizer and this model has none", "response_format");
    if (o.ignore_eos)
      bad_request("'ignore_eos' cannot be combined with a JSON 'response_format' (the output "
                  "ends with the object)", "ignore_eos");
    if (o.eos_token_ids.empty())
      bad_request("'response_format' needs an end token and this model has none", "response_format");
  }

  if (chat)
  {
    parse_chat_prompt(body, model, r, tool_format, raw_body);
    check_tool_use(body, r);
  }
  else
    parse_completion_prompt(body, model, r);

  for (const auto& prompt : r.prompts) {
    const auto n = static_cast<int64_t>(prompt.size());
    if (n > context_size) context_exceeded(context_size, n, 0);
    if (max_tokens && n + *max_tokens > context_size) context_exceeded(context_size, n, *max_tokens);
  }
  return r;
}

}  // namespace lmkit::server
