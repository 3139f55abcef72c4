// THE route enumeration test: every route the server registers under /api/v1 refuses
// strangers. The server's whole router is built (ServerRoutes, as socle-server builds it) and
// served on port 0; two organisations exist, A (alpha) and B (bravo), each with a project, and B
// with a team, a custom role, a policy, an invitation, a flag and a second member. Then every
// registered /api/v1 route is called with its path parameters naming B's resources and a
// syntactically valid body:
//   (a) anonymously: 401, unless the route is one of the public ones listed below; the public
//       routes are exactly those (each is shown to work without credentials), so a new route
//       that answers strangers fails here until it is listed;
//   (b) as a member of A only, for every route whose path names an organisation or a project:
//       404 (never 403, never a success) and nothing of B in the answer;
//   (c) as that member, for the routes that name neither: nothing of B in the answer, and the
//       lists (organisations, flags) hold A's data only.
// Finally B's data is checked intact. Nothing here is specific to one route: a route added to
// the server is swept like the others (POST/PUT/PATCH routes need an entry in Bodies(), and the
// test says so when one is missing).
#include <catch2/catch.hpp>

#include <algorithm>
#include <map>
#include <set>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

#include "http_test_client.hpp"
#include "server_routes.hpp"
#include "socle/adapters/crypto/argon2_password_hasher.hpp"
#include "socle/adapters/http/http_server.hpp"
#include "socle/adapters/http/json_object_reader.hpp"
#include "socle/adapters/http/logger.hpp"
#include "socle/adapters/json/json_writer.hpp"
#include "test_server.hpp"

namespace http = socle::adapters::http;
namespace json = socle::adapters::json;
using socle::domain::JsonValue;
using socle::testing::HttpReply;

namespace {

using Headers = std::vector<std::pair<std::string, std::string>>;

// The routes anybody may call: signing in, and the invitation routes whose credential is the
// invitation's token in the body. Adding one here is a security decision: review it as such.
const std::set<std::string> kPublicRoutes = {
    "POST /api/v1/auth/login",
    "POST /api/v1/auth/refresh",
    "POST /api/v1/auth/logout",
    "POST /api/v1/auth/superusers/login",
    "POST /api/v1/invitations/preview",
    "POST /api/v1/invitations/accept",
    "POST /api/v1/invitations/decline",
};

constexpr std::string_view kPassword = "saffron-glacier-tunnel-64";

JsonValue Json(const HttpReply& reply) {
  INFO(reply.body);
  auto parsed = http::ParseJson(reply.body);
  REQUIRE(parsed);
  return *parsed;
}

std::string Text(const JsonValue& value, std::initializer_list<std::string_view> path) {
  const JsonValue* current = &value;
  for (std::string_view key : path) {
    if (current == nullptr || !current->IsObject()) return "<missing>";
    current = current->Find(key);
  }
  if (current == nullptr || current->type() != JsonValue::Type::kString) return "<missing>";
  return current->AsString();
}

std::string Body(std::initializer_list<std::pair<std::string_view, std::string_view>> members) {
  json::JsonWriter w;
  w.BeginObject();
  for (const auto& [key, value] : members) w.Key(key).String(value);
  w.EndObject();
  return std::move(w).Take();
}

std::string Name(const http::Router::Route& route) {
  return std::string(http::ToString(route.method)) + " " + route.pattern;
}

// The server socle-server would run, on 127.0.0.1:0, with organisations A and B in it.
class GuardWorld {
 public:
  GuardWorld()
      : hasher_(MakeHasher(random_)),
        routes_(hasher_),
        logger_(http::LogLevel::kError, http::LogFormat::kJson, routes_.clock(),
                [](std::string_view) {}),
        metrics_(routes_.clock().Now()),
        server_(socle::testing::TestServerOptions(), routes_.router, logger_, metrics_, random_) {
    REQUIRE(server_.Start());
    Seed();
  }
  ~GuardWorld() {
    server_.Shutdown();
    server_.Wait();
  }

