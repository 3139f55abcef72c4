// Authentication of the project data API end to end: the in-process server on port 0 wired as
// socle-server wires it (Argon2id at the default policy, Ed25519 tokens whose keys are sealed
// with a SecretBox, a LoginThrottle with the default options, every caller identified by the
// token it presents), over the memory stores and a clock the tests move. Organisation "acme"
// has two projects, "shop" and "other"; each has the auth collections `users` (the same id in
// both, as PocketBase's default users collection has) and `admins`, and a base collection
// `posts` whose rules name @request.auth.id. The platform has one superuser.
//
// Every answer is checked for its status, its PocketBase-shaped body and what it must not
// reveal: password hashes, tokenKeys, whether an account exists, why a token was refused.
#include <catch2/catch.hpp>

#include <arpa/inet.h>
#include <netinet/in.h>
#include <sys/socket.h>
#include <sys/time.h>
#include <unistd.h>

#include <algorithm>
#include <array>
#include <cctype>
#include <chrono>
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
#include "socle/adapters/crypto/digest.hpp"
#include "socle/adapters/crypto/ed25519_token_signer.hpp"
#include "socle/adapters/crypto/secret_box.hpp"
#include "socle/adapters/http/json_object_reader.hpp"
#include "socle/adapters/http/project_data_api.hpp"
#include "socle/adapters/http/setup_api.hpp"
#include "socle/adapters/json/json_writer.hpp"
#include "socle/adapters/memory/memory_catalogue_store.hpp"
#include "socle/adapters/memory/memory_project_store.hpp"
#include "socle/application/authenticate.hpp"
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
#include "socle/domain/token_claims.hpp"
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
// The id PocketBase gives every project's default users collection: the same in "shop" and
// "other", so that only the audience tells their tokens apart.
constexpr std::string_view kUsersId = "_pb_users_auth_";
constexpr std::string_view kSetupToken =
    "5e7f0c1d2b3a49586776859a4b3c2d1e0f1e2d3c4b5a69788796a5b4c3d2e1f0";
// A fixed master key: the signing keys are sealed with it as in production.
constexpr std::array<std::uint8_t, 32> kMasterKey = {
    0x10, 0x21, 0x32, 0x43, 0x54, 0x65, 0x76, 0x87, 0x98, 0xa9, 0xba, 0xcb, 0xdc, 0xed, 0xfe, 0x0f,
    0x1f, 0x2e, 0x3d, 0x4c, 0x5b, 0x6a, 0x79, 0x88, 0x97, 0xa6, 0xb5, 0xc4, 0xd3, 0xe2, 0xf1, 0x00};

constexpr std::int64_t kMicros = 1'000'000;
constexpr std::int64_t kUserTokenSeconds = 604800;
constexpr std::int64_t kSuperuserTokenSeconds = 86400;
// Longer than any lock of the default throttle (max_failure_wait), shorter than the time after
// which it forgets failures (max_delta_time): moving the clock by this lifts every lock and
// keeps every count.
constexpr std::int64_t kPastAnyLock = 901;

// The answers whose exact text the tests pin: the same for every cause they cover.
const std::string kBadToken =
    R"({"status":401,"message":"The request requires valid record authorization token.",)"
    R"("data":{}})";
const std::string kFailedSignIn = R"({"status":400,"message":"Failed to authenticate.","data":{}})";
const std::string kLocked =
    R"({"status":429,"message":"Too many failed attempts; try again later.","data":{}})";

// --- JSON

JsonValue Json(const HttpReply& reply) {
  INFO(reply.body);
  auto parsed = http::ParseJson(reply.body);
  REQUIRE(parsed);
  return *parsed;
}

JsonValue ParseText(std::string_view text) {
  INFO(text);
  auto parsed = http::ParseJson(text);
  REQUIRE(parsed);
  return *parsed;
}

// The value at a path of member names (array items by index), or nullptr.
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

std::optional<bool> Flag(const JsonValue& value, std::initializer_list<std::string_view> path) {
  const JsonValue* found = At(value, path);
  if (found == nullptr || found->type() != JsonValue::Type::kBool) return std::nullopt;
  return found->AsBool();
}

std::set<std::string> Keys(const JsonValue& object) {
  std::set<std::string> keys;
  for (const auto& [key, value] : object.members()) keys.insert(key);
  return keys;
}

// A JSON object of string members, as a client would send it.
std::string Body(std::initializer_list<std::pair<std::string_view, std::string_view>> members) {
  json::JsonWriter w;
  w.BeginObject();
  for (const auto& [key, value] : members) w.Key(key).String(value);
  w.EndObject();
  return std::move(w).Take();
}

// The value with member `key` replaced (or added).
JsonValue Replaced(const JsonValue& object, std::string_view key, JsonValue value) {
  std::vector<JsonValue::Member> members;
  bool replaced = false;
  for (const auto& [name, member] : object.members()) {
    if (name == key) {
      members.emplace_back(name, value);
      replaced = true;
    } else {
      members.emplace_back(name, member);
    }
  }
  if (!replaced) members.emplace_back(std::string(key), std::move(value));
  return JsonValue::Object(std::move(members));
}

// Checks PocketBase's error shape: {status, message, data} and nothing else.
void CheckErrorShape(const HttpReply& reply, int status) {
  INFO(reply.body);
  CHECK(reply.status == status);
  const JsonValue body = Json(reply);
  CHECK(Keys(body) == std::set<std::string>{"status", "message", "data"});
  CHECK(Number(body, {"status"}) == status);
  CHECK_FALSE(Text(body, {"message"}).empty());
  REQUIRE(body.Find("data") != nullptr);
  CHECK(body.Find("data")->IsObject());
}

// --- JWTs, read and forged as an attacker would

struct Jwt {
  std::string header_b64;
  std::string payload_b64;
  std::string signature_b64;
  JsonValue header;
  JsonValue payload;
};

std::string FromB64(std::string_view text) {
  auto bytes = crypto::FromBase64Url(text);
  INFO(text);
  REQUIRE(bytes);
  return std::string(bytes->begin(), bytes->end());
}

std::string ToB64(std::string_view text) { return crypto::ToBase64Url(crypto::AsBytes(text)); }

Jwt Decode(std::string_view token) {
  INFO(token);
  const std::size_t first = token.find('.');
  REQUIRE(first != std::string_view::npos);
  const std::size_t second = token.find('.', first + 1);
  REQUIRE(second != std::string_view::npos);
  REQUIRE(token.find('.', second + 1) == std::string_view::npos);
  Jwt jwt;
  jwt.header_b64 = std::string(token.substr(0, first));
  jwt.payload_b64 = std::string(token.substr(first + 1, second - first - 1));
  jwt.signature_b64 = std::string(token.substr(second + 1));
  jwt.header = ParseText(FromB64(jwt.header_b64));
  jwt.payload = ParseText(FromB64(jwt.payload_b64));
  return jwt;
}

std::string Segment(const JsonValue& value) {
  json::JsonWriter w;
  w.Value(value);
  return ToB64(w.str());
}

// The claims a token carries, as the signer's port spells them.
domain::TokenClaims ClaimsOf(const Jwt& jwt) {
  domain::TokenClaims claims;
  claims.iss = Text(jwt.payload, {"iss"});
  claims.sub = Text(jwt.payload, {"sub"});
  claims.aud = Text(jwt.payload, {"aud"});
  claims.jti = Text(jwt.payload, {"jti"});
  claims.collection_id = Text(jwt.payload, {"collectionId"});
  claims.type = Text(jwt.payload, {"type"});
  claims.iat = domain::Timestamp::FromUnixMicros(Number(jwt.payload, {"iat"}) * kMicros);
  claims.exp = domain::Timestamp::FromUnixMicros(Number(jwt.payload, {"exp"}) * kMicros);
  claims.key_binding = Text(jwt.payload, {"tkh"});
  return claims;
}

// --- HTTP from a chosen loopback address

// Closes a socket on every way out, REQUIRE failures included.
struct Socket {
  int fd = -1;
  ~Socket() {
    if (fd >= 0) ::close(fd);
  }
};

