// Access management over HTTP (AccessApi, with PlatformApi and PlatformAuthApi), end to end: the
// in-process server on port 0 with the routes registered as socle-server registers them, over
// the memory store or SQLite, members signing in through /api/v1/auth. The stories of the RBAC
// model as a client lives them: an organisation's creator owns it, invites someone who joins
// without an account yet, teams and custom roles and policies grant, explanations say why,
// role switching narrows a session, flags take the most specific value; and the refusals:
// malformed bodies, unknown roles, ownership outside a transfer, the last owner, used
// invitations, and escalation (nobody grants more than they hold).
#include <catch2/catch.hpp>

#include <filesystem>
#include <initializer_list>
#include <memory>
#include <optional>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

#include "http_test_client.hpp"
#include "socle/adapters/http/json_object_reader.hpp"
#include "socle/adapters/json/json_writer.hpp"
#include "socle/adapters/sqlite/sqlite_catalogue_store.hpp"
#include "support/temp_dir.hpp"
#include "test_server.hpp"

namespace http = socle::adapters::http;
namespace json = socle::adapters::json;
using socle::domain::JsonValue;
using socle::testing::HttpReply;

namespace {

using Headers = std::vector<std::pair<std::string, std::string>>;

enum class StoreKind { kMemory, kSqlite };

JsonValue Json(const HttpReply& reply) {
  INFO(reply.body);
  auto parsed = http::ParseJson(reply.body);
  REQUIRE(parsed);
  return *parsed;
}

const JsonValue* At(const JsonValue& value, std::initializer_list<std::string_view> path) {
  const JsonValue* current = &value;
  for (std::string_view key : path) {
    if (current == nullptr || !current->IsObject()) return nullptr;
    current = current->Find(key);
  }
  return current;
}

std::string Text(const JsonValue& value, std::initializer_list<std::string_view> path) {
  const JsonValue* found = At(value, path);
  if (found == nullptr) return "<missing>";
  if (found->IsNull()) return "<null>";
  if (found->type() != JsonValue::Type::kString) return "<not a string>";
  return found->AsString();
}

std::vector<JsonValue> Items(const HttpReply& reply) {
  const JsonValue body = Json(reply);
  const JsonValue* items = body.Find("items");
  REQUIRE(items != nullptr);
  return items->items();
}

std::vector<std::string> Strings(const JsonValue& value, std::string_view key) {
  std::vector<std::string> out;
  const JsonValue* found = value.Find(key);
  if (found == nullptr) return out;
  for (const auto& item : found->items()) out.push_back(item.AsString());
  return out;
}

bool Contains(const std::vector<std::string>& values, std::string_view wanted) {
  return std::find(values.begin(), values.end(), wanted) != values.end();
}

std::string Body(std::initializer_list<std::pair<std::string_view, std::string_view>> members) {
  json::JsonWriter w;
  w.BeginObject();
  for (const auto& [key, value] : members) w.Key(key).String(value);
  w.EndObject();
  return std::move(w).Take();
}

// A refusal: its status, PocketBase's error shape, and (for 400s) the field named.
void CheckStatus(const HttpReply& reply, int status) {
  INFO(reply.body);
  CHECK(reply.status == status);
  const JsonValue body = Json(reply);
  CHECK(body.Find("status") != nullptr);
  CHECK(body.Find("message") != nullptr);
}

void CheckFieldError(const HttpReply& reply, std::string_view field, std::string_view code) {
  INFO(reply.body);
  CHECK(reply.status == 400);
  const JsonValue body = Json(reply);
  CHECK(Text(body, {"data", field, "code"}) == code);
}

std::unique_ptr<socle::adapters::sqlite::SqliteCatalogueStore> OpenSqlite(
    StoreKind kind, const socle::testing::TempDir& dir) {
  if (kind != StoreKind::kSqlite) return nullptr;
  auto store = socle::adapters::sqlite::SqliteCatalogueStore::Open(
      {.path = (dir.path() / "catalogue.db").string()});
  REQUIRE(store);
  REQUIRE((*store)->Migrate());
  return std::move(*store);
}

// A member signed in over HTTP.
struct Member {
  std::string id;
  std::string email;
  std::string access;
  std::string refresh;
};

// The server and its stores, members in construction order (the server is stopped first).
class World {
 public:
  explicit World(StoreKind kind = StoreKind::kMemory)
      : sqlite_(OpenSqlite(kind, dir_)),
        server_(socle::testing::TestServerOptions(), sqlite_.get()) {
    server_.ServePlatformSignIn();
    server_.Start();
  }

  HttpReply Call(std::string_view method, std::string_view target, std::string_view token = {},
                 std::string body = {}, Headers headers = {}) {
    if (!token.empty()) headers.emplace_back("Authorization", "Bearer " + std::string(token));
    return socle::testing::Fetch(server_.port(), method, target, std::move(body),
                                 std::move(headers));
  }

  // Signs an existing member in through POST /api/v1/auth/login.
  Member Login(std::string_view email, std::string_view password) {
    const HttpReply reply =
        Call("POST", "/api/v1/auth/login", {}, Body({{"email", email}, {"password", password}}));
    INFO(reply.body);
    REQUIRE(reply.status == 200);
    const JsonValue body = Json(reply);
    return {Text(body, {"member", "id"}), std::string(email), Text(body, {"accessToken"}),
            Text(body, {"refreshToken"})};
  }
  // Creates the member (as an operator would) and signs them in.
  Member NewMember(std::string_view email, std::string_view password = kPassword) {
    server_.world().AddMember(email, password);
    return Login(email, password);
  }

  std::string Root() { return server_.SuperuserToken(); }

  // Invites `email` to `org` with `role` as `by`; returns the invitation's token.
  std::string Invite(const Member& by, std::string_view org, std::string_view email,
                     std::string_view role, std::optional<std::string_view> project = {}) {
    json::JsonWriter w;
    w.BeginObject();
    w.Key("email").String(email);
    w.Key("role").String(role);
    if (project) w.Key("project").String(*project);
    w.EndObject();
    const HttpReply reply = Call("POST", "/api/v1/orgs/" + std::string(org) + "/invitations",
                                 by.access, std::move(w).Take());
    INFO(reply.body);
    REQUIRE(reply.status == 201);
    return Text(Json(reply), {"token"});
  }
  // Someone without an account accepts an invitation by choosing a password, then signs in.
  Member Join(const Member& by, std::string_view org, std::string_view email,
              std::string_view role, std::optional<std::string_view> project = {}) {
    const std::string token = Invite(by, org, email, role, project);
    const HttpReply accepted = Call("POST", "/api/v1/invitations/accept", {},
                                    Body({{"token", token}, {"password", kPassword}}));
    INFO(accepted.body);
    REQUIRE(accepted.status == 200);
    return Login(email, kPassword);
  }

