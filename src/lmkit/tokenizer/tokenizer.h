// Text <-> token ids, exactly as Hugging Face `tokenizers` does it. One Tokenizer type for
// every source: tokenizer.json, GGUF vocabularies (and later vocab.txt, vocab.json+merges.txt,
// SentencePiece .model). The pipeline behind it lives in this folder, one file per concern.
#pragma once
#include <cstdint>
#include <memory>
#include <optional>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

namespace lmkit {

class GgufFile;

struct Encoding {
  std::vector<int32_t> ids;
  std::vector<std::string> tokens;
  // [start, end) in Unicode code points of the input, as Hugging Face's char offsets.
  std::vector<std::pair<uint32_t, uint32_t>> offsets;
  std::vector<uint8_t> special_tokens_mask;
  std::vector<uint32_t> type_ids;
  std::vector<uint8_t> attention_mask;  // 0 for padding
  std::vector<int32_t> sequence_ids;    // 0 or 1 (which input), -1 for added special and padding tokens
};

class Tokenizer {
 public:
  // tokenizer.json. Throws lmkit::Error naming the file and the field on any problem,
  // and naming the component for an unsupported one.
  static std::unique_ptr<Tokenizer> from_file(const std::string& path);
  static std::unique_ptr<Tokenizer> from_json(const std::string& json, const std::string& source);
  // The vocabulary stored in a GGUF file (tokenizer.ggml.model "gpt2" or "llama").
  static std::unique_ptr<Tokenizer> from_gguf(const GgufFile& gguf);
  // BERT's vocab.txt (one token per line, the line number is the id), assembled as
  // BertTokenizerFast does; do_lower_case, tokenize_chinese_chars, strip_accents and the
  // special tokens come from tokenizer_config.json beside it when present.
  static std::unique_ptr<Tokenizer> from_vocab_txt(const std::string& path);
  // GPT-2's vocab.json + merges.txt as GPT2TokenizerFast assembles them (byte-level BPE);
  // added tokens from tokenizer_config.json's added_tokens_decoder beside vocab.json.
  static std::unique_ptr<Tokenizer> from_vocab_and_merges(const std::string& vocab_json,
                                                          const std::string& merges_txt);
  // Any of the above by path: tokenizer.json, *.gguf, vocab.txt, vocab.json (merges.txt
  // beside it), or a directory holding tokenizer.json, vocab.json + merges.txt or vocab.txt.
  static std::unique_ptr<Tokenizer> from_path(const std::string& path);

  virtual ~Tokenizer() = default;

  virtual std::vector<int32_t> encode(std::string_view text, bool add_special_tokens) const = 0;
  virtual Encoding encode_full(std::string_view text, bool add_special_tokens) const = 0;
  virtual Encoding encode_pair(std::string_view text, std::string_view pair,
                               bool add_special_tokens) const = 0;
  virtual std::string decode(const std::vector<int32_t>& ids, bool skip_special_tokens) const = 0;

  virtual int32_t vocab_size() const = 0;
  virtual std::optional<int32_t> token_to_id(std::string_view token) const = 0;
  virtual std::string id_to_token(int32_t id) const = 0;  // "" for an id out of range
  virtual bool is_special(int32_t id) const = 0;

  // Forgets the truncation and padding settings of a tokenizer.json. `tokenizers` applies them
  // on every encode, but transformers turns them off unless a call asks for them, so a prompt
  // is never cut or padded behind the user's back: model loading calls this.
  virtual void disable_truncation_and_padding() = 0;
};

// Turns a stream of generated ids into text pieces as soon as they are complete UTF-8, so a
// multi-byte character split over several tokens is never emitted half-way.
class StreamDecoder {
 public:
  StreamDecoder(const Tokenizer& tokenizer, bool skip_special_tokens);
  // Returns the new text that the id completes (possibly empty).
  std::string push(int32_t id);
  // Whatever is still held back (an incomplete character at the very end).
  std::string flush();

 private:
  const Tokenizer& tokenizer_;
  bool skip_special_;
  std::vector<int32_t> ids_;
  size_t emitted_bytes_ = 0;
};

}  // namespace lmkit
