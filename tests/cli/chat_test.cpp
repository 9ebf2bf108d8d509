// `lmkit chat` driven through a pipe: turns, /clear, /exit, end of input, and replies equal to
// what `lmkit run` gives for the same rendered prompt.
#include <gtest/gtest.h>

#include <fstream>
#include <regex>

#include <nlohmann/json.hpp>

#include "process.h"
#include "support/test_data.h"

namespace lmkit::testing {
namespace {

std::string stories() { return materialize_maybe_gz(data_path("stories260K/stories260K.gguf")); }

// stories260K has no chat template; this one turns a conversation into story text.
std::string template_file() {
  const std::string path = temp_dir() + "/story.jinja";
  std::ofstream(path) << "{% for m in messages %}{% if m.role == 'system' %}{{ m.content }} "
                         "{% elif m.role == 'user' %}{{ m.content }}{% else %}{{ m.content }}. "
                         "{% endif %}{% endfor %}";
  return path;
}

std::vector<std::string> chat_args(std::vector<std::string> extra = {}) {
  std::vector<std::string> a = {"chat", stories(), "--chat-template", template_file(),
                                "--temperature", "0", "--max-tokens", "12", "-t", "2"};
  a.insert(a.end(), extra.begin(), extra.end());
  return a;
}

std::string run_reply(const std::string& prompt) {
  ProcessResult r = run_lmkit({"run", stories(), prompt, "--chat", "--chat-template",
                               template_file(), "--temperature", "0", "--max-tokens", "12"});
  EXPECT_EQ(r.exit_code, 0) << r.err;
  return r.out;
}

TEST(Chat, PipedTurnsStreamRepliesAndKeepHistoryInTheCache) {
  ProcessResult r = run_lmkit(chat_args({"--verbose"}),
                              "Once upon a time\nThe dog ran\n/clear\nOnce upon a time\n/exit\n"
                              "never read\n");
  ASSERT_EQ(r.exit_code, 0) << r.err;
  std::vector<std::string> replies = non_empty_lines(r.out);
  ASSERT_EQ(replies.size(), 3u) << r.out;
  EXPECT_EQ(replies[0] + "\n", run_reply("Once upon a time")) << "first turn = run --chat";
  EXPECT_EQ(replies[2], replies[0]) << "/clear starts over: the same question, the same reply";
  EXPECT_NE(r.err.find("conversation cleared"), std::string::npos) << r.err;

  // --verbose reports per turn how much of the prompt came from the cache.
  std::regex stats(R"(\[(\w+); (\d+) prompt tokens, (\d+) from cache)");
  std::vector<std::pair<int, int>> turns;
  for (std::sregex_iterator it(r.err.begin(), r.err.end(), stats), end; it != end; ++it)
    turns.emplace_back(std::stoi((*it)[2]), std::stoi((*it)[3]));
  ASSERT_EQ(turns.size(), 3u) << r.err;
  EXPECT_EQ(turns[0].second, 0);
  EXPECT_GT(turns[1].second, turns[0].first / 2) << "turn 2 reuses turn 1's tokens";
  EXPECT_LT(turns[1].second, turns[1].first);
  EXPECT_EQ(turns[2].second, 0) << "/clear freed the cache";
}

TEST(Chat, SecondTurnEqualsAFreshRunOfTheWholeConversation) {
  ProcessResult r = run_lmkit(chat_args(), "Once upon a time\nThe dog ran\n");
  ASSERT_EQ(r.exit_code, 0) << r.err;
  std::vector<std::string> replies = non_empty_lines(r.out);
  ASSERT_EQ(replies.size(), 2u) << r.out;
  // The template renders [user, assistant, user] as "Q1" + "A1. " + "Q2": the same text as a
  // single user message, so run must continue it identically.
  const std::string whole = "Once upon a time" + replies[0] + ". The dog ran";
  EXPECT_EQ(replies[1] + "\n", run_reply(whole));
}

TEST(Chat, SystemPromptAndEndOfInput) {
  ProcessResult with = run_lmkit(chat_args({"--system", "A story."}), "Once upon a time\n");
  ASSERT_EQ(with.exit_code, 0) << with.err;
  EXPECT_EQ(with.out, run_reply("A story. Once upon a time"));
  ProcessResult empty = run_lmkit(chat_args(), "");
  EXPECT_EQ(empty.exit_code, 0) << empty.err;
  EXPECT_EQ(empty.out, "");
}

TEST(Chat, WithoutATemplateItIsAClearError) {
  ProcessResult r = run_lmkit({"chat", stories()}, "hi\n");
  EXPECT_EQ(r.exit_code, 1);
  EXPECT_NE(r.err.find("no chat template"), std::string::npos) << r.err;
  EXPECT_NE(r.err.find("--chat-template"), std::string::npos) << r.err;
}

TEST(Chat, ATurnOverTheContextIsAnError) {
  ProcessResult r = run_lmkit(chat_args({"--ctx-size", "8"}),
                              "Once upon a time there was a little girl named Lily\n");
  EXPECT_EQ(r.exit_code, 1);
  EXPECT_NE(r.err.find("context holds only 8"), std::string::npos) << r.err;
}

}  // namespace
}  // namespace lmkit::testing
