// Platform members and their sessions (PlatformSessions) over the memory stores, the real
// Argon2id hasher and the real Ed25519 signer, with a clock the tests move: sign-in and its
// throttling, access tokens, refresh token rotation with reuse detection, logout, the sessions
// list, and the purge of spent refresh tokens.
#include <catch2/catch.hpp>

#include <atomic>
#include <chrono>
#include <functional>
#include <latch>
#include <memory>
#include <optional>
#include <string>
#include <string_view>
#include <thread>
#include <vector>

#include "socle/adapters/crypto/argon2_password_hasher.hpp"
#include "socle/adapters/crypto/ed25519_token_signer.hpp"
#include "socle/adapters/memory/memory_project_store.hpp"
#include "socle/application/platform_sessions.hpp"
#include "socle/application/platform_store.hpp"
#include "socle/application/ports/project_store.hpp"
#include "socle/domain/login_throttle.hpp"
#include "support/forwarding_project_store.hpp"
#include "support/test_ports.hpp"

using namespace socle;
using namespace socle::domain;
using adapters::crypto::Argon2PasswordHasher;
using adapters::crypto::Ed25519TokenSigner;
using application::ClientInfo;
using application::PlatformSessions;
using application::PlatformStore;
using application::PlatformTokens;

namespace {

constexpr std::string_view kAda = "ada@example.com";
constexpr std::string_view kAdaPassword = "velvet-otter-quarry-41";
constexpr std::string_view kBob = "bob@example.com";
constexpr std::string_view kBobPassword = "granite-kettle-swift-55";
constexpr std::string_view kNewPassword = "lantern-moss-harbour-87";
constexpr std::int64_t kSecond = 1'000'000;
constexpr std::int64_t kMinute = 60 * kSecond;
constexpr std::int64_t kDay = 86'400 * kSecond;

std::string Describe(const Error& error) {
  std::string out = std::string(ToString(error.code)) + ": " + error.message + " (" +
                    error.internal + ")";
  for (const auto& f : error.fields) out += " | " + f.field + " " + f.code;
  return out;
}

// Three failures lock an identity or an address for a minute; no quick-login lock, so that a
// clock standing still does not lock on the second failure.
LoginThrottle MustThrottle(std::int64_t failures = 3) {
  LoginThrottleOptions options;
  options.failure_factor = failures;
  options.wait_increment = std::chrono::seconds(60);
  options.exponential_after = 0;
  options.quick_login_check = std::chrono::milliseconds(0);
  auto throttle = LoginThrottle::Create(options);
  REQUIRE(throttle);
  return std::move(*throttle);
}

Argon2PasswordHasher MustHasher(application::RandomSource& random) {
  auto hasher = Argon2PasswordHasher::Create({}, random);
  REQUIRE(hasher);
  return std::move(*hasher);
}

// Counts the hashes verified, to see that an unknown e-mail costs what a known one does.
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

void CheckUnauthenticated(const Error& error, std::string_view message) {
  INFO(Describe(error));
  CHECK(error.code == ErrorCode::kUnauthenticated);
  CHECK(error.message == message);
}

// Well formed, but issued to nobody; and the same with another prefix.
const std::string kUnknownRefresh = "rt_" + std::string(50, 'A');
const std::string kWrongPrefix = "xx_" + std::string(50, 'A');

constexpr std::string_view kBadRefresh = "The refresh token is not valid.";
constexpr std::string_view kBadAccess = "The request requires valid authorization token.";

// The memory stores, with a gate on the sessions collection's lookups: once armed for n
// callers, the first n lookups wait until all n have arrived, so that concurrent refreshes all
// pass their first read before any of them writes (the race the write transaction must decide).
class GatedStore final : public testing::ForwardingProjectStore {
 public:
  GatedStore(std::shared_ptr<application::ProjectStore> inner, std::atomic<int>& armed,
             std::latch*& gate)
      : ForwardingProjectStore(std::move(inner)), armed_(armed), gate_(gate) {}
  Result<application::RecordPage> Query(const Collection& collection,
                                        const application::RecordQuery& query) override {
    if (collection.id == PlatformStore::kSessionsCollectionId && armed_.fetch_sub(1) > 0) {
      gate_->arrive_and_wait();
    }
    return inner().Query(collection, query);
  }

