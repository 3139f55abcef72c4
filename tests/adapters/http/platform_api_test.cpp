// Deleting, restoring and the trash over the platform API (PlatformApi): the in-process server
// on port 0 with the catalogue wired as socle-server wires it when a grace period is set
// (ManageOrganisations and ManageProjects scheduling through PurgeDeleted), beside access
// management (members, organisation keys) and the projects' data API, over the memory stores.
// The codes a client sees: 202 {deleted, purgeAfter} for a scheduled deletion (204 without a
// grace period), 404 on every route for what is scheduled (to its own members too, and never
// anything of it to strangers), 200 for a restore, 403 without the permission to delete, 409
// for what cannot be restored.
#include <catch2/catch.hpp>

#include <chrono>
#include <initializer_list>
#include <memory>
#include <set>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

#include "http_test_client.hpp"
#include "platform_world.hpp"
#include "socle/adapters/http/access_api.hpp"
#include "socle/adapters/http/http_metrics.hpp"
#include "socle/adapters/http/http_server.hpp"
#include "socle/adapters/http/json_object_reader.hpp"
#include "socle/adapters/http/logger.hpp"
#include "socle/adapters/http/platform_api.hpp"
#include "socle/adapters/http/project_data_api.hpp"
#include "socle/adapters/json/json_writer.hpp"
#include "socle/adapters/memory/memory_catalogue_store.hpp"
#include "socle/application/manage_collections.hpp"
#include "socle/application/manage_records.hpp"
#include "socle/application/manage_settings.hpp"
#include "socle/application/purge_deleted.hpp"
#include "support/test_ports.hpp"
#include "test_server.hpp"

namespace http = socle::adapters::http;
namespace json = socle::adapters::json;
namespace application = socle::application;
using socle::domain::JsonValue;
using socle::testing::HttpReply;

namespace {

using Headers = std::vector<std::pair<std::string, std::string>>;

constexpr std::string_view kPassword = "juniper-cobalt-harbour-27";
constexpr std::int64_t kDayMicros = 24LL * 3600 * 1'000'000;
// A list of shop's records that anyone may read: the data API's view of the project.
constexpr std::string_view kShopPosts = "/p/shop/api/collections/posts/records";

JsonValue Json(const HttpReply& reply) {
  INFO(reply.body);
  auto parsed = http::ParseJson(reply.body);
  REQUIRE(parsed);
  return *parsed;
}

std::string Text(const JsonValue& value, std::string_view key) {
  const JsonValue* found = value.IsObject() ? value.Find(key) : nullptr;
  if (found == nullptr || found->type() != JsonValue::Type::kString) return "<missing>";
  return found->AsString();
}

std::vector<JsonValue> Items(const HttpReply& reply) {
  const JsonValue body = Json(reply);
  const JsonValue* items = body.Find("items");
  REQUIRE(items != nullptr);
  return items->items();
}

std::string Body(std::initializer_list<std::pair<std::string_view, std::string_view>> members) {
  json::JsonWriter w;
  w.BeginObject();
  for (const auto& [key, value] : members) w.Key(key).String(value);
  w.EndObject();
  return std::move(w).Take();
}

// The platform API with deletions scheduled for `grace`, and what a deleted organisation or
// project must vanish from: access management, organisation keys, the data API.
class DeletionServer {
 public:
  explicit DeletionServer(std::chrono::seconds grace = std::chrono::days(30))
      : world_(store_, store_, clock_, random_, hasher_),
        deletion_(store_, &world_.directory(), &world_.api_keys(), grace),
        organisations_(store_, clock_, random_, &world_.directory(), &deletion_),
        projects_(store_, clock_, random_, &world_.directory(), &deletion_),
        catalogue_(organisations_, projects_, store_, store_, world_.access(), clock_, random_),
        platform_(catalogue_, world_.regions(), world_.identify()),
        access_api_(world_.manage_access(), store_, world_.identify()),
        collections_(world_.directory(), clock_, random_),
        settings_(world_.directory(), store_, clock_),
        records_(world_.directory(), clock_, random_, {}, &settings_),
        data_(collections_, records_, settings_,
              http::TokenIdentifier(world_.authenticate(), &world_.api_keys(),
                                    &world_.callers())),
        logger_(http::LogLevel::kError, http::LogFormat::kJson, clock_, [](std::string_view) {}),
        metrics_(clock_.Now()) {
    access_api_.ServeOrganisationKeys(world_.organisation_keys());
    REQUIRE(platform_.Register(router_));
    REQUIRE(access_api_.Register(router_));
    REQUIRE(data_.Register(router_));
    server_ = std::make_unique<http::HttpServer>(socle::testing::TestServerOptions(), router_,
                                                 logger_, metrics_, random_);
    REQUIRE(server_->Start());
    root = world_.SuperuserToken();
    ann = world_.MemberToken("ann@acme.test", kPassword);
    bob = world_.MemberToken("bob@bravo.test", kPassword);
  }
  ~DeletionServer() {
    server_->Shutdown();
    server_->Wait();
  }

