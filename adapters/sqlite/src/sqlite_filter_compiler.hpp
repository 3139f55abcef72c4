#pragma once

#include <cstddef>
#include <cstdint>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

#include "connection.hpp"
#include "socle/domain/error.hpp"
#include "socle/domain/filter/ast.hpp"

namespace socle::adapters::sqlite {

/// A value bound to one ?N parameter of a compiled statement.
struct SqlParam {
  enum class Kind { kNull, kInteger, kReal, kText };
  Kind kind = Kind::kNull;
  std::int64_t integer = 0;
  double real = 0;
  std::string text;
};

/// Binds the first `count` of `params` (all by default) in order as the next parameters of
/// `stmt`.
void BindParams(Statement& stmt, const std::vector<SqlParam>& params,
                std::size_t count = static_cast<std::size_t>(-1));

/// A compiled condition: constant, or SQL that is never NULL (so NOT and OR behave as in the
/// two-valued logic of the filter language).
struct SqlCondition {
  enum class Kind { kTrue, kFalse, kSql };
  Kind kind = Kind::kTrue;
  std::string sql;
};

/// Compiles resolved filters and sort terms (domain/filter/ast.hpp) into SQLite SQL for one
/// statement, with the semantics documented there. Identifiers come from the schema the tree
/// points into and are quoted; every value (literals, LIKE patterns, JSON paths) becomes a
/// ?N parameter collected in params(), so request text never becomes SQL.
///
/// Shapes: a field of the queried row is its column; relation hops, back-relations and the
/// items of multiple fields are correlated subqueries used as derived tables; a comparison
/// with a set on either side is EXISTS over the pairs (any, `?=`) or NOT EXISTS a failing pair
/// (plain), the empty set standing for {NULL} through a LEFT JOIN from a one-row table;
/// @collection joins wrap the whole condition in EXISTS over the joined tables, LEFT-JOINed
/// the same way so that an empty collection contributes a row of NULLs.
///
/// One compiler serves one statement: aliases and parameter numbers are unique within it.
class SqliteFilterCompiler final {
 public:
  /// `root_alias`: the alias of the queried table in the enclosing statement (a plain name).
  /// `first_param`: the number of the first ?N this compiler may use.
  SqliteFilterCompiler(std::string root_alias, int first_param);

  /// The condition of `filter` on the row `root_alias`. invalid_argument for a tree this
  /// store cannot run (e.g. an object literal); internal for a malformed tree.
  domain::Result<SqlCondition> Where(const domain::filter::ResolvedFilter& filter);

  /// The ORDER BY list (without the keywords) for `sort`, always ending with the id ascending
  /// unless a term is @random. invalid_argument for a multi-valued key.
  domain::Result<std::string> OrderBy(const std::vector<domain::filter::SortTerm>& sort);

  /// The values of the parameters used so far, in number order from `first_param`.
  const std::vector<SqlParam>& params() const noexcept { return params_; }
  /// The number the next parameter would get.
  int next_param() const noexcept { return first_param_ + static_cast<int>(params_.size()); }

 private:
  struct Term;
  struct Operand;
  struct Source;

  domain::Result<SqlCondition> Condition(const domain::filter::Condition& condition);
  domain::Result<SqlCondition> Comparison(const domain::filter::Comparison& comparison);
  domain::Result<Operand> CompileOperand(const domain::filter::ResolvedOperand& operand);
  domain::Result<Source> FieldSource(const domain::filter::ResolvedOperand& operand,
                                     bool expand_items);
  domain::Result<Term> LiteralTerm(const domain::JsonValue& literal);
  domain::Result<Term> PatternTerm(const domain::JsonValue& literal);
  /// The value and the JSON type name (SQL expressions) found at `keys` in the JSON `column`.
  domain::Result<std::pair<std::string, std::string>> JsonValueAt(
      const std::string& column, const std::vector<std::string>& keys);
  domain::Result<Term> GeoDistanceTerm(const domain::filter::ResolvedOperand& operand);

  std::string NewParam(SqlParam param);
  std::string NewAlias();
  std::string StartAlias(int join) const;

  std::string root_alias_;
  int first_param_;
  int next_alias_ = 0;
  std::vector<SqlParam> params_;
  const domain::filter::ResolvedFilter* filter_ = nullptr;  // the tree being compiled
};

}  // namespace socle::adapters::sqlite
