// Deterministic mutations of real templates: whatever the input, parsing and rendering either
// succeed or throw lmkit::Error; nothing else escapes (no other exception, no crash under the
// sanitizer build). A cheap stand-in for a fuzzer that runs in every test run.
#include <gtest/gtest.h>

#include <nlohmann/json.hpp>
#include <random>

#include "lmkit/base/error.h"
#include "lmkit/jinja/template.h"
#include "support/test_data.h"

namespace lmkit::testing {
namespace {

const char* const kPieces[] = {"{{", "}}", "{%", "%}", "{#", "#}", "-", "(", ")", "[", "]", "{", "}", "'", "\"",
                               "|", ".", ",", ":", "=", "==", "~", "*", "**", "/", "//", "%", " if ", " else ",
                               " for ", " in ", " endfor ", " endif ", " set ", " not ", " is ", " and ", "loop",
                               "ns", "messages", "0", "-1", "\\", "\n", " ", "tojson", "trim", "macro", "caller()"};

std::string mutate(std::string s, std::mt19937& rng) {
  int edits = 1 + static_cast<int>(rng() % 4);
  for (int k = 0; k < edits; ++k) {
    size_t at = s.empty() ? 0 : rng() % (s.size() + 1);
    switch (rng() % 3) {
      case 0:
        if (!s.empty() && at < s.size()) s.erase(at, 1 + rng() % 6);
        break;
      case 1: s.insert(at, kPieces[rng() % (sizeof kPieces / sizeof *kPieces)]); break;
      default:
        if (!s.empty() && at < s.size()) s[at] = "{}%#-()[]'\"|.,"[rng() % 14];
    }
  }
  return s;
}

}  // namespace

constexpr int kMutationsPerTemplate = 500;

TEST(TemplateMutationSmoke, OnlyLmkitErrorsEscape) {
  const char* names[] = {"qwen3", "llama3", "deepseek_v3", "gemma3"};
  auto context = nlohmann::ordered_json::parse(R"({
    "messages": [{"role": "system", "content": "s"}, {"role": "user", "content": "u"},
                 {"role": "assistant", "content": "<think>r</think>a", "tool_calls": [{"function": {"name": "f", "arguments": {"a": 1}}}]},
                 {"role": "tool", "content": "t"}, {"role": "user", "content": "v"}],
    "tools": [{"type": "function", "function": {"name": "f"}}],
    "add_generation_prompt": true, "bos_token": "<s>", "eos_token": "</s>"})");
  jinja::Limits limits;
  limits.max_loop_iterations = 20000;
  limits.max_string_bytes = 1 << 20;
  std::mt19937 rng(12345);
  int parsed = 0, rendered = 0, total = 0;
  for (const char* name : names) {
    std::string source = read_file_maybe_gz(data_path(std::string("chat_templates/") + name + "/chat_template.jinja"));
    for (int i = 0; i < kMutationsPerTemplate; ++i, ++total) {
      std::string mutated = mutate(source, rng);
      try {
        jinja::Template t(mutated, "mutant", limits);
        ++parsed;
        t.render(context);
        ++rendered;
      } catch (const Error&) {
      } catch (const std::exception& e) {
        ADD_FAILURE() << "non-lmkit exception " << e.what() << " for:\n" << mutated;
      }
    }
  }
  // The mutations must exercise both the parser's errors and the interpreter.
  EXPECT_GT(parsed, total / 10);
  EXPECT_LT(parsed, total);
  EXPECT_GT(rendered, 0);
}

}  // namespace lmkit::testing
