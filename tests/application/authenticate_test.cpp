// Signing in with a password, recognising tokens and refreshing them (Authenticate), over the
// memory stores, the real Argon2id hasher and the real Ed25519 signer, with a fake clock so
// that expiry and throttling are decided by the test.
#include <catch2/catch.hpp>

#include <algorithm>
#include <atomic>
#include <chrono>
#include <functional>
#include <optional>
#include <map>
#include <string>
#include <string_view>
#include <vector>

#include "application/data_world.hpp"
#include "socle/adapters/crypto/argon2_password_hasher.hpp"
#include "socle/adapters/crypto/digest.hpp"
#include "socle/adapters/crypto/ed25519_token_signer.hpp"
#include "socle/application/authenticate.hpp"
#include "socle/application/manage_superusers.hpp"
#include "socle/application/platform_store.hpp"
#include "socle/domain/login_throttle.hpp"

using namespace socle;
using namespace socle::domain;
using adapters::crypto::Argon2PasswordHasher;
using adapters::crypto::Argon2Policy;
using adapters::crypto::Ed25519TokenSigner;
using application::AuthResult;
using application::Authenticate;
using application::Caller;
using application::ClientInfo;
using application::RecordResult;
using application::RecordWriteInput;
using testing::Body;
using testing::NewCollection;
using testing::NewField;
using testing::Str;

namespace {

constexpr std::string_view kAdaPassword = "velvet-otter-quarry-41";
constexpr std::string_view kNewPassword = "lantern-moss-harbour-87";
constexpr std::string_view kRootPassword = "copper-finch-meadow-23";
constexpr std::int64_t kSecond = 1'000'000;
constexpr std::string_view kBadToken = "The request requires valid record authorization token.";

Caller Superuser() {
  Caller caller;
  caller.superuser = true;
  return caller;
}

RecordWriteInput Input(JsonValue body) {
  RecordWriteInput input;
  input.body = std::move(body);
  return input;
}

std::string Describe(const Error& error) {
  std::string out = std::string(ToString(error.code)) + ": " + error.message;
  for (const auto& f : error.fields) out += " | " + f.field + " " + f.code;
  return out;
}

Argon2PasswordHasher MustHasher(application::RandomSource& random, Argon2Policy policy = {}) {
  auto hasher = Argon2PasswordHasher::Create(policy, random);
  REQUIRE(hasher);
  return std::move(*hasher);
}

// Three failures lock an identity or an address for a minute; no quick-login lock, so that a
// test clock standing still does not lock on the second failure.
LoginThrottle MustThrottle() {
  LoginThrottleOptions options;
  options.failure_factor = 3;
  options.wait_increment = std::chrono::seconds(60);
  options.exponential_after = 0;
  options.quick_login_check = std::chrono::milliseconds(0);
  auto throttle = LoginThrottle::Create(options);
  REQUIRE(throttle);
  return std::move(*throttle);
}

// Counts the hashes verified, to see that an unknown identity costs what a known one does.
class CountingHasher final : public application::PasswordHasher {
 public:
  explicit CountingHasher(application::PasswordHasher& inner) : inner_(inner) {}
  Result<std::string> Hash(std::string_view password) override { return inner_.Hash(password); }
  Result<bool> Verify(std::string_view password, std::string_view phc) override {
    ++verifications;
    return inner_.Verify(password, phc);
  }
  bool NeedsRehash(std::string_view phc) override { return inner_.NeedsRehash(phc); }

  std::atomic<int> verifications{0};

 private:
  application::PasswordHasher& inner_;
};

// Two projects, shop and other; in shop the auth collections users (signs in by e-mail or
// username) and admins, and the base collection notes.
struct AuthWorld : testing::DataWorld {
  AuthWorld() {
    REQUIRE(projects.Create({"other", "acme", std::nullopt}));
    REQUIRE(signer.Generate("k1", random));

    Collection users = NewCollection("users", {NewField("name", FieldType::kText),
                                               NewField("username", FieldType::kText)});
    users.type = CollectionType::kAuth;
    users.indexes.push_back(CollectionIndex{"idx_users_username", true, {{"username", false}},
                                            {"username"}});
    users.auth.identity_fields = {"email", "username"};
    users_id = MustCreate(users).id;
    Collection admins = NewCollection("admins", {});
    admins.type = CollectionType::kAuth;
    admins_id = MustCreate(admins).id;
    notes_id = MustCreate(NewCollection("notes", {NewField("text", FieldType::kText)})).id;

    ada = MustCreateAuth("users", "ada@example.com", kAdaPassword,
                         {{"username", Str("ada_l")}, {"name", Str("Ada")}});
    bob = MustCreateAuth("users", "bob@example.com", "granite-kettle-swift-55",
                         {{"username", Str("bob_b")}, {"verified", JsonValue::Bool(true)}});
    // The same e-mail in another auth collection, with another password.
    admin = MustCreateAuth("admins", "ada@example.com", kRootPassword, {});
  }

