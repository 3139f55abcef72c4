#pragma once

#include <optional>
#include <string>
#include <vector>

#include "socle/domain/error.hpp"
#include "socle/domain/page.hpp"
#include "socle/domain/project_settings.hpp"
#include "socle/domain/tenancy.hpp"
#include "socle/domain/timestamp.hpp"

namespace socle::application {

/// What Migrate() did: the schema version before and after, and the migrations it applied.
struct MigrationReport {
  int from_version = 0;
  int to_version = 0;
  std::vector<std::string> applied;  ///< "0001_catalogue" ... in the order applied.
};

/// What DeleteOrganisation does with the organisation's projects.
enum class DeleteMode {
  kRefuseIfProjects,  ///< failed_precondition when the organisation still has projects.
  kCascade,           ///< Deletes the projects (and their data) in the same transaction.
};

/// The platform catalogue: regions, organisations and projects. Every method is atomic; an
/// implementation is safe to call from several threads at once.
/// Adapters: MemoryCatalogueStore, SqliteCatalogueStore, PostgresCatalogueStore.
class CatalogueStore {
 public:
  virtual ~CatalogueStore() = default;

  /// Brings the store's schema to the newest version this build knows; idempotent and safe
  /// when several processes call it at once. unavailable when the store cannot be reached;
  /// failed_precondition when the store's schema is newer than this build.
  virtual domain::Result<MigrationReport> Migrate() = 0;

  /// Checks that the store answers a trivial query; unavailable otherwise.
  virtual domain::Result<void> Ping() = 0;

  /// Creates or replaces a region by name.
  virtual domain::Result<void> UpsertRegion(const domain::Region& region) = 0;
  /// The named region; not_found.
  virtual domain::Result<domain::Region> GetRegion(const domain::Slug& name) = 0;
  /// All regions ordered by name.
  virtual domain::Result<std::vector<domain::Region>> ListRegions() = 0;

  /// Stores a new organisation; already_exists when its slug or id is taken,
  /// failed_precondition when its region does not exist.
  virtual domain::Result<void> InsertOrganisation(const domain::Organisation& org) = 0;
  /// The organisation with this slug; not_found.
  virtual domain::Result<domain::Organisation> GetOrganisation(const domain::Slug& slug) = 0;
  /// The organisation with this id; not_found.
  virtual domain::Result<domain::Organisation> GetOrganisationById(const domain::Id& id) = 0;
  /// One page of organisations ordered by slug, with the total count.
  virtual domain::Result<domain::PageOf<domain::Organisation>> ListOrganisations(
      const domain::PageRequest& page) = 0;
  /// Replaces the mutable fields (name, updated) of the organisation with org.id; not_found.
  virtual domain::Result<void> UpdateOrganisation(const domain::Organisation& org) = 0;
  /// Deletes the organisation with this id; not_found, or failed_precondition when it has
  /// projects and mode is kRefuseIfProjects. Returns the number of projects deleted with it.
  virtual domain::Result<std::int64_t> DeleteOrganisation(const domain::Id& org_id,
                                                          DeleteMode mode) = 0;

  /// Stores a new project; already_exists when its slug or id is taken, not_found when its
  /// organisation does not exist.
  virtual domain::Result<void> InsertProject(const domain::Project& project) = 0;
  /// The project with this slug, org_slug filled; not_found.
  virtual domain::Result<domain::Project> GetProject(const domain::Slug& slug) = 0;
  /// The project with this id, org_slug filled; not_found.
  virtual domain::Result<domain::Project> GetProjectById(const domain::Id& id) = 0;
  /// One page of projects ordered by slug (of one organisation when org_id is set).
  virtual domain::Result<domain::PageOf<domain::Project>> ListProjects(
      const std::optional<domain::Id>& org_id, const domain::PageRequest& page) = 0;
  /// Replaces the mutable fields (name, updated) of the project with project.id; not_found.
  virtual domain::Result<void> UpdateProject(const domain::Project& project) = 0;
  /// Deletes the project with this id and its data (its settings included); not_found.
  virtual domain::Result<void> DeleteProject(const domain::Id& project_id) = 0;

  // A project's settings live beside its catalogue row: they are small, read rarely (by a
  // batch, by the settings routes) and go with the project when it is deleted.

  /// The project's settings as last stored, or nullopt when they were never set (the caller
  /// then uses the defaults). not_found when the project does not exist.
  virtual domain::Result<std::optional<domain::ProjectSettings>> GetProjectSettings(
      const domain::Id& project_id) = 0;
  /// Stores `settings` as the project's whole settings (replacing any), as of `at`; does not
  /// validate them. not_found when the project does not exist.
  virtual domain::Result<void> PutProjectSettings(const domain::Id& project_id,
                                                  const domain::ProjectSettings& settings,
                                                  domain::Timestamp at) = 0;
};

}  // namespace socle::application
