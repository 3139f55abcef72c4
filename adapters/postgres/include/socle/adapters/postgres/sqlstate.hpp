#pragma once

#include <string_view>

#include "socle/domain/error.hpp"

namespace socle::adapters::postgres {

/// Translates a PostgreSQL SQLSTATE into the canonical error vocabulary: the one place where
/// SQLSTATEs get a meaning. An empty SQLSTATE means libpq failed on its own side (connection
/// lost, server gone) and maps to unavailable. `detail` (the server's message) goes to
/// Error::internal only; the message is generic and safe for clients. Callers may refine the
/// message (never the code) with context.
/// A foreign-key violation (23503) maps to failed_precondition: a row the write depends on is
/// missing; a port method that documents another code for it translates it at its call site.
domain::Error ErrorFromSqlstate(std::string_view sqlstate, std::string_view detail);

}  // namespace socle::adapters::postgres
