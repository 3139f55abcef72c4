#pragma once

#include <optional>
#include <string>

#include "socle/application/audit_context.hpp"
#include "socle/application/platform_trail.hpp"
#include "socle/application/ports/catalogue_store.hpp"
#include "socle/application/project_directory.hpp"
#include "socle/application/purge_deleted.hpp"
#include "socle/application/ports/clock.hpp"
#include "socle/application/ports/random_source.hpp"
#include "socle/domain/error.hpp"
#include "socle/domain/page.hpp"
#include "socle/domain/tenancy.hpp"

namespace socle::application {

/// Unvalidated input for creating a project.
struct CreateProjectInput {
  std::string slug;
  std::string org;                  ///< The owning organisation's slug.
  std::optional<std::string> name;  ///< Defaults to the slug.
};

/// Use cases on projects: create, list, get, rename, delete, restore.
class ManageProjects final {
 public:
  /// With `deletion`, deleting schedules the project for deletion during its grace period
  /// (purged at once when that is zero, by deletion->PurgeProject); `directory` then stops
  /// serving it at once, its store kept for a restore. Without, deleting removes it at once,
  /// its API keys left to the caller, and its store is released at once
  /// (ProjectDirectory::Forget).
  /// With `trail`, every change is recorded in the platform's trail (the organisation's
  /// chain), with the caller each method is given as `context`.
  ManageProjects(CatalogueStore& store, Clock& clock, RandomSource& random,
                 ProjectDirectory* directory = nullptr, PurgeDeleted* deletion = nullptr,
                 PlatformTrail* trail = nullptr)
      : store_(store),
        clock_(clock),
        random_(random),
        directory_(directory),
        deletion_(deletion),
        trail_(trail) {}

  /// Validates every field, resolves the organisation (not_found) and stores the project
  /// (already_exists when the slug is taken anywhere on the platform).
  domain::Result<domain::Project> Create(const CreateProjectInput& input,
                                         const AuditContext& context = {});
  /// One page of projects ordered by slug; of one organisation when `org` is set (not_found
  /// when that organisation does not exist).
  domain::Result<domain::PageOf<domain::Project>> List(const std::optional<std::string>& org,
                                                       const domain::PageRequest& page);
  /// The project named by `slug`; invalid_argument, not_found.
  domain::Result<domain::Project> Get(std::string_view slug);
  /// Changes the display name; invalid_argument, not_found.
  domain::Result<domain::Project> Rename(std::string_view slug, std::string_view new_name,
                                         const AuditContext& context = {});
  /// Deletes the project: schedules it, hidden, or removes it and its data at once (see the
  /// constructor). invalid_argument, not_found.
  domain::Result<Deletion> Remove(std::string_view slug, const AuditContext& context = {});
  /// Remove, telling nothing of the schedule.
  domain::Result<void> Delete(std::string_view slug, const AuditContext& context = {});
  /// Makes the project scheduled for deletion live again. not_found when no project is hidden
  /// under this slug; failed_precondition when it is live, while its organisation is scheduled
  /// (restore that instead), or when its grace period is over (the purge is due).
  domain::Result<domain::Project> Restore(std::string_view slug,
                                          const AuditContext& context = {});

  /// When something deleted at `deleted` is purged: at once without a grace period.
  domain::Timestamp PurgeAfter(domain::Timestamp deleted) const;

 private:
  CatalogueStore& store_;
  Clock& clock_;
  RandomSource& random_;
  ProjectDirectory* directory_;
  PurgeDeleted* deletion_;
  PlatformTrail* trail_;
};

}  // namespace socle::application
