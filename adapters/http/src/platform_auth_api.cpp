#include "socle/adapters/http/platform_auth_api.hpp"

#include <algorithm>
#include <cctype>
#include <string>
#include <utility>

#include "record_text.hpp"
#include "socle/adapters/http/error_response.hpp"
#include "socle/adapters/http/project_data_api.hpp"
#include "socle/adapters/json/json_writer.hpp"

namespace socle::adapters::http {

using domain::ErrorCode;
using domain::Result;
using json::JsonWriter;

namespace {

// The one member `name` of a body that must hold nothing else.
Result<std::string> ReadRefreshToken(const Request& request, const JsonLimits& limits) {
  auto body = ReadJsonBody(request, limits);
  if (!body) return domain::Fail(body.error());
  JsonObjectReader reader(*body, {"refreshToken"});
  auto token = reader.RequiredString("refreshToken");
  if (auto checked = reader.Finish(); !checked) return domain::Fail(checked.error());
  return token.value_or("");
}

application::ClientInfo Client(const Request& request) {
  return {request.client_address,
          std::string(request.Header("user-agent").value_or(std::string_view{}))};
}

// Tokens must not be kept by any cache on the way.
Response NoStore(Response response) {
  response.SetHeader("Cache-Control", "no-store");
  response.SetHeader("Pragma", "no-cache");
  return response;
}

Response Tokens(const application::PlatformTokens& tokens) {
  JsonWriter w;
  w.BeginObject();
  w.Key("accessToken").String(tokens.access_token);
  w.Key("refreshToken").String(tokens.refresh_token);
  w.Key("expiresIn").Int(tokens.expires_in);
  w.Key("member").BeginObject();
  w.Key("id").String(tokens.member.id);
  w.Key("email").String(tokens.member.email);
  w.Key("name").String(tokens.member.name);
  w.Key("activeRole").String(tokens.member.active_role);
  w.EndObject();
  w.EndObject();
  return NoStore(Response::Json(200, std::move(w).Take()));
}

// The id and e-mail of a signed-in superuser's record.
Response SuperuserToken(const application::AuthResult& result) {
  JsonWriter w;
  w.BeginObject();
  w.Key("token").String(result.token);
  w.Key("record").BeginObject();
  const auto* collection = result.record.record.collection;
  const auto& record = result.record.record.record;
  w.Key("id").String(collection != nullptr ? record.Id(*collection) : std::string());
  w.Key("email").String(collection != nullptr ? RecordText(*collection, record, "email")
                                              : std::string());
  w.EndObject();
  w.EndObject();
  return NoStore(Response::Json(200, std::move(w).Take()));
}

}  // namespace

PlatformAuthApi::PlatformAuthApi(application::PlatformSessions& sessions,
                                 application::Authenticate& authenticate,
                                 application::ManageAccess& access, JsonLimits limits)
    : sessions_(sessions), authenticate_(authenticate), access_(access), limits_(limits) {}

Result<void> PlatformAuthApi::Register(Router& router) {
  struct Entry {
    Method method;
    std::string_view pattern;
    Response (PlatformAuthApi::*handler)(const Request&);
  };
  const Entry entries[] = {
      {Method::kPost, "/api/v1/auth/login", &PlatformAuthApi::Login},
      {Method::kPost, "/api/v1/auth/refresh", &PlatformAuthApi::Refresh},
      {Method::kPost, "/api/v1/auth/logout", &PlatformAuthApi::Logout},
      {Method::kGet, "/api/v1/auth/sessions", &PlatformAuthApi::ListSessions},
      {Method::kDelete, "/api/v1/auth/sessions/{id}", &PlatformAuthApi::RevokeSession},
      {Method::kPost, "/api/v1/auth/superusers/login", &PlatformAuthApi::SuperuserLogin},
      {Method::kPost, "/api/v1/auth/role", &PlatformAuthApi::SwitchRole},
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

Response PlatformAuthApi::Login(const Request& request) {
  auto body = ReadJsonBody(request, limits_);
  if (!body) return ErrorResponse(body.error());
  JsonObjectReader reader(*body, {"email", "password"});
  auto email = reader.RequiredString("email");
  auto password = reader.RequiredString("password");
  if (auto checked = reader.Finish(); !checked) return ErrorResponse(checked.error());
  auto tokens = sessions_.Login(*email, *password, Client(request), request.request_id);
  if (!tokens) return ErrorResponse(tokens.error());
  return Tokens(*tokens);
}

Response PlatformAuthApi::Refresh(const Request& request) {
  auto token = ReadRefreshToken(request, limits_);
  if (!token) return ErrorResponse(token.error());
  auto tokens =
      sessions_.Refresh(*token, Client(request), std::nullopt, {}, request.request_id);
  if (!tokens) return ErrorResponse(tokens.error());
  return Tokens(*tokens);
}

Response PlatformAuthApi::Logout(const Request& request) {
  auto token = ReadRefreshToken(request, limits_);
  if (!token) return ErrorResponse(token.error());
  if (auto done = sessions_.Logout(*token, Client(request), request.request_id); !done) {
    return ErrorResponse(done.error());
  }
  return Response::Empty(204);
}

Response PlatformAuthApi::ListSessions(const Request& request) {
  auto member = sessions_.Identify(PresentedToken(request));
  if (!member) return ErrorResponse(member.error());
  auto listed = sessions_.Sessions(member->id);
  if (!listed) return ErrorResponse(listed.error());
  JsonWriter w;
  w.BeginObject();
  w.Key("items").BeginArray();
  for (const auto& session : *listed) {
    w.BeginObject();
    w.Key("id").String(session.id);
    w.Key("created").String(session.created.ToApiString());
    w.Key("lastUsed").String(session.last_used.ToApiString());
    w.Key("userAgent").String(session.user_agent);
    w.Key("address").String(session.address);
    w.Key("expires").String(session.expires.ToApiString());
    w.EndObject();
  }
  w.EndArray();
  w.EndObject();
  Response response = Response::Json(200, std::move(w).Take());
  response.SetHeader("Cache-Control", "no-store");
  return response;
}

Response PlatformAuthApi::RevokeSession(const Request& request) {
  auto member = sessions_.Identify(PresentedToken(request));
  if (!member) return ErrorResponse(member.error());
  if (auto done = sessions_.RevokeSession(member->id, request.Param("id"), Client(request),
                                         request.request_id);
      !done) {
    return ErrorResponse(done.error());
  }
  return Response::Empty(204);
}

Response PlatformAuthApi::SuperuserLogin(const Request& request) {
  auto body = ReadJsonBody(request, limits_);
  if (!body) return ErrorResponse(body.error());
  JsonObjectReader reader(*body, {"email", "password"});
  auto email = reader.RequiredString("email");
  auto password = reader.RequiredString("password");
  if (auto checked = reader.Finish(); !checked) return ErrorResponse(checked.error());
  // Project "": the platform itself, where only `_superusers` signs in (members use /login).
  auto result =
      authenticate_.WithPassword("", "_superusers", *email, *password, "", Client(request));
  if (!result) return ErrorResponse(result.error());
  return SuperuserToken(*result);
}

Response PlatformAuthApi::SwitchRole(const Request& request) {
  auto member = sessions_.Identify(PresentedToken(request));
  if (!member) return ErrorResponse(member.error());
  auto body = ReadJsonBody(request, limits_);
  if (!body) return ErrorResponse(body.error());
  JsonObjectReader reader(*body, {"refreshToken", "role"});
  auto token = reader.RequiredString("refreshToken");
  auto role = reader.RequiredString("role");
  if (auto checked = reader.Finish(); !checked) return ErrorResponse(checked.error());

  // Checked before the exchange, so that a refused role leaves the session as it was.
  if (!role->empty()) {
    if (auto held = access_.CheckRoleHeld(member->id, *role); !held) {
      return ErrorResponse(held.error());
    }
  }
  // Only the caller's own session switches: another member's refresh token is refused before
  // it is exchanged, exactly as an unknown one.
  auto tokens =
      sessions_.Refresh(*token, Client(request), *role, member->id, request.request_id);
  if (!tokens) return ErrorResponse(tokens.error());
  return Tokens(*tokens);
}

}  // namespace socle::adapters::http
