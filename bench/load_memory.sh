#!/usr/bin/env bash
# Peak memory of loading and running a Qwen2.5-0.5B-shaped model, against the size of its
# weight files: the issue asks that loading a 0.5B model not need twice its size in memory.
# Writes a Hugging Face directory (config.json + one bf16 model.safetensors, ~0.99 GB, values
# from a repeating pattern: nobody reads them) and runs `lmkit run` on it under /usr/bin/time.
# usage: bench/load_memory.sh [LMKIT_BINARY] [WORK_DIR]
set -euo pipefail
lmkit="${1:-build/lmkit}"
work="${2:-/tmp/lmkit-load-memory}"
mkdir -p "$work/qwen-0.5b-bf16"
dir="$work/qwen-0.5b-bf16"

if [ ! -f "$dir/model.safetensors" ]; then
python3 - "$dir" <<'EOF'
import json, os, struct, sys
d = sys.argv[1]
H, L, NH, NKV, I, V = 896, 24, 14, 2, 4864, 151936
hd = H // NH
config = {"architectures": ["Qwen2ForCausalLM"], "model_type": "qwen2", "hidden_size": H,
          "num_hidden_layers": L, "num_attention_heads": NH, "num_key_value_heads": NKV,
          "intermediate_size": I, "vocab_size": V, "max_position_embeddings": 32768,
          "rope_theta": 1000000.0, "rms_norm_eps": 1e-6, "tie_word_embeddings": True,
          "hidden_act": "silu", "torch_dtype": "bfloat16", "bos_token_id": 151643,
          "eos_token_id": 151645}
json.dump(config, open(os.path.join(d, "config.json"), "w"), indent=1)
shapes = [("model.embed_tokens.weight", [V, H]), ("model.norm.weight", [H])]
for l in range(L):
    p = f"model.layers.{l}."
    shapes += [(p + "input_layernorm.weight", [H]), (p + "post_attention_layernorm.weight", [H]),
               (p + "self_attn.q_proj.weight", [H, H]), (p + "self_attn.q_proj.bias", [H]),
               (p + "self_attn.k_proj.weight", [NKV * hd, H]), (p + "self_attn.k_proj.bias", [NKV * hd]),
               (p + "self_attn.v_proj.weight", [NKV * hd, H]), (p + "self_attn.v_proj.bias", [NKV * hd]),
               (p + "self_attn.o_proj.weight", [H, H]),
               (p + "mlp.gate_proj.weight", [I, H]), (p + "mlp.up_proj.weight", [I, H]),
               (p + "mlp.down_proj.weight", [H, I])]
header, offset = {}, 0
for name, shape in shapes:
    n = 2
    for s in shape:
        n *= s
    header[name] = {"dtype": "BF16", "shape": shape, "data_offsets": [offset, offset + n]}
    offset += n
text = json.dumps(header).encode()
text += b" " * (-len(text) % 8)
# bf16 values in [-0.03, 0.03]: a 1 MiB pattern tiled over every tensor.
pattern = b"".join(struct.pack("<f", ((i * 7919) % 2001 - 1000) * 3e-5)[2:] for i in range(1 << 19))
with open(os.path.join(d, "model.safetensors"), "wb") as f:
    f.write(struct.pack("<Q", len(text)) + text)
    left = offset
    while left:
        chunk = pattern[:min(left, len(pattern))]
        f.write(chunk)
        left -= len(chunk)
EOF
fi

weights=$(stat -c %s "$dir/model.safetensors")
# 128 prompt tokens and 16 generated: every weight is touched, the KV cache is small.
ids=$(seq -s, 1 128)
/usr/bin/time -v "$lmkit" run "$dir" --prompt-ids "$ids" -n 16 --ctx-size 512 --json >/dev/null 2>"$work/time.txt"
peak_kb=$(awk -F: '/Maximum resident set size/ {gsub(/ /, "", $2); print $2}' "$work/time.txt")
awk -v w="$weights" -v p="$peak_kb" 'BEGIN {
  printf "weights on disk: %.0f MB\npeak resident:   %.0f MB\nratio:           %.2f x the weights\n",
         w / 1e6, p * 1024 / 1e6, p * 1024 / w }'
