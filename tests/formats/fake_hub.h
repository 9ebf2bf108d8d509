// A hub-like HTTP server on 127.0.0.1 (random port) for testing the hub client: the model
// info API, resolve URLs that answer HEAD with the hub's headers (LFS files redirect to a
// "CDN" path carrying X-Linked-Etag / X-Linked-Size), Range requests, and a log of what the
// client sent. Shared by tests/formats and tests/cli.
#pragma once
#include <httplib.h>

#include <atomic>
#include <chrono>
#include <map>
#include <mutex>
#include <nlohmann/json.hpp>
#include <stdexcept>
#include <string>
#include <thread>
#include <vector>

namespace lmkit::testing {

struct FakeHubFile {
  std::string path;
  std::string content;
  bool lfs = false;
  std::string etag;  // sha256 of content for LFS files, any 40-hex id otherwise
};

class FakeHub {
 public:
  FakeHub(std::string repo, std::string commit, std::vector<FakeHubFile> files)
      : repo_(std::move(repo)), commit_(std::move(commit)), files_(std::move(files)) {
    server_.Get(R"(/api/models/([^/]+)/([^/]+)/revision/(.+))",
                [this](const httplib::Request& req, httplib::Response& res) {
                  record(req);
                  if (req.matches[1].str() + "/" + req.matches[2].str() != repo_) {
                    res.status = 404;
                    res.set_content(R"({"error":"Repository not found"})", "application/json");
                    return;
                  }
                  nlohmann::json siblings = nlohmann::json::array();
                  for (const FakeHubFile& f : files_) siblings.push_back({{"rfilename", f.path}});
                  nlohmann::json info = {{"id", repo_}, {"sha", commit_}, {"siblings", siblings}};
                  res.set_content(info.dump(), "application/json");
                });
    server_.Get(R"(/([^/]+)/([^/]+)/resolve/([^/]+)/(.+))",
                [this](const httplib::Request& req, httplib::Response& res) {
                  record(req);
                  const FakeHubFile* f = find(req.matches[4].str());
                  if (req.matches[1].str() + "/" + req.matches[2].str() != repo_ || !f) {
                    res.status = 404;
                    return;
                  }
                  res.set_header("X-Repo-Commit", commit_);
                  if (f->lfs) {
                    res.status = 302;
                    res.set_header("Location", endpoint() + "/cdn/" + f->etag);
                    res.set_header("X-Linked-Etag", "\"" + f->etag + "\"");
                    res.set_header("X-Linked-Size", std::to_string(f->content.size()));
                    return;
                  }
                  res.set_header("ETag", "\"" + f->etag + "\"");
                  res.set_content(f->content, "application/octet-stream");
                });
    server_.Get(R"(/cdn/([0-9a-f]+))", [this](const httplib::Request& req, httplib::Response& res) {
      record(req);
      for (const FakeHubFile& f : files_)
        if (f.lfs && f.etag == req.matches[1].str()) {
          std::string body = f.content;
          if (corrupt_lfs) body[body.size() / 2] ^= 0x5a;
          ++cdn_downloads;
          res.set_content(body, "application/octet-stream");
          return;
        }
      res.status = 404;
    });
    port_ = server_.bind_to_any_port("127.0.0.1");
    if (port_ <= 0) throw std::runtime_error("fake hub: cannot bind 127.0.0.1");
    thread_ = std::thread([this] { server_.listen_after_bind(); });
    // stop() only works once the loop runs, so wait for it before handing out the server.
    while (!server_.is_running()) std::this_thread::sleep_for(std::chrono::milliseconds(1));
  }

  ~FakeHub() {
    server_.stop();
    thread_.join();
  }

  std::string endpoint() const { return "http://127.0.0.1:" + std::to_string(port_); }
  const std::string& commit() const { return commit_; }

  // Every request's "METHOD path", Authorization and Range header, in order.
  struct Seen {
    std::string what;
    std::string authorization;
    std::string range;
  };
  std::vector<Seen> seen() {
    std::lock_guard<std::mutex> lock(mutex_);
    return seen_;
  }

  std::atomic<bool> corrupt_lfs{false};
  std::atomic<int> cdn_downloads{0};

 private:
  const FakeHubFile* find(const std::string& path) const {
    for (const FakeHubFile& f : files_)
      if (f.path == path) return &f;
    return nullptr;
  }
  void record(const httplib::Request& req) {
    std::lock_guard<std::mutex> lock(mutex_);
    seen_.push_back({req.method + " " + req.path, req.get_header_value("Authorization"),
                     req.get_header_value("Range")});
  }

  std::string repo_;
  std::string commit_;
  std::vector<FakeHubFile> files_;
  httplib::Server server_;
  std::thread thread_;
  int port_ = 0;
  std::mutex mutex_;
  std::vector<Seen> seen_;
};

}  // namespace lmkit::testing
