#pragma once

#include <chrono>
#include <mutex>
#include <unordered_map>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "socle/application/access_control.hpp"
#include "socle/application/audit_context.hpp"
#include "socle/application/platform_sessions.hpp"
#include "socle/application/platform_trail.hpp"
#include "socle/application/ports/access_store.hpp"
#include "socle/application/ports/catalogue_store.hpp"
#include "socle/application/ports/clock.hpp"
#include "socle/application/ports/mailer.hpp"
#include "socle/application/ports/random_source.hpp"
#include "socle/application/ports/token_signer.hpp"
#include "socle/domain/access.hpp"
#include "socle/domain/error.hpp"
#include "socle/domain/feature_flags.hpp"
#include "socle/domain/page.hpp"
#include "socle/domain/rbac.hpp"
#include "socle/domain/tenancy.hpp"

namespace socle::application {

/// A member of an organisation as listed: their organisation-wide roles and teams.
struct MemberView {
  domain::Membership membership;
  std::vector<std::string> roles;  ///< roles bound to the member on the whole organisation
  std::vector<std::string> teams;  ///< team ids
};

/// An invitation just made: the token is shown (and mailed) this once.
struct NewInvitation {
  domain::Invitation invitation;
  std::string token;
};

/// What an invitation's token shows to whoever holds it, before accepting.
struct InvitationPreview {
  domain::Invitation invitation;
  domain::Organisation organisation;
  std::optional<domain::Project> project;
  bool member_exists = false;  ///< whether a member with the invited e-mail exists already
};

/// A team with its members.
struct TeamView {
  domain::Team team;
  std::vector<domain::Membership> members;
};

/// A role of an organisation as shown: built-in or custom, with every permission it holds.
struct RoleView {
  domain::Role role;
  std::vector<std::string> effective;  ///< sorted
};

/// Whose access an explanation is about.
struct ExplainSubject {
  domain::RbacSubject::Kind kind = domain::RbacSubject::Kind::kMember;
  std::string id;
};

/// One permission and why it is held or not.
struct PermissionExplanation {
  std::string permission;
  bool allowed = false;
  std::string explanation;
  std::optional<domain::Policy> policy;  ///< the policy that grants it
  std::vector<std::string> via;          ///< the chain of roles, the policy's role first
};

struct ManageAccessOptions {
  /// How long an invitation can be accepted.
  std::chrono::seconds invitation_lifetime{7LL * 24 * 3600};
  /// The public URL of the dashboard an invitation's link points to; the token is appended
  /// as "?token=…". Empty: no mail is sent (the token is returned to the inviter only).
  std::string invitation_url;
  /// Sender of invitation mails.
  std::string mail_from = "Socle <no-reply@socle.localhost>";
  /// How long feature flag lists are reused before being read again.
  std::chrono::milliseconds flags_ttl{2000};
};

/// The organisations' access management: members, invitations, ownership, teams, custom
/// roles, policies, feature flags and explanations of who may do what. Every method checks the
/// caller's permission first through AccessControl (deny by default; a caller with no standing
/// in the organisation is told it does not exist), and nobody grants more than they hold: a
/// role may be bound, offered in an invitation or defined only by a caller who holds each of
/// its permissions at that scope; owner is granted only by ownership transfer.
/// Organisations are named by slug, projects by slug, everything else by id.
/// With a platform trail, every change commits with its event on the organisation's chain
/// (global flags: the platform's chain ""), its actor and origin the caller's
/// (Principal::Audit), and the access checks' refusals are recorded there too; invitation
/// tokens and their bindings never reach an event, e-mails only its erasable personal part.
/// Thread-safe.
class ManageAccess final {
 public:
  /// `mailer` may be null (invitations are then not mailed); `trail` may be null (nothing is
  /// recorded). When given, its catalogue must be `store` itself, so that each access change
  /// and its event share a transaction. All must outlive this object.
  ManageAccess(CatalogueStore& catalogue, AccessStore& store, AccessControl& access,
               PlatformSessions& members, TokenSigner& signer, Clock& clock,
               RandomSource& random, Mailer* mailer, ManageAccessOptions options = {},
               PlatformTrail* trail = nullptr);

