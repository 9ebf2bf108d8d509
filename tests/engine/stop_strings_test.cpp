#include "lmkit/engine/stop_strings.h"

#include <gtest/gtest.h>

#include <random>

namespace lmkit::engine {
namespace {

TEST(StopStrings, MatchSpanningPiecesIsCutAndHeldTextNeverLeaks) {
  StopStringMatcher m({"END"});
  EXPECT_EQ(m.push("abc E"), "abc ");  // "E" might start "END"
  EXPECT_EQ(m.push("N"), "");
  EXPECT_FALSE(m.stopped());
  EXPECT_EQ(m.push("D and more"), "");
  EXPECT_TRUE(m.stopped());
  EXPECT_EQ(m.matched(), "END");
  EXPECT_EQ(m.push("later"), "");
  EXPECT_EQ(m.flush(), "");
}

TEST(StopStrings, HeldTextIsReleasedWhenItStopsMatching) {
  StopStringMatcher m({"END"});
  EXPECT_EQ(m.push("x EN"), "x ");
  EXPECT_EQ(m.push("x"), "ENx");
  EXPECT_EQ(m.push("E"), "");
  EXPECT_EQ(m.flush(), "E");
  EXPECT_FALSE(m.stopped());
}

TEST(StopStrings, EarliestMatchWins) {
  StopStringMatcher m({"world", "lo w"});
  EXPECT_EQ(m.push("hello world"), "hel");
  EXPECT_EQ(m.matched(), "lo w");
}

TEST(StopStrings, NoStopsPassEverythingThrough) {
  StopStringMatcher m({"", ""});
  EXPECT_EQ(m.push("abc"), "abc");
  EXPECT_EQ(m.flush(), "");
}

// Any split of a text into pieces gives, concatenated, the text up to the first stop string.
TEST(StopStrings, AnySplitGivesTheTextBeforeTheFirstMatch) {
  std::mt19937 gen(1234);
  const std::string alphabet = "ab\n<|>";
  const std::vector<std::string> stops = {"<|a", "b\nb", "|>|"};
  for (int round = 0; round < 2000; ++round) {
    std::string text;
    const int len = static_cast<int>(gen() % 30);
    for (int i = 0; i < len; ++i) text += alphabet[gen() % alphabet.size()];
    size_t first = std::string::npos;
    for (const auto& s : stops) first = std::min(first, text.find(s));
    const std::string expected = text.substr(0, first);

    StopStringMatcher m(stops);
    std::string out;
    size_t pos = 0;
    while (pos < text.size() && !m.stopped()) {
      size_t n = 1 + gen() % 4;
      out += m.push(text.substr(pos, n));
      pos += n;
    }
    out += m.flush();
    ASSERT_EQ(out, expected) << "text: " << text;
    EXPECT_EQ(m.stopped(), first != std::string::npos);
  }
}

}  // namespace
}  // namespace lmkit::engine
