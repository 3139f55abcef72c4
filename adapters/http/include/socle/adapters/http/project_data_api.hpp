#pragma once

#include <functional>

#include "socle/adapters/http/json_object_reader.hpp"
#include "socle/adapters/http/multipart.hpp"
#include "socle/adapters/http/request.hpp"
#include "socle/adapters/http/response.hpp"
#include "socle/adapters/http/router.hpp"
#include "socle/application/manage_collections.hpp"
#include "socle/application/manage_records.hpp"
#include "socle/domain/error.hpp"

namespace socle::adapters::http {

/// Decides whether a request is made by a superuser of the project it names. Until the
/// authentication work lands, the composition root passes one that always answers false, so
/// that the collection routes answer 401 to everyone and records are served under their rules
/// only.
using SuperuserCheck = std::function<bool(const Request&)>;

/// The project data API: PocketBase's HTTP contract under /p/{project}/api, so that the
/// official SDKs work unchanged with baseUrl = http://host/p/{project}.
///
///   GET    /p/{project}/api/collections                       ?page&perPage&skipTotal&fields
///   POST   /p/{project}/api/collections                       → 200 collection
///   PUT    /p/{project}/api/collections/import                {collections, deleteMissing} → 204
///   GET    /p/{project}/api/collections/{collection}          → 200 collection
///   PATCH  /p/{project}/api/collections/{collection}          members merged over it → 200
///   DELETE /p/{project}/api/collections/{collection}          → 204
///   GET    /p/{project}/api/collections/{collection}/records  ?page&perPage&sort&filter
///                                                             &expand&fields&skipTotal
///   POST   /p/{project}/api/collections/{collection}/records  JSON, multipart or urlencoded
///   GET    /p/{project}/api/collections/{collection}/records/{id}     ?expand&fields
///   PATCH  /p/{project}/api/collections/{collection}/records/{id}     → 200 record
///   DELETE /p/{project}/api/collections/{collection}/records/{id}     → 204
///   POST   /p/{project}/api/batch                             {requests: [...]} → 200 [...]
///   OPTIONS on each of these paths: CORS preflight (204)
///
/// The collection routes are for superusers only (401 otherwise). Every answer carries
/// PocketBase's default CORS headers (Access-Control-Allow-Origin: * for requests with an
/// Origin). Errors have PocketBase's shape, statuses come from ErrorResponse's one table, except
/// that a unique-key collision (already_exists) is PocketBase's 400 validation_not_unique here
/// rather than the platform API's 409. See docs/api/records.md and docs/api/compatibility.md.
///
/// Thread-safety: handlers may run concurrently (the use cases are thread-safe).
class ProjectDataApi final {
 public:
  /// The use cases and the check must outlive the router the routes are registered on.
  ProjectDataApi(application::ManageCollections& collections,
                 application::ManageRecords& records, SuperuserCheck superuser,
                 JsonLimits limits = {}, FormLimits form_limits = {});

  /// Adds the routes above to `router`; fails only on a route clash (a programming error).
  domain::Result<void> Register(Router& router);

 private:
  Response ListCollections(const Request& request);
  Response CreateCollection(const Request& request);
  Response ImportCollections(const Request& request);
  Response GetCollection(const Request& request);
  Response UpdateCollection(const Request& request);
  Response DeleteCollection(const Request& request);
  Response ListRecords(const Request& request);
  Response CreateRecord(const Request& request);
  Response ViewRecord(const Request& request);
  Response UpdateRecord(const Request& request);
  Response DeleteRecord(const Request& request);
  Response Batch(const Request& request);

  application::ManageCollections& collections_;
  application::ManageRecords& records_;
  SuperuserCheck superuser_;
  JsonLimits limits_;
  FormLimits form_limits_;
};

}  // namespace socle::adapters::http
