// The JSON-schema recognizer and compiler on their own, and the token mask built on them:
// - the hand-written documents of json_schema_cases.json (labels checked against ajv by
//   tests/node/json_schema.test.cjs): valid ones and all their prefixes are accepted, invalid
//   and restricted ones are refused;
// - refused, malformed and unsatisfiable schemas throw JsonSchemaError with the pointer;
// - random character walks never reach a dead end, and every document they complete parses;
// - the trie walk with its plain-token shortcut masks exactly the tokens that feeding each
//   token's text one by one accepts (synthetic pieces, and the real Qwen3 vocabulary).
#include <gtest/gtest.h>

#include <fstream>
#include <limits>
#include <random>

#include <nlohmann/json.hpp>

#include "lmkit/server/json_constraint.h"
#include "lmkit/server/json_grammar.h"
#include "lmkit/server/json_schema.h"
#include "lmkit/tokenizer/tokenizer.h"
#include "support/test_data.h"

namespace lmkit::testing {
namespace {

using nlohmann::json;
using server::JsonKeyLog;
using server::JsonRecognizer;
using server::JsonSchema;
using server::JsonSchemaError;

const json& cases_file() {
  static const json cases = [] {
    std::ifstream in(std::string(LMKIT_SOURCE_DIR) + "/tests/server/json_schema_cases.json");
    EXPECT_TRUE(in) << "tests/server/json_schema_cases.json is missing";
    return json::parse(in);
  }();
  return cases;
}

// Whether `text` is a whole document for `schema`; `prefixes_ok` says whether every prefix
// was accepted on the way.
bool accepts(const JsonSchema& schema, const std::string& text, bool* prefixes_ok = nullptr) {
  JsonKeyLog log;
  JsonRecognizer r(schema, log);
  for (size_t i = 0; i < text.size(); ++i)
    if (!r.feed(text[i])) {
      if (prefixes_ok) *prefixes_ok = false;
      return false;
    }
  if (prefixes_ok) *prefixes_ok = true;
  return r.complete();
}

TEST(JsonSchemaCases, ValidDocumentsAndTheirPrefixesAreAccepted) {
  for (const auto& c : cases_file()["cases"]) {
    SCOPED_TRACE(c["name"].get<std::string>());
    const JsonSchema schema = JsonSchema::compile(c["schema"]);
    for (const auto& doc : c["valid"]) {
      const std::string text = doc.get<std::string>();
      bool prefixes_ok = false;
      EXPECT_TRUE(accepts(schema, text, &prefixes_ok)) << text;
      EXPECT_TRUE(prefixes_ok) << text;
      EXPECT_TRUE(json::accept(text)) << text;  // and nlohmann agrees it is JSON
    }
  }
}

TEST(JsonSchemaCases, InvalidAndRestrictedDocumentsAreRefused) {
  int refused_early = 0;
  for (const auto& c : cases_file()["cases"]) {
    SCOPED_TRACE(c["name"].get<std::string>());
    const JsonSchema schema = JsonSchema::compile(c["schema"]);
    for (const char* list : {"invalid", "restricted"})
      for (const auto& doc : c[list]) {
        const std::string text = doc.get<std::string>();
        bool prefixes_ok = true;
        EXPECT_FALSE(accepts(schema, text, &prefixes_ok)) << list << ": " << text;
        refused_early += !prefixes_ok;
      }
  }
  EXPECT_GT(refused_early, 50);  // most are refused at the first bad character, not at the end
}

TEST(JsonSchemaCases, RefusedSchemasNameTheKeywordAndItsPointer) {
  for (const char* list : {"refused", "malformed"})
    for (const auto& r : cases_file()[list]) {
      SCOPED_TRACE(r["schema"].dump());
      try {
        (void)JsonSchema::compile(r["schema"]);
        ADD_FAILURE() << "compiled";
      } catch (const JsonSchemaError& e) {
        EXPECT_EQ(e.pointer(), r["pointer"].get<std::string>()) << e.what();
        EXPECT_NE(std::string(e.what()).find("'#" + r["pointer"].get<std::string>() + "'"),
                  std::string::npos) << e.what();
        if (std::string(list) == "refused") {
          EXPECT_NE(std::string(e.what()).find("cannot be enforced"), std::string::npos) << e.what();
        }
      }
    }
  for (const auto& s : cases_file()["unsatisfiable"]) {
    SCOPED_TRACE(s.dump());
    EXPECT_THROW((void)JsonSchema::compile(s), JsonSchemaError);
  }
}

TEST(JsonSchema, RefusesSchemasDeeperThanTheNestingLimit) {
  json deep = {{"type", "integer"}};
  for (int i = 0; i < JsonRecognizer::kMaxDepth; ++i)
    deep = {{"type", "array"}, {"items", deep}, {"minItems", 1}};
  EXPECT_THROW((void)JsonSchema::compile(deep), JsonSchemaError);
  json properties = json::object();
  for (int i = 0; i < 65; ++i) properties["p" + std::to_string(i)] = {{"type", "null"}};
  try {
    (void)JsonSchema::compile({{"type", "object"}, {"properties", properties}});
    ADD_FAILURE() << "65 properties compiled";
  } catch (const JsonSchemaError& e) {
    EXPECT_EQ(e.pointer(), "/properties");
  }
}

TEST(JsonSchema, RefusesSchemasNestedTooDeepToCompile) {
  json deep = {{"type", "string"}};  // optional nesting: satisfiable, but too deep to compile
  for (int i = 0; i < 5000; ++i) deep = {{"items", deep}};
  EXPECT_THROW((void)JsonSchema::compile(deep), JsonSchemaError);
  json defs = json::object();  // the same through a chain of references
  for (int i = 0; i < 5000; ++i)
    defs["d" + std::to_string(i)] = {{"anyOf", {{{"$ref", "#/$defs/d" + std::to_string(i + 1)}}, {{"type", "null"}}}}};
  defs["d5000"] = {{"type", "null"}};
  EXPECT_THROW((void)JsonSchema::compile({{"$defs", defs}, {"$ref", "#/$defs/d0"}}), JsonSchemaError);
}

TEST(JsonRecognizer, NestingAndBlankLimits) {
  const JsonSchema& any = JsonSchema::any_object();
  JsonKeyLog log;
  JsonRecognizer r(any, log);
  EXPECT_FALSE(r.feed("{\"a\":" + std::string(40, '[')));
  JsonRecognizer blanks(any, log);
  EXPECT_FALSE(blanks.feed("{" + std::string(JsonRecognizer::kMaxBlankRun + 1, ' ')));
  // A recursive optional part stops being offered where it would not fit: the walk below
  // keeps opening arrays until only closing is left, and the document still completes.
  const JsonSchema nested = JsonSchema::compile(json::parse(R"({"type": "array", "items": {"$ref": "#"}})"));
  JsonRecognizer deep(nested, log);
  int opened = 0;
  while (true) {
    JsonRecognizer next = deep;
    if (!next.feed('[')) break;
    deep = next;
    ++opened;
  }
  EXPECT_EQ(opened, JsonRecognizer::kMaxDepth);
  for (int i = 0; i < opened; ++i) ASSERT_TRUE(deep.feed(']'));
  EXPECT_TRUE(deep.complete());
}

TEST(JsonRecognizer, ExtraKeysMayNotRepeat) {
  const JsonSchema& any = JsonSchema::any_object();
  JsonKeyLog log;
  JsonRecognizer r(any, log);
  ASSERT_TRUE(r.feed(R"({"k":1,"k2":{"k":2},"kk":3,)"));  // the same key in another object is fine
  JsonRecognizer again = r;
  EXPECT_FALSE(again.feed(R"("k")"));
  JsonRecognizer longer = r;
  EXPECT_TRUE(longer.feed(R"("k3":4})"));
  EXPECT_TRUE(longer.complete());
}

TEST(JsonRecognizer, LossyBytesOnlyInsideStringsWithoutAMinimum) {
  JsonKeyLog log;
  const JsonSchema free = JsonSchema::compile(json::parse(R"({"type": "string", "maxLength": 2})"));
  JsonRecognizer a(free, log);
  EXPECT_TRUE(a.feed("\"\xFF\xFF"));
  EXPECT_FALSE(JsonRecognizer(a).feed('x'));  // 0xFF counts towards maxLength
  EXPECT_TRUE(a.feed('"'));
  const JsonSchema minimum = JsonSchema::compile(json::parse(R"({"type": "string", "minLength": 1})"));
  JsonRecognizer b(minimum, log);
  EXPECT_FALSE(b.feed("\"\xFF"));
  JsonRecognizer c(JsonSchema::any_object(), log);
  EXPECT_FALSE(c.feed("{\"\xFF"));  // not in keys
  JsonRecognizer d(JsonSchema::any_object(), log);
  EXPECT_FALSE(d.feed("{\"a\":\xFF"));  // nor outside strings
}

// Random walks over single bytes: from every state some byte continues or the document is
// complete (no dead ends), and the completed documents are JSON by nlohmann's parser.
TEST(JsonRecognizer, RandomWalksNeverDeadEndAndCompleteAsJson) {
  std::mt19937 rng(1234);
  int completed = 0;
  for (const auto& c : cases_file()["cases"]) {
    SCOPED_TRACE(c["name"].get<std::string>());
    const JsonSchema schema = JsonSchema::compile(c["schema"]);
    for (int walk = 0; walk < 40; ++walk) {
      JsonKeyLog log;
      JsonRecognizer r(schema, log);
      std::string text;
      for (int step = 0; step < 400; ++step) {
        std::vector<std::pair<unsigned char, double>> options;
        double total = 0;
        for (int b = 0; b < 256; ++b) {
          JsonRecognizer next = r;
          if (!next.feed(static_cast<char>(b))) continue;
          // Closing characters grow likelier as the text grows, so most walks finish.
          double w = (b == '"' || b == '}' || b == ']') ? 1.0 + step * 0.5 : 1.0;
          if (b >= 0x80) w = 0.05;
          options.emplace_back(static_cast<unsigned char>(b), w);
          total += w;
        }
        if (options.empty()) {
          ASSERT_TRUE(r.complete()) << "dead end after " << text;
          break;
        }
        if (r.complete() && std::uniform_real_distribution<double>(0, 1)(rng) < 0.5) break;
        double pick = std::uniform_real_distribution<double>(0, total)(rng);
        unsigned char chosen = options.back().first;
        for (const auto& [b, w] : options) {
          if (pick < w) {
            chosen = b;
            break;
          }
          pick -= w;
        }
        ASSERT_TRUE(r.feed(static_cast<char>(chosen)));
        text += static_cast<char>(chosen);
      }
      if (!r.complete()) continue;
      ++completed;
      EXPECT_TRUE(json::accept(text)) << text;
      EXPECT_TRUE(accepts(schema, text)) << text;  // replaying the text gives the same verdict
    }
  }
  EXPECT_GT(completed, 500);
}

// The constraint's mask against the definition: token t is allowed iff feeding its text to the
// current state succeeds (end tokens iff the document is complete).
void expect_mask_matches(const std::shared_ptr<const server::TokenPieces>& pieces,
                         const JsonSchema& schema, uint32_t seed, int steps,
                         int* plain_steps = nullptr) {
  const int32_t end_id = static_cast<int32_t>(pieces->size());  // past every piece
  auto schema_ptr = std::shared_ptr<const JsonSchema>(&schema, [](const JsonSchema*) {});
  auto constraint = server::make_json_schema_constraint(pieces, schema_ptr, {end_id});
  JsonKeyLog log;
  JsonRecognizer state(schema, log);
  std::mt19937 rng(seed);
  std::vector<float> logits(pieces->size() + 1);
  for (int step = 0; step < steps; ++step) {
    std::fill(logits.begin(), logits.end(), 0.0f);
    constraint->mask(logits);
    if (plain_steps && state.plain_budget() >= 0) ++*plain_steps;
    std::vector<int32_t> allowed;
    for (size_t id = 0; id < pieces->size(); ++id) {
      const auto t = static_cast<int32_t>(id);
      JsonRecognizer next = state;
      const bool expected = pieces->usable(t) && next.feed(pieces->piece(t));
      ASSERT_EQ(logits[id] == 0.0f, expected) << "step " << step << " token " << id << " '"
                                              << pieces->piece(t) << "'";
      if (expected) allowed.push_back(t);
    }
    ASSERT_EQ(logits[pieces->size()] == 0.0f, state.complete()) << "step " << step;
    if (allowed.empty()) {
      ASSERT_TRUE(state.complete());
      return;
    }
    // Prefer closing tokens more and more, as a model that finishes would.
    std::vector<int32_t> closing;
    for (int32_t t : allowed)
      if (pieces->piece(t).find_first_of("\"}]") != std::string::npos) closing.push_back(t);
    const bool close = !closing.empty() && std::uniform_int_distribution<int>(0, steps)(rng) < step;
    const auto& from = close ? closing : allowed;
    const int32_t t = from[std::uniform_int_distribution<size_t>(0, from.size() - 1)(rng)];
    constraint->accept(t);
    ASSERT_TRUE(state.feed(pieces->piece(t)));
  }
}

TEST(JsonConstraint, TrieMaskEqualsFeedingEachPiece) {
  std::vector<std::string> pieces = {
      "{", "}", "[", "]", "\"", ":", ",", " ", "  ", "\n", "{\"", "\":", "\",", "\"}", "\"]", "\":\"",
      "name", "na", "me", "age", "kind", "circle", "rect", "r", "w", "h", "x", "y", "from", "to",
      "1", "12", "-", "0", ".", "5", "e", "+", "true", "false", "null", "nu", "ll", "tr",
      "\\", "\\\"", "\\n", "\\u", "00e9", "d83d", "\\ude00", "caf", "\xC3\xA9", "\xE4\xB8\xAD",
      "\xFF", "a\xFF", "hello world", "value", "children", "tags", "meta", "ok", "\t", "\"\"",
      "},{\"", "],", "a", "b", "ab", "abcd", "abcde", "[]", "{}", "\x01", "\":[", "\":{\"", "k", "kk"};
  // Every printable ASCII character alone, so any document can be spelled (no dead ends).
  for (char ch = 0x20; ch < 0x7F; ++ch) pieces.emplace_back(1, ch);
  pieces.push_back("\xC3\xBC");  // ü, for the escaped-names case
  pieces.push_back("");          // an unusable id
  auto tp = std::make_shared<const server::TokenPieces>(pieces);
  int plain = 0;
  uint32_t seed = 0;
  for (const auto& c : cases_file()["cases"]) {
    SCOPED_TRACE(c["name"].get<std::string>());
    const JsonSchema schema = JsonSchema::compile(c["schema"]);
    for (int run = 0; run < 6; ++run) expect_mask_matches(tp, schema, ++seed, 60, &plain);
  }
  EXPECT_GT(plain, 100);  // the plain-token shortcut was exercised
}

TEST(JsonConstraint, TrieMaskEqualsFeedingEachPieceOnQwen3) {
  const std::string path = materialize_maybe_gz(data_path("tokenizers/qwen3/tokenizer.json"));
  const auto tok = Tokenizer::from_file(path);
  auto pieces = std::make_shared<const server::TokenPieces>(*tok, tok->vocab_size());
  // Tokens that are part of a character get their raw bytes (a continuation byte first).
  int partial = 0;
  for (size_t i = 0; i < pieces->size(); ++i) {
    const auto id = static_cast<int32_t>(i);
    if (!pieces->usable(id)) continue;
    const auto first = static_cast<unsigned char>(pieces->piece(id)[0]);
    partial += first >= 0x80 && first < 0xC0;
    // Only the token of the raw byte 0xFF itself (never valid UTF-8, so read as lossy).
    if (pieces->piece(id).find('\xFF') != std::string::npos) {
      EXPECT_EQ(pieces->piece(id), "\xFF");
    }
  }
  EXPECT_GT(partial, 100);
  const JsonSchema schema = JsonSchema::compile(json::parse(
      R"({"type": "object", "properties": {"name": {"type": "string", "maxLength": 12},
          "tags": {"type": "array", "items": {"enum": ["a", "b c"]}}},
          "required": ["name"]})"));
  expect_mask_matches(pieces, schema, 7, 24);
  expect_mask_matches(pieces, JsonSchema::any_object(), 8, 24);
}

}  // namespace
}  // namespace lmkit::testing
