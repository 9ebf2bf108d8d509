// Every case of ../shared/data/chat_templates renders exactly as @huggingface/jinja did.
#include <gtest/gtest.h>

#include "case_runner.h"
#include "support/test_data.h"

namespace lmkit::testing {

TEST(SharedChatTemplateCases, Qwen3) { check_template_cases(data_path("chat_templates/qwen3")); }
TEST(SharedChatTemplateCases, Llama3) { check_template_cases(data_path("chat_templates/llama3")); }
TEST(SharedChatTemplateCases, DeepseekV3) { check_template_cases(data_path("chat_templates/deepseek_v3")); }
TEST(SharedChatTemplateCases, Gemma3) { check_template_cases(data_path("chat_templates/gemma3")); }

}  // namespace lmkit::testing