 private:
  std::atomic<int>& armed_;
  std::latch*& gate_;
};

class GatedStores final : public application::ProjectStores {
 public:
  Result<std::shared_ptr<application::ProjectStore>> Open(const Project& project) override {
    auto opened = inner_.Open(project);
    if (!opened) return opened;
    return std::make_shared<GatedStore>(std::move(*opened), armed, gate);
  }
  void Close(const Id& project_id) override { inner_.Close(project_id); }

  std::atomic<int> armed{0};
  std::latch* gate = nullptr;

 private:
  adapters::memory::MemoryProjectStores inner_;
};

struct World {
  World() {
    REQUIRE(signer.Generate("k1", random));
    auto made = sessions.UpsertMember(kAda, kAdaPassword, "Ada Lovelace");
    if (!made) FAIL(Describe(made.error()));
    ada = made->id;
    auto other = sessions.UpsertMember(kBob, kBobPassword, "");
    if (!other) FAIL(Describe(other.error()));
    bob = other->id;
  }

  PlatformTokens MustLogin(std::string_view email, std::string_view password,
                           std::string agent = "test-agent/1") {
    auto tokens = sessions.Login(email, password, ClientInfo{"198.51.100.7", std::move(agent)});
    if (!tokens) FAIL(Describe(tokens.error()));
    return *tokens;
  }

  PlatformTokens MustRefresh(std::string_view token) {
    auto tokens = sessions.Refresh(token, ClientInfo{"198.51.100.8", "test-agent/2"});
    if (!tokens) FAIL(Describe(tokens.error()));
    return *tokens;
  }

  // Every row of `_sessions`, read straight from the platform store.
  std::vector<Record> Rows() {
    auto store = platform.Store();
    REQUIRE(store);
    auto schema = (*store)->Schema();
    REQUIRE(schema);
    const Collection* c = (*schema)->FindById(PlatformStore::kSessionsCollectionId);
    REQUIRE(c != nullptr);
    application::RecordQuery query;
    query.limit = 1000;
    auto page = (*store)->Query(*c, query);
    REQUIRE(page);
    sessions_collection = *c;
    return page->items;
  }
  std::string Field(const Record& row, std::string_view name) {
    const JsonValue* value = row.Get(sessions_collection, name);
    REQUIRE(value != nullptr);
    return value->type() == JsonValue::Type::kString ? value->AsString() : std::string();
  }

  GatedStores stores;
  testing::ManualClock clock;
  testing::SeededRandomSource random;
  Argon2PasswordHasher real_hasher = MustHasher(random);
  CountingHasher hasher{real_hasher};
  Ed25519TokenSigner signer;
  LoginThrottle identities = MustThrottle();
  LoginThrottle addresses = MustThrottle(5);
  PlatformStore platform{stores, clock};
  PlatformSessions sessions{platform, signer, hasher, clock, random, identities, &addresses};
  Collection sessions_collection;
  std::string ada, bob;
};

}  // namespace

TEST_CASE("platform store declares the members and sessions collections",
          "[platform_sessions]") {
  const Collection members = PlatformStore::MembersCollection();
  CHECK(members.id == "pbc_platform_members");
  CHECK(members.name == "_members");
  CHECK(members.type == CollectionType::kAuth);
  CHECK_FALSE(members.rules.list.has_value());
  CHECK_FALSE(members.rules.view.has_value());
  CHECK_FALSE(members.rules.create.has_value());
  REQUIRE(members.FieldIndex("name"));
  CHECK(members.fields[*members.FieldIndex("name")].max == 255.0);
  REQUIRE(members.FieldIndex("tokenKey"));
  REQUIRE(members.FieldIndex("password"));

  const Collection sessions = PlatformStore::SessionsCollection();
  CHECK(sessions.id == "pbc_platform_sessions");
  CHECK(sessions.name == "_sessions");
  CHECK(sessions.type == CollectionType::kBase);
  REQUIRE(sessions.FieldIndex("binding"));
  CHECK(sessions.fields[*sessions.FieldIndex("binding")].hidden);
  bool unique_binding = false;
  bool family_index = false;
  for (const auto& index : sessions.indexes) {
    unique_binding |= index.unique && index.columns.size() == 1 &&
                      index.columns[0].field == "binding";
    family_index |= index.columns.size() == 1 && index.columns[0].field == "family";
  }
  CHECK(unique_binding);
  CHECK(family_index);
  for (std::string_view name : {"member", "family", "userAgent", "address", "expires", "rotated",
                                "revoked", "created", "updated"}) {
    INFO(name);
    CHECK(sessions.FieldIndex(name).has_value());
  }

  // Both exist once the store is opened.
  adapters::memory::MemoryProjectStores stores;
  testing::ManualClock clock;
  PlatformStore platform(stores, clock);
  auto store = platform.Store();
  REQUIRE(store);
  auto schema = (*store)->Schema();
  REQUIRE(schema);
  CHECK((*schema)->FindById(PlatformStore::kMembersCollectionId) != nullptr);
  CHECK((*schema)->FindById(PlatformStore::kSessionsCollectionId) != nullptr);
}

