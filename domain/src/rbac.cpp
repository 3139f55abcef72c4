#include "socle/domain/rbac.hpp"

#include <algorithm>
#include <deque>
#include <functional>
#include <set>
#include <utility>

namespace socle::domain {
namespace {

constexpr std::size_t kMaxRoleIdLength = 64;

bool IsRoleId(std::string_view id) {
  if (id.empty() || id.size() > kMaxRoleIdLength) return false;
  return std::all_of(id.begin(), id.end(), [](char c) {
    return (c >= 'a' && c <= 'z') || (c >= '0' && c <= '9') || c == '_' || c == '.' || c == '-';
  });
}

std::string Join(const std::vector<std::string>& parts, std::string_view separator) {
  std::string out;
  for (const auto& part : parts) out += (out.empty() ? "" : std::string(separator)) + part;
  return out;
}

}  // namespace

std::string_view ToString(RbacScope scope) noexcept {
  return scope == RbacScope::kProject ? "project" : "organisation";
}

const std::vector<std::string_view>& KnownPermissions() {
  static const std::vector<std::string_view> known = [] {
    std::vector<std::string_view> all = {
        "apikey.create",     "apikey.delete",     "apikey.read",       "audit.read",
        "collection.create", "collection.delete", "collection.read",   "collection.update",
        "flag.read",         "flag.update",       "member.invite",     "member.read",
        "member.remove",     "member.update",     "organisation.delete", "organisation.read",
        "organisation.transfer", "organisation.update", "policy.read", "policy.update",
        "project.create",    "project.delete",    "project.read",      "project.update",
        "records.create",    "records.delete",    "records.read",      "records.update",
        "records.read_pii",  "role.read",         "role.update",       "settings.read",
        "settings.update",   "team.create",       "team.delete",       "team.read",
        "team.update"};
    std::sort(all.begin(), all.end());
    return all;
  }();
  return known;
}

bool IsKnownPermission(std::string_view permission) noexcept {
  const auto& known = KnownPermissions();
  return std::binary_search(known.begin(), known.end(), permission);
}

std::vector<Role> BuiltinRoles() {
  auto role = [](std::string id, std::string name, RbacScope scope, std::vector<std::string> parents,
                 std::vector<std::string> permissions) {
    return Role{std::move(id), std::move(name), scope, std::move(parents), std::move(permissions),
                true};
  };
  using S = RbacScope;
  return {
      role("project.viewer", "Project viewer", S::kProject, {},
           {"project.read", "collection.read", "records.read", "settings.read"}),
      role("project.editor", "Project editor", S::kProject, {"project.viewer"},
           {"records.create", "records.update", "records.delete"}),
      role("project.admin", "Project admin", S::kProject, {"project.editor"},
           {"project.update", "collection.create", "collection.update", "collection.delete",
            "settings.update", "apikey.read", "apikey.create", "apikey.delete",
            "records.read_pii"}),
      role("viewer", "Viewer", S::kOrganisation, {"project.viewer"},
           {"organisation.read", "member.read", "team.read", "role.read", "policy.read",
            "flag.read"}),
      role("developer", "Developer", S::kOrganisation, {"viewer", "project.admin"},
           {"project.create"}),
      role("admin", "Admin", S::kOrganisation, {"developer"},
           {"organisation.update", "project.delete", "member.invite", "member.update",
            "member.remove", "team.create", "team.update", "team.delete", "role.update",
            "policy.update", "flag.update", "audit.read"}),
      role("owner", "Owner", S::kOrganisation, {"admin"},
           {"organisation.delete", "organisation.transfer"}),
  };
}

Result<RoleCatalogue> RoleCatalogue::Make(std::vector<Role> roles) {
  std::vector<FieldError> errors;
  std::map<std::string, std::size_t, std::less<>> index;
  for (std::size_t i = 0; i < roles.size(); ++i) {
    const std::string key = "roles." + std::to_string(i) + ".";
    const Role& role = roles[i];
    if (!IsRoleId(role.id)) {
      errors.push_back({key + "id", "validation_invalid_role_id",
                        "A role id is 1 to 64 of a-z, 0-9, '_', '.' and '-'."});
    } else if (!index.emplace(role.id, i).second) {
      errors.push_back({key + "id", "validation_duplicated_role", "Duplicated role " + role.id + "."});
    }
    for (const auto& permission : role.permissions) {
      if (!IsKnownPermission(permission)) {
        errors.push_back({key + "permissions", "validation_unknown_permission",
                          "Unknown permission " + permission + "."});
      }
    }
  }
  for (std::size_t i = 0; i < roles.size(); ++i) {
    const std::string key = "roles." + std::to_string(i) + ".parents";
    for (const auto& parent_id : roles[i].parents) {
      auto found = index.find(parent_id);
      if (found == index.end()) {
        errors.push_back({key, "validation_unknown_role", "Unknown role " + parent_id + "."});
        continue;
      }
      const Role& parent = roles[found->second];
      if (roles[i].scope == RbacScope::kProject && parent.scope == RbacScope::kOrganisation) {
        errors.push_back({key, "validation_role_scope",
                          "A project role cannot inherit the organisation role " + parent_id + "."});
      }
    }
  }
  if (errors.empty()) {
    // Cycles: a depth-first walk with the path kept, so the cycle can be named.
    enum class Mark { kNew, kOpen, kDone };
    std::vector<Mark> marks(roles.size(), Mark::kNew);
    std::vector<std::string> path;
    std::function<bool(std::size_t)> visit = [&](std::size_t i) {
      marks[i] = Mark::kOpen;
      path.push_back(roles[i].id);
      for (const auto& parent_id : roles[i].parents) {
        const std::size_t p = index.find(parent_id)->second;
        if (marks[p] == Mark::kOpen) {
          auto start = std::find(path.begin(), path.end(), parent_id);
          std::vector<std::string> cycle(start, path.end());
          cycle.push_back(parent_id);
          errors.push_back({"roles." + std::to_string(p) + ".parents", "validation_role_cycle",
                            "Roles may not inherit in a cycle: " + Join(cycle, " → ") + "."});
          return true;
        }
        if (marks[p] == Mark::kNew && visit(p)) return true;
      }
      path.pop_back();
      marks[i] = Mark::kDone;
      return false;
    };
    for (std::size_t i = 0; i < roles.size() && errors.empty(); ++i) {
      if (marks[i] == Mark::kNew) visit(i);
    }
  }
  if (!errors.empty()) {
    Error error = Error::Make(ErrorCode::kInvalidArgument, "The roles are not valid together.");
    error.fields = std::move(errors);
    return std::unexpected(std::move(error));
  }
  return RoleCatalogue(std::move(roles));
}

const Role* RoleCatalogue::Find(std::string_view id) const noexcept {
  for (const auto& role : roles_) {
    if (role.id == id) return &role;
  }
  return nullptr;
}

std::map<std::string, std::vector<std::string>> RoleCatalogue::Effective(
    std::string_view role_id) const {
  std::map<std::string, std::vector<std::string>> out;
  const Role* start = Find(role_id);
  if (start == nullptr) return out;
  // Breadth first: the first chain that reaches a permission is a shortest one.
  std::deque<std::vector<std::string>> queue{{start->id}};
  std::set<std::string> seen{start->id};
  while (!queue.empty()) {
    std::vector<std::string> chain = std::move(queue.front());
    queue.pop_front();
    const Role* role = Find(chain.back());
    if (role == nullptr) continue;
    for (const auto& permission : role->permissions) out.try_emplace(permission, chain);
    for (const auto& parent : role->parents) {
      if (!seen.insert(parent).second) continue;
      std::vector<std::string> next = chain;
      next.push_back(parent);
      queue.push_back(std::move(next));
    }
  }
  return out;
}

std::string Decision::Explain(std::string_view permission) const {
  auto found = permissions.find(std::string(permission));
  if (found == permissions.end()) {
    return "denied: no policy grants " + std::string(permission);
  }
  const Grant& grant = found->second;
  const Policy& policy = *grant.policy;
  std::string who;
  switch (policy.subject.kind) {
    case RbacSubject::Kind::kMember: who = "member "; break;
    case RbacSubject::Kind::kTeam: who = "team "; break;
    case RbacSubject::Kind::kApiKey: who = "API key "; break;
  }
  std::string text = "allowed because " + who + policy.subject.id + " has role " + policy.role +
                     (policy.project ? " on project " + *policy.project
                                     : " on organisation " + policy.organisation);
  if (grant.roles.size() > 1) text += ", inherited from " + grant.roles.back();
  return text;
}

Decision Evaluate(const RoleCatalogue& roles, const std::vector<Policy>& policies,
                  const std::vector<RbacSubject>& subjects, std::string_view organisation,
                  std::optional<std::string_view> project,
                  std::optional<std::string_view> active_role) {
  Decision decision;
  for (const auto& policy : policies) {
    if (policy.organisation != organisation) continue;
    if (std::find(subjects.begin(), subjects.end(), policy.subject) == subjects.end()) continue;
    if (policy.project && (!project || *policy.project != *project)) continue;
    if (active_role && policy.role != *active_role) continue;
    const Role* role = roles.Find(policy.role);
    if (role == nullptr) continue;
    // A project policy binds project roles only; an organisation role on a single project would
    // grant organisation actions through a project.
    if (policy.project && role->scope != RbacScope::kProject) continue;
    for (auto& [permission, chain] : roles.Effective(policy.role)) {
      auto [it, inserted] = decision.permissions.try_emplace(permission, Grant{&policy, chain});
      // Prefer the most direct explanation.
      if (!inserted && chain.size() < it->second.roles.size()) it->second = Grant{&policy, chain};
    }
  }
  return decision;
}

}  // namespace socle::domain