  std::string MustCreateAuth(std::string_view collection, std::string email,
                             std::string_view password, std::vector<JsonValue::Member> extra) {
    std::vector<JsonValue::Member> members = {{"email", Str(std::move(email))},
                                              {"password", Str(std::string(password))},
                                              {"passwordConfirm", Str(std::string(password))}};
    for (auto& member : extra) members.push_back(std::move(member));
    auto created = auth_records.Create("shop", collection, Input(Body(std::move(members))),
                                       Superuser());
    if (!created) FAIL(Describe(created.error()));
    return created->record.record.Id(*created->record.collection);
  }

  RecordResult Stored(std::string_view collection, std::string_view id) {
    auto viewed = auth_records.View("shop", collection, id, "", Superuser());
    REQUIRE(viewed);
    return *viewed;
  }

  std::string StoredText(std::string_view collection, std::string_view id, std::string_view field) {
    RecordResult stored = Stored(collection, id);
    const JsonValue* value = stored.record.record.Get(*stored.record.collection, field);
    REQUIRE(value != nullptr);
    REQUIRE(value->type() == JsonValue::Type::kString);
    return value->AsString();
  }

  void Configure(std::string_view collection, const std::function<void(Collection&)>& change) {
    auto current = collections.Get("shop", collection);
    REQUIRE(current);
    change(*current);
    auto updated = collections.Update("shop", collection, *current, "test");
    if (!updated) FAIL(Describe(updated.error()));
  }

  Result<AuthResult> SignIn(std::string_view identity, std::string_view password,
                            std::string_view address = "198.51.100.1",
                            std::string_view collection = "users",
                            std::string_view identity_field = "") {
    return auth.WithPassword("shop", collection, identity, password, identity_field,
                             ClientInfo{std::string(address), "test"});
  }

  std::string MustSignIn(std::string_view identity, std::string_view password,
                         std::string_view collection = "users") {
    auto signed_in = SignIn(identity, password, "198.51.100.1", collection);
    if (!signed_in) FAIL(Describe(signed_in.error()));
    return signed_in->token;
  }

  std::string ShopId() {
    auto entry = directory.Find("shop");
    REQUIRE(entry);
    return entry->project.id.str();
  }

  Argon2PasswordHasher hasher = MustHasher(random);
  Ed25519TokenSigner signer;
  LoginThrottle throttle = MustThrottle();
  application::PlatformStore platform{stores, clock};
  application::ManageRecords auth_records{directory, clock, random, {}, nullptr,
                                          application::PasswordSettings{&hasher, {}}};
  application::ManageSuperusers superusers{platform, hasher, clock, random};
  Authenticate auth{directory, platform, signer, hasher, clock, random, throttle};
  std::string users_id, admins_id, notes_id;
  std::string ada, bob, admin;
};

void CheckFailedToAuthenticate(const Result<AuthResult>& result) {
  REQUIRE_FALSE(result);
  INFO(Describe(result.error()));
  CHECK(result.error().code == ErrorCode::kInvalidArgument);
  CHECK(result.error().message == "Failed to authenticate.");
  CHECK(result.error().fields.empty());
}

void CheckUnauthenticated(const Result<Caller>& result) {
  REQUIRE_FALSE(result);
  INFO(Describe(result.error()) + " (" + result.error().internal + ")");
  CHECK(result.error().code == ErrorCode::kUnauthenticated);
  CHECK(result.error().message == kBadToken);
}

}  // namespace

TEST_CASE("authenticate: a right password gives a token for the project and the record",
          "[application][auth]") {
  AuthWorld w;
  const Timestamp now = w.clock.Now();
  auto signed_in = w.SignIn("ada@example.com", kAdaPassword);
  if (!signed_in) FAIL(Describe(signed_in.error()));
  CHECK(signed_in->record.record.record.Id(*signed_in->record.record.collection) == w.ada);
  CHECK(signed_in->record.record.collection->id == w.users_id);

  auto claims = w.signer.Verify(signed_in->token);
  REQUIRE(claims);
  CHECK(claims->aud == "project:" + w.ShopId());
  CHECK(claims->aud == Authenticate::Audience(w.directory.Find("shop")->project));
  CHECK(claims->iss == "socle");
  CHECK(claims->type == "auth");
  CHECK(claims->sub == w.ada);
  CHECK(claims->collection_id == w.users_id);
  CHECK(claims->iat == now);
  CHECK(claims->exp == Timestamp::FromUnixMicros(now.unix_micros() + 604800 * kSecond));
  CHECK(claims->key_binding == w.signer.Bind(w.StoredText("users", w.ada, "tokenKey")));
  CHECK(claims->key_binding != w.signer.Bind(w.StoredText("users", w.bob, "tokenKey")));
  CHECK_FALSE(claims->jti.empty());

  // Each sign-in mints its own token.
  auto again = w.SignIn("ada@example.com", kAdaPassword);
  REQUIRE(again);
  CHECK(again->token != signed_in->token);
  CHECK(w.signer.Verify(again->token)->jti != claims->jti);

  // The token duration is the collection's.
  w.Configure("users", [](Collection& c) { c.auth.auth_token_duration = 3600; });
  auto shorter = w.SignIn("ada@example.com", kAdaPassword);
  REQUIRE(shorter);
  CHECK(w.signer.Verify(shorter->token)->exp ==
        Timestamp::FromUnixMicros(now.unix_micros() + 3600 * kSecond));
}

