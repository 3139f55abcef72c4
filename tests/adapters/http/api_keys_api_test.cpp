// API keys over the project data API, end to end: the in-process server on port 0 wired as
// socle-server wires it (every caller identified by TokenIdentifier with the API keys use
// case, Argon2id passwords, Ed25519 tokens), over the memory stores and a clock the tests move.
// Organisation "acme" has projects "shop" and "other", each with the auth collection `users`
// (each user sees only their own record), `posts` (each user's own; author → users) and
// `notes` (every rule null: superusers only; a hidden field).
//
// A key is sent as `Authorization: Bearer sk_…` or `X-API-Key: sk_…`. Every refusal is checked
// for its status and its exact PocketBase-shaped body, which must not tell why a key was
// refused.
#include <catch2/catch.hpp>

#include <algorithm>
#include <array>
#include <cstdint>
#include <initializer_list>
#include <optional>
#include <set>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

#include "http_test_client.hpp"
#include "socle/adapters/crypto/argon2_password_hasher.hpp"
#include "socle/adapters/crypto/ed25519_token_signer.hpp"
#include "socle/adapters/crypto/secret_box.hpp"
#include "socle/adapters/http/json_object_reader.hpp"
#include "socle/adapters/http/project_data_api.hpp"
#include "socle/adapters/json/json_writer.hpp"
#include "socle/adapters/memory/memory_catalogue_store.hpp"
#include "socle/adapters/memory/memory_project_store.hpp"
#include "socle/application/authenticate.hpp"
#include "socle/application/manage_api_keys.hpp"
#include "socle/application/manage_collections.hpp"
#include "socle/application/manage_organisations.hpp"
#include "socle/application/manage_projects.hpp"
#include "socle/application/manage_records.hpp"
#include "socle/application/manage_settings.hpp"
#include "socle/application/manage_signing_keys.hpp"
#include "socle/application/manage_superusers.hpp"
#include "socle/application/platform_store.hpp"
#include "socle/application/project_directory.hpp"
#include "socle/domain/login_throttle.hpp"
#include "support/test_ports.hpp"
#include "test_server.hpp"

namespace application = socle::application;
namespace crypto = socle::adapters::crypto;
namespace domain = socle::domain;
namespace http = socle::adapters::http;
namespace json = socle::adapters::json;
using domain::JsonValue;
using socle::testing::HttpReply;

