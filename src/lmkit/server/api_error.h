// Errors a client caused (or the server must report), in the shape OpenAI's API uses:
//   {"error": {"message": "...", "type": "invalid_request_error", "param": "temperature",
//              "code": null}}
// with the HTTP status that goes with them. Route code throws ApiError; the router turns it
// (and lmkit::Error, which means a bad request, and anything else, which means a bug) into
// a response.
#pragma once
#include <string>

#include "lmkit/base/error.h"

namespace lmkit::server {

class ApiError : public Error {
 public:
  ApiError(int status, std::string message, std::string param = "", std::string code = "",
           std::string type = "");
  int status() const { return status_; }
  const std::string& param() const { return param_; }
  const std::string& code() const { return code_; }
  const std::string& type() const { return type_; }

 private:
  int status_;
  std::string param_, code_, type_;
};

// 400 invalid_request_error naming the offending field.
[[noreturn]] void bad_request(const std::string& message, const std::string& param = "",
                              const std::string& code = "");

// The JSON body for an error. Empty param/code become null; an empty type is derived from the
// status (400 invalid_request_error, 401 authentication_error, 404 not_found_error,
// 413 invalid_request_error, 429 rate_limit_error, 503 service_unavailable, else server_error).
std::string error_body(int status, const std::string& message, const std::string& param = "",
                       const std::string& code = "", const std::string& type = "");
std::string error_body(const ApiError& e);

}  // namespace lmkit::server
