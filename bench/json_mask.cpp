// Cost of one constrained-decoding mask (response_format json_object / json_schema) over a
// real vocabulary, against two references measured in the same run:
//   bench_json_mask TOKENIZER.json [RANDOM_SHAPE THREADS]
// - "naive": the same recognizer fed every token's text one by one (what masking costs
//   without the trie and the plain-token shortcut);
// - "decode step": one unconstrained decode step of a random model of RANDOM_SHAPE (e.g.
//   qwen2.5-0.5b) on THREADS threads, as `lmkit bench --random` measures it.
// For each state (a prefix of a document fed token by token) it prints one JSON line with the
// mean milliseconds per mask of both methods and the ratios; the last lines sample whole
// generations (random allowed tokens until the document closes) and average every step.
#include <chrono>
#include <cstdio>
#include <limits>
#include <memory>
#include <random>
#include <string>
#include <vector>

#include <nlohmann/json.hpp>

#include "lmkit/base/thread_pool.h"
#include "lmkit/engine/loaded_model.h"
#include "lmkit/engine/speed_test.h"
#include "lmkit/models/model.h"
#include "lmkit/server/json_constraint.h"
#include "lmkit/server/json_grammar.h"
#include "lmkit/server/json_schema.h"
#include "lmkit/tokenizer/tokenizer.h"

