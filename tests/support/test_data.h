// Locating ../shared/data for tests. LMKIT_TEST_DATA overrides the default, which is the
// shared/ folder beside the checkout. A missing data folder is a test failure, never a skip.
#pragma once
#include <string>

namespace lmkit::testing {

// Absolute path of the shared data folder; fails the current test (and throws) if missing.
std::string data_dir();
// data_dir() + "/" + relative, checking that it exists (NAME or NAME.gz).
std::string data_path(const std::string& relative);
// Reads a file, transparently gunzipping NAME.gz when NAME itself is absent.
std::string read_file_maybe_gz(const std::string& path);
// Makes NAME available uncompressed in a per-process temp dir if only NAME.gz exists;
// returns the path to use.
std::string materialize_maybe_gz(const std::string& path);
// A fresh empty temporary directory, removed at process exit.
std::string temp_dir();
// Path of the built lmkit binary.
std::string lmkit_binary();

}  // namespace lmkit::testing
