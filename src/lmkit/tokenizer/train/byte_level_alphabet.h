// The GPT-2 byte-to-character table that byte-level BPE vocabularies are written in: printable
// Latin-1 bytes stand for themselves, every other byte for a code point from U+0100 upwards.
// The trainer works on raw bytes and only meets this table when it orders the initial
// alphabet (Hugging Face sorts it by these code points) and when it writes the vocabulary.
#pragma once
#include <array>
#include <cstdint>
#include <optional>
#include <string>
#include <string_view>

namespace lmkit::bpe_train {

// Code point that stands for byte b.
uint32_t byte_level_code_point(uint8_t b);

// UTF-8 text of a raw byte string in the byte-level alphabet ("Ġ" for a space, ...).
std::string bytes_to_byte_level(std::string_view raw);

// Inverse of bytes_to_byte_level; nullopt if the text has a character outside the alphabet
// (or is not valid UTF-8), as a special token such as "<|endoftext|>" never does but "é" would.
std::optional<std::string> byte_level_to_bytes(std::string_view text);

// The 256 bytes ordered by byte_level_code_point, the order of ids 0..255 of the alphabet.
const std::array<uint8_t, 256>& bytes_in_byte_level_order();

}  // namespace lmkit::bpe_train
