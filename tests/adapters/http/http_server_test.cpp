#include <catch2/catch.hpp>

#include <algorithm>
#include <atomic>
#include <condition_variable>
#include <filesystem>
#include <fstream>
#include <future>
#include <iterator>
#include <mutex>
#include <thread>

#include "http_test_client.hpp"
#include "socle/adapters/http/json_object_reader.hpp"
#include "socle/adapters/memory/memory_catalogue_store.hpp"
#include "test_server.hpp"

using socle::adapters::http::LoopReads;
using socle::adapters::http::JsonValue;
using socle::adapters::http::Method;
using socle::adapters::http::ParseJson;
using socle::adapters::http::ParseJsonObject;
using socle::adapters::http::Request;
using socle::adapters::http::Response;
using socle::testing::Fetch;
using socle::testing::HttpReply;
using socle::testing::HttpTestClient;
using socle::testing::RawExchange;
using socle::testing::TestServer;
using socle::testing::TestServerOptions;

namespace {

JsonValue Json(const HttpReply& reply) {
  auto parsed = ParseJson(reply.body);
  INFO(reply.body);
  REQUIRE(parsed);
  return *parsed;
}

std::string Str(const JsonValue& object, std::string_view key) {
  const JsonValue* value = object.Find(key);
  REQUIRE(value != nullptr);
  REQUIRE(value->type() == JsonValue::Type::kString);
  return value->AsString();
}

std::int64_t Int(const JsonValue& object, std::string_view key) {
  const JsonValue* value = object.Find(key);
  REQUIRE(value != nullptr);
  REQUIRE(value->AsInt64().has_value());
  return *value->AsInt64();
}

// data.<field>.code of a PocketBase error body.
std::string FieldCode(const HttpReply& reply, std::string_view field) {
  JsonValue body = Json(reply);
  const JsonValue* data = body.Find("data");
  REQUIRE(data != nullptr);
  const JsonValue* entry = data->Find(field);
  if (entry == nullptr) return "<none>";
  return Str(*entry, "code");
}

// Checks PocketBase's error shape and returns the message.
std::string ErrorMessage(const HttpReply& reply, int status) {
  CHECK(reply.status == status);
  JsonValue body = Json(reply);
  CHECK(Int(body, "status") == status);
  const JsonValue* data = body.Find("data");
  REQUIRE(data != nullptr);
  CHECK(data->IsObject());
  return Str(body, "message");
}

// A client whose every request carries a superuser's platform token: the platform routes need
// a signed-in caller, and these suites are about the server and the catalogue's wire shapes
// (who may do what is platform_route_guard_test's and access_api_test's business).
class SignedClient {
 public:
  explicit SignedClient(TestServer& t) : client_(t.port()), token_(t.SuperuserToken()) {}
  HttpReply Send(std::string_view method, std::string_view target, std::string body = {},
                 std::vector<std::pair<std::string, std::string>> headers = {}) {
    headers.emplace_back("Authorization", "Bearer " + token_);
    return client_.Send(method, target, std::move(body), std::move(headers));
  }
  const std::string& token() const { return token_; }

 private:
  HttpTestClient client_;
  std::string token_;
};

std::string ReadBinary(const std::filesystem::path& path) {
  std::ifstream in(path, std::ios::binary);
  return std::string(std::istreambuf_iterator<char>(in), std::istreambuf_iterator<char>());
}

// A store whose Ping fails, for /ready.
class UnreachableStore final : public socle::application::CatalogueStore {
 public:
  using Result = socle::domain::Result<void>;
  socle::domain::Result<socle::application::MigrationReport> Migrate() override {
    return inner_.Migrate();
  }
  Result Ping() override {
    socle::domain::Error error = socle::domain::Error::Make(
        socle::domain::ErrorCode::kUnavailable, "Store unreachable.");
    error.internal = "connect: connection refused (10.0.0.1:5432)";
    return socle::domain::Fail(std::move(error));
  }
  Result UpsertRegion(const socle::domain::Region& r) override { return inner_.UpsertRegion(r); }
  socle::domain::Result<socle::domain::Region> GetRegion(const socle::domain::Slug& n) override {
    return inner_.GetRegion(n);
  }
  socle::domain::Result<std::vector<socle::domain::Region>> ListRegions() override {
    return inner_.ListRegions();
  }
  Result InsertOrganisation(const socle::domain::Organisation& o) override {
    return inner_.InsertOrganisation(o);
  }
  socle::domain::Result<socle::domain::Organisation> GetOrganisation(
      const socle::domain::Slug& s) override {
    return inner_.GetOrganisation(s);
  }
  socle::domain::Result<socle::domain::Organisation> GetOrganisationById(
      const socle::domain::Id& id) override {
    return inner_.GetOrganisationById(id);
  }
  socle::domain::Result<socle::domain::PageOf<socle::domain::Organisation>> ListOrganisations(
      const socle::domain::PageRequest& p) override {
    return inner_.ListOrganisations(p);
  }
  Result UpdateOrganisation(const socle::domain::Organisation& o) override {
    return inner_.UpdateOrganisation(o);
  }
  socle::domain::Result<std::int64_t> DeleteOrganisation(
      const socle::domain::Id& id, socle::application::DeleteMode mode) override {
    return inner_.DeleteOrganisation(id, mode);
  }
  Result InsertProject(const socle::domain::Project& p) override { return inner_.InsertProject(p); }
  socle::domain::Result<socle::domain::Project> GetProject(const socle::domain::Slug& s) override {
    return inner_.GetProject(s);
  }
  socle::domain::Result<socle::domain::Project> GetProjectById(const socle::domain::Id& id) override {
    return inner_.GetProjectById(id);
  }
  socle::domain::Result<socle::domain::PageOf<socle::domain::Project>> ListProjects(
      const std::optional<socle::domain::Id>& org, const socle::domain::PageRequest& p) override {
    return inner_.ListProjects(org, p);
  }
  Result UpdateProject(const socle::domain::Project& p) override { return inner_.UpdateProject(p); }
  Result DeleteProject(const socle::domain::Id& id) override { return inner_.DeleteProject(id); }
  socle::domain::Result<std::optional<socle::domain::ProjectSettings>> GetProjectSettings(
      const socle::domain::Id& id) override {
    return inner_.GetProjectSettings(id);
  }
  Result PutProjectSettings(const socle::domain::Id& id,
                            const socle::domain::ProjectSettings& settings,
                            socle::domain::Timestamp at) override {
    return inner_.PutProjectSettings(id, settings, at);
  }
  Result Audited(const std::string& chain, const socle::application::AuditWrite& audit,
                 const std::function<Result()>& change) override {
    return inner_.Audited(chain, audit, change);
  }
  Result RecordAudit(const std::string& chain,
                     const socle::application::AuditWrite& audit) override {
    return inner_.RecordAudit(chain, audit);
  }
  socle::domain::Result<std::vector<socle::application::StoredAuditEvent>> PlatformAuditEvents(
      const std::string& chain, const socle::application::AuditQuery& query) override {
    return inner_.PlatformAuditEvents(chain, query);
  }
  socle::domain::Result<std::vector<socle::domain::AuditCheckpointHead>> PlatformAuditHeads()
      override {
    return inner_.PlatformAuditHeads();
  }
  socle::domain::Result<std::vector<socle::application::StoredAuditEvent>> PlatformAuditChain(
      const std::string& chain, std::int64_t after_seq, std::int64_t limit) override {
    return inner_.PlatformAuditChain(chain, after_seq, limit);
  }
  socle::domain::Result<std::int64_t> ErasePlatformPersonal(std::string_view subject) override {
    return inner_.ErasePlatformPersonal(subject);
  }