  HttpReply CreateOrg(const Member& by, std::string_view slug, std::string_view name) {
    return Call("POST", "/api/v1/orgs", by.access, Body({{"slug", slug}, {"name", name}}));
  }

  socle::testing::TestServer& server() { return server_; }

  static constexpr std::string_view kPassword = "quartz-harbour-violet-58";

 private:
  socle::testing::TempDir dir_;  // first: removed after the store has closed its file
  std::unique_ptr<socle::adapters::sqlite::SqliteCatalogueStore> sqlite_;
  socle::testing::TestServer server_;
};

std::string Path(std::string_view org, std::string_view rest = {}) {
  return "/api/v1/orgs/" + std::string(org) + std::string(rest);
}

}  // namespace

TEST_CASE("A member's organisation, an invitation accepted without an account, and the invitee "
          "signed in",
          "[http][access]") {
  const StoreKind kind = GENERATE(StoreKind::kMemory, StoreKind::kSqlite);
  INFO((kind == StoreKind::kMemory ? "memory" : "sqlite"));
  World w(kind);
  const Member ann = w.NewMember("ann@example.com");

  const HttpReply created = w.CreateOrg(ann, "acme", "Acme");
  INFO(created.body);
  REQUIRE(created.status == 201);

  // The creator owns it.
  const HttpReply members = w.Call("GET", Path("acme", "/members"), ann.access);
  REQUIRE(members.status == 200);
  {
    const JsonValue page = Json(members);
    CHECK(page.Find("totalItems")->AsInt64() == 1);
    const auto listed = Items(members);
    REQUIRE(listed.size() == 1);
    CHECK(Text(listed[0], {"memberId"}) == ann.id);
    CHECK(Text(listed[0], {"email"}) == "ann@example.com");
    CHECK(Strings(listed[0], "roles") == std::vector<std::string>{"owner"});
    CHECK(Strings(listed[0], "teams").empty());
  }
  const auto policies = Items(w.Call("GET", Path("acme", "/policies"), ann.access));
  REQUIRE(policies.size() == 1);
  CHECK(Text(policies[0], {"role"}) == "owner");
  CHECK(Text(policies[0], {"subject", "kind"}) == "member");
  CHECK(Text(policies[0], {"subject", "id"}) == ann.id);
  CHECK(Text(policies[0], {"project"}) == "<null>");
  CHECK(Text(policies[0], {"createdBy"}) == "member:" + ann.id);

  // The invitation: its token shown once, to the inviter.
  const HttpReply invited = w.Call("POST", Path("acme", "/invitations"), ann.access,
                                   Body({{"email", "Bea@Example.com"}, {"role", "developer"}}));
  INFO(invited.body);
  REQUIRE(invited.status == 201);
  CHECK(invited.Header("cache-control") == "no-store");
  const JsonValue invitation = Json(invited);
  const std::string token = Text(invitation, {"token"});
  CHECK(token.starts_with("inv_"));
  CHECK(Text(invitation, {"email"}) == "bea@example.com");
  CHECK(Text(invitation, {"role"}) == "developer");
  CHECK(Text(invitation, {"state"}) == "pending");
  CHECK(Text(invitation, {"project"}) == "<null>");
  const HttpReply listed_invitations = w.Call("GET", Path("acme", "/invitations"), ann.access);
  REQUIRE(listed_invitations.status == 200);
  CHECK(listed_invitations.body.find(token) == std::string::npos);
  CHECK(listed_invitations.body.find("\"token\"") == std::string::npos);
  CHECK(Items(listed_invitations).size() == 1);

  // Whoever holds the token sees what it offers, then accepts with a password of their own.
  const HttpReply preview =
      w.Call("POST", "/api/v1/invitations/preview", {}, Body({{"token", token}}));
  INFO(preview.body);
  REQUIRE(preview.status == 200);
  const JsonValue offered = Json(preview);
  CHECK(Text(offered, {"organisation", "slug"}) == "acme");
  CHECK(Text(offered, {"organisation", "name"}) == "Acme");
  CHECK(Text(offered, {"project"}) == "<null>");
  CHECK(Text(offered, {"email"}) == "bea@example.com");
  CHECK(Text(offered, {"role"}) == "developer");
  CHECK(offered.Find("memberExists")->AsBool() == false);

  const HttpReply accepted =
      w.Call("POST", "/api/v1/invitations/accept", {},
             Body({{"token", token}, {"password", World::kPassword}, {"name", "Bea"}}));
  INFO(accepted.body);
  REQUIRE(accepted.status == 200);
  const JsonValue joined = Json(accepted);
  CHECK(Text(joined, {"organisation", "slug"}) == "acme");
  CHECK(Text(joined, {"organisation", "name"}) == "Acme");
  const std::string bea_id = Text(joined, {"memberId"});

  // Used once: every further use of the token is refused.
  for (std::string_view route : {"preview", "accept", "decline"}) {
    INFO(route);
    CheckStatus(w.Call("POST", "/api/v1/invitations/" + std::string(route), {},
                       route == "accept" ? Body({{"token", token}, {"password", World::kPassword}})
                                         : Body({{"token", token}})),
                409);
  }
  CHECK(Text(Items(w.Call("GET", Path("acme", "/invitations"), ann.access))[0], {"state"}) ==
        "accepted");

  // The invitee signs in and finds the organisation, with the invited role and no more.
  const Member bea = w.Login("bea@example.com", World::kPassword);
  CHECK(bea.id == bea_id);
  const auto orgs = Items(w.Call("GET", "/api/v1/orgs", bea.access));
  REQUIRE(orgs.size() == 1);
  CHECK(Text(orgs[0], {"slug"}) == "acme");
  CHECK(w.Call("GET", Path("acme"), bea.access).status == 200);
  CHECK(Items(w.Call("GET", Path("acme", "/members"), bea.access)).size() == 2);
  CHECK(w.Call("POST", Path("acme", "/projects"), bea.access, Body({{"slug", "shop"}})).status ==
        201);
  const HttpReply refused = w.Call("DELETE", Path("acme"), bea.access);
  CheckStatus(refused, 403);
  CHECK(Text(Json(refused), {"message"}).find("denied: no policy grants organisation.delete") !=
        std::string::npos);
  CHECK(w.Call("GET", Path("acme"), ann.access).status == 200);
}

