// Global functions every chat template may use.
#include <cmath>
#include <ctime>

#include "lmkit/jinja/errors.h"
#include "lmkit/jinja/interpreter.h"

namespace lmkit::jinja {
namespace {

Value make_namespace(CallArgs& args) {
  Value ns = Value::new_namespace();
  if (args.positional.size() > 1) fail("namespace() takes at most one positional argument");
  if (!args.positional.empty()) {
    const Value& source = args.positional[0];
    if (source.kind == Value::Kind::Object) {
      for (const auto& [key, value] : source.object->entries) ns.object->set(key, value);
    } else if (source.is_array()) {
      for (const auto& pair : *source.array) {
        if (!pair.is_array() || pair.array->size() != 2 || !(*pair.array)[0].is_string())
          fail("namespace() expects a dict or a list of [name, value] pairs");
        ns.object->set((*pair.array)[0].string, (*pair.array)[1]);
      }
    } else {
      fail(std::string("namespace() cannot be built from a value of type ") + kind_name(source.kind));
    }
  }
  for (const auto& [key, value] : args.keyword) ns.object->set(key, value);
  return ns;
}

Value range(Interpreter& in, CallArgs& args) {
  std::vector<int64_t> n;
  for (const auto& v : args.positional) {
    if (v.kind != Value::Kind::Int) fail(std::string("range() arguments must be integers, got ") + kind_name(v.kind));
    n.push_back(v.integer);
  }
  if (n.empty() || n.size() > 3) fail("range() takes 1 to 3 arguments");
  int64_t start = n.size() == 1 ? 0 : n[0];
  int64_t stop = n.size() == 1 ? n[0] : n[1];
  int64_t step = n.size() == 3 ? n[2] : 1;
  if (step == 0) fail("range() step must not be zero");
  // Count first so a huge range is refused before anything is allocated.
  long double count_ld = step > 0 ? (static_cast<long double>(stop) - start) / step
                                  : (static_cast<long double>(start) - stop) / -step;
  uint64_t count = count_ld <= 0 ? 0 : static_cast<uint64_t>(std::ceil(static_cast<double>(count_ld)));
  in.check_list(count);
  ArrayData items;
  items.reserve(count);
  // Every value lies between start and stop, but k * step alone can overflow 64 bits.
  for (uint64_t k = 0; k < count; ++k)
    items.push_back(Value::from_int(static_cast<int64_t>(static_cast<__int128>(start) + static_cast<__int128>(k) * step)));
  return Value::from_array(std::move(items));
}

Value strftime_now(CallArgs& args) {
  if (args.positional.empty() || !args.positional[0].is_string()) fail("strftime_now() needs a format string");
  const std::string& format = args.positional[0].string;
  if (format.size() > 256) fail("strftime_now() format is longer than 256 characters");
  std::time_t now = std::time(nullptr);
  std::tm local{};
  localtime_r(&now, &local);
  char buf[1024];
  size_t n = std::strftime(buf, sizeof buf, format.c_str(), &local);
  if (n == 0 && !format.empty()) fail("strftime_now() result is too long or the format is invalid");
  return Value::from_string(std::string(buf, n));
}

}  // namespace

void define_globals(Interpreter& in, Scope& scope) {
  scope.set("namespace", Value::from_function("namespace", [&in](CallArgs& args, Scope&) {
              Value ns = make_namespace(args);
              in.track_namespace(ns);
              return ns;
            }));
  scope.set("range", Value::from_function("range", [&in](CallArgs& args, Scope&) { return range(in, args); }));
  scope.set("raise_exception", Value::from_function("raise_exception", [](CallArgs& args, Scope&) -> Value {
              std::string message = args.positional.empty() ? "" : to_output(args.positional[0]);
              throw RaisedError(message);
            }));
  scope.set("strftime_now",
            Value::from_function("strftime_now", [](CallArgs& args, Scope&) { return strftime_now(args); }));
  scope.set("dict", Value::from_function("dict", [](CallArgs& args, Scope&) {
              Value obj = Value::new_object();
              if (!args.positional.empty()) {
                if (args.positional[0].kind != Value::Kind::Object) fail("dict() takes keyword arguments or a dict");
                for (const auto& [key, value] : args.positional[0].object->entries) obj.object->set(key, value);
              }
              for (const auto& [key, value] : args.keyword) obj.object->set(key, value);
              return obj;
            }));
}

}  // namespace lmkit::jinja
