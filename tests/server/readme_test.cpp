// The curl examples of README.md's "Serving" section, run as written against a real server
// (only the port changes): each must succeed and give a JSON or SSE reply with no error.
#include <sys/wait.h>

#include <cstdio>
#include <fstream>
#include <regex>
#include <sstream>

#include <gtest/gtest.h>

#include "server_fixture.h"
#include "support/test_data.h"

namespace lmkit::testing {
namespace {

struct ShellResult {
  int exit_code = -1;
  std::string out;
};

ShellResult run_shell(const std::string& command) {
  ShellResult r;
  FILE* p = popen(command.c_str(), "r");
  if (!p) return r;
  char buf[4096];
  size_t n;
  while ((n = fread(buf, 1, sizeof buf, p)) > 0) r.out.append(buf, n);
  const int status = pclose(p);
  r.exit_code = WIFEXITED(status) ? WEXITSTATUS(status) : -1;
  return r;
}

std::vector<std::string> readme_curl_lines() {
  std::ifstream in(std::string(LMKIT_SOURCE_DIR) + "/README.md");
  std::stringstream ss;
  ss << in.rdbuf();
  const std::string readme = ss.str();
  const size_t start = readme.find("## Serving");
  EXPECT_NE(start, std::string::npos) << "README.md has no Serving section";
  const size_t end = readme.find("\n## ", start + 1);
  std::istringstream section(readme.substr(start, end - start));
  std::vector<std::string> lines;
  for (std::string line; std::getline(section, line);)
    if (line.rfind("curl ", 0) == 0) lines.push_back(line);
  return lines;
}

TEST(Readme, CurlExamplesWork) {
  const auto lines = readme_curl_lines();
  ASSERT_GE(lines.size(), 5u);
  TestServer server;
  for (std::string line : lines) {
    SCOPED_TRACE(line);
    const std::string from = "localhost:8000";
    const size_t at = line.find(from);
    ASSERT_NE(at, std::string::npos);
    line.replace(at, from.size(), "127.0.0.1:" + std::to_string(server.port()));
    const ShellResult r = run_shell(line + " --fail-with-body");
    EXPECT_EQ(r.exit_code, 0) << r.out;
    EXPECT_FALSE(r.out.empty());
    EXPECT_EQ(r.out.find("\"error\""), std::string::npos) << r.out;
    if (r.out.rfind("data: ", 0) == 0) {
      const auto events = sse_payloads(r.out);
      ASSERT_FALSE(events.empty());
      EXPECT_EQ(events.back(), "[DONE]");
    } else if (line.find("/metrics") == std::string::npos) {
      EXPECT_NO_THROW((void)nlohmann::json::parse(r.out)) << r.out;
    } else {
      EXPECT_NE(r.out.find("lmkit_generation_tokens_total"), std::string::npos);
    }
  }
}

}  // namespace
}  // namespace lmkit::testing
