// The stages of the Hugging Face tokenizer pipeline, as small classes built from
// tokenizer.json (hf_json.cpp) or from a GGUF vocabulary (gguf_vocab.cpp):
//   added tokens split -> normalizer -> pre-tokenizer -> model -> post-processor,
// and on the way back, decoder.
#pragma once
#include <cstdint>
#include <memory>
#include <optional>
#include <string>
#include <string_view>
#include <tuple>
#include <utility>
#include <vector>

#include "lmkit/tokenizer/bpe_model.h"
#include "lmkit/tokenizer/double_array_trie.h"
#include "lmkit/tokenizer/regex.h"
#include "lmkit/tokenizer/tokenizer.h"

namespace lmkit::tok {

// Text being normalized, with, for every byte, the byte range of the original input it
// came from, so offsets can be reported in the caller's string.
struct NormalizedText {
  std::string text;
  std::vector<uint32_t> orig_begin;  // per byte of text
  std::vector<uint32_t> orig_end;

  static NormalizedText from_original(std::string_view s, uint32_t base);
  // Replaces bytes [b, e) of text with `with`; every new byte maps to the union of the
  // replaced bytes' origins (or, for an insertion, to the origin of the byte at b).
  void replace_range(size_t b, size_t e, std::string_view with);
};

class Normalizer {
 public:
  virtual ~Normalizer() = default;
  virtual void apply(NormalizedText& t) const = 0;
};

// A piece of the normalized text: [begin, end) bytes.
struct Piece {
  uint32_t begin, end;
};

class PreTokenizer {
 public:
  virtual ~PreTokenizer() = default;
  // Refines pieces in place (each piece may split into several or be dropped).
  virtual void split(const std::string& text, std::vector<Piece>& pieces) const = 0;
  // ByteLevel maps each byte to its GPT-2 character before the model sees it.
  virtual bool maps_bytes() const { return false; }
  // What the pipeline calls. Pre-tokenizers that also rewrite the text of their pieces
  // (Metaspace) override it and may replace `t` wholesale; the others only split.
  virtual void apply(NormalizedText& t, std::vector<Piece>& pieces) const { split(t.text, pieces); }
};

class Decoder {
 public:
  virtual ~Decoder() = default;
  virtual void decode_chain(std::vector<std::string>& tokens) const = 0;
};

// Special tokens added around a sequence (TemplateProcessing and friends).
struct TemplateItem {
  bool is_sequence;      // $A / $B, else a special token
  int sequence_index;    // 0 for A, 1 for B
  std::string special;   // the special token's name in special_tokens
  uint32_t type_id;
};
struct SpecialTokenIds {
  std::vector<int32_t> ids;
  std::vector<std::string> tokens;
};

class PostProcessor {
 public:
  virtual ~PostProcessor() = default;
  // Combines one or two encodings; adds special tokens only when add_special_tokens.
  virtual Encoding process(Encoding a, std::optional<Encoding> b, bool add_special_tokens) const = 0;
  // How many special tokens process() adds to one sequence or a pair (truncation leaves room).
  virtual size_t added_tokens(bool /*is_pair*/) const { return 0; }
};

struct AddedToken {
  int32_t id;
  std::string content;
  bool special = false;
  bool lstrip = false;
  bool rstrip = false;
  bool single_word = false;
  bool normalized = false;
};

// Splits raw text on added tokens (leftmost, longest match), honouring lstrip/rstrip and
// single_word.
class AddedTokenMatcher {
 public:
  explicit AddedTokenMatcher(std::vector<AddedToken> tokens);
  struct Segment {
    uint32_t begin, end;  // bytes of the original text
    int32_t added_index;  // index into tokens(), or -1 for plain text
  };
  void split(std::string_view text, std::vector<Segment>& out) const;
  const std::vector<AddedToken>& tokens() const { return tokens_; }

