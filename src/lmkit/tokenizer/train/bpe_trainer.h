// Byte-level BPE training with the exact results of Hugging Face's BpeTrainer (tokenizers
// 0.13 to 0.23): same ids, same merges in the same order, for the same word counts.
//
// What "the same" takes, as the Rust trainer does it:
//  - ids: special tokens first (in the order given), then the alphabet sorted by the
//    byte-level character's code point, then one id per merge in merge order;
//  - a max-heap of candidate pairs ordered by count, ties broken by the smaller
//    (left id, right id); an entry whose cached count is stale is re-queued with the current
//    count instead of being merged;
//  - each heap entry carries the set of words it was queued for, and a merge rewrites only
//    those words (the pair's global count is never decremented for the merged pair itself);
//  - after a merge, every pair newly formed in some word is queued again with its global
//    count and the words where it was formed;
//  - stop at vocab_size tokens, an empty heap, or a top count below max(1, min_frequency).
#pragma once
#include <cstdint>
#include <functional>
#include <string>
#include <vector>

namespace lmkit::bpe_train {

class WordCounts;

struct BpeTrainerOptions {
  size_t vocab_size = 30000;
  uint64_t min_frequency = 0;
  std::vector<std::string> special_tokens;
  // Hugging Face's initial_alphabet=ByteLevel.alphabet(): all 256 bytes get an id even when
  // the corpus lacks some. Off, only the bytes seen are in the alphabet (the trainer default).
  bool full_byte_alphabet = true;
  // Threads for rewriting words during merges; <= 0 means one per core.
  int threads = 0;
};

struct TrainedBpe {
  struct Merge {
    int32_t left;
    int32_t right;
    int32_t result;
  };
  // Ids [0, special_count) are the special tokens, as given. Every other token is its raw
  // bytes (write it with bytes_to_byte_level).
  std::vector<std::string> tokens;
  size_t special_count = 0;
  std::vector<Merge> merges;
};

// Checks what can be checked before reading a corpus: special tokens non-empty, valid UTF-8
// and distinct; vocab_size not below the special tokens plus the alphabet (all 256 bytes
// with full_byte_alphabet). Throws lmkit::Error naming the problem.
void validate_bpe_trainer_options(const BpeTrainerOptions& options);

// Called now and then with the merges done so far and the most there can be.
using MergeProgress = std::function<void(size_t done, size_t target)>;

// Throws lmkit::Error for a duplicated or empty special token, a vocabulary smaller than the
// special tokens plus the alphabet, or no words at all.
TrainedBpe train_bpe(const WordCounts& words, const BpeTrainerOptions& options,
                     const MergeProgress& progress = {});
// The same, freeing the word counts once the trainer holds the words (a lower peak).
TrainedBpe train_bpe(WordCounts&& words, const BpeTrainerOptions& options,
                     const MergeProgress& progress = {});

}  // namespace lmkit::bpe_train
