#pragma once

#include <string>
#include <string_view>

namespace socle::adapters::sqlite {

/// Appends `name` to `out` as an SQLite quoted identifier ("name", inner quotes doubled). The
/// only way a table, column or index name enters generated SQL; callers take names from a
/// schema (validated [A-Za-z_][A-Za-z0-9_]*), never from request text, and the quoting keeps
/// even a malformed name from being read as SQL.
void AppendIdentifier(std::string& out, std::string_view name);

/// `name` quoted as by AppendIdentifier.
std::string QuoteIdentifier(std::string_view name);

/// Whether two SQLite identifiers name the same thing: SQLite compares them ignoring ASCII case.
bool SameIdentifier(std::string_view a, std::string_view b) noexcept;

}  // namespace socle::adapters::sqlite
