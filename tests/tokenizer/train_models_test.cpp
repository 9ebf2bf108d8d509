// SentencePiece-style BPE and WordPiece training: the rules of Hugging Face's BpeTrainer with a
// character alphabet (worked out by hand below from trainer.rs: alphabet by code point, the
// "##" continuing forms, merges by count then smallest pair, prefix dropped on the right side),
// limit_alphabet, the byte-fallback tokens, the option errors, and the saved files loading
// back into lmkit's own encoder on the shared sample corpus.
#include <gtest/gtest.h>

#include <filesystem>
#include <fstream>
#include <nlohmann/json.hpp>

#include "lmkit/base/error.h"
#include "lmkit/tokenizer/tokenizer.h"
#include "lmkit/tokenizer/train/bpe_trainer.h"
#include "lmkit/tokenizer/train/tokenizer_files.h"
#include "lmkit/tokenizer/train/train_from_corpus.h"
#include "lmkit/tokenizer/train/training_recipe.h"
#include "lmkit/tokenizer/train/word_counts.h"
#include "support/test_data.h"

namespace lmkit::bpe_train {
namespace {

std::vector<std::string> texts(const TrainedBpe& m) {
  std::vector<std::string> out;
  for (size_t i = 0; i < m.tokens.size(); ++i) out.push_back(token_text(m, i));
  return out;
}

std::string expect_error(const std::function<void()>& fn) {
  try {
    fn();
  } catch (const Error& e) {
    return e.what();
  }
  ADD_FAILURE() << "no lmkit::Error thrown";
  return "";
}

// The word counts of Hugging Face's course chapter on WordPiece.
WordCounts hug_pug_pun() {
  WordCounts w;
  for (auto [word, n] : std::vector<std::pair<const char*, int>>{
           {"hug", 10}, {"pug", 5}, {"pun", 12}, {"bun", 4}, {"hugs", 5}})
    w.add(word, static_cast<uint64_t>(n));
  return w;
}

TEST(WordPieceTraining, ContinuingPrefixFollowsBpeTrainer) {
  BpeTrainerOptions o;
  o.characters = true;
  o.continuing_subword_prefix = "##";
  o.special_tokens = {"[UNK]"};
  o.vocab_size = 19;
  TrainedBpe m = train_bpe(hug_pug_pun(), o);
  // Words: h ##u ##g (10), p ##u ##g (5), p ##u ##n (12), b ##u ##n (4), h ##u ##g ##s (5).
  // Pairs: (##u,##g) 20, (p,##u) 17, (##u,##n) 16, (h,##u) 15, (##g,##s) 5, (b,##u) 4.
  // 1. ##u ##g -> ##ug (20)   2. ##u ##n -> ##un (16)   3. h ##ug -> hug (15)
  // 4. p ##un -> pun (12)     5. p ##ug -> pug (5, ties with (hug,##s) and is the smaller pair)
  // 6. hug ##s -> hugs (5)    7. b ##un -> bun (4)
  const std::vector<std::string> expected = {"[UNK]", "b",    "g",   "h",   "n",    "p",
                                             "s",     "u",    "##g", "##n", "##s",  "##u",
                                             "##ug",  "##un", "hug", "pun", "pug",  "hugs",
                                             "bun"};
  EXPECT_EQ(texts(m), expected);
  EXPECT_FALSE(m.byte_level);
  ASSERT_EQ(m.merges.size(), 7u);
  EXPECT_EQ(m.merges[0].left, 11);  // ##u
  EXPECT_EQ(m.merges[0].right, 8);  // ##g
  EXPECT_EQ(m.merges[2].left, 3);   // h + ##ug: the prefix of the right side is dropped
  EXPECT_EQ(m.merges[2].right, 12);
  EXPECT_EQ(m.merges[2].result, 14);
}

TEST(WordPieceTraining, ContinuingOrderSetsTheIdsOfThePrefixedForms) {
  BpeTrainerOptions o;
  o.characters = true;
  o.continuing_subword_prefix = "##";
  o.continuing_order = {"##u", "##s"};  // the rest (##g, ##n) follow by code point
  o.vocab_size = 13;
  TrainedBpe m = train_bpe(hug_pug_pun(), o);
  const std::vector<std::string> expected = {"b",   "g",   "h",   "n",   "p",  "s",   "u",
                                             "##u", "##s", "##g", "##n", "##ug"};
  // 11 symbols leave room for two merges: (##u, ##g) at 20, then (##u, ##n) at 16.
  const auto all = texts(m);
  ASSERT_EQ(all.size(), 13u);
  EXPECT_EQ(std::vector<std::string>(all.begin(), all.begin() + 12), expected);
  ASSERT_EQ(m.merges.size(), 2u);
  EXPECT_EQ(token_text(m, 12), "##un");
}

TEST(WordPieceTraining, StopsAtVocabSizeAndMinFrequency) {
  BpeTrainerOptions o;
  o.characters = true;
  o.continuing_subword_prefix = "##";
  o.vocab_size = 30000;
  o.min_frequency = 12;
  TrainedBpe m = train_bpe(hug_pug_pun(), o);
  // Merges of count 20, 16, 15 and 12; the next best has 5.
  EXPECT_EQ(m.merges.size(), 4u);
  EXPECT_EQ(token_text(m, m.tokens.size() - 1), "pun");
}

TEST(CharacterTraining, LimitAlphabetDropsTheRarestFromTheWords) {
  WordCounts w;
  w.add("ab", 3);
  w.add("a\u2603b", 2);  // the snowman is dropped: "a" and "b" become neighbours
  w.add("c", 1);
  BpeTrainerOptions o;
  o.characters = true;
  o.limit_alphabet = 2;
  o.vocab_size = 100;
  TrainedBpe m = train_bpe(w, o);
  EXPECT_EQ(texts(m), (std::vector<std::string>{"a", "b", "ab"}));
  ASSERT_EQ(m.merges.size(), 1u);

  // Equal counts at the cut: the higher code point goes first (Hugging Face's choice there
  // depends on its hash order).
  WordCounts tie;
  tie.add("x", 1);
  tie.add("y", 1);
  tie.add("z", 1);
  o.limit_alphabet = 2;
  EXPECT_EQ(texts(train_bpe(tie, o)), (std::vector<std::string>{"x", "y"}));
}

TEST(CharacterTraining, ADroppedCharacterThatIsSpecialStaysInTheWords) {
  WordCounts w;
  w.add("aab", 5);
  w.add("\u2603a", 1);
  BpeTrainerOptions o;
  o.characters = true;
  o.limit_alphabet = 2;
  o.special_tokens = {"\u2603"};
  o.vocab_size = 100;
  TrainedBpe m = train_bpe(w, o);
  // (a,a) 5, (a,b) 5, (☃,a) 1: the snowman keeps its special id 0 inside words.
  EXPECT_EQ(texts(m), (std::vector<std::string>{"\u2603", "a", "b", "aa", "aab", "\u2603a"}));
}

TEST(SentencePieceTraining, ByteFallbackTokensFollowTheSpecialTokens) {
  TrainingRequest r;
  r.layout = TokenizerLayout::SentencePieceBpe;
  r.vocab_size = 300;
  TrainingRecipe recipe = make_training_recipe(r);
  WordCounts w;
  w.add("\u2581low", 5);
  w.add("\u2581lower", 2);
  TrainedBpe m = train_bpe(w, recipe.trainer);
  const auto t = texts(m);
  ASSERT_GE(t.size(), 259u + 6u);
  EXPECT_EQ(t[0], "<unk>");
  EXPECT_EQ(t[1], "<s>");
  EXPECT_EQ(t[2], "</s>");
  EXPECT_EQ(t[3], "<0x00>");
  EXPECT_EQ(t[3 + 0x41], "<0x41>");
  EXPECT_EQ(t[258], "<0xFF>");
  EXPECT_EQ(m.special_count, 3u);
  EXPECT_EQ(m.reserved_count, 256u);
  // Alphabet by code point: e l o r w ▁ (ids 259..264). (▁,l) (l,o) (o,w) all count 7 and
  // (l,o) = (260, 261) is the smallest pair; then (▁,lo) and (lo,w) tie at 7, and so on.
  EXPECT_EQ(std::vector<std::string>(t.begin() + 259, t.end()),
            (std::vector<std::string>{"e", "l", "o", "r", "w", "\u2581", "lo", "\u2581lo", "\u2581low",
                                      "er", "\u2581lower"}));
}

TEST(TrainingErrors, VocabSmallerThanAlphabetAndByteTokens) {
  TrainingRequest r;
  r.layout = TokenizerLayout::SentencePieceBpe;
  r.vocab_size = 200;  // below 3 specials + 256 byte tokens
  TrainingRecipe recipe = make_training_recipe(r);
  WordCounts w;
  w.add("\u2581ab", 1);
  std::string msg = expect_error([&] { train_bpe(w, recipe.trainer); });
  EXPECT_NE(msg.find("vocab size 200"), std::string::npos) << msg;
  EXPECT_NE(msg.find("256 byte-fallback tokens"), std::string::npos) << msg;

  // Room for the byte tokens but not the 3-character alphabet.
  r.vocab_size = 261;
  recipe = make_training_recipe(r);
  msg = expect_error([&] { train_bpe(w, recipe.trainer); });
  EXPECT_NE(msg.find("3-character alphabet"), std::string::npos) << msg;
  EXPECT_NE(msg.find("262 tokens before any merge"), std::string::npos) << msg;

  // WordPiece counts the "##" forms too.
  r.layout = TokenizerLayout::WordPiece;
  r.vocab_size = 9;  // 5 specials, a, b, ##a, ##b: no room for a merge
  recipe = make_training_recipe(r);
  WordCounts ab;
  ab.add("ab", 1);
  ab.add("ba", 1);
  EXPECT_EQ(train_bpe(ab, recipe.trainer).merges.size(), 0u);
  r.vocab_size = 8;
  recipe = make_training_recipe(r);
  msg = expect_error([&] { train_bpe(ab, recipe.trainer); });
  EXPECT_NE(msg.find("2 \"##\"-prefixed forms"), std::string::npos) << msg;
}

TEST(TrainingErrors, SpecialTokensTheModelNeeds) {
  TrainingRequest r;
  r.layout = TokenizerLayout::WordPiece;
  r.special_tokens = std::vector<std::string>{"[UNK]", "[SEP]"};
  std::string msg = expect_error([&] { make_training_recipe(r); });
  EXPECT_NE(msg.find("cls token \"[CLS]\""), std::string::npos) << msg;

  r.layout = TokenizerLayout::SentencePieceBpe;
  r.special_tokens = std::vector<std::string>{"<s>", "</s>"};
  msg = expect_error([&] { make_training_recipe(r); });
  EXPECT_NE(msg.find("unk token \"<unk>\""), std::string::npos) << msg;

  r.special_tokens = std::vector<std::string>{"<unk>", "<s>", "<unk>"};
  TrainingRecipe recipe = make_training_recipe(r);
  msg = expect_error([&] { validate_bpe_trainer_options(recipe.trainer); });
  EXPECT_NE(msg.find("\"<unk>\" is given twice"), std::string::npos) << msg;

  r.special_tokens = std::vector<std::string>{"<unk>", "<0x0A>"};
  recipe = make_training_recipe(r);
  msg = expect_error([&] { validate_bpe_trainer_options(recipe.trainer); });
  EXPECT_NE(msg.find("\"<0x0A>\" collides with a byte-fallback token"), std::string::npos) << msg;

  TrainingRequest bpe;
  bpe.limit_alphabet = 100;
  msg = expect_error([&] { make_training_recipe(bpe); });
  EXPECT_NE(msg.find("--limit-alphabet"), std::string::npos) << msg;
  EXPECT_FALSE(parse_tokenizer_layout("unigram"));
}

TEST(TrainingErrors, EmptyCorpus) {
  const std::string dir = testing::temp_dir() + "/train_models_empty";
  std::filesystem::create_directories(dir);
  const std::string file = dir + "/empty.jsonl";
  std::ofstream(file) << "\n{\"other\": \"x\"}\n";
  CorpusOptions corpus;
  corpus.files = {file};
  for (TokenizerLayout layout : {TokenizerLayout::SentencePieceBpe, TokenizerLayout::WordPiece}) {
    TrainingRequest r;
    r.layout = layout;
    TrainingRecipe recipe = make_training_recipe(r);
    CorpusStats stats;
    std::string msg =
        expect_error([&] { train_bpe_on_corpus(corpus, recipe.trainer, recipe.pre_tokenize, stats); });
    EXPECT_NE(msg.find("no text to train on"), std::string::npos) << msg;
    EXPECT_NE(msg.find("1 lines skipped"), std::string::npos) << msg;
  }
}

// Trains on the shared sample, saves, loads the files back with lmkit's loader and checks
// what must hold of any such tokenizer.
class TrainedOnSample : public ::testing::TestWithParam<TokenizerLayout> {
 protected:
  static TrainedBpe train(TokenizerLayout layout, const std::string& out) {
    TrainingRequest r;
    r.layout = layout;
    r.vocab_size = 2000;
    r.limit_alphabet = 1000;  // the sample has 5,700 distinct characters (Chinese)
    TrainingRecipe recipe = make_training_recipe(r);
    CorpusOptions corpus;
    corpus.files = {testing::data_path("corpus/sample.jsonl")};
    CorpusStats stats;
    TrainedBpe m = train_bpe_on_corpus(corpus, recipe.trainer, recipe.pre_tokenize, stats);
    write_tokenizer_files(out, m, recipe.files);
    return m;
  }
};

TEST_P(TrainedOnSample, SavedFilesLoadAndEncode) {
  const TokenizerLayout layout = GetParam();
  const std::string out = testing::temp_dir() + "/train_models_" + tokenizer_layout_name(layout);
  TrainedBpe m = train(layout, out);
  EXPECT_EQ(m.tokens.size(), 2000u);
  for (const std::string& name : tokenizer_file_names(layout))
    EXPECT_TRUE(std::filesystem::exists(out + "/" + name)) << name;
  EXPECT_FALSE(std::filesystem::exists(out + "/merges.txt"));  // only byte-level BPE has one
  auto tok = Tokenizer::from_file(out + "/tokenizer.json");
  ASSERT_EQ(tok->vocab_size(), 2000);
  for (size_t i = 0; i < m.tokens.size(); ++i)
    ASSERT_EQ(tok->id_to_token(static_cast<int32_t>(i)), token_text(m, i)) << i;

  const std::string text = "The quick brown fox, naïve café \u2603 \U0001F600 tokenizers!";
  const std::vector<int32_t> ids = tok->encode(text, true);
  ASSERT_FALSE(ids.empty());
  const auto config = nlohmann::json::parse(testing::read_file_maybe_gz(out + "/tokenizer_config.json"));
  if (layout == TokenizerLayout::SentencePieceBpe) {
    EXPECT_EQ(ids.front(), 1);  // <s>
    EXPECT_EQ(config["bos_token"], "<s>");
    EXPECT_EQ(config["unk_token"], "<unk>");
    // Byte fallback: nothing is unknown, and decoding gives the text back.
    for (int32_t id : ids) EXPECT_NE(id, 0) << "unk in the encoding";
    EXPECT_EQ(tok->decode(ids, true), text);
    // The emoji is not in the sample: its four bytes.
    const auto emoji = tok->encode("\U0001F600", false);
    EXPECT_EQ(emoji, (std::vector<int32_t>{*tok->token_to_id("\u2581"), 3 + 0xF0, 3 + 0x9F, 3 + 0x98,
                                           3 + 0x80}));
  } else {
    EXPECT_EQ(ids.front(), 2);  // [CLS]
    EXPECT_EQ(ids.back(), 3);   // [SEP]
    EXPECT_EQ(config["cls_token"], "[CLS]");
    EXPECT_EQ(config["do_lower_case"], true);
    // Lowercased words only (BertNormalizer ran before the words were counted).
    for (size_t i = m.special_count; i < m.tokens.size(); ++i)
      for (char c : m.tokens[i]) ASSERT_FALSE(c >= 'A' && c <= 'Z') << m.tokens[i];
    EXPECT_EQ(tok->decode(tok->encode("the fox", false), true), "the fox");
    std::ifstream vocab(out + "/vocab.txt");
    std::string line;
    size_t n = 0;
    while (std::getline(vocab, line)) ASSERT_EQ(line, token_text(m, n++));
    EXPECT_EQ(n, m.tokens.size());
  }
  // Every merge makes a token out of two earlier ones.
  for (const auto& merge : m.merges) {
    ASSERT_LT(merge.left, merge.result);
    ASSERT_LT(merge.right, merge.result);
  }
}

INSTANTIATE_TEST_SUITE_P(Layouts, TrainedOnSample,
                         ::testing::Values(TokenizerLayout::SentencePieceBpe, TokenizerLayout::WordPiece),
                         [](const auto& info) {
                           return info.param == TokenizerLayout::WordPiece ? "WordPiece" : "SentencePieceBpe";
                         });

}  // namespace
}  // namespace lmkit::bpe_train