TEST_CASE("Teams, a custom role, policies and the explanations of who may do what",
          "[http][access]") {
  World w;
  const Member ann = w.NewMember("ann@example.com");
  REQUIRE(w.CreateOrg(ann, "acme", "Acme").status == 201);
  REQUIRE(w.Call("POST", Path("acme", "/projects"), ann.access, Body({{"slug", "shop"}})).status ==
          201);
  const Member bea = w.Join(ann, "acme", "bea@example.com", "viewer");
  // cy reads the organisation and nothing else; dee works on one project only.
  REQUIRE(w.Call("PUT", Path("acme", "/roles/reader"), ann.access,
                 R"({"scope":"organisation","permissions":["organisation.read"]})")
              .status == 200);
  const Member cy = w.Join(ann, "acme", "cy@example.com", "reader");
  const Member dee = w.Join(ann, "acme", "dee@example.com", "project.viewer", "shop");

  // A team, with bea in it.
  const HttpReply team_made = w.Call("POST", Path("acme", "/teams"), ann.access,
                                     Body({{"name", "Ops"}, {"description", "On call"}}));
  INFO(team_made.body);
  REQUIRE(team_made.status == 201);
  const std::string team = Text(Json(team_made), {"id"});
  CHECK(Text(Json(team_made), {"name"}) == "Ops");
  CHECK(w.Call("PUT", Path("acme", "/teams/" + team + "/members/" + bea.id), ann.access).status ==
        204);
  const HttpReply team_got = w.Call("GET", Path("acme", "/teams/" + team), bea.access);
  INFO(team_got.body);
  REQUIRE(team_got.status == 200);
  {
    const JsonValue body = Json(team_got);
    REQUIRE(body.Find("members")->items().size() == 1);
    CHECK(Text(body.Find("members")->items()[0], {"memberId"}) == bea.id);
  }
  const HttpReply renamed = w.Call("PATCH", Path("acme", "/teams/" + team), ann.access,
                                   Body({{"name", "Operations"}}));
  REQUIRE(renamed.status == 200);
  CHECK(Text(Json(renamed), {"name"}) == "Operations");
  CHECK(Text(Json(renamed), {"description"}) == "On call");
  CHECK(Items(w.Call("GET", Path("acme", "/teams"), bea.access)).size() == 1);
  const HttpReply paged = w.Call("GET", Path("acme", "/members?perPage=1&page=2"), ann.access);
  REQUIRE(paged.status == 200);
  CHECK(Json(paged).Find("totalItems")->AsInt64() == 4);
  CHECK(Json(paged).Find("totalPages")->AsInt64() == 4);
  const auto second = Items(paged);
  REQUIRE(second.size() == 1);  // ordered by e-mail: ann, bea, cy, dee
  CHECK(Text(second[0], {"memberId"}) == bea.id);
  CHECK(Strings(second[0], "teams") == std::vector<std::string>{team});

  // A custom role, inheriting viewer.
  const HttpReply role_put =
      w.Call("PUT", Path("acme", "/roles/auditor"), ann.access,
             R"({"name":"Auditor","scope":"organisation","parents":["viewer"],)"
             R"("permissions":["audit.read"]})");
  INFO(role_put.body);
  REQUIRE(role_put.status == 200);
  {
    const JsonValue role = Json(role_put);
    CHECK(Text(role, {"id"}) == "auditor");
    CHECK(Text(role, {"scope"}) == "organisation");
    CHECK(role.Find("builtin")->AsBool() == false);
    const auto effective = Strings(role, "effective");
    CHECK(Contains(effective, "audit.read"));
    CHECK(Contains(effective, "organisation.read"));
    CHECK(Contains(effective, "records.read"));
    CHECK_FALSE(Contains(effective, "records.update"));
  }
  const auto roles = Items(w.Call("GET", Path("acme", "/roles"), bea.access));
  CHECK(roles.size() == 9);  // seven built-in ones, reader and auditor
  CHECK(std::any_of(roles.begin(), roles.end(), [](const JsonValue& role) {
    return Text(role, {"id"}) == "owner" && role.Find("builtin")->AsBool();
  }));

  // Policies: the team gets auditor on the organisation and project.editor on shop.
  const std::string team_subject = R"({"kind":"team","id":")" + team + "\"}";
  const HttpReply granted = w.Call("POST", Path("acme", "/policies"), ann.access,
                                   R"({"subject":)" + team_subject + R"(,"role":"auditor"})");
  INFO(granted.body);
  REQUIRE(granted.status == 201);
  CHECK(Text(Json(granted), {"subject", "kind"}) == "team");
  CHECK(Text(Json(granted), {"project"}) == "<null>");
  const HttpReply on_project =
      w.Call("POST", Path("acme", "/policies"), ann.access,
             R"({"subject":)" + team_subject + R"(,"role":"project.editor","project":"shop"})");
  INFO(on_project.body);
  REQUIRE(on_project.status == 201);
  CHECK(Text(Json(on_project), {"project"}) == "shop");
  const std::string editor_policy = Text(Json(on_project), {"id"});
  const auto listed = Items(w.Call("GET", Path("acme", "/policies"), ann.access));
  CHECK(std::any_of(listed.begin(), listed.end(), [&](const JsonValue& policy) {
    return Text(policy, {"id"}) == editor_policy && Text(policy, {"project"}) == "shop" &&
           Text(policy, {"createdBy"}) == "member:" + ann.id;
  }));

  // Explanations: bea's own, on the project.
  const HttpReply explained =
      w.Call("GET", Path("acme", "/explain?project=shop&permission=audit.read,records.update,"
                                 "organisation.delete"),
             bea.access);
  INFO(explained.body);
  REQUIRE(explained.status == 200);
  const auto items = Items(explained);
  REQUIRE(items.size() == 3);
  CHECK(Text(items[0], {"permission"}) == "audit.read");
  CHECK(items[0].Find("allowed")->AsBool());
  // Explanations name the team and the organisation as people know them.
  CHECK(Text(items[0], {"explanation"}) ==
        "allowed because team Operations has role auditor on organisation acme");
  CHECK(Text(items[0], {"policy", "role"}) == "auditor");
  CHECK(Strings(items[0], "via") == std::vector<std::string>{"auditor"});
  CHECK(Text(items[1], {"permission"}) == "records.update");
  CHECK(items[1].Find("allowed")->AsBool());
  CHECK(Text(items[1], {"policy", "project"}) == "shop");
  CHECK(Text(items[1], {"explanation"}).find("has role project.editor on project ") !=
        std::string::npos);
  CHECK_FALSE(items[2].Find("allowed")->AsBool());
  CHECK(Text(items[2], {"explanation"}) == "denied: no policy grants organisation.delete");
  CHECK(Text(items[2], {"policy"}) == "<null>");

  // Off the project, the team's editing does not count.
  const auto off_project =
      Items(w.Call("GET", Path("acme", "/explain?permission=records.update"), bea.access));
  REQUIRE(off_project.size() == 1);
  CHECK_FALSE(off_project[0].Find("allowed")->AsBool());
  // Inherited permissions name the chain.
  const auto inherited = Items(w.Call(
      "GET", Path("acme", "/explain?subject=team:" + team + "&permission=organisation.read"),
      ann.access));
  REQUIRE(inherited.size() == 1);
  CHECK(Strings(inherited[0], "via") == std::vector<std::string>{"auditor", "viewer"});
  CHECK(Text(inherited[0], {"explanation"}).ends_with(", inherited from viewer"));
  // Every known permission when none is named.
  CHECK(Items(w.Call("GET", Path("acme", "/explain"), ann.access)).size() > 30);

  // Someone else's access needs policy.read, which cy does not hold; cy's own is fine.
  CheckStatus(w.Call("GET", Path("acme", "/explain?subject=member:" + ann.id), cy.access), 403);
  const auto own = Items(w.Call(
      "GET", Path("acme", "/explain?subject=member:" + cy.id + "&permission=organisation.read"),
      cy.access));
  REQUIRE(own.size() == 1);
  CHECK(own[0].Find("allowed")->AsBool());
  // dee holds nothing on the organisation itself, only on a project of it: dee knows the
  // organisation exists (403, not 404), may ask why, and sees that one project.
  CheckStatus(w.Call("GET", Path("acme"), dee.access), 403);
  const auto dee_own = Items(w.Call(
      "GET", Path("acme", "/explain?project=shop&permission=records.read,records.update"),
      dee.access));
  REQUIRE(dee_own.size() == 2);
  CHECK(dee_own[0].Find("allowed")->AsBool());
  CHECK(Text(dee_own[0], {"policy", "project"}) == "shop");
  CHECK_FALSE(dee_own[1].Find("allowed")->AsBool());
  const auto dee_projects = Items(w.Call("GET", Path("acme", "/projects"), dee.access));
  REQUIRE(dee_projects.size() == 1);
  CHECK(Text(dee_projects[0], {"slug"}) == "shop");
  CHECK(w.Call("GET", "/api/v1/projects/shop", dee.access).status == 200);

  // Taking the policy back takes the permission back.
  CHECK(w.Call("DELETE", Path("acme", "/policies/" + editor_policy), ann.access).status == 204);
  const auto after = Items(w.Call(
      "GET", Path("acme", "/explain?project=shop&permission=records.update"), bea.access));
  CHECK_FALSE(after[0].Find("allowed")->AsBool());
  CheckStatus(w.Call("DELETE", Path("acme", "/policies/" + editor_policy), ann.access), 404);

  // A team leaves with its places and policies; a role goes once nothing binds it.
  CheckStatus(w.Call("DELETE", Path("acme", "/roles/auditor"), ann.access), 409);
  CHECK(w.Call("DELETE", Path("acme", "/teams/" + team + "/members/" + bea.id), ann.access)
            .status == 204);
  CHECK(w.Call("DELETE", Path("acme", "/teams/" + team), ann.access).status == 204);
  CheckStatus(w.Call("GET", Path("acme", "/teams/" + team), ann.access), 404);
  CHECK(w.Call("DELETE", Path("acme", "/roles/auditor"), ann.access).status == 204);
  CheckStatus(w.Call("DELETE", Path("acme", "/roles/auditor"), ann.access), 404);
}