// One request on a fresh connection made from `source` (any 127.0.0.0/8 address: Linux's
// loopback interface answers them all), so that the server sees distinct client addresses, as
// the throttle's per-address keys need.
HttpReply FetchFrom(std::string_view source, std::uint16_t port, std::string_view method,
                    std::string_view target, const std::string& body = {},
                    const Headers& headers = {}) {
  Socket s;
  s.fd = ::socket(AF_INET, SOCK_STREAM, 0);
  REQUIRE(s.fd >= 0);
  timeval timeout{};
  timeout.tv_sec = 10;
  REQUIRE(::setsockopt(s.fd, SOL_SOCKET, SO_RCVTIMEO, &timeout, sizeof timeout) == 0);
  sockaddr_in local{};
  local.sin_family = AF_INET;
  local.sin_port = 0;
  REQUIRE(::inet_pton(AF_INET, std::string(source).c_str(), &local.sin_addr) == 1);
  REQUIRE(::bind(s.fd, reinterpret_cast<const sockaddr*>(&local), sizeof local) == 0);
  sockaddr_in remote{};
  remote.sin_family = AF_INET;
  remote.sin_port = htons(port);
  REQUIRE(::inet_pton(AF_INET, "127.0.0.1", &remote.sin_addr) == 1);
  REQUIRE(::connect(s.fd, reinterpret_cast<const sockaddr*>(&remote), sizeof remote) == 0);

  std::string request = std::string(method) + " " + std::string(target) +
                        " HTTP/1.1\r\nHost: 127.0.0.1\r\nConnection: close\r\n";
  bool typed = false;
  for (const auto& [name, value] : headers) {
    request += name + ": " + value + "\r\n";
    std::string lower = name;
    std::transform(lower.begin(), lower.end(), lower.begin(),
                   [](unsigned char c) { return static_cast<char>(std::tolower(c)); });
    typed = typed || lower == "content-type";
  }
  if (!body.empty() && !typed) request += "Content-Type: application/json\r\n";
  request += "Content-Length: " + std::to_string(body.size()) + "\r\n\r\n" + body;
  std::size_t sent = 0;
  while (sent < request.size()) {
    const ssize_t n = ::send(s.fd, request.data() + sent, request.size() - sent, MSG_NOSIGNAL);
    REQUIRE(n > 0);
    sent += static_cast<std::size_t>(n);
  }
  std::string received;
  std::array<char, 4096> buffer{};
  for (;;) {
    const ssize_t n = ::recv(s.fd, buffer.data(), buffer.size(), 0);
    REQUIRE(n >= 0);  // a timeout is a failure: the server must answer and close
    if (n == 0) break;
    received.append(buffer.data(), static_cast<std::size_t>(n));
  }
  auto replies = socle::testing::ParseResponses(received);
  INFO(received);
  REQUIRE(replies.size() == 1);
  return replies.front();
}

// The headers of a reply but those that differ between any two answers.
std::vector<std::pair<std::string, std::string>> StableHeaders(const HttpReply& reply) {
  std::vector<std::pair<std::string, std::string>> out;
  for (const auto& header : reply.headers) {
    if (header.first == "date" || header.first == "x-request-id") continue;
    out.push_back(header);
  }
  std::sort(out.begin(), out.end());
  return out;
}

std::int64_t RetryAfter(const HttpReply& reply) {
  INFO(reply.body);
  REQUIRE(reply.HasHeader("retry-after"));
  const std::string text = reply.Header("retry-after");
  REQUIRE_FALSE(text.empty());
  REQUIRE(std::all_of(text.begin(), text.end(), [](char c) { return c >= '0' && c <= '9'; }));
  return std::stoll(text);
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

// The members are declared in construction order: the use cases reference the stores and the
// ports, the API the use cases, and the server (last, so stopped first) the API.
struct AuthWorld {
  explicit AuthWorld(bool with_superuser = true) {
    REQUIRE(orgs.Create({"acme", std::nullopt, std::nullopt, std::nullopt}));
    auto shop = projects.Create({"shop", "acme", std::nullopt});
    REQUIRE(shop);
    shop_id = shop->id.str();
    auto other = projects.Create({"other", "acme", std::nullopt});
    REQUIRE(other);
    other_id = other->id.str();
    REQUIRE(keys.Load());  // the first signing key, as at a first start
    if (with_superuser) {
      auto root = superusers.Upsert(kRootEmail, kRootPassword);
      REQUIRE(root);
      root_id = root->id;
    }
    for (std::string_view project : {"shop", "other"}) CreateCollections(project);
    api.ServeAuthentication(authenticate, signer);
    REQUIRE(api.Register(server.router));
    REQUIRE(setup.Register(server.router));
    server.Start();
    alice_id = CreateUser("shop", kAlice, kAlicePassword);
    bob_id = CreateUser("shop", kBob, kBobPassword);
  }

  // users: PocketBase's defaults for its users collection (sign-up open, each user sees and
  // changes only their own record); admins: superusers only; posts: each user's own.
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

    domain::Collection admins;
    admins.name = "admins";
    admins.type = domain::CollectionType::kAuth;
    auto created_admins = collections.Create(project, admins, "test");
    INFO((created_admins ? std::string() : created_admins.error().message));
    REQUIRE(created_admins);
    if (project == "shop") admins_id = created_admins->id;

    domain::Collection posts;
    posts.name = "posts";
    domain::Field author = NewField("author", domain::FieldType::kRelation);
    author.collection_id = std::string(kUsersId);
    author.max_select = 1;
    posts.fields = {NewField("title", domain::FieldType::kText), author};
    posts.rules.list = "author = @request.auth.id";
    posts.rules.view = "author = @request.auth.id";
    posts.rules.create = R"(@request.auth.id != "" && author = @request.auth.id)";
    auto created_posts = collections.Create(project, posts, "test");
    INFO((created_posts ? std::string() : created_posts.error().message));
    REQUIRE(created_posts);
  }

  HttpReply Send(std::string_view method, std::string_view target, std::string body = {},
                 Headers headers = {}) {
    return socle::testing::Fetch(server.port(), method, target, std::move(body),
                                 std::move(headers));
  }
  // A request carrying `token` the way the PocketBase SDKs send it: bare.
  HttpReply With(std::string_view token, std::string_view method, std::string_view target,
                 std::string body = {}) {
    return Send(method, target, std::move(body), {{"Authorization", std::string(token)}});
  }

  HttpReply SignIn(std::string_view project, std::string_view collection, std::string_view identity,
                   std::string_view password, std::string_view source = "127.0.0.1") {
    return FetchFrom(source, server.port(), "POST",
                     "/p/" + std::string(project) + "/api/collections/" + std::string(collection) +
                         "/auth-with-password",
                     Body({{"identity", identity}, {"password", password}}));
  }
  std::string Token(std::string_view project, std::string_view collection,
                    std::string_view identity, std::string_view password) {
    auto reply = SignIn(project, collection, identity, password);
    INFO(reply.body);
    REQUIRE(reply.status == 200);
    return Text(Json(reply), {"token"});
  }

  // Signs a user up as a guest does, through the records API; returns the record's id.
  std::string CreateUser(std::string_view project, std::string_view email,
                         std::string_view password) {
    auto reply =
        Send("POST", "/p/" + std::string(project) + "/api/collections/users/records",
             Body({{"email", email}, {"password", password}, {"passwordConfirm", password}}));
    INFO(reply.body);
    REQUIRE(reply.status == 200);
    return Text(Json(reply), {"id"});
  }

  // A text field of a stored record, read past the API (hidden fields included): `project`
  // "" names the platform store (superusers).
  std::string Stored(std::string_view project, std::string_view collection, std::string_view id,
                     std::string_view field) {
    std::shared_ptr<application::ProjectStore> store;
    if (project.empty()) {
      auto platform_store = platform.Store();
      REQUIRE(platform_store);
      store = *platform_store;
    } else {
      auto entry = directory.Find(project);
      REQUIRE(entry);
      store = entry->store;
    }
    auto schema = store->Schema();
    REQUIRE(schema);
    const domain::Collection* coll = (*schema)->Find(collection);
    if (coll == nullptr) coll = (*schema)->FindById(collection);
    REQUIRE(coll != nullptr);
    auto record = store->Get(*coll, id, nullptr);
    REQUIRE(record);
    REQUIRE(record->has_value());
    auto index = coll->FieldIndex(field);
    REQUIRE(index);
    const JsonValue& value = (**record).values[*index];
    REQUIRE(value.type() == JsonValue::Type::kString);
    return value.AsString();
  }

  std::string Audience(std::string_view project_id) const {
    return "project:" + std::string(project_id);
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
  http::ProjectDataApi api{collections, records, settings, http::TokenIdentifier(authenticate)};
  http::SetupApi setup{
      superusers, clock, std::string(kSetupToken),
      domain::Timestamp::FromUnixMicros(clock.Now().unix_micros() + 3600 * kMicros)};
  socle::testing::TestServer server{Options(), &catalogue};

  std::string shop_id;
  std::string other_id;
  std::string root_id;
  std::string admins_id;  // of "shop"
  std::string alice_id;
  std::string bob_id;
};

constexpr std::string_view kPosts = "/p/shop/api/collections/posts/records";
constexpr std::string_view kUsers = "/p/shop/api/collections/users/records";

// The ids of the records a list answered with.
std::vector<std::string> ItemIds(const HttpReply& reply) {
  std::vector<std::string> ids;
  const JsonValue body = Json(reply);
  const JsonValue* items = body.Find("items");
  REQUIRE(items != nullptr);
  for (const auto& item : items->items()) ids.push_back(Text(item, {"id"}));
  return ids;
}

// Checks that a body holding an auth record shows none of its secrets.
void CheckNoSecrets(const HttpReply& reply, const std::string& token_key, const std::string& hash) {
  INFO(reply.body);
  CHECK(reply.body.find("\"password\"") == std::string::npos);
  CHECK(reply.body.find("\"passwordConfirm\"") == std::string::npos);
  CHECK(reply.body.find("\"oldPassword\"") == std::string::npos);
  CHECK(reply.body.find("\"tokenKey\"") == std::string::npos);
  CHECK(reply.body.find("$argon2") == std::string::npos);
  CHECK(reply.body.find(token_key) == std::string::npos);
  CHECK(reply.body.find(hash) == std::string::npos);
}

}  // namespace

