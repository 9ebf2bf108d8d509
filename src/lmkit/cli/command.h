// Each subcommand lives in its own file and registers itself here, so adding a command
// never touches main.cpp:
//
//   static lmkit::cli::Registration reg("run", "Generate one completion",
//       [](CLI::App& app) -> lmkit::cli::Runner {
//         auto opts = std::make_shared<RunOptions>();
//         app.add_option("model", opts->model, "...")->required();
//         return [opts] { return run_command(*opts); };
//       });
//
// The runner returns the process exit code. lmkit::Error thrown by it is printed as
// "lmkit: error: ..." with exit code 1.
#pragma once
#include <CLI/CLI.hpp>
#include <functional>
#include <string>
#include <vector>

namespace lmkit::cli {

using Runner = std::function<int()>;
using Setup = std::function<Runner(CLI::App&)>;

struct CommandInfo {
  std::string name;
  std::string description;
  Setup setup;
};

std::vector<CommandInfo>& command_registry();

struct Registration {
  Registration(std::string name, std::string description, Setup setup) {
    command_registry().push_back({std::move(name), std::move(description), std::move(setup)});
  }
};

}  // namespace lmkit::cli