  // Organisations -------------------------------------------------------------------------

  /// Makes `member_id` the organisation's owner (organisation.transfer): they get the owner
  /// role and the caller, if they were an owner, becomes admin. invalid_argument when the
  /// member does not belong to the organisation.
  domain::Result<void> TransferOwnership(const Principal& by, std::string_view org,
                                         std::string_view member_id);
  /// Role switching: succeeds when the member is bound to `role` (directly or through a team)
  /// in at least one organisation; invalid_argument ("role") otherwise.
  domain::Result<void> CheckRoleHeld(std::string_view member_id, std::string_view role);

  // Members -------------------------------------------------------------------------------

  domain::Result<domain::PageOf<MemberView>> ListMembers(const Principal& by, std::string_view org,
                                                         const domain::PageRequest& page);
  /// Removes a member (member.remove), or the caller themselves (leaving: no permission
  /// needed). failed_precondition for the last owner.
  domain::Result<void> RemoveMember(const Principal& by, std::string_view org,
                                    std::string_view member_id);

  // Invitations ---------------------------------------------------------------------------

  /// Invites `email` with `role` on the organisation, or on `project` (member.invite, and the
  /// role's permissions at that scope). invalid_argument for a malformed e-mail, an unknown
  /// role, a role of the wrong scope, or owner.
  domain::Result<NewInvitation> Invite(const Principal& by, std::string_view org,
                                       std::string_view email, std::string_view role,
                                       std::optional<std::string_view> project);
  domain::Result<domain::PageOf<domain::Invitation>> ListInvitations(
      const Principal& by, std::string_view org, const domain::PageRequest& page);
  /// member.invite. failed_precondition when no longer pending.
  domain::Result<void> RevokeInvitation(const Principal& by, std::string_view org,
                                        std::string_view id);
  /// What the token offers. not_found for an unknown token, failed_precondition when it was
  /// used, revoked or has expired.
  domain::Result<InvitationPreview> PreviewInvitation(std::string_view token);
  /// Accepts: a signed-in member whose e-mail is the invited one joins; an anonymous caller
  /// with a password creates the member first (when no member has that e-mail: else they must
  /// sign in). permission_denied when signed in as someone else; invalid_argument for a
  /// password the policy refuses. The event's actor is the member who accepted (the one just
  /// created for an anonymous caller).
  domain::Result<domain::Membership> AcceptInvitation(const Principal& by, std::string_view token,
                                                      std::string_view password,
                                                      std::string_view name);
  /// Declines by token: whoever holds it may. The event's actor is a guest, from `origin`.
  domain::Result<void> DeclineInvitation(std::string_view token, const AuditOrigin& origin = {});

  // Teams ---------------------------------------------------------------------------------

  domain::Result<domain::Team> CreateTeam(const Principal& by, std::string_view org,
                                          std::string_view name, std::string_view description);
  domain::Result<std::vector<domain::Team>> ListTeams(const Principal& by, std::string_view org);
  domain::Result<TeamView> GetTeam(const Principal& by, std::string_view org, std::string_view id);
  /// Fields left nullopt keep their value.
  domain::Result<domain::Team> UpdateTeam(const Principal& by, std::string_view org,
                                          std::string_view id,
                                          std::optional<std::string_view> name,
                                          std::optional<std::string_view> description);
  domain::Result<void> DeleteTeam(const Principal& by, std::string_view org, std::string_view id);
  domain::Result<void> AddTeamMember(const Principal& by, std::string_view org,
                                     std::string_view team, std::string_view member_id);
  domain::Result<void> RemoveTeamMember(const Principal& by, std::string_view org,
                                        std::string_view team, std::string_view member_id);

  // Roles ---------------------------------------------------------------------------------

  /// Built-in then custom roles, each with its effective permissions (role.read).
  domain::Result<std::vector<RoleView>> ListRoles(const Principal& by, std::string_view org);
  /// Creates or replaces a custom role (role.update, and every permission it would hold).
  /// invalid_argument when the catalogue with it is not valid (unknown permission or parent,
  /// scope inversion, cycle, a built-in's id).
  domain::Result<RoleView> PutRole(const Principal& by, std::string_view org, domain::Role role);
  /// failed_precondition while bound, offered or inherited.
  domain::Result<void> DeleteRole(const Principal& by, std::string_view org, std::string_view id);