namespace {

using Headers = std::vector<std::pair<std::string, std::string>>;

constexpr std::string_view kRootEmail = "root@example.com";
constexpr std::string_view kRootPassword = "Sup3r-Us3r passphrase!";
constexpr std::string_view kAlice = "alice@example.com";
constexpr std::string_view kAlicePassword = "violet-Harbor-42-lantern";
constexpr std::string_view kBob = "bob@example.com";
constexpr std::string_view kBobPassword = "quiet-Meadow-77-compass";
constexpr std::string_view kUsersId = "_pb_users_auth_";
constexpr std::array<std::uint8_t, 32> kMasterKey = {
    0x31, 0x42, 0x53, 0x64, 0x75, 0x86, 0x97, 0xa8, 0xb9, 0xca, 0xdb, 0xec, 0xfd, 0x0e, 0x1f, 0x20,
    0x2f, 0x3e, 0x4d, 0x5c, 0x6b, 0x7a, 0x89, 0x98, 0xa7, 0xb6, 0xc5, 0xd4, 0xe3, 0xf2, 0x01, 0x10};
constexpr std::int64_t kMicros = 1'000'000;
constexpr std::int64_t kDay = 86'400 * kMicros;

// The exact answers the tests pin.
const std::string kBadKey =
    R"({"status":401,"message":"The API key is not valid.","data":{}})";
const std::string kOutOfScope =
    R"({"status":403,"message":"The API key does not allow this action on this collection.",)"
    R"("data":{}})";
const std::string kBadToken =
    R"({"status":401,"message":"The request requires valid record authorization token.",)"
    R"("data":{}})";

constexpr std::string_view kPosts = "/p/shop/api/collections/posts/records";
constexpr std::string_view kNotes = "/p/shop/api/collections/notes/records";
constexpr std::string_view kUsers = "/p/shop/api/collections/users/records";

// --- JSON

JsonValue Json(const HttpReply& reply) {
  INFO(reply.body);
  auto parsed = http::ParseJson(reply.body);
  REQUIRE(parsed);
  return *parsed;
}

const JsonValue* At(const JsonValue& value, std::initializer_list<std::string_view> path) {
  const JsonValue* current = &value;
  for (std::string_view key : path) {
    if (current->type() == JsonValue::Type::kArray) {
      const std::size_t index = std::stoul(std::string(key));
      if (index >= current->items().size()) return nullptr;
      current = &current->items()[index];
    } else {
      current = current->Find(key);
    }
    if (current == nullptr) return nullptr;
  }
  return current;
}

std::string Text(const JsonValue& value, std::initializer_list<std::string_view> path) {
  const JsonValue* found = At(value, path);
  if (found == nullptr) return "<missing>";
  if (found->type() != JsonValue::Type::kString) return "<not a string>";
  return found->AsString();
}

std::int64_t Number(const JsonValue& value, std::initializer_list<std::string_view> path) {
  const JsonValue* found = At(value, path);
  REQUIRE(found != nullptr);
  REQUIRE(found->AsInt64());
  return *found->AsInt64();
}

std::string Body(std::initializer_list<std::pair<std::string_view, std::string_view>> members) {
  json::JsonWriter w;
  w.BeginObject();
  for (const auto& [key, value] : members) w.Key(key).String(value);
  w.EndObject();
  return std::move(w).Take();
}

// The ids of the records a list answered with, sorted.
std::vector<std::string> ItemIds(const HttpReply& reply) {
  std::vector<std::string> ids;
  const JsonValue body = Json(reply);
  const JsonValue* items = body.Find("items");
  REQUIRE(items != nullptr);
  for (const auto& item : items->items()) ids.push_back(Text(item, {"id"}));
  std::sort(ids.begin(), ids.end());
  return ids;
}

std::vector<std::string> Sorted(std::vector<std::string> ids) {
  std::sort(ids.begin(), ids.end());
  return ids;
}

// --- the wired server

crypto::Argon2PasswordHasher MakeHasher(application::RandomSource& random) {
  auto hasher = crypto::Argon2PasswordHasher::Create(crypto::Argon2Policy{}, random);
  REQUIRE(hasher);
  return std::move(*hasher);
}

crypto::SecretBox MakeBox(application::RandomSource& random) {
  auto box = crypto::SecretBox::Create(kMasterKey, {}, random);
  REQUIRE(box);
  return std::move(*box);
}

application::PasswordSettings Passwords(application::PasswordHasher& hasher) {
  application::PasswordSettings passwords;
  passwords.hasher = &hasher;
  return passwords;
}

http::HttpServerOptions Options() {
  http::HttpServerOptions options = socle::testing::TestServerOptions();
  options.max_body_bytes = std::size_t{1} << 20;
  return options;
}

domain::Field NewField(std::string name, domain::FieldType type) {
  domain::Field field;
  field.name = std::move(name);
  field.type = type;
  return field;
}

// Members in construction order: stores and ports, use cases, the API, and the server last
// (so stopped first).
struct KeysWorld {
  KeysWorld() {
    REQUIRE(orgs.Create({"acme", std::nullopt, std::nullopt, std::nullopt}));
    REQUIRE(projects.Create({"shop", "acme", std::nullopt}));
    REQUIRE(projects.Create({"other", "acme", std::nullopt}));
    REQUIRE(keys.Load());
    REQUIRE(superusers.Upsert(kRootEmail, kRootPassword));
    for (std::string_view project : {"shop", "other"}) CreateCollections(project);
    api.ServeAuthentication(authenticate, signer);
    REQUIRE(api.Register(server.router));
    server.Start();
    alice_id = CreateUser(kAlice, kAlicePassword);
    bob_id = CreateUser(kBob, kBobPassword);
    alice_token = Token("users", kAlice, kAlicePassword);
    alice_post = MustPost(alice_token, "alice's", alice_id);
    bob_post = MustPost(Token("users", kBob, kBobPassword), "bob's", bob_id);
    note = MustInsert("notes", JsonValue::Object({{"text", JsonValue::String("n1")},
                                                  {"secret", JsonValue::String("hush")}}));
  }

