// The constraint behind forced tool calls (tool_choice "required" / named), driven token by
// token over a small vocabulary: it lets through exactly the call the chat template renders,
// for an allowed function, with arguments valid for its parameters, then only an end token.
#include <gtest/gtest.h>

#include <cmath>

#include <nlohmann/json.hpp>

#include "lmkit/server/api_error.h"
#include "lmkit/server/json_constraint.h"
#include "lmkit/server/tool_calls.h"
#include "lmkit/server/tool_calls_constraint.h"

namespace lmkit::testing {
namespace {

using server::ToolFormat;
using OJson = nlohmann::ordered_json;

constexpr int32_t kEnd = 0;

// Id 0 is the end token (no text); then every printable ASCII character and '\n' alone, then
// a few longer pieces such as a tokenizer has.
struct Vocab {
  std::vector<std::string> pieces = {""};
  Vocab() {
    pieces.push_back("\n");
    for (char c = 32; c < 127; ++c) pieces.push_back(std::string(1, c));
    for (const char* p : {"<tool_call>", "\"name\"", "}\n", "\": ", "Paris", "get_"}) pieces.push_back(p);
  }
  int32_t id(const std::string& piece) const {
    auto it = std::find(pieces.begin(), pieces.end(), piece);
    return it == pieces.end() ? -1 : static_cast<int32_t>(it - pieces.begin());
  }
};

server::ForcedFunction fn(const std::string& name, const char* function_json) {
  return {name, server::forced_arguments_schema(OJson::parse(function_json), "tools[0].function")};
}

class Driver {
 public:
  Driver(ToolFormat format, std::vector<server::ForcedFunction> fns)
      : pieces_(std::make_shared<server::TokenPieces>(vocab_.pieces)),
        c_(server::make_tool_call_constraint(pieces_, format, std::move(fns), {kEnd})) {}
  bool allowed(int32_t id) {
    std::vector<float> logits(vocab_.pieces.size(), 0.0f);
    c_->mask(logits);
    return std::isfinite(logits[static_cast<size_t>(id)]);
  }
  bool allowed(const std::string& piece) { return allowed(vocab_.id(piece)); }
  // Writes `text` one character at a time; false at the first one the mask forbids.
  bool write(const std::string& text) {
    for (char ch : text) {
      const int32_t id = vocab_.id(std::string(1, ch));
      if (!allowed(id)) return false;
      c_->accept(id);
    }
    return true;
  }
  bool only_end_allowed() {
    std::vector<float> logits(vocab_.pieces.size(), 0.0f);
    c_->mask(logits);
    for (size_t i = 0; i < logits.size(); ++i)
      if (std::isfinite(logits[i]) != (i == static_cast<size_t>(kEnd))) return false;
    return true;
  }

 private:
  Vocab vocab_;
  std::shared_ptr<server::TokenPieces> pieces_;
  std::unique_ptr<engine::LogitsConstraint> c_;
};

const char* kWeather = R"({"name": "get_weather", "parameters": {"type": "object",
  "properties": {"city": {"type": "string"}, "unit": {"enum": ["c", "f"]}},
  "required": ["city"], "additionalProperties": false}})";

TEST(ToolCallConstraint, ForcesTheTemplatesCallWithValidArguments) {
  for (auto format : {ToolFormat::Hermes, ToolFormat::Llama3, ToolFormat::Mistral}) {
    const std::string call = server::forced_call_head(format, "get_weather") +
                             R"({"city": "Paris", "unit": "f"})" + server::forced_call_tail(format);
    Driver d(format, {fn("get_weather", kWeather)});
    EXPECT_TRUE(d.write(call)) << call;
    EXPECT_TRUE(d.only_end_allowed()) << call;
    // What it forces is what the parser reads back as that call.
    auto parsed = server::parse_tool_calls(format, call, {"get_weather"});
    ASSERT_TRUE(parsed.has_value()) << call;
    EXPECT_EQ(parsed->calls.at(0).arguments, R"({"city":"Paris","unit":"f"})");
  }
}

