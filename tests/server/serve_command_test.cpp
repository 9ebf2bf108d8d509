// `lmkit serve` as a process: the start-up line with the KV capacity, serving, and a clean
// exit 0 on SIGTERM; bad flags fail with a message.
#include <signal.h>
#include <spawn.h>
#include <sys/wait.h>
#include <unistd.h>

#include <filesystem>
#include <fstream>
#include <regex>

#include <gtest/gtest.h>

#include "lmkit/tokenizer/tokenizer.h"
#include "server_fixture.h"
#include "support/test_data.h"

extern char** environ;

namespace lmkit::testing {
namespace {

struct Child {
  pid_t pid = -1;
  int err_fd = -1;
};

Child spawn_lmkit(const std::vector<std::string>& args) {
  int err[2];
  EXPECT_EQ(pipe(err), 0);
  posix_spawn_file_actions_t actions;
  posix_spawn_file_actions_init(&actions);
  posix_spawn_file_actions_adddup2(&actions, err[1], 2);
  posix_spawn_file_actions_addclose(&actions, err[0]);
  posix_spawn_file_actions_addclose(&actions, err[1]);
  std::vector<std::string> argv = {lmkit_binary()};
  argv.insert(argv.end(), args.begin(), args.end());
  std::vector<char*> cargs;
  for (auto& a : argv) cargs.push_back(a.data());
  cargs.push_back(nullptr);
  Child c;
  EXPECT_EQ(posix_spawn(&c.pid, cargs[0], &actions, nullptr, cargs.data(), environ), 0);
  posix_spawn_file_actions_destroy(&actions);
  close(err[1]);
  c.err_fd = err[0];
  return c;
}

// Reads stderr until a line matches `pattern` (or the stream ends); returns all read.
std::string read_stderr_until(int fd, const std::regex& pattern) {
  std::string all;
  char buf[4096];
  while (!std::regex_search(all, pattern)) {
    const ssize_t n = read(fd, buf, sizeof buf);
    if (n <= 0) break;
    all.append(buf, static_cast<size_t>(n));
  }
  return all;
}

std::string drain(int fd) {
  std::string all;
  char buf[4096];
  ssize_t n;
  while ((n = read(fd, buf, sizeof buf)) > 0) all.append(buf, static_cast<size_t>(n));
  return all;
}

std::string template_file() {
  const std::string path = temp_dir() + "/serve_template.jinja";
  std::ofstream(path) << "{% for m in messages %}{{ m['content'] }}\n{% endfor %}";
  return path;
}

// Waits for the start-up line; returns the port (0 and a failed assertion if it never comes).
int wait_listening(const Child& c, std::string& log) {
  const std::regex listening(R"(listening on http://127\.0\.0\.1:(\d+))");
  log = read_stderr_until(c.err_fd, listening);
  std::smatch m;
  EXPECT_TRUE(std::regex_search(log, m, listening)) << log;
  return m.empty() ? 0 : std::stoi(m[1]);
}

// SIGTERM, then the exit status must be 0; returns the rest of stderr.
void expect_clean_exit(Child& c, std::string& log) {
  ASSERT_EQ(kill(c.pid, SIGTERM), 0);
  int status = 0;
  ASSERT_EQ(waitpid(c.pid, &status, 0), c.pid);
  log += drain(c.err_fd);
  close(c.err_fd);
  ASSERT_TRUE(WIFEXITED(status)) << log;
  EXPECT_EQ(WEXITSTATUS(status), 0) << log;
  EXPECT_NE(log.find("stopped on SIGTERM"), std::string::npos) << log;
}

TEST(ServeCommand, StartsReportsCapacityServesAndExitsZeroOnSigterm) {
  Child c = spawn_lmkit({"serve", data_path("stories260K/stories260K.gguf"), "--port", "0",
                         "--ctx", "256", "--kv-cache-bytes", "8388608", "--threads", "1",
                         "--alias", "tiny", "--chat-template", template_file()});
  std::string log;
  const int port = wait_listening(c, log);
  ASSERT_NE(port, 0);
  // One line: context, KV capacity in tokens and in full-length sequences.
  EXPECT_TRUE(std::regex_search(log, std::regex(R"(context 256, KV cache [0-9.]+ MiB = \d+ tokens \([0-9.]+ full-length sequences\))")))
      << log;

  httplib::Client client("127.0.0.1", port);
  auto models = client.Get("/v1/models");
  ASSERT_TRUE(models);
  EXPECT_EQ(nlohmann::json::parse(models->body)["data"][0]["id"], "tiny");
  auto r = post_json(client, "/v1/chat/completions",
                     {{"model", "tiny"}, {"messages", {{{"role", "user"}, {"content", "Once"}}}},
                      {"max_tokens", 5}});
  ASSERT_TRUE(r);
  EXPECT_EQ(r->status, 200) << r->body;
  expect_clean_exit(c, log);
}

// --random SHAPE serves random weights of a real shape (for benchmarks) with the tokenizer given
// by --tokenizer (here stories260K's 512-token GGUF vocabulary, which fits the "tiny" shape).
TEST(ServeCommand, RandomModelWithAGivenTokenizer) {
  const std::string tokenizer = data_path("stories260K/stories260K.gguf");
  Child c = spawn_lmkit({"serve", "--random", "tiny", "--tokenizer", tokenizer, "--port", "0", "--ctx", "128",
                         "--kv-cache-bytes", "4194304", "--threads", "1", "--chat-template", template_file()});
  std::string log;
  const int port = wait_listening(c, log);
  ASSERT_NE(port, 0);
  EXPECT_NE(log.find("random:tiny (bf16)"), std::string::npos) << log;
  httplib::Client client("127.0.0.1", port);
  auto r = post_json(client, "/v1/chat/completions",
                     {{"messages", {{{"role", "user"}, {"content", "Once upon a time"}}}}, {"max_tokens", 4}});
  ASSERT_TRUE(r);
  EXPECT_EQ(r->status, 200) << r->body;
  auto t = post_json(client, "/tokenize", {{"prompt", "Once upon a time"}});
  ASSERT_TRUE(t);
  EXPECT_EQ(nlohmann::json::parse(t->body)["tokens"], Tokenizer::from_path(tokenizer)->encode("Once upon a time", true))
      << t->body;
  expect_clean_exit(c, log);
}

TEST(ServeCommand, BadSettingsFailWithAMessage) {
  struct Case {
    std::vector<std::string> args;
    std::string expected;
  };
  const std::string model = data_path("stories260K/stories260K.gguf");
  const std::vector<Case> cases = {
      {{"serve", model, "--api-key", "a", "--api-key-file", "/nonexistent"}, "not both"},
      {{"serve", model, "--api-key-file", "/nonexistent/key"}, "/nonexistent/key"},
      {{"serve", model, "--port", "70000"}, "70000"},
      {{"serve"}, "give either a MODEL or --random SHAPE"},
      {{"serve", model, "--random", "tiny"}, "give either a MODEL or --random SHAPE"},
      {{"serve", "--random", "no-such-shape"}, "unknown random model shape \"no-such-shape\" (known: tiny, qwen2.5-0.5b"},
      {{"serve", model, "--tokenizer", "/tmp"}, "--tokenizer goes with --random"},
      {{"serve", "--random", "tiny", "--type", "q2_k"}, "q2_k"},
  };
  for (const auto& k : cases) {
    Child c = spawn_lmkit(k.args);
    const std::string err = drain(c.err_fd);
    close(c.err_fd);
    int status = 0;
    waitpid(c.pid, &status, 0);
    ASSERT_TRUE(WIFEXITED(status));
    EXPECT_NE(WEXITSTATUS(status), 0) << err;
    EXPECT_NE(err.find(k.expected), std::string::npos) << err;
  }
}

}  // namespace
}  // namespace lmkit::testing