  void CreateCollections(std::string_view project) {
    domain::Collection users;
    users.id = std::string(kUsersId);
    users.name = "users";
    users.type = domain::CollectionType::kAuth;
    users.fields = {NewField("name", domain::FieldType::kText)};
    users.rules.list = "id = @request.auth.id";
    users.rules.view = "id = @request.auth.id";
    users.rules.create = "";
    users.rules.update = "id = @request.auth.id";
    users.rules.del = "id = @request.auth.id";
    auto created_users = collections.Create(project, users, "test");
    INFO((created_users ? std::string() : created_users.error().message));
    REQUIRE(created_users);

    domain::Collection posts;
    posts.name = "posts";
    domain::Field author = NewField("author", domain::FieldType::kRelation);
    author.collection_id = std::string(kUsersId);
    author.max_select = 1;
    posts.fields = {NewField("title", domain::FieldType::kText), author};
    posts.rules.list = "author = @request.auth.id";
    posts.rules.view = "author = @request.auth.id";
    posts.rules.create = R"(@request.auth.id != "" && author = @request.auth.id)";
    posts.rules.update = "author = @request.auth.id";
    posts.rules.del = "author = @request.auth.id";
    auto created_posts = collections.Create(project, posts, "test");
    INFO((created_posts ? std::string() : created_posts.error().message));
    REQUIRE(created_posts);

    domain::Collection notes;
    notes.name = "notes";
    domain::Field secret = NewField("secret", domain::FieldType::kText);
    secret.hidden = true;
    notes.fields = {NewField("text", domain::FieldType::kText), secret};
    auto created_notes = collections.Create(project, notes, "test");
    INFO((created_notes ? std::string() : created_notes.error().message));
    REQUIRE(created_notes);
  }

  HttpReply Send(std::string_view method, std::string_view target, std::string body = {},
                 Headers headers = {}) {
    return socle::testing::Fetch(server.port(), method, target, std::move(body),
                                 std::move(headers));
  }
  // With `Authorization: Bearer <credential>`.
  HttpReply Bearer(std::string_view credential, std::string_view method, std::string_view target,
                   std::string body = {}) {
    return Send(method, target, std::move(body),
                {{"Authorization", "Bearer " + std::string(credential)}});
  }
  // With `X-API-Key: <key>`.
  HttpReply ApiKey(std::string_view key, std::string_view method, std::string_view target,
                   std::string body = {}) {
    return Send(method, target, std::move(body), {{"X-API-Key", std::string(key)}});
  }

  std::string Token(std::string_view collection, std::string_view identity,
                    std::string_view password, std::string_view project = "shop") {
    auto reply = Send("POST",
                      "/p/" + std::string(project) + "/api/collections/" +
                          std::string(collection) + "/auth-with-password",
                      Body({{"identity", identity}, {"password", password}}));
    INFO(reply.body);
    REQUIRE(reply.status == 200);
    return Text(Json(reply), {"token"});
  }

  std::string CreateUser(std::string_view email, std::string_view password) {
    auto reply = Send("POST", kUsers,
                      Body({{"email", email}, {"password", password}, {"passwordConfirm", password}}));
    INFO(reply.body);
    REQUIRE(reply.status == 200);
    return Text(Json(reply), {"id"});
  }

  std::string MustPost(std::string_view token, std::string_view title, std::string_view author) {
    auto reply = Bearer(token, "POST", kPosts, Body({{"title", title}, {"author", author}}));
    INFO(reply.body);
    REQUIRE(reply.status == 200);
    return Text(Json(reply), {"id"});
  }

  std::string MustInsert(std::string_view collection, JsonValue body) {
    application::Caller root;
    root.superuser = true;
    application::RecordWriteInput input;
    input.body = std::move(body);
    auto created = records.Create("shop", collection, std::move(input), root);
    REQUIRE(created);
    return created->record.record.Id(*created->record.collection);
  }

  std::string MustKey(std::vector<std::string> scopes, std::string_view project = "shop",
                      std::optional<domain::Timestamp> expires = std::nullopt) {
    auto made = api_keys.Create(project, "test key", scopes, expires);
    INFO((made ? std::string() : made.error().message));
    REQUIRE(made);
    key_ids.push_back(made->info.id);
    return made->secret;
  }

  // How many records of `collection` of shop exist, counted past the API.
  std::int64_t Count(std::string_view collection) {
    application::Caller root;
    root.superuser = true;
    auto list = records.List("shop", collection, {}, root);
    REQUIRE(list);
    return list->total_items;
  }

