// Tokens -> syntax tree, with the precedence of @huggingface/jinja (which follows Jinja2
// except that a unary sign binds tighter than a filter).
#pragma once
#include <string>
#include <vector>

#include "lmkit/jinja/ast.h"
#include "lmkit/jinja/lexer.h"

namespace lmkit::jinja {

// Nesting deeper than this (parentheses, blocks) is refused rather than risking the stack.
constexpr int kMaxParseDepth = 200;

// Throws lmkit::Error naming `origin`, the line, the column and what was found.
Body parse(const std::vector<Token>& tokens, const std::string& source, const std::string& origin);

}  // namespace lmkit::jinja
