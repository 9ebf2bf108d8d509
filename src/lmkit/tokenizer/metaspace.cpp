// Metaspace, the SentencePiece-style pre-tokenizer and decoder of Hugging Face `tokenizers`:
// spaces become the replacement character (U+2581 "▁"), a replacement is prepended to each
// piece (prepend_scheme "always"), to the piece that starts the input only ("first"), or never,
// and with split=true each piece is cut before every replacement (MergedWithNext).
#include "lmkit/base/error.h"
#include "lmkit/tokenizer/pipeline.h"

namespace lmkit::tok {
namespace {

class Metaspace : public PreTokenizer {
 public:
  Metaspace(std::string replacement, PrependScheme scheme, bool split)
      : replacement_(std::move(replacement)), scheme_(scheme), split_(split) {}

  void split(const std::string&, std::vector<Piece>&) const override {
    throw_error("internal: Metaspace rewrites text and must be run through apply()");
  }

  void apply(NormalizedText& t, std::vector<Piece>& pieces) const override {
    NormalizedText out;
    out.text.reserve(t.text.size() + pieces.size() * replacement_.size());
    std::vector<Piece> out_pieces;
    std::vector<std::tuple<uint32_t, uint32_t, bool>> runs;
    for (const Piece& p : pieces) {
      if (p.end <= p.begin) continue;
      const uint32_t base = static_cast<uint32_t>(out.text.size());
      // Prepend when the piece does not already start with a space or replacement (either
      // becomes the replacement); the new character takes the first character's origin.
      bool starts_with_replacement =
          t.text[p.begin] == ' ' || t.text.compare(p.begin, replacement_.size(), replacement_) == 0;
      bool prepend = !starts_with_replacement &&
                     (scheme_ == PrependScheme::Always ||
                      (scheme_ == PrependScheme::First && t.orig_begin[p.begin] == 0));
      if (prepend) append(out, replacement_, t.orig_begin[p.begin], t.orig_end[p.begin]);
      for (uint32_t k = p.begin; k < p.end; ++k) {
        if (t.text[k] == ' ') {
          append(out, replacement_, t.orig_begin[k], t.orig_end[k]);
        } else {
          out.text += t.text[k];
          out.orig_begin.push_back(t.orig_begin[k]);
          out.orig_end.push_back(t.orig_end[k]);
        }
      }
      const uint32_t end = static_cast<uint32_t>(out.text.size());
      if (!split_) {
        out_pieces.push_back({base, end});
        continue;
      }
      runs.clear();
      uint32_t pos = base;
      std::string_view view(out.text);
      for (size_t q = view.find(replacement_, base); q != std::string_view::npos && q < end;
           q = view.find(replacement_, q + replacement_.size())) {
        if (q > pos) runs.emplace_back(pos, static_cast<uint32_t>(q), false);
        runs.emplace_back(static_cast<uint32_t>(q), static_cast<uint32_t>(q + replacement_.size()), true);
        pos = static_cast<uint32_t>(q + replacement_.size());
      }
      if (pos < end) runs.emplace_back(pos, end, false);
      apply_split_behavior(runs, SplitBehavior::MergedWithNext, out_pieces);
    }
    t = std::move(out);
    pieces = std::move(out_pieces);
  }

 private:
  static void append(NormalizedText& out, const std::string& s, uint32_t ob, uint32_t oe) {
    out.text += s;
    out.orig_begin.insert(out.orig_begin.end(), s.size(), ob);
    out.orig_end.insert(out.orig_end.end(), s.size(), oe);
  }

  std::string replacement_;
  PrependScheme scheme_;
  bool split_;
};

// Replacement characters become spaces; in the first token they are dropped altogether
// unless prepend_scheme is "never" (Hugging Face drops every one of them there, not only a
// leading one).
class MetaspaceDecoder : public Decoder {
 public:
  MetaspaceDecoder(std::string replacement, PrependScheme scheme)
      : replacement_(std::move(replacement)), scheme_(scheme) {}
  void decode_chain(std::vector<std::string>& tokens) const override {
    for (size_t i = 0; i < tokens.size(); ++i) {
      const std::string& t = tokens[i];
      std::string out;
      out.reserve(t.size());
      bool drop = i == 0 && scheme_ != PrependScheme::Never;
      for (size_t k = 0; k < t.size();) {
        if (t.compare(k, replacement_.size(), replacement_) == 0) {
          if (!drop) out += ' ';
          k += replacement_.size();
        } else {
          out += t[k++];
        }
      }
      tokens[i] = std::move(out);
    }
  }

 private:
  std::string replacement_;
  PrependScheme scheme_;
};

}  // namespace

std::unique_ptr<PreTokenizer> make_metaspace(std::string replacement, PrependScheme scheme, bool split) {
  return std::make_unique<Metaspace>(std::move(replacement), scheme, split);
}
std::unique_ptr<Decoder> make_metaspace_decoder(std::string replacement, PrependScheme scheme) {
  return std::make_unique<MetaspaceDecoder>(std::move(replacement), scheme);
}

}  // namespace lmkit::tok
