#include <algorithm>
#include <cstdio>
#include <exception>

#include "lmkit/base/error.h"
#include "lmkit/cli/command.h"

namespace lmkit::cli {

std::vector<CommandInfo>& command_registry() {
  static std::vector<CommandInfo> registry;
  return registry;
}

}  // namespace lmkit::cli

int main(int argc, char** argv) {
  using namespace lmkit::cli;
  CLI::App app{"lmkit: train, run, quantize, serve and evaluate language models on the CPU"};
  app.require_subcommand(1);
  app.set_version_flag("--version", "lmkit 0.1.0");

  auto& registry = command_registry();
  std::sort(registry.begin(), registry.end(),
            [](const CommandInfo& a, const CommandInfo& b) { return a.name < b.name; });
  std::vector<std::pair<CLI::App*, Runner>> commands;
  for (auto& info : registry) {
    CLI::App* sub = app.add_subcommand(info.name, info.description);
    commands.emplace_back(sub, info.setup(*sub));
  }

  try {
    app.parse(argc, argv);
  } catch (const CLI::ParseError& e) {
    return app.exit(e);
  }

  try {
    for (auto& [sub, runner] : commands)
      if (sub->parsed()) return runner();
  } catch (const lmkit::Error& e) {
    std::fprintf(stderr, "lmkit: error: %s\n", e.what());
    return 1;
  } catch (const std::exception& e) {
    std::fprintf(stderr, "lmkit: internal error: %s\n", e.what());
    return 2;
  }
  return 0;
}