  HttpReply Call(std::string_view method, std::string_view target, std::string_view token,
                 std::string body = {}) {
    Headers headers;
    if (!token.empty()) headers.emplace_back("Authorization", "Bearer " + std::string(token));
    return socle::testing::Fetch(server_->port(), method, target, std::move(body),
                                 std::move(headers));
  }

  // Makes something over HTTP; returns the answer's `field`.
  std::string Make(std::string_view target, std::string_view token, std::string body,
                   std::string_view field = "id") {
    const HttpReply reply = Call("POST", target, token, std::move(body));
    INFO(target << " → " << reply.body);
    REQUIRE(reply.status == 201);
    return Text(Json(reply), field);
  }

  // acme (ann's) with its project shop, whose collection posts anyone may list.
  void SeedAcme() {
    Make("/api/v1/orgs", ann, Body({{"slug", "acme"}, {"name", "Acme"}}));
    Make("/api/v1/orgs/acme/projects", ann, Body({{"slug", "shop"}, {"name", "Shop"}}));
    socle::domain::Collection posts;
    posts.name = "posts";
    socle::domain::Field title;
    title.name = "title";
    posts.fields = {title};
    posts.rules.list = "";
    REQUIRE(collections_.Create("shop", posts, "test"));
  }

  // Access tokens are short-lived: after the clock moved by days, callers sign in again.
  void SignInAgain() {
    root = world_.SuperuserToken();
    ann = world_.SignIn("ann@acme.test", kPassword).access_token;
    bob = world_.SignIn("bob@bravo.test", kPassword).access_token;
  }

  // Makes `email` a member of `org` with `role`; returns their access token.
  std::string Join(std::string_view org, std::string_view email, std::string role) {
    const std::string id = world_.AddMember(email, kPassword);
    const std::string token = world_.SignIn(email, kPassword).access_token;
    auto found = store_.GetOrganisation(socle::domain::Slug::Parse(org).value());
    REQUIRE(found);
    socle::domain::StoredPolicy policy{
        socle::domain::Policy{"pol" + id.substr(3), {socle::domain::RbacSubject::Kind::kMember, id},
                              std::move(role), found->id.str(), std::nullopt},
        clock_.Now(), "system"};
    REQUIRE(store_.InsertMembership({found->id, id, std::string(email), clock_.Now()}, {policy}));
    world_.access().Invalidate(found->id);
    return token;
  }

  socle::testing::ManualClock& clock() { return clock_; }
  application::PurgeDeleted& deletion() { return deletion_; }

  std::string root, ann, bob;

 private:
  socle::adapters::memory::MemoryCatalogueStore store_;
  socle::testing::ManualClock clock_;
  socle::testing::SeededRandomSource random_;
  socle::testing::PlainTestHasher hasher_;
  socle::testing::PlatformWorld world_;
  application::PurgeDeleted deletion_;
  application::ManageOrganisations organisations_;
  application::ManageProjects projects_;
  application::PlatformCatalogue catalogue_;
  http::PlatformApi platform_;
  http::AccessApi access_api_;
  application::ManageCollections collections_;
  application::ManageSettings settings_;
  application::ManageRecords records_;
  http::ProjectDataApi data_;
  http::Router router_;
  http::Logger logger_;
  http::HttpMetrics metrics_;
  std::unique_ptr<http::HttpServer> server_;
};

void CheckStatus(const HttpReply& reply, int status) {
  INFO(reply.body);
  CHECK(reply.status == status);
}

}  // namespace

