#pragma once

#include <cstdint>
#include <memory>
#include <string>
#include <string_view>
#include <unordered_map>

#include "socle/domain/error.hpp"

struct sqlite3;
struct sqlite3_stmt;

namespace socle::adapters::sqlite {

/// A cached prepared statement borrowed for one execution. Binding is positional from ?1;
/// a bind failure is remembered and reported by the next Step(), which keeps call sites short.
/// The destructor resets the statement, so it releases its read snapshot and can be reused.
class Statement final {
 public:
  Statement(sqlite3* db, sqlite3_stmt* stmt) noexcept : db_(db), stmt_(stmt) {}
  Statement(Statement&& other) noexcept;
  Statement(const Statement&) = delete;
  Statement& operator=(const Statement&) = delete;
  Statement& operator=(Statement&&) = delete;
  ~Statement();

  Statement& Bind(std::string_view text);
  Statement& Bind(std::int64_t value);

  /// true when a row is available, false when the statement is done; an error otherwise.
  domain::Result<bool> Step();
  /// Steps to completion for a statement that returns no row.
  domain::Result<void> Run();

  std::string_view Text(int column) const;
  std::int64_t Int(int column) const;
  bool IsNull(int column) const;

 private:
  sqlite3* db_;
  sqlite3_stmt* stmt_;
  int next_index_ = 1;
  int bind_error_ = 0;
};

/// One SQLite connection, opened with SQLITE_OPEN_NOMUTEX: it must be used by one thread at a
/// time, which the pool guarantees. Keeps every statement it prepared, keyed by the address of
/// its SQL text, so the SQL passed to Prepare() must be a named constant that outlives it.
class Connection final {
 public:
  /// Opens (creating) the file, with extended result codes, the busy timeout, foreign keys on
  /// and synchronous=FULL.
  static domain::Result<std::unique_ptr<Connection>> Open(const std::string& path,
                                                          std::uint32_t busy_timeout_ms);
  Connection(const Connection&) = delete;
  Connection& operator=(const Connection&) = delete;
  ~Connection();

  /// The cached statement for `sql`, prepared on first use.
  domain::Result<Statement> Prepare(std::string_view sql);
  /// Runs constant SQL that may hold several statements (transaction control, migrations).
  domain::Result<void> Exec(const char* sql);
  /// The error for the connection's last failed call, with `what` as context for the logs.
  domain::Error LastError(std::string_view what) const;
  /// Whether a transaction is open (after a failed COMMIT or ROLLBACK it may still be).
  bool InTransaction() const;
  /// Rows changed by the last INSERT, UPDATE or DELETE.
  std::int64_t Changes() const;

 private:
  explicit Connection(sqlite3* db) noexcept : db_(db) {}
  sqlite3* db_;
  std::unordered_map<const char*, sqlite3_stmt*> statements_;
};

}  // namespace socle::adapters::sqlite
