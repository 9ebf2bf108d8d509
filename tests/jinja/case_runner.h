// Runs a folder of chat template cases: chat_template.jinja plus cases.jsonl whose lines are
// {"id", "case", "context", "output"} or {"id", "case", "context", "error"}.
#pragma once
#include <string>

namespace lmkit::testing {

// Adds a GoogleTest failure (with a readable diff) for every case that does not render to
// its expected output or raise its expected error. Returns the number of cases checked.
int check_template_cases(const std::string& folder);

// A short description of where `actual` first differs from `expected`.
std::string describe_difference(const std::string& expected, const std::string& actual);

}  // namespace lmkit::testing
