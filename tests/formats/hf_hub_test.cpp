// The hub client against a local hub-like server: full download into huggingface_hub's cache
// layout, resume of a partial blob with Range, a corrupted LFS file, the token header, a
// missing repository, and resolving ids from the cache.
#include <gtest/gtest.h>

#include <cstdlib>
#include <filesystem>
#include <fstream>
#include <random>

#include "formats/fake_hub.h"
#include "lmkit/base/error.h"
#include "lmkit/formats/hf_hub.h"
#include "lmkit/formats/sha256.h"
#include "support/test_data.h"

namespace lmkit {
namespace {

namespace fs = std::filesystem;
using testing::FakeHub;
using testing::FakeHubFile;

const std::string kRepo = "test-org/tiny-model";
const std::string kCommit = "4f1c2e3d4b5a69788796a5b4c3d2e1f0a1b2c3d4";

std::string slurp(const fs::path& p) {
  std::ifstream in(p, std::ios::binary);
  return {std::istreambuf_iterator<char>(in), std::istreambuf_iterator<char>()};
}

std::string sha256_of(const std::string& content) {
  std::string path = testing::temp_dir() + "/sha-input";
  std::ofstream(path, std::ios::binary) << content;
  return sha256_file_hex(path);
}

std::vector<FakeHubFile> repo_files() {
  std::mt19937 rng(7);
  std::string weights(300000, '\0');
  for (char& c : weights) c = static_cast<char>(rng());
  std::vector<FakeHubFile> files = {
      {"config.json", R"({"model_type": "llama"})", false,
       "0a1b2c3d4e5f60718293a4b5c6d7e8f901234567"},
      {"model.safetensors", weights, true, ""},
      {"sub/notes.txt", "nested file\n", false, "1a1b2c3d4e5f60718293a4b5c6d7e8f901234567"},
  };
  files[1].etag = sha256_of(weights);
  return files;
}

struct HubFixture : ::testing::Test {
  FakeHub hub{kRepo, kCommit, repo_files()};
  HubOptions options;
  fs::path root;
  void SetUp() override {
    static int n = 0;
    options.endpoint = hub.endpoint();
    options.cache_dir = testing::temp_dir() + "/hub-cache-" + std::to_string(n++);
    options.progress = false;
    root = fs::path(options.cache_dir) / "models--test-org--tiny-model";
  }
  const FakeHubFile& weights() {
    static std::vector<FakeHubFile> files = repo_files();
    return files[1];
  }
};

void expect_error(const std::function<void()>& f, const std::string& needle) {
  try {
    f();
    FAIL() << "expected an error containing '" << needle << "'";
  } catch (const Error& e) {
    EXPECT_NE(std::string(e.what()).find(needle), std::string::npos) << e.what();
  }
}

TEST(Sha256, KnownVector) {
  EXPECT_EQ(sha256_of("abc"), "ba7816bf8f01cfea414140de5dae2223b00361a396177a9cb410ff61f20015ad");
}

TEST_F(HubFixture, FullDownloadUsesHuggingFaceCacheLayout) {
  std::string snapshot = pull(kRepo, options);
  EXPECT_EQ(fs::path(snapshot), root / "snapshots" / kCommit);
  for (const FakeHubFile& f : repo_files()) {
    fs::path link = fs::path(snapshot) / f.path;
    ASSERT_TRUE(fs::is_symlink(link)) << link;
    fs::path target = fs::read_symlink(link);
    EXPECT_TRUE(target.is_relative()) << target;
    EXPECT_EQ(fs::canonical(link), fs::canonical(root / "blobs" / f.etag));
    EXPECT_EQ(slurp(link), f.content) << f.path;
  }
  EXPECT_EQ(fs::read_symlink(fs::path(snapshot) / "sub/notes.txt"),
            fs::path("../../../blobs/1a1b2c3d4e5f60718293a4b5c6d7e8f901234567"));
  EXPECT_EQ(slurp(root / "refs" / "main"), kCommit);
  for (const auto& e : fs::directory_iterator(root / "blobs"))
    EXPECT_EQ(e.path().extension(), "") << "left behind: " << e.path();

  // A second pull finds everything cached and downloads nothing.
  int before = hub.cdn_downloads;
  size_t requests = hub.seen().size();
  EXPECT_EQ(pull(kRepo, options), snapshot);
  EXPECT_EQ(hub.cdn_downloads, before);
  EXPECT_EQ(hub.seen().size(), requests + 1);  // only the revision lookup

  EXPECT_EQ(resolve_model(kRepo, false, options), snapshot);
  EXPECT_EQ(resolve_model(kRepo + "@" + kCommit, false, options), snapshot);
}

TEST_F(HubFixture, OtherRevisionWritesItsRef) {
  std::string snapshot = pull(kRepo + "@v1.0", options);
  EXPECT_EQ(slurp(root / "refs" / "v1.0"), kCommit);
  EXPECT_FALSE(fs::exists(root / "refs" / "main"));
  EXPECT_EQ(resolve_model(kRepo + "@v1.0", false, options), snapshot);
  expect_error([&] { resolve_model(kRepo, false, options); }, "lmkit pull test-org/tiny-model");
}

TEST_F(HubFixture, ResumesPartialBlobWithRange) {
  const FakeHubFile& w = weights();
  fs::create_directories(root / "blobs");
  std::ofstream(root / "blobs" / (w.etag + ".incomplete"), std::ios::binary)
      << w.content.substr(0, 123456);
  std::string snapshot = pull(kRepo, options);
  EXPECT_EQ(slurp(fs::path(snapshot) / "model.safetensors"), w.content);
  bool resumed = false;
  for (const auto& s : hub.seen())
    if (s.what == "GET /cdn/" + w.etag) {
      EXPECT_EQ(s.range, "bytes=123456-");
      resumed = true;
    }
  EXPECT_TRUE(resumed);
  EXPECT_FALSE(fs::exists(root / "blobs" / (w.etag + ".incomplete")));
}

TEST_F(HubFixture, CorruptedLfsFileIsRejectedAndNotKept) {
  hub.corrupt_lfs = true;
  const FakeHubFile& w = weights();
  expect_error([&] { pull(kRepo, options); }, "model.safetensors: sha256 mismatch");
  EXPECT_FALSE(fs::exists(root / "blobs" / w.etag));
  EXPECT_FALSE(fs::exists(root / "blobs" / (w.etag + ".incomplete")));
  EXPECT_FALSE(fs::exists(root / "snapshots" / kCommit / "model.safetensors"));
  EXPECT_FALSE(fs::exists(root / "refs" / "main"));
  expect_error([&] { resolve_model(kRepo, false, options); }, "lmkit pull");

  hub.corrupt_lfs = false;  // a later pull repairs it
  std::string snapshot = pull(kRepo, options);
  EXPECT_EQ(slurp(fs::path(snapshot) / "model.safetensors"), w.content);
}

TEST_F(HubFixture, TokenSentAsBearerOnEveryHubRequest) {
  options.token = "hf_test_token";
  pull(kRepo, options);
  auto seen = hub.seen();
  ASSERT_GE(seen.size(), 5u);  // api + 3 HEAD + 3 GET (one via the CDN redirect)
  for (const auto& s : seen) EXPECT_EQ(s.authorization, "Bearer hf_test_token") << s.what;
}

TEST_F(HubFixture, NoTokenNoAuthorizationHeader) {
  pull(kRepo, options);
  for (const auto& s : hub.seen()) EXPECT_EQ(s.authorization, "") << s.what;
}

TEST_F(HubFixture, MissingRepoIsAClearError) {
  expect_error([&] { pull("test-org/no-such-model", options); }, "HTTP 404");
  expect_error([&] { pull("test-org/no-such-model", options); }, "HF_TOKEN");
  EXPECT_FALSE(fs::exists(fs::path(options.cache_dir) / "models--test-org--no-such-model"));
}

TEST_F(HubFixture, ResolveDownloadsWhenAllowed) {
  expect_error([&] { resolve_model(kRepo, false, options); },
               "is not in the Hugging Face cache");
  std::string snapshot = resolve_model(kRepo, true, options);
  EXPECT_TRUE(fs::exists(fs::path(snapshot) / "config.json"));
}

TEST_F(HubFixture, BadSpecs) {
  expect_error([&] { pull("no-slash", options); }, "is not a Hugging Face model id");
  expect_error([&] { pull("a/b/c", options); }, "is not a Hugging Face model id");
  expect_error([&] { pull("org/name@", options); }, "invalid revision");
  expect_error([&] { resolve_model("missing-file.gguf", false, options); }, "not found");
  std::string local = testing::temp_dir();
  EXPECT_EQ(resolve_model(local, false, options), local);
}

TEST(HubUnsafe, ServerFileNamesCannotEscapeTheSnapshot) {
  FakeHub hub(kRepo, kCommit, {{"../../evil", "x", false, "0a1b2c3d4e5f60718293a4b5c6d7e8f901234567"}});
  HubOptions o;
  o.endpoint = hub.endpoint();
  o.cache_dir = testing::temp_dir() + "/unsafe-cache";
  o.progress = false;
  expect_error([&] { pull(kRepo, o); }, "unsafe file name '../../evil'");
}

TEST(HubOptionsEnv, FollowsHuggingFaceHubVariables) {
  auto set = [](const char* k, const char* v) {
    if (v) setenv(k, v, 1); else unsetenv(k);
  };
  std::string home = testing::temp_dir() + "/home";
  set("HOME", home.c_str());
  set("XDG_CACHE_HOME", nullptr);
  set("HF_HOME", nullptr);
  set("HF_HUB_CACHE", nullptr);
  set("HUGGINGFACE_HUB_CACHE", nullptr);
  set("HF_ENDPOINT", nullptr);
  set("HF_TOKEN", nullptr);
  set("HF_TOKEN_PATH", nullptr);
  HubOptions o = hub_options_from_env();
  EXPECT_EQ(o.endpoint, "https://huggingface.co");
  EXPECT_EQ(o.cache_dir, home + "/.cache/huggingface/hub");
  EXPECT_EQ(o.token, "");

  set("HF_HOME", "/srv/hf");
  set("HF_ENDPOINT", "http://mirror.local:8080/");
  set("HF_TOKEN", "hf_abc");
  o = hub_options_from_env();
  EXPECT_EQ(o.cache_dir, "/srv/hf/hub");
  EXPECT_EQ(o.endpoint, "http://mirror.local:8080");
  EXPECT_EQ(o.token, "hf_abc");

  set("HF_HUB_CACHE", "/data/hub");
  set("HF_TOKEN", nullptr);
  std::string token_home = testing::temp_dir() + "/hfhome";
  fs::create_directories(token_home);
  std::ofstream(token_home + "/token") << "hf_from_login\n";
  set("HF_HOME", token_home.c_str());
  o = hub_options_from_env();
  EXPECT_EQ(o.cache_dir, "/data/hub");
  EXPECT_EQ(o.token, "hf_from_login");
  for (const char* k : {"HF_HOME", "HF_HUB_CACHE", "HF_ENDPOINT"}) set(k, nullptr);
}

}  // namespace
}  // namespace lmkit
