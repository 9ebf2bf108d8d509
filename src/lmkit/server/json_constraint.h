// Constrained decoding for response_format json_object and json_schema: before each sampling,
// every token whose text cannot continue a document valid for the schema is masked out (the
// recognizer of json_grammar.h decides); once the document is complete only an end token
// remains (or, for a top-level number, more digits). Plugs into the scheduler's
// LogitsConstraint hook.
//
// Masking tries the whole vocabulary each step, so token texts are kept in a trie walked with
// the recognizer (a shared prefix is read once, a dead prefix prunes its subtree), and inside
// strings and free object keys the "plain" tokens (no quote, backslash or control character)
// are allowed in bulk by their length, leaving only the few others to walk.
#pragma once
#include <cstdint>
#include <memory>
#include <string>
#include <vector>

#include "lmkit/engine/scheduler.h"

namespace lmkit {
class Tokenizer;
}

namespace lmkit::server {

class JsonSchema;

// Token texts in a trie laid out in preorder: node i's subtree is [i, nodes[i].end), and its
// parent is the last node before it one level up, so a walk needs only a stack of states.
struct PieceTrie {
  struct Node {
    uint32_t end;           // one past the last node of this subtree
    uint32_t tokens_begin;  // ids whose text ends here: ids[tokens_begin, +tokens_count)
    uint16_t tokens_count;
    uint16_t depth;         // 1-based: the byte's position in the text
    char ch;
  };
  std::vector<Node> nodes;
  std::vector<int32_t> ids;
  size_t max_depth = 0;
};

// The text each vocabulary id appends to a decoded output (with the leading space a
// SentencePiece piece gets after other text), computed once per model. Ids that add nothing,
// special tokens and ids past the tokenizer's vocabulary are not usable. A token that is part
// of a UTF-8 character (decoded alone to U+FFFD) gets its raw bytes when the vocabulary names
// them (SentencePiece "<0xE4>", byte-level BPE), so the recognizer sees the exact output
// bytes; otherwise each U+FFFD becomes the byte 0xFF, which it admits only inside strings.
class TokenPieces {
 public:
  TokenPieces(const Tokenizer& tokenizer, int64_t model_vocab_size);
  // For tests and benchmarks: pieces given directly (index = id; empty = not usable).
  explicit TokenPieces(std::vector<std::string> pieces);

  bool usable(int32_t id) const { return id >= 0 && static_cast<size_t>(id) < usable_.size() && usable_[static_cast<size_t>(id)]; }
  const std::string& piece(int32_t id) const { return pieces_[static_cast<size_t>(id)]; }
  size_t size() const { return pieces_.size(); }

  const PieceTrie& trie() const { return all_; }               // every usable piece
  const PieceTrie& non_plain_trie() const { return non_plain_; }  // those not plain
  // Plain pieces (printable string content: no '"', '\\', control byte or 0xFF; valid UTF-8)
  // by code point count, fewest first, with their counts.
  const std::vector<int32_t>& plain_ids() const { return plain_ids_; }
  const std::vector<uint32_t>& plain_lengths() const { return plain_lengths_; }

 private:
  void index();

  std::vector<std::string> pieces_;
  std::vector<bool> usable_;
  PieceTrie all_, non_plain_;
  std::vector<int32_t> plain_ids_;
  std::vector<uint32_t> plain_lengths_;
};

// The schema a response_format json_object asks for: {"type": "object"}.
std::shared_ptr<const JsonSchema> json_object_schema();

std::unique_ptr<engine::LogitsConstraint> make_json_schema_constraint(
    std::shared_ptr<const TokenPieces> pieces, std::shared_ptr<const JsonSchema> schema,
    std::vector<int32_t> end_token_ids);

}  // namespace lmkit::server
