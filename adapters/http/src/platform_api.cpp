#include "socle/adapters/http/platform_api.hpp"

#include <algorithm>
#include <cctype>
#include <charconv>
#include <optional>
#include <string>

#include "socle/adapters/http/error_response.hpp"
#include "socle/adapters/http/json_object_reader.hpp"
#include "socle/adapters/json/catalogue_json.hpp"
#include "socle/adapters/json/json_writer.hpp"
#include "socle/application/validation.hpp"
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

Result<std::int64_t> ParseWholeNumber(std::string_view text, std::string field) {
  std::int64_t value = 0;
  const bool digits_only =
      !text.empty() && std::all_of(text.begin(), text.end(), [](char c) {
        return c >= '0' && c <= '9';
      });
  auto [end, ec] = std::from_chars(text.data(), text.data() + text.size(), value);
  if (!digits_only || ec != std::errc() || end != text.data() + text.size()) {
    return domain::Fail(
        Error::Field(std::move(field), "validation_invalid_number", "Must be a whole number."));
  }
  return value;
}

// page and perPage, PocketBase's list parameters; both problems are reported together.
Result<domain::PageRequest> ReadPage(const Request& request) {
  application::FieldErrors errors;
  std::optional<std::int64_t> page = domain::PageRequest{}.page;
  std::optional<std::int64_t> per_page = domain::PageRequest{}.per_page;
  if (auto text = request.Query("page")) page = errors.Take(ParseWholeNumber(*text, "page"));
  if (auto text = request.Query("perPage")) {
    per_page = errors.Take(ParseWholeNumber(*text, "perPage"));
  }
  if (!errors.empty()) return domain::Fail(errors.Release());
  return domain::PageRequest::Make(*page, *per_page);
}

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

}  // namespace

PlatformApi::PlatformApi(application::ManageOrganisations& organisations,
                         application::ManageProjects& projects,
                         application::ManageRegions& regions, JsonLimits limits)
    : organisations_(organisations), projects_(projects), regions_(regions), limits_(limits) {}

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
      {Method::kGet, "/api/v1/orgs/{org}/projects", &PlatformApi::ListProjects},
      {Method::kPost, "/api/v1/orgs/{org}/projects", &PlatformApi::CreateProject},
      {Method::kGet, "/api/v1/projects/{project}", &PlatformApi::GetProject},
      {Method::kPatch, "/api/v1/projects/{project}", &PlatformApi::UpdateProject},
      {Method::kDelete, "/api/v1/projects/{project}", &PlatformApi::DeleteProject},
  };
  for (const auto& entry : entries) {
    auto added = router.Add(entry.method, entry.pattern,
                            [this, handler = entry.handler](const Request& request) {
                              return (this->*handler)(request);
                            });
    if (!added) return added;
  }
  return {};
}

Response PlatformApi::ListRegions(const Request&) {
  auto regions = regions_.List();
  if (!regions) return ErrorResponse(regions.error());
  return JsonResponse(200, *regions, json::WriteRegionList);
}

Response PlatformApi::ListOrganisations(const Request& request) {
  auto page = ReadPage(request);
  if (!page) return ErrorResponse(page.error());
  auto result = organisations_.List(*page);
  if (!result) return ErrorResponse(result.error());
  return JsonResponse(200, *result, json::WriteOrganisationPage);
}

Response PlatformApi::CreateOrganisation(const Request& request) {
  auto body = ReadJsonBody(request, limits_);
  if (!body) return ErrorResponse(body.error());
  JsonObjectReader reader(*body, {"slug", "name", "region", "tier"});
  application::CreateOrganisationInput input;
  input.slug = reader.RequiredString("slug").value_or("");
  input.name = reader.OptionalString("name");
  input.region = reader.OptionalString("region");
  input.tier = reader.OptionalString("tier");
  if (auto checked = reader.Finish(); !checked) return ErrorResponse(checked.error());

  auto org = organisations_.Create(input);
  if (!org) return ErrorResponse(WithNotUnique(std::move(org.error())));
  Response response = JsonResponse(201, *org, json::WriteOrganisation);
  response.SetHeader("Location", std::string(kOrgs) + "/" + org->slug.str());
  return response;
}

Response PlatformApi::GetOrganisation(const Request& request) {
  const std::string_view slug = request.Param("org");
  if (!IsSlug(slug)) return NotFound();
  auto org = organisations_.Get(slug);
  if (!org) return ErrorResponse(org.error());
  return JsonResponse(200, *org, json::WriteOrganisation);
}

Response PlatformApi::UpdateOrganisation(const Request& request) {
  const std::string_view slug = request.Param("org");
  if (!IsSlug(slug)) return NotFound();
  auto name = ReadRename(request, limits_);
  if (!name) return ErrorResponse(name.error());

  auto org = *name ? organisations_.Rename(slug, **name) : organisations_.Get(slug);
  if (!org) return ErrorResponse(org.error());
  return JsonResponse(200, *org, json::WriteOrganisation);
}

Response PlatformApi::DeleteOrganisation(const Request& request) {
  const std::string_view slug = request.Param("org");
  if (!IsSlug(slug)) return NotFound();
  auto force = ReadForce(request);
  if (!force) return ErrorResponse(force.error());
  auto deleted = organisations_.Delete(slug, *force);
  if (!deleted) return ErrorResponse(deleted.error());
  return Response::Empty(204);
}

Response PlatformApi::ListProjects(const Request& request) {
  const std::string_view org = request.Param("org");
  if (!IsSlug(org)) return NotFound();
  auto page = ReadPage(request);
  if (!page) return ErrorResponse(page.error());
  auto result = projects_.List(std::string(org), *page);
  if (!result) return ErrorResponse(result.error());
  return JsonResponse(200, *result, json::WriteProjectPage);
}

Response PlatformApi::CreateProject(const Request& request) {
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

  auto project = projects_.Create(input);
  if (!project) return ErrorResponse(WithNotUnique(std::move(project.error())));
  Response response = JsonResponse(201, *project, json::WriteProject);
  response.SetHeader("Location", std::string(kProjects) + "/" + project->slug.str());
  return response;
}

Response PlatformApi::GetProject(const Request& request) {
  const std::string_view slug = request.Param("project");
  if (!IsSlug(slug)) return NotFound();
  auto project = projects_.Get(slug);
  if (!project) return ErrorResponse(project.error());
  return JsonResponse(200, *project, json::WriteProject);
}

Response PlatformApi::UpdateProject(const Request& request) {
  const std::string_view slug = request.Param("project");
  if (!IsSlug(slug)) return NotFound();
  auto name = ReadRename(request, limits_);
  if (!name) return ErrorResponse(name.error());

  auto project = *name ? projects_.Rename(slug, **name) : projects_.Get(slug);
  if (!project) return ErrorResponse(project.error());
  return JsonResponse(200, *project, json::WriteProject);
}

Response PlatformApi::DeleteProject(const Request& request) {
  const std::string_view slug = request.Param("project");
  if (!IsSlug(slug)) return NotFound();
  auto deleted = projects_.Delete(slug);
  if (!deleted) return ErrorResponse(deleted.error());
  return Response::Empty(204);
}

}  // namespace socle::adapters::http
