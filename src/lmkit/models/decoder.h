// The Llama-family decoder (Llama, Qwen2, Mistral, InternLM2 differ only in config and in
// how their weights are named and packed, which bind_weights resolves).
#pragma once
#include <memory>

#include "lmkit/models/model.h"
#include "lmkit/models/weights.h"

namespace lmkit::models {

std::unique_ptr<CausalLM> make_decoder(ModelConfig config, DecoderWeights weights);

}  // namespace lmkit::models