TEST_CASE("Role switching narrows what a session may do", "[http][access]") {
  World w;
  const Member ann = w.NewMember("ann@example.com");
  REQUIRE(w.CreateOrg(ann, "acme", "Acme").status == 201);
  Member bea = w.Join(ann, "acme", "bea@example.com", "developer");
  // bea holds viewer too, directly.
  const std::string bea_subject = R"({"subject":{"kind":"member","id":")" + bea.id + "\"},";
  REQUIRE(w.Call("POST", Path("acme", "/policies"), ann.access, bea_subject + R"("role":"viewer"})")
              .status == 201);

  auto switch_to = [&](std::string_view role) {
    const HttpReply reply = w.Call("POST", "/api/v1/auth/role", bea.access,
                                   Body({{"refreshToken", bea.refresh}, {"role", role}}));
    INFO(reply.body);
    REQUIRE(reply.status == 200);
    const JsonValue body = Json(reply);
    CHECK(Text(body, {"member", "activeRole"}) == role);
    bea.access = Text(body, {"accessToken"});
    bea.refresh = Text(body, {"refreshToken"});
  };
  auto can_create_project = [&](std::string_view slug) {
    const HttpReply reply =
        w.Call("POST", Path("acme", "/projects"), bea.access, Body({{"slug", slug}}));
    INFO(reply.body);
    CHECK((reply.status == 201 || reply.status == 403));
    return reply.status == 201;
  };

  CHECK(can_create_project("one"));
  switch_to("viewer");
  CHECK_FALSE(can_create_project("two"));
  CHECK(w.Call("GET", Path("acme"), bea.access).status == 200);  // viewer still reads
  const auto explained =
      Items(w.Call("GET", Path("acme", "/explain?permission=project.create"), bea.access));
  CHECK_FALSE(explained[0].Find("allowed")->AsBool());
  // Refreshing keeps the role.
  const HttpReply refreshed =
      w.Call("POST", "/api/v1/auth/refresh", {}, Body({{"refreshToken", bea.refresh}}));
  REQUIRE(refreshed.status == 200);
  CHECK(Text(Json(refreshed), {"member", "activeRole"}) == "viewer");
  bea.access = Text(Json(refreshed), {"accessToken"});
  bea.refresh = Text(Json(refreshed), {"refreshToken"});
  CHECK_FALSE(can_create_project("three"));

  // A role bea does not hold is refused; her session keeps acting as before.
  CheckFieldError(w.Call("POST", "/api/v1/auth/role", bea.access,
                         Body({{"refreshToken", bea.refresh}, {"role", "owner"}})),
                  "role", "validation_invalid_value");
  switch_to("developer");
  CHECK(can_create_project("four"));
  switch_to("viewer");
  switch_to("");
  CHECK(can_create_project("five"));
}

