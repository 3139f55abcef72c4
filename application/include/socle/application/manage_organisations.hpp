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

/// Unvalidated input for creating an organisation, as a caller typed it.
struct CreateOrganisationInput {
  std::string slug;
  std::optional<std::string> name;    ///< Defaults to the slug.
  std::optional<std::string> region;  ///< Defaults to Region::kDefaultName.
  std::optional<std::string> tier;    ///< "shared" (default) or "dedicated".
};

/// What to do with an organisation's projects when deleting it.
enum class ForceDelete { kNo, kYes };

/// Use cases on organisations: create, list, get, rename, delete, restore.
class ManageOrganisations final {
 public:
  /// With `deletion`, deleting schedules the organisation for deletion during its grace period
  /// (purged at once when that is zero, by deletion->PurgeOrganisation); `directory` then stops
  /// serving its projects at once, their stores kept for a restore. Without, deleting removes
  /// it at once, its API keys left to the caller, and the stores of the projects a forced
  /// delete removes are released at once (ProjectDirectory::Forget).
  /// With `trail`, every change is recorded in the platform's trail, with the caller each
  /// method is given as `context`.
  ManageOrganisations(CatalogueStore& store, Clock& clock, RandomSource& random,
                      ProjectDirectory* directory = nullptr, PurgeDeleted* deletion = nullptr,
                      PlatformTrail* trail = nullptr)
      : store_(store),
        clock_(clock),
        random_(random),
        directory_(directory),
        deletion_(deletion),
        trail_(trail) {}

  /// Validates every field (all field errors reported at once: invalid_argument), checks the
  /// region exists (invalid_argument on "region") and stores it (already_exists on the slug).
  domain::Result<domain::Organisation> Create(const CreateOrganisationInput& input,
                                              const AuditContext& context = {});
  /// One page of organisations ordered by slug.
  domain::Result<domain::PageOf<domain::Organisation>> List(const domain::PageRequest& page);
  /// The organisation named by `slug`; invalid_argument for a malformed slug, not_found.
  domain::Result<domain::Organisation> Get(std::string_view slug);
  /// Changes the display name; invalid_argument, not_found.
  domain::Result<domain::Organisation> Rename(std::string_view slug, std::string_view new_name,
                                              const AuditContext& context = {});
  /// Deletes the organisation: schedules it, hidden with its projects, or removes it at once
  /// (see the constructor). Without force, failed_precondition while it has live projects;
  /// with force, its projects and their data go with it. invalid_argument, not_found.
  domain::Result<Deletion> Remove(std::string_view slug, ForceDelete force,
                                  const AuditContext& context = {});
  /// Remove, telling only how many projects went with the organisation.
  domain::Result<std::int64_t> Delete(std::string_view slug, ForceDelete force,
                                      const AuditContext& context = {});
  /// Makes the organisation scheduled for deletion live again, with the projects hidden with
  /// it. not_found when no organisation is scheduled under this slug; failed_precondition
  /// when it is live, or its grace period is over (the purge is due).
  domain::Result<domain::Organisation> Restore(std::string_view slug,
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