TEST(ToolCallConstraint, MasksWhatBreaksTheCall) {
  const std::string head = server::forced_call_head(ToolFormat::Hermes, "get_weather");
  {
    Driver d(ToolFormat::Hermes, {fn("get_weather", kWeather)});
    EXPECT_FALSE(d.allowed("S"));  // no prose first
    EXPECT_FALSE(d.allowed(kEnd));
    EXPECT_TRUE(d.allowed("<tool_call>"));
    ASSERT_TRUE(d.write(head + "{"));
    EXPECT_FALSE(d.allowed("}"));  // "city" is required
    ASSERT_TRUE(d.write("\"city\": \"Paris\", \"unit\": "));
    ASSERT_TRUE(d.write("\""));  // "c" or "f" only
    EXPECT_FALSE(d.allowed("x"));
    EXPECT_TRUE(d.allowed("c"));
  }
  {
    Driver d(ToolFormat::Hermes, {fn("get_weather", kWeather)});
    ASSERT_TRUE(d.write(head + R"({"city": "Paris")"));
    EXPECT_FALSE(d.allowed("}\n"));  // one token across the arguments' end and the tail
    ASSERT_TRUE(d.write("}"));
    EXPECT_TRUE(d.allowed("}\n"));  // the tail's own start
    EXPECT_FALSE(d.allowed(kEnd));
    EXPECT_FALSE(d.write("]"));
  }
  {
    Driver d(ToolFormat::Hermes, {fn("get_weather", kWeather)});
    EXPECT_FALSE(d.write(head + R"({"city": 3)"));  // a string, not a number
  }
  {
    Driver d(ToolFormat::Hermes, {fn("get_weather", kWeather)});
    EXPECT_FALSE(d.write(head + R"({"town": )"));  // no other keys
  }
}

TEST(ToolCallConstraint, RequiredChoosesAmongTheAllowedFunctions) {
  const std::string prefix = "<tool_call>\n{\"name\": \"get_";
  Driver d(ToolFormat::Hermes, {fn("get_weather", kWeather), fn("get_time", R"({"name": "get_time"})"),
                                fn("search", R"({"name": "search", "parameters": {"properties": {"q": {"type": "string"}}}})")});
  ASSERT_TRUE(d.write(prefix));
  EXPECT_TRUE(d.allowed("w"));
  EXPECT_TRUE(d.allowed("t"));
  EXPECT_FALSE(d.allowed("s"));
  // get_time declares no parameters: its arguments are exactly {}.
  ASSERT_TRUE(d.write("time\", \"arguments\": {"));
  EXPECT_FALSE(d.allowed("\""));
  ASSERT_TRUE(d.write("}}\n</tool_call>"));
  EXPECT_TRUE(d.only_end_allowed());
}

TEST(ToolCallConstraint, ParametersItCannotEnforceAre400) {
  auto bad = [](const char* function) {
    try {
      (void)server::forced_arguments_schema(OJson::parse(function), "tools[2].function");
    } catch (const server::ApiError& e) {
      EXPECT_EQ(e.status(), 400);
      EXPECT_EQ(e.param(), "tools");
      return std::string(e.what());
    }
    ADD_FAILURE() << "accepted " << function;
    return std::string();
  };
  EXPECT_NE(bad(R"({"name": "f", "parameters": {"type": "array"}})").find("tools[2].function.parameters"), std::string::npos);
  const std::string pattern = bad(R"({"name": "f", "parameters": {"type": "object", "properties": {"a": {"type": "string", "pattern": "x+"}}}})");
  EXPECT_NE(pattern.find("pattern"), std::string::npos) << pattern;
  EXPECT_NE(pattern.find("/properties/a"), std::string::npos) << pattern;
  EXPECT_THROW(server::make_tool_call_constraint(nullptr, ToolFormat::Hermes, {}, {kEnd}), Error);
}

}  // namespace
}  // namespace lmkit::testing
