#pragma once

#include <optional>
#include <string>
#include <vector>

#include "socle/domain/access.hpp"
#include "socle/domain/error.hpp"
#include "socle/domain/feature_flags.hpp"
#include "socle/domain/id.hpp"
#include "socle/domain/page.hpp"
#include "socle/domain/timestamp.hpp"

namespace socle::application {

/// Changes to an organisation's policies applied together: the removals, then the additions.
struct PolicyChange {
  std::vector<std::string> remove;         ///< policy ids
  std::vector<domain::StoredPolicy> add;   ///< each policy.organisation is the change's org
};

/// Who may do what in each organisation: memberships, invitations, teams and their members,
/// custom roles, policies, and feature flags. It lives beside the catalogue (same database,
/// same migrations): organisations' rows go with the organisation when it is deleted.
///
/// Every method but the few marked "across organisations" acts inside one organisation and
/// names it first; an implementation must never return or change a row of another
/// organisation through it (on PostgreSQL, row-level security keyed on the organisation backs
/// this up). Ids are unique within their kind across the platform.
///
/// One invariant is kept inside the store's transactions, so that no interleaving breaks it:
/// an organisation that has an owner policy (domain::IsOwnerPolicy) keeps at least one. A
/// change that would remove the last one fails with failed_precondition and changes nothing.
///
/// Shapes and references are checked by every adapter alike:
/// - a row naming another organisation than the method's (a membership, a policy, the
///   accepted invitation's membership or policy), or a malformed one (an id that is not 15
///   characters, an empty name or token, a closed invitation without its decision time, a flag
///   whose level, organisation and subject do not fit together, a bad created_by): invalid_argument;
/// - a project (of a policy or an invitation) that does not exist or is another organisation's,
///   an organisation that does not exist (PutFlag included): not_found;
/// - team names compare case-insensitively over ASCII letters.
///
/// Every method is atomic. Thread-safe. Adapters: MemoryCatalogueStore, SqliteCatalogueStore,
/// PostgresCatalogueStore (each implements CatalogueStore and AccessStore over one database).
class AccessStore {
 public:
  virtual ~AccessStore() = default;

  // Memberships ---------------------------------------------------------------------------

  /// Adds a member to an organisation, with `policies` (their roles) in the same transaction.
  /// already_exists when the member already belongs to it; not_found when the organisation
  /// does not exist.
  virtual domain::Result<void> InsertMembership(const domain::Membership& membership,
                                                const std::vector<domain::StoredPolicy>& policies) = 0;
  /// not_found when the member does not belong to the organisation.
  virtual domain::Result<domain::Membership> GetMembership(const domain::Id& org_id,
                                                           const std::string& member_id) = 0;
  /// One page of the organisation's members ordered by e-mail.
  virtual domain::Result<domain::PageOf<domain::Membership>> ListMemberships(
      const domain::Id& org_id, const domain::PageRequest& page) = 0;
  /// Across organisations: every organisation the member belongs to, ordered by org id.
  virtual domain::Result<std::vector<domain::Membership>> MemberOrganisations(
      const std::string& member_id) = 0;
  /// Removes the member from the organisation with their policies and team places there;
  /// not_found; failed_precondition when they are its last owner.
  virtual domain::Result<void> DeleteMembership(const domain::Id& org_id,
                                                const std::string& member_id) = 0;

  // Invitations ---------------------------------------------------------------------------

  /// already_exists when the id or the token binding is taken; not_found without the
  /// organisation.
  virtual domain::Result<void> InsertInvitation(const domain::Invitation& invitation) = 0;
  /// not_found.
  virtual domain::Result<domain::Invitation> GetInvitation(const domain::Id& org_id,
                                                           const domain::Id& id) = 0;
  /// Across organisations: the invitation whose token has this binding; not_found.
  virtual domain::Result<domain::Invitation> FindInvitation(const std::string& token_binding) = 0;
  /// One page of the organisation's invitations, newest first (by created, then id, both
  /// descending).
  virtual domain::Result<domain::PageOf<domain::Invitation>> ListInvitations(
      const domain::Id& org_id, const domain::PageRequest& page) = 0;
  /// Moves a pending invitation to `state` (declined or revoked; any other: invalid_argument)
  /// at `at`. not_found; failed_precondition when it is no longer pending (it changes once).
  virtual domain::Result<void> CloseInvitation(const domain::Id& org_id, const domain::Id& id,
                                               domain::InvitationState state,
                                               domain::Timestamp at) = 0;
  /// Accepts a pending invitation in one transaction: marks it accepted at `at`, adds the
  /// membership unless the member already belongs to the organisation, and adds `policy`.
  /// not_found; failed_precondition when it is no longer pending; already_exists when the
  /// policy's id or binding is taken (then nothing changes: the invitation stays pending).
  virtual domain::Result<void> AcceptInvitation(const domain::Id& org_id, const domain::Id& id,
                                                const domain::Membership& membership,
                                                const domain::StoredPolicy& policy,
                                                domain::Timestamp at) = 0;
  /// Deletes invitations closed (decided), or expired, strictly before `before`, in every
  /// organisation; returns how many.
  virtual domain::Result<std::int64_t> PurgeInvitations(domain::Timestamp before) = 0;

