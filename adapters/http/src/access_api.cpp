#include "socle/adapters/http/access_api.hpp"

#include <map>
#include <optional>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

#include "audit_origin.hpp"
#include "page_query.hpp"
#include "socle/adapters/http/error_response.hpp"
#include "socle/adapters/http/json_object_reader.hpp"
#include "socle/adapters/json/access_json.hpp"
#include "socle/adapters/json/json_writer.hpp"
#include "socle/domain/access.hpp"
#include "socle/domain/feature_flags.hpp"
#include "socle/domain/id.hpp"
#include "socle/domain/json_value.hpp"
#include "socle/domain/rbac.hpp"

namespace socle::adapters::http {

using application::Principal;
using domain::Error;
using domain::ErrorCode;
using domain::JsonValue;
using domain::RbacSubject;
using domain::Result;
using json::JsonWriter;

namespace {

// --- request parsing

Error Invalid(std::string field, std::string code, std::string message) {
  return Error::Field(std::move(field), std::move(code), std::move(message));
}

// The member `name` when it is an array of strings; nullopt when absent or null, or (recording
// an error) when it is anything else.
std::optional<std::vector<std::string>> OptionalStrings(const JsonValue& body,
                                                        std::string_view name,
                                                        JsonObjectReader& reader) {
  const JsonValue* value = body.Find(name);
  if (value == nullptr || value->IsNull()) return std::nullopt;
  if (value->type() != JsonValue::Type::kArray) {
    reader.AddError(std::string(name), "validation_invalid_type", "Must be an array of strings.");
    return std::nullopt;
  }
  std::vector<std::string> out;
  for (const auto& item : value->items()) {
    if (item.type() != JsonValue::Type::kString) {
      reader.AddError(std::string(name), "validation_invalid_type",
                      "Must be an array of strings.");
      return std::nullopt;
    }
    out.push_back(item.AsString());
  }
  return out;
}

// A flag's value: present, and a JSON scalar (CheckFlag then decides which scalars are fine).
std::optional<JsonValue> RequiredScalar(const JsonValue& body, std::string_view name,
                                        JsonObjectReader& reader) {
  const JsonValue* value = body.Find(name);
  if (value == nullptr || value->IsNull()) {
    reader.AddError(std::string(name), "validation_required", "Missing required value.");
    return std::nullopt;
  }
  if (value->type() == JsonValue::Type::kArray || value->type() == JsonValue::Type::kObject) {
    reader.AddError(std::string(name), "validation_invalid_type",
                    "Must be a boolean, a number or a string.");
    return std::nullopt;
  }
  return *value;
}

std::optional<RbacSubject::Kind> ParseSubjectKind(std::string_view text) {
  if (text == "member") return RbacSubject::Kind::kMember;
  if (text == "team") return RbacSubject::Kind::kTeam;
  if (text == "apikey") return RbacSubject::Kind::kApiKey;
  return std::nullopt;
}

std::optional<domain::RbacScope> ParseScope(std::string_view text) {
  if (text == "organisation") return domain::RbacScope::kOrganisation;
  if (text == "project") return domain::RbacScope::kProject;
  return std::nullopt;
}

// A policy's subject, {kind, id}, read as strictly as a whole body; its problems are named
// "subject.kind", "subject.id", "subject.<unknown>".
std::optional<RbacSubject> ReadSubject(const JsonValue& body, JsonObjectReader& reader) {
  const JsonValue* value = body.Find("subject");
  if (value == nullptr || value->IsNull()) {
    reader.AddError("subject", "validation_required", "Missing required value.");
    return std::nullopt;
  }
  if (!value->IsObject()) {
    reader.AddError("subject", "validation_invalid_type", "Must be an object.");
    return std::nullopt;
  }
  JsonObjectReader nested(*value, {"kind", "id"});
  auto kind = nested.RequiredString("kind");
  auto id = nested.RequiredString("id");
  std::optional<RbacSubject::Kind> parsed;
  if (kind) {
    parsed = ParseSubjectKind(*kind);
    if (!parsed) {
      nested.AddError("kind", "validation_invalid_value", "Must be member, team or apikey.");
    }
  }
  if (auto checked = nested.Finish(); !checked) {
    for (auto& field : checked.error().fields) {
      reader.AddError("subject." + field.field, std::move(field.code), std::move(field.message));
    }
    return std::nullopt;
  }
  return RbacSubject{*parsed, *id};
}

// {token} of the invitation routes.
Result<std::string> ReadToken(const Request& request, const JsonLimits& limits) {
  auto body = ReadJsonBody(request, limits);
  if (!body) return domain::Fail(body.error());
  JsonObjectReader reader(*body, {"token"});
  auto token = reader.RequiredString("token");
  if (auto checked = reader.Finish(); !checked) return domain::Fail(checked.error());
  return *token;
}

// "member:ID", "team:ID" or "apikey:ID".
Result<application::ExplainSubject> ParseExplainSubject(std::string_view text) {
  const auto colon = text.find(':');
  std::optional<RbacSubject::Kind> kind;
  if (colon != std::string_view::npos) kind = ParseSubjectKind(text.substr(0, colon));
  if (!kind || colon + 1 >= text.size()) {
    return domain::Fail(Invalid("subject", "validation_invalid_value",
                                "Must be member:ID, team:ID or apikey:ID."));
  }
  return application::ExplainSubject{*kind, std::string(text.substr(colon + 1))};
}

// "a.b,c.d" → {"a.b", "c.d"}; empty items are skipped ("" asks for every permission).
std::vector<std::string> SplitList(std::string_view text) {
  std::vector<std::string> out;
  while (!text.empty()) {
    const auto comma = text.find(',');
    std::string_view item = text.substr(0, comma);
    while (!item.empty() && item.front() == ' ') item.remove_prefix(1);
    while (!item.empty() && item.back() == ' ') item.remove_suffix(1);
    if (!item.empty()) out.emplace_back(item);
    if (comma == std::string_view::npos) break;
    text.remove_prefix(comma + 1);
  }
  return out;
}

// --- serialisation (the documents' shapes are socle/adapters/json/access_json.hpp's)

// The slugs of the projects named by id in policies, invitations and keys, looked up once per
// response. A project deleted meanwhile keeps its id: a dangling reference is shown as what it
// is rather than as null, which would read as "the whole organisation".
class ProjectSlugs final : public json::ProjectSlugResolver {
 public:
  explicit ProjectSlugs(application::CatalogueStore& catalogue) : catalogue_(catalogue) {}

