#include "lmkit/base/error.h"
#include "lmkit/tokenizer/pipeline.h"
#include "lmkit/tokenizer/utf8.h"

namespace lmkit::tok {
namespace {

class PipelineTokenizer : public Tokenizer {
 public:
  explicit PipelineTokenizer(PipelineParts parts)
      : parts_(std::move(parts)), matcher_(parts_.added_tokens) {
    for (const AddedToken& t : parts_.added_tokens) {
      if (t.id >= static_cast<int32_t>(added_by_id_.size())) added_by_id_.resize(t.id + 1, -1);
      added_by_id_[t.id] = static_cast<int32_t>(&t - parts_.added_tokens.data());
    }
  }

  std::vector<int32_t> encode(std::string_view text, bool add_special_tokens) const override {
    return encode_full(text, add_special_tokens).ids;
  }

  Encoding encode_full(std::string_view text, bool add_special_tokens) const override {
    return assemble(sequence(text, false), std::nullopt, add_special_tokens);
  }

  Encoding encode_pair(std::string_view text, std::string_view pair,
                       bool add_special_tokens) const override {
    // Offsets of each part refer to its own input; convert before combining.
    return assemble(sequence(text, false), sequence(pair, true), add_special_tokens);
  }

  std::string decode(const std::vector<int32_t>& ids, bool skip_special_tokens) const override {
    std::vector<std::string> tokens;
    tokens.reserve(ids.size());
    for (int32_t id : ids) {
      const AddedToken* added = added_token(id);
      if (added) {
        if (skip_special_tokens && added->special) continue;
        tokens.push_back(added->content);
        continue;
      }
      const std::string* t = parts_.model->vocab().token(id);
      if (t) tokens.push_back(*t);
    }
    if (!parts_.decoder) {
      std::string out;
      for (size_t k = 0; k < tokens.size(); ++k) out += (k ? " " : "") + tokens[k];
      return out;
    }
    parts_.decoder->decode_chain(tokens);
    std::string out;
    for (const auto& t : tokens) out += t;
    return out;
  }

  int32_t vocab_size() const override {
    int32_t n = parts_.model->vocab().size();
    for (const AddedToken& t : parts_.added_tokens) n = std::max(n, t.id + 1);
    return n;
  }
  std::optional<int32_t> token_to_id(std::string_view token) const override {
    for (const AddedToken& t : parts_.added_tokens)
      if (t.content == token) return t.id;
    return parts_.model->vocab().find(token);
  }
  std::string id_to_token(int32_t id) const override {
    if (const AddedToken* a = added_token(id)) return a->content;
    const std::string* t = parts_.model->vocab().token(id);
    return t ? *t : std::string();
  }
  void disable_truncation_and_padding() override {
    parts_.truncation.reset();
    parts_.padding.reset();
  }

  bool is_special(int32_t id) const override {
    const AddedToken* a = added_token(id);
    return a && a->special;
  }

 private:
  const AddedToken* added_token(int32_t id) const {
    if (id < 0 || id >= static_cast<int32_t>(added_by_id_.size()) || added_by_id_[id] < 0) return nullptr;
    return &parts_.added_tokens[added_by_id_[id]];
  }

  // One input, offsets in code points of its own text. With truncation, Hugging Face stops
  // tokenizing a sequence once max_length tokens are reached (at a pre-token boundary), even
  // before the pair is truncated; that changes which sequence counts as the longer one, so
  // lmkit drops the same pre-tokens. (OnlySecond leaves the first sequence whole.)
  Encoding sequence(std::string_view text, bool second_of_pair) const {
    const auto& t = parts_.truncation;
    if (!t || (t->strategy == TruncationStrategy::OnlySecond && !second_of_pair))
      return finish(encode_sequence(text), text, "");
    std::vector<SplitEnd> splits;
    Encoding e = encode_sequence(text, &splits);
    keep_first_splits_within(e, splits, t->max_length, t->left);
    return finish(std::move(e), text, "");
  }

  // Hugging Face's post_process: truncate (leaving room for the special tokens the
  // post-processor will add), add the special tokens, then pad.
  Encoding assemble(Encoding a, std::optional<Encoding> b, bool add_special_tokens) const {
    a.sequence_ids.assign(a.ids.size(), 0);
    if (b) b->sequence_ids.assign(b->ids.size(), 1);
    if (parts_.truncation) {
      TruncationParams t = *parts_.truncation;
      size_t added = add_special_tokens && parts_.post_processor ? parts_.post_processor->added_tokens(b.has_value()) : 0;
      if (added > t.max_length)
        throw_error("truncation: max_length " + std::to_string(t.max_length) + " leaves no room for the " +
                    std::to_string(added) + " special tokens the post-processor adds");
      t.max_length -= static_cast<uint32_t>(added);
      truncate_encodings(a, b, t);
    }
    Encoding out = parts_.post_processor ? parts_.post_processor->process(std::move(a), std::move(b), add_special_tokens)
                                         : plain_concat(std::move(a), std::move(b));
    if (parts_.padding) pad_encoding(out, *parts_.padding);
    return out;
  }