TEST_CASE("auth API: auth-with-password answers a token and the caller's own record, no secret",
          "[http][auth]") {
  AuthWorld w;
  const std::string token_key = w.Stored("shop", "users", w.alice_id, "tokenKey");
  const std::string hash = w.Stored("shop", "users", w.alice_id, "password");
  REQUIRE(hash.starts_with("$argon2id$"));

  auto reply = w.SignIn("shop", "users", kAlice, kAlicePassword);
  INFO(reply.body);
  REQUIRE(reply.status == 200);
  CHECK(reply.Header("content-type").starts_with("application/json"));
  const JsonValue body = Json(reply);
  CHECK(Keys(body) == std::set<std::string>{"token", "record"});
  CHECK(Text(body, {"record", "id"}) == w.alice_id);
  CHECK(Text(body, {"record", "collectionId"}) == kUsersId);
  CHECK(Text(body, {"record", "collectionName"}) == "users");
  CHECK(Text(body, {"record", "email"}) == kAlice);  // their own, though emailVisibility is off
  CHECK(Flag(body, {"record", "emailVisibility"}) == false);
  CHECK(Flag(body, {"record", "verified"}) == false);
  CheckNoSecrets(reply, token_key, hash);

  const std::string token = Text(body, {"token"});
  const Jwt jwt = Decode(token);
  CHECK(Keys(jwt.header) == std::set<std::string>{"alg", "typ", "kid"});
  CHECK(Text(jwt.header, {"alg"}) == "EdDSA");
  CHECK(Text(jwt.header, {"typ"}) == "JWT");
  CHECK(Text(jwt.header, {"kid"}) == w.signer.CurrentKeyId());
  CHECK_FALSE(w.signer.CurrentKeyId().empty());
  CHECK(Text(jwt.payload, {"aud"}) == w.Audience(w.shop_id));
  CHECK(Text(jwt.payload, {"iss"}) == "socle");
  CHECK(Text(jwt.payload, {"type"}) == "auth");
  CHECK(Text(jwt.payload, {"collectionId"}) == kUsersId);
  CHECK(Text(jwt.payload, {"sub"}) == w.alice_id);
  CHECK(Text(jwt.payload, {"jti"}).size() >= 16);
  const std::int64_t now = w.clock.Now().unix_micros() / kMicros;
  CHECK(Number(jwt.payload, {"iat"}) == now);
  CHECK(Number(jwt.payload, {"exp"}) == now + kUserTokenSeconds);
  // The token is bound to the tokenKey without carrying it.
  CHECK(Text(jwt.payload, {"tkh"}) == w.signer.Bind(token_key));
  CHECK(FromB64(jwt.payload_b64).find(token_key) == std::string::npos);
  CHECK(Keys(jwt.payload) == std::set<std::string>{"iss", "sub", "aud", "jti", "collectionId",
                                                   "type", "iat", "exp", "tkh"});
  // And it opens the caller's own record.
  auto own = w.With(token, "GET", std::string(kUsers) + "/" + w.alice_id);
  CHECK(own.status == 200);
  CHECK(Text(Json(own), {"email"}) == kAlice);

  SECTION("superusers' tokens live one day") {
    auto root = w.SignIn("shop", "_superusers", kRootEmail, kRootPassword);
    INFO(root.body);
    REQUIRE(root.status == 200);
    const JsonValue root_body = Json(root);
    CHECK(Text(root_body, {"record", "id"}) == w.root_id);
    CHECK(Text(root_body, {"record", "collectionName"}) == "_superusers");
    CHECK(Text(root_body, {"record", "email"}) == kRootEmail);
    CheckNoSecrets(root, w.Stored("", "_superusers", w.root_id, "tokenKey"),
                   w.Stored("", "_superusers", w.root_id, "password"));
    const Jwt root_jwt = Decode(Text(root_body, {"token"}));
    CHECK(Text(root_jwt.header, {"alg"}) == "EdDSA");
    CHECK(Text(root_jwt.payload, {"collectionId"}) == domain::kSuperusersCollectionId);
    CHECK(Text(root_jwt.payload, {"sub"}) == w.root_id);
    CHECK(Text(root_jwt.payload, {"aud"}) == w.Audience(w.shop_id));
    CHECK(Number(root_jwt.payload, {"exp"}) - Number(root_jwt.payload, {"iat"}) ==
          kSuperuserTokenSeconds);
  }
  SECTION("an explicit identityField and a form body sign in too") {
    auto named = w.Send(
        "POST", "/p/shop/api/collections/users/auth-with-password",
        Body({{"identity", kAlice}, {"password", kAlicePassword}, {"identityField", "email"}}));
    CHECK(named.status == 200);
    auto form = w.Send("POST", "/p/shop/api/collections/users/auth-with-password",
                       "identity=alice%40example.com&password=" + std::string(kAlicePassword),
                       {{"Content-Type", "application/x-www-form-urlencoded"}});
    INFO(form.body);
    CHECK(form.status == 200);
    CHECK(Text(Json(form), {"record", "id"}) == w.alice_id);
  }
}

TEST_CASE("auth API: a wrong password and an unknown identity get the same answer",
          "[http][auth]") {
  AuthWorld w;
  // Three of each, alternating; the clock moves past any lock between them so that only the
  // password check answers.
  std::vector<HttpReply> wrong;
  std::vector<HttpReply> unknown;
  std::vector<std::chrono::nanoseconds> wrong_time;
  std::vector<std::chrono::nanoseconds> unknown_time;
  for (int i = 0; i < 3; ++i) {
    auto started = std::chrono::steady_clock::now();
    wrong.push_back(w.SignIn("shop", "users", kAlice, "not-her-password-at-all"));
    wrong_time.push_back(std::chrono::steady_clock::now() - started);
    w.clock.Advance(kPastAnyLock * kMicros);
    started = std::chrono::steady_clock::now();
    unknown.push_back(w.SignIn("shop", "users", "ghost@example.com", "not-her-password-at-all"));
    unknown_time.push_back(std::chrono::steady_clock::now() - started);
    w.clock.Advance(kPastAnyLock * kMicros);
  }
  for (std::size_t i = 0; i < wrong.size(); ++i) {
    CHECK(wrong[i].status == 400);
    CHECK(wrong[i].body == kFailedSignIn);
    CHECK(unknown[i].status == 400);
    CHECK(unknown[i].body == kFailedSignIn);
    CHECK(StableHeaders(wrong[i]) == StableHeaders(unknown[i]));
    CHECK_FALSE(wrong[i].HasHeader("retry-after"));
  }
  // Timing, loosely: an unknown identity also pays for a password hash, so its fastest answer
  // is not an order of magnitude faster than a known one's (a lookup alone would be ~100x).
  // The minimum of three is used because it is the least disturbed by a busy machine.
  const auto fastest_wrong = *std::min_element(wrong_time.begin(), wrong_time.end());
  const auto fastest_unknown = *std::min_element(unknown_time.begin(), unknown_time.end());
  INFO("wrong password " << fastest_wrong.count() << " ns, unknown identity "
                         << fastest_unknown.count() << " ns");
  CHECK(fastest_unknown * 10 >= fastest_wrong);

  SECTION("the same holds for an identity of another collection and for superusers") {
    auto admin_collection = w.SignIn("shop", "admins", kAlice, kAlicePassword);
    CHECK(admin_collection.status == 400);
    CHECK(admin_collection.body == kFailedSignIn);
    w.clock.Advance(kPastAnyLock * kMicros);
    auto root_wrong = w.SignIn("shop", "_superusers", kRootEmail, "not-the-root-password");
    CHECK(root_wrong.body == kFailedSignIn);
    w.clock.Advance(kPastAnyLock * kMicros);
    auto root_unknown = w.SignIn("shop", "_superusers", "nobody@example.com", "whatever-1234");
    CHECK(root_unknown.body == kFailedSignIn);
    CHECK(StableHeaders(root_wrong) == StableHeaders(root_unknown));
  }
}

