#pragma once

#include <map>
#include <optional>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

#include "socle/adapters/json/access_json.hpp"
#include "socle/application/manage_access.hpp"
#include "socle/application/manage_organisation_keys.hpp"
#include "socle/domain/access.hpp"
#include "socle/domain/feature_flags.hpp"
#include "socle/domain/json_value.hpp"
#include "socle/domain/page.hpp"
#include "socle/domain/rbac.hpp"

namespace socle::adapters::cli {

// The JSON documents the access commands print with --json: the platform API's shapes (see
// socle/adapters/json/access_json.hpp, whose writers make them for the API too), so that a
// script reads the CLI and the API alike. These wrappers give the writers the slugs the
// commands looked up beforehand, and return the document as text.

/// Project id → slug, for the projects the documents name. An id missing from it (a project
/// deleted meanwhile) is shown as the id itself, never as null, which would mean "the whole
/// organisation".
using ProjectNames = std::map<std::string, std::string>;

/// The slug to show for a policy's or an invitation's project.
std::optional<std::string> ProjectShown(const std::optional<std::string>& project_id,
                                        const ProjectNames& names);

/// {page, perPage, totalItems, totalPages, items: [member]}
std::string MemberPageJson(const domain::PageOf<application::MemberView>& page);
/// invitation, with its token when given (only right after it is made).
std::string InvitationJson(const domain::Invitation& invitation, const ProjectNames& names,
                           const std::string* token = nullptr);
/// {page, perPage, totalItems, totalPages, items: [invitation]}
std::string InvitationPageJson(const domain::PageOf<domain::Invitation>& page,
                               const ProjectNames& names);
/// team, with its members when given.
std::string TeamJson(const domain::Team& team,
                     const std::vector<domain::Membership>* members = nullptr);
/// {items: [team]}
std::string TeamListJson(const std::vector<domain::Team>& teams);
std::string RoleJson(const application::RoleView& role);
/// {items: [role]}
std::string RoleListJson(const std::vector<application::RoleView>& roles);
std::string PolicyJson(const domain::StoredPolicy& policy, const ProjectNames& names);
/// {items: [policy]}
std::string PolicyListJson(const std::vector<domain::StoredPolicy>& policies,
                           const ProjectNames& names);
/// {items: [{permission, allowed, explanation, policy: {id, subject, role, project} | null,
/// via}]}
std::string ExplanationListJson(const std::vector<application::PermissionExplanation>& items,
                                const ProjectNames& names);
std::string FlagJson(const domain::FeatureFlag& flag);
/// {items: [flag]}
std::string FlagListJson(const std::vector<domain::FeatureFlag>& flags);
/// {items: [{key, value, source, level}]}: value and level null when no level sets the flag.
std::string FlagEvaluationListJson(const std::vector<domain::FlagEvaluation>& evaluations);
/// apikey, with its secret as "key" when given (only right after it is made).
std::string OrganisationKeyJson(const application::OrganisationKeyView& view,
                                const ProjectNames& names, const std::string* secret = nullptr);
/// {items: [apikey]}
std::string OrganisationKeyListJson(const std::vector<application::OrganisationKeyView>& keys,
                                    const ProjectNames& names);
/// A flag value as JSON text (true, 3, "beta"): how text output shows it, types apparent.
std::string FlagValueText(const domain::JsonValue& value);

/// One JSON object of string members and a final boolean, for the commands whose API route
/// answers with no body (204): {"id": "...", "deleted": true}.
std::string AcknowledgementJson(const std::vector<std::pair<std::string, std::string>>& members,
                                const std::string& flag_name);

/// "member", "team" or "apikey", as policies spell a subject's kind.
using json::SubjectKindName;

}  // namespace socle::adapters::cli
