#include "socle/adapters/http/platform_api.hpp"

#include <optional>
#include <string>
#include <utility>
#include <vector>

#include "page_query.hpp"
#include "socle/adapters/http/error_response.hpp"
#include "socle/adapters/http/json_object_reader.hpp"
#include "socle/adapters/json/catalogue_json.hpp"
#include "socle/adapters/json/json_writer.hpp"
#include "socle/domain/page.hpp"
#include "socle/domain/slug.hpp"

namespace socle::adapters::http {

using json::JsonWriter;

using domain::Error;
using domain::ErrorCode;
using domain::Result;

namespace {

constexpr std::string_view kOrgs = "/api/v1/orgs";
constexpr std::string_view kProjects = "/api/v1/projects";

// --- request parsing

// A PATCH body of an organisation or a project: {name?}. The slug is immutable (it is in URLs
// and audit records), so sending one is a field error rather than an unknown field.
Result<std::optional<std::string>> ReadRename(const Request& request, const JsonLimits& limits) {
  auto body = ReadJsonBody(request, limits);
  if (!body) return domain::Fail(body.error());
  JsonObjectReader reader(*body, {"name", "slug"});
  if (reader.Has("slug")) {
    reader.AddError("slug", "validation_immutable", "The slug cannot be changed.");
  }
  auto name = reader.OptionalString("name");
  if (auto checked = reader.Finish(); !checked) return domain::Fail(checked.error());
  return name;
}

Result<application::ForceDelete> ReadForce(const Request& request) {
  auto text = request.Query("force");
  if (!text || *text == "false" || *text == "0") return application::ForceDelete::kNo;
  if (*text == "true" || *text == "1") return application::ForceDelete::kYes;
  return domain::Fail(Error::Field("force", "validation_invalid_value", "Must be true or false."));
}

// A path parameter that is not a well-formed slug cannot name anything: answer as for an unknown
// one rather than as a validation error about a field the client never sent.
bool IsSlug(std::string_view text) { return domain::Slug::Parse(text).has_value(); }

Response NotFound() { return ErrorResponse(404, ""); }

// A unique-key collision, reported on the field the client chose.
Error WithNotUnique(Error error) {
  if (error.code == ErrorCode::kAlreadyExists && error.fields.empty()) {
    error.fields.push_back(domain::FieldError{"slug", "validation_not_unique",
                                              "The slug is already in use."});
  }
  return error;
}

// --- serialisation (shapes shared with the CLI in socle_adapter_json)

// A JSON response whose body one of the catalogue writers produces.
template <typename T, typename Write>
Response JsonResponse(int status, const T& value, Write write) {
  JsonWriter w;
  write(w, value);
  return Response::Json(status, std::move(w).Take());
}

// The answer to a DELETE: 202 {deleted, purgeAfter} while the deletion waits for its purge
// (and can be restored), 204 when it was purged at once.
Response DeletionResponse(const application::Deletion& deletion) {
  if (!deletion.purge_after) return Response::Empty(204);
  JsonWriter w;
  w.BeginObject();
  w.Key("deleted").String(deletion.deleted.ToApiString());
  w.Key("purgeAfter").String(deletion.purge_after->ToApiString());
  w.EndObject();
  return Response::Json(202, std::move(w).Take());
}

// {items: [{kind, slug, name, deleted, purgeAfter}]}: the trash is small (what one caller may
// restore), so it is not paged.
void WriteTrash(JsonWriter& w, const std::vector<application::DeletedItem>& items) {
  w.BeginObject();
  w.Key("items").BeginArray();
  for (const auto& item : items) {
    w.BeginObject();
    w.Key("kind").String(item.kind == application::DeletedItem::Kind::kOrganisation
                             ? "organisation"
                             : "project");
    w.Key("slug").String(item.slug.str());
    w.Key("name").String(item.name.str());
    w.Key("deleted").String(item.deleted.ToApiString());
    w.Key("purgeAfter").String(item.purge_after.ToApiString());
    w.EndObject();
  }
  w.EndArray();
  w.EndObject();
}

}  // namespace

PlatformApi::PlatformApi(application::PlatformCatalogue& catalogue,
                         application::ManageRegions& regions, PrincipalIdentifier identify,
                         JsonLimits limits)
    : catalogue_(catalogue), regions_(regions), identify_(std::move(identify)), limits_(limits) {}

Result<void> PlatformApi::Register(Router& router) {
  struct Entry {
    Method method;
    std::string_view pattern;
    Response (PlatformApi::*handler)(const Request&);
  };
  const Entry entries[] = {
      {Method::kGet, "/api/v1/regions", &PlatformApi::ListRegions},
      {Method::kGet, "/api/v1/orgs", &PlatformApi::ListOrganisations},
      {Method::kPost, "/api/v1/orgs", &PlatformApi::CreateOrganisation},
      {Method::kGet, "/api/v1/orgs/{org}", &PlatformApi::GetOrganisation},
      {Method::kPatch, "/api/v1/orgs/{org}", &PlatformApi::UpdateOrganisation},
      {Method::kDelete, "/api/v1/orgs/{org}", &PlatformApi::DeleteOrganisation},
      {Method::kPost, "/api/v1/orgs/{org}/restore", &PlatformApi::RestoreOrganisation},
      {Method::kGet, "/api/v1/orgs/{org}/projects", &PlatformApi::ListProjects},
      {Method::kPost, "/api/v1/orgs/{org}/projects", &PlatformApi::CreateProject},
      {Method::kGet, "/api/v1/projects/{project}", &PlatformApi::GetProject},
      {Method::kPatch, "/api/v1/projects/{project}", &PlatformApi::UpdateProject},
      {Method::kDelete, "/api/v1/projects/{project}", &PlatformApi::DeleteProject},
      {Method::kPost, "/api/v1/projects/{project}/restore", &PlatformApi::RestoreProject},
      {Method::kGet, "/api/v1/trash", &PlatformApi::ListTrash},
  };
  for (const auto& entry : entries) {
    auto added = router.Add(entry.method, entry.pattern,
                            [this, handler = entry.handler](const Request& request) {
                              return (this->*handler)(request);
                            },
                            ReadsOnGet(entry.method));
    if (!added) return added;
  }
  return {};
}

Response PlatformApi::ListRegions(const Request& request) {
  // Regions are the platform's placement targets: any signed-in caller may see them (their
  // store URLs are redacted), nobody else.
  auto by = RequirePrincipal(identify_, request);
  if (!by) return ErrorResponse(by.error());
  auto regions = regions_.List();
  if (!regions) return ErrorResponse(regions.error());
  return JsonResponse(200, *regions, json::WriteRegionList);
}

Response PlatformApi::ListOrganisations(const Request& request) {
  auto by = RequirePrincipal(identify_, request);
  if (!by) return ErrorResponse(by.error());
  auto page = ReadPage(request);
  if (!page) return ErrorResponse(page.error());
  auto result = catalogue_.ListOrganisations(*by, *page);
  if (!result) return ErrorResponse(result.error());
  return JsonResponse(200, *result, json::WriteOrganisationPage);
}

Response PlatformApi::CreateOrganisation(const Request& request) {
  auto by = RequirePrincipal(identify_, request);
  if (!by) return ErrorResponse(by.error());
  auto body = ReadJsonBody(request, limits_);
  if (!body) return ErrorResponse(body.error());
  JsonObjectReader reader(*body, {"slug", "name", "region", "tier"});
  application::CreateOrganisationInput input;
  input.slug = reader.RequiredString("slug").value_or("");
  input.name = reader.OptionalString("name");
  input.region = reader.OptionalString("region");
  input.tier = reader.OptionalString("tier");
  if (auto checked = reader.Finish(); !checked) return ErrorResponse(checked.error());

  auto org = catalogue_.CreateOrganisation(*by, input);
  if (!org) return ErrorResponse(WithNotUnique(std::move(org.error())));
  Response response = JsonResponse(201, *org, json::WriteOrganisation);
  response.SetHeader("Location", std::string(kOrgs) + "/" + org->slug.str());
  return response;
}

Response PlatformApi::GetOrganisation(const Request& request) {
  auto by = RequirePrincipal(identify_, request);
  if (!by) return ErrorResponse(by.error());
  const std::string_view slug = request.Param("org");
  if (!IsSlug(slug)) return NotFound();
  auto org = catalogue_.GetOrganisation(*by, slug);
  if (!org) return ErrorResponse(org.error());
  return JsonResponse(200, *org, json::WriteOrganisation);
}

Response PlatformApi::UpdateOrganisation(const Request& request) {
  auto by = RequirePrincipal(identify_, request);
  if (!by) return ErrorResponse(by.error());
  const std::string_view slug = request.Param("org");
  if (!IsSlug(slug)) return NotFound();
  auto name = ReadRename(request, limits_);
  if (!name) return ErrorResponse(name.error());

  if (!*name) {
    // An empty PATCH still needs the permission to update: it must not become a way to read.
    auto found = catalogue_.RequireOrganisation(*by, slug, "organisation.update");
    if (!found) return ErrorResponse(found.error());
    return JsonResponse(200, found->first, json::WriteOrganisation);
  }
  auto org = catalogue_.RenameOrganisation(*by, slug, **name);
  if (!org) return ErrorResponse(org.error());
  return JsonResponse(200, *org, json::WriteOrganisation);
}

Response PlatformApi::DeleteOrganisation(const Request& request) {
  auto by = RequirePrincipal(identify_, request);
  if (!by) return ErrorResponse(by.error());
  const std::string_view slug = request.Param("org");
  if (!IsSlug(slug)) return NotFound();
  auto force = ReadForce(request);
  if (!force) return ErrorResponse(force.error());
  auto deleted = catalogue_.DeleteOrganisation(*by, slug, *force);
  if (!deleted) return ErrorResponse(deleted.error());
  return DeletionResponse(*deleted);
}

Response PlatformApi::RestoreOrganisation(const Request& request) {
  auto by = RequirePrincipal(identify_, request);
  if (!by) return ErrorResponse(by.error());
  const std::string_view slug = request.Param("org");
  if (!IsSlug(slug)) return NotFound();
  auto org = catalogue_.RestoreOrganisation(*by, slug);
  if (!org) return ErrorResponse(org.error());
  return JsonResponse(200, *org, json::WriteOrganisation);
}

Response PlatformApi::ListProjects(const Request& request) {
  auto by = RequirePrincipal(identify_, request);
  if (!by) return ErrorResponse(by.error());
  const std::string_view org = request.Param("org");
  if (!IsSlug(org)) return NotFound();
  auto page = ReadPage(request);
  if (!page) return ErrorResponse(page.error());
  auto result = catalogue_.ListProjects(*by, org, *page);
  if (!result) return ErrorResponse(result.error());
  return JsonResponse(200, *result, json::WriteProjectPage);
}

Response PlatformApi::CreateProject(const Request& request) {
  auto by = RequirePrincipal(identify_, request);
  if (!by) return ErrorResponse(by.error());
  const std::string_view org = request.Param("org");
  if (!IsSlug(org)) return NotFound();
  auto body = ReadJsonBody(request, limits_);
  if (!body) return ErrorResponse(body.error());
  JsonObjectReader reader(*body, {"slug", "name"});
  application::CreateProjectInput input;
  input.org = std::string(org);
  input.slug = reader.RequiredString("slug").value_or("");
  input.name = reader.OptionalString("name");
  if (auto checked = reader.Finish(); !checked) return ErrorResponse(checked.error());

  auto project = catalogue_.CreateProject(*by, input);
  if (!project) return ErrorResponse(WithNotUnique(std::move(project.error())));
  Response response = JsonResponse(201, *project, json::WriteProject);
  response.SetHeader("Location", std::string(kProjects) + "/" + project->slug.str());
  return response;
}

Response PlatformApi::GetProject(const Request& request) {
  auto by = RequirePrincipal(identify_, request);
  if (!by) return ErrorResponse(by.error());
  const std::string_view slug = request.Param("project");
  if (!IsSlug(slug)) return NotFound();
  auto project = catalogue_.GetProject(*by, slug);
  if (!project) return ErrorResponse(project.error());
  return JsonResponse(200, *project, json::WriteProject);
}

Response PlatformApi::UpdateProject(const Request& request) {
  auto by = RequirePrincipal(identify_, request);
  if (!by) return ErrorResponse(by.error());
  const std::string_view slug = request.Param("project");
  if (!IsSlug(slug)) return NotFound();
  auto name = ReadRename(request, limits_);
  if (!name) return ErrorResponse(name.error());

  if (!*name) {
    auto found = catalogue_.RequireProject(*by, slug, "project.update");
    if (!found) return ErrorResponse(found.error());
    return JsonResponse(200, found->first, json::WriteProject);
  }
  auto project = catalogue_.RenameProject(*by, slug, **name);
  if (!project) return ErrorResponse(project.error());
  return JsonResponse(200, *project, json::WriteProject);
}

Response PlatformApi::DeleteProject(const Request& request) {
  auto by = RequirePrincipal(identify_, request);
  if (!by) return ErrorResponse(by.error());
  const std::string_view slug = request.Param("project");
  if (!IsSlug(slug)) return NotFound();
  auto deleted = catalogue_.DeleteProject(*by, slug);
  if (!deleted) return ErrorResponse(deleted.error());
  return DeletionResponse(*deleted);
}

Response PlatformApi::RestoreProject(const Request& request) {
  auto by = RequirePrincipal(identify_, request);
  if (!by) return ErrorResponse(by.error());
  const std::string_view slug = request.Param("project");
  if (!IsSlug(slug)) return NotFound();
  auto project = catalogue_.RestoreProject(*by, slug);
  if (!project) return ErrorResponse(project.error());
  return JsonResponse(200, *project, json::WriteProject);
}

Response PlatformApi::ListTrash(const Request& request) {
  auto by = RequirePrincipal(identify_, request);
  if (!by) return ErrorResponse(by.error());
  auto items = catalogue_.ListDeleted(*by);
  if (!items) return ErrorResponse(items.error());
  return JsonResponse(200, *items, WriteTrash);
}

}  // namespace socle::adapters::http