TEST_CASE("deleting a project answers 202 and hides it until it is restored",
          "[http][platform][deletion]") {
  DeletionServer s;
  s.SeedAcme();
  CheckStatus(s.Call("GET", kShopPosts, ""), 200);

  const std::string asked = s.clock().Now().ToApiString();
  const HttpReply deleted = s.Call("DELETE", "/api/v1/projects/shop", s.ann);
  REQUIRE(deleted.status == 202);
  const JsonValue schedule = Json(deleted);
  CHECK(Text(schedule, "deleted") == asked);
  CHECK(Text(schedule, "purgeAfter") ==
        socle::domain::Timestamp::FromUnixMicros(s.clock().Now().unix_micros() + 30 * kDayMicros)
            .ToApiString());

  // Gone from the platform API at once, for its owner and the platform's superusers alike.
  for (const std::string& token : {s.ann, s.root}) {
    CheckStatus(s.Call("GET", "/api/v1/projects/shop", token), 404);
    CheckStatus(s.Call("PATCH", "/api/v1/projects/shop", token, Body({{"name", "x"}})), 404);
    CheckStatus(s.Call("DELETE", "/api/v1/projects/shop", token), 404);
    const HttpReply listed = s.Call("GET", "/api/v1/orgs/acme/projects", token);
    REQUIRE(listed.status == 200);
    CHECK(Items(listed).empty());
  }
  // The slug stays taken: a restore brings the project back under it.
  CheckStatus(s.Call("POST", "/api/v1/orgs/acme/projects", s.ann, Body({{"slug", "shop"}})), 409);
  // The data API lets go of it at once (the clock stands still: no cached entry expired).
  CheckStatus(s.Call("GET", kShopPosts, ""), 404);

  // The trash shows it to those who may restore it, nobody else.
  const HttpReply trash = s.Call("GET", "/api/v1/trash", s.ann);
  REQUIRE(trash.status == 200);
  const auto items = Items(trash);
  REQUIRE(items.size() == 1);
  CHECK(Text(items[0], "kind") == "project");
  CHECK(Text(items[0], "slug") == "shop");
  CHECK(Text(items[0], "name") == "Shop");
  CHECK(Text(items[0], "deleted") == asked);
  CHECK(Text(items[0], "purgeAfter") == Text(schedule, "purgeAfter"));
  const HttpReply strangers = s.Call("GET", "/api/v1/trash", s.bob);
  REQUIRE(strangers.status == 200);
  CHECK(Items(strangers).empty());
  CHECK(strangers.body.find("shop") == std::string::npos);
  CheckStatus(s.Call("GET", "/api/v1/trash", ""), 401);

  CheckStatus(s.Call("POST", "/api/v1/projects/shop/restore", s.bob), 404);
  CheckStatus(s.Call("POST", "/api/v1/projects/shop/restore", ""), 401);
  CheckStatus(s.Call("POST", "/api/v1/projects/NOT%20A%20SLUG/restore", s.ann), 404);
  const HttpReply restored = s.Call("POST", "/api/v1/projects/shop/restore", s.ann);
  REQUIRE(restored.status == 200);
  CHECK(Text(Json(restored), "slug") == "shop");
  CHECK(Text(Json(restored), "org") == "acme");
  CHECK(Json(restored).Find("deleted") == nullptr);
  CheckStatus(s.Call("GET", "/api/v1/projects/shop", s.ann), 200);
  CheckStatus(s.Call("GET", kShopPosts, ""), 200);
  CheckStatus(s.Call("POST", "/api/v1/projects/shop/restore", s.ann), 409);  // live
  CHECK(Items(s.Call("GET", "/api/v1/trash", s.ann)).empty());
}

