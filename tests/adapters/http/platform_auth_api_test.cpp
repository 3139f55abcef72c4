// Platform members' sign-in and sessions over HTTP (PlatformAuthApi under /api/v1/auth), end to
// end: the in-process server on port 0 with the routes registered as socle-server registers
// them, PlatformSessions over the memory stores, Argon2id passwords and Ed25519 tokens, and a
// clock the tests move. Every refusal is checked for its status and its platform-API-shaped
// body; bad bodies (malformed JSON, missing, unknown or mistyped members, another media type)
// are 400 before the use case sees them.
#include <catch2/catch.hpp>

#include <chrono>
#include <initializer_list>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

#include "http_test_client.hpp"
#include "socle/adapters/crypto/argon2_password_hasher.hpp"
#include "socle/adapters/crypto/ed25519_token_signer.hpp"
#include "socle/adapters/http/json_object_reader.hpp"
#include "socle/adapters/http/platform_auth_api.hpp"
#include "socle/adapters/json/json_writer.hpp"
#include "socle/adapters/memory/memory_catalogue_store.hpp"
#include "socle/adapters/memory/memory_project_store.hpp"
#include "socle/application/access_control.hpp"
#include "socle/application/authenticate.hpp"
#include "socle/application/manage_access.hpp"
#include "socle/application/manage_superusers.hpp"
#include "socle/application/platform_sessions.hpp"
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

constexpr std::string_view kAda = "ada@example.com";
constexpr std::string_view kAdaPassword = "velvet-otter-quarry-41";
constexpr std::string_view kBob = "bob@example.com";
constexpr std::string_view kBobPassword = "granite-kettle-swift-55";
constexpr std::int64_t kMinute = 60'000'000;

const std::string kFailed = R"({"status":400,"message":"Failed to authenticate.","data":{}})";
const std::string kBadRefresh =
    R"({"status":401,"message":"The refresh token is not valid.","data":{}})";
const std::string kBadAccess =
    R"({"status":401,"message":"The request requires valid authorization token.","data":{}})";

JsonValue Json(const HttpReply& reply) {
  INFO(reply.body);
  auto parsed = http::ParseJson(reply.body);
  REQUIRE(parsed);
  return *parsed;
}

std::string Text(const JsonValue& value, std::initializer_list<std::string_view> path) {
  const JsonValue* current = &value;
  for (std::string_view key : path) {
    current = current->Find(key);
    if (current == nullptr) return "<missing>";
  }
  if (current->type() != JsonValue::Type::kString) return "<not a string>";
  return current->AsString();
}

std::string Body(std::initializer_list<std::pair<std::string_view, std::string_view>> members) {
  json::JsonWriter w;
  w.BeginObject();
  for (const auto& [key, value] : members) w.Key(key).String(value);
  w.EndObject();
  return std::move(w).Take();
}

crypto::Argon2PasswordHasher MakeHasher(application::RandomSource& random) {
  auto hasher = crypto::Argon2PasswordHasher::Create(crypto::Argon2Policy{}, random);
  REQUIRE(hasher);
  return std::move(*hasher);
}

// `failures` lock a key for a minute; no quick-login lock, so that a clock standing still does
// not lock on the second failure.
domain::LoginThrottle MakeThrottle(std::int64_t failures) {
  domain::LoginThrottleOptions options;
  options.failure_factor = failures;
  options.wait_increment = std::chrono::seconds(60);
  options.exponential_after = 0;
  options.quick_login_check = std::chrono::milliseconds(0);
  auto throttle = domain::LoginThrottle::Create(options);
  REQUIRE(throttle);
  return std::move(*throttle);
}

// Members in construction order: stores and ports, the use case, the API, the server last (so
// stopped first).
struct AuthWorld {
  AuthWorld() {
    REQUIRE(signer.Generate("k1", random));
    auto ada = sessions.UpsertMember(kAda, kAdaPassword, "Ada Lovelace");
    REQUIRE(ada);
    ada_id = ada->id;
    auto bob = sessions.UpsertMember(kBob, kBobPassword, "Bob");
    REQUIRE(bob);
    bob_id = bob->id;
    REQUIRE(api.Register(server.router));
    server.Start();
  }

