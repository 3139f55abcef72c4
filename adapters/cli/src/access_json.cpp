#include "access_json.hpp"

#include "socle/adapters/json/json_writer.hpp"

namespace socle::adapters::cli {
namespace {

using json::JsonWriter;

// The slugs the commands fetched before printing (AccessCommands::NamesOf), as the writers'
// resolver. It answers every id, a project it does not know with the id itself, so it never
// fails.
class NamedProjects final : public json::ProjectSlugResolver {
 public:
  explicit NamedProjects(const ProjectNames& names) : names_(names) {}

  domain::Result<std::optional<std::string>> SlugOf(
      const std::optional<std::string>& project_id) override {
    return ProjectShown(project_id, names_);
  }

 private:
  const ProjectNames& names_;
};

// The document one of the shared writers makes.
template <typename Write>
std::string Document(Write write) {
  JsonWriter w;
  write(w);
  return std::move(w).Take();
}

// The document a writer that names projects makes, with `names` for slugs. Such writers fail
// only when their resolver does, which NamedProjects never does; were it to, the writer would
// have written nothing, and the output is empty rather than a document with a wrong project.
template <typename Write>
std::string DocumentNaming(const ProjectNames& names, Write write) {
  NamedProjects projects(names);
  JsonWriter w;
  if (!write(w, projects)) return {};
  return std::move(w).Take();
}

}  // namespace

std::optional<std::string> ProjectShown(const std::optional<std::string>& project_id,
                                        const ProjectNames& names) {
  if (!project_id) return std::nullopt;
  auto found = names.find(*project_id);
  return found == names.end() ? *project_id : found->second;
}

std::string MemberPageJson(const domain::PageOf<application::MemberView>& page) {
  return Document([&](JsonWriter& w) { json::WriteMemberPage(w, page); });
}

std::string InvitationJson(const domain::Invitation& invitation, const ProjectNames& names,
                           const std::string* token) {
  return DocumentNaming(names, [&](JsonWriter& w, NamedProjects& projects) {
    return json::WriteInvitation(w, invitation, projects, token);
  });
}

std::string InvitationPageJson(const domain::PageOf<domain::Invitation>& page,
                               const ProjectNames& names) {
  return DocumentNaming(names, [&](JsonWriter& w, NamedProjects& projects) {
    return json::WriteInvitationPage(w, page, projects);
  });
}

std::string TeamJson(const domain::Team& team, const std::vector<domain::Membership>* members) {
  return Document([&](JsonWriter& w) { json::WriteTeam(w, team, members); });
}

std::string TeamListJson(const std::vector<domain::Team>& teams) {
  return Document([&](JsonWriter& w) { json::WriteTeamList(w, teams); });
}

std::string RoleJson(const application::RoleView& role) {
  return Document([&](JsonWriter& w) { json::WriteRole(w, role); });
}

std::string RoleListJson(const std::vector<application::RoleView>& roles) {
  return Document([&](JsonWriter& w) { json::WriteRoleList(w, roles); });
}

std::string PolicyJson(const domain::StoredPolicy& policy, const ProjectNames& names) {
  return DocumentNaming(names, [&](JsonWriter& w, NamedProjects& projects) {
    return json::WritePolicy(w, policy, projects);
  });
}

std::string PolicyListJson(const std::vector<domain::StoredPolicy>& policies,
                           const ProjectNames& names) {
  return DocumentNaming(names, [&](JsonWriter& w, NamedProjects& projects) {
    return json::WritePolicyList(w, policies, projects);
  });
}

std::string ExplanationListJson(const std::vector<application::PermissionExplanation>& items,
                                const ProjectNames& names) {
  return DocumentNaming(names, [&](JsonWriter& w, NamedProjects& projects) {
    return json::WriteExplanationList(w, items, projects);
  });
}

std::string FlagJson(const domain::FeatureFlag& flag) {
  return Document([&](JsonWriter& w) { json::WriteFlag(w, flag); });
}

std::string FlagListJson(const std::vector<domain::FeatureFlag>& flags) {
  return Document([&](JsonWriter& w) { json::WriteFlagList(w, flags); });
}

std::string FlagEvaluationListJson(const std::vector<domain::FlagEvaluation>& evaluations) {
  return Document([&](JsonWriter& w) { json::WriteFlagEvaluationList(w, evaluations); });
}

std::string OrganisationKeyJson(const application::OrganisationKeyView& view,
                                const ProjectNames& names, const std::string* secret) {
  return DocumentNaming(names, [&](JsonWriter& w, NamedProjects& projects) {
    return json::WriteOrganisationKey(w, view, projects, secret);
  });
}

std::string OrganisationKeyListJson(const std::vector<application::OrganisationKeyView>& keys,
                                    const ProjectNames& names) {
  return DocumentNaming(names, [&](JsonWriter& w, NamedProjects& projects) {
    return json::WriteOrganisationKeyList(w, keys, projects);
  });
}

std::string FlagValueText(const domain::JsonValue& value) {
  return Document([&](JsonWriter& w) { w.Value(value); });
}

std::string AcknowledgementJson(const std::vector<std::pair<std::string, std::string>>& members,
                                const std::string& flag_name) {
  JsonWriter w;
  w.BeginObject();
  for (const auto& [name, value] : members) w.Key(name).String(value);
  w.Key(flag_name).Bool(true);
  w.EndObject();
  return std::move(w).Take();
}

}  // namespace socle::adapters::cli