  HttpReply Call(std::string_view method, std::string_view target, std::string_view token,
                 std::string body = {}) {
    Headers headers;
    if (!token.empty()) headers.emplace_back("Authorization", "Bearer " + std::string(token));
    return socle::testing::Fetch(server_.port(), method, target, std::move(body),
                                 std::move(headers));
  }

  // A member's session, signed in over HTTP: {id, access token, refresh token}.
  struct Session {
    std::string id, access, refresh;
  };
  // Creates the member, then signs them in.
  Session SignUp(std::string_view email) {
    routes_.world().AddMember(email, kPassword);
    return SignIn(email);
  }
  // Another session of an existing member (creating them again would change their tokenKey
  // and end their sessions).
  Session SignIn(std::string_view email) {
    const HttpReply reply =
        Call("POST", "/api/v1/auth/login", {}, Body({{"email", email}, {"password", kPassword}}));
    INFO(reply.body);
    REQUIRE(reply.status == 200);
    const JsonValue body = Json(reply);
    return {Text(body, {"member", "id"}), Text(body, {"accessToken"}),
            Text(body, {"refreshToken"})};
  }

  // Makes a resource over HTTP as `token`; returns the answer's `field`.
  std::string Make(std::string_view method, std::string_view target, std::string_view token,
                   std::string body, std::string_view field = "id") {
    const HttpReply reply = Call(method, target, token, std::move(body));
    INFO(method << " " << target << " → " << reply.body);
    REQUIRE((reply.status == 200 || reply.status == 201));
    return Text(Json(reply), {field});
  }

  // A's member, and A's own throwaway credentials for showing the public routes work.
  Session ann, spare_ann;
  std::string root;
  std::string a_invitation_preview, a_invitation_accept, a_invitation_decline;

  // B: its owner, a second member, and its resources.
  Session bob, bob_spare, bea;
  std::string b_org_id, b_project_id, b_team, b_policy, b_invitation, b_invitation_token,
      b_session, b_key, b_key_secret;
  std::vector<std::string> b_secrets;  // strings no answer to A's member may contain

  // Path parameters naming B's resources, by route parameter (and for {id}, by route).
  std::string Substitute(const std::string& pattern) const {
    std::string id_value = b_invitation;
    if (pattern.find("/policies/") != std::string::npos) id_value = b_policy;
    if (pattern.find("/auth/sessions/") != std::string::npos) id_value = b_session;
    if (pattern.find("/apikeys/") != std::string::npos) id_value = b_key;
    const std::map<std::string, std::string> values = {
        {"{org}", "bravo"},      {"{project}", "bravo-vault"}, {"{member}", bob.id},
        {"{team}", b_team},      {"{role}", "bravo-role"},     {"{key}", "bravo-flag"},
        {"{id}", id_value},
    };
    std::string path = pattern;
    for (const auto& [name, value] : values) {
      for (auto at = path.find(name); at != std::string::npos; at = path.find(name)) {
        path.replace(at, name.size(), value);
      }
    }
    return path;
  }

