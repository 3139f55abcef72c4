#include "sqlite_schema_ddl.hpp"

#include <sqlite3.h>

#include <cstddef>
#include <cstdint>
#include <limits>
#include <string>
#include <utility>
#include <vector>

#include "socle/domain/schema_diff.hpp"
#include "sqlite_identifier.hpp"
#include "sqlite_value_codec.hpp"

namespace socle::adapters::sqlite {

using domain::Collection;
using domain::CollectionIndex;
using domain::Error;
using domain::ErrorCode;
using domain::Fail;
using domain::Field;
using domain::Result;
using domain::StorageClassOf;

namespace {

// Temporary names hold a '$', which no field or collection name may contain, so they can never
// collide with a name of the schema.
constexpr std::string_view kRetypeColumn = "socle$retype";
constexpr std::string_view kRenameTable = "socle$rename";
constexpr std::string_view kRenameColumnPrefix = "socle$rename$";

// Rows converted per round when a column changes type: bounded memory whatever the table size.
constexpr std::int64_t kConvertBatch = 512;

bool Touches(const CollectionIndex& index, std::string_view field_name) {
  for (const auto& column : index.columns) {
    if (SameIdentifier(column.field, field_name)) return true;
  }
  for (const auto& column : index.where_not_empty) {
    if (SameIdentifier(column, field_name)) return true;
  }
  return false;
}

bool Contains(const std::vector<const CollectionIndex*>& indexes, std::string_view name) {
  for (const auto* index : indexes) {
    if (SameIdentifier(index->name, name)) return true;
  }
  return false;
}

std::string AlterTable(std::string_view table) { return "ALTER TABLE " + QuoteIdentifier(table); }

// A name for the rowid that no column of `collection` shadows (a field may be called "rowid").
std::string_view RowidAlias(const Collection& collection) {
  for (std::string_view alias : {"rowid", "_rowid_", "oid"}) {
    bool shadowed = false;
    for (const auto& field : collection.fields) shadowed |= SameIdentifier(field.name, alias);
    if (!shadowed) return alias;
  }
  return {};
}

// Creates one index of `collection`, naming it "indexes.N" when its rows are not unique.
Result<void> CreateIndex(Connection& conn, const Collection& collection,
                         const CollectionIndex& index) {
  auto created = conn.Exec(CreateIndexSql(index, collection.name));
  if (created) return {};
  if (conn.LastErrorCode() != SQLITE_CONSTRAINT_UNIQUE) return created;
  std::size_t position = 0;
  while (position < collection.indexes.size() && &collection.indexes[position] != &index) {
    ++position;
  }
  Error error = Error::Field(
      "indexes." + std::to_string(position), "validation_not_unique",
      "The existing records of " + collection.name + " are not unique for index " + index.name +
          ".");
  error.internal = created.error().internal;
  return Fail(std::move(error));
}

Result<void> RenameTable(Connection& conn, std::string_view from, std::string_view to) {
  // SQLite refuses a rename to a name equal ignoring case ("posts" → "Posts"): it sees the
  // table itself as taken. Going through a temporary name works for both cases.
  if (SameIdentifier(from, to)) {
    if (auto step = conn.Exec(AlterTable(from) + " RENAME TO " + QuoteIdentifier(kRenameTable));
        !step) {
      return step;
    }
    from = kRenameTable;
  }
  return conn.Exec(AlterTable(from) + " RENAME TO " + QuoteIdentifier(to));
}

// Renames columns in two passes through temporary names, so that swaps (a → b, b → a) and
// case-only renames never meet a name still in use.
Result<void> RenameColumns(Connection& conn, std::string_view table,
                           const std::vector<domain::CollectionDiff::Renamed>& renamed) {
  for (std::size_t i = 0; i < renamed.size(); ++i) {
    auto step = conn.Exec(AlterTable(table) + " RENAME COLUMN " +
                          QuoteIdentifier(renamed[i].before->name) + " TO " +
                          QuoteIdentifier(std::string(kRenameColumnPrefix) + std::to_string(i)));
    if (!step) return step;
  }
  for (std::size_t i = 0; i < renamed.size(); ++i) {
    auto step = conn.Exec(AlterTable(table) + " RENAME COLUMN " +
                          QuoteIdentifier(std::string(kRenameColumnPrefix) + std::to_string(i)) +
                          " TO " + QuoteIdentifier(renamed[i].after->name));
    if (!step) return step;
  }
  return {};
}

// Rebuilds one column with the storage of `after`: a new column, every value converted from
// the old one, the old column dropped and the new one given its name. SQLite cannot change a
// column's type in place, and STRICT tables would refuse the old values anyway.
Result<void> RetypeColumn(Connection& conn, const Collection& collection, const Field& before,
                          const Field& after) {
  const std::string table = QuoteIdentifier(collection.name);
  const std::string column = QuoteIdentifier(after.name);  // renames already ran
  const std::string temp = QuoteIdentifier(kRetypeColumn);
  const auto from = StorageClassOf(before);
  const auto to = StorageClassOf(after);
  const std::string rowid(RowidAlias(collection));
  if (rowid.empty()) {
    return Fail(Error::Internal("every rowid alias of " + collection.name + " is a field"));
  }

  if (auto added = conn.Exec("ALTER TABLE " + table + " ADD COLUMN " + temp + " " +
                             std::string(ColumnDeclaration(to)));
      !added) {
    return added;
  }
  const std::string select = "SELECT " + rowid + ", " + column + " FROM " + table + " WHERE " +
                             rowid + " > ?1 ORDER BY " + rowid + " LIMIT ?2";
  const std::string update = "UPDATE " + table + " SET " + temp + " = ?1 WHERE " + rowid + " = ?2";
  std::vector<std::pair<std::int64_t, domain::JsonValue>> batch;
  std::int64_t last = std::numeric_limits<std::int64_t>::min();
  for (;;) {
    batch.clear();
    {
      auto rows = conn.PrepareCached(select);
      if (!rows) return Fail(rows.error());
      rows->Bind(last).Bind(kConvertBatch);
      for (;;) {
        auto row = rows->Step();
        if (!row) return Fail(row.error());
        if (!*row) break;
        auto value = ReadValue(*rows, 1, from);
        if (!value) return Fail(value.error());
        batch.emplace_back(rows->Int(0), std::move(*value));
      }
    }  // the read statement is reset before the table is written
    for (const auto& [id, value] : batch) {
      auto stmt = conn.PrepareCached(update);
      if (!stmt) return Fail(stmt.error());
      if (auto bound = BindValue(*stmt, ConvertValue(value, from, to), to); !bound) return bound;
      if (auto done = stmt->Bind(id).Run(); !done) return done;
    }
    if (static_cast<std::int64_t>(batch.size()) < kConvertBatch) break;
    last = batch.back().first;
  }
  if (auto dropped = conn.Exec("ALTER TABLE " + table + " DROP COLUMN " + column); !dropped) {
    return dropped;
  }
  return conn.Exec("ALTER TABLE " + table + " RENAME COLUMN " + temp + " TO " + column);
}

}  // namespace

bool HasTable(const Collection& collection) noexcept {
  return collection.type != domain::CollectionType::kView;
}

Result<std::string> CreateTableSql(const Collection& collection) {
  if (collection.FindField("id") == nullptr) {
    return Fail(Error::Field("fields", "validation_missing_id",
                             "The collection has no id field."));
  }
  std::string sql = "CREATE TABLE ";
  AppendIdentifier(sql, collection.name);
  sql += " (";
  bool first = true;
  for (const auto& field : collection.fields) {
    if (!first) sql += ", ";
    first = false;
    AppendIdentifier(sql, field.name);
    sql += ' ';
    // Record ids are generated by the records use case; the key never has a default.
    sql += field.name == "id" ? std::string_view("TEXT NOT NULL PRIMARY KEY")
                              : ColumnDeclaration(StorageClassOf(field));
  }
  sql += ") STRICT";
  return sql;
}

std::string CreateIndexSql(const CollectionIndex& index, std::string_view table) {
  std::string sql = index.unique ? "CREATE UNIQUE INDEX " : "CREATE INDEX ";
  AppendIdentifier(sql, index.name);
  sql += " ON ";
  AppendIdentifier(sql, table);
  sql += " (";
  for (std::size_t i = 0; i < index.columns.size(); ++i) {
    if (i > 0) sql += ", ";
    AppendIdentifier(sql, index.columns[i].field);
    if (index.columns[i].descending) sql += " DESC";
  }
  sql += ')';
  for (std::size_t i = 0; i < index.where_not_empty.size(); ++i) {
    sql += i == 0 ? " WHERE " : " AND ";
    AppendIdentifier(sql, index.where_not_empty[i]);
    sql += " != ''";
  }
  return sql;
}

Result<void> CreateCollectionTable(Connection& conn, const Collection& collection) {
  auto sql = CreateTableSql(collection);
  if (!sql) return Fail(sql.error());
  if (auto created = conn.Exec(*sql); !created) return created;
  for (const auto& index : collection.indexes) {
    if (auto made = CreateIndex(conn, collection, index); !made) return made;
  }
  return {};
}

Result<void> DropCollectionTable(Connection& conn, const Collection& collection) {
  return conn.Exec("DROP TABLE " + QuoteIdentifier(collection.name));
}

Result<void> AlterCollectionTable(Connection& conn, const Collection& before,
                                  const Collection& after) {
  const domain::CollectionDiff diff = domain::DiffCollections(before, after);
  if (diff.Empty()) return {};

  if (diff.renamed_from) {
    if (auto renamed = RenameTable(conn, *diff.renamed_from, after.name); !renamed) return renamed;
  }

  // SQLite cannot drop a column an index uses: indexes over a retyped column go and come back
  // around the rebuild even when their definition did not change.
  std::vector<const CollectionIndex*> to_drop = diff.dropped_indexes;
  std::vector<const CollectionIndex*> to_create = diff.created_indexes;
  for (const auto& retyped : diff.retyped_fields) {
    for (const auto& index : before.indexes) {
      if (Touches(index, retyped.before->name) && !Contains(to_drop, index.name)) {
        to_drop.push_back(&index);
      }
    }
    for (const auto& index : after.indexes) {
      if (Touches(index, retyped.after->name) && !Contains(to_create, index.name)) {
        to_create.push_back(&index);
      }
    }
  }

  for (const auto* index : to_drop) {
    if (auto dropped = conn.Exec("DROP INDEX IF EXISTS " + QuoteIdentifier(index->name));
        !dropped) {
      return dropped;
    }
  }
  for (const auto* field : diff.removed_fields) {
    if (auto dropped =
            conn.Exec(AlterTable(after.name) + " DROP COLUMN " + QuoteIdentifier(field->name));
        !dropped) {
      return dropped;
    }
  }
  if (auto renamed = RenameColumns(conn, after.name, diff.renamed_fields); !renamed) {
    return renamed;
  }
  for (const auto& retyped : diff.retyped_fields) {
    if (auto rebuilt = RetypeColumn(conn, after, *retyped.before, *retyped.after); !rebuilt) {
      return rebuilt;
    }
  }
  for (const auto* field : diff.added_fields) {
    auto added = conn.Exec(AlterTable(after.name) + " ADD COLUMN " + QuoteIdentifier(field->name) +
                           " " + std::string(ColumnDeclaration(StorageClassOf(*field))));
    if (!added) return added;
  }
  for (const auto* index : to_create) {
    if (auto made = CreateIndex(conn, after, *index); !made) return made;
  }
  return {};
}

}  // namespace socle::adapters::sqlite