TEST_CASE("authenticate: an unknown identity and a wrong password get the same answer",
          "[application][auth]") {
  AuthWorld w;
  CountingHasher counting(w.hasher);
  Authenticate auth{w.directory, w.platform, w.signer, counting, w.clock, w.random, w.throttle};
  auto attempt = [&](std::string_view identity, std::string_view password, std::string address) {
    return auth.WithPassword("shop", "users", identity, password, "",
                             ClientInfo{std::move(address), "test"});
  };

  counting.verifications = 0;
  auto wrong_password = attempt("ada@example.com", kNewPassword, "198.51.100.10");
  CHECK(counting.verifications == 1);
  counting.verifications = 0;
  auto unknown = attempt("nobody@example.com", kAdaPassword, "198.51.100.11");
  // An unknown identity still costs one password verification.
  CHECK(counting.verifications == 1);
  CheckFailedToAuthenticate(wrong_password);
  CheckFailedToAuthenticate(unknown);
  CHECK(wrong_password.error().code == unknown.error().code);
  CHECK(wrong_password.error().message == unknown.error().message);
  CHECK(wrong_password.error().fields == unknown.error().fields);
  CHECK(wrong_password.error().retry_after_seconds == unknown.error().retry_after_seconds);

  // Another collection's password is a wrong password here, and the other way round.
  CheckFailedToAuthenticate(attempt("ada@example.com", kRootPassword, "198.51.100.12"));
  CheckFailedToAuthenticate(w.SignIn("ada@example.com", kAdaPassword, "198.51.100.13", "admins"));
  CHECK(w.SignIn("ada@example.com", kRootPassword, "198.51.100.13", "admins"));

  // Blank input is a validation error, not a failed attempt.
  auto blank = attempt("", "", "198.51.100.14");
  REQUIRE_FALSE(blank);
  CHECK(blank.error().code == ErrorCode::kInvalidArgument);
  CHECK(blank.error().fields.size() == 2);

  // Unknown project, unknown collection and a base collection are not auth contexts.
  CHECK(auth.WithPassword("nope", "users", "ada@example.com", kAdaPassword, "", {}).error().code ==
        ErrorCode::kNotFound);
  CHECK(auth.WithPassword("shop", "nope", "ada@example.com", kAdaPassword, "", {}).error().code ==
        ErrorCode::kNotFound);
  CHECK(auth.WithPassword("shop", "notes", "ada@example.com", kAdaPassword, "", {}).error().code ==
        ErrorCode::kNotFound);
}

TEST_CASE("authenticate: the authRule and passwordAuth decide who may sign in",
          "[application][auth]") {
  AuthWorld w;
  REQUIRE(w.SignIn("ada@example.com", kAdaPassword));

  w.Configure("users", [](Collection& c) { c.auth.auth_rule = std::nullopt; });
  CheckFailedToAuthenticate(w.SignIn("ada@example.com", kAdaPassword, "198.51.100.20"));
  CheckFailedToAuthenticate(w.SignIn("bob@example.com", "granite-kettle-swift-55", "198.51.100.21"));

  w.Configure("users", [](Collection& c) { c.auth.auth_rule = "verified = true"; });
  CheckFailedToAuthenticate(w.SignIn("ada@example.com", kAdaPassword, "198.51.100.22"));
  CHECK(w.SignIn("bob@example.com", "granite-kettle-swift-55", "198.51.100.22"));
  REQUIRE(w.auth_records.Update("shop", "users", w.ada,
                                Input(Body({{"verified", JsonValue::Bool(true)}})), Superuser()));
  CHECK(w.SignIn("ada@example.com", kAdaPassword, "198.51.100.23"));

  w.Configure("users", [](Collection& c) {
    c.auth.auth_rule = "";
    c.auth.password_auth = false;
  });
  auto disabled = w.SignIn("ada@example.com", kAdaPassword, "198.51.100.24");
  REQUIRE_FALSE(disabled);
  CHECK(disabled.error().code == ErrorCode::kInvalidArgument);
  auto methods = w.auth.Methods("shop", "users");
  REQUIRE(methods);
  CHECK_FALSE(methods->password);
}

TEST_CASE("authenticate: identity fields", "[application][auth]") {
  AuthWorld w;
  auto methods = w.auth.Methods("shop", "users");
  REQUIRE(methods);
  CHECK(methods->password);
  CHECK(methods->identity_fields == std::vector<std::string>{"email", "username"});

  // By username, looked up in each identity field in turn or in the one named.
  auto by_username = w.SignIn("ada_l", kAdaPassword);
  REQUIRE(by_username);
  CHECK(by_username->record.record.record.Id(*by_username->record.record.collection) == w.ada);
  CHECK(w.SignIn("ada_l", kAdaPassword, "198.51.100.30", "users", "username"));
  CHECK(w.SignIn("ada@example.com", kAdaPassword, "198.51.100.30", "users", "email"));
  // Bob's username with Ada's password is not Ada.
  CheckFailedToAuthenticate(w.SignIn("bob_b", kAdaPassword, "198.51.100.31"));
  // A username is not an e-mail.
  CheckFailedToAuthenticate(w.SignIn("ada_l", kAdaPassword, "198.51.100.32", "users", "email"));

  // A field that is not an identity field is refused before any lookup.
  for (const char* field : {"name", "password", "tokenKey", "id"}) {
    INFO(field);
    auto refused = w.SignIn("ada_l", kAdaPassword, "198.51.100.33", "users", field);
    REQUIRE_FALSE(refused);
    CHECK(refused.error().code == ErrorCode::kInvalidArgument);
    REQUIRE(refused.error().fields.size() == 1);
    CHECK(refused.error().fields[0].field == "identityField");
  }

  // The identity reaches the lookup as a value: filter syntax in it matches nothing.
  CheckFailedToAuthenticate(w.SignIn("ada_l' || id != '", kAdaPassword, "198.51.100.34"));
  CheckFailedToAuthenticate(w.SignIn("\" || id != \"", kAdaPassword, "198.51.100.35"));
}