  HttpReply Send(std::string_view method, std::string_view target, std::string body = {},
                 Headers headers = {}) {
    return socle::testing::Fetch(server.port(), method, target, std::move(body),
                                 std::move(headers));
  }

  HttpReply Login(std::string_view email, std::string_view password, Headers headers = {}) {
    return Send("POST", "/api/v1/auth/login", Body({{"email", email}, {"password", password}}),
                std::move(headers));
  }

  // Signs in; returns {access token, refresh token}.
  std::pair<std::string, std::string> MustLogin(std::string_view email, std::string_view password,
                                                std::string agent = "browser/1") {
    const HttpReply reply = Login(email, password, {{"User-Agent", std::move(agent)}});
    INFO(reply.body);
    REQUIRE(reply.status == 200);
    const JsonValue body = Json(reply);
    return {Text(body, {"accessToken"}), Text(body, {"refreshToken"})};
  }

  HttpReply Refresh(std::string_view token) {
    return Send("POST", "/api/v1/auth/refresh", Body({{"refreshToken", token}}));
  }

  static Headers Bearer(std::string_view token) {
    return {{"Authorization", "Bearer " + std::string(token)}};
  }

  socle::adapters::memory::MemoryProjectStores stores;
  socle::testing::ManualClock clock;
  socle::testing::SeededRandomSource random;
  crypto::Argon2PasswordHasher hasher = MakeHasher(random);
  crypto::Ed25519TokenSigner signer;
  // Every request comes from 127.0.0.1: the address throttle tolerates more.
  domain::LoginThrottle identities = MakeThrottle(3);
  domain::LoginThrottle addresses = MakeThrottle(10);
  application::PlatformStore platform{stores, clock};
  application::PlatformSessions sessions{platform, signer, hasher, clock, random, identities,
                                         &addresses};
  // Superusers sign in to the platform through Authenticate (project ""); role switching asks
  // ManageAccess whether the member holds the role.
  socle::adapters::memory::MemoryCatalogueStore catalogue;
  application::ProjectDirectory directory{catalogue, stores, clock};
  application::AuthenticateOptions authenticate_options = [this] {
    application::AuthenticateOptions options;
    options.address_throttle = &addresses;
    return options;
  }();
  application::Authenticate authenticate{directory, platform,   signer,     hasher,
                                         clock,     random,     identities, authenticate_options};
  application::ManageSuperusers superusers{platform, hasher, clock, random};
  application::AccessControl access{catalogue, clock};
  application::ManageAccess manage_access{catalogue, catalogue, access, sessions, signer,
                                          clock,     random,    nullptr};
  http::PlatformAuthApi api{sessions, authenticate, manage_access};
  socle::testing::TestServer server;
  std::string ada_id, bob_id;
};

// A 400 whose data names `field` with `code`.
void CheckFieldError(const HttpReply& reply, std::string_view field, std::string_view code) {
  INFO(reply.body);
  CHECK(reply.status == 400);
  const JsonValue body = Json(reply);
  CHECK(Text(body, {"data", field, "code"}) == code);
}

}  // namespace

TEST_CASE("POST /api/v1/auth/login signs a member in", "[http][platform_auth]") {
  AuthWorld w;
  const HttpReply reply = w.Login(kAda, kAdaPassword, {{"User-Agent", "browser/1"}});
  INFO(reply.body);
  REQUIRE(reply.status == 200);
  CHECK(reply.Header("cache-control") == "no-store");
  const JsonValue body = Json(reply);
  CHECK(Text(body, {"refreshToken"}).starts_with("rt_"));
  const JsonValue* expires_in = body.Find("expiresIn");
  REQUIRE(expires_in != nullptr);
  CHECK(expires_in->AsInt64() == 900);
  CHECK(Text(body, {"member", "id"}) == w.ada_id);
  CHECK(Text(body, {"member", "email"}) == kAda);
  CHECK(Text(body, {"member", "name"}) == "Ada Lovelace");
  auto claims = w.signer.Verify(Text(body, {"accessToken"}));
  REQUIRE(claims);
  CHECK(claims->aud == "platform");
  CHECK(claims->type == "access");
  CHECK(claims->sub == w.ada_id);
  // Nothing else: the member's secrets stay home.
  CHECK(body.members().size() == 4);
  CHECK(reply.body.find("password") == std::string::npos);
  CHECK(reply.body.find("tokenKey") == std::string::npos);
}

