#pragma once

#include <libpq-fe.h>

#include <chrono>
#include <cstddef>
#include <cstdint>
#include <list>
#include <memory>
#include <optional>
#include <string>
#include <string_view>
#include <unordered_map>
#include <unordered_set>
#include <utility>
#include <vector>

#include "socle/domain/error.hpp"

namespace socle::adapters::postgres {

/// A statement kept as a named constant. With a name it is prepared once per connection under
/// that name, then executed by name; without one it is sent unnamed (for one-off statements).
/// Values are always bound to $1..$params, as text.
struct Statement {
  const char* name;
  const char* sql;
  int params;
};

/// Bound values, in text format; std::nullopt binds NULL.
using Params = std::vector<std::optional<std::string>>;

/// An owned PGresult, read as text.
class PgResult final {
 public:
  explicit PgResult(PGresult* result) noexcept : result_(result, &PQclear) {}
  int Rows() const noexcept { return PQntuples(result_.get()); }
  int Columns() const noexcept { return PQnfields(result_.get()); }
  /// The type OID of a column of the result.
  unsigned int ColumnType(int column) const noexcept { return PQftype(result_.get(), column); }
  std::string_view Text(int row, int column) const noexcept;
  bool IsNull(int row, int column) const noexcept;
  /// Rows affected by an INSERT, UPDATE or DELETE.
  std::int64_t Affected() const noexcept;

 private:
  std::unique_ptr<PGresult, decltype(&PQclear)> result_;
};

/// How every pooled connection is opened.
struct ConnectionSettings {
  std::string url;
  std::chrono::milliseconds connect_timeout{5000};
  /// Server-side statement_timeout; 0 disables it and the client-side deadline with it.
  std::chrono::milliseconds statement_timeout{5000};
  /// A descriptor that becomes readable when whoever owns the connection is shutting down
  /// (-1: none). Every wait on the socket, the handshake's included, also watches it and gives
  /// up at once, so that a thread blocked on a slow server can be stopped promptly.
  int interrupt_fd = -1;
};

/// A notification received on a connection that LISTENs on `channel`.
struct Notification {
  std::string channel;
  std::string payload;
};

/// One libpq connection in non-blocking mode: every round trip waits on the socket with a
/// deadline (the statement timeout plus a grace period), so a server that vanishes without
/// closing the connection costs a bounded wait, never a hang. Used by one thread at a time.
class Connection final {
 public:
  /// Connects within settings.connect_timeout and sets statement_timeout for the session.
  /// unavailable when the server cannot be reached, invalid_argument for a malformed URL.
  static domain::Result<std::unique_ptr<Connection>> Open(const ConnectionSettings& settings);
  Connection(const Connection&) = delete;
  Connection& operator=(const Connection&) = delete;
  ~Connection();

  /// Executes `statement` with `params`, preparing it on this connection on first use.
  domain::Result<PgResult> Execute(const Statement& statement, const Params& params = {});
  /// Executes SQL text generated at run time from a schema (identifiers quoted by
  /// QuoteIdentifier, every value bound to $n with an explicit cast), prepared on this
  /// connection on first use under a generated name. Prepared statements stay in an LRU of
  /// kStatementCacheCapacity entries keyed by the text; the least recently used one is
  /// deallocated when a new one needs room. `generation` names the schema the text was built
  /// for: an entry prepared under another generation is prepared again, since the result
  /// types of the same text may have changed with the schema.
  domain::Result<PgResult> ExecuteCached(const std::string& sql, const Params& params,
                                         std::uint64_t generation);
  /// Runs SQL text with the simple protocol (several statements allowed): transaction control,
  /// migrations and DDL whose identifiers went through QuoteIdentifier. Never request input.
  /// With deferred statements pending, a single statement (no ';') goes in their pipeline; a
  /// script of several is sent after them, in a round trip of its own.
  domain::Result<PgResult> Script(const std::string& sql);

  /// Deferred statements: queued here and sent, in one pipeline, with the next round trip
  /// (Execute, ExecuteCached or Script), which then waits for all of them at once. A write
  /// transaction defers its BEGIN to travel with its first statement, and its last statement
  /// to travel with the COMMIT: two round trips fewer per transaction. A deferred statement's
  /// failure is that round trip's failure (the first failure wins; in a transaction, what
  /// follows it is not run and the transaction must be rolled back); its result is dropped.
  /// `sql` as for Script (one statement, no parameters) or, with params and a generation, as
  /// for ExecuteCached.
  void Defer(std::string sql);
  void Defer(std::string sql, Params params, std::uint64_t generation);
  /// Where a deferred statement's result lands: empty until the round trip that carries the
  /// statement succeeds, and left empty when that round trip fails.
  using KeptResult = std::shared_ptr<std::optional<PgResult>>;
  /// As Defer (with params and a generation), keeping the statement's result: a read that
  /// travels with the round trips that come anyway (a transaction's first statement), whose
  /// answer is used later. Flush() sends it when no other round trip came first.
  KeptResult DeferKept(std::string sql, Params params, std::uint64_t generation);
  /// Sends the deferred statements now, in one round trip; nothing when there are none.
  domain::Result<void> Flush();
  /// Forgets the deferred statements without sending them (a transaction that ends before
  /// they left). RollBack does this.
  void DropDeferred() noexcept { deferred_.clear(); }
  bool HasDeferred() const noexcept { return !deferred_.empty(); }