TEST_CASE(
    "auth API: auth-with-password names missing fields and refuses what is not an auth collection",
    "[http][auth]") {
  AuthWorld w;
  const std::string path = "/p/shop/api/collections/users/auth-with-password";

  auto empty = w.Send("POST", path, "{}");
  CheckErrorShape(empty, 400);
  const JsonValue empty_body = Json(empty);
  CHECK(Text(empty_body, {"data", "identity", "code"}) == "validation_required");
  CHECK(Text(empty_body, {"data", "password", "code"}) == "validation_required");
  CHECK_FALSE(Text(empty_body, {"data", "identity", "message"}).empty());

  auto no_password = w.Send("POST", path, Body({{"identity", kAlice}}));
  CheckErrorShape(no_password, 400);
  CHECK(Keys(*Json(no_password).Find("data")) == std::set<std::string>{"password"});
  CHECK(Text(Json(no_password), {"data", "password", "code"}) == "validation_required");

  auto no_identity = w.Send("POST", path, Body({{"password", kAlicePassword}}));
  CheckErrorShape(no_identity, 400);
  CHECK(Keys(*Json(no_identity).Find("data")) == std::set<std::string>{"identity"});

  auto blank = w.Send("POST", path, Body({{"identity", ""}, {"password", ""}}));
  CheckErrorShape(blank, 400);
  CHECK(Keys(*Json(blank).Find("data")) == std::set<std::string>{"identity", "password"});

  // Not strings: nothing to check a password against.
  auto typed = w.Send("POST", path, R"({"identity":42,"password":["x"]})");
  CheckErrorShape(typed, 400);

  auto malformed = w.Send("POST", path, R"({"identity":)");
  CheckErrorShape(malformed, 400);

  auto bad_field =
      w.Send("POST", path,
             Body({{"identity", kAlice}, {"password", kAlicePassword}, {"identityField", "name"}}));
  CheckErrorShape(bad_field, 400);
  CHECK(Text(Json(bad_field), {"data", "identityField", "code"}) == "validation_in_invalid");

  // A base collection, an unknown one and an unknown project have no sign-in.
  for (std::string_view target : {"/p/shop/api/collections/posts/auth-with-password",
                                  "/p/shop/api/collections/nope/auth-with-password",
                                  "/p/nope/api/collections/users/auth-with-password"}) {
    INFO(target);
    auto reply = w.Send("POST", target, Body({{"identity", kAlice}, {"password", kAlicePassword}}));
    CheckErrorShape(reply, 404);
  }
  // None of these counted as a failed attempt: the right password still works at once.
  CHECK(w.SignIn("shop", "users", kAlice, kAlicePassword).status == 200);
}

TEST_CASE("auth API: failed sign-ins are throttled per identity and per address", "[http][auth]") {
  AuthWorld w;

  SECTION("an identity is locked after repeated failures, right password included") {
    // Five failures, two seconds apart (not "quick"), from one address: the fifth locks.
    for (int i = 0; i < 5; ++i) {
      auto reply = w.SignIn("shop", "users", kAlice, "guess-" + std::to_string(i), "127.0.0.2");
      INFO("attempt " << i);
      CHECK(reply.status == 400);
      CHECK(reply.body == kFailedSignIn);
      if (i < 4) w.clock.Advance(2 * kMicros);
    }
    auto locked = w.SignIn("shop", "users", kAlice, "guess-5", "127.0.0.2");
    CHECK(locked.status == 429);
    CHECK(locked.body == kLocked);
    const std::int64_t retry = RetryAfter(locked);
    CHECK(retry >= 1);
    // The identity is locked whatever the address and whatever the password.
    auto right = w.SignIn("shop", "users", kAlice, kAlicePassword, "127.0.0.3");
    CHECK(right.status == 429);
    CHECK(right.body == kLocked);
    CHECK(RetryAfter(right) == retry);
    // Someone else, from a fresh address, is not.
    CHECK(w.SignIn("shop", "users", kBob, kBobPassword, "127.0.0.3").status == 200);
    // Once Retry-After has passed, the right password works.
    w.clock.Advance(retry * kMicros);
    auto released = w.SignIn("shop", "users", kAlice, kAlicePassword, "127.0.0.3");
    INFO(released.body);
    CHECK(released.status == 200);
    CHECK(Text(Json(released), {"record", "id"}) == w.alice_id);
  }
  SECTION("quick failures lock for a minute") {
    CHECK(w.SignIn("shop", "users", kBob, "first-guess", "127.0.0.4").status == 400);
    CHECK(w.SignIn("shop", "users", kBob, "second-guess", "127.0.0.4").status == 400);
    auto locked = w.SignIn("shop", "users", kBob, kBobPassword, "127.0.0.5");
    CHECK(locked.status == 429);
    CHECK(locked.body == kLocked);
    CHECK(RetryAfter(locked) == 60);
    w.clock.Advance(59 * kMicros);
    auto still = w.SignIn("shop", "users", kBob, kBobPassword, "127.0.0.5");
    CHECK(still.status == 429);
    CHECK(RetryAfter(still) == 1);
    w.clock.Advance(1 * kMicros);
    CHECK(w.SignIn("shop", "users", kBob, kBobPassword, "127.0.0.5").status == 200);
  }
  SECTION("an unknown identity is throttled exactly as a known one") {
    // The same script for a known and an unknown identity, each from its own address, gives
    // the same sequence of answers: the throttle does not tell them apart.
    auto script = [&](std::string_view identity, std::string_view source) {
      std::vector<std::pair<int, std::string>> answers;
      auto attempt = [&](std::string_view password) {
        auto reply = w.SignIn("shop", "users", identity, password, source);
        answers.emplace_back(reply.status, reply.body + "|" + reply.Header("retry-after"));
      };
      // Five failures two seconds apart, the fifth locking for a second; an attempt within
      // that second; then a sixth failure locking for two, and an attempt within those.
      for (int i = 0; i < 5; ++i) {
        if (i > 0) w.clock.Advance(2 * kMicros);
        attempt("guess-" + std::to_string(i));
      }
      attempt("guess-locked-1");
      w.clock.Advance(1 * kMicros);
      attempt("guess-5");
      attempt("guess-locked-2");
      w.clock.Advance(kPastAnyLock * kMicros);
      return answers;
    };
    const auto known = script(kAlice, "127.0.0.6");
    const auto unknown = script("ghost@example.com", "127.0.0.7");
    CHECK(known == unknown);
    // And the script did lock, as the schedule says.
    const std::string failed = kFailedSignIn + "|";
    std::vector<std::pair<int, std::string>> expected(5, {400, failed});
    expected.emplace_back(429, kLocked + "|1");
    expected.emplace_back(400, failed);
    expected.emplace_back(429, kLocked + "|2");
    CHECK(known == expected);
  }
  SECTION("an address is throttled across identities") {
    // Five different identities, one address: none is locked by itself, the address is.
    for (int i = 0; i < 5; ++i) {
      auto reply = w.SignIn("shop", "users", "user" + std::to_string(i) + "@example.com",
                            "some-guess-1234", "127.0.0.8");
      CHECK(reply.status == 400);
      CHECK(reply.body == kFailedSignIn);
      if (i < 4) w.clock.Advance(2 * kMicros);
    }
    auto locked = w.SignIn("shop", "users", kBob, kBobPassword, "127.0.0.8");
    CHECK(locked.status == 429);
    CHECK(locked.body == kLocked);
    const std::int64_t retry = RetryAfter(locked);
    // Bob himself is not locked: from another address he signs in.
    CHECK(w.SignIn("shop", "users", kBob, kBobPassword, "127.0.0.9").status == 200);
    w.clock.Advance(retry * kMicros);
    CHECK(w.SignIn("shop", "users", kBob, kBobPassword, "127.0.0.8").status == 200);
  }
}

TEST_CASE("auth API: the Authorization header carries the token, and rules see @request.auth",
          "[http][auth]") {
  AuthWorld w;
  const std::string alice = w.Token("shop", "users", kAlice, kAlicePassword);
  const std::string bob = w.Token("shop", "users", kBob, kBobPassword);
  auto post = [&](std::string_view title, std::string_view author) {
    return Body({{"title", title}, {"author", author}});
  };

  // Bare (the SDKs), "Bearer" and "bearer" (the scheme is case-insensitive) all identify.
  auto bare = w.Send("POST", kPosts, post("alice-1", w.alice_id), {{"Authorization", alice}});
  INFO(bare.body);
  REQUIRE(bare.status == 200);
  const std::string alice_post = Text(Json(bare), {"id"});
  CHECK(w.Send("POST", kPosts, post("alice-2", w.alice_id), {{"Authorization", "Bearer " + alice}})
            .status == 200);
  CHECK(w.Send("POST", kPosts, post("alice-3", w.alice_id), {{"Authorization", "bearer " + alice}})
            .status == 200);
  auto bobs = w.With(bob, "POST", kPosts, post("bob-1", w.bob_id));
  REQUIRE(bobs.status == 200);
  const std::string bob_post = Text(Json(bobs), {"id"});

  // The create rule: signed in, and the author is yourself.
  auto as_bob = w.With(alice, "POST", kPosts, post("forged", w.bob_id));
  CheckErrorShape(as_bob, 403);
  auto guest = w.Send("POST", kPosts, post("guest", w.alice_id));
  CheckErrorShape(guest, 403);
  CheckErrorShape(w.Send("POST", kPosts, Body({{"title", "anonymous"}})), 403);

  // The list and view rules: each sees their own posts, a guest none.
  auto alice_list = w.With(alice, "GET", kPosts);
  REQUIRE(alice_list.status == 200);
  const std::vector<std::string> alice_ids = ItemIds(alice_list);
  CHECK(alice_ids.size() == 3);
  CHECK(std::count(alice_ids.begin(), alice_ids.end(), alice_post) == 1);
  CHECK(std::count(alice_ids.begin(), alice_ids.end(), bob_post) == 0);
  CHECK(Number(Json(alice_list), {"totalItems"}) == 3);
  auto bob_list = w.Send("GET", kPosts, {}, {{"Authorization", "Bearer " + bob}});
  CHECK(ItemIds(bob_list) == std::vector<std::string>{bob_post});
  auto guest_list = w.Send("GET", kPosts);
  CHECK(guest_list.status == 200);
  CHECK(ItemIds(guest_list).empty());
  CHECK(Number(Json(guest_list), {"totalItems"}) == 0);
  CHECK(w.With(alice, "GET", std::string(kPosts) + "/" + alice_post).status == 200);
  CheckErrorShape(w.With(alice, "GET", std::string(kPosts) + "/" + bob_post), 404);
  CheckErrorShape(w.Send("GET", std::string(kPosts) + "/" + alice_post), 404);

  // The users collection: a user sees only themself, with their e-mail; others' e-mails never.
  auto users = w.With(alice, "GET", kUsers);
  CHECK(ItemIds(users) == std::vector<std::string>{w.alice_id});
  CHECK(Text(Json(users), {"items", "0", "email"}) == kAlice);
  CHECK(users.body.find(std::string(kBob)) == std::string::npos);
  CheckErrorShape(w.With(alice, "GET", std::string(kUsers) + "/" + w.bob_id), 404);
  CHECK(ItemIds(w.Send("GET", kUsers)).empty());

  // Headers that hold no valid token are refused, never taken for a guest.
  for (const std::string& header :
       {std::string("Basic ") + alice, std::string("Bearer garbage"), std::string("Bearer"),
        std::string("Bearer ") + alice + "x", "Token " + alice}) {
    INFO(header);
    auto refused = w.Send("GET", kPosts, {}, {{"Authorization", header}});
    CHECK(refused.status == 401);
    CHECK(refused.body == kBadToken);
  }
  // No Authorization header at all is a guest.
  CHECK(w.Send("GET", kPosts).status == 200);
}

