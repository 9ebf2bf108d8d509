#include "lmkit/tokenizer/train/corpus_word_count.h"

#include <fcntl.h>
#include <sys/stat.h>
#include <unistd.h>

#include <algorithm>
#include <atomic>
#include <cerrno>
#include <condition_variable>
#include <cstring>
#include <deque>
#include <exception>
#include <mutex>
#include <nlohmann/json.hpp>
#include <thread>
#include <tuple>

#include "lmkit/base/error.h"
#include "lmkit/base/thread_pool.h"
#include "lmkit/tokenizer/train/utf8_check.h"

namespace lmkit::bpe_train {
namespace {

constexpr size_t kSkippedExamples = 5;

// Whole lines of one file; the worker needs the line number only to report a bad line.
struct Block {
  std::string data;
  size_t file = 0;
  uint64_t first_line = 1;
};

// Bounded so the reader never runs more than a few blocks ahead of the counters.
class BlockQueue {
 public:
  explicit BlockQueue(size_t capacity) : capacity_(capacity) {}

  void push(Block&& b) {
    std::unique_lock lock(mutex_);
    not_full_.wait(lock, [&] { return queue_.size() < capacity_ || aborted_; });
    if (aborted_) return;
    queue_.push_back(std::move(b));
    not_empty_.notify_one();
  }
  bool pop(Block& b) {
    std::unique_lock lock(mutex_);
    not_empty_.wait(lock, [&] { return !queue_.empty() || closed_ || aborted_; });
    if (queue_.empty() || aborted_) return false;
    b = std::move(queue_.front());
    queue_.pop_front();
    not_full_.notify_one();
    return true;
  }
  void close() {
    std::lock_guard lock(mutex_);
    closed_ = true;
    not_empty_.notify_all();
  }
  // A worker failed: stop everyone.
  void abort() {
    std::lock_guard lock(mutex_);
    aborted_ = true;
    not_empty_.notify_all();
    not_full_.notify_all();
  }
  bool aborted() {
    std::lock_guard lock(mutex_);
    return aborted_;
  }

 private:
  std::mutex mutex_;
  std::condition_variable not_empty_, not_full_;
  std::deque<Block> queue_;
  size_t capacity_;
  bool closed_ = false, aborted_ = false;
};

bool is_jsonl_path(const std::string& path) {
  for (const char* ext : {".jsonl", ".json", ".ndjson"}) {
    size_t n = std::strlen(ext);
    if (path.size() >= n && path.compare(path.size() - n, n, ext) == 0) return true;
  }
  return false;
}

bool is_blank(std::string_view line) {
  return line.find_first_not_of(" \t\r\n") == std::string_view::npos;
}

struct SkippedLine {
  size_t file;
  uint64_t line;
  std::string why;
};

// Shared between the reader and the workers.
struct SharedState {
  std::atomic<uint64_t> bytes_done{0}, sequences{0}, words{0}, skipped{0};
  std::mutex skipped_mutex;
  std::vector<SkippedLine> skipped_lines;  // the earliest few per worker are enough

  void skip(size_t file, uint64_t line, std::string why) {
    skipped.fetch_add(1, std::memory_order_relaxed);
    std::lock_guard lock(skipped_mutex);
    if (skipped_lines.size() < 64 * kSkippedExamples)
      skipped_lines.push_back({file, line, std::move(why)});
  }
};

class Worker {
 public:
  Worker(const CorpusOptions& options, const std::vector<bool>& jsonl, const PreTokenizeFn& pre,
         SharedState& shared)
      : options_(options), jsonl_(jsonl), pre_(pre), shared_(shared) {}

  void count(const Block& b) {
    uint64_t line_no = b.first_line, sequences = 0, words = 0;
    std::string_view data(b.data);
    const bool jsonl = jsonl_[b.file];
    while (!data.empty()) {
      size_t nl = data.find('\n');
      size_t len = nl == std::string_view::npos ? data.size() : nl + 1;
      std::string_view line = data.substr(0, len);
      data.remove_prefix(len);
      if (jsonl) {
        if (!is_blank(line)) {
          std::string why;
          if (extract_field(line, why)) {
            words += add_words(text_);
            ++sequences;
          } else {
            shared_.skip(b.file, line_no, std::move(why));
          }
        }
      } else if (is_valid_utf8(line)) {
        words += add_words(line);
        ++sequences;
      } else {
        // Hugging Face's file reader stops on such a line; skipping it keeps the rest usable.
        shared_.skip(b.file, line_no, "not valid UTF-8");
      }
      ++line_no;
    }
    shared_.sequences.fetch_add(sequences, std::memory_order_relaxed);
    shared_.words.fetch_add(words, std::memory_order_relaxed);
    shared_.bytes_done.fetch_add(b.data.size(), std::memory_order_relaxed);
  }

  WordCounts& counts() { return counts_; }

 private:
  size_t add_words(std::string_view text) {
    pieces_.clear();
    pre_(text, pieces_);
    for (std::string_view w : pieces_) counts_.add(w);
    return pieces_.size();
  }

  bool extract_field(std::string_view line, std::string& why) {
    nlohmann::json record = nlohmann::json::parse(line, nullptr, /*allow_exceptions=*/false);
    if (record.is_discarded()) {
      why = "not valid JSON";
      return false;
    }
    if (!record.is_object()) {
      why = "not a JSON object";
      return false;
    }
    auto it = record.find(options_.field);
    if (it == record.end()) {
      why = "no field \"" + options_.field + "\"";
      return false;
    }
    if (!it->is_string()) {
      why = "field \"" + options_.field + "\" is not a string";
      return false;
    }
    text_ = std::move(it->get_ref<std::string&>());
    return true;
  }

