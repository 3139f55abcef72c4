#include "socle/application/access_control.hpp"

#include <algorithm>
#include <set>
#include <utility>

namespace socle::application {

using domain::ErrorCode;
using domain::Fail;
using domain::RbacSubject;
using domain::Result;

std::string Principal::Actor() const {
  switch (kind) {
    case Kind::kAnonymous: return "anonymous";
    case Kind::kSuperuser: return "superuser:" + id;
    case Kind::kMember: return "member:" + id;
    case Kind::kApiKey: return "apikey:" + id;
  }
  return "anonymous";
}

AuditContext Principal::Audit() const {
  AuditContext context;
  context.origin = origin;
  context.actor.id = id;
  switch (kind) {
    case Kind::kAnonymous:
      context.actor = {domain::AuditActorKind::kGuest, ""};
      break;
    case Kind::kSuperuser: context.actor.kind = domain::AuditActorKind::kSuperuser; break;
    case Kind::kMember: context.actor.kind = domain::AuditActorKind::kMember; break;
    case Kind::kApiKey: context.actor.kind = domain::AuditActorKind::kApiKey; break;
  }
  return context;
}

std::optional<domain::FieldError> RoleGrantError(const domain::RoleCatalogue& roles,
                                                 std::string_view role, bool on_project,
                                                 std::string_view given_by) {
  const domain::Role* found = roles.Find(role);
  if (found == nullptr) {
    return domain::FieldError{"role", "validation_invalid_value", "Unknown role."};
  }
  if (role == domain::kOwnerRole) {
    return domain::FieldError{"role", "validation_invalid_value",
                              "Ownership is given by transfer, not by " + std::string(given_by) +
                                  "."};
  }
  if (on_project && found->scope != domain::RbacScope::kProject) {
    return domain::FieldError{"role", "validation_invalid_value",
                              "Only a project role can be given on one project."};
  }
  return std::nullopt;
}

Result<void> RequireGrantable(const AccessDecision& decision, const domain::RoleCatalogue& roles,
                              std::string_view role) {
  for (const auto& [permission, chain] : roles.Effective(role)) {
    if (!decision.Allows(permission)) {
      return Fail(ErrorCode::kPermissionDenied,
                  "You cannot grant the role " + std::string(role) + ": it holds " + permission +
                      ", which you do not.");
    }
  }
  return {};
}

bool AccessDecision::Allows(std::string_view permission) const {
  return superuser_ ? domain::IsKnownPermission(permission) : decision_.Allows(permission);
}

std::string AccessDecision::Explain(std::string_view permission) const {
  if (superuser_ && domain::IsKnownPermission(permission)) {
    return "allowed because superuser " + superuser_email_ + " operates the platform";
  }
  if (!domain::IsKnownPermission(permission)) {
    return "denied: " + std::string(permission) + " is not a permission";
  }
  return decision_.Explain(permission);
}

std::vector<std::string> AccessDecision::Permissions() const {
  std::vector<std::string> out;
  if (superuser_) {
    for (auto permission : domain::KnownPermissions()) out.emplace_back(permission);
    return out;
  }
  for (const auto& [permission, grant] : decision_.permissions) out.push_back(permission);
  return out;
}

const domain::Grant* AccessDecision::GrantFor(std::string_view permission) const {
  auto found = decision_.permissions.find(std::string(permission));
  return found == decision_.permissions.end() ? nullptr : &found->second;
}

Result<std::shared_ptr<const AccessSnapshot>> AccessControl::Load(const domain::Id& org) {
  auto roles = store_.ListRoles(org);
  if (!roles) return Fail(roles.error());
  auto catalogue = domain::CatalogueOf(*roles);
  if (!catalogue) {
    // The stored roles were checked together when written; a catalogue that no longer holds
    // (a newer build renamed a built-in role?) must not open access: fail closed.
    return Fail(domain::Error::Internal("the organisation's roles do not form a valid catalogue: " +
                                        catalogue.error().message));
  }
  auto stored = store_.ListPolicies(org);
  if (!stored) return Fail(stored.error());
  auto teams = store_.ListTeams(org);
  if (!teams) return Fail(teams.error());
  std::unordered_map<std::string, std::vector<std::string>> teams_of;
  for (const auto& team : *teams) {
    auto members = store_.TeamMembers(org, team.id);
    if (!members) {
      if (members.error().code == ErrorCode::kNotFound) continue;  // deleted meanwhile
      return Fail(members.error());
    }
    for (const auto& member : *members) teams_of[member.member_id].push_back(team.id.str());
  }
  std::vector<domain::Policy> policies;
  policies.reserve(stored->size());
  for (const auto& entry : *stored) policies.push_back(entry.policy);
  return std::make_shared<const AccessSnapshot>(AccessSnapshot{
      org, std::move(*catalogue), std::move(*stored), std::move(policies), std::move(teams_of)});
}

Result<std::shared_ptr<const AccessSnapshot>> AccessControl::Snapshot(const domain::Id& org) {
  const auto now = clock_.Now();
  const auto ttl_micros =
      std::chrono::duration_cast<std::chrono::microseconds>(options_.ttl).count();
  {
    std::lock_guard lock(mutex_);
    auto found = cache_.find(org.str());
    if (found != cache_.end() &&
        now.unix_micros() - found->second.loaded.unix_micros() < ttl_micros &&
        now.unix_micros() >= found->second.loaded.unix_micros()) {
      return found->second.snapshot;
    }
  }
  // Loaded outside the lock: two callers may both load; the later one's snapshot stays.
  auto loaded = Load(org);
  if (!loaded) return Fail(loaded.error());
  std::lock_guard lock(mutex_);
  cache_[org.str()] = Cached{*loaded, now};
  return *loaded;
}

void AccessControl::Invalidate(const domain::Id& org) {
  std::lock_guard lock(mutex_);
  cache_.erase(org.str());
}

std::vector<RbacSubject> AccessControl::SubjectsOf(const Principal& principal,
                                                   const AccessSnapshot& snapshot) const {
  std::vector<RbacSubject> subjects;
  switch (principal.kind) {
    case Principal::Kind::kMember: {
      subjects.push_back({RbacSubject::Kind::kMember, principal.id});
      auto teams = snapshot.teams_of.find(principal.id);
      if (teams != snapshot.teams_of.end()) {
        for (const auto& team : teams->second) subjects.push_back({RbacSubject::Kind::kTeam, team});
      }
      break;
    }
    case Principal::Kind::kApiKey:
      subjects.push_back({RbacSubject::Kind::kApiKey, principal.id});
      break;
    case Principal::Kind::kAnonymous:
    case Principal::Kind::kSuperuser:
      break;
  }
  return subjects;
}

Result<AccessDecision> AccessControl::Decide(const Principal& principal, const domain::Id& org,
                                             const std::optional<domain::Id>& project) {
  if (principal.kind == Principal::Kind::kSuperuser) {
    return AccessDecision(nullptr, {}, true, principal.email);
  }
  if (principal.kind == Principal::Kind::kAnonymous ||
      (principal.kind == Principal::Kind::kApiKey && principal.org_id != org.str())) {
    return AccessDecision();
  }
  auto snapshot = Snapshot(org);
  if (!snapshot) return Fail(snapshot.error());
  const auto& data = **snapshot;
  std::optional<std::string_view> project_id;
  if (project) project_id = project->str();
  std::optional<std::string_view> active;
  if (principal.active_role) active = *principal.active_role;
  auto decision = domain::Evaluate(data.roles, data.policies, SubjectsOf(principal, data),
                                   org.str(), project_id, active);
  return AccessDecision(std::move(*snapshot), std::move(decision), false, "");
}

Result<AccessDecision> AccessControl::Require(const Principal& principal, const domain::Id& org,
                                              const std::optional<domain::Id>& project,
                                              std::string_view permission,
                                              std::string_view hidden_as) {
  if (!principal.authenticated()) {
    return Fail(ErrorCode::kUnauthenticated, "The request requires valid authorization.");
  }
  auto decision = Decide(principal, org, project);
  if (!decision) return Fail(decision.error());
  if (decision->Allows(permission)) return decision;
  if (!decision->HasStanding()) {
    // On a project, holding nothing there hides it; on the organisation, only strangers are
    // kept in the dark (a member working on one project knows the organisation exists).
    if (project) return Fail(ErrorCode::kNotFound, std::string(hidden_as));
    auto belongs = Belongs(principal, org);
    if (!belongs) return Fail(belongs.error());
    if (!*belongs) return Fail(ErrorCode::kNotFound, std::string(hidden_as));
  }
  return Fail(ErrorCode::kPermissionDenied,
              "You are not allowed to perform this request (" + decision->Explain(permission) + ").");
}

Result<bool> AccessControl::Belongs(const Principal& principal, const domain::Id& org) {
  switch (principal.kind) {
    case Principal::Kind::kAnonymous: return false;
    case Principal::Kind::kSuperuser: return true;
    case Principal::Kind::kApiKey: return principal.org_id == org.str();
    case Principal::Kind::kMember: break;
  }
  auto snapshot = Snapshot(org);
  if (!snapshot) return Fail(snapshot.error());
  const auto subjects = SubjectsOf(principal, **snapshot);
  return std::any_of((*snapshot)->policies.begin(), (*snapshot)->policies.end(),
                     [&](const domain::Policy& policy) {
                       return std::find(subjects.begin(), subjects.end(), policy.subject) !=
                              subjects.end();
                     });
}

Result<std::vector<std::string>> AccessControl::RolesAt(const Principal& principal,
                                                        const domain::Id& org,
                                                        const std::optional<domain::Id>& project) {
  if (principal.kind == Principal::Kind::kSuperuser ||
      principal.kind == Principal::Kind::kAnonymous ||
      (principal.kind == Principal::Kind::kApiKey && principal.org_id != org.str())) {
    return std::vector<std::string>{};
  }
  auto snapshot = Snapshot(org);
  if (!snapshot) return Fail(snapshot.error());
  const auto& data = **snapshot;
  const auto subjects = SubjectsOf(principal, data);
  std::set<std::string> roles;
  std::vector<std::string> pending;
  for (const auto& policy : data.policies) {
    if (std::find(subjects.begin(), subjects.end(), policy.subject) == subjects.end()) continue;
    if (policy.project && (!project || *policy.project != project->str())) continue;
    if (principal.active_role && policy.role != *principal.active_role) continue;
    const auto* role = data.roles.Find(policy.role);
    if (role == nullptr) continue;
    // As Evaluate: a project policy binds project roles only.
    if (policy.project && role->scope != domain::RbacScope::kProject) continue;
    pending.push_back(policy.role);
  }
  while (!pending.empty()) {
    auto id = std::move(pending.back());
    pending.pop_back();
    if (!roles.insert(id).second) continue;
    if (const auto* role = data.roles.Find(id)) {
      for (const auto& parent : role->parents) pending.push_back(parent);
    }
  }
  return std::vector<std::string>(roles.begin(), roles.end());
}

}  // namespace socle::application