TEST_CASE("auth API: an expired token is refused on records routes and on auth-refresh",
          "[http][auth]") {
  AuthWorld w;
  const std::string alice = w.Token("shop", "users", kAlice, kAlicePassword);
  const std::string refresh = "/p/shop/api/collections/users/auth-refresh";
  CHECK(w.With(alice, "GET", kPosts).status == 200);

  // Accepted up to exp plus the tolerated skew (30 s), refused one second later.
  w.clock.Advance((kUserTokenSeconds + 30) * kMicros);
  CHECK(w.With(alice, "GET", kPosts).status == 200);
  w.clock.Advance(1 * kMicros);
  auto list = w.With(alice, "GET", kPosts);
  CHECK(list.status == 401);
  CHECK(list.body == kBadToken);
  auto view = w.With(alice, "GET", std::string(kUsers) + "/" + w.alice_id);
  CHECK(view.status == 401);
  CHECK(view.body == kBadToken);
  auto refreshed = w.With(alice, "POST", refresh);
  CHECK(refreshed.status == 401);
  CHECK(refreshed.body == kBadToken);
  // Signing in again gives a token that works.
  CHECK(w.With(w.Token("shop", "users", kAlice, kAlicePassword), "GET", kPosts).status == 200);

  SECTION("superusers' tokens expire after a day") {
    const std::string root = w.Token("shop", "_superusers", kRootEmail, kRootPassword);
    CHECK(w.With(root, "GET", "/p/shop/api/collections").status == 200);
    w.clock.Advance((kSuperuserTokenSeconds + 31) * kMicros);
    auto expired = w.With(root, "GET", "/p/shop/api/collections");
    CHECK(expired.status == 401);
    CHECK(expired.body == kBadToken);
  }
}

TEST_CASE("auth API: forged tokens are refused, all with one answer", "[http][auth]") {
  AuthWorld w;
  const std::string token = w.Token("shop", "users", kAlice, kAlicePassword);
  const Jwt jwt = Decode(token);
  const std::string kid = Text(jwt.header, {"kid"});
  const std::string target = std::string(kUsers) + "/" + w.alice_id;
  REQUIRE(w.With(token, "GET", target).status == 200);
  auto refused = [&](const std::string& forged) {
    auto reply = w.With(forged, "GET", target);
    INFO(forged);
    CHECK(reply.status == 401);
    CHECK(reply.body == kBadToken);
    auto refresh = w.With(forged, "POST", "/p/shop/api/collections/users/auth-refresh");
    CHECK(refresh.status == 401);
    CHECK(refresh.body == kBadToken);
  };
  // The claims as the server issued them: re-signing them with the server's key is accepted,
  // so each refusal below is down to the one thing changed.
  const domain::TokenClaims claims = ClaimsOf(jwt);
  auto resigned = w.signer.Sign(claims);
  REQUIRE(resigned);
  REQUIRE(w.With(*resigned, "GET", target).status == 200);

  SECTION("signed by another key, under the server's kid or its own") {
    socle::testing::SeededRandomSource other_random(7);
    crypto::Ed25519TokenSigner intruder;
    REQUIRE(intruder.Generate(kid, other_random));
    auto same_kid = intruder.Sign(claims);
    REQUIRE(same_kid);
    CHECK(Text(Decode(*same_kid).header, {"kid"}) == kid);
    refused(*same_kid);
    crypto::Ed25519TokenSigner stranger;
    REQUIRE(stranger.Generate("intruder-key", other_random));
    auto own_kid = stranger.Sign(claims);
    REQUIRE(own_kid);
    refused(*own_kid);
  }
  SECTION("alg none") {
    const JsonValue none =
        JsonValue::Object({{"alg", JsonValue::String("none")}, {"typ", JsonValue::String("JWT")}});
    refused(Segment(none) + "." + jwt.payload_b64 + ".");
    refused(Segment(Replaced(none, "kid", JsonValue::String(kid))) + "." + jwt.payload_b64 + ".");
    refused(Segment(Replaced(none, "kid", JsonValue::String(kid))) + "." + jwt.payload_b64 + "." +
            jwt.signature_b64);
    refused(Segment(Replaced(jwt.header, "alg", JsonValue::String("none"))) + "." +
            jwt.payload_b64 + ".");
  }
  SECTION("HS256 keyed with the server's public key") {
    auto jwks = w.Send("GET", "/.well-known/jwks.json");
    REQUIRE(jwks.status == 200);
    const JsonValue keys = Json(jwks);
    REQUIRE(Text(keys, {"keys", "0", "kid"}) == kid);
    const std::string x = Text(keys, {"keys", "0", "x"});
    auto public_key = crypto::FromBase64Url(x);
    REQUIRE(public_key);
    REQUIRE(public_key->size() == 32);
    const std::string header = Segment(Replaced(jwt.header, "alg", JsonValue::String("HS256")));
    const std::string input = header + "." + jwt.payload_b64;
    const auto tag = crypto::HmacSha256(*public_key, input);
    refused(input + "." + crypto::ToBase64Url(tag));
    // Some libraries would key the HMAC with the key's text instead of its bytes.
    const auto text_tag = crypto::HmacSha256(crypto::AsBytes(x), input);
    refused(input + "." + crypto::ToBase64Url(text_tag));
  }
  SECTION("the payload or the header altered under the original signature") {
    refused(jwt.header_b64 + "." +
            Segment(Replaced(jwt.payload, "sub", JsonValue::String(w.bob_id))) + "." +
            jwt.signature_b64);
    refused(jwt.header_b64 + "." +
            Segment(Replaced(jwt.payload, "exp",
                             JsonValue::Integer(Number(jwt.payload, {"exp"}) + 3600))) +
            "." + jwt.signature_b64);
    refused(Segment(Replaced(jwt.header, "kid", JsonValue::String("k0-unknown"))) + "." +
            jwt.payload_b64 + "." + jwt.signature_b64);
    refused(Segment(Replaced(jwt.header, "jku", JsonValue::String("https://evil.example/jwks"))) +
            "." + jwt.payload_b64 + "." + jwt.signature_b64);
    // One bit of the signature flipped.
    auto signature = crypto::FromBase64Url(jwt.signature_b64);
    REQUIRE(signature);
    (*signature)[10] ^= 0x01;
    refused(jwt.header_b64 + "." + jwt.payload_b64 + "." + crypto::ToBase64Url(*signature));
  }
  SECTION("malformed tokens") {
    for (const std::string& forged :
         {std::string("x"), std::string("a.b"), std::string("a.b.c"), std::string(".."),
          token.substr(0, token.size() - 2), jwt.header_b64 + "." + jwt.payload_b64,
          token + ".extra", std::string(3000, 'a')}) {
      refused(forged);
    }
  }
  SECTION("claims the server's own key signs but the policy refuses") {
    auto signed_with = [&](domain::TokenClaims changed) {
      auto forged = w.signer.Sign(changed);
      REQUIRE(forged);
      refused(*forged);
    };
    const domain::Timestamp now = w.clock.Now();
    auto later = [&](std::int64_t seconds) {
      return domain::Timestamp::FromUnixMicros(now.unix_micros() + seconds * kMicros);
    };
    domain::TokenClaims c = claims;
    c.iss = "someone-else";
    signed_with(c);
    c = claims;
    c.type = "refresh";
    signed_with(c);
    c = claims;
    c.iat = later(3600);
    c.exp = later(7200);
    signed_with(c);
    c = claims;
    c.nbf = later(3600);
    signed_with(c);
    c = claims;
    c.sub = "nosuchrecord00";
    signed_with(c);
    c = claims;
    c.key_binding = "";
    signed_with(c);
    c = claims;
    c.key_binding = w.signer.Bind("a guessed tokenKey");
    signed_with(c);
    c = claims;
    c.collection_id = w.admins_id;
    signed_with(c);
    c = claims;
    c.collection_id = "nope_collection";
    signed_with(c);
  }
}