TEST_CASE("authenticate: failures lock the identity, then the address", "[application][auth]") {
  AuthWorld w;
  SECTION("the identity") {
    for (int i = 0; i < 3; ++i) {
      CheckFailedToAuthenticate(
          w.SignIn("ada@example.com", kNewPassword, "198.51.100." + std::to_string(40 + i)));
      w.clock.Advance(kSecond);
    }
    // Locked: even the right password, from a fresh address, is not checked.
    auto locked = w.SignIn("ada@example.com", kAdaPassword, "198.51.100.50");
    REQUIRE_FALSE(locked);
    CHECK(locked.error().code == ErrorCode::kResourceExhausted);
    CHECK(locked.error().retry_after_seconds > 0);
    CHECK(locked.error().retry_after_seconds <= 60);
    // The identity as typed, in any letter case.
    CHECK(w.SignIn("ADA@example.com", kAdaPassword, "198.51.100.51").error().code ==
          ErrorCode::kResourceExhausted);
    // Other accounts are not affected.
    CHECK(w.SignIn("bob@example.com", "granite-kettle-swift-55", "198.51.100.52"));

    w.clock.Advance(locked.error().retry_after_seconds * kSecond);
    CHECK(w.SignIn("ada@example.com", kAdaPassword, "198.51.100.53"));
  }
  SECTION("an unknown identity exactly like a known one") {
    for (int i = 0; i < 3; ++i) {
      CheckFailedToAuthenticate(
          w.SignIn("nobody@example.com", kNewPassword, "198.51.100." + std::to_string(60 + i)));
      w.clock.Advance(kSecond);
    }
    auto locked = w.SignIn("nobody@example.com", kNewPassword, "198.51.100.70");
    REQUIRE_FALSE(locked);
    CHECK(locked.error().code == ErrorCode::kResourceExhausted);
    CHECK(locked.error().retry_after_seconds > 0);
  }
  SECTION("a success forgets the identity's failures") {
    int address = 80;
    auto next = [&] { return "198.51.100." + std::to_string(address++); };
    for (int round = 0; round < 3; ++round) {
      CheckFailedToAuthenticate(w.SignIn("ada@example.com", kNewPassword, next()));
      w.clock.Advance(kSecond);
      CheckFailedToAuthenticate(w.SignIn("ada@example.com", kNewPassword, next()));
      w.clock.Advance(kSecond);
      CHECK(w.SignIn("ada@example.com", kAdaPassword, next()));
      w.clock.Advance(kSecond);
    }
  }
  SECTION("the address") {
    // One failure for each of three identities from one address.
    for (const char* identity : {"ada@example.com", "bob@example.com", "nobody@example.com"}) {
      CheckFailedToAuthenticate(w.SignIn(identity, kNewPassword, "203.0.113.7"));
      w.clock.Advance(kSecond);
    }
    auto locked = w.SignIn("bob@example.com", "granite-kettle-swift-55", "203.0.113.7");
    REQUIRE_FALSE(locked);
    CHECK(locked.error().code == ErrorCode::kResourceExhausted);
    CHECK(locked.error().retry_after_seconds > 0);
    // The same account from elsewhere signs in.
    CHECK(w.SignIn("bob@example.com", "granite-kettle-swift-55", "203.0.113.8"));
    // A success does not clear the address.
    CHECK(w.SignIn("ada@example.com", kAdaPassword, "203.0.113.7").error().code ==
          ErrorCode::kResourceExhausted);
    w.clock.Advance(61 * kSecond);
    CHECK(w.SignIn("bob@example.com", "granite-kettle-swift-55", "203.0.113.7"));
  }
}

