// Generates a continuation of a prompt with lmkit's C++ API, streaming the text to stdout.
//
//   example_generate MODEL [PROMPT] [MAX_TOKENS]
//
// MODEL is a Hugging Face model directory, a .gguf file or ORG/NAME in the hub cache.
// Decoding is greedy, so the output is reproducible.
#include <lmkit/lmkit.h>

#include <cstdio>
#include <cstdlib>
#include <iostream>
#include <string>

int main(int argc, char** argv) {
  if (argc < 2 || argc > 4) {
    std::fprintf(stderr, "usage: %s MODEL [PROMPT] [MAX_TOKENS]\n", argv[0]);
    return 2;
  }
  const std::string prompt = argc > 2 ? argv[2] : "Once upon a time";
  lmkit::GenerationOptions options;
  options.max_tokens = argc > 3 ? std::atoll(argv[3]) : 64;
  options.temperature = 0.0f;

  try {
    lmkit::Model model = lmkit::Model::load(argv[1]);
    std::vector<int32_t> ids = model.tokenize(prompt);
    std::fprintf(stderr, "prompt: %zu tokens\n", ids.size());

    lmkit::Generation g = model.generate(prompt, options, [](std::string_view piece) {
      std::cout << piece << std::flush;
      return true;  // false would stop generation here
    });
    std::cout << "\n";
    std::fprintf(stderr, "%zu tokens (%s), %.1f tokens/s\n", g.tokens.size(),
                 g.finish_reason.c_str(), g.decode_tokens_per_s);
  } catch (const lmkit::Error& e) {
    std::fprintf(stderr, "error: %s\n", e.what());
    return 1;
  }
  return 0;
}