  socle::adapters::memory::MemoryCatalogueStore catalogue;
  socle::adapters::memory::MemoryProjectStores stores;
  socle::testing::ManualClock clock;
  socle::testing::SeededRandomSource random;
  application::PlatformStore platform{stores, clock};
  crypto::Argon2PasswordHasher hasher{MakeHasher(random)};
  crypto::SecretBox box{MakeBox(random)};
  crypto::Ed25519TokenSigner signer;
  application::ManageSigningKeys keys{platform, signer, box, clock, random};
  application::ManageSuperusers superusers{platform, hasher, clock, random};
  domain::LoginThrottle throttle;
  application::ProjectDirectory directory{catalogue, stores, clock};
  application::ManageOrganisations orgs{catalogue, clock, random, &directory};
  application::ManageProjects projects{catalogue, clock, random, &directory};
  application::ManageCollections collections{directory, clock, random};
  application::ManageSettings settings{directory, catalogue, clock};
  application::ManageRecords records{directory, clock, random, {}, &settings, Passwords(hasher)};
  application::Authenticate authenticate{directory, platform, signer,  hasher,
                                         clock,     random,   throttle};
  application::ManageApiKeys api_keys{directory, platform, signer, clock, random};
  http::ProjectDataApi api{collections, records, settings,
                           http::TokenIdentifier(authenticate, &api_keys)};
  socle::testing::TestServer server{Options(), &catalogue};

  std::string alice_id, bob_id, alice_token, alice_post, bob_post, note;
  std::vector<std::string> key_ids;
};

void CheckExact(const HttpReply& reply, int status, const std::string& body) {
  INFO(reply.body);
  CHECK(reply.status == status);
  CHECK(reply.body == body);
}

}  // namespace

TEST_CASE("api keys over HTTP: Bearer and X-API-Key both prove the key",
          "[http][apikeys]") {
  KeysWorld w;
  const std::string key = w.MustKey({"posts:read", "notes:read"});
  const std::vector<std::string> both = Sorted({w.alice_post, w.bob_post});

  // Rules bypassed: every user's posts, and the superusers-only notes with their hidden field.
  auto bearer = w.Bearer(key, "GET", kPosts);
  INFO(bearer.body);
  REQUIRE(bearer.status == 200);
  CHECK(ItemIds(bearer) == both);
  auto header = w.ApiKey(key, "GET", kPosts);
  REQUIRE(header.status == 200);
  CHECK(ItemIds(header) == both);
  // The SDKs' bare Authorization and a lower-case scheme are the same credential.
  auto bare = w.Send("GET", kPosts, {}, {{"Authorization", key}});
  REQUIRE(bare.status == 200);
  CHECK(ItemIds(bare) == both);
  CHECK(w.Send("GET", kPosts, {}, {{"Authorization", "bearer " + key}}).status == 200);

  auto note = w.ApiKey(key, "GET", std::string(kNotes) + "/" + w.note);
  INFO(note.body);
  REQUIRE(note.status == 200);
  CHECK(Text(Json(note), {"secret"}) == "hush");
  // Without the key, the notes are the superusers' and the posts are each user's own.
  CHECK(w.Send("GET", kNotes).status == 403);
  CHECK(w.Send("GET", kPosts).status == 200);
  CHECK(ItemIds(w.Send("GET", kPosts)).empty());
}

TEST_CASE("api keys over HTTP: a key within its scopes writes", "[http][apikeys]") {
  KeysWorld w;
  const std::string key = w.MustKey({"posts:all"});
  // The create rule wants an authenticated author; a key needs none.
  auto created = w.ApiKey(key, "POST", kPosts, Body({{"title", "by the key"}}));
  INFO(created.body);
  REQUIRE(created.status == 200);
  const std::string id = Text(Json(created), {"id"});
  auto updated = w.Bearer(key, "PATCH", std::string(kPosts) + "/" + id, Body({{"title", "edited"}}));
  INFO(updated.body);
  REQUIRE(updated.status == 200);
  CHECK(Text(Json(updated), {"title"}) == "edited");
  // Another user's post, which the rules would hide from anyone but its author.
  auto foreign = w.ApiKey(key, "PATCH", std::string(kPosts) + "/" + w.bob_post,
                          Body({{"title", "moderated"}}));
  INFO(foreign.body);
  CHECK(foreign.status == 200);
  CHECK(w.ApiKey(key, "DELETE", std::string(kPosts) + "/" + id).status == 204);
  CHECK(w.Count("posts") == 2);
}

