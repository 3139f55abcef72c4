#pragma once

#include <cstddef>
#include <cstdint>
#include <list>
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
  /// The storage class of a column's value in the current row (sqlite3_column_type).
  enum class ColumnType { kInteger, kFloat, kText, kBlob, kNull };

  /// `borrowed`, when given, is set while this object lives: the statement cache of
  /// Connection::PrepareCached never evicts a statement someone is using.
  Statement(sqlite3* db, sqlite3_stmt* stmt, bool* borrowed = nullptr) noexcept
      : db_(db), stmt_(stmt), borrowed_(borrowed) {
    if (borrowed_ != nullptr) *borrowed_ = true;
  }
  Statement(Statement&& other) noexcept;
  Statement(const Statement&) = delete;
  Statement& operator=(const Statement&) = delete;
  Statement& operator=(Statement&&) = delete;
  ~Statement();

  Statement& Bind(std::string_view text);
  Statement& Bind(std::int64_t value);
  /// Named apart from Bind so that an int argument never becomes ambiguous between the two.
  Statement& BindDouble(double value);
  Statement& BindNull();

  /// true when a row is available, false when the statement is done; an error otherwise.
  domain::Result<bool> Step();
  /// Steps to completion for a statement that returns no row.
  domain::Result<void> Run();

  std::string_view Text(int column) const;
  std::int64_t Int(int column) const;
  bool IsNull(int column) const;
  double Double(int column) const;
  ColumnType Type(int column) const;

 private:
  sqlite3* db_;
  sqlite3_stmt* stmt_;
  bool* borrowed_ = nullptr;
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
  /// The cached statement for generated SQL (table and column names from a schema), keyed by
  /// its text: a bounded LRU of kCachedStatementLimit statements, so a stream of distinct
  /// filters cannot grow it without bound. A statement still borrowed is never evicted.
  domain::Result<Statement> PrepareCached(std::string_view sql);
  /// Finalizes the statements of PrepareCached when `generation` (a schema version) differs
  /// from the one they were prepared under: SQL generated for an older schema is never reused.
  /// Precondition: none of them is borrowed.
  void ForgetCachedIfStale(std::int64_t generation);
  /// How many statements PrepareCached holds (for tests and metrics).
  std::size_t CachedCount() const noexcept { return cached_.size(); }
  /// Runs SQL held in a string (generated DDL), as Exec.
  domain::Result<void> Exec(const std::string& sql) { return Exec(sql.c_str()); }
  /// Runs constant SQL that may hold several statements (transaction control, migrations).
  domain::Result<void> Exec(const char* sql);
  /// The error for the connection's last failed call, with `what` as context for the logs.
  domain::Error LastError(std::string_view what) const;
  /// Whether a transaction is open (after a failed COMMIT or ROLLBACK it may still be).
  bool InTransaction() const;
  /// Rows changed by the last INSERT, UPDATE or DELETE.
  std::int64_t Changes() const;
  /// The extended result code and message of the last failed call, read right after it (e.g.
  /// which columns a UNIQUE constraint named), before anything else runs on the connection.
  int LastErrorCode() const;
  std::string_view LastErrorMessage() const;

  static constexpr std::size_t kCachedStatementLimit = 256;

 private:
  struct CachedStatement {
    std::string sql;
    sqlite3_stmt* stmt = nullptr;
    bool borrowed = false;
  };

  explicit Connection(sqlite3* db) noexcept : db_(db) {}
  void EvictCached();

  sqlite3* db_;
  std::unordered_map<const char*, sqlite3_stmt*> statements_;
  // PrepareCached: most recently used first; the map's keys view the list nodes' text, which
  // never moves (std::list nodes are stable).
  std::list<CachedStatement> cached_;
  std::unordered_map<std::string_view, std::list<CachedStatement>::iterator> cached_by_sql_;
  std::int64_t cached_generation_ = 0;
};

}  // namespace socle::adapters::sqlite
