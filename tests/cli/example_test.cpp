// The C++ API example (examples/generate.cpp) builds and reproduces llama.cpp's greedy
// continuation on stories260K.
#include <gtest/gtest.h>

#include <filesystem>

#include <nlohmann/json.hpp>

#include "process.h"
#include "support/test_data.h"

namespace lmkit::testing {
namespace {

TEST(Example, GenerateStreamsTheGreedyContinuation) {
  const auto example =
      std::filesystem::path(lmkit_binary()).parent_path() / "example_generate";
  ASSERT_TRUE(std::filesystem::exists(example))
      << example << " is not built (build the default target or example_generate)";
  const auto ref = nlohmann::json::parse(read_file_maybe_gz(data_path("stories260K/reference.json")));
  ProcessResult r = run_process({example.string(),
                                 materialize_maybe_gz(data_path("stories260K/stories260K.gguf")),
                                 ref["prompt"].get<std::string>(), "64"});
  ASSERT_EQ(r.exit_code, 0) << r.err;
  EXPECT_EQ(r.out, ref["generated_text"].get<std::string>() + "\n");
  EXPECT_NE(r.err.find("prompt: 5 tokens"), std::string::npos) << r.err;
  ProcessResult bad = run_process({example.string(), "/nonexistent/model.gguf"});
  EXPECT_EQ(bad.exit_code, 1);
  EXPECT_NE(bad.err.find("/nonexistent/model.gguf"), std::string::npos) << bad.err;
}

}  // namespace
}  // namespace lmkit::testing
