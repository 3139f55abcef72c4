#pragma once

#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "connection.hpp"
#include "socle/domain/collection.hpp"
#include "socle/domain/error.hpp"
#include "socle/domain/filter/ast.hpp"

// Compiles resolved filters and sort terms (domain/filter/ast.hpp) to PostgreSQL: a boolean
// expression over the queried row, with every value bound as a parameter and every identifier
// taken from the schema and quoted, following the SEMANTICS of ast.hpp:
//
// - A single-valued operand is a scalar expression; a multi-valued one (a multiple field, a
//   path through a multiple relation or a back-relation, an array literal) a set of rows
//   `(SELECT 1) LEFT JOIN (<items>) ON TRUE`, which holds one NULL row when the items are none
//   (the empty set behaves as {null}). `any` is EXISTS over the pairs of the two sets where
//   the comparison holds; otherwise NOT EXISTS a pair where it fails.
// - Every comparison compiles to a two-valued expression (never NULL), so NOT and NOT EXISTS
//   mean what the semantics say. null equals null and ""; values of different kinds are never
//   equal nor ordered; a JSON value matches a string only as a JSON string, a number only as a
//   JSON number, a boolean only as a JSON boolean.
// - Strings compare bytewise (COLLATE "C"). `~` compares lower(x) under "C", whose lower()
//   folds ASCII letters only: with the pattern by LIKE without escape character when the
//   pattern holds a `%`, else by strpos (a substring).
// - @collection joins wrap the whole condition in EXISTS over the joined tables, LEFT JOINed
//   from one row so that an empty collection contributes a row of NULLs.
namespace socle::adapters::postgres {

/// Where the compiler takes the names of tables and columns from, so that the names of the
/// store's current schema are used even for definitions read from an older snapshot.
class SqlNames {
 public:
  virtual ~SqlNames() = default;
  /// The schema-qualified, quoted table of `collection`.
  virtual domain::Result<std::string> Table(const domain::Collection& collection) = 0;
  /// The quoted column of `field`, a field of `collection`.
  virtual domain::Result<std::string> Column(const domain::Collection& collection,
                                             const domain::Field& field) = 0;
};

/// The values bound to one statement, numbered $1, $2 ... in the order they were added.
class SqlParams {
 public:
  /// Adds a value (std::nullopt: NULL) and returns its placeholder cast to `type`: "$3::text".
  std::string Add(std::optional<std::string> value, std::string_view type);
  /// The values `sql` uses, renumbering its placeholders $1, $2 ... in order of first use:
  /// a comparison folded to a constant leaves its operands' values unused, and a statement
  /// (a count beside its page) may use only some of them.
  /// Precondition: every `$` in `sql` starts a placeholder added here (values are never
  /// written into statements, so none appears in a literal).
  Params Bind(std::string& sql) const;

 private:
  Params values_;
};

/// A boolean SQL expression, never NULL, true for the rows of `row` (the alias of the queried
/// collection's table) that satisfy `filter`. invalid_argument for what PostgreSQL cannot
/// evaluate faithfully (a string holding NUL, :length of a single value).
domain::Result<std::string> CompileFilter(const domain::filter::ResolvedFilter& filter,
                                          std::string_view row, SqlNames& names, SqlParams& params);

/// The ORDER BY list of `sort` over `row` of `collection`: each key ascending NULLS FIRST or
/// descending NULLS LAST (plain ASC or DESC for a key that is never NULL, the order of an index
/// on it), then the id ascending; "random()" alone for @random.
/// invalid_argument when a key is multi-valued.
domain::Result<std::string> CompileOrder(const std::vector<domain::filter::SortTerm>& sort,
                                         const domain::Collection& collection, std::string_view row,
                                         SqlNames& names, SqlParams& params);

}  // namespace socle::adapters::postgres
