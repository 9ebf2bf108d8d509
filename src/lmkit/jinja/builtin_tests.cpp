// Jinja tests (`x is defined`, `x is divisibleby 3`, ...).
#include <cmath>
#include <set>

#include "lmkit/jinja/errors.h"
#include "lmkit/jinja/interpreter.h"
#include "lmkit/jinja/text.h"

namespace lmkit::jinja {
namespace {

const Value& argument(const CallArgs& args, const std::string& test) {
  if (args.positional.empty()) fail("test '" + test + "' needs an argument");
  return args.positional[0];
}

}  // namespace

bool has_test(const std::string& name) {
  static const std::set<std::string> kTests = {
      "defined", "undefined", "none",    "boolean", "true",     "false",  "string",  "number",
      "integer", "float",     "mapping", "sequence", "iterable", "callable", "odd",   "even",
      "divisibleby", "equalto", "eq",    "==",       "ne",       "!=",     "lt",     "<",
      "le",      "<=",        "gt",      ">",       "ge",       ">=",     "in",     "lower",
      "upper",   "sameas",    "escaped"};
  return kTests.count(name) > 0;
}

bool apply_test(const std::string& name, const Value& v, const CallArgs& args) {
  using K = Value::Kind;
  if (name == "defined") return v.kind != K::Undefined;
  if (name == "undefined") return v.kind == K::Undefined;
  if (name == "none") return v.kind == K::None;
  if (name == "boolean") return v.kind == K::Bool;
  if (name == "true") return v.kind == K::Bool && v.boolean;
  if (name == "false") return v.kind == K::Bool && !v.boolean;
  if (name == "string") return v.kind == K::String;
  if (name == "number") return v.kind == K::Int || v.kind == K::Float;
  if (name == "integer") return v.kind == K::Int;
  if (name == "float") return v.kind == K::Float;
  if (name == "mapping") return v.kind == K::Object;
  // As in @huggingface/jinja: strings and lists are iterable; dicts are sequences.
  if (name == "iterable") return v.kind == K::Array || v.kind == K::String;
  if (name == "sequence") return v.kind == K::Array || v.kind == K::String || v.kind == K::Object;
  if (name == "callable") return v.kind == K::Function;
  if (name == "escaped") return false;
  if (name == "odd" || name == "even") {
    if (v.kind != K::Int) fail("test '" + name + "' needs an integer, got " + kind_name(v.kind));
    bool odd = (v.integer % 2) != 0;
    return name == "odd" ? odd : !odd;
  }
  if (name == "divisibleby") {
    const Value& d = argument(args, name);
    if (v.kind != K::Int || d.kind != K::Int) fail("test 'divisibleby' needs integers");
    if (d.integer == 0) fail("test 'divisibleby' with 0");
    return v.integer % d.integer == 0;
  }
  if (name == "equalto" || name == "eq" || name == "==") return equals(v, argument(args, name));
  if (name == "ne" || name == "!=") return !equals(v, argument(args, name));
  if (name == "lt" || name == "<") return compare(v, argument(args, name)) < 0;
  if (name == "le" || name == "<=") return compare(v, argument(args, name)) <= 0;
  if (name == "gt" || name == ">") return compare(v, argument(args, name)) > 0;
  if (name == "ge" || name == ">=") return compare(v, argument(args, name)) >= 0;
  if (name == "sameas") {
    const Value& other = argument(args, name);
    if (v.kind != other.kind) return false;
    if (v.kind == K::Array) return v.array == other.array;
    if (v.is_mapping()) return v.object == other.object;
    return equals(v, other);
  }
  if (name == "in") {
    const Value& seq = argument(args, name);
    if (seq.is_array()) {
      for (const auto& item : *seq.array)
        if (same_value(v, item)) return true;
      return false;
    }
    if (seq.is_string() && v.is_string()) return seq.string.find(v.string) != std::string::npos;
    if (seq.is_mapping()) return v.is_string() && seq.object->find(v.string);
    fail(std::string("test 'in' needs a list, string or dict, got ") + kind_name(seq.kind));
  }
  if (name == "lower") return v.kind == K::String && text::to_lower(v.string) == v.string;
  if (name == "upper") return v.kind == K::String && text::to_upper(v.string) == v.string;
  fail("unknown test '" + name + "'");
}

}  // namespace lmkit::jinja
