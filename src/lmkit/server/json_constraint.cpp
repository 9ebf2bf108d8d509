#include "lmkit/server/json_constraint.h"

#include <algorithm>
#include <cctype>
#include <limits>
#include <string_view>

#include "lmkit/server/json_grammar.h"
#include "lmkit/server/json_schema.h"
#include "lmkit/tokenizer/tokenizer.h"

namespace lmkit::server {

namespace {

constexpr std::string_view kReplacement = "\xEF\xBF\xBD";  // U+FFFD

std::string mark_lossy(std::string text) {
  for (size_t at = text.find(kReplacement); at != std::string::npos; at = text.find(kReplacement, at + 1))
    text.replace(at, kReplacement.size(), "\xFF");
  return text;
}

// The length of the valid UTF-8 character at s[i], or 0 (RFC 3629: no overlongs, no
// surrogates, nothing past U+10FFFF); `prefix` gets how many bytes of it were valid.
size_t utf8_char(std::string_view s, size_t i, size_t* prefix = nullptr) {
  const auto c = static_cast<unsigned char>(s[i]);
  if (prefix) *prefix = 1;
  if (c < 0x80) return 1;
  size_t len = 0;
  unsigned char lo = 0x80, hi = 0xBF;
  if (c >= 0xC2 && c <= 0xDF) len = 2;
  else if (c >= 0xE0 && c <= 0xEF) { len = 3; if (c == 0xE0) lo = 0xA0; if (c == 0xED) hi = 0x9F; }
  else if (c >= 0xF0 && c <= 0xF4) { len = 4; if (c == 0xF0) lo = 0x90; if (c == 0xF4) hi = 0x8F; }
  else return 0;
  for (size_t k = 1; k < len; ++k) {
    if (i + k >= s.size()) return 0;
    const auto b = static_cast<unsigned char>(s[i + k]);
    if (b < (k == 1 ? lo : 0x80) || b > (k == 1 ? hi : 0xBF)) return 0;
    if (prefix) *prefix = k + 1;
  }
  return len;
}

// Bytes as a lossy UTF-8 decoder shows them: each maximal invalid run becomes one U+FFFD.
std::string lossy_text(std::string_view bytes) {
  std::string out;
  for (size_t i = 0; i < bytes.size();) {
    size_t prefix = 1;
    const size_t len = utf8_char(bytes, i, &prefix);
    if (len) {
      out.append(bytes.substr(i, len));
      i += len;
    } else {
      out += kReplacement;
      i += prefix;
    }
  }
  return out;
}

// GPT-2's byte-level alphabet, reversed: the byte each of its 256 characters stands for.
int byte_level_byte(uint32_t cp) {
  auto printable = [](uint32_t b) { return (b >= 33 && b <= 126) || (b >= 161 && b <= 172) || b >= 174; };
  if (cp < 256 && printable(cp)) return static_cast<int>(cp);
  uint32_t next = 256;
  for (uint32_t b = 0; b < 256; ++b)
    if (!printable(b) && next++ == cp) return static_cast<int>(b);
  return -1;
}

// The raw bytes of a token that decodes to a part of a UTF-8 character: SentencePiece byte
// fallback ("<0xE4>") or a byte-level BPE token, accepted only when decoding those bytes
// lossily gives exactly what the tokenizer gave. Empty when unknown.
std::string raw_bytes(const Tokenizer& tok, int32_t id, const std::string& decoded) {
  const std::string name = tok.id_to_token(id);
  std::string bytes;
  if (name.size() == 6 && name.compare(0, 3, "<0x") == 0 && name[5] == '>' &&
      std::isxdigit(static_cast<unsigned char>(name[3])) && std::isxdigit(static_cast<unsigned char>(name[4]))) {
    bytes.push_back(static_cast<char>(std::stoi(name.substr(3, 2), nullptr, 16)));
  } else {
    for (size_t i = 0; i < name.size();) {
      const size_t len = utf8_char(name, i);
      if (!len) return "";
      uint32_t cp = static_cast<unsigned char>(name[i]) & (len == 1 ? 0x7F : len == 2 ? 0x1F : len == 3 ? 0x0F : 0x07);
      for (size_t k = 1; k < len; ++k) cp = (cp << 6) | (static_cast<unsigned char>(name[i + k]) & 0x3F);
      const int b = byte_level_byte(cp);
      if (b < 0) return "";
      bytes.push_back(static_cast<char>(b));
      i += len;
    }
  }
  return lossy_text(bytes) == decoded ? bytes : "";
}

// The code points of a piece that is plain string content, or -1.
int64_t plain_length(std::string_view s) {
  int64_t count = 0;
  for (size_t i = 0; i < s.size(); ++count) {
    const auto c = static_cast<unsigned char>(s[i]);
    if (c < 0x20 || c == '"' || c == '\\') return -1;
    const size_t len = utf8_char(s, i);  // 0xFF and stray bytes are not plain
    if (!len) return -1;
    i += len;
  }
  return count;
}

void build_trie(std::vector<std::pair<std::string_view, int32_t>> entries, PieceTrie& trie) {
  std::sort(entries.begin(), entries.end());
  std::vector<uint32_t> path;  // path[d]: the node of the prefix of length d + 1
  std::string_view previous;
  auto close_to = [&](size_t depth) {
    while (path.size() > depth) {
      trie.nodes[path.back()].end = static_cast<uint32_t>(trie.nodes.size());
      path.pop_back();
    }
  };
  for (const auto& [text, id] : entries) {
    size_t common = 0;
    while (common < previous.size() && common < text.size() && previous[common] == text[common])
      ++common;
    close_to(common);
    for (size_t d = common; d < text.size(); ++d) {
      path.push_back(static_cast<uint32_t>(trie.nodes.size()));
      trie.nodes.push_back({0, 0, 0, static_cast<uint16_t>(d + 1), text[d]});
    }
    PieceTrie::Node& last = trie.nodes[path.back()];
    if (last.tokens_count == 0) last.tokens_begin = static_cast<uint32_t>(trie.ids.size());
    trie.ids.push_back(id);  // equal texts are adjacent, so a node's ids are contiguous
    ++last.tokens_count;
    trie.max_depth = std::max(trie.max_depth, text.size());
    previous = text;
  }
  close_to(0);
}

}  // namespace

TokenPieces::TokenPieces(const Tokenizer& tok, int64_t model_vocab_size) {
  const auto n = static_cast<size_t>(std::max<int64_t>(0, model_vocab_size));
  pieces_.resize(n);
  usable_.assign(n, false);
  // Decoding a token alone drops the leading space SentencePiece decoders strip at the start
  // of a text; decoding it after an anchor token and removing the anchor's text keeps it.
  const std::vector<int32_t> anchor_ids = tok.encode("a", /*add_special_tokens=*/false);
  if (!anchor_ids.empty()) {
    const int32_t anchor = anchor_ids.front();
    const std::string anchor_text = tok.decode({anchor}, false);
    const auto limit = std::min<size_t>(n, static_cast<size_t>(std::max(0, tok.vocab_size())));
    for (size_t i = 0; i < limit; ++i) {
      const auto id = static_cast<int32_t>(i);
      if (tok.is_special(id)) continue;
      const std::string both = tok.decode({anchor, id}, false);
      if (both.size() <= anchor_text.size() || both.compare(0, anchor_text.size(), anchor_text) != 0)
        continue;
      std::string text = both.substr(anchor_text.size());
      if (text.find(kReplacement) != std::string::npos) {
        // Part of a character: its real bytes when the vocabulary says them, so characters
        // spelled byte by byte stay exact; otherwise marked lossy.
        const std::string bytes = raw_bytes(tok, id, text);
        text = bytes.empty() ? mark_lossy(std::move(text)) : bytes;
      }
      pieces_[i] = std::move(text);
      usable_[i] = true;
    }
  }
  index();
}

TokenPieces::TokenPieces(std::vector<std::string> pieces) : pieces_(std::move(pieces)) {
  usable_.assign(pieces_.size(), false);
  for (size_t i = 0; i < pieces_.size(); ++i) usable_[i] = !pieces_[i].empty();
  index();
}

void TokenPieces::index() {
  std::vector<std::pair<std::string_view, int32_t>> all, non_plain;
  std::vector<std::pair<uint32_t, int32_t>> plain;
  for (size_t i = 0; i < pieces_.size(); ++i) {
    // A trie node keeps its depth in 16 bits; a longer text stays unusable (never generated).
    if (!usable_[i] || pieces_[i].size() > std::numeric_limits<uint16_t>::max()) {
      usable_[i] = false;
      continue;
    }
    const auto id = static_cast<int32_t>(i);
    all.emplace_back(pieces_[i], id);
    const int64_t length = plain_length(pieces_[i]);
    if (length < 0) non_plain.emplace_back(pieces_[i], id);
    else plain.emplace_back(static_cast<uint32_t>(length), id);
  }
  build_trie(std::move(all), all_);
  build_trie(std::move(non_plain), non_plain_);
  std::sort(plain.begin(), plain.end());
  for (const auto& [length, id] : plain) {
    plain_lengths_.push_back(length);
    plain_ids_.push_back(id);
  }
}

std::shared_ptr<const JsonSchema> json_object_schema() {
  // The static outlives every request; the shared_ptr only keeps the interface uniform.
  static const std::shared_ptr<const JsonSchema> schema(&JsonSchema::any_object(),
                                                        [](const JsonSchema*) {});
  return schema;
}

namespace {

class JsonSchemaConstraint : public engine::LogitsConstraint {
 public:
  JsonSchemaConstraint(std::shared_ptr<const TokenPieces> pieces,
                       std::shared_ptr<const JsonSchema> schema, std::vector<int32_t> end_ids)
      : pieces_(std::move(pieces)), schema_(std::move(schema)), end_ids_(std::move(end_ids)),
        state_(*schema_, log_) {}