TEST_CASE("auth API: a token opens only its own project, and auth-refresh only its own collection",
          "[http][auth]") {
  AuthWorld w;
  const std::string alice = w.Token("shop", "users", kAlice, kAlicePassword);

  // "other" has the same users collection id, and a record with alice's id and tokenKey: only
  // the audience tells the projects apart.
  application::Caller superuser;
  superuser.superuser = true;
  const std::string token_key = w.Stored("shop", "users", w.alice_id, "tokenKey");
  application::RecordWriteInput input;
  input.body = JsonValue::Object({{"id", JsonValue::String(w.alice_id)},
                                  {"email", JsonValue::String(std::string(kAlice))},
                                  {"password", JsonValue::String("twin-Passw0rd-for-other")},
                                  {"passwordConfirm", JsonValue::String("twin-Passw0rd-for-other")},
                                  {"tokenKey", JsonValue::String(token_key)}});
  auto twin = w.records.Create("other", "users", std::move(input), superuser);
  INFO((twin ? std::string() : twin.error().message));
  REQUIRE(twin);
  REQUIRE(w.Stored("other", "users", w.alice_id, "tokenKey") == token_key);
  const std::string other_target = "/p/other/api/collections/users/records/" + w.alice_id;

  auto across = w.With(alice, "GET", other_target);
  CHECK(across.status == 401);
  CHECK(across.body == kBadToken);
  auto across_list = w.With(alice, "GET", "/p/other/api/collections/posts/records");
  CHECK(across_list.status == 401);
  auto across_refresh = w.With(alice, "POST", "/p/other/api/collections/users/auth-refresh");
  CHECK(across_refresh.status == 401);
  CHECK(across_refresh.body == kBadToken);
  // The same claims for "other"'s audience open the twin: nothing else stood in the way.
  domain::TokenClaims claims = ClaimsOf(Decode(alice));
  claims.aud = w.Audience(w.other_id);
  auto for_other = w.signer.Sign(claims);
  REQUIRE(for_other);
  CHECK(w.With(*for_other, "GET", other_target).status == 200);
  CHECK(w.With(*for_other, "GET", std::string(kUsers) + "/" + w.alice_id).status == 401);

  // auth-refresh is for the collection the token belongs to.
  auto admins = w.With(alice, "POST", "/p/shop/api/collections/admins/auth-refresh");
  CheckErrorShape(admins, 403);
  CHECK(Text(Json(admins), {"message"}) ==
        "The token does not belong to a record of this collection.");
  CHECK(Json(admins).Find("token") == nullptr);
  CheckErrorShape(w.With(alice, "POST", "/p/shop/api/collections/_superusers/auth-refresh"), 403);
  CheckErrorShape(w.With(alice, "POST", "/p/shop/api/collections/posts/auth-refresh"), 404);
  CheckErrorShape(w.With(alice, "POST", "/p/shop/api/collections/nope/auth-refresh"), 404);

  SECTION("an admin with the same e-mail is another identity") {
    const std::string root = w.Token("shop", "_superusers", kRootEmail, kRootPassword);
    const std::string admin_password = "Admin-only-Secret-99";
    auto admin = w.With(root, "POST", "/p/shop/api/collections/admins/records",
                        Body({{"email", kAlice},
                              {"password", admin_password},
                              {"passwordConfirm", admin_password}}));
    INFO(admin.body);
    REQUIRE(admin.status == 200);
    auto users_password = w.SignIn("shop", "admins", kAlice, kAlicePassword);
    CHECK(users_password.status == 400);
    CHECK(users_password.body == kFailedSignIn);
    w.clock.Advance(2 * kMicros);
    const std::string admin_token = w.Token("shop", "admins", kAlice, admin_password);
    CHECK(Text(Decode(admin_token).payload, {"collectionId"}) == w.admins_id);
    CheckErrorShape(w.With(admin_token, "POST", "/p/shop/api/collections/users/auth-refresh"), 403);
    CHECK(w.With(admin_token, "POST", "/p/shop/api/collections/admins/auth-refresh").status == 200);
    // Rules compare ids: the admin is not alice's posts' author.
    REQUIRE(w.With(alice, "POST", kPosts, Body({{"title", "t"}, {"author", w.alice_id}})).status ==
            200);
    CHECK(ItemIds(w.With(admin_token, "GET", kPosts)).empty());
  }
}

TEST_CASE(
    "auth API: a new password revokes the tokens issued before, and changing it needs the old one",
    "[http][auth]") {
  AuthWorld w;
  const std::string alice = w.Token("shop", "users", kAlice, kAlicePassword);
  const std::string own = std::string(kUsers) + "/" + w.alice_id;
  const std::string token_key = w.Stored("shop", "users", w.alice_id, "tokenKey");
  const std::string fresh = "cobalt-Window-19-meadow";

  auto missing_old =
      w.With(alice, "PATCH", own, Body({{"password", fresh}, {"passwordConfirm", fresh}}));
  CheckErrorShape(missing_old, 400);
  CHECK(Text(Json(missing_old), {"data", "oldPassword", "code"}) ==
        "validation_invalid_old_password");
  auto wrong_old = w.With(
      alice, "PATCH", own,
      Body(
          {{"oldPassword", "not-the-old-one-1"}, {"password", fresh}, {"passwordConfirm", fresh}}));
  CheckErrorShape(wrong_old, 400);
  CHECK(Text(Json(wrong_old), {"data", "oldPassword", "code"}) ==
        "validation_invalid_old_password");
  auto weak_new = w.With(alice, "PATCH", own,
                         Body({{"oldPassword", kAlicePassword},
                               {"password", "password1"},
                               {"passwordConfirm", "password1"}}));
  CheckErrorShape(weak_new, 400);
  CHECK(Text(Json(weak_new), {"data", "password", "code"}) == "validation_common_password");
  // A tokenKey in the body is not the user's to set: it is dropped.
  auto key_set = w.With(
      alice, "PATCH", own,
      Body({{"tokenKey", "chosen-by-the-client-0123456789abcdefghijklmnopq"}, {"name", "Alice"}}));
  INFO(key_set.body);
  CHECK(key_set.status == 200);
  CHECK(Text(Json(key_set), {"name"}) == "Alice");
  // Nothing above changed the password or the tokenKey: the token still works.
  CHECK(w.Stored("shop", "users", w.alice_id, "tokenKey") == token_key);
  CHECK(w.With(alice, "GET", own).status == 200);
  // Nor may bob change alice's password: her record is hidden from him.
  const std::string bob = w.Token("shop", "users", kBob, kBobPassword);
  CheckErrorShape(
      w.With(
          bob, "PATCH", own,
          Body({{"oldPassword", kAlicePassword}, {"password", fresh}, {"passwordConfirm", fresh}})),
      404);

  auto changed = w.With(
      alice, "PATCH", own,
      Body({{"oldPassword", kAlicePassword}, {"password", fresh}, {"passwordConfirm", fresh}}));
  INFO(changed.body);
  REQUIRE(changed.status == 200);
  const std::string new_key = w.Stored("shop", "users", w.alice_id, "tokenKey");
  CHECK(new_key != token_key);
  CheckNoSecrets(changed, new_key, w.Stored("shop", "users", w.alice_id, "password"));

  auto revoked = w.With(alice, "GET", kPosts);
  CHECK(revoked.status == 401);
  CHECK(revoked.body == kBadToken);
  CHECK(w.With(alice, "POST", "/p/shop/api/collections/users/auth-refresh").status == 401);
  // Bob's token is untouched.
  CHECK(w.With(bob, "GET", kPosts).status == 200);

  auto old_password = w.SignIn("shop", "users", kAlice, kAlicePassword);
  CHECK(old_password.status == 400);
  CHECK(old_password.body == kFailedSignIn);
  w.clock.Advance(2 * kMicros);
  const std::string renewed = w.Token("shop", "users", kAlice, fresh);
  CHECK(Text(Decode(renewed).payload, {"tkh"}) == w.signer.Bind(new_key));
  CHECK(w.With(renewed, "GET", own).status == 200);
}

