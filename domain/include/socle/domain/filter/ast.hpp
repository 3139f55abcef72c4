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
///
/// Precisions of the rules above (the evaluator implements exactly these):
/// - null is never ordered: < <= > >= with null on either side (null vs null included) is false.
/// - Numbers compare as IEEE doubles, exactly (an integer and the same double are equal).
/// - A JSON array or object (a value read through a json field) equals nothing, not even an
///   equal array, is never ordered, and is not a string for `~`.
/// - `!~` is the negation of `~` for every pair: true when either side is not a string (null
///   included), so `tags !~ "x"` holds for a record without tags.
/// - `~` patterns have no escape character: a backslash is an ordinary character. `_` matches
///   one UTF-8 character (code point), `%` any sequence of characters. ASCII letters match
///   case-insensitively, every other byte exactly.
/// - :lower lower-cases A-Z only; :length of a value that is not an array is 0 for null and "",
///   1 otherwise.
/// - geoDistance(lonA, latA, lonB, latB) (ResolvedOperand::Kind::kGeoDistance, only with
///   ResolveOptions::enable_geo_distance) is the haversine distance in kilometres:
///     φ1 = radians(latA), φ2 = radians(latB), Δφ = φ2 − φ1, Δλ = radians(lonB − lonA),
///     a = sin²(Δφ/2) + cos φ1 · cos φ2 · sin²(Δλ/2),
///     d = 2 · 6371 · asin(sqrt(min(1, a)))
///   and null when an argument is null or not a number. (PostgreSQL and SQLite's math functions
///   express it directly; radians(x) = x · π / 180.)
///
/// What Resolve() guarantees to the store compilers, for every Condition::kCompare it returns:
/// - at least one operand is not a literal (two literals are folded to kTrue/kFalse), and
///   kAnd/kOr never have constant or single children (they are simplified away);
/// - left.value_kind == right.value_kind, or one operand is the null literal (value_kind
///   kNull), or one is a kJson field operand and the other a literal of any kind (an array
///   literal of mixed kinds then has value_kind kJson), or both are kJson fields;
/// - ordering operators (< <= > >=) and `~`/`!~` never have a null literal operand (those
///   comparisons are constant and folded); for `~`/`!~` every non-json operand is kString;
/// - literals are null, bool, number, string or a non-empty array of those (an empty array is
///   turned into the null literal, which means the same); no objects, no nested arrays;
/// - a literal compared (= != < <= > >=) with a date field without modifier is a canonical
///   date string or null (with `~` it is a text pattern, with :lower plain text);
/// - ResolvedFilter::joins lists only the joins some operand uses.
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

/// What an operand's values are, after resolution. Text, date, select, relation and file
/// values are kString; a json field's values are kJson (any JSON value, known only when
/// read); a literal's kind is its value's (an array's: its items', ignoring nulls).
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
  /// kGeoDistance: geoDistance(args[0..3]) as defined at the top of this file; each argument
  /// is a number literal or a single-valued kField operand of value_kind kNumber or kJson.
  /// Only produced when ResolveOptions::enable_geo_distance is set.
  enum class Kind { kLiteral, kField, kGeoDistance };
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

  /// kGeoDistance: lonA, latA, lonB, latB.
  std::vector<ResolvedOperand> args;
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