  // A syntactically valid body for every POST, PUT and PATCH route ("" for the one PUT that
  // takes none).
  // The values are harmless for A (they could only ever change B, and must not).
  std::map<std::string, std::string> Bodies() const {
    const std::string member_subject = R"({"kind":"member","id":")" + bob.id + "\"}";
    return {
        {"POST /api/v1/auth/login", Body({{"email", "ann@alpha.test"}, {"password", kPassword}})},
        {"POST /api/v1/auth/refresh", Body({{"refreshToken", spare_ann.refresh}})},
        {"POST /api/v1/auth/logout", Body({{"refreshToken", "rt_" + std::string(50, 'x')}})},
        {"POST /api/v1/auth/superusers/login",
         Body({{"email", "root@platform.test"}, {"password", kPassword}})},
        {"POST /api/v1/auth/role", Body({{"refreshToken", bob_spare.refresh}, {"role", ""}})},
        {"POST /api/v1/invitations/preview", Body({{"token", a_invitation_preview}})},
        {"POST /api/v1/invitations/accept",
         Body({{"token", a_invitation_accept}, {"password", kPassword}})},
        {"POST /api/v1/invitations/decline", Body({{"token", a_invitation_decline}})},
        {"POST /api/v1/orgs", Body({{"slug", "zulu"}, {"name", "Zulu"}})},
        {"PATCH /api/v1/orgs/{org}", Body({{"name", "Taken Over"}})},
        {"POST /api/v1/orgs/{org}/projects", Body({{"slug", "intruder"}})},
        {"PATCH /api/v1/projects/{project}", Body({{"name", "Taken Over"}})},
        {"POST /api/v1/orgs/{org}/restore", ""},
        {"POST /api/v1/audit/checkpoint", ""},
        {"POST /api/v1/projects/{project}/restore", ""},
        {"POST /api/v1/orgs/{org}/transfer", Body({{"member", ann.id}})},
        {"POST /api/v1/orgs/{org}/invitations",
         Body({{"email", "mole@alpha.test"}, {"role", "viewer"}})},
        {"POST /api/v1/orgs/{org}/teams", Body({{"name", "Moles"}})},
        {"PATCH /api/v1/orgs/{org}/teams/{team}", Body({{"name", "Moles"}})},
        {"PUT /api/v1/orgs/{org}/teams/{team}/members/{member}", ""},
        {"PUT /api/v1/orgs/{org}/roles/{role}",
         R"({"scope":"organisation","permissions":["organisation.read"]})"},
        {"POST /api/v1/orgs/{org}/policies",
         R"({"subject":)" + member_subject + R"(,"role":"viewer"})"},
        {"PUT /api/v1/flags/{key}", R"({"value":true})"},
        {"POST /api/v1/orgs/{org}/apikeys", Body({{"name", "mole"}, {"role", "viewer"}})},
        {"PUT /api/v1/orgs/{org}/flags/{key}", R"({"level":"organisation","value":true})"},
    };
  }

  socle::testing::ServerRoutes& routes() { return routes_; }

 private:
  static socle::adapters::crypto::Argon2PasswordHasher MakeHasher(
      socle::testing::SeededRandomSource& random) {
    auto hasher = socle::adapters::crypto::Argon2PasswordHasher::Create({}, random);
    REQUIRE(hasher);
    return std::move(*hasher);
  }

