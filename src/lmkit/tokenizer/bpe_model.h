// The BPE model of Hugging Face `tokenizers`: a word is split into characters (unknown ones
// become byte tokens <0xNN> with byte_fallback, or the unk token), then pairs are merged by
// merge rank, lowest first, until none applies.
#pragma once
#include <cstdint>
#include <optional>
#include <string>
#include <string_view>
#include <unordered_map>
#include <utility>
#include <vector>

#include "lmkit/tokenizer/token_model.h"
#include "lmkit/tokenizer/vocab.h"

namespace lmkit {

struct BpeOptions {
  bool byte_fallback = false;
  bool ignore_merges = false;  // a word that is itself in the vocabulary is not split
  bool fuse_unk = false;
  std::optional<std::string> unk_token;
  std::string continuing_subword_prefix;
  std::string end_of_word_suffix;
};

class BpeModel : public TokenModel {
 public:
  // merges: pairs of token strings, in rank order. A merge whose parts or result are not in
  // the vocabulary is an lmkit::Error naming it.
  BpeModel(Vocab vocab, const std::vector<std::pair<std::string, std::string>>& merges,
           BpeOptions options);
  // SentencePiece-style BPE (GGUF "llama" vocabularies): the pair whose concatenation is a
  // token with the highest score merges first (leftmost on ties), as llama.cpp does.
  BpeModel(Vocab vocab, const std::vector<float>& scores, BpeOptions options);
  void tokenize(std::string_view word, std::vector<ModelToken>& out) const override;
  const Vocab& vocab() const override { return vocab_; }

 private:
  struct MergeResult {
    uint32_t rank;
    int32_t id;
  };
  static uint64_t pair_key(int32_t a, int32_t b) {
    return static_cast<uint64_t>(static_cast<uint32_t>(a)) << 32 | static_cast<uint32_t>(b);
  }
  Vocab vocab_;
  BpeOptions options_;
  std::unordered_map<uint64_t, MergeResult> merges_;
  std::vector<uint32_t> score_rank_;  // score mode: rank of each token id by descending score
  void init_special_ids();
  bool find_merge(int32_t a, int32_t b, MergeResult& out) const;
  std::optional<int32_t> unk_id_;
  int32_t byte_ids_[256];
};

}  // namespace lmkit
