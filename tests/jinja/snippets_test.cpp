// Small templates covering the engine's syntax, filters, tests and methods, each rendered by
// @huggingface/jinja (tests/jinja/oracle/render_snippets.cjs) with the same context.
#include <gtest/gtest.h>

#include <nlohmann/json.hpp>
#include <sstream>

#include "case_runner.h"
#include "lmkit/base/error.h"
#include "lmkit/jinja/chat_template.h"
#include "support/test_data.h"

namespace lmkit::testing {

void check_snippets(const std::string& file, int minimum) {
  std::string text = read_file_maybe_gz(std::string(LMKIT_SOURCE_DIR) + "/tests/jinja/data/" + file);
  std::istringstream in(text);
  std::string line;
  int checked = 0;
  while (std::getline(in, line)) {
    if (line.empty()) continue;
    auto c = nlohmann::ordered_json::parse(line);
    std::string source = c["template"].get<std::string>();
    ++checked;
    try {
      ChatTemplate tmpl(source, "snippet");
      std::string actual = tmpl.render(c["context"]);
      if (c.contains("error")) {
        ADD_FAILURE() << source << "\nexpected the error " << c["error"] << ", rendered: " << actual;
      } else if (actual != c["output"].get<std::string>()) {
        ADD_FAILURE() << source << "\n" << describe_difference(c["output"].get<std::string>(), actual);
      }
    } catch (const Error& e) {
      if (c.contains("error")) EXPECT_EQ(std::string(e.what()), c["error"].get<std::string>()) << source;
      else ADD_FAILURE() << source << "\nfailed: " << e.what();
    }
  }
  EXPECT_GE(checked, minimum) << file;
}

TEST(OracleSnippets, EveryLineRendersAsTheOracle) { check_snippets("snippets.jsonl", 40); }

// Random combinations of expressions, filters, tests and statements (generate_random_snippets.cjs).
TEST(OracleSnippets, RandomCombinationsRenderAsTheOracle) { check_snippets("random_snippets.jsonl", 500); }

}  // namespace lmkit::testing

namespace lmkit::testing {

// Whitespace control, trim_blocks and lstrip_blocks in random nestings (generate_whitespace_snippets.cjs).
TEST(OracleSnippets, RandomWhitespaceRendersAsTheOracle) { check_snippets("whitespace_snippets.jsonl", 300); }

}  // namespace lmkit::testing
