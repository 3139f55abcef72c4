// The platform store and what lives in it: the token signing keys (ManageSigningKeys, with the
// real Ed25519 signer and AES-256-GCM secret box) and the superusers (ManageSuperusers, with the
// real Argon2id hasher), over the memory stores and a fake clock.
#include <catch2/catch.hpp>

#include <algorithm>
#include <array>
#include <chrono>
#include <cstdint>
#include <memory>
#include <optional>
#include <span>
#include <string>
#include <string_view>
#include <vector>

#include "socle/adapters/crypto/argon2_password_hasher.hpp"
#include "socle/adapters/crypto/ed25519_token_signer.hpp"
#include "socle/adapters/crypto/secret_box.hpp"
#include "socle/adapters/memory/memory_project_store.hpp"
#include "socle/application/manage_signing_keys.hpp"
#include "socle/application/manage_superusers.hpp"
#include "socle/application/platform_store.hpp"
#include "support/test_ports.hpp"

using namespace socle;
using namespace socle::domain;
using adapters::crypto::Argon2PasswordHasher;
using adapters::crypto::Argon2Policy;
using adapters::crypto::Ed25519TokenSigner;
using adapters::crypto::SecretBox;
using application::ManageSigningKeys;
using application::ManageSuperusers;
using application::PlatformStore;
using application::SigningKeyInfo;

namespace {

constexpr std::int64_t kSecond = 1'000'000;
constexpr std::chrono::seconds kRetention{3600};

using MasterKey = std::array<std::uint8_t, SecretBox::kKeySize>;

MasterKey KeyOf(std::uint8_t byte) {
  MasterKey key{};
  for (std::size_t i = 0; i < key.size(); ++i) key[i] = static_cast<std::uint8_t>(byte + i);
  return key;
}

SecretBox MustBox(const MasterKey& key, application::RandomSource& random) {
  auto box = SecretBox::Create(key, {}, random);
  REQUIRE(box);
  return std::move(*box);
}

std::string Describe(const Error& error) {
  std::string out = std::string(ToString(error.code)) + ": " + error.message;
  for (const auto& f : error.fields) out += " | " + f.field + " " + f.code;
  return out;
}

// Test-side base64url decoding (unpadded), independent of the adapter's.
std::optional<std::string> FromBase64Url(std::string_view text) {
  constexpr std::string_view kAlphabet =
      "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-_";
  std::string out;
  std::uint32_t buffer = 0;
  int bits = 0;
  for (char c : text) {
    const std::size_t value = kAlphabet.find(c);
    if (value == std::string_view::npos) return std::nullopt;
    buffer = (buffer << 6) | static_cast<std::uint32_t>(value);
    bits += 6;
    if (bits >= 8) {
      bits -= 8;
      out.push_back(static_cast<char>((buffer >> bits) & 0xFF));
    }
  }
  return out;
}

std::string ToBase64Url(std::string_view bytes) {
  constexpr std::string_view kAlphabet =
      "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-_";
  std::string out;
  std::uint32_t buffer = 0;
  int bits = 0;
  for (char c : bytes) {
    buffer = (buffer << 8) | static_cast<std::uint8_t>(c);
    bits += 8;
    while (bits >= 6) {
      bits -= 6;
      out.push_back(kAlphabet[(buffer >> bits) & 63]);
    }
  }
  if (bits > 0) out.push_back(kAlphabet[(buffer << (6 - bits)) & 63]);
  return out;
}

std::string ToHex(std::string_view bytes) {
  constexpr std::string_view kDigits = "0123456789abcdef";
  std::string out;
  for (char c : bytes) {
    out.push_back(kDigits[static_cast<std::uint8_t>(c) >> 4]);
    out.push_back(kDigits[static_cast<std::uint8_t>(c) & 15]);
  }
  return out;
}

// The protected header of a compact JWS, as text.
std::string HeaderOf(std::string_view token) {
  const std::size_t dot = token.find('.');
  REQUIRE(dot != std::string_view::npos);
  auto header = FromBase64Url(token.substr(0, dot));
  REQUIRE(header);
  return *header;
}

TokenClaims ClaimsAt(Timestamp now) {
  TokenClaims claims;
  claims.iss = "socle";
  claims.sub = "abcdefghijklmno";
  claims.aud = "project:p";
  claims.jti = "j" + std::to_string(now.unix_micros());
  claims.collection_id = "pbc_users";
  claims.type = "auth";
  claims.iat = now;
  claims.exp = Timestamp::FromUnixMicros(now.unix_micros() + 10 * 24 * 3600 * kSecond);
  claims.key_binding = "binding";
  return claims;
}

// One server process: its own signer and keys manager over the shared platform stores.
struct Process {
  Process(adapters::memory::MemoryProjectStores& stores, testing::ManualClock& clock,
          testing::SeededRandomSource& random, const MasterKey& master)
      : platform(stores, clock),
        box(MustBox(master, random)),
        keys(platform, signer, box, clock, random, kRetention) {}