  // Teams ---------------------------------------------------------------------------------

  /// already_exists when the id, or the name (case-insensitively) in the organisation, is
  /// taken; not_found without the organisation.
  virtual domain::Result<void> InsertTeam(const domain::Team& team) = 0;
  virtual domain::Result<domain::Team> GetTeam(const domain::Id& org_id, const domain::Id& id) = 0;
  /// Every team of the organisation ordered by name (case-insensitively, then id).
  virtual domain::Result<std::vector<domain::Team>> ListTeams(const domain::Id& org_id) = 0;
  /// Replaces name, description and updated; not_found; already_exists for a taken name.
  virtual domain::Result<void> UpdateTeam(const domain::Team& team) = 0;
  /// Deletes the team, its member places and its policies; not_found; failed_precondition when
  /// that would remove the organisation's last owner policy.
  virtual domain::Result<void> DeleteTeam(const domain::Id& org_id, const domain::Id& id) = 0;
  /// Adds a member of the organisation to one of its teams. not_found for an unknown team or a
  /// member who does not belong to the organisation; already_exists when already in it.
  virtual domain::Result<void> AddTeamMember(const domain::Id& org_id, const domain::Id& team_id,
                                             const std::string& member_id) = 0;
  /// not_found when the member is not in the team.
  virtual domain::Result<void> RemoveTeamMember(const domain::Id& org_id,
                                                const domain::Id& team_id,
                                                const std::string& member_id) = 0;
  /// The team's members, ordered by e-mail. not_found for an unknown team.
  virtual domain::Result<std::vector<domain::Membership>> TeamMembers(
      const domain::Id& org_id, const domain::Id& team_id) = 0;
  /// The ids of the organisation's teams the member is in, sorted.
  virtual domain::Result<std::vector<std::string>> MemberTeams(const domain::Id& org_id,
                                                               const std::string& member_id) = 0;

  // Custom roles --------------------------------------------------------------------------

  /// Inserts the role, or replaces the role with this id in the organisation (keeping its
  /// created time). Does not check it: the caller validates the whole catalogue first.
  /// not_found without the organisation.
  virtual domain::Result<void> PutRole(const domain::CustomRole& role) = 0;
  /// Every custom role of the organisation ordered by id.
  virtual domain::Result<std::vector<domain::CustomRole>> ListRoles(const domain::Id& org_id) = 0;
  /// Deletes a custom role; not_found; failed_precondition while a policy binds it, a pending
  /// invitation offers it, or another role of the organisation inherits it.
  virtual domain::Result<void> DeleteRole(const domain::Id& org_id, const std::string& role_id) = 0;

  // Policies ------------------------------------------------------------------------------

  /// Every policy of the organisation, ordered by id.
  virtual domain::Result<std::vector<domain::StoredPolicy>> ListPolicies(
      const domain::Id& org_id) = 0;
  /// Applies `change` in one transaction. not_found when a policy to remove does not exist in
  /// the organisation; already_exists when an added id is taken or the same subject, role and
  /// scope is already bound; failed_precondition when it would leave the organisation without
  /// an owner (and then nothing changes).
  virtual domain::Result<void> ChangePolicies(const domain::Id& org_id,
                                              const PolicyChange& change) = 0;

  // Feature flags -------------------------------------------------------------------------

  /// Inserts or replaces the flag identified by (key, level, org_id, subject).
  virtual domain::Result<void> PutFlag(const domain::FeatureFlag& flag) = 0;
  /// Deletes it; not_found. An empty org_id names a global flag.
  virtual domain::Result<void> DeleteFlag(const std::string& org_id, const std::string& key,
                                          domain::FlagLevel level, const std::string& subject) = 0;
  /// The organisation's flags of every level, and the global ones, ordered by key, level,
  /// subject. An empty org_id lists the global flags only.
  virtual domain::Result<std::vector<domain::FeatureFlag>> ListFlags(const std::string& org_id) = 0;
};

}  // namespace socle::application
