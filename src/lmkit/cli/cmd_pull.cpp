// `lmkit pull ORG/NAME[@REVISION]`: downloads a model into the Hugging Face cache (shared with
// Python tools) and prints the snapshot folder, which any lmkit command accepts as MODEL.
#include <cstdio>
#include <memory>
#include <string>

#include "lmkit/cli/command.h"
#include "lmkit/formats/hf_hub.h"

namespace lmkit::cli {
namespace {

struct PullOptions {
  std::string model;
  std::string cache_dir;
  bool quiet = false;
};

Runner setup_pull(CLI::App& app) {
  auto opts = std::make_shared<PullOptions>();
  app.add_option("model", opts->model, "Hugging Face model id: ORG/NAME or ORG/NAME@REVISION")
      ->required();
  app.add_option("--cache-dir", opts->cache_dir,
                 "Hub cache folder (default: HF_HUB_CACHE, else $HF_HOME/hub, else "
                 "~/.cache/huggingface/hub)");
  app.add_flag("-q,--quiet", opts->quiet, "No progress bar");
  app.footer(
      "Environment: HF_ENDPOINT (default https://huggingface.co), HF_TOKEN (for private or "
      "gated models; else the token file `huggingface-cli login` writes), HF_HOME, "
      "HF_HUB_CACHE.\nInterrupted downloads resume where they stopped when run again.");
  return [opts] {
    HubOptions hub = hub_options_from_env();
    if (!opts->cache_dir.empty()) hub.cache_dir = opts->cache_dir;
    if (opts->quiet) hub.progress = false;
    std::string snapshot = pull(opts->model, hub);
    std::printf("%s\n", snapshot.c_str());
    return 0;
  };
}

const Registration registration("pull", "Download a model from the Hugging Face hub into its cache",
                                setup_pull);

}  // namespace
}  // namespace lmkit::cli