TEST_CASE("authenticate: a hash made under a weaker policy is replaced on sign-in",
          "[application][auth]") {
  AuthWorld w;
  // Ada's hash was made at the floor (t=2); this deployment now hashes with t=3.
  Argon2Policy stronger;
  stronger.iterations = 3;
  Argon2PasswordHasher strict = MustHasher(w.random, stronger);
  const std::string weak_hash = w.StoredText("users", w.ada, "password");
  const std::string key = w.StoredText("users", w.ada, "tokenKey");
  REQUIRE(strict.NeedsRehash(weak_hash));
  const std::string earlier = w.MustSignIn("ada@example.com", kAdaPassword);

  Authenticate upgraded{w.directory, w.platform, w.signer, strict, w.clock, w.random, w.throttle};
  auto signed_in = upgraded.WithPassword("shop", "users", "ada@example.com", kAdaPassword, "",
                                         ClientInfo{"198.51.100.90", "test"});
  if (!signed_in) FAIL(Describe(signed_in.error()));
  const std::string fresh_hash = w.StoredText("users", w.ada, "password");
  CHECK(fresh_hash != weak_hash);
  CHECK(fresh_hash.find("t=3") != std::string::npos);
  CHECK_FALSE(strict.NeedsRehash(fresh_hash));
  auto verified = strict.Verify(kAdaPassword, fresh_hash);
  REQUIRE(verified);
  CHECK(*verified);
  // The password did not change, so the tokens stay valid.
  CHECK(w.StoredText("users", w.ada, "tokenKey") == key);
  CHECK(upgraded.Identify("shop", earlier));
  // A wrong password changes nothing.
  CheckFailedToAuthenticate(upgraded.WithPassword("shop", "users", "bob@example.com", kAdaPassword,
                                                  "", ClientInfo{"198.51.100.91", "test"}));
  CHECK(w.StoredText("users", w.bob, "password").find("t=2") != std::string::npos);
  // The weaker hasher still signs in with the stronger hash, and leaves it alone.
  CHECK(w.SignIn("ada@example.com", kAdaPassword, "198.51.100.92"));
  CHECK(w.StoredText("users", w.ada, "password") == fresh_hash);
}

TEST_CASE("authenticate: Identify recognises valid tokens only", "[application][auth]") {
  AuthWorld w;
  const std::string token = w.MustSignIn("ada@example.com", kAdaPassword);

  auto caller = w.auth.Identify("shop", token);
  if (!caller) FAIL(Describe(caller.error()));
  CHECK_FALSE(caller->superuser);
  REQUIRE(caller->request.auth.has_value());
  REQUIRE(caller->request.auth->collection != nullptr);
  CHECK(caller->request.auth->collection->id == w.users_id);
  CHECK(caller->request.auth->record.Id(*caller->request.auth->collection) == w.ada);
  CHECK(caller->request.auth->record == w.Stored("users", w.ada).record.record);
  CHECK(caller->auth_schema != nullptr);

  SECTION("another project") { CheckUnauthenticated(w.auth.Identify("other", token)); }
  SECTION("malformed or foreign tokens") {
    CheckUnauthenticated(w.auth.Identify("shop", ""));
    CheckUnauthenticated(w.auth.Identify("shop", "not.a.token"));
    std::string altered = token;
    altered[altered.size() / 2] = altered[altered.size() / 2] == 'A' ? 'B' : 'A';
    CheckUnauthenticated(w.auth.Identify("shop", altered));
    // The same claims signed by another key under the same key id.
    Ed25519TokenSigner foreign;
    testing::SeededRandomSource other_random(7);
    REQUIRE(foreign.Generate("k1", other_random));
    auto claims = w.signer.Verify(token);
    REQUIRE(claims);
    auto forged = foreign.Sign(*claims);
    REQUIRE(forged);
    CheckUnauthenticated(w.auth.Identify("shop", *forged));
  }
  SECTION("another issuer") {
    application::AuthenticateOptions elsewhere;
    elsewhere.issuer = "elsewhere";
    Authenticate other{w.directory, w.platform, w.signer, w.hasher,
                       w.clock,     w.random,   w.throttle, elsewhere};
    auto theirs = other.WithPassword("shop", "users", "ada@example.com", kAdaPassword, "",
                                     ClientInfo{"198.51.100.100", "test"});
    REQUIRE(theirs);
    CHECK(w.signer.Verify(theirs->token)->iss == "elsewhere");
    CheckUnauthenticated(w.auth.Identify("shop", theirs->token));
    CheckUnauthenticated(other.Identify("shop", token));
    CHECK(other.Identify("shop", theirs->token));
  }
  SECTION("claims the signer vouches for but Identify must refuse") {
    auto valid = w.signer.Verify(token);
    REQUIRE(valid);
    auto resign = [&](const std::function<void(TokenClaims&)>& change) {
      TokenClaims claims = *valid;
      change(claims);
      auto signed_token = w.signer.Sign(claims);
      REQUIRE(signed_token);
      return *signed_token;
    };
    CheckUnauthenticated(w.auth.Identify("shop", resign([](TokenClaims& c) { c.type = "refresh"; })));
    CheckUnauthenticated(
        w.auth.Identify("shop", resign([](TokenClaims& c) { c.key_binding.clear(); })));
    CheckUnauthenticated(w.auth.Identify("shop", resign([&](TokenClaims& c) {
      c.key_binding = w.signer.Bind(w.StoredText("users", w.bob, "tokenKey"));
    })));
    CheckUnauthenticated(w.auth.Identify("shop", resign([&](TokenClaims& c) { c.sub = w.bob; })));
    CheckUnauthenticated(
        w.auth.Identify("shop", resign([&](TokenClaims& c) { c.collection_id = w.notes_id; })));
    CheckUnauthenticated(
        w.auth.Identify("shop", resign([&](TokenClaims& c) { c.collection_id = w.admins_id; })));
    CheckUnauthenticated(w.auth.Identify("shop", resign([](TokenClaims& c) { c.aud = "project:x"; })));
    // Issued in the future, beyond the tolerated skew.
    CheckUnauthenticated(w.auth.Identify("shop", resign([&](TokenClaims& c) {
      c.iat = Timestamp::FromUnixMicros(w.clock.Now().unix_micros() + 120 * kSecond);
    })));
    // The same claims re-signed are accepted: the refusals above are the changes'.
    CHECK(w.auth.Identify("shop", resign([](TokenClaims&) {})));
  }
  SECTION("expiry, with the tolerated skew") {
    w.clock.Advance((604800 + 30) * kSecond);
    CHECK(w.auth.Identify("shop", token));
    w.clock.Advance(kSecond);
    CheckUnauthenticated(w.auth.Identify("shop", token));
  }
  SECTION("a new password revokes the token") {
    REQUIRE(w.auth_records.Update("shop", "users", w.ada,
                                  Input(Body({{"password", Str(std::string(kNewPassword))},
                                              {"passwordConfirm", Str(std::string(kNewPassword))},
                                              {"oldPassword", Str(std::string(kAdaPassword))}})),
                                  *caller));
    CheckUnauthenticated(w.auth.Identify("shop", token));
    CHECK(w.auth.Identify("shop", w.MustSignIn("ada@example.com", kNewPassword)));
  }
  SECTION("a new e-mail revokes the token") {
    REQUIRE(w.auth_records.Update("shop", "users", w.ada,
                                  Input(Body({{"email", Str("ada.new@example.com")}})),
                                  Superuser()));
    CheckUnauthenticated(w.auth.Identify("shop", token));
  }
  SECTION("a new tokenKey revokes the token, other changes do not") {
    REQUIRE(w.auth_records.Update("shop", "users", w.ada, Input(Body({{"name", Str("Ada L.")}})),
                                  *caller));
    CHECK(w.auth.Identify("shop", token));
    REQUIRE(w.auth_records.Update("shop", "users", w.ada,
                                  Input(Body({{"tokenKey", Str(std::string(50, 'Z'))}})),
                                  Superuser()));
    CheckUnauthenticated(w.auth.Identify("shop", token));
  }
  SECTION("a deleted record") {
    REQUIRE(w.auth_records.Delete("shop", "users", w.ada, Superuser()));
    CheckUnauthenticated(w.auth.Identify("shop", token));
  }
}

