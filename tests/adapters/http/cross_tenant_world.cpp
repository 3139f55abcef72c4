#include "cross_tenant_world.hpp"

#include <algorithm>
#include <optional>
#include <random>
#include <stdexcept>

#include "socle/adapters/http/json_object_reader.hpp"
#include "socle/adapters/json/json_writer.hpp"
#include "test_server.hpp"

namespace socle::testing {

namespace http = adapters::http;
using domain::JsonValue;

namespace {

constexpr std::string_view kPassword = kCrossTenantPassword;

bool Success(int status) { return status >= 200 && status < 300; }

}  // namespace

// ---- helpers ----------------------------------------------------------------------------------

JsonValue ReplyJson(const HttpReply& reply) {
  auto parsed = http::ParseJson(reply.body);
  if (!parsed) {
    throw std::runtime_error("not JSON (" + std::to_string(reply.status) + "): " + reply.body);
  }
  return std::move(*parsed);
}

std::string JsonText(const JsonValue& value, std::initializer_list<std::string_view> path) {
  const JsonValue* current = &value;
  for (std::string_view key : path) {
    if (current->type() == JsonValue::Type::kArray) {
      const std::size_t index = std::stoul(std::string(key));
      if (index >= current->items().size()) return "<missing>";
      current = &current->items()[index];
    } else if (current->IsObject()) {
      current = current->Find(key);
    } else {
      return "<missing>";
    }
    if (current == nullptr) return "<missing>";
  }
  if (current->type() != JsonValue::Type::kString) return "<missing>";
  return current->AsString();
}

std::string JsonBody(std::initializer_list<std::pair<std::string_view, std::string_view>> members) {
  adapters::json::JsonWriter w;
  w.BeginObject();
  for (const auto& [key, value] : members) w.Key(key).String(value);
  w.EndObject();
  return std::move(w).Take();
}

std::string QueryEncode(std::string_view text) {
  static constexpr char kHex[] = "0123456789ABCDEF";
  std::string out;
  for (unsigned char c : text) {
    const bool unreserved = (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') ||
                            (c >= '0' && c <= '9') || c == '-' || c == '_' || c == '.' || c == '~';
    if (unreserved) {
      out += static_cast<char>(c);
    } else {
      out += '%';
      out += kHex[c >> 4];
      out += kHex[c & 0x0F];
    }
  }
  return out;
}

std::string GhostId() {
  static constexpr std::string_view kAlphabet = "abcdefghijklmnopqrstuvwxyz0123456789";
  static std::random_device device;
  std::uniform_int_distribution<std::size_t> pick(0, kAlphabet.size() - 1);
  std::string id;
  for (int i = 0; i < 15; ++i) id += kAlphabet[pick(device)];
  return id;
}

std::vector<std::string> Leaks(const HttpReply& reply, const std::vector<std::string>& secrets,
                               std::string_view request) {
  std::vector<std::string> found;
  for (const auto& secret : secrets) {
    if (secret.empty() || request.find(secret) != std::string_view::npos) continue;
    if (reply.body.find(secret) != std::string::npos) found.push_back(secret);
    for (const auto& [name, value] : reply.headers) {
      if (name != "x-request-id" && value.find(secret) != std::string::npos) {
        found.push_back(name + ": " + secret);
      }
    }
  }
  return found;
}

std::string Normalised(std::string text,
                       std::vector<std::pair<std::string, std::string>> replacements) {
  // Longest first: a value that contains another (a slug and its organisation's) is replaced
  // whole.
  std::stable_sort(replacements.begin(), replacements.end(),
                   [](const auto& a, const auto& b) { return a.first.size() > b.first.size(); });
  for (const auto& [from, to] : replacements) {
    if (from.empty()) continue;
    for (auto at = text.find(from); at != std::string::npos; at = text.find(from, at + to.size())) {
      text.replace(at, from.size(), to);
    }
  }
  return text;
}

// ---- the world --------------------------------------------------------------------------------

CrossTenantWorld::CrossTenantWorld(CrossTenantStores& stores)
    : adapter_(stores.adapter()),
      random_(7),
      routes_(hasher_, stores.catalogue(), stores.access(), stores.projects(),
              mail_.path() / "mail"),
      logger_(http::LogLevel::kError, http::LogFormat::kJson, routes_.clock(),
              [](std::string_view) {}),
      metrics_(routes_.clock().Now()),
      server_(TestServerOptions(), routes_.router, logger_, metrics_, random_) {
  if (!server_.Start()) throw std::runtime_error("the server did not start");
  anonymous_.label = "anonymous";
  SeedTenant(alpha, "alpha", "Alpha Works");
  SeedTenant(bravo, "bravo", "Bravo Secret Corp");
  routes_.world().AddMember("zed@nowhere.test", kPassword);
  const CrossTenantMember zed = SignIn("zed@nowhere.test");
  nobody_ = {"a member of no organisation", Credential::Kind::kMember, "Authorization",
             "Bearer " + zed.access, {zed.id, zed.email}, 404};
}

CrossTenantWorld::~CrossTenantWorld() {
  server_.Shutdown();
  server_.Wait();
}

HttpReply CrossTenantWorld::Call(std::string_view method, std::string_view target,
                                 const Credential& who, std::string body) {
  std::vector<std::pair<std::string, std::string>> headers;
  if (!who.header.empty()) headers.emplace_back(who.header, who.value);
  return Fetch(server_.port(), method, target, std::move(body), std::move(headers));
}

HttpReply CrossTenantWorld::Bearer(std::string_view method, std::string_view target,
                                   std::string_view token, std::string body) {
  std::vector<std::pair<std::string, std::string>> headers;
  if (!token.empty()) headers.emplace_back("Authorization", "Bearer " + std::string(token));
  return Fetch(server_.port(), method, target, std::move(body), std::move(headers));
}

JsonValue CrossTenantWorld::Must(std::string_view method, std::string_view target,
                                 std::string_view token, std::string body, int status) {
  const HttpReply reply = Bearer(method, target, token, std::move(body));
  if (reply.status != status) {
    throw std::runtime_error("setting up the world: " + std::string(method) + " " +
                             std::string(target) + " answered " + std::to_string(reply.status) +
                             " (expected " + std::to_string(status) + "): " + reply.body);
  }
  if (reply.body.empty()) return JsonValue::Null();
  return ReplyJson(reply);
}

CrossTenantMember CrossTenantWorld::SignIn(std::string_view email) {
  const JsonValue body = Must("POST", "/api/v1/auth/login", {},
                              JsonBody({{"email", email}, {"password", kPassword}}));
  return {std::string(email), JsonText(body, {"member", "id"}), JsonText(body, {"accessToken"}),
          JsonText(body, {"refreshToken"})};
}

CrossTenantMember CrossTenantWorld::Invited(const CrossTenant& tenant, std::string_view email,
                                            std::string body) {
  const JsonValue invited =
      Must("POST", "/api/v1/orgs/" + tenant.slug + "/invitations", tenant.owner.access,
           std::move(body), 201);
  Must("POST", "/api/v1/invitations/accept", {},
       JsonBody({{"token", JsonText(invited, {"token"})}, {"password", kPassword}}));
  return SignIn(email);
}

void CrossTenantWorld::SeedTenant(CrossTenant& t, std::string_view slug, std::string_view name) {
  t.slug = std::string(slug);
  t.name = std::string(name);
  const std::string org = "/api/v1/orgs/" + t.slug;

  routes_.world().AddMember("owner@" + t.slug + ".test", kPassword, t.name + " Owner");
  t.owner = SignIn("owner@" + t.slug + ".test");
  t.org_id = JsonText(Must("POST", "/api/v1/orgs", t.owner.access,
                           JsonBody({{"slug", t.slug}, {"name", t.name}}), 201),
                      {"id"});
  for (auto* project : {&t.main, &t.second}) {
    const bool main = project == &t.main;
    project->slug = t.slug + (main ? "-shop" : "-lab");
    project->name = t.name + (main ? " Shop" : " Lab");
    project->id = JsonText(Must("POST", org + "/projects", t.owner.access,
                                JsonBody({{"slug", project->slug}, {"name", project->name}}), 201),
                           {"id"});
  }

  // The editor edits the main project only; the viewer sees the whole organisation.
  t.editor = Invited(t, "editor@" + t.slug + ".test",
                     JsonBody({{"email", "editor@" + t.slug + ".test"},
                               {"role", "project.editor"},
                               {"project", t.main.slug}}));
  t.viewer = Invited(t, "viewer@" + t.slug + ".test",
                     JsonBody({{"email", "viewer@" + t.slug + ".test"}, {"role", "viewer"}}));

  t.team = JsonText(Must("POST", org + "/teams", t.owner.access,
                         JsonBody({{"name", t.name + " Night Shift"},
                                   {"description", t.name + " team description"}}),
                         201),
                    {"id"});
  Must("PUT", org + "/teams/" + t.team + "/members/" + t.viewer.id, t.owner.access, {}, 204);
  t.role = t.slug + "-role";
  Must("PUT", org + "/roles/" + t.role, t.owner.access,
       R"({"name":")" + t.name + R"( Auditor","scope":"organisation","permissions":["audit.read"]})");
  t.policy = JsonText(Must("POST", org + "/policies", t.owner.access,
                           R"({"subject":{"kind":"team","id":")" + t.team + R"("},"role":")" +
                               t.role + R"("})",
                           201),
                      {"id"});
  const JsonValue pending =
      Must("POST", org + "/invitations", t.owner.access,
           JsonBody({{"email", "cleo@" + t.slug + ".test"}, {"role", "developer"}}), 201);
  t.invitation = JsonText(pending, {"id"});
  t.invitation_token = JsonText(pending, {"token"});
  t.flag = t.slug + "-flag";
  Must("PUT", org + "/flags/" + t.flag, t.owner.access,
       R"({"level":"organisation","value":")" + t.name + R"( flag value","description":")" +
           t.name + R"( flag description"})");
  const JsonValue key = Must("POST", org + "/apikeys", t.owner.access,
                             JsonBody({{"name", t.name + " deploy key"}, {"role", "developer"}}),
                             201);
  t.org_key_id = JsonText(key, {"id"});
  t.org_key = JsonText(key, {"key"});
  t.session = JsonText(Must("GET", "/api/v1/auth/sessions", t.owner.access, {}), {"items", "0", "id"});
  auto project_key = routes_.api_keys().Create(t.main.slug, t.name + " CI key",
                                               {"*:all", "*:pii"}, std::nullopt);
  if (!project_key) throw std::runtime_error("project key: " + project_key.error().message);
  t.project_key_id = project_key->info.id;
  t.project_key = project_key->secret;

  SeedProject(t, t.main, "main", 2);
  SeedProject(t, t.second, "second", 1);

  t.secrets = {t.slug,           t.name,          t.org_id,          t.main.slug,
               t.main.id,        t.main.name,     t.second.slug,     t.second.id,
               t.second.name,    t.owner.email,   t.owner.id,        t.owner.access,
               t.owner.refresh,  t.editor.email,  t.editor.id,       t.editor.access,
               t.editor.refresh, t.viewer.email,  t.viewer.id,       t.viewer.access,
               t.viewer.refresh, t.team,          t.role,            t.policy,
               t.invitation,     t.invitation_token, "cleo@" + t.slug + ".test", t.flag,
               t.org_key_id,     t.org_key,       t.project_key_id,  t.project_key,
               t.session};
  for (const auto* project : {&t.main, &t.second}) {
    for (const auto& [collection, id] : project->collection_ids) t.secrets.push_back(id);
    for (const auto& [collection, ids] : project->record_ids) {
      t.secrets.insert(t.secrets.end(), ids.begin(), ids.end());
    }
    for (const auto& user : project->users) {
      t.secrets.insert(t.secrets.end(), {user.email, user.token});
    }
  }
}

