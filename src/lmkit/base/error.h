// lmkit::Error: the one exception type for errors a user can act on (bad file, bad request).
// Programmer errors use assert; kernels never throw.
#pragma once
#include <stdexcept>
#include <string>

namespace lmkit {

class Error : public std::runtime_error {
 public:
  using std::runtime_error::runtime_error;
};

// Throws lmkit::Error(message). Out of line so call sites stay small.
[[noreturn]] void throw_error(const std::string& message);

}  // namespace lmkit
