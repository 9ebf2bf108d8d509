#include "lmkit/base/error.h"

namespace lmkit {

void throw_error(const std::string& message) { throw Error(message); }

}  // namespace lmkit
