// UTF-8 string helpers with the semantics the reference renderer (@huggingface/jinja, i.e.
// JavaScript strings) gives: JavaScript's whitespace set for trim/strip/split and for the
// `-` whitespace control, code points (not bytes) for length, indexing and slicing.
#pragma once
#include <cstddef>
#include <string>
#include <string_view>
#include <vector>

namespace lmkit::jinja::text {

// Byte length of the JavaScript `\s` character starting at s[i], or 0 if there is none.
size_t space_length(std::string_view s, size_t i);
// Byte length of the UTF-8 sequence starting with lead byte c (1 for invalid bytes).
size_t sequence_length(unsigned char c);

std::string trim(std::string_view s);
std::string trim_start(std::string_view s);
std::string trim_end(std::string_view s);
// Python's str.strip(chars): removes any of the code points in `chars` from the given ends.
std::string strip_chars(std::string_view s, std::string_view chars, bool start, bool end);

// Code points as separate UTF-8 strings.
std::vector<std::string> code_points(std::string_view s);
size_t code_point_count(std::string_view s);

// Case mapping covers ASCII only (the jinja layer has no Unicode tables); other characters
// are kept as they are.
std::string to_upper(std::string_view s);
std::string to_lower(std::string_view s);
// Upper-cases the first letter of every word, as Jinja's `title` does for ASCII words.
std::string title_case(std::string_view s);
std::string capitalize(std::string_view s);

// `s` with every occurrence of `from` replaced by `to`; at most `count` times if count >= 0.
// An empty `from` inserts `to` between code points, as Python does.
std::string replace(std::string_view s, std::string_view from, std::string_view to, long long count);

// 1-based line and column (in code points) of byte offset `offset` in `source`.
void line_and_column(std::string_view source, size_t offset, size_t& line, size_t& column);

}  // namespace lmkit::jinja::text
