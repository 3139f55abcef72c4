#include "postgres_schema_ddl.hpp"

#include <algorithm>
#include <cstdint>
#include <cstdio>
#include <utility>

#include "postgres_record_codec.hpp"
#include "project_role.hpp"
#include "socle/adapters/postgres/identifier.hpp"

namespace socle::adapters::postgres {

using domain::Collection;
using domain::CollectionIndex;
using domain::Error;
using domain::Fail;
using domain::Field;
using domain::Result;
using domain::StorageClass;

namespace {

// Rows converted per round trip when a column changes type.
constexpr int kConvertBatch = 512;

char AsciiLower(char c) noexcept {
  return c >= 'A' && c <= 'Z' ? static_cast<char>(c - 'A' + 'a') : c;
}

bool EqualsIgnoringCase(std::string_view a, std::string_view b) noexcept {
  return a.size() == b.size() && std::equal(a.begin(), a.end(), b.begin(), [](char x, char y) {
           return AsciiLower(x) == AsciiLower(y);
         });
}

Error IndexError(std::size_t position, std::string message) {
  return Error::Field("indexes." + std::to_string(position), "validation_invalid_index",
                      std::move(message));
}

// The field an index column names: the exact name, else the one equal ignoring case (the
// names are unique ignoring case).
const Field* IndexedField(const Collection& collection, std::string_view name) {
  if (const Field* exact = collection.FindField(name)) return exact;
  for (const auto& field : collection.fields) {
    if (EqualsIgnoringCase(field.name, name)) return &field;
  }
  return nullptr;
}

Result<DdlStatement> CreateIndex(const std::string& table, const Collection& collection,
                                 std::size_t position) {
  const CollectionIndex& index = collection.indexes[position];
  auto name = SqlName(index.name);
  if (!name) return Fail(IndexError(position, "The index name is not a valid identifier."));
  if (index.columns.empty()) return Fail(IndexError(position, "The index has no column."));
  std::string columns;
  bool has_date = false;
  for (const auto& column : index.columns) {
    const Field* field = IndexedField(collection, column.field);
    if (field == nullptr) {
      return Fail(IndexError(position, "The index names a field the collection does not have."));
    }
    auto quoted = SqlName(field->name);
    if (!quoted) return Fail(quoted.error());
    const StorageClass storage = domain::StorageClassOf(*field);
    has_date = has_date || storage == StorageClass::kDate;
    if (!columns.empty()) columns += ", ";
    // JSON has no btree operator class: the index is over its text, as SQLite compares it.
    columns += storage == StorageClass::kJson ? "((" + *quoted + ")::text)" : *quoted;
    if (column.descending) columns += " DESC";
  }
  std::string sql = index.unique ? "CREATE UNIQUE INDEX " : "CREATE INDEX ";
  sql += *name + " ON " + table + " (" + columns + ")";
  // An empty date is NULL here but '' in SQLite, where two of them collide in a unique index.
  if (index.unique && has_date) sql += " NULLS NOT DISTINCT";
  for (std::size_t i = 0; i < index.where_not_empty.size(); ++i) {
    const Field* field = IndexedField(collection, index.where_not_empty[i]);
    if (field == nullptr || domain::StorageClassOf(*field) != StorageClass::kText) {
      return Fail(IndexError(position, "The index condition names a field that is not text."));
    }
    auto quoted = SqlName(field->name);
    if (!quoted) return Fail(quoted.error());
    sql += (i == 0 ? " WHERE " : " AND ") + *quoted + " <> ''";
  }
  return DdlStatement{std::move(sql), position, std::nullopt};
}

Result<DdlStatement> DropIndex(std::string_view schema, const CollectionIndex& index) {
  auto name = QualifiedName(schema, index.name);
  if (!name) return Fail(name.error());
  return DdlStatement{"DROP INDEX IF EXISTS " + *name, std::nullopt, std::nullopt};
}

Result<std::vector<DdlStatement>> CreateTable(std::string_view schema, std::string_view role,
                                              const Collection& collection) {
  auto table = QualifiedName(schema, collection.name);
  if (!table) return Fail(table.error());
  const Field* id = IdField(collection);
  if (id == nullptr || domain::StorageClassOf(*id) != StorageClass::kText) {
    return Fail(Error::Field("fields", "validation_missing_id",
                             "The collection needs a text field named id."));
  }
  auto id_column = SqlName(id->name);
  if (!id_column) return Fail(id_column.error());
  auto primary_key = QuoteIdentifier(PrimaryKeyName(collection));
  if (!primary_key) return Fail(primary_key.error());

  std::string sql = "CREATE TABLE " + *table + " (";
  for (const auto& field : collection.fields) {
    auto column = SqlName(field.name);
    if (!column) return Fail(column.error());
    sql += *column;
    sql += ' ';
    sql += &field == id ? std::string_view("TEXT COLLATE \"C\" NOT NULL")
                        : ColumnDefinition(domain::StorageClassOf(field));
    sql += ", ";
  }
  sql += "CONSTRAINT " + *primary_key + " PRIMARY KEY (" + *id_column + "))";

  std::vector<DdlStatement> out;
  out.push_back(DdlStatement{std::move(sql), std::nullopt, std::nullopt});
  // An explicit grant in the transaction that creates the table, rather than ALTER DEFAULT
  // PRIVILEGES: default privileges apply only to tables created by the role they name, so a
  // table created by another login (an operator's, a later migration role's) would silently
  // lack them and fail every record statement; this grant holds whoever runs the DDL, commits
  // or rolls back with the table, and leaves no default ACL to clean up when the project goes.
  out.push_back(DdlStatement{GrantRecordTable(*table, role), std::nullopt, std::nullopt});
  for (std::size_t i = 0; i < collection.indexes.size(); ++i) {
    auto index = CreateIndex(*table, collection, i);
    if (!index) return Fail(index.error());
    out.push_back(std::move(*index));
  }
  return out;
}

Result<std::vector<DdlStatement>> DropTable(std::string_view schema, const Collection& collection) {
  auto table = QualifiedName(schema, collection.name);
  if (!table) return Fail(table.error());
  std::vector<DdlStatement> out;
  out.push_back(DdlStatement{"DROP TABLE IF EXISTS " + *table, std::nullopt, std::nullopt});
  return out;
}

Result<std::vector<DdlStatement>> AlterTable(std::string_view schema, const Collection& before,
                                             const Collection& after) {
  const domain::CollectionDiff diff = domain::DiffCollections(before, after);
  std::vector<DdlStatement> out;
  auto add = [&](std::string sql) {
    out.push_back(DdlStatement{std::move(sql), std::nullopt, std::nullopt});
  };

  auto old_table = SqlName(before.name);
  auto new_table = SqlName(after.name);
  if (!old_table) return Fail(old_table.error());
  if (!new_table) return Fail(new_table.error());
  if (*old_table != *new_table) {
    add("ALTER TABLE " + std::string(schema) + "." + *old_table + " RENAME TO " + *new_table);
  }
  const std::string table = std::string(schema) + "." + *new_table;

  // Fields whose column changes type, named as in `after`.
  std::vector<std::pair<const Field*, const Field*>> retyped;
  for (const auto& change : diff.retyped_fields) {
    if (domain::StorageClassOf(*change.before) != domain::StorageClassOf(*change.after)) {
      retyped.emplace_back(change.before, change.after);
    }
  }
  // Kept indexes over a retyped column are rebuilt: the conversion may break their uniqueness
  // (reported as "indexes.N"), and a JSON column is indexed through an expression.
  auto created = [&](const CollectionIndex* index) {
    return std::find(diff.created_indexes.begin(), diff.created_indexes.end(), index) !=
           diff.created_indexes.end();
  };
  std::vector<const CollectionIndex*> rebuilt;
  for (const auto& index : after.indexes) {
    if (created(&index)) continue;
    const bool over_retyped = std::any_of(
        index.columns.begin(), index.columns.end(), [&](const domain::IndexColumn& column) {
          return std::any_of(retyped.begin(), retyped.end(), [&](const auto& change) {
            return EqualsIgnoringCase(change.second->name, column.field);
          });
        });
    if (over_retyped) rebuilt.push_back(&index);
  }

  for (const CollectionIndex* index : diff.dropped_indexes) {
    auto drop = DropIndex(schema, *index);
    if (!drop) return Fail(drop.error());
    out.push_back(std::move(*drop));
  }
  for (const CollectionIndex* index : rebuilt) {
    auto drop = DropIndex(schema, *index);
    if (!drop) return Fail(drop.error());
    out.push_back(std::move(*drop));
  }
  for (const Field* field : diff.removed_fields) {
    auto column = SqlName(field->name);
    if (!column) return Fail(column.error());
    add("ALTER TABLE " + table + " DROP COLUMN " + *column);
  }

  std::vector<std::pair<std::string, std::string>> renames;
  for (const auto& rename : diff.renamed_fields) {
    auto from = SqlName(rename.before->name);
    auto to = SqlName(rename.after->name);
    if (!from) return Fail(from.error());
    if (!to) return Fail(to.error());
    if (*from != *to) renames.emplace_back(std::move(*from), std::move(*to));
  }
  if (renames.size() == 1) {
    add("ALTER TABLE " + table + " RENAME COLUMN " + renames[0].first + " TO " + renames[0].second);
  } else if (renames.size() > 1) {
    // Through temporary names, so that renames may swap names (a -> b, b -> a).
    for (std::size_t i = 0; i < renames.size(); ++i) {
      add("ALTER TABLE " + table + " RENAME COLUMN " + renames[i].first + " TO \"_socle_rename_" +
          std::to_string(i) + "\"");
    }
    for (std::size_t i = 0; i < renames.size(); ++i) {
      add("ALTER TABLE " + table + " RENAME COLUMN \"_socle_rename_" + std::to_string(i) +
          "\" TO " + renames[i].second);
    }
  }

  if (!retyped.empty()) {
    const Field* id = IdField(after);
    if (id == nullptr) return Fail(Error::Internal("collection " + after.name + " has no id"));
    auto id_column = SqlName(id->name);
    if (!id_column) return Fail(id_column.error());
    for (const auto& [from, to] : retyped) {
      auto column = SqlName(to->name);
      if (!column) return Fail(column.error());
      DdlStatement step;
      step.retype =
          Retype{table, *id_column, std::move(*column), domain::StorageClassOf(*from), to};
      out.push_back(std::move(step));
    }
  }
  for (const Field* field : diff.added_fields) {
    auto column = SqlName(field->name);
    if (!column) return Fail(column.error());
    add("ALTER TABLE " + table + " ADD COLUMN " + *column + " " +
        std::string(ColumnDefinition(domain::StorageClassOf(*field))));
  }

  std::vector<const CollectionIndex*> to_create = diff.created_indexes;
  to_create.insert(to_create.end(), rebuilt.begin(), rebuilt.end());
  for (const CollectionIndex* index : to_create) {
    const auto position = static_cast<std::size_t>(index - after.indexes.data());
    if (position >= after.indexes.size()) {
      return Fail(Error::Internal("a created index does not belong to the new definition"));
    }
    auto create = CreateIndex(table, after, position);
    if (!create) return Fail(create.error());
    out.push_back(std::move(*create));
  }
  return out;
}

}  // namespace

Result<std::string> SqlName(std::string_view name) {
  std::string folded(name);
  for (char& c : folded) c = AsciiLower(c);
  return QuoteIdentifier(folded);
}

Result<std::string> QualifiedName(std::string_view schema, std::string_view name) {
  auto quoted = SqlName(name);
  if (!quoted) return Fail(quoted.error());
  return std::string(schema) + "." + *quoted;
}

bool HasTable(const Collection& collection) noexcept {
  return collection.type != domain::CollectionType::kView;
}

const Field* IdField(const Collection& collection) noexcept { return collection.FindField("id"); }

std::string_view ParamType(StorageClass storage) noexcept {
  switch (storage) {
    case StorageClass::kText: return "text";
    case StorageClass::kNumber: return "float8";
    case StorageClass::kBool: return "boolean";
    case StorageClass::kDate: return "timestamptz";
    case StorageClass::kJson: return "json";
    case StorageClass::kTextArray: return "text[]";
  }
  return "text";
}

std::string_view ColumnDefinition(StorageClass storage) noexcept {
  switch (storage) {
    case StorageClass::kText: return "TEXT COLLATE \"C\" NOT NULL DEFAULT ''";
    case StorageClass::kNumber: return "DOUBLE PRECISION NOT NULL DEFAULT 0";
    case StorageClass::kBool: return "BOOLEAN NOT NULL DEFAULT FALSE";
    case StorageClass::kDate: return "TIMESTAMPTZ NULL";
    case StorageClass::kJson: return "JSON NULL";
    case StorageClass::kTextArray: return "TEXT[] COLLATE \"C\" NOT NULL DEFAULT '{}'";
  }
  return "TEXT";
}

std::string PrimaryKeyName(const Collection& collection) {
  // FNV-1a: stable across builds and platforms, unlike std::hash.
  std::uint64_t hash = 14695981039346656037ULL;
  for (unsigned char c : collection.id) {
    hash ^= c;
    hash *= 1099511628211ULL;
  }
  char buffer[32];
  std::snprintf(buffer, sizeof buffer, "_pkey_%016llx", static_cast<unsigned long long>(hash));
  return buffer;
}

std::string CanonicalDateText(std::string_view column) {
  return "to_char(" + std::string(column) + " AT TIME ZONE 'UTC', " +
         std::string(kCanonicalDateFormat) + ")";
}

Result<std::vector<DdlStatement>> CollectionDdl(std::string_view schema, std::string_view role,
                                                const std::optional<Collection>& before,
                                                const std::optional<Collection>& after) {
  const bool had = before && HasTable(*before);
  const bool has = after && HasTable(*after);
  if (!had && !has) return std::vector<DdlStatement>{};
  if (!had) return CreateTable(schema, role, *after);
  if (!has) return DropTable(schema, *before);
  return AlterTable(schema, *before, *after);
}

Result<void> ConvertColumn(Connection& conn, const Retype& retype) {
  const StorageClass to = domain::StorageClassOf(*retype.after);
  const std::string temporary = "\"_socle_retype\"";
  const std::string& table = retype.table;
  const std::string& id = retype.id_column;
  if (auto added = conn.Script("ALTER TABLE " + table + " ADD COLUMN " + temporary + " " +
                               std::string(ColumnDefinition(to)));
      !added) {
    return Fail(added.error());
  }
  // The rows in batches, in id order; the new values go back through unnest, cast from text.
  const std::string select = "SELECT t0." + id + ", t0." + retype.column + " FROM " + table +
                             " AS t0 WHERE t0." + id + " > $1::text ORDER BY t0." + id + " LIMIT " +
                             std::to_string(kConvertBatch);
  const std::string update =
      "UPDATE " + table + " SET " + temporary + " = v.x::" + std::string(ParamType(to)) +
      " FROM unnest($1::text[], $2::text[])" + " AS v(id, x) WHERE " + table + "." + id + " = v.id";
  const Statement read{"", select.c_str(), 1};
  const Statement write{"", update.c_str(), 2};
  std::string last;  // ids are never empty, so "" sorts before all of them
  for (;;) {
    auto rows = conn.Execute(read, {last});
    if (!rows) return Fail(rows.error());
    if (rows->Rows() == 0) break;
    std::vector<std::string> ids;
    std::vector<std::optional<std::string>> values;
    for (int row = 0; row < rows->Rows(); ++row) {
      ids.emplace_back(rows->Text(row, 0));
      auto value = DecodeValue(retype.from, rows->Text(row, 1), rows->IsNull(row, 1));
      if (!value) return Fail(value.error());
      auto encoded = EncodeValue(*retype.after, to, ConvertValue(*value, retype.from, to));
      if (!encoded) return Fail(encoded.error());
      values.push_back(std::move(*encoded));
    }
    last = ids.back();
    auto written = conn.Execute(write, {FormatTextArray(ids), FormatTextArray(values)});
    if (!written) return Fail(written.error());
    if (rows->Rows() < kConvertBatch) break;
  }
  if (auto dropped = conn.Script("ALTER TABLE " + table + " DROP COLUMN " + retype.column);
      !dropped) {
    return Fail(dropped.error());
  }
  if (auto renamed = conn.Script("ALTER TABLE " + table + " RENAME COLUMN " + temporary + " TO " +
                                 retype.column);
      !renamed) {
    return Fail(renamed.error());
  }
  return {};
}

}  // namespace socle::adapters::postgres
