#pragma once

#include <string_view>

#include "socle/domain/error.hpp"

namespace socle::adapters::sqlite {

/// Translates an SQLite result code (extended codes preferred, e.g. SQLITE_CONSTRAINT_UNIQUE)
/// into the canonical error vocabulary: the one place where SQLite codes get a meaning.
/// `detail` (sqlite3_errmsg, the statement ...) goes to Error::internal only; the message is
/// generic and safe for clients. Callers may refine the message (never the code) with context.
/// A foreign-key violation maps to failed_precondition: a row the write depends on is missing;
/// a port method that documents another code for it translates it at its call site.
domain::Error ErrorFromSqlite(int result_code, std::string_view detail);

}  // namespace socle::adapters::sqlite
