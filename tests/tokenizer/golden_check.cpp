#include "golden_check.h"

#include <gtest/gtest.h>

#include <nlohmann/json.hpp>
#include <sstream>

#include "support/test_data.h"

namespace lmkit::testing {
namespace {

using nlohmann::json;

std::vector<std::pair<uint32_t, uint32_t>> offsets_of(const json& j) {
  std::vector<std::pair<uint32_t, uint32_t>> out;
  for (const json& o : j) out.emplace_back(o[0].get<uint32_t>(), o[1].get<uint32_t>());
  return out;
}

}  // namespace

int check_golden_vectors(const Tokenizer& tok, const std::string& vectors_jsonl_path) {
  std::istringstream lines(read_file_maybe_gz(vectors_jsonl_path));
  std::string line;
  int checked = 0;
  while (std::getline(lines, line)) {
    json v = json::parse(line);
    std::string input = v["text"];
    SCOPED_TRACE(v["id"].get<std::string>() + " (" + v["category"].get<std::string>() + "): " + input.substr(0, 80));
    if (v["category"] == "pair") {
      Encoding p = tok.encode_pair(input, v["pair"].get<std::string>(), true);
      EXPECT_EQ(p.ids, v["pair_ids"].get<std::vector<int32_t>>());
      EXPECT_EQ(p.tokens, v["pair_tokens"].get<std::vector<std::string>>());
      EXPECT_EQ(p.type_ids, v["pair_type_ids"].get<std::vector<uint32_t>>());
      EXPECT_EQ(p.offsets, offsets_of(v["pair_offsets"]));
      if (v.contains("pair_sequence_ids")) {
        std::vector<int32_t> want;  // null (a special token) is -1 in Encoding
        for (const json& s : v["pair_sequence_ids"]) want.push_back(s.is_null() ? -1 : s.get<int32_t>());
        EXPECT_EQ(p.sequence_ids, want);
      }
    }
    Encoding plain = tok.encode_full(input, false);
    EXPECT_EQ(plain.ids, v["ids"].get<std::vector<int32_t>>());
    EXPECT_EQ(plain.tokens, v["tokens"].get<std::vector<std::string>>());
    EXPECT_EQ(plain.offsets, offsets_of(v["offsets"]));
    Encoding special = tok.encode_full(input, true);
    EXPECT_EQ(special.ids, v["ids_with_special"].get<std::vector<int32_t>>());
    EXPECT_EQ(special.tokens, v["tokens_with_special"].get<std::vector<std::string>>());
    EXPECT_EQ(special.offsets, offsets_of(v["offsets_with_special"]));
    EXPECT_EQ(special.special_tokens_mask, v["special_tokens_mask"].get<std::vector<uint8_t>>());
    EXPECT_EQ(tok.decode(special.ids, false), v["decode_keep_special"].get<std::string>());
    EXPECT_EQ(tok.decode(special.ids, true), v["decode_skip_special"].get<std::string>());
    ++checked;
  }
  return checked;
}

}  // namespace lmkit::testing
