#pragma once

#include <functional>

#include "socle/adapters/http/request.hpp"
#include "socle/application/access_control.hpp"
#include "socle/application/authenticate.hpp"
#include "socle/application/manage_api_keys.hpp"
#include "socle/application/platform_sessions.hpp"
#include "socle/domain/error.hpp"

namespace socle::adapters::http {

/// Who calls the platform API: the principal a request's credentials prove, anonymous when it
/// presents none, or an error when it presents credentials that do not hold (unauthenticated:
/// 401; unavailable or deadline_exceeded when the store behind them does not answer). The
/// composition root passes PlatformIdentifier(); tests may pass their own.
using PrincipalIdentifier =
    std::function<domain::Result<application::Principal>(const Request&)>;

/// Identifies platform callers by the token of their Authorization header (`Bearer <token>`,
/// or the bare token, as PresentedToken reads it):
///   - no token (no header, or a blank one): Principal::Anonymous();
///   - a member's access token (`members.Identify`): kMember, with the session's active role
///     when it has one (role switching);
///   - a superuser's platform token (`authenticate.Identify("", token)`): kSuperuser;
///   - with `api_keys`, an organisation's API key (`sk_…`, in Authorization or X-API-Key):
///     kApiKey of its organisation (a project's key has no business on the platform API);
///   - anything else: unauthenticated, with one client-safe message whatever was wrong, so
///     that a bad token is never a 500 and the answer tells nothing about the token.
/// Both use cases must outlive the identifier. Thread-safe (the use cases are).
PrincipalIdentifier PlatformIdentifier(application::PlatformSessions& members,
                                       application::Authenticate& authenticate,
                                       application::ManageApiKeys* api_keys = nullptr);

/// The principal of a route that requires one: the identified caller, or unauthenticated for
/// an anonymous one. Every platform route but the few public ones (sign-in, invitations by
/// token) starts with it, before reading anything else of the request, so that an anonymous
/// caller learns nothing (not even whether an organisation exists or a body is valid).
domain::Result<application::Principal> RequirePrincipal(const PrincipalIdentifier& identify,
                                                        const Request& request);

}  // namespace socle::adapters::http
