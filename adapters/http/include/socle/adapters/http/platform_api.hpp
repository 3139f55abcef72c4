#pragma once

#include "socle/adapters/http/json_object_reader.hpp"
#include "socle/adapters/http/principal.hpp"
#include "socle/adapters/http/request.hpp"
#include "socle/adapters/http/response.hpp"
#include "socle/adapters/http/router.hpp"
#include "socle/application/manage_regions.hpp"
#include "socle/application/platform_catalogue.hpp"
#include "socle/domain/error.hpp"

namespace socle::adapters::http {

/// The platform API's region, organisation and project endpoints under /api/v1. Each handler is
/// thin: identify the caller, parse the request, call one use case (PlatformCatalogue, which
/// checks the caller's permission on every call), serialise the result or the error.
///
///   GET    /api/v1/regions                                  → 200 {items} (store URLs redacted)
///   GET    /api/v1/orgs                     ?page&perPage   → 200 list
///   POST   /api/v1/orgs                     {slug, name?, region?, tier?} → 201 + Location
///   GET    /api/v1/orgs/{org}                               → 200
///   PATCH  /api/v1/orgs/{org}               {name}          → 200 (slug is immutable: 400)
///   DELETE /api/v1/orgs/{org}               ?force=true     → 202 {deleted, purgeAfter} while
///                                                             restorable, 204 when purged at
///                                                             once; 409 while projects exist
///   POST   /api/v1/orgs/{org}/restore                       → 200 the organisation
///   GET    /api/v1/orgs/{org}/projects      ?page&perPage   → 200 list
///   POST   /api/v1/orgs/{org}/projects      {slug, name?}   → 201 + Location
///   GET    /api/v1/projects/{project}                       → 200
///   PATCH  /api/v1/projects/{project}       {name}          → 200
///   DELETE /api/v1/projects/{project}                       → 202 {deleted, purgeAfter} / 204
///   POST   /api/v1/projects/{project}/restore               → 200 the project
///   GET    /api/v1/trash                                    → 200 {items: [{kind, slug, name,
///                                                             deleted, purgeAfter}]}
///
/// Every route needs an authenticated caller (a member or a superuser): anonymous is 401, and
/// that is decided before anything else of the request is read. Organisations and projects the
/// caller has no standing in are 404 exactly like missing ones (the message never names them);
/// standing without the permission is 403. GET /api/v1/orgs lists only the caller's own
/// organisations (every one for a superuser). A member who creates an organisation owns it.
/// A path slug that is not even well formed names nothing: 404, like an unknown one. A create
/// whose slug is taken is 409 with data.slug.code "validation_not_unique".
/// Deleting schedules the organisation or project for deletion when a grace period is
/// configured: from then on it is 404 on every route but restore, which needs the permission
/// to delete it (organisation.delete, project.delete); restoring one that is live, past its
/// grace period, or a project of a scheduled organisation is 409. The trash lists what the
/// caller could restore, newest deletion first; the projects of a scheduled organisation come
/// back with it and are not listed.
/// Thread-safety: handlers may run concurrently (the use cases and their ports are thread-safe).
class PlatformApi final {
 public:
  /// The use cases must outlive the router the routes are registered on.
  PlatformApi(application::PlatformCatalogue& catalogue, application::ManageRegions& regions,
              PrincipalIdentifier identify, JsonLimits limits = {});

  /// Adds the routes above to `router`; fails only on a route clash (a programming error).
  domain::Result<void> Register(Router& router);

 private:
  Response ListRegions(const Request& request);
  Response ListOrganisations(const Request& request);
  Response CreateOrganisation(const Request& request);
  Response GetOrganisation(const Request& request);
  Response UpdateOrganisation(const Request& request);
  Response DeleteOrganisation(const Request& request);
  Response RestoreOrganisation(const Request& request);
  Response ListProjects(const Request& request);
  Response CreateProject(const Request& request);
  Response GetProject(const Request& request);
  Response UpdateProject(const Request& request);
  Response DeleteProject(const Request& request);
  Response RestoreProject(const Request& request);
  Response ListTrash(const Request& request);

  application::PlatformCatalogue& catalogue_;
  application::ManageRegions& regions_;
  PrincipalIdentifier identify_;
  JsonLimits limits_;
};

}  // namespace socle::adapters::http
