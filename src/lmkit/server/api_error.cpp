#include "lmkit/server/api_error.h"

#include <nlohmann/json.hpp>

namespace lmkit::server {

ApiError::ApiError(int status, std::string message, std::string param, std::string code,
                   std::string type)
    : Error(std::move(message)),
      status_(status),
      param_(std::move(param)),
      code_(std::move(code)),
      type_(std::move(type)) {}

void bad_request(const std::string& message, const std::string& param, const std::string& code) {
  throw ApiError(400, message, param, code);
}

namespace {

const char* type_for_status(int status) {
  switch (status) {
    case 400:
    case 413:
    case 422: return "invalid_request_error";
    case 401: return "authentication_error";
    case 404: return "not_found_error";
    case 429: return "rate_limit_error";
    case 503: return "service_unavailable";
    default: return status < 500 ? "invalid_request_error" : "server_error";
  }
}

nlohmann::ordered_json null_if_empty(const std::string& s) {
  return s.empty() ? nlohmann::ordered_json(nullptr) : nlohmann::ordered_json(s);
}

}  // namespace

std::string error_body(int status, const std::string& message, const std::string& param,
                       const std::string& code, const std::string& type) {
  nlohmann::ordered_json err;
  err["message"] = message;
  err["type"] = type.empty() ? type_for_status(status) : type;
  err["param"] = null_if_empty(param);
  err["code"] = null_if_empty(code);
  nlohmann::ordered_json body;
  body["error"] = std::move(err);
  // Replace invalid UTF-8 (a message may quote client input) instead of throwing.
  return body.dump(-1, ' ', false, nlohmann::ordered_json::error_handler_t::replace);
}

std::string error_body(const ApiError& e) {
  return error_body(e.status(), e.what(), e.param(), e.code(), e.type());
}

}  // namespace lmkit::server