TEST_CASE("Feature flags: the most specific level wins, through the API", "[http][access]") {
  World w;
  const std::string root = w.Root();
  const Member ann = w.NewMember("ann@example.com");
  REQUIRE(w.CreateOrg(ann, "acme", "Acme").status == 201);
  const Member bea = w.Join(ann, "acme", "bea@example.com", "developer");

  // Global flags are the superusers'.
  const HttpReply global =
      w.Call("PUT", "/api/v1/flags/beta-ui", root, R"({"value":false,"description":"New UI"})");
  INFO(global.body);
  REQUIRE(global.status == 200);
  CHECK(Text(Json(global), {"level"}) == "global");
  CHECK(Text(Json(global), {"updatedBy"}).starts_with("superuser:"));
  CheckStatus(w.Call("PUT", "/api/v1/flags/beta-ui", ann.access, R"({"value":true})"), 403);
  CheckStatus(w.Call("PUT", "/api/v1/flags/beta-ui", {}, R"({"value":true})"), 401);
  CheckStatus(w.Call("DELETE", "/api/v1/flags/beta-ui", ann.access), 403);

  using Flag = std::pair<std::string, std::string>;  // {value as JSON, source}
  auto value_for = [&](const Member& who, std::string_view query) {
    const HttpReply reply = w.Call("GET", "/api/v1/flags/evaluate?" + std::string(query),
                                   who.access);
    INFO(reply.body);
    REQUIRE(reply.status == 200);
    const auto items = Items(reply);
    REQUIRE(items.size() == 1);
    json::JsonWriter out;
    out.Value(*items[0].Find("value"));
    return Flag{std::move(out).Take(), Text(items[0], {"source"})};
  };
  CHECK(value_for(bea, "org=acme&key=beta-ui") == Flag{"false", "global"});

  const std::string flag = Path("acme", "/flags/beta-ui");
  REQUIRE(w.Call("PUT", flag, ann.access, R"({"level":"organisation","value":true})").status ==
          200);
  REQUIRE(w.Call("PUT", flag, ann.access, R"({"level":"role","subject":"admin","value":"adm"})")
              .status == 200);
  CHECK(value_for(bea, "org=acme&key=beta-ui") ==
        Flag{"true", "organisation"});
  CHECK(value_for(ann, "org=acme&key=beta-ui") ==
        Flag{"\"adm\"", "role:admin"});
  const HttpReply user_flag =
      w.Call("PUT", flag, ann.access,
             R"({"level":"user","subject":")" + bea.id + R"(","value":42})");
  INFO(user_flag.body);
  REQUIRE(user_flag.status == 200);
  CHECK(value_for(bea, "org=acme&key=beta-ui") == Flag{"42", "user"});
  // Someone else's values need flag.read (ann, the owner, has it).
  CHECK(value_for(ann, "org=acme&key=beta-ui&member=" + bea.id) ==
        Flag{"42", "user"});
  // Without an organisation: the global value.
  CHECK(value_for(bea, "key=beta-ui") == Flag{"false", "global"});

  CHECK(Items(w.Call("GET", Path("acme", "/flags"), bea.access)).size() == 4);
  CHECK(Items(w.Call("GET", "/api/v1/flags", bea.access)).size() == 1);

  // Deleting the user's and the organisation's values falls back level by level.
  CHECK(w.Call("DELETE", flag + "?level=user&subject=" + bea.id, ann.access).status == 204);
  CHECK(value_for(bea, "org=acme&key=beta-ui") ==
        Flag{"true", "organisation"});
  CHECK(w.Call("DELETE", flag, ann.access).status == 204);
  CHECK(value_for(bea, "org=acme&key=beta-ui") == Flag{"false", "global"});
  CheckStatus(w.Call("DELETE", flag, ann.access), 404);
  CHECK(w.Call("DELETE", "/api/v1/flags/beta-ui", root).status == 204);
  CHECK(value_for(bea, "key=beta-ui") == Flag{"null", "unset"});

  // Bad flags.
  CheckFieldError(w.Call("PUT", flag, ann.access, R"({"level":"galaxy","value":1})"), "level",
                  "validation_invalid_value");
  CheckFieldError(w.Call("PUT", flag, ann.access, R"({"level":"organisation","value":[1]})"),
                  "value", "validation_invalid_type");
  CheckFieldError(w.Call("PUT", flag, ann.access, R"({"level":"organisation"})"), "value",
                  "validation_required");
  CheckFieldError(w.Call("PUT", flag, ann.access, R"({"level":"role","subject":"nope","value":1})"),
                  "subject", "validation_invalid_value");
  CheckFieldError(w.Call("PUT", flag, ann.access, R"({"level":"global","value":1})"), "level",
                  "validation_invalid_value");
  CheckFieldError(w.Call("PUT", Path("acme", "/flags/Bad%20Key"), ann.access,
                         R"({"level":"organisation","value":1})"),
                  "key", "validation_invalid_value");
  CheckFieldError(w.Call("DELETE", flag + "?level=bogus", ann.access), "level",
                  "validation_invalid_value");
  CheckFieldError(w.Call("PUT", "/api/v1/flags/beta-ui", root, R"({"value":true,"level":"x"})"),
                  "level", "validation_unknown_field");
}

