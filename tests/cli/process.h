// Runs a program with arguments (no shell), feeding stdin and capturing stdout and stderr.
#pragma once
#include <string>
#include <vector>

namespace lmkit::testing {

struct ProcessResult {
  int exit_code = -1;  // 128 + signal number when killed by a signal
  std::string out;
  std::string err;
};

ProcessResult run_process(const std::vector<std::string>& argv, const std::string& stdin_text = "");

// run_process({lmkit_binary(), args...}).
ProcessResult run_lmkit(const std::vector<std::string>& args, const std::string& stdin_text = "");

// Lines of text that are not empty.
std::vector<std::string> non_empty_lines(const std::string& text);

}  // namespace lmkit::testing
