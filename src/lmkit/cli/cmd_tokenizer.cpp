#include <algorithm>
#include <memory>

#include "lmkit/cli/tokenizer_commands.h"

namespace lmkit::cli {

std::vector<CommandInfo>& tokenizer_subcommands() {
  static std::vector<CommandInfo> registry;
  return registry;
}

namespace {

Runner setup_tokenizer(CLI::App& app) {
  app.require_subcommand(1);
  auto& subs = tokenizer_subcommands();
  std::sort(subs.begin(), subs.end(),
            [](const CommandInfo& a, const CommandInfo& b) { return a.name < b.name; });
  auto runners = std::make_shared<std::vector<std::pair<CLI::App*, Runner>>>();
  for (auto& info : subs) {
    CLI::App* sub = app.add_subcommand(info.name, info.description);
    runners->emplace_back(sub, info.setup(*sub));
  }
  return [runners] {
    for (auto& [sub, run] : *runners)
      if (sub->parsed()) return run();
    return 1;  // unreachable: CLI11 requires one subcommand
  };
}

const Registration registration("tokenizer",
                                "Train, inspect and run tokenizers (see `lmkit tokenizer --help`)",
                                setup_tokenizer);

}  // namespace
}  // namespace lmkit::cli
