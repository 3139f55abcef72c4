#pragma once

#include "socle/adapters/http/json_object_reader.hpp"
#include "socle/adapters/http/request.hpp"
#include "socle/adapters/http/response.hpp"
#include "socle/adapters/http/router.hpp"
#include "socle/application/authenticate.hpp"
#include "socle/application/manage_access.hpp"
#include "socle/application/platform_sessions.hpp"
#include "socle/domain/error.hpp"

namespace socle::adapters::http {

/// Platform sign-in under /api/v1/auth: members' sessions over PlatformSessions, superusers'
/// platform tokens over Authenticate, and role switching. Thin handlers: parse the request,
/// call the use case, serialise the result or the error.
///
///   POST   /api/v1/auth/login         {email, password}  → 200 tokens
///   POST   /api/v1/auth/refresh       {refreshToken}     → 200 tokens (401 for a token already
///                                                          exchanged: its session is revoked)
///   POST   /api/v1/auth/logout        {refreshToken}     → 204 (unknown tokens too)
///   GET    /api/v1/auth/sessions      Bearer access token → 200 {items: [session]}
///   DELETE /api/v1/auth/sessions/{id} Bearer access token → 204; 404 for another member's
///   POST   /api/v1/auth/superusers/login {email, password} → 200 {token, record: {id, email}}
///   POST   /api/v1/auth/role          Bearer access token, {refreshToken, role}
///                                     → 200 tokens acting with `role` only ("" = all roles);
///                                       400 (data.role) for a role the member does not hold
///
/// tokens = {accessToken, refreshToken, expiresIn, member: {id, email, name, activeRole}}, sent
/// with Cache-Control: no-store (RFC 6749 5.1); session = {id, created, lastUsed, userAgent,
/// address, expires}. Bodies are strict JSON objects (unknown or repeated members are field
/// errors, as the platform API reads them); a throttled login is 429 with Retry-After.
///
/// Role switching rotates the session of the refresh token (PlatformSessions::Refresh with the
/// role) after checking that the member of the access token holds the role; a refresh token of
/// another member's session is refused before it is exchanged (401, as an invalid one), so the
/// session stays as it was.
/// Thread-safety: handlers may run concurrently (the use case is thread-safe).
class PlatformAuthApi final {
 public:
  /// The use cases must outlive the router the routes are registered on.
  PlatformAuthApi(application::PlatformSessions& sessions, application::Authenticate& authenticate,
                  application::ManageAccess& access, JsonLimits limits = {});

  /// Adds the routes above to `router`; fails only on a route clash (a programming error).
  domain::Result<void> Register(Router& router);

 private:
  Response Login(const Request& request);
  Response Refresh(const Request& request);
  Response Logout(const Request& request);
  Response ListSessions(const Request& request);
  Response RevokeSession(const Request& request);
  Response SuperuserLogin(const Request& request);
  Response SwitchRole(const Request& request);

  application::PlatformSessions& sessions_;
  application::Authenticate& authenticate_;
  application::ManageAccess& access_;
  JsonLimits limits_;
};

}  // namespace socle::adapters::http
