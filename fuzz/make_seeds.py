#!/usr/bin/env python3
"""Writes a small seed corpus for the fuzz targets: valid synthetic files covering every
dtype and metadata type, plus the headers of the shared test models (cut short, so the
fuzzer starts from real layouts without megabytes of tensor data).

usage: make_seeds.py DATA_DIR OUT_DIR   (DATA_DIR may be missing; synthetic seeds are always made)
"""
import json
import os
import struct
import sys


def safetensors(tensors, metadata=None):
    header, payload = {}, b""
    if metadata:
        header["__metadata__"] = metadata
    for name, dtype, shape, raw in tensors:
        header[name] = {"dtype": dtype, "shape": shape,
                        "data_offsets": [len(payload), len(payload) + len(raw)]}
        payload += raw
    text = json.dumps(header, separators=(",", ":")).encode()
    text += b" " * (-len(text) % 8)
    return struct.pack("<Q", len(text)) + text + payload


def gguf_string(s):
    b = s.encode()
    return struct.pack("<Q", len(b)) + b


def gguf(version, kvs, tensors, alignment=32):
    out = b"GGUF" + struct.pack("<IQQ", version, len(tensors), len(kvs))
    for key, type_id, value in kvs:
        out += gguf_string(key) + struct.pack("<I", type_id) + value
    offset, blobs = 0, b""
    for name, ne, type_id, raw in tensors:
        out += gguf_string(name) + struct.pack("<I", len(ne))
        out += b"".join(struct.pack("<Q", d) for d in ne)
        out += struct.pack("<IQ", type_id, offset)
        pad = -len(raw) % alignment
        blobs += raw + b"\0" * pad
        offset += len(raw) + pad
    out += b"\0" * (-len(out) % alignment)
    return out + blobs


def main():
    data_dir, out_dir = sys.argv[1], sys.argv[2]
    st_dir, gg_dir = os.path.join(out_dir, "safetensors"), os.path.join(out_dir, "gguf")
    os.makedirs(st_dir, exist_ok=True)
    os.makedirs(gg_dir, exist_ok=True)

    def put(folder, name, blob):
        with open(os.path.join(folder, name), "wb") as f:
            f.write(blob)

    put(st_dir, "synthetic", safetensors([
        ("a.weight", "F32", [2, 3], struct.pack("<6f", *range(6))),
        ("b.bias", "BF16", [4], b"\x80\x3f" * 4),
        ("c", "F16", [], b"\x00\x3c"),
        ("d", "I64", [1, 1], struct.pack("<q", -1)),
        ("e", "I8", [0, 5], b""),
    ], {"format": "pt"}))
    put(st_dir, "empty", safetensors([]))

    u32 = lambda v: struct.pack("<I", v)
    arr = lambda t, items: struct.pack("<IQ", t, len(items)) + b"".join(items)
    kvs = [
        ("general.architecture", 8, gguf_string("llama")),
        ("general.alignment", 4, u32(32)),
        ("u8", 0, b"\x07"), ("i8", 1, b"\xff"), ("u16", 2, struct.pack("<H", 9)),
        ("i16", 3, struct.pack("<h", -9)), ("i32", 5, struct.pack("<i", -3)),
        ("f32", 6, struct.pack("<f", 1e-5)), ("bool", 7, b"\x01"),
        ("u64", 10, struct.pack("<Q", 1 << 40)), ("i64", 11, struct.pack("<q", -5)),
        ("f64", 12, struct.pack("<d", 0.5)),
        ("tokens", 9, arr(8, [gguf_string(t) for t in ["<unk>", "<s>", "</s>", "a"]])),
        ("scores", 9, arr(6, [struct.pack("<f", -i) for i in range(4)])),
        ("nested", 9, arr(9, [arr(5, [struct.pack("<i", 1)])])),
    ]
    tensors = [
        ("token_embd.weight", [4, 2], 0, struct.pack("<8f", *range(8))),
        ("blk.0.attn_q.weight", [32, 1], 8, b"\x00\x3c" + bytes(32)),  # one Q8_0 block
        ("blk.0.ffn.weight", [32], 2, b"\x00\x3c" + bytes(16)),        # one Q4_0 block
        ("norm", [2], 30, b"\x80\x3f\x80\x3f"),                        # BF16
    ]
    put(gg_dir, "synthetic-v3", gguf(3, kvs, tensors))
    put(gg_dir, "synthetic-v2", gguf(2, kvs[:3], tensors[:1]))

    # Real layouts, cut to their first 16 KB (headers and metadata, little tensor data).
    real = [(st_dir, "models/llama-tiny/model.safetensors"),
            (st_dir, "models/t5-tiny/model.safetensors"),
            (gg_dir, "stories260K/stories260K.gguf")]
    for folder, rel in real:
        path = os.path.join(data_dir, rel)
        if os.path.exists(path):
            with open(path, "rb") as f:
                put(folder, "real-" + rel.replace("/", "_"), f.read(16384))