TEST_CASE("auth API: auth-refresh issues a new token for the same record", "[http][auth]") {
  AuthWorld w;
  const std::string alice = w.Token("shop", "users", kAlice, kAlicePassword);
  const std::string path = "/p/shop/api/collections/users/auth-refresh";
  w.clock.Advance(60 * kMicros);

  auto reply = w.With(alice, "POST", path);
  INFO(reply.body);
  REQUIRE(reply.status == 200);
  const JsonValue body = Json(reply);
  CHECK(Keys(body) == std::set<std::string>{"token", "record"});
  CHECK(Text(body, {"record", "id"}) == w.alice_id);
  CHECK(Text(body, {"record", "email"}) == kAlice);
  CheckNoSecrets(reply, w.Stored("shop", "users", w.alice_id, "tokenKey"),
                 w.Stored("shop", "users", w.alice_id, "password"));
  const std::string refreshed = Text(body, {"token"});
  CHECK(refreshed != alice);
  const Jwt before = Decode(alice);
  const Jwt after = Decode(refreshed);
  CHECK(Text(after.payload, {"jti"}) != Text(before.payload, {"jti"}));
  CHECK(Text(after.payload, {"sub"}) == w.alice_id);
  CHECK(Text(after.payload, {"aud"}) == Text(before.payload, {"aud"}));
  CHECK(Text(after.payload, {"collectionId"}) == kUsersId);
  CHECK(Text(after.payload, {"tkh"}) == Text(before.payload, {"tkh"}));
  CHECK(Number(after.payload, {"iat"}) == Number(before.payload, {"iat"}) + 60);
  CHECK(Number(after.payload, {"exp"}) == Number(after.payload, {"iat"}) + kUserTokenSeconds);
  CHECK(w.With(refreshed, "GET", kPosts).status == 200);
  // Bearer works here too.
  CHECK(w.Send("POST", path, {}, {{"Authorization", "Bearer " + refreshed}}).status == 200);

  auto anonymous = w.Send("POST", path);
  CHECK(anonymous.status == 401);
  CHECK(anonymous.body == kBadToken);
  auto garbage = w.With("not-a-token", "POST", path);
  CHECK(garbage.status == 401);
  CHECK(garbage.body == kBadToken);
}

TEST_CASE("auth API: auth-methods describes password sign-in only", "[http][auth]") {
  AuthWorld w;
  for (std::string_view collection : {"users", "admins", "_superusers"}) {
    INFO(collection);
    auto reply =
        w.Send("GET", "/p/shop/api/collections/" + std::string(collection) + "/auth-methods");
    REQUIRE(reply.status == 200);
    const JsonValue body = Json(reply);
    CHECK(Flag(body, {"password", "enabled"}) == true);
    const JsonValue* fields = At(body, {"password", "identityFields"});
    REQUIRE(fields != nullptr);
    REQUIRE(fields->items().size() == 1);
    CHECK(fields->items()[0].AsString() == "email");
    CHECK(Flag(body, {"oauth2", "enabled"}) == false);
    REQUIRE(At(body, {"oauth2", "providers"}) != nullptr);
    CHECK(At(body, {"oauth2", "providers"})->items().empty());
    CHECK(Flag(body, {"mfa", "enabled"}) == false);
    CHECK(Flag(body, {"otp", "enabled"}) == false);
  }
  CheckErrorShape(w.Send("GET", "/p/shop/api/collections/posts/auth-methods"), 404);
  CheckErrorShape(w.Send("GET", "/p/shop/api/collections/nope/auth-methods"), 404);
  CheckErrorShape(w.Send("GET", "/p/nope/api/collections/users/auth-methods"), 404);
}

TEST_CASE("auth API: superusers sign in through _superusers, one project at a time",
          "[http][auth]") {
  AuthWorld w;
  const std::string root = w.Token("shop", "_superusers", kRootEmail, kRootPassword);
  const std::string alice = w.Token("shop", "users", kAlice, kAlicePassword);

  auto listed = w.With(root, "GET", "/p/shop/api/collections");
  INFO(listed.body);
  CHECK(listed.status == 200);
  CHECK(listed.body.find("\"users\"") != std::string::npos);
  // A user is not a superuser, nor is a guest.
  auto as_user = w.With(alice, "GET", "/p/shop/api/collections");
  CHECK(as_user.status == 401);
  CHECK(as_user.body == kBadToken);
  CHECK(w.Send("GET", "/p/shop/api/collections").status == 401);
  // The token is for "shop" only.
  auto other = w.With(root, "GET", "/p/other/api/collections");
  CHECK(other.status == 401);
  CHECK(other.body == kBadToken);
  const std::string root_other = w.Token("other", "_superusers", kRootEmail, kRootPassword);
  CHECK(Text(Decode(root_other).payload, {"aud"}) == w.Audience(w.other_id));
  CHECK(w.With(root_other, "GET", "/p/other/api/collections").status == 200);
  CHECK(w.With(root_other, "GET", "/p/shop/api/collections").status == 401);
  // A superuser passes every rule.
  REQUIRE(w.With(alice, "POST", kPosts, Body({{"title", "t"}, {"author", w.alice_id}})).status ==
          200);
  CHECK(ItemIds(w.With(root, "GET", kPosts)).size() == 1);
  // Its own collection's refresh works; another's is refused.
  CHECK(w.With(root, "POST", "/p/shop/api/collections/_superusers/auth-refresh").status == 200);
  CheckErrorShape(w.With(root, "POST", "/p/shop/api/collections/users/auth-refresh"), 403);

  // A new password (the operator's upsert) revokes the tokens issued before.
  const std::string fresh = "An0ther-Sup3r-secret!";
  auto upserted = w.superusers.Upsert(kRootEmail, fresh);
  REQUIRE(upserted);
  CHECK_FALSE(upserted->created);
  auto revoked = w.With(root, "GET", "/p/shop/api/collections");
  CHECK(revoked.status == 401);
  CHECK(revoked.body == kBadToken);
  CHECK(w.With(root_other, "GET", "/p/other/api/collections").status == 401);
  auto old_password = w.SignIn("shop", "_superusers", kRootEmail, kRootPassword);
  CHECK(old_password.status == 400);
  CHECK(old_password.body == kFailedSignIn);
  w.clock.Advance(2 * kMicros);
  const std::string renewed = w.Token("shop", "_superusers", kRootEmail, fresh);
  CHECK(w.With(renewed, "GET", "/p/shop/api/collections").status == 200);
}

TEST_CASE("auth API: hidden and managed fields of auth records are not the caller's to set",
          "[http][auth]") {
  AuthWorld w;
  const std::string chosen = "chosen-by-the-client-0123456789abcdefghijklmnopq";
  const std::string password = "amber-Lake-31-trellis";

  SECTION("a tokenKey in a sign-up is ignored") {
    auto created = w.Send("POST", kUsers,
                          Body({{"email", "mallory@example.com"},
                                {"password", password},
                                {"passwordConfirm", password},
                                {"tokenKey", chosen}}));
    INFO(created.body);
    REQUIRE(created.status == 200);
    const std::string id = Text(Json(created), {"id"});
    const std::string stored = w.Stored("shop", "users", id, "tokenKey");
    CHECK(stored != chosen);
    CHECK_FALSE(stored.empty());
    CheckNoSecrets(created, stored, w.Stored("shop", "users", id, "password"));
    CHECK(created.body.find(chosen) == std::string::npos);

    const std::string token = w.Token("shop", "users", "mallory@example.com", password);
    const Jwt jwt = Decode(token);
    CHECK(Text(jwt.payload, {"tkh"}) == w.signer.Bind(stored));
    CHECK(Text(jwt.payload, {"tkh"}) != w.signer.Bind(chosen));
    CHECK(w.With(token, "GET", std::string(kUsers) + "/" + id).status == 200);
    // A token bound to the key the client chose opens nothing.
    domain::TokenClaims claims = ClaimsOf(jwt);
    claims.key_binding = w.signer.Bind(chosen);
    auto forged = w.signer.Sign(claims);
    REQUIRE(forged);
    CHECK(w.With(*forged, "GET", std::string(kUsers) + "/" + id).status == 401);
  }
  SECTION("only a manager may create a verified record") {
    const std::string body = R"({"email":"eve@example.com","password":")" + password +
                             R"(","passwordConfirm":")" + password + R"(","verified":true})";
    auto guest = w.Send("POST", kUsers, body);
    CheckErrorShape(guest, 400);
    CHECK(Text(Json(guest), {"data", "verified", "code"}) == "validation_values_mismatch");
    const std::string alice = w.Token("shop", "users", kAlice, kAlicePassword);
    auto user = w.With(alice, "POST", kUsers, body);
    CheckErrorShape(user, 400);
    CHECK(Text(Json(user), {"data", "verified", "code"}) == "validation_values_mismatch");
    // Nor may a user verify themself.
    auto self =
        w.With(alice, "PATCH", std::string(kUsers) + "/" + w.alice_id, R"({"verified":true})");
    CheckErrorShape(self, 400);
    CHECK(Text(Json(self), {"data", "verified", "code"}) == "validation_values_mismatch");

    const std::string root = w.Token("shop", "_superusers", kRootEmail, kRootPassword);
    // Nothing was created by the refused attempts.
    auto none =
        w.With(root, "GET", std::string(kUsers) + "?filter=email%3D%22eve%40example.com%22");
    REQUIRE(none.status == 200);
    CHECK(Number(Json(none), {"totalItems"}) == 0);
    auto by_root = w.With(root, "POST", kUsers, body);
    INFO(by_root.body);
    REQUIRE(by_root.status == 200);
    CHECK(Flag(Json(by_root), {"verified"}) == true);
    // A superuser sees hidden fields, but never the password hash or the tokenKey.
    const std::string id = Text(Json(by_root), {"id"});
    CheckNoSecrets(by_root, w.Stored("shop", "users", id, "tokenKey"),
                   w.Stored("shop", "users", id, "password"));
  }
}

