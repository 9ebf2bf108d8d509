// Filters (`x | trim`, `tools | tojson(indent=4)`, `messages | selectattr('role', 'eq', 'user')`).
// Behaviour follows @huggingface/jinja where it implements a filter and Jinja2 otherwise.
#include <algorithm>
#include <cmath>
#include <cstdlib>
#include <set>

#include "lmkit/jinja/errors.h"
#include "lmkit/jinja/interpreter.h"
#include "lmkit/jinja/text.h"

namespace lmkit::jinja {
namespace {

bool bool_arg(const CallArgs& args, size_t index, std::string_view name, bool fallback, const std::string& filter) {
  const Value* v = args.get(index, name);
  if (!v || v->is_undefined()) return fallback;
  if (v->kind != Value::Kind::Bool) fail("filter '" + filter + "': '" + std::string(name) + "' must be true or false");
  return v->boolean;
}

[[noreturn]] void wrong_type(const std::string& filter, const Value& v) {
  fail("filter '" + filter + "' cannot be applied to a value of type " + kind_name(v.kind));
}

// Dotted attribute paths as in `map(attribute='function.name')`; digits index lists.
Value attribute_path(const Value& item, const std::string& path) {
  Value v = item;
  size_t start = 0;
  while (true) {
    size_t dot = path.find('.', start);
    std::string part = path.substr(start, dot == std::string::npos ? std::string::npos : dot - start);
    if (v.is_mapping()) {
      const Value* next = v.object->find(part);
      v = next ? *next : Value::undefined();
    } else if (v.is_array() && !part.empty() && part.find_first_not_of("0123456789") == std::string::npos) {
      v = get_item(v, Value::from_int(std::atoll(part.c_str())));
    } else {
      return Value::undefined();
    }
    if (dot == std::string::npos) return v;
    start = dot + 1;
  }
}

std::string html_escape(const std::string& s) {
  std::string out;
  for (char c : s) {
    switch (c) {
      case '&': out += "&amp;"; break;
      case '<': out += "&lt;"; break;
      case '>': out += "&gt;"; break;
      case '"': out += "&#34;"; break;
      case '\'': out += "&#39;"; break;
      default: out += c;
    }
  }
  return out;
}

Value to_int(const Value& v, const Value& fallback) {
  switch (v.kind) {
    case Value::Kind::Int: return v;
    case Value::Kind::Bool: return Value::from_int(v.boolean ? 1 : 0);
    case Value::Kind::Float:
      if (!std::isfinite(v.number) || std::fabs(v.number) > 9.2e18) return fallback;
      return Value::from_int(static_cast<int64_t>(v.number));  // truncates, as Python's int()
    case Value::Kind::String: {
      std::string s = text::trim(v.string);
      if (s.empty()) return fallback;
      char* end = nullptr;
      errno = 0;
      long long i = std::strtoll(s.c_str(), &end, 10);
      if (*end == '\0' && errno == 0) return Value::from_int(i);
      double d = std::strtod(s.c_str(), &end);
      if (*end == '\0' && std::isfinite(d) && std::fabs(d) < 9.2e18) return Value::from_int(static_cast<int64_t>(d));
      return fallback;
    }
    default: return fallback;
  }
}

Value to_float(const Value& v, const Value& fallback) {
  switch (v.kind) {
    case Value::Kind::Int: return Value::from_float(static_cast<double>(v.integer));
    case Value::Kind::Float: return v;
    case Value::Kind::Bool: return Value::from_float(v.boolean ? 1 : 0);
    case Value::Kind::String: {
      std::string s = text::trim(v.string);
      char* end = nullptr;
      double d = std::strtod(s.c_str(), &end);
      if (s.empty() || *end != '\0') return fallback;
      return Value::from_float(d);
    }
    default: return fallback;
  }
}

// select/reject/selectattr/rejectattr: the test and its extra arguments start at `first`.
bool passes(const Value& v, const CallArgs& args, size_t first) {
  if (args.positional.size() <= first) return truthy(v);
  const Value& test = args.positional[first];
  if (!test.is_string()) fail("the test name must be a string");
  if (!has_test(test.string)) fail("unknown test '" + test.string + "'");
  CallArgs test_args;
  test_args.positional.assign(args.positional.begin() + static_cast<long>(first) + 1, args.positional.end());
  return apply_test(test.string, v, test_args);
}

Value sorted(const Value& operand, const CallArgs& args) {
  bool reverse = bool_arg(args, 0, "reverse", false, "sort");
  bool case_sensitive = bool_arg(args, 1, "case_sensitive", false, "sort");
  const Value* attribute = args.get(2, "attribute");
  ArrayData items = *operand.array;
  auto key = [&](const Value& item) {
    if (!attribute || attribute->is_none() || attribute->is_undefined()) return item;
    std::string path = attribute->kind == Value::Kind::Int ? std::to_string(attribute->integer) : attribute->string;
    return attribute_path(item, path);
  };
  std::stable_sort(items.begin(), items.end(), [&](const Value& a, const Value& b) {
    int c = compare(key(a), key(b), case_sensitive);
    return reverse ? c > 0 : c < 0;
  });
  return Value::from_array(std::move(items));
}

Value dictsort(const Value& operand, const CallArgs& args) {
  if (operand.kind != Value::Kind::Object) wrong_type("dictsort", operand);
  bool case_sensitive = bool_arg(args, 0, "case_sensitive", false, "dictsort");
  const Value* by = args.get(1, "by");
  bool by_value = by && by->is_string() && by->string == "value";
  if (by && !(by->is_string() && (by->string == "key" || by->string == "value")))
    fail("filter 'dictsort': 'by' must be 'key' or 'value'");
  bool reverse = bool_arg(args, 2, "reverse", false, "dictsort");
  ArrayData items;
  for (const auto& [key, value] : operand.object->entries) items.push_back(Value::from_array({Value::from_string(key), value}));
  std::stable_sort(items.begin(), items.end(), [&](const Value& a, const Value& b) {
    size_t k = by_value ? 1 : 0;
    int c = compare((*a.array)[k], (*b.array)[k], case_sensitive);
    return reverse ? c > 0 : c < 0;
  });
  return Value::from_array(std::move(items));
}

Value indent(const std::string& s, const CallArgs& args) {
  const Value* width = args.get(0, "width");
  std::string pad;
  if (!width || width->is_undefined()) pad = "    ";
  else if (width->kind == Value::Kind::Int) pad.assign(static_cast<size_t>(std::clamp<int64_t>(width->integer, 0, 1024)), ' ');
  else if (width->is_string()) pad = width->string;
  else fail("filter 'indent': width must be an integer or a string");
  bool first = bool_arg(args, 1, "first", false, "indent");
  bool blank = bool_arg(args, 2, "blank", false, "indent");
  std::string out;
  size_t start = 0;
  for (size_t line = 0;; ++line) {
    size_t nl = s.find('\n', start);
    std::string_view part = std::string_view(s).substr(start, nl == std::string::npos ? std::string::npos : nl - start);
    if ((line > 0 || first) && (blank || !part.empty())) out += pad;
    out += part;
    if (nl == std::string::npos) break;
    out += '\n';
    start = nl + 1;
  }
  return Value::from_string(std::move(out));
}

Value tojson(const Value& operand, const CallArgs& args) {
  JsonOptions o;
  if (const Value* indent = args.get(0, "indent"); indent && !indent->is_none() && !indent->is_undefined()) {
    if (indent->kind != Value::Kind::Int) fail("filter 'tojson': indent must be an integer");
    o.indent = static_cast<int>(std::clamp<int64_t>(indent->integer, -1, 64));
  }
  o.ensure_ascii = bool_arg(args, 99, "ensure_ascii", false, "tojson");
  o.sort_keys = bool_arg(args, 99, "sort_keys", false, "tojson");
  if (const Value* seps = args.get(99, "separators"); seps && !seps->is_none()) {
    if (!seps->is_array() || seps->array->size() != 2 || !(*seps->array)[0].is_string() || !(*seps->array)[1].is_string())
      fail("filter 'tojson': separators must be a pair of strings");
    o.has_separators = true;
    o.item_separator = (*seps->array)[0].string;
    o.key_separator = (*seps->array)[1].string;
  }
  return Value::from_string(to_json(operand, o));
}

Value round_value(const Value& operand, const CallArgs& args) {
  if (!operand.is_number() && operand.kind != Value::Kind::Bool) wrong_type("round", operand);
  double x = operand.kind == Value::Kind::Int ? static_cast<double>(operand.integer)
             : operand.kind == Value::Kind::Float ? operand.number
                                                  : (operand.boolean ? 1.0 : 0.0);
  const Value* precision = args.get(0, "precision");
  int64_t digits = precision && precision->kind == Value::Kind::Int ? std::clamp<int64_t>(precision->integer, -20, 20) : 0;
  const Value* method = args.get(1, "method");
  std::string how = method && method->is_string() ? method->string : "common";
  double scale = std::pow(10.0, static_cast<double>(digits));
  double y = x * scale;
  if (how == "common") y = std::round(y);
  else if (how == "ceil") y = std::ceil(y);
  else if (how == "floor") y = std::floor(y);
  else fail("filter 'round': method must be 'common', 'ceil' or 'floor'");
  return Value::from_float(y / scale);
}

}  // namespace

bool has_filter(const std::string& name) {
  static const std::set<std::string> kFilters = {
      "safe",  "tojson", "default", "d",      "string",  "escape",   "e",      "forceescape", "int",
      "float", "bool",   "length",  "count",  "upper",   "lower",    "title",  "capitalize",  "trim",
      "indent", "replace", "abs",   "round",  "items",   "dictsort", "list",   "first",       "last",
      "reverse", "join",  "unique", "sort",   "sum",     "min",      "max",    "select",      "reject",
      "selectattr", "rejectattr", "map", "batch", "wordcount"};
  return kFilters.count(name) > 0;
}

Value apply_filter(Interpreter& in, const std::string& name, const Value& operand, CallArgs& args, Scope& scope) {
  using K = Value::Kind;
  if (name == "safe") return operand;
  if (name == "tojson") return tojson(operand, args);
  if (name == "default" || name == "d") {
    const Value* fallback = args.get(0, "default_value");
    bool boolean = bool_arg(args, 1, "boolean", false, name);
    if (operand.is_undefined() || (boolean && !truthy(operand))) return fallback ? *fallback : Value::from_string("");
    return operand;
  }
  if (name == "string") return operand.is_string() ? operand : Value::from_string(to_output(operand));
  if (name == "escape" || name == "e" || name == "forceescape")
    return Value::from_string(html_escape(operand.is_string() ? operand.string : to_output(operand)));
  if (name == "int") {
    const Value* fallback = args.get(0, "default");
    return to_int(operand, fallback ? *fallback : Value::from_int(0));
  }
  if (name == "float") {
    const Value* fallback = args.get(0, "default");
    return to_float(operand, fallback ? *fallback : Value::from_float(0));
  }
  if (name == "bool") return Value::from_bool(truthy(operand));
  if (name == "length" || name == "count") {
    switch (operand.kind) {
      case K::String: return Value::from_int(static_cast<int64_t>(text::code_point_count(operand.string)));
      case K::Array: return Value::from_int(static_cast<int64_t>(operand.array->size()));
      case K::Object:
      case K::Namespace: return Value::from_int(static_cast<int64_t>(operand.object->entries.size()));
      case K::Undefined: return Value::from_int(0);
      default: wrong_type(name, operand);
    }
  }
  if (name == "upper" || name == "lower" || name == "title" || name == "capitalize" || name == "trim") {
    if (!operand.is_string()) wrong_type(name, operand);
    const std::string& s = operand.string;
    if (name == "upper") return Value::from_string(text::to_upper(s));
    if (name == "lower") return Value::from_string(text::to_lower(s));
    if (name == "title") return Value::from_string(text::title_case(s));
    if (name == "capitalize") return Value::from_string(text::capitalize(text::to_lower(s)));
    const Value* chars = args.get(0, "chars");
    if (chars && chars->is_string()) return Value::from_string(text::strip_chars(s, chars->string, true, true));
    return Value::from_string(text::trim(s));
  }
  if (name == "indent") {
    if (!operand.is_string()) wrong_type(name, operand);
    Value out = indent(operand.string, args);
    in.check_string(out.string.size());
    return out;
  }
  if (name == "replace") {
    if (!operand.is_string()) wrong_type(name, operand);
    CallArgs method_args = args;
    return in.call(get_attribute(in, operand, "replace"), method_args, scope);
  }
  if (name == "abs") {
    if (operand.kind == K::Int) {
      if (operand.integer == INT64_MIN) fail("integer overflow in abs");
      return Value::from_int(std::llabs(operand.integer));
    }
    if (operand.kind == K::Float) return Value::from_float(std::fabs(operand.number));
    wrong_type(name, operand);
  }
  if (name == "round") return round_value(operand, args);
  if (name == "items") {
    if (operand.is_undefined()) return Value::from_array({});
    if (!operand.is_mapping()) wrong_type(name, operand);
    ArrayData items;
    for (const auto& [key, value] : operand.object->entries) items.push_back(Value::from_array({Value::from_string(key), value}));
    return Value::from_array(std::move(items));
  }
  if (name == "dictsort") return dictsort(operand, args);
  if (name == "list") {
    switch (operand.kind) {
      case K::Array: return Value::from_array(*operand.array);
      case K::String: {
        ArrayData chars;
        for (auto& c : text::code_points(operand.string)) chars.push_back(Value::from_string(std::move(c)));
        return Value::from_array(std::move(chars));
      }
      case K::Object: {
        ArrayData keys;
        for (const auto& e : operand.object->entries) keys.push_back(Value::from_string(e.first));
        return Value::from_array(std::move(keys));
      }
      default: wrong_type(name, operand);
    }
  }
  if (name == "first" || name == "last") {
    if (operand.is_array()) {
      if (operand.array->empty()) return Value::undefined();
      return name == "first" ? operand.array->front() : operand.array->back();
    }
    if (operand.is_string()) {
      auto chars = text::code_points(operand.string);
      if (chars.empty()) return Value::undefined();
      return Value::from_string(name == "first" ? chars.front() : chars.back());
    }
    wrong_type(name, operand);
  }
  if (name == "reverse") {
    if (operand.is_array()) return Value::from_array(ArrayData(operand.array->rbegin(), operand.array->rend()));
    if (operand.is_string()) {
      auto chars = text::code_points(operand.string);
      std::string out;
      for (auto it = chars.rbegin(); it != chars.rend(); ++it) out += *it;
      return Value::from_string(std::move(out));
    }
    wrong_type(name, operand);
  }
  if (name == "join") {
    const Value* sep = args.get(0, "d");
    if (sep && !sep->is_string()) fail("filter 'join': the separator must be a string");
    const Value* attribute = args.get(1, "attribute");
    ArrayData items;
    if (operand.is_array()) items = *operand.array;
    else if (operand.is_string())
      for (auto& c : text::code_points(operand.string)) items.push_back(Value::from_string(std::move(c)));
    else wrong_type(name, operand);
    std::string out;
    for (size_t k = 0; k < items.size(); ++k) {
      if (k && sep) out += sep->string;
      const Value& item = attribute && attribute->is_string() ? attribute_path(items[k], attribute->string) : items[k];
      // As Array#join in the reference renderer: none/undefined are empty, lists "1,2".
      if (!item.is_none() && !item.is_undefined()) out += concat_string(item);
      in.check_string(out.size());
    }
    return Value::from_string(std::move(out));
  }
  if (name == "unique") {
    if (!operand.is_array()) wrong_type(name, operand);
    ArrayData out;
    for (const auto& item : *operand.array) {
      bool seen = false;
      for (const auto& kept : out) seen = seen || same_value(kept, item);
      if (!seen) out.push_back(item);
    }
    return Value::from_array(std::move(out));
  }
  if (name == "sort") {
    if (!operand.is_array()) wrong_type(name, operand);
    return sorted(operand, args);
  }
  if (name == "sum" || name == "min" || name == "max") {
    if (!operand.is_array()) wrong_type(name, operand);
    const Value* attribute = args.get(name == "sum" ? 0 : 1, "attribute");
    auto key = [&](const Value& v) {
      return attribute && attribute->is_string() ? attribute_path(v, attribute->string) : v;
    };
    if (name == "sum") {
      const Value* start = args.get(1, "start");
      Value total = start ? *start : Value::from_int(0);
      for (const auto& item : *operand.array) {
        Value x = key(item);
        if (!x.is_number() || !total.is_number()) fail("filter 'sum' needs numbers");
        if (total.kind == K::Int && x.kind == K::Int) {
          int64_t r;
          if (__builtin_add_overflow(total.integer, x.integer, &r)) fail("integer overflow in sum");
          total = Value::from_int(r);
        } else {
          double a = total.kind == K::Int ? static_cast<double>(total.integer) : total.number;
          double b = x.kind == K::Int ? static_cast<double>(x.integer) : x.number;
          total = Value::from_float(a + b);
        }
      }
      return total;
    }
    if (operand.array->empty()) return Value::undefined();
    bool case_sensitive = bool_arg(args, 0, "case_sensitive", false, name);
    Value best = operand.array->front();
    for (const auto& item : *operand.array) {
      int c = compare(key(item), key(best), case_sensitive);
      if (name == "min" ? c < 0 : c > 0) best = item;
    }
    return best;
  }
  if (name == "select" || name == "reject" || name == "selectattr" || name == "rejectattr") {
    if (operand.is_undefined()) return Value::from_array({});
    if (!operand.is_array()) wrong_type(name, operand);
    bool by_attribute = name == "selectattr" || name == "rejectattr";
    bool keep_passing = name == "select" || name == "selectattr";
    std::string attribute;
    if (by_attribute) {
      if (args.positional.empty() || !args.positional[0].is_string())
        fail("filter '" + name + "' needs an attribute name");
      attribute = args.positional[0].string;
    }
    ArrayData out;
    for (const auto& item : *operand.array) {
      Value subject = by_attribute ? attribute_path(item, attribute) : item;
      if (passes(subject, args, by_attribute ? 1 : 0) == keep_passing) out.push_back(item);
    }
    return Value::from_array(std::move(out));
  }
  if (name == "map") {
    if (operand.is_undefined()) return Value::from_array({});
    if (!operand.is_array()) wrong_type(name, operand);
    ArrayData out;
    if (const Value* attribute = args.get(99, "attribute")) {
      if (!attribute->is_string()) fail("filter 'map': attribute must be a string");
      const Value* fallback = args.get(99, "default");
      for (const auto& item : *operand.array) {
        Value v = attribute_path(item, attribute->string);
        out.push_back(v.is_undefined() && fallback ? *fallback : v);
      }
      return Value::from_array(std::move(out));
    }
    if (args.positional.empty() || !args.positional[0].is_string())
      fail("filter 'map' needs attribute='...' or the name of a filter");
    std::string filter = args.positional[0].string;
    if (filter == "map") fail("filter 'map' cannot map itself");
    CallArgs rest;
    rest.positional.assign(args.positional.begin() + 1, args.positional.end());
    rest.keyword = args.keyword;
    for (const auto& item : *operand.array) out.push_back(apply_filter(in, filter, item, rest, scope));
    return Value::from_array(std::move(out));
  }
  if (name == "batch") {
    if (!operand.is_array()) wrong_type(name, operand);
    const Value* size = args.get(0, "linecount");
    if (!size || size->kind != K::Int || size->integer <= 0) fail("filter 'batch' needs a positive size");
    in.check_list(static_cast<size_t>(size->integer));
    const Value* fill = args.get(1, "fill_with");
    ArrayData out, current;
    for (const auto& item : *operand.array) {
      current.push_back(item);
      if (static_cast<int64_t>(current.size()) == size->integer) {
        out.push_back(Value::from_array(std::move(current)));
        current.clear();
      }
    }
    if (!current.empty()) {
      if (fill)
        while (static_cast<int64_t>(current.size()) < size->integer) current.push_back(*fill);
      out.push_back(Value::from_array(std::move(current)));
    }
    return Value::from_array(std::move(out));
  }
  if (name == "wordcount") {
    if (!operand.is_string()) wrong_type(name, operand);
    CallArgs none;
    Value parts = in.call(get_attribute(in, operand, "split"), none, scope);
    return Value::from_int(static_cast<int64_t>(parts.array->size()));
  }
  fail("unknown filter '" + name + "'");
}

}  // namespace lmkit::jinja
