#pragma once

#include <functional>
#include <optional>

#include "socle/adapters/http/json_object_reader.hpp"
#include "socle/adapters/http/multipart.hpp"
#include "socle/adapters/http/request.hpp"
#include "socle/adapters/http/response.hpp"
#include "socle/adapters/http/router.hpp"
#include "socle/application/account_emails.hpp"
#include "socle/application/authenticate.hpp"
#include "socle/application/manage_api_keys.hpp"
#include "socle/application/manage_collections.hpp"
#include "socle/application/manage_records.hpp"
#include "socle/application/platform_callers.hpp"
#include "socle/application/manage_settings.hpp"
#include "socle/domain/error.hpp"
#include "socle/domain/project_settings.hpp"
#include "socle/domain/rate_limiter.hpp"

#include <chrono>
#include <memory>
#include <mutex>
#include <string>
#include <initializer_list>
#include <unordered_map>
#include <vector>

namespace socle::adapters::http {

/// Who makes a request to the project it names: the caller its credentials prove (a
/// superuser, a record of one of the project's auth collections, or a guest when it presents
/// none), or an error when it presents credentials that do not hold (unauthenticated: 401).
/// The composition root passes AuthApi::Identifier().
using CallerIdentifier = std::function<domain::Result<application::Caller>(const Request&)>;

/// Decides whether a request is made by a superuser, for embeddings without authentication
/// records (tests): SuperusersBy wraps one into a CallerIdentifier whose callers are
/// superusers or guests.
using SuperuserCheck = std::function<bool(const Request&)>;
CallerIdentifier SuperusersBy(SuperuserCheck check);

/// The token a request presents: `Authorization: Bearer <token>`, or the bare token the
/// PocketBase SDKs send (`Authorization: <token>`); "" when there is none.
std::string_view PresentedToken(const Request& request);

/// Identifies callers by their token through `authenticate` (a guest without one), with
/// `api_keys` API keys (`Authorization: Bearer sk_…` or `X-API-Key: sk_…`), and with `platform`
/// platform members presenting their access token (their permissions and roles at the project).
CallerIdentifier TokenIdentifier(application::Authenticate& authenticate,
                                 application::ManageApiKeys* api_keys = nullptr,
                                 application::PlatformCallers* platform = nullptr);

using application::TokenSigner;

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
///   GET    /p/{project}/api/settings                          ?fields → 200 settings
///   PATCH  /p/{project}/api/settings                          members merged over them → 200
///   OPTIONS on each of these paths: CORS preflight (204)
///
/// The collection and settings routes are for superusers only (401 otherwise). When the
/// project's `rateLimits` settings are enabled, every route is limited by PocketBase's rules
/// (the most specific rule for the request's labels and audience), per client address and per
/// presented token: one request too many is 429 with Retry-After. A batch first
/// reads the project's settings: disabled batches are 403, a body over batch.maxBodySize 413,
/// more than batch.maxRequests requests 400 (the records use case enforces the same again).
/// Every answer carries PocketBase's default CORS headers (Access-Control-Allow-Origin: * for
/// requests with an Origin). Errors have PocketBase's shape, statuses come from ErrorResponse's one table, except
/// that a unique-key collision (already_exists) is PocketBase's 400 validation_not_unique here
/// rather than the platform API's 409. See docs/api/records.md and docs/api/compatibility.md.
///
/// Thread-safety: handlers may run concurrently (the use cases are thread-safe).
class ProjectDataApi final {
 public:
  /// The use cases and the check must outlive the router the routes are registered on.
  ProjectDataApi(application::ManageCollections& collections,
                 application::ManageRecords& records, application::ManageSettings& settings,
                 CallerIdentifier identify, JsonLimits limits = {}, FormLimits form_limits = {});
  /// Without the settings use case (an embedding that keeps none): /api/settings answers 404
  /// as an unknown route would, and batches are bounded by the records use case alone.
  ProjectDataApi(application::ManageCollections& collections,
                 application::ManageRecords& records, CallerIdentifier identify,
                 JsonLimits limits = {}, FormLimits form_limits = {});

