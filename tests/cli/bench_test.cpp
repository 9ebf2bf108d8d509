// `lmkit bench` produces the llama-bench figures for a model file and for a random model.
#include <gtest/gtest.h>

#include <nlohmann/json.hpp>

#include "process.h"
#include "support/test_data.h"

namespace lmkit::testing {
namespace {

using nlohmann::json;

TEST(Bench, JsonForAModelFile) {
  ProcessResult r = run_lmkit({"bench", materialize_maybe_gz(data_path("stories260K/stories260K.gguf")),
                               "-p", "32", "-n", "8", "-t", "2", "--json"});
  ASSERT_EQ(r.exit_code, 0) << r.err;
  json j = json::parse(r.out);
  EXPECT_EQ(j["model"], "stories260K.gguf");
  EXPECT_EQ(j["type"], "f32");
  EXPECT_EQ(j["threads"], 2);
  EXPECT_EQ(j["n_prompt"], 32);
  EXPECT_EQ(j["n_gen"], 8);
  EXPECT_GT(j["pp_tokens_per_s"].get<double>(), 0.0);
  EXPECT_GT(j["tg_tokens_per_s"].get<double>(), 0.0);
}

TEST(Bench, RandomModelTable) {
  ProcessResult r = run_lmkit({"bench", "--random", "tiny", "--type", "q8_0", "-p", "16", "-n", "4",
                               "-t", "1", "-r", "2"});
  ASSERT_EQ(r.exit_code, 0) << r.err;
  auto lines = non_empty_lines(r.out);
  ASSERT_EQ(lines.size(), 4u) << r.out;  // header, rule, pp, tg
  EXPECT_NE(lines[0].find("t/s"), std::string::npos);
  EXPECT_NE(lines[2].find("pp16"), std::string::npos) << lines[2];
  EXPECT_NE(lines[2].find("q8_0"), std::string::npos) << lines[2];
  EXPECT_NE(lines[3].find("tg4"), std::string::npos) << lines[3];
}

TEST(Bench, BadRequestsAreErrors) {
  auto fails_with = [](const std::vector<std::string>& args, const std::string& needle) {
    ProcessResult r = run_lmkit(args);
    EXPECT_NE(r.exit_code, 0);
    EXPECT_LT(r.exit_code, 128);
    EXPECT_NE(r.err.find(needle), std::string::npos) << r.err;
  };
  fails_with({"bench"}, "--random");
  fails_with({"bench", "--random", "gpt-9"}, "qwen2.5-0.5b");
  fails_with({"bench", "--random", "tiny", "--type", "q9_9"}, "q9_9");
  fails_with({"bench", "--random", "tiny", "-p", "100000"}, "positions");
}

}  // namespace
}  // namespace lmkit::testing
