// Text-level stop strings over a stream of decoded pieces. A stop string may span several
// tokens, so text that could still turn out to be the start of a stop string is held back
// until it cannot; streamed output then equals the final (non-streamed) output exactly.
#pragma once
#include <string>
#include <string_view>
#include <vector>

namespace lmkit::engine {

class StopStringMatcher {
 public:
  // Empty strings are ignored.
  explicit StopStringMatcher(std::vector<std::string> stops);

  // Feeds the next decoded piece; returns the text that is now safe to emit. After a stop
  // string is found, stopped() is true, the returned text ends right before the match, and
  // further pushes return nothing.
  std::string push(std::string_view piece);
  // End of generation without a match: returns whatever was held back.
  std::string flush();

  bool stopped() const { return stopped_; }
  const std::string& matched() const { return matched_; }  // the stop string that matched

 private:
  std::vector<std::string> stops_;
  std::string held_;  // not yet emitted; never contains a whole stop string
  bool stopped_ = false;
  std::string matched_;
};

}  // namespace lmkit::engine
