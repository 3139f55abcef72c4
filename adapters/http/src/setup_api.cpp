#include "socle/adapters/http/setup_api.hpp"

#include <string_view>

#include "audit_origin.hpp"
#include "invitation_page.hpp"
#include "socle/adapters/http/error_response.hpp"
#include "socle/adapters/http/json_object_reader.hpp"
#include "socle/adapters/http/multipart.hpp"
#include "socle/adapters/json/json_writer.hpp"

namespace socle::adapters::http {

namespace {

constexpr std::string_view kRefused =
    "This setup link is not valid: it was used, it expired, or a superuser already exists.";

std::string Escape(std::string_view text) {
  std::string out;
  for (char c : text) {
    switch (c) {
      case '&': out += "&amp;"; break;
      case '<': out += "&lt;"; break;
      case '>': out += "&gt;"; break;
      case '"': out += "&quot;"; break;
      case '\'': out += "&#39;"; break;
      default: out += c;
    }
  }
  return out;
}

Response Html(int status, std::string_view title, std::string_view body) {
  Response response;
  response.status = status;
  response.body = "<!doctype html><html><head><meta charset=\"utf-8\"><title>" +
                  Escape(title) + "</title></head><body><h1>" + Escape(title) + "</h1>" +
                  std::string(body) + "</body></html>";
  response.SetHeader("Content-Type", "text/html; charset=utf-8");
  // The page carries the token: keep it out of caches, frames and referrers.
  response.SetHeader("Cache-Control", "no-store");
  response.SetHeader("X-Frame-Options", "DENY");
  response.SetHeader("Referrer-Policy", "no-referrer");
  response.SetHeader("Content-Security-Policy", "default-src 'none'; form-action 'self'");
  return response;
}

bool SameBytes(std::string_view a, std::string_view b) {
  if (a.size() != b.size()) return false;
  unsigned char diff = 0;
  for (std::size_t i = 0; i < a.size(); ++i) {
    diff = static_cast<unsigned char>(diff | (static_cast<unsigned char>(a[i]) ^
                                              static_cast<unsigned char>(b[i])));
  }
  return diff == 0;
}

}  // namespace

bool SetupApi::TokenValid(std::string_view token) const {
  return !token.empty() && !used_.load() && clock_.Now() <= expires_ && SameBytes(token, token_);
}

domain::Result<void> SetupApi::Register(Router& router) {
  if (auto added = router.Add(Method::kGet, "/_/setup",
                              [this](const Request& request) { return Form(request); });
      !added) {
    return added;
  }
  if (auto added = router.Add(Method::kPost, "/_/setup",
                              [this](const Request& request) { return Create(request); });
      !added) {
    return added;
  }
  return InvitationPage{}.Register(router);
}

Response SetupApi::Form(const Request& request) {
  const std::string_view token = request.Query("token").value_or(std::string_view{});
  auto count = superusers_.Count();
  if (!TokenValid(token) || !count || *count > 0) {
    return Html(403, "Socle setup", "<p>" + Escape(kRefused) + "</p>");
  }
  return Html(200, "Create the first superuser",
              "<form method=\"post\" action=\"/_/setup\">"
              "<input type=\"hidden\" name=\"token\" value=\"" +
                  Escape(token) +
                  "\"><p><label>E-mail <input name=\"email\" type=\"email\" required "
                  "autocomplete=\"username\"></label></p><p><label>Password <input "
                  "name=\"password\" type=\"password\" minlength=\"8\" required "
                  "autocomplete=\"new-password\"></label></p><p><button>Create</button></p>"
                  "</form>");
}

Response SetupApi::Create(const Request& request) {
  const std::string_view type = request.Header("content-type").value_or(std::string_view{});
  const bool json = type.starts_with("application/json");
  std::string token, email, password;
  if (json) {
    auto body = ParseJsonObject(request.body, JsonLimits{});
    if (!body) return ErrorResponse(body.error());
    auto text = [&](std::string_view key) {
      const domain::JsonValue* value = body->Find(key);
      return value != nullptr && value->type() == domain::JsonValue::Type::kString
                 ? value->AsString()
                 : std::string();
    };
    token = text("token");
    email = text("email");
    password = text("password");
  } else {
    auto form = ParseUrlEncoded(request.body);
    if (!form) return ErrorResponse(form.error());
    for (const auto& [key, value] : form->fields) {
      if (key == "token") token = value;
      if (key == "email") email = value;
      if (key == "password") password = value;
    }
  }
  auto count = superusers_.Count();
  if (!count) return ErrorResponse(count.error());
  if (!TokenValid(token) || *count > 0) {
    return json ? ErrorResponse(403, kRefused)
                : Html(403, "Socle setup", "<p>" + Escape(kRefused) + "</p>");
  }
  // Claimed before the write so that two requests racing with the token create one
  // superuser; given back when this one is refused.
  if (used_.exchange(true)) {
    return json ? ErrorResponse(403, kRefused)
                : Html(403, "Socle setup", "<p>" + Escape(kRefused) + "</p>");
  }
  // Whoever holds the setup token: recorded as the setup, from where the request came.
  application::AuditContext context;
  context.actor = {domain::AuditActorKind::kSystem, "setup"};
  context.origin = AuditOriginOf(request, request.client_address);
  auto created = superusers_.Upsert(email, password, context);
  if (!created) {
    used_.store(false);
    if (json) return ErrorResponse(created.error());
    std::string problems;
    for (const auto& field : created.error().fields) {
      problems += "<li>" + Escape(field.field) + ": " + Escape(field.message) + "</li>";
    }
    return Html(400, "Create the first superuser",
                "<p>" + Escape(created.error().message) + "</p><ul>" + problems +
                    "</ul><p><a href=\"/_/setup?token=" + Escape(token) + "\">Try again</a></p>");
  }
  if (json) {
    json::JsonWriter w;
    w.BeginObject().Key("id").String(created->id).EndObject();
    return Response::Json(200, w.str());
  }
  return Html(200, "Superuser created",
              "<p>" + Escape(email) +
                  " can now sign in through any project's "
                  "/api/collections/_superusers/auth-with-password. This link no longer works.</p>");
}

}  // namespace socle::adapters::http
