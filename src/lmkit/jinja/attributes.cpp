// Attribute access, indexing, slicing, and the methods of strings, dicts and lists
// (Python's semantics: `s.split()`, `d.items()`, `xs[-1]`, `xs[::-1]`).
#include <algorithm>
#include <cctype>
#include <climits>

#include "lmkit/jinja/errors.h"
#include "lmkit/jinja/interpreter.h"
#include "lmkit/jinja/text.h"

namespace lmkit::jinja {
namespace {

using Method = std::function<Value(CallArgs&, Scope&)>;

Value method(const std::string& name, Method fn) { return Value::from_function(name, std::move(fn)); }

const Value* optional_arg(const CallArgs& args, size_t index, std::string_view name) {
  const Value* v = args.get(index, name);
  return v && !v->is_none() && !v->is_undefined() ? v : nullptr;
}

std::string string_arg(const CallArgs& args, size_t index, std::string_view name, const std::string& method) {
  const Value* v = args.get(index, name);
  if (!v) fail(method + "() needs the argument '" + std::string(name) + "'");
  if (!v->is_string()) fail(method + "() argument '" + std::string(name) + "' must be a string, got " + kind_name(v->kind));
  return v->string;
}

int64_t int_arg(const CallArgs& args, size_t index, std::string_view name, int64_t fallback, const std::string& method) {
  const Value* v = optional_arg(args, index, name);
  if (!v) return fallback;
  if (v->kind != Value::Kind::Int) fail(method + "() argument '" + std::string(name) + "' must be an integer");
  return v->integer;
}

// startswith/endswith accept a string or a tuple of strings.
bool affix_match(const std::string& s, const Value& pattern, bool prefix, const std::string& method) {
  auto one = [&](const std::string& p) {
    if (p.size() > s.size()) return false;
    return prefix ? s.compare(0, p.size(), p) == 0 : s.compare(s.size() - p.size(), p.size(), p) == 0;
  };
  if (pattern.is_string()) return one(pattern.string);
  if (pattern.is_array()) {
    for (const auto& item : *pattern.array) {
      if (!item.is_string()) fail(method + "() tuple items must be strings");
      if (one(item.string)) return true;
    }
    return false;
  }
  fail(method + "() argument must be a string or a tuple of strings, got " + kind_name(pattern.kind));
}

ArrayData split(const std::string& s, const Value* sep, int64_t maxsplit) {
  ArrayData out;
  if (!sep) {
    // Runs of whitespace separate; leading and trailing whitespace give no empty parts.
    size_t i = 0;
    while (true) {
      while (size_t n = text::space_length(s, i)) i += n;
      if (i >= s.size()) break;
      if (maxsplit >= 0 && static_cast<int64_t>(out.size()) >= maxsplit) {
        out.push_back(Value::from_string(text::trim_end(s.substr(i))));
        break;
      }
      size_t start = i;
      while (i < s.size() && !text::space_length(s, i)) i += text::sequence_length(static_cast<unsigned char>(s[i]));
      out.push_back(Value::from_string(s.substr(start, i - start)));
    }
    return out;
  }
  if (!sep->is_string()) fail(std::string("split() separator must be a string, got ") + kind_name(sep->kind));
  const std::string& d = sep->string;
  if (d.empty()) fail("split() separator is empty");
  size_t pos = 0;
  while (maxsplit < 0 || static_cast<int64_t>(out.size()) < maxsplit) {
    size_t hit = s.find(d, pos);
    if (hit == std::string::npos) break;
    out.push_back(Value::from_string(s.substr(pos, hit - pos)));
    pos = hit + d.size();
  }
  out.push_back(Value::from_string(s.substr(pos)));
  return out;
}

Value string_method(Interpreter& in, const std::string& s, const std::string& name) {
  if (name == "upper") return method(name, [s](CallArgs&, Scope&) { return Value::from_string(text::to_upper(s)); });
  if (name == "lower") return method(name, [s](CallArgs&, Scope&) { return Value::from_string(text::to_lower(s)); });
  if (name == "title") return method(name, [s](CallArgs&, Scope&) { return Value::from_string(text::title_case(s)); });
  if (name == "capitalize")
    return method(name, [s](CallArgs&, Scope&) { return Value::from_string(text::capitalize(text::to_lower(s))); });
  if (name == "strip" || name == "lstrip" || name == "rstrip") {
    return method(name, [s, name](CallArgs& args, Scope&) {
      bool start = name != "rstrip", end = name != "lstrip";
      const Value* chars = optional_arg(args, 0, "chars");
      if (chars) {
        if (!chars->is_string()) fail(name + "() argument must be a string");
        return Value::from_string(text::strip_chars(s, chars->string, start, end));
      }
      return Value::from_string(start && end ? text::trim(s) : start ? text::trim_start(s) : text::trim_end(s));
    });
  }
  if (name == "startswith" || name == "endswith") {
    return method(name, [s, name](CallArgs& args, Scope&) {
      if (args.positional.empty()) fail(name + "() needs an argument");
      return Value::from_bool(affix_match(s, args.positional[0], name == "startswith", name));
    });
  }
  if (name == "split") {
    return method(name, [s, &in](CallArgs& args, Scope&) {
      ArrayData parts = split(s, optional_arg(args, 0, "sep"), int_arg(args, 1, "maxsplit", -1, "split"));
      in.check_list(parts.size());
      return Value::from_array(std::move(parts));
    });
  }
  if (name == "replace") {
    return method(name, [s, &in](CallArgs& args, Scope&) {
      std::string from = string_arg(args, 0, "old", "replace");
      std::string to = string_arg(args, 1, "new", "replace");
      int64_t count = int_arg(args, 2, "count", -1, "replace");
      if (!to.empty()) {
        size_t hits = from.empty() ? text::code_point_count(s) + 1 : 0;
        for (size_t p = from.empty() ? std::string::npos : s.find(from); p != std::string::npos; p = s.find(from, p + from.size()))
          ++hits;
        in.check_string(s.size() + hits * to.size());
      }
      return Value::from_string(text::replace(s, from, to, count));
    });
  }
  if (name == "find" || name == "rfind" || name == "count") {
    return method(name, [s, name](CallArgs& args, Scope&) {
      std::string sub = string_arg(args, 0, "sub", name);
      if (name == "count") {
        if (sub.empty()) return Value::from_int(static_cast<int64_t>(text::code_point_count(s) + 1));
        int64_t n = 0;
        for (size_t p = s.find(sub); p != std::string::npos; p = s.find(sub, p + sub.size())) ++n;
        return Value::from_int(n);
      }
      size_t p = name == "find" ? s.find(sub) : s.rfind(sub);
      if (p == std::string::npos) return Value::from_int(-1);
      return Value::from_int(static_cast<int64_t>(text::code_point_count(std::string_view(s).substr(0, p))));
    });
  }
  if (name == "join") {
    return method(name, [s, &in](CallArgs& args, Scope&) {
      if (args.positional.empty() || !args.positional[0].is_array()) fail("join() needs a list");
      std::string out;
      bool first = true;
      for (const auto& item : *args.positional[0].array) {
        if (!first) out += s;
        first = false;
        out += to_output(item);
        in.check_string(out.size());
      }
      return Value::from_string(std::move(out));
    });
  }
  if (name == "splitlines") {
    return method(name, [s](CallArgs&, Scope&) {
      ArrayData lines;
      size_t start = 0;
      for (size_t i = 0; i < s.size(); ++i) {
        if (s[i] != '\n' && s[i] != '\r') continue;
        lines.push_back(Value::from_string(s.substr(start, i - start)));
        if (s[i] == '\r' && i + 1 < s.size() && s[i + 1] == '\n') ++i;
        start = i + 1;
      }
      if (start < s.size()) lines.push_back(Value::from_string(s.substr(start)));
      return Value::from_array(std::move(lines));
    });
  }
  if (name == "isdigit" || name == "isalpha" || name == "isspace" || name == "isalnum") {
    return method(name, [s, name](CallArgs&, Scope&) {
      if (s.empty()) return Value::from_bool(false);
      for (unsigned char c : s) {
        bool ok = name == "isdigit"   ? (c >= '0' && c <= '9')
                  : name == "isalpha" ? std::isalpha(c) != 0
                  : name == "isalnum" ? std::isalnum(c) != 0
                                      : std::isspace(c) != 0;
        if (!ok) return Value::from_bool(false);
      }
      return Value::from_bool(true);
    });
  }
  if (name == "length") return Value::from_int(static_cast<int64_t>(text::code_point_count(s)));
  return Value::undefined();
}

Value dict_method(const Value& object, const std::string& name) {
  auto data = object.object;
  if (name == "items") {
    return method(name, [data](CallArgs&, Scope&) {
      ArrayData items;
      for (const auto& [key, value] : data->entries) items.push_back(Value::from_array({Value::from_string(key), value}));
      return Value::from_array(std::move(items));
    });
  }
  if (name == "keys") {
    return method(name, [data](CallArgs&, Scope&) {
      ArrayData keys;
      for (const auto& e : data->entries) keys.push_back(Value::from_string(e.first));
      return Value::from_array(std::move(keys));
    });
  }
  if (name == "values") {
    return method(name, [data](CallArgs&, Scope&) {
      ArrayData values;
      for (const auto& e : data->entries) values.push_back(e.second);
      return Value::from_array(std::move(values));
    });
  }
  if (name == "get") {
    return method(name, [data](CallArgs& args, Scope&) {
      if (args.positional.empty()) fail("get() needs a key");
      const Value& key = args.positional[0];
      if (key.is_string())
        if (const Value* v = data->find(key.string)) return *v;
      const Value* fallback = args.get(1, "default");
      return fallback ? *fallback : Value::none();
    });
  }
  return Value::undefined();
}

Value list_method(Interpreter& in, const Value& list, const std::string& name) {
  auto data = list.array;
  if (name == "index") {
    return method(name, [data](CallArgs& args, Scope&) {
      if (args.positional.empty()) fail("index() needs a value");
      for (size_t k = 0; k < data->size(); ++k)
        if (equals((*data)[k], args.positional[0])) return Value::from_int(static_cast<int64_t>(k));
      fail("index(): value is not in the list");
    });
  }
  if (name == "length") return Value::from_int(static_cast<int64_t>(data->size()));
  return Value::undefined();
}

// Python's slice.indices(): clamps start/stop for a sequence of length n.
void slice_indices(int64_t n, const Value& start, const Value& stop, const Value& step, int64_t& b, int64_t& e,
                   int64_t& st) {
  auto bound = [](const Value& v, const char* what) -> const Value* {
    if (v.is_undefined() || v.is_none()) return nullptr;
    if (v.kind != Value::Kind::Int) fail(std::string("slice ") + what + " must be an integer, got " + kind_name(v.kind));
    return &v;
  };
  const Value* s0 = bound(start, "start");
  const Value* s1 = bound(stop, "stop");
  const Value* s2 = bound(step, "step");
  st = s2 ? s2->integer : 1;
  if (st == 0) fail("slice step cannot be zero");
  st = std::clamp<int64_t>(st, -(n + 1), n + 1);  // a longer step takes one item; avoids overflow
  auto clamp = [&](const Value* v, int64_t dflt) {
    if (!v) return dflt;
    int64_t x = v->integer;
    if (x < 0) x += n;
    if (st > 0) return std::clamp<int64_t>(x, 0, n);
    return std::clamp<int64_t>(x, -1, n - 1);
  };
  b = clamp(s0, st > 0 ? 0 : n - 1);
  e = clamp(s1, st > 0 ? n : -1);
}

}  // namespace

Value get_attribute(Interpreter& in, const Value& object, const std::string& name) {
  switch (object.kind) {
    case Value::Kind::Object:
      if (const Value* v = object.object->find(name)) return *v;
      return dict_method(object, name);
    case Value::Kind::Namespace:
      if (const Value* v = object.object->find(name)) return *v;
      return Value::undefined();
    case Value::Kind::String: return string_method(in, object.string, name);
    case Value::Kind::Array: return list_method(in, object, name);
    default: return Value::undefined();
  }
}

Value get_item(const Value& object, const Value& index) {
  switch (object.kind) {
    case Value::Kind::Array:
    case Value::Kind::String: {
      if (index.kind != Value::Kind::Int && index.kind != Value::Kind::Bool)
        fail(std::string(object.is_array() ? "list" : "string") + " indices must be integers, got " +
             kind_name(index.kind));
      int64_t i = index.kind == Value::Kind::Bool ? (index.boolean ? 1 : 0) : index.integer;
      if (object.is_array()) {
        int64_t n = static_cast<int64_t>(object.array->size());
        if (i < 0) i += n;
        if (i < 0 || i >= n) return Value::undefined();
        return (*object.array)[static_cast<size_t>(i)];
      }
      auto chars = text::code_points(object.string);
      int64_t n = static_cast<int64_t>(chars.size());
      if (i < 0) i += n;
      if (i < 0 || i >= n) return Value::undefined();
      return Value::from_string(chars[static_cast<size_t>(i)]);
    }
    case Value::Kind::Object:
    case Value::Kind::Namespace: {
      if (!index.is_string()) return Value::undefined();  // JSON keys are always strings
      if (const Value* v = object.object->find(index.string)) return *v;
      return Value::undefined();
    }
    default: return Value::undefined();
  }
}

Value slice_value(const Value& object, const Value& start, const Value& stop, const Value& step) {
  if (!object.is_array() && !object.is_string())
    fail(std::string("only lists and strings can be sliced, got ") + kind_name(object.kind));
  std::vector<std::string> chars;
  if (object.is_string()) chars = text::code_points(object.string);
  int64_t n = object.is_array() ? static_cast<int64_t>(object.array->size()) : static_cast<int64_t>(chars.size());
  int64_t b, e, st;
  slice_indices(n, start, stop, step, b, e, st);
  ArrayData items;
  std::string out;
  for (int64_t i = b; st > 0 ? i < e : i > e; i += st) {
    if (object.is_array()) items.push_back((*object.array)[static_cast<size_t>(i)]);
    else out += chars[static_cast<size_t>(i)];
  }
  if (object.is_array()) return Value::from_array(std::move(items));
  return Value::from_string(std::move(out));
}

}  // namespace lmkit::jinja
