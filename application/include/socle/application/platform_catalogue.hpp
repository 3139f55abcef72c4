#pragma once

#include <optional>
#include <string>
#include <string_view>

#include "socle/application/access_control.hpp"
#include "socle/application/manage_organisations.hpp"
#include "socle/application/manage_projects.hpp"
#include "socle/application/platform_sessions.hpp"
#include "socle/application/ports/access_store.hpp"
#include "socle/application/ports/catalogue_store.hpp"
#include "socle/application/ports/clock.hpp"
#include "socle/application/ports/random_source.hpp"
#include "socle/domain/error.hpp"
#include "socle/domain/page.hpp"
#include "socle/domain/tenancy.hpp"

namespace socle::application {

/// Organisations and projects as callers of the platform API reach them: ManageOrganisations
/// and ManageProjects (the operators' use cases, which check nothing) behind a permission
/// check on every call. A caller with no standing in an organisation (or project) is told it
/// does not exist, exactly as if it did not; a member who creates an organisation becomes its
/// owner. Thread-safe.
class PlatformCatalogue final {
 public:
  PlatformCatalogue(ManageOrganisations& organisations, ManageProjects& projects,
                    CatalogueStore& catalogue, AccessStore& access_store, AccessControl& access,
                    Clock& clock, RandomSource& random)
      : organisations_(organisations),
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
  domain::Result<std::int64_t> DeleteOrganisation(const Principal& by, std::string_view slug,
                                                  ForceDelete force);

  /// The organisation's projects the caller may read (all of them with project.read on the
  /// organisation, else those where a project policy grants it), ordered by slug, one page.
  domain::Result<domain::PageOf<domain::Project>> ListProjects(const Principal& by,
                                                               std::string_view org,
                                                               const domain::PageRequest& page);
  domain::Result<domain::Project> CreateProject(const Principal& by, const CreateProjectInput& input);
  domain::Result<domain::Project> GetProject(const Principal& by, std::string_view slug);
  domain::Result<domain::Project> RenameProject(const Principal& by, std::string_view slug,
                                                std::string_view name);
  domain::Result<void> DeleteProject(const Principal& by, std::string_view slug);

  /// Makes `member` an owner of `org` (a membership with the owner role, or the owner role
  /// added to an existing membership). For organisations made by members, and for operators.
  domain::Result<void> AddOwner(const domain::Organisation& org, const MemberInfo& member,
                                std::string_view actor);

  /// The organisation named by `slug`, checked for `permission`; hidden (not_found) without
  /// standing. For the other platform use cases and adapters.
  domain::Result<std::pair<domain::Organisation, AccessDecision>> RequireOrganisation(
      const Principal& by, std::string_view slug, std::string_view permission);
  /// The project named by `slug`, checked for `permission` at the project.
  domain::Result<std::pair<domain::Project, AccessDecision>> RequireProject(
      const Principal& by, std::string_view slug, std::string_view permission);

 private:
  ManageOrganisations& organisations_;
  ManageProjects& projects_;
  CatalogueStore& catalogue_;
  AccessStore& store_;
  AccessControl& access_;
  Clock& clock_;
  RandomSource& random_;
};

}  // namespace socle::application
