// A small libcurl wrapper for the hub client: one request at a time, response headers
// collected (lower-cased names, those of the last response in a redirect chain), the body
// either kept in memory or streamed to a callback. Internal to the formats layer.
#pragma once
#include <cstdint>
#include <functional>
#include <map>
#include <string>
#include <vector>

namespace lmkit::http {

struct Request {
  std::string method = "GET";  // GET or HEAD
  std::string url;
  std::vector<std::string> headers;  // "Name: value"
  bool follow_redirects = true;
  // Called with each chunk of the body; return false to abort. Unset: the body is kept in
  // Response::body.
  std::function<bool(const char* data, size_t size)> on_body;
  // Called before the body once the status and headers are known (after redirects).
  std::function<void(long status, const std::map<std::string, std::string>& headers)> on_headers;
};

struct Response {
  long status = 0;
  std::map<std::string, std::string> headers;  // lower-cased names
  std::string body;
  std::string effective_url;
};

// Throws lmkit::Error (naming the URL) on a transport failure: DNS, connection refused,
// TLS, timeout with no progress. HTTP error statuses are returned, not thrown.
Response perform(const Request& request);

// Percent-encodes one path segment (or a revision name, where '/' must be encoded too).
std::string escape(const std::string& text);

}  // namespace lmkit::http