TEST_CASE("Ownership: transfer, the last owner, and owner only by transfer", "[http][access]") {
  World w;
  const Member ann = w.NewMember("ann@example.com");
  REQUIRE(w.CreateOrg(ann, "acme", "Acme").status == 201);
  const Member bea = w.Join(ann, "acme", "bea@example.com", "admin");

  // Nobody becomes owner through a policy or an invitation.
  const std::string bea_subject = R"({"subject":{"kind":"member","id":")" + bea.id + "\"},";
  CheckFieldError(w.Call("POST", Path("acme", "/policies"), ann.access,
                         bea_subject + R"("role":"owner"})"),
                  "role", "validation_invalid_value");
  CheckFieldError(w.Call("POST", Path("acme", "/invitations"), ann.access,
                         Body({{"email", "cy@example.com"}, {"role", "owner"}})),
                  "role", "validation_invalid_value");

  // The last owner cannot leave; the admin cannot take the ownership.
  CheckStatus(w.Call("DELETE", Path("acme", "/members/" + ann.id), ann.access), 409);
  CheckStatus(w.Call("POST", Path("acme", "/transfer"), bea.access, Body({{"member", bea.id}})),
              403);
  CheckStatus(w.Call("DELETE", Path("acme", "/members/" + ann.id), bea.access), 403);
  CheckFieldError(w.Call("POST", Path("acme", "/transfer"), ann.access,
                         Body({{"member", "nobody000000000"}})),
                  "member", "validation_invalid_value");

  // After a transfer, ann is an admin and may leave.
  REQUIRE(w.Call("POST", Path("acme", "/transfer"), ann.access, Body({{"member", bea.id}}))
              .status == 204);
  const auto members = Items(w.Call("GET", Path("acme", "/members"), bea.access));
  REQUIRE(members.size() == 2);
  CHECK(Strings(members[0], "roles") == std::vector<std::string>{"admin"});  // ann
  CHECK(Contains(Strings(members[1], "roles"), "owner"));                   // bea
  CHECK(w.Call("DELETE", Path("acme", "/members/" + ann.id), ann.access).status == 204);
  CheckStatus(w.Call("GET", Path("acme"), ann.access), 404);
  CHECK(Items(w.Call("GET", "/api/v1/orgs", ann.access)).empty());
  CheckStatus(w.Call("DELETE", Path("acme", "/members/" + bea.id), bea.access), 409);
}

TEST_CASE("Escalation is refused: nobody grants more than they hold", "[http][access]") {
  World w;
  const Member ann = w.NewMember("ann@example.com");
  REQUIRE(w.CreateOrg(ann, "acme", "Acme").status == 201);
  const Member dan = w.Join(ann, "acme", "dan@example.com", "admin");
  const Member bea = w.Join(ann, "acme", "bea@example.com", "viewer");

  // An admin cannot define a role that deletes the organisation…
  const HttpReply defined =
      w.Call("PUT", Path("acme", "/roles/deleter"), dan.access,
             R"({"scope":"organisation","permissions":["organisation.delete"]})");
  CheckStatus(defined, 403);
  // …nor grant one the owner defined.
  REQUIRE(w.Call("PUT", Path("acme", "/roles/deleter"), ann.access,
                 R"({"scope":"organisation","permissions":["organisation.delete"]})")
              .status == 200);
  const std::string bea_subject = R"({"subject":{"kind":"member","id":")" + bea.id + "\"},";
  const HttpReply granted =
      w.Call("POST", Path("acme", "/policies"), dan.access, bea_subject + R"("role":"deleter"})");
  CheckStatus(granted, 403);
  CHECK(Text(Json(granted), {"message"}) ==
        "You cannot grant the role deleter: it holds organisation.delete, which you do not.");
  CheckStatus(w.Call("POST", Path("acme", "/invitations"), dan.access,
                     Body({{"email", "eve@example.com"}, {"role", "deleter"}})),
              403);
  // What dan holds, dan may grant.
  CHECK(w.Call("POST", Path("acme", "/policies"), dan.access,
               bea_subject + R"("role":"developer"})")
            .status == 201);
  // A viewer manages nothing.
  CheckStatus(w.Call("POST", Path("acme", "/teams"), bea.access, Body({{"name", "Mine"}})), 403);
  CheckStatus(w.Call("POST", Path("acme", "/invitations"), bea.access,
                     Body({{"email", "eve@example.com"}, {"role", "viewer"}})),
              403);
}

TEST_CASE("Invitations: revoked, declined, for someone else, for an existing member",
          "[http][access]") {
  World w;
  const Member ann = w.NewMember("ann@example.com");
  const Member bea = w.NewMember("bea@example.com");
  REQUIRE(w.CreateOrg(ann, "acme", "Acme").status == 201);

  // Revoked: the token no longer works.
  const HttpReply made = w.Call("POST", Path("acme", "/invitations"), ann.access,
                                Body({{"email", "eve@example.com"}, {"role", "viewer"}}));
  REQUIRE(made.status == 201);
  const std::string id = Text(Json(made), {"id"});
  const std::string revoked_token = Text(Json(made), {"token"});
  CHECK(w.Call("DELETE", Path("acme", "/invitations/" + id), ann.access).status == 204);
  CheckStatus(w.Call("DELETE", Path("acme", "/invitations/" + id), ann.access), 409);
  CheckStatus(w.Call("POST", "/api/v1/invitations/preview", {}, Body({{"token", revoked_token}})),
              409);
  CheckStatus(w.Call("DELETE", Path("acme", "/invitations/zzzzzzzzzzzzzzz"), ann.access), 404);

  // Declined.
  const std::string declined = w.Invite(ann, "acme", "fay@example.com", "viewer");
  CHECK(w.Call("POST", "/api/v1/invitations/decline", {}, Body({{"token", declined}})).status ==
        204);
  CheckStatus(w.Call("POST", "/api/v1/invitations/accept", {},
                     Body({{"token", declined}, {"password", World::kPassword}})),
              409);

  // For an existing member: anonymous acceptance is refused (sign in first), the member signed
  // in accepts, someone else signed in may not.
  const std::string for_bea = w.Invite(ann, "acme", "bea@example.com", "viewer");
  const HttpReply previewed =
      w.Call("POST", "/api/v1/invitations/preview", {}, Body({{"token", for_bea}}));
  REQUIRE(previewed.status == 200);
  CHECK(Json(previewed).Find("memberExists")->AsBool());
  CheckStatus(w.Call("POST", "/api/v1/invitations/accept", {},
                     Body({{"token", for_bea}, {"password", "another-pass-word-12"}})),
              401);
  const Member cy = w.NewMember("cy@example.com");
  CheckStatus(w.Call("POST", "/api/v1/invitations/accept", cy.access, Body({{"token", for_bea}})),
              403);
  CheckStatus(
      w.Call("POST", "/api/v1/invitations/accept", "not-a-token", Body({{"token", for_bea}})), 401);
  const HttpReply accepted =
      w.Call("POST", "/api/v1/invitations/accept", bea.access, Body({{"token", for_bea}}));
  INFO(accepted.body);
  REQUIRE(accepted.status == 200);
  CHECK(Text(Json(accepted), {"memberId"}) == bea.id);
  CHECK(w.Call("GET", Path("acme"), bea.access).status == 200);

  // Tokens that name nothing.
  CheckStatus(w.Call("POST", "/api/v1/invitations/preview", {}, Body({{"token", "inv_nothing"}})),
              404);
  CheckStatus(w.Call("POST", "/api/v1/invitations/decline", {},
                     Body({{"token", "inv_" + std::string(50, 'a')}})),
              404);
  // An anonymous acceptance needs a password the policy accepts.
  const std::string for_gus = w.Invite(ann, "acme", "gus@example.com", "viewer");
  CheckFieldError(w.Call("POST", "/api/v1/invitations/accept", {}, Body({{"token", for_gus}})),
                  "password", "validation_required");
  CheckFieldError(w.Call("POST", "/api/v1/invitations/accept", {},
                         Body({{"token", for_gus}, {"password", "short"}})),
                  "password", "validation_min_text_constraint");
}