 private:
  std::vector<AddedToken> tokens_;
  DoubleArrayTrie trie_;  // content -> index of its first token; gemma3 has 6,000 tokens starting with '<'
};

// Byte-level (GPT-2) alphabet: byte b <-> one printable character.
const std::string& byte_to_char_utf8(uint8_t b);
// Maps the characters of a byte-level string back to bytes; nullopt if one is not in the
// alphabet.
std::optional<std::string> byte_level_decode(std::string_view text);

// Rust's String::from_utf8_lossy: each maximal invalid subsequence becomes U+FFFD.
std::string utf8_lossy(std::string_view bytes);

// Component factories used by the loaders (defined next to each family of components).
std::unique_ptr<Normalizer> make_nfc();
std::unique_ptr<Normalizer> make_unicode_normalizer(const std::string& form);  // NFC NFD NFKC NFKD
std::unique_ptr<Normalizer> make_prepend(std::string prepend);
std::unique_ptr<Normalizer> make_replace(std::string pattern, bool is_regex, std::string content);
std::unique_ptr<Normalizer> make_lowercase();
std::unique_ptr<Normalizer> make_normalizer_sequence(std::vector<std::unique_ptr<Normalizer>> parts);

enum class SplitBehavior { Removed, Isolated, MergedWithPrevious, MergedWithNext, Contiguous };
std::unique_ptr<PreTokenizer> make_split(std::string pattern, bool is_regex, SplitBehavior behavior,
                                         bool invert);
std::unique_ptr<PreTokenizer> make_byte_level(bool add_prefix_space, bool use_regex);
std::unique_ptr<PreTokenizer> make_whitespace_split();
std::unique_ptr<PreTokenizer> make_pre_tokenizer_sequence(std::vector<std::unique_ptr<PreTokenizer>> parts);
// The GPT-2 pattern ByteLevel uses when use_regex is true.
extern const char* const kGpt2Pattern;

std::unique_ptr<Decoder> make_byte_level_decoder();
std::unique_ptr<Decoder> make_replace_decoder(std::string pattern, std::string content);
std::unique_ptr<Decoder> make_byte_fallback_decoder();
std::unique_ptr<Decoder> make_fuse_decoder();
std::unique_ptr<Decoder> make_strip_decoder(std::string content, size_t start, size_t stop);
std::unique_ptr<Decoder> make_decoder_sequence(std::vector<std::unique_ptr<Decoder>> parts);

std::unique_ptr<PostProcessor> make_template_processing(
    std::vector<TemplateItem> single, std::vector<TemplateItem> pair,
    std::vector<std::pair<std::string, SpecialTokenIds>> specials);
std::unique_ptr<PostProcessor> make_byte_level_post();
std::unique_ptr<PostProcessor> make_post_sequence(std::vector<std::unique_ptr<PostProcessor>> parts);

// WordPiece/BERT family and the character-class components (wordpiece_model.cpp,
// bert_normalizers.cpp, char_pre_tokenizers.cpp, wordpiece_decoders.cpp).
struct WordPieceOptions {
  std::string unk_token = "[UNK]";
  std::string continuing_subword_prefix = "##";
  uint32_t max_input_chars_per_word = 100;
};
std::unique_ptr<TokenModel> make_wordpiece_model(Vocab vocab, WordPieceOptions options);
std::unique_ptr<TokenModel> make_word_level_model(Vocab vocab, std::string unk_token);

struct BertNormalizerOptions {
  bool clean_text = true;
  bool handle_chinese_chars = true;
  std::optional<bool> strip_accents;  // unset: follow lowercase
  bool lowercase = true;
};
std::unique_ptr<Normalizer> make_bert_normalizer(BertNormalizerOptions options);
std::unique_ptr<Normalizer> make_strip(bool left, bool right);
std::unique_ptr<Normalizer> make_strip_accents();

std::unique_ptr<PreTokenizer> make_bert_pre_tokenizer();
std::unique_ptr<PreTokenizer> make_whitespace();  // \w+|[^\w\s]+
std::unique_ptr<PreTokenizer> make_punctuation(SplitBehavior behavior);
std::unique_ptr<PreTokenizer> make_digits(bool individual_digits);
std::unique_ptr<PreTokenizer> make_unicode_scripts();  // unicode_scripts.cpp
// Recombines (begin, end, is_match) runs covering a piece into pieces, per behavior.
void apply_split_behavior(const std::vector<std::tuple<uint32_t, uint32_t, bool>>& runs, SplitBehavior behavior,
                          std::vector<Piece>& out);

// Post-processing pieces shared by the post-processors (post_processors.cpp).
void append_encoding(Encoding& dst, const Encoding& src);
void push_special_token(Encoding& e, int32_t id, const std::string& token, uint32_t type_id);
void set_type_ids(Encoding& e, uint32_t type_id);
Encoding plain_concat(Encoding a, std::optional<Encoding> b);  // type ids 0 then 1, no specials
// Byte-level offsets exclude the spaces a token starts or ends with (Ġ or whitespace); with
// add_prefix_space the first token keeps a single leading one.
void trim_byte_level_offsets(Encoding& e, bool add_prefix_space);
std::unique_ptr<PostProcessor> make_bert_processing(std::pair<std::string, int32_t> sep,
                                                    std::pair<std::string, int32_t> cls);
std::unique_ptr<PostProcessor> make_roberta_processing(std::pair<std::string, int32_t> sep,
                                                       std::pair<std::string, int32_t> cls, bool trim_offsets,
                                                       bool add_prefix_space);
std::unique_ptr<PostProcessor> make_byte_level_post_trim_offsets(bool add_prefix_space);

// Truncation and padding as tokenizer.json configures them (truncation_padding.cpp).
enum class TruncationStrategy { LongestFirst, OnlyFirst, OnlySecond };
struct TruncationParams {
  uint32_t max_length = 512;
  uint32_t stride = 0;
  TruncationStrategy strategy = TruncationStrategy::LongestFirst;
  bool left = false;  // direction Left: drop tokens from the start
};
struct PaddingParams {
  std::optional<uint32_t> fixed_length;  // unset: BatchLongest (a single encoding is its own batch)
  uint32_t pad_to_multiple_of = 0;
  bool left = false;
  int32_t pad_id = 0;
  uint32_t pad_type_id = 0;
  std::string pad_token = "[PAD]";
};
// Cuts a (and b) so that together they have at most max_length tokens; overflowing parts are
// dropped. Throws lmkit::Error where Hugging Face returns an error.
void truncate_encodings(Encoding& a, std::optional<Encoding>& b, const TruncationParams& p);
void pad_encoding(Encoding& e, const PaddingParams& p);
// Keeps tokens [begin, end) of every field.
void keep_tokens(Encoding& e, size_t begin, size_t end);
// Where the tokens of one split of the input (an added token or a pre-token) end.
struct SplitEnd {
  size_t end;
  bool added;
};
// Keeps the splits Hugging Face's tokenize_with_limit keeps: from the start (or, with
// from_end, the end), up to and including the first pre-token that brings the count to
// max_tokens; added tokens count but never end the run.
void keep_first_splits_within(Encoding& e, const std::vector<SplitEnd>& splits, size_t max_tokens, bool from_end);

std::unique_ptr<Decoder> make_wordpiece_decoder(std::string prefix, bool cleanup);
std::unique_ptr<Decoder> make_ctc_decoder(std::string pad_token, std::string word_delimiter_token, bool cleanup);

// SentencePiece family (unigram_model.cpp, metaspace.cpp, precompiled.cpp).
// pieces: (text, score) in id order; unk_id unset means an unknown character is an error.
std::unique_ptr<TokenModel> make_unigram_model(std::vector<std::pair<std::string, double>> pieces,
                                               std::optional<int32_t> unk_id, bool byte_fallback);
enum class PrependScheme { Always, First, Never };
// replacement: one character (U+2581 "▁" in practice).
std::unique_ptr<PreTokenizer> make_metaspace(std::string replacement, PrependScheme scheme, bool split);
std::unique_ptr<Decoder> make_metaspace_decoder(std::string replacement, PrependScheme scheme);
// charsmap: SentencePiece's precompiled_charsmap bytes (not base64). Throws lmkit::Error if
// it cannot be parsed.
std::unique_ptr<Normalizer> make_precompiled(std::string charsmap);
// Standard base64 (RFC 4648, padding optional); nullopt on any invalid character.
std::optional<std::string> base64_decode(std::string_view text);
// A SentencePiece .model file (serialized ModelProto) as the pipeline transformers' converters
// build from it (sentencepiece_model.cpp). config_json: the tokenizer_config.json beside it,
// or empty. Errors name `source` (or config_source), the field and the byte offset.
std::unique_ptr<Tokenizer> load_sentencepiece_model(std::string_view bytes, const std::string& source,
                                                    const std::string& config_json, const std::string& config_source);
// True when a tokenizer file's bytes look like a serialized ModelProto rather than JSON.
bool looks_like_sentencepiece_model(std::string_view bytes);

// The assembled pipeline; implements Tokenizer.
struct PipelineParts {
  std::unique_ptr<Normalizer> normalizer;
  std::unique_ptr<PreTokenizer> pre_tokenizer;
  std::unique_ptr<TokenModel> model;
  std::unique_ptr<PostProcessor> post_processor;
  std::unique_ptr<Decoder> decoder;
  std::vector<AddedToken> added_tokens;
  std::optional<TruncationParams> truncation;
  std::optional<PaddingParams> padding;
};
std::unique_ptr<Tokenizer> make_pipeline_tokenizer(PipelineParts parts);

}  // namespace lmkit::tok
