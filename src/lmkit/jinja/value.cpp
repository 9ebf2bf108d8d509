#include "lmkit/jinja/value.h"

#include <algorithm>
#include <charconv>
#include <cmath>
#include <cstdio>
#include <cstring>
#include <cctype>

#include <nlohmann/json.hpp>

#include "lmkit/jinja/errors.h"
#include "lmkit/jinja/text.h"

namespace lmkit::jinja {

void fail(const std::string& message) { throw TemplateError(message); }

namespace {

// Values can be cyclic (a namespace stored in itself), so serialisation is depth-bounded.
void check_depth(int depth) {
  if (depth > kMaxValueDepth) fail("value nested deeper than " + std::to_string(kMaxValueDepth) + " levels (cyclic?)");
}

void append_json_string(std::string& out, std::string_view s, bool ensure_ascii) {
  out += '"';
  for (size_t i = 0; i < s.size();) {
    unsigned char c = static_cast<unsigned char>(s[i]);
    switch (c) {
      case '"': out += "\\\""; ++i; continue;
      case '\\': out += "\\\\"; ++i; continue;
      case '\b': out += "\\b"; ++i; continue;
      case '\f': out += "\\f"; ++i; continue;
      case '\n': out += "\\n"; ++i; continue;
      case '\r': out += "\\r"; ++i; continue;
      case '\t': out += "\\t"; ++i; continue;
      default: break;
    }
    char buf[16];
    if (c < 0x20) {
      std::snprintf(buf, sizeof buf, "\\u%04x", c);
      out += buf;
      ++i;
      continue;
    }
    size_t len = std::min(text::sequence_length(c), s.size() - i);
    if (!ensure_ascii || c < 0x7F) {
      out.append(s.substr(i, len));
      i += len;
      continue;
    }
    uint32_t cp = len == 1 ? c : (c & (0xFF >> (len + 1)));
    for (size_t k = 1; k < len; ++k) cp = (cp << 6) | (static_cast<unsigned char>(s[i + k]) & 0x3F);
    if (cp >= 0x10000) {
      cp -= 0x10000;
      std::snprintf(buf, sizeof buf, "\\u%04x\\u%04x", 0xD800 + (cp >> 10), 0xDC00 + (cp & 0x3FF));
    } else {
      std::snprintf(buf, sizeof buf, "\\u%04x", cp);
    }
    out += buf;
    i += len;
  }
  out += '"';
}

void write_json(std::string& out, const Value& v, const JsonOptions& o, int depth, bool undefined_as_null) {
  check_depth(depth);
  std::string item_sep = o.has_separators ? o.item_separator : (o.indent > 0 ? "," : ", ");
  std::string key_sep = o.has_separators ? o.key_separator : ": ";
  std::string pad_unit = o.indent > 0 ? std::string(static_cast<size_t>(o.indent), ' ') : "";
  auto padding = [&](int level) {
    std::string p = "\n";
    for (int k = 0; k < level; ++k) p += pad_unit;
    return p;
  };
  switch (v.kind) {
    case Value::Kind::Undefined: out += undefined_as_null ? "null" : "undefined"; return;
    case Value::Kind::None: out += "null"; return;
    case Value::Kind::Bool: out += v.boolean ? "true" : "false"; return;
    case Value::Kind::Int: out += std::to_string(v.integer); return;
    case Value::Kind::Float:
      out += std::isfinite(v.number) ? format_number(v.number) : "null";
      return;
    case Value::Kind::String: append_json_string(out, v.string, o.ensure_ascii); return;
    case Value::Kind::Array: {
      out += '[';
      bool indented = o.indent > 0 && !v.array->empty();
      for (size_t k = 0; k < v.array->size(); ++k) {
        if (k) out += item_sep;
        if (indented) out += padding(depth + 1);
        write_json(out, (*v.array)[k], o, depth + 1, undefined_as_null);
      }
      if (indented) out += padding(depth);
      out += ']';
      return;
    }
    case Value::Kind::Object:
    case Value::Kind::Namespace: {
      std::vector<const std::pair<std::string, Value>*> entries;
      for (const auto& e : v.object->entries) entries.push_back(&e);
      if (o.sort_keys)
        std::stable_sort(entries.begin(), entries.end(), [](auto* a, auto* b) { return a->first < b->first; });
      out += '{';
      bool indented = o.indent > 0 && !entries.empty();
      for (size_t k = 0; k < entries.size(); ++k) {
        if (k) out += item_sep;
        if (indented) out += padding(depth + 1);
        append_json_string(out, entries[k]->first, o.ensure_ascii);
        out += key_sep;
        write_json(out, entries[k]->second, o, depth + 1, undefined_as_null);
      }
      if (indented) out += padding(depth);
      out += '}';
      return;
    }
    case Value::Kind::Function:
      fail("cannot convert function '" + v.function->name + "' to JSON");
  }
}

// JavaScript's ToNumber for strings: surrounding whitespace ignored, "" is 0, decimal or
// 0x/0o/0b literals and Infinity; anything else is NaN.
double js_string_to_number(const std::string& raw) {
  std::string s = text::trim(raw);
  if (s.empty()) return 0;
  auto all_digits = [](std::string_view body, int base) {
    if (body.empty()) return false;
    for (char c : body) {
      int d = std::isdigit(static_cast<unsigned char>(c)) ? c - '0'
              : std::isxdigit(static_cast<unsigned char>(c)) ? 10 + (std::tolower(static_cast<unsigned char>(c)) - 'a')
                                                            : 99;
      if (d >= base) return false;
    }
    return true;
  };
  if (s.size() > 2 && s[0] == '0' && std::strchr("xXoObB", s[1])) {
    int base = (s[1] == 'x' || s[1] == 'X') ? 16 : (s[1] == 'o' || s[1] == 'O') ? 8 : 2;
    std::string_view body = std::string_view(s).substr(2);
    if (!all_digits(body, base)) return std::nan("");
    double v = 0;
    for (char c : body)
      v = v * base + (std::isdigit(static_cast<unsigned char>(c)) ? c - '0' : 10 + (std::tolower(static_cast<unsigned char>(c)) - 'a'));
    return v;
  }
  size_t i = 0;
  bool negative = false;
  if (s[i] == '+' || s[i] == '-') negative = s[i++] == '-';
  if (s.compare(i, std::string::npos, "Infinity") == 0) return negative ? -INFINITY : INFINITY;
  size_t start = i, digits = 0;
  while (i < s.size() && std::isdigit(static_cast<unsigned char>(s[i]))) ++i, ++digits;
  if (i < s.size() && s[i] == '.') {
    ++i;
    while (i < s.size() && std::isdigit(static_cast<unsigned char>(s[i]))) ++i, ++digits;
  }
  if (digits == 0) return std::nan("");
  if (i < s.size() && (s[i] == 'e' || s[i] == 'E')) {
    size_t e = i + 1;
    if (e < s.size() && (s[e] == '+' || s[e] == '-')) ++e;
    size_t exp_digits = 0;
    while (e < s.size() && std::isdigit(static_cast<unsigned char>(s[e]))) ++e, ++exp_digits;
    if (exp_digits == 0) return std::nan("");
    i = e;
  }
  if (i != s.size()) return std::nan("");
  double v = std::strtod(s.c_str() + start, nullptr);
  return negative ? -v : v;
}

bool equals_at(const Value& a, const Value& b, int depth) {
  check_depth(depth);
  using K = Value::Kind;
  bool a_nothing = a.kind == K::None || a.kind == K::Undefined;
  bool b_nothing = b.kind == K::None || b.kind == K::Undefined;
  if (a_nothing || b_nothing) return a_nothing && b_nothing;
  // Scalars of different kinds compare as JavaScript's == does in the reference renderer:
  // booleans and numeric strings meet numbers ("" == false, "1" == 1).
  auto numeric = [](const Value& v, double& out) {
    if (v.kind == K::Int) out = static_cast<double>(v.integer);
    else if (v.kind == K::Float) out = v.number;
    else if (v.kind == K::Bool) out = v.boolean ? 1 : 0;
    else return false;
    return true;
  };
  double x, y;
  if (numeric(a, x) && numeric(b, y)) {
    if (a.kind == K::Int && b.kind == K::Int) return a.integer == b.integer;
    return x == y;
  }
  if (a.kind == K::String && numeric(b, y)) return js_string_to_number(a.string) == y;
  if (b.kind == K::String && numeric(a, x)) return js_string_to_number(b.string) == x;
  if (a.kind != b.kind) {
    if (a.is_mapping() && b.is_mapping()) return a.object == b.object;
    return false;
  }
  switch (a.kind) {
    case K::String: return a.string == b.string;
    case K::Array: {
      if (a.array == b.array) return true;
      if (a.array->size() != b.array->size()) return false;
      for (size_t k = 0; k < a.array->size(); ++k)
        if (!equals_at((*a.array)[k], (*b.array)[k], depth + 1)) return false;
      return true;
    }
    case K::Object: {
      if (a.object == b.object) return true;
      if (a.object->entries.size() != b.object->entries.size()) return false;
      for (const auto& [key, value] : a.object->entries) {
        const Value* other = b.object->find(key);
        if (!other || !equals_at(value, *other, depth + 1)) return false;
      }
      return true;
    }
    case K::Namespace: return a.object == b.object;
    case K::Function: return a.function == b.function;
    default: return false;
  }
}

}  // namespace

Value Value::none() {
  Value v;
  v.kind = Kind::None;
  return v;
}
Value Value::from_bool(bool b) {
  Value v;
  v.kind = Kind::Bool;
  v.boolean = b;
  return v;
}
Value Value::from_int(int64_t i) {
  Value v;
  v.kind = Kind::Int;
  v.integer = i;
  return v;
}
Value Value::from_float(double d) {
  Value v;
  v.kind = Kind::Float;
  v.number = d;
  return v;
}
Value Value::from_string(std::string s) {
  Value v;
  v.kind = Kind::String;
  v.string = std::move(s);
  return v;
}
int Value::depth() const {
  if (kind == Kind::Array) return list_depth;
  if (is_mapping()) return object->depth;
  return 0;
}

Value Value::from_array(ArrayData items) {
  Value v;
  v.kind = Kind::Array;
  int deepest = 0;
  for (const auto& item : items) deepest = std::max(deepest, item.depth());
  check_depth(deepest + 1);
  v.list_depth = static_cast<uint16_t>(deepest + 1);
  v.array = std::make_shared<ArrayData>(std::move(items));
  return v;
}
Value Value::new_object() {
  Value v;
  v.kind = Kind::Object;
  v.object = std::make_shared<ObjectData>();
  return v;
}
Value Value::new_namespace() {
  Value v = new_object();
  v.kind = Kind::Namespace;
  return v;
}
Value Value::from_function(std::string name, std::function<Value(CallArgs&, Scope&)> fn) {
  Value v;
  v.kind = Kind::Function;
  v.function = std::make_shared<FunctionData>(FunctionData{std::move(name), std::move(fn)});
  return v;
}

const Value* ObjectData::find(std::string_view key) const {
  for (const auto& e : entries)
    if (e.first == key) return &e.second;
  return nullptr;
}

Value* ObjectData::find(std::string_view key) {
  for (auto& e : entries)
    if (e.first == key) return &e.second;
  return nullptr;
}

void ObjectData::set(const std::string& key, Value value) {
  check_depth(value.depth() + 1);
  depth = std::max(depth, value.depth() + 1);
  if (Value* existing = find(key)) {
    *existing = std::move(value);
  } else {
    entries.emplace_back(key, std::move(value));
  }
}

const Value* CallArgs::get(size_t index, std::string_view name) const {
  if (index < positional.size()) return &positional[index];
  for (const auto& [key, value] : keyword)
    if (key == name) return &value;
  return nullptr;
}

const char* kind_name(Value::Kind kind) {
  switch (kind) {
    case Value::Kind::Undefined: return "undefined";
    case Value::Kind::None: return "none";
    case Value::Kind::Bool: return "boolean";
    case Value::Kind::Int: return "integer";
    case Value::Kind::Float: return "float";
    case Value::Kind::String: return "string";
    case Value::Kind::Array: return "list";
    case Value::Kind::Object: return "dict";
    case Value::Kind::Namespace: return "namespace";
    case Value::Kind::Function: return "function";
  }
  return "?";
}

bool truthy(const Value& v) {
  switch (v.kind) {
    case Value::Kind::Undefined:
    case Value::Kind::None: return false;
    case Value::Kind::Bool: return v.boolean;
    case Value::Kind::Int: return v.integer != 0;
    case Value::Kind::Float: return v.number != 0 && !std::isnan(v.number);
    case Value::Kind::String: return !v.string.empty();
    case Value::Kind::Array: return !v.array->empty();
    case Value::Kind::Object: return !v.object->entries.empty();
    case Value::Kind::Namespace:
    case Value::Kind::Function: return true;
  }
  return false;
}

std::string format_number(double d) {
  if (std::isnan(d)) return "NaN";
  if (std::isinf(d)) return d > 0 ? "Infinity" : "-Infinity";
  if (d == 0) return "0";
  // Shortest round-trip digits, then JavaScript's choice between plain and exponent form.
  char buf[64];
  auto res = std::to_chars(buf, buf + sizeof buf, d, std::chars_format::scientific);
  std::string sci(buf, res.ptr);
  std::string sign;
  if (sci[0] == '-') {
    sign = "-";
    sci.erase(0, 1);
  }
  size_t e = sci.find('e');
  std::string digits = sci.substr(0, e);
  digits.erase(std::remove(digits.begin(), digits.end(), '.'), digits.end());
  int exponent = std::stoi(sci.substr(e + 1));
  int k = static_cast<int>(digits.size());
  int n = exponent + 1;  // position of the decimal point relative to the digits
  std::string out;
  if (k <= n && n <= 21) {
    out = digits + std::string(static_cast<size_t>(n - k), '0');
  } else if (0 < n && n <= 21) {
    out = digits.substr(0, static_cast<size_t>(n)) + "." + digits.substr(static_cast<size_t>(n));
  } else if (-6 < n && n <= 0) {
    out = "0." + std::string(static_cast<size_t>(-n), '0') + digits;
  } else {
    std::string mantissa = digits.substr(0, 1);
    if (k > 1) mantissa += "." + digits.substr(1);
    out = mantissa + "e" + (n - 1 >= 0 ? "+" : "-") + std::to_string(std::abs(n - 1));
  }
  return sign + out;
}

std::string to_output(const Value& v) {
  switch (v.kind) {
    case Value::Kind::Undefined:
    case Value::Kind::None: return "";
    case Value::Kind::Bool: return v.boolean ? "true" : "false";
    case Value::Kind::Int: return std::to_string(v.integer);
    case Value::Kind::Float: {
      if (v.number == 0 && std::signbit(v.number)) return "-0.0";
      if (std::isfinite(v.number) && v.number == std::floor(v.number) && std::fabs(v.number) < 1e21)
        return format_number(v.number) + ".0";
      return format_number(v.number);
    }
    case Value::Kind::String: return v.string;
    case Value::Kind::Array:
    case Value::Kind::Object:
    case Value::Kind::Namespace: return to_json(v, JsonOptions{}, false);
    case Value::Kind::Function: return "<function " + v.function->name + ">";
  }
  return "";
}

std::string concat_string(const Value& v) {
  switch (v.kind) {
    case Value::Kind::Undefined: return "undefined";
    case Value::Kind::None: return "null";
    case Value::Kind::Float: return format_number(v.number);
    case Value::Kind::Array: {
      // Array#join calls each element's own toString: the rendering of to_output, with
      // none and undefined spelled out.
      std::string out;
      for (size_t k = 0; k < v.array->size(); ++k) {
        if (k) out += ',';
        const Value& item = (*v.array)[k];
        out += item.is_none() ? "null" : item.is_undefined() ? "undefined" : to_output(item);
      }
      return out;
    }
    case Value::Kind::Object:
    case Value::Kind::Namespace: return "[object Map]";
    default: return to_output(v);
  }
}

std::string to_json(const Value& v, const JsonOptions& options, bool undefined_as_null) {
  std::string out;
  write_json(out, v, options, 0, undefined_as_null);
  return out;
}

bool equals(const Value& a, const Value& b) { return equals_at(a, b, 0); }

bool same_value(const Value& a, const Value& b) {
  if (a.kind != b.kind) {
    if (a.is_number() && b.is_number()) return equals(a, b);
    return false;
  }
  return equals(a, b);
}

int compare(const Value& a, const Value& b, bool case_sensitive) {
  using K = Value::Kind;
  auto numeric = [](const Value& v) { return v.kind == K::Int || v.kind == K::Float || v.kind == K::Bool; };
  auto as_double = [](const Value& v) {
    return v.kind == K::Int ? static_cast<double>(v.integer) : v.kind == K::Float ? v.number : (v.boolean ? 1.0 : 0.0);
  };
  if (numeric(a) && numeric(b)) {
    if (a.kind == K::Int && b.kind == K::Int) return a.integer < b.integer ? -1 : a.integer > b.integer ? 1 : 0;
    double x = as_double(a), y = as_double(b);
    return x < y ? -1 : x > y ? 1 : 0;
  }
  if (a.kind == K::String && b.kind == K::String) {
    if (case_sensitive) return a.string < b.string ? -1 : a.string > b.string ? 1 : 0;
    std::string x = text::to_lower(a.string), y = text::to_lower(b.string);
    return x < y ? -1 : x > y ? 1 : 0;
  }
  if ((a.kind == K::None && b.kind == K::None) || (a.kind == K::Undefined && b.kind == K::Undefined)) return 0;
  if (a.kind == K::Array && b.kind == K::Array) {
    // Lists are acyclic and at most kMaxValueDepth deep, so this recursion is bounded.
    size_t n = std::min(a.array->size(), b.array->size());
    for (size_t k = 0; k < n; ++k)
      if (int c = compare((*a.array)[k], (*b.array)[k], case_sensitive)) return c;
    return a.array->size() < b.array->size() ? -1 : a.array->size() > b.array->size() ? 1 : 0;
  }
  fail(std::string("cannot compare ") + kind_name(a.kind) + " with " + kind_name(b.kind));
}

template <typename Json>
Value json_to_value(const Json& j) {
  switch (j.type()) {
    case nlohmann::detail::value_t::null: return Value::none();
    case nlohmann::detail::value_t::boolean: return Value::from_bool(j.template get<bool>());
    case nlohmann::detail::value_t::number_integer: return Value::from_int(j.template get<int64_t>());
    case nlohmann::detail::value_t::number_unsigned: {
      uint64_t u = j.template get<uint64_t>();
      if (u > static_cast<uint64_t>(INT64_MAX)) return Value::from_float(static_cast<double>(u));
      return Value::from_int(static_cast<int64_t>(u));
    }
    case nlohmann::detail::value_t::number_float: {
      double d = j.template get<double>();
      // JavaScript has one number type: a JSON 2.0 is the integer 2 there.
      if (std::isfinite(d) && d == std::floor(d) && std::fabs(d) < 9.007199254740992e15)
        return Value::from_int(static_cast<int64_t>(d));
      return Value::from_float(d);
    }
    case nlohmann::detail::value_t::string: return Value::from_string(j.template get<std::string>());
    case nlohmann::detail::value_t::array: {
      ArrayData items;
      items.reserve(j.size());
      for (const auto& e : j) items.push_back(json_to_value(e));
      return Value::from_array(std::move(items));
    }
    case nlohmann::detail::value_t::object: {
      Value obj = Value::new_object();
      for (auto it = j.begin(); it != j.end(); ++it) {
        Value child = json_to_value(it.value());
        check_depth(child.depth() + 1);
        obj.object->depth = std::max(obj.object->depth, child.depth() + 1);
        obj.object->entries.emplace_back(it.key(), std::move(child));  // JSON keys are unique
      }
      return obj;
    }
    default: return Value::undefined();
  }
}

Value from_json(const nlohmann::json& j) { return json_to_value(j); }
Value from_json(const nlohmann::ordered_json& j) { return json_to_value(j); }

}  // namespace lmkit::jinja