TEST_CASE("login failures are alike and throttled", "[http][platform_auth]") {
  AuthWorld w;
  const HttpReply unknown = w.Login("nobody@example.com", kAdaPassword);
  const HttpReply wrong = w.Login(kAda, "not-the-password-00");
  CHECK(unknown.status == 400);
  CHECK(unknown.body == kFailed);
  CHECK(wrong.status == 400);
  CHECK(wrong.body == kFailed);
  CHECK_FALSE(wrong.HasHeader("retry-after"));

  // A third failure for Ada locks her e-mail: even the right password gets 429 now.
  CHECK(w.Login(kAda, "not-the-password-01").status == 400);
  CHECK(w.Login(kAda, "not-the-password-02").status == 400);
  const HttpReply locked = w.Login(kAda, kAdaPassword);
  INFO(locked.body);
  CHECK(locked.status == 429);
  REQUIRE(locked.HasHeader("retry-after"));
  const int retry = std::stoi(locked.Header("retry-after"));
  CHECK(retry >= 1);
  CHECK(retry <= 60);
  CHECK(Text(Json(locked), {"message"}) == "Too many failed attempts; try again later.");
  w.clock.Advance(61 * 1'000'000);
  CHECK(w.Login(kAda, kAdaPassword).status == 200);
}

TEST_CASE("login refuses bad bodies with 400", "[http][platform_auth]") {
  AuthWorld w;
  const std::string_view path = "/api/v1/auth/login";
  SECTION("malformed JSON") {
    const HttpReply reply = w.Send("POST", path, R"({"email": "ada@example.com",)");
    CHECK(reply.status == 400);
    CHECK(Json(reply).Find("status") != nullptr);
  }
  SECTION("not an object") {
    CHECK(w.Send("POST", path, R"(["ada@example.com"])").status == 400);
    CHECK(w.Send("POST", path, "").status == 400);
  }
  SECTION("missing members") {
    const HttpReply reply = w.Send("POST", path, R"({"email":"ada@example.com"})");
    CheckFieldError(reply, "password", "validation_required");
    CheckFieldError(w.Send("POST", path, "{}"), "email", "validation_required");
  }
  SECTION("blank members") {
    CheckFieldError(w.Login(kAda, ""), "password", "validation_required");
  }
  SECTION("unknown, repeated or mistyped members") {
    CheckFieldError(w.Send("POST", path,
                           R"({"email":"ada@example.com","password":"x","remember":true})"),
                    "remember", "validation_unknown_field");
    const std::string repeated =
        R"({"email":"ada@example.com","email":"bob@example.com","password":"x"})";
    CheckFieldError(w.Send("POST", path, repeated), "email", "validation_duplicate_field");
    CheckFieldError(w.Send("POST", path, R"({"email":42,"password":"x"})"), "email",
                    "validation_invalid_type");
  }
  SECTION("another media type") {
    const HttpReply reply =
        w.Send("POST", path, Body({{"email", kAda}, {"password", kAdaPassword}}),
               {{"Content-Type", "application/x-www-form-urlencoded"}});
    CHECK(reply.status == 400);
  }
}

