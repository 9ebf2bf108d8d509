// `lmkit serve --tool-parser`: an unknown format is refused before the model loads, naming
// the flag and the values it takes. (Serving with it: tests/node/openai_client.test.cjs.)
#include <gtest/gtest.h>

#include <array>
#include <cstdio>
#include <sys/wait.h>

#include "support/test_data.h"

namespace lmkit::testing {
namespace {

TEST(ServeToolParser, UnknownFormatIsRefused) {
  const std::string cmd = lmkit_binary() + " serve " + data_path("stories260K/stories260K.gguf") +
                          " --port 0 --tool-parser gpt 2>&1";
  FILE* p = popen(cmd.c_str(), "r");
  ASSERT_NE(p, nullptr);
  std::string out;
  std::array<char, 512> buf;
  while (fgets(buf.data(), buf.size(), p)) out += buf.data();
  const int status = pclose(p);
  ASSERT_TRUE(WIFEXITED(status)) << out;
  EXPECT_NE(WEXITSTATUS(status), 0) << out;
  EXPECT_NE(out.find("--tool-parser"), std::string::npos) << out;
  EXPECT_NE(out.find("gpt"), std::string::npos) << out;
}

}  // namespace
}  // namespace lmkit::testing
