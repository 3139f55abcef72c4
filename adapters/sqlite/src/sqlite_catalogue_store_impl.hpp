#pragma once

// What the parts of SqliteCatalogueStore share: its connection pool and writer queue (the
// Impl), and the transaction and row-reading helpers. The catalogue methods live in
// sqlite_catalogue_store.cpp, the access methods in sqlite_access_store.cpp, the audit trail in
// sqlite_catalogue_audit.cpp; all run on the same pool, so an access row, the catalogue row it
// depends on and the audit event describing a change are always in one database and one
// transaction. Private to the adapter.

#include <chrono>
#include <filesystem>
#include <mutex>
#include <optional>
#include <string>
#include <string_view>
#include <system_error>
#include <utility>
#include <vector>

#include "connection.hpp"
#include "socle/adapters/bounded_pool.hpp"
#include "socle/adapters/pending_audit.hpp"
#include "socle/adapters/sqlite/project_database_path.hpp"
#include "socle/adapters/sqlite/sqlite_catalogue_store.hpp"
#include "socle/application/ports/audit_store.hpp"
#include "socle/domain/error.hpp"
#include "socle/domain/id.hpp"
#include "socle/domain/page.hpp"

namespace socle::adapters::sqlite {

inline constexpr char kBeginImmediate[] = "BEGIN IMMEDIATE";
inline constexpr char kCommit[] = "COMMIT";
inline constexpr char kRollback[] = "ROLLBACK";

// Rows are read back through the domain parsers: a row that fails them was written by
// something else than this adapter, which is an internal error, not the caller's.
template <typename T>
domain::Result<T> Column(domain::Result<T> parsed, std::string_view column) {
  if (parsed) return parsed;
  return domain::Fail(domain::Error::Internal("stored " + std::string(column) +
                                              " is malformed: " + parsed.error().message));
}

// Runs `body` inside a transaction opened with `begin`, committing when it succeeds and rolling
// back otherwise. Writers use BEGIN IMMEDIATE: they take the write lock up front (waiting up to
// the busy timeout), so they never fail half-way with SQLITE_BUSY_SNAPSHOT, and what they read
// before writing (an invariant's check) cannot change before they commit.
template <typename Body>
auto InTransaction(Connection& conn, const char* begin, Body&& body) -> decltype(body()) {
  if (auto started = conn.Exec(begin); !started) return domain::Fail(started.error());
  auto result = body();
  if (!result) {
    (void)conn.Exec(kRollback);  // the pool closes the connection if this fails too
    return result;
  }
  if (auto committed = conn.Exec(kCommit); !committed) {
    (void)conn.Exec(kRollback);
    return domain::Fail(committed.error());
  }
  return result;
}

// Reads a page query shaped "total, columns of one item ..." into a PageOf.
template <typename T, typename Reader>
domain::Result<domain::PageOf<T>> ReadPage(Statement& stmt, const domain::PageRequest& page,
                                           Reader read) {
  domain::PageOf<T> out;
  out.page = page.page;
  out.per_page = page.per_page;
  for (;;) {
    auto row = stmt.Step();
    if (!row) return domain::Fail(row.error());
    if (!*row) break;
    out.total_items = stmt.Int(0);
    if (stmt.IsNull(1)) continue;  // the page is past the end: only the total came back
    auto item = read(stmt, 1);
    if (!item) return domain::Fail(item.error());
    out.items.push_back(std::move(*item));
  }
  return out;
}

// Runs `audit` with an appender of the chain `chain` inside the write transaction open on
// `conn` (which holds the file's write lock, hence the chain's). Defined in
// sqlite_catalogue_audit.cpp.
domain::Result<void> RunAudit(Connection& conn, const std::string& chain,
                              const application::AuditWrite& audit);

struct SqliteCatalogueStore::Impl {
  // A transaction left open by a failed COMMIT or ROLLBACK would hold the write lock: such a
  // connection is closed (which rolls back) rather than lent to the next caller. A caller waits
  // for a connection as long as SQLite waits for a lock, the busy timeout.
  explicit Impl(const SqliteOptions& options)
      : path(options.path),
        pool([file = options.path, busy_timeout_ms = options.busy_timeout_ms] {
               return Connection::Open(file, busy_timeout_ms);
             },
             [](Connection& conn) { return !conn.InTransaction(); }, options.pool_size,
             std::chrono::milliseconds(options.busy_timeout_ms)) {}

  // Runs `op` with a pooled connection.
  template <typename Op>
  auto WithConnection(Op&& op) -> decltype(op(std::declval<Connection&>())) {
    auto lease = pool.Acquire();
    if (!lease) return domain::Fail(lease.error());
    return op(**lease);
  }

  // Runs the write transaction `op` with a pooled connection, one writer of this process at a
  // time. SQLite admits one writer per file anyway; queueing them here makes them wait their
  // turn on a mutex, instead of in SQLite's busy handler, which sleeps in growing steps (up to
  // 100 ms) and let a few unlucky writers wait close to a second under load. The busy timeout
  // still arbitrates between processes (the CLI next to a running server).
  template <typename Op>
  auto WithWriter(Op&& op) -> decltype(op(std::declval<Connection&>())) {
    std::lock_guard lock(writer);
    return WithConnection(std::forward<Op>(op));
  }

  // The one write transaction of every mutating method of both ports: `body(conn)` inside BEGIN
  // IMMEDIATE, one writer of this process at a time (WithWriter). When the calling thread is
  // inside Audited on this store, the pending audit runs after `body` succeeded, just before
  // COMMIT, so that the change and its events commit together or not at all; its failure rolls
  // the change back. An audited change gets one write transaction: a second would commit
  // unaudited, so it is refused.
  template <typename Body>
  auto Write(Body&& body) -> decltype(body(std::declval<Connection&>())) {
    using R = decltype(body(std::declval<Connection&>()));
    auto found = PendingAuditFor(this);
    if (!found) return domain::Fail(std::move(found.error()));
    PendingAudit* pending = *found;
    if (pending != nullptr) pending->taken = true;
    return WithWriter([&](Connection& conn) {
      return InTransaction(conn, kBeginImmediate, [&]() -> R {
        auto result = body(conn);
        if (!result || pending == nullptr) return result;
        if (auto audited = RunAudit(conn, pending->chain, pending->audit); !audited) {
          pending->failed = audited.error();
          return domain::Fail(std::move(audited.error()));
        }
        return result;
      });
    });
  }

  // Removes the databases of deleted projects. Runs after the commit: the catalogue row is the
  // truth, so a file that cannot be removed is an orphan to clean up, not a failed deletion.
  void RemoveProjectFiles(const std::vector<std::string>& project_ids) const {
    for (const auto& raw : project_ids) {
      auto id = domain::Id::Parse(raw);
      if (!id) continue;  // ids are checked by the schema; never build a path from anything else
      const auto db = ProjectDatabasePath(path, *id);
      for (const char* suffix : {"", "-wal", "-shm", "-journal"}) {
        std::error_code ignored;
        std::filesystem::remove(db.string() + suffix, ignored);
      }
    }
  }

  std::filesystem::path path;
  BoundedPool<Connection> pool;
  std::mutex writer;  // see WithWriter
};

}  // namespace socle::adapters::sqlite
