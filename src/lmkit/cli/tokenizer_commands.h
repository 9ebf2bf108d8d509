// `lmkit tokenizer <sub>`: each subcommand (train, encode, decode, info, render, ...) lives in
// its own file cmd_tokenizer_<sub>.cpp and registers itself here, the same way top-level
// commands register with command_registry(); cmd_tokenizer.cpp adds them all under
// `tokenizer`. Example:
//
//   static lmkit::cli::TokenizerRegistration reg("encode", "Text to token ids",
//       [](CLI::App& app) -> lmkit::cli::Runner { ... });
#pragma once
#include <string>
#include <utility>
#include <vector>

#include "lmkit/cli/command.h"

namespace lmkit::cli {

std::vector<CommandInfo>& tokenizer_subcommands();

struct TokenizerRegistration {
  TokenizerRegistration(std::string name, std::string description, Setup setup) {
    tokenizer_subcommands().push_back({std::move(name), std::move(description), std::move(setup)});
  }
};

}  // namespace lmkit::cli