TEST_CASE("Access routes refuse bad bodies, parameters and ids with 400 or 404, never 500",
          "[http][access]") {
  World w;
  const Member ann = w.NewMember("ann@example.com");
  REQUIRE(w.CreateOrg(ann, "acme", "Acme").status == 201);
  const std::string teams = Path("acme", "/teams");
  const std::string policies = Path("acme", "/policies");

  SECTION("malformed JSON and other media types") {
    for (const std::string& target :
         {teams, policies, Path("acme", "/invitations"), Path("acme", "/transfer"),
          std::string("/api/v1/invitations/preview"), std::string("/api/v1/invitations/accept")}) {
      INFO(target);
      CheckStatus(w.Call("POST", target, ann.access, "{"), 400);
      CheckStatus(w.Call("POST", target, ann.access, "[]"), 400);
      CheckStatus(w.Call("POST", target, ann.access, R"({"name":"x"})",
                         {{"Content-Type", "text/plain"}}),
                  400);
    }
    CheckStatus(w.Call("PUT", Path("acme", "/roles/r1"), ann.access, "{"), 400);
    CheckStatus(w.Call("PATCH", teams + "/zzzzzzzzzzzzzzz", ann.access, "nope"), 400);
  }
  SECTION("wrong types, unknown and missing members") {
    CheckFieldError(w.Call("POST", teams, ann.access, R"({"name":5})"), "name",
                    "validation_invalid_type");
    CheckFieldError(w.Call("POST", teams, ann.access, R"({"name":"x","colour":"red"})"), "colour",
                    "validation_unknown_field");
    CheckFieldError(w.Call("POST", teams, ann.access, R"({"description":"x"})"), "name",
                    "validation_required");
    CheckFieldError(w.Call("POST", teams, ann.access, R"({"name":"a","name":"b"})"), "name",
                    "validation_duplicate_field");
    CheckFieldError(w.Call("POST", teams, ann.access, R"({"name":""})"), "name",
                    "validation_required");
    CheckFieldError(w.Call("POST", policies, ann.access, R"({"subject":"bea","role":"viewer"})"),
                    "subject", "validation_invalid_type");
    CheckFieldError(w.Call("POST", policies, ann.access,
                           R"({"subject":{"kind":"robot","id":"x"},"role":"viewer"})"),
                    "subject.kind", "validation_invalid_value");
    CheckFieldError(w.Call("POST", policies, ann.access,
                           R"({"subject":{"kind":"member"},"role":"viewer"})"),
                    "subject.id", "validation_required");
    CheckFieldError(w.Call("POST", policies, ann.access,
                           R"({"subject":{"kind":"member","id":"x","org":"y"},"role":"viewer"})"),
                    "subject.org", "validation_unknown_field");
    CheckFieldError(w.Call("POST", policies, ann.access, R"({"role":"viewer"})"), "subject",
                    "validation_required");
    CheckFieldError(w.Call("PUT", Path("acme", "/roles/r1"), ann.access,
                           R"({"scope":"galaxy","permissions":[]})"),
                    "scope", "validation_invalid_value");
    CheckFieldError(w.Call("PUT", Path("acme", "/roles/r1"), ann.access,
                           R"({"scope":"project","permissions":"records.read"})"),
                    "permissions", "validation_invalid_type");
    CheckFieldError(w.Call("PUT", Path("acme", "/roles/r1"), ann.access,
                           R"({"scope":"project","permissions":[1]})"),
                    "permissions", "validation_invalid_type");
    CheckFieldError(w.Call("PUT", Path("acme", "/roles/r1"), ann.access, R"({"permissions":[]})"),
                    "scope", "validation_required");
    CheckFieldError(w.Call("POST", "/api/v1/invitations/preview", {}, "{}"), "token",
                    "validation_required");
    CheckFieldError(w.Call("POST", Path("acme", "/transfer"), ann.access, R"({"member":1})"),
                    "member", "validation_invalid_type");
  }
  SECTION("values the model refuses") {
    const std::string member = R"({"subject":{"kind":"member","id":")" + ann.id + "\"},";
    CheckFieldError(w.Call("POST", policies, ann.access, member + R"("role":"nope"})"), "role",
                    "validation_invalid_value");
    CheckFieldError(w.Call("POST", policies, ann.access,
                           member + R"("role":"viewer","project":"nowhere"})"),
                    "project", "validation_invalid_value");
    CheckFieldError(
        w.Call("POST", policies, ann.access,
               R"({"subject":{"kind":"member","id":"stranger0000000"},"role":"viewer"})"),
                    "subject", "validation_invalid_value");
    CheckFieldError(w.Call("POST", Path("acme", "/invitations"), ann.access,
                           Body({{"email", "not-an-address"}, {"role", "viewer"}})),
                    "email", "validation_is_email");
    CheckFieldError(w.Call("POST", Path("acme", "/invitations"), ann.access,
                           Body({{"email", "x@example.com"}, {"role", "nope"}})),
                    "role", "validation_invalid_value");
    CheckFieldError(w.Call("PUT", Path("acme", "/roles/r1"), ann.access,
                           R"({"scope":"organisation","permissions":["records.fly"]})"),
                    "permissions", "validation_unknown_permission");
    const HttpReply cycle_a = w.Call("PUT", Path("acme", "/roles/ra"), ann.access,
                                     R"({"scope":"organisation","permissions":["audit.read"]})");
    REQUIRE(cycle_a.status == 200);
    REQUIRE(w.Call("PUT", Path("acme", "/roles/rb"), ann.access,
                   R"({"scope":"organisation","parents":["ra"]})")
                .status == 200);
    const HttpReply cycle = w.Call("PUT", Path("acme", "/roles/ra"), ann.access,
                                   R"({"scope":"organisation","parents":["rb"]})");
    CheckStatus(cycle, 400);
    CHECK(cycle.body.find("ra → rb → ra") != std::string::npos);
    CheckStatus(w.Call("PUT", Path("acme", "/roles/owner"), ann.access,
                       R"({"scope":"organisation"})"),
                400);
    CheckStatus(w.Call("PUT", Path("acme", "/roles/Bad%20Id"), ann.access,
                       R"({"scope":"organisation"})"),
                400);
    REQUIRE(w.Call("POST", teams, ann.access, Body({{"name", "Ops"}})).status == 201);
    CheckFieldError(w.Call("POST", teams, ann.access, Body({{"name", "ops"}})), "name",
                    "validation_not_unique");
  }
  SECTION("query parameters") {
    CheckFieldError(w.Call("GET", Path("acme", "/members?perPage=0"), ann.access), "perPage",
                    "validation_out_of_range");
    CheckFieldError(w.Call("GET", Path("acme", "/members?perPage=ten"), ann.access), "perPage",
                    "validation_invalid_number");
    CheckFieldError(w.Call("GET", Path("acme", "/invitations?page=x"), ann.access), "page",
                    "validation_invalid_number");
    CheckFieldError(w.Call("GET", Path("acme", "/explain?subject=robot:1"), ann.access),
                    "subject", "validation_invalid_value");
    CheckFieldError(w.Call("GET", Path("acme", "/explain?subject=member:"), ann.access),
                    "subject", "validation_invalid_value");
    CheckFieldError(w.Call("GET", Path("acme", "/explain?permission=records.fly"), ann.access),
                    "permission", "validation_invalid_value");
    CheckFieldError(w.Call("GET", Path("acme", "/explain?project=nowhere"), ann.access),
                    "project", "validation_invalid_value");
  }
  SECTION("ids that name nothing") {
    for (const std::string& target :
         {teams + "/zzzzzzzzzzzzzzz", teams + "/not-an-id", Path("nowhere", "/teams"),
          Path("NOT-A-SLUG", "/members"), Path("a%2Fb", "/members")}) {
      INFO(target);
      CheckStatus(w.Call("GET", target, ann.access), 404);
    }
    CheckStatus(w.Call("DELETE", teams + "/zzzzzzzzzzzzzzz", ann.access), 404);
    CheckStatus(w.Call("PUT", teams + "/zzzzzzzzzzzzzzz/members/" + ann.id, ann.access), 404);
    CheckStatus(w.Call("DELETE", Path("acme", "/policies/zzzzzzzzzzzzzzz"), ann.access), 404);
    CheckStatus(w.Call("DELETE", Path("acme", "/roles/nope"), ann.access), 404);
  }
}

