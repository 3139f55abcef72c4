#include "socle/application/manage_access.hpp"

#include <algorithm>
#include <map>
#include <set>
#include <utility>

#include "socle/application/new_id.hpp"
#include "socle/application/record_fields.hpp"
#include "socle/domain/email.hpp"
#include "socle/domain/slug.hpp"

namespace socle::application {

using domain::ErrorCode;
using domain::Fail;
using domain::Result;
using domain::RbacScope;
using domain::RbacSubject;
using internal::ConstantTimeEquals;
using internal::Lower;

namespace {

constexpr std::string_view kOrgNotFound = "The organisation was not found.";
constexpr std::string_view kProjectNotFound = "The project was not found.";
constexpr std::string_view kInvitationPrefix = "inv_";
constexpr std::string_view kBadInvitation = "The invitation was not found.";

domain::Timestamp Plus(domain::Timestamp at, std::chrono::seconds duration) {
  return domain::Timestamp::FromUnixMicros(
      at.unix_micros() + std::chrono::duration_cast<std::chrono::microseconds>(duration).count());
}

bool WellFormedInvitationToken(std::string_view token) {
  if (token.size() != kInvitationPrefix.size() + 50 || !token.starts_with(kInvitationPrefix)) {
    return false;
  }
  return std::all_of(token.begin() + static_cast<std::ptrdiff_t>(kInvitationPrefix.size()),
                     token.end(), [](char c) {
                       return (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') ||
                              (c >= '0' && c <= '9');
                     });
}

// The roles bound to `member` on the whole organisation, sorted.
std::vector<std::string> OrgRolesOf(const std::vector<domain::StoredPolicy>& policies,
                                    std::string_view member) {
  std::set<std::string> roles;
  for (const auto& stored : policies) {
    const auto& policy = stored.policy;
    if (policy.subject.kind == RbacSubject::Kind::kMember && policy.subject.id == member &&
        !policy.project) {
      roles.insert(policy.role);
    }
  }
  return {roles.begin(), roles.end()};
}

RoleView ViewOf(const domain::RoleCatalogue& roles, const domain::Role& role) {
  RoleView view{role, {}};
  for (const auto& [permission, chain] : roles.Effective(role.id)) view.effective.push_back(permission);
  return view;
}

// An event of the chain of `org_id` ("" for the platform's) about its access, by `context`'s
// actor; `project` (an id) when the change concerns one project only.
AuditEntry AccessEntry(const AuditContext& context, std::string org_id, std::string action,
                       std::string target_kind, std::string target_id, domain::AuditDiff diff = {},
                       const std::optional<std::string>& project = std::nullopt) {
  auto entry = PlatformEntry(context, std::move(org_id), std::move(action),
                             std::move(target_kind), std::move(target_id), std::move(diff));
  if (project) entry.project_id = *project;
  return entry;
}

domain::JsonValue Described(const domain::Policy& policy) {
  return domain::JsonValue::Object(AuditAspects(policy));
}

// A change of several policies at once, as one diff: an aspect "policy.<id>" per policy
// removed (its aspects before, null after) or added (null before, its aspects after).
domain::AuditDiff PolicyChangeDiff(const std::vector<domain::StoredPolicy>& current,
                                   const PolicyChange& change) {
  std::vector<domain::JsonValue::Member> before;
  std::vector<domain::JsonValue::Member> after;
  for (const auto& id : change.remove) {
    auto found = std::find_if(current.begin(), current.end(),
                              [&](const auto& stored) { return stored.policy.id == id; });
    if (found == current.end()) continue;
    before.emplace_back("policy." + id, Described(found->policy));
    after.emplace_back("policy." + id, domain::JsonValue::Null());
  }
  for (const auto& added : change.add) {
    before.emplace_back("policy." + added.policy.id, domain::JsonValue::Null());
    after.emplace_back("policy." + added.policy.id, Described(added.policy));
  }
  return domain::DiffAspectsForAudit(&before, &after);
}

// A team's member joining (before null) or leaving (after null), as the team's change.
domain::AuditDiff TeamMemberDiff(const std::string* before, const std::string* after) {
  auto aspects = [](const std::string* member) {
    return std::vector<domain::JsonValue::Member>{
        {"member", member ? domain::JsonValue::String(*member) : domain::JsonValue::Null()}};
  };
  const auto old_aspects = aspects(before);
  const auto new_aspects = aspects(after);
  return domain::DiffAspectsForAudit(&old_aspects, &new_aspects);
}

// The invitation moving from `before` to `after` (its state), with what an acceptance made:
// the member who joined and the policy bound to them. The e-mail, unchanged, is not shown.
domain::AuditDiff InvitationDiff(const domain::Invitation& before, const domain::Invitation& after,
                                 const std::string* member = nullptr,
                                 const domain::Policy* policy = nullptr) {
  auto old_aspects = AuditAspects(before);
  auto new_aspects = AuditAspects(after);
  if (member != nullptr && policy != nullptr) {
    old_aspects.emplace_back("member", domain::JsonValue::Null());
    old_aspects.emplace_back("policy", domain::JsonValue::Null());
    new_aspects.emplace_back("member", domain::JsonValue::String(*member));
    new_aspects.emplace_back("policy", Described(*policy));
  }
  return domain::DiffAspectsForAudit(&old_aspects, &new_aspects, {"email"});
}

}  // namespace

ManageAccess::ManageAccess(CatalogueStore& catalogue, AccessStore& store, AccessControl& access,
                           PlatformSessions& members, TokenSigner& signer, Clock& clock,
                           RandomSource& random, Mailer* mailer, ManageAccessOptions options,
                           PlatformTrail* trail)
    : catalogue_(catalogue),
      store_(store),
      access_(access),
      members_(members),
      signer_(signer),
      clock_(clock),
      random_(random),
      mailer_(mailer),
      options_(std::move(options)),
      trail_(trail) {}

Result<domain::Organisation> ManageAccess::FindOrg(const Principal& by, std::string_view slug) {
  // Who asks comes first: an anonymous caller learns nothing, not even which slugs exist.
  if (!by.authenticated()) {
    return Fail(ErrorCode::kUnauthenticated, "The request requires valid authorization.");
  }
  auto parsed = domain::Slug::Parse(slug);
  if (!parsed) return Fail(ErrorCode::kNotFound, std::string(kOrgNotFound));
  auto org = catalogue_.GetOrganisation(*parsed);
  if (!org && org.error().code == ErrorCode::kNotFound) {
    return Fail(ErrorCode::kNotFound, std::string(kOrgNotFound));
  }
  return org;
}

Result<AccessDecision> ManageAccess::Require(const Principal& by, const domain::Organisation& org,
                                             const std::optional<domain::Id>& project,
                                             std::string_view permission) {
  return access_.Require(by, org.id, project, permission,
                         project ? kProjectNotFound : kOrgNotFound);
}

Result<std::optional<domain::Project>> ManageAccess::FindProject(
    const domain::Organisation& org, std::optional<std::string_view> slug) {
  if (!slug) return std::optional<domain::Project>{};
  auto parsed = domain::Slug::Parse(*slug);
  if (!parsed) {
    return Fail(domain::Error::Field("project", "validation_invalid_value", "Unknown project."));
  }
  auto project = catalogue_.GetProject(*parsed);
  if (!project) {
    if (project.error().code != ErrorCode::kNotFound) return Fail(project.error());
    return Fail(domain::Error::Field("project", "validation_invalid_value", "Unknown project."));
  }
  // Another organisation's project is unknown here, exactly like a missing one.
  if (project->org_id != org.id) {
    return Fail(domain::Error::Field("project", "validation_invalid_value", "Unknown project."));
  }
  return std::optional<domain::Project>(std::move(*project));
}

// Organisations -----------------------------------------------------------------------------

Result<void> ManageAccess::TransferOwnership(const Principal& by, std::string_view org_slug,
                                             std::string_view member_id) {
  auto org = FindOrg(by, org_slug);
  if (!org) return Fail(org.error());
  const auto context = by.Audit();
  auto entry = AccessEntry(context, org->id.str(), "ownership.transfer", "member",
                           std::string(member_id));
  auto decision = Require(by, *org, std::nullopt, "organisation.transfer");
  if (!decision) return Fail(RecordRefusal(trail_, entry, decision.error()));
  auto target = store_.GetMembership(org->id, std::string(member_id));
  if (!target) {
    if (target.error().code != ErrorCode::kNotFound) return Fail(target.error());
    return Fail(domain::Error::Field("member", "validation_invalid_value",
                        "The member does not belong to the organisation."));
  }
  auto policies = store_.ListPolicies(org->id);
  if (!policies) return Fail(policies.error());
  const auto now = clock_.Now();
  PolicyChange change;
  bool target_is_owner = false;
  bool by_was_admin = false;
  for (const auto& stored : *policies) {
    if (!domain::IsOwnerPolicy(stored.policy)) {
      if (by.kind == Principal::Kind::kMember && stored.policy.subject.id == by.id &&
          stored.policy.subject.kind == RbacSubject::Kind::kMember &&
          stored.policy.role == "admin" && !stored.policy.project) {
        by_was_admin = true;
      }
      continue;
    }
    if (stored.policy.subject.id == member_id) target_is_owner = true;
    if (by.kind == Principal::Kind::kMember && stored.policy.subject.id == by.id &&
        by.id != member_id) {
      change.remove.push_back(stored.policy.id);
    }
  }
  if (!target_is_owner) {
    change.add.push_back({domain::Policy{NewId(random_).str(),
                                         {RbacSubject::Kind::kMember, std::string(member_id)},
                                         std::string(domain::kOwnerRole), org->id.str(),
                                         std::nullopt},
                          now, by.Actor()});
  }
  // The former owner stays an administrator.
  if (!change.remove.empty() && !by_was_admin) {
    change.add.push_back({domain::Policy{NewId(random_).str(), {RbacSubject::Kind::kMember, by.id},
                                         "admin", org->id.str(), std::nullopt},
                          now, by.Actor()});
  }
  // Already the owner, and the caller none: nothing changes, nothing to record.
  if (change.remove.empty() && change.add.empty()) return {};
  entry.diff = PolicyChangeDiff(*policies, change);
  auto changed =
      WritePlatform(trail_, entry, [&] { return store_.ChangePolicies(org->id, change); });
  access_.Invalidate(org->id);
  return changed;
}

Result<void> ManageAccess::CheckRoleHeld(std::string_view member_id, std::string_view role) {
  auto memberships = store_.MemberOrganisations(std::string(member_id));
  if (!memberships) return Fail(memberships.error());
  Principal member;
  member.kind = Principal::Kind::kMember;
  member.id = std::string(member_id);
  for (const auto& membership : *memberships) {
    auto snapshot = access_.Snapshot(membership.org_id);
    if (!snapshot) return Fail(snapshot.error());
    std::vector<std::string> teams;
    if (auto found = (*snapshot)->teams_of.find(member.id); found != (*snapshot)->teams_of.end()) {
      teams = found->second;
    }
    for (const auto& policy : (*snapshot)->policies) {
      if (policy.role != role) continue;
      const bool mine = policy.subject.kind == RbacSubject::Kind::kMember &&
                        policy.subject.id == member_id;
      const bool my_team = policy.subject.kind == RbacSubject::Kind::kTeam &&
                           std::find(teams.begin(), teams.end(), policy.subject.id) != teams.end();
      if (mine || my_team) return {};
    }
  }
  return Fail(domain::Error::Field("role", "validation_invalid_value", "You do not hold this role."));
}

// Members -----------------------------------------------------------------------------------

Result<domain::PageOf<MemberView>> ManageAccess::ListMembers(const Principal& by,
                                                             std::string_view org_slug,
                                                             const domain::PageRequest& page) {
  auto org = FindOrg(by, org_slug);
  if (!org) return Fail(org.error());
  auto decision = Require(by, *org, std::nullopt, "member.read");
  if (!decision) return Fail(decision.error());
  auto listed = store_.ListMemberships(org->id, page);
  if (!listed) return Fail(listed.error());
  auto snapshot = access_.Snapshot(org->id);
  if (!snapshot) return Fail(snapshot.error());
  domain::PageOf<MemberView> out{listed->page, listed->per_page, listed->total_items, {}};
  for (auto& membership : listed->items) {
    MemberView view{membership, OrgRolesOf((*snapshot)->stored, membership.member_id), {}};
    if (auto teams = (*snapshot)->teams_of.find(membership.member_id);
        teams != (*snapshot)->teams_of.end()) {
      view.teams = teams->second;
    }
    out.items.push_back(std::move(view));
  }
  return out;
}

Result<void> ManageAccess::RemoveMember(const Principal& by, std::string_view org_slug,
                                        std::string_view member_id) {
  auto org = FindOrg(by, org_slug);
  if (!org) return Fail(org.error());
  const bool leaving = by.kind == Principal::Kind::kMember && by.id == member_id;
  auto entry = AccessEntry(by.Audit(), org->id.str(), "member.remove", "member",
                           std::string(member_id));
  // What leaves, for the event (the e-mail in its erasable part).
  std::optional<domain::Membership> gone;
  if (leaving) {
    // Leaving needs no permission, only standing: a stranger learns nothing.
    auto decision = access_.Decide(by, org->id, std::nullopt);
    if (!decision) return Fail(decision.error());
    auto membership = store_.GetMembership(org->id, by.id);
    if (!membership) {
      if (membership.error().code == ErrorCode::kNotFound) {
        return Fail(ErrorCode::kNotFound, std::string(kOrgNotFound));
      }
      return Fail(membership.error());
    }
    gone = std::move(*membership);
  } else {
    auto decision = Require(by, *org, std::nullopt, "member.remove");
    if (!decision) return Fail(RecordRefusal(trail_, entry, decision.error()));
    // Removing an owner is an ownership matter.
    auto policies = store_.ListPolicies(org->id);
    if (!policies) return Fail(policies.error());
    const bool owner = std::any_of(policies->begin(), policies->end(), [&](const auto& stored) {
      return domain::IsOwnerPolicy(stored.policy) && stored.policy.subject.id == member_id;
    });
    if (owner && !decision->Allows("organisation.transfer")) {
      return Fail(RecordRefusal(trail_, entry,
                                domain::Error::Make(ErrorCode::kPermissionDenied,
                                                    "Only an owner can remove an owner of the "
                                                    "organisation.")));
    }
    // Someone not (or no longer) a member: the delete below says so, and the attempt is
    // recorded without a diff.
    auto membership = store_.GetMembership(org->id, std::string(member_id));
    if (membership) {
      gone = std::move(*membership);
    } else if (membership.error().code != ErrorCode::kNotFound) {
      return Fail(membership.error());
    }
  }
  if (gone) entry.diff = AuditChange<domain::Membership>(&*gone, nullptr);
  auto removed = WritePlatform(trail_, entry, [&] {
    return store_.DeleteMembership(org->id, std::string(member_id));
  });
  access_.Invalidate(org->id);
  if (!removed && removed.error().code == ErrorCode::kFailedPrecondition) {
    return Fail(ErrorCode::kFailedPrecondition,
                "The organisation's last owner cannot leave: transfer the ownership first.");
  }
  return removed;
}

// Invitations -------------------------------------------------------------------------------

Result<NewInvitation> ManageAccess::Invite(const Principal& by, std::string_view org_slug,
                                           std::string_view email, std::string_view role,
                                           std::optional<std::string_view> project_slug) {
  auto org = FindOrg(by, org_slug);
  if (!org) return Fail(org.error());
  const auto context = by.Audit();
  // A refusal names no invitation: none was made.
  auto refusal = AccessEntry(context, org->id.str(), "invitation.create", "invitation", "");
  auto standing = Require(by, *org, std::nullopt, "member.invite");
  if (!standing) return Fail(RecordRefusal(trail_, refusal, standing.error()));
  auto project = FindProject(*org, project_slug);
  if (!project) return Fail(project.error());
  std::optional<domain::Id> project_id;
  if (*project) project_id = (*project)->id;
  if (project_id) refusal.project_id = project_id->str();

  std::vector<domain::FieldError> errors;
  const std::string address = Lower(email);
  if (!domain::Email::Parse(address)) {
    errors.push_back({"email", "validation_is_email", "Must be a valid email address."});
  }
  auto snapshot = access_.Snapshot(org->id);
  if (!snapshot) return Fail(snapshot.error());
  if (auto bad = RoleGrantError((*snapshot)->roles, role, project_id.has_value(), "invitation")) {
    errors.push_back(std::move(*bad));
  }
  if (!errors.empty()) return Fail(domain::Error::Fields(std::move(errors)));
  // Nobody grants more than they hold, at the scope of the grant.
  auto at_scope = access_.Decide(by, org->id, project_id);
  if (!at_scope) return Fail(at_scope.error());
  if (auto holds = RequireGrantable(*at_scope, (*snapshot)->roles, role); !holds) {
    return Fail(RecordRefusal(trail_, refusal, holds.error()));
  }

  const auto now = clock_.Now();
  std::string token = std::string(kInvitationPrefix) + NewTokenKey(random_);
  std::optional<std::string> project_text;
  if (project_id) project_text = project_id->str();
  NewInvitation made{domain::Invitation{NewId(random_), org->id, address, std::string(role),
                                        project_text, signer_.Bind(token),
                                        by.kind == Principal::Kind::kMember ? by.id : "",
                                        domain::InvitationState::kPending, now,
                                        Plus(now, options_.invitation_lifetime), std::nullopt},
                     std::move(token)};
  // The invitation's aspects leave out its token binding; the e-mail goes to the personal part.
  auto inserted = WritePlatform(
      trail_,
      AccessEntry(context, org->id.str(), "invitation.create", "invitation",
                  made.invitation.id.str(),
                  AuditChange<domain::Invitation>(nullptr, &made.invitation), project_text),
      [&] { return store_.InsertInvitation(made.invitation); });
  if (!inserted) return Fail(inserted.error());
  SendInvitation(*org, made.invitation, made.token, by);
  return made;
}

void ManageAccess::SendInvitation(const domain::Organisation& org,
                                  const domain::Invitation& invitation, std::string_view token,
                                  const Principal& by) {
  if (mailer_ == nullptr || options_.invitation_url.empty()) return;
  const std::string link = options_.invitation_url +
                           (options_.invitation_url.find('?') == std::string::npos ? "?" : "&") +
                           "token=" + std::string(token);
  MailMessage message;
  auto from = options_.mail_from;
  auto open = from.find('<');
  auto close = from.find('>');
  if (open != std::string::npos && close != std::string::npos && close > open) {
    message.from = {std::string(from.substr(0, open)), from.substr(open + 1, close - open - 1)};
    while (!message.from.name.empty() && message.from.name.back() == ' ') message.from.name.pop_back();
  } else {
    message.from = {"", from};
  }
  message.to = {{"", invitation.email}};
  message.subject = "Invitation to join " + org.name.str() + " on Socle";
  message.text = (by.email.empty() ? std::string("You are") : by.email + " invites you") +
                 (by.email.empty() ? " invited" : "") + " to join the organisation " +
                 org.name.str() + " with the role " + invitation.role +
                 ".\n\nAccept or decline the invitation here (the link works once, until " +
                 invitation.expires.ToApiString() + "):\n\n" + link +
                 "\n\nIf you did not expect this invitation, ignore this message.\n";
  // Best effort: the inviter holds the token too and can pass it on.
  (void)mailer_->Send(message);
}

Result<domain::PageOf<domain::Invitation>> ManageAccess::ListInvitations(
    const Principal& by, std::string_view org_slug, const domain::PageRequest& page) {
  auto org = FindOrg(by, org_slug);
  if (!org) return Fail(org.error());
  auto decision = Require(by, *org, std::nullopt, "member.read");
  if (!decision) return Fail(decision.error());
  return store_.ListInvitations(org->id, page);
}

Result<void> ManageAccess::RevokeInvitation(const Principal& by, std::string_view org_slug,
                                            std::string_view id) {
  auto org = FindOrg(by, org_slug);
  if (!org) return Fail(org.error());
  auto entry = AccessEntry(by.Audit(), org->id.str(), "invitation.revoke", "invitation",
                           std::string(id));
  auto decision = Require(by, *org, std::nullopt, "member.invite");
  if (!decision) return Fail(RecordRefusal(trail_, entry, decision.error()));
  auto parsed = domain::Id::Parse(id);
  if (!parsed) return Fail(ErrorCode::kNotFound, std::string(kBadInvitation));
  const auto now = clock_.Now();
  auto invitation = store_.GetInvitation(org->id, *parsed);
  if (!invitation && invitation.error().code != ErrorCode::kNotFound) {
    return Fail(invitation.error());
  }
  if (invitation) {
    // What the close below makes of it, when it is still pending.
    domain::Invitation revoked = *invitation;
    revoked.state = domain::InvitationState::kRevoked;
    revoked.decided = now;
    entry.diff = InvitationDiff(*invitation, revoked);
    entry.project_id = invitation->project.value_or("");
  }
  auto closed = WritePlatform(trail_, entry, [&] {
    return store_.CloseInvitation(org->id, *parsed, domain::InvitationState::kRevoked, now);
  });
  if (!closed && closed.error().code == ErrorCode::kNotFound) {
    return Fail(ErrorCode::kNotFound, std::string(kBadInvitation));
  }
  if (!closed && closed.error().code == ErrorCode::kFailedPrecondition) {
    return Fail(ErrorCode::kFailedPrecondition, "The invitation is no longer pending.");
  }
  return closed;
}

Result<InvitationPreview> ManageAccess::PreviewInvitation(std::string_view token) {
  if (!WellFormedInvitationToken(token)) {
    return Fail(ErrorCode::kNotFound, std::string(kBadInvitation));
  }
  auto invitation = store_.FindInvitation(signer_.Bind(token));
  if (!invitation) {
    if (invitation.error().code == ErrorCode::kNotFound) {
      return Fail(ErrorCode::kNotFound, std::string(kBadInvitation));
    }
    return Fail(invitation.error());
  }
  if (!ConstantTimeEquals(invitation->token_binding, signer_.Bind(token))) {
    return Fail(ErrorCode::kNotFound, std::string(kBadInvitation));
  }
  if (!invitation->Open(clock_.Now())) {
    return Fail(ErrorCode::kFailedPrecondition,
                invitation->state == domain::InvitationState::kPending
                    ? "The invitation has expired."
                    : "The invitation was already " +
                          std::string(domain::ToString(invitation->state)) + ".");
  }
  auto org = catalogue_.GetOrganisationById(invitation->org_id);
  if (!org) {
    if (org.error().code == ErrorCode::kNotFound) {
      return Fail(ErrorCode::kNotFound, std::string(kBadInvitation));
    }
    return Fail(org.error());
  }
  InvitationPreview preview{std::move(*invitation), std::move(*org), std::nullopt, false};
  if (preview.invitation.project) {
    auto id = domain::Id::Parse(*preview.invitation.project);
    if (!id) return Fail(domain::Error::Internal("malformed project id in an invitation"));
    auto project = catalogue_.GetProjectById(*id);
    if (!project) {
      if (project.error().code == ErrorCode::kNotFound) {
        return Fail(ErrorCode::kNotFound, std::string(kBadInvitation));
      }
      return Fail(project.error());
    }
    preview.project = std::move(*project);
  }
  auto member = members_.FindMember(preview.invitation.email);
  if (!member) return Fail(member.error());
  preview.member_exists = member->has_value();
  return preview;
}

Result<domain::Membership> ManageAccess::AcceptInvitation(const Principal& by,
                                                          std::string_view token,
                                                          std::string_view password,
                                                          std::string_view name) {
  auto preview = PreviewInvitation(token);
  if (!preview) return Fail(preview.error());
  const domain::Invitation& invitation = preview->invitation;
  // Refusals are the caller's (a guest when anonymous); the acceptance is the member's.
  AuditContext context = by.Audit();
  auto refusal = AccessEntry(context, invitation.org_id.str(), "invitation.accept", "invitation",
                             invitation.id.str(), {}, invitation.project);
  auto refuse = [&](ErrorCode code, std::string message) {
    return Fail(RecordRefusal(trail_, refusal, domain::Error::Make(code, std::move(message))));
  };
  MemberInfo member;
  if (by.kind == Principal::Kind::kMember) {
    if (Lower(by.email) != invitation.email) {
      return refuse(ErrorCode::kPermissionDenied,
                    "This invitation is for another e-mail address: sign in with that one.");
    }
    member.id = by.id;
    member.email = by.email;
  } else if (by.kind == Principal::Kind::kAnonymous) {
    if (preview->member_exists) {
      return refuse(ErrorCode::kUnauthenticated,
                    "A member with this e-mail exists: sign in to accept the invitation.");
    }
    if (password.empty()) {
      return Fail(domain::Error::Field("password", "validation_required",
                          "Choose a password to create your account."));
    }
    // The token proves the invitee reads this mailbox: the account is made for that address.
    auto created = members_.UpsertMember(invitation.email, password, name);
    if (!created) return Fail(created.error());
    if (!created->created) {
      // Someone created the member between the preview and now: never reset their password.
      return refuse(ErrorCode::kUnauthenticated,
                    "A member with this e-mail exists: sign in to accept the invitation.");
    }
    member.id = created->id;
    member.email = invitation.email;
    // The invitee, now a member, is who accepts.
    context.actor = {domain::AuditActorKind::kMember, member.id};
  } else {
    return refuse(ErrorCode::kPermissionDenied, "Only a person can accept an invitation.");
  }
  const auto now = clock_.Now();
  domain::Membership membership{invitation.org_id, member.id, Lower(member.email), now};
  domain::StoredPolicy policy{
      domain::Policy{NewId(random_).str(), {RbacSubject::Kind::kMember, member.id},
                     invitation.role, invitation.org_id.str(), invitation.project},
      now, invitation.invited_by.empty() ? "system" : "member:" + invitation.invited_by};
  domain::Invitation after = invitation;
  after.state = domain::InvitationState::kAccepted;
  after.decided = now;
  auto accepted = WritePlatform(
      trail_,
      AccessEntry(context, invitation.org_id.str(), "invitation.accept", "invitation",
                  invitation.id.str(), InvitationDiff(invitation, after, &member.id, &policy.policy),
                  invitation.project),
      [&] {
        return store_.AcceptInvitation(invitation.org_id, invitation.id, membership, policy, now);
      });
  access_.Invalidate(invitation.org_id);
  if (!accepted) {
    if (accepted.error().code == ErrorCode::kFailedPrecondition) {
      return Fail(ErrorCode::kFailedPrecondition, "The invitation is no longer pending.");
    }
    if (accepted.error().code == ErrorCode::kAlreadyExists) {
      // The member holds this role there already; the invitation stays pending (the inviter
      // may revoke it, the invitee decline it).
      return Fail(ErrorCode::kAlreadyExists, "You already hold this role here.");
    }
    return Fail(accepted.error());
  }
  return store_.GetMembership(invitation.org_id, member.id);
}

Result<void> ManageAccess::DeclineInvitation(std::string_view token, const AuditOrigin& origin) {
  auto preview = PreviewInvitation(token);
  if (!preview) return Fail(preview.error());
  const domain::Invitation& invitation = preview->invitation;
  const auto now = clock_.Now();
  domain::Invitation after = invitation;
  after.state = domain::InvitationState::kDeclined;
  after.decided = now;
  // Holding the token is all it takes: nobody is identified, the decline is a guest's.
  const AuditContext guest{{domain::AuditActorKind::kGuest, ""}, origin};
  auto closed = WritePlatform(
      trail_,
      AccessEntry(guest, invitation.org_id.str(), "invitation.decline", "invitation",
                  invitation.id.str(), InvitationDiff(invitation, after), invitation.project),
      [&] {
        return store_.CloseInvitation(invitation.org_id, invitation.id,
                                      domain::InvitationState::kDeclined, now);
      });
  if (!closed && closed.error().code == ErrorCode::kFailedPrecondition) {
    return Fail(ErrorCode::kFailedPrecondition, "The invitation is no longer pending.");
  }
  return closed;
}

// Teams -------------------------------------------------------------------------------------

Result<domain::Team> ManageAccess::CreateTeam(const Principal& by, std::string_view org_slug,
                                              std::string_view name, std::string_view description) {
  auto org = FindOrg(by, org_slug);
  if (!org) return Fail(org.error());
  const auto context = by.Audit();
  auto decision = Require(by, *org, std::nullopt, "team.create");
  if (!decision) {
    return Fail(RecordRefusal(trail_, AccessEntry(context, org->id.str(), "team.create", "team", ""),
                              decision.error()));
  }
  const auto now = clock_.Now();
  domain::Team team{NewId(random_), org->id, std::string(name), std::string(description), now, now};
  if (auto valid = domain::CheckTeam(team); !valid) return Fail(valid.error());
  auto inserted = WritePlatform(trail_,
                                AccessEntry(context, org->id.str(), "team.create", "team",
                                            team.id.str(), AuditChange<domain::Team>(nullptr, &team)),
                                [&] { return store_.InsertTeam(team); });
  if (!inserted) {
    if (inserted.error().code == ErrorCode::kAlreadyExists) {
      return Fail(domain::Error::Field("name", "validation_not_unique", "A team of this name exists."));
    }
    return Fail(inserted.error());
  }
  return team;
}

Result<std::vector<domain::Team>> ManageAccess::ListTeams(const Principal& by,
                                                          std::string_view org_slug) {
  auto org = FindOrg(by, org_slug);
  if (!org) return Fail(org.error());
  auto decision = Require(by, *org, std::nullopt, "team.read");
  if (!decision) return Fail(decision.error());
  return store_.ListTeams(org->id);
}

Result<TeamView> ManageAccess::GetTeam(const Principal& by, std::string_view org_slug,
                                       std::string_view id) {
  auto org = FindOrg(by, org_slug);
  if (!org) return Fail(org.error());
  auto decision = Require(by, *org, std::nullopt, "team.read");
  if (!decision) return Fail(decision.error());
  auto parsed = domain::Id::Parse(id);
  if (!parsed) return Fail(ErrorCode::kNotFound, "The team was not found.");
  auto team = store_.GetTeam(org->id, *parsed);
  if (!team) return Fail(team.error());
  auto members = store_.TeamMembers(org->id, *parsed);
  if (!members) return Fail(members.error());
  return TeamView{std::move(*team), std::move(*members)};
}

Result<domain::Team> ManageAccess::UpdateTeam(const Principal& by, std::string_view org_slug,
                                              std::string_view id,
                                              std::optional<std::string_view> name,
                                              std::optional<std::string_view> description) {
  auto org = FindOrg(by, org_slug);
  if (!org) return Fail(org.error());
  auto entry = AccessEntry(by.Audit(), org->id.str(), "team.update", "team", std::string(id));
  auto decision = Require(by, *org, std::nullopt, "team.update");
  if (!decision) return Fail(RecordRefusal(trail_, entry, decision.error()));
  auto parsed = domain::Id::Parse(id);
  if (!parsed) return Fail(ErrorCode::kNotFound, "The team was not found.");
  auto team = store_.GetTeam(org->id, *parsed);
  if (!team) return Fail(team.error());
  const domain::Team before = *team;
  if (name) team->name = std::string(*name);
  if (description) team->description = std::string(*description);
  team->updated = clock_.Now();
  if (auto valid = domain::CheckTeam(*team); !valid) return Fail(valid.error());
  entry.diff = AuditChange(&before, &*team);
  auto updated = WritePlatform(trail_, entry, [&] { return store_.UpdateTeam(*team); });
  if (!updated) {
    if (updated.error().code == ErrorCode::kAlreadyExists) {
      return Fail(domain::Error::Field("name", "validation_not_unique", "A team of this name exists."));
    }
    return Fail(updated.error());
  }
  return *team;
}

Result<void> ManageAccess::DeleteTeam(const Principal& by, std::string_view org_slug,
                                      std::string_view id) {
  auto org = FindOrg(by, org_slug);
  if (!org) return Fail(org.error());
  auto entry = AccessEntry(by.Audit(), org->id.str(), "team.delete", "team", std::string(id));
  auto decision = Require(by, *org, std::nullopt, "team.delete");
  if (!decision) return Fail(RecordRefusal(trail_, entry, decision.error()));
  auto parsed = domain::Id::Parse(id);
  if (!parsed) return Fail(ErrorCode::kNotFound, "The team was not found.");
  // A team already gone: the delete says so, and the attempt is recorded without a diff.
  auto team = store_.GetTeam(org->id, *parsed);
  if (team) {
    entry.diff = AuditChange<domain::Team>(&*team, nullptr);
  } else if (team.error().code != ErrorCode::kNotFound) {
    return Fail(team.error());
  }
  auto deleted = WritePlatform(trail_, entry, [&] { return store_.DeleteTeam(org->id, *parsed); });
  access_.Invalidate(org->id);
  return deleted;
}

Result<void> ManageAccess::AddTeamMember(const Principal& by, std::string_view org_slug,
                                         std::string_view team, std::string_view member_id) {
  auto org = FindOrg(by, org_slug);
  if (!org) return Fail(org.error());
  const std::string member(member_id);
  auto entry = AccessEntry(by.Audit(), org->id.str(), "team.add_member", "team",
                           std::string(team), TeamMemberDiff(nullptr, &member));
  auto decision = Require(by, *org, std::nullopt, "team.update");
  if (!decision) return Fail(RecordRefusal(trail_, entry, decision.error()));
  auto parsed = domain::Id::Parse(team);
  if (!parsed) return Fail(ErrorCode::kNotFound, "The team was not found.");
  // A team's roles reach whoever joins it: adding someone is granting them.
  auto snapshot = access_.Snapshot(org->id);
  if (!snapshot) return Fail(snapshot.error());
  for (const auto& policy : (*snapshot)->policies) {
    if (policy.subject.kind != RbacSubject::Kind::kTeam || policy.subject.id != parsed->str()) {
      continue;
    }
    std::optional<domain::Id> project;
    if (policy.project) {
      auto id = domain::Id::Parse(*policy.project);
      if (id) project = *id;
    }
    auto at_scope = access_.Decide(by, org->id, project);
    if (!at_scope) return Fail(at_scope.error());
    if (auto holds = RequireGrantable(*at_scope, (*snapshot)->roles, policy.role); !holds) {
      return Fail(RecordRefusal(trail_, entry, holds.error()));
    }
  }
  auto added = WritePlatform(trail_, entry,
                             [&] { return store_.AddTeamMember(org->id, *parsed, member); });
  access_.Invalidate(org->id);
  if (!added && added.error().code == ErrorCode::kAlreadyExists) {
    return Fail(domain::Error::Field("member", "validation_not_unique", "The member is in the team already."));
  }
  return added;
}

Result<void> ManageAccess::RemoveTeamMember(const Principal& by, std::string_view org_slug,
                                            std::string_view team, std::string_view member_id) {
  auto org = FindOrg(by, org_slug);
  if (!org) return Fail(org.error());
  const std::string member(member_id);
  auto entry = AccessEntry(by.Audit(), org->id.str(), "team.remove_member", "team",
                           std::string(team), TeamMemberDiff(&member, nullptr));
  auto decision = Require(by, *org, std::nullopt, "team.update");
  if (!decision) return Fail(RecordRefusal(trail_, entry, decision.error()));
  auto parsed = domain::Id::Parse(team);
  if (!parsed) return Fail(ErrorCode::kNotFound, "The team was not found.");
  auto removed = WritePlatform(trail_, entry,
                               [&] { return store_.RemoveTeamMember(org->id, *parsed, member); });
  access_.Invalidate(org->id);
  return removed;
}

// Roles -------------------------------------------------------------------------------------

Result<std::vector<RoleView>> ManageAccess::ListRoles(const Principal& by,
                                                      std::string_view org_slug) {
  auto org = FindOrg(by, org_slug);
  if (!org) return Fail(org.error());
  auto decision = Require(by, *org, std::nullopt, "role.read");
  if (!decision) return Fail(decision.error());
  auto snapshot = access_.Snapshot(org->id);
  if (!snapshot) return Fail(snapshot.error());
  std::vector<RoleView> out;
  for (const auto& role : (*snapshot)->roles.roles()) out.push_back(ViewOf((*snapshot)->roles, role));
  return out;
}

Result<RoleView> ManageAccess::PutRole(const Principal& by, std::string_view org_slug,
                                       domain::Role role) {
  auto org = FindOrg(by, org_slug);
  if (!org) return Fail(org.error());
  auto entry = AccessEntry(by.Audit(), org->id.str(), "role.put", "role", role.id);
  auto decision = Require(by, *org, std::nullopt, "role.update");
  if (!decision) return Fail(RecordRefusal(trail_, entry, decision.error()));
  role.builtin = false;
  auto stored = store_.ListRoles(org->id);
  if (!stored) return Fail(stored.error());
  const auto now = clock_.Now();
  domain::CustomRole custom{org->id, role, now, now};
  bool replaced = false;
  for (auto& existing : *stored) {
    if (existing.role.id == role.id) {
      custom.created = existing.created;
      entry.diff = AuditChange(&existing.role, &role);
      existing = custom;
      replaced = true;
    }
  }
  if (!replaced) entry.diff = AuditChange<domain::Role>(nullptr, &role);
  if (!replaced) stored->push_back(custom);
  auto catalogue = domain::CatalogueOf(*stored);
  if (!catalogue) {
    // Point the field errors at the role being written, not at its place in the catalogue.
    domain::Error error = domain::Error::Make(ErrorCode::kInvalidArgument, "The role is not valid.");
    for (auto& field : catalogue.error().fields) {
      auto dot = field.field.find('.', std::string_view("roles.").size());
      error.fields.push_back({dot == std::string::npos ? "id" : field.field.substr(dot + 1),
                              field.code, field.message});
    }
    if (error.fields.empty()) error.message = catalogue.error().message;
    return Fail(std::move(error));
  }
  // Nobody defines a role holding more than they hold themselves (organisation-wide).
  if (auto holds = RequireGrantable(*decision, *catalogue, role.id); !holds) {
    return Fail(RecordRefusal(trail_, entry, holds.error()));
  }
  auto put = WritePlatform(trail_, entry, [&] { return store_.PutRole(custom); });
  if (!put) return Fail(put.error());
  access_.Invalidate(org->id);
  return ViewOf(*catalogue, *catalogue->Find(role.id));
}

Result<void> ManageAccess::DeleteRole(const Principal& by, std::string_view org_slug,
                                      std::string_view id) {
  auto org = FindOrg(by, org_slug);
  if (!org) return Fail(org.error());
  auto entry = AccessEntry(by.Audit(), org->id.str(), "role.delete", "role", std::string(id));
  auto decision = Require(by, *org, std::nullopt, "role.update");
  if (!decision) return Fail(RecordRefusal(trail_, entry, decision.error()));
  auto stored = store_.ListRoles(org->id);
  if (!stored) return Fail(stored.error());
  // A role that is not there (or built in): the delete says so, recorded without a diff.
  for (const auto& existing : *stored) {
    if (existing.role.id == id) entry.diff = AuditChange<domain::Role>(&existing.role, nullptr);
  }
  auto deleted =
      WritePlatform(trail_, entry, [&] { return store_.DeleteRole(org->id, std::string(id)); });
  access_.Invalidate(org->id);
  if (!deleted && deleted.error().code == ErrorCode::kNotFound) {
    return Fail(ErrorCode::kNotFound, "The role was not found.");
  }
  return deleted;
}

// Policies ----------------------------------------------------------------------------------

Result<std::vector<domain::StoredPolicy>> ManageAccess::ListPolicies(const Principal& by,
                                                                     std::string_view org_slug) {
  auto org = FindOrg(by, org_slug);
  if (!org) return Fail(org.error());
  auto decision = Require(by, *org, std::nullopt, "policy.read");
  if (!decision) return Fail(decision.error());
  return store_.ListPolicies(org->id);
}

Result<domain::StoredPolicy> ManageAccess::Grant(const Principal& by, std::string_view org_slug,
                                                 const RbacSubject& subject, std::string_view role,
                                                 std::optional<std::string_view> project_slug) {
  auto org = FindOrg(by, org_slug);
  if (!org) return Fail(org.error());
  const auto context = by.Audit();
  // A refusal names no policy: none was made.
  auto refusal = AccessEntry(context, org->id.str(), "policy.grant", "policy", "");
  auto decision = Require(by, *org, std::nullopt, "policy.update");
  if (!decision) return Fail(RecordRefusal(trail_, refusal, decision.error()));
  auto project = FindProject(*org, project_slug);
  if (!project) return Fail(project.error());
  std::optional<domain::Id> project_id;
  if (*project) project_id = (*project)->id;
  if (project_id) refusal.project_id = project_id->str();
  auto snapshot = access_.Snapshot(org->id);
  if (!snapshot) return Fail(snapshot.error());

  std::vector<domain::FieldError> errors;
  if (auto bad = RoleGrantError((*snapshot)->roles, role, project_id.has_value(), "a policy")) {
    errors.push_back(std::move(*bad));
  }
  switch (subject.kind) {
    case RbacSubject::Kind::kMember: {
      auto membership = store_.GetMembership(org->id, subject.id);
      if (!membership) {
        if (membership.error().code != ErrorCode::kNotFound) return Fail(membership.error());
        errors.push_back({"subject", "validation_invalid_value",
                          "The member does not belong to the organisation."});
      }
      break;
    }
    case RbacSubject::Kind::kTeam: {
      auto id = domain::Id::Parse(subject.id);
      auto team = id ? store_.GetTeam(org->id, *id)
                     : Result<domain::Team>(Fail(ErrorCode::kNotFound, ""));
      if (!team) {
        if (team.error().code != ErrorCode::kNotFound) return Fail(team.error());
        errors.push_back({"subject", "validation_invalid_value", "Unknown team."});
      }
      break;
    }
    case RbacSubject::Kind::kApiKey:
      // An API key's organisation is checked by the API key use case that binds its roles;
      // here the key must already hold a policy of this organisation (it was made in it).
      if (std::none_of((*snapshot)->policies.begin(), (*snapshot)->policies.end(),
                       [&](const domain::Policy& p) { return p.subject == subject; })) {
        errors.push_back({"subject", "validation_invalid_value", "Unknown API key."});
      }
      break;
  }
  if (!errors.empty()) return Fail(domain::Error::Fields(std::move(errors)));
  auto at_scope = access_.Decide(by, org->id, project_id);
  if (!at_scope) return Fail(at_scope.error());
  if (auto holds = RequireGrantable(*at_scope, (*snapshot)->roles, role); !holds) {
    return Fail(RecordRefusal(trail_, refusal, holds.error()));
  }
  std::optional<std::string> project_text;
  if (project_id) project_text = project_id->str();
  domain::StoredPolicy policy{
      domain::Policy{NewId(random_).str(), subject, std::string(role), org->id.str(), project_text},
      clock_.Now(), by.Actor()};
  auto changed = WritePlatform(
      trail_,
      AccessEntry(context, org->id.str(), "policy.grant", "policy", policy.policy.id,
                  AuditChange<domain::Policy>(nullptr, &policy.policy), project_text),
      [&] { return store_.ChangePolicies(org->id, PolicyChange{{}, {policy}}); });
  access_.Invalidate(org->id);
  if (!changed) {
    if (changed.error().code == ErrorCode::kAlreadyExists) {
      return Fail(domain::Error::Field("role", "validation_not_unique",
                          "The subject holds this role at this scope already."));
    }
    return Fail(changed.error());
  }
  return policy;
}

Result<void> ManageAccess::Revoke(const Principal& by, std::string_view org_slug,
                                  std::string_view policy_id) {
  auto org = FindOrg(by, org_slug);
  if (!org) return Fail(org.error());
  auto entry = AccessEntry(by.Audit(), org->id.str(), "policy.revoke", "policy",
                           std::string(policy_id));
  auto decision = Require(by, *org, std::nullopt, "policy.update");
  if (!decision) return Fail(RecordRefusal(trail_, entry, decision.error()));
  auto policies = store_.ListPolicies(org->id);
  if (!policies) return Fail(policies.error());
  auto found = std::find_if(policies->begin(), policies->end(),
                            [&](const auto& stored) { return stored.policy.id == policy_id; });
  if (found == policies->end()) return Fail(ErrorCode::kNotFound, "The policy was not found.");
  entry.project_id = found->policy.project.value_or("");
  if (domain::IsOwnerPolicy(found->policy) && !decision->Allows("organisation.transfer")) {
    return Fail(RecordRefusal(trail_, entry,
                              domain::Error::Make(ErrorCode::kPermissionDenied,
                                                  "Only an owner can remove an owner.")));
  }
  entry.diff = AuditChange<domain::Policy>(&found->policy, nullptr);
  auto changed = WritePlatform(trail_, entry, [&] {
    return store_.ChangePolicies(org->id, PolicyChange{{std::string(policy_id)}, {}});
  });
  access_.Invalidate(org->id);
  if (!changed && changed.error().code == ErrorCode::kFailedPrecondition) {
    return Fail(ErrorCode::kFailedPrecondition,
                "The organisation's last owner stays: transfer the ownership first.");
  }
  return changed;
}

Result<std::vector<PermissionExplanation>> ManageAccess::Explain(
    const Principal& by, std::string_view org_slug, std::optional<ExplainSubject> subject,
    std::optional<std::string_view> project_slug, const std::vector<std::string>& permissions) {
  auto org = FindOrg(by, org_slug);
  if (!org) return Fail(org.error());
  auto own = access_.Decide(by, org->id, std::nullopt);
  if (!own) return Fail(own.error());
  if (!by.authenticated()) {
    return Fail(ErrorCode::kUnauthenticated, "The request requires valid authorization.");
  }
  if (!own->HasStanding()) {
    auto belongs = access_.Belongs(by, org->id);
    if (!belongs) return Fail(belongs.error());
    if (!*belongs) return Fail(ErrorCode::kNotFound, std::string(kOrgNotFound));
  }
  auto project = FindProject(*org, project_slug);
  if (!project) return Fail(project.error());
  std::optional<domain::Id> project_id;
  if (*project) project_id = (*project)->id;

  Principal whom = by;
  if (subject) {
    const bool self = (subject->kind == RbacSubject::Kind::kMember &&
                       by.kind == Principal::Kind::kMember && subject->id == by.id) ||
                      (subject->kind == RbacSubject::Kind::kApiKey &&
                       by.kind == Principal::Kind::kApiKey && subject->id == by.id);
    if (!self) {
      if (!own->Allows("policy.read")) {
        return Fail(ErrorCode::kPermissionDenied,
                    "You are not allowed to perform this request (" + own->Explain("policy.read") +
                        ").");
      }
      whom = Principal{};
      whom.id = subject->id;
      switch (subject->kind) {
        case RbacSubject::Kind::kMember: whom.kind = Principal::Kind::kMember; break;
        case RbacSubject::Kind::kApiKey:
          whom.kind = Principal::Kind::kApiKey;
          whom.org_id = org->id.str();
          break;
        case RbacSubject::Kind::kTeam: break;
      }
    }
  }
  for (const auto& permission : permissions) {
    if (!domain::IsKnownPermission(permission)) {
      return Fail(domain::Error::Field("permission", "validation_invalid_value",
                          "Unknown permission: " + permission + "."));
    }
  }
  AccessDecision decision;
  if (subject && subject->kind == RbacSubject::Kind::kTeam) {
    // A team is explained as the sum of its own policies.
    auto snapshot = access_.Snapshot(org->id);
    if (!snapshot) return Fail(snapshot.error());
    std::optional<std::string_view> project_view;
    if (project_id) project_view = project_id->str();
    decision = AccessDecision(*snapshot,
                              domain::Evaluate((*snapshot)->roles, (*snapshot)->policies,
                                               {{RbacSubject::Kind::kTeam, subject->id}},
                                               org->id.str(), project_view),
                              false, "");
  } else {
    auto decided = access_.Decide(whom, org->id, project_id);
    if (!decided) return Fail(decided.error());
    decision = std::move(*decided);
  }
  std::vector<std::string> asked = permissions;
  if (asked.empty()) {
    for (auto known : domain::KnownPermissions()) asked.emplace_back(known);
  }
  std::vector<PermissionExplanation> out;
  // Explanations name what people know: members by e-mail, teams by name, projects and the
  // organisation by slug (ids stay in the structured policy).
  std::map<std::string, std::string> names;
  auto name_of = [&](const domain::RbacSubject& who) -> std::string {
    const std::string key = std::to_string(static_cast<int>(who.kind)) + ":" + who.id;
    if (auto found = names.find(key); found != names.end()) return found->second;
    std::string name;
    switch (who.kind) {
      case RbacSubject::Kind::kMember: {
        auto membership = store_.GetMembership(org->id, who.id);
        name = "member " + (membership ? membership->email : who.id);
        break;
      }
      case RbacSubject::Kind::kTeam: {
        auto id = domain::Id::Parse(who.id);
        auto team = id ? store_.GetTeam(org->id, *id)
                       : Result<domain::Team>(Fail(ErrorCode::kNotFound, ""));
        name = "team " + (team ? team->name : who.id);
        break;
      }
      case RbacSubject::Kind::kApiKey: name = "API key " + who.id; break;
    }
    names.emplace(key, name);
    return name;
  };
  auto project_name = [&](const std::string& id) -> std::string {
    auto parsed = domain::Id::Parse(id);
    if (!parsed) return id;
    auto named = catalogue_.GetProjectById(*parsed);
    return named ? named->slug.str() : id;
  };
  for (const auto& permission : asked) {
    PermissionExplanation item{permission, decision.Allows(permission),
                               decision.Explain(permission), std::nullopt, {}};
    if (const auto* grant = decision.GrantFor(permission); grant && grant->policy) {
      item.policy = *grant->policy;
      item.via = grant->roles;
      const domain::Policy& policy = *grant->policy;
      item.explanation = "allowed because " + name_of(policy.subject) + " has role " +
                         policy.role +
                         (policy.project ? " on project " + project_name(*policy.project)
                                         : " on organisation " + org->slug.str());
      if (grant->roles.size() > 1) item.explanation += ", inherited from " + grant->roles.back();
    }
    out.push_back(std::move(item));
  }
  return out;
}

// Feature flags -----------------------------------------------------------------------------

Result<std::vector<domain::FeatureFlag>> ManageAccess::CachedFlags(const std::string& org_id) {
  const auto now = clock_.Now();
  const auto ttl = std::chrono::duration_cast<std::chrono::microseconds>(options_.flags_ttl).count();
  {
    std::lock_guard lock(flags_mutex_);
    auto found = flags_cache_.find(org_id);
    if (found != flags_cache_.end() && now.unix_micros() >= found->second.loaded.unix_micros() &&
        now.unix_micros() - found->second.loaded.unix_micros() < ttl) {
      return found->second.flags;
    }
  }
  auto flags = store_.ListFlags(org_id);
  if (!flags) return Fail(flags.error());
  std::lock_guard lock(flags_mutex_);
  flags_cache_[org_id] = CachedFlagList{*flags, now};
  return *flags;
}

Result<std::optional<domain::FeatureFlag>> ManageAccess::FindFlag(const std::string& org_id,
                                                                 std::string_view key,
                                                                 domain::FlagLevel level,
                                                                 std::string_view subject) {
  // Read from the store, not the cache: the event must show what the change replaces.
  auto flags = store_.ListFlags(org_id);
  if (!flags) return Fail(flags.error());
  for (auto& flag : *flags) {
    if (flag.org_id == org_id && flag.key == key && flag.level == level &&
        flag.subject == subject) {
      return std::optional<domain::FeatureFlag>(std::move(flag));
    }
  }
  return std::optional<domain::FeatureFlag>{};
}

Result<domain::FeatureFlag> ManageAccess::PutFlag(const Principal& by, std::string_view org_slug,
                                                  domain::FeatureFlag flag) {
  flag.updated = clock_.Now();
  flag.updated_by = by.Actor();
  const auto context = by.Audit();
  if (org_slug.empty()) {
    if (!by.authenticated()) {
      return Fail(ErrorCode::kUnauthenticated, "The request requires valid authorization.");
    }
    if (by.kind != Principal::Kind::kSuperuser) {
      return Fail(RecordRefusal(trail_, AccessEntry(context, "", "flag.put", "flag", flag.key),
                                domain::Error::Make(ErrorCode::kPermissionDenied,
                                                    "Only a superuser sets global flags.")));
    }
    flag.org_id.clear();
    if (flag.level != domain::FlagLevel::kGlobal) {
      return Fail(domain::Error::Field("level", "validation_invalid_value",
                          "Outside an organisation, only global flags can be set."));
    }
  } else {
    auto org = FindOrg(by, org_slug);
    if (!org) return Fail(org.error());
    auto decision = Require(by, *org, std::nullopt, "flag.update");
    if (!decision) {
      return Fail(RecordRefusal(trail_, AccessEntry(context, org->id.str(), "flag.put", "flag", flag.key),
                                decision.error()));
    }
    flag.org_id = org->id.str();
    if (flag.level == domain::FlagLevel::kGlobal) {
      return Fail(domain::Error::Field("level", "validation_invalid_value",
                          "A global flag is set outside any organisation."));
    }
    if (flag.level == domain::FlagLevel::kRole) {
      auto snapshot = access_.Snapshot(org->id);
      if (!snapshot) return Fail(snapshot.error());
      if ((*snapshot)->roles.Find(flag.subject) == nullptr) {
        return Fail(domain::Error::Field("subject", "validation_invalid_value", "Unknown role."));
      }
    } else if (flag.level == domain::FlagLevel::kUser) {
      auto membership = store_.GetMembership(org->id, flag.subject);
      if (!membership) {
        if (membership.error().code != ErrorCode::kNotFound) return Fail(membership.error());
        return Fail(domain::Error::Field("subject", "validation_invalid_value",
                            "The member does not belong to the organisation."));
      }
    }
  }
  if (auto valid = domain::CheckFlag(flag); !valid) return Fail(valid.error());
  auto before = FindFlag(flag.org_id, flag.key, flag.level, flag.subject);
  if (!before) return Fail(before.error());
  auto put = WritePlatform(trail_,
                           AccessEntry(context, flag.org_id, "flag.put", "flag", flag.key,
                                       AuditChange(before->has_value() ? &**before : nullptr, &flag)),
                           [&] { return store_.PutFlag(flag); });
  if (!put) return Fail(put.error());
  std::lock_guard lock(flags_mutex_);
  // A global flag shows in every organisation's list.
  if (flag.org_id.empty()) {
    flags_cache_.clear();
  } else {
    flags_cache_.erase(flag.org_id);
  }
  return flag;
}

Result<void> ManageAccess::DeleteFlag(const Principal& by, std::string_view org_slug,
                                      std::string_view key, domain::FlagLevel level,
                                      std::string_view subject) {
  std::string org_id;
  const auto context = by.Audit();
  if (org_slug.empty()) {
    if (!by.authenticated()) {
      return Fail(ErrorCode::kUnauthenticated, "The request requires valid authorization.");
    }
    if (by.kind != Principal::Kind::kSuperuser) {
      return Fail(RecordRefusal(trail_, AccessEntry(context, "", "flag.delete", "flag", std::string(key)),
                                domain::Error::Make(ErrorCode::kPermissionDenied,
                                                    "Only a superuser deletes global flags.")));
    }
  } else {
    auto org = FindOrg(by, org_slug);
    if (!org) return Fail(org.error());
    auto decision = Require(by, *org, std::nullopt, "flag.update");
    if (!decision) {
      return Fail(RecordRefusal(trail_,
                                AccessEntry(context, org->id.str(), "flag.delete", "flag", std::string(key)),
                                decision.error()));
    }
    org_id = org->id.str();
    if (level == domain::FlagLevel::kGlobal) {
      return Fail(ErrorCode::kNotFound, "The flag was not found.");
    }
  }
  auto before = FindFlag(org_id, key, level, subject);
  if (!before) return Fail(before.error());
  // A flag that is not set: the delete says so, and the attempt is recorded without a diff.
  auto entry = AccessEntry(context, org_id, "flag.delete", "flag", std::string(key));
  if (*before) entry.diff = AuditChange<domain::FeatureFlag>(&**before, nullptr);
  auto deleted = WritePlatform(trail_, entry, [&] {
    return store_.DeleteFlag(org_id, std::string(key), level, std::string(subject));
  });
  std::lock_guard lock(flags_mutex_);
  if (org_id.empty()) {
    flags_cache_.clear();
  } else {
    flags_cache_.erase(org_id);
  }
  return deleted;
}

Result<std::vector<domain::FeatureFlag>> ManageAccess::ListFlags(const Principal& by,
                                                                 std::string_view org_slug) {
  if (!by.authenticated()) {
    return Fail(ErrorCode::kUnauthenticated, "The request requires valid authorization.");
  }
  if (org_slug.empty()) return CachedFlags("");
  auto org = FindOrg(by, org_slug);
  if (!org) return Fail(org.error());
  auto decision = Require(by, *org, std::nullopt, "flag.read");
  if (!decision) return Fail(decision.error());
  return CachedFlags(org->id.str());
}

Result<std::vector<domain::FlagEvaluation>> ManageAccess::EvaluateFlags(
    const Principal& by, std::string_view org_slug, std::string_view key,
    std::optional<std::string_view> member_id) {
  if (!by.authenticated()) {
    return Fail(ErrorCode::kUnauthenticated, "The request requires valid authorization.");
  }
  domain::FlagContext context;
  auto catalogue = domain::CatalogueOf({});
  if (!catalogue) return Fail(domain::Error::Internal("the built-in roles do not form a catalogue"));
  std::shared_ptr<const AccessSnapshot> snapshot;
  if (!org_slug.empty()) {
    auto org = FindOrg(by, org_slug);
    if (!org) return Fail(org.error());
    auto own = access_.Decide(by, org->id, std::nullopt);
    if (!own) return Fail(own.error());
    if (!own->HasStanding()) {
    auto belongs = access_.Belongs(by, org->id);
    if (!belongs) return Fail(belongs.error());
    if (!*belongs) return Fail(ErrorCode::kNotFound, std::string(kOrgNotFound));
  }
    Principal whom = by;
    if (member_id && !(by.kind == Principal::Kind::kMember && by.id == *member_id)) {
      if (!own->Allows("flag.read")) {
        return Fail(ErrorCode::kPermissionDenied,
                    "You are not allowed to perform this request (" + own->Explain("flag.read") +
                        ").");
      }
      whom = Principal{};
      whom.kind = Principal::Kind::kMember;
      whom.id = std::string(*member_id);
    }
    auto roles = access_.RolesAt(whom, org->id, std::nullopt);
    if (!roles) return Fail(roles.error());
    auto loaded = access_.Snapshot(org->id);
    if (!loaded) return Fail(loaded.error());
    snapshot = std::move(*loaded);
    context.org_id = org->id.str();
    context.roles = std::move(*roles);
    if (whom.kind == Principal::Kind::kMember) context.member_id = whom.id;
  }
  auto flags = CachedFlags(context.org_id);
  if (!flags) return Fail(flags.error());
  const domain::RoleCatalogue& roles = snapshot ? snapshot->roles : *catalogue;
  if (!key.empty()) return std::vector<domain::FlagEvaluation>{domain::EvaluateFlag(*flags, key, context, roles)};
  return domain::EvaluateFlags(*flags, context, roles);
}

}  // namespace socle::application
