#include "case_runner.h"

#include <gtest/gtest.h>

#include <nlohmann/json.hpp>
#include <sstream>

#include "lmkit/base/error.h"
#include "lmkit/jinja/chat_template.h"
#include "support/test_data.h"

namespace lmkit::testing {
namespace {

std::string visible(const std::string& s) {
  std::string out;
  for (char c : s) {
    if (c == '\n') out += "\\n";
    else if (c == '\t') out += "\\t";
    else out += c;
  }
  return out;
}

}  // namespace

std::string describe_difference(const std::string& expected, const std::string& actual) {
  size_t at = 0;
  while (at < expected.size() && at < actual.size() && expected[at] == actual[at]) ++at;
  size_t from = at > 40 ? at - 40 : 0;
  std::ostringstream out;
  out << "first difference at byte " << at << " (expected " << expected.size() << " bytes, got " << actual.size()
      << ")\n  expected: ..." << visible(expected.substr(from, 120)) << "\n  actual:   ..."
      << visible(actual.substr(from, 120));
  return out.str();
}

int check_template_cases(const std::string& folder) {
  std::string source = read_file_maybe_gz(folder + "/chat_template.jinja");
  std::string lines = read_file_maybe_gz(folder + "/cases.jsonl");
  std::unique_ptr<ChatTemplate> tmpl;
  try {
    tmpl = std::make_unique<ChatTemplate>(source, folder + "/chat_template.jinja");
  } catch (const Error& e) {
    ADD_FAILURE() << "template did not parse: " << e.what();
    return 0;
  }
  std::istringstream in(lines);
  std::string line;
  int checked = 0;
  while (std::getline(in, line)) {
    if (line.empty()) continue;
    auto c = nlohmann::ordered_json::parse(line);
    std::string id = c.value("id", "?") + " (" + c.value("case", "?") + ")";
    ++checked;
    if (c.contains("error")) {
      try {
        std::string out = tmpl->render(c["context"]);
        ADD_FAILURE() << id << ": expected the error \"" << c["error"].get<std::string>() << "\" but rendered:\n"
                      << out;
      } catch (const Error& e) {
        EXPECT_EQ(std::string(e.what()), c["error"].get<std::string>()) << id;
      }
      continue;
    }
    std::string expected = c["output"].get<std::string>();
    try {
      std::string actual = tmpl->render(c["context"]);
      if (actual != expected) ADD_FAILURE() << id << ": " << describe_difference(expected, actual);
    } catch (const Error& e) {
      ADD_FAILURE() << id << ": render failed: " << e.what();
    }
  }
  EXPECT_GT(checked, 0) << "no cases in " << folder;
  return checked;
}

}  // namespace lmkit::testing
