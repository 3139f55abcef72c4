#pragma once

#include <cstddef>
#include <cstdint>
#include <memory>
#include <string>

#include "socle/application/ports/catalogue_store.hpp"

namespace socle::adapters::postgres {

/// How to reach the PostgreSQL catalogue.
struct PostgresOptions {
  std::string url;                         ///< libpq URI: postgres://user:pass@host:port/db?...
  std::size_t pool_size = 8;               ///< Maximum connections; callers wait for a free one.
  std::uint32_t connect_timeout_ms = 5000;  ///< Deadline to establish a connection.
  std::uint32_t statement_timeout_ms = 5000;  ///< Server-side statement_timeout per connection.
  std::uint32_t acquire_timeout_ms = 5000;  ///< How long a caller waits for a pooled connection.
};

/// The CatalogueStore on PostgreSQL over libpq: a bounded connection pool whose connections
/// prepare named statements once, every call under a statement deadline.
class PostgresCatalogueStore final : public application::CatalogueStore {
 public:
  /// Connects the first pooled connection (so a bad URL fails here). Does not migrate: call
  /// Migrate(). unavailable when the server cannot be reached, invalid_argument for a bad URL.
  static domain::Result<std::unique_ptr<PostgresCatalogueStore>> Open(const PostgresOptions& options);
  ~PostgresCatalogueStore() override;

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
  explicit PostgresCatalogueStore(std::unique_ptr<Impl> impl);
  std::unique_ptr<Impl> impl_;
};

}  // namespace socle::adapters::postgres