  /// Reads what the server sent meanwhile, without blocking, and returns the notifications
  /// received since the last call (those that arrived during other round trips included).
  /// unavailable when the connection is lost.
  domain::Result<std::vector<Notification>> TakeNotifications();
  /// The connection's socket, to wait on with poll() beside other descriptors; -1 when closed.
  int socket() const noexcept { return PQsocket(conn_); }
  /// The process id of the server backend serving this connection.
  int backend_pid() const noexcept { return PQbackendPID(conn_); }

  /// Whether the connection is idle, outside any transaction, with nothing deferred and still
  /// connected. Reads what the server sent meanwhile without blocking, so a backend that was
  /// terminated while the connection sat in the pool is noticed before it is lent out.
  bool IsReusable();
  /// True once the connection was found lost or timed out; it must then be discarded.
  bool broken() const noexcept { return broken_; }
  /// Round trips that succeeded since the last ResetUsage().
  int round_trips() const noexcept { return round_trips_; }
  void ResetUsage() noexcept { round_trips_ = 0; }
  /// The constraint named by the last failed statement (PG_DIAG_CONSTRAINT_NAME), if any.
  const std::string& last_constraint() const noexcept { return last_constraint_; }
  /// The SQLSTATE of the last failed statement, "" when libpq failed on its own side.
  const std::string& last_sqlstate() const noexcept { return last_sqlstate_; }
  /// Whether a statement failed inside the open transaction, which now refuses everything but
  /// ROLLBACK (a COMMIT would silently roll back).
  bool InFailedTransaction() const noexcept {
    return PQtransactionStatus(conn_) == PQTRANS_INERROR;
  }
  /// How many statements ExecuteCached keeps prepared (for tests and diagnostics).
  std::size_t cached_statements() const noexcept { return cache_.size(); }

  /// The most statements ExecuteCached keeps prepared on one connection.
  static constexpr std::size_t kStatementCacheCapacity = 256;

 private:
  Connection(PGconn* conn, std::chrono::milliseconds io_timeout, int interrupt_fd) noexcept
      : conn_(conn), io_timeout_(io_timeout), interrupt_fd_(interrupt_fd) {}
  // Waits for the whole answer to what was sent (every result of a script; with `pipeline`,
  // every command's results up to the sync) and returns the last result, or the first failure.
  // `kept`, in a pipeline: the slot of each command sent, in order (null for a command whose
  // result is not kept), which receives that command's result.
  domain::Result<PgResult> Await(std::string_view what, bool pipeline = false,
                                 const std::vector<KeptResult>* kept = nullptr);
  domain::Error Lost(std::string_view what);

  struct Deferred {
    std::string sql;
    Params params;
    std::uint64_t generation = 0;
    bool cached = false;  // prepared through the statement cache; otherwise one plain statement
    KeptResult kept;      // where its result goes; null: dropped
  };
  // Sends the deferred statements and then `last` (if any) in one pipeline and waits for all;
  // returns the result of the last one sent.
  domain::Result<PgResult> RunPipeline(std::optional<Deferred> last);
  // The prepared statement's name for `deferred` (cached), preparing it in the pipeline when
  // new; set `prepare` to queue the PQsendPrepare first.
  const std::string& NameFor(const Deferred& deferred, bool& prepare);

  // A statement prepared by ExecuteCached.
  struct CachedStatement {
    std::string sql;
    std::string name;
    std::uint64_t generation;
  };
  using CacheList = std::list<CachedStatement>;
  // Forgets a cached statement, deallocating it on the server.
  void Evict(CacheList::iterator entry);

  PGconn* conn_;
  std::chrono::milliseconds io_timeout_;  // 0: no client-side deadline
  int interrupt_fd_;                      // -1: none (see ConnectionSettings::interrupt_fd)
  std::unordered_set<std::string_view> prepared_;
  bool broken_ = false;
  int round_trips_ = 0;
  std::string last_constraint_;
  std::string last_sqlstate_;
  CacheList lru_;  // most recently used first
  std::unordered_map<std::string_view, CacheList::iterator> cache_;  // keys view lru_'s sql
  std::uint64_t statements_prepared_ = 0;  // numbers the generated statement names
  std::vector<Deferred> deferred_;
};

// ---- transactions, as every store runs them ---------------------------------------------------

inline constexpr char kBegin[] = "BEGIN";
inline constexpr char kCommit[] = "COMMIT";
inline constexpr char kRollback[] = "ROLLBACK";

/// Ends a transaction that failed, unless the connection is lost (the server then ends it) or
/// the failure already ended it (a COMMIT that failed usually has).
void RollBack(Connection& conn);

/// Runs `body` between `begin` (BEGIN, or a variant such as BEGIN READ ONLY) and COMMIT,
/// rolling back when it fails. Should the ROLLBACK fail too, the pool finds the connection
/// inside a transaction and closes it.
template <typename Body>
auto InTransaction(Connection& conn, const char* begin, Body&& body) -> decltype(body()) {
  if (auto begun = conn.Script(begin); !begun) return domain::Fail(begun.error());
  auto result = body();
  if (!result) {
    RollBack(conn);
    return result;
  }
  if (auto committed = conn.Script(kCommit); !committed) {
    RollBack(conn);
    return domain::Fail(committed.error());
  }
  return result;
}

/// InTransaction with a plain BEGIN.
template <typename Body>
auto InTransaction(Connection& conn, Body&& body) -> decltype(body()) {
  return InTransaction(conn, kBegin, std::forward<Body>(body));
}

}  // namespace socle::adapters::postgres
