#pragma once

#include <chrono>
#include <memory>
#include <mutex>
#include <optional>
#include <string>
#include <string_view>
#include <unordered_map>
#include <vector>

#include "socle/application/audit_context.hpp"
#include "socle/application/ports/access_store.hpp"
#include "socle/application/ports/clock.hpp"
#include "socle/domain/access.hpp"
#include "socle/domain/error.hpp"
#include "socle/domain/rbac.hpp"
#include "socle/domain/tenancy.hpp"

namespace socle::application {

/// Who calls the platform API, as the HTTP adapter identified them.
struct Principal {
  enum class Kind { kAnonymous, kSuperuser, kMember, kApiKey };
  Kind kind = Kind::kAnonymous;
  std::string id;     ///< the member's, superuser's or API key's id
  std::string email;  ///< members and superusers
  /// API keys: the organisation the key belongs to (a key never reaches another one).
  std::string org_id;
  /// Role switching: when set, only policies binding this role count for the caller.
  std::optional<std::string> active_role;

  static Principal Anonymous() { return {}; }
  bool authenticated() const noexcept { return kind != Kind::kAnonymous; }
  /// "member:<id>", "apikey:<id>", "superuser:<id>", or "anonymous": the actor recorded with
  /// what the caller makes (StoredPolicy::created_by, FeatureFlag::updated_by).
  std::string Actor() const;

  /// Where the call came from (request id, client address, user agent, X-Audit-Reason), for
  /// the events it causes.
  AuditOrigin origin;
  /// The caller as the audit trail names them, with `origin`.
  AuditContext Audit() const;
};

/// One organisation's access data as evaluated: its role catalogue, its policies and who is
/// in which team. Immutable once built; shared by the decisions made from it.
struct AccessSnapshot {
  domain::Id org_id;
  domain::RoleCatalogue roles;
  std::vector<domain::StoredPolicy> stored;
  std::vector<domain::Policy> policies;  ///< stored[i].policy, for domain::Evaluate
  /// member id → the ids of the teams they are in
  std::unordered_map<std::string, std::vector<std::string>> teams_of;
};

/// What is wrong with giving `role` of `roles` to a member, team or key (at one project when
/// `on_project`), as the field error of "role": an unknown role, the owner role (ownership is
/// given by transfer only), or an organisation role on one project. nullopt when it can be
/// given. `given_by` names the way it would be given ("invitation", "a policy", "an API key").
std::optional<domain::FieldError> RoleGrantError(const domain::RoleCatalogue& roles,
                                                 std::string_view role, bool on_project,
                                                 std::string_view given_by);

class AccessDecision;

/// Nobody grants more than they hold: permission_denied, naming the first permission missing,
/// unless `decision` allows every permission `role` holds (its parents' included).
domain::Result<void> RequireGrantable(const AccessDecision& decision,
                                      const domain::RoleCatalogue& roles, std::string_view role);

/// What a principal may do at one scope, with the reasons. Keeps the snapshot it was made
/// from alive (its grants point into it).
class AccessDecision final {
 public:
  AccessDecision() = default;
  AccessDecision(std::shared_ptr<const AccessSnapshot> snapshot, domain::Decision decision,
                 bool superuser, std::string superuser_email)
      : snapshot_(std::move(snapshot)),
        decision_(std::move(decision)),
        superuser_(superuser),
        superuser_email_(std::move(superuser_email)) {}

  bool Allows(std::string_view permission) const;
  /// Whether the principal holds any permission at this scope at all: a caller that holds none
  /// is told that the organisation or project does not exist.
  bool HasStanding() const noexcept { return superuser_ || !decision_.permissions.empty(); }
  /// "allowed because team ops has role project.editor on project shop, inherited from …",
  /// "allowed because superuser a@b.c operates the platform", or "denied: no policy grants …".
  std::string Explain(std::string_view permission) const;
  /// Every permission held, sorted.
  std::vector<std::string> Permissions() const;
  /// The grant behind a held permission (nullptr for superusers and for permissions not held).
  const domain::Grant* GrantFor(std::string_view permission) const;
  bool superuser() const noexcept { return superuser_; }

 private:
  std::shared_ptr<const AccessSnapshot> snapshot_;
  domain::Decision decision_;
  bool superuser_ = false;
  std::string superuser_email_;
};

struct AccessControlOptions {
  /// How long an organisation's snapshot is reused before being read again. Changes made
  /// through this process invalidate it at once; those of other processes (another server, the
  /// CLI) are seen within this delay.
  std::chrono::milliseconds ttl{2000};
};

/// Permission checks for the platform: the decision of a principal in an organisation (and
/// one of its projects), built from the organisation's snapshot, which is cached. Deny by
/// default; superusers hold every permission everywhere; an API key only ever reaches its
/// own organisation; a member's policies count with those of the teams they are in.
/// Thread-safe.
class AccessControl final {
 public:
  AccessControl(AccessStore& store, Clock& clock, AccessControlOptions options = {})
      : store_(store), clock_(clock), options_(options) {}

  /// The decision for `principal` in `org` (and `project`, one of its projects).
  /// unavailable when the store cannot be read.
  domain::Result<AccessDecision> Decide(const Principal& principal, const domain::Id& org,
                                        const std::optional<domain::Id>& project = std::nullopt);

  /// Checks one permission. not_found (with `hidden_as`, e.g. "The organisation was not
  /// found.") when the principal does not belong to the organisation (Belongs), or, for a
  /// project, holds nothing on it, so that callers learn nothing of what is not theirs;
  /// permission_denied, with the explanation, otherwise; unauthenticated for an anonymous
  /// caller.
  domain::Result<AccessDecision> Require(const Principal& principal, const domain::Id& org,
                                         const std::optional<domain::Id>& project,
                                         std::string_view permission, std::string_view hidden_as);

  /// Whether the principal belongs to the organisation at all: a superuser, one of its API
  /// keys, or a member (or member of a team) bound to any role there, on the organisation or on
  /// one of its projects. Strangers are told an organisation does not exist; those who belong
  /// are told they may not.
  domain::Result<bool> Belongs(const Principal& principal, const domain::Id& org);

  /// The roles the principal holds at the scope, each with the roles it inherits, sorted: the
  /// value of `@request.auth.roles`. With an active role, only that one and what it inherits.
  domain::Result<std::vector<std::string>> RolesAt(const Principal& principal,
                                                   const domain::Id& org,
                                                   const std::optional<domain::Id>& project);

  /// The organisation's snapshot (cached for `ttl`).
  domain::Result<std::shared_ptr<const AccessSnapshot>> Snapshot(const domain::Id& org);
  /// Forgets the organisation's snapshot: the next decision reads the store.
  void Invalidate(const domain::Id& org);

 private:
  struct Cached {
    std::shared_ptr<const AccessSnapshot> snapshot;
    domain::Timestamp loaded;
  };
  domain::Result<std::shared_ptr<const AccessSnapshot>> Load(const domain::Id& org);
  std::vector<domain::RbacSubject> SubjectsOf(const Principal& principal,
                                              const AccessSnapshot& snapshot) const;

  AccessStore& store_;
  Clock& clock_;
  AccessControlOptions options_;
  std::mutex mutex_;
  std::unordered_map<std::string, Cached> cache_;
};

}  // namespace socle::application