void CrossTenantWorld::SeedProject(CrossTenant& t, CrossTenantProject& project,
                                   std::string_view suffix, int users) {
  const std::string base = "/p/" + project.slug + "/api/collections";
  const std::string& owner = t.owner.access;
  const std::string mine = "id = @request.auth.id";
  const std::string authored = "author = @request.auth.id";
  project.collection_ids["users"] = JsonText(
      Must("POST", base, owner,
           R"({"name":"users","type":"auth","listRule":")" + mine + R"(","viewRule":")" + mine +
               R"(","createRule":null,"updateRule":")" + mine + R"(","deleteRule":")" + mine +
               R"(","fields":[{"name":"name","type":"text"}]})"),
      {"id"});
  project.collection_ids["posts"] = JsonText(
      Must("POST", base, owner,
           R"({"name":"posts","listRule":")" + authored + R"(","viewRule":")" + authored +
               R"(","createRule":"@request.auth.id != \"\" && )" + authored +
               R"(","updateRule":")" + authored + R"(","deleteRule":")" + authored +
               R"(","fields":[{"name":"title","type":"text"},)"
               R"({"name":"author","type":"relation","maxSelect":1,"collectionId":")" +
               project.collection_ids["users"] + R"("}]})"),
      {"id"});
  project.collection_ids["notes"] = JsonText(
      Must("POST", base, owner,
           R"({"name":"notes","fields":[{"name":"text","type":"text"},)"
           R"({"name":"secret","type":"text","hidden":true}]})"),
      {"id"});

  const std::string label = t.name + " " + std::string(suffix);
  for (int i = 1; i <= users; ++i) {
    CrossTenantAppUser user;
    user.email = "user" + std::to_string(i) + "@" + project.slug + ".test";
    user.id = JsonText(Must("POST", base + "/users/records", owner,
                            JsonBody({{"email", user.email},
                                      {"password", kPassword},
                                      {"passwordConfirm", kPassword},
                                      {"name", label + " user " + std::to_string(i)}})),
                       {"id"});
    user.token = JsonText(Must("POST", base + "/users/auth-with-password", {},
                               JsonBody({{"identity", user.email}, {"password", kPassword}})),
                          {"token"});
    project.record_ids["users"].push_back(user.id);
    project.record_ids["posts"].push_back(JsonText(
        Must("POST", base + "/posts/records", user.token,
             JsonBody({{"title", label + " post of user " + std::to_string(i)},
                       {"author", user.id}})),
        {"id"}));
    t.secrets.push_back(label + " user " + std::to_string(i));
    t.secrets.push_back(label + " post of user " + std::to_string(i));
    project.users.push_back(std::move(user));
  }
  const std::string note_secret = t.slug + "-" + std::string(suffix) + "-note-secret";
  project.record_ids["notes"].push_back(JsonText(
      Must("POST", base + "/notes/records", owner,
           JsonBody({{"text", label + " note"}, {"secret", note_secret}})),
      {"id"}));
  t.secrets.push_back(label + " note");
  t.secrets.push_back(note_secret);
}

