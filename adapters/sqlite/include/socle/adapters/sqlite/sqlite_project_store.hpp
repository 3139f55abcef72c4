#pragma once

#include <cstddef>
#include <cstdint>
#include <memory>
#include <string>

#include "socle/application/ports/project_store.hpp"

namespace socle::adapters::sqlite {

/// How the embedded store opens projects.
struct SqliteProjectStoreOptions {
  /// The directory of the catalogue: each project lives in <data_dir>/projects/<id>.db (see
  /// ProjectDatabasePath), so deleting a project from the catalogue finds its file.
  std::string data_dir;
  /// Connections kept open per project (readers run in parallel in WAL mode).
  std::size_t pool_size = 4;
  /// How long a writer waits for another process's lock, and a caller for a connection.
  std::uint32_t busy_timeout_ms = 5000;
  /// Projects kept open at once; the least recently used idle one is closed beyond it (a
  /// project in use stays open, so the bound is exceeded rather than a call refused).
  std::size_t max_open_projects = 256;
};

/// The ProjectStores of the embedded default: each project's collections and records in a
/// SQLite database file of its own (WAL, one table per collection, typed columns), its schema
/// in the file's `_collections`, `_schema_history` and `_schema_version` tables, its audit
/// trail in `_audit` (one lane, personal parts as columns; triggers refuse DELETE, every
/// UPDATE but erasing a personal part, and any insert that is not the next of its chain).
/// Files and their directory are created owner-only (0600, 0700). Thread-safe.
class SqliteProjectStores final : public application::ProjectStores {
 public:
  explicit SqliteProjectStores(SqliteProjectStoreOptions options);
  ~SqliteProjectStores() override;
  SqliteProjectStores(const SqliteProjectStores&) = delete;
  SqliteProjectStores& operator=(const SqliteProjectStores&) = delete;

  /// The project's store, opening (creating) its file on first use. unavailable when the file
  /// or its directory cannot be created or opened; internal when its stored schema is corrupt.
  domain::Result<std::shared_ptr<application::ProjectStore>> Open(
      const domain::Project& project) override;
  /// Waits for the project's calls in progress to finish, then closes its connections, so the
  /// file can be removed (before or after this call). Later calls on a store obtained earlier
  /// fail with unavailable; the next Open opens the file anew.
  void Close(const domain::Id& project_id) override;

  /// How many projects are open (for tests and metrics).
  std::size_t OpenCount() const;

 private:
  struct Impl;
  std::unique_ptr<Impl> impl_;
};

}  // namespace socle::adapters::sqlite
