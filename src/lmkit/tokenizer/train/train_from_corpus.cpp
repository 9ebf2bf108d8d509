#include "lmkit/tokenizer/train/train_from_corpus.h"

#include <chrono>
#include <utility>

#include "lmkit/base/error.h"
#include "lmkit/base/log.h"

namespace lmkit::bpe_train {

TrainedBpe train_bpe_on_corpus(const CorpusOptions& corpus, const BpeTrainerOptions& options,
                               CorpusStats& stats,
                               const std::function<void(const TrainingProgress&)>& progress) {
  return train_bpe_on_corpus(corpus, options, byte_level_pre_tokenizer(), stats, progress);
}

TrainedBpe train_bpe_on_corpus(const CorpusOptions& corpus, const BpeTrainerOptions& options,
                               const PreTokenizeFn& pre_tokenize, CorpusStats& stats,
                               const std::function<void(const TrainingProgress&)>& progress) {
  validate_bpe_trainer_options(options);
  TrainingProgress p;
  p.corpus = &stats;
  CountProgress on_count;
  if (progress) on_count = [&](const CorpusStats&) { progress(p); };
  auto start = std::chrono::steady_clock::now();
  WordCounts words = count_corpus_words(corpus, pre_tokenize, stats, on_count);
  log_debug("tokenizer training: counted " + std::to_string(stats.words) + " words (" +
            std::to_string(words.distinct()) + " distinct) in " +
            std::to_string(std::chrono::duration<double>(std::chrono::steady_clock::now() - start).count()) +
            " s");
  if (words.distinct() == 0) {
    std::string msg = "tokenizer training: the corpus has no text to train on (" +
                      std::to_string(stats.sequences) + " sequences read";
    if (stats.skipped_lines) {
      msg += ", " + std::to_string(stats.skipped_lines) + " lines skipped";
      if (!stats.skipped_examples.empty()) msg += ", first: " + stats.skipped_examples.front();
    }
    throw_error(msg + ")");
  }
  p.phase = TrainingProgress::Phase::Merging;
  MergeProgress on_merge;
  if (progress)
    on_merge = [&](size_t done, size_t target) {
      p.merges_done = done;
      p.merges_target = target;
      progress(p);
    };
  return train_bpe(std::move(words), options, on_merge);
}

}  // namespace lmkit::bpe_train
