#include "lmkit/base/progress.h"

#include <sys/ioctl.h>
#include <unistd.h>

#include <algorithm>
#include <cmath>

namespace lmkit {

namespace {

constexpr auto kRedrawInterval = std::chrono::milliseconds(100);

int terminal_width(std::FILE* stream) {
  struct winsize ws{};
  if (::ioctl(fileno(stream), TIOCGWINSZ, &ws) == 0 && ws.ws_col > 20) return ws.ws_col;
  return 80;
}

std::string printf_string(const char* fmt, double a) {
  char buf[64];
  std::snprintf(buf, sizeof buf, fmt, a);
  return buf;
}

}  // namespace

ProgressBar::ProgressBar(std::string label, uint64_t total, bool enabled, bool count_bytes)
    : label_(std::move(label)),
      total_(total),
      enabled_(enabled),
      count_bytes_(count_bytes),
      interactive_(::isatty(STDERR_FILENO) == 1),
      start_(std::chrono::steady_clock::now()),
      last_draw_() {}

ProgressBar::~ProgressBar() { finish(); }

void ProgressBar::set_label(std::string label) {
  std::lock_guard<std::mutex> lock(mutex_);
  label_ = std::move(label);
}

void ProgressBar::set_total(uint64_t total) {
  std::lock_guard<std::mutex> lock(mutex_);
  total_ = total;
}

void ProgressBar::set(uint64_t done) {
  std::lock_guard<std::mutex> lock(mutex_);
  done_ = done;
  draw_locked(false);
}

void ProgressBar::set_already_done(uint64_t done) {
  std::lock_guard<std::mutex> lock(mutex_);
  if (done > done_) start_done_ += done - done_;
  done_ = done;
}

void ProgressBar::add(uint64_t delta) {
  std::lock_guard<std::mutex> lock(mutex_);
  done_ += delta;
  draw_locked(false);
}

void ProgressBar::finish() {
  std::lock_guard<std::mutex> lock(mutex_);
  if (finished_) return;
  finished_ = true;
  draw_locked(true);
}

void ProgressBar::draw_locked(bool final_line) {
  if (!enabled_ || (!interactive_ && !final_line)) return;
  auto now = std::chrono::steady_clock::now();
  if (!final_line && now - last_draw_ < kRedrawInterval) return;
  last_draw_ = now;
  double elapsed = std::chrono::duration<double>(now - start_).count();
  double rate = elapsed > 0.2 ? static_cast<double>(done_ - std::min(done_, start_done_)) / elapsed
                              : -1.0;
  int width = interactive_ ? terminal_width(stream_) : 100;
  std::string line =
      render(label_, done_, total_, rate, elapsed, final_line, count_bytes_, width - 1);
  if (interactive_) {
    // \r returns to column 0 and \x1b[K clears what a longer previous line left behind.
    std::fprintf(stream_, "\r%s\x1b[K%s", line.c_str(), final_line ? "\n" : "");
  } else {
    std::fprintf(stream_, "%s\n", line.c_str());
  }
  std::fflush(stream_);
}

std::string ProgressBar::format_bytes(double bytes) {
  static const char* kUnits[] = {"B", "kB", "MB", "GB", "TB", "PB"};
  int unit = 0;
  while (bytes >= 1000.0 && unit < 5) {
    bytes /= 1000.0;
    ++unit;
  }
  if (unit == 0) return printf_string("%.0f B", bytes);
  return printf_string("%.1f ", bytes) + kUnits[unit];
}

std::string ProgressBar::format_duration(double seconds) {
  if (!(seconds >= 0) || seconds > 99 * 3600.0) return "--:--";
  auto s = static_cast<uint64_t>(std::llround(seconds));
  char buf[32];
  if (s >= 3600)
    std::snprintf(buf, sizeof buf, "%llu:%02llu:%02llu", static_cast<unsigned long long>(s / 3600),
                  static_cast<unsigned long long>(s / 60 % 60),
                  static_cast<unsigned long long>(s % 60));
  else
    std::snprintf(buf, sizeof buf, "%llu:%02llu", static_cast<unsigned long long>(s / 60),
                  static_cast<unsigned long long>(s % 60));
  return buf;
}

std::string ProgressBar::render(const std::string& label, uint64_t done, uint64_t total,
                                double rate, double elapsed_seconds, bool finished,
                                bool count_bytes, int width) {
  auto amount = [&](double v) {
    return count_bytes ? format_bytes(v) : std::to_string(static_cast<uint64_t>(v));
  };
  std::string counts = amount(static_cast<double>(done));
  if (total > 0) counts += " / " + amount(static_cast<double>(total));
  std::string tail = "  " + counts;
  if (rate >= 0) tail += "  " + amount(rate) + (count_bytes ? "/s" : "/s");
  if (finished)
    tail += "  in " + format_duration(elapsed_seconds);
  else if (total > 0 && rate > 0 && done <= total)
    tail += "  ETA " + format_duration(static_cast<double>(total - done) / rate);

  std::string head = label;
  std::string pct;
  if (total > 0) {
    double frac = std::min(1.0, static_cast<double>(done) / static_cast<double>(total));
    pct = printf_string(" %3.0f%%", std::floor(frac * 100.0));
    // The bar gets whatever room the text leaves, within sensible bounds.
    int room = width - static_cast<int>(head.size() + pct.size() + tail.size()) - 3;
    int bar = std::clamp(room, 0, 40);
    if (bar >= 5) {
      int filled = static_cast<int>(frac * bar);
      std::string b(static_cast<size_t>(bar), ' ');
      for (int i = 0; i < filled; ++i) b[static_cast<size_t>(i)] = '=';
      if (filled < bar) b[static_cast<size_t>(filled)] = '>';
      pct += " [" + b + "]";
    }
  }
  std::string line = head + pct + tail;
  // A label too long for the terminal is shortened from the left (the file name's end is the
  // informative part).
  if (width > 0 && static_cast<int>(line.size()) > width && head.size() > 8) {
    size_t cut = std::min(head.size() - 4, line.size() - static_cast<size_t>(width) + 3);
    line = "..." + head.substr(cut) + pct + tail;
  }
  return line;
}

}  // namespace lmkit
