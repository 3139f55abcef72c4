#pragma once

#include <string_view>

#include "socle/application/audit_context.hpp"
#include "socle/application/platform_trail.hpp"
#include "socle/application/ports/catalogue_store.hpp"
#include "socle/application/ports/clock.hpp"
#include "socle/application/project_directory.hpp"
#include "socle/domain/error.hpp"
#include "socle/domain/project_settings.hpp"

namespace socle::application {

/// Use cases on a project's settings (PocketBase's /api/settings): read them, replace them.
/// Callers are trusted (superusers, the ops CLI): authorisation happens before. Nothing is
/// cached: every call reads the catalogue, so a change is seen by the next request on every
/// server. Thread-safe.
class ManageSettings final {
 public:
  /// With `trail`, every change is recorded in the platform's trail (the project's
  /// organisation's chain).
  ManageSettings(ProjectDirectory& projects, CatalogueStore& catalogue, Clock& clock,
                 PlatformTrail* trail = nullptr)
      : projects_(projects), catalogue_(catalogue), clock_(clock), trail_(trail) {}

  /// The project's settings; the defaults (domain::ProjectSettings{}) while they were never
  /// changed. not_found for an unknown project; unavailable when the catalogue cannot be read.
  domain::Result<domain::ProjectSettings> Get(std::string_view project);

  /// Validates `settings` whole (invalid_argument with PocketBase-keyed field errors, e.g.
  /// "meta.appName"), then stores them as the project's settings and returns them. not_found
  /// for an unknown project. A partial change (PocketBase's PATCH) is merged by the caller over
  /// Get()'s answer, where the wire format is known.
  domain::Result<domain::ProjectSettings> Update(std::string_view project,
                                                 domain::ProjectSettings settings,
                                                 const AuditContext& context = {});

 private:
  ProjectDirectory& projects_;
  CatalogueStore& catalogue_;
  Clock& clock_;
  PlatformTrail* trail_;
};

}  // namespace socle::application
