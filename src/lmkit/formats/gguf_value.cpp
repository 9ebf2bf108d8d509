// GgufValue accessors: typed reads of metadata values with errors that say what was found.
#include <fmt/format.h>

#include <limits>

#include "lmkit/base/error.h"
#include "lmkit/formats/gguf.h"
#include "lmkit/formats/gguf_types.h"

namespace lmkit {

namespace {

bool is_integer_type(GgufType t) {
  switch (t) {
    case GgufType::U8: case GgufType::I8: case GgufType::U16: case GgufType::I16:
    case GgufType::U32: case GgufType::I32: case GgufType::U64: case GgufType::I64:
      return true;
    default:
      return false;
  }
}

[[noreturn]] void wrong_type(const GgufValue& v, const char* wanted) {
  std::string found = gguf_type_name(v.type);
  if (v.is_array()) found += fmt::format(" of {}", gguf_type_name(v.array_type));
  throw_error(fmt::format("GGUF value is {}, expected {}", found, wanted));
}

int64_t scalar_int(const GgufValue& v, const char* wanted) {
  if (!is_integer_type(v.type)) wrong_type(v, wanted);
  if (const auto* u = std::get_if<uint64_t>(&v.scalar)) {
    if (*u > static_cast<uint64_t>(std::numeric_limits<int64_t>::max()))
      throw_error(fmt::format("GGUF value {} does not fit in a signed 64-bit integer", *u));
    return static_cast<int64_t>(*u);
  }
  return std::get<int64_t>(v.scalar);
}

double scalar_float(const GgufValue& v, const char* wanted) {
  if (v.type == GgufType::F32 || v.type == GgufType::F64) return std::get<double>(v.scalar);
  if (!is_integer_type(v.type)) wrong_type(v, wanted);
  if (const auto* u = std::get_if<uint64_t>(&v.scalar)) return static_cast<double>(*u);
  return static_cast<double>(std::get<int64_t>(v.scalar));
}

}  // namespace

const char* gguf_type_name(GgufType t) {
  switch (t) {
    case GgufType::U8: return "UINT8";
    case GgufType::I8: return "INT8";
    case GgufType::U16: return "UINT16";
    case GgufType::I16: return "INT16";
    case GgufType::U32: return "UINT32";
    case GgufType::I32: return "INT32";
    case GgufType::F32: return "FLOAT32";
    case GgufType::BOOL: return "BOOL";
    case GgufType::STRING: return "STRING";
    case GgufType::ARRAY: return "ARRAY";
    case GgufType::U64: return "UINT64";
    case GgufType::I64: return "INT64";
    case GgufType::F64: return "FLOAT64";
  }
  return "unknown";
}

std::string GgufValue::as_string() const {
  if (type != GgufType::STRING) wrong_type(*this, "STRING");
  return std::get<std::string>(scalar);
}

int64_t GgufValue::as_int() const { return scalar_int(*this, "an integer"); }

double GgufValue::as_float() const { return scalar_float(*this, "a number"); }

bool GgufValue::as_bool() const {
  if (type != GgufType::BOOL) wrong_type(*this, "BOOL");
  return std::get<bool>(scalar);
}

std::vector<std::string> GgufValue::as_strings() const {
  if (!is_array() || array_type != GgufType::STRING) wrong_type(*this, "ARRAY of STRING");
  std::vector<std::string> out;
  out.reserve(array.size());
  for (const GgufValue& e : array) out.push_back(std::get<std::string>(e.scalar));
  return out;
}

std::vector<float> GgufValue::as_floats() const {
  if (!is_array() || !(is_integer_type(array_type) || array_type == GgufType::F32 ||
                       array_type == GgufType::F64))
    wrong_type(*this, "ARRAY of numbers");
  std::vector<float> out;
  out.reserve(array.size());
  for (const GgufValue& e : array) out.push_back(static_cast<float>(e.as_float()));
  return out;
}

std::vector<int64_t> GgufValue::as_ints() const {
  if (!is_array() || !is_integer_type(array_type)) wrong_type(*this, "ARRAY of integers");
  std::vector<int64_t> out;
  out.reserve(array.size());
  for (const GgufValue& e : array) out.push_back(e.as_int());
  return out;
}

}  // namespace lmkit