namespace {

using lmkit::server::JsonKeyLog;
using lmkit::server::JsonRecognizer;
using lmkit::server::JsonSchema;
using Clock = std::chrono::steady_clock;

double ms_since(Clock::time_point t) {
  return std::chrono::duration<double, std::milli>(Clock::now() - t).count();
}

struct Setup {
  std::shared_ptr<const lmkit::server::TokenPieces> pieces;
  int32_t end_id;
};

// The constraint and a bare recognizer, both after `prefix` (fed as the tokenizer encodes it).
struct State {
  std::unique_ptr<lmkit::engine::LogitsConstraint> constraint;
  JsonKeyLog log;
  std::unique_ptr<JsonRecognizer> recognizer;
};

std::unique_ptr<State> state_after(const Setup& s, const lmkit::Tokenizer& tok,
                                   const std::shared_ptr<const JsonSchema>& schema,
                                   const std::string& prefix) {
  auto st = std::make_unique<State>();
  st->constraint = lmkit::server::make_json_schema_constraint(s.pieces, schema, {s.end_id});
  st->recognizer = std::make_unique<JsonRecognizer>(*schema, st->log);
  for (int32_t id : tok.encode(prefix, false)) {
    st->constraint->accept(id);
    if (!st->recognizer->feed(s.pieces->piece(id))) lmkit::throw_error("prefix refused: " + prefix);
  }
  return st;
}

size_t naive_mask(const Setup& s, const JsonRecognizer& state, std::vector<float>& logits) {
  size_t allowed = 0;
  for (size_t i = 0; i < s.pieces->size(); ++i) {
    const auto id = static_cast<int32_t>(i);
    JsonRecognizer next = state;
    const bool ok = s.pieces->usable(id) && next.feed(s.pieces->piece(id));
    logits[i] = ok ? 0.0f : -std::numeric_limits<float>::infinity();
    allowed += ok;
  }
  return allowed;
}

int run(int argc, char** argv) {
  if (argc != 2 && argc != 4) {
    std::fprintf(stderr, "usage: %s TOKENIZER.json [RANDOM_SHAPE THREADS]\n", argv[0]);
    return 2;
  }
  auto tok = lmkit::Tokenizer::from_file(argv[1]);
  auto t0 = Clock::now();
  Setup s{std::make_shared<const lmkit::server::TokenPieces>(*tok, tok->vocab_size()), tok->vocab_size()};
  std::printf("%s\n", nlohmann::json{{"vocab", tok->vocab_size()},
                                     {"trie_nodes", s.pieces->trie().nodes.size()},
                                     {"non_plain_trie_nodes", s.pieces->non_plain_trie().nodes.size()},
                                     {"plain_tokens", s.pieces->plain_ids().size()},
                                     {"index_ms", ms_since(t0)}}.dump().c_str());

  double step_ms = 0;
  if (argc == 4) {
    lmkit::engine::LoadOptions lo;
    lo.random_shape = argv[2];
    const auto model = lmkit::engine::load_model("", lo);
    lmkit::ThreadPool pool(std::stoi(argv[3]));
    lmkit::engine::SpeedTestOptions o;
    o.n_prompt = 0;
    o.n_gen = 32;
    o.repetitions = 2;
    const auto r = lmkit::engine::run_speed_test(model.model(), pool, o);
    step_ms = 1000.0 / r.decode.mean_tokens_per_s;
    std::printf("%s\n", nlohmann::json{{"decode_step_ms", step_ms}, {"shape", argv[2]},
                                       {"threads", pool.size()}}.dump().c_str());
  }

  auto object = lmkit::server::json_object_schema();
  auto person = std::make_shared<const JsonSchema>(JsonSchema::compile(nlohmann::json::parse(R"({
    "type": "object", "additionalProperties": false, "required": ["name", "age", "tags", "bio"],
    "properties": {"name": {"type": "string", "maxLength": 40}, "age": {"type": "integer"},
      "tags": {"type": "array", "items": {"enum": ["red", "green", "blue"]}, "maxItems": 5},
      "bio": {"type": "string"}, "address": {"anyOf": [{"type": "null"},
        {"type": "object", "properties": {"city": {"type": "string"}}, "required": ["city"],
         "additionalProperties": false}]}}})")));
  struct Case {
    const char* name;
    std::shared_ptr<const JsonSchema> schema;
    std::string prefix;
  };
  const std::vector<Case> cases = {
      {"json_object: after {", object, "{"},
      {"json_object: free string value", object, "{\"story\": \"Once upon a time there"},
      {"json_object: free key", object, "{\"sto"},
      {"json_object: after a value", object, "{\"a\": 12"},
      {"schema: a declared key", person, "{\"na"},
      {"schema: value of age", person, "{\"name\": \"Ann\", \"age\":"},
      {"schema: string with maxLength", person, "{\"name\": \"Ann Smi"},
      {"schema: enum in array", person, "{\"tags\": [\"red\", "},
      {"schema: anyOf value", person, "{\"address\": "},
  };
  std::vector<float> logits(s.pieces->size());
  constexpr int kRepeats = 5;
  for (const auto& c : cases) {
    auto st = state_after(s, *tok, c.schema, c.prefix);
    double trie_ms = 0;
    for (int i = 0; i < kRepeats; ++i) {
      std::fill(logits.begin(), logits.end(), 0.0f);
      const auto t = Clock::now();
      st->constraint->mask(logits);
      trie_ms += ms_since(t) / kRepeats;
    }
    size_t allowed = 0;
    for (float v : logits) allowed += v == 0.0f;
    const auto t = Clock::now();
    size_t naive_allowed = 0;
    for (int i = 0; i < kRepeats; ++i) naive_allowed = naive_mask(s, *st->recognizer, logits);
    const double naive_ms = ms_since(t) / kRepeats;
    nlohmann::json line = {{"state", c.name}, {"allowed", allowed}, {"naive_allowed", naive_allowed},
                           {"mask_ms", trie_ms}, {"naive_ms", naive_ms},
                           {"naive_over_mask", naive_ms / trie_ms}};
    if (step_ms > 0) line["mask_over_decode_step"] = trie_ms / step_ms;
    std::printf("%s\n", line.dump().c_str());
  }

  // Whole generations: random allowed tokens, closing ones likelier as the text grows.
  for (const auto& [name, schema] : {std::pair{"json_object", object}, std::pair{"schema", person}}) {
    std::mt19937 rng(7);
    double total_ms = 0;
    int steps = 0, completed = 0;
    for (int doc = 0; doc < 5; ++doc) {
      auto constraint = lmkit::server::make_json_schema_constraint(s.pieces, schema, {s.end_id});
      for (int step = 0; step < 300; ++step) {
        std::fill(logits.begin(), logits.end(), 0.0f);
        auto t = Clock::now();
        constraint->mask(logits);
        total_ms += ms_since(t);
        ++steps;
        std::vector<int32_t> allowed, closing;
        for (size_t i = 0; i < logits.size(); ++i)
          if (logits[i] == 0.0f) {
            allowed.push_back(static_cast<int32_t>(i));
            const std::string& p = s.pieces->piece(static_cast<int32_t>(i));
            if (p.find_first_of("\"}]") != std::string::npos) closing.push_back(static_cast<int32_t>(i));
          }
        if (allowed.empty()) {  // complete: the end token alone was left (past the vocab)
          ++completed;
          break;
        }
        const bool close = !closing.empty() && std::uniform_int_distribution<int>(0, 60)(rng) < step;
        const auto& from = close ? closing : allowed;
        constraint->accept(from[std::uniform_int_distribution<size_t>(0, from.size() - 1)(rng)]);
      }
    }
    nlohmann::json line = {{"generation", name}, {"documents", 5}, {"completed", completed}, {"steps", steps}, {"mean_mask_ms", total_ms / steps}};
    if (step_ms > 0) line["mask_over_decode_step"] = total_ms / steps / step_ms;
    std::printf("%s\n", line.dump().c_str());
  }
  return 0;
}

}  // namespace

int main(int argc, char** argv) {
  try {
    return run(argc, argv);
  } catch (const std::exception& e) {
    std::fprintf(stderr, "bench_json_mask: %s\n", e.what());
    return 1;
  }
}
