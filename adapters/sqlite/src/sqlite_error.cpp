#include "socle/adapters/sqlite/sqlite_error.hpp"

#include <sqlite3.h>

#include <string>

namespace socle::adapters::sqlite {

using domain::Error;
using domain::ErrorCode;

namespace {

Error Make(ErrorCode code, const char* message, int result_code, std::string_view detail) {
  Error error = Error::Make(code, message);
  error.internal = "sqlite " + std::to_string(result_code) + " (" + sqlite3_errstr(result_code) +
                   "): " + std::string(detail);
  return error;
}

}  // namespace

Error ErrorFromSqlite(int result_code, std::string_view detail) {
  constexpr const char* kUnavailable = "The database is unavailable; try again later.";
  switch (result_code) {  // extended codes first: they refine their primary code
    case SQLITE_CONSTRAINT_UNIQUE:
    case SQLITE_CONSTRAINT_PRIMARYKEY:
    case SQLITE_CONSTRAINT_ROWID:
      return Make(ErrorCode::kAlreadyExists, "A record with this key already exists.",
                  result_code, detail);
    case SQLITE_CONSTRAINT_FOREIGNKEY:
      return Make(ErrorCode::kFailedPrecondition, "A record this change refers to does not exist.",
                  result_code, detail);
    case SQLITE_CONSTRAINT_NOTNULL:
    case SQLITE_CONSTRAINT_CHECK:
    case SQLITE_CONSTRAINT_DATATYPE:
      return Make(ErrorCode::kInvalidArgument, "A value does not satisfy the schema.", result_code,
                  detail);
    case SQLITE_BUSY_SNAPSHOT:
      // A reader tried to write after another writer committed: the whole operation must be
      // retried on a fresh snapshot.
      return Make(ErrorCode::kAborted, "A concurrent change conflicted; retry the operation.",
                  result_code, detail);
    default:
      break;
  }
  switch (result_code & 0xff) {
    case SQLITE_OK:
      return Error::Internal("sqlite reported success as an error: " + std::string(detail));
    case SQLITE_CONSTRAINT:
      return Make(ErrorCode::kFailedPrecondition, "The change violates a database constraint.",
                  result_code, detail);
    case SQLITE_BUSY:  // the busy timeout ran out waiting for another writer
      return Make(ErrorCode::kUnavailable, "The database is busy; try again later.", result_code,
                  detail);
    case SQLITE_LOCKED:
      return Make(ErrorCode::kAborted, "A concurrent change conflicted; retry the operation.",
                  result_code, detail);
    case SQLITE_INTERRUPT:
      return Make(ErrorCode::kDeadlineExceeded, "The database operation ran out of time.",
                  result_code, detail);
    case SQLITE_NOMEM:
    case SQLITE_FULL:
    case SQLITE_TOOBIG:
      return Make(ErrorCode::kResourceExhausted,
                  "The database ran out of space or memory, or a value is too large.",
                  result_code, detail);
    case SQLITE_CANTOPEN:
    case SQLITE_IOERR:
    case SQLITE_PERM:
    case SQLITE_READONLY:
    case SQLITE_PROTOCOL:
    case SQLITE_AUTH:
      return Make(ErrorCode::kUnavailable, kUnavailable, result_code, detail);
    default:  // SQLITE_ERROR, SQLITE_CORRUPT, SQLITE_NOTADB, SQLITE_MISUSE, SQLITE_SCHEMA ...
      return Error::Internal("sqlite " + std::to_string(result_code) + " (" +
                             sqlite3_errstr(result_code) + "): " + std::string(detail));
  }
}

}  // namespace socle::adapters::sqlite
