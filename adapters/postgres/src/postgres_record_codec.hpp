#pragma once

#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "socle/adapters/json/stored_value.hpp"
#include "socle/domain/collection.hpp"
#include "socle/domain/error.hpp"
#include "socle/domain/json_value.hpp"
#include "socle/domain/schema_diff.hpp"

// How record values travel between the canonical in-memory form (domain/record.hpp) and the
// text format of libpq, per storage class (see postgres_schema_ddl.hpp for the column types).
namespace socle::adapters::postgres {

// The canonical number and the retype conversion table are shared with the other stores.
using json::CanonicalNumber;
using json::ConvertValue;

/// The shortest text that reads back as the same double ("12", "12.5", "1e+21").
std::string FormatDouble(double value);

/// Parses a number as PostgreSQL prints a double precision; internal error otherwise.
domain::Result<double> ParseDouble(std::string_view text);

/// PostgreSQL's input syntax for a one-dimensional text[]: every element double-quoted with
/// `"` and `\` escaped, so no element can be read as NULL or split: {"a","b \"c\""}.
std::string FormatTextArray(const std::vector<domain::JsonValue>& items);
std::string FormatTextArray(const std::vector<std::string>& items);
/// The same with NULL elements (std::nullopt), written unquoted.
std::string FormatTextArray(const std::vector<std::optional<std::string>>& items);

/// Parses PostgreSQL's output for a one-dimensional text[] ({a,"b c",NULL}); a NULL element
/// becomes "". internal error for anything else (multi-dimensional arrays included).
domain::Result<std::vector<std::string>> ParseTextArray(std::string_view literal);

/// The text to bind for `value` in a column of `storage` (std::nullopt binds NULL): numbers
/// in shortest form, booleans true/false, dates in canonical form, truncated to milliseconds
/// (NULL when empty), json as compact JSON text (NULL for null), arrays as FormatTextArray.
/// invalid_argument naming `field` when the value does not have the field's canonical type or
/// holds a NUL character, which PostgreSQL text cannot store.
domain::Result<std::optional<std::string>> EncodeValue(const domain::Field& field,
                                                       domain::StorageClass storage,
                                                       const domain::JsonValue& value);

/// The canonical value of a column read back as text, NULL as `null_column`. A date is read in
/// PostgreSQL's ISO output at UTC ("2024-05-01 09:30:00.123+00"), which the session settings
/// of every connection of this adapter guarantee (TimeZone UTC, DateStyle ISO).
/// internal error when the text is not what this adapter writes.
domain::Result<domain::JsonValue> DecodeValue(domain::StorageClass storage, std::string_view text,
                                              bool null_column);

/// Whether `text` can be bound as a text parameter: PostgreSQL text cannot hold NUL, and libpq
/// would cut the value short at the first one.
bool CanBindText(std::string_view text) noexcept;

}  // namespace socle::adapters::postgres