TEST_CASE("a deleted organisation is 404 on every route, its projects, members and keys too",
          "[http][platform][deletion]") {
  DeletionServer s;
  s.SeedAcme();
  const HttpReply key = s.Call("POST", "/api/v1/orgs/acme/apikeys", s.ann,
                               Body({{"name", "deploy"}, {"role", "developer"}}));
  REQUIRE(key.status == 201);
  const std::string secret = Text(Json(key), "key");
  CheckStatus(s.Call("GET", "/api/v1/orgs/acme", secret), 200);

  CheckStatus(s.Call("DELETE", "/api/v1/orgs/acme", s.ann), 409);  // it has a project
  CheckStatus(s.Call("DELETE", "/api/v1/orgs/acme?force=maybe", s.ann), 400);
  const HttpReply deleted = s.Call("DELETE", "/api/v1/orgs/acme?force=true", s.ann);
  REQUIRE(deleted.status == 202);
  CHECK(Text(Json(deleted), "purgeAfter") != "<missing>");

  for (const std::string& token : {s.ann, s.root, secret}) {
    CheckStatus(s.Call("GET", "/api/v1/orgs/acme", token), 404);
    CheckStatus(s.Call("PATCH", "/api/v1/orgs/acme", token, Body({{"name", "x"}})), 404);
    CheckStatus(s.Call("DELETE", "/api/v1/orgs/acme?force=true", token), 404);
    CheckStatus(s.Call("GET", "/api/v1/orgs/acme/projects", token), 404);
    CheckStatus(s.Call("POST", "/api/v1/orgs/acme/projects", token, Body({{"slug", "more"}})),
                404);
    CheckStatus(s.Call("GET", "/api/v1/projects/shop", token), 404);
    CheckStatus(s.Call("GET", "/api/v1/orgs/acme/members", token), 404);
    CheckStatus(s.Call("GET", "/api/v1/orgs/acme/apikeys", token), 404);
    const HttpReply mine = s.Call("GET", "/api/v1/orgs", token);
    REQUIRE(mine.status == 200);
    CHECK(mine.body.find("acme") == std::string::npos);
  }
  CheckStatus(s.Call("POST", "/api/v1/orgs", s.bob, Body({{"slug", "acme"}})), 409);
  CheckStatus(s.Call("GET", kShopPosts, ""), 404);

  // The trash lists the organisation, not its projects (they come back with it), and a
  // project cannot come back while its organisation is deleted.
  const auto items = Items(s.Call("GET", "/api/v1/trash", s.ann));
  REQUIRE(items.size() == 1);
  CHECK(Text(items[0], "kind") == "organisation");
  CHECK(Text(items[0], "slug") == "acme");
  CHECK(Text(items[0], "name") == "Acme");
  CheckStatus(s.Call("POST", "/api/v1/projects/shop/restore", s.ann), 409);

  const HttpReply restored = s.Call("POST", "/api/v1/orgs/acme/restore", s.ann);
  REQUIRE(restored.status == 200);
  CHECK(Text(Json(restored), "slug") == "acme");
  CHECK(Text(Json(restored), "name") == "Acme");
  CheckStatus(s.Call("GET", "/api/v1/projects/shop", s.ann), 200);
  CheckStatus(s.Call("GET", "/api/v1/orgs/acme/members", s.ann), 200);
  CheckStatus(s.Call("GET", "/api/v1/orgs/acme", secret), 200);
  CheckStatus(s.Call("GET", kShopPosts, ""), 200);
  CheckStatus(s.Call("POST", "/api/v1/orgs/acme/restore", s.ann), 409);  // live
}

TEST_CASE("another organisation's deleted resources are 404 to a stranger, and show nothing",
          "[http][platform][deletion][guard]") {
  DeletionServer s;
  s.SeedAcme();
  s.Make("/api/v1/orgs", s.bob, Body({{"slug", "bravo"}, {"name", "Bravo Secret Corp"}}));
  s.Make("/api/v1/orgs/bravo/projects", s.bob,
         Body({{"slug", "bravo-vault"}, {"name", "Bravo Vault"}}));
  s.Make("/api/v1/orgs/bravo/projects", s.bob,
         Body({{"slug", "bravo-annex"}, {"name", "Bravo Annex"}}));
  REQUIRE(s.Call("DELETE", "/api/v1/projects/bravo-annex", s.bob).status == 202);
  REQUIRE(s.Call("DELETE", "/api/v1/orgs/bravo?force=true", s.bob).status == 202);

  const std::vector<std::pair<std::string, std::string>> routes = {
      {"GET", "/api/v1/orgs/bravo"},
      {"PATCH", "/api/v1/orgs/bravo"},
      {"DELETE", "/api/v1/orgs/bravo?force=true"},
      {"POST", "/api/v1/orgs/bravo/restore"},
      {"GET", "/api/v1/orgs/bravo/projects"},
      {"POST", "/api/v1/orgs/bravo/projects"},
      {"GET", "/api/v1/orgs/bravo/members"},
      {"GET", "/api/v1/projects/bravo-vault"},
      {"PATCH", "/api/v1/projects/bravo-vault"},
      {"DELETE", "/api/v1/projects/bravo-vault"},
      {"POST", "/api/v1/projects/bravo-vault/restore"},
      {"POST", "/api/v1/projects/bravo-annex/restore"},
  };
  for (const auto& [method, target] : routes) {
    const std::string body = method == "PATCH" ? Body({{"name", "Taken"}})
                             : target.ends_with("/projects") ? Body({{"slug", "mole"}})
                                                             : std::string();
    const HttpReply reply = s.Call(method, target, s.ann, body);
    INFO(method << " " << target << " → " << reply.body);
    CHECK(reply.status == 404);
    CHECK(reply.body.find("ravo") == std::string::npos);
  }
  const HttpReply trash = s.Call("GET", "/api/v1/trash", s.ann);
  REQUIRE(trash.status == 200);
  CHECK(trash.body.find("ravo") == std::string::npos);

  // Its owner still sees it in the trash, and the platform's superusers see everything.
  const auto owned = Items(s.Call("GET", "/api/v1/trash", s.bob));
  std::set<std::string> slugs;
  for (const auto& item : owned) slugs.insert(Text(item, "slug"));
  CHECK(slugs == std::set<std::string>{"bravo"});  // its annex comes back with it
  CHECK(Items(s.Call("GET", "/api/v1/trash", s.root)).size() == 1);
  // Nothing the stranger tried changed it.
  REQUIRE(s.Call("POST", "/api/v1/orgs/bravo/restore", s.bob).status == 200);
  const HttpReply org = s.Call("GET", "/api/v1/orgs/bravo", s.bob);
  REQUIRE(org.status == 200);
  CHECK(Text(Json(org), "name") == "Bravo Secret Corp");
  CheckStatus(s.Call("GET", "/api/v1/projects/bravo-vault", s.bob), 200);
  CheckStatus(s.Call("GET", "/api/v1/projects/bravo-annex", s.bob), 404);  // deleted on its own
}

