#pragma once

#include <string>
#include <string_view>

#include "connection.hpp"
#include "socle/adapters/json/stored_value.hpp"
#include "socle/domain/error.hpp"
#include "socle/domain/json_value.hpp"
#include "socle/domain/schema_diff.hpp"

namespace socle::adapters::sqlite {

// How record values live in a project's SQLite tables, one storage class at a time (see the
// table in the project store specification): the column declaration, reading a column back
// into the canonical value of domain/record.hpp, binding a canonical value, and converting a
// value when a field's storage class changes.

/// The column type and default for a field of this storage class in a STRICT table, e.g.
/// "TEXT NOT NULL DEFAULT ''".
std::string_view ColumnDeclaration(domain::StorageClass storage);

/// The canonical value stored in `column` of the current row. internal when the stored text is
/// not what this adapter writes (a file changed behind its back).
domain::Result<domain::JsonValue> ReadValue(const Statement& row, int column,
                                            domain::StorageClass storage);

/// Binds `value` as the next parameter of `stmt`. internal when the value's type does not match
/// the storage class (the records use case validates values before they reach a store).
domain::Result<void> BindValue(Statement& stmt, const domain::JsonValue& value,
                               domain::StorageClass storage);

// The canonical number and the retype conversion table are shared with the other stores.
using json::CanonicalNumber;
using json::ConvertValue;

}  // namespace socle::adapters::sqlite