 private:
  socle::adapters::memory::MemoryCatalogueStore inner_;
};

}  // namespace

TEST_CASE("Health endpoints answer in their documented shapes", "[http][server]") {
  TestServer t;
  t.Start();
  HttpTestClient client(t.port());

  auto api_health = client.Send("GET", "/api/health");
  CHECK(api_health.status == 200);
  CHECK(api_health.body == R"({"code":200,"message":"API is healthy.","data":{}})");
  CHECK(api_health.Header("content-type") == "application/json");
  CHECK(api_health.Header("x-content-type-options") == "nosniff");

  auto health = client.Send("GET", "/health");
  CHECK(health.status == 200);
  CHECK(Str(Json(health), "status") == "ok");
  CHECK(Str(Json(health), "version") == "0.0.0-test");

  auto live = client.Send("GET", "/live");
  CHECK(live.status == 200);
  auto ready = client.Send("GET", "/ready");
  CHECK(ready.status == 200);
  CHECK(Str(Json(ready), "status") == "ready");

  auto head = client.Send("HEAD", "/api/health");
  CHECK(head.status == 200);
  CHECK(head.body.empty());
  CHECK(head.Header("content-length") == std::to_string(api_health.body.size()));

  auto metrics = client.Send("GET", "/metrics");
  CHECK(metrics.status == 200);
  CHECK(metrics.Header("content-type") == "text/plain; version=0.0.4; charset=utf-8");
  CHECK(metrics.body.find(
            "socle_http_requests_total{method=\"GET\",route=\"/api/health\",status=\"200\"} 1") !=
        std::string::npos);
  CHECK(metrics.body.find(
            "socle_http_request_duration_seconds_bucket{method=\"GET\",route=\"/live\"") !=
        std::string::npos);
  CHECK(metrics.body.find("socle_http_connections_open 1") != std::string::npos);
}

TEST_CASE("/ready answers 503 while the store does not answer Ping", "[http][server]") {
  UnreachableStore store;
  TestServer t(TestServerOptions(), &store);
  t.Start();
  auto ready = Fetch(t.port(), "GET", "/ready");
  CHECK(ErrorMessage(ready, 503) == "The store is unavailable.");
  CHECK(ready.body.find("10.0.0.1") == std::string::npos);
  CHECK(Fetch(t.port(), "GET", "/live").status == 200);
  auto lines = t.LogLines();
  CHECK(std::any_of(lines.begin(), lines.end(), [](const std::string& line) {
    return line.find("\"route\":\"/ready\"") != std::string::npos &&
           line.find("connection refused (10.0.0.1:5432)") != std::string::npos &&
           line.find("\"level\":\"error\"") != std::string::npos;
  }));
}

