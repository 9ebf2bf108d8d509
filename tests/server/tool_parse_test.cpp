// Tool-call parsing on the texts real chat templates render for an assistant turn with
// tool_calls: the template's rendering is the format the model was trained to emit, so the
// parser must read it back into the same calls. Plus malformed outputs (stay plain content)
// and streaming in every chunking (same result as parsing the whole text).
#include <gtest/gtest.h>

#include <fstream>
#include <random>
#include <sstream>

#include <nlohmann/json.hpp>

#include "lmkit/jinja/chat_template.h"
#include "lmkit/server/tool_calls.h"
#include "support/test_data.h"

namespace lmkit::testing {
namespace {

using server::ToolFormat;
using OJson = nlohmann::ordered_json;

std::string read_text(const std::string& path) {
  std::ifstream in(path, std::ios::binary);
  EXPECT_TRUE(in.good()) << path;
  std::stringstream ss;
  ss << in.rdbuf();
  return ss.str();
}

std::string repo_template(const std::string& name) {
  return read_text(std::string(LMKIT_SOURCE_DIR) + "/tests/jinja/data/" + name + "/chat_template.jinja");
}
std::string shared_template(const std::string& name) {
  return read_text(data_path("chat_templates/" + name + "/chat_template.jinja"));
}

struct TemplateCase {
  std::string label;
  std::string text;
  ToolFormat format;
  std::string bos, eos;
  std::string assistant_header;  // the last one in the rendering starts the assistant part
  std::string end_of_turn;       // where the assistant part ends
  bool parallel = true;          // the template renders several calls in one turn
  bool renders_content = false;  // ... and the content beside them
};

std::vector<TemplateCase> tool_templates() {
  return {
      {"qwen2.5", repo_template("qwen2_5"), ToolFormat::Hermes, "", "<|im_end|>",
       "<|im_start|>assistant\n", "<|im_end|>", true, true},
      {"qwen3", shared_template("qwen3"), ToolFormat::Hermes, "", "<|im_end|>",
       "<|im_start|>assistant\n", "<|im_end|>", true, true},
      {"hermes3", repo_template("hermes3_tool_use"), ToolFormat::Hermes, "<|begin_of_text|>",
       "<|im_end|>", "<|im_start|>assistant\n", "<|im_end|>"},
      {"llama3.1", repo_template("llama3_1"), ToolFormat::Llama3, "<|begin_of_text|>",
       "<|eot_id|>", "<|start_header_id|>assistant<|end_header_id|>\n\n", "<|eot_id|>", false},
      {"llama3.2", repo_template("llama3_2"), ToolFormat::Llama3, "<|begin_of_text|>",
       "<|eot_id|>", "<|start_header_id|>assistant<|end_header_id|>\n\n", "<|eot_id|>", false},
      {"llama3.3", repo_template("llama3_3"), ToolFormat::Llama3, "<|begin_of_text|>",
       "<|eot_id|>", "<|start_header_id|>assistant<|end_header_id|>\n\n", "<|eot_id|>", false},
      {"mistral-nemo", repo_template("mistral_nemo"), ToolFormat::Mistral, "<s>", "</s>",
       "[/INST]", "</s>"},
  };
}

const OJson kTools = OJson::parse(R"([
  {"type": "function", "function": {"name": "get_weather", "description": "Weather for a city",
   "parameters": {"type": "object", "properties": {"city": {"type": "string", "description": "City"},
   "unit": {"type": "string", "description": "Unit", "enum": ["celsius", "fahrenheit"]}},
   "required": ["city"]}}},
  {"type": "function", "function": {"name": "search", "description": "Web search",
   "parameters": {"type": "object", "properties": {"query": {"type": "string", "description": "Words"},
   "filters": {"type": "object", "description": "Filters"}}}}}
])");
const std::vector<std::string> kNames = {"get_weather", "search"};

struct Call {
  std::string name;
  OJson arguments;
};

// Renders user -> assistant(content, tool_calls) -> tool results and returns the assistant
// part exactly as the template wrote it (what a model trained on it generates).
std::string rendered_assistant_turn(const TemplateCase& t, const std::string& content,
                                    const std::vector<Call>& calls) {
  OJson tool_calls = OJson::array();
  OJson results = OJson::array();
  int k = 0;
  for (const auto& c : calls) {
    const std::string id = "abcDEF12" + std::to_string(k++);  // 9 alphanumerics (Mistral)
    tool_calls.push_back({{"id", id}, {"type", "function"},
                          {"function", {{"name", c.name}, {"arguments", c.arguments}}}});
    results.push_back({{"role", "tool"}, {"tool_call_id", id}, {"name", c.name}, {"content", "{\"ok\": true}"}});
  }
  OJson messages = OJson::array();
  messages.push_back({{"role", "user"}, {"content", "What is the weather in Paris? Also search 'café'."}});
  messages.push_back({{"role", "assistant"}, {"content", content}, {"tool_calls", tool_calls}});
  for (auto& r : results) messages.push_back(r);
  OJson context = {{"messages", messages}, {"tools", kTools}, {"add_generation_prompt", false},
                   {"bos_token", t.bos}, {"eos_token", t.eos}};
  const std::string full = ChatTemplate(t.text, t.label).render(context);
  // The assistant turn is the last one (the tool results follow it).
  const size_t header = full.rfind(t.assistant_header);
  EXPECT_NE(header, std::string::npos) << t.label << ":\n" << full;
  const size_t start = header + t.assistant_header.size();
  const size_t end = full.find(t.end_of_turn, start);
  EXPECT_NE(end, std::string::npos) << full;
  return full.substr(start, end - start);
}

void expect_calls(const server::ParsedToolCalls& parsed, const std::vector<Call>& calls,
                  ToolFormat format, const std::string& where) {
  ASSERT_EQ(parsed.calls.size(), calls.size()) << where;
  for (size_t i = 0; i < calls.size(); ++i) {
    EXPECT_EQ(parsed.calls[i].name, calls[i].name) << where;
    EXPECT_EQ(OJson::parse(parsed.calls[i].arguments), calls[i].arguments) << where;
    if (format == ToolFormat::Mistral) {
      EXPECT_EQ(parsed.calls[i].id.size(), 9u) << where;
    } else {
      EXPECT_EQ(parsed.calls[i].id.rfind("call_", 0), 0u) << where;
      EXPECT_EQ(parsed.calls[i].id.size(), 29u) << where;
    }
  }
}

// Feeds `text` in pieces of the given sizes (cycled) and checks the stream's result equals the
// one-shot parse: same content in total, same calls.
void expect_stream_matches(ToolFormat format, const std::string& text,
                           const std::vector<size_t>& sizes, const std::string& where) {
  const auto whole = server::parse_tool_calls(format, text, kNames);
  server::ToolCallStream stream(format, kNames);
  std::string streamed;
  size_t pos = 0, k = 0;
  while (pos < text.size()) {
    const size_t n = std::min(sizes[k++ % sizes.size()], text.size() - pos);
    streamed += stream.push(std::string_view(text).substr(pos, n));
    pos += n;
  }
  auto end = stream.finish();
  streamed += end.content;
  ASSERT_EQ(whole.has_value(), end.parsed.has_value()) << where;
  if (whole) {
    EXPECT_EQ(streamed, whole->content) << where;
    ASSERT_EQ(end.parsed->calls.size(), whole->calls.size()) << where;
    for (size_t i = 0; i < whole->calls.size(); ++i) {
      EXPECT_EQ(end.parsed->calls[i].name, whole->calls[i].name) << where;
      EXPECT_EQ(end.parsed->calls[i].arguments, whole->calls[i].arguments) << where;
    }
  } else {
    EXPECT_EQ(streamed, text) << where;
  }
}

std::vector<std::vector<size_t>> chunkings() {
  std::vector<std::vector<size_t>> out = {{1}, {2}, {3}, {7}, {1000}};
  std::mt19937 rng(7);
  for (int i = 0; i < 4; ++i) {
    std::vector<size_t> sizes;
    for (int k = 0; k < 16; ++k) sizes.push_back(1 + rng() % 12);
    out.push_back(sizes);
  }
  return out;
}

TEST(ToolFormat, DetectedFromRealTemplates) {
  for (const auto& t : tool_templates()) EXPECT_EQ(server::detect_tool_format(t.text), t.format) << t.label;
  // Templates without one of the three formats: no parser.
  for (const char* name : {"llama3", "gemma3", "deepseek_v3"})
    EXPECT_EQ(server::detect_tool_format(shared_template(name)), ToolFormat::None) << name;
  EXPECT_EQ(server::detect_tool_format(repo_template("mistral_v0_2")), ToolFormat::None);
  EXPECT_EQ(server::detect_tool_format(repo_template("chatml")), ToolFormat::None);
}

TEST(ToolFormat, NamesForTheFlag) {
  EXPECT_EQ(server::tool_format_from_name("qwen"), ToolFormat::Hermes);
  EXPECT_EQ(server::tool_format_from_name("hermes"), ToolFormat::Hermes);
  EXPECT_EQ(server::tool_format_from_name("llama3"), ToolFormat::Llama3);
  EXPECT_EQ(server::tool_format_from_name("mistral"), ToolFormat::Mistral);
  EXPECT_EQ(server::tool_format_from_name("none"), ToolFormat::None);
  EXPECT_FALSE(server::tool_format_from_name("Qwen").has_value());
  for (auto f : {ToolFormat::Hermes, ToolFormat::Llama3, ToolFormat::Mistral, ToolFormat::None})
    EXPECT_EQ(server::tool_format_from_name(server::tool_format_name(f)), f);
}

TEST(ToolParse, RenderedCallsParseBack) {
  const std::vector<Call> weather = {{"get_weather", {{"city", "Paris"}, {"unit", "celsius"}}}};
  const std::vector<Call> unicode = {
      {"search", OJson::parse(R"({"query": "café \"au lait\" </tool_call> }{ [TOOL_CALLS]", "filters": {"lang": ["fr", "日本語"], "n": 3, "x": null}})")}};
  const std::vector<Call> two = {weather[0], unicode[0]};
  const std::vector<Call> no_args = {{"search", OJson::object()}};
  for (const auto& t : tool_templates()) {
    std::vector<std::pair<std::string, std::vector<Call>>> cases = {
        {"", weather}, {"", unicode}, {"", no_args}};
    if (t.parallel) {
      cases.push_back({"", two});
    }
    if (t.renders_content) {
      cases.push_back({"I will check the weather.", weather});
      cases.push_back({"Let me look that up.", two});
    }
    for (const auto& [content, calls] : cases) {
      const std::string text = rendered_assistant_turn(t, content, calls);
      const std::string where = t.label + " on: " + text;
      auto parsed = server::parse_tool_calls(t.format, text, kNames);
      ASSERT_TRUE(parsed.has_value()) << where;
      EXPECT_EQ(parsed->content, content) << where;
      expect_calls(*parsed, calls, t.format, where);
      for (const auto& sizes : chunkings()) expect_stream_matches(t.format, text, sizes, where);
    }
  }
}

TEST(ToolParse, OtherFormatsTextIsNotACall) {
  const std::vector<Call> weather = {{"get_weather", {{"city", "Paris"}}}};
  for (const auto& t : tool_templates()) {
    const std::string text = rendered_assistant_turn(t, "", weather);
    for (auto other : {ToolFormat::Hermes, ToolFormat::Llama3, ToolFormat::Mistral, ToolFormat::None}) {
      if (other == t.format) continue;
      // Mistral's [TOOL_CALLS] JSON object list is not Llama's bare object, and so on.
      EXPECT_FALSE(server::parse_tool_calls(other, text, kNames).has_value())
          << t.label << " parsed as " << server::tool_format_name(other) << ": " << text;
    }
  }
}

TEST(ToolParse, MalformedCallsStayContent) {
  struct Case {
    ToolFormat format;
    std::string text;
  };
  const std::vector<Case> cases = {
      {ToolFormat::Hermes, "<tool_call>\n{\"name\": \"get_weather\", \"arguments\": {\"city\": \"Paris\"}\n</tool_call>"},
      {ToolFormat::Hermes, "<tool_call>\n{\"name\": \"unknown_fn\", \"arguments\": {}}\n</tool_call>"},
      {ToolFormat::Hermes, "<tool_call>\n{\"arguments\": {}}\n</tool_call>"},
      {ToolFormat::Hermes, "<tool_call>\n{\"name\": 3, \"arguments\": {}}\n</tool_call>"},
      {ToolFormat::Hermes, "<tool_call>\n{\"name\": \"search\", \"arguments\": [1, 2]}\n</tool_call>"},
      {ToolFormat::Hermes, "<tool_call>\n{\"name\": \"search\", \"arguments\": \"not json\"}\n</tool_call>"},
      {ToolFormat::Hermes, "<tool_call>\n{\"name\": \"search\", \"arguments\": {}}\n</tool_call> and then some text"},
      {ToolFormat::Hermes, "<tool_call>\n{\"name\": \"search\", \"arguments\": {}}\n</tool_call>\nhm\n<tool_call>\n{\"name\": \"search\", \"arguments\": {}}\n</tool_call>"},
      {ToolFormat::Hermes, "<tool_call>\n{\"name\": \"search\", \"arguments\": {\"query\": \"abc"},
      {ToolFormat::Hermes, "<tool_call>\n"},
      {ToolFormat::Hermes, "<tool_call>\n{\"name\": \"search\", \"arguments\": {}} trailing\n</tool_call>"},
      {ToolFormat::Llama3, "Sure: {\"name\": \"search\", \"parameters\": {}}"},
      {ToolFormat::Llama3, "{\"name\": \"search\", \"parameters\": {}} and more"},
      {ToolFormat::Llama3, "{\"name\": \"search\", \"parameters\": {}}; {\"name\": \"nope\", \"parameters\": {}}"},
      {ToolFormat::Llama3, "{\"name\": \"search\", \"parameters\": {"},
      {ToolFormat::Llama3, "{\"title\": \"a JSON answer\"}"},
      {ToolFormat::Mistral, "[TOOL_CALLS] [{\"name\": \"search\", \"arguments\": {}}"},
      {ToolFormat::Mistral, "[TOOL_CALLS] []"},
      {ToolFormat::Mistral, "[TOOL_CALLS] [{\"name\": \"search\", \"arguments\": {}}] more"},
      {ToolFormat::Mistral, "[TOOL_CALLS] [{\"name\": \"search\", \"arguments\": 5}]"},
      {ToolFormat::Mistral, "no calls at all"},
  };
  for (const auto& c : cases) {
    EXPECT_FALSE(server::parse_tool_calls(c.format, c.text, kNames).has_value()) << c.text;
    for (const auto& sizes : chunkings()) expect_stream_matches(c.format, c.text, sizes, c.text);
  }
}

TEST(ToolParse, AcceptedVariants) {
  // What models write besides their template's exact rendering.
  auto one = [](ToolFormat f, const std::string& text) {
    auto p = server::parse_tool_calls(f, text, kNames);
    EXPECT_TRUE(p.has_value()) << text;
    for (const auto& sizes : chunkings()) expect_stream_matches(f, text, sizes, text);
    return p ? *p : server::ParsedToolCalls{};
  };
  // Llama 3 after <|python_tag|>, with "arguments" instead of "parameters", several with ';'.
  auto p = one(ToolFormat::Llama3, "<|python_tag|>{\"name\": \"search\", \"parameters\": {\"query\": \"x\"}}");
  EXPECT_EQ(p.calls.at(0).arguments, "{\"query\":\"x\"}");
  p = one(ToolFormat::Llama3, "  {\"name\": \"search\", \"arguments\": {\"query\": \"x\"}}; {\"name\": \"get_weather\", \"parameters\": {\"city\": \"Oslo\"}}\n");
  ASSERT_EQ(p.calls.size(), 2u);
  EXPECT_EQ(p.calls[1].arguments, "{\"city\":\"Oslo\"}");
  // Arguments written as a JSON string (the API's own encoding).
  p = one(ToolFormat::Hermes, "<tool_call>\n{\"name\": \"search\", \"arguments\": \"{\\\"query\\\": \\\"y\\\"}\"}\n</tool_call>");
  EXPECT_EQ(p.calls.at(0).arguments, "{\"query\":\"y\"}");
  // The last block without its closing tag.
  p = one(ToolFormat::Hermes, "Checking.\n\n<tool_call>\n{\"name\": \"search\", \"arguments\": {\"query\": \"z\"}}");
  EXPECT_EQ(p.content, "Checking.");
  // Mistral: one object instead of a list; ids in the output are replaced by fresh ones.
  p = one(ToolFormat::Mistral, "[TOOL_CALLS]{\"name\": \"search\", \"arguments\": {}, \"id\": \"zzzzzzzzz\"}");
  EXPECT_NE(p.calls.at(0).id, "zzzzzzzzz");
  EXPECT_EQ(p.calls.at(0).arguments, "{}");
  // Key order of the arguments is kept.
  p = one(ToolFormat::Hermes, "<tool_call>{\"name\": \"search\", \"arguments\": {\"b\": 1, \"a\": 2}}</tool_call>");
  EXPECT_EQ(p.calls.at(0).arguments, "{\"b\":1,\"a\":2}");
}

TEST(ToolParse, StreamReleasesContentBeforeTheCallEarly) {
  server::ToolCallStream s(ToolFormat::Hermes, kNames);
  EXPECT_EQ(s.push("Hello"), "Hello");
  EXPECT_EQ(s.push(" world <tool"), " world");  // " <tool" may start a call
  EXPECT_EQ(s.push("box> ok"), " <toolbox> ok");
  EXPECT_EQ(s.push("\n<tool_call>\n{\"name\": \"search\", "), "");
  EXPECT_EQ(s.push("\"arguments\": {}}\n</tool_call>"), "");
  auto end = s.finish();
  ASSERT_TRUE(end.parsed.has_value());
  EXPECT_EQ(end.parsed->content, "Hello world <toolbox> ok");
  EXPECT_EQ(end.content, "");

  server::ToolCallStream llama(ToolFormat::Llama3, kNames);
  EXPECT_EQ(llama.push("  "), "");
  EXPECT_EQ(llama.push("<|pyth"), "");
  EXPECT_EQ(llama.push("onic"), "  <|pythonic");  // not the tag: plain text from here on
  EXPECT_EQ(llama.push(" {\"name\": \"search\"}"), " {\"name\": \"search\"}");
  EXPECT_FALSE(llama.finish().parsed.has_value());
}

TEST(ToolParse, MistralIds) {
  EXPECT_EQ(server::mistral_tool_call_id("call_abcdefghijklmnop"), "hijklmnop");
  EXPECT_EQ(server::mistral_tool_call_id("abc123XYZ"), "abc123XYZ");
  EXPECT_EQ(server::mistral_tool_call_id("a-b"), "0000000ab");
  for (int i = 0; i < 20; ++i) {
    const std::string id = server::new_tool_call_id(ToolFormat::Mistral);
    EXPECT_EQ(server::mistral_tool_call_id(id), id);
  }
  EXPECT_NE(server::new_tool_call_id(ToolFormat::Hermes), server::new_tool_call_id(ToolFormat::Hermes));
}

}  // namespace
}  // namespace lmkit::testing
