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
/// internal tables: _collections (the definitions), _schema_history and _schema_version.
///
/// One bounded connection pool serves every project. Statements are generated from the schema
/// (identifiers quoted, values bound), cached per collection in the project's schema snapshot
/// and prepared once per connection. Each project's schema is held in memory and replaced when
/// ApplySchema commits; a process whose snapshot another process made stale notices it when a
/// statement names a table or column that no longer exists, reloads it and retries once.
/// Thread-safe.
class PostgresProjectStores final : public application::ProjectStores {
 public:
  /// Connects the first pooled connection, so that a bad URL or an unreachable server fails
  /// here: unavailable, or invalid_argument for a malformed URL. `options.pool_size` bounds the
  /// connections of all projects together.
  static domain::Result<std::unique_ptr<PostgresProjectStores>> Connect(
      const PostgresOptions& options);
  ~PostgresProjectStores() override;

  /// The store of `project`, created on first use: its schema and internal tables are created
  /// when missing (under an advisory lock, so that processes opening it at once do not
  /// collide) and its schema snapshot is loaded. unavailable when that fails.
  domain::Result<std::shared_ptr<application::ProjectStore>> Open(
      const domain::Project& project) override;
  void Close(const domain::Id& project_id) override;

  /// Internal: the pool and state the stores handed out share, kept alive by each of them so
  /// that a store may outlive this object.
  struct Shared;

 private:
  explicit PostgresProjectStores(std::shared_ptr<Shared> shared);
  std::shared_ptr<Shared> shared_;
};

}  // namespace socle::adapters::postgres