TEST_CASE("POST /api/v1/auth/refresh rotates, and a reused token revokes the session",
          "[http][platform_auth]") {
  AuthWorld w;
  const auto [access, first] = w.MustLogin(kAda, kAdaPassword);
  const HttpReply rotated = w.Refresh(first);
  INFO(rotated.body);
  REQUIRE(rotated.status == 200);
  CHECK(rotated.Header("cache-control") == "no-store");
  const JsonValue body = Json(rotated);
  const std::string second = Text(body, {"refreshToken"});
  CHECK(second.starts_with("rt_"));
  CHECK(second != first);
  CHECK(Text(body, {"member", "id"}) == w.ada_id);
  CHECK(w.signer.Verify(Text(body, {"accessToken"})));

  const HttpReply reused = w.Refresh(first);
  CHECK(reused.status == 401);
  CHECK(reused.body == kBadRefresh);
  const HttpReply after = w.Refresh(second);
  CHECK(after.status == 401);
  CHECK(after.body == kBadRefresh);

  SECTION("bad bodies") {
    CHECK(w.Send("POST", "/api/v1/auth/refresh", "{").status == 400);
    CheckFieldError(w.Send("POST", "/api/v1/auth/refresh", "{}"), "refreshToken",
                    "validation_required");
    CheckFieldError(w.Send("POST", "/api/v1/auth/refresh", R"({"refreshToken":1})"),
                    "refreshToken", "validation_invalid_type");
    CheckFieldError(w.Send("POST", "/api/v1/auth/refresh",
                           R"({"refreshToken":"rt_x","accessToken":"y"})"),
                    "accessToken", "validation_unknown_field");
  }
  SECTION("garbage tokens are 401") {
    const HttpReply garbage = w.Refresh("rt_nonsense");
    CHECK(garbage.status == 401);
    CHECK(garbage.body == kBadRefresh);
    CHECK(w.Refresh(access).status == 401);
  }
}

TEST_CASE("POST /api/v1/auth/logout ends the session", "[http][platform_auth]") {
  AuthWorld w;
  const auto [access, refresh] = w.MustLogin(kAda, kAdaPassword);
  const HttpReply out =
      w.Send("POST", "/api/v1/auth/logout", Body({{"refreshToken", refresh}}));
  CHECK(out.status == 204);
  CHECK(out.body.empty());
  CHECK(w.Refresh(refresh).status == 401);
  // Again, or with a token nobody was given: the same answer.
  CHECK(w.Send("POST", "/api/v1/auth/logout", Body({{"refreshToken", refresh}})).status == 204);
  CHECK(w.Send("POST", "/api/v1/auth/logout", Body({{"refreshToken", "rt_nonsense"}})).status ==
        204);
  CHECK(w.Send("POST", "/api/v1/auth/logout", "not json").status == 400);
  CheckFieldError(w.Send("POST", "/api/v1/auth/logout", "{}"), "refreshToken",
                  "validation_required");
}