  std::string MustSign(Timestamp now) {
    auto token = signer.Sign(ClaimsAt(now));
    if (!token) FAIL(Describe(token.error()));
    return *token;
  }

  bool Verifies(const std::string& token) {
    auto claims = signer.Verify(token);
    if (!claims) CHECK(claims.error().code == ErrorCode::kUnauthenticated);
    return claims.has_value();
  }

  PlatformStore platform;
  Ed25519TokenSigner signer;
  SecretBox box;
  ManageSigningKeys keys;
};

struct KeysWorld {
  adapters::memory::MemoryProjectStores stores;
  testing::ManualClock clock;
  testing::SeededRandomSource random;
  MasterKey master = KeyOf(0x11);
  Process process{stores, clock, random, master};

  // The _signingKeys records as stored.
  std::vector<Record> StoredKeys(const Collection** collection = nullptr) {
    auto store = process.platform.Store();
    REQUIRE(store);
    auto schema = (*store)->Schema();
    REQUIRE(schema);
    const Collection* keys = (*schema)->Find("_signingKeys");
    REQUIRE(keys != nullptr);
    application::RecordQuery query;
    query.limit = 100;
    auto page = (*store)->Query(*keys, query);
    REQUIRE(page);
    if (collection != nullptr) *collection = keys;
    schema_ = *schema;  // keeps *collection alive
    return page->items;
  }

  SchemaPtr schema_;
};

std::string TextOf(const Collection& collection, const Record& record, std::string_view field) {
  const JsonValue* value = record.Get(collection, field);
  REQUIRE(value != nullptr);
  REQUIRE(value->type() == JsonValue::Type::kString);
  return value->AsString();
}

}  // namespace

TEST_CASE("signing keys: Load creates the first key and installs it", "[application][auth][keys]") {
  KeysWorld w;
  CHECK(w.process.signer.CurrentKeyId().empty());
  auto listed = w.process.keys.List();
  REQUIRE(listed);
  CHECK(listed->empty());

  auto loaded = w.process.keys.Load();
  if (!loaded) FAIL(Describe(loaded.error()));
  REQUIRE(loaded->size() == 1);
  const SigningKeyInfo& first = loaded->front();
  CHECK(first.current);
  CHECK(first.created == w.clock.Now());
  // "k" + the creation time in microseconds, 16 digits, so that ids sort as creation times.
  std::string micros = std::to_string(w.clock.Now().unix_micros());
  micros.insert(0, 16 - micros.size(), '0');
  CHECK(first.kid.rfind("k" + micros + "-", 0) == 0);
  CHECK(w.process.signer.CurrentKeyId() == first.kid);
  CHECK(w.process.signer.PublicJwks().find(first.kid) != std::string::npos);

  const std::string token = w.process.MustSign(w.clock.Now());
  CHECK(HeaderOf(token).find("\"kid\":\"" + first.kid + "\"") != std::string::npos);
  CHECK(w.process.Verifies(token));

  // Loading again finds it: no second key.
  w.clock.Advance(60 * kSecond);
  auto again = w.process.keys.Load();
  REQUIRE(again);
  REQUIRE(again->size() == 1);
  CHECK(again->front().kid == first.kid);
  CHECK(w.StoredKeys().size() == 1);
  CHECK(w.process.Verifies(token));
}

