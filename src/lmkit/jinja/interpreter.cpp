#include "lmkit/jinja/interpreter.h"

#include <cmath>
#include <limits>

#include "lmkit/jinja/errors.h"
#include "lmkit/jinja/lexer.h"
#include "lmkit/jinja/text.h"

namespace lmkit::jinja {

Value Scope::lookup(std::string_view name) const {
  for (const Scope* s = this; s; s = s->parent_)
    for (const auto& [key, value] : s->vars_)
      if (key == name) return value;
  return Value::undefined();
}

void Scope::set(const std::string& name, Value value) {
  for (auto& [key, existing] : vars_) {
    if (key == name) {
      existing = std::move(value);
      return;
    }
  }
  vars_.emplace_back(name, std::move(value));
}

Interpreter::~Interpreter() {
  for (auto& weak : namespaces_) {
    if (auto ns = weak.lock()) {
      auto entries = std::move(ns->entries);  // destroyed after ns is emptied, so cycles unwind
      ns->entries.clear();
    }
  }
}

void Interpreter::error_at(uint32_t offset, const std::string& message) const {
  throw lmkit::Error(location_prefix(source_, origin_, offset) + message);
}

void Interpreter::check_string(size_t bytes) const {
  if (bytes > limits_.max_string_bytes)
    fail("string of " + std::to_string(bytes) + " bytes exceeds the limit of " +
         std::to_string(limits_.max_string_bytes) + " bytes");
}

void Interpreter::check_list(size_t items) const {
  if (items > limits_.max_list_items)
    fail("list of " + std::to_string(items) + " items exceeds the limit of " + std::to_string(limits_.max_list_items));
}

void Interpreter::count_iterations(uint64_t n) {
  iterations_ += n;
  if (iterations_ > limits_.max_loop_iterations)
    fail("loops ran more than " + std::to_string(limits_.max_loop_iterations) + " iterations in one render");
}

void Interpreter::append(std::string& out, std::string_view text) const {
  check_string(out.size() + text.size());
  out.append(text);
}

std::string Interpreter::render(const Body& body, Scope& globals) {
  std::string out;
  Flow flow = exec_body(body, globals, out);
  (void)flow;  // break/continue outside a loop end the template, as in @huggingface/jinja
  return out;
}

Interpreter::Flow Interpreter::exec_body(const Body& body, Scope& scope, std::string& out) {
  for (const auto& stmt : body) {
    Flow flow = exec(*stmt, scope, out);
    if (flow != Flow::Normal) return flow;
  }
  return Flow::Normal;
}

Interpreter::Flow Interpreter::exec(const Stmt& stmt, Scope& scope, std::string& out) {
  try {
    switch (stmt.kind) {
      case StmtKind::Text: append(out, stmt.text); return Flow::Normal;
      case StmtKind::Output: append(out, to_output(eval(*stmt.expr, scope))); return Flow::Normal;
      case StmtKind::If:
        return exec_body(truthy(eval(*stmt.expr, scope)) ? stmt.body : stmt.else_body, scope, out);
      case StmtKind::For: exec_for(stmt, scope, out); return Flow::Normal;
      case StmtKind::Set: exec_set(stmt, scope, out); return Flow::Normal;
      case StmtKind::Macro: define_macro(stmt, scope); return Flow::Normal;
      case StmtKind::CallBlock: exec_call_block(stmt, scope, out); return Flow::Normal;
      case StmtKind::FilterBlock: {
        std::string inner;
        Flow flow = exec_body(stmt.body, scope, inner);
        append(out, to_output(eval_filter(*stmt.expr, Value::from_string(std::move(inner)), scope)));
        return flow;
      }
      case StmtKind::Break: return Flow::Break;
      case StmtKind::Continue: return Flow::Continue;
    }
  } catch (const TemplateError& e) {
    error_at(stmt.offset, e.what());
  }
  return Flow::Normal;
}

namespace {

// The items a for loop walks: list items, dict keys, string characters; undefined is empty.
ArrayData iteration_items(const Value& v) {
  switch (v.kind) {
    case Value::Kind::Array: return *v.array;
    case Value::Kind::Object: {
      ArrayData keys;
      for (const auto& e : v.object->entries) keys.push_back(Value::from_string(e.first));
      return keys;
    }
    case Value::Kind::String: {
      ArrayData chars;
      for (auto& c : text::code_points(v.string)) chars.push_back(Value::from_string(std::move(c)));
      return chars;
    }
    case Value::Kind::Undefined: return {};
    default: fail(std::string("cannot loop over a value of type ") + kind_name(v.kind));
  }
}

void bind_target(const Expr& target, const Value& value, Scope& scope) {
  if (target.kind == ExprKind::Name) {
    scope.set(target.text, value);
    return;
  }
  // Tuple of names.
  if (!value.is_array()) fail(std::string("cannot unpack a value of type ") + kind_name(value.kind) + " into " +
                              std::to_string(target.items.size()) + " names");
  if (value.array->size() != target.items.size())
    fail("cannot unpack " + std::to_string(value.array->size()) + " values into " +
         std::to_string(target.items.size()) + " names");
  for (size_t k = 0; k < target.items.size(); ++k) scope.set(target.items[k]->text, (*value.array)[k]);
}

}  // namespace

void Interpreter::exec_for(const Stmt& stmt, Scope& scope, std::string& out) {
  Scope loop_scope(&scope);
  ArrayData items;
  {
    Value iterable = eval(*stmt.expr, loop_scope);
    try {
      items = iteration_items(iterable);
    } catch (const TemplateError& e) {
      error_at(stmt.expr->offset, e.what());
    }
  }
  if (stmt.condition) {
    ArrayData kept;
    for (auto& item : items) {
      count_iterations(1);
      Scope probe(&loop_scope);
      bind_target(*stmt.target, item, probe);
      if (truthy(eval(*stmt.condition, probe))) kept.push_back(std::move(item));
    }
    items = std::move(kept);
  }
  const int64_t n = static_cast<int64_t>(items.size());
  for (int64_t i = 0; i < n; ++i) {
    count_iterations(1);
    Value loop = Value::new_object();
    ObjectData& o = *loop.object;
    o.set("index", Value::from_int(i + 1));
    o.set("index0", Value::from_int(i));
    o.set("revindex", Value::from_int(n - i));
    o.set("revindex0", Value::from_int(n - i - 1));
    o.set("first", Value::from_bool(i == 0));
    o.set("last", Value::from_bool(i == n - 1));
    o.set("length", Value::from_int(n));
    o.set("previtem", i > 0 ? items[static_cast<size_t>(i - 1)] : Value::undefined());
    o.set("nextitem", i < n - 1 ? items[static_cast<size_t>(i + 1)] : Value::undefined());
    o.set("cycle", Value::from_function("loop.cycle", [i](CallArgs& args, Scope&) {
            if (args.positional.empty()) fail("loop.cycle() needs at least one value");
            return args.positional[static_cast<size_t>(i) % args.positional.size()];
          }));
    loop_scope.set("loop", std::move(loop));
    bind_target(*stmt.target, items[static_cast<size_t>(i)], loop_scope);
    Flow flow = exec_body(stmt.body, loop_scope, out);
    if (flow == Flow::Break) break;
  }
  if (n == 0) exec_body(stmt.else_body, loop_scope, out);
}

void Interpreter::exec_set(const Stmt& stmt, Scope& scope, std::string& out) {
  Value value;
  if (stmt.expr) {
    value = eval(*stmt.expr, scope);
  } else {
    std::string inner;
    exec_body(stmt.body, scope, inner);
    value = Value::from_string(std::move(inner));
  }
  const Expr& target = *stmt.target;
  if (target.kind == ExprKind::Attribute) {
    Value object = eval(*target.a, scope);
    if (object.kind != Value::Kind::Namespace)
      fail(std::string("cannot set attribute '") + target.text + "' on a value of type " + kind_name(object.kind) +
           "; only namespace() objects can be assigned to");
    object.object->set(target.text, std::move(value));
    return;
  }
  bind_target(target, value, scope);
}

void Interpreter::define_macro(const Stmt& stmt, Scope& scope) {
  const Stmt* def = &stmt;
  scope.set(stmt.text, Value::from_function(stmt.text, [this, def](CallArgs& args, Scope& caller_scope) {
              return invoke_macro(def->text, def->params, def->body, args, caller_scope);
            }));
}

Value Interpreter::invoke_macro(const std::string& name, const std::vector<Param>& params, const Body& body,
                                CallArgs& args, Scope& caller_scope) {
  if (++call_depth_ > limits_.max_call_depth) {
    --call_depth_;
    fail("macro calls nested deeper than " + std::to_string(limits_.max_call_depth) + " levels (runaway recursion?)");
  }
  struct DepthRestore {
    int& depth;
    ~DepthRestore() { --depth; }
  } restore{call_depth_};

  // Macros see the variables of the place they are called from, as in @huggingface/jinja.
  Scope scope(&caller_scope);
  std::vector<std::pair<std::string, Value>> extra_keywords;
  std::vector<bool> given(params.size(), false);
  for (size_t k = 0; k < params.size(); ++k) {
    if (k < args.positional.size()) {
      scope.set(params[k].name, args.positional[k]);
      given[k] = true;
    } else {
      scope.set(params[k].name, Value::undefined());
    }
  }
  for (auto& [key, value] : args.keyword) {
    bool matched = false;
    for (size_t k = 0; k < params.size(); ++k) {
      if (params[k].name != key) continue;
      if (given[k]) fail("macro '" + name + "' got two values for argument '" + key + "'");
      scope.set(key, value);
      given[k] = matched = true;
    }
    if (!matched) extra_keywords.emplace_back(key, value);
  }
  for (size_t k = 0; k < params.size(); ++k)
    if (!given[k] && params[k].default_value) scope.set(params[k].name, eval(*params[k].default_value, scope));
  ArrayData varargs;
  for (size_t k = params.size(); k < args.positional.size(); ++k) varargs.push_back(args.positional[k]);
  scope.set("varargs", Value::from_array(std::move(varargs)));
  Value kwargs = Value::new_object();
  for (auto& [key, value] : extra_keywords) kwargs.object->set(key, std::move(value));
  scope.set("kwargs", std::move(kwargs));

  std::string out;
  exec_body(body, scope, out);
  return Value::from_string(std::move(out));
}

void Interpreter::exec_call_block(const Stmt& stmt, Scope& scope, std::string& out) {
  const Stmt* block = &stmt;
  // caller() renders the block body with its own parameters. It resolves names through the
  // scope it is called from (the macro's, whose parents include the block's own), and never
  // holds on to a scope, since a template can store caller in a namespace and call it later.
  Value caller = Value::from_function("caller", [this, block](CallArgs& args, Scope& at) {
    return invoke_macro("caller", block->params, block->body, args, at);
  });
  const Expr& call = *stmt.expr;
  Value callee = eval(*call.a, scope);
  if (callee.kind != Value::Kind::Function) fail("'" + call.a->text + "' is not a macro");
  CallArgs args = eval_args(call.args, scope);
  Scope call_scope(&scope);
  call_scope.set("caller", caller);
  append(out, to_output(this->call(callee, args, call_scope)));
}

Value Interpreter::call(const Value& callee, CallArgs& args, Scope& scope) {
  if (callee.kind != Value::Kind::Function) fail(std::string("cannot call a value of type ") + kind_name(callee.kind));
  return callee.function->call(args, scope);
}

CallArgs Interpreter::eval_args(const std::vector<Arg>& args, Scope& scope) {
  CallArgs out;
  for (const auto& arg : args) {
    Value v = eval(*arg.value, scope);
    if (arg.spread) {
      if (!v.is_array()) fail(std::string("cannot unpack a value of type ") + kind_name(v.kind) + " with *");
      for (const auto& item : *v.array) out.positional.push_back(item);
    } else if (arg.keyword_spread) {
      if (v.kind != Value::Kind::Object) fail(std::string("argument after ** must be a dict, not ") + kind_name(v.kind));
      for (const auto& [key, value] : v.object->entries) out.keyword.emplace_back(key, value);
    } else if (!arg.keyword.empty()) {
      for (const auto& [key, value] : out.keyword)
        if (key == arg.keyword) fail("keyword argument '" + key + "' given twice");
      out.keyword.emplace_back(arg.keyword, std::move(v));
    } else {
      out.positional.push_back(std::move(v));
    }
  }
  return out;
}

Value Interpreter::eval(const Expr& expr, Scope& scope) {
  try {
    return eval_inner(expr, scope);
  } catch (const TemplateError& e) {
    error_at(expr.offset, e.what());
  }
}

Value Interpreter::eval_inner(const Expr& expr, Scope& scope) {
  switch (expr.kind) {
    case ExprKind::Literal: return expr.literal;
    case ExprKind::Name: return scope.lookup(expr.text);
    case ExprKind::List:
    case ExprKind::Tuple: {
      ArrayData items;
      for (const auto& item : expr.items) items.push_back(eval(*item, scope));
      return Value::from_array(std::move(items));
    }
    case ExprKind::Dict: {
      Value obj = Value::new_object();
      for (size_t k = 0; k + 1 < expr.items.size(); k += 2) {
        Value key = eval(*expr.items[k], scope);
        if (!key.is_string()) fail(std::string("dict keys must be strings, got ") + kind_name(key.kind));
        obj.object->set(key.string, eval(*expr.items[k + 1], scope));
      }
      return obj;
    }
    case ExprKind::Attribute: return get_attribute(*this, eval(*expr.a, scope), expr.text);
    case ExprKind::Index: {
      Value object = eval(*expr.a, scope);
      Value index = eval(*expr.b, scope);
      if (index.is_string() && !object.is_mapping()) return get_attribute(*this, object, index.string);
      return get_item(object, index);
    }
    case ExprKind::Slice: {
      Value object = eval(*expr.a, scope);
      Value bounds[3];
      for (int k = 0; k < 3; ++k)
        if (expr.items[static_cast<size_t>(k)]) bounds[k] = eval(*expr.items[static_cast<size_t>(k)], scope);
      return slice_value(object, bounds[0], bounds[1], bounds[2]);
    }
    case ExprKind::Call: {
      Value callee;
      if (expr.a->kind == ExprKind::Attribute) {
        Value object = eval(*expr.a->a, scope);
        callee = get_attribute(*this, object, expr.a->text);
        if (callee.kind != Value::Kind::Function)
          fail("no method '" + expr.a->text + "' on a value of type " + kind_name(object.kind));
      } else {
        callee = eval(*expr.a, scope);
      }
      if (callee.kind != Value::Kind::Function) {
        if (expr.a->kind == ExprKind::Name)
          fail(callee.is_undefined() ? "unknown function '" + expr.a->text + "'"
                                     : "'" + expr.a->text + "' is of type " + kind_name(callee.kind) + ", not a function");
        fail(std::string("cannot call a value of type ") + kind_name(callee.kind));
      }
      CallArgs args = eval_args(expr.args, scope);
      return call(callee, args, scope);
    }
    case ExprKind::Unary: {
      Value v = eval(*expr.a, scope);
      if (expr.text == "not") return Value::from_bool(!truthy(v));
      bool negate = expr.text == "-";
      if (v.kind == Value::Kind::Float) return Value::from_float(negate ? -v.number : v.number);
      if (v.kind == Value::Kind::Int || v.kind == Value::Kind::Bool) {
        int64_t i = v.kind == Value::Kind::Bool ? (v.boolean ? 1 : 0) : v.integer;
        if (negate && i == std::numeric_limits<int64_t>::min()) fail("integer overflow");
        return Value::from_int(negate ? -i : i);
      }
      fail("unary '" + expr.text + "' needs a number, got " + kind_name(v.kind));
    }
    case ExprKind::Binary: return eval_binary(expr, scope);
    case ExprKind::Filter: return eval_filter(expr, eval(*expr.a, scope), scope);
    case ExprKind::Test: return eval_test(expr, scope);
    case ExprKind::Conditional:
      if (truthy(eval(*expr.a, scope))) return eval(*expr.b, scope);
      return expr.c ? eval(*expr.c, scope) : Value::undefined();
  }
  fail("unknown expression");
}

Value Interpreter::eval_filter(const Expr& expr, Value operand, Scope& scope) {
  CallArgs args = eval_args(expr.args, scope);
  return apply_filter(*this, expr.text, operand, args, scope);
}

Value Interpreter::eval_test(const Expr& expr, Scope& scope) {
  Value operand = eval(*expr.a, scope);
  if (!has_test(expr.text)) fail("unknown test '" + expr.text + "'");
  CallArgs args = eval_args(expr.args, scope);
  bool result = apply_test(expr.text, operand, args);
  return Value::from_bool(expr.negated ? !result : result);
}

namespace {

bool is_numeric(const Value& v) {
  return v.kind == Value::Kind::Int || v.kind == Value::Kind::Float || v.kind == Value::Kind::Bool;
}
double as_double(const Value& v) {
  return v.kind == Value::Kind::Int ? static_cast<double>(v.integer) : v.kind == Value::Kind::Float ? v.number
                                                                                                   : (v.boolean ? 1 : 0);
}
int64_t as_int(const Value& v) { return v.kind == Value::Kind::Int ? v.integer : (v.boolean ? 1 : 0); }

Value arithmetic(const std::string& op, const Value& l, const Value& r) {
  bool floating = l.kind == Value::Kind::Float || r.kind == Value::Kind::Float;
  if (op == "/") {
    if (as_double(r) == 0) fail("division by zero");
    return Value::from_float(as_double(l) / as_double(r));
  }
  if (op == "**") {
    double result = std::pow(as_double(l), as_double(r));
    if (!std::isfinite(result)) fail("'**' result is not a finite number");
    if (!floating && as_int(r) >= 0 && std::fabs(result) < 9.2e18) return Value::from_int(static_cast<int64_t>(result));
    return Value::from_float(result);
  }
  if (floating) {
    double a = as_double(l), b = as_double(r);
    if (op == "+") return Value::from_float(a + b);
    if (op == "-") return Value::from_float(a - b);
    if (op == "*") return Value::from_float(a * b);
    if (b == 0) fail(op == "//" ? "integer division by zero" : "modulo by zero");
    if (op == "//") return Value::from_float(std::floor(a / b));
    double m = std::fmod(a, b);
    if (m != 0 && ((m < 0) != (b < 0))) m += b;  // Python's sign convention
    return Value::from_float(m);
  }
  int64_t a = as_int(l), b = as_int(r), out = 0;
  if (op == "+") {
    if (__builtin_add_overflow(a, b, &out)) fail("integer overflow in '+'");
    return Value::from_int(out);
  }
  if (op == "-") {
    if (__builtin_sub_overflow(a, b, &out)) fail("integer overflow in '-'");
    return Value::from_int(out);
  }
  if (op == "*") {
    if (__builtin_mul_overflow(a, b, &out)) fail("integer overflow in '*'");
    return Value::from_int(out);
  }
  if (b == 0) fail(op == "//" ? "integer division by zero" : "modulo by zero");
  if (a == std::numeric_limits<int64_t>::min() && b == -1) fail("integer overflow");
  int64_t q = a / b, m = a % b;
  if (m != 0 && ((m < 0) != (b < 0))) {
    --q;
    m += b;
  }
  return Value::from_int(op == "//" ? q : m);
}

}  // namespace

Value Interpreter::eval_binary(const Expr& expr, Scope& scope) {
  const std::string& op = expr.text;
  Value left = eval(*expr.a, scope);
  if (op == "and") return truthy(left) ? eval(*expr.b, scope) : left;
  if (op == "or") return truthy(left) ? left : eval(*expr.b, scope);
  Value right = eval(*expr.b, scope);
  if (op == "==") return Value::from_bool(equals(left, right));
  if (op == "!=") return Value::from_bool(!equals(left, right));
  if (op == "in" || op == "not in") {
    bool found = false;
    switch (right.kind) {
      case Value::Kind::Undefined: found = false; break;
      case Value::Kind::Array:
        for (const auto& item : *right.array)
          if (same_value(left, item)) {
            found = true;
            break;
          }
        break;
      case Value::Kind::String:
        if (!left.is_string()) fail(std::string("'in <string>' needs a string on the left, got ") + kind_name(left.kind));
        found = right.string.find(left.string) != std::string::npos;
        break;
      case Value::Kind::Object:
      case Value::Kind::Namespace:
        found = left.is_string() && right.object->find(left.string) != nullptr;
        break;
      default: fail(std::string("'in' needs a list, string or dict on the right, got ") + kind_name(right.kind));
    }
    return Value::from_bool(op == "in" ? found : !found);
  }
  if (op == "~") {
    // Undefined and none join as "" (Python's Jinja2 does so for undefined; the oracle fails).
    std::string s = left.is_undefined() || left.is_none() ? "" : concat_string(left);
    std::string r = right.is_undefined() || right.is_none() ? "" : concat_string(right);
    check_string(s.size() + r.size());
    return Value::from_string(s + r);
  }
  if (op == "<" || op == ">" || op == "<=" || op == ">=") {
    int c = compare(left, right);
    bool result = op == "<" ? c < 0 : op == ">" ? c > 0 : op == "<=" ? c <= 0 : c >= 0;
    return Value::from_bool(result);
  }
  bool nothing = left.is_none() || left.is_undefined() || right.is_none() || right.is_undefined();
  if (is_numeric(left) && is_numeric(right)) return arithmetic(op, left, right);
  if (op == "+" && left.is_array() && right.is_array()) {
    check_list(left.array->size() + right.array->size());
    ArrayData items = *left.array;
    items.insert(items.end(), right.array->begin(), right.array->end());
    return Value::from_array(std::move(items));
  }
  if (op == "+" && !nothing && (left.is_string() || right.is_string())) {
    std::string s = concat_string(left);
    std::string r = concat_string(right);
    check_string(s.size() + r.size());
    return Value::from_string(s + r);
  }
  if (op == "*" && (left.is_string() || left.is_array()) && right.kind == Value::Kind::Int) {
    int64_t times = std::max<int64_t>(0, right.integer);
    if (left.is_string() ? left.string.empty() : left.array->empty()) times = 0;  // nothing to repeat
    if (left.is_string()) {
      if (times > 0) check_string(left.string.size() * static_cast<size_t>(std::min<int64_t>(times, INT32_MAX)));
      std::string out;
      for (int64_t k = 0; k < times; ++k) out += left.string;
      return Value::from_string(std::move(out));
    }
    if (times > 0) check_list(left.array->size() * static_cast<size_t>(std::min<int64_t>(times, INT32_MAX)));
    ArrayData out;
    for (int64_t k = 0; k < times; ++k) out.insert(out.end(), left.array->begin(), left.array->end());
    return Value::from_array(std::move(out));
  }
  fail("cannot apply '" + op + "' to " + kind_name(left.kind) + " and " + kind_name(right.kind));
}

}  // namespace lmkit::jinja
