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
//
// With `characters` (SentencePiece-style BPE and WordPiece) the trainer starts from Unicode
// characters instead of bytes, as BpeTrainer does for a non-byte-level pre-tokenizer:
//  - the alphabet is every character seen, weighted by word count; with limit_alphabet only
//    the most frequent are kept (Hugging Face drains the rarest after an unstable sort, so its
//    choice among equal counts at the cut varies; we drop the higher code point first) and the
//    others are dropped from the words altogether; kept characters get ids by code point;
//  - with a continuing_subword_prefix ("##" for WordPiece) a character that is not first in
//    its word is the symbol prefix + character, a token of its own. Hugging Face gives those
//    ids in its hash map's iteration order, which changes from run to run (so do its
//    tie-breaks among merges of equal count that involve them); we give them ids by code
//    point, after the plain characters. A merge with a prefixed right side drops its prefix.
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
  // Start from characters rather than bytes (see the top of this file); the tokens of the
  // result are then plain UTF-8 text instead of raw bytes. The words must be valid UTF-8 (the
  // corpus reader only passes such text on).
  bool characters = false;
  // Characters only: keep at most this many characters in the alphabet (0: all).
  size_t limit_alphabet = 0;
  // Characters only: the prefix of non-initial symbols ("##" for WordPiece), or none.
  std::string continuing_subword_prefix;
  // Characters only: the order to give the prefixed forms ids in ("##a", "##b", ...), for
  // reproducing one particular Hugging Face run (whose order is its hash map's); forms not
  // listed follow, by code point. Empty: by code point.
  std::vector<std::string> continuing_order;
  // Tokens placed right after the special tokens that are not special (the <0x00>..<0xFF>
  // byte-fallback tokens of SentencePiece-style BPE): counted in the vocabulary, never split
  // into nor produced by merges unless a merge spells one exactly (then it reuses its id).
  std::vector<std::string> reserved_tokens;
  // Threads for rewriting words during merges; <= 0 means one per core.
  int threads = 0;
};

struct TrainedBpe {
  struct Merge {
    int32_t left;
    int32_t right;
    int32_t result;
  };
  // Ids [0, special_count) are the special tokens, as given, then the reserved tokens. With
  // byte_level every other token is its raw bytes (write it with bytes_to_byte_level);
  // otherwise every token is its text.
  std::vector<std::string> tokens;
  size_t special_count = 0;
  size_t reserved_count = 0;
  bool byte_level = true;
  std::vector<Merge> merges;
};

// Checks what can be checked before reading a corpus: special and reserved tokens non-empty,
// valid UTF-8 and distinct; vocab_size not below the special and reserved tokens plus the
// alphabet (all 256 bytes with full_byte_alphabet, at least one character otherwise).
// Throws lmkit::Error naming the problem.
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
