#include "socle/adapters/postgres/sqlstate.hpp"

#include <string>

namespace socle::adapters::postgres {

using domain::Error;
using domain::ErrorCode;

namespace {

Error Make(ErrorCode code, const char* message, std::string_view sqlstate,
           std::string_view detail) {
  Error error = Error::Make(code, message);
  error.internal = "SQLSTATE " + std::string(sqlstate.empty() ? "(none)" : sqlstate) + ": " +
                   std::string(detail);
  return error;
}

}  // namespace

Error ErrorFromSqlstate(std::string_view sqlstate, std::string_view detail) {
  constexpr const char* kUnavailable = "The database is unavailable; try again later.";
  constexpr const char* kConflict = "A concurrent change conflicted; retry the operation.";
  if (sqlstate.empty()) return Make(ErrorCode::kUnavailable, kUnavailable, sqlstate, detail);
  if (sqlstate == "23505" || sqlstate == "42P06" || sqlstate == "42P07") {
    // unique_violation, duplicate_schema, duplicate_table
    return Make(ErrorCode::kAlreadyExists, "A record with this key already exists.", sqlstate,
                detail);
  }
  if (sqlstate == "23503") {
    return Make(ErrorCode::kFailedPrecondition, "A record this change refers to does not exist.",
                sqlstate, detail);
  }
  if (sqlstate == "23502" || sqlstate == "23514") {  // not_null_violation, check_violation
    return Make(ErrorCode::kInvalidArgument, "A value does not satisfy the schema.", sqlstate,
                detail);
  }
  // serialization_failure, deadlock_detected, lock_not_available
  if (sqlstate == "40001" || sqlstate == "40P01" || sqlstate == "55P03") {
    return Make(ErrorCode::kAborted, kConflict, sqlstate, detail);
  }
  if (sqlstate == "57014") {  // query_canceled: statement_timeout
    return Make(ErrorCode::kDeadlineExceeded, "The database operation ran out of time.", sqlstate,
                detail);
  }
  const std::string_view klass = sqlstate.substr(0, 2);
  // 08: connection exception; 57P01-03: the server is shutting down or starting up.
  if (klass == "08" || sqlstate == "57P01" || sqlstate == "57P02" || sqlstate == "57P03") {
    return Make(ErrorCode::kUnavailable, kUnavailable, sqlstate, detail);
  }
  if (klass == "53") {  // insufficient resources: disk full, out of memory, too many connections
    return Make(ErrorCode::kResourceExhausted, "The database ran out of resources; try again later.",
                sqlstate, detail);
  }
  return Error::Internal("SQLSTATE " + std::string(sqlstate) + ": " + std::string(detail));
}

}  // namespace socle::adapters::postgres