TEST_CASE("Regions are listed with their store URLs redacted, read-only",
          "[http][server][platform]") {
  socle::adapters::memory::MemoryCatalogueStore store;
  REQUIRE(store.UpsertRegion(socle::domain::Region{
      *socle::domain::Slug::Parse("eu-west"), "postgres://socle:s3cret@eu-db/socle"}));
  TestServer t(TestServerOptions(), &store);
  t.Start();
  SignedClient client(t);

  auto list = client.Send("GET", "/api/v1/regions");
  REQUIRE(list.status == 200);
  CHECK(list.body.find("s3cret") == std::string::npos);
  JsonValue body = Json(list);
  CHECK(body.members().size() == 1);
  const auto& items = body.Find("items")->items();
  REQUIRE(items.size() == 2);
  CHECK(Str(items[0], "name") == "eu-west");
  CHECK(Str(items[0], "storeUrl") == "postgres://socle:***@eu-db/socle");
  CHECK(items[0].members().size() == 2);
  CHECK(Str(items[1], "name") == "local");
  CHECK(Str(items[1], "storeUrl").empty());

  auto post = client.Send("POST", "/api/v1/regions", R"({"name":"x"})");
  CHECK(post.status == 405);
  CHECK(post.Header("allow") == "GET, HEAD");
}

TEST_CASE("Organisations: create, list, get, rename, delete", "[http][server][platform]") {
  TestServer t;
  t.Start();
  SignedClient client(t);

  auto created = client.Send("POST", "/api/v1/orgs", R"({"slug":"acme","name":"Acme Corp"})");
  REQUIRE(created.status == 201);
  CHECK(created.Header("location") == "/api/v1/orgs/acme");
  JsonValue org = Json(created);
  CHECK(Str(org, "slug") == "acme");
  CHECK(Str(org, "name") == "Acme Corp");
  CHECK(Str(org, "region") == "local");
  CHECK(Str(org, "tier") == "shared");
  CHECK(Str(org, "id").size() == 15);
  CHECK(Str(org, "created") == "2023-11-14 22:13:20.000Z");
  CHECK(Str(org, "updated") == "2023-11-14 22:13:20.000Z");
  CHECK(org.members().size() == 7);

  auto defaults = client.Send("POST", "/api/v1/orgs", R"({"slug":"beta","tier":"dedicated"})");
  REQUIRE(defaults.status == 201);
  CHECK(Str(Json(defaults), "name") == "beta");
  CHECK(Str(Json(defaults), "tier") == "dedicated");

  auto list = client.Send("GET", "/api/v1/orgs?perPage=1&page=2");
  REQUIRE(list.status == 200);
  JsonValue page = Json(list);
  CHECK(Int(page, "page") == 2);
  CHECK(Int(page, "perPage") == 1);
  CHECK(Int(page, "totalItems") == 2);
  CHECK(Int(page, "totalPages") == 2);
  REQUIRE(page.Find("items")->items().size() == 1);
  CHECK(Str(page.Find("items")->items()[0], "slug") == "beta");

  auto got = client.Send("GET", "/api/v1/orgs/acme");
  CHECK(got.status == 200);
  CHECK(Str(Json(got), "id") == Str(org, "id"));

  t.clock().Advance(1'500'000);
  auto renamed = client.Send("PATCH", "/api/v1/orgs/acme", R"({"name":"Acme Ltd"})");
  REQUIRE(renamed.status == 200);
  CHECK(Str(Json(renamed), "name") == "Acme Ltd");
  CHECK(Str(Json(renamed), "updated") == "2023-11-14 22:13:21.500Z");
  CHECK(Str(Json(renamed), "created") == "2023-11-14 22:13:20.000Z");

  auto unchanged = client.Send("PATCH", "/api/v1/orgs/acme", "{}");
  CHECK(unchanged.status == 200);
  CHECK(Str(Json(unchanged), "name") == "Acme Ltd");

  auto deleted = client.Send("DELETE", "/api/v1/orgs/acme");
  CHECK(deleted.status == 204);
  CHECK(deleted.body.empty());
  CHECK(ErrorMessage(client.Send("GET", "/api/v1/orgs/acme"), 404) ==
        "The organisation was not found.");
}

TEST_CASE("Projects: create under an organisation, list, get, rename, delete",
          "[http][server][platform]") {
  TestServer t;
  t.Start();
  SignedClient client(t);
  REQUIRE(client.Send("POST", "/api/v1/orgs", R"({"slug":"acme"})").status == 201);

  auto created =
      client.Send("POST", "/api/v1/orgs/acme/projects", R"({"slug":"shop","name":"Shop"})");
  REQUIRE(created.status == 201);
  CHECK(created.Header("location") == "/api/v1/projects/shop");
  JsonValue project = Json(created);
  CHECK(Str(project, "slug") == "shop");
  CHECK(Str(project, "name") == "Shop");
  CHECK(Str(project, "org") == "acme");
  CHECK(project.members().size() == 6);
  REQUIRE(client.Send("POST", "/api/v1/orgs/acme/projects", R"({"slug":"blog"})").status == 201);

  auto list = client.Send("GET", "/api/v1/orgs/acme/projects");
  REQUIRE(list.status == 200);
  JsonValue page = Json(list);
  CHECK(Int(page, "totalItems") == 2);
  CHECK(Int(page, "perPage") == 30);
  CHECK(Str(page.Find("items")->items()[0], "slug") == "blog");

  CHECK(Str(Json(client.Send("GET", "/api/v1/projects/shop")), "org") == "acme");
  auto renamed = client.Send("PATCH", "/api/v1/projects/shop", R"({"name":"The Shop"})");
  CHECK(renamed.status == 200);
  CHECK(Str(Json(renamed), "name") == "The Shop");
  CHECK(client.Send("DELETE", "/api/v1/projects/shop").status == 204);
  CHECK(client.Send("GET", "/api/v1/projects/shop").status == 404);
  CHECK(client.Send("DELETE", "/api/v1/projects/shop").status == 404);

  CHECK(ErrorMessage(client.Send("POST", "/api/v1/orgs/nobody/projects", R"({"slug":"x1"})"),
                     404) == "The organisation was not found.");
  CHECK(client.Send("GET", "/api/v1/orgs/nobody/projects").status == 404);
}