TEST_CASE("authenticate: superusers sign in through _superusers for each project",
          "[application][auth]") {
  AuthWorld w;
  auto upserted = w.superusers.Upsert("root@example.com", "silver-heron-basin-42");
  REQUIRE(upserted);
  auto signed_in = w.auth.WithPassword("shop", "_superusers", "root@example.com",
                                       "silver-heron-basin-42", "", ClientInfo{"198.51.100.110", ""});
  if (!signed_in) FAIL(Describe(signed_in.error()));
  auto claims = w.signer.Verify(signed_in->token);
  REQUIRE(claims);
  CHECK(claims->collection_id == kSuperusersCollectionId);
  CHECK(claims->aud == "project:" + w.ShopId());
  CHECK(claims->exp.unix_micros() - claims->iat.unix_micros() == 86400 * kSecond);

  auto caller = w.auth.Identify("shop", signed_in->token);
  REQUIRE(caller);
  CHECK(caller->superuser);
  REQUIRE(caller->request.auth.has_value());
  CHECK(caller->request.auth->collection->name == kSuperusersCollectionName);
  CHECK(caller->request.auth->record.Id(*caller->request.auth->collection) == upserted->id);
  // The token opens the project it was issued for only.
  CheckUnauthenticated(w.auth.Identify("other", signed_in->token));
  // By id as well as by name.
  CHECK(w.auth.WithPassword("other", std::string(kSuperusersCollectionId), "root@example.com",
                            "silver-heron-basin-42", "", ClientInfo{"198.51.100.111", ""}));
  CheckFailedToAuthenticate(w.auth.WithPassword("shop", "_superusers", "root@example.com",
                                                kAdaPassword, "", ClientInfo{"198.51.100.112", ""}));
  // A user record's token is no superuser's.
  auto user = w.auth.Identify("shop", w.MustSignIn("ada@example.com", kAdaPassword));
  REQUIRE(user);
  CHECK_FALSE(user->superuser);

  // A new password for the superuser revokes its tokens.
  REQUIRE(w.superusers.Upsert("root@example.com", "amber-walrus-cinder-64"));
  CheckUnauthenticated(w.auth.Identify("shop", signed_in->token));
}

