// Evaluation of a parsed template. A template is hostile input: recursion depth, loop
// iterations, string and list sizes are bounded (Limits), and exceeding a bound is an
// lmkit::Error naming where it happened.
#pragma once
#include <cstdint>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

#include "lmkit/jinja/ast.h"
#include "lmkit/jinja/value.h"

namespace lmkit::jinja {

struct Limits {
  int max_call_depth = 100;                  // nested macro / caller() calls
  uint64_t max_loop_iterations = 1'000'000;  // over the whole render
  size_t max_string_bytes = 64u << 20;       // any string, the output included
  size_t max_list_items = 1'000'000;         // any list built by the template
};

class Scope {
 public:
  explicit Scope(Scope* parent = nullptr) : parent_(parent) {}
  // Undefined when no scope in the chain has `name`.
  Value lookup(std::string_view name) const;
  // Defines or overwrites `name` in this scope (shadowing outer scopes, as Jinja's set does).
  void set(const std::string& name, Value value);

 private:
  Scope* parent_;
  std::vector<std::pair<std::string, Value>> vars_;
};

class Interpreter {
 public:
  Interpreter(const std::string& source, const std::string& origin, const Limits& limits)
      : source_(source), origin_(origin), limits_(limits) {}
  // Empties every namespace created during the render: namespaces are the only mutable
  // values, hence the only way to build a reference cycle, which would otherwise leak.
  ~Interpreter();
  Interpreter(const Interpreter&) = delete;
  Interpreter& operator=(const Interpreter&) = delete;

  void track_namespace(const Value& ns) { namespaces_.push_back(ns.object); }

  std::string render(const Body& body, Scope& globals);

  Value eval(const Expr& expr, Scope& scope);
  Value call(const Value& callee, CallArgs& args, Scope& scope);

  // Budget checks, used by filters and methods that build values.
  void check_string(size_t bytes) const;
  void check_list(size_t items) const;
  void count_iterations(uint64_t n);
  const Limits& limits() const { return limits_; }

 private:
  enum class Flow { Normal, Break, Continue };

  Flow exec_body(const Body& body, Scope& scope, std::string& out);
  Flow exec(const Stmt& stmt, Scope& scope, std::string& out);
  void exec_for(const Stmt& stmt, Scope& scope, std::string& out);
  void exec_set(const Stmt& stmt, Scope& scope, std::string& out);
  void define_macro(const Stmt& stmt, Scope& scope);
  void exec_call_block(const Stmt& stmt, Scope& scope, std::string& out);
  Value eval_inner(const Expr& expr, Scope& scope);
  Value eval_binary(const Expr& expr, Scope& scope);
  Value eval_filter(const Expr& expr, Value operand, Scope& scope);
  Value eval_test(const Expr& expr, Scope& scope);
  CallArgs eval_args(const std::vector<Arg>& args, Scope& scope);
  Value invoke_macro(const std::string& name, const std::vector<Param>& params, const Body& body, CallArgs& args,
                     Scope& caller_scope);
  void append(std::string& out, std::string_view text) const;
  [[noreturn]] void error_at(uint32_t offset, const std::string& message) const;

  const std::string& source_;
  const std::string& origin_;
  Limits limits_;
  int call_depth_ = 0;
  uint64_t iterations_ = 0;
  std::vector<std::weak_ptr<ObjectData>> namespaces_;
};

// Builtins, in their own files.
// Filters: `operand | name` or `operand | name(args)`.
Value apply_filter(Interpreter& in, const std::string& name, const Value& operand, CallArgs& args, Scope& scope);
// Tests: `operand is name(args)`.
bool has_filter(const std::string& name);
bool apply_test(const std::string& name, const Value& operand, const CallArgs& args);
bool has_test(const std::string& name);
// `value.name`: dict entries first, then methods of strings, lists and dicts.
Value get_attribute(Interpreter& in, const Value& object, const std::string& name);
// `value[index]` with Python's negative indexes.
Value get_item(const Value& object, const Value& index);
// Python slicing of lists and strings (code points).
Value slice_value(const Value& object, const Value& start, const Value& stop, const Value& step);
// namespace, range, raise_exception, strftime_now, dict.
void define_globals(Interpreter& in, Scope& scope);

}  // namespace lmkit::jinja