  // Policies ------------------------------------------------------------------------------

  domain::Result<std::vector<domain::StoredPolicy>> ListPolicies(const Principal& by,
                                                                 std::string_view org);
  /// Binds `role` to `subject` on the organisation or one project (policy.update, and the
  /// role's permissions at that scope). invalid_argument for an unknown role, subject (a member
  /// not in the organisation, a team or API key not of it) or project, a role of the wrong
  /// scope, or owner (see TransferOwnership); already_exists for a binding that exists.
  domain::Result<domain::StoredPolicy> Grant(const Principal& by, std::string_view org,
                                             const domain::RbacSubject& subject,
                                             std::string_view role,
                                             std::optional<std::string_view> project);
  /// policy.update; removing an owner binding needs organisation.transfer, and the last one
  /// stays (failed_precondition).
  domain::Result<void> Revoke(const Principal& by, std::string_view org, std::string_view policy_id);

  /// Why `subject` (the caller when nullopt) holds or lacks each of `permissions` (every known
  /// one when empty) on the organisation or one project. Explaining someone else's access
  /// needs policy.read.
  domain::Result<std::vector<PermissionExplanation>> Explain(
      const Principal& by, std::string_view org, std::optional<ExplainSubject> subject,
      std::optional<std::string_view> project, const std::vector<std::string>& permissions);

  // Feature flags -------------------------------------------------------------------------

  /// Sets a flag. Global flags: superusers only (`org` empty). Organisation, role and user
  /// flags: flag.update in the organisation; the role must exist, the user be a member.
  domain::Result<domain::FeatureFlag> PutFlag(const Principal& by, std::string_view org,
                                              domain::FeatureFlag flag);
  domain::Result<void> DeleteFlag(const Principal& by, std::string_view org, std::string_view key,
                                  domain::FlagLevel level, std::string_view subject);
  /// Every flag set in the organisation and globally (flag.read; `org` empty: global flags,
  /// any authenticated caller).
  domain::Result<std::vector<domain::FeatureFlag>> ListFlags(const Principal& by,
                                                             std::string_view org);
  /// The flags' values for the caller in `org` (its roles there, its member id), or — with
  /// flag.read — for `member_id`. `key` empty: every flag set. `org` empty: global flags only.
  domain::Result<std::vector<domain::FlagEvaluation>> EvaluateFlags(
      const Principal& by, std::string_view org, std::string_view key,
      std::optional<std::string_view> member_id);

 private:
  domain::Result<domain::Organisation> FindOrg(const Principal& by, std::string_view slug);
  domain::Result<AccessDecision> Require(const Principal& by, const domain::Organisation& org,
                                         const std::optional<domain::Id>& project,
                                         std::string_view permission);
  domain::Result<std::optional<domain::Project>> FindProject(const domain::Organisation& org,
                                                             std::optional<std::string_view> slug);
  domain::Result<std::vector<domain::FeatureFlag>> CachedFlags(const std::string& org_id);
  /// The flag set with this identity, if any.
  domain::Result<std::optional<domain::FeatureFlag>> FindFlag(const std::string& org_id,
                                                              std::string_view key,
                                                              domain::FlagLevel level,
                                                              std::string_view subject);
  void SendInvitation(const domain::Organisation& org, const domain::Invitation& invitation,
                      std::string_view token, const Principal& by);

  CatalogueStore& catalogue_;
  AccessStore& store_;
  AccessControl& access_;
  PlatformSessions& members_;
  TokenSigner& signer_;
  Clock& clock_;
  RandomSource& random_;
  Mailer* mailer_;
  ManageAccessOptions options_;
  PlatformTrail* trail_;
  std::mutex flags_mutex_;
  struct CachedFlagList {
    std::vector<domain::FeatureFlag> flags;
    domain::Timestamp loaded;
  };
  std::unordered_map<std::string, CachedFlagList> flags_cache_;
};

}  // namespace socle::application
