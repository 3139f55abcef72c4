#pragma once

#include <cstddef>
#include <string_view>

#include "socle/domain/error.hpp"
#include "socle/domain/filter/ast.hpp"

namespace socle::domain::filter {

/// Bounds on what Parse() accepts, so that hostile input costs little.
struct ParseLimits {
  std::size_t max_length = 4096;  ///< bytes of filter text
  std::size_t max_depth = 32;     ///< nesting of parentheses
  std::size_t max_terms = 256;    ///< comparisons in one expression
};

/// Parses PocketBase's filter syntax into a syntax tree: comparisons `a op b` with the operators
/// = != > >= < <= ~ !~ and their any-of forms ?= ?!= ?> ?>= ?< ?<= ?~ ?!~, joined by && and ||
/// (&& binds tighter), parentheses, single- or double-quoted strings with backslash escapes,
/// numbers, true/false/null, identifiers (field paths, @request.*, @collection.*, @macros,
/// with :modifiers), and function calls. Whitespace and newlines are insignificant; `//` starts
/// a comment running to the end of the line. Empty text (only whitespace) is invalid_argument.
/// invalid_argument with a message naming the problem and its byte position, e.g.
/// "Invalid filter: expected an operator at position 6."; never throws, never recurses beyond
/// limits.max_depth. Positions, here and in Resolve()'s errors, are 0-based byte offsets into
/// the text (the end of the text for "unexpected end" errors).
Result<Expr> Parse(std::string_view text, const ParseLimits& limits = {});

}  // namespace socle::domain::filter