def text_seeds(data_dir, repo_dir, out_dir):
    """Seeds for the tokenizer loader (small tokenizer.json files), the encoder (test strings of
    the shared golden vectors) and the template engine (real chat templates)."""
    tj, enc, jin = (os.path.join(out_dir, d) for d in ("tokenizer_json", "encoder", "jinja"))
    for d in (tj, enc, jin):
        os.makedirs(d, exist_ok=True)

    def put(folder, name, blob):
        with open(os.path.join(folder, name), "wb") as f:
            f.write(blob if isinstance(blob, bytes) else blob.encode())

    bpe = {"version": "1.0", "added_tokens": [
               {"id": 5, "content": "<s>", "special": True, "lstrip": False, "rstrip": False,
                "single_word": False, "normalized": False}],
           "normalizer": {"type": "Sequence", "normalizers": [
               {"type": "NFC"}, {"type": "Replace", "pattern": {"String": " "}, "content": "_"},
               {"type": "Prepend", "prepend": "_"}]},
           "pre_tokenizer": {"type": "Sequence", "pretokenizers": [
               {"type": "Split", "pattern": {"Regex": "\\p{N}{1,3}"}, "behavior": "Isolated",
                "invert": False},
               {"type": "ByteLevel", "add_prefix_space": False, "trim_offsets": True,
                "use_regex": True}]},
           "post_processor": {"type": "TemplateProcessing",
               "single": [{"SpecialToken": {"id": "<s>", "type_id": 0}},
                          {"Sequence": {"id": "A", "type_id": 0}}],
               "pair": [{"Sequence": {"id": "A", "type_id": 0}},
                        {"Sequence": {"id": "B", "type_id": 1}}],
               "special_tokens": {"<s>": {"id": "<s>", "ids": [5], "tokens": ["<s>"]}}},
           "decoder": {"type": "Sequence", "decoders": [{"type": "ByteLevel"},
               {"type": "Replace", "pattern": {"String": "_"}, "content": " "},
               {"type": "ByteFallback"}, {"type": "Fuse"},
               {"type": "Strip", "content": " ", "start": 1, "stop": 0}]},
           "model": {"type": "BPE", "byte_fallback": True, "unk_token": "a",
               "vocab": {"a": 0, "b": 1, "ab": 2, "<0x41>": 3, "c": 4, "<s>": 5, "abc": 6},
               "merges": ["a b", ["ab", "c"]]}}
    put(tj, "synthetic-bpe", json.dumps(bpe))
    # Small crafted tokenizers of the unit tests, whatever components they use.
    for root, _, files in os.walk(os.path.join(repo_dir, "tests", "tokenizer", "data")):
        for name in sorted(files):
            path = os.path.join(root, name)
            if name.endswith(".json") and os.path.getsize(path) <= 65536:
                with open(path, "rb") as f:
                    put(tj, "test-" + name, f.read())

    vectors = os.path.join(data_dir, "tokenizers", "qwen3", "vectors.jsonl")
    if os.path.exists(vectors):
        with open(vectors, encoding="utf-8") as f:
            for i, line in enumerate(f):
                text = json.loads(line)["text"]
                put(enc, "vector-%d" % i, text.encode("utf-8")[:4096])
    put(enc, "invalid-utf8", b"ok \xff\xfe \xc3")

    sources = [os.path.join(data_dir, "chat_templates"), os.path.join(repo_dir, "tests", "jinja", "data")]
    for base in sources:
        for root, _, files in os.walk(base):
            for name in files:
                if name.endswith(".jinja"):
                    with open(os.path.join(root, name), "rb") as f:
                        put(jin, os.path.basename(root) + "-" + name, f.read())


if __name__ == "__main__":
    main()
    text_seeds(sys.argv[1], os.path.dirname(os.path.dirname(os.path.abspath(__file__))), sys.argv[2])
