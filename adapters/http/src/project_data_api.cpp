#include "socle/adapters/http/project_data_api.hpp"

#include <arpa/inet.h>

#include <algorithm>
#include <charconv>
#include <limits>
#include <optional>
#include <string>
#include <unordered_map>
#include <utility>
#include <vector>

#include "audit_origin.hpp"
#include "socle/adapters/http/error_response.hpp"
#include "socle/adapters/http/request_target.hpp"
#include "socle/adapters/json/collection_json.hpp"
#include "socle/adapters/json/json_writer.hpp"
#include "socle/adapters/json/project_settings_json.hpp"
#include "socle/adapters/json/record_json.hpp"
#include "socle/domain/record_input.hpp"

namespace socle::adapters::http {

using json::ExpandRequest;
using json::FieldSelection;
using json::JsonWriter;
using json::RecordViewer;

using domain::Error;
using domain::ErrorCode;
using domain::FieldError;
using domain::InputFormat;
using domain::Result;

namespace {

constexpr std::string_view kBase = "/p/{project}/api";
// PocketBase's answer when a superuser-only route is called without a superuser's token.
constexpr std::string_view kSuperuserRequired =
    "The request requires valid record authorization token.";
// Who the schema history names for changes made through this API; the authentication work
// will name the superuser.
const std::string kActor = "superuser";
// ManageRecords' not_found message for an unknown collection (PocketBase's).
// PocketBase's collections list and records list bounds (tools/search).
constexpr std::int64_t kDefaultPerPage = 30;
constexpr std::int64_t kMaxPerPage = 1000;
// PocketBase's default CORS configuration (apis/middlewares_cors.go).
constexpr std::string_view kCorsMethods = "GET,HEAD,PUT,PATCH,POST,DELETE";

// --- CORS

bool HasOrigin(const Request& request) {
  auto origin = request.Header("origin");
  return origin && !origin->empty();
}

// Every answer: Vary: Origin, and Access-Control-Allow-Origin: * when the browser sent an
// Origin (PocketBase's default, which holds no credentials: tokens travel in a header).
Response WithCors(const Request& request, Response response) {
  response.SetHeader("Vary", "Origin");
  if (HasOrigin(request)) response.SetHeader("Access-Control-Allow-Origin", "*");
  return response;
}

// OPTIONS: the preflight answer, echoing the requested headers as PocketBase does when no
// header list is configured.
Response Preflight(const Request& request) {
  Response response = Response::Empty(204);
  if (!HasOrigin(request)) {
    response.SetHeader("Vary", "Origin");
    return response;
  }
  // One Vary field: the server writes each header name once.
  response.SetHeader("Vary",
                     "Origin, Access-Control-Request-Method, Access-Control-Request-Headers");
  response.SetHeader("Access-Control-Allow-Origin", "*");
  response.SetHeader("Access-Control-Allow-Methods", std::string(kCorsMethods));
  auto headers = request.Header("access-control-request-headers");
  if (headers && !headers->empty()) {
    response.SetHeader("Access-Control-Allow-Headers", std::string(*headers));
  }
  return response;
}

// --- errors

Response Unauthorized() { return ErrorResponse(401, kSuperuserRequired); }

// The data API answers a unique-key collision as PocketBase does: 400 with a
// validation_not_unique field error (the status table gives already_exists 409 for the
// platform API), keyed by `unique_field` when the use case named none.
Error AsDataError(Error error, std::string_view unique_field) {
  if (error.code == ErrorCode::kAlreadyExists) {
    error.code = ErrorCode::kInvalidArgument;
    if (error.fields.empty()) {
      error.fields.push_back(
          FieldError{std::string(unique_field), "validation_not_unique", "Value must be unique."});
    }
  }
  return error;
}

Response DataError(Error error, std::string_view unique_field = "id") {
  return ErrorResponse(AsDataError(std::move(error), unique_field));
}

std::unexpected<Error> FieldFailure(std::string message, std::string field, std::string code,
                                    std::string field_message) {
  Error error = Error::Make(ErrorCode::kInvalidArgument, std::move(message));
  error.fields.push_back(FieldError{std::move(field), std::move(code), std::move(field_message)});
  return std::unexpected(std::move(error));
}

// --- query parameters

// Go's strconv.Atoi, through which PocketBase reads page and perPage: an optional sign and
// decimal digits.
Result<std::int64_t> ParseInteger(std::string_view text, std::string name) {
  std::string_view digits = text;
  if (!digits.empty() && digits.front() == '+') digits.remove_prefix(1);
  std::int64_t value = 0;
  auto [end, ec] = std::from_chars(digits.data(), digits.data() + digits.size(), value);
  if (digits.empty() || ec != std::errc() || end != digits.data() + digits.size()) {
    // The message is built first: arguments are evaluated in no set order, and `name` moves.
    std::string message = "Invalid " + name + " parameter.";
    return FieldFailure(std::move(message), std::move(name), "validation_invalid_number",
                        "Must be a whole number.");
  }
  return value;
}

// Go's strconv.ParseBool, through which PocketBase reads skipTotal.
Result<bool> ParseBool(std::string_view text, std::string name) {
  for (std::string_view yes : {"1", "t", "T", "true", "TRUE", "True"}) {
    if (text == yes) return true;
  }
  for (std::string_view no : {"0", "f", "F", "false", "FALSE", "False"}) {
    if (text == no) return false;
  }
  std::string message = "Invalid " + name + " parameter.";
  return FieldFailure(std::move(message), std::move(name), "validation_invalid_value",
                      "Must be true or false.");
}

struct PageParameters {
  std::int64_t page = 1;
  std::int64_t per_page = kDefaultPerPage;
  bool skip_total = false;
};

Result<PageParameters> ReadPageParameters(const Request& request) {
  PageParameters out;
  if (auto text = request.Query("page"); text && !text->empty()) {
    auto page = ParseInteger(*text, "page");
    if (!page) return std::unexpected(std::move(page.error()));
    out.page = *page;
  }
  if (auto text = request.Query("perPage"); text && !text->empty()) {
    auto per_page = ParseInteger(*text, "perPage");
    if (!per_page) return std::unexpected(std::move(per_page.error()));
    out.per_page = *per_page;
  }
  if (auto text = request.Query("skipTotal"); text && !text->empty()) {
    auto skip = ParseBool(*text, "skipTotal");
    if (!skip) return std::unexpected(std::move(skip.error()));
    out.skip_total = *skip;
  }
  return out;
}

Result<FieldSelection> ReadFields(const Request& request) {
  return FieldSelection::Parse(request.Query("fields").value_or(std::string_view{}));
}

// PocketBase lets only superusers name @collection.* or @request.* in a client filter or sort:
// a guest could otherwise probe other collections through the timing or the result of a list.
std::optional<Response> RefuseSuperuserOnlyFields(const Request& request) {
  for (std::string_view parameter : {"filter", "sort"}) {
    const std::string_view text = request.Query(parameter).value_or(std::string_view{});
    for (std::string_view prefix : {"@collection.", "@request."}) {
      if (text.find(prefix) != std::string_view::npos) {
        return ErrorResponse(403, "Only superusers can filter by " + std::string(prefix));
      }
    }
  }
  return std::nullopt;
}

// --- the caller

application::Caller MakeCaller(const Request& request, application::Caller caller,
                               JsonValue body, application::AuditOrigin origin) {
  caller.origin = std::move(origin);
  caller.request.method = std::string(ToString(request.method));
  caller.request.body = std::move(body);
  caller.request.query = request.query;
  caller.request.headers.reserve(request.headers.size());
  for (const auto& [name, value] : request.headers) {
    std::string key = name;  // already lower-case
    std::replace(key.begin(), key.end(), '-', '_');
    caller.request.headers.emplace_back(std::move(key), value);
  }
  return caller;
}

// What the caller may see of auth records: everything as a superuser, their own e-mail as a
// record of an auth collection. Points into `caller`, which must outlive the viewer.
RecordViewer ViewerFor(const application::Caller& caller) {
  RecordViewer viewer;
  // A platform caller holding records.read reads as a superuser does (ManageRecords lets it).
  viewer.superuser = caller.superuser || caller.Holds("records.read");
  if (!viewer.superuser) {
    viewer.readable = [&caller](const domain::Field& field) { return caller.CanReadField(field); };
  }
  if (caller.request.auth && caller.request.auth->collection != nullptr) {
    viewer.auth_collection_id = caller.request.auth->collection->id;
    if (auto index = caller.request.auth->collection->FieldIndex("id")) {
      const JsonValue& id = caller.request.auth->record.values[*index];
      if (id.type() == JsonValue::Type::kString) viewer.auth_record_id = id.AsString();
    }
  }
  return viewer;
}

// --- bodies

// A form's fields as a JSON object, as PocketBase's form binding builds it: a key sent once is
// a string, a repeated key an array of strings, and every "@jsonPayload" value (JSON objects the
// SDK sends beside files) is merged over them member by member.
Result<JsonValue> FormObject(const FormData& form, const JsonLimits& limits) {
  if (!form.files.empty()) {
    // Storing files is the file storage work's; accepting them meanwhile would record names of
    // files that exist nowhere.
    return FieldFailure("Failed to read the submitted data.", form.files.front().field,
                        "validation_invalid_file", "File uploads are not supported yet.");
  }
  std::vector<std::pair<std::string, std::vector<std::string>>> grouped;
  std::unordered_map<std::string_view, std::size_t> index;
  std::vector<std::string_view> payloads;
  for (const auto& [name, value] : form.fields) {
    if (name == "@jsonPayload") {
      payloads.push_back(value);
      continue;
    }
    auto [it, inserted] = index.try_emplace(name, grouped.size());
    if (inserted) grouped.emplace_back(name, std::vector<std::string>{});
    grouped[it->second].second.push_back(value);
  }
  std::vector<JsonValue::Member> members;
  members.reserve(grouped.size());
  for (auto& [name, values] : grouped) {
    if (values.size() == 1) {
      members.emplace_back(std::move(name), JsonValue::String(std::move(values.front())));
      continue;
    }
    std::vector<JsonValue> items;
    items.reserve(values.size());
    for (auto& value : values) items.push_back(JsonValue::String(std::move(value)));
    members.emplace_back(std::move(name), JsonValue::Array(std::move(items)));
  }
  for (std::string_view payload : payloads) {
    auto parsed = ParseJsonObject(payload, limits);
    if (!parsed) {
      return FieldFailure("Failed to read the submitted data.", "@jsonPayload",
                          "validation_invalid_json", parsed.error().message);
    }
    for (const auto& [key, value] : parsed->members()) {
      auto existing = std::find_if(members.begin(), members.end(),
                                   [&](const JsonValue::Member& m) { return m.first == key; });
      if (existing != members.end()) {
        existing->second = value;
      } else {
        members.emplace_back(key, value);
      }
    }
  }
  return JsonValue::Object(std::move(members));
}

struct Body {
  JsonValue value = JsonValue::Object({});
  InputFormat format = InputFormat::kJson;
};

// A record (or batch) body: JSON, multipart/form-data or application/x-www-form-urlencoded, as
// PocketBase reads them. An empty body is an empty object whatever its type; a body without a
// Content-Type is read as JSON (curl users forget the header); any other type is refused.
Result<Body> ReadBody(const Request& request, const JsonLimits& limits,
                      const FormLimits& form_limits) {
  Body out;
  if (request.body.empty()) return out;
  const std::string_view content_type =
      request.Header("content-type").value_or(std::string_view{});
  const std::string media = MediaType(content_type);
  if (media.empty() || media == "application/json") {
    auto parsed = ParseJsonObject(request.body, limits);
    if (!parsed) return std::unexpected(std::move(parsed.error()));
    out.value = std::move(*parsed);
    return out;
  }
  Result<FormData> form = std::unexpected(Error{});
  if (media == "multipart/form-data") {
    auto boundary = MultipartBoundary(content_type);
    if (!boundary) return std::unexpected(std::move(boundary.error()));
    form = ParseMultipart(request.body, *boundary, form_limits);
  } else if (media == "application/x-www-form-urlencoded") {
    form = ParseUrlEncoded(request.body, form_limits);
  } else {
    return domain::Fail(ErrorCode::kInvalidArgument,
                        "Unsupported Content-Type: send application/json, multipart/form-data "
                        "or application/x-www-form-urlencoded.");
  }
  if (!form) return std::unexpected(std::move(form.error()));
  auto object = FormObject(*form, limits);
  if (!object) return std::unexpected(std::move(object.error()));
  out.value = std::move(*object);
  out.format = InputFormat::kForm;
  return out;
}

// The write input of a create or an update: the body as read (JSON or form), the expansions of
// the answer, and the JSON reader for form values that spell JSON (a json field, or a list
// given as ["a","b"] in one form value), as PocketBase reads them.
application::RecordWriteInput WriteInput(const Request& request, Body body) {
  application::RecordWriteInput input;
  input.format = body.format;
  input.body = std::move(body.value);
  input.expand = std::string(request.Query("expand").value_or(std::string_view{}));
  input.parse_json = [](std::string_view text) { return ParseJson(text); };
  return input;
}

// --- responses

template <typename Write>
Response JsonResponse(int status, Write write) {
  JsonWriter w;
  write(w);
  return Response::Json(status, std::move(w).Take());
}

// A collection as the `fields` parameter selects it: collections are few and small, so the
// selection goes through a parsed copy rather than a dedicated writer.
void WriteCollectionSelected(JsonWriter& w, const domain::Collection& collection,
                             const FieldSelection& fields) {
  if (fields.root() == nullptr) {
    json::WriteCollection(w, collection);
    return;
  }
  JsonWriter whole;
  json::WriteCollection(whole, collection);
  JsonLimits own;
  own.max_bytes = std::numeric_limits<std::size_t>::max();
  auto parsed = ParseJson(whole.str(), own);
  if (!parsed) {  // cannot happen: the writer's output is valid JSON
    w.Raw(whole.str());
    return;
  }
  json::WriteSelectedValue(w, *parsed,
                           FieldSelection::Pick{FieldSelection::Pick::Kind::kNested, nullptr,
                                                fields.root()});
}

// Settings as the `fields` parameter selects them (PocketBase applies it to every JSON answer).
void WriteSettingsSelected(JsonWriter& w, const domain::ProjectSettings& settings,
                           const FieldSelection& fields) {
  if (fields.root() == nullptr) {
    json::WriteProjectSettings(w, settings);
    return;
  }
  json::WriteSelectedValue(w, json::ProjectSettingsValue(settings),
                           FieldSelection::Pick{FieldSelection::Pick::Kind::kNested, nullptr,
                                                fields.root()});
}

template <typename RecordResultType>
Response RecordResponse(const RecordResultType& result, const FieldSelection& fields,
                        const ExpandRequest& expand, const RecordViewer& viewer) {
  return JsonResponse(200, [&](JsonWriter& w) {
    json::WriteRecord(w, result.record, fields.root(), &expand, viewer);
  });
}

// --- batch

// One batch request, read from {method, url, headers?, body?}.
struct BatchEntry {
  application::BatchOperation operation;
  FieldSelection fields;
  ExpandRequest expand;
};

// The failure of one operation in PocketBase's batch shape: 400, with the operation's own error
// response under data.requests.<index>.response; nothing was written.
Response BatchFailureResponse(std::size_t index, const Error& error) {
  const Response inner = DataError(error);
  Response response = JsonResponse(400, [&](JsonWriter& w) {
    w.BeginObject();
    w.Key("status").Int(400).Key("message").String("Batch transaction failed.");
    w.Key("data").BeginObject().Key("requests").BeginObject();
    w.Key(std::to_string(index)).BeginObject();
    w.Key("code").String("batch_request_failed");
    w.Key("message").String("Batch request failed.");
    w.Key("response").Raw(inner.body);
    w.EndObject().EndObject().EndObject().EndObject();
  });
  response.log_detail = inner.log_detail;
  return response;
}

// Splits a batch URL "/api/collections/{c}/records[/{id}][?query]" (relative to the project,
// as the SDK sends it) into its collection, id and query; nullopt for any other URL.
struct BatchTarget {
  std::string collection;
  std::optional<std::string> id;
  Request::Pairs query;
};

std::optional<BatchTarget> ParseBatchUrl(std::string_view url) {
  const std::size_t question = url.find('?');
  std::string_view path = url.substr(0, question);
  constexpr std::string_view kPrefix = "/api/collections/";
  if (!path.starts_with(kPrefix)) return std::nullopt;
  path.remove_prefix(kPrefix.size());
  std::vector<std::string_view> segments;
  while (true) {
    const std::size_t slash = path.find('/');
    segments.push_back(path.substr(0, slash));
    if (slash == std::string_view::npos) break;
    path.remove_prefix(slash + 1);
  }
  if ((segments.size() != 2 && segments.size() != 3) || segments[1] != "records") {
    return std::nullopt;
  }
  BatchTarget target;
  auto collection = PercentDecode(segments[0], false);
  if (!collection || collection->empty()) return std::nullopt;
  target.collection = std::move(*collection);
  if (segments.size() == 3) {
    auto id = PercentDecode(segments[2], false);
    if (!id || id->empty()) return std::nullopt;
    target.id = std::move(*id);
  }
  if (question != std::string_view::npos) {
    std::string_view query = url.substr(question + 1);
    while (!query.empty()) {
      const std::size_t amp = query.find('&');
      const std::string_view pair = query.substr(0, amp);
      query = amp == std::string_view::npos ? std::string_view{} : query.substr(amp + 1);
      if (pair.empty()) continue;
      const std::size_t equals = pair.find('=');
      auto name = PercentDecode(pair.substr(0, equals), true);
      auto value = PercentDecode(
          equals == std::string_view::npos ? std::string_view{} : pair.substr(equals + 1), true);
      if (!name || !value) return std::nullopt;
      target.query.emplace_back(std::move(*name), std::move(*value));
    }
  }
  return target;
}

std::string_view QueryValue(const Request::Pairs& query, std::string_view name) {
  for (const auto& [key, value] : query) {
    if (key == name) return value;
  }
  return {};
}

std::string Upper(std::string_view text) {
  std::string out(text);
  std::transform(out.begin(), out.end(), out.begin(), [](unsigned char c) {
    return static_cast<char>(c >= 'a' && c <= 'z' ? c - ('a' - 'A') : c);
  });
  return out;
}

}  // namespace

ProjectDataApi::ProjectDataApi(application::ManageCollections& collections,
                               application::ManageRecords& records,
                               application::ManageSettings& settings, CallerIdentifier identify,
                               JsonLimits limits, FormLimits form_limits)
    : collections_(collections),
      records_(records),
      settings_(&settings),
      identify_(std::move(identify)),
      limits_(limits),
      form_limits_(form_limits) {}

ProjectDataApi::ProjectDataApi(application::ManageCollections& collections,
                               application::ManageRecords& records, CallerIdentifier identify,
                               JsonLimits limits, FormLimits form_limits)
    : collections_(collections),
      records_(records),
      settings_(nullptr),
      identify_(std::move(identify)),
      limits_(limits),
      form_limits_(form_limits) {}

CallerIdentifier SuperusersBy(SuperuserCheck check) {
  return [check = std::move(check)](const Request& request) -> Result<application::Caller> {
    application::Caller caller;
    caller.superuser = check(request);
    return caller;
  };
}

std::string_view PresentedToken(const Request& request) {
  std::string_view value = request.Header("authorization").value_or(std::string_view{});
  while (!value.empty() && value.front() == ' ') value.remove_prefix(1);
  while (!value.empty() && value.back() == ' ') value.remove_suffix(1);
  constexpr std::string_view kBearer = "bearer ";
  if (value.size() > kBearer.size()) {
    bool bearer = true;
    for (std::size_t i = 0; i < kBearer.size(); ++i) {
      const char c = value[i] >= 'A' && value[i] <= 'Z' ? static_cast<char>(value[i] - 'A' + 'a')
                                                         : value[i];
      bearer = bearer && c == kBearer[i];
    }
    if (bearer) {
      value.remove_prefix(kBearer.size());
      while (!value.empty() && value.front() == ' ') value.remove_prefix(1);
    }
  }
  return value;
}

CallerIdentifier TokenIdentifier(application::Authenticate& authenticate,
                                 application::ManageApiKeys* api_keys,
                                 application::PlatformCallers* platform) {
  return [&authenticate, api_keys, platform](const Request& request) -> Result<application::Caller> {
    std::string_view token = PresentedToken(request);
    const std::string_view header_key =
        request.Header("x-api-key").value_or(std::string_view{});
    if (token.empty()) token = header_key;
    if (token.empty()) return application::Caller{};
    if (token.starts_with("sk_")) {
      if (api_keys == nullptr) {
        return domain::Fail(ErrorCode::kUnauthenticated, "The API key is not valid.");
      }
      auto key = api_keys->Identify(request.Param("project"), token);
      if (!key || key->api_key_org.empty()) return key;
      if (platform == nullptr) {
        return domain::Fail(ErrorCode::kUnauthenticated, "The API key is not valid.");
      }
      return platform->ApiKey(request.Param("project"), std::move(*key));
    }
    auto caller = authenticate.Identify(request.Param("project"), token);
    if (caller || platform == nullptr || caller.error().code != ErrorCode::kUnauthenticated) {
      return caller;
    }
    // Not a token of this project: perhaps a platform member's.
    auto member = platform->Member(request.Param("project"), token);
    if (member) return member;
    return caller;
  };
}

void ProjectDataApi::ServeAuthentication(application::Authenticate& authenticate,
                                         TokenSigner& signer, application::AccountEmails* emails) {
  authenticate_ = &authenticate;
  signer_ = &signer;
  emails_ = emails;
}

namespace {

void WriteAuthResult(JsonWriter& w, const application::AuthResult& result) {
  // The record is shown to its owner: its own e-mail included, hidden fields not.
  RecordViewer viewer;
  viewer.auth_collection_id = result.record.record.collection->id;
  const std::string id = result.record.record.record.Id(*result.record.record.collection);
  viewer.auth_record_id = id;
  w.BeginObject();
  w.Key("token").String(result.token);
  w.Key("record");
  json::WriteRecord(w, result.record.record, nullptr, nullptr, viewer);
  w.EndObject();
}

std::string BodyText(const JsonValue& body, std::string_view key) {
  const JsonValue* value = body.Find(key);
  if (value == nullptr) return {};
  if (value->type() == JsonValue::Type::kArray && !value->items().empty()) {
    value = &value->items().back();
  }
  return value->type() == JsonValue::Type::kString ? value->AsString() : std::string();
}

}  // namespace

Response ProjectDataApi::AuthWithPassword(const Request& request) {
  auto body = ReadBody(request, limits_, form_limits_);
  if (!body) return ErrorResponse(body.error());
  application::ClientInfo client;
  client.address = ClientAddress(request);
  client.user_agent = std::string(request.Header("user-agent").value_or(std::string_view{}));
  auto result = authenticate_->WithPassword(
      request.Param("project"), request.Param("collection"), BodyText(body->value, "identity"),
      BodyText(body->value, "password"), BodyText(body->value, "identityField"), client);
  if (!result) return DataError(std::move(result.error()));
  return JsonResponse(200, [&](JsonWriter& w) { WriteAuthResult(w, *result); });
}

Response ProjectDataApi::AuthRefresh(const Request& request) {
  auto identified = identify_(request);
  if (!identified) return DataError(std::move(identified.error()));
  // Role switching (a Socle extension): {"role": "editor"} acts with that role from now on,
  // {"role": ""} with all of the record's roles again; without it the token's choice stays.
  std::optional<std::string> role;
  if (!request.body.empty()) {
    auto body = ReadBody(request, limits_, form_limits_);
    if (!body) return ErrorResponse(body.error());
    if (const JsonValue* chosen = body->value.Find("role")) {
      if (chosen->type() != JsonValue::Type::kString) {
        return ErrorResponse(domain::Error::Field("role", "validation_invalid_type",
                                                  "Must be a string."));
      }
      role = chosen->AsString();
    }
  }
  auto result = authenticate_->Refresh(request.Param("project"), request.Param("collection"),
                                       *identified, std::move(role));
  if (!result) return DataError(std::move(result.error()));
  return JsonResponse(200, [&](JsonWriter& w) { WriteAuthResult(w, *result); });
}

Response ProjectDataApi::AuthMethods(const Request& request) {
  auto methods = authenticate_->Methods(request.Param("project"), request.Param("collection"));
  if (!methods) return DataError(std::move(methods.error()));
  return JsonResponse(200, [&](JsonWriter& w) {
    w.BeginObject();
    w.Key("password").BeginObject().Key("enabled").Bool(methods->password);
    w.Key("identityFields").BeginArray();
    for (const auto& field : methods->identity_fields) w.String(field);
    w.EndArray().EndObject();
    w.Key("oauth2").BeginObject().Key("enabled").Bool(false);
    w.Key("providers").BeginArray().EndArray().EndObject();
    w.Key("mfa").BeginObject().Key("enabled").Bool(false).Key("duration").Int(0).EndObject();
    w.Key("otp").BeginObject().Key("enabled").Bool(false).Key("duration").Int(0).EndObject();
    w.EndObject();
  });
}

// --- the flows that go through e-mail: 204 whatever happened to the mail itself

Response ProjectDataApi::RequestPasswordReset(const Request& request) {
  auto body = ReadBody(request, limits_, form_limits_);
  if (!body) return ErrorResponse(body.error());
  auto done = emails_->RequestPasswordReset(request.Param("project"), request.Param("collection"),
                                            BodyText(body->value, "email"));
  if (!done) return DataError(std::move(done.error()));
  return Response::Empty(204);
}

Response ProjectDataApi::ConfirmPasswordReset(const Request& request) {
  auto body = ReadBody(request, limits_, form_limits_);
  if (!body) return ErrorResponse(body.error());
  auto done = emails_->ConfirmPasswordReset(
      request.Param("project"), request.Param("collection"), BodyText(body->value, "token"),
      BodyText(body->value, "password"), BodyText(body->value, "passwordConfirm"));
  if (!done) return DataError(std::move(done.error()));
  return Response::Empty(204);
}

Response ProjectDataApi::RequestVerification(const Request& request) {
  auto body = ReadBody(request, limits_, form_limits_);
  if (!body) return ErrorResponse(body.error());
  auto done = emails_->RequestVerification(request.Param("project"), request.Param("collection"),
                                           BodyText(body->value, "email"));
  if (!done) return DataError(std::move(done.error()));
  return Response::Empty(204);
}

Response ProjectDataApi::ConfirmVerification(const Request& request) {
  auto body = ReadBody(request, limits_, form_limits_);
  if (!body) return ErrorResponse(body.error());
  auto done = emails_->ConfirmVerification(request.Param("project"), request.Param("collection"),
                                           BodyText(body->value, "token"));
  if (!done) return DataError(std::move(done.error()));
  return Response::Empty(204);
}

Response ProjectDataApi::RequestEmailChange(const Request& request) {
  auto identified = identify_(request);
  if (!identified) return DataError(std::move(identified.error()));
  auto body = ReadBody(request, limits_, form_limits_);
  if (!body) return ErrorResponse(body.error());
  auto done = emails_->RequestEmailChange(request.Param("project"), request.Param("collection"),
                                          *identified, BodyText(body->value, "newEmail"));
  if (!done) return DataError(std::move(done.error()));
  return Response::Empty(204);
}

Response ProjectDataApi::ConfirmEmailChange(const Request& request) {
  auto body = ReadBody(request, limits_, form_limits_);
  if (!body) return ErrorResponse(body.error());
  auto done = emails_->ConfirmEmailChange(request.Param("project"), request.Param("collection"),
                                          BodyText(body->value, "token"),
                                          BodyText(body->value, "password"));
  if (!done) return DataError(std::move(done.error()));
  return Response::Empty(204);
}

// --- rate limits

namespace {

constexpr auto kRulesTtl = std::chrono::seconds(5);

// PocketBase's action tags for the route `route` (below /p/{project}/api) and `method`.
std::vector<std::string_view> RouteActions(std::string_view route, Method method) {
  if (route == "/collections/{collection}/records") {
    return {method == Method::kPost ? "create" : "list"};
  }
  if (route == "/collections/{collection}/records/{id}") {
    if (method == Method::kGet) return {"view"};
    return {method == Method::kDelete ? "delete" : "update"};
  }
  static constexpr std::pair<std::string_view, std::string_view> kAuth[] = {
      {"/collections/{collection}/auth-refresh", "authRefresh"},
      {"/collections/{collection}/auth-methods", "listAuthMethods"},
      {"/collections/{collection}/request-password-reset", "requestPasswordReset"},
      {"/collections/{collection}/confirm-password-reset", "confirmPasswordReset"},
      {"/collections/{collection}/request-verification", "requestVerification"},
      {"/collections/{collection}/confirm-verification", "confirmVerification"},
      {"/collections/{collection}/request-email-change", "requestEmailChange"},
      {"/collections/{collection}/confirm-email-change", "confirmEmailChange"},
  };
  if (route == "/collections/{collection}/auth-with-password") return {"authWithPassword", "auth"};
  for (const auto& [path, action] : kAuth) {
    if (route == path) return {action};
  }
  return {};
}

}  // namespace

std::shared_ptr<const ProjectDataApi::RequestSettings> ProjectDataApi::SettingsFor(
    std::string_view project) {
  static const auto kNone = std::make_shared<const RequestSettings>();
  if (settings_ == nullptr) return kNone;
  const auto now = std::chrono::steady_clock::now();
  {
    std::lock_guard lock(rules_mutex_);
    auto it = rules_cache_.find(project);
    if (it != rules_cache_.end() && now - it->second.fetched < kRulesTtl) {
      return it->second.settings;
    }
  }
  // An unknown project or an unreadable store: no limit and no proxy here; the handler
  // answers for the project.
  auto settings = settings_->Get(project);
  auto out = std::make_shared<RequestSettings>();
  if (settings) {
    if (settings->rate_limits.enabled) out->rules = settings->rate_limits.rules;
    out->trusted_proxy = settings->trusted_proxy;
  }
  std::lock_guard lock(rules_mutex_);
  // Bounded: a flood of unknown project names must not grow the cache without end.
  if (rules_cache_.size() >= 10000) rules_cache_.clear();
  rules_cache_.insert_or_assign(std::string(project), CachedRules{out, now});
  return out;
}

namespace {

// Whether `text` is an IPv4 or IPv6 address.
bool IsIpAddress(std::string_view text) {
  if (text.empty() || text.size() > 45) return false;
  const std::string copy(text);
  unsigned char buffer[16];
  return inet_pton(AF_INET, copy.c_str(), buffer) == 1 ||
         inet_pton(AF_INET6, copy.c_str(), buffer) == 1;
}

std::string_view Trim(std::string_view text) {
  while (!text.empty() && (text.front() == ' ' || text.front() == '\t')) text.remove_prefix(1);
  while (!text.empty() && (text.back() == ' ' || text.back() == '\t')) text.remove_suffix(1);
  return text;
}

}  // namespace

application::AuditOrigin ProjectDataApi::OriginOf(const Request& request) {
  return AuditOriginOf(request, ClientAddress(request));
}

Result<application::AuditContext> ProjectDataApi::ContextOf(const Request& request) {
  auto identified = identify_(request);
  if (!identified) return domain::Fail(identified.error());
  return application::AuditContext{identified->Actor(), OriginOf(request)};
}

std::string ProjectDataApi::ClientAddress(const Request& request) {
  const auto settings = SettingsFor(request.Param("project"));
  for (const auto& header : settings->trusted_proxy.headers) {
    std::string lower = header;
    for (char& c : lower) c = (c >= 'A' && c <= 'Z') ? static_cast<char>(c - 'A' + 'a') : c;
    const auto value = request.Header(lower);
    if (!value || value->empty()) continue;
    // A list ("client, proxy1, proxy2"): the rightmost entry is the one the trusted proxy
    // added; the leftmost is what the client claimed, trusted only when told to.
    std::vector<std::string_view> entries;
    std::string_view rest = *value;
    while (!rest.empty()) {
      const std::size_t comma = rest.find(',');
      entries.push_back(Trim(rest.substr(0, comma)));
      if (comma == std::string_view::npos) break;
      rest.remove_prefix(comma + 1);
    }
    if (entries.empty()) continue;
    const std::string_view chosen =
        settings->trusted_proxy.use_leftmost_ip ? entries.front() : entries.back();
    if (IsIpAddress(chosen)) return std::string(chosen);
  }
  return request.client_address;
}

std::optional<Response> ProjectDataApi::RateLimited(const Request& request,
                                                    std::string_view route, Method method) {
  const std::string_view project = request.Param("project");
  const auto settings = SettingsFor(project);
  const std::vector<domain::RateLimitRule>& rules = settings->rules;
  if (rules.empty()) return std::nullopt;
  const std::string_view token = PresentedToken(request);
  domain::RateLimitRequest described;
  described.method = ToString(method);
  // The path below the project, as PocketBase's rules name paths ("/api/collections/...").
  const std::string prefix = "/p/" + std::string(project);
  described.path = std::string_view(request.path).substr(
      request.path.starts_with(prefix) ? prefix.size() : 0);
  described.collection = request.Param("collection");
  described.actions = RouteActions(route, method);
  described.authenticated = !token.empty();
  const domain::RateLimitRule* rule = domain::FindRateLimitRule(rules, described);
  if (rule == nullptr) return std::nullopt;
  domain::BucketSpec spec = domain::BucketSpec::For(*rule);
  // A rule on a collection's actions counts each collection and route apart, as PocketBase's.
  const std::string scope = std::string(project) + "|" + rule->label + "|" + rule->audience + "|" +
                            (described.collection.empty()
                                 ? std::string()
                                 : std::string(described.collection) + std::string(route));
  const auto now = domain::Timestamp::FromUnixMicros(
      std::chrono::duration_cast<std::chrono::microseconds>(
          std::chrono::system_clock::now().time_since_epoch())
          .count());
  std::int64_t retry = 0;
  auto take = [&](const std::string& key) {
    const domain::RateLimitDecision decision = limiter_.Take(key, spec, now);
    if (!decision.allowed) retry = std::max<std::int64_t>(retry, decision.retry_after.count());
    return decision.allowed;
  };
  bool allowed = take(scope + "|ip:" + ClientAddress(request));
  if (!token.empty()) allowed = take(scope + "|token:" + std::string(token)) && allowed;
  if (allowed) return std::nullopt;
  Error error = Error::Make(ErrorCode::kResourceExhausted, "Too Many Requests.");
  error.retry_after_seconds = std::max<std::int64_t>(retry, 1);
  return ErrorResponse(error);
}

std::optional<Response> ProjectDataApi::RequireManager(
    const Request& request, std::initializer_list<std::string_view> permissions) const {
  auto identified = identify_(request);
  if (!identified) return DataError(std::move(identified.error()));
  if (identified->scopes) {
    return ErrorResponse(403, "API keys cannot manage collections or settings; sign in as a "
                              "superuser.");
  }
  if (identified->superuser) return std::nullopt;
  // A platform member manages a project's collections and settings as far as their policies
  // there allow.
  if (identified->permissions) {
    for (std::string_view permission : permissions) {
      if (!identified->Holds(permission)) {
        return ErrorResponse(403, "You are not allowed to perform this request (it needs " +
                                      std::string(permission) + ").");
      }
    }
    return std::nullopt;
  }
  return Unauthorized();
}

Result<void> ProjectDataApi::Register(Router& router) {
  struct Entry {
    Method method;
    std::string_view path;  // below /p/{project}/api
    Response (ProjectDataApi::*handler)(const Request&);
  };
  const Entry entries[] = {
      {Method::kGet, "/collections", &ProjectDataApi::ListCollections},
      {Method::kPost, "/collections", &ProjectDataApi::CreateCollection},
      {Method::kPut, "/collections/import", &ProjectDataApi::ImportCollections},
      {Method::kGet, "/collections/{collection}", &ProjectDataApi::GetCollection},
      {Method::kPatch, "/collections/{collection}", &ProjectDataApi::UpdateCollection},
      {Method::kDelete, "/collections/{collection}", &ProjectDataApi::DeleteCollection},
      {Method::kGet, "/collections/{collection}/records", &ProjectDataApi::ListRecords},
      {Method::kPost, "/collections/{collection}/records", &ProjectDataApi::CreateRecord},
      {Method::kGet, "/collections/{collection}/records/{id}", &ProjectDataApi::ViewRecord},
      {Method::kPatch, "/collections/{collection}/records/{id}", &ProjectDataApi::UpdateRecord},
      {Method::kDelete, "/collections/{collection}/records/{id}", &ProjectDataApi::DeleteRecord},
      {Method::kPost, "/batch", &ProjectDataApi::Batch},
      {Method::kGet, "/settings", &ProjectDataApi::GetSettings},
      {Method::kPatch, "/settings", &ProjectDataApi::UpdateSettings},
  };
  std::vector<Entry> all(std::begin(entries), std::end(entries));
  std::vector<std::string_view> preflights = {"/collections", "/collections/{collection}",
                                              "/collections/{collection}/records",
                                              "/collections/{collection}/records/{id}", "/batch",
                                              "/settings"};
  if (authenticate_ != nullptr) {
    all.push_back({Method::kPost, "/collections/{collection}/auth-with-password",
                   &ProjectDataApi::AuthWithPassword});
    all.push_back(
        {Method::kPost, "/collections/{collection}/auth-refresh", &ProjectDataApi::AuthRefresh});
    all.push_back(
        {Method::kGet, "/collections/{collection}/auth-methods", &ProjectDataApi::AuthMethods});
    for (std::string_view path : {"/collections/{collection}/auth-with-password",
                                  "/collections/{collection}/auth-refresh",
                                  "/collections/{collection}/auth-methods"}) {
      preflights.push_back(path);
    }
    if (emails_ != nullptr) {
      const Entry flows[] = {
          {Method::kPost, "/collections/{collection}/request-password-reset",
           &ProjectDataApi::RequestPasswordReset},
          {Method::kPost, "/collections/{collection}/confirm-password-reset",
           &ProjectDataApi::ConfirmPasswordReset},
          {Method::kPost, "/collections/{collection}/request-verification",
           &ProjectDataApi::RequestVerification},
          {Method::kPost, "/collections/{collection}/confirm-verification",
           &ProjectDataApi::ConfirmVerification},
          {Method::kPost, "/collections/{collection}/request-email-change",
           &ProjectDataApi::RequestEmailChange},
          {Method::kPost, "/collections/{collection}/confirm-email-change",
           &ProjectDataApi::ConfirmEmailChange},
      };
      for (const auto& flow : flows) {
        all.push_back(flow);
        preflights.push_back(flow.path);
      }
    }
    auto jwks = router.Add(Method::kGet, "/.well-known/jwks.json", [this](const Request& request) {
      Response response = Response::Json(200, signer_->PublicJwks());
      response.SetHeader("Cache-Control", "public, max-age=300");
      return WithCors(request, std::move(response));
    });
    if (!jwks) return jwks;
  }
  for (const auto& entry : all) {
    auto added = router.Add(entry.method, std::string(kBase) + std::string(entry.path),
                            [this, entry](const Request& request) {
                              if (auto limited = RateLimited(request, entry.path, entry.method)) {
                                return WithCors(request, std::move(*limited));
                              }
                              return WithCors(request, (this->*entry.handler)(request));
                            },
                            // One record by id: a bounded read, which the server may run
                            // on the connection's loop even with a networked store.
                            entry.handler == &ProjectDataApi::ViewRecord
                                ? Dispatch::kPointRead
                                : ReadsOnGet(entry.method));
    if (!added) return added;
  }
  // Preflights: cheap and non-blocking, so answered on the I/O thread. The import path is
  // covered by {collection}.
  for (std::string_view path : preflights) {
    auto added = router.Add(Method::kOptions, std::string(kBase) + std::string(path), Preflight,
                            Dispatch::kInline);
    if (!added) return added;
  }
  return {};
}

// --- collections

Response ProjectDataApi::ListCollections(const Request& request) {
  if (auto refused = RequireManager(request, {"collection.read"})) return std::move(*refused);
  for (std::string_view parameter : {"filter", "sort"}) {
    if (auto text = request.Query(parameter); text && !text->empty()) {
      return ErrorResponse(400, "Filtering and sorting collections is not supported yet (" +
                                    std::string(parameter) + ").");
    }
  }
  auto page = ReadPageParameters(request);
  if (!page) return ErrorResponse(page.error());
  auto fields = ReadFields(request);
  if (!fields) return ErrorResponse(fields.error());
  auto all = collections_.List(request.Param("project"));
  if (!all) return DataError(std::move(all.error()));

  const std::int64_t per_page = page->per_page <= 0 ? kDefaultPerPage
                                                    : std::min(page->per_page, kMaxPerPage);
  const std::int64_t page_number = std::max<std::int64_t>(page->page, 1);
  const auto total = static_cast<std::int64_t>(all->size());
  const std::int64_t offset =
      page_number - 1 > total / per_page ? total : std::min(total, (page_number - 1) * per_page);
  const std::int64_t end = std::min(total, offset + per_page);
  return JsonResponse(200, [&](JsonWriter& w) {
    w.BeginObject();
    w.Key("page").Int(page_number).Key("perPage").Int(per_page);
    w.Key("totalItems").Int(page->skip_total ? -1 : total);
    w.Key("totalPages").Int(page->skip_total ? -1 : (total + per_page - 1) / per_page);
    w.Key("items").BeginArray();
    for (std::int64_t i = offset; i < end; ++i) {
      WriteCollectionSelected(w, (*all)[static_cast<std::size_t>(i)], *fields);
    }
    w.EndArray().EndObject();
  });
}

Response ProjectDataApi::CreateCollection(const Request& request) {
  if (auto refused = RequireManager(request, {"collection.create"})) return std::move(*refused);
  auto fields = ReadFields(request);
  if (!fields) return ErrorResponse(fields.error());
  auto body = ReadBody(request, limits_, form_limits_);
  if (!body) return ErrorResponse(body.error());
  auto draft = json::ReadCollection(body->value);
  if (!draft) return ErrorResponse(draft.error());
  auto context = ContextOf(request);
  if (!context) return DataError(std::move(context.error()));
  auto created =
      collections_.Create(request.Param("project"), std::move(*draft), kActor, *context);
  if (!created) return DataError(std::move(created.error()), "name");
  return JsonResponse(200, [&](JsonWriter& w) { WriteCollectionSelected(w, *created, *fields); });
}

Response ProjectDataApi::ImportCollections(const Request& request) {
  if (auto refused = RequireManager(request, {"collection.create", "collection.update", "collection.delete"})) return std::move(*refused);
  auto body = ReadBody(request, limits_, form_limits_);
  if (!body) return ErrorResponse(body.error());
  const JsonValue* list = body->value.Find("collections");
  if (list == nullptr || list->IsNull() ||
      (list->type() == JsonValue::Type::kArray && list->items().empty())) {
    return ErrorResponse(FieldFailure("Failed to import the collections.", "collections",
                                      "validation_required", "Cannot be blank.")
                             .error());
  }
  bool delete_missing = false;
  const JsonValue* flag = body->value.Find("deleteMissing");
  if (flag != nullptr && !flag->IsNull()) {
    if (flag->type() != JsonValue::Type::kBool) {
      return ErrorResponse(FieldFailure("Failed to import the collections.", "deleteMissing",
                                        "validation_invalid_type", "Must be a boolean.")
                               .error());
    }
    delete_missing = flag->AsBool();
  }
  auto collections = json::ReadCollections(*list);
  if (!collections) return ErrorResponse(collections.error());
  auto context = ContextOf(request);
  if (!context) return DataError(std::move(context.error()));
  auto imported = collections_.Import(request.Param("project"), std::move(*collections),
                                      delete_missing, kActor, *context);
  if (!imported) return DataError(std::move(imported.error()), "collections");
  return Response::Empty(204);
}

Response ProjectDataApi::GetCollection(const Request& request) {
  if (auto refused = RequireManager(request, {"collection.read"})) return std::move(*refused);
  auto fields = ReadFields(request);
  if (!fields) return ErrorResponse(fields.error());
  auto collection = collections_.Get(request.Param("project"), request.Param("collection"));
  if (!collection) return DataError(std::move(collection.error()));
  return JsonResponse(200,
                      [&](JsonWriter& w) { WriteCollectionSelected(w, *collection, *fields); });
}

Response ProjectDataApi::UpdateCollection(const Request& request) {
  if (auto refused = RequireManager(request, {"collection.update"})) return std::move(*refused);
  auto fields = ReadFields(request);
  if (!fields) return ErrorResponse(fields.error());
  auto body = ReadBody(request, limits_, form_limits_);
  if (!body) return ErrorResponse(body.error());
  const std::string_view project = request.Param("project");
  const std::string_view name = request.Param("collection");
  auto current = collections_.Get(project, name);
  if (!current) return DataError(std::move(current.error()));

  // PocketBase binds the body over the stored collection: members sent replace the stored
  // ones, members not sent are kept.
  JsonWriter stored;
  json::WriteCollection(stored, *current);
  JsonLimits own;
  own.max_bytes = std::numeric_limits<std::size_t>::max();
  auto merged = ParseJsonObject(stored.str(), own);
  if (!merged) return ErrorResponse(Error::Internal("stored collection JSON does not parse"));
  std::vector<JsonValue::Member> members = merged->members();
  for (const auto& [key, value] : body->value.members()) {
    auto existing = std::find_if(members.begin(), members.end(),
                                 [&](const JsonValue::Member& m) { return m.first == key; });
    if (existing != members.end()) {
      existing->second = value;
    } else {
      members.emplace_back(key, value);
    }
  }
  auto draft = json::ReadCollection(JsonValue::Object(std::move(members)));
  if (!draft) return ErrorResponse(draft.error());
  auto context = ContextOf(request);
  if (!context) return DataError(std::move(context.error()));
  auto updated = collections_.Update(project, name, std::move(*draft), kActor, *context);
  if (!updated) return DataError(std::move(updated.error()), "name");
  return JsonResponse(200, [&](JsonWriter& w) { WriteCollectionSelected(w, *updated, *fields); });
}

Response ProjectDataApi::DeleteCollection(const Request& request) {
  if (auto refused = RequireManager(request, {"collection.delete"})) return std::move(*refused);
  auto context = ContextOf(request);
  if (!context) return DataError(std::move(context.error()));
  auto deleted = collections_.Delete(request.Param("project"), request.Param("collection"),
                                     kActor, *context);
  if (!deleted) return DataError(std::move(deleted.error()));
  return Response::Empty(204);
}

// --- records

Response ProjectDataApi::ListRecords(const Request& request) {
  auto identified = identify_(request);
  if (!identified) return DataError(std::move(identified.error()));
  const bool superuser = identified->superuser;
  auto page = ReadPageParameters(request);
  if (!page) return ErrorResponse(page.error());
  auto fields = ReadFields(request);
  if (!fields) return ErrorResponse(fields.error());
  if (!superuser) {
    if (auto refused = RefuseSuperuserOnlyFields(request)) return std::move(*refused);
  }
  application::ListRecordsInput input;
  input.page = page->page;
  input.per_page = page->per_page;
  input.skip_total = page->skip_total;
  input.sort = std::string(request.Query("sort").value_or(std::string_view{}));
  input.filter = std::string(request.Query("filter").value_or(std::string_view{}));
  input.expand = std::string(request.Query("expand").value_or(std::string_view{}));
  auto list = records_.List(request.Param("project"), request.Param("collection"), input,
                            MakeCaller(request, *identified, JsonValue::Object({}),
                                       OriginOf(request)));
  if (!list) return DataError(std::move(list.error()));
  const ExpandRequest expand = ExpandRequest::Parse(input.expand);
  const RecordViewer viewer = ViewerFor(*identified);
  return JsonResponse(200, [&](JsonWriter& w) {
    json::WriteRecordList(w, *list, fields->root(), &expand, viewer);
  });
}

Response ProjectDataApi::ViewRecord(const Request& request) {
  auto identified = identify_(request);
  if (!identified) return DataError(std::move(identified.error()));
  auto fields = ReadFields(request);
  if (!fields) return ErrorResponse(fields.error());
  const std::string_view expand_text = request.Query("expand").value_or(std::string_view{});
  auto result = records_.View(request.Param("project"), request.Param("collection"),
                              request.Param("id"), expand_text,
                              MakeCaller(request, *identified, JsonValue::Object({}),
                                         OriginOf(request)));
  if (!result) return DataError(std::move(result.error()));
  return RecordResponse(*result, *fields, ExpandRequest::Parse(expand_text), ViewerFor(*identified));
}

Response ProjectDataApi::CreateRecord(const Request& request) {
  auto identified = identify_(request);
  if (!identified) return DataError(std::move(identified.error()));
  auto fields = ReadFields(request);
  if (!fields) return ErrorResponse(fields.error());
  auto body = ReadBody(request, limits_, form_limits_);
  if (!body) return ErrorResponse(body.error());
  application::Caller caller = MakeCaller(request, *identified, body->value, OriginOf(request));
  application::RecordWriteInput input = WriteInput(request, std::move(*body));
  auto result = records_.Create(request.Param("project"), request.Param("collection"),
                                std::move(input), std::move(caller));
  if (!result) return DataError(std::move(result.error()));
  return RecordResponse(*result, *fields, ExpandRequest::Parse(request.Query("expand").value_or(std::string_view{})),
                        ViewerFor(*identified));
}

Response ProjectDataApi::UpdateRecord(const Request& request) {
  auto identified = identify_(request);
  if (!identified) return DataError(std::move(identified.error()));
  auto fields = ReadFields(request);
  if (!fields) return ErrorResponse(fields.error());
  auto body = ReadBody(request, limits_, form_limits_);
  if (!body) return ErrorResponse(body.error());
  application::Caller caller = MakeCaller(request, *identified, body->value, OriginOf(request));
  application::RecordWriteInput input = WriteInput(request, std::move(*body));
  auto result = records_.Update(request.Param("project"), request.Param("collection"),
                                request.Param("id"), std::move(input), std::move(caller));
  if (!result) return DataError(std::move(result.error()));
  return RecordResponse(*result, *fields, ExpandRequest::Parse(request.Query("expand").value_or(std::string_view{})),
                        ViewerFor(*identified));
}

Response ProjectDataApi::DeleteRecord(const Request& request) {
  auto identified = identify_(request);
  if (!identified) return DataError(std::move(identified.error()));
  auto deleted = records_.Delete(request.Param("project"), request.Param("collection"),
                                 request.Param("id"),
                                 MakeCaller(request, *identified, JsonValue::Object({}),
                                            OriginOf(request)));
  if (!deleted) return DataError(std::move(deleted.error()));
  return Response::Empty(204);
}

// --- batch

Response ProjectDataApi::Batch(const Request& request) {
  auto identified = identify_(request);
  if (!identified) return DataError(std::move(identified.error()));
  // The project's batch settings come first, as in PocketBase: a disabled batch is refused
  // whatever its body, and the body limit applies before the body is read.
  std::size_t max = records_.limits().max_batch_requests;
  if (settings_ != nullptr) {
    auto settings = settings_->Get(request.Param("project"));
    if (!settings) return DataError(std::move(settings.error()));
    const domain::BatchSettings& batch = settings->batch;
    if (!batch.enabled) {
      return ErrorResponse(
          Error::Make(ErrorCode::kPermissionDenied, "Batch requests are not allowed."));
    }
    if (batch.max_body_size > 0 &&
        request.body.size() > static_cast<std::uint64_t>(batch.max_body_size)) {
      return ErrorResponse(413, "");
    }
    if (batch.max_requests > 0) max = static_cast<std::size_t>(batch.max_requests);
  }
  auto body = ReadBody(request, limits_, form_limits_);
  if (!body) return ErrorResponse(body.error());

  // The request list itself: PocketBase validates it as a form before running anything.
  constexpr std::string_view kInvalid = "Invalid batch request data.";
  const JsonValue* requests = body->value.Find("requests");
  if (requests != nullptr && !requests->IsNull() &&
      requests->type() != JsonValue::Type::kArray) {
    return ErrorResponse(FieldFailure("Failed to read the submitted batch data.", "requests",
                                      "validation_invalid_type", "Must be an array.")
                             .error());
  }
  if (requests == nullptr || requests->IsNull() || requests->items().empty()) {
    return ErrorResponse(
        FieldFailure(std::string(kInvalid), "requests", "validation_required", "Cannot be blank.")
            .error());
  }
  if (requests->items().size() > max) {
    return ErrorResponse(FieldFailure(std::string(kInvalid), "requests",
                                      "validation_length_too_long",
                                      "The length must be no more than " + std::to_string(max) +
                                          ".")
                             .error());
  }

  std::vector<BatchEntry> entries;
  entries.reserve(requests->items().size());
  Error invalid = Error::Make(ErrorCode::kInvalidArgument, std::string(kInvalid));
  for (std::size_t i = 0; i < requests->items().size(); ++i) {
    const JsonValue& item = requests->items()[i];
    const std::string prefix = "requests." + std::to_string(i);
    if (!item.IsObject()) {
      invalid.fields.push_back({prefix, "validation_invalid_type", "Must be an object."});
      continue;
    }
    const JsonValue* method = item.Find("method");
    const JsonValue* url = item.Find("url");
    const JsonValue* item_body = item.Find("body");
    const std::size_t before = invalid.fields.size();
    if (method == nullptr || method->type() != JsonValue::Type::kString ||
        method->AsString().empty()) {
      invalid.fields.push_back({prefix + ".method", "validation_required", "Cannot be blank."});
    }
    if (url == nullptr || url->type() != JsonValue::Type::kString || url->AsString().empty()) {
      invalid.fields.push_back({prefix + ".url", "validation_required", "Cannot be blank."});
    }
    if (item_body != nullptr && !item_body->IsNull() && !item_body->IsObject()) {
      invalid.fields.push_back({prefix + ".body", "validation_invalid_type", "Must be an object."});
    }
    if (invalid.fields.size() != before) continue;

    BatchEntry entry;
    const std::string verb = Upper(method->AsString());
    auto target = ParseBatchUrl(url->AsString());
    using Kind = application::BatchOperation::Kind;
    std::optional<Kind> kind;
    if (target && !target->id && verb == "POST") kind = Kind::kCreate;
    if (target && !target->id && verb == "PUT") kind = Kind::kUpsert;
    if (target && target->id && verb == "PATCH") kind = Kind::kUpdate;
    if (target && target->id && verb == "DELETE") kind = Kind::kDelete;
    if (!kind) {
      return BatchFailureResponse(
          i, Error::Make(ErrorCode::kInvalidArgument,
                         "Unsupported batch request action \"" + verb + " " + url->AsString() +
                             "\": use POST, PUT, PATCH or DELETE on "
                             "/api/collections/{collection}/records[/{id}]."));
    }
    auto fields = FieldSelection::Parse(QueryValue(target->query, "fields"));
    if (!fields) return BatchFailureResponse(i, fields.error());
    entry.fields = std::move(*fields);
    entry.operation.kind = *kind;
    entry.operation.collection = std::move(target->collection);
    entry.operation.id = target->id.value_or("");
    // Operation bodies are JSON even in a multipart batch (they travel in @jsonPayload).
    entry.operation.input.format = InputFormat::kJson;
    entry.operation.input.expand = std::string(QueryValue(target->query, "expand"));
    entry.expand = ExpandRequest::Parse(entry.operation.input.expand);
    if (item_body != nullptr && item_body->IsObject()) entry.operation.input.body = *item_body;
    entries.push_back(std::move(entry));
  }
  if (!invalid.fields.empty()) return ErrorResponse(invalid);

  std::vector<application::BatchOperation> operations;
  operations.reserve(entries.size());
  for (auto& entry : entries) operations.push_back(std::move(entry.operation));
  auto results = records_.Batch(request.Param("project"), std::move(operations),
                                MakeCaller(request, *identified, body->value, OriginOf(request)));
  if (!results) {
    // A refusal of the batch as a whole (an unknown project ...) is a plain error response.
    if (!results.error().index) return ErrorResponse(results.error().error);
    return BatchFailureResponse(*results.error().index, results.error().error);
  }
  const RecordViewer viewer = ViewerFor(*identified);
  return JsonResponse(200, [&](JsonWriter& w) {
    w.BeginArray();
    for (std::size_t i = 0; i < results->size(); ++i) {
      const auto& item = (*results)[i];
      w.BeginObject().Key("body");
      if (item.record) {
        json::WriteRecord(w, item.record->record, entries[i].fields.root(), &entries[i].expand,
                          viewer);
      } else {
        w.Null();
      }
      w.Key("status").Int(item.record ? 200 : 204);
      w.EndObject();
    }
    w.EndArray();
  });
}

// --- settings

Response ProjectDataApi::GetSettings(const Request& request) {
  if (auto refused = RequireManager(request, {"settings.read"})) return std::move(*refused);
  if (settings_ == nullptr) return ErrorResponse(404, "");
  auto fields = ReadFields(request);
  if (!fields) return ErrorResponse(fields.error());
  auto settings = settings_->Get(request.Param("project"));
  if (!settings) return DataError(std::move(settings.error()));
  return JsonResponse(200, [&](JsonWriter& w) { WriteSettingsSelected(w, *settings, *fields); });
}

Response ProjectDataApi::UpdateSettings(const Request& request) {
  if (auto refused = RequireManager(request, {"settings.update"})) return std::move(*refused);
  if (settings_ == nullptr) return ErrorResponse(404, "");
  auto fields = ReadFields(request);
  if (!fields) return ErrorResponse(fields.error());
  auto body = ReadBody(request, limits_, form_limits_);
  if (!body) return ErrorResponse(body.error());
  const std::string_view project = request.Param("project");
  // PocketBase decodes the body over the current settings: groups and members sent replace
  // the stored ones, the others are kept. Two concurrent PATCHes each apply over what they
  // read; the later one wins whole.
  auto current = settings_->Get(project);
  if (!current) return DataError(std::move(current.error()));
  auto patched = json::PatchProjectSettings(*current, body->value);
  if (!patched) return ErrorResponse(patched.error());
  auto context = ContextOf(request);
  if (!context) return DataError(std::move(context.error()));
  auto updated = settings_->Update(project, std::move(*patched), *context);
  if (!updated) {
    Error error = std::move(updated.error());
    if (error.code == ErrorCode::kInvalidArgument) {
      error.message = "An error occurred while saving the new settings.";  // PocketBase's
    }
    return DataError(std::move(error));
  }
  {
    // This server applies new rate limits at once; others within the cache's few seconds.
    std::lock_guard lock(rules_mutex_);
    rules_cache_.erase(std::string(project));
  }
  return JsonResponse(200, [&](JsonWriter& w) { WriteSettingsSelected(w, *updated, *fields); });
}

}  // namespace socle::adapters::http
