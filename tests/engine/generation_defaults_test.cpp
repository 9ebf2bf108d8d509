#include "lmkit/engine/generation_defaults.h"

#include <gtest/gtest.h>

#include "lmkit/base/error.h"
#include "support/test_data.h"

namespace lmkit::engine {
namespace {

TEST(GenerationDefaults, SamplingConfigAsQwenShipsIt) {
  auto d = parse_generation_config(R"({"bos_token_id":151643,"do_sample":true,
    "eos_token_id":[151645,151643],"pad_token_id":151643,"repetition_penalty":1.05,
    "temperature":0.7,"top_p":0.8,"top_k":20})", "generation_config.json");
  EXPECT_FLOAT_EQ(d.sampling.temperature, 0.7f);
  EXPECT_FLOAT_EQ(d.sampling.top_p, 0.8f);
  EXPECT_EQ(d.sampling.top_k, 20);
  EXPECT_FLOAT_EQ(d.sampling.repetition_penalty, 1.05f);
  EXPECT_EQ(d.eos_token_ids, (std::vector<int32_t>{151645, 151643}));
  EXPECT_EQ(d.bos_token_id, 151643);
}

TEST(GenerationDefaults, WithoutDoSampleGenerationIsGreedy) {
  auto path = testing::data_path("models/llama-tiny/generation_config.json");
  auto d = parse_generation_config(testing::read_file_maybe_gz(path), path);
  EXPECT_TRUE(d.sampling.greedy());
  EXPECT_EQ(d.eos_token_ids, (std::vector<int32_t>{2}));
  EXPECT_EQ(d.bos_token_id, 1);
  auto d2 = parse_generation_config(R"({"temperature":0.3})", "g.json");
  EXPECT_TRUE(d2.sampling.greedy()) << "transformers ignores temperature when do_sample is false";
}

TEST(GenerationDefaults, BadFieldsNameTheFileAndTheField) {
  auto expect_error = [](const std::string& json, const std::string& needle) {
    try {
      parse_generation_config(json, "dir/generation_config.json");
      FAIL() << "no error for " << json;
    } catch (const Error& e) {
      std::string msg = e.what();
      EXPECT_NE(msg.find("dir/generation_config.json"), std::string::npos) << msg;
      EXPECT_NE(msg.find(needle), std::string::npos) << msg;
    }
  };
  expect_error(R"({"temperature":"hot"})", "temperature");
  expect_error(R"({"eos_token_id":"</s>"})", "eos_token_id");
  expect_error(R"({"eos_token_id":[2,-1]})", "eos_token_id");
  expect_error(R"({"do_sample":1})", "do_sample");
  expect_error(R"({"do_sample":true,"top_p":0})", "top_p");
  expect_error(R"({"top_k":2.5})", "top_k");
  expect_error(R"([1,2])", "object");
  expect_error(R"({"temperature":)", "JSON");
}

}  // namespace
}  // namespace lmkit::engine
