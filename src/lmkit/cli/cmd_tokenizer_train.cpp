// `lmkit tokenizer train`: a byte-level BPE trained on JSONL or text corpora, with the same
// vocabulary and merges as Hugging Face's BpeTrainer, saved as tokenizer.json, vocab.json,
// merges.txt and tokenizer_config.json.
#include <chrono>
#include <cstdio>
#include <fstream>
#include <memory>
#include <optional>
#include <sstream>
#include <string>
#include <vector>

#include "lmkit/base/error.h"
#include "lmkit/base/progress.h"
#include "lmkit/cli/tokenizer_commands.h"
#include "lmkit/tokenizer/train/tokenizer_files.h"
#include "lmkit/tokenizer/train/train_from_corpus.h"

namespace lmkit::cli {
namespace {

using namespace lmkit::bpe_train;
using Clock = std::chrono::steady_clock;
using lmkit::ProgressBar;

struct TrainOptions {
  std::vector<std::string> corpus;
  std::string field = "text";
  std::string format = "auto";
  size_t vocab_size = 30000;
  std::string special_tokens;
  uint64_t min_frequency = 0;
  std::string out;
  std::string chat_template_file;
  std::string bos, eos, pad;
  bool seen_bytes_only = false;
  int threads = 0;
  bool quiet = false;
};

std::vector<std::string> split_commas(const std::string& s) {
  std::vector<std::string> out;
  if (s.empty()) return out;
  std::string item;
  std::istringstream in(s);
  while (std::getline(in, item, ',')) out.push_back(item);
  if (s.back() == ',') out.push_back("");  // caught as an empty special token
  return out;
}

std::string read_text_file(const std::string& path, const char* what) {
  std::ifstream in(path, std::ios::binary);
  if (!in) throw_error(std::string("cannot read ") + what + " " + path);
  std::ostringstream ss;
  ss << in.rdbuf();
  return ss.str();
}

std::string human_bytes(double b) {
  char buf[32];
  if (b >= 1e9) std::snprintf(buf, sizeof buf, "%.2f GB", b / 1e9);
  else if (b >= 1e6) std::snprintf(buf, sizeof buf, "%.1f MB", b / 1e6);
  else std::snprintf(buf, sizeof buf, "%.0f kB", b / 1e3);
  return buf;
}

std::string human_count(double n) {
  char buf[32];
  if (n >= 1e6) std::snprintf(buf, sizeof buf, "%.1fM", n / 1e6);
  else if (n >= 1e3) std::snprintf(buf, sizeof buf, "%.1fk", n / 1e3);
  else std::snprintf(buf, sizeof buf, "%.0f", n);
  return buf;
}

// Two bars, one per phase: bytes read (with words counted in the label), then merges.
// lmkit::ProgressBar redraws in place on a terminal and prints only each final line otherwise.
class TrainingBars {
 public:
  explicit TrainingBars(bool enabled) : enabled_(enabled) {}

  void update(const TrainingProgress& p) {
    if (p.phase == TrainingProgress::Phase::CountingWords) {
      if (!counting_)
        counting_ = std::make_unique<ProgressBar>("counting words", p.corpus->total_bytes, enabled_);
      counting_->set_label("counting words (" + human_count(double(p.corpus->words)) + " words)");
      counting_->set(p.corpus->bytes_read);
    } else {
      if (counting_) counting_->finish();
      if (!merging_)
        merging_ = std::make_unique<ProgressBar>("merges", p.merges_target, enabled_, false);
      merging_->set(p.merges_done);
    }
  }

  void finish() {
    if (counting_) counting_->finish();
    if (merging_) merging_->finish();
  }