TEST_CASE("authenticate: Refresh renews the caller's own token", "[application][auth]") {
  AuthWorld w;
  const std::string token = w.MustSignIn("ada@example.com", kAdaPassword);
  auto caller = w.auth.Identify("shop", token);
  REQUIRE(caller);

  w.clock.Advance(3600 * kSecond);
  auto refreshed = w.auth.Refresh("shop", "users", *caller);
  if (!refreshed) FAIL(Describe(refreshed.error()));
  CHECK(refreshed->token != token);
  auto claims = w.signer.Verify(refreshed->token);
  REQUIRE(claims);
  CHECK(claims->sub == w.ada);
  CHECK(claims->iat == w.clock.Now());
  CHECK(claims->exp == Timestamp::FromUnixMicros(w.clock.Now().unix_micros() + 604800 * kSecond));
  CHECK(refreshed->record.record.record.Id(*refreshed->record.record.collection) == w.ada);
  CHECK(w.auth.Identify("shop", refreshed->token));

  // Another auth collection's refresh is not this caller's.
  auto elsewhere = w.auth.Refresh("shop", "admins", *caller);
  REQUIRE_FALSE(elsewhere);
  CHECK(elsewhere.error().code == ErrorCode::kPermissionDenied);
  auto guest = w.auth.Refresh("shop", "users", Caller{});
  REQUIRE_FALSE(guest);
  CHECK(guest.error().code == ErrorCode::kUnauthenticated);
  // Refresh has the authRule checked again.
  w.Configure("users", [](Collection& c) { c.auth.auth_rule = "verified = true"; });
  auto unverified = w.auth.Refresh("shop", "users", *caller);
  REQUIRE_FALSE(unverified);
  CHECK(unverified.error().code == ErrorCode::kPermissionDenied);
  w.Configure("users", [](Collection& c) { c.auth.auth_rule = ""; });
  // And a record that is gone refreshes nothing.
  REQUIRE(w.auth_records.Delete("shop", "users", w.ada, Superuser()));
  auto gone = w.auth.Refresh("shop", "users", *caller);
  REQUIRE_FALSE(gone);
  CHECK(gone.error().code == ErrorCode::kUnauthenticated);
}

TEST_CASE("authenticate: every attempt is recorded, with its outcome, address and user agent",
          "[application][auth]") {
  AuthWorld w;
  application::SignInLog log(w.platform, w.clock, w.random, std::chrono::hours(24));
  application::AuthenticateOptions options;
  options.sign_in_log = &log;
  Authenticate auth{w.directory, w.platform, w.signer, w.hasher, w.clock, w.random, w.throttle,
                    options};
  const application::ClientInfo client{"198.51.100.7", "test-agent/1.0"};
  REQUIRE(auth.WithPassword("shop", "users", "ada@example.com", kAdaPassword, "", client));
  CHECK_FALSE(auth.WithPassword("shop", "users", "ada@example.com", "wrong-password-1", "", client));
  CHECK_FALSE(auth.WithPassword("shop", "users", "nobody@example.com", "wrong-password-1", "", client));

  auto recent = log.Recent("project:" + w.ShopId(), 10);
  REQUIRE(recent);
  REQUIRE(recent->size() == 3);
  int successes = 0, failures = 0;
  for (const auto& attempt : *recent) {
    CHECK(attempt.address == "198.51.100.7");
    CHECK(attempt.user_agent == "test-agent/1.0");
    CHECK(attempt.collection == w.users_id);
    if (attempt.outcome == "success") {
      ++successes;
      CHECK(attempt.identity == "ada@example.com");
      CHECK(attempt.record_id == w.ada);
    } else {
      ++failures;
      CHECK(attempt.outcome == "failure");
      // The account is named when the identity named one, never otherwise.
      CHECK(attempt.record_id == (attempt.identity == "ada@example.com" ? w.ada : ""));
    }
  }
  CHECK(successes == 1);
  CHECK(failures == 2);
  // Other realms see none of them.
  CHECK(log.Recent("platform", 10)->empty());

  // Past the retention, Purge removes them.
  w.clock.Advance(25LL * 3600 * kSecond);
  auto purged = log.Purge();
  REQUIRE(purged);
  CHECK(*purged == 3);
  CHECK(log.Recent("project:" + w.ShopId(), 10)->empty());
}

