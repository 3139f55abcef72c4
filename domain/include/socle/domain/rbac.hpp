#pragma once

#include <map>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "socle/domain/error.hpp"

namespace socle::domain {

// Roles, permissions and policies of the platform (the RBAC model). A permission is a named
// action on a kind of resource ("project.create", "records.read"); a role grants permissions
// and inherits those of its parents; a policy binds a role to a subject (a member, a team or
// an API key) at a scope (an organisation, or one of its projects). Pure data and decisions:
// who stores them and when they are checked is the application's business.

/// Where a role applies and a policy binds.
enum class RbacScope { kOrganisation, kProject };
std::string_view ToString(RbacScope scope) noexcept;

/// The permissions Socle knows, each "resource.action", sorted.
const std::vector<std::string_view>& KnownPermissions();
bool IsKnownPermission(std::string_view permission) noexcept;

/// A role: the permissions it grants itself, and the roles whose permissions it inherits.
struct Role {
  std::string id;  ///< "owner", "project.editor", or a custom role's id ([a-z0-9_.-], 1-64)
  std::string name;
  RbacScope scope = RbacScope::kOrganisation;
  std::vector<std::string> parents;      ///< ids of roles it inherits from
  std::vector<std::string> permissions;  ///< granted directly
  bool builtin = false;
  friend bool operator==(const Role&, const Role&) = default;
};

/// The built-in roles: owner, admin, developer, viewer at organisation level (each inheriting
/// the next: owner ⊃ admin ⊃ developer ⊃ viewer) and project.admin ⊃ project.editor ⊃
/// project.viewer at project level. docs/rbac.md has the table of their permissions.
std::vector<Role> BuiltinRoles();

/// A set of roles that are valid together.
class RoleCatalogue final {
 public:
  /// Checks and indexes `roles`: ids well-formed and unique, permissions known, parents
  /// existing and of a compatible scope (an organisation role may inherit project roles, since
  /// it applies to every project; a project role may not inherit organisation roles), and no
  /// cycle. invalid_argument with field errors keyed "roles.N.<member>" naming each problem; a
  /// cycle is named with its path ("a → b → a").
  static Result<RoleCatalogue> Make(std::vector<Role> roles);

  const Role* Find(std::string_view id) const noexcept;
  const std::vector<Role>& roles() const noexcept { return roles_; }

  /// Every permission `role_id` holds, each with the chain of roles it came through, from
  /// `role_id` to the role granting it directly (the shortest such chain). Empty for an
  /// unknown role.
  std::map<std::string, std::vector<std::string>> Effective(std::string_view role_id) const;

 private:
  explicit RoleCatalogue(std::vector<Role> roles) : roles_(std::move(roles)) {}
  std::vector<Role> roles_;
};

/// Who a policy is about.
struct RbacSubject {
  enum class Kind { kMember, kTeam, kApiKey };
  Kind kind = Kind::kMember;
  std::string id;
  friend bool operator==(const RbacSubject&, const RbacSubject&) = default;
};

/// A role bound to a subject at a scope: the whole organisation, or one project of it.
struct Policy {
  std::string id;
  RbacSubject subject;
  std::string role;
  std::string organisation;
  std::optional<std::string> project;  ///< nullopt: the organisation (and all its projects)
  friend bool operator==(const Policy&, const Policy&) = default;
};

/// Why a permission is held: the policy and the chain of roles (policy's role first).
struct Grant {
  const Policy* policy = nullptr;
  std::vector<std::string> roles;
};

/// The permissions a caller holds at a scope, each with one explanation.
struct Decision {
  std::map<std::string, Grant> permissions;
  bool Allows(std::string_view permission) const { return permissions.contains(std::string(permission)); }
  /// "allowed because team T has role R on project P, inherited from R0", or "denied: no
  /// policy grants <permission>" (deny by default).
  std::string Explain(std::string_view permission) const;
};

/// The permissions of a caller — `subjects` are the member and the teams they belong to, or an
/// API key — in `organisation` (and `project`, when given): every policy of one of the
/// subjects bound to that organisation, or to that project of it; roles of the wrong scope for
/// the policy are ignored. When `active_role` is given (role switching), only policies of that
/// role count. Policies of other organisations never count.
Decision Evaluate(const RoleCatalogue& roles, const std::vector<Policy>& policies,
                  const std::vector<RbacSubject>& subjects, std::string_view organisation,
                  std::optional<std::string_view> project,
                  std::optional<std::string_view> active_role = std::nullopt);

}  // namespace socle::domain
