// Hub client and cache, following the layout and protocol of huggingface_hub so the cache is
// shared with Python tools:
// - the file list and the commit a revision points to come from
//   GET {endpoint}/api/models/{repo}/revision/{rev} ("sha", "siblings"[].rfilename);
// - each file's blob name comes from HEAD {endpoint}/{repo}/resolve/{commit}/{path} without
//   following redirects to another host: LFS files answer with a redirect carrying
//   X-Linked-Etag (their sha256) and X-Linked-Size; other files answer 200 with ETag (the git
//   blob id). Relative redirects (renamed repos) are followed;
// - the file is then fetched with GET on the same URL, following redirects, into
//   blobs/<etag>.incomplete (resumed with Range), checked, renamed to blobs/<etag>, and linked
//   from snapshots/<commit>/<path> with a relative symlink; refs/<rev> records the commit.
// Concurrent pulls of the same blob are serialised with flock on
// .locks/models--ORG--NAME/<etag>.lock, the lock file huggingface_hub's filelock also takes.
#include "lmkit/formats/hf_hub.h"

#include <fcntl.h>
#include <fmt/format.h>
#include <sys/file.h>
#include <unistd.h>

#include <cstdio>
#include <cstdlib>
#include <filesystem>
#include <fstream>
#include <memory>
#include <nlohmann/json.hpp>
#include <regex>
#include <sstream>

#include "lmkit/base/error.h"
#include "lmkit/base/progress.h"
#include "lmkit/formats/http_client.h"
#include "lmkit/formats/sha256.h"

