// `lmkit pull` end to end: the built binary downloads from a local hub-like server chosen with
// HF_ENDPOINT into the cache named by HF_HUB_CACHE, prints the snapshot folder, and fails with
// one clear message and a non-zero exit for a missing repository.
#include <gtest/gtest.h>
#include <sys/wait.h>

#include <array>
#include <cstdio>
#include <filesystem>
#include <fstream>
#include <string>

#include "formats/fake_hub.h"
#include "support/test_data.h"

namespace {

namespace fs = std::filesystem;
using lmkit::testing::FakeHub;

struct CommandResult {
  int exit_code;
  std::string output;  // stdout and stderr
};

CommandResult run_lmkit(const std::string& env, const std::string& args) {
  std::string cmd = env + " '" + lmkit::testing::lmkit_binary() + "' " + args + " 2>&1";
  FILE* p = popen(cmd.c_str(), "r");
  EXPECT_NE(p, nullptr);
  std::string out;
  std::array<char, 4096> buf;
  size_t n;
  while ((n = fread(buf.data(), 1, buf.size(), p)) > 0) out.append(buf.data(), n);
  int status = pclose(p);
  return {WIFEXITED(status) ? WEXITSTATUS(status) : -1, out};
}

const std::string kCommit = "9e8d7c6b5a49382716f5e4d3c2b1a09f8e7d6c5b";

TEST(PullCommand, DownloadsIntoCacheAndPrintsSnapshot) {
  FakeHub hub("acme/mini", kCommit,
              {{"config.json", "{\"a\": 1}", false, "2a1b2c3d4e5f60718293a4b5c6d7e8f901234567"},
               {"README.md", "# mini\n", false, "3a1b2c3d4e5f60718293a4b5c6d7e8f901234567"}});
  std::string cache = lmkit::testing::temp_dir() + "/cli-cache";
  std::string env = "HF_ENDPOINT=" + hub.endpoint() + " HF_HUB_CACHE=" + cache +
                    " HF_TOKEN=hf_cli_token";
  CommandResult r = run_lmkit(env, "pull acme/mini@main");
  ASSERT_EQ(r.exit_code, 0) << r.output;
  fs::path snapshot = fs::path(cache) / "models--acme--mini" / "snapshots" / kCommit;
  EXPECT_NE(r.output.find(snapshot.string()), std::string::npos) << r.output;
  std::ifstream in(snapshot / "config.json");
  std::string text((std::istreambuf_iterator<char>(in)), std::istreambuf_iterator<char>());
  EXPECT_EQ(text, "{\"a\": 1}");
  for (const auto& s : hub.seen()) EXPECT_EQ(s.authorization, "Bearer hf_cli_token") << s.what;
}

TEST(PullCommand, MissingRepoFailsWithMessage) {
  FakeHub hub("acme/mini", kCommit, {});
  std::string env = "HF_ENDPOINT=" + hub.endpoint() + " HF_HUB_CACHE=" +
                    lmkit::testing::temp_dir() + "/cli-cache-404 HF_TOKEN=";
  CommandResult r = run_lmkit(env, "pull acme/absent");
  EXPECT_EQ(r.exit_code, 1) << r.output;
  EXPECT_NE(r.output.find("lmkit: error:"), std::string::npos) << r.output;
  EXPECT_NE(r.output.find("acme/absent@main"), std::string::npos) << r.output;
  EXPECT_NE(r.output.find("HTTP 404"), std::string::npos) << r.output;
}

}  // namespace