TEST_CASE("Deleting an organisation with projects needs force=true", "[http][server][platform]") {
  TestServer t;
  t.Start();
  SignedClient client(t);
  REQUIRE(client.Send("POST", "/api/v1/orgs", R"({"slug":"acme"})").status == 201);
  REQUIRE(client.Send("POST", "/api/v1/orgs/acme/projects", R"({"slug":"shop"})").status == 201);

  auto refused = client.Send("DELETE", "/api/v1/orgs/acme");
  ErrorMessage(refused, 409);
  CHECK(client.Send("GET", "/api/v1/orgs/acme").status == 200);

  auto bad_force = client.Send("DELETE", "/api/v1/orgs/acme?force=yes");
  ErrorMessage(bad_force, 400);
  CHECK(FieldCode(bad_force, "force") == "validation_invalid_value");

  CHECK(client.Send("DELETE", "/api/v1/orgs/acme?force=false").status == 409);
  CHECK(client.Send("DELETE", "/api/v1/orgs/acme?force=true").status == 204);
  CHECK(client.Send("GET", "/api/v1/orgs/acme").status == 404);
  CHECK(client.Send("GET", "/api/v1/projects/shop").status == 404);
}

TEST_CASE("Request bodies are validated strictly", "[http][server][platform]") {
  TestServer t;
  t.Start();
  SignedClient client(t);

  auto malformed = client.Send("POST", "/api/v1/orgs", R"({"slug":"acme",})");
  CHECK(ErrorMessage(malformed, 400) ==
        "Failed to load the submitted data due to invalid formatting.");

  auto empty = client.Send("POST", "/api/v1/orgs", "", {{"Content-Type", "application/json"}});
  ErrorMessage(empty, 400);

  auto array = client.Send("POST", "/api/v1/orgs", R"(["acme"])");
  CHECK(ErrorMessage(array, 400) == "The request body must be a JSON object.");

  auto unknown = client.Send("POST", "/api/v1/orgs", R"({"slug":"acme","nmae":"x"})");
  CHECK(ErrorMessage(unknown, 400) == "Failed to validate the submitted data.");
  CHECK(FieldCode(unknown, "nmae") == "validation_unknown_field");

  auto wrong_type = client.Send("POST", "/api/v1/orgs", R"({"slug":42})");
  ErrorMessage(wrong_type, 400);
  CHECK(FieldCode(wrong_type, "slug") == "validation_invalid_type");

  auto missing = client.Send("POST", "/api/v1/orgs", R"({"name":"x"})");
  CHECK(FieldCode(missing, "slug") == "validation_required");

  auto duplicate_key = client.Send("POST", "/api/v1/orgs", R"({"slug":"acme","slug":"evil"})");
  CHECK(FieldCode(duplicate_key, "slug") == "validation_duplicate_field");

  auto bad_values = client.Send("POST", "/api/v1/orgs", R"({"slug":"9x","tier":"gold"})");
  ErrorMessage(bad_values, 400);
  CHECK(FieldCode(bad_values, "slug") == "validation_invalid_slug");
  CHECK(FieldCode(bad_values, "tier") != "<none>");

  auto unknown_region = client.Send("POST", "/api/v1/orgs", R"({"slug":"acme","region":"mars"})");
  CHECK(FieldCode(unknown_region, "region") == "validation_unknown_region");

  auto text = client.Send("POST", "/api/v1/orgs", R"({"slug":"acme"})",
                          {{"Content-Type", "text/plain"}});
  CHECK(ErrorMessage(text, 400) == "Content-Type must be application/json.");
  auto with_charset = client.Send("POST", "/api/v1/orgs", R"({"slug":"acme"})",
                                  {{"Content-Type", "Application/JSON; charset=utf-8"}});
  CHECK(with_charset.status == 201);

  auto duplicate = client.Send("POST", "/api/v1/orgs", R"({"slug":"acme"})");
  ErrorMessage(duplicate, 409);
  CHECK(FieldCode(duplicate, "slug") == "validation_not_unique");

  auto immutable = client.Send("PATCH", "/api/v1/orgs/acme", R"({"slug":"other","name":"X"})");
  ErrorMessage(immutable, 400);
  CHECK(FieldCode(immutable, "slug") == "validation_immutable");

  auto bad_name = client.Send("PATCH", "/api/v1/orgs/acme", R"({"name":""})");
  ErrorMessage(bad_name, 400);
  CHECK(FieldCode(bad_name, "name") != "<none>");

  auto patch_unknown = client.Send("PATCH", "/api/v1/orgs/acme", R"({"region":"local"})");
  CHECK(FieldCode(patch_unknown, "region") == "validation_unknown_field");

  REQUIRE(client.Send("POST", "/api/v1/orgs/acme/projects", R"({"slug":"shop"})").status == 201);
  auto duplicate_project =
      client.Send("POST", "/api/v1/orgs/acme/projects", R"({"slug":"shop"})");
  ErrorMessage(duplicate_project, 409);
  CHECK(FieldCode(duplicate_project, "slug") == "validation_not_unique");
  auto project_immutable = client.Send("PATCH", "/api/v1/projects/shop", R"({"slug":"x2"})");
  CHECK(FieldCode(project_immutable, "slug") == "validation_immutable");
}

