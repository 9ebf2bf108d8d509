// ProgressBar: the rendered line (percentage, bar, amounts, rate, ETA), unit formatting, and
// the non-terminal behaviour (silent until one final line).
#include <gtest/gtest.h>

#include <cstdio>
#include <string>

#include "lmkit/base/progress.h"

namespace lmkit {
namespace {

TEST(Progress, FormatsBytesInDecimalUnits) {
  EXPECT_EQ(ProgressBar::format_bytes(0), "0 B");
  EXPECT_EQ(ProgressBar::format_bytes(999), "999 B");
  EXPECT_EQ(ProgressBar::format_bytes(1500), "1.5 kB");
  EXPECT_EQ(ProgressBar::format_bytes(412.3e6), "412.3 MB");
  EXPECT_EQ(ProgressBar::format_bytes(2.5e9), "2.5 GB");
}

TEST(Progress, FormatsDurations) {
  EXPECT_EQ(ProgressBar::format_duration(7), "0:07");
  EXPECT_EQ(ProgressBar::format_duration(754), "12:34");
  EXPECT_EQ(ProgressBar::format_duration(3723), "1:02:03");
  EXPECT_EQ(ProgressBar::format_duration(-1), "--:--");
}

TEST(Progress, RendersHalfWayLine) {
  std::string line = ProgressBar::render("model.safetensors", 500000000, 1000000000, 50e6, 10,
                                         false, true, 120);
  EXPECT_NE(line.find("model.safetensors  50% ["), std::string::npos) << line;
  EXPECT_NE(line.find("500.0 MB / 1.0 GB"), std::string::npos) << line;
  EXPECT_NE(line.find("50.0 MB/s"), std::string::npos) << line;
  EXPECT_NE(line.find("ETA 0:10"), std::string::npos) << line;
  size_t open = line.find('['), close = line.find(']');
  std::string bar = line.substr(open + 1, close - open - 1);
  size_t filled = bar.find('>');
  ASSERT_NE(filled, std::string::npos) << line;
  EXPECT_EQ(filled, bar.size() / 2) << line;
  EXPECT_LE(line.size(), 120u);
}

TEST(Progress, FinishedLineShowsElapsedAndFitsNarrowTerminals) {
  std::string done = ProgressBar::render("x", 100, 100, 10, 10, true, false, 80);
  EXPECT_NE(done.find("100%"), std::string::npos) << done;
  EXPECT_NE(done.find("100 / 100"), std::string::npos) << done;
  EXPECT_NE(done.find("in 0:10"), std::string::npos) << done;
  std::string narrow = ProgressBar::render(std::string(100, 'n') + "-end", 1, 2, -1, 0, false,
                                           true, 60);
  EXPECT_LE(narrow.size(), 60u) << narrow;
  EXPECT_NE(narrow.find("-end"), std::string::npos) << narrow;
  EXPECT_EQ(narrow.find("ETA"), std::string::npos) << narrow;  // unknown rate: no ETA
}

std::string captured(std::FILE* f) {
  std::fflush(f);
  std::rewind(f);
  std::string out;
  char buf[512];
  size_t n;
  while ((n = std::fread(buf, 1, sizeof buf, f)) > 0) out.append(buf, n);
  return out;
}

TEST(Progress, QuietWhenNotATerminalExceptFinalLine) {
  std::FILE* f = std::tmpfile();
  {
    ProgressBar bar("download", 1000);
    bar.force_interactive(false);
    bar.set_stream(f);
    for (int i = 0; i < 10; ++i) bar.add(100);
    EXPECT_EQ(captured(f), "");
  }  // the destructor finishes the bar
  std::string out = captured(f);
  EXPECT_EQ(std::count(out.begin(), out.end(), '\n'), 1) << out;
  EXPECT_EQ(out.find('\r'), std::string::npos) << out;
  EXPECT_NE(out.find("download 100%"), std::string::npos) << out;
  std::fclose(f);
}

TEST(Progress, RedrawsInPlaceOnATerminal) {
  std::FILE* f = std::tmpfile();
  ProgressBar bar("t", 10, true, false);
  bar.force_interactive(true);
  bar.set_stream(f);
  bar.set(3);
  bar.set(10);  // within the redraw interval: drawn only by finish()
  bar.finish();
  bar.finish();  // second call is a no-op
  std::string out = captured(f);
  EXPECT_EQ(out.front(), '\r');
  EXPECT_EQ(std::count(out.begin(), out.end(), '\n'), 1) << out;
  EXPECT_NE(out.find("t  30%"), std::string::npos) << out;
  EXPECT_NE(out.find("t 100%"), std::string::npos) << out;
}

TEST(Progress, DisabledPrintsNothing) {
  std::FILE* f = std::tmpfile();
  {
    ProgressBar bar("off", 10, false);
    bar.set_stream(f);
    bar.set(10);
  }
  EXPECT_EQ(captured(f), "");
  std::fclose(f);
}

}  // namespace
}  // namespace lmkit