  const CorpusOptions& options_;
  const std::vector<bool>& jsonl_;
  const PreTokenizeFn& pre_;
  SharedState& shared_;
  WordCounts counts_;
  std::vector<std::string_view> pieces_;
  std::string text_;
};

void read_file_into(BlockQueue& queue, const std::string& path, size_t file_index,
                    size_t block_bytes, SharedState& shared, CorpusStats& stats,
                    const CountProgress& progress) {
  int fd = ::open(path.c_str(), O_RDONLY | O_CLOEXEC);
  if (fd < 0) throw_error("cannot open corpus file " + path + ": " + std::strerror(errno));
  std::string pending;
  uint64_t next_line = 1;
  auto emit = [&](size_t end) {
    Block b;
    b.data.assign(pending, 0, end);
    pending.erase(0, end);
    b.file = file_index;
    b.first_line = next_line;
    next_line += static_cast<uint64_t>(std::count(b.data.begin(), b.data.end(), '\n'));
    queue.push(std::move(b));
    if (progress) {
      stats.bytes_read = shared.bytes_done.load();
      stats.sequences = shared.sequences.load();
      stats.words = shared.words.load();
      stats.skipped_lines = shared.skipped.load();
      progress(stats);
    }
  };
  while (!queue.aborted()) {
    size_t old = pending.size();
    pending.resize(old + block_bytes);
    ssize_t n;
    do {
      n = ::read(fd, pending.data() + old, block_bytes);
    } while (n < 0 && errno == EINTR);
    if (n < 0) {
      int err = errno;
      ::close(fd);
      throw_error("cannot read corpus file " + path + ": " + std::strerror(err));
    }
    pending.resize(old + static_cast<size_t>(n));
    if (n == 0) {
      if (!pending.empty()) emit(pending.size());  // a last line without a newline
      break;
    }
    size_t cut = pending.rfind('\n');
    if (cut != std::string::npos) emit(cut + 1);  // else a line longer than a block: read on
  }
  ::close(fd);
}

}  // namespace

WordCounts count_corpus_words(const CorpusOptions& options, const PreTokenizeFn& pre_tokenize,
                              CorpusStats& stats, const CountProgress& progress) {
  if (options.files.empty()) throw_error("tokenizer training: no corpus files given");
  stats = CorpusStats{};
  std::vector<bool> jsonl;
  for (const std::string& f : options.files) {
    struct stat st;
    if (::stat(f.c_str(), &st) != 0)
      throw_error("cannot open corpus file " + f + ": " + std::strerror(errno));
    if (S_ISDIR(st.st_mode)) throw_error("corpus file " + f + " is a directory");
    stats.total_bytes += static_cast<uint64_t>(st.st_size);
    jsonl.push_back(options.format == CorpusFormat::Jsonl ||
                    (options.format == CorpusFormat::Auto && is_jsonl_path(f)));
  }

  const int n_workers = options.threads > 0 ? options.threads : ThreadPool::default_thread_count();
  const size_t block_bytes = std::max<size_t>(options.block_bytes, 4096);
  SharedState shared;
  BlockQueue queue(static_cast<size_t>(n_workers) * 2);
  std::vector<std::unique_ptr<Worker>> workers;
  for (int i = 0; i < n_workers; ++i)
    workers.push_back(std::make_unique<Worker>(options, jsonl, pre_tokenize, shared));

  std::exception_ptr failure;
  std::mutex failure_mutex;
  std::vector<std::thread> threads;
  for (int i = 0; i < n_workers; ++i) {
    threads.emplace_back([&, i] {
      try {
        Block b;
        while (queue.pop(b)) workers[i]->count(b);
      } catch (...) {
        std::lock_guard lock(failure_mutex);
        if (!failure) failure = std::current_exception();
        queue.abort();
      }
    });
  }
  try {
    for (size_t f = 0; f < options.files.size(); ++f)
      read_file_into(queue, options.files[f], f, block_bytes, shared, stats, progress);
  } catch (...) {
    std::lock_guard lock(failure_mutex);
    if (!failure) failure = std::current_exception();
    queue.abort();
  }
  queue.close();
  for (auto& t : threads) t.join();
  if (failure) std::rethrow_exception(failure);

  // Merge into the largest table so the fewest words move.
  std::sort(workers.begin(), workers.end(), [](const auto& a, const auto& b) {
    return a->counts().distinct() > b->counts().distinct();
  });
  WordCounts counts = std::move(workers[0]->counts());
  for (size_t i = 1; i < workers.size(); ++i) counts.absorb(std::move(workers[i]->counts()));

  stats.bytes_read = shared.bytes_done.load();
  stats.sequences = shared.sequences.load();
  stats.words = shared.words.load();
  stats.skipped_lines = shared.skipped.load();
  auto& lines = shared.skipped_lines;
  std::sort(lines.begin(), lines.end(), [](const SkippedLine& a, const SkippedLine& b) {
    return std::tie(a.file, a.line) < std::tie(b.file, b.line);
  });
  for (size_t i = 0; i < lines.size() && i < kSkippedExamples; ++i)
    stats.skipped_examples.push_back(options.files[lines[i].file] + ":" +
                                     std::to_string(lines[i].line) + ": " + lines[i].why);
  if (progress) progress(stats);
  return counts;
}

}  // namespace lmkit::bpe_train