TEST_CASE("List parameters are validated", "[http][server][platform]") {
  TestServer t;
  t.Start();
  SignedClient client(t);
  for (std::string_view query : {"page=abc", "page=0", "page=-1", "page=1.5", "page=",
                                 "page=99999999999999999999", "page=+1"}) {
    INFO(query);
    auto reply = client.Send("GET", "/api/v1/orgs?" + std::string(query));
    ErrorMessage(reply, 400);
    CHECK(FieldCode(reply, "page") != "<none>");
  }
  for (std::string_view query : {"perPage=0", "perPage=1001", "perPage=x"}) {
    INFO(query);
    auto reply = client.Send("GET", "/api/v1/orgs?" + std::string(query));
    ErrorMessage(reply, 400);
    CHECK(FieldCode(reply, "perPage") != "<none>");
  }
  auto both = client.Send("GET", "/api/v1/orgs?page=x&perPage=y");
  CHECK(FieldCode(both, "page") == "validation_invalid_number");
  CHECK(FieldCode(both, "perPage") == "validation_invalid_number");
  CHECK(client.Send("GET", "/api/v1/orgs?page=1000000&perPage=1000").status == 200);
  // Parameters are validated before anything is looked up.
  CHECK(client.Send("GET", "/api/v1/orgs/nobody/projects?perPage=0").status == 400);
}

TEST_CASE("Path slugs that are not slugs name nothing", "[http][server][platform]") {
  TestServer t;
  t.Start();
  SignedClient client(t);
  for (std::string_view path : {"/api/v1/orgs/ACME", "/api/v1/orgs/a%2Fb", "/api/v1/orgs/x",
                                "/api/v1/projects/-bad", "/api/v1/orgs/%00"}) {
    INFO(path);
    CHECK(ErrorMessage(client.Send("GET", path), 404) == "The requested resource wasn't found.");
  }
  CHECK(client.Send("PATCH", "/api/v1/orgs/ACME", R"({"name":"x"})").status == 404);
  CHECK(client.Send("DELETE", "/api/v1/projects/NOPE").status == 404);
}

TEST_CASE("Unknown routes are 404, wrong methods 405 with Allow, odd methods 501",
          "[http][server]") {
  TestServer t;
  t.Start();
  HttpTestClient client(t.port());
  CHECK(ErrorMessage(client.Send("GET", "/nowhere"), 404) ==
        "The requested resource wasn't found.");
  auto put = client.Send("PUT", "/api/v1/orgs", "{}");
  ErrorMessage(put, 405);
  CHECK(put.Header("allow") == "GET, HEAD, POST");
  auto patch = client.Send("PATCH", "/api/health", "{}");
  CHECK(patch.status == 405);
  CHECK(patch.Header("allow") == "GET, HEAD");
  auto brew = client.Send("BREW", "/api/health");
  ErrorMessage(brew, 501);
  CHECK(client.Send("GET", "/api/health").status == 200);  // the connection survived
}

TEST_CASE("Oversized bodies get 413 and oversized headers 431", "[http][server]") {
  TestServer t;
  t.Start();
  {
    HttpTestClient client(t.port());
    auto too_big = client.Send("POST", "/api/v1/orgs", std::string(5000, ' '));
    ErrorMessage(too_big, 413);
    CHECK_FALSE(too_big.keep_alive);
    CHECK(client.ClosedByServer());
  }
  {
    HttpTestClient client(t.port());
    auto huge = client.Send("GET", "/api/health", {}, {{"X-Filler", std::string(5000, 'a')}});
    ErrorMessage(huge, 431);
    CHECK(client.ClosedByServer());
  }
  // A chunked body is limited by its decoded size too.
  std::string chunked =
      "POST /api/v1/orgs HTTP/1.1\r\nHost: t\r\nContent-Type: application/json\r\n"
      "Transfer-Encoding: chunked\r\n\r\n";
  for (int i = 0; i < 5; ++i) chunked += "3e8\r\n" + std::string(1000, ' ') + "\r\n";
  chunked += "0\r\n\r\n";
  auto raw = RawExchange(t.port(), chunked);
  auto replies = socle::testing::ParseResponses(raw.received);
  REQUIRE(replies.size() == 1);
  CHECK(replies[0].status == 413);
  CHECK(raw.closed);
  // Just under the limit is fine.
  auto fits = Fetch(t.port(), "POST", "/api/v1/orgs",
                    R"({"slug":"acme","name":")" + std::string(100, 'n') + "\"}" +
                        std::string(3900, ' '),
                    {{"Authorization", "Bearer " + t.SuperuserToken()}});
  CHECK(fits.status == 201);
}