namespace lmkit {

namespace fs = std::filesystem;

namespace {

struct RepoSpec {
  std::string repo;      // ORG/NAME
  std::string revision;  // "main" unless given
};

bool is_hex(const std::string& s, size_t length) {
  if (s.size() != length) return false;
  for (char c : s)
    if (!std::isxdigit(static_cast<unsigned char>(c))) return false;
  return true;
}

bool is_commit_hash(const std::string& s) { return is_hex(s, 40); }

// Hub repo ids: one "/" between an owner and a name of letters, digits, '-', '_', '.'.
bool is_repo_id(const std::string& repo) {
  static const std::regex re(R"([A-Za-z0-9][A-Za-z0-9._-]*/[A-Za-z0-9][A-Za-z0-9._-]*)");
  return std::regex_match(repo, re) && repo.find("..") == std::string::npos;
}

RepoSpec parse_repo_spec(const std::string& spec) {
  RepoSpec s;
  size_t at = spec.find('@');
  s.repo = spec.substr(0, at);
  s.revision = at == std::string::npos ? "main" : spec.substr(at + 1);
  if (!is_repo_id(s.repo))
    throw_error(fmt::format("'{}' is not a Hugging Face model id (expected ORG/NAME or "
                            "ORG/NAME@REVISION)",
                            spec));
  if (s.revision.empty() || s.revision.find("..") != std::string::npos ||
      s.revision.front() == '/')
    throw_error(fmt::format("'{}': invalid revision '{}'", spec, s.revision));
  return s;
}

fs::path repo_root(const HubOptions& o, const std::string& repo) {
  std::string folder = "models--" + repo;
  folder.replace(folder.find('/'), 1, "--");
  return fs::path(o.cache_dir) / folder;
}

std::vector<std::string> auth_headers(const HubOptions& o) {
  std::vector<std::string> h;
  if (!o.token.empty()) h.push_back("Authorization: Bearer " + o.token);
  return h;
}

std::string read_trimmed(const fs::path& p) {
  std::ifstream in(p);
  std::string s((std::istreambuf_iterator<char>(in)), std::istreambuf_iterator<char>());
  while (!s.empty() && std::isspace(static_cast<unsigned char>(s.back()))) s.pop_back();
  return s;
}

void write_text_atomic(const fs::path& path, const std::string& text) {
  fs::create_directories(path.parent_path());
  fs::path tmp = path.string() + ".tmp" + std::to_string(::getpid());
  {
    std::ofstream out(tmp, std::ios::trunc);
    out << text;
    if (!out) throw_error(fmt::format("cannot write '{}'", tmp.string()));
  }
  fs::rename(tmp, path);
}

// Names from the server become paths on disk: refuse anything that could leave the snapshot.
void check_repo_file_name(const std::string& repo, const std::string& name) {
  bool bad = name.empty() || name.front() == '/' || name.find('\\') != std::string::npos ||
             name.find('\0') != std::string::npos;
  for (const auto& part : fs::path(name))
    if (part == ".." || part == ".") bad = true;
  if (bad) throw_error(fmt::format("{}: the hub listed an unsafe file name '{}'", repo, name));
}

std::string normalize_etag(std::string etag) {
  if (etag.rfind("W/", 0) == 0) etag = etag.substr(2);
  if (etag.size() >= 2 && etag.front() == '"' && etag.back() == '"')
    etag = etag.substr(1, etag.size() - 2);
  return etag;
}

std::string http_error_hint(long status, const HubOptions& o) {
  if (status == 401 || status == 403)
    return o.token.empty() ? " (the repository is private or gated: set HF_TOKEN to a token "
                             "that has access)"
                           : " (the token in HF_TOKEN has no access to it)";
  if (status == 404)
    return o.token.empty() ? " (check the name and revision; a private repository also needs "
                             "HF_TOKEN)"
                           : " (check the name and revision)";
  return "";
}

struct RepoInfo {
  std::string commit;
  std::vector<std::string> files;
};

RepoInfo fetch_repo_info(const RepoSpec& s, const HubOptions& o) {
  http::Request req;
  req.url = fmt::format("{}/api/models/{}/revision/{}", o.endpoint, s.repo,
                        http::escape(s.revision));
  req.headers = auth_headers(o);
  http::Response r = http::perform(req);
  if (r.status != 200)
    throw_error(fmt::format("{}@{}: the hub at {} answered HTTP {}{}", s.repo, s.revision,
                            o.endpoint, r.status, http_error_hint(r.status, o)));
  nlohmann::json j = nlohmann::json::parse(r.body, nullptr, false);
  if (j.is_discarded() || !j.is_object())
    throw_error(fmt::format("{}: {} did not return JSON", s.repo, req.url));
  RepoInfo info;
  if (!j.contains("sha") || !j["sha"].is_string() || !is_commit_hash(j["sha"].get<std::string>()))
    throw_error(fmt::format("{}: {} has no commit hash in \"sha\"", s.repo, req.url));
  info.commit = j["sha"].get<std::string>();
  if (!j.contains("siblings") || !j["siblings"].is_array())
    throw_error(fmt::format("{}: {} has no \"siblings\" file list", s.repo, req.url));
  for (const auto& sib : j["siblings"]) {
    if (!sib.is_object() || !sib.contains("rfilename") || !sib["rfilename"].is_string())
      throw_error(fmt::format("{}: {}: a \"siblings\" entry has no \"rfilename\"", s.repo, req.url));
    std::string name = sib["rfilename"].get<std::string>();
    check_repo_file_name(s.repo, name);
    info.files.push_back(std::move(name));
  }
  return info;
}

std::string file_url(const HubOptions& o, const std::string& repo, const std::string& commit,
                     const std::string& file) {
  std::string path;
  for (const auto& part : fs::path(file)) {
    if (!path.empty()) path += '/';
    path += http::escape(part.string());
  }
  return fmt::format("{}/{}/resolve/{}/{}", o.endpoint, repo, commit, path);
}

struct FileMeta {
  std::string url;
  std::string etag;
  uint64_t size = 0;
  bool size_known = false;
  bool is_lfs() const { return is_hex(etag, 64); }
};

FileMeta fetch_file_meta(const HubOptions& o, const std::string& repo, const std::string& commit,
                         const std::string& file) {
  FileMeta m;
  m.url = file_url(o, repo, commit, file);
  std::string url = m.url;
  for (int hop = 0; hop < 5; ++hop) {
    http::Request req;
    req.method = "HEAD";
    req.url = url;
    req.headers = auth_headers(o);
    req.headers.push_back("Accept-Encoding: identity");
    req.follow_redirects = false;
    http::Response r = http::perform(req);
    auto header = [&](const char* name) {
      auto it = r.headers.find(name);
      return it == r.headers.end() ? std::string() : it->second;
    };
    if (r.status >= 300 && r.status < 400) {
      std::string location = header("location");
      if (!location.empty() && location.front() == '/') {
        // Relative redirect: the repo was renamed or moved; follow it on the same host.
        size_t scheme = o.endpoint.find("://");
        size_t host_end = o.endpoint.find('/', scheme == std::string::npos ? 0 : scheme + 3);
        url = o.endpoint.substr(0, host_end) + location;
        m.url = url;
        continue;
      }
    } else if (r.status != 200) {
      throw_error(fmt::format("{}: {} answered HTTP {}{}", file, url, r.status,
                              http_error_hint(r.status, o)));
    }
    m.etag = normalize_etag(!header("x-linked-etag").empty() ? header("x-linked-etag")
                                                             : header("etag"));
    std::string size = !header("x-linked-size").empty() ? header("x-linked-size")
                                                        : header("content-length");
    if (!size.empty()) {
      m.size = std::strtoull(size.c_str(), nullptr, 10);
      m.size_known = true;
    }
    if (m.etag.empty() || m.etag.find('/') != std::string::npos || m.etag.find("..") != std::string::npos)
      throw_error(fmt::format("{}: {} sent no usable ETag, so the file cannot be cached", file,
                              url));
    return m;
  }
  throw_error(fmt::format("{}: too many redirects from {}", file, m.url));
}

// An exclusive flock held for the object's lifetime.
class FileLock {
 public:
  explicit FileLock(const fs::path& path) {
    fs::create_directories(path.parent_path());
    fd_ = ::open(path.c_str(), O_RDWR | O_CREAT | O_CLOEXEC, 0644);
    if (fd_ < 0) throw_error(fmt::format("cannot create lock file '{}'", path.string()));
    ::flock(fd_, LOCK_EX);
  }
  ~FileLock() {
    ::flock(fd_, LOCK_UN);
    ::close(fd_);
  }
  FileLock(const FileLock&) = delete;
  FileLock& operator=(const FileLock&) = delete;