TEST_CASE("members are created, then given a new password", "[platform_sessions]") {
  World w;
  auto again = w.sessions.UpsertMember(kAda, kNewPassword, "");
  REQUIRE(again);
  CHECK_FALSE(again->created);
  CHECK(again->id == w.ada);
  // The name is kept when none is given, and the new password is the one that works.
  auto tokens = w.sessions.Login(kAda, kNewPassword, {"198.51.100.7", "ua"});
  REQUIRE(tokens);
  CHECK(tokens->member.name == "Ada Lovelace");
  CHECK(tokens->member.email == kAda);
  CHECK_FALSE(w.sessions.Login(kAda, kAdaPassword, {"198.51.100.7", "ua"}));

  SECTION("malformed input is refused field by field") {
    auto bad = w.sessions.UpsertMember("not-an-email", "short", std::string(256, 'n'));
    REQUIRE_FALSE(bad);
    CHECK(bad.error().code == ErrorCode::kInvalidArgument);
    std::vector<std::string> fields;
    for (const auto& f : bad.error().fields) fields.push_back(f.field);
    CHECK(fields == std::vector<std::string>{"email", "password", "name"});
  }
  SECTION("a name of 255 characters, multi-byte ones included, is fine") {
    std::string name;
    for (int i = 0; i < 255; ++i) name += "é";
    auto made = w.sessions.UpsertMember("carol@example.com", kNewPassword, name);
    REQUIRE(made);
    CHECK(made->created);
  }
}

TEST_CASE("login issues an access token for the platform and an opaque refresh token",
          "[platform_sessions]") {
  World w;
  const PlatformTokens tokens = w.MustLogin(kAda, kAdaPassword);
  CHECK(tokens.expires_in == 900);
  CHECK(tokens.member.id == w.ada);
  CHECK(tokens.member.email == kAda);
  CHECK(tokens.member.name == "Ada Lovelace");
  CHECK(tokens.refresh_token.starts_with("rt_"));
  CHECK(tokens.refresh_token.size() == 53);

  auto claims = w.signer.Verify(tokens.access_token);
  REQUIRE(claims);
  CHECK(claims->aud == "platform");
  CHECK(claims->iss == "socle");
  CHECK(claims->type == "access");
  CHECK(claims->sub == w.ada);
  CHECK(claims->collection_id == "pbc_platform_members");
  CHECK_FALSE(claims->key_binding.empty());
  CHECK(claims->exp.unix_micros() - claims->iat.unix_micros() == 15 * kMinute);

  // The refresh token itself is stored nowhere: only its binding, in one new row.
  const auto rows = w.Rows();
  REQUIRE(rows.size() == 1);
  CHECK(w.Field(rows[0], "binding") == w.signer.Bind(tokens.refresh_token));
  CHECK(w.Field(rows[0], "member") == w.ada);
  CHECK(w.Field(rows[0], "userAgent") == "test-agent/1");
  CHECK(w.Field(rows[0], "address") == "198.51.100.7");
  for (const auto& value : rows[0].values) {
    if (value.type() == JsonValue::Type::kString) CHECK(value.AsString() != tokens.refresh_token);
  }

  auto me = w.sessions.Identify(tokens.access_token);
  REQUIRE(me);
  CHECK(me->id == w.ada);
  CHECK(me->email == kAda);
}

