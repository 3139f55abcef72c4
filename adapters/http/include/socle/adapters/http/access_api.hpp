#pragma once

#include "socle/adapters/http/json_object_reader.hpp"
#include "socle/adapters/http/principal.hpp"
#include "socle/adapters/http/request.hpp"
#include "socle/adapters/http/response.hpp"
#include "socle/adapters/http/router.hpp"
#include "socle/application/manage_access.hpp"
#include "socle/application/manage_organisation_keys.hpp"
#include "socle/application/ports/catalogue_store.hpp"
#include "socle/domain/error.hpp"

namespace socle::adapters::http {

/// The platform API's access management under /api/v1, over ManageAccess: members, ownership,
/// invitations, teams, custom roles, policies, explanations and feature flags. Thin handlers:
/// identify the caller, parse the request, call one use case, serialise the result or the
/// error. ManageAccess checks every permission; this adapter only makes sure an anonymous
/// caller is refused (401) before anything of the request is read.
///
///   GET    /api/v1/orgs/{org}/members            ?page&perPage → 200 list of member
///   DELETE /api/v1/orgs/{org}/members/{member}   → 204 (the caller themselves: leaving)
///   POST   /api/v1/orgs/{org}/transfer           {member} → 204
///   GET    /api/v1/orgs/{org}/invitations        ?page&perPage → 200 list of invitation
///   POST   /api/v1/orgs/{org}/invitations        {email, role, project?} → 201 invitation with
///                                                its token (shown this once)
///   DELETE /api/v1/orgs/{org}/invitations/{id}   → 204 (revoked)
///   POST   /api/v1/invitations/preview           {token} → 200 {organisation: {slug, name},
///                                                project: {slug, name} | null, email, role,
///                                                expires, memberExists}
///   POST   /api/v1/invitations/accept            {token, password?, name?} → 200
///                                                {organisation: {slug, name}, memberId}
///   POST   /api/v1/invitations/decline           {token} → 204
///   GET    /api/v1/orgs/{org}/teams              → 200 {items: [team]}
///   POST   /api/v1/orgs/{org}/teams              {name, description?} → 201 team
///   GET    /api/v1/orgs/{org}/teams/{team}       → 200 team with members
///   PATCH  /api/v1/orgs/{org}/teams/{team}       {name?, description?} → 200 team
///   DELETE /api/v1/orgs/{org}/teams/{team}       → 204
///   PUT    /api/v1/orgs/{org}/teams/{team}/members/{member} → 204
///   DELETE /api/v1/orgs/{org}/teams/{team}/members/{member} → 204
///   GET    /api/v1/orgs/{org}/roles              → 200 {items: [role]}
///   PUT    /api/v1/orgs/{org}/roles/{role}       {name?, scope, parents?, permissions?} → 200
///   DELETE /api/v1/orgs/{org}/roles/{role}       → 204
///   GET    /api/v1/orgs/{org}/policies           → 200 {items: [policy]}
///   POST   /api/v1/orgs/{org}/policies           {subject: {kind, id}, role, project?} → 201
///   DELETE /api/v1/orgs/{org}/policies/{id}      → 204
///   GET    /api/v1/orgs/{org}/explain            ?subject=member:ID|team:ID|apikey:ID
///                                                &project=slug&permission=a.b,c.d → 200
///                                                {items: [{permission, allowed, explanation,
///                                                policy, via}]}
///   GET    /api/v1/flags                         → 200 {items: [flag]} (global flags)
///   PUT    /api/v1/flags/{key}                   {value, description?} → 200 flag (superusers)
///   DELETE /api/v1/flags/{key}                   → 204 (superusers)
///   GET    /api/v1/orgs/{org}/flags              → 200 {items: [flag]} (the organisation's and
///                                                the global ones)
///   PUT    /api/v1/orgs/{org}/flags/{key}        {level, subject?, value, description?} → 200
///   DELETE /api/v1/orgs/{org}/flags/{key}        ?level (default organisation)&subject → 204
///   GET    /api/v1/flags/evaluate                ?org&key&member → 200 {items: [{key, value,
///                                                source, level}]}
///   with ServeOrganisationKeys (API keys with roles):
///   GET    /api/v1/orgs/{org}/apikeys            → 200 {items: [apikey]}
///   POST   /api/v1/orgs/{org}/apikeys            {name, role, project?, expires?} → 201 apikey
///                                                with its secret "key" (shown this once)
///   DELETE /api/v1/orgs/{org}/apikeys/{id}       → 204 (revoked, its policies removed)
///
/// member = {memberId, email, roles, teams, created}; invitation = {id, email, role, project,
/// state, created, expires}; team = {id, name, description, created, updated} (+ members:
/// [{memberId, email, created}]); role = {id, name, scope, parents, permissions, builtin,
/// effective}; policy = {id, subject: {kind: "member"|"team"|"apikey", id}, role, project,
/// created, createdBy}; flag = {key, level, subject, value, description, updated, updatedBy};
/// apikey = {id, name, prefix, expires, revoked, lastUsed, uses, created, policies: [{id, role,
/// project}]}.
/// Projects are named by slug both ways (null: the whole organisation); policies and
/// invitations store project ids, which are shown as the project's slug.
///
/// Invitation tokens travel in bodies, never in paths or queries (those end up in logs); the
/// three invitation routes are public: the token is the credential. Accepting works for an
/// anonymous caller (who chooses a password: the member is created) or for the signed-in
/// invitee; a bad token in the Authorization header is 401 there too, never silently anonymous.
///
/// Bodies are strict JSON objects (unknown, repeated or mistyped members are 400 field errors;
/// nested ones are named "subject.kind"); a path id that names nothing is 404. Responses that
/// carry a token are sent with Cache-Control: no-store.
/// Thread-safety: handlers may run concurrently (the use case and the store are thread-safe).
class AccessApi final {
 public:
  /// `catalogue` turns the project ids of policies and invitations into slugs. Everything must
  /// outlive the router the routes are registered on.
  AccessApi(application::ManageAccess& access, application::CatalogueStore& catalogue,
            PrincipalIdentifier identify, JsonLimits limits = {});

