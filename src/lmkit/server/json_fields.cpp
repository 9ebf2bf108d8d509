#include "lmkit/server/json_fields.h"

#include <cmath>

#include "lmkit/server/api_error.h"

namespace lmkit::server {

Json parse_body(const std::string& body) {
  Json j;
  try {
    j = Json::parse(body);
  } catch (const Json::parse_error& e) {
    // nlohmann's message names the byte offset and what it expected there.
    bad_request(std::string("the request body is not valid JSON: ") + e.what());
  }
  if (!j.is_object())
    bad_request("the request body must be a JSON object, got " + json_type_name(j));
  return j;
}

std::string json_type_name(const Json& v) {
  switch (v.type()) {
    case Json::value_t::null: return "null";
    case Json::value_t::boolean: return "a boolean";
    case Json::value_t::number_integer:
    case Json::value_t::number_unsigned: return "an integer";
    case Json::value_t::number_float: return "a number";
    case Json::value_t::string: return "a string";
    case Json::value_t::array: return "an array";
    case Json::value_t::object: return "an object";
    default: return "an unsupported value";
  }
}

namespace {

const Json* present(const Json& body, const char* field) {
  auto it = body.find(field);
  if (it == body.end() || it->is_null()) return nullptr;
  return &*it;
}

[[noreturn]] void wrong_type(const char* field, const char* expected, const Json& got) {
  bad_request(std::string("'") + field + "' must be " + expected + ", got " + json_type_name(got),
              field);
}

std::string number_text(double v) {
  std::string s = Json(v).dump();
  return s;
}

}  // namespace

std::optional<bool> get_bool(const Json& body, const char* field) {
  const Json* v = present(body, field);
  if (!v) return std::nullopt;
  if (!v->is_boolean()) wrong_type(field, "a boolean", *v);
  return v->get<bool>();
}

std::optional<int64_t> get_int(const Json& body, const char* field, int64_t min, int64_t max) {
  const Json* v = present(body, field);
  if (!v) return std::nullopt;
  int64_t value = 0;
  if (v->is_number_unsigned()) {
    const uint64_t u = v->get<uint64_t>();
    if (u > static_cast<uint64_t>(max))
      bad_request(std::string("'") + field + "' must be at most " + std::to_string(max) +
                      ", got " + v->dump(), field);
    value = static_cast<int64_t>(u);
  } else if (v->is_number_integer()) {
    value = v->get<int64_t>();
  } else if (v->is_number_float()) {
    const double d = v->get<double>();
    if (!(d == std::floor(d)) || std::fabs(d) > 9.0e15) wrong_type(field, "an integer", *v);
    value = static_cast<int64_t>(d);
  } else {
    wrong_type(field, "an integer", *v);
  }
  if (value < min || value > max)
    bad_request(std::string("'") + field + "' must be between " + std::to_string(min) + " and " +
                    std::to_string(max) + ", got " + std::to_string(value), field);
  return value;
}

std::optional<double> get_number(const Json& body, const char* field, double min, double max) {
  const Json* v = present(body, field);
  if (!v) return std::nullopt;
  if (!v->is_number()) wrong_type(field, "a number", *v);
  const double d = v->get<double>();
  if (!(d >= min && d <= max))
    bad_request(std::string("'") + field + "' must be between " + number_text(min) + " and " +
                    number_text(max) + ", got " + v->dump(), field);
  return d;
}

std::optional<std::string> get_string(const Json& body, const char* field) {
  const Json* v = present(body, field);
  if (!v) return std::nullopt;
  if (!v->is_string()) wrong_type(field, "a string", *v);
  return v->get<std::string>();
}

std::optional<std::vector<std::string>> get_string_or_strings(const Json& body,
                                                              const char* field) {
  const Json* v = present(body, field);
  if (!v) return std::nullopt;
  std::vector<std::string> out;
  if (v->is_string()) {
    out.push_back(v->get<std::string>());
  } else if (v->is_array()) {
    for (size_t i = 0; i < v->size(); ++i) {
      const Json& item = (*v)[i];
      if (!item.is_string())
        bad_request(std::string("'") + field + "[" + std::to_string(i) + "]' must be a string, got " +
                        json_type_name(item), field);
      out.push_back(item.get<std::string>());
    }
  } else {
    wrong_type(field, "a string or an array of strings", *v);
  }
  return out;
}

const Json* get_object(const Json& body, const char* field) {
  const Json* v = present(body, field);
  if (v && !v->is_object()) wrong_type(field, "an object", *v);
  return v;
}

const Json* get_array(const Json& body, const char* field) {
  const Json* v = present(body, field);
  if (v && !v->is_array()) wrong_type(field, "an array", *v);
  return v;
}

}  // namespace lmkit::server
