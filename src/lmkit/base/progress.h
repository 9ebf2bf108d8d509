// A terminal progress bar for long transfers and jobs (downloads, quantization, training):
//   model.safetensors  42% [========>           ] 412.3 MB / 988.1 MB  38.2 MB/s  ETA 0:15
// On a terminal it redraws one line in place (at most ~10 times a second). When stderr is not
// a terminal (logs, CI, pipes) it stays quiet and prints only the final line, so logs do not
// fill with carriage returns. Thread-safe: workers may call add() concurrently.
#pragma once
#include <chrono>
#include <cstdint>
#include <cstdio>
#include <mutex>
#include <string>

namespace lmkit {

class ProgressBar {
 public:
  // total 0 means unknown (no percentage or ETA). enabled = false prints nothing at all.
  ProgressBar(std::string label, uint64_t total, bool enabled = true, bool count_bytes = true);
  ~ProgressBar();  // finishes the bar if finish() was not called
  ProgressBar(const ProgressBar&) = delete;
  ProgressBar& operator=(const ProgressBar&) = delete;

  void set_label(std::string label);
  void set_total(uint64_t total);
  void set(uint64_t done);   // absolute position
  void add(uint64_t delta);  // relative advance
  // Moves to `done`, counting the advance as work done before this run (e.g. the part of a
  // resumed download already on disk): it shows in the position but not in the rate and ETA.
  void set_already_done(uint64_t done);
  // Draws the final state and ends the line. Further calls are no-ops.
  void finish();

  // Overrides the TTY detection (tests, or callers that know better).
  void force_interactive(bool interactive) { interactive_ = interactive; }
  // Redirects output (defaults to stderr).
  void set_stream(std::FILE* stream) { stream_ = stream; }

  // The text of one bar line, without the leading carriage return. `rate` in units per
  // second (negative: unknown); `width` is the terminal width to fit.
  static std::string render(const std::string& label, uint64_t done, uint64_t total, double rate,
                            double elapsed_seconds, bool finished, bool count_bytes, int width);
  // "0 B", "999 B", "1.5 kB", "412.3 MB" (decimal units, like tqdm and the hub).
  static std::string format_bytes(double bytes);
  // "0:07", "12:34", "1:02:03".
  static std::string format_duration(double seconds);

 private:
  void draw_locked(bool final_line);

  std::mutex mutex_;
  std::string label_;
  uint64_t total_;
  uint64_t done_ = 0;
  uint64_t start_done_ = 0;
  bool enabled_;
  bool count_bytes_;
  bool interactive_;
  bool finished_ = false;
  std::FILE* stream_ = stderr;
  std::chrono::steady_clock::time_point start_;
  std::chrono::steady_clock::time_point last_draw_;
};

}  // namespace lmkit
