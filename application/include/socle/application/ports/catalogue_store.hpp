#pragma once

#include <cstdint>
#include <functional>
#include <optional>
#include <string>
#include <vector>

#include "socle/application/ports/audit_store.hpp"
#include "socle/domain/audit.hpp"
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

/// What DeleteOrganisation and ScheduleOrganisationDeletion do with the organisation's projects.
enum class DeleteMode {
  /// failed_precondition while the organisation has live projects (those not scheduled for
  /// deletion on their own; the scheduled ones go with it).
  kRefuseIfProjects,
  kCascade,  ///< The projects (and their data) go with it, in the same transaction.
};

/// What waits for the purge: the organisations and projects scheduled for deletion.
struct ScheduledDeletions {
  /// The scheduled organisations, `deleted` set, ordered by slug.
  std::vector<domain::Organisation> organisations;
  /// Every project hidden by a scheduled deletion, its own or its organisation's, ordered by
  /// slug; `deleted` is the earlier of the two (see domain::Project::deleted). A project of a
  /// scheduled organisation comes back with it unless it was scheduled on its own.
  std::vector<domain::Project> projects;
};

/// The platform catalogue: regions, organisations and projects. Every method is atomic; an
/// implementation is safe to call from several threads at once.
///
/// Deleting is two steps. Schedule*Deletion marks a row as deleted at a time: from then on it is
/// hidden (an organisation hides its projects with it) from every Get*, List*, Update* and
/// settings method, which answer not_found or leave it out exactly as for a row that does not
/// exist; its slug stays taken so that Restore* can bring it back as it was. Delete* is the
/// purge: it removes the row and everything stored with it, whether scheduled or not.
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

  /// Stores a new, live organisation (org.deleted is ignored); already_exists when its slug or
  /// id is taken (by a scheduled one too), failed_precondition when its region does not exist.
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
  /// Deletes (purges) the organisation with this id, scheduled or not, with its access data;
  /// not_found, or failed_precondition when it has live projects and mode is kRefuseIfProjects.
  /// Returns the number of projects deleted with it (scheduled ones included).
  virtual domain::Result<std::int64_t> DeleteOrganisation(const domain::Id& org_id,
                                                          DeleteMode mode) = 0;

  /// Stores a new, live project (project.deleted is ignored); already_exists when its slug or
  /// id is taken (by a scheduled one too), not_found when its organisation does not exist or
  /// is scheduled for deletion.
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
  /// Deletes (purges) the project with this id, scheduled or not, and its data (its settings
  /// and access rows included); not_found.
  virtual domain::Result<void> DeleteProject(const domain::Id& project_id) = 0;

  // Scheduled deletions. These have bodies only so that a test double wrapping another store
  // needs not spell them all out: the bodies describe a store that never schedules anything.
  // Every adapter overrides all of them.

  /// Schedules the live organisation for deletion as of `at`, hiding it and its projects.
  /// Returns the number of its live projects hidden with it. not_found when there is no such
  /// live organisation (already scheduled included); failed_precondition when it has live
  /// projects and mode is kRefuseIfProjects.
  virtual domain::Result<std::int64_t> ScheduleOrganisationDeletion(const domain::Id& org_id,
                                                                    domain::Timestamp at,
                                                                    DeleteMode mode);
  /// Schedules the live project for deletion as of `at`, hiding it. not_found when there is
  /// no such live project (one scheduled, or of a scheduled organisation, included).
  virtual domain::Result<void> ScheduleProjectDeletion(const domain::Id& project_id,
                                                       domain::Timestamp at);
  /// Makes the scheduled organisation live again, with the projects that were hidden only
  /// because of it (those scheduled on their own stay scheduled). not_found when no
  /// organisation has this id; failed_precondition when it is not scheduled.
  virtual domain::Result<void> RestoreOrganisation(const domain::Id& org_id);
  /// Makes the scheduled project live again. not_found when no project has this id;
  /// failed_precondition when it is not scheduled, or while its organisation is.
  virtual domain::Result<void> RestoreProject(const domain::Id& project_id);
  /// Everything scheduled for deletion (see ScheduledDeletions), read from one snapshot.
  virtual domain::Result<ScheduledDeletions> ListScheduledDeletions();
  /// The scheduled organisation with this slug, `deleted` set; not_found when there is none or
  /// it is live.
  virtual domain::Result<domain::Organisation> GetScheduledOrganisation(const domain::Slug& slug);
  /// The project with this slug when a scheduled deletion hides it (its own or its
  /// organisation's), org_slug and `deleted` set as in ScheduledDeletions; not_found otherwise.
  virtual domain::Result<domain::Project> GetScheduledProject(const domain::Slug& slug);

  // A project's settings live beside its catalogue row: they are small, read rarely (by a
  // batch, by the settings routes) and go with the project when it is deleted.

  /// The project's settings as last stored, or nullopt when they were never set (the caller
  /// then uses the defaults). not_found when the project does not exist or is hidden.
  virtual domain::Result<std::optional<domain::ProjectSettings>> GetProjectSettings(
      const domain::Id& project_id) = 0;
  /// Stores `settings` as the project's whole settings (replacing any), as of `at`; does not
  /// validate them. not_found when the project does not exist or is hidden.
  virtual domain::Result<void> PutProjectSettings(const domain::Id& project_id,
                                                  const domain::ProjectSettings& settings,
                                                  domain::Timestamp at) = 0;

  // The platform's audit trail: what happens to the catalogue and to access (see
  // docs/audit.md), kept beside them so that each change commits with its event. One chain per
  // organisation, named by its id, whose events all carry that organisation; and the
  // platform's own chain, named "", for what belongs to no organisation (regions, global
  // flags). Each chain is one lane (0). A chain outlives its organisation: a purge leaves the
  // trail of what was done, the purge included.

  /// Runs `change`, which makes exactly one call to a mutating method of this store (of
  /// CatalogueStore or AccessStore), so that the transaction of that call also runs `audit`
  /// with an appender of the chain `chain`: the change and its events commit together or not
  /// at all. When `change` succeeds without having written (a call that found nothing to
  /// do), `audit` runs in a transaction of its own. Returns `change`'s error when it fails
  /// (nothing is appended), or the audit's (the change is rolled back). invalid_argument when
  /// an event names another organisation than `chain`.
  virtual domain::Result<void> Audited(const std::string& chain, const AuditWrite& audit,
                                       const std::function<domain::Result<void>()>& change) = 0;
  /// Runs `audit` on the chain `chain` in a transaction of its own: attempts that changed
  /// nothing (refused or failed ones, sign-ins).
  virtual domain::Result<void> RecordAudit(const std::string& chain, const AuditWrite& audit) = 0;
  /// The events of the chain `chain` matching `query` (its org_id is ignored), newest first
  /// (at, seq descending), at most query.limit.
  virtual domain::Result<std::vector<StoredAuditEvent>> PlatformAuditEvents(
      const std::string& chain, const AuditQuery& query) = 0;
  /// The head of every chain that has events, sorted by chain: org_id the chain's name,
  /// project_id "", lane 0.
  virtual domain::Result<std::vector<domain::AuditCheckpointHead>> PlatformAuditHeads() = 0;
  /// The events of the chain with seq > after_seq, in sequence order, at most `limit`, as
  /// stored (nothing is checked).
  virtual domain::Result<std::vector<StoredAuditEvent>> PlatformAuditChain(
      const std::string& chain, std::int64_t after_seq, std::int64_t limit) = 0;
  /// Deletes every personal part, in every chain, whose subject is `subject` (GDPR erasure);
  /// returns how many. The events and the chains' validity stay.
  virtual domain::Result<std::int64_t> ErasePlatformPersonal(std::string_view subject) = 0;
};

