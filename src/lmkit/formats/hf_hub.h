// The Hugging Face hub cache: resolving "ORG/NAME[@REV]" to a local snapshot directory and
// downloading a repo revision into the same layout huggingface_hub uses, so files pulled by
// lmkit and by Python tools are shared:
//   <cache>/models--ORG--NAME/blobs/<etag>                 file contents (LFS: the sha256)
//   <cache>/models--ORG--NAME/snapshots/<commit>/<path>    relative symlinks into blobs/
//   <cache>/models--ORG--NAME/refs/<rev>                   the commit hash a revision names
#pragma once
#include <string>

namespace lmkit {

struct HubOptions {
  std::string endpoint;   // e.g. https://huggingface.co (no trailing slash)
  std::string token;      // sent as "Authorization: Bearer <token>" when not empty
  std::string cache_dir;  // the hub cache folder (HF_HUB_CACHE)
  bool progress = true;   // draw a progress bar on stderr
};

// HF_ENDPOINT (default https://huggingface.co), HF_TOKEN, and the cache folder as
// huggingface_hub finds it: HF_HUB_CACHE, else $HF_HOME/hub, else
// $XDG_CACHE_HOME/huggingface/hub, else ~/.cache/huggingface/hub.
HubOptions hub_options_from_env();

// A local directory or .gguf path is returned as is; "ORG/NAME[@REV]" is looked up in the
// cache (models--ORG--NAME/refs/REV -> snapshots/<commit>/; REV defaults to "main", and a full
// 40-hex commit hash names a snapshot directly); if absent and download_if_missing, pulled
// first; otherwise an lmkit::Error saying to run `lmkit pull`.
std::string resolve_model(const std::string& spec, bool download_if_missing,
                          const HubOptions& options);

// Downloads a repo revision into the cache layout huggingface_hub uses (blobs/<etag>,
// snapshots/<commit>/<file> symlinks, refs/<rev>) so Python tools share the files. Files already
// in the cache are not downloaded again; a partial blob (blobs/<etag>.incomplete) is resumed
// with a Range request; LFS files are checked against their sha256. Returns the snapshot
// directory.
std::string pull(const std::string& repo_and_revision, const HubOptions& options);

}  // namespace lmkit