  void Seed() {
    root = routes_.world().SuperuserToken("root@platform.test", kPassword);
    ann = SignUp("ann@alpha.test");
    spare_ann = SignIn("ann@alpha.test");
    bob = SignUp("bob@bravo.test");
    bob_spare = SignIn("bob@bravo.test");

    // A: alpha and its project, invitations whose tokens show that the public routes work.
    Make("POST", "/api/v1/orgs", ann.access, Body({{"slug", "alpha"}, {"name", "Alpha Works"}}));
    Make("POST", "/api/v1/orgs/alpha/projects", ann.access, Body({{"slug", "alpha-shop"}}));
    auto invite = [&](std::string_view email) {
      return Make("POST", "/api/v1/orgs/alpha/invitations", ann.access,
                  Body({{"email", email}, {"role", "viewer"}}), "token");
    };
    a_invitation_preview = invite("pia@alpha.test");
    a_invitation_accept = invite("ace@alpha.test");
    a_invitation_decline = invite("dex@alpha.test");
    // A global flag every caller may see.
    Make("PUT", "/api/v1/flags/global-flag", root, R"({"value":"for everyone"})", "key");

    // B: bravo, with one of everything.
    b_org_id = Make("POST", "/api/v1/orgs", bob.access,
                    Body({{"slug", "bravo"}, {"name", "Bravo Secret Corp"}}));
    b_project_id = Make("POST", "/api/v1/orgs/bravo/projects", bob.access,
                        Body({{"slug", "bravo-vault"}, {"name", "Bravo Vault"}}));
    const std::string bea_token = Make("POST", "/api/v1/orgs/bravo/invitations", bob.access,
                                       Body({{"email", "bea@bravo.test"}, {"role", "viewer"}}),
                                       "token");
    const HttpReply joined = Call("POST", "/api/v1/invitations/accept", {},
                                  Body({{"token", bea_token}, {"password", kPassword}}));
    REQUIRE(joined.status == 200);
    bea = {Text(Json(joined), {"memberId"}), "", ""};
    b_team = Make("POST", "/api/v1/orgs/bravo/teams", bob.access,
                  Body({{"name", "Bravo Night Shift"}, {"description", "Bravo secret team"}}));
    REQUIRE(Call("PUT", "/api/v1/orgs/bravo/teams/" + b_team + "/members/" + bea.id, bob.access)
                .status == 204);
    Make("PUT", "/api/v1/orgs/bravo/roles/bravo-role", bob.access,
         R"({"name":"Bravo Role","scope":"organisation","permissions":["audit.read"]})");
    b_policy = Make("POST", "/api/v1/orgs/bravo/policies", bob.access,
                    R"({"subject":{"kind":"team","id":")" + b_team +
                        R"("},"role":"bravo-role"})");
    const HttpReply invited = Call("POST", "/api/v1/orgs/bravo/invitations", bob.access,
                                   Body({{"email", "cleo@bravo.test"}, {"role", "developer"}}));
    REQUIRE(invited.status == 201);
    b_invitation = Text(Json(invited), {"id"});
    b_invitation_token = Text(Json(invited), {"token"});
    Make("PUT", "/api/v1/orgs/bravo/flags/bravo-flag", bob.access,
         R"({"level":"organisation","value":"bravo value","description":"Bravo secret flag"})",
         "key");
    const HttpReply key = Call("POST", "/api/v1/orgs/bravo/apikeys", bob.access,
                               Body({{"name", "Bravo deploy key"}, {"role", "developer"}}));
    REQUIRE(key.status == 201);
    b_key = Text(Json(key), {"id"});
    b_key_secret = Text(Json(key), {"key"});
    const HttpReply sessions = Call("GET", "/api/v1/auth/sessions", bob.access);
    REQUIRE(sessions.status == 200);
    b_session = Text(Json(sessions).Find("items")->items().at(0), {"id"});

    b_secrets = {"bravo",         "Bravo",   b_org_id,          b_project_id, b_team,
                 b_policy,        bob.id,    bea.id,            b_invitation, b_invitation_token,
                 "bob@bravo.test", "bea@bravo.test", "cleo@bravo.test", b_session,
                 b_key,          b_key_secret, "Bravo deploy key"};
  }

  socle::testing::SeededRandomSource random_;
  socle::adapters::crypto::Argon2PasswordHasher hasher_;
  socle::testing::ServerRoutes routes_;
  http::Logger logger_;
  http::HttpMetrics metrics_;
  http::HttpServer server_;
};

// Whether `reply` shows anything of B.
std::vector<std::string> Leaks(const HttpReply& reply, const std::vector<std::string>& secrets) {
  std::vector<std::string> found;
  for (const auto& secret : secrets) {
    if (!secret.empty() && reply.body.find(secret) != std::string::npos) found.push_back(secret);
    for (const auto& [name, value] : reply.headers) {
      if (name != "x-request-id" && !secret.empty() && value.find(secret) != std::string::npos) {
        found.push_back(name + ": " + secret);
      }
    }
  }
  return found;
}

std::vector<const http::Router::Route*> PlatformRoutes(const http::Router& router) {
  std::vector<const http::Router::Route*> out;
  for (const auto& route : router.routes()) {
    if (route->pattern.starts_with("/api/v1/")) out.push_back(route.get());
  }
  return out;
}

bool ScopedToAnOrganisation(const std::string& pattern) {
  return pattern.find("{org}") != std::string::npos ||
         pattern.find("{project}") != std::string::npos;
}

}  // namespace

