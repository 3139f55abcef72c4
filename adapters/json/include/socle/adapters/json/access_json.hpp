#pragma once

#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "socle/adapters/json/json_writer.hpp"
#include "socle/application/manage_access.hpp"
#include "socle/application/manage_organisation_keys.hpp"
#include "socle/domain/access.hpp"
#include "socle/domain/error.hpp"
#include "socle/domain/feature_flags.hpp"
#include "socle/domain/page.hpp"
#include "socle/domain/rbac.hpp"

namespace socle::adapters::json {

// The JSON shapes of organisations' access (members, invitations, teams, roles, policies,
// explanations, feature flags, API keys with roles), written once for every adapter that prints
// them (the platform API and `socle --json`), so the two can never drift apart:
//   member     = {memberId, email, roles, teams, created}
//   invitation = {id, email, role, project, state, created, expires[, token]}
//   team       = {id, name, description, created, updated[, members: [{memberId, email,
//                created}]]}
//   role       = {id, name, scope, parents, permissions, builtin, effective}
//   policy     = {id, subject: {kind, id}, role, project, created, createdBy}
//   flag       = {key, level, subject, value, description, updated, updatedBy}
//   apikey     = {id, name, prefix, expires, revoked, lastUsed, uses, created,
//                policies: [{id, role, project}][, key]}
// Policies, invitations and keys store project ids; the documents show the project's slug
// (null: the whole organisation), which a ProjectSlugResolver supplies.

/// Names the projects that access documents refer to by id. Each adapter looks projects up its
/// own way (the platform API through the catalogue with a per-response cache, the CLI from the
/// slugs it fetched beforehand).
class ProjectSlugResolver {
 public:
  virtual ~ProjectSlugResolver() = default;

  /// The slug to show for `project_id`: nullopt for nullopt (the whole organisation); the id
  /// itself for a project that no longer exists, never nullopt, which would read as "the whole
  /// organisation". Errors: those of the lookup (unavailable, internal ...).
  virtual domain::Result<std::optional<std::string>> SlugOf(
      const std::optional<std::string>& project_id) = 0;
};

// The writers below that name projects return the resolver's first error. They look every
// project up before they write anything, so on failure `w` is left as it was.

/// member
void WriteMember(JsonWriter& w, const application::MemberView& member);
/// PocketBase's list shape {page, perPage, totalItems, totalPages, items: [member]}.
void WriteMemberPage(JsonWriter& w, const domain::PageOf<application::MemberView>& page);

/// invitation, with its token when `token` is given (only right after it is made: the token is
/// the invitee's credential and is stored only as a binding).
domain::Result<void> WriteInvitation(JsonWriter& w, const domain::Invitation& invitation,
                                     ProjectSlugResolver& projects,
                                     const std::string* token = nullptr);
/// {page, perPage, totalItems, totalPages, items: [invitation]}, never with tokens.
domain::Result<void> WriteInvitationPage(JsonWriter& w,
                                         const domain::PageOf<domain::Invitation>& page,
                                         ProjectSlugResolver& projects);

/// team, with its members when `members` is given.
void WriteTeam(JsonWriter& w, const domain::Team& team,
               const std::vector<domain::Membership>* members = nullptr);
/// {items: [team]}, without members.
void WriteTeamList(JsonWriter& w, const std::vector<domain::Team>& teams);

/// role
void WriteRole(JsonWriter& w, const application::RoleView& role);
/// {items: [role]}
void WriteRoleList(JsonWriter& w, const std::vector<application::RoleView>& roles);

/// policy
domain::Result<void> WritePolicy(JsonWriter& w, const domain::StoredPolicy& policy,
                                 ProjectSlugResolver& projects);
/// {items: [policy]}
domain::Result<void> WritePolicyList(JsonWriter& w,
                                     const std::vector<domain::StoredPolicy>& policies,
                                     ProjectSlugResolver& projects);

/// {items: [{permission, allowed, explanation, policy: {id, subject, role, project} | null,
/// via}]}
domain::Result<void> WriteExplanationList(
    JsonWriter& w, const std::vector<application::PermissionExplanation>& explanations,
    ProjectSlugResolver& projects);

/// flag
void WriteFlag(JsonWriter& w, const domain::FeatureFlag& flag);
/// {items: [flag]}
void WriteFlagList(JsonWriter& w, const std::vector<domain::FeatureFlag>& flags);
/// {items: [{key, value, source, level}]}: value and level are null when no level sets the
/// flag.
void WriteFlagEvaluationList(JsonWriter& w,
                             const std::vector<domain::FlagEvaluation>& evaluations);

/// apikey, with its secret as "key" when `secret` is given (only right after it is made: it is
/// stored only hashed).
domain::Result<void> WriteOrganisationKey(JsonWriter& w,
                                          const application::OrganisationKeyView& key,
                                          ProjectSlugResolver& projects,
                                          const std::string* secret = nullptr);
/// {items: [apikey]}, never with secrets.
domain::Result<void> WriteOrganisationKeyList(
    JsonWriter& w, const std::vector<application::OrganisationKeyView>& keys,
    ProjectSlugResolver& projects);

/// "member", "team" or "apikey": how documents (and "kind:id" texts) spell a subject's kind.
std::string_view SubjectKindName(domain::RbacSubject::Kind kind) noexcept;

}  // namespace socle::adapters::json