TEST_CASE("authenticate: an auth record's roles field feeds @request.auth.roles, with role switching",
          "[application][auth][rbac]") {
  AuthWorld w;
  // users get a multiple select of roles.
  w.Configure("users", [](Collection& c) {
    Field roles = NewField("roles", FieldType::kSelect);
    roles.values = {"editor", "viewer", "support"};
    roles.max_select = 3;
    c.fields.push_back(roles);
  });
  REQUIRE(w.auth_records.Update("shop", "users", w.ada,
                                Input(Body({{"roles", JsonValue::Array({Str("viewer"), Str("editor")})}})),
                                Superuser()));
  auto caller = w.auth.Identify("shop", w.MustSignIn("ada@example.com", kAdaPassword));
  REQUIRE(caller);
  REQUIRE(caller->Roles() != nullptr);
  CHECK(*caller->Roles() == std::vector<std::string>{"editor", "viewer"});
  CHECK(caller->active_role.empty());

  // Switching to a held role: the token acts with it alone, and keeps it on refresh.
  auto switched = w.auth.Refresh("shop", "users", *caller, std::string("editor"));
  if (!switched) FAIL(Describe(switched.error()));
  auto acting = w.auth.Identify("shop", switched->token);
  REQUIRE(acting);
  CHECK(acting->active_role == "editor");
  CHECK(*acting->Roles() == std::vector<std::string>{"editor"});
  auto kept = w.auth.Refresh("shop", "users", *acting);
  REQUIRE(kept);
  CHECK(*w.auth.Identify("shop", kept->token)->Roles() == std::vector<std::string>{"editor"});
  // Back to all roles.
  auto all = w.auth.Refresh("shop", "users", *acting, std::string());
  REQUIRE(all);
  CHECK(w.auth.Identify("shop", all->token)->Roles()->size() == 2);

  // A role the record does not hold is refused.
  auto refused = w.auth.Refresh("shop", "users", *caller, std::string("support"));
  REQUIRE_FALSE(refused);
  CHECK(refused.error().code == ErrorCode::kInvalidArgument);
  REQUIRE(refused.error().fields.size() == 1);
  CHECK(refused.error().fields[0].field == "role");

  // When the record loses the role, the token acting with it holds no role at all.
  REQUIRE(w.auth_records.Update("shop", "users", w.ada,
                                Input(Body({{"roles", JsonValue::Array({Str("viewer")})}})),
                                Superuser()));
  auto lost = w.auth.Identify("shop", switched->token);
  REQUIRE(lost);
  CHECK(lost->Roles()->empty());

  // Records of a collection without a roles field have none.
  auto bob = w.auth.Identify("shop", w.MustSignIn("bob@example.com", "granite-kettle-swift-55"));
  REQUIRE(bob);
  CHECK(bob->Roles()->empty());
}

TEST_CASE("authenticate: RecordRoles reads select, json and text fields", "[application][auth][rbac]") {
  for (auto [type, value, expected] :
       std::vector<std::tuple<FieldType, JsonValue, std::vector<std::string>>>{
           {FieldType::kSelect, JsonValue::Array({Str("b"), Str("a"), Str("a")}), {"a", "b"}},
           {FieldType::kJson, JsonValue::Array({Str("x"), JsonValue::Integer(3), Str("y")}), {"x", "y"}},
           {FieldType::kText, Str(" editor, viewer ,,"), {"editor", "viewer"}},
           {FieldType::kText, Str(""), {}},
           {FieldType::kJson, JsonValue::Object({}), {}},
       }) {
    Collection c = NewCollection("people", {NewField("roles", type)});
    c.fields.insert(c.fields.begin(), NewField("id", FieldType::kText));
    Record record = domain::EmptyRecord(c);
    record.values[*c.FieldIndex("roles")] = value;
    CHECK(Authenticate::RecordRoles(c, record) == expected);
  }
  Collection none = NewCollection("people", {NewField("name", FieldType::kText)});
  CHECK(Authenticate::RecordRoles(none, domain::EmptyRecord(none)).empty());
}

TEST_CASE("authenticate: sign-ins to a project go into its audit trail, refusals as denied",
          "[application][auth][audit]") {
  AuthWorld w;
  application::AuditTrail trail(w.clock, w.random, [](std::string_view bytes) {
    return adapters::crypto::ToHex(adapters::crypto::Sha256(bytes));
  });
  application::AuthenticateOptions options;
  options.audit = &trail;
  Authenticate audited(w.directory, w.platform, w.signer, w.hasher, w.clock, w.random, w.throttle,
                       options);
  auto sign_in = [&](std::string_view identity, std::string_view password) {
    return audited.WithPassword("shop", "users", identity, password, "",
                                ClientInfo{"198.51.100.9", "audit-test"});
  };
  REQUIRE(sign_in("ada@example.com", kAdaPassword));
  REQUIRE_FALSE(sign_in("ada@example.com", "not-her-password-at-all"));
  REQUIRE_FALSE(sign_in("nobody@example.com", "whatever-it-is-123"));

  auto entry = w.directory.Find("shop");
  REQUIRE(entry);
  application::AuditQuery query;
  query.action = "auth.sign_in";
  auto events = entry->store->AuditEvents(query);
  REQUIRE(events);
  REQUIRE(events->size() == 3);  // newest first
  const AuditEvent& unknown = (*events)[0].event;
  CHECK(unknown.outcome == AuditOutcome::kDenied);
  CHECK(unknown.actor_kind == AuditActorKind::kGuest);
  CHECK(unknown.target_id.empty());
  const AuditEvent& wrong = (*events)[1].event;
  CHECK(wrong.outcome == AuditOutcome::kDenied);
  CHECK(wrong.target_id == w.ada);
  const AuditEvent& right = (*events)[2].event;
  CHECK(right.outcome == AuditOutcome::kSuccess);
  CHECK(right.actor_kind == AuditActorKind::kAppUser);
  CHECK(right.actor_id == w.ada);
  CHECK(right.target_collection == w.users_id);
  REQUIRE((*events)[2].personal.size() == 1);
  CHECK((*events)[2].personal[0].data.find("198.51.100.9") != std::string::npos);
  // Nothing of what was typed enters the chain: the address sits in the erasable part only.
  for (const auto& stored : *events) {
    CHECK(stored.event.changes == "[]");
    CHECK(stored.event.changes.find("nobody") == std::string::npos);
  }
}