  // Encodes one sequence; offsets are byte offsets into text until finish() converts them.
  // With `splits`, also records where the tokens of each added token and pre-token end.
  Encoding encode_sequence(std::string_view text, std::vector<SplitEnd>* splits = nullptr) const {
    if (!utf8::is_valid(text))
      throw_error("input text is not valid UTF-8; Hugging Face tokenizers only accept valid "
                  "Unicode strings");
    Encoding enc;
    std::vector<AddedTokenMatcher::Segment> segments;
    matcher_.split(text, segments);
    std::vector<Piece> pieces;
    std::vector<ModelToken> model_tokens;
    std::string word;
    std::vector<uint32_t> char_byte;  // byte offset in the normalized text of each word char
    for (const auto& seg : segments) {
      if (seg.added_index >= 0) {
        const AddedToken& t = parts_.added_tokens[seg.added_index];
        push(enc, t.id, t.content, seg.begin, seg.end);
        if (splits) splits->push_back({enc.ids.size(), true});
        continue;
      }
      NormalizedText nt = NormalizedText::from_original(text.substr(seg.begin, seg.end - seg.begin), seg.begin);
      if (parts_.normalizer) parts_.normalizer->apply(nt);
      if (nt.text.empty()) continue;
      pieces.assign(1, Piece{0, static_cast<uint32_t>(nt.text.size())});
      bool maps_bytes = false;
      if (parts_.pre_tokenizer) {
        parts_.pre_tokenizer->apply(nt, pieces);
        maps_bytes = parts_.pre_tokenizer->maps_bytes();
      }
      for (const Piece& p : pieces) {
        if (p.end <= p.begin) continue;
        word.clear();
        char_byte.clear();
        if (maps_bytes) {
          for (uint32_t k = p.begin; k < p.end; ++k) {
            word += byte_to_char_utf8(static_cast<uint8_t>(nt.text[k]));
            char_byte.push_back(k);
          }
        } else {
          word.assign(nt.text, p.begin, p.end - p.begin);
          size_t i = 0;
          while (i < word.size()) {
            char_byte.push_back(p.begin + static_cast<uint32_t>(i));
            utf8::next(word, i);
          }
        }
        char_byte.push_back(p.end);
        model_tokens.clear();
        parts_.model->tokenize(word, model_tokens);
        for (const ModelToken& mt : model_tokens) {
          uint32_t nb = char_byte[mt.char_begin];
          uint32_t ne = char_byte[mt.char_end] - 1;
          if (mt.text_is_value) {
            push(enc, mt.id, word_chars(word, mt.char_begin, mt.char_end), nt.orig_begin[nb], nt.orig_end[ne]);
            continue;
          }
          const std::string* tok = parts_.model->vocab().token(mt.id);
          push(enc, mt.id, tok ? *tok : std::string(), nt.orig_begin[nb], nt.orig_end[ne]);
        }
        if (splits) splits->push_back({enc.ids.size(), false});
      }
    }
    return enc;
  }

  // The code points [cb, ce) of word.
  static std::string word_chars(std::string_view word, uint32_t cb, uint32_t ce) {
    size_t i = 0, b = 0;
    for (uint32_t c = 0; c < ce && i < word.size(); ++c) {
      if (c == cb) b = i;
      utf8::next(word, i);
    }
    return std::string(word.substr(b, i - b));
  }

  static void push(Encoding& e, int32_t id, const std::string& token, uint32_t b, uint32_t end) {
    e.ids.push_back(id);
    e.tokens.push_back(token);
    e.offsets.emplace_back(b, end);
    e.special_tokens_mask.push_back(0);
    e.type_ids.push_back(0);
    e.attention_mask.push_back(1);
    e.sequence_ids.push_back(0);
  }

  // Byte offsets -> code point offsets, as Hugging Face reports them. Special tokens added by
  // the post-processor carry (0, 0) and are left alone.
  static Encoding finish(Encoding e, std::string_view text, std::string_view) {
    std::vector<uint32_t> char_index(text.size() + 1, 0);
    uint32_t c = 0;
    for (size_t i = 0; i < text.size(); ++i) {
      if ((static_cast<unsigned char>(text[i]) & 0xC0) != 0x80 && i > 0) ++c;
      char_index[i] = c;
    }
    uint32_t total = static_cast<uint32_t>(utf8::count(text));
    char_index[text.size()] = total;
    for (size_t k = 0; k < e.offsets.size(); ++k) {
      auto& [b, en] = e.offsets[k];
      if (b == 0 && en == 0) continue;
      uint32_t cb = b >= text.size() ? total : char_index[b];
      uint32_t ce = en == 0 ? 0 : (en >= text.size() ? total : char_index[en - 1] + 1);
      b = cb;
      en = ce;
    }
    return e;
  }

  PipelineParts parts_;
  AddedTokenMatcher matcher_;
  std::vector<int32_t> added_by_id_;
};

}  // namespace

std::unique_ptr<Tokenizer> make_pipeline_tokenizer(PipelineParts parts) {
  if (!parts.model) throw_error("tokenizer has no model");
  return std::make_unique<PipelineTokenizer>(std::move(parts));
}

}  // namespace lmkit::tok
