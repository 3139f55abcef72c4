#include "access_commands.hpp"

#include <map>
#include <string_view>
#include <utility>

#include "report_error.hpp"
#include "socle/adapters/json/json_parser.hpp"
#include "socle/domain/id.hpp"
#include "socle/domain/json_value.hpp"
#include "text_table.hpp"

namespace socle::adapters::cli {
namespace {

using domain::ErrorCode;
using domain::RbacSubject;

// Who the CLI acts as. A superuser: the operator at a terminal runs the platform, and only the
// use cases' own rules (no owner by policy, the last owner stays ...) may refuse them.
constexpr std::string_view kOperatorId = "cli";
constexpr std::string_view kOperatorEmail = "operator";

std::string Joined(const std::vector<std::string>& items, std::string_view separator = ", ") {
  std::string out;
  for (const auto& item : items) out += (out.empty() ? "" : std::string(separator)) + item;
  return out.empty() ? "-" : out;
}

std::string When(const std::optional<domain::Timestamp>& at) {
  return at ? at->ToApiString() : std::string("-");
}

std::optional<std::string_view> Optional(const std::optional<std::string>& text) {
  if (!text) return std::nullopt;
  return std::string_view(*text);
}

// Where a policy or an invitation applies, for text output: "organisation" or "project web".
std::string ScopeText(const std::optional<std::string>& project, const ProjectNames& names) {
  auto shown = ProjectShown(project, names);
  return shown ? "project " + *shown : std::string("organisation");
}

std::string SubjectText(const RbacSubject& subject) {
  return std::string(SubjectKindName(subject.kind)) + ":" + subject.id;
}

// The subject --member, --team or --apikey names (the parser lets exactly one through for the
// commands that need one).
std::optional<RbacSubject> SubjectOf(const Command& command) {
  if (command.member) return RbacSubject{RbacSubject::Kind::kMember, *command.member};
  if (command.team) return RbacSubject{RbacSubject::Kind::kTeam, *command.team};
  if (command.api_key) return RbacSubject{RbacSubject::Kind::kApiKey, *command.api_key};
  return std::nullopt;
}

// A flag's VALUE argument: JSON when it reads as a boolean, a number or a string ("\"1.0\""
// keeps a version a string), else the text itself, so that `flag set k beta` needs no quotes.
domain::JsonValue FlagValueOf(const std::string& text) {
  json::JsonLimits limits;
  limits.max_depth = 1;
  auto parsed = json::ParseJson(text, limits);
  if (parsed && (parsed->type() == domain::JsonValue::Type::kBool ||
                 parsed->type() == domain::JsonValue::Type::kNumber ||
                 parsed->type() == domain::JsonValue::Type::kString)) {
    return std::move(*parsed);
  }
  return domain::JsonValue::String(text);
}

// A flag's level: --level, else organisation in an organisation and global outside one.
domain::Result<domain::FlagLevel> LevelOf(const Command& command, const std::string& org) {
  if (!command.level) {
    return org.empty() ? domain::FlagLevel::kGlobal : domain::FlagLevel::kOrganisation;
  }
  return domain::ParseFlagLevel(*command.level);
}

// Replaces the first `from` in `text` with `to`.
void ReplaceFirst(std::string& text, const std::string& from, const std::string& to) {
  if (auto at = text.find(from); at != std::string::npos) text.replace(at, from.size(), to);
}

// An explanation as a person reads it: without its verdict, which has a column of its own
// ("allowed because member m1 has role ..." → "member m1 has role ..."), and with the
// organisation and project its policy names shown by slug rather than by id.
std::string Reason(const application::PermissionExplanation& item, const std::string& org_slug,
                   const ProjectNames& names) {
  std::string reason = item.explanation;
  for (std::string_view verdict : {std::string_view("allowed because "),
                                   std::string_view("denied: ")}) {
    if (reason.starts_with(verdict)) {
      reason.erase(0, verdict.size());
      break;
    }
  }
  if (item.policy) {
    ReplaceFirst(reason, " on organisation " + item.policy->organisation,
                 " on organisation " + org_slug);
    if (auto project = ProjectShown(item.policy->project, names)) {
      ReplaceFirst(reason, " on project " + *item.policy->project, " on project " + *project);
    }
  }
  return reason;
}

std::string OrNone(const std::string& text) { return text.empty() ? "-" : text; }

}  // namespace

AccessCommands::AccessCommands(std::ostream& out, std::ostream& err,
                               application::CatalogueStore& store, AccessServices& services,
                               application::AuditOrigin origin)
    : out_(out),
      err_(err),
      store_(store),
      services_(services),
      operator_(Operator(std::move(origin))) {}

application::Principal AccessCommands::Operator(application::AuditOrigin origin) {
  application::Principal principal;
  principal.origin = std::move(origin);
  principal.kind = application::Principal::Kind::kSuperuser;
  principal.id = std::string(kOperatorId);
  principal.email = std::string(kOperatorEmail);
  return principal;
}

int AccessCommands::Fail(const domain::Error& error) { return ReportError(err_, error); }

int AccessCommands::Run(const Command& command) {
  switch (command.verb) {
    case Verb::kOrgOwner:
      return OrgOwner(command);
    case Verb::kOrgTransfer:
      return OrgTransfer(command);
    case Verb::kOrgExplain:
      return OrgExplain(command);
    case Verb::kMemberList:
      return MemberList(command);
    case Verb::kMemberRemove:
      return MemberRemove(command);
    case Verb::kMemberInvite:
      return MemberInvite(command);
    case Verb::kMemberInvitations:
      return MemberInvitations(command);
    case Verb::kMemberRevokeInvitation:
      return MemberRevokeInvitation(command);
    case Verb::kTeamList:
      return TeamList(command);
    case Verb::kTeamCreate:
      return TeamCreate(command);
    case Verb::kTeamShow:
      return TeamShow(command);
    case Verb::kTeamRename:
      return TeamRename(command);
    case Verb::kTeamDelete:
      return TeamDelete(command);
    case Verb::kTeamAdd:
    case Verb::kTeamRemove:
      return TeamMembership(command);
    case Verb::kRoleList:
      return RoleList(command);
    case Verb::kRolePut:
      return RolePut(command);
    case Verb::kRoleDelete:
      return RoleDelete(command);
    case Verb::kPolicyList:
      return PolicyList(command);
    case Verb::kPolicyGrant:
      return PolicyGrant(command);
    case Verb::kPolicyRevoke:
      return PolicyRevoke(command);
    case Verb::kFlagList:
      return FlagList(command);
    case Verb::kFlagSet:
      return FlagSet(command);
    case Verb::kFlagDelete:
      return FlagDelete(command);
    case Verb::kFlagEval:
      return FlagEval(command);
    case Verb::kOrgKeyCreate:
      return OrgKeyCreate(command);
    case Verb::kOrgKeyList:
      return OrgKeyList(command);
    case Verb::kOrgKeyRevoke:
      return OrgKeyRevoke(command);
    default:
      break;
  }
  return Fail(domain::Error::Internal("not an access command"));
}

domain::Result<ProjectNames> AccessCommands::NamesOf(
    const std::vector<std::optional<std::string>>& ids) {
  ProjectNames names;
  for (const auto& id : ids) {
    if (!id || names.contains(*id)) continue;
    auto parsed = domain::Id::Parse(*id);
    if (!parsed) continue;
    auto project = store_.GetProjectById(*parsed);
    if (!project) {
      if (project.error().code == ErrorCode::kNotFound) continue;
      return domain::Fail(std::move(project.error()));
    }
    names.emplace(*id, project->slug.str());
  }
  return names;
}

int AccessCommands::Done(const Command& command,
                         const std::vector<std::pair<std::string, std::string>>& members,
                         const std::string& flag_name, const std::string& text) {
  if (command.json) {
    out_ << AcknowledgementJson(members, flag_name) << "\n";
  } else {
    out_ << text << "\n";
  }
  return kExitOk;
}

// Organisations -----------------------------------------------------------------------------

int AccessCommands::OrgOwner(const Command& command) {
  const std::string& org_slug = command.arguments[0];
  const std::string& email = command.arguments[1];
  auto org = services_.catalogue.GetOrganisation(operator_, org_slug);
  if (!org) return Fail(org.error());
  auto member = services_.members.FindMember(email);
  if (!member) return Fail(member.error());
  if (!*member) {
    return Fail(domain::Error::Make(ErrorCode::kNotFound,
                                    "No member has the e-mail " + email +
                                        ": create them first with socle member upsert."));
  }
  const application::MemberInfo& found = **member;
  auto owned = services_.catalogue.AddOwner(*org, found, operator_.Actor(), operator_.Audit());
  if (!owned) return Fail(owned.error());
  return Done(command, {{"org", org->slug.str()}, {"memberId", found.id}, {"email", found.email}},
              "owner",
              "Member " + found.email + " (" + found.id + ") is an owner of organisation " +
                  org->slug.str() + ".");
}

int AccessCommands::OrgTransfer(const Command& command) {
  const std::string& org = command.arguments[0];
  const std::string& member_id = command.arguments[1];
  auto transferred = services_.access.TransferOwnership(operator_, org, member_id);
  if (!transferred) return Fail(transferred.error());
  return Done(command, {{"org", org}, {"memberId", member_id}}, "owner",
              "Member " + member_id + " is an owner of organisation " + org + ".");
}

int AccessCommands::OrgExplain(const Command& command) {
  auto subject = SubjectOf(command);
  if (!subject) return Fail(domain::Error::Internal("org explain without a subject"));
  auto explained =
      services_.access.Explain(operator_, command.arguments[0],
                               application::ExplainSubject{subject->kind, subject->id},
                               Optional(command.project), command.permissions);
  if (!explained) return Fail(explained.error());
  std::vector<std::optional<std::string>> ids;
  for (const auto& item : *explained) {
    if (item.policy) ids.push_back(item.policy->project);
  }
  auto names = NamesOf(ids);
  if (!names) return Fail(names.error());
  if (command.json) {
    out_ << ExplanationListJson(*explained, *names) << "\n";
    return kExitOk;
  }
  TextTable table({"PERMISSION", "DECISION", "WHY"});
  for (const auto& item : *explained) {
    table.AddRow({item.permission, item.allowed ? "allowed" : "denied",
                  Reason(item, command.arguments[0], *names)});
  }
  table.Print(out_);
  return kExitOk;
}

// Members and invitations -------------------------------------------------------------------

int AccessCommands::MemberList(const Command& command) {
  const std::string& org = command.arguments[0];
  auto page = services_.access.ListMembers(operator_, org,
                                           domain::PageRequest{command.page, command.per_page});
  if (!page) return Fail(page.error());
  if (command.json) {
    out_ << MemberPageJson(*page) << "\n";
    return kExitOk;
  }
  if (page->total_items == 0) {
    out_ << "No members.\n";
    return kExitOk;
  }
  // Teams by name: their ids mean nothing to a person.
  auto teams = services_.access.ListTeams(operator_, org);
  if (!teams) return Fail(teams.error());
  std::map<std::string, std::string> team_names;
  for (const auto& team : *teams) team_names.emplace(team.id.str(), team.name);
  TextTable table({"MEMBER ID", "EMAIL", "ROLES", "TEAMS", "JOINED"});
  for (const auto& view : page->items) {
    std::vector<std::string> in;
    for (const auto& id : view.teams) {
      auto found = team_names.find(id);
      in.push_back(found == team_names.end() ? id : found->second);
    }
    table.AddRow({view.membership.member_id, view.membership.email, Joined(view.roles),
                  Joined(in), view.membership.created.ToApiString()});
  }
  table.Print(out_);
  NoteMorePages(err_, *page, "member");
  return kExitOk;
}

int AccessCommands::MemberRemove(const Command& command) {
  const std::string& org = command.arguments[0];
  const std::string& member_id = command.arguments[1];
  auto removed = services_.access.RemoveMember(operator_, org, member_id);
  if (!removed) return Fail(removed.error());
  return Done(command, {{"org", org}, {"memberId", member_id}}, "removed",
              "Removed member " + member_id + " from organisation " + org + ".");
}

int AccessCommands::MemberInvite(const Command& command) {
  const std::string& org = command.arguments[0];
  auto made = services_.access.Invite(operator_, org, command.arguments[1], command.arguments[2],
                                      Optional(command.project));
  if (!made) return Fail(made.error());
  auto names = NamesOf({made->invitation.project});
  if (!names) return Fail(names.error());
  const domain::Invitation& invitation = made->invitation;
  if (command.json) {
    out_ << InvitationJson(invitation, *names, &made->token) << "\n";
    return kExitOk;
  }
  PrintFields(out_, {{"id", invitation.id.str()},
                     {"email", invitation.email},
                     {"role", invitation.role},
                     {"on", ScopeText(invitation.project, *names)},
                     {"expires", invitation.expires.ToApiString()},
                     {"token", made->token}});
  err_ << "Invited " << invitation.email << " to organisation " << org
       << ". The token above is shown only now and is not mailed: pass it to the invitee, who "
          "accepts with it (POST /api/v1/invitations/accept).\n";
  return kExitOk;
}

int AccessCommands::MemberInvitations(const Command& command) {
  auto page = services_.access.ListInvitations(
      operator_, command.arguments[0], domain::PageRequest{command.page, command.per_page});
  if (!page) return Fail(page.error());
  std::vector<std::optional<std::string>> ids;
  for (const auto& invitation : page->items) ids.push_back(invitation.project);
  auto names = NamesOf(ids);
  if (!names) return Fail(names.error());
  if (command.json) {
    out_ << InvitationPageJson(*page, *names) << "\n";
    return kExitOk;
  }
  if (page->total_items == 0) {
    out_ << "No invitations.\n";
    return kExitOk;
  }
  TextTable table({"ID", "EMAIL", "ROLE", "ON", "STATE", "EXPIRES"});
  for (const auto& invitation : page->items) {
    table.AddRow({invitation.id.str(), invitation.email, invitation.role,
                  ScopeText(invitation.project, *names),
                  std::string(domain::ToString(invitation.state)),
                  invitation.expires.ToApiString()});
  }
  table.Print(out_);
  NoteMorePages(err_, *page, "invitation");
  return kExitOk;
}

int AccessCommands::MemberRevokeInvitation(const Command& command) {
  const std::string& id = command.arguments[1];
  auto revoked = services_.access.RevokeInvitation(operator_, command.arguments[0], id);
  if (!revoked) return Fail(revoked.error());
  return Done(command, {{"id", id}}, "revoked", "Revoked invitation " + id + ".");
}

// Teams -------------------------------------------------------------------------------------

int AccessCommands::ShowTeam(const Command& command, const domain::Team& team) {
  if (command.json) {
    out_ << TeamJson(team) << "\n";
    return kExitOk;
  }
  PrintFields(out_, {{"id", team.id.str()},
                     {"name", team.name},
                     {"description", OrNone(team.description)},
                     {"created", team.created.ToApiString()},
                     {"updated", team.updated.ToApiString()}});
  return kExitOk;
}

int AccessCommands::TeamList(const Command& command) {
  auto teams = services_.access.ListTeams(operator_, command.arguments[0]);
  if (!teams) return Fail(teams.error());
  if (command.json) {
    out_ << TeamListJson(*teams) << "\n";
    return kExitOk;
  }
  if (teams->empty()) {
    out_ << "No teams.\n";
    return kExitOk;
  }
  TextTable table({"ID", "NAME", "DESCRIPTION", "CREATED"});
  for (const auto& team : *teams) {
    table.AddRow({team.id.str(), team.name, team.description, team.created.ToApiString()});
  }
  table.Print(out_);
  return kExitOk;
}

int AccessCommands::TeamCreate(const Command& command) {
  auto team = services_.access.CreateTeam(operator_, command.arguments[0], command.arguments[1],
                                          command.description.value_or(""));
  if (!team) return Fail(team.error());
  return ShowTeam(command, *team);
}

int AccessCommands::TeamShow(const Command& command) {
  auto view = services_.access.GetTeam(operator_, command.arguments[0], command.arguments[1]);
  if (!view) return Fail(view.error());
  if (command.json) {
    out_ << TeamJson(view->team, &view->members) << "\n";
    return kExitOk;
  }
  ShowTeam(command, view->team);
  if (view->members.empty()) {
    out_ << "\nNo members.\n";
    return kExitOk;
  }
  out_ << "\nMembers:\n";
  TextTable table({"MEMBER ID", "EMAIL", "JOINED"});
  for (const auto& membership : view->members) {
    table.AddRow({membership.member_id, membership.email, membership.created.ToApiString()});
  }
  table.Print(out_);
  return kExitOk;
}

int AccessCommands::TeamRename(const Command& command) {
  auto team = services_.access.UpdateTeam(operator_, command.arguments[0], command.arguments[1],
                                          command.arguments[2], Optional(command.description));
  if (!team) return Fail(team.error());
  return ShowTeam(command, *team);
}

int AccessCommands::TeamDelete(const Command& command) {
  const std::string& id = command.arguments[1];
  auto deleted = services_.access.DeleteTeam(operator_, command.arguments[0], id);
  if (!deleted) return Fail(deleted.error());
  return Done(command, {{"id", id}}, "deleted", "Deleted team " + id + ".");
}

int AccessCommands::TeamMembership(const Command& command) {
  const std::string& org = command.arguments[0];
  const std::string& team = command.arguments[1];
  const std::string& member_id = command.arguments[2];
  if (command.verb == Verb::kTeamAdd) {
    auto added = services_.access.AddTeamMember(operator_, org, team, member_id);
    if (!added) return Fail(added.error());
    return Done(command, {{"teamId", team}, {"memberId", member_id}}, "added",
                "Added member " + member_id + " to team " + team + ".");
  }
  auto removed = services_.access.RemoveTeamMember(operator_, org, team, member_id);
  if (!removed) return Fail(removed.error());
  return Done(command, {{"teamId", team}, {"memberId", member_id}}, "removed",
              "Removed member " + member_id + " from team " + team + ".");
}

// Roles -------------------------------------------------------------------------------------

int AccessCommands::RoleList(const Command& command) {
  auto roles = services_.access.ListRoles(operator_, command.arguments[0]);
  if (!roles) return Fail(roles.error());
  if (command.json) {
    out_ << RoleListJson(*roles) << "\n";
    return kExitOk;
  }
  TextTable table({"ID", "SCOPE", "BUILTIN", "PARENTS", "PERMISSIONS"});
  for (const auto& view : *roles) {
    table.AddRow({view.role.id, std::string(domain::ToString(view.role.scope)),
                  view.role.builtin ? "yes" : "no", Joined(view.role.parents),
                  std::to_string(view.effective.size())});
  }
  table.Print(out_);
  return kExitOk;
}

int AccessCommands::RolePut(const Command& command) {
  domain::Role role;
  role.id = command.arguments[1];
  role.name = command.name.value_or(role.id);
  role.scope = command.role_scope == "project" ? domain::RbacScope::kProject
                                               : domain::RbacScope::kOrganisation;
  role.parents = command.parents;
  role.permissions = command.permissions;
  auto put = services_.access.PutRole(operator_, command.arguments[0], std::move(role));
  if (!put) return Fail(put.error());
  if (command.json) {
    out_ << RoleJson(*put) << "\n";
    return kExitOk;
  }
  PrintFields(out_, {{"id", put->role.id},
                     {"name", put->role.name},
                     {"scope", std::string(domain::ToString(put->role.scope))},
                     {"parents", Joined(put->role.parents)},
                     {"permissions", Joined(put->role.permissions)},
                     {"effective", Joined(put->effective)}});
  return kExitOk;
}

int AccessCommands::RoleDelete(const Command& command) {
  const std::string& id = command.arguments[1];
  auto deleted = services_.access.DeleteRole(operator_, command.arguments[0], id);
  if (!deleted) return Fail(deleted.error());
  return Done(command, {{"id", id}}, "deleted", "Deleted role " + id + ".");
}

// Policies ----------------------------------------------------------------------------------

int AccessCommands::PolicyList(const Command& command) {
  auto policies = services_.access.ListPolicies(operator_, command.arguments[0]);
  if (!policies) return Fail(policies.error());
  std::vector<std::optional<std::string>> ids;
  for (const auto& stored : *policies) ids.push_back(stored.policy.project);
  auto names = NamesOf(ids);
  if (!names) return Fail(names.error());
  if (command.json) {
    out_ << PolicyListJson(*policies, *names) << "\n";
    return kExitOk;
  }
  if (policies->empty()) {
    out_ << "No policies.\n";
    return kExitOk;
  }
  TextTable table({"ID", "SUBJECT", "ROLE", "ON", "CREATED", "BY"});
  for (const auto& stored : *policies) {
    const domain::Policy& policy = stored.policy;
    table.AddRow({policy.id, SubjectText(policy.subject), policy.role,
                  ScopeText(policy.project, *names), stored.created.ToApiString(),
                  stored.created_by});
  }
  table.Print(out_);
  return kExitOk;
}

int AccessCommands::PolicyGrant(const Command& command) {
  auto subject = SubjectOf(command);
  if (!subject) return Fail(domain::Error::Internal("policy grant without a subject"));
  auto granted = services_.access.Grant(operator_, command.arguments[0], *subject,
                                        command.arguments[1], Optional(command.project));
  if (!granted) return Fail(granted.error());
  auto names = NamesOf({granted->policy.project});
  if (!names) return Fail(names.error());
  if (command.json) {
    out_ << PolicyJson(*granted, *names) << "\n";
    return kExitOk;
  }
  PrintFields(out_, {{"id", granted->policy.id},
                     {"subject", SubjectText(granted->policy.subject)},
                     {"role", granted->policy.role},
                     {"on", ScopeText(granted->policy.project, *names)},
                     {"created", granted->created.ToApiString()},
                     {"by", granted->created_by}});
  return kExitOk;
}

int AccessCommands::PolicyRevoke(const Command& command) {
  const std::string& id = command.arguments[1];
  auto revoked = services_.access.Revoke(operator_, command.arguments[0], id);
  if (!revoked) return Fail(revoked.error());
  return Done(command, {{"id", id}}, "revoked", "Revoked policy " + id + ".");
}

// Feature flags -----------------------------------------------------------------------------

int AccessCommands::FlagList(const Command& command) {
  auto flags = services_.access.ListFlags(operator_, command.arguments[0]);
  if (!flags) return Fail(flags.error());
  if (command.json) {
    out_ << FlagListJson(*flags) << "\n";
    return kExitOk;
  }
  if (flags->empty()) {
    out_ << "No flags.\n";
    return kExitOk;
  }
  TextTable table({"KEY", "LEVEL", "SUBJECT", "VALUE", "UPDATED", "BY", "DESCRIPTION"});
  for (const auto& flag : *flags) {
    table.AddRow({flag.key, std::string(domain::ToString(flag.level)),
                  flag.subject.empty() ? "-" : flag.subject, FlagValueText(flag.value),
                  flag.updated.ToApiString(), flag.updated_by, flag.description});
  }
  table.Print(out_);
  return kExitOk;
}

int AccessCommands::FlagSet(const Command& command) {
  const std::string& org = command.arguments[0];
  auto level = LevelOf(command, org);
  if (!level) return Fail(level.error());
  domain::FeatureFlag flag;
  flag.key = command.arguments[1];
  flag.level = *level;
  flag.subject = command.subject.value_or("");
  flag.value = FlagValueOf(command.arguments[2]);
  flag.description = command.description.value_or("");
  auto put = services_.access.PutFlag(operator_, org, std::move(flag));
  if (!put) return Fail(put.error());
  if (command.json) {
    out_ << FlagJson(*put) << "\n";
    return kExitOk;
  }
  PrintFields(out_, {{"key", put->key},
                     {"level", std::string(domain::ToString(put->level))},
                     {"subject", put->subject.empty() ? "-" : put->subject},
                     {"value", FlagValueText(put->value)},
                     {"description", OrNone(put->description)},
                     {"updated", put->updated.ToApiString()},
                     {"by", put->updated_by}});
  return kExitOk;
}

int AccessCommands::FlagDelete(const Command& command) {
  const std::string& org = command.arguments[0];
  const std::string& key = command.arguments[1];
  auto level = LevelOf(command, org);
  if (!level) return Fail(level.error());
  const std::string subject = command.subject.value_or("");
  auto deleted = services_.access.DeleteFlag(operator_, org, key, *level, subject);
  if (!deleted) return Fail(deleted.error());
  const std::string level_text(domain::ToString(*level));
  return Done(command, {{"key", key}, {"level", level_text}, {"subject", subject}}, "deleted",
              "Deleted the " + level_text + " flag " + key +
                  (subject.empty() ? std::string() : " of " + subject) + ".");
}

int AccessCommands::FlagEval(const Command& command) {
  auto evaluated = services_.access.EvaluateFlags(operator_, command.arguments[0],
                                                  command.key.value_or(""),
                                                  Optional(command.member));
  if (!evaluated) return Fail(evaluated.error());
  if (command.json) {
    out_ << FlagEvaluationListJson(*evaluated) << "\n";
    return kExitOk;
  }
  if (evaluated->empty()) {
    out_ << "No flags are set.\n";
    return kExitOk;
  }
  TextTable table({"KEY", "VALUE", "SOURCE"});
  for (const auto& item : *evaluated) {
    table.AddRow({item.key, item.value ? FlagValueText(*item.value) : "(unset)", item.source});
  }
  table.Print(out_);
  return kExitOk;
}

// Organisation API keys ---------------------------------------------------------------------

int AccessCommands::OrgKeyCreate(const Command& command) {
  const std::string& org = command.arguments[0];
  std::optional<domain::Timestamp> expires;
  if (command.expires) {
    auto parsed = ParseExpiry(*command.expires);
    if (!parsed) return Fail(parsed.error());
    expires = *parsed;
  }
  auto made = services_.organisation_keys.Create(operator_, org, command.arguments[1],
                                                 command.arguments[2], Optional(command.project),
                                                 expires);
  if (!made) return Fail(made.error());
  if (command.json) {
    std::vector<std::optional<std::string>> ids;
    for (const auto& policy : made->view.policies) ids.push_back(policy.project);
    auto names = NamesOf(ids);
    if (!names) return Fail(names.error());
    out_ << OrganisationKeyJson(made->view, *names, &made->secret) << "\n";
    return kExitOk;
  }
  // The secret alone on stdout, so that `KEY=$(socle orgkey create ...)` captures just it.
  out_ << made->secret << "\n";
  err_ << "API key " << made->view.key.id << " (" << made->view.key.name << ") of organisation "
       << org << " created with the role " << command.arguments[2]
       << ". The key above is shown only now: store it where the client keeps secrets.\n";
  return kExitOk;
}

int AccessCommands::OrgKeyList(const Command& command) {
  auto keys = services_.organisation_keys.List(operator_, command.arguments[0]);
  if (!keys) return Fail(keys.error());
  std::vector<std::optional<std::string>> ids;
  for (const auto& view : *keys) {
    for (const auto& policy : view.policies) ids.push_back(policy.project);
  }
  auto names = NamesOf(ids);
  if (!names) return Fail(names.error());
  if (command.json) {
    out_ << OrganisationKeyListJson(*keys, *names) << "\n";
    return kExitOk;
  }
  if (keys->empty()) {
    out_ << "No API keys.\n";
    return kExitOk;
  }
  TextTable table({"ID", "NAME", "PREFIX", "ROLES", "EXPIRES", "LAST USED", "USES", "STATUS"});
  for (const auto& view : *keys) {
    const application::ApiKeyInfo& key = view.key;
    std::vector<std::string> roles;
    for (const auto& policy : view.policies) {
      auto project = ProjectShown(policy.project, *names);
      roles.push_back(project ? policy.role + " on " + *project : policy.role);
    }
    table.AddRow({key.id, key.name, key.prefix + "…", Joined(roles), When(key.expires),
                  When(key.last_used), std::to_string(key.uses),
                  key.revoked ? "revoked " + key.revoked->ToApiString() : std::string("active")});
  }
  table.Print(out_);
  return kExitOk;
}

int AccessCommands::OrgKeyRevoke(const Command& command) {
  const std::string& org = command.arguments[0];
  const std::string& id = command.arguments[1];
  auto revoked = services_.organisation_keys.Revoke(operator_, org, id);
  if (!revoked) return Fail(revoked.error());
  return Done(command, {{"org", org}, {"id", id}}, "revoked",
              "Revoked API key " + id + " of organisation " + org + ".");
}

}  // namespace socle::adapters::cli