TEST_CASE("X-Request-Id is echoed when well formed and generated otherwise", "[http][server]") {
  TestServer t;
  t.Start();
  HttpTestClient client(t.port());
  auto echoed = client.Send("GET", "/api/health", {}, {{"X-Request-Id", "abc-123_x.Y"}});
  CHECK(echoed.Header("x-request-id") == "abc-123_x.Y");

  auto generated = client.Send("GET", "/api/health");
  const std::string id = generated.Header("x-request-id");
  CHECK(id.size() == 15);

  auto replaced = client.Send("GET", "/api/health", {}, {{"X-Request-Id", "bad id with spaces"}});
  CHECK(replaced.Header("x-request-id") != "bad id with spaces");
  CHECK(replaced.Header("x-request-id").size() == 15);

  auto too_long = client.Send("GET", "/api/health", {}, {{"X-Request-Id", std::string(129, 'a')}});
  CHECK(too_long.Header("x-request-id").size() == 15);
  auto max_length =
      client.Send("GET", "/api/health", {}, {{"X-Request-Id", std::string(128, 'a')}});
  CHECK(max_length.Header("x-request-id") == std::string(128, 'a'));

  auto error = client.Send("GET", "/nowhere", {}, {{"X-Request-Id", "req-404"}});
  CHECK(error.Header("x-request-id") == "req-404");

  // Framing errors carry one too.
  auto raw = RawExchange(t.port(), "GET / HTTP/1.1\r\n\r\n");
  auto replies = socle::testing::ParseResponses(raw.received);
  REQUIRE(replies.size() == 1);
  CHECK(replies[0].status == 400);
  CHECK(replies[0].Header("x-request-id").size() == 15);
}

TEST_CASE("Every request is logged in one JSON line without its query string", "[http][server]") {
  TestServer t;
  t.Start();
  const std::string token = t.SuperuserToken();
  Fetch(t.port(), "GET", "/api/v1/orgs?token=s3cr3t&page=1", {},
        {{"X-Request-Id", "log-me"}, {"Authorization", "Bearer " + token}});
  Fetch(t.port(), "GET", "/api/v1/orgs/acme", {}, {{"Authorization", "Bearer " + token}});
  Fetch(t.port(), "GET", "/api/v1/orgs/acme", {}, {{"Authorization", "Bearer t0ken"}});
  const auto lines = t.LogLines();
  auto line = std::find_if(lines.begin(), lines.end(), [](const std::string& l) {
    return l.find("\"request_id\":\"log-me\"") != std::string::npos;
  });
  REQUIRE(line != lines.end());
  auto parsed = ParseJsonObject(std::string_view(*line).substr(0, line->size() - 1));
  REQUIRE(parsed);
  CHECK(Str(*parsed, "level") == "info");
  CHECK(Str(*parsed, "msg") == "request");
  CHECK(Str(*parsed, "method") == "GET");
  CHECK(Str(*parsed, "route") == "/api/v1/orgs");
  CHECK(Str(*parsed, "path") == "/api/v1/orgs");
  CHECK(Int(*parsed, "status") == 200);
  CHECK(parsed->Find("duration_us") != nullptr);
  CHECK(Str(*parsed, "client") == "127.0.0.1");
  CHECK(parsed->Find("time") != nullptr);
  for (const auto& l : lines) {
    CHECK(l.find("s3cr3t") == std::string::npos);
    CHECK(l.find("t0ken") == std::string::npos);
    CHECK(l.find(token) == std::string::npos);
    CHECK(std::count(l.begin(), l.end(), '\n') == 1);
  }
  for (const int status : {404, 401}) {  // unknown organisation; a token that does not hold
    INFO(status);
    CHECK(std::any_of(lines.begin(), lines.end(), [status](const std::string& l) {
      return l.find("\"route\":\"/api/v1/orgs/{org}\"") != std::string::npos &&
             l.find("\"status\":" + std::to_string(status)) != std::string::npos;
    }));
  }
}

TEST_CASE("A handler that throws gets a safe 500 and the detail is logged", "[http][server]") {
  TestServer t;
  REQUIRE(t.router.Add(Method::kGet, "/boom", [](const Request&) -> Response {
    throw std::runtime_error("secret internal detail");
  }));
  t.Start();
  auto reply = Fetch(t.port(), "GET", "/boom", {}, {{"X-Request-Id", "boom-1"}});
  CHECK(ErrorMessage(reply, 500) == "Something went wrong while processing your request.");
  CHECK(reply.body.find("secret") == std::string::npos);
  const auto lines = t.LogLines();
  CHECK(std::any_of(lines.begin(), lines.end(), [](const std::string& l) {
    return l.find("boom-1") != std::string::npos &&
           l.find("secret internal detail") != std::string::npos;
  }));
}

TEST_CASE("Keep-alive serves several requests and Connection: close is honoured",
          "[http][server]") {
  TestServer t;
  t.Start();
  HttpTestClient client(t.port());
  for (int i = 0; i < 5; ++i) CHECK(client.Send("GET", "/live").status == 200);
  auto last = client.Send("GET", "/live", {}, {{"Connection", "close"}});
  CHECK(last.status == 200);
  CHECK_FALSE(last.keep_alive);
  CHECK(client.ClosedByServer());

  auto http10 = RawExchange(t.port(), "GET /live HTTP/1.0\r\n\r\n");
  auto replies = socle::testing::ParseResponses(http10.received);
  REQUIRE(replies.size() == 1);
  CHECK(replies[0].status == 200);
  CHECK(http10.closed);
}

TEST_CASE("A pipelined burst is answered in order up to the cap, then the connection closes",
          "[http][server]") {
  auto options = TestServerOptions();
  options.max_pipelined_requests = 2;
  TestServer t(options);
  t.Start();
  std::string burst;
  for (const char* path : {"/live", "/api/health", "/health", "/live"}) {
    burst += "GET " + std::string(path) + " HTTP/1.1\r\nHost: t\r\n\r\n";
  }
  auto raw = RawExchange(t.port(), burst);
  auto replies = socle::testing::ParseResponses(raw.received);
  REQUIRE(replies.size() == 2);
  CHECK(replies[0].body == R"({"status":"live"})");
  CHECK(replies[1].body == R"({"code":200,"message":"API is healthy.","data":{}})");
  CHECK_FALSE(replies[1].keep_alive);
  CHECK(raw.closed);
}

