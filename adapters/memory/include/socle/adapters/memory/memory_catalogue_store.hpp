#pragma once

#include <map>
#include <mutex>

#include "socle/application/ports/catalogue_store.hpp"

namespace socle::adapters::memory {

/// A complete in-process CatalogueStore: for embedding Socle::core and for fast tests. Data lives
/// as long as the object. All methods take one mutex, which makes each of them atomic.
class MemoryCatalogueStore final : public application::CatalogueStore {
 public:
  /// Starts with the default region, as the SQL stores do after their first migration.
  MemoryCatalogueStore();

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
  // Whether a project with this id exists. Precondition: mutex_ held.
  bool HasProject(const domain::Id& project_id) const;

  std::mutex mutex_;
  std::map<domain::Slug, domain::Region> regions_;
  std::map<domain::Slug, domain::Organisation> orgs_;   // by slug: list order
  std::map<domain::Slug, domain::Project> projects_;    // by slug: list order
  // Settings of the projects that have some; erased with their project.
  std::map<domain::Id, domain::ProjectSettings> settings_;
};

}  // namespace socle::adapters::memory