TEST_CASE("restoring needs the permission to delete: 403 with standing, 404 without",
          "[http][platform][deletion]") {
  DeletionServer s;
  s.SeedAcme();
  const std::string vic = s.Join("acme", "vic@acme.test", "viewer");
  const std::string ada = s.Join("acme", "ada@acme.test", "admin");

  CheckStatus(s.Call("DELETE", "/api/v1/projects/shop", vic), 403);
  CheckStatus(s.Call("DELETE", "/api/v1/orgs/acme?force=true", ada), 403);
  CheckStatus(s.Call("POST", "/api/v1/projects/shop/restore", ada), 409);  // live, may delete
  CheckStatus(s.Call("POST", "/api/v1/projects/shop/restore", vic), 403);
  CheckStatus(s.Call("POST", "/api/v1/projects/shop/restore", s.bob), 404);
  REQUIRE(s.Call("DELETE", "/api/v1/projects/shop", ada).status == 202);
  CheckStatus(s.Call("POST", "/api/v1/projects/shop/restore", vic), 403);
  CheckStatus(s.Call("POST", "/api/v1/projects/shop/restore", s.bob), 404);
  CHECK(Items(s.Call("GET", "/api/v1/trash", vic)).empty());
  CHECK(Items(s.Call("GET", "/api/v1/trash", ada)).size() == 1);
  CheckStatus(s.Call("POST", "/api/v1/projects/shop/restore", ada), 200);

  REQUIRE(s.Call("DELETE", "/api/v1/orgs/acme?force=true", s.ann).status == 202);
  CheckStatus(s.Call("POST", "/api/v1/orgs/acme/restore", ada), 403);  // admin, not owner
  CheckStatus(s.Call("POST", "/api/v1/orgs/acme/restore", vic), 403);
  CheckStatus(s.Call("POST", "/api/v1/orgs/acme/restore", s.bob), 404);
  CHECK(Items(s.Call("GET", "/api/v1/trash", ada)).empty());
  CheckStatus(s.Call("POST", "/api/v1/orgs/acme/restore", s.ann), 200);
}

TEST_CASE("past the grace period a restore is 409, and the purge frees the slugs",
          "[http][platform][deletion]") {
  DeletionServer s;
  s.SeedAcme();
  REQUIRE(s.Call("DELETE", "/api/v1/projects/shop", s.ann).status == 202);
  s.clock().Advance(30 * kDayMicros);
  s.SignInAgain();
  CheckStatus(s.Call("POST", "/api/v1/projects/shop/restore", s.ann), 409);
  auto purged = s.deletion().Purge(s.clock().Now());
  REQUIRE(purged);
  CHECK(purged->projects == 1);
  CheckStatus(s.Call("POST", "/api/v1/projects/shop/restore", s.ann), 404);
  CHECK(Items(s.Call("GET", "/api/v1/trash", s.ann)).empty());
  s.Make("/api/v1/orgs/acme/projects", s.ann, Body({{"slug", "shop"}}));
}

TEST_CASE("without a grace period deleting answers 204 and frees the slug at once",
          "[http][platform][deletion]") {
  DeletionServer s(std::chrono::seconds(0));
  s.SeedAcme();
  const HttpReply project = s.Call("DELETE", "/api/v1/projects/shop", s.ann);
  CHECK(project.status == 204);
  CHECK(project.body.empty());
  CheckStatus(s.Call("POST", "/api/v1/projects/shop/restore", s.ann), 404);
  s.Make("/api/v1/orgs/acme/projects", s.ann, Body({{"slug", "shop"}}));
  const HttpReply org = s.Call("DELETE", "/api/v1/orgs/acme?force=true", s.ann);
  CHECK(org.status == 204);
  CHECK(Items(s.Call("GET", "/api/v1/trash", s.ann)).empty());
  s.Make("/api/v1/orgs", s.ann, Body({{"slug", "acme"}}));
}