 private:
  bool enabled_;
  std::unique_ptr<ProgressBar> counting_, merging_;
};

int run_train(const TrainOptions& o) {
  CorpusOptions corpus;
  corpus.files = o.corpus;
  corpus.field = o.field;
  corpus.threads = o.threads;
  corpus.format = o.format == "jsonl"  ? CorpusFormat::Jsonl
                  : o.format == "text" ? CorpusFormat::Text
                                       : CorpusFormat::Auto;
  BpeTrainerOptions trainer;
  trainer.vocab_size = o.vocab_size;
  trainer.min_frequency = o.min_frequency;
  trainer.special_tokens = split_commas(o.special_tokens);
  trainer.full_byte_alphabet = !o.seen_bytes_only;
  trainer.threads = o.threads;
  TokenizerConfigOptions config;
  if (!o.chat_template_file.empty())
    config.chat_template = read_text_file(o.chat_template_file, "chat template");
  if (!o.bos.empty()) config.bos_token = o.bos;
  if (!o.eos.empty()) config.eos_token = o.eos;
  if (!o.pad.empty()) config.pad_token = o.pad;

  auto start = Clock::now();
  CorpusStats stats;
  TrainingBars bar(!o.quiet);
  TrainedBpe model;
  try {
    model = train_bpe_on_corpus(corpus, trainer, stats,
                                [&](const TrainingProgress& p) { bar.update(p); });
  } catch (...) {
    bar.finish();
    throw;
  }
  bar.finish();
  if (stats.skipped_lines) {
    std::fprintf(stderr,
                 "lmkit: warning: skipped %llu line(s) that are not a JSON object with a string "
                 "\"%s\" field:\n",
                 static_cast<unsigned long long>(stats.skipped_lines), o.field.c_str());
    for (const auto& e : stats.skipped_examples) std::fprintf(stderr, "  %s\n", e.c_str());
  }
  write_tokenizer_files(o.out, model, config);
  double seconds = std::chrono::duration<double>(Clock::now() - start).count();
  std::printf("trained %zu tokens (%zu special, %zu merges) from %llu sequences, %s words, %s in %.1fs\n",
              model.tokens.size(), model.special_count, model.merges.size(),
              static_cast<unsigned long long>(stats.sequences), human_count(double(stats.words)).c_str(),
              human_bytes(double(stats.bytes_read)).c_str(), seconds);
  std::printf("wrote %s/{tokenizer.json,vocab.json,merges.txt,tokenizer_config.json}\n", o.out.c_str());
  return 0;
}

Runner setup_train(CLI::App& app) {
  auto o = std::make_shared<TrainOptions>();
  app.add_option("--corpus", o->corpus, "Corpus files: JSONL (.jsonl/.json/.ndjson) or text, one sequence per line")
      ->required()
      ->expected(1, -1);
  app.add_option("--field", o->field, "JSONL field holding the text")->capture_default_str();
  app.add_option("--format", o->format, "Corpus format")
      ->check(CLI::IsMember({"auto", "jsonl", "text"}))
      ->capture_default_str();
  app.add_option("--vocab-size", o->vocab_size, "Vocabulary size, special tokens included")
      ->capture_default_str();
  app.add_option("--special-tokens", o->special_tokens,
                 "Comma-separated special tokens, given ids 0, 1, ... in this order");
  app.add_option("--min-frequency", o->min_frequency, "Stop when the best pair occurs fewer times")
      ->capture_default_str();
  app.add_option("--out", o->out, "Output folder")->required();
  app.add_option("--chat-template", o->chat_template_file,
                 "Jinja chat template file to store in tokenizer_config.json");
  app.add_option("--bos-token", o->bos, "bos_token in tokenizer_config.json (default: none)");
  app.add_option("--eos-token", o->eos, "eos_token (default: the first special token)");
  app.add_option("--pad-token", o->pad, "pad_token (default: the first special token)");
  app.add_flag("--seen-bytes-only", o->seen_bytes_only,
               "Alphabet of the bytes in the corpus only (Hugging Face's trainer default) instead "
               "of all 256");
  app.add_option("--threads", o->threads, "Threads for counting words (default: all cores)");
  app.add_flag("--quiet", o->quiet, "No progress bar");
  return [o] { return run_train(*o); };
}

const TokenizerRegistration registration(
    "train", "Train a byte-level BPE tokenizer identical to Hugging Face's BpeTrainer", setup_train);

}  // namespace
}  // namespace lmkit::cli
