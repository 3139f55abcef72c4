#pragma once

#include <string>
#include <string_view>

#include "connection.hpp"
#include "socle/domain/collection.hpp"
#include "socle/domain/error.hpp"

namespace socle::adapters::sqlite {

// The DDL of a project's collection tables, generated from collection definitions only (names
// quoted by the one identifier helper, no value ever spliced in), and the data-preserving
// alterations between two definitions of one collection, in the order domain::DiffCollections
// gives. Every function runs inside the caller's transaction: a failure leaves nothing behind
// once the caller rolls back.

/// Whether a collection of this type has a table (base and auth do; views do not).
bool HasTable(const domain::Collection& collection) noexcept;

/// CREATE TABLE for `collection`: one column per field, the `id` field as the primary key,
/// STRICT. invalid_argument when the collection has no `id` field.
domain::Result<std::string> CreateTableSql(const domain::Collection& collection);

/// CREATE [UNIQUE] INDEX for `index` on `table`.
std::string CreateIndexSql(const domain::CollectionIndex& index, std::string_view table);

/// Creates the table of `collection` and its indexes.
domain::Result<void> CreateCollectionTable(Connection& conn, const domain::Collection& collection);

/// Drops the table of `collection` (its indexes go with it).
domain::Result<void> DropCollectionTable(Connection& conn, const domain::Collection& collection);

/// Turns the table of `before` into the table of `after`: renames the table, drops, renames,
/// retypes (converting every value, see ConvertValue) and adds columns, and drops and creates
/// indexes. invalid_argument with a field error "indexes.N" (N: the index's position in
/// `after`) when a unique index cannot be built over the existing rows.
domain::Result<void> AlterCollectionTable(Connection& conn, const domain::Collection& before,
                                          const domain::Collection& after);

}  // namespace socle::adapters::sqlite