  void mask(std::span<float> logits) override {
    constexpr float kNever = -std::numeric_limits<float>::infinity();
    if (is_end_.size() != logits.size()) {
      is_end_.assign(logits.size(), false);
      for (int32_t id : end_ids_)
        if (id >= 0 && static_cast<size_t>(id) < is_end_.size()) is_end_[static_cast<size_t>(id)] = true;
    }
    allowed_.assign(logits.size(), 0);
    const size_t log_mark = log_.size();
    const int64_t budget = state_.plain_budget();
    if (budget >= 0) {
      const auto& ids = pieces_->plain_ids();
      const auto& lengths = pieces_->plain_lengths();
      for (size_t k = 0; k < ids.size() && lengths[k] <= budget; ++k) allow(ids[k]);
      walk(pieces_->non_plain_trie());
    } else {
      walk(pieces_->trie());
    }
    log_.truncate(log_mark);  // keys the trial walk recorded belong to no real output
    const bool complete = state_.complete();
    bool any = false;
    for (size_t i = 0; i < logits.size(); ++i) {
      if (is_end_[i] ? !complete : !allowed_[i]) logits[i] = kNever;
      else if (logits[i] != kNever) any = true;
    }
    // Unreachable: the recognizer never accepts a text it cannot complete, and every
    // byte-level or byte-fallback vocabulary spells ASCII. Rather than sample from nothing,
    // end the output.
    if (!any)
      for (int32_t id : end_ids_)
        if (id >= 0 && static_cast<size_t>(id) < logits.size()) logits[static_cast<size_t>(id)] = 0.0f;
  }