  Result<std::optional<std::string>> SlugOf(
      const std::optional<std::string>& project_id) override {
    if (!project_id) return std::optional<std::string>{};
    if (auto found = known_.find(*project_id); found != known_.end()) return found->second;
    std::string slug = *project_id;
    if (auto id = domain::Id::Parse(*project_id)) {
      auto project = catalogue_.GetProjectById(*id);
      if (project) {
        slug = project->slug.str();
      } else if (project.error().code != ErrorCode::kNotFound) {
        return domain::Fail(std::move(project.error()));
      }
    }
    known_.emplace(*project_id, slug);
    return std::optional<std::string>(std::move(slug));
  }

 private:
  application::CatalogueStore& catalogue_;
  std::map<std::string, std::string> known_;
};

// {slug, name}: the organisation an invitation is to, as its invitee sees it.
void WriteOrganisationName(JsonWriter& w, const domain::Organisation& org) {
  w.BeginObject();
  w.Key("slug").String(org.slug.str());
  w.Key("name").String(org.name.str());
  w.EndObject();
}

Response JsonBody(int status, JsonWriter&& w) {
  return Response::Json(status, std::move(w).Take());
}

// The document a writer that names projects made, or the error of the project lookup that kept
// it from being written.
Response JsonBody(int status, const Result<void>& written, JsonWriter&& w) {
  if (!written) return ErrorResponse(written.error());
  return JsonBody(status, std::move(w));
}

// Invitation tokens must not be kept by any cache on the way.
Response NoStore(Response response) {
  response.SetHeader("Cache-Control", "no-store");
  response.SetHeader("Pragma", "no-cache");
  return response;
}

Response Done(const Result<void>& result) {
  if (!result) return ErrorResponse(result.error());
  return Response::Empty(204);
}

}  // namespace

AccessApi::AccessApi(application::ManageAccess& access, application::CatalogueStore& catalogue,
                     PrincipalIdentifier identify, JsonLimits limits)
    : access_(access), catalogue_(catalogue), identify_(std::move(identify)), limits_(limits) {}

Result<void> AccessApi::Register(Router& router) {
  struct Entry {
    Method method;
    std::string_view pattern;
    Response (AccessApi::*handler)(const Request&);
  };
  const Entry entries[] = {
      {Method::kGet, "/api/v1/orgs/{org}/members", &AccessApi::ListMembers},
      {Method::kDelete, "/api/v1/orgs/{org}/members/{member}", &AccessApi::RemoveMember},
      {Method::kPost, "/api/v1/orgs/{org}/transfer", &AccessApi::TransferOwnership},
      {Method::kGet, "/api/v1/orgs/{org}/invitations", &AccessApi::ListInvitations},
      {Method::kPost, "/api/v1/orgs/{org}/invitations", &AccessApi::Invite},
      {Method::kDelete, "/api/v1/orgs/{org}/invitations/{id}", &AccessApi::RevokeInvitation},
      {Method::kPost, "/api/v1/invitations/preview", &AccessApi::PreviewInvitation},
      {Method::kPost, "/api/v1/invitations/accept", &AccessApi::AcceptInvitation},
      {Method::kPost, "/api/v1/invitations/decline", &AccessApi::DeclineInvitation},
      {Method::kGet, "/api/v1/orgs/{org}/teams", &AccessApi::ListTeams},
      {Method::kPost, "/api/v1/orgs/{org}/teams", &AccessApi::CreateTeam},
      {Method::kGet, "/api/v1/orgs/{org}/teams/{team}", &AccessApi::GetTeam},
      {Method::kPatch, "/api/v1/orgs/{org}/teams/{team}", &AccessApi::UpdateTeam},
      {Method::kDelete, "/api/v1/orgs/{org}/teams/{team}", &AccessApi::DeleteTeam},
      {Method::kPut, "/api/v1/orgs/{org}/teams/{team}/members/{member}",
       &AccessApi::AddTeamMember},
      {Method::kDelete, "/api/v1/orgs/{org}/teams/{team}/members/{member}",
       &AccessApi::RemoveTeamMember},
      {Method::kGet, "/api/v1/orgs/{org}/roles", &AccessApi::ListRoles},
      {Method::kPut, "/api/v1/orgs/{org}/roles/{role}", &AccessApi::PutRole},
      {Method::kDelete, "/api/v1/orgs/{org}/roles/{role}", &AccessApi::DeleteRole},
      {Method::kGet, "/api/v1/orgs/{org}/policies", &AccessApi::ListPolicies},
      {Method::kPost, "/api/v1/orgs/{org}/policies", &AccessApi::Grant},
      {Method::kDelete, "/api/v1/orgs/{org}/policies/{id}", &AccessApi::Revoke},
      {Method::kGet, "/api/v1/orgs/{org}/explain", &AccessApi::Explain},
      {Method::kGet, "/api/v1/flags", &AccessApi::ListGlobalFlags},
      {Method::kPut, "/api/v1/flags/{key}", &AccessApi::PutGlobalFlag},
      {Method::kDelete, "/api/v1/flags/{key}", &AccessApi::DeleteGlobalFlag},
      {Method::kGet, "/api/v1/flags/evaluate", &AccessApi::EvaluateFlags},
      {Method::kGet, "/api/v1/orgs/{org}/flags", &AccessApi::ListOrganisationFlags},
      {Method::kPut, "/api/v1/orgs/{org}/flags/{key}", &AccessApi::PutOrganisationFlag},
      {Method::kDelete, "/api/v1/orgs/{org}/flags/{key}", &AccessApi::DeleteOrganisationFlag},
  };
  const Entry key_entries[] = {
      {Method::kGet, "/api/v1/orgs/{org}/apikeys", &AccessApi::ListApiKeys},
      {Method::kPost, "/api/v1/orgs/{org}/apikeys", &AccessApi::CreateApiKey},
      {Method::kDelete, "/api/v1/orgs/{org}/apikeys/{id}", &AccessApi::RevokeApiKey},
  };
  auto add = [&](const Entry& entry) {
    return router.Add(entry.method, entry.pattern,
                      [this, handler = entry.handler](const Request& request) {
                        return (this->*handler)(request);
                      },
                      ReadsOnGet(entry.method));
  };
  for (const auto& entry : entries) {
    if (auto added = add(entry); !added) return added;
  }
  if (keys_ != nullptr) {
    for (const auto& entry : key_entries) {
      if (auto added = add(entry); !added) return added;
    }
  }
  return {};
}

// Members and ownership ------------------------------------------------------------------------

Response AccessApi::ListMembers(const Request& request) {
  auto by = RequirePrincipal(identify_, request);
  if (!by) return ErrorResponse(by.error());
  auto page = ReadPage(request);
  if (!page) return ErrorResponse(page.error());
  auto listed = access_.ListMembers(*by, request.Param("org"), *page);
  if (!listed) return ErrorResponse(listed.error());
  JsonWriter w;
  json::WriteMemberPage(w, *listed);
  return JsonBody(200, std::move(w));
}

Response AccessApi::RemoveMember(const Request& request) {
  auto by = RequirePrincipal(identify_, request);
  if (!by) return ErrorResponse(by.error());
  return Done(access_.RemoveMember(*by, request.Param("org"), request.Param("member")));
}

Response AccessApi::TransferOwnership(const Request& request) {
  auto by = RequirePrincipal(identify_, request);
  if (!by) return ErrorResponse(by.error());
  auto body = ReadJsonBody(request, limits_);
  if (!body) return ErrorResponse(body.error());
  JsonObjectReader reader(*body, {"member"});
  auto member = reader.RequiredString("member");
  if (auto checked = reader.Finish(); !checked) return ErrorResponse(checked.error());
  return Done(access_.TransferOwnership(*by, request.Param("org"), *member));
}

// Invitations ----------------------------------------------------------------------------------

Response AccessApi::ListInvitations(const Request& request) {
  auto by = RequirePrincipal(identify_, request);
  if (!by) return ErrorResponse(by.error());
  auto page = ReadPage(request);
  if (!page) return ErrorResponse(page.error());
  auto listed = access_.ListInvitations(*by, request.Param("org"), *page);
  if (!listed) return ErrorResponse(listed.error());
  ProjectSlugs slugs(catalogue_);
  JsonWriter w;
  const auto written = json::WriteInvitationPage(w, *listed, slugs);
  return JsonBody(200, written, std::move(w));
}

Response AccessApi::Invite(const Request& request) {
  auto by = RequirePrincipal(identify_, request);
  if (!by) return ErrorResponse(by.error());
  auto body = ReadJsonBody(request, limits_);
  if (!body) return ErrorResponse(body.error());
  JsonObjectReader reader(*body, {"email", "role", "project"});
  auto email = reader.RequiredString("email");
  auto role = reader.RequiredString("role");
  auto project = reader.OptionalString("project");
  if (auto checked = reader.Finish(); !checked) return ErrorResponse(checked.error());
  std::optional<std::string_view> project_slug;
  if (project) project_slug = *project;

  auto made = access_.Invite(*by, request.Param("org"), *email, *role, project_slug);
  if (!made) return ErrorResponse(made.error());
  ProjectSlugs slugs(catalogue_);
  JsonWriter w;
  if (auto written = json::WriteInvitation(w, made->invitation, slugs, &made->token); !written) {
    return ErrorResponse(written.error());
  }
  return NoStore(JsonBody(201, std::move(w)));
}

Response AccessApi::RevokeInvitation(const Request& request) {
  auto by = RequirePrincipal(identify_, request);
  if (!by) return ErrorResponse(by.error());
  return Done(access_.RevokeInvitation(*by, request.Param("org"), request.Param("id")));
}

Response AccessApi::PreviewInvitation(const Request& request) {
  auto token = ReadToken(request, limits_);
  if (!token) return ErrorResponse(token.error());
  auto preview = access_.PreviewInvitation(*token);
  if (!preview) return ErrorResponse(preview.error());
  JsonWriter w;
  w.BeginObject();
  w.Key("organisation");
  WriteOrganisationName(w, preview->organisation);
  w.Key("project");
  if (preview->project) {
    w.BeginObject();
    w.Key("slug").String(preview->project->slug.str());
    w.Key("name").String(preview->project->name.str());
    w.EndObject();
  } else {
    w.Null();
  }
  w.Key("email").String(preview->invitation.email);
  w.Key("role").String(preview->invitation.role);
  w.Key("expires").String(preview->invitation.expires.ToApiString());
  w.Key("memberExists").Bool(preview->member_exists);
  w.EndObject();
  return NoStore(JsonBody(200, std::move(w)));
}

Response AccessApi::AcceptInvitation(const Request& request) {
  // Public, but a caller who presents a token must present a valid one: accepting as someone
  // else than the caller believes would be worse than refusing.
  auto by = identify_(request);
  if (!by) return ErrorResponse(by.error());
  auto body = ReadJsonBody(request, limits_);
  if (!body) return ErrorResponse(body.error());
  JsonObjectReader reader(*body, {"token", "password", "name"});
  auto token = reader.RequiredString("token");
  auto password = reader.OptionalString("password");
  auto name = reader.OptionalString("name");
  if (auto checked = reader.Finish(); !checked) return ErrorResponse(checked.error());

  auto membership =
      access_.AcceptInvitation(*by, *token, password.value_or(""), name.value_or(""));
  if (!membership) return ErrorResponse(membership.error());
  auto org = catalogue_.GetOrganisationById(membership->org_id);
  if (!org) return ErrorResponse(org.error());
  JsonWriter w;
  w.BeginObject();
  w.Key("organisation");
  WriteOrganisationName(w, *org);
  w.Key("memberId").String(membership->member_id);
  w.EndObject();
  return JsonBody(200, std::move(w));
}

Response AccessApi::DeclineInvitation(const Request& request) {
  auto token = ReadToken(request, limits_);
  if (!token) return ErrorResponse(token.error());
  return Done(
      access_.DeclineInvitation(*token, AuditOriginOf(request, request.client_address)));
}

// Teams ----------------------------------------------------------------------------------------

Response AccessApi::ListTeams(const Request& request) {
  auto by = RequirePrincipal(identify_, request);
  if (!by) return ErrorResponse(by.error());
  auto teams = access_.ListTeams(*by, request.Param("org"));
  if (!teams) return ErrorResponse(teams.error());
  JsonWriter w;
  json::WriteTeamList(w, *teams);
  return JsonBody(200, std::move(w));
}

Response AccessApi::CreateTeam(const Request& request) {
  auto by = RequirePrincipal(identify_, request);
  if (!by) return ErrorResponse(by.error());
  auto body = ReadJsonBody(request, limits_);
  if (!body) return ErrorResponse(body.error());
  JsonObjectReader reader(*body, {"name", "description"});
  auto name = reader.RequiredString("name");
  auto description = reader.OptionalString("description");
  if (auto checked = reader.Finish(); !checked) return ErrorResponse(checked.error());
  auto team = access_.CreateTeam(*by, request.Param("org"), *name, description.value_or(""));
  if (!team) return ErrorResponse(team.error());
  JsonWriter w;
  json::WriteTeam(w, *team);
  return JsonBody(201, std::move(w));
}

Response AccessApi::GetTeam(const Request& request) {
  auto by = RequirePrincipal(identify_, request);
  if (!by) return ErrorResponse(by.error());
  auto view = access_.GetTeam(*by, request.Param("org"), request.Param("team"));
  if (!view) return ErrorResponse(view.error());
  JsonWriter w;
  json::WriteTeam(w, view->team, &view->members);
  return JsonBody(200, std::move(w));
}

Response AccessApi::UpdateTeam(const Request& request) {
  auto by = RequirePrincipal(identify_, request);
  if (!by) return ErrorResponse(by.error());
  auto body = ReadJsonBody(request, limits_);
  if (!body) return ErrorResponse(body.error());
  JsonObjectReader reader(*body, {"name", "description"});
  auto name = reader.OptionalString("name");
  auto description = reader.OptionalString("description");
  if (auto checked = reader.Finish(); !checked) return ErrorResponse(checked.error());
  std::optional<std::string_view> new_name;
  std::optional<std::string_view> new_description;
  if (name) new_name = *name;
  if (description) new_description = *description;
  auto team = access_.UpdateTeam(*by, request.Param("org"), request.Param("team"), new_name,
                                 new_description);
  if (!team) return ErrorResponse(team.error());
  JsonWriter w;
  json::WriteTeam(w, *team);
  return JsonBody(200, std::move(w));
}

Response AccessApi::DeleteTeam(const Request& request) {
  auto by = RequirePrincipal(identify_, request);
  if (!by) return ErrorResponse(by.error());
  return Done(access_.DeleteTeam(*by, request.Param("org"), request.Param("team")));
}

Response AccessApi::AddTeamMember(const Request& request) {
  auto by = RequirePrincipal(identify_, request);
  if (!by) return ErrorResponse(by.error());
  return Done(access_.AddTeamMember(*by, request.Param("org"), request.Param("team"),
                                    request.Param("member")));
}

Response AccessApi::RemoveTeamMember(const Request& request) {
  auto by = RequirePrincipal(identify_, request);
  if (!by) return ErrorResponse(by.error());
  return Done(access_.RemoveTeamMember(*by, request.Param("org"), request.Param("team"),
                                       request.Param("member")));
}

// Roles ----------------------------------------------------------------------------------------

Response AccessApi::ListRoles(const Request& request) {
  auto by = RequirePrincipal(identify_, request);
  if (!by) return ErrorResponse(by.error());
  auto roles = access_.ListRoles(*by, request.Param("org"));
  if (!roles) return ErrorResponse(roles.error());
  JsonWriter w;
  json::WriteRoleList(w, *roles);
  return JsonBody(200, std::move(w));
}

Response AccessApi::PutRole(const Request& request) {
  auto by = RequirePrincipal(identify_, request);
  if (!by) return ErrorResponse(by.error());
  auto body = ReadJsonBody(request, limits_);
  if (!body) return ErrorResponse(body.error());
  JsonObjectReader reader(*body, {"name", "scope", "parents", "permissions"});
  auto name = reader.OptionalString("name");
  auto scope_text = reader.RequiredString("scope");
  auto parents = OptionalStrings(*body, "parents", reader);
  auto permissions = OptionalStrings(*body, "permissions", reader);
  std::optional<domain::RbacScope> scope;
  if (scope_text) {
    scope = ParseScope(*scope_text);
    if (!scope) {
      reader.AddError("scope", "validation_invalid_value", "Must be organisation or project.");
    }
  }
  if (auto checked = reader.Finish(); !checked) return ErrorResponse(checked.error());

  domain::Role role;
  role.id = std::string(request.Param("role"));
  role.name = name.value_or(role.id);
  role.scope = *scope;
  role.parents = parents.value_or(std::vector<std::string>{});
  role.permissions = permissions.value_or(std::vector<std::string>{});
  auto put = access_.PutRole(*by, request.Param("org"), std::move(role));
  if (!put) return ErrorResponse(put.error());
  JsonWriter w;
  json::WriteRole(w, *put);
  return JsonBody(200, std::move(w));
}

Response AccessApi::DeleteRole(const Request& request) {
  auto by = RequirePrincipal(identify_, request);
  if (!by) return ErrorResponse(by.error());
  return Done(access_.DeleteRole(*by, request.Param("org"), request.Param("role")));
}

// Policies and explanations --------------------------------------------------------------------

Response AccessApi::ListPolicies(const Request& request) {
  auto by = RequirePrincipal(identify_, request);
  if (!by) return ErrorResponse(by.error());
  auto policies = access_.ListPolicies(*by, request.Param("org"));
  if (!policies) return ErrorResponse(policies.error());
  ProjectSlugs slugs(catalogue_);
  JsonWriter w;
  const auto written = json::WritePolicyList(w, *policies, slugs);
  return JsonBody(200, written, std::move(w));
}

Response AccessApi::Grant(const Request& request) {
  auto by = RequirePrincipal(identify_, request);
  if (!by) return ErrorResponse(by.error());
  auto body = ReadJsonBody(request, limits_);
  if (!body) return ErrorResponse(body.error());
  JsonObjectReader reader(*body, {"subject", "role", "project"});
  auto subject = ReadSubject(*body, reader);
  auto role = reader.RequiredString("role");
  auto project = reader.OptionalString("project");
  if (auto checked = reader.Finish(); !checked) return ErrorResponse(checked.error());
  std::optional<std::string_view> project_slug;
  if (project) project_slug = *project;

  auto granted = access_.Grant(*by, request.Param("org"), *subject, *role, project_slug);
  if (!granted) return ErrorResponse(granted.error());
  ProjectSlugs slugs(catalogue_);
  JsonWriter w;
  const auto written = json::WritePolicy(w, *granted, slugs);
  return JsonBody(201, written, std::move(w));
}

Response AccessApi::Revoke(const Request& request) {
  auto by = RequirePrincipal(identify_, request);
  if (!by) return ErrorResponse(by.error());
  return Done(access_.Revoke(*by, request.Param("org"), request.Param("id")));
}

Response AccessApi::Explain(const Request& request) {
  auto by = RequirePrincipal(identify_, request);
  if (!by) return ErrorResponse(by.error());
  std::optional<application::ExplainSubject> subject;
  if (auto text = request.Query("subject"); text && !text->empty()) {
    auto parsed = ParseExplainSubject(*text);
    if (!parsed) return ErrorResponse(parsed.error());
    subject = std::move(*parsed);
  }
  std::optional<std::string_view> project;
  if (auto text = request.Query("project"); text && !text->empty()) project = *text;
  const auto permissions = SplitList(request.Query("permission").value_or(""));

  auto explained = access_.Explain(*by, request.Param("org"), subject, project, permissions);
  if (!explained) return ErrorResponse(explained.error());
  ProjectSlugs slugs(catalogue_);
  JsonWriter w;
  const auto written = json::WriteExplanationList(w, *explained, slugs);
  return JsonBody(200, written, std::move(w));
}

// Feature flags --------------------------------------------------------------------------------

namespace {

Response FlagList(const Result<std::vector<domain::FeatureFlag>>& flags) {
  if (!flags) return ErrorResponse(flags.error());
  JsonWriter w;
  json::WriteFlagList(w, *flags);
  return JsonBody(200, std::move(w));
}

Response OneFlag(const Result<domain::FeatureFlag>& flag) {
  if (!flag) return ErrorResponse(flag.error());
  JsonWriter w;
  json::WriteFlag(w, *flag);
  return JsonBody(200, std::move(w));
}

}  // namespace

Response AccessApi::ListGlobalFlags(const Request& request) {
  auto by = RequirePrincipal(identify_, request);
  if (!by) return ErrorResponse(by.error());
  return FlagList(access_.ListFlags(*by, ""));
}

Response AccessApi::PutGlobalFlag(const Request& request) {
  auto by = RequirePrincipal(identify_, request);
  if (!by) return ErrorResponse(by.error());
  auto body = ReadJsonBody(request, limits_);
  if (!body) return ErrorResponse(body.error());
  JsonObjectReader reader(*body, {"value", "description"});
  auto value = RequiredScalar(*body, "value", reader);
  auto description = reader.OptionalString("description");
  if (auto checked = reader.Finish(); !checked) return ErrorResponse(checked.error());
  domain::FeatureFlag flag;
  flag.key = std::string(request.Param("key"));
  flag.level = domain::FlagLevel::kGlobal;
  flag.value = std::move(*value);
  flag.description = description.value_or("");
  return OneFlag(access_.PutFlag(*by, "", std::move(flag)));
}

Response AccessApi::DeleteGlobalFlag(const Request& request) {
  auto by = RequirePrincipal(identify_, request);
  if (!by) return ErrorResponse(by.error());
  return Done(access_.DeleteFlag(*by, "", request.Param("key"), domain::FlagLevel::kGlobal, ""));
}

Response AccessApi::ListOrganisationFlags(const Request& request) {
  auto by = RequirePrincipal(identify_, request);
  if (!by) return ErrorResponse(by.error());
  // The router never captures an empty segment, so this cannot turn into the global list.
  return FlagList(access_.ListFlags(*by, request.Param("org")));
}

Response AccessApi::PutOrganisationFlag(const Request& request) {
  auto by = RequirePrincipal(identify_, request);
  if (!by) return ErrorResponse(by.error());
  auto body = ReadJsonBody(request, limits_);
  if (!body) return ErrorResponse(body.error());
  JsonObjectReader reader(*body, {"level", "subject", "value", "description"});
  auto level_text = reader.RequiredString("level");
  auto subject = reader.OptionalString("subject");
  auto value = RequiredScalar(*body, "value", reader);
  auto description = reader.OptionalString("description");
  std::optional<domain::FlagLevel> level;
  if (level_text) {
    auto parsed = domain::ParseFlagLevel(*level_text);
    if (parsed) {
      level = *parsed;
    } else {
      reader.AddError("level", "validation_invalid_value",
                      "Must be organisation, role or user.");
    }
  }
  if (auto checked = reader.Finish(); !checked) return ErrorResponse(checked.error());
  domain::FeatureFlag flag;
  flag.key = std::string(request.Param("key"));
  flag.level = *level;
  flag.subject = subject.value_or("");
  flag.value = std::move(*value);
  flag.description = description.value_or("");
  return OneFlag(access_.PutFlag(*by, request.Param("org"), std::move(flag)));
}

Response AccessApi::DeleteOrganisationFlag(const Request& request) {
  auto by = RequirePrincipal(identify_, request);
  if (!by) return ErrorResponse(by.error());
  domain::FlagLevel level = domain::FlagLevel::kOrganisation;
  if (auto text = request.Query("level"); text && !text->empty()) {
    auto parsed = domain::ParseFlagLevel(*text);
    if (!parsed) {
      return ErrorResponse(
          Invalid("level", "validation_invalid_value", "Must be organisation, role or user."));
    }
    level = *parsed;
  }
  const std::string_view subject = request.Query("subject").value_or("");
  return Done(access_.DeleteFlag(*by, request.Param("org"), request.Param("key"), level, subject));
}

Response AccessApi::EvaluateFlags(const Request& request) {
  auto by = RequirePrincipal(identify_, request);
  if (!by) return ErrorResponse(by.error());
  std::optional<std::string_view> member;
  if (auto text = request.Query("member"); text && !text->empty()) member = *text;
  auto evaluated = access_.EvaluateFlags(*by, request.Query("org").value_or(""),
                                         request.Query("key").value_or(""), member);
  if (!evaluated) return ErrorResponse(evaluated.error());
  JsonWriter w;
  json::WriteFlagEvaluationList(w, *evaluated);
  return JsonBody(200, std::move(w));
}

// API keys with roles ------------------------------------------------------------------------

Response AccessApi::ListApiKeys(const Request& request) {
  auto by = RequirePrincipal(identify_, request);
  if (!by) return ErrorResponse(by.error());
  auto keys = keys_->List(*by, request.Param("org"));
  if (!keys) return ErrorResponse(keys.error());
  ProjectSlugs slugs(catalogue_);
  JsonWriter w;
  const auto written = json::WriteOrganisationKeyList(w, *keys, slugs);
  return JsonBody(200, written, std::move(w));
}

Response AccessApi::CreateApiKey(const Request& request) {
  auto by = RequirePrincipal(identify_, request);
  if (!by) return ErrorResponse(by.error());
  auto body = ReadJsonBody(request, limits_);
  if (!body) return ErrorResponse(body.error());
  JsonObjectReader reader(*body, {"name", "role", "project", "expires"});
  auto name = reader.RequiredString("name");
  auto role = reader.RequiredString("role");
  auto project = reader.OptionalString("project");
  auto expires_text = reader.OptionalString("expires");
  std::optional<domain::Timestamp> expires;
  if (expires_text && !expires_text->empty()) {
    auto parsed = domain::Timestamp::Parse(*expires_text);
    if (!parsed) {
      reader.AddError("expires", "validation_invalid_date", "Must be a date and time (RFC 3339).");
    } else {
      expires = *parsed;
    }
  }
  if (auto checked = reader.Finish(); !checked) return ErrorResponse(checked.error());
  std::optional<std::string_view> project_slug;
  if (project && !project->empty()) project_slug = *project;
  auto made = keys_->Create(*by, request.Param("org"), *name, *role, project_slug, expires);
  if (!made) return ErrorResponse(made.error());
  ProjectSlugs slugs(catalogue_);
  JsonWriter w;
  if (auto written = json::WriteOrganisationKey(w, made->view, slugs, &made->secret); !written) {
    return ErrorResponse(written.error());
  }
  return NoStore(JsonBody(201, std::move(w)));
}

Response AccessApi::RevokeApiKey(const Request& request) {
  auto by = RequirePrincipal(identify_, request);
  if (!by) return ErrorResponse(by.error());
  return Done(keys_->Revoke(*by, request.Param("org"), request.Param("id")));
}

}  // namespace socle::adapters::http