TEST_CASE("Organisation API keys: made with a role, used on the platform API, revoked",
          "[http][access]") {
  World w;
  const Member ann = w.NewMember("ann@example.com");
  REQUIRE(w.CreateOrg(ann, "acme", "Acme").status == 201);
  REQUIRE(w.Call("POST", Path("acme", "/projects"), ann.access, Body({{"slug", "shop"}})).status ==
          201);
  const Member eve = w.NewMember("eve@example.org");
  REQUIRE(w.CreateOrg(eve, "evil", "Evil").status == 201);

  const HttpReply made = w.Call("POST", Path("acme", "/apikeys"), ann.access,
                                R"({"name":"ci","role":"viewer","expires":"2099-01-01T00:00:00Z"})");
  INFO(made.body);
  REQUIRE(made.status == 201);
  CHECK(made.Header("cache-control") == "no-store");
  const JsonValue key = Json(made);
  const std::string secret = Text(key, {"key"});
  CHECK(secret.starts_with("sk_"));
  CHECK(secret.starts_with(Text(key, {"prefix"})));
  REQUIRE(key.Find("policies")->items().size() == 1);
  CHECK(Text(key.Find("policies")->items()[0], {"role"}) == "viewer");

  // The key reads its organisation, not another, and cannot manage it.
  CHECK(w.Call("GET", Path("acme"), secret).status == 200);
  CHECK(w.Call("GET", "/api/v1/projects/shop", secret).status == 200);
  CHECK(w.Call("GET", Path("evil"), secret).status == 404);
  CHECK(w.Call("PATCH", Path("acme"), secret, Body({{"name", "Hacked"}})).status == 403);
  CHECK(w.Call("POST", "/api/v1/orgs", secret, Body({{"slug", "keyorg"}})).status == 403);
  const auto orgs = Items(w.Call("GET", "/api/v1/orgs", secret));
  REQUIRE(orgs.size() == 1);
  CHECK(Text(orgs[0], {"slug"}) == "acme");

  // Listing never shows the secret; Eve sees nothing of acme's keys.
  const HttpReply listed = w.Call("GET", Path("acme", "/apikeys"), ann.access);
  REQUIRE(listed.status == 200);
  CHECK(listed.body.find(secret) == std::string::npos);
  CHECK(Items(listed).size() == 1);
  CHECK(w.Call("GET", Path("acme", "/apikeys"), eve.access).status == 404);
  const std::string id = Text(key, {"id"});
  CHECK(w.Call("DELETE", Path("evil", "/apikeys/" + id), eve.access).status == 404);

  // Bad input is a 400 with the field named.
  CheckFieldError(w.Call("POST", Path("acme", "/apikeys"), ann.access, R"({"name":"x","role":"owner"})"),
                  "role", "validation_invalid_value");
  CheckFieldError(w.Call("POST", Path("acme", "/apikeys"), ann.access,
                         R"({"name":"x","role":"viewer","expires":"soon"})"),
                  "expires", "validation_invalid_date");
  CheckFieldError(w.Call("POST", Path("acme", "/apikeys"), ann.access, R"({"role":"viewer"})"),
                  "name", "validation_required");

  // Revoked: the key opens nothing any more.
  CHECK(w.Call("DELETE", Path("acme", "/apikeys/" + id), ann.access).status == 204);
  CHECK(w.Call("GET", Path("acme"), secret).status == 401);
  CHECK(w.Call("GET", Path("acme"), "sk_" + std::string(50, 'x')).status == 401);
}
