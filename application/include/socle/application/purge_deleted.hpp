#pragma once

#include <chrono>
#include <cstdint>
#include <functional>
#include <optional>
#include <string>
#include <vector>

#include "socle/application/manage_api_keys.hpp"
#include "socle/application/platform_trail.hpp"
#include "socle/application/ports/catalogue_store.hpp"
#include "socle/application/project_directory.hpp"
#include "socle/domain/error.hpp"
#include "socle/domain/tenancy.hpp"
#include "socle/domain/timestamp.hpp"

namespace socle::application {

/// How long a deleted organisation or project can be restored when nothing else is configured
/// (socle-server's --deletion-grace-days).
inline constexpr std::chrono::seconds kDefaultDeletionGrace = std::chrono::days(30);

/// What deleting an organisation or a project did.
struct Deletion {
  /// The live projects that went with an organisation (0 for a project).
  std::int64_t projects = 0;
  /// When the deletion was asked.
  domain::Timestamp deleted;
  /// When the purge may remove it for good: until then it can be restored. Absent when it was
  /// purged at once (no grace period).
  std::optional<domain::Timestamp> purge_after;
};

/// What one Purge removed, and what it could not (left scheduled, tried again next time).
struct PurgeReport {
  std::int64_t organisations = 0;
  std::int64_t projects = 0;  ///< those of the purged organisations included
  struct Failure {
    std::string what;  ///< "organisation acme", "project shop"
    domain::Error error;
  };
  std::vector<Failure> failures;
};

/// The second step of deleting: removes for good the organisations and projects whose grace
/// period is over, with everything they hold: their API keys, their stores (released first by
/// ProjectDirectory::Remove, which also removes the storage placed outside the catalogue's
/// database: a region's schema, a dedicated organisation's database; the catalogue then drops
/// a PostgreSQL project's schema and role, or removes a SQLite project's database file with
/// its -wal and -shm files) and the catalogue rows (their access rows cascade). Organisations and projects are scheduled by
/// ManageOrganisations and ManageProjects, which also use this to purge at once when the grace
/// period is zero. A purge that fails half-way leaves the rest scheduled: the next one finishes
/// it. Thread-safe; several processes may purge at once (what one removed, the other skips).
class PurgeDeleted final {
 public:
  /// `directory` releases the purged projects' stores (without one, for a caller that opens
  /// none, nothing is released); without `api_keys` the keys are left to the caller.
  /// With `trail`, each purge is recorded in the platform's trail (the organisation's chain,
  /// which outlives it), by the system actor "purge".
  PurgeDeleted(CatalogueStore& store, ProjectDirectory* directory, ManageApiKeys* api_keys,
               std::chrono::seconds grace = kDefaultDeletionGrace, PlatformTrail* trail = nullptr)
      : store_(store), directory_(directory), api_keys_(api_keys), grace_(grace), trail_(trail) {}

  /// How long a deletion can be restored; zero: deletions are purged at once.
  std::chrono::seconds grace() const noexcept { return grace_; }
  /// When something deleted at `deleted` may be purged.
  domain::Timestamp PurgeAfter(domain::Timestamp deleted) const;

  /// Purges everything whose grace period is over at `now`. Fails only when the scheduled
  /// deletions cannot be listed; each item that cannot be purged is in the report.
  domain::Result<PurgeReport> Purge(domain::Timestamp now);

  /// Purges the scheduled organisation `org` now, whatever its time, with all its projects.
  /// Returns how many projects went with it.
  domain::Result<std::int64_t> PurgeOrganisation(const domain::Organisation& org);
  /// Purges the scheduled project `project` now, whatever its time.
  domain::Result<void> PurgeProject(const domain::Project& project);

  /// Runs `hook` after each purge that removed something (once per Purge): the server signs a
  /// fresh audit checkpoint then, so that the chains of purged projects are no longer expected.
  void AfterPurge(std::function<void()> hook) { after_purge_ = std::move(hook); }

 private:
  // `projects`: every scheduled project (ListScheduledDeletions); those of `org` go with it.
  domain::Result<std::int64_t> PurgeOrganisationWith(const domain::Organisation& org,
                                                     const std::vector<domain::Project>& projects);
  domain::Result<void> PurgeProjectNow(const domain::Project& project);
  void Purged();

  CatalogueStore& store_;
  ProjectDirectory* directory_;
  ManageApiKeys* api_keys_;
  std::function<void()> after_purge_;
  std::chrono::seconds grace_;
  PlatformTrail* trail_;
};

}  // namespace socle::application