TEST_CASE("signing keys: Rotate, retention and the keys of every process",
          "[application][auth][keys]") {
  KeysWorld w;
  auto loaded = w.process.keys.Load();
  REQUIRE(loaded);
  const std::string kid1 = loaded->front().kid;
  const Timestamp created1 = w.clock.Now();
  const std::string old_token = w.process.MustSign(w.clock.Now());

  w.clock.Advance(10 * kSecond);
  const Timestamp created2 = w.clock.Now();
  auto rotated = w.process.keys.Rotate();
  if (!rotated) FAIL(Describe(rotated.error()));
  const std::string kid2 = *rotated;
  CHECK(kid2 != kid1);
  CHECK(w.process.signer.CurrentKeyId() == kid2);
  const std::string new_token = w.process.MustSign(w.clock.Now());
  CHECK(HeaderOf(new_token).find("\"kid\":\"" + kid2 + "\"") != std::string::npos);
  CHECK(w.process.Verifies(old_token));
  CHECK(w.process.Verifies(new_token));

  // Newest first; the old key retires `retention` after its successor appeared.
  auto listed = w.process.keys.List();
  REQUIRE(listed);
  REQUIRE(listed->size() == 2);
  CHECK((*listed)[0].kid == kid2);
  CHECK((*listed)[0].current);
  CHECK((*listed)[0].created == created2);
  CHECK((*listed)[0].retires_at == Timestamp{});
  CHECK((*listed)[1].kid == kid1);
  CHECK_FALSE((*listed)[1].current);
  CHECK((*listed)[1].created == created1);
  const Timestamp retires =
      Timestamp::FromUnixMicros(created2.unix_micros() + kRetention.count() * kSecond);
  CHECK((*listed)[1].retires_at == retires);

  // Another process over the same platform store loads the same ring.
  Process other(w.stores, w.clock, w.random, w.master);
  auto other_loaded = other.keys.Load();
  REQUIRE(other_loaded);
  CHECK(other_loaded->size() == 2);
  CHECK(other.signer.CurrentKeyId() == kid2);
  CHECK(other.Verifies(old_token));
  CHECK(other.Verifies(new_token));
  CHECK(w.process.Verifies(other.MustSign(w.clock.Now())));

  // Up to the retirement instant the old key verifies ...
  w.clock.Advance(retires.unix_micros() - w.clock.Now().unix_micros());
  auto at_retirement = w.process.keys.Load();
  REQUIRE(at_retirement);
  CHECK(at_retirement->size() == 2);
  CHECK(w.process.Verifies(old_token));

  // ... and past it Load drops it, from the ring and from the store.
  w.clock.Advance(kSecond);
  auto after = w.process.keys.Load();
  REQUIRE(after);
  REQUIRE(after->size() == 1);
  CHECK(after->front().kid == kid2);
  CHECK_FALSE(w.process.Verifies(old_token));
  CHECK(w.process.Verifies(new_token));
  CHECK(w.process.signer.PublicJwks().find(kid1) == std::string::npos);
  CHECK(w.process.signer.PublicJwks().find(kid2) != std::string::npos);
  auto relisted = w.process.keys.List();
  REQUIRE(relisted);
  REQUIRE(relisted->size() == 1);
  CHECK(relisted->front().kid == kid2);
  CHECK(w.StoredKeys().size() == 1);

  // The other process forgets it on its next Load too.
  CHECK(other.Verifies(old_token));
  REQUIRE(other.keys.Load());
  CHECK_FALSE(other.Verifies(old_token));
  CHECK(other.Verifies(new_token));
}