TEST_CASE("an unknown e-mail and a wrong password are refused alike", "[platform_sessions]") {
  World w;
  const int before = w.hasher.verifications.load();
  auto unknown = w.sessions.Login("nobody@example.com", kAdaPassword, {"198.51.100.7", "ua"});
  const int after_unknown = w.hasher.verifications.load();
  auto wrong = w.sessions.Login(kAda, "not-the-password-00", {"198.51.100.9", "ua"});
  const int after_wrong = w.hasher.verifications.load();
  REQUIRE_FALSE(unknown);
  REQUIRE_FALSE(wrong);
  CHECK(unknown.error().code == ErrorCode::kInvalidArgument);
  CHECK(wrong.error().code == unknown.error().code);
  CHECK(unknown.error().message == "Failed to authenticate.");
  CHECK(wrong.error().message == unknown.error().message);
  CHECK(unknown.error().fields.empty());
  CHECK(wrong.error().fields.empty());
  // One password verification each: timing tells nothing either.
  CHECK(after_unknown - before == 1);
  CHECK(after_wrong - after_unknown == 1);
  CHECK(w.Rows().empty());

  SECTION("blank credentials name their fields") {
    auto blank = w.sessions.Login("", "", {"198.51.100.7", "ua"});
    REQUIRE_FALSE(blank);
    CHECK(blank.error().code == ErrorCode::kInvalidArgument);
    REQUIRE(blank.error().fields.size() == 2);
    CHECK(blank.error().fields[0].field == "email");
    CHECK(blank.error().fields[1].field == "password");
  }
}

TEST_CASE("failed logins lock the e-mail and the address", "[platform_sessions]") {
  World w;
  SECTION("per e-mail, known or not, from several addresses") {
    for (std::string_view email : {kAda, std::string_view("ghost@example.com")}) {
      for (int i = 0; i < 3; ++i) {
        auto failed = w.sessions.Login(email, "wrong-password-123",
                                       {"203.0.113." + std::to_string(i + 10 * (email == kAda)),
                                        "ua"});
        REQUIRE_FALSE(failed);
        CHECK(failed.error().code == ErrorCode::kInvalidArgument);
      }
      auto locked = w.sessions.Login(email, kAdaPassword, {"203.0.113.99", "ua"});
      REQUIRE_FALSE(locked);
      CHECK(locked.error().code == ErrorCode::kResourceExhausted);
      CHECK(locked.error().retry_after_seconds > 0);
      CHECK(locked.error().retry_after_seconds <= 60);
    }
    // The lock ends.
    w.clock.Advance(61 * kSecond);
    CHECK(w.sessions.Login(kAda, kAdaPassword, {"203.0.113.99", "ua"}));
  }
  SECTION("per address, across e-mails") {
    for (int i = 0; i < 5; ++i) {
      auto failed = w.sessions.Login("user" + std::to_string(i) + "@example.com",
                                     "wrong-password-123", {"192.0.2.1", "ua"});
      REQUIRE_FALSE(failed);
      CHECK(failed.error().code == ErrorCode::kInvalidArgument);
    }
    auto locked = w.sessions.Login(kAda, kAdaPassword, {"192.0.2.1", "ua"});
    REQUIRE_FALSE(locked);
    CHECK(locked.error().code == ErrorCode::kResourceExhausted);
    // Another address is not concerned.
    CHECK(w.sessions.Login(kAda, kAdaPassword, {"192.0.2.2", "ua"}));
  }
}