TEST_CASE("auth API: new passwords must satisfy the policy", "[http][auth]") {
  AuthWorld w;
  auto sign_up = [&](std::string_view email, std::string_view password, std::string_view confirm) {
    return w.Send("POST", kUsers,
                  Body({{"email", email}, {"password", password}, {"passwordConfirm", confirm}}));
  };
  auto code_of = [&](const HttpReply& reply, std::string_view field) {
    CheckErrorShape(reply, 400);
    return Text(Json(reply), {"data", field, "code"});
  };
  CHECK(code_of(sign_up("carol@example.com", "password123", "password123"), "password") ==
        "validation_common_password");
  CHECK(code_of(sign_up("carol@example.com", "Qwerty2024!", "Qwerty2024!"), "password") ==
        "validation_common_password");
  CHECK(code_of(sign_up("carol@example.com", "Ab1!x", "Ab1!x"), "password") ==
        "validation_min_text_constraint");
  auto mismatch =
      sign_up("carol@example.com", "saffron-Bridge-63-kettle", "saffron-Bridge-63-kettlf");
  CHECK(code_of(mismatch, "passwordConfirm") == "validation_values_mismatch");
  CHECK(Json(mismatch).Find("data")->Find("password") == nullptr);
  CHECK(code_of(sign_up("carol@example.com", "carol-was-here-2024", "carol-was-here-2024"),
                "password") == "validation_password_contains_identity");
  CHECK(code_of(sign_up("carol@example.com", std::string(300, 'z') + "1Aa",
                        std::string(300, 'z') + "1Aa"),
                "password") == "validation_max_text_constraint");
  auto missing = w.Send("POST", kUsers, Body({{"email", "carol@example.com"}}));
  CHECK(code_of(missing, "password") == "validation_required");
  CHECK(code_of(missing, "passwordConfirm") == "validation_required");
  // The refused password never shows up in an answer.
  CHECK(sign_up("carol@example.com", "password123", "password123").body.find("password123") ==
        std::string::npos);

  // None of these created a record.
  const std::string root = w.Token("shop", "_superusers", kRootEmail, kRootPassword);
  auto all = w.With(root, "GET", kUsers);
  REQUIRE(all.status == 200);
  CHECK(Number(Json(all), {"totalItems"}) == 2);
}

TEST_CASE("auth API: the JWKS publishes the signing keys and follows rotation", "[http][auth]") {
  AuthWorld w;
  const std::string first = w.Token("shop", "users", kAlice, kAlicePassword);
  const Jwt first_jwt = Decode(first);

  auto reply = w.Send("GET", "/.well-known/jwks.json");
  INFO(reply.body);
  REQUIRE(reply.status == 200);
  CHECK(reply.Header("content-type").starts_with("application/json"));
  const JsonValue jwks = Json(reply);
  const JsonValue* keys = jwks.Find("keys");
  REQUIRE(keys != nullptr);
  REQUIRE(keys->items().size() == 1);
  const JsonValue& key = keys->items()[0];
  CHECK(Keys(key) == std::set<std::string>{"kty", "crv", "x", "kid", "use", "alg"});  // no "d"
  CHECK(Text(key, {"kty"}) == "OKP");
  CHECK(Text(key, {"crv"}) == "Ed25519");
  CHECK(Text(key, {"alg"}) == "EdDSA");
  CHECK(Text(key, {"use"}) == "sig");
  CHECK(Text(key, {"kid"}) == Text(first_jwt.header, {"kid"}));
  // What a relying party does: verify the token with the published key.
  auto verify = [](const JsonValue& jwk, const Jwt& jwt) {
    auto x = crypto::FromBase64Url(Text(jwk, {"x"}));
    auto signature = crypto::FromBase64Url(jwt.signature_b64);
    REQUIRE(x);
    REQUIRE(signature);
    const std::string signed_part = jwt.header_b64 + "." + jwt.payload_b64;
    return crypto::Ed25519TokenSigner::VerifyBytes(*x, crypto::AsBytes(signed_part), *signature);
  };
  CHECK(verify(key, first_jwt));

  // Keys are ordered by creation time: the new one is made a little later, as it would be.
  w.clock.Advance(2 * kMicros);
  auto rotated = w.keys.Rotate();
  REQUIRE(rotated);
  CHECK(*rotated != Text(first_jwt.header, {"kid"}));
  auto after = w.Send("GET", "/.well-known/jwks.json");
  REQUIRE(after.status == 200);
  const JsonValue both = Json(after);
  REQUIRE(both.Find("keys")->items().size() == 2);
  std::set<std::string> kids;
  for (const auto& item : both.Find("keys")->items()) {
    kids.insert(Text(item, {"kid"}));
    CHECK(item.Find("d") == nullptr);
  }
  CHECK(kids == std::set<std::string>{Text(first_jwt.header, {"kid"}), *rotated});

  w.clock.Advance(2 * kMicros);
  const std::string second = w.Token("shop", "users", kAlice, kAlicePassword);
  const Jwt second_jwt = Decode(second);
  CHECK(Text(second_jwt.header, {"kid"}) == *rotated);
  for (const auto& item : both.Find("keys")->items()) {
    CHECK(verify(item, second_jwt) == (Text(item, {"kid"}) == *rotated));
  }
  // Tokens signed before the rotation keep working, and so do the new ones.
  CHECK(w.With(first, "GET", kPosts).status == 200);
  CHECK(w.With(second, "GET", kPosts).status == 200);
}

TEST_CASE("auth API: the setup link creates the first superuser, once", "[http][auth]") {
  AuthWorld w(false);
  REQUIRE(w.superusers.Count() == 0);
  const std::string form = "/_/setup?token=" + std::string(kSetupToken);
  const std::string email = "first@example.com";
  const std::string password = "Fresh-Install-77-pass";
  auto post = [&](std::string_view token, std::string_view mail, std::string_view pass) {
    return w.Send("POST", "/_/setup",
                  Body({{"token", token}, {"email", mail}, {"password", pass}}));
  };

  for (const std::string& target : {std::string("/_/setup?token=wrong"), std::string("/_/setup"),
                                    "/_/setup?token=" + std::string(kSetupToken).substr(0, 63),
                                    "/_/setup?token=" + std::string(kSetupToken) + "0"}) {
    INFO(target);
    auto refused = w.Send("GET", target);
    CHECK(refused.status == 403);
    CHECK(refused.Header("content-type").starts_with("text/html"));
    CHECK(refused.body.find(kSetupToken) == std::string::npos);
    CHECK(refused.body.find("<form") == std::string::npos);
  }
  auto page = w.Send("GET", form);
  INFO(page.body);
  REQUIRE(page.status == 200);
  CHECK(page.Header("content-type").starts_with("text/html"));
  CHECK(page.Header("cache-control") == "no-store");
  CHECK(page.body.find("<form") != std::string::npos);
  CHECK(page.body.find("name=\"password\"") != std::string::npos);

  auto wrong_token = post("wrong", email, password);
  CheckErrorShape(wrong_token, 403);
  auto weak = post(kSetupToken, email, "password");
  CheckErrorShape(weak, 400);
  CHECK(Text(Json(weak), {"data", "password", "code"}) == "validation_common_password");
  auto bad_email = post(kSetupToken, "not-an-email", password);
  CheckErrorShape(bad_email, 400);
  CHECK(Text(Json(bad_email), {"data", "email", "code"}) == "validation_is_email");
  REQUIRE(w.superusers.Count() == 0);
  // The refused attempts left the link usable.
  CHECK(w.Send("GET", form).status == 200);

  SECTION("a good request creates the superuser and uses the link up") {
    auto created = post(kSetupToken, email, password);
    INFO(created.body);
    REQUIRE(created.status == 200);
    const std::string id = Text(Json(created), {"id"});
    CHECK_FALSE(id.empty());
    CHECK(Keys(Json(created)) == std::set<std::string>{"id"});
    CHECK(w.superusers.Count() == 1);
    auto again = post(kSetupToken, "second@example.com", password);
    CheckErrorShape(again, 403);
    CHECK(w.Send("GET", form).status == 403);
    CHECK(w.superusers.Count() == 1);
    // The superuser signs in.
    const std::string root = w.Token("shop", "_superusers", email, password);
    CHECK(Text(Decode(root).payload, {"sub"}) == id);
    CHECK(w.With(root, "GET", "/p/shop/api/collections").status == 200);
  }
  SECTION("a form post works as well") {
    auto created = w.Send(
        "POST", "/_/setup",
        "token=" + std::string(kSetupToken) + "&email=first%40example.com&password=" + password,
        {{"Content-Type", "application/x-www-form-urlencoded"}});
    INFO(created.body);
    CHECK(created.status == 200);
    CHECK(created.Header("content-type").starts_with("text/html"));
    CHECK(created.body.find(password) == std::string::npos);
    CHECK(w.superusers.Count() == 1);
    CHECK(w.Send("GET", form).status == 403);
  }
  SECTION("a superuser made elsewhere closes the link") {
    REQUIRE(w.superusers.Upsert("operator@example.com", "Op3rator-made-this"));
    CHECK(w.Send("GET", form).status == 403);
    CheckErrorShape(post(kSetupToken, email, password), 403);
    CHECK(w.superusers.Count() == 1);
  }
  SECTION("the link expires after an hour") {
    w.clock.Advance(3600 * kMicros + 1);
    CHECK(w.Send("GET", form).status == 403);
    CheckErrorShape(post(kSetupToken, email, password), 403);
    CHECK(w.superusers.Count() == 0);
  }
}
