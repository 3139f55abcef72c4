#pragma once

#include <memory>

#include "socle/adapters/postgres/postgres_catalogue_store.hpp"
#include "socle/application/ports/project_store.hpp"
#include "socle/domain/error.hpp"
#include "socle/domain/id.hpp"
#include "socle/domain/tenancy.hpp"

namespace socle::adapters::postgres {

/// The ProjectStores on PostgreSQL: each project's collections and records live in the
/// project's own schema p_<project id> (created with the project by the catalogue, or here on
/// first use), one table per base/auth collection with a typed column per field, beside three
/// internal tables: _collections (the definitions), _schema_history and _schema_version, and
/// the audit trail's: _audit (range-partitioned by month, _audit_yYYYYmMM created ahead plus
/// _audit_default), on which the project's role holds SELECT and INSERT only and triggers
/// refuse DELETE, TRUNCATE and every UPDATE but erasing a personal part, even to its owner
/// (docs/audit.md).
/// Writers lock one of 64 audit lanes per project (transaction-level advisory locks), so that
/// concurrent transactions do not queue behind one chain head.
///
/// Each project is reached through a database role of its own, socle_p_<project id> (NOLOGIN,
/// NOINHERIT): USAGE on its schema, SELECT/INSERT/UPDATE/DELETE on its collections' tables,
/// SELECT only on the internal tables, nothing on schema socle or on another project's schema,
/// and CREATE nowhere. The role is created with the project's storage (or on first open of a
/// project made before roles), the login role is made a member of it, and every record and
/// schema read of the project runs as it: a pooled connection switches with SET ROLE when it is
/// lent for another project than its last, outside any transaction. DDL (storage creation,
/// ApplySchema) runs as the login role, which therefore needs CREATEROLE. A bug that names
/// another project's table in a statement meets permission denied, not data.
///
/// One bounded connection pool serves every project. Statements are generated from the schema
/// (identifiers quoted, values bound), cached per collection in the project's schema snapshot
/// and prepared once per connection. Each project's schema is held in memory and replaced when
/// ApplySchema commits.
///
/// Other processes on the same database (the CLI, other servers) learn of a change at once:
/// ApplySchema sends a notification on the channel `socle_schema` (payload "<project id>:<new
/// version>") that PostgreSQL delivers when, and only if, the change commits. Each
/// PostgresProjectStores listens on one connection of its own, outside the pool, with one
/// thread; a notification marks the named project's store stale, and its next call reloads the
/// snapshot before answering. When that connection is lost, the thread reconnects with backoff
/// and, as notifications may have been missed meanwhile, marks every open store stale. As a
/// second line of defence, a statement that names a table or column that no longer exists
/// makes the store reload its snapshot and retry once. Thread-safe.
class PostgresProjectStores final : public application::ProjectStores {
 public:
  /// How a process learns that another process changed a project's schema.
  enum class SchemaWatch {
    /// LISTEN for the notification every schema change sends (one more connection and a
    /// thread), and reload on a statement that fails on a stale snapshot.
    kListen,
    /// Only reload on a statement that fails on a stale snapshot: for short-lived processes
    /// (one command of the CLI) that need no connection and thread of their own for it.
    kOnErrorOnly,
  };

  /// Connects the first pooled connection, so that a bad URL or an unreachable server fails
  /// here: unavailable, or invalid_argument for a malformed URL. `options.pool_size` bounds the
  /// pooled connections of all projects together; with SchemaWatch::kListen one more
  /// connection listens for schema changes (connected here too, so that no change committed
  /// after Connect returns goes unnoticed), and ApplySchema opens one while it runs.
  static domain::Result<std::unique_ptr<PostgresProjectStores>> Connect(
      const PostgresOptions& options, SchemaWatch watch = SchemaWatch::kListen);
  /// Stops the listening thread (promptly: its waits are interrupted) and forgets the stores;
  /// stores still in callers' hands keep working, reloading only on errors from then on.
  ~PostgresProjectStores() override;

  /// The store of `project`, created on first use: its schema and internal tables are created
  /// when missing (under an advisory lock, so that processes opening it at once do not
  /// collide) and its schema snapshot is loaded. unavailable when that fails.
  domain::Result<std::shared_ptr<application::ProjectStore>> Open(
      const domain::Project& project) override;
  void Close(const domain::Id& project_id) override;
  /// Drops the project's schema and role in this database (for a project placed outside the
  /// catalogue's database, which drops them there itself). Idempotent.
  domain::Result<void> Remove(const domain::Project& project) override;

  /// The server process id of the connection listening for schema changes; 0 while it
  /// reconnects, or without SchemaWatch::kListen (diagnostics and tests).
  int schema_listener_pid() const noexcept;

  /// Internal: the pool and state the stores handed out share, kept alive by each of them so
  /// that a store may outlive this object.
  struct Shared;

 private:
  struct Listener;
  explicit PostgresProjectStores(std::shared_ptr<Shared> shared);
  std::shared_ptr<Shared> shared_;
  std::unique_ptr<Listener> listener_;  // null without SchemaWatch::kListen
};

}  // namespace socle::adapters::postgres
