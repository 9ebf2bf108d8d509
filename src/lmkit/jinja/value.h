// Runtime values of the template engine. Arrays, objects and namespaces are shared by
// reference (as in Python and in @huggingface/jinja), so a namespace changed inside a loop
// is seen outside it. Strings are UTF-8.
#pragma once
#include <cstdint>
#include <functional>
#include <memory>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

#include <nlohmann/json_fwd.hpp>

namespace lmkit::jinja {

struct Value;
struct ObjectData;
struct FunctionData;
class Scope;

using ArrayData = std::vector<Value>;

struct Value {
  enum class Kind : uint8_t { Undefined, None, Bool, Int, Float, String, Array, Object, Namespace, Function };

  Kind kind = Kind::Undefined;
  bool boolean = false;
  int64_t integer = 0;
  double number = 0;
  std::string string;
  std::shared_ptr<ArrayData> array;
  std::shared_ptr<ObjectData> object;  // Object and Namespace
  std::shared_ptr<FunctionData> function;
  // Lists never change after creation, so their nesting depth is fixed here; dicts and
  // namespaces keep theirs in ObjectData. Bounding depth keeps recursive destruction,
  // comparison and serialisation of template-built values off the stack's edge.
  uint16_t list_depth = 0;

  static Value undefined() { return Value(); }
  static Value none();
  static Value from_bool(bool b);
  static Value from_int(int64_t i);
  static Value from_float(double d);
  static Value from_string(std::string s);
  static Value from_array(ArrayData items);
  static Value new_object();
  static Value new_namespace();
  static Value from_function(std::string name,
                             std::function<Value(struct CallArgs&, Scope&)> fn);

  bool is_undefined() const { return kind == Kind::Undefined; }
  bool is_none() const { return kind == Kind::None; }
  bool is_string() const { return kind == Kind::String; }
  bool is_array() const { return kind == Kind::Array; }
  bool is_number() const { return kind == Kind::Int || kind == Kind::Float; }
  // Object or namespace: something with named attributes.
  bool is_mapping() const { return kind == Kind::Object || kind == Kind::Namespace; }
  // 0 for scalars, 1 + the deepest element for lists and dicts.
  int depth() const;
};

// Deepest nesting of lists and dicts a value may have.
constexpr int kMaxValueDepth = 128;

struct ObjectData {
  std::vector<std::pair<std::string, Value>> entries;  // insertion order; add through set()
  int depth = 1;                                       // never decreases: an upper bound

  const Value* find(std::string_view key) const;
  Value* find(std::string_view key);
  void set(const std::string& key, Value value);
};

// Arguments of a call: positional values, then keyword arguments in the order written.
struct CallArgs {
  std::vector<Value> positional;
  std::vector<std::pair<std::string, Value>> keyword;

  // The argument at `index` or named `name`, or nullptr.
  const Value* get(size_t index, std::string_view name) const;
};

struct FunctionData {
  std::string name;
  std::function<Value(CallArgs&, Scope&)> call;
};

// Name of the kind as a template author reads it ("string", "list", "none", ...).
const char* kind_name(Value::Kind kind);

// Python truthiness (empty strings, lists and dicts are false; namespaces and functions true).
bool truthy(const Value& v);

// Text a value contributes to the output, as @huggingface/jinja renders it: none and
// undefined give "", booleans "true"/"false", floats keep a ".0", lists and dicts are
// written as JSON with ", " and ": " separators.
std::string to_output(const Value& v);

struct JsonOptions {
  int indent = -1;  // < 0: single line
  bool ensure_ascii = false;
  bool sort_keys = false;
  bool has_separators = false;
  std::string item_separator, key_separator;
};
// The `tojson` filter. Undefined values become null when `undefined_as_null`, else "undefined".
std::string to_json(const Value& v, const JsonOptions& options, bool undefined_as_null = true);

// A value as string concatenation (`+` with a string, `~`) converts it in @huggingface/jinja:
// JavaScript's String() of the underlying value, so 2.0 gives "2", [1, "a"] gives "1,a" and
// a dict "[object Map]". Python's Jinja2 raises for most of these; the oracle is followed.
std::string concat_string(const Value& v);

// Number formatting of JavaScript's Number#toString (shortest round-trip digits).
std::string format_number(double d);

// Equality as `==` evaluates it: deep for lists and dicts, numbers and booleans compared by
// value, none equal to undefined.
bool equals(const Value& a, const Value& b);
// Strict membership equality used by `in` and `unique` (no bool/number mixing).
bool same_value(const Value& a, const Value& b);
// Ordering for sort/dictsort and < > <= >=; throws lmkit::Error on incomparable kinds.
int compare(const Value& a, const Value& b, bool case_sensitive = true);

// Context variables: JSON numbers that are whole become integers, as in JavaScript.
// nlohmann::json sorts object keys; ordered_json keeps them as written, which is what
// `tojson` of tool definitions must reproduce.
Value from_json(const nlohmann::json& j);
Value from_json(const nlohmann::ordered_json& j);

}  // namespace lmkit::jinja