TEST_CASE("GET and DELETE /api/v1/auth/sessions", "[http][platform_auth]") {
  AuthWorld w;
  const auto [laptop_access, laptop_refresh] = w.MustLogin(kAda, kAdaPassword, "laptop/1");
  w.clock.Advance(kMinute);
  const auto [phone_access, phone_refresh] = w.MustLogin(kAda, kAdaPassword, "phone/2");
  const auto [bob_access, bob_refresh] = w.MustLogin(kBob, kBobPassword, "bob/3");

  const HttpReply listed =
      w.Send("GET", "/api/v1/auth/sessions", {}, AuthWorld::Bearer(laptop_access));
  INFO(listed.body);
  REQUIRE(listed.status == 200);
  const JsonValue body = Json(listed);
  const JsonValue* items = body.Find("items");
  REQUIRE(items != nullptr);
  REQUIRE(items->items().size() == 2);
  const JsonValue& newest = items->items()[0];
  CHECK(Text(newest, {"userAgent"}) == "phone/2");
  CHECK(Text(newest, {"address"}) == "127.0.0.1");
  for (std::string_view key : {"id", "created", "lastUsed", "expires"}) {
    INFO(key);
    CHECK(Text(newest, {key}).size() > 5);
  }
  CHECK(Text(items->items()[1], {"userAgent"}) == "laptop/1");
  const std::string phone_session = Text(newest, {"id"});

  SECTION("without a valid access token: 401") {
    const HttpReply none = w.Send("GET", "/api/v1/auth/sessions");
    CHECK(none.status == 401);
    CHECK(none.body == kBadAccess);
    CHECK(w.Send("GET", "/api/v1/auth/sessions", {}, AuthWorld::Bearer(laptop_refresh)).status ==
          401);
    CHECK(w.Send("DELETE", "/api/v1/auth/sessions/" + phone_session).status == 401);
    w.clock.Advance(16 * kMinute);
    const HttpReply expired =
        w.Send("GET", "/api/v1/auth/sessions", {}, AuthWorld::Bearer(laptop_access));
    CHECK(expired.status == 401);
    CHECK(expired.body == kBadAccess);
  }
  SECTION("another member's session is not found") {
    const HttpReply foreign = w.Send("DELETE", "/api/v1/auth/sessions/" + phone_session, {},
                                     AuthWorld::Bearer(bob_access));
    CHECK(foreign.status == 404);
    CHECK(w.Refresh(phone_refresh).status == 200);
  }
  SECTION("a member revokes one of their sessions") {
    const HttpReply revoked = w.Send("DELETE", "/api/v1/auth/sessions/" + phone_session, {},
                                     AuthWorld::Bearer(laptop_access));
    CHECK(revoked.status == 204);
    CHECK(w.Refresh(phone_refresh).status == 401);
    const HttpReply now_listed =
        w.Send("GET", "/api/v1/auth/sessions", {}, AuthWorld::Bearer(laptop_access));
    REQUIRE(now_listed.status == 200);
    const JsonValue now_json = Json(now_listed);  // kept alive: Find points into it
    const JsonValue* left = now_json.Find("items");
    REQUIRE(left != nullptr);
    REQUIRE(left->items().size() == 1);
    CHECK(Text(left->items()[0], {"userAgent"}) == "laptop/1");
    CHECK(w.Refresh(laptop_refresh).status == 200);
  }
}

TEST_CASE("POST /api/v1/auth/superusers/login gives a superuser a platform token",
          "[http][platform_auth]") {
  AuthWorld w;
  constexpr std::string_view kRoot = "root@example.com";
  constexpr std::string_view kRootPassword = "copper-lantern-meadow-77";
  auto root = w.superusers.Upsert(kRoot, kRootPassword);
  REQUIRE(root);
  const std::string_view path = "/api/v1/auth/superusers/login";

  const HttpReply reply =
      w.Send("POST", path, Body({{"email", kRoot}, {"password", kRootPassword}}));
  INFO(reply.body);
  REQUIRE(reply.status == 200);
  CHECK(reply.Header("cache-control") == "no-store");
  const JsonValue body = Json(reply);
  CHECK(body.members().size() == 2);
  CHECK(Text(body, {"record", "id"}) == root->id);
  CHECK(Text(body, {"record", "email"}) == kRoot);
  CHECK(reply.body.find("password") == std::string::npos);
  CHECK(reply.body.find("tokenKey") == std::string::npos);
  const std::string token = Text(body, {"token"});
  auto claims = w.signer.Verify(token);
  REQUIRE(claims);
  CHECK(claims->aud == "platform");
  CHECK(claims->type == "auth");
  auto caller = w.authenticate.Identify("", token);
  REQUIRE(caller);
  CHECK(caller->superuser);

  SECTION("wrong passwords and members' credentials get the same 400") {
    const HttpReply wrong =
        w.Send("POST", path, Body({{"email", kRoot}, {"password", "not-the-password-00"}}));
    CHECK(wrong.status == 400);
    CHECK(wrong.body == kFailed);
    const HttpReply member =
        w.Send("POST", path, Body({{"email", kAda}, {"password", kAdaPassword}}));
    CHECK(member.status == 400);
    CHECK(member.body == kFailed);
    // And the other way round: a superuser is not a member.
    const HttpReply as_member = w.Login(kRoot, kRootPassword);
    CHECK(as_member.status == 400);
    CHECK(as_member.body == kFailed);
  }
  SECTION("bad bodies") {
    CHECK(w.Send("POST", path, "{").status == 400);
    CheckFieldError(w.Send("POST", path, "{}"), "email", "validation_required");
    CheckFieldError(w.Send("POST", path, R"({"email":"root@example.com"})"), "password",
                    "validation_required");
    CheckFieldError(w.Send("POST", path, R"({"email":"root@example.com","password":"x","otp":1})"),
                    "otp", "validation_unknown_field");
    CheckFieldError(w.Send("POST", path, R"({"email":["root@example.com"],"password":"x"})"),
                    "email", "validation_invalid_type");
  }
  SECTION("a superuser's token is not a member's access token") {
    CHECK(w.Send("GET", "/api/v1/auth/sessions", {}, AuthWorld::Bearer(token)).status == 401);
    CHECK(w.Send("POST", "/api/v1/auth/role",
                 Body({{"refreshToken", "rt_x"}, {"role", ""}}), AuthWorld::Bearer(token))
              .status == 401);
  }
}