TEST_CASE("Connections over the cap are answered 503 and closed", "[http][server]") {
  auto options = TestServerOptions();
  options.max_connections = 1;
  TestServer t(options);
  t.Start();
  HttpTestClient first(t.port());
  REQUIRE(first.Send("GET", "/live").status == 200);
  auto raw = RawExchange(t.port(), "GET /live HTTP/1.1\r\nHost: t\r\n\r\n");
  auto replies = socle::testing::ParseResponses(raw.received);
  REQUIRE(replies.size() == 1);
  CHECK(replies[0].status == 503);
  CHECK(ParseJsonObject(replies[0].body));
  CHECK(raw.closed);
  CHECK(first.Send("GET", "/live").status == 200);
}

TEST_CASE("An idle keep-alive connection is closed after the idle timeout", "[http][server]") {
  auto options = TestServerOptions();
  options.idle_timeout = std::chrono::milliseconds(200);
  TestServer t(options);
  t.Start();
  HttpTestClient client(t.port());
  REQUIRE(client.Send("GET", "/live").status == 200);
  CHECK(client.ClosedByServer(std::chrono::milliseconds(5000)));
}

TEST_CASE("A request that stalls is dropped at the read deadline", "[http][server]") {
  auto options = TestServerOptions();
  options.read_timeout = std::chrono::milliseconds(200);
  TestServer t(options);
  t.Start();
  auto raw = RawExchange(t.port(), "GET /live HTTP/1.1\r\nHost: t\r\n",
                         std::chrono::milliseconds(5000));
  CHECK(raw.closed);
}

TEST_CASE("Graceful shutdown lets an in-flight request finish, then stops", "[http][server]") {
  TestServer t;
  std::promise<void> entered;
  std::promise<void> release;
  auto released = release.get_future().share();
  REQUIRE(t.router.Add(Method::kGet, "/slow", [&](const Request&) {
    entered.set_value();
    released.wait();
    return Response::Text(200, "done");
  }));
  t.Start();
  const auto port = t.port();

  HttpTestClient idle(port);
  REQUIRE(idle.Send("GET", "/live").status == 200);
  HttpTestClient busy(port);
  busy.SendOnly("GET", "/slow");
  entered.get_future().wait();

  t.server().Shutdown();
  // Phase one: no new connections, idle ones closed.
  bool refused = false;
  for (int i = 0; i < 200 && !refused; ++i) {
    refused = !socle::testing::CanConnect(port);
    if (!refused) std::this_thread::sleep_for(std::chrono::milliseconds(10));
  }
  CHECK(refused);
  CHECK(idle.ClosedByServer());

  release.set_value();
  auto reply = busy.Receive();
  CHECK(reply.status == 200);
  CHECK(reply.body == "done");
  CHECK_FALSE(reply.keep_alive);
  t.server().Wait();
  const auto lines = t.LogLines();
  CHECK(std::any_of(lines.begin(), lines.end(), [](const std::string& l) {
    return l.find("\"msg\":\"http server stopped\"") != std::string::npos;
  }));
}

TEST_CASE("Shutdown closes connections still busy at the timeout", "[http][server]") {
  auto options = TestServerOptions();
  options.shutdown_timeout = std::chrono::milliseconds(100);
  TestServer t(options);
  std::promise<void> entered;
  std::promise<void> release;
  auto released = release.get_future().share();
  REQUIRE(t.router.Add(Method::kGet, "/stuck", [&](const Request&) {
    entered.set_value();
    released.wait();
    return Response::Text(200, "late");
  }));
  t.Start();
  HttpTestClient busy(t.port());
  busy.SendOnly("GET", "/stuck");
  entered.get_future().wait();
  t.server().Shutdown();
  CHECK(busy.ClosedByServer(std::chrono::milliseconds(5000)));
  release.set_value();  // the worker finishes; its response has nowhere to go
  t.server().Wait();
}

// Which thread ran each handler: a kInline handler runs on its connection's loop by definition.
struct ThreadProbe {
  std::mutex mutex;
  std::vector<std::thread::id> loop;  // one per /where-loop request
  std::vector<std::thread::id> read;  // one per /where-read request
  std::vector<std::thread::id> point;  // one per /where-point request
  std::vector<std::thread::id> write;  // one per POST /where-write request
};

void AddThreadProbes(socle::adapters::http::Router& router, ThreadProbe& probe) {
  using socle::adapters::http::Dispatch;
  auto record = [&probe](std::vector<std::thread::id> ThreadProbe::*list) {
    return [&probe, list](const Request&) {
      std::lock_guard lock(probe.mutex);
      (probe.*list).push_back(std::this_thread::get_id());
      return Response::Text(200, "ok");
    };
  };
  REQUIRE(router.Add(Method::kGet, "/where-loop", record(&ThreadProbe::loop), Dispatch::kInline));
  REQUIRE(router.Add(Method::kGet, "/where-read", record(&ThreadProbe::read), Dispatch::kRead));
  REQUIRE(router.Add(Method::kGet, "/where-point", record(&ThreadProbe::point),
                     Dispatch::kPointRead));
  REQUIRE(router.Add(Method::kPost, "/where-write", record(&ThreadProbe::write),
                     Dispatch::kWorker));
}