TEST_CASE("api keys over HTTP: a wrong key is 401 and says only that", "[http][apikeys]") {
  KeysWorld w;
  const std::string key = w.MustKey({"posts:read"});
  std::string wrong = key;
  wrong.back() = wrong.back() == 'a' ? 'b' : 'a';
  for (const std::string& bad :
       {wrong, "sk_" + std::string(50, 'x'), std::string("sk_short"), key + "0",
        "sk_" + std::string(300, 'y')}) {
    INFO(bad);
    CheckExact(w.Bearer(bad, "GET", kPosts), 401, kBadKey);
    CheckExact(w.ApiKey(bad, "GET", kPosts), 401, kBadKey);
    CheckExact(w.Send("GET", kPosts, {}, {{"Authorization", bad}}), 401, kBadKey);
  }
  // Not a key at all: a token, refused as one.
  CheckExact(w.Bearer("not-a-token", "GET", kPosts), 401, kBadToken);
  // Never a guest's answer for a bad key, even where a guest is welcome.
  CheckExact(w.Bearer(wrong, "POST", kUsers,
                      Body({{"email", "eve@example.com"},
                            {"password", "orchid-Signal-91-basin"},
                            {"passwordConfirm", "orchid-Signal-91-basin"}})),
             401, kBadKey);
  CHECK(w.Count("users") == 2);
}

TEST_CASE("api keys over HTTP: revoked, expired and foreign keys are 401", "[http][apikeys]") {
  KeysWorld w;
  const std::string revoked = w.MustKey({"posts:read"});
  const std::string expiring = w.MustKey(
      {"posts:read"}, "shop",
      domain::Timestamp::FromUnixMicros(w.clock.Now().unix_micros() + kDay));
  const std::string theirs = w.MustKey({"*:all"}, "other");

  REQUIRE(w.Bearer(revoked, "GET", kPosts).status == 200);
  REQUIRE(w.api_keys.Revoke("shop", w.key_ids[0]));
  CheckExact(w.Bearer(revoked, "GET", kPosts), 401, kBadKey);
  CheckExact(w.ApiKey(revoked, "GET", kPosts), 401, kBadKey);

  REQUIRE(w.ApiKey(expiring, "GET", kPosts).status == 200);
  w.clock.Advance(kDay);
  CheckExact(w.ApiKey(expiring, "GET", kPosts), 401, kBadKey);
  CheckExact(w.Bearer(expiring, "GET", kPosts), 401, kBadKey);

  // A key of "other" opens nothing in "shop", whatever its scopes, and works at home.
  CheckExact(w.Bearer(theirs, "GET", kPosts), 401, kBadKey);
  CheckExact(w.ApiKey(theirs, "DELETE", std::string(kPosts) + "/" + w.alice_post), 401, kBadKey);
  CHECK(w.Count("posts") == 2);
  CHECK(w.Bearer(theirs, "GET", "/p/other/api/collections/posts/records").status == 200);
}

TEST_CASE("api keys over HTTP: out of scope is 403", "[http][apikeys]") {
  KeysWorld w;
  const std::string key = w.MustKey({"posts:read"});
  CheckExact(w.ApiKey(key, "POST", kPosts, Body({{"title", "x"}})), 403, kOutOfScope);
  CheckExact(w.ApiKey(key, "PATCH", std::string(kPosts) + "/" + w.alice_post,
                      Body({{"title", "x"}})),
             403, kOutOfScope);
  CheckExact(w.Bearer(key, "DELETE", std::string(kPosts) + "/" + w.alice_post), 403, kOutOfScope);
  CheckExact(w.Bearer(key, "GET", kUsers), 403, kOutOfScope);
  CheckExact(w.Bearer(key, "GET", std::string(kUsers) + "/" + w.alice_id), 403, kOutOfScope);
  CheckExact(w.Bearer(key, "GET", kNotes), 403, kOutOfScope);
  CHECK(w.Count("posts") == 2);

  // The author is not expanded: users are outside the key's scopes.
  auto expanded = w.Bearer(key, "GET", std::string(kPosts) + "?expand=author");
  INFO(expanded.body);
  REQUIRE(expanded.status == 200);
  CHECK(expanded.body.find(std::string(kAlice)) == std::string::npos);
  CHECK(expanded.body.find("\"expand\":{\"author\"") == std::string::npos);
  const std::string with_users = w.MustKey({"posts:read", "users:view"});
  auto allowed = w.Bearer(with_users, "GET",
                          std::string(kPosts) + "/" + w.alice_post + "?expand=author");
  INFO(allowed.body);
  REQUIRE(allowed.status == 200);
  CHECK(Text(Json(allowed), {"expand", "author", "id"}) == w.alice_id);
}