  void accept(int32_t token) override {
    if (std::find(end_ids_.begin(), end_ids_.end(), token) != end_ids_.end() ||
        !pieces_->usable(token))
      return;
    JsonRecognizer next = state_;
    if (next.feed(pieces_->piece(token))) state_ = next;
  }

 private:
  void allow(int32_t id) {
    const auto i = static_cast<size_t>(id);
    if (i < allowed_.size() && !is_end_[i]) allowed_[i] = 1;
  }

  void walk(const PieceTrie& trie) {
    // One stack of states per thread, not per request: a few kB per trie level, and masks
    // run one after another on the scheduler thread.
    thread_local std::vector<JsonRecognizer> states;  // [d]: after the first d bytes
    if (states.size() < trie.max_depth + 1) states.resize(trie.max_depth + 1);
    states[0] = state_;
    const auto& nodes = trie.nodes;
    for (size_t i = 0; i < nodes.size();) {
      const PieceTrie::Node& node = nodes[i];
      JsonRecognizer& s = states[node.depth];
      s = states[node.depth - 1];
      if (!s.feed(node.ch)) {
        i = node.end;  // no text with this prefix can continue
        continue;
      }
      for (uint32_t k = 0; k < node.tokens_count; ++k) allow(trie.ids[node.tokens_begin + k]);
      ++i;
    }
  }

  std::shared_ptr<const TokenPieces> pieces_;
  std::shared_ptr<const JsonSchema> schema_;
  std::vector<int32_t> end_ids_;
  std::vector<bool> is_end_;
  JsonKeyLog log_;
  JsonRecognizer state_;
  std::vector<uint8_t> allowed_;
};

}  // namespace

std::unique_ptr<engine::LogitsConstraint> make_json_schema_constraint(
    std::shared_ptr<const TokenPieces> pieces, std::shared_ptr<const JsonSchema> schema,
    std::vector<int32_t> end_token_ids) {
  return std::make_unique<JsonSchemaConstraint>(std::move(pieces), std::move(schema),
                                                std::move(end_token_ids));
}

}  // namespace lmkit::server
