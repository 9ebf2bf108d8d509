// Streams training corpora (JSONL records or plain-text lines) through the pre-tokenizer
// and counts words on several threads. Files are read in blocks, never whole, so a corpus
// larger than memory works; memory grows with the number of distinct words only.
#pragma once
#include <cstdint>
#include <functional>
#include <string>
#include <vector>

#include "lmkit/tokenizer/train/pre_tokenizer_fn.h"
#include "lmkit/tokenizer/train/word_counts.h"

namespace lmkit::bpe_train {

enum class CorpusFormat {
  Auto,   // by extension: .jsonl / .json / .ndjson are JSONL, anything else plain text
  Jsonl,  // one JSON object per line; the string `field` of each is one training sequence
  Text,   // each line, with its newline, is one sequence (as Hugging Face's train(files))
};

struct CorpusOptions {
  std::vector<std::string> files;
  std::string field = "text";
  CorpusFormat format = CorpusFormat::Auto;
  int threads = 0;                    // <= 0: one per core
  size_t block_bytes = size_t{4} << 20;  // bytes handed to a worker at a time
};

struct CorpusStats {
  uint64_t total_bytes = 0;  // of all files, for an ETA
  uint64_t bytes_read = 0;
  uint64_t sequences = 0;    // records (JSONL) or lines (text) trained on
  uint64_t words = 0;        // pre-tokenized words counted
  // JSONL lines that are not JSON objects with a string field; text lines not valid UTF-8.
  uint64_t skipped_lines = 0;
  // "FILE:LINE: why" for the first few skipped lines, in file order.
  std::vector<std::string> skipped_examples;
};

using CountProgress = std::function<void(const CorpusStats&)>;

// Throws lmkit::Error for an unreadable file. Bad lines are counted in stats, not fatal;
// blank JSONL lines are ignored.
WordCounts count_corpus_words(const CorpusOptions& options, const PreTokenizeFn& pre_tokenize,
                              CorpusStats& stats, const CountProgress& progress = {});

}  // namespace lmkit::bpe_train