 private:
  int fd_ = -1;
};

uint64_t file_size_or_zero(const fs::path& p) {
  std::error_code ec;
  auto n = fs::file_size(p, ec);
  return ec ? 0 : n;
}

// Downloads into `incomplete`, resuming from what it already holds. Returns when the server
// has sent the whole file; throws on HTTP errors (the partial file is kept for a later resume).
void download_resumable(const HubOptions& o, const std::string& file, const FileMeta& meta,
                        const fs::path& incomplete, ProgressBar& bar, uint64_t bar_base) {
  for (int attempt = 0; attempt < 2; ++attempt) {
    uint64_t have = file_size_or_zero(incomplete);
    if (meta.size_known && have > meta.size) {
      fs::remove(incomplete);
      have = 0;
    }
    if (meta.size_known && have == meta.size && have > 0) return;  // finished last time

    std::unique_ptr<std::FILE, decltype(&std::fclose)> out(std::fopen(incomplete.c_str(), "ab"),
                                                           std::fclose);
    if (!out) throw_error(fmt::format("cannot write '{}'", incomplete.string()));

    http::Request req;
    req.url = meta.url;
    req.headers = auth_headers(o);
    req.headers.push_back("Accept-Encoding: identity");
    if (have > 0) req.headers.push_back(fmt::format("Range: bytes={}-", have));
    long status = 0;
    std::string error_body;
    uint64_t written = have;
    bool write_failed = false;
    req.on_headers = [&](long s, const std::map<std::string, std::string>&) {
      status = s;
      if (s == 200 && have > 0) {
        // The server ignored the Range request and sends the whole file: start over.
        if (::ftruncate(fileno(out.get()), 0) != 0) write_failed = true;
        std::fseek(out.get(), 0, SEEK_SET);
        written = 0;
      }
      bar.set(bar_base + written);
    };
    req.on_body = [&](const char* data, size_t n) {
      if (status != 200 && status != 206) {
        if (error_body.size() < 512) error_body.append(data, std::min<size_t>(n, 512));
        return true;
      }
      if (std::fwrite(data, 1, n, out.get()) != n) {
        write_failed = true;
        return false;
      }
      written += n;
      bar.add(n);
      return true;
    };
    http::Response r = http::perform(req);
    if (std::fflush(out.get()) != 0) write_failed = true;
    out.reset();
    if (write_failed)
      throw_error(fmt::format("{}: cannot write '{}' (disk full?)", file, incomplete.string()));
    status = r.status;
    if (status == 416) {
      // The range starts at or past the end: the partial file cannot be resumed. Retry whole.
      fs::remove(incomplete);
      continue;
    }
    if (status != 200 && status != 206)
      throw_error(fmt::format("{}: downloading {} failed with HTTP {}{}", file, meta.url, status,
                              http_error_hint(status, o)));
    uint64_t got = file_size_or_zero(incomplete);
    if (meta.size_known && got != meta.size)
      throw_error(fmt::format("{}: download ended at {} of {} bytes; run the command again to "
                              "resume",
                              file, got, meta.size));
    return;
  }
  throw_error(fmt::format("{}: the server refused to resume or restart the download of {}", file,
                          meta.url));
}

void link_snapshot_file(const fs::path& blob, const fs::path& link) {
  fs::create_directories(link.parent_path());
  fs::path target = fs::relative(blob, link.parent_path());
  fs::path tmp = link.string() + ".tmp" + std::to_string(::getpid());
  std::error_code ec;
  fs::remove(tmp, ec);
  fs::create_symlink(target, tmp);
  fs::rename(tmp, link);  // replaces a stale link atomically
}

}  // namespace

HubOptions hub_options_from_env() {
  auto env = [](const char* name) {
    const char* v = std::getenv(name);
    return v && *v ? std::string(v) : std::string();
  };
  HubOptions o;
  o.endpoint = env("HF_ENDPOINT");
  if (o.endpoint.empty()) o.endpoint = "https://huggingface.co";
  while (!o.endpoint.empty() && o.endpoint.back() == '/') o.endpoint.pop_back();

  std::string home = env("HOME");
  std::string cache_home = env("XDG_CACHE_HOME");
  if (cache_home.empty()) cache_home = home + "/.cache";
  std::string hf_home = env("HF_HOME");
  if (hf_home.empty()) hf_home = cache_home + "/huggingface";
  o.cache_dir = env("HF_HUB_CACHE");
  if (o.cache_dir.empty()) o.cache_dir = env("HUGGINGFACE_HUB_CACHE");  // older name
  if (o.cache_dir.empty()) o.cache_dir = hf_home + "/hub";

  o.token = env("HF_TOKEN");
  if (o.token.empty()) {
    // The file `huggingface-cli login` writes.
    std::string token_path = env("HF_TOKEN_PATH");
    if (token_path.empty()) token_path = hf_home + "/token";
    if (fs::exists(token_path)) o.token = read_trimmed(token_path);
  }
  o.progress = env("HF_HUB_DISABLE_PROGRESS_BARS").empty();
  return o;
}

std::string pull(const std::string& repo_and_revision, const HubOptions& options) {
  RepoSpec spec = parse_repo_spec(repo_and_revision);
  if (options.cache_dir.empty()) throw_error("no Hugging Face cache folder set (HF_HUB_CACHE)");
  if (options.endpoint.empty()) throw_error("no Hugging Face endpoint set (HF_ENDPOINT)");
  const fs::path root = repo_root(options, spec.repo);
  RepoInfo info = fetch_repo_info(spec, options);
  const fs::path snapshot = root / "snapshots" / info.commit;

  struct Pending {
    std::string file;
    FileMeta meta;
  };
  std::vector<Pending> pending;
  uint64_t total = 0;
  for (const std::string& file : info.files) {
    std::error_code ec;
    if (fs::exists(snapshot / file, ec)) continue;  // follows the symlink: blob present
    Pending p{file, fetch_file_meta(options, spec.repo, info.commit, file)};
    total += p.meta.size;
    pending.push_back(std::move(p));
  }

  fs::create_directories(snapshot);
  if (!pending.empty()) {
    ProgressBar bar(spec.repo, total, options.progress);
    uint64_t base = 0;
    for (const Pending& p : pending) {
      bar.set_label(fs::path(p.file).filename().string());
      const fs::path blob = root / "blobs" / p.meta.etag;
      FileLock lock(fs::path(options.cache_dir) / ".locks" / root.filename() /
                    (p.meta.etag + ".lock"));
      if (!fs::exists(blob)) {
        fs::create_directories(blob.parent_path());
        fs::path incomplete = blob.string() + ".incomplete";
        bar.set_already_done(base + file_size_or_zero(incomplete));
        download_resumable(options, p.file, p.meta, incomplete, bar, base);
        if (p.meta.is_lfs()) {
          std::string actual = sha256_file_hex(incomplete.string());
          if (actual != p.meta.etag) {
            fs::remove(incomplete);
            throw_error(fmt::format("{}: sha256 mismatch: the hub names the file {} but the "
                                    "download hashes to {}; the corrupt download was deleted, "
                                    "run the command again",
                                    p.file, p.meta.etag, actual));
          }
        }
        fs::rename(incomplete, blob);
      }
      link_snapshot_file(blob, snapshot / p.file);
      base += p.meta.size;
      bar.set(base);
    }
    bar.set_label(spec.repo);
    bar.finish();
  }
  if (spec.revision != info.commit) write_text_atomic(root / "refs" / spec.revision, info.commit);
  return snapshot.string();
}

std::string resolve_model(const std::string& spec, bool download_if_missing,
                          const HubOptions& options) {
  std::error_code ec;
  if (fs::exists(spec, ec)) return spec;
  std::string repo_part = spec.substr(0, spec.find('@'));
  if (!is_repo_id(repo_part) || spec.rfind("./", 0) == 0 ||
      (spec.size() > 5 && spec.compare(spec.size() - 5, 5, ".gguf") == 0))
    throw_error(fmt::format("model '{}' not found: no such file or folder, and not a Hugging "
                            "Face id (ORG/NAME[@REVISION])",
                            spec));
  RepoSpec s = parse_repo_spec(spec);
  const fs::path root = repo_root(options, s.repo);
  std::string commit = s.revision;
  if (!is_commit_hash(commit)) {
    fs::path ref = root / "refs" / s.revision;
    commit = fs::exists(ref) ? read_trimmed(ref) : std::string();
  }
  if (!commit.empty()) {
    fs::path snapshot = root / "snapshots" / commit;
    if (fs::is_directory(snapshot, ec)) return snapshot.string();
  }
  if (download_if_missing) return pull(spec, options);
  throw_error(fmt::format("model '{}' is not in the Hugging Face cache ({}); run `lmkit pull {}` "
                          "first",
                          spec, options.cache_dir, spec));
}

}  // namespace lmkit
