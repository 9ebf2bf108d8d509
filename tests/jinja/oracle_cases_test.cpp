// Templates of the major families rendered by @huggingface/jinja (tests/jinja/oracle) must
// render identically here. The data lives in the repository (tests/jinja/data).
#include <gtest/gtest.h>

#include <string>

#include "case_runner.h"

namespace lmkit::testing {
std::string local_data(const std::string& name) { return std::string(LMKIT_SOURCE_DIR) + "/tests/jinja/data/" + name; }

TEST(OracleChatTemplateCases, ChatML) { check_template_cases(local_data("chatml")); }
TEST(OracleChatTemplateCases, InternLM2) { check_template_cases(local_data("internlm2")); }
TEST(OracleChatTemplateCases, MistralV02) { check_template_cases(local_data("mistral_v0_2")); }
TEST(OracleChatTemplateCases, MistralNemo) { check_template_cases(local_data("mistral_nemo")); }
TEST(OracleChatTemplateCases, Gemma2) { check_template_cases(local_data("gemma2")); }
TEST(OracleChatTemplateCases, Qwen25) { check_template_cases(local_data("qwen2_5")); }
TEST(OracleChatTemplateCases, Llama31) { check_template_cases(local_data("llama3_1")); }
TEST(OracleChatTemplateCases, Llama32) { check_template_cases(local_data("llama3_2")); }
TEST(OracleChatTemplateCases, Hermes3ToolUse) { check_template_cases(local_data("hermes3_tool_use")); }

}  // namespace lmkit::testing

// The shared templates again, on this suite's conversations (thinking history, list content,
// tools, whitespace): more of their branches than the shared cases reach.
namespace lmkit::testing {

TEST(OracleChatTemplateCases, Qwen3More) { check_template_cases(local_data("qwen3_more")); }
TEST(OracleChatTemplateCases, DeepseekV3More) { check_template_cases(local_data("deepseek_v3_more")); }
TEST(OracleChatTemplateCases, Gemma3More) { check_template_cases(local_data("gemma3_more")); }
TEST(OracleChatTemplateCases, Llama3More) { check_template_cases(local_data("llama3_more")); }

}  // namespace lmkit::testing

// More real templates (llama.cpp models/templates), on the conversations the oracle renders.
namespace lmkit::testing {

TEST(OracleChatTemplateCases, DeepseekR1DistillQwen) { check_template_cases(local_data("deepseek_r1_distill_qwen")); }
TEST(OracleChatTemplateCases, Phi35Mini) { check_template_cases(local_data("phi3_5_mini")); }
TEST(OracleChatTemplateCases, CommandR7bToolUse) { check_template_cases(local_data("command_r7b_tool_use")); }
TEST(OracleChatTemplateCases, FunctionaryV32) { check_template_cases(local_data("functionary_v3_2")); }
TEST(OracleChatTemplateCases, Llama33) { check_template_cases(local_data("llama3_3")); }

}  // namespace lmkit::testing
