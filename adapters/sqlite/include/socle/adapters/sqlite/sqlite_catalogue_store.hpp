#pragma once

#include <cstddef>
#include <cstdint>
#include <memory>
#include <string>

#include "socle/application/ports/catalogue_store.hpp"

namespace socle::adapters::sqlite {

/// How to open the embedded catalogue.
struct SqliteOptions {
  std::string path;                   ///< The catalogue database file; its directory is created.
  std::size_t pool_size = 8;          ///< Connections kept open (readers run in parallel in WAL).
  std::uint32_t busy_timeout_ms = 5000;  ///< How long a writer waits for the lock.
};

/// The CatalogueStore on SQLite (the embedded default): one database file in WAL mode, a small
/// pool of connections with cached prepared statements, writes in BEGIN IMMEDIATE transactions.
class SqliteCatalogueStore final : public application::CatalogueStore {
 public:
  /// Opens (creating if needed) the database. Does not migrate: call Migrate().
  /// unavailable when the file cannot be opened or created.
  static domain::Result<std::unique_ptr<SqliteCatalogueStore>> Open(const SqliteOptions& options);
  ~SqliteCatalogueStore() override;

  domain::Result<application::MigrationReport> Migrate() override;
  domain::Result<void> Ping() override;
  domain::Result<void> UpsertRegion(const domain::Region& region) override;
  domain::Result<domain::Region> GetRegion(const domain::Slug& name) override;
  domain::Result<std::vector<domain::Region>> ListRegions() override;
  domain::Result<void> InsertOrganisation(const domain::Organisation& org) override;
  domain::Result<domain::Organisation> GetOrganisation(const domain::Slug& slug) override;
  domain::Result<domain::PageOf<domain::Organisation>> ListOrganisations(
      const domain::PageRequest& page) override;
  domain::Result<void> UpdateOrganisation(const domain::Organisation& org) override;
  domain::Result<std::int64_t> DeleteOrganisation(const domain::Id& org_id,
                                                  application::DeleteMode mode) override;
  domain::Result<void> InsertProject(const domain::Project& project) override;
  domain::Result<domain::Project> GetProject(const domain::Slug& slug) override;
  domain::Result<domain::PageOf<domain::Project>> ListProjects(
      const std::optional<domain::Id>& org_id, const domain::PageRequest& page) override;
  domain::Result<void> UpdateProject(const domain::Project& project) override;
  domain::Result<void> DeleteProject(const domain::Id& project_id) override;
  domain::Result<std::optional<domain::ProjectSettings>> GetProjectSettings(
      const domain::Id& project_id) override;
  domain::Result<void> PutProjectSettings(const domain::Id& project_id,
                                          const domain::ProjectSettings& settings,
                                          domain::Timestamp at) override;

 private:
  struct Impl;
  explicit SqliteCatalogueStore(std::unique_ptr<Impl> impl);
  std::unique_ptr<Impl> impl_;
};

}  // namespace socle::adapters::sqlite
