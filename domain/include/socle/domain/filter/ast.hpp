#pragma once

#include <cstddef>
#include <cstdint>
#include <string>
#include <vector>

#include "socle/domain/collection.hpp"
#include "socle/domain/json_value.hpp"
#include "socle/domain/record.hpp"

/// The filter and rule language (PocketBase's syntax). Two trees:
///
/// 1. The syntax tree (Expr, Operand) that Parse() produces from text, with byte positions for
///    error messages. It knows nothing about collections.
/// 2. The resolved tree (ResolvedFilter, Condition, Comparison, ResolvedOperand) that Resolve()
///    produces from a syntax tree, a collection schema and a request context. Every identifier
///    in it points into the schema snapshot it holds; every request value (@request.*, date
///    macros) has become a literal. Store adapters compile this tree to SQL (identifiers from the
///    schema, values bound as parameters) and the memory adapter evaluates it; both follow the
///    semantics documented here and in docs/api/filter-language.md.
///
/// Semantics of a Comparison `left op right`:
/// - Each operand yields a set of values: a single-valued operand a set of one, a multi-valued one
///   (a multiple select/relation/file field, a path through a multiple relation or a
///   back-relation, an @collection join, an array literal) its items. An empty set behaves as
///   {null}.
/// - any (the `?` operators): true iff some pair (l, r) of the two sets satisfies `l op r`.
///   Otherwise: true iff every pair does.
/// - Equality with null: null equals null and "" (the empty text); null != x is its negation.
///   0 and false are not null.
/// - Numbers compare numerically, strings bytewise (UTF-8 code-unit order, like SQLite's BINARY
///   and PostgreSQL's "C" collation), booleans false < true. Values of different kinds (after
///   the resolver's literal coercion) are never equal and never ordered: = is false, != true,
///   < <= > >= false.
/// - `~` / `!~`: (not) contains, ASCII case-insensitive; `%` and `_` in the right operand are
///   wildcards when it contains a `%`, otherwise the right operand is matched as a substring
///   (PocketBase: "abc" means "%abc%"). Only between strings; anything else is false for `~`.
/// - Dates are canonical strings ("YYYY-MM-DD HH:MM:SS.mmmZ"), so their string order is their
///   time order; the empty date is "".
namespace socle::domain::filter {

/// Comparison operators; the any-of (`?`) variants are Comparison::any.
enum class CompareOp { kEq, kNeq, kGt, kGte, kLt, kLte, kLike, kNotLike };

/// "=", "!=", ">", ">=", "<", "<=", "~", "!~".
const char* ToString(CompareOp op) noexcept;

// ---------------------------------------------------------------------------------------------
// Syntax tree

/// A leaf of an expression as written.
struct Operand {
  enum class Kind {
    kNull,        ///< null
    kBool,        ///< true / false
    kNumber,      ///< 12, -3.5, 1e3 (text in `text`, value in `number`)
    kString,      ///< "..." or '...' with escapes decoded into `text`
    kIdentifier,  ///< field path, @request.*, @collection.*, @macro, with modifiers: `text` as
                  ///< written, e.g. "author.name:lower", "@request.body.tags:length", "@now"
    kFunction,    ///< name(args...), e.g. geoDistance(a, b, c, d) when supported
  };
  Kind kind = Kind::kNull;
  bool boolean = false;
  double number = 0;
  std::string text;
  std::vector<Operand> args;  ///< kFunction
  std::size_t position = 0;   ///< byte offset of the operand in the source
};

/// A boolean expression as written.
struct Expr {
  enum class Kind { kAnd, kOr, kCompare };
  Kind kind = Kind::kCompare;
  std::vector<Expr> children;  ///< kAnd / kOr: two or more
  Operand left;                ///< kCompare
  Operand right;               ///< kCompare
  CompareOp op = CompareOp::kEq;
  bool any = false;            ///< a `?` operator
  std::size_t position = 0;    ///< byte offset of the expression (of the operator for kCompare)
};

// ---------------------------------------------------------------------------------------------
// Resolved tree

/// What an operand's values are, after resolution.
enum class ValueKind { kNull, kBool, kNumber, kString, kJson };

/// A modifier applied to a field operand.
enum class Modifier {
  kNone,
  kLower,   ///< :lower — ASCII lower case of a string
  kLength,  ///< :length — number of items of a multi-valued field (a number)
  kEach,    ///< :each — compare item by item (a multi-valued field as a set; the default too)
};

/// One relation hop of a field path.
struct Hop {
  /// The collection the hop starts from.
  const Collection* from = nullptr;
  /// Forward hop: a relation field of `from`, leading to the records it references.
  /// Back hop (`comments_via_post`): a relation field of `to` that references `from`.
  const Field* relation = nullptr;
  const Collection* to = nullptr;
  bool back = false;
};

/// A joined collection introduced by `@collection.name[:alias].field`. Every operand naming the
/// same alias refers to the same joined row: a Condition with joins is true iff some
/// combination of rows of the joined collections (or nulls, when a collection is empty) makes it
/// true, like PocketBase's LEFT JOIN.
struct CollectionJoin {
  std::string alias;  ///< the name, or the explicit alias
  const Collection* collection = nullptr;
};

/// A resolved leaf.
struct ResolvedOperand {
  enum class Kind { kLiteral, kField };
  Kind kind = Kind::kLiteral;

  /// kLiteral: null, bool, number, string, or an array of those (a multi-valued literal, e.g.
  /// @request.body.tags). Already coerced to the kind of the other operand where possible.
  JsonValue literal;

  /// kField: the record the path starts from: -1 the queried record, otherwise an index into
  /// ResolvedFilter::joins.
  int join = -1;
  /// kField: relation hops from that record, in order (empty for a field of its own).
  std::vector<Hop> hops;
  /// kField: the collection holding `field` (the last hop's `to`, else the start's).
  const Collection* collection = nullptr;
  const Field* field = nullptr;
  /// kField, json fields: keys into the JSON value ("data.a.b" → {"a","b"}); numeric keys
  /// index arrays.
  std::vector<std::string> json_path;
  Modifier modifier = Modifier::kNone;

  /// The kind of each value this operand yields.
  ValueKind value_kind = ValueKind::kNull;
  /// True when the operand yields a set (see the semantics above).
  bool multiple = false;
};

/// A resolved comparison.
struct Comparison {
  ResolvedOperand left;
  ResolvedOperand right;
  CompareOp op = CompareOp::kEq;
  bool any = false;
};

/// A resolved boolean expression. kTrue/kFalse arise from folding (e.g. `@request.auth.id != ""`
/// for a guest is kFalse), so stores need not compile constant comparisons.
struct Condition {
  enum class Kind { kTrue, kFalse, kAnd, kOr, kCompare };
  Kind kind = Kind::kTrue;
  std::vector<Condition> children;  ///< kAnd / kOr
  Comparison compare;               ///< kCompare
};

/// A filter ready to run against `collection`: what stores compile and the memory adapter
/// evaluates. Holds the schema snapshot every pointer in it points into.
struct ResolvedFilter {
  SchemaPtr schema;
  const Collection* collection = nullptr;
  std::vector<CollectionJoin> joins;
  Condition condition;
};

/// One sort key. `random` sorts randomly (@random) and ignores the rest.
struct SortTerm {
  ResolvedOperand key;  ///< a single-valued kField operand
  bool descending = false;
  bool random = false;
};

}  // namespace socle::domain::filter
