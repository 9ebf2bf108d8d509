#include "support/test_data.h"

#include <gtest/gtest.h>
#include <zlib.h>

#include <cstdlib>
#include <filesystem>
#include <fstream>
#include <sstream>
#include <stdexcept>

namespace fs = std::filesystem;

namespace lmkit::testing {
namespace {

std::string slurp(const std::string& path) {
  std::ifstream in(path, std::ios::binary);
  if (!in) throw std::runtime_error("cannot read " + path);
  std::ostringstream ss;
  ss << in.rdbuf();
  return ss.str();
}

std::string gunzip(const std::string& path) {
  gzFile f = gzopen(path.c_str(), "rb");
  if (!f) throw std::runtime_error("cannot open " + path);
  std::string out;
  char buf[1 << 16];
  int n;
  while ((n = gzread(f, buf, sizeof buf)) > 0) out.append(buf, static_cast<size_t>(n));
  gzclose(f);
  if (n < 0) throw std::runtime_error("corrupt gzip file " + path);
  return out;
}

struct TempRoot {
  fs::path path;
  TempRoot() {
    std::string tmpl = (fs::temp_directory_path() / "lmkit-test-XXXXXX").string();
    if (!mkdtemp(tmpl.data())) throw std::runtime_error("mkdtemp failed");
    path = tmpl;
  }
  ~TempRoot() {
    std::error_code ec;
    fs::remove_all(path, ec);
  }
};

TempRoot& temp_root() {
  static TempRoot root;
  return root;
}

}  // namespace

std::string data_dir() {
  const char* env = std::getenv("LMKIT_TEST_DATA");
  fs::path dir = env && *env ? fs::path(env) : fs::path(LMKIT_SOURCE_DIR) / ".." / "shared" / "data";
  if (!fs::is_directory(dir)) {
    ADD_FAILURE() << "test data folder not found at " << dir
                  << " (set LMKIT_TEST_DATA or put shared/ beside the checkout)";
    throw std::runtime_error("test data missing");
  }
  return fs::canonical(dir).string();
}

std::string data_path(const std::string& relative) {
  fs::path p = fs::path(data_dir()) / relative;
  if (!fs::exists(p) && !fs::exists(p.string() + ".gz")) {
    ADD_FAILURE() << "test data file missing: " << p;
    throw std::runtime_error("test data missing");
  }
  return p.string();
}

std::string read_file_maybe_gz(const std::string& path) {
  if (fs::exists(path)) return slurp(path);
  if (fs::exists(path + ".gz")) return gunzip(path + ".gz");
  throw std::runtime_error("missing file " + path);
}

std::string materialize_maybe_gz(const std::string& path) {
  if (fs::exists(path)) return path;
  fs::path rel = fs::relative(fs::path(path), fs::path(data_dir()));
  fs::path out = temp_root().path / "unpacked" / rel;
  if (!fs::exists(out)) {
    fs::create_directories(out.parent_path());
    std::string bytes = gunzip(path + ".gz");
    std::ofstream o(out, std::ios::binary);
    o.write(bytes.data(), static_cast<std::streamsize>(bytes.size()));
  }
  return out.string();
}

std::string temp_dir() {
  static int counter = 0;
  fs::path p = temp_root().path / ("t" + std::to_string(counter++));
  fs::create_directories(p);
  return p.string();
}

std::string lmkit_binary() { return LMKIT_BINARY_PATH; }

}  // namespace lmkit::testing