TEST_CASE("api keys over HTTP: a batch with an operation out of scope writes nothing",
          "[http][apikeys]") {
  KeysWorld w;
  const std::string key = w.MustKey({"posts:create"});
  const std::string batch =
      R"({"requests":[)"
      R"({"method":"POST","url":"/api/collections/posts/records","body":{"title":"b1"}},)"
      R"({"method":"DELETE","url":"/api/collections/posts/records/)" +
      w.alice_post + R"("}]})";
  auto failed = w.ApiKey(key, "POST", "/p/shop/api/batch", batch);
  INFO(failed.body);
  CHECK(failed.status == 400);
  const JsonValue body = Json(failed);
  CHECK(Text(body, {"data", "requests", "1", "code"}) == "batch_request_failed");
  CHECK(Number(body, {"data", "requests", "1", "response", "status"}) == 403);
  CHECK(Text(body, {"data", "requests", "1", "response", "message"}) ==
        "The API key does not allow this action on this collection.");
  CHECK(w.Count("posts") == 2);

  const std::string ok =
      R"({"requests":[)"
      R"({"method":"POST","url":"/api/collections/posts/records","body":{"title":"b1"}},)"
      R"({"method":"POST","url":"/api/collections/posts/records","body":{"title":"b2"}}]})";
  auto done = w.ApiKey(key, "POST", "/p/shop/api/batch", ok);
  INFO(done.body);
  CHECK(done.status == 200);
  CHECK(w.Count("posts") == 4);
}

TEST_CASE("api keys over HTTP: keys never manage collections or settings", "[http][apikeys]") {
  KeysWorld w;
  const std::string key = w.MustKey({"*:all"});
  const std::string collection_body =
      R"({"name":"extra","type":"base","fields":[{"name":"t","type":"text"}]})";
  const struct {
    std::string_view method;
    std::string target;
    std::string body;
  } routes[] = {
      {"GET", "/p/shop/api/collections", ""},
      {"POST", "/p/shop/api/collections", collection_body},
      {"GET", "/p/shop/api/collections/posts", ""},
      {"PATCH", "/p/shop/api/collections/posts", R"({"listRule":""})"},
      {"DELETE", "/p/shop/api/collections/notes", ""},
      {"PUT", "/p/shop/api/collections/import", R"({"collections":[],"deleteMissing":true})"},
      {"GET", "/p/shop/api/settings", ""},
      {"PATCH", "/p/shop/api/settings", R"({"batch":{"enabled":false}})"},
  };
  for (const auto& route : routes) {
    INFO(route.method << " " << route.target);
    for (const HttpReply& reply : {w.Bearer(key, route.method, route.target, route.body),
                                   w.ApiKey(key, route.method, route.target, route.body)}) {
      INFO(reply.body);
      CHECK(reply.status == 403);
      const JsonValue body = Json(reply);
      CHECK(Number(body, {"status"}) == 403);
      CHECK(Text(body, {"message"}).find("API keys cannot manage") != std::string::npos);
      CHECK(reply.body.find(key) == std::string::npos);
    }
  }
  // Nothing changed: the superuser still sees every collection, notes included, with its rule.
  const std::string root = w.Token("_superusers", kRootEmail, kRootPassword);
  auto listed = w.Bearer(root, "GET", "/p/shop/api/collections/notes");
  INFO(listed.body);
  REQUIRE(listed.status == 200);
  auto posts = w.Bearer(root, "GET", "/p/shop/api/collections/posts");
  CHECK(Text(Json(posts), {"listRule"}) == "author = @request.auth.id");
  auto collections = w.Bearer(root, "GET", "/p/shop/api/collections");
  REQUIRE(collections.status == 200);
  CHECK(collections.body.find("\"extra\"") == std::string::npos);
  auto settings = w.Bearer(root, "GET", "/p/shop/api/settings");
  REQUIRE(settings.status == 200);
  const JsonValue settings_json = Json(settings);  // kept alive: At points into it
  const JsonValue* enabled = At(settings_json, {"batch", "enabled"});
  REQUIRE(enabled != nullptr);
  CHECK(enabled->AsBool());
  // A revoked or wrong key there is 401, as anywhere.
  std::string wrong = key;
  wrong.back() = wrong.back() == 'a' ? 'b' : 'a';
  CheckExact(w.Bearer(wrong, "GET", "/p/shop/api/collections"), 401, kBadKey);
}

