// Error types inside the engine. Helpers throw TemplateError without a position; the
// interpreter catches it at the innermost node being evaluated and rethrows an lmkit::Error
// that names the template, line and column. raise_exception() throws RaisedError, which
// passes through untouched so its message is exactly the template's.
#pragma once
#include <string>

#include "lmkit/base/error.h"

namespace lmkit::jinja {

class TemplateError : public lmkit::Error {
 public:
  using lmkit::Error::Error;
};

class RaisedError : public lmkit::Error {
 public:
  using lmkit::Error::Error;
};

[[noreturn]] void fail(const std::string& message);

}  // namespace lmkit::jinja
