// The trainer counts words split exactly as the encoder will split them: these run the
// encoder's own normalizer and pre-tokenizer components (tokenizer/metaspace.cpp,
// bert_normalizers.cpp, char_pre_tokenizers.cpp), the ones the written tokenizer.json names.
#include <memory>

#include "lmkit/tokenizer/pipeline.h"
#include "lmkit/tokenizer/train/pre_tokenizer_fn.h"

namespace lmkit::bpe_train {
namespace {

PreTokenizeFn pipeline_split(std::shared_ptr<const tok::Normalizer> normalizer,
                             std::shared_ptr<const tok::PreTokenizer> split) {
  return [normalizer, split](std::string_view text, std::vector<std::string_view>& words) {
    // The words point into this buffer: the caller counts them before its next call on the
    // same thread.
    thread_local tok::NormalizedText normalized;
    thread_local std::vector<tok::Piece> pieces;
    normalized = tok::NormalizedText::from_original(text, 0);
    if (normalizer) normalizer->apply(normalized);
    pieces.assign(1, tok::Piece{0, static_cast<uint32_t>(normalized.text.size())});
    split->apply(normalized, pieces);
    std::string_view all(normalized.text);
    for (const tok::Piece& p : pieces)
      if (p.end > p.begin) words.push_back(all.substr(p.begin, p.end - p.begin));
  };
}

}  // namespace

PreTokenizeFn metaspace_pre_tokenizer() {
  return pipeline_split(nullptr, tok::make_metaspace("\u2581", tok::PrependScheme::First, true));
}

PreTokenizeFn bert_pre_tokenizer(bool lowercase) {
  tok::BertNormalizerOptions options;
  options.lowercase = lowercase;
  return pipeline_split(tok::make_bert_normalizer(options), tok::make_bert_pre_tokenizer());
}

}  // namespace lmkit::bpe_train
