// Typed reads of optional fields from a request body. A field that is absent or null gives
// std::nullopt (OpenAI treats null as "not given"); a field of the wrong type or out of range
// throws a 400 ApiError naming the field, what was expected and what came. Unknown fields are
// never looked at, so they are accepted and ignored as OpenAI and vLLM do.
#pragma once
#include <cstdint>
#include <optional>
#include <string>
#include <vector>

#include <nlohmann/json.hpp>

namespace lmkit::server {

using Json = nlohmann::json;

// Parses a request body that must be a JSON object ("malformed JSON" is a 400).
Json parse_body(const std::string& body);

// "a string", "an integer", ... for messages about a value that came.
std::string json_type_name(const Json& value);

std::optional<bool> get_bool(const Json& body, const char* field);
// Integers; a float with an integral value (16.0) is accepted as pydantic does.
std::optional<int64_t> get_int(const Json& body, const char* field, int64_t min, int64_t max);
std::optional<double> get_number(const Json& body, const char* field, double min, double max);
std::optional<std::string> get_string(const Json& body, const char* field);
// A string or an array of strings (as `stop` is).
std::optional<std::vector<std::string>> get_string_or_strings(const Json& body, const char* field);
// An object, returned as is.
const Json* get_object(const Json& body, const char* field);
const Json* get_array(const Json& body, const char* field);

}  // namespace lmkit::server
