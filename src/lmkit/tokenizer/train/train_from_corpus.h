// Corpus files in, trained BPE out: counts words with the ByteLevel pre-tokenizer (or the
// one given) on several threads, then runs the trainer. What `lmkit tokenizer train` does.
#pragma once
#include <functional>

#include "lmkit/tokenizer/train/bpe_trainer.h"
#include "lmkit/tokenizer/train/corpus_word_count.h"

namespace lmkit::bpe_train {

struct TrainingProgress {
  enum class Phase { CountingWords, Merging } phase = Phase::CountingWords;
  const CorpusStats* corpus = nullptr;  // always set
  size_t merges_done = 0;
  size_t merges_target = 0;  // vocab size minus the initial tokens: an upper bound
};

// Throws lmkit::Error for bad options (before reading anything), unreadable files, and a
// corpus with no text (saying how many lines were skipped and why).
TrainedBpe train_bpe_on_corpus(const CorpusOptions& corpus, const BpeTrainerOptions& options,
                               CorpusStats& stats,
                               const std::function<void(const TrainingProgress&)>& progress = {});
// The same with another split of the text into words (metaspace_pre_tokenizer() for
// SentencePiece-style BPE, bert_pre_tokenizer() for WordPiece).
TrainedBpe train_bpe_on_corpus(const CorpusOptions& corpus, const BpeTrainerOptions& options,
                               const PreTokenizeFn& pre_tokenize, CorpusStats& stats,
                               const std::function<void(const TrainingProgress&)>& progress = {});

}  // namespace lmkit::bpe_train