TEST_CASE("POST /api/v1/auth/role switches a session's role, for roles the member holds",
          "[http][platform_auth]") {
  AuthWorld w;
  const auto [access, refresh] = w.MustLogin(kAda, kAdaPassword);
  const std::string_view path = "/api/v1/auth/role";
  auto switch_role = [&](std::string_view refresh_token, std::string_view role,
                         std::string_view access_token) {
    return w.Send("POST", path, Body({{"refreshToken", refresh_token}, {"role", role}}),
                  AuthWorld::Bearer(access_token));
  };

  SECTION("back to all roles rotates the session like a refresh") {
    const HttpReply reply = switch_role(refresh, "", access);
    INFO(reply.body);
    REQUIRE(reply.status == 200);
    CHECK(reply.Header("cache-control") == "no-store");
    const JsonValue body = Json(reply);
    CHECK(Text(body, {"member", "id"}) == w.ada_id);
    CHECK(Text(body, {"member", "activeRole"}).empty());
    CHECK(Text(body, {"refreshToken"}) != refresh);
    CHECK(w.Refresh(Text(body, {"refreshToken"})).status == 200);
  }
  SECTION("a role the member does not hold is a 400 and leaves the session alone") {
    const HttpReply reply = switch_role(refresh, "owner", access);
    CheckFieldError(reply, "role", "validation_invalid_value");
    CheckFieldError(switch_role(refresh, "no-such-role", access), "role",
                    "validation_invalid_value");
    CHECK(w.Refresh(refresh).status == 200);  // not exchanged by the refusals
  }
  SECTION("without a member's access token: 401, nothing exchanged") {
    CHECK(w.Send("POST", path, Body({{"refreshToken", refresh}, {"role", ""}})).status == 401);
    CHECK(switch_role(refresh, "", "not-a-token").status == 401);
    CHECK(switch_role(refresh, "", refresh).status == 401);
    CHECK(w.Refresh(refresh).status == 200);
  }
  SECTION("another member's refresh token is refused and their session left alone") {
    const auto [bob_access, bob_refresh] = w.MustLogin(kBob, kBobPassword);
    const HttpReply reply = switch_role(bob_refresh, "", access);
    CHECK(reply.status == 401);
    CHECK(reply.body == kBadRefresh);
    CHECK(reply.body.find("accessToken") == std::string::npos);
    // Refused before anything was exchanged: Bob's refresh token still works, once.
    CHECK(w.Refresh(bob_refresh).status == 200);
    CHECK(w.Refresh(refresh).status == 200);  // Ada's own session is untouched
  }
  SECTION("bad bodies") {
    CHECK(w.Send("POST", path, "{", AuthWorld::Bearer(access)).status == 400);
    CheckFieldError(w.Send("POST", path, Body({{"refreshToken", refresh}}),
                           AuthWorld::Bearer(access)),
                    "role", "validation_required");
    CheckFieldError(w.Send("POST", path, R"({"refreshToken":"rt_x","role":7})",
                           AuthWorld::Bearer(access)),
                    "role", "validation_invalid_type");
    CheckFieldError(w.Send("POST", path, R"({"refreshToken":"rt_x","role":"","as":"x"})",
                           AuthWorld::Bearer(access)),
                    "as", "validation_unknown_field");
  }
}