TEST_CASE("access tokens expire after 15 minutes and are for the platform only",
          "[platform_sessions]") {
  World w;
  const PlatformTokens tokens = w.MustLogin(kAda, kAdaPassword);
  w.clock.Advance(15 * kMinute);
  CHECK(w.sessions.Identify(tokens.access_token));
  w.clock.Advance(31 * kSecond);  // beyond the 30 s tolerated skew
  auto expired = w.sessions.Identify(tokens.access_token);
  REQUIRE_FALSE(expired);
  CheckUnauthenticated(expired.error(), kBadAccess);

  const Timestamp now = w.clock.Now();
  TokenClaims claims;
  claims.iss = "socle";
  claims.sub = w.ada;
  claims.aud = "platform";
  claims.jti = "j1";
  claims.collection_id = "pbc_platform_members";
  claims.type = "access";
  claims.iat = now;
  claims.exp = Timestamp::FromUnixMicros(now.unix_micros() + 10 * kMinute);
  claims.key_binding = w.signer.Bind("whatever");  // not Ada's tokenKey
  auto forged_binding = w.signer.Sign(claims);
  REQUIRE(forged_binding);
  CheckUnauthenticated(w.sessions.Identify(*forged_binding).error(), kBadAccess);

  // A project token (another audience) or another type opens nothing here, even for a
  // member's id.
  const PlatformTokens fresh = w.MustLogin(kAda, kAdaPassword);
  auto good = w.signer.Verify(fresh.access_token);
  REQUIRE(good);
  for (int variant = 0; variant < 4; ++variant) {
    TokenClaims changed = *good;
    if (variant == 0) changed.aud = "project:platform0000000";
    if (variant == 1) changed.type = "auth";
    if (variant == 2) changed.collection_id = std::string(kSuperusersCollectionId);
    if (variant == 3) changed.iss = "elsewhere";
    auto token = w.signer.Sign(changed);
    REQUIRE(token);
    INFO(variant);
    CheckUnauthenticated(w.sessions.Identify(*token).error(), kBadAccess);
  }
  CheckUnauthenticated(w.sessions.Identify("not.a.token").error(), kBadAccess);
  CheckUnauthenticated(w.sessions.Identify(fresh.refresh_token).error(), kBadAccess);
}

TEST_CASE("refresh tokens rotate, and a reused one revokes its family", "[platform_sessions]") {
  World w;
  const PlatformTokens first = w.MustLogin(kAda, kAdaPassword);
  w.clock.Advance(kMinute);
  const PlatformTokens second = w.MustRefresh(first.refresh_token);
  CHECK(second.refresh_token != first.refresh_token);
  CHECK(second.member.id == w.ada);
  CHECK(w.sessions.Identify(second.access_token));

  // The family now holds the exchanged row (rotated) and its successor.
  auto rows = w.Rows();
  REQUIRE(rows.size() == 2);
  CHECK(w.Field(rows[0], "family") == w.Field(rows[1], "family"));

  w.clock.Advance(kMinute);
  const PlatformTokens third = w.MustRefresh(second.refresh_token);

  // The exchanged token comes back: refused, and the newest token of its family stops too.
  auto reused = w.sessions.Refresh(first.refresh_token, {"203.0.113.5", "thief"});
  REQUIRE_FALSE(reused);
  CheckUnauthenticated(reused.error(), kBadRefresh);
  auto after = w.sessions.Refresh(third.refresh_token, {"198.51.100.8", "ua"});
  REQUIRE_FALSE(after);
  CheckUnauthenticated(after.error(), kBadRefresh);
  for (const auto& row : w.Rows()) CHECK_FALSE(w.Field(row, "revoked").empty());
  auto listed = w.sessions.Sessions(w.ada);
  REQUIRE(listed);
  CHECK(listed->empty());

  SECTION("other sessions of the member are not concerned") {
    const PlatformTokens other = w.MustLogin(kAda, kAdaPassword);
    CHECK(w.sessions.Refresh(other.refresh_token, {"198.51.100.8", "ua"}));
  }
}

TEST_CASE("refresh refuses malformed, unknown and expired tokens", "[platform_sessions]") {
  World w;
  const PlatformTokens tokens = w.MustLogin(kAda, kAdaPassword);
  for (std::string_view bad :
       {std::string_view(""), std::string_view("rt_"), std::string_view("rt_short"),
        std::string_view(tokens.access_token),
        std::string_view(kUnknownRefresh),
        std::string_view(kWrongPrefix)}) {
    INFO(bad);
    auto refused = w.sessions.Refresh(bad, {"198.51.100.8", "ua"});
    REQUIRE_FALSE(refused);
    CheckUnauthenticated(refused.error(), kBadRefresh);
  }
  // Still fine after 29 days; not after 30.
  w.clock.Advance(29 * kDay);
  const PlatformTokens renewed = w.MustRefresh(tokens.refresh_token);
  w.clock.Advance(30 * kDay);
  auto expired = w.sessions.Refresh(renewed.refresh_token, {"198.51.100.8", "ua"});
  REQUIRE_FALSE(expired);
  CheckUnauthenticated(expired.error(), kBadRefresh);
}

