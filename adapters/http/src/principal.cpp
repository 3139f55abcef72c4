#include "socle/adapters/http/principal.hpp"

#include <string>
#include <string_view>
#include <utility>

#include "audit_origin.hpp"
#include "record_text.hpp"
#include "socle/adapters/http/project_data_api.hpp"

namespace socle::adapters::http {

using application::Principal;
using domain::ErrorCode;
using domain::Result;

namespace {

constexpr std::string_view kBadToken = "The request requires valid authorization token.";

// Store trouble is not the caller's fault: it is answered as such (503/504, the client may
// retry) rather than as a bad token, which would send them back to sign in for nothing.
bool Transient(ErrorCode code) {
  return code == ErrorCode::kUnavailable || code == ErrorCode::kDeadlineExceeded;
}

// One answer for every token that does not hold; what was wrong goes to the log only.
domain::Error BadToken(const domain::Error& cause) {
  domain::Error error = domain::Error::Make(ErrorCode::kUnauthenticated, std::string(kBadToken));
  error.internal = cause.internal.empty() ? cause.message : cause.internal;
  return error;
}

// The id and e-mail of the superuser a platform token proved.
Result<Principal> SuperuserOf(const application::Caller& caller) {
  if (!caller.superuser || !caller.request.auth || caller.request.auth->collection == nullptr) {
    domain::Error cause = domain::Error::Make(ErrorCode::kUnauthenticated, "");
    cause.internal = "a platform token that is not a superuser's";
    return domain::Fail(BadToken(cause));
  }
  const auto& collection = *caller.request.auth->collection;
  const auto& record = caller.request.auth->record;
  Principal principal;
  principal.kind = Principal::Kind::kSuperuser;
  principal.id = record.Id(collection);
  principal.email = RecordText(collection, record, "email");
  return principal;
}

}  // namespace

PrincipalIdentifier PlatformIdentifier(application::PlatformSessions& members,
                                       application::Authenticate& authenticate,
                                       application::ManageApiKeys* api_keys) {
  auto identify = [&members, &authenticate,
                   api_keys](const Request& request) -> Result<Principal> {
    std::string_view token = PresentedToken(request);
    if (token.empty()) token = request.Header("x-api-key").value_or(std::string_view{});
    if (token.empty()) return Principal::Anonymous();

    if (token.starts_with("sk_")) {
      if (api_keys == nullptr) {
        domain::Error cause = domain::Error::Make(ErrorCode::kUnauthenticated, "");
        cause.internal = "API keys are not served here";
        return domain::Fail(BadToken(cause));
      }
      auto key = api_keys->IdentifyOrganisationKey(token);
      if (!key) {
        if (Transient(key.error().code)) return domain::Fail(std::move(key.error()));
        return domain::Fail(BadToken(key.error()));
      }
      Principal principal;
      principal.kind = Principal::Kind::kApiKey;
      principal.id = std::move(key->id);
      principal.org_id = std::move(key->org);
      return principal;
    }

    auto member = members.Identify(token);
    if (member) {
      Principal principal;
      principal.kind = Principal::Kind::kMember;
      principal.id = std::move(member->id);
      principal.email = std::move(member->email);
      if (!member->active_role.empty()) principal.active_role = std::move(member->active_role);
      return principal;
    }
    if (Transient(member.error().code)) return domain::Fail(std::move(member.error()));

    // Not a member's access token: a superuser's platform token, or nothing at all.
    auto caller = authenticate.Identify("", token);
    if (caller) return SuperuserOf(*caller);
    if (Transient(caller.error().code)) return domain::Fail(std::move(caller.error()));
    return domain::Fail(BadToken(caller.error()));
  };
  // Whoever it is, what they do is recorded with where it came from.
  return [identify = std::move(identify)](const Request& request) -> Result<Principal> {
    auto principal = identify(request);
    if (principal) principal->origin = AuditOriginOf(request, request.client_address);
    return principal;
  };
}

Result<Principal> RequirePrincipal(const PrincipalIdentifier& identify, const Request& request) {
  auto principal = identify(request);
  if (!principal) return principal;
  if (!principal->authenticated()) {
    return domain::Fail(ErrorCode::kUnauthenticated, "The request requires valid authorization.");
  }
  return principal;
}

}  // namespace socle::adapters::http
