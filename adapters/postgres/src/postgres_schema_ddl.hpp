#pragma once

#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "connection.hpp"
#include "socle/domain/collection.hpp"
#include "socle/domain/error.hpp"
#include "socle/domain/schema_diff.hpp"

// The DDL of a project's collection tables in PostgreSQL: one table per base/auth collection in
// the project's schema, one column per field, typed by its storage class:
//
//   kText      TEXT COLLATE "C" NOT NULL DEFAULT ''
//   kNumber    DOUBLE PRECISION NOT NULL DEFAULT 0
//   kBool      BOOLEAN NOT NULL DEFAULT FALSE
//   kDate      TIMESTAMPTZ NULL                    (NULL is the empty date "")
//   kJson      JSON NULL                           (NULL is null)
//   kTextArray TEXT[] COLLATE "C" NOT NULL DEFAULT '{}'
//
// A retype converts each value in C++ (ConvertValue), as the SQLite store does, rather than in
// an ALTER ... USING expression: the number formatting and JSON rules must be the same byte for
// byte in every store, and ALTER ... USING cannot hold the subqueries some rules would need.
//
// JSON rather than JSONB: JSONB reorders object members and drops duplicate keys, so a record
// would not read back as written (and could not compare equal to the other stores' records);
// it also refuses "\u0000". JSON keeps the text as written, and its path operators (#>, #>>)
// serve the filters. A JSON column is indexed through its text, which is what SQLite compares.
//
// Every identifier comes from the schema and goes through SqlName (QuoteIdentifier).
namespace socle::adapters::postgres {

/// to_char format of a timestamptz at UTC giving the canonical "YYYY-MM-DD HH:MM:SS.mmmZ".
inline constexpr std::string_view kCanonicalDateFormat = "'YYYY-MM-DD HH24:MI:SS.MS\"Z\"'";

/// `name` folded to ASCII lower case and quoted by QuoteIdentifier. Collection and field names
/// are unique case-insensitively in a project (domain rules), so folding keeps them apart; it
/// also keeps the meaning SQLite gives them, whose identifiers ignore case.
domain::Result<std::string> SqlName(std::string_view name);

/// `schema`.`name`, where `schema` is already quoted.
domain::Result<std::string> QualifiedName(std::string_view schema, std::string_view name);

/// Whether the collection has a table (base and auth do, views do not).
bool HasTable(const domain::Collection& collection) noexcept;

/// The collection's "id" field, or nullptr.
const domain::Field* IdField(const domain::Collection& collection) noexcept;

/// The SQL type to cast a bound parameter to for a column of this class: "text", "float8" ...
std::string_view ParamType(domain::StorageClass storage) noexcept;

/// The column definition (type, nullability and default) of a storage class.
std::string_view ColumnDefinition(domain::StorageClass storage) noexcept;

/// The primary key constraint's name: derived from the collection id, so it survives table
/// renames and cannot be confused with an index the collection declares.
std::string PrimaryKeyName(const domain::Collection& collection);

/// The canonical text of a date column (a qualified, quoted column reference), NULL for the
/// empty date: what filters compare, whatever the session's time zone.
std::string CanonicalDateText(std::string_view column);

/// A column changing storage class. Its values are converted one by one (ConvertValue), so
/// that every store converts them alike: into a new column, which then replaces the old one.
struct Retype {
  std::string table;      ///< qualified
  std::string id_column;  ///< quoted
  std::string column;     ///< quoted, as named after the change
  domain::StorageClass from;
  const domain::Field* after;  ///< the field in its new definition
};

/// One step of a schema change: a DDL statement, or a column conversion. `index` is the
/// position in the new definition's `indexes` of the index this statement creates, so that a
/// unique index refused by existing data can be reported as "indexes.N".
struct DdlStatement {
  std::string sql;
  std::optional<std::size_t> index;
  std::optional<Retype> retype;  ///< set for a conversion (then `sql` is empty)
};

/// The statements turning `before` into `after` in `schema` (quoted): CREATE TABLE, the grant
/// of the record privileges on it to the project's `role` (quoted) and its indexes when
/// `before` is empty, DROP TABLE when `after` is empty, otherwise the steps of DiffCollections
/// in its order (a renamed or altered table keeps its grants). invalid_argument when a name
/// cannot be an identifier or an index names a field the collection does not have.
domain::Result<std::vector<DdlStatement>> CollectionDdl(
    std::string_view schema, std::string_view role,
    const std::optional<domain::Collection>& before,
    const std::optional<domain::Collection>& after);

/// Runs a conversion step on `conn` (inside the schema change's transaction): adds the new
/// column, converts the rows in batches of ids, drops the old column and renames the new one.
domain::Result<void> ConvertColumn(Connection& conn, const Retype& retype);

}  // namespace socle::adapters::postgres
