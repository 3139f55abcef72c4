#include "socle/application/platform_callers.hpp"

#include <utility>

namespace socle::application {

using domain::ErrorCode;
using domain::Fail;
using domain::Result;

Result<Caller> PlatformCallers::For(const Principal& principal, const domain::Project& project) {
  Caller caller;
  auto decision = access_.Decide(principal, project.org_id, project.id);
  if (!decision) return Fail(decision.error());
  caller.permissions = decision->Permissions();  // sorted
  caller.active_role = principal.active_role.value_or("");
  return caller;
}

Result<Caller> PlatformCallers::ApiKey(std::string_view project, Caller key) {
  auto entry = projects_.Find(project);
  if (!entry) return Fail(entry.error());
  if (key.api_key_org != entry->project.org_id.str()) {
    return Fail(ErrorCode::kUnauthenticated, "The API key is not valid.");
  }
  Principal principal;
  principal.kind = Principal::Kind::kApiKey;
  principal.id = key.api_key_id;
  principal.org_id = key.api_key_org;
  auto filled = For(principal, entry->project);
  if (!filled) return Fail(filled.error());
  auto roles = access_.RolesAt(principal, entry->project.org_id, entry->project.id);
  if (!roles) return Fail(roles.error());
  key.permissions = std::move(filled->permissions);
  // No record stands behind a key: @request.auth.id is empty, its roles are its policies'.
  key.request.auth = domain::filter::AuthIdentity{nullptr, {}, std::move(*roles)};
  return key;
}

Result<Caller> PlatformCallers::Member(std::string_view project, std::string_view token) {
  auto member = members_.IdentifyRecord(token);
  if (!member) return Fail(member.error());
  auto entry = projects_.Find(project);
  if (!entry) return Fail(entry.error());
  Principal principal;
  principal.kind = Principal::Kind::kMember;
  principal.id = member->info.id;
  principal.email = member->info.email;
  if (!member->info.active_role.empty()) principal.active_role = member->info.active_role;
  auto caller = For(principal, entry->project);
  if (!caller) return Fail(caller.error());
  if (caller->permissions->empty()) {
    // Nothing on this project: the member is no signed-in caller here. Were they one, every
    // rule admitting "any signed-in user of the app" (`@request.auth.id != ""`, PocketBase's
    // most common) would open each project of every organisation to every member of the
    // platform.
    return Caller{};
  }
  auto roles = access_.RolesAt(principal, entry->project.org_id, entry->project.id);
  if (!roles) return Fail(roles.error());
  // @request.auth is the member's own record, as read when the token was checked.
  caller->request.auth = domain::filter::AuthIdentity{member->collection, std::move(member->record),
                                                      std::move(*roles)};
  caller->auth_schema = std::move(member->schema);
  return caller;
}

}  // namespace socle::application
