#pragma once

#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "socle/application/access_control.hpp"
#include "socle/application/manage_organisations.hpp"
#include "socle/application/manage_projects.hpp"
#include "socle/application/platform_trail.hpp"
#include "socle/application/platform_sessions.hpp"
#include "socle/application/ports/access_store.hpp"
#include "socle/application/ports/catalogue_store.hpp"
#include "socle/application/ports/clock.hpp"
#include "socle/application/ports/random_source.hpp"
#include "socle/domain/error.hpp"
#include "socle/domain/page.hpp"
#include "socle/domain/tenancy.hpp"

namespace socle::application {

/// One entry of the trash: an organisation or a project scheduled for deletion.
struct DeletedItem {
  enum class Kind { kOrganisation, kProject };
  Kind kind = Kind::kOrganisation;
  domain::Slug slug;
  domain::DisplayName name;
  domain::Timestamp deleted;      ///< when its deletion was asked
  domain::Timestamp purge_after;  ///< until when it can be restored
};

/// Organisations and projects as callers of the platform API reach them: ManageOrganisations
/// and ManageProjects (the operators' use cases, which check nothing) behind a permission
/// check on every call. A caller with no standing in an organisation (or project) is told it
/// does not exist, exactly as if it did not; a member who creates an organisation becomes its
/// owner. Thread-safe.
class PlatformCatalogue final {
 public:
  PlatformCatalogue(ManageOrganisations& organisations, ManageProjects& projects,
                    CatalogueStore& catalogue, AccessStore& access_store, AccessControl& access,
                    Clock& clock, RandomSource& random, PlatformTrail* trail = nullptr)
      : trail_(trail),
        organisations_(organisations),
        projects_(projects),
        catalogue_(catalogue),
        store_(access_store),
        access_(access),
        clock_(clock),
        random_(random) {}

  /// The organisations the caller belongs to (all of them for a superuser, the key's own for an
  /// API key), ordered by slug, one page.
  domain::Result<domain::PageOf<domain::Organisation>> ListOrganisations(
      const Principal& by, const domain::PageRequest& page);
  /// Members and superusers create organisations; a member becomes its owner. API keys cannot.
  domain::Result<domain::Organisation> CreateOrganisation(const Principal& by,
                                                          const CreateOrganisationInput& input);
  domain::Result<domain::Organisation> GetOrganisation(const Principal& by, std::string_view slug);
  domain::Result<domain::Organisation> RenameOrganisation(const Principal& by,
                                                          std::string_view slug,
                                                          std::string_view name);
  /// Needs organisation.delete. Schedules the organisation (or purges it at once), see
  /// ManageOrganisations::Remove; from then on it is not found for everyone.
  domain::Result<Deletion> DeleteOrganisation(const Principal& by, std::string_view slug,
                                              ForceDelete force);
  /// Brings back a scheduled organisation; needs organisation.delete on it, as deleting did.
  /// not_found for a caller without standing in it, exactly as for an unknown slug;
  /// failed_precondition for one with standing when it is live or past its grace period.
  domain::Result<domain::Organisation> RestoreOrganisation(const Principal& by,
                                                           std::string_view slug);

  /// The organisation's projects the caller may read (all of them with project.read on the
  /// organisation, else those where a project policy grants it), ordered by slug, one page.
  domain::Result<domain::PageOf<domain::Project>> ListProjects(const Principal& by,
                                                               std::string_view org,
                                                               const domain::PageRequest& page);
  domain::Result<domain::Project> CreateProject(const Principal& by, const CreateProjectInput& input);
  domain::Result<domain::Project> GetProject(const Principal& by, std::string_view slug);
  domain::Result<domain::Project> RenameProject(const Principal& by, std::string_view slug,
                                                std::string_view name);
  /// Needs project.delete. Schedules the project (or purges it at once).
  domain::Result<Deletion> DeleteProject(const Principal& by, std::string_view slug);
  /// Brings back a scheduled project; needs project.delete on it. not_found as for
  /// RestoreOrganisation; failed_precondition when it is live, past its grace period, or while
  /// its organisation is scheduled.
  domain::Result<domain::Project> RestoreProject(const Principal& by, std::string_view slug);

  /// The trash: what is scheduled for deletion that the caller could restore, organisations
  /// (organisation.delete on them) and projects of live organisations (project.delete on
  /// them); the projects of a scheduled organisation come back with it and are not listed.
  /// Newest deletion first.
  domain::Result<std::vector<DeletedItem>> ListDeleted(const Principal& by);

  /// Makes `member` an owner of `org` (a membership with the owner role, or the owner role
  /// added to an existing membership). For organisations made by members, and for operators.
  domain::Result<void> AddOwner(const domain::Organisation& org, const MemberInfo& member,
                                std::string_view actor, const AuditContext& context = {});

  /// The organisation named by `slug`, checked for `permission`; hidden (not_found) without
  /// standing. For the other platform use cases and adapters. With `attempt`, a refusal of
  /// a caller who may see the organisation is recorded in its trail as a denied `attempt` (an
  /// action name); a stranger's "not found" is not.
  domain::Result<std::pair<domain::Organisation, AccessDecision>> RequireOrganisation(
      const Principal& by, std::string_view slug, std::string_view permission,
      std::string_view attempt = {});
  /// The project named by `slug`, checked for `permission` at the project; `attempt` as for
  /// RequireOrganisation.
  domain::Result<std::pair<domain::Project, AccessDecision>> RequireProject(
      const Principal& by, std::string_view slug, std::string_view permission,
      std::string_view attempt = {});

 private:
  // Records `by`'s refused `attempt` on `target` in `org_id`'s chain when `error` is a refusal
  // (RecordRefusal; nothing for an empty attempt); returns `error`.
  domain::Error Refused(const Principal& by, const std::string& org_id,
                        const std::string& project_id, std::string_view attempt,
                        std::string_view target_kind, const std::string& target_id,
                        domain::Error error);

  PlatformTrail* trail_;
  ManageOrganisations& organisations_;
  ManageProjects& projects_;
  CatalogueStore& catalogue_;
  AccessStore& store_;
  AccessControl& access_;
  Clock& clock_;
  RandomSource& random_;
};

}  // namespace socle::application