std::vector<Credential> CrossTenantWorld::CredentialsOf(const CrossTenant& t) const {
  using Kind = Credential::Kind;
  auto member = [&](std::string_view role, const CrossTenantMember& m) {
    return Credential{t.slug + " " + std::string(role) + " (member access token)", Kind::kMember,
                      "Authorization", "Bearer " + m.access, {m.id, m.email}, 404};
  };
  std::vector<Credential> out = {
      member("owner", t.owner),
      member("project editor", t.editor),
      member("viewer", t.viewer),
      {t.slug + " organisation key (Bearer)", Kind::kBound, "Authorization", "Bearer " + t.org_key,
       {t.org_key_id}, 404},
      {t.slug + " organisation key (X-API-Key)", Kind::kBound, "X-API-Key", t.org_key,
       {t.org_key_id}, 404},
      {t.slug + " main project key", Kind::kBound, "Authorization", "Bearer " + t.project_key,
       {t.project_key_id}, 401},
  };
  for (const auto* project : {&t.main, &t.second}) {
    const CrossTenantAppUser& user = project->users.front();
    out.push_back({t.slug + " app user of " + project->slug, Kind::kBound, "Authorization",
                   "Bearer " + user.token, {user.id, user.email}, 401});
  }
  return out;
}

std::vector<Credential> CrossTenantWorld::MainProjectCredentialsOf(const CrossTenant& t) const {
  using Kind = Credential::Kind;
  std::vector<Credential> out = {
      {t.slug + " main project key", Kind::kBound, "Authorization", "Bearer " + t.project_key,
       {t.project_key_id}, 401},
      {t.slug + " project editor of " + t.main.slug + " (member access token)", Kind::kMember,
       "Authorization", "Bearer " + t.editor.access, {t.editor.id, t.editor.email}, 404},
  };
  for (const auto& user : t.main.users) {
    out.push_back({t.slug + " app user " + user.email, Kind::kBound, "Authorization",
                   "Bearer " + user.token, {user.id, user.email}, 401});
  }
  return out;
}

std::vector<std::string> CrossTenantWorld::Snapshot(const CrossTenant& t) {
  const std::string org = "/api/v1/orgs/" + t.slug;
  std::vector<std::string> targets = {
      org,
      org + "/projects",
      org + "/members",
      org + "/teams",
      org + "/teams/" + t.team,
      org + "/roles",
      org + "/policies",
      org + "/invitations",
      org + "/flags",
      org + "/apikeys",
  };
  for (const auto* project : {&t.main, &t.second}) {
    targets.push_back("/api/v1/projects/" + project->slug);
    const std::string base = "/p/" + project->slug + "/api";
    targets.push_back(base + "/collections");
    targets.push_back(base + "/settings");
    for (const auto& [collection, id] : project->collection_ids) {
      targets.push_back(base + "/collections/" + collection + "/records?sort=id&perPage=500");
    }
  }
  std::vector<std::string> answers;
  for (const auto& target : targets) {
    const HttpReply reply = Bearer("GET", target, t.owner.access);
    answers.push_back(target + " → " + std::to_string(reply.status) + " " + reply.body);
    if (!Success(reply.status)) {
      throw std::runtime_error("snapshot: " + answers.back());
    }
  }
  return answers;
}

}  // namespace socle::testing