  /// Serves sign-in for the project's auth collections and `_superusers` as well:
  ///   POST /p/{project}/api/collections/{collection}/auth-with-password
  ///        {identity, password, identityField?} → 200 {token, record}
  ///   POST /p/{project}/api/collections/{collection}/auth-refresh   → 200 {token, record}
  ///   GET  /p/{project}/api/collections/{collection}/auth-methods   → 200 {password, oauth2, mfa, otp}
  ///   GET  /.well-known/jwks.json                                   → the token keys (JWKS)
  /// and, with `emails`, the flows that go through e-mail (each → 204):
  ///   POST .../request-password-reset {email}   POST .../confirm-password-reset
  ///        {token, password, passwordConfirm}
  ///   POST .../request-verification {email}     POST .../confirm-verification {token}
  ///   POST .../request-email-change {newEmail}  POST .../confirm-email-change {token, password}
  /// Call before Register. The objects must outlive the router.
  void ServeAuthentication(application::Authenticate& authenticate, TokenSigner& signer,
                           application::AccountEmails* emails = nullptr);

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
  Response GetSettings(const Request& request);
  Response AuthWithPassword(const Request& request);
  Response AuthRefresh(const Request& request);
  Response AuthMethods(const Request& request);
  Response RequestPasswordReset(const Request& request);
  Response ConfirmPasswordReset(const Request& request);
  Response RequestVerification(const Request& request);
  Response ConfirmVerification(const Request& request);
  Response RequestEmailChange(const Request& request);
  Response ConfirmEmailChange(const Request& request);
  Response UpdateSettings(const Request& request);

  application::ManageCollections& collections_;
  application::ManageRecords& records_;
  application::ManageSettings* settings_;  // null: see the second constructor
  // 401 unless the request proves a superuser, or a platform member holding every one of
  // `permissions` at the project (403 when a member lacks one).
  std::optional<Response> RequireManager(const Request& request,
                                         std::initializer_list<std::string_view> permissions) const;

  // What every request needs of the project's settings: its rate limit rules (empty when
  // disabled) and the proxy headers that carry the client's address. Read through a cache of a
  // few seconds: a request must not cost a settings query.
  struct RequestSettings {
    std::vector<domain::RateLimitRule> rules;
    domain::TrustedProxySettings trusted_proxy;
  };
  // Shared, never copied per request; looked up without building a string.
  std::shared_ptr<const RequestSettings> SettingsFor(std::string_view project);
  // The client's address: from the project's trusted proxy headers when it names some (the
  // rightmost address of a list, or the leftmost with useLeftmostIP), else the connection's.
  std::string ClientAddress(const Request& request);
  // Where the request came from and why (X-Audit-Reason), for the audit trail.
  application::AuditOrigin OriginOf(const Request& request);
  // Who makes a collection change and from where (the caller identified again: schema changes
  // are rare).
  domain::Result<application::AuditContext> ContextOf(const Request& request);
  // 429 with Retry-After when the project's rules say the request is one too many, counted
  // per client address and, for requests presenting a token, per token as well.
  std::optional<Response> RateLimited(const Request& request, std::string_view route,
                                      Method method);

  struct CachedRules {
    std::shared_ptr<const RequestSettings> settings;
    std::chrono::steady_clock::time_point fetched;
  };
  std::mutex rules_mutex_;
  struct NameHash {
    using is_transparent = void;
    std::size_t operator()(std::string_view name) const noexcept {
      return std::hash<std::string_view>{}(name);
    }
  };
  std::unordered_map<std::string, CachedRules, NameHash, std::equal_to<>> rules_cache_;
  domain::RateLimiter limiter_;

  CallerIdentifier identify_;
  application::Authenticate* authenticate_ = nullptr;
  TokenSigner* signer_ = nullptr;
  application::AccountEmails* emails_ = nullptr;
  JsonLimits limits_;
  FormLimits form_limits_;
};

}  // namespace socle::adapters::http
