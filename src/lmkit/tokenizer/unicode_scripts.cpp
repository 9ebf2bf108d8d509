// UnicodeScripts pre-tokenizer: cuts where the Unicode script changes, as Hugging Face (and
// SentencePiece) do. Scripts come from Oniguruma's \p{Script} tables, restricted to the
// scripts Hugging Face's own table knows (Unicode 9): a character of a later script counts
// as "Any" there too. Characters added to older scripts after Unicode 9 can still differ.
#include <atomic>
#include <memory>
#include <vector>

#include "lmkit/tokenizer/pipeline.h"
#include "lmkit/tokenizer/utf8.h"

namespace lmkit::tok {
namespace {

// Most frequent first: a character is looked up once, then cached.
const char* const kScripts[] = {
    "Latin", "Common", "Han", "Inherited", "Cyrillic", "Greek", "Arabic", "Hiragana", "Katakana", "Hangul",
    "Hebrew", "Devanagari", "Thai", "Armenian", "Georgian", "Bengali", "Tamil", "Telugu", "Kannada", "Malayalam",
    "Gujarati", "Gurmukhi", "Oriya", "Sinhala", "Myanmar", "Khmer", "Lao", "Tibetan", "Ethiopic", "Mongolian",
    "Adlam", "Ahom", "Anatolian_Hieroglyphs", "Avestan", "Balinese", "Bamum", "Bassa_Vah", "Batak", "Bhaiksuki",
    "Bopomofo", "Brahmi", "Braille", "Buginese", "Buhid", "Canadian_Aboriginal", "Carian", "Caucasian_Albanian",
    "Chakma", "Cham", "Cherokee", "Coptic", "Cuneiform", "Cypriot", "Deseret", "Duployan", "Egyptian_Hieroglyphs",
    "Elbasan", "Glagolitic", "Gothic", "Grantha", "Hanunoo", "Hatran", "Imperial_Aramaic", "Inscriptional_Pahlavi",
    "Inscriptional_Parthian", "Javanese", "Kaithi", "Kayah_Li", "Kharoshthi", "Khojki", "Khudawadi", "Lepcha",
    "Limbu", "Linear_A", "Linear_B", "Lisu", "Lycian", "Lydian", "Mahajani", "Mandaic", "Manichaean", "Marchen",
    "Meetei_Mayek", "Mende_Kikakui", "Meroitic_Cursive", "Meroitic_Hieroglyphs", "Miao", "Modi", "Mro", "Multani",
    "Nabataean", "New_Tai_Lue", "Newa", "Nko", "Ogham", "Ol_Chiki", "Old_Hungarian", "Old_Italic",
    "Old_North_Arabian", "Old_Permic", "Old_Persian", "Old_South_Arabian", "Old_Turkic", "Osage", "Osmanya",
    "Pahawh_Hmong", "Palmyrene", "Pau_Cin_Hau", "Phags_Pa", "Phoenician", "Psalter_Pahlavi", "Rejang", "Runic",
    "Samaritan", "Saurashtra", "Sharada", "Shavian", "Siddham", "SignWriting", "Sora_Sompeng", "Sundanese",
    "Syloti_Nagri", "Syriac", "Tagalog", "Tagbanwa", "Tai_Le", "Tai_Tham", "Tai_Viet", "Takri", "Tangut", "Thaana",
    "Tifinagh", "Tirhuta", "Ugaritic", "Vai", "Warang_Citi", "Yi",
};
constexpr size_t kNumScripts = sizeof(kScripts) / sizeof(kScripts[0]);
constexpr uint8_t kUnknown = 0, kAny = 1;  // cached values; a script is its index + 2
constexpr uint8_t kHan = 2 + 2, kHiragana = 7 + 2, kKatakana = 8 + 2;

class ScriptTable {
 public:
  ScriptTable() : cache_(0x110000) {
    for (const char* name : kScripts) patterns_.push_back(std::make_unique<Regex>(std::string("\\p{") + name + "}"));
  }
  uint8_t raw_script(uint32_t cp) const {
    uint8_t v = cache_[cp].load(std::memory_order_relaxed);
    if (v != kUnknown) return v;
    std::string ch;
    utf8::append(ch, cp);
    std::vector<std::pair<size_t, size_t>> m;
    v = kAny;
    for (size_t i = 0; i < kNumScripts; ++i) {
      m.clear();
      patterns_[i]->find_all(ch, m);
      if (!m.empty()) {
        v = static_cast<uint8_t>(i + 2);
        break;
      }
    }
    cache_[cp].store(v, std::memory_order_relaxed);
    return v;
  }

 private:
  std::vector<std::unique_ptr<Regex>> patterns_;
  mutable std::vector<std::atomic<uint8_t>> cache_;
};

const ScriptTable& script_table() {
  static const ScriptTable table;
  return table;
}

// Hugging Face's fixed_script: kana and the prolonged sound mark join Han; the space is "Any".
uint8_t fixed_script(uint32_t cp) {
  if (cp == 0x30FC) return kHan;
  if (cp == ' ') return kAny;
  uint8_t s = script_table().raw_script(cp);
  return s == kHiragana || s == kKatakana ? kHan : s;
}

class UnicodeScripts : public PreTokenizer {
 public:
  void split(const std::string& text, std::vector<Piece>& pieces) const override {
    std::vector<Piece> out;
    std::vector<uint32_t> cuts;
    for (const Piece& p : pieces) {
      // A cut before every character whose script differs from the last non-Any script
      // (including before the first such character, so leading "Any" characters drop out).
      cuts.clear();
      uint8_t last = kUnknown;
      size_t i = p.begin;
      while (i < p.end) {
        uint32_t at = static_cast<uint32_t>(i);
        uint8_t s = fixed_script(utf8::next(text, i));
        if (s != kAny && last != kAny && last != s) cuts.push_back(at);
        if (s != kAny) last = s;
      }
      cuts.push_back(p.end);
      for (size_t k = 0; k + 1 < cuts.size(); ++k)
        if (cuts[k + 1] > cuts[k]) out.push_back({cuts[k], cuts[k + 1]});
    }
    pieces = std::move(out);
  }
};

}  // namespace

std::unique_ptr<PreTokenizer> make_unicode_scripts() { return std::make_unique<UnicodeScripts>(); }

}  // namespace lmkit::tok