TEST_CASE("Reads run on the connection's loop as far as the server says so, on the workers "
          "otherwise",
          "[http][server]") {
  const LoopReads loop_reads = GENERATE(LoopReads::kNone, LoopReads::kPoint, LoopReads::kAll);
  INFO("loop_reads " << static_cast<int>(loop_reads));
  auto options = TestServerOptions();
  options.io_threads = 2;
  options.loop_reads = loop_reads;
  TestServer t(options);
  ThreadProbe probe;
  AddThreadProbes(t.router, probe);
  t.Start();
  // Two connections, accepted in turn by the two loops.
  HttpTestClient first(t.port());
  HttpTestClient second(t.port());
  for (HttpTestClient* client : {&first, &second}) {
    REQUIRE(client->Send("GET", "/where-loop").status == 200);
    REQUIRE(client->Send("GET", "/where-read").status == 200);
    REQUIRE(client->Send("GET", "/where-point").status == 200);
    REQUIRE(client->Send("POST", "/where-write", "{}").status == 200);
  }
  std::lock_guard lock(probe.mutex);
  REQUIRE(probe.loop.size() == 2);
  REQUIRE(probe.read.size() == 2);
  REQUIRE(probe.point.size() == 2);
  REQUIRE(probe.write.size() == 2);
  CHECK(probe.loop[0] != probe.loop[1]);  // each connection has a loop of its own
  for (std::size_t i = 0; i < 2; ++i) {
    CHECK((probe.read[i] == probe.loop[i]) == (loop_reads == LoopReads::kAll));
    CHECK((probe.point[i] == probe.loop[i]) == (loop_reads != LoopReads::kNone));
    for (const auto* off_loop : {&probe.read, &probe.point}) {
      CHECK((*off_loop)[i] != probe.loop[1 - i]);  // never on another connection's loop
    }
    CHECK(probe.write[i] != probe.loop[i]);  // writes always go to the workers
    CHECK(probe.write[i] != probe.loop[1 - i]);
  }
}

TEST_CASE("Loops without a connection do not keep a stopping server alive", "[http][server]") {
  auto options = TestServerOptions();
  options.io_threads = 4;
  TestServer t(options);
  t.Start();
  {
    HttpTestClient client(t.port());
    REQUIRE(client.Send("GET", "/live").status == 200);
  }
  auto stopped = std::async(std::launch::async, [&] {
    t.server().Shutdown();
    t.server().Wait();
  });
  CHECK(stopped.wait_for(std::chrono::seconds(10)) == std::future_status::ready);
}

TEST_CASE("Waiting on a server that never started, or failed to, returns at once",
          "[http][server]") {
  auto options = TestServerOptions();
  options.io_threads = 3;
  const bool try_to_start = GENERATE(false, true);
  if (try_to_start) options.address = "not-an-address";  // Start refuses it
  TestServer t;
  socle::adapters::http::HttpServer server(options, t.router, t.logger(), t.metrics(), t.random());
  if (try_to_start) REQUIRE_FALSE(server.Start());
  auto waited = std::async(std::launch::async, [&] { server.Wait(); });
  REQUIRE(waited.wait_for(std::chrono::seconds(10)) == std::future_status::ready);
  CHECK_NOTHROW(waited.get());
}

TEST_CASE("Every JSONTestSuite n_ file sent as a body is a 400, never a 500",
          "[http][server][jsontestsuite]") {
  auto options = TestServerOptions();
  options.max_body_bytes = 1 << 20;
  TestServer t(options);
  t.Start();
  SignedClient client(t);
  std::vector<std::filesystem::path> files;
  for (const auto& entry :
       std::filesystem::directory_iterator(std::filesystem::path(SOCLE_JSONTESTSUITE_DIR) /
                                           "test_parsing")) {
    if (entry.path().filename().string().starts_with("n_")) files.push_back(entry.path());
  }
  REQUIRE(files.size() == 188);
  for (const auto& file : files) {
    INFO(file.filename().string());
    std::string body = ReadBinary(file);
    if (body.empty()) body = " ";  // an empty body still needs a Content-Length
    auto reply = client.Send("POST", "/api/v1/orgs", body);
    CHECK(reply.status == 400);
    CHECK(ParseJsonObject(reply.body));
  }
}

TEST_CASE("The server-wide rate limit counts each address and each credential",
          "[http][server][ratelimit]") {
  auto options = socle::testing::TestServerOptions();
  options.rate_limit_per_second = 3;
  TestServer t(options);
  t.Start();
  HttpTestClient client(t.port());
  // A burst of the limit passes; the next request is refused with Retry-After.
  int passed = 0;
  HttpReply refused;
  for (int i = 0; i < 10; ++i) {
    auto reply = client.Send("GET", "/api/v1/regions");  // 401 (anonymous) until limited
    if (reply.status != 429) {
      ++passed;
    } else {
      refused = reply;
      break;
    }
  }
  CHECK(passed >= 3);
  CHECK(passed <= 4);  // a refill during the loop may let one more through
  REQUIRE(refused.status == 429);
  CHECK(refused.HasHeader("retry-after"));
  CHECK(Str(Json(refused), "message") == "Too Many Requests.");
  // Probes are never limited: an orchestrator polling them must not be refused.
  CHECK(client.Send("GET", "/live").status == 200);
  CHECK(client.Send("GET", "/ready").status == 200);
  // A credential has a bucket of its own too, and the address is still spent.
  CHECK(client.Send("GET", "/api/v1/regions", "", {{"Authorization", "Bearer x"}}).status == 429);
}