TEST_CASE("api keys over HTTP: user and superuser tokens keep working beside keys",
          "[http][apikeys]") {
  KeysWorld w;
  const std::string key = w.MustKey({"*:read"});
  auto alice = w.Bearer(w.alice_token, "GET", kPosts);
  REQUIRE(alice.status == 200);
  CHECK(ItemIds(alice) == std::vector<std::string>{w.alice_post});
  auto keyed = w.Bearer(key, "GET", kPosts);
  REQUIRE(keyed.status == 200);
  CHECK(ItemIds(keyed) == Sorted({w.alice_post, w.bob_post}));
  // A user's own write, under the rules, as before.
  auto created = w.Bearer(w.alice_token, "POST", kPosts,
                          Body({{"title", "again"}, {"author", w.alice_id}}));
  INFO(created.body);
  CHECK(created.status == 200);
  // Their token in Authorization wins over a key in X-API-Key: the rules apply.
  auto both = w.Send("GET", kPosts, {},
                     {{"Authorization", w.alice_token}, {"X-API-Key", key}});
  REQUIRE(both.status == 200);
  const std::vector<std::string> hers = ItemIds(both);
  CHECK(hers.size() == 2);
  CHECK(std::find(hers.begin(), hers.end(), w.alice_post) != hers.end());
  CHECK(std::find(hers.begin(), hers.end(), w.bob_post) == hers.end());

  const std::string root = w.Token("_superusers", kRootEmail, kRootPassword);
  CHECK(w.Bearer(root, "GET", "/p/shop/api/collections").status == 200);
  // A key is not a session: auth-refresh does not turn it into a token.
  CheckExact(w.Bearer(key, "POST", "/p/shop/api/collections/users/auth-refresh"), 401,
             kBadToken);
}

TEST_CASE("api keys over HTTP: the keys themselves are out of every project's reach",
          "[http][apikeys]") {
  KeysWorld w;
  const std::string key = w.MustKey({"*:all"});
  // The keys live in the platform store, which is no project.
  auto in_shop = w.Bearer(key, "GET", "/p/shop/api/collections/_apiKeys/records");
  INFO(in_shop.body);
  CHECK(in_shop.status == 404);
  CHECK(in_shop.body.find(key.substr(0, 12)) == std::string::npos);
  const std::string root = w.Token("_superusers", kRootEmail, kRootPassword);
  auto as_root = w.Bearer(root, "GET", "/p/shop/api/collections/_apiKeys/records");
  CHECK(as_root.status == 404);
  auto platform = w.Bearer(root, "GET", "/p/platform/api/collections/_apiKeys/records");
  INFO(platform.body);
  CHECK(platform.status == 404);
  CHECK(platform.body.find(key.substr(0, 12)) == std::string::npos);
}

TEST_CASE("api keys over HTTP: each accepted request is one use", "[http][apikeys]") {
  KeysWorld w;
  const std::string key = w.MustKey({"posts:read"});
  for (int i = 0; i < 3; ++i) REQUIRE(w.ApiKey(key, "GET", kPosts).status == 200);
  std::string wrong = key;
  wrong.back() = wrong.back() == 'a' ? 'b' : 'a';
  REQUIRE(w.ApiKey(wrong, "GET", kPosts).status == 401);
  REQUIRE(w.api_keys.Flush());
  auto listed = w.api_keys.List("shop");
  REQUIRE(listed);
  REQUIRE(listed->size() == 1);
  CHECK(listed->front().uses == 3);
  REQUIRE(listed->front().last_used);
  CHECK(*listed->front().last_used == w.clock.Now());
}