// The bodies of a store that never schedules a deletion: nothing is scheduled, so nothing can
// be restored or listed, and asking to schedule is refused.

inline domain::Result<std::int64_t> CatalogueStore::ScheduleOrganisationDeletion(
    const domain::Id&, domain::Timestamp, DeleteMode) {
  return domain::Fail(domain::ErrorCode::kFailedPrecondition,
                      "This catalogue store cannot schedule deletions.");
}

inline domain::Result<void> CatalogueStore::ScheduleProjectDeletion(const domain::Id&,
                                                                    domain::Timestamp) {
  return domain::Fail(domain::ErrorCode::kFailedPrecondition,
                      "This catalogue store cannot schedule deletions.");
}

inline domain::Result<void> CatalogueStore::RestoreOrganisation(const domain::Id&) {
  return domain::Fail(domain::ErrorCode::kFailedPrecondition,
                      "The organisation is not scheduled for deletion.");
}

inline domain::Result<void> CatalogueStore::RestoreProject(const domain::Id&) {
  return domain::Fail(domain::ErrorCode::kFailedPrecondition,
                      "The project is not scheduled for deletion.");
}

inline domain::Result<ScheduledDeletions> CatalogueStore::ListScheduledDeletions() {
  return ScheduledDeletions{};
}

inline domain::Result<domain::Organisation> CatalogueStore::GetScheduledOrganisation(
    const domain::Slug&) {
  return domain::Fail(domain::ErrorCode::kNotFound, "Organisation not found.");
}

inline domain::Result<domain::Project> CatalogueStore::GetScheduledProject(const domain::Slug&) {
  return domain::Fail(domain::ErrorCode::kNotFound, "Project not found.");
}

}  // namespace socle::application