TEST_CASE("two concurrent refreshes of one token: exactly one succeeds", "[platform_sessions]") {
  World w;
  const PlatformTokens tokens = w.MustLogin(kAda, kAdaPassword);
  constexpr int kThreads = 6;
  std::latch start(kThreads);
  // Every refresh reads the token's row before any of them writes.
  std::latch looked_up(kThreads);
  w.stores.gate = &looked_up;
  w.stores.armed = kThreads;
  std::vector<std::optional<Result<PlatformTokens>>> results(kThreads);
  {
    std::vector<std::jthread> threads;
    for (int i = 0; i < kThreads; ++i) {
      threads.emplace_back([&, i] {
        start.arrive_and_wait();
        results[static_cast<std::size_t>(i)] =
            w.sessions.Refresh(tokens.refresh_token, {"198.51.100.8", "ua"});
      });
    }
  }
  int succeeded = 0;
  std::string winner;
  for (const auto& result : results) {
    REQUIRE(result.has_value());
    if (*result) {
      ++succeeded;
      winner = (*result)->refresh_token;
    } else {
      CheckUnauthenticated(result->error(), kBadRefresh);
    }
  }
  CHECK(succeeded == 1);
  // The losers presented an exchanged token: the family is revoked, the winner's token too.
  REQUIRE_FALSE(winner.empty());
  CHECK_FALSE(w.sessions.Refresh(winner, {"198.51.100.8", "ua"}));
  // One exchange happened: the first row and one successor.
  CHECK(w.Rows().size() == 2);
}

TEST_CASE("logout revokes the session's refresh tokens", "[platform_sessions]") {
  World w;
  const PlatformTokens kept = w.MustLogin(kAda, kAdaPassword, "phone");
  const PlatformTokens first = w.MustLogin(kAda, kAdaPassword, "laptop");
  const PlatformTokens second = w.MustRefresh(first.refresh_token);
  REQUIRE(w.sessions.Logout(second.refresh_token));
  CHECK_FALSE(w.sessions.Refresh(second.refresh_token, {"198.51.100.8", "ua"}));
  // Idempotent, and silent about unknown or malformed tokens.
  CHECK(w.sessions.Logout(second.refresh_token));
  CHECK(w.sessions.Logout(kUnknownRefresh));
  CHECK(w.sessions.Logout("garbage"));
  // The other session lives on.
  auto listed = w.sessions.Sessions(w.ada);
  REQUIRE(listed);
  REQUIRE(listed->size() == 1);
  CHECK(listed->front().user_agent == "phone");
  CHECK(w.sessions.Refresh(kept.refresh_token, {"198.51.100.8", "ua"}));
}

TEST_CASE("a member lists and revokes their sessions", "[platform_sessions]") {
  World w;
  const Timestamp login_at = w.clock.Now();
  const PlatformTokens laptop = w.MustLogin(kAda, kAdaPassword, "laptop");
  w.clock.Advance(kMinute);
  const PlatformTokens phone = w.MustLogin(kAda, kAdaPassword, "phone");
  const PlatformTokens bobs = w.MustLogin(kBob, kBobPassword, "bob's");
  w.clock.Advance(kMinute);
  const Timestamp refreshed_at = w.clock.Now();
  const PlatformTokens laptop2 = w.MustRefresh(laptop.refresh_token);

  auto listed = w.sessions.Sessions(w.ada);
  REQUIRE(listed);
  REQUIRE(listed->size() == 2);
  // Most recently used first; one entry per family, from its newest token.
  const auto& first = (*listed)[0];
  const auto& second = (*listed)[1];
  CHECK(first.user_agent == "test-agent/2");
  CHECK(first.address == "198.51.100.8");
  CHECK(first.created.unix_micros() / 1000 == login_at.unix_micros() / 1000);
  CHECK(first.last_used.unix_micros() / 1000 == refreshed_at.unix_micros() / 1000);
  CHECK(first.expires.unix_micros() / 1000 ==
        (refreshed_at.unix_micros() + 30 * kDay) / 1000);
  CHECK(second.user_agent == "phone");
  CHECK(second.address == "198.51.100.7");
  CHECK(first.id != second.id);

  // Bob cannot revoke Ada's session, nor learn whether it exists.
  auto foreign = w.sessions.RevokeSession(w.bob, first.id);
  REQUIRE_FALSE(foreign);
  CHECK(foreign.error().code == ErrorCode::kNotFound);
  auto unknown = w.sessions.RevokeSession(w.ada, "nosuchfamily000");
  REQUIRE_FALSE(unknown);
  CHECK(unknown.error().code == ErrorCode::kNotFound);
  CHECK(foreign.error().message == unknown.error().message);
  CHECK(w.sessions.Refresh(laptop2.refresh_token, {"198.51.100.8", "ua"}));

  REQUIRE(w.sessions.RevokeSession(w.ada, second.id));
  CHECK(w.sessions.RevokeSession(w.ada, second.id));  // twice is fine
  CHECK_FALSE(w.sessions.Refresh(phone.refresh_token, {"198.51.100.8", "ua"}));
  auto now_listed = w.sessions.Sessions(w.ada);
  REQUIRE(now_listed);
  REQUIRE(now_listed->size() == 1);
  CHECK((*now_listed)[0].id == first.id);
  auto bob_listed = w.sessions.Sessions(w.bob);
  REQUIRE(bob_listed);
  CHECK(bob_listed->size() == 1);
  CHECK(w.sessions.Refresh(bobs.refresh_token, {"198.51.100.8", "ua"}));
}

