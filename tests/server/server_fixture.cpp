#include "server_fixture.h"

#include <arpa/inet.h>
#include <netinet/in.h>
#include <sys/socket.h>
#include <unistd.h>

#include <chrono>
#include <fstream>

#include <gtest/gtest.h>

#include "support/test_data.h"

namespace lmkit::testing {

engine::LoadedModel load_test_model(int64_t context, const std::string& chat_template_file) {
  std::string tmpl = chat_template_file;
  if (tmpl.empty()) {
    tmpl = temp_dir() + "/chat_template.jinja";
    std::ofstream(tmpl) << "{{ bos_token }}{% for m in messages %}{{ m['role'] }}: {{ m['content'] }}\n"
                           "{% endfor %}{% if add_generation_prompt %}assistant:{% endif %}";
  }
  engine::LoadOptions lo;
  lo.context_size = context;
  lo.chat_template_file = tmpl;
  return engine::load_model(data_path("stories260K/stories260K.gguf"), lo);
}

TestServer::TestServer(TestServerConfig config)
    : model_(load_test_model(config.context, config.chat_template_file)) {
  engine::EngineConfig ec;
  ec.context_size = config.context;
  ec.kv_cache_bytes = int64_t{16} << 20;
  ec.max_batch_size = config.max_batch;
  ec.max_waiting = config.max_waiting;
  scheduler_ = std::make_unique<engine::Scheduler>(model_, pool_, ec);
  server::ServerOptions so;
  so.port = 0;
  so.api_key = config.api_key;
  so.model_names = {"stories"};
  so.http_threads = 32;
  so.max_body_bytes = config.max_body_bytes;
  so.request_timeout_ms = config.request_timeout_ms;
  so.tool_parser = config.tool_parser;
  http_ = std::make_unique<server::HttpServer>(model_, *scheduler_, so);
  port_ = http_->bind();
  thread_ = std::thread([this] { http_->run(); });
}

void TestServer::stop() {
  if (http_) http_->stop();
  if (thread_.joinable()) thread_.join();
}

TestServer::~TestServer() {
  stop();
  http_.reset();
  scheduler_.reset();
}

httplib::Client TestServer::client() const {
  httplib::Client c("127.0.0.1", port_);
  c.set_read_timeout(60, 0);
  return c;
}

httplib::Result post_json(httplib::Client& c, const std::string& path, const nlohmann::json& body) {
  return c.Post(path.c_str(), body.dump(), "application/json");
}

std::vector<nlohmann::json> sse_payloads(const std::string& body) {
  std::vector<nlohmann::json> out;
  size_t pos = 0;
  while (pos < body.size()) {
    size_t end = body.find("\n\n", pos);
    if (end == std::string::npos) {
      ADD_FAILURE() << "SSE body does not end with a blank line: ..." << body.substr(pos);
      break;
    }
    const std::string event = body.substr(pos, end - pos);
    pos = end + 2;
    if (event.rfind("data: ", 0) != 0) {
      ADD_FAILURE() << "SSE event without 'data: ': " << event;
      continue;
    }
    const std::string data = event.substr(6);
    out.push_back(data == "[DONE]" ? nlohmann::json("[DONE]") : nlohmann::json::parse(data));
  }
  return out;
}

RawConnection::RawConnection(int port) {
  fd_ = ::socket(AF_INET, SOCK_STREAM, 0);
  sockaddr_in addr{};
  addr.sin_family = AF_INET;
  addr.sin_port = htons(static_cast<uint16_t>(port));
  addr.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
  if (::connect(fd_, reinterpret_cast<sockaddr*>(&addr), sizeof addr) != 0)
    ADD_FAILURE() << "cannot connect to 127.0.0.1:" << port;
  timeval tv{30, 0};
  setsockopt(fd_, SOL_SOCKET, SO_RCVTIMEO, &tv, sizeof tv);
}

RawConnection::~RawConnection() { close(); }

void RawConnection::send_all(const std::string& data) {
  size_t sent = 0;
  while (sent < data.size()) {
    const ssize_t n = ::send(fd_, data.data() + sent, data.size() - sent, MSG_NOSIGNAL);
    if (n <= 0) return;
    sent += static_cast<size_t>(n);
  }
}

std::string RawConnection::read_some(size_t max_bytes) {
  std::string buf(max_bytes, '\0');
  const ssize_t n = ::recv(fd_, buf.data(), max_bytes, 0);
  buf.resize(n > 0 ? static_cast<size_t>(n) : 0);
  return buf;
}

std::string RawConnection::read_until(const std::string& marker, size_t max_bytes) {
  std::string all;
  while (all.find(marker) == std::string::npos && all.size() < max_bytes) {
    std::string more = read_some(4096);
    if (more.empty()) break;
    all += more;
  }
  return all;
}

void RawConnection::close() {
  if (fd_ >= 0) ::close(fd_);
  fd_ = -1;
}

std::string http_post_request(const std::string& path, const std::string& body) {
  return "POST " + path + " HTTP/1.1\r\nHost: 127.0.0.1\r\nContent-Type: application/json\r\n"
         "Content-Length: " + std::to_string(body.size()) + "\r\n\r\n" + body;
}

bool eventually(const std::function<bool()>& done, int tries) {
  for (int i = 0; i < tries; ++i) {
    if (done()) return true;
    std::this_thread::sleep_for(std::chrono::milliseconds(20));
  }
  return done();
}

}  // namespace lmkit::testing