TEST_CASE("Every /api/v1 route refuses strangers", "[http][guard]") {
  GuardWorld w;
  const auto routes = PlatformRoutes(w.routes().router);
  REQUIRE(routes.size() >= 40);  // the enumeration found the platform API
  const auto bodies = w.Bodies();

  std::set<std::string> registered;
  for (const auto* route : routes) registered.insert(Name(*route));
  // Every listed public route exists, and every route with a body has one here.
  for (const auto& name : kPublicRoutes) {
    INFO("listed as public but not registered: " << name);
    CHECK(registered.contains(name));
  }
  for (const auto* route : routes) {
    const bool takes_body = route->method == http::Method::kPost ||
                            route->method == http::Method::kPut ||
                            route->method == http::Method::kPatch;
    INFO(Name(*route) << ": give it a valid body in GuardWorld::Bodies()");
    CHECK((!takes_body || bodies.contains(Name(*route))));
  }
  auto body_for = [&](const http::Router::Route& route) {
    auto found = bodies.find(Name(route));
    return found == bodies.end() ? std::string() : found->second;
  };

  SECTION("(a) anonymous callers get 401 everywhere but on the public routes") {
    std::set<std::string> answered_strangers;
    for (const auto* route : routes) {
      const std::string name = Name(*route);
      const std::string path = w.Substitute(route->pattern);
      const HttpReply reply =
          w.Call(http::ToString(route->method), path, {}, body_for(*route));
      INFO(name << " → " << path << " → " << reply.status << " " << reply.body);
      CHECK(reply.status != 500);
      if (reply.status != 401) answered_strangers.insert(name);
      if (!kPublicRoutes.contains(name)) {
        CHECK(reply.status == 401);
        CHECK(Leaks(reply, w.b_secrets).empty());
      }
    }
    // The public routes are exactly the listed ones, and each works without credentials.
    CHECK(answered_strangers == kPublicRoutes);
    // A bad token is no way in either: 401, never anonymous, on every guarded route.
    for (const auto* route : routes) {
      if (kPublicRoutes.contains(Name(*route))) continue;
      const HttpReply reply = w.Call(http::ToString(route->method),
                                     w.Substitute(route->pattern), "not-a-token",
                                     body_for(*route));
      INFO(Name(*route) << " → " << reply.body);
      CHECK(reply.status == 401);
    }
  }

  SECTION("(b) a member of A only gets 404 for B's organisation and projects, and nothing of B") {
    int swept = 0;
    for (const auto* route : routes) {
      const std::string name = Name(*route);
      if (kPublicRoutes.contains(name) || !ScopedToAnOrganisation(route->pattern)) continue;
      const std::string path = w.Substitute(route->pattern);
      const HttpReply reply =
          w.Call(http::ToString(route->method), path, w.ann.access, body_for(*route));
      INFO(name << " → " << path << " → " << reply.status << " " << reply.body);
      CHECK(reply.status == 404);
      const auto leaks = Leaks(reply, w.b_secrets);
      INFO("leaked: " << (leaks.empty() ? std::string() : leaks.front()));
      CHECK(leaks.empty());
      ++swept;
    }
    CHECK(swept >= 30);
    // With a query naming B, an unscoped route is scoped: the same answer.
    const HttpReply evaluated =
        w.Call("GET", "/api/v1/flags/evaluate?org=bravo&key=bravo-flag", w.ann.access);
    CHECK(evaluated.status == 404);
    CHECK(Leaks(evaluated, {"bravo value", "Bravo"}).empty());
    CHECK(w.Call("GET", "/api/v1/orgs/bravo/explain?subject=member:" + w.bob.id, w.ann.access)
              .status == 404);
  }

  SECTION("(c) routes that name no organisation show a member of A only A's data") {
    int swept = 0;
    for (const auto* route : routes) {
      const std::string name = Name(*route);
      if (kPublicRoutes.contains(name) || ScopedToAnOrganisation(route->pattern)) continue;
      const std::string path = w.Substitute(route->pattern);
      const HttpReply reply =
          w.Call(http::ToString(route->method), path, w.ann.access, body_for(*route));
      INFO(name << " → " << path << " → " << reply.status << " " << reply.body);
      CHECK(reply.status != 500);
      const auto leaks = Leaks(reply, w.b_secrets);
      INFO("leaked: " << (leaks.empty() ? std::string() : leaks.front()));
      CHECK(leaks.empty());
      ++swept;
    }
    CHECK(swept >= 8);

    const HttpReply orgs = w.Call("GET", "/api/v1/orgs", w.ann.access);
    REQUIRE(orgs.status == 200);
    std::set<std::string> slugs;
    const JsonValue org_list = Json(orgs);
    for (const auto& org : org_list.Find("items")->items()) slugs.insert(Text(org, {"slug"}));
    CHECK(slugs == std::set<std::string>{"alpha", "zulu"});  // zulu: made by the sweep's POST

    const HttpReply flags = w.Call("GET", "/api/v1/flags", w.ann.access);
    REQUIRE(flags.status == 200);
    const JsonValue flag_list = Json(flags);
    REQUIRE(flag_list.Find("items")->items().size() == 1);
    CHECK(Text(flag_list.Find("items")->items()[0], {"key"}) == "global-flag");
    const HttpReply evaluated = w.Call("GET", "/api/v1/flags/evaluate", w.ann.access);
    REQUIRE(evaluated.status == 200);
    const JsonValue values = Json(evaluated);
    REQUIRE(values.Find("items")->items().size() == 1);
    CHECK(Text(values.Find("items")->items()[0], {"key"}) == "global-flag");
    const HttpReply in_alpha =
        w.Call("GET", "/api/v1/flags/evaluate?org=alpha", w.ann.access);
    REQUIRE(in_alpha.status == 200);
    CHECK(Leaks(in_alpha, w.b_secrets).empty());

    // B's member's session is not A's member's to see or end.
    CHECK(w.Call("DELETE", "/api/v1/auth/sessions/" + w.b_session, w.ann.access).status == 404);
    const HttpReply sessions = w.Call("GET", "/api/v1/auth/sessions", w.ann.access);
    REQUIRE(sessions.status == 200);
    CHECK(Leaks(sessions, w.b_secrets).empty());
  }

  // Whatever was tried, B is as it was.
  const HttpReply org = w.Call("GET", "/api/v1/orgs/bravo", w.bob.access);
  REQUIRE(org.status == 200);
  CHECK(Text(Json(org), {"name"}) == "Bravo Secret Corp");
  const HttpReply project = w.Call("GET", "/api/v1/projects/bravo-vault", w.bob.access);
  REQUIRE(project.status == 200);
  CHECK(Text(Json(project), {"name"}) == "Bravo Vault");
  CHECK(w.Call("GET", "/api/v1/orgs/bravo/teams/" + w.b_team, w.bob.access).status == 200);
  const HttpReply members = w.Call("GET", "/api/v1/orgs/bravo/members", w.bob.access);
  REQUIRE(members.status == 200);
  CHECK(Json(members).Find("totalItems")->AsInt64() == 2);
  CHECK(members.body.find(w.ann.id) == std::string::npos);
  const HttpReply invitations = w.Call("GET", "/api/v1/orgs/bravo/invitations", w.bob.access);
  REQUIRE(invitations.status == 200);
  CHECK(invitations.body.find("\"pending\"") != std::string::npos);
  CHECK(invitations.body.find("mole@alpha.test") == std::string::npos);
  const HttpReply roles = w.Call("GET", "/api/v1/orgs/bravo/roles", w.bob.access);
  CHECK(roles.body.find("\"bravo-role\"") != std::string::npos);
  const HttpReply b_flags = w.Call("GET", "/api/v1/orgs/bravo/flags", w.bob.access);
  CHECK(b_flags.body.find("\"bravo value\"") != std::string::npos);
  const HttpReply projects = w.Call("GET", "/api/v1/orgs/bravo/projects", w.bob.access);
  REQUIRE(projects.status == 200);
  CHECK(Json(projects).Find("totalItems")->AsInt64() == 1);
}
