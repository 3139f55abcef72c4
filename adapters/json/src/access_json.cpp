#include "socle/adapters/json/access_json.hpp"

#include <cstddef>
#include <utility>

#include "list_json.hpp"

namespace socle::adapters::json {
namespace {

using domain::Result;

// The slugs of the projects one document names, all looked up before anything is written (so
// that a failed lookup leaves the writer untouched), then handed out in the order the writing
// meets them.
class Slugs final {
 public:
  explicit Slugs(ProjectSlugResolver& projects) : projects_(projects) {}

  Result<void> Add(const std::optional<std::string>& project_id) {
    auto slug = projects_.SlugOf(project_id);
    if (!slug) return domain::Fail(std::move(slug.error()));
    slugs_.push_back(std::move(*slug));
    return {};
  }

  /// The next slug added. Precondition: called once per Add, in the same order.
  const std::optional<std::string>& Next() { return slugs_[next_++]; }

 private:
  ProjectSlugResolver& projects_;
  std::vector<std::optional<std::string>> slugs_;
  std::size_t next_ = 0;
};

void WriteOptionalString(JsonWriter& w, const std::optional<std::string>& value) {
  if (value) {
    w.String(*value);
  } else {
    w.Null();
  }
}

void WriteOptionalTime(JsonWriter& w, const std::optional<domain::Timestamp>& at) {
  if (at) {
    w.String(at->ToApiString());
  } else {
    w.Null();
  }
}

void WriteStrings(JsonWriter& w, const std::vector<std::string>& values) {
  w.BeginArray();
  for (const auto& value : values) w.String(value);
  w.EndArray();
}

// {memberId, email, created}: a team's member.
void WriteMembership(JsonWriter& w, const domain::Membership& membership) {
  w.BeginObject();
  w.Key("memberId").String(membership.member_id);
  w.Key("email").String(membership.email);
  w.Key("created").String(membership.created.ToApiString());
  w.EndObject();
}

void WriteInvitationShown(JsonWriter& w, const domain::Invitation& invitation,
                          const std::optional<std::string>& project, const std::string* token) {
  w.BeginObject();
  w.Key("id").String(invitation.id.str());
  w.Key("email").String(invitation.email);
  w.Key("role").String(invitation.role);
  w.Key("project");
  WriteOptionalString(w, project);
  w.Key("state").String(domain::ToString(invitation.state));
  w.Key("created").String(invitation.created.ToApiString());
  w.Key("expires").String(invitation.expires.ToApiString());
  if (token != nullptr) w.Key("token").String(*token);
  w.EndObject();
}

// The members of a policy itself, {id, subject: {kind, id}, role, project}, inside an object the
// caller opens: stored policies add who made them and when.
void WritePolicyMembers(JsonWriter& w, const domain::Policy& policy,
                        const std::optional<std::string>& project) {
  w.Key("id").String(policy.id);
  w.Key("subject").BeginObject();
  w.Key("kind").String(SubjectKindName(policy.subject.kind));
  w.Key("id").String(policy.subject.id);
  w.EndObject();
  w.Key("role").String(policy.role);
  w.Key("project");
  WriteOptionalString(w, project);
}

void WritePolicyShown(JsonWriter& w, const domain::StoredPolicy& stored,
                      const std::optional<std::string>& project) {
  w.BeginObject();
  WritePolicyMembers(w, stored.policy, project);
  w.Key("created").String(stored.created.ToApiString());
  w.Key("createdBy").String(stored.created_by);
  w.EndObject();
}

void WriteExplanationShown(JsonWriter& w, const application::PermissionExplanation& item,
                           Slugs& slugs) {
  w.BeginObject();
  w.Key("permission").String(item.permission);
  w.Key("allowed").Bool(item.allowed);
  w.Key("explanation").String(item.explanation);
  w.Key("policy");
  if (item.policy) {
    w.BeginObject();
    WritePolicyMembers(w, *item.policy, slugs.Next());
    w.EndObject();
  } else {
    w.Null();
  }
  w.Key("via");
  WriteStrings(w, item.via);
  w.EndObject();
}

Result<void> AddKeyProjects(Slugs& slugs, const application::OrganisationKeyView& view) {
  for (const auto& policy : view.policies) {
    if (auto added = slugs.Add(policy.project); !added) return added;
  }
  return {};
}

// A key's policies leave out their subject: it is the key itself.
void WriteKeyShown(JsonWriter& w, const application::OrganisationKeyView& view, Slugs& slugs,
                   const std::string* secret) {
  const application::ApiKeyInfo& key = view.key;
  w.BeginObject();
  w.Key("id").String(key.id);
  w.Key("name").String(key.name);
  w.Key("prefix").String(key.prefix);
  w.Key("expires");
  WriteOptionalTime(w, key.expires);
  w.Key("revoked");
  WriteOptionalTime(w, key.revoked);
  w.Key("lastUsed");
  WriteOptionalTime(w, key.last_used);
  w.Key("uses").Int(key.uses);
  w.Key("created").String(key.created.ToApiString());
  w.Key("policies").BeginArray();
  for (const auto& policy : view.policies) {
    w.BeginObject();
    w.Key("id").String(policy.id);
    w.Key("role").String(policy.role);
    w.Key("project");
    WriteOptionalString(w, slugs.Next());
    w.EndObject();
  }
  w.EndArray();
  if (secret != nullptr) w.Key("key").String(*secret);
  w.EndObject();
}

}  // namespace

void WriteMember(JsonWriter& w, const application::MemberView& member) {
  w.BeginObject();
  w.Key("memberId").String(member.membership.member_id);
  w.Key("email").String(member.membership.email);
  w.Key("roles");
  WriteStrings(w, member.roles);
  w.Key("teams");
  WriteStrings(w, member.teams);
  w.Key("created").String(member.membership.created.ToApiString());
  w.EndObject();
}

void WriteMemberPage(JsonWriter& w, const domain::PageOf<application::MemberView>& page) {
  WritePage(w, page, WriteMember);
}

Result<void> WriteInvitation(JsonWriter& w, const domain::Invitation& invitation,
                             ProjectSlugResolver& projects, const std::string* token) {
  auto project = projects.SlugOf(invitation.project);
  if (!project) return domain::Fail(std::move(project.error()));
  WriteInvitationShown(w, invitation, *project, token);
  return {};
}

Result<void> WriteInvitationPage(JsonWriter& w, const domain::PageOf<domain::Invitation>& page,
                                 ProjectSlugResolver& projects) {
  Slugs slugs(projects);
  for (const auto& invitation : page.items) {
    if (auto added = slugs.Add(invitation.project); !added) return added;
  }
  WritePage(w, page, [&](JsonWriter& out, const domain::Invitation& invitation) {
    WriteInvitationShown(out, invitation, slugs.Next(), nullptr);
  });
  return {};
}

void WriteTeam(JsonWriter& w, const domain::Team& team,
               const std::vector<domain::Membership>* members) {
  w.BeginObject();
  w.Key("id").String(team.id.str());
  w.Key("name").String(team.name);
  w.Key("description").String(team.description);
  w.Key("created").String(team.created.ToApiString());
  w.Key("updated").String(team.updated.ToApiString());
  if (members != nullptr) {
    w.Key("members").BeginArray();
    for (const auto& membership : *members) WriteMembership(w, membership);
    w.EndArray();
  }
  w.EndObject();
}

void WriteTeamList(JsonWriter& w, const std::vector<domain::Team>& teams) {
  WriteItems(w, teams, [](JsonWriter& out, const domain::Team& team) { WriteTeam(out, team); });
}

void WriteRole(JsonWriter& w, const application::RoleView& role) {
  w.BeginObject();
  w.Key("id").String(role.role.id);
  w.Key("name").String(role.role.name);
  w.Key("scope").String(domain::ToString(role.role.scope));
  w.Key("parents");
  WriteStrings(w, role.role.parents);
  w.Key("permissions");
  WriteStrings(w, role.role.permissions);
  w.Key("builtin").Bool(role.role.builtin);
  w.Key("effective");
  WriteStrings(w, role.effective);
  w.EndObject();
}

void WriteRoleList(JsonWriter& w, const std::vector<application::RoleView>& roles) {
  WriteItems(w, roles, WriteRole);
}

Result<void> WritePolicy(JsonWriter& w, const domain::StoredPolicy& policy,
                         ProjectSlugResolver& projects) {
  auto project = projects.SlugOf(policy.policy.project);
  if (!project) return domain::Fail(std::move(project.error()));
  WritePolicyShown(w, policy, *project);
  return {};
}

Result<void> WritePolicyList(JsonWriter& w, const std::vector<domain::StoredPolicy>& policies,
                             ProjectSlugResolver& projects) {
  Slugs slugs(projects);
  for (const auto& stored : policies) {
    if (auto added = slugs.Add(stored.policy.project); !added) return added;
  }
  WriteItems(w, policies, [&](JsonWriter& out, const domain::StoredPolicy& stored) {
    WritePolicyShown(out, stored, slugs.Next());
  });
  return {};
}

Result<void> WriteExplanationList(
    JsonWriter& w, const std::vector<application::PermissionExplanation>& explanations,
    ProjectSlugResolver& projects) {
  Slugs slugs(projects);
  for (const auto& item : explanations) {
    if (!item.policy) continue;
    if (auto added = slugs.Add(item.policy->project); !added) return added;
  }
  WriteItems(w, explanations, [&](JsonWriter& out, const application::PermissionExplanation& item) {
    WriteExplanationShown(out, item, slugs);
  });
  return {};
}

void WriteFlag(JsonWriter& w, const domain::FeatureFlag& flag) {
  w.BeginObject();
  w.Key("key").String(flag.key);
  w.Key("level").String(domain::ToString(flag.level));
  w.Key("subject").String(flag.subject);
  w.Key("value").Value(flag.value);
  w.Key("description").String(flag.description);
  w.Key("updated").String(flag.updated.ToApiString());
  w.Key("updatedBy").String(flag.updated_by);
  w.EndObject();
}

void WriteFlagList(JsonWriter& w, const std::vector<domain::FeatureFlag>& flags) {
  WriteItems(w, flags, WriteFlag);
}

void WriteFlagEvaluationList(JsonWriter& w,
                             const std::vector<domain::FlagEvaluation>& evaluations) {
  WriteItems(w, evaluations, [](JsonWriter& out, const domain::FlagEvaluation& item) {
    out.BeginObject();
    out.Key("key").String(item.key);
    out.Key("value");
    if (item.value) {
      out.Value(*item.value);
    } else {
      out.Null();
    }
    out.Key("source").String(item.source);
    out.Key("level");
    if (item.level) {
      out.String(domain::ToString(*item.level));
    } else {
      out.Null();
    }
    out.EndObject();
  });
}

Result<void> WriteOrganisationKey(JsonWriter& w, const application::OrganisationKeyView& key,
                                  ProjectSlugResolver& projects, const std::string* secret) {
  Slugs slugs(projects);
  if (auto added = AddKeyProjects(slugs, key); !added) return added;
  WriteKeyShown(w, key, slugs, secret);
  return {};
}

Result<void> WriteOrganisationKeyList(JsonWriter& w,
                                      const std::vector<application::OrganisationKeyView>& keys,
                                      ProjectSlugResolver& projects) {
  Slugs slugs(projects);
  for (const auto& key : keys) {
    if (auto added = AddKeyProjects(slugs, key); !added) return added;
  }
  WriteItems(w, keys, [&](JsonWriter& out, const application::OrganisationKeyView& key) {
    WriteKeyShown(out, key, slugs, nullptr);
  });
  return {};
}

std::string_view SubjectKindName(domain::RbacSubject::Kind kind) noexcept {
  switch (kind) {
    case domain::RbacSubject::Kind::kMember:
      return "member";
    case domain::RbacSubject::Kind::kTeam:
      return "team";
    case domain::RbacSubject::Kind::kApiKey:
      return "apikey";
  }
  return "member";
}

}  // namespace socle::adapters::json