TEST_CASE("signing keys: three generations, each retiring after its own successor",
          "[application][auth][keys]") {
  KeysWorld w;
  REQUIRE(w.process.keys.Load());
  const std::string t1 = w.process.MustSign(w.clock.Now());
  w.clock.Advance(1000 * kSecond);
  REQUIRE(w.process.keys.Rotate());
  const std::string t2 = w.process.MustSign(w.clock.Now());
  w.clock.Advance(1000 * kSecond);
  auto kid3 = w.process.keys.Rotate();
  REQUIRE(kid3);
  const std::string t3 = w.process.MustSign(w.clock.Now());
  auto listed = w.process.keys.List();
  REQUIRE(listed);
  REQUIRE(listed->size() == 3);
  CHECK((*listed)[0].kid == *kid3);
  CHECK((*listed)[1].retires_at.unix_micros() - (*listed)[2].retires_at.unix_micros() ==
        1000 * kSecond);

  // 2600 s after the second key appeared: only the first key is past its retention.
  w.clock.Advance(2601 * kSecond);
  auto loaded = w.process.keys.Load();
  REQUIRE(loaded);
  CHECK(loaded->size() == 2);
  CHECK_FALSE(w.process.Verifies(t1));
  CHECK(w.process.Verifies(t2));
  CHECK(w.process.Verifies(t3));
  w.clock.Advance(1000 * kSecond);
  loaded = w.process.keys.Load();
  REQUIRE(loaded);
  CHECK(loaded->size() == 1);
  CHECK_FALSE(w.process.Verifies(t2));
  CHECK(w.process.Verifies(t3));
  // The current key never retires, however old.
  w.clock.Advance(100 * kRetention.count() * kSecond);
  loaded = w.process.keys.Load();
  REQUIRE(loaded);
  REQUIRE(loaded->size() == 1);
  CHECK(loaded->front().kid == *kid3);
  CHECK(w.process.Verifies(t3));
}

TEST_CASE("signing keys: the seeds are sealed under the master key", "[application][auth][keys]") {
  KeysWorld w;
  auto loaded = w.process.keys.Load();
  REQUIRE(loaded);
  const std::string kid = loaded->front().kid;

  const Collection* keys = nullptr;
  std::vector<Record> stored = w.StoredKeys(&keys);
  REQUIRE(stored.size() == 1);
  const Field* sealed_field = keys->FindField("sealedSeed");
  REQUIRE(sealed_field != nullptr);
  CHECK(sealed_field->hidden);
  CHECK(TextOf(*keys, stored[0], "kid") == kid);
  const std::string sealed = TextOf(*keys, stored[0], "sealedSeed");
  CHECK(sealed.rfind("sb1." + w.process.box.CurrentKeyId() + ".", 0) == 0);

  // The seed inside is the signing key: a signer holding only it makes tokens the ring accepts.
  auto seed = w.process.box.Open(sealed, "signing-key:" + kid);
  REQUIRE(seed);
  REQUIRE(seed->size() == 32);
  CHECK(sealed.find(*seed) == std::string::npos);
  CHECK(sealed.find(ToHex(*seed)) == std::string::npos);
  CHECK(sealed.find(ToBase64Url(*seed)) == std::string::npos);
  Ed25519TokenSigner probe;
  REQUIRE(probe.AddKey(kid, std::span<const std::uint8_t>(
                                reinterpret_cast<const std::uint8_t*>(seed->data()), seed->size())));
  auto probe_token = probe.Sign(ClaimsAt(w.clock.Now()));
  REQUIRE(probe_token);
  CHECK(w.process.Verifies(*probe_token));

  // Bound to its key id: it does not open as another key's seed.
  auto elsewhere = w.process.box.Open(sealed, "signing-key:k0-other");
  REQUIRE_FALSE(elsewhere);
  CHECK(elsewhere.error().code == ErrorCode::kUnauthenticated);
}

