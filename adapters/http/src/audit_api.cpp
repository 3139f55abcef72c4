#include "socle/adapters/http/audit_api.hpp"

#include <charconv>
#include <optional>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

#include "audit_origin.hpp"
#include "socle/adapters/http/error_response.hpp"
#include "socle/adapters/json/audit_json.hpp"
#include "socle/adapters/json/json_writer.hpp"
#include "socle/adapters/json/record_json.hpp"
#include "socle/domain/timestamp.hpp"

namespace socle::adapters::http {

using application::AuditQuery;
using application::Principal;
using domain::Error;
using domain::ErrorCode;
using domain::Result;
using json::JsonWriter;

namespace {

constexpr std::int64_t kDefaultPerPage = 100;
constexpr std::int64_t kMaxPerPage = 500;
// Query values are ids, slugs and action names: anything longer is not one.
constexpr std::size_t kMaxValue = 200;

enum class Format { kJson, kJsonLines, kCsv };

struct SearchRequest {
  std::string org;
  std::string project;
  AuditQuery query;
  std::string cursor;
  Format format = Format::kJson;
};

// Reads the search parameters; every problem is reported at once, as field errors.
Result<SearchRequest> ReadSearch(const Request& request) {
  SearchRequest out;
  std::vector<domain::FieldError> errors;
  auto text = [&](std::string_view name) -> std::string {
    auto value = request.Query(name);
    if (!value) return {};
    if (value->size() > kMaxValue) {
      errors.push_back({std::string(name), "validation_length_out_of_range",
                        "Must be at most " + std::to_string(kMaxValue) + " characters."});
      return {};
    }
    return std::string(*value);
  };
  auto instant = [&](std::string_view name) -> std::optional<domain::Timestamp> {
    auto value = request.Query(name);
    if (!value || value->empty()) return std::nullopt;
    auto parsed = domain::Timestamp::Parse(*value);
    if (!parsed) {
      errors.push_back({std::string(name), "validation_invalid_date",
                        "Must be a UTC date and time such as 2026-01-31T23:59:59Z."});
      return std::nullopt;
    }
    return *parsed;
  };
  out.org = text("org");
  out.project = text("project");
  out.query.actor_id = text("actor");
  out.query.action = text("action");
  out.query.target_collection = text("collection");
  out.query.target_id = text("target");
  out.query.subject = text("subject");
  out.query.from = instant("from");
  out.query.to = instant("to");
  out.cursor = text("cursor");
  out.query.limit = kDefaultPerPage;
  if (auto per_page = request.Query("perPage"); per_page && !per_page->empty()) {
    std::int64_t value = 0;
    auto [end, ec] = std::from_chars(per_page->data(), per_page->data() + per_page->size(), value);
    if (ec != std::errc() || end != per_page->data() + per_page->size() || value < 1 ||
        value > kMaxPerPage) {
      errors.push_back({"perPage", "validation_invalid_value",
                        "Must be a whole number from 1 to " + std::to_string(kMaxPerPage) + "."});
    } else {
      out.query.limit = value;
    }
  }
  if (auto format = request.Query("format"); format && !format->empty()) {
    if (*format == "json") {
      out.format = Format::kJson;
    } else if (*format == "jsonl") {
      out.format = Format::kJsonLines;
    } else if (*format == "csv") {
      out.format = Format::kCsv;
    } else {
      errors.push_back({"format", "validation_invalid_value", "Must be json, jsonl or csv."});
    }
  }
  if (out.org.empty() && errors.empty()) {
    errors.push_back({"org", "validation_required", "Missing required value."});
  }
  if (!errors.empty()) return domain::Fail(Error::Fields(std::move(errors)));
  return out;
}

// Whether the decision lets the caller read personal data in clear.
bool SeesPersonal(const application::AccessDecision& decision) {
  return decision.superuser() || decision.Allows("records.read_pii");
}

// The project named in the path, checked for every one of `permissions` (not_found without
// standing, permission_denied without one of them).
Result<domain::Project> ProjectFor(application::PlatformCatalogue& platform, const Principal& by,
                                   std::string_view slug,
                                   std::initializer_list<std::string_view> permissions) {
  auto found = platform.RequireProject(by, slug, *permissions.begin());
  if (!found) return domain::Fail(found.error());
  for (std::string_view permission : permissions) {
    if (!found->second.Allows(permission)) {
      return domain::Fail(ErrorCode::kPermissionDenied,
                          "This needs " + std::string(permission) + " on the project.");
    }
  }
  return std::move(found->first);
}

// Who acts, for the trail, as the platform knows them.
application::AuditContext ContextOf(const Principal& by, const Request& request) {
  using domain::AuditActorKind;
  application::AuditContext context;
  context.actor.id = by.id;
  context.actor.kind = by.kind == Principal::Kind::kSuperuser ? AuditActorKind::kSuperuser
                       : by.kind == Principal::Kind::kApiKey  ? AuditActorKind::kApiKey
                                                              : AuditActorKind::kMember;
  context.origin = AuditOriginOf(request, request.client_address);
  return context;
}

// {items, nextCursor}: one page of events.
Response PageResponse(const application::AuditPage& page, bool personal) {
  JsonWriter w;
  w.BeginObject().Key("items").BeginArray();
  for (const auto& item : page.items) json::WriteAuditEvent(w, item, personal);
  w.EndArray();
  w.Key("nextCursor");
  if (page.next_cursor.empty()) {
    w.Null();
  } else {
    w.String(page.next_cursor);
  }
  w.EndObject();
  return Response::Json(200, std::move(w).Take());
}

}  // namespace

Result<void> AuditApi::Register(Router& router) {
  struct Entry {
    Method method;
    std::string_view pattern;
    Response (AuditApi::*handler)(const Request&);
  };
  const Entry entries[] = {
      {Method::kGet, "/api/v1/audit", &AuditApi::Search},
      {Method::kGet, "/api/v1/audit/records/{collection}/{id}", &AuditApi::RecordHistory},
      {Method::kGet, "/api/v1/audit/verify", &AuditApi::Verify},
      {Method::kPost, "/api/v1/audit/checkpoint", &AuditApi::Checkpoint},
  };
  const Entry subject_entries[] = {
      {Method::kGet, "/api/v1/projects/{project}/subjects/{collection}/{id}",
       &AuditApi::ExportSubject},
      {Method::kDelete, "/api/v1/projects/{project}/subjects/{collection}/{id}",
       &AuditApi::EraseSubject},
  };
  auto add = [&](const Entry& entry) {
    return router.Add(entry.method, entry.pattern,
                      [this, handler = entry.handler](const Request& request) {
                        return (this->*handler)(request);
                      });
  };
  for (const auto& entry : entries) {
    if (auto added = add(entry); !added) return added;
  }
  if (subjects_ != nullptr) {
    for (const auto& entry : subject_entries) {
      if (auto added = add(entry); !added) return added;
    }
  }
  return {};
}

Response AuditApi::Search(const Request& request) {
  auto by = RequirePrincipal(identify_, request);
  if (!by) return ErrorResponse(by.error());
  auto search = ReadSearch(request);
  if (!search) return ErrorResponse(search.error());

  std::optional<domain::Id> org_id;
  std::optional<domain::Project> project;
  std::optional<application::AccessDecision> decision;
  if (!search->project.empty()) {
    auto found = platform_.RequireProject(*by, search->project, "audit.read");
    if (!found) return ErrorResponse(found.error());
    // The project must belong to the organisation named: no reaching across with a slug.
    if (found->first.org_slug.str() != search->org) {
      return ErrorResponse(Error::Make(ErrorCode::kNotFound, "The project was not found."));
    }
    org_id = found->first.org_id;
    project = std::move(found->first);
    decision = std::move(found->second);
  } else {
    auto org = platform_.RequireOrganisation(*by, search->org, "audit.read");
    if (!org) return ErrorResponse(org.error());
    org_id = org->first.id;
    decision = std::move(org->second);
  }
  const bool personal = SeesPersonal(*decision) && search->format == Format::kJson;

  if (search->format == Format::kJson) {
    auto page = log_.Search(*org_id, project ? &*project : nullptr, search->query, search->cursor);
    if (!page) return ErrorResponse(page.error());
    return PageResponse(*page, personal);
  }

  // Exports: page after page up to the bound, personal data never included.
  std::string body = search->format == Format::kCsv ? json::AuditCsvHeader() : std::string();
  std::string cursor = search->cursor;
  AuditQuery query = search->query;
  query.limit = kMaxPerPage;
  std::int64_t exported = 0;
  while (true) {
    auto page = log_.Search(*org_id, project ? &*project : nullptr, query, cursor);
    if (!page) return ErrorResponse(page.error());
    for (const auto& item : page->items) {
      if (search->format == Format::kCsv) {
        body += json::AuditCsvRow(item);
      } else {
        JsonWriter w;
        json::WriteAuditEvent(w, item, false);
        body += std::move(w).Take();
        body += '\n';
      }
    }
    exported += static_cast<std::int64_t>(page->items.size());
    cursor = std::move(page->next_cursor);
    if (cursor.empty() || exported >= kMaxExport) break;
  }
  const bool csv = search->format == Format::kCsv;
  Response response = Response::Text(200, std::move(body),
                                     csv ? "text/csv; charset=utf-8" : "application/x-ndjson");
  response.SetHeader("Content-Disposition",
                     csv ? "attachment; filename=\"audit.csv\""
                         : "attachment; filename=\"audit.jsonl\"");
  if (!cursor.empty()) response.SetHeader("X-Next-Cursor", cursor);
  return response;
}

Response AuditApi::RecordHistory(const Request& request) {
  auto by = RequirePrincipal(identify_, request);
  if (!by) return ErrorResponse(by.error());
  auto search = ReadSearch(request);
  if (!search) return ErrorResponse(search.error());
  if (search->project.empty()) {
    return ErrorResponse(Error::Field("project", "validation_required", "Missing required value."));
  }
  auto project = platform_.RequireProject(*by, search->project, "audit.read");
  if (!project) return ErrorResponse(project.error());
  if (project->first.org_slug.str() != search->org) {
    return ErrorResponse(Error::Make(ErrorCode::kNotFound, "The project was not found."));
  }
  AuditQuery query = search->query;
  query.target_collection = std::string(request.Param("collection"));
  query.target_id = std::string(request.Param("id"));
  auto page = log_.Search(project->first.org_id, &project->first, query, search->cursor);
  if (!page) return ErrorResponse(page.error());
  return PageResponse(*page, SeesPersonal(project->second));
}

Response AuditApi::Verify(const Request& request) {
  auto by = RequirePrincipal(identify_, request);
  if (!by) return ErrorResponse(by.error());
  const std::string_view org_slug = request.Query("org").value_or(std::string_view{});
  const std::string_view key = request.Query("publicKey").value_or(std::string_view{});
  if (key.size() > kMaxValue) {
    return ErrorResponse(Error::Field("publicKey", "validation_length_out_of_range",
                                      "Must be a base64url Ed25519 public key."));
  }
  std::optional<domain::Organisation> org;
  if (org_slug.empty()) {
    if (by->kind != Principal::Kind::kSuperuser) {
      return ErrorResponse(Error::Field("org", "validation_required", "Missing required value."));
    }
  } else {
    auto found = platform_.RequireOrganisation(*by, org_slug, "audit.read");
    if (!found) return ErrorResponse(found.error());
    org = std::move(found->first);
  }
  auto report = log_.Verify(org ? &*org : nullptr, key);
  if (!report) return ErrorResponse(report.error());
  JsonWriter w;
  json::WriteAuditVerification(w, *report);
  return Response::Json(200, std::move(w).Take());
}

Response AuditApi::Checkpoint(const Request& request) {
  auto by = RequirePrincipal(identify_, request);
  if (!by) return ErrorResponse(by.error());
  if (by->kind != Principal::Kind::kSuperuser) {
    return ErrorResponse(
        Error::Make(ErrorCode::kPermissionDenied, "Only superusers can write audit checkpoints."));
  }
  auto checkpoint = log_.Checkpoint(false);
  if (!checkpoint) return ErrorResponse(checkpoint.error());
  JsonWriter w;
  json::WriteAuditCheckpoint(w, *checkpoint);
  return Response::Json(201, std::move(w).Take());
}

Response AuditApi::ExportSubject(const Request& request) {
  auto by = RequirePrincipal(identify_, request);
  if (!by) return ErrorResponse(by.error());
  auto project =
      ProjectFor(platform_, *by, request.Param("project"), {"records.read_pii", "audit.read"});
  if (!project) return ErrorResponse(project.error());
  auto exported = subjects_->Export(project->slug.str(), request.Param("collection"),
                                    request.Param("id"));
  if (!exported) return ErrorResponse(exported.error());
  JsonWriter w;
  json::WriteSubjectExport(w, *exported, request.Param("id"));
  Response response = Response::Json(200, std::move(w).Take());
  response.SetHeader("Cache-Control", "no-store");
  return response;
}

Response AuditApi::EraseSubject(const Request& request) {
  auto by = RequirePrincipal(identify_, request);
  if (!by) return ErrorResponse(by.error());
  auto project =
      ProjectFor(platform_, *by, request.Param("project"), {"records.delete", "records.read_pii"});
  if (!project) return ErrorResponse(project.error());
  const std::string_view mode_text = request.Query("mode").value_or("delete");
  application::ErasureMode mode = application::ErasureMode::kDelete;
  if (mode_text == "pseudonymise") {
    mode = application::ErasureMode::kPseudonymise;
  } else if (mode_text != "delete") {
    return ErrorResponse(
        Error::Field("mode", "validation_invalid_value", "Must be delete or pseudonymise."));
  }
  auto erased = subjects_->Erase(project->slug.str(), request.Param("collection"),
                                 request.Param("id"), mode, ContextOf(*by, request));
  if (!erased) return ErrorResponse(erased.error());
  JsonWriter w;
  json::WriteErasureReport(w, *erased);
  return Response::Json(200, std::move(w).Take());
}

}  // namespace socle::adapters::http