  /// Serves the organisations' API keys too (before Register); `keys` must outlive the router.
  void ServeOrganisationKeys(application::ManageOrganisationKeys& keys) { keys_ = &keys; }

  /// Adds the routes above to `router`; fails only on a route clash (a programming error).
  domain::Result<void> Register(Router& router);

 private:
  Response ListMembers(const Request& request);
  Response RemoveMember(const Request& request);
  Response TransferOwnership(const Request& request);
  Response ListInvitations(const Request& request);
  Response Invite(const Request& request);
  Response RevokeInvitation(const Request& request);
  Response PreviewInvitation(const Request& request);
  Response AcceptInvitation(const Request& request);
  Response DeclineInvitation(const Request& request);
  Response ListTeams(const Request& request);
  Response CreateTeam(const Request& request);
  Response GetTeam(const Request& request);
  Response UpdateTeam(const Request& request);
  Response DeleteTeam(const Request& request);
  Response AddTeamMember(const Request& request);
  Response RemoveTeamMember(const Request& request);
  Response ListRoles(const Request& request);
  Response PutRole(const Request& request);
  Response DeleteRole(const Request& request);
  Response ListPolicies(const Request& request);
  Response Grant(const Request& request);
  Response Revoke(const Request& request);
  Response Explain(const Request& request);
  Response ListGlobalFlags(const Request& request);
  Response PutGlobalFlag(const Request& request);
  Response DeleteGlobalFlag(const Request& request);
  Response ListOrganisationFlags(const Request& request);
  Response PutOrganisationFlag(const Request& request);
  Response DeleteOrganisationFlag(const Request& request);
  Response EvaluateFlags(const Request& request);
  Response ListApiKeys(const Request& request);
  Response CreateApiKey(const Request& request);
  Response RevokeApiKey(const Request& request);

  application::ManageAccess& access_;
  application::CatalogueStore& catalogue_;
  application::ManageOrganisationKeys* keys_ = nullptr;
  PrincipalIdentifier identify_;
  JsonLimits limits_;
};

}  // namespace socle::adapters::http