TEST_CASE("a new password stops the member's access and refresh tokens", "[platform_sessions]") {
  World w;
  const PlatformTokens ada = w.MustLogin(kAda, kAdaPassword);
  const PlatformTokens bob = w.MustLogin(kBob, kBobPassword);
  REQUIRE(w.sessions.Identify(ada.access_token));
  REQUIRE(w.sessions.UpsertMember(kAda, kNewPassword, ""));

  auto access = w.sessions.Identify(ada.access_token);
  REQUIRE_FALSE(access);
  CheckUnauthenticated(access.error(), kBadAccess);
  auto refresh = w.sessions.Refresh(ada.refresh_token, {"198.51.100.8", "ua"});
  REQUIRE_FALSE(refresh);
  CheckUnauthenticated(refresh.error(), kBadRefresh);
  auto listed = w.sessions.Sessions(w.ada);
  REQUIRE(listed);
  CHECK(listed->empty());
  // Bob is not concerned; Ada signs in again with the new password.
  CHECK(w.sessions.Identify(bob.access_token));
  CHECK(w.sessions.Refresh(bob.refresh_token, {"198.51.100.8", "ua"}));
  const PlatformTokens again = w.MustLogin(kAda, kNewPassword);
  CHECK(w.sessions.Identify(again.access_token));
}

TEST_CASE("purge keeps spent refresh tokens a day, so that reuse is still caught",
          "[platform_sessions]") {
  World w;
  const PlatformTokens first = w.MustLogin(kAda, kAdaPassword);
  const PlatformTokens second = w.MustRefresh(first.refresh_token);  // first: rotated
  const PlatformTokens logged_out = w.MustLogin(kBob, kBobPassword);
  REQUIRE(w.sessions.Logout(logged_out.refresh_token));  // revoked
  REQUIRE(w.Rows().size() == 3);

  // Within the day nothing goes, and reusing the exchanged token is still recognised.
  w.clock.Advance(23 * 3600 * kSecond);
  auto kept = w.sessions.Purge(w.clock.Now());
  REQUIRE(kept);
  CHECK(*kept == 0);
  CHECK(w.Rows().size() == 3);

  SECTION("a day later the rotated and revoked rows go, the live one stays") {
    w.clock.Advance(kDay);
    auto purged = w.sessions.Purge(w.clock.Now());
    REQUIRE(purged);
    CHECK(*purged == 2);
    const auto rows = w.Rows();
    REQUIRE(rows.size() == 1);
    CHECK(w.Field(rows[0], "binding") == w.signer.Bind(second.refresh_token));
    CHECK(w.sessions.Refresh(second.refresh_token, {"198.51.100.8", "ua"}));
    auto again = w.sessions.Purge(w.clock.Now());
    REQUIRE(again);
    CHECK(*again == 0);
  }
  SECTION("reuse within the day still revokes the family") {
    CHECK_FALSE(w.sessions.Refresh(first.refresh_token, {"203.0.113.5", "thief"}));
    CHECK_FALSE(w.sessions.Refresh(second.refresh_token, {"198.51.100.8", "ua"}));
  }
  SECTION("expired rows go at once") {
    w.clock.Advance(31 * kDay);
    auto purged = w.sessions.Purge(w.clock.Now());
    REQUIRE(purged);
    CHECK(*purged == 3);
    CHECK(w.Rows().empty());
  }
}
