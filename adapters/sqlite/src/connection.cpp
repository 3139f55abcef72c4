#include "connection.hpp"

#include <sqlite3.h>

#include <iterator>
#include <limits>
#include <utility>

#include "socle/adapters/sqlite/sqlite_error.hpp"

namespace socle::adapters::sqlite {

using domain::Error;
using domain::Fail;
using domain::Result;

namespace {

// Per-connection settings. foreign_keys is off by default in SQLite and is per connection.
// synchronous=FULL fsyncs the WAL on every commit: the catalogue is small and written rarely,
// so a committed tenant must survive a power cut rather than save a few milliseconds
// (NORMAL in WAL mode may lose the last commits, though never corrupt the file).
constexpr char kConnectionPragmas[] =
    "PRAGMA foreign_keys = ON;"
    "PRAGMA synchronous = FULL;";

}  // namespace

Statement::Statement(Statement&& other) noexcept
    : db_(other.db_),
      stmt_(std::exchange(other.stmt_, nullptr)),
      borrowed_(std::exchange(other.borrowed_, nullptr)),
      next_index_(other.next_index_),
      bind_error_(other.bind_error_) {}

Statement::~Statement() {
  if (stmt_ == nullptr) return;
  sqlite3_reset(stmt_);
  sqlite3_clear_bindings(stmt_);
  if (borrowed_ != nullptr) *borrowed_ = false;
}

Statement& Statement::Bind(std::string_view text) {
  if (bind_error_ != 0) return *this;
  if (text.size() > static_cast<std::size_t>(std::numeric_limits<int>::max())) {
    bind_error_ = SQLITE_TOOBIG;
    return *this;
  }
  // SQLITE_TRANSIENT: the statement copies the text, so callers may pass temporaries.
  bind_error_ = sqlite3_bind_text(stmt_, next_index_++, text.data(), static_cast<int>(text.size()),
                                  SQLITE_TRANSIENT);
  return *this;
}

Statement& Statement::Bind(std::int64_t value) {
  if (bind_error_ != 0) return *this;
  bind_error_ = sqlite3_bind_int64(stmt_, next_index_++, value);
  return *this;
}

Statement& Statement::BindDouble(double value) {
  if (bind_error_ != 0) return *this;
  bind_error_ = sqlite3_bind_double(stmt_, next_index_++, value);
  return *this;
}

Statement& Statement::BindNull() {
  if (bind_error_ != 0) return *this;
  bind_error_ = sqlite3_bind_null(stmt_, next_index_++);
  return *this;
}

Result<bool> Statement::Step() {
  if (bind_error_ != SQLITE_OK) {
    return Fail(ErrorFromSqlite(bind_error_, std::string("binding parameters of: ") +
                                                 sqlite3_sql(stmt_)));
  }
  int rc = sqlite3_step(stmt_);
  if (rc == SQLITE_ROW) return true;
  if (rc == SQLITE_DONE) return false;
  return Fail(ErrorFromSqlite(sqlite3_extended_errcode(db_),
                              std::string(sqlite3_errmsg(db_)) + " in: " + sqlite3_sql(stmt_)));
}

Result<void> Statement::Run() {
  for (;;) {
    auto row = Step();
    if (!row) return Fail(row.error());
    if (!*row) return {};
  }
}

std::string_view Statement::Text(int column) const {
  const auto* text = reinterpret_cast<const char*>(sqlite3_column_text(stmt_, column));
  if (text == nullptr) return {};
  return {text, static_cast<std::size_t>(sqlite3_column_bytes(stmt_, column))};
}

std::int64_t Statement::Int(int column) const { return sqlite3_column_int64(stmt_, column); }

bool Statement::IsNull(int column) const {
  return sqlite3_column_type(stmt_, column) == SQLITE_NULL;
}

double Statement::Double(int column) const { return sqlite3_column_double(stmt_, column); }

Statement::ColumnType Statement::Type(int column) const {
  switch (sqlite3_column_type(stmt_, column)) {
    case SQLITE_INTEGER: return ColumnType::kInteger;
    case SQLITE_FLOAT: return ColumnType::kFloat;
    case SQLITE_TEXT: return ColumnType::kText;
    case SQLITE_BLOB: return ColumnType::kBlob;
    default: return ColumnType::kNull;
  }
}

Result<std::unique_ptr<Connection>> Connection::Open(const std::string& path,
                                                     std::uint32_t busy_timeout_ms) {
  sqlite3* db = nullptr;
  const int flags = SQLITE_OPEN_READWRITE | SQLITE_OPEN_CREATE | SQLITE_OPEN_NOMUTEX |
                    SQLITE_OPEN_EXRESCODE;
  int rc = sqlite3_open_v2(path.c_str(), &db, flags, nullptr);
  // SQLite hands back a handle even when opening fails; it must be closed either way.
  std::unique_ptr<Connection> conn(new Connection(db));
  if (db == nullptr) return Fail(ErrorFromSqlite(SQLITE_NOMEM, "sqlite3_open_v2: " + path));
  if (rc != SQLITE_OK) return Fail(conn->LastError("opening " + path));
  sqlite3_extended_result_codes(db, 1);
  const int busy_ms = busy_timeout_ms > static_cast<std::uint32_t>(std::numeric_limits<int>::max())
                          ? std::numeric_limits<int>::max()
                          : static_cast<int>(busy_timeout_ms);
  sqlite3_busy_timeout(db, busy_ms);
  if (auto set = conn->Exec(kConnectionPragmas); !set) return Fail(set.error());
  return conn;
}

Connection::~Connection() {
  for (auto& [sql, stmt] : statements_) sqlite3_finalize(stmt);
  for (auto& cached : cached_) sqlite3_finalize(cached.stmt);
  sqlite3_close_v2(db_);
}

Result<Statement> Connection::Prepare(std::string_view sql) {
  auto found = statements_.find(sql.data());
  if (found != statements_.end()) return Statement(db_, found->second);
  sqlite3_stmt* stmt = nullptr;
  int rc = sqlite3_prepare_v3(db_, sql.data(), static_cast<int>(sql.size()),
                              SQLITE_PREPARE_PERSISTENT, &stmt, nullptr);
  if (rc != SQLITE_OK) {
    sqlite3_finalize(stmt);
    return Fail(LastError("preparing: " + std::string(sql)));
  }
  statements_.emplace(sql.data(), stmt);
  return Statement(db_, stmt);
}

Result<Statement> Connection::PrepareCached(std::string_view sql) {
  if (auto found = cached_by_sql_.find(sql); found != cached_by_sql_.end()) {
    cached_.splice(cached_.begin(), cached_, found->second);  // now the most recent
    auto& entry = *found->second;
    return Statement(db_, entry.stmt, &entry.borrowed);
  }
  if (sql.size() > static_cast<std::size_t>(std::numeric_limits<int>::max())) {
    return Fail(ErrorFromSqlite(SQLITE_TOOBIG, "preparing a statement longer than 2 GiB"));
  }
  sqlite3_stmt* stmt = nullptr;
  int rc = sqlite3_prepare_v3(db_, sql.data(), static_cast<int>(sql.size()),
                              SQLITE_PREPARE_PERSISTENT, &stmt, nullptr);
  if (rc != SQLITE_OK) {
    sqlite3_finalize(stmt);
    return Fail(LastError("preparing: " + std::string(sql)));
  }
  cached_.push_front(CachedStatement{std::string(sql), stmt, false});
  cached_by_sql_.emplace(cached_.front().sql, cached_.begin());
  EvictCached();
  auto& entry = cached_.front();
  return Statement(db_, entry.stmt, &entry.borrowed);
}

void Connection::EvictCached() {
  // The least recently used statements go first; one still borrowed (a caller holds it while
  // preparing another) stays, so the cache may exceed its bound by what is in use at once. The
  // front, just prepared for the caller, is never a candidate.
  auto it = cached_.end();
  while (cached_.size() > kCachedStatementLimit && std::prev(it) != cached_.begin()) {
    --it;
    if (it->borrowed) continue;
    sqlite3_finalize(it->stmt);
    cached_by_sql_.erase(it->sql);
    it = cached_.erase(it);
  }
}

void Connection::ForgetCachedIfStale(std::int64_t generation) {
  if (generation == cached_generation_) return;
  cached_generation_ = generation;
  cached_by_sql_.clear();
  for (auto& cached : cached_) sqlite3_finalize(cached.stmt);
  cached_.clear();
}

Result<void> Connection::Exec(const char* sql) {
  char* message = nullptr;
  int rc = sqlite3_exec(db_, sql, nullptr, nullptr, &message);
  if (rc == SQLITE_OK) return {};
  std::string detail = message != nullptr ? message : sqlite3_errstr(rc);
  sqlite3_free(message);
  return Fail(ErrorFromSqlite(sqlite3_extended_errcode(db_), detail + " in: " + sql));
}

Error Connection::LastError(std::string_view what) const {
  return ErrorFromSqlite(sqlite3_extended_errcode(db_),
                         std::string(what) + ": " + sqlite3_errmsg(db_));
}

bool Connection::InTransaction() const { return sqlite3_get_autocommit(db_) == 0; }

std::int64_t Connection::Changes() const { return sqlite3_changes64(db_); }

int Connection::LastErrorCode() const { return sqlite3_extended_errcode(db_); }

std::string_view Connection::LastErrorMessage() const { return sqlite3_errmsg(db_); }

}  // namespace socle::adapters::sqlite