TEST_CASE("signing keys: another master key cannot load them", "[application][auth][keys]") {
  KeysWorld w;
  REQUIRE(w.process.keys.Load());
  const std::string token = w.process.MustSign(w.clock.Now());

  Process wrong(w.stores, w.clock, w.random, KeyOf(0x22));
  auto loaded = wrong.keys.Load();
  REQUIRE_FALSE(loaded);
  CHECK(loaded.error().code == ErrorCode::kUnauthenticated);
  // Nothing was installed: it neither signs nor verifies.
  CHECK(wrong.signer.CurrentKeyId().empty());
  CHECK_FALSE(wrong.Verifies(token));
  auto unsigned_token = wrong.signer.Sign(ClaimsAt(w.clock.Now()));
  REQUIRE_FALSE(unsigned_token);
  CHECK(unsigned_token.error().code == ErrorCode::kFailedPrecondition);
  // And made no key of its own.
  CHECK(w.StoredKeys().size() == 1);
  auto listed = wrong.keys.List();
  REQUIRE(listed);
  CHECK(listed->size() == 1);

  // Nor may it rotate: a key sealed under another master key would leave a ring that no
  // server could load.
  auto rotated = wrong.keys.Rotate();
  REQUIRE_FALSE(rotated);
  CHECK(rotated.error().code == ErrorCode::kUnauthenticated);
  CHECK(w.StoredKeys().size() == 1);

  // The right master key still loads them.
  Process right(w.stores, w.clock, w.random, w.master);
  REQUIRE(right.keys.Load());
  CHECK(right.Verifies(token));
}

TEST_CASE("platform store: the system collections are created once", "[application][auth]") {
  adapters::memory::MemoryProjectStores stores;
  testing::ManualClock clock;
  PlatformStore platform(stores, clock);

  auto first = platform.Store();
  REQUIRE(first);
  auto schema = (*first)->Schema();
  REQUIRE(schema);
  const std::int64_t version = (*schema)->version;
  REQUIRE((*schema)->collections.size() == 6);  // + _apiKeys, _members, _sessions, _signInAttempts
  const Collection* api_keys = (*schema)->Find("_apiKeys");
  REQUIRE(api_keys != nullptr);
  CHECK(api_keys->system);
  REQUIRE(api_keys->FindField("binding") != nullptr);
  CHECK(api_keys->FindField("binding")->hidden);
  const Collection* superusers = (*schema)->FindById(kSuperusersCollectionId);
  REQUIRE(superusers != nullptr);
  CHECK(superusers->name == kSuperusersCollectionName);
  CHECK(superusers->type == CollectionType::kAuth);
  CHECK(superusers->system);
  CHECK(superusers->rules == CollectionRules{});
  CHECK(superusers->auth.auth_token_duration == 86400);
  REQUIRE(superusers->FindField("password") != nullptr);
  CHECK(superusers->FindField("password")->hidden);
  REQUIRE(superusers->FindField("tokenKey") != nullptr);
  CHECK(superusers->FindField("tokenKey")->hidden);
  const Collection* keys = (*schema)->Find("_signingKeys");
  REQUIRE(keys != nullptr);
  CHECK(keys->system);
  CHECK(std::any_of(keys->indexes.begin(), keys->indexes.end(), [](const CollectionIndex& index) {
    return index.unique && index.columns.size() == 1 && index.columns[0].field == "kid";
  }));
  auto history = (*first)->History();
  REQUIRE(history);
  const std::size_t changes = history->size();

  // Asking again gives the same store, unchanged.
  auto second = platform.Store();
  REQUIRE(second);
  CHECK(second->get() == first->get());
  CHECK((*(*second)->Schema())->version == version);

  // So does another PlatformStore over the same stores (another process starting).
  PlatformStore again(stores, clock);
  auto reopened = again.Store();
  REQUIRE(reopened);
  auto reopened_schema = (*reopened)->Schema();
  REQUIRE(reopened_schema);
  CHECK((*reopened_schema)->version == version);
  CHECK((*reopened_schema)->collections.size() == 6);
  auto reopened_history = (*reopened)->History();
  REQUIRE(reopened_history);
  CHECK(reopened_history->size() == changes);

  // The platform's store is not a project's.
  domain::Project project = PlatformStore::Project();
  CHECK(project.id.str() == "platform0000000");
}

