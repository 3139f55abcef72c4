#pragma once

#include "socle/adapters/http/json_object_reader.hpp"
#include "socle/adapters/http/request.hpp"
#include "socle/adapters/http/response.hpp"
#include "socle/adapters/http/router.hpp"
#include "socle/application/manage_organisations.hpp"
#include "socle/application/manage_projects.hpp"
#include "socle/application/manage_regions.hpp"
#include "socle/domain/error.hpp"

namespace socle::adapters::http {

/// The platform API's region, organisation and project endpoints under /api/v1. Each handler is
/// thin: parse the request, call one use case, serialise the result or the error.
///
///   GET    /api/v1/regions                                  → 200 {items} (store URLs redacted)
///   GET    /api/v1/orgs                     ?page&perPage   → 200 list
///   POST   /api/v1/orgs                     {slug, name?, region?, tier?} → 201 + Location
///   GET    /api/v1/orgs/{org}                               → 200
///   PATCH  /api/v1/orgs/{org}               {name}          → 200 (slug is immutable: 400)
///   DELETE /api/v1/orgs/{org}               ?force=true     → 204; 409 while projects exist
///   GET    /api/v1/orgs/{org}/projects      ?page&perPage   → 200 list
///   POST   /api/v1/orgs/{org}/projects      {slug, name?}   → 201 + Location
///   GET    /api/v1/projects/{project}                       → 200
///   PATCH  /api/v1/projects/{project}       {name}          → 200
///   DELETE /api/v1/projects/{project}                       → 204
///
/// A path slug that is not even well formed names nothing: 404, like an unknown one. A create
/// whose slug is taken is 409 with data.slug.code "validation_not_unique".
/// Thread-safety: handlers may run concurrently (the use cases and their ports are thread-safe).
class PlatformApi final {
 public:
  /// The use cases must outlive the router the routes are registered on.
  PlatformApi(application::ManageOrganisations& organisations,
              application::ManageProjects& projects, application::ManageRegions& regions,
              JsonLimits limits = {});

  /// Adds the routes above to `router`; fails only on a route clash (a programming error).
  domain::Result<void> Register(Router& router);

 private:
  Response ListRegions(const Request& request);
  Response ListOrganisations(const Request& request);
  Response CreateOrganisation(const Request& request);
  Response GetOrganisation(const Request& request);
  Response UpdateOrganisation(const Request& request);
  Response DeleteOrganisation(const Request& request);
  Response ListProjects(const Request& request);
  Response CreateProject(const Request& request);
  Response GetProject(const Request& request);
  Response UpdateProject(const Request& request);
  Response DeleteProject(const Request& request);

  application::ManageOrganisations& organisations_;
  application::ManageProjects& projects_;
  application::ManageRegions& regions_;
  JsonLimits limits_;
};

}  // namespace socle::adapters::http
