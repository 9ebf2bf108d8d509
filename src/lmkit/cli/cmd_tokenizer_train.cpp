// `lmkit tokenizer train`: a tokenizer trained on JSONL or text corpora with the same
// vocabulary and merges as Hugging Face's trainers: byte-level BPE (default), SentencePiece-
// style BPE with byte fallback, or WordPiece (training/training_recipe.h), saved as
// tokenizer.json, tokenizer_config.json and the model's vocab files.
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
#include "lmkit/tokenizer/train/training_recipe.h"

namespace lmkit::cli {
namespace {

using namespace lmkit::bpe_train;
using Clock = std::chrono::steady_clock;
using lmkit::ProgressBar;

struct TrainOptions {
  std::string model = "bpe";
  std::vector<std::string> corpus;
  std::string field = "text";
  std::string format = "auto";
  size_t vocab_size = 30000;
  std::string special_tokens;
  bool special_tokens_given = false;
  std::string unk;
  size_t limit_alphabet = 0;
  bool no_lowercase = false;
  std::string continuing_order_file;
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
  TrainingRequest request;
  request.layout = *parse_tokenizer_layout(o.model);  // CLI11 checked the name
  if (o.special_tokens_given) request.special_tokens = split_commas(o.special_tokens);
  request.vocab_size = o.vocab_size;
  request.min_frequency = o.min_frequency;
  if (!o.unk.empty()) request.unk_token = o.unk;
  if (!o.bos.empty()) request.bos_token = o.bos;
  if (!o.eos.empty()) request.eos_token = o.eos;
  if (!o.pad.empty()) request.pad_token = o.pad;
  if (!o.chat_template_file.empty())
    request.chat_template = read_text_file(o.chat_template_file, "chat template");
  request.limit_alphabet = o.limit_alphabet;
  request.lowercase = !o.no_lowercase;
  request.seen_bytes_only = o.seen_bytes_only;
  request.threads = o.threads;
  if (!o.continuing_order_file.empty()) {
    std::istringstream lines(read_text_file(o.continuing_order_file, "continuing-subword order"));
    for (std::string line; std::getline(lines, line);)
      if (!line.empty()) request.continuing_order.push_back(line);
  }
  const TrainingRecipe recipe = make_training_recipe(request);

  auto start = Clock::now();
  CorpusStats stats;
  TrainingBars bar(!o.quiet);
  TrainedBpe model;
  try {
    model = train_bpe_on_corpus(corpus, recipe.trainer, recipe.pre_tokenize, stats,
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
  write_tokenizer_files(o.out, model, recipe.files);
  double seconds = std::chrono::duration<double>(Clock::now() - start).count();
  std::printf("trained %zu tokens (%zu special, %zu merges) from %llu sequences, %s words, %s in %.1fs\n",
              model.tokens.size(), model.special_count, model.merges.size(),
              static_cast<unsigned long long>(stats.sequences), human_count(double(stats.words)).c_str(),
              human_bytes(double(stats.bytes_read)).c_str(), seconds);
  std::string names;
  for (const std::string& n : tokenizer_file_names(recipe.files.layout)) names += (names.empty() ? "" : ",") + n;
  std::printf("wrote %s/{%s}\n", o.out.c_str(), names.c_str());
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
  app.add_option("--model", o->model,
                 "bpe: byte-level BPE (GPT-2, Qwen); sentencepiece-bpe: BPE with byte fallback over "
                 "\"▁\"-joined words (Llama 2, Mistral); wordpiece: BERT's WordPiece")
      ->check(CLI::IsMember({"bpe", "sentencepiece-bpe", "wordpiece"}))
      ->capture_default_str();
  CLI::Option* specials = app.add_option(
      "--special-tokens", o->special_tokens,
      "Comma-separated special tokens, given ids 0, 1, ... in this order (default: none for bpe, "
      "\"<unk>,<s>,</s>\" for sentencepiece-bpe, \"[PAD],[UNK],[CLS],[SEP],[MASK]\" for wordpiece)");
  app.add_option("--unk-token", o->unk,
                 "Unknown token of sentencepiece-bpe (default <unk>) or wordpiece (default [UNK])");
  app.add_option("--limit-alphabet", o->limit_alphabet,
                 "sentencepiece-bpe and wordpiece: keep only the N most frequent characters (0: all)")
      ->capture_default_str();
  app.add_flag("--no-lowercase", o->no_lowercase, "wordpiece: keep case (BertNormalizer lowercase false)");
  // Hidden: reproduces one Hugging Face WordPiece run exactly (its "##x" ids follow its hash
  // order); the oracle test reads that order from the tokenizer it trained.
  app.add_option("--continuing-subword-order", o->continuing_order_file,
                 "wordpiece: file of \"##x\" forms, one a line, in the id order to give them")
      ->group("");
  app.add_option("--min-frequency", o->min_frequency, "Stop when the best pair occurs fewer times")
      ->capture_default_str();
  app.add_option("--out", o->out, "Output folder")->required();
  app.add_option("--chat-template", o->chat_template_file,
                 "Jinja chat template file to store in tokenizer_config.json");
  app.add_option("--bos-token", o->bos,
                 "bos_token in tokenizer_config.json (default: none; <s> for sentencepiece-bpe, which "
                 "also puts it before every sequence)");
  app.add_option("--eos-token", o->eos,
                 "eos_token (default: the first special token for bpe, </s> for sentencepiece-bpe)");
  app.add_option("--pad-token", o->pad, "pad_token (default: the first special token for bpe, [PAD] for wordpiece)");
  app.add_flag("--seen-bytes-only", o->seen_bytes_only,
               "Alphabet of the bytes in the corpus only (Hugging Face's trainer default) instead "
               "of all 256");
  app.add_option("--threads", o->threads, "Threads for counting words (default: all cores)");
  app.add_flag("--quiet", o->quiet, "No progress bar");
  return [o, specials] {
    o->special_tokens_given = specials->count() > 0;
    return run_train(*o);
  };
}

const TokenizerRegistration registration(
    "train", "Train a BPE (byte-level or SentencePiece-style) or WordPiece tokenizer as Hugging Face's trainers do",
    setup_train);

}  // namespace
}  // namespace lmkit::cli