TEST_CASE("superusers: Upsert creates, then sets a new password", "[application][auth]") {
  adapters::memory::MemoryProjectStores stores;
  testing::ManualClock clock;
  testing::SeededRandomSource random;
  auto made = Argon2PasswordHasher::Create(Argon2Policy{}, random);
  REQUIRE(made);
  Argon2PasswordHasher hasher = std::move(*made);
  PlatformStore platform(stores, clock);
  ManageSuperusers superusers(platform, hasher, clock, random);

  auto stored = [&](const std::string& id) {
    auto store = platform.Store();
    REQUIRE(store);
    auto schema = (*store)->Schema();
    REQUIRE(schema);
    const Collection* coll = (*schema)->FindById(kSuperusersCollectionId);
    REQUIRE(coll != nullptr);
    auto record = (*store)->Get(*coll, id, nullptr);
    REQUIRE(record);
    REQUIRE(record->has_value());
    struct Row {
      std::string email, password, token_key;
      bool verified;
    };
    return Row{TextOf(*coll, **record, "email"), TextOf(*coll, **record, "password"),
               TextOf(*coll, **record, "tokenKey"),
               (*record)->Get(*coll, "verified")->type() == JsonValue::Type::kBool &&
                   (*record)->Get(*coll, "verified")->AsBool()};
  };
  auto verifies = [&](std::string_view password, const std::string& hash) {
    auto verified = hasher.Verify(password, hash);
    REQUIRE(verified);
    return *verified;
  };

  auto count = superusers.Count();
  REQUIRE(count);
  CHECK(*count == 0);

  auto created = superusers.Upsert("root@example.com", "silver-heron-basin-42");
  if (!created) FAIL(Describe(created.error()));
  CHECK(created->created);
  CHECK(created->id.size() == 15);
  CHECK(*superusers.Count() == 1);
  const auto first = stored(created->id);
  CHECK(first.email == "root@example.com");
  CHECK(first.verified);
  CHECK(first.password.rfind("$argon2id$", 0) == 0);
  CHECK(verifies("silver-heron-basin-42", first.password));
  CHECK(first.token_key.size() == 50);
  CHECK(std::all_of(first.token_key.begin(), first.token_key.end(), [](char c) {
    return (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9');
  }));

  auto updated = superusers.Upsert("root@example.com", "amber-walrus-cinder-64");
  REQUIRE(updated);
  CHECK_FALSE(updated->created);
  CHECK(updated->id == created->id);
  CHECK(*superusers.Count() == 1);
  const auto second = stored(created->id);
  CHECK(verifies("amber-walrus-cinder-64", second.password));
  CHECK_FALSE(verifies("silver-heron-basin-42", second.password));
  CHECK(second.token_key != first.token_key);
  CHECK(second.token_key.size() == 50);

  // Refusals, with the field they are about; nothing is written.
  struct Bad {
    const char* email;
    const char* password;
    const char* field;
    const char* code;
  };
  for (const Bad& bad : {Bad{"not-an-email", "silver-heron-basin-42", "email", nullptr},
                         Bad{"", "silver-heron-basin-42", "email", nullptr},
                         Bad{"two@example.com", "short", "password",
                             "validation_min_text_constraint"},
                         Bad{"two@example.com", "", "password", "validation_required"},
                         Bad{"two@example.com", "password123", "password",
                             "validation_common_password"},
                         Bad{"rosalind@example.com", "xx-rosalind-2024", "password",
                             "validation_password_contains_identity"}}) {
    INFO(bad.email << " / " << bad.password);
    auto refused = superusers.Upsert(bad.email, bad.password);
    REQUIRE_FALSE(refused);
    CHECK(refused.error().code == ErrorCode::kInvalidArgument);
    REQUIRE(refused.error().fields.size() == 1);
    CHECK(refused.error().fields[0].field == bad.field);
    if (bad.code != nullptr) CHECK(refused.error().fields[0].code == bad.code);
  }
  // A weak password for an existing superuser leaves the old one in place.
  REQUIRE_FALSE(superusers.Upsert("root@example.com", "password123"));
  CHECK(stored(created->id).password == second.password);
  CHECK(*superusers.Count() == 1);

  auto another = superusers.Upsert("two@example.com", "quill-harbor-violet-66");
  REQUIRE(another);
  CHECK(another->created);
  CHECK(another->id != created->id);
  CHECK(*superusers.Count() == 2);
}
