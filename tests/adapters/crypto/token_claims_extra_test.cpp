// The claims the e-mailed one-time tokens need (tkh, email, newEmail), the tokenKey binding
// (Bind) and the whole-ring replacement the platform's key store drives (ReplaceKeys), on the
// Ed25519 signer. Hand-made tokens are signed with the signer's own key (SignBytes), so that a
// refusal can only come from the claims, never from a bad signature.
#include <atomic>
#include <catch2/catch.hpp>
#include <cstdint>
#include <set>
#include <span>
#include <string>
#include <string_view>
#include <thread>
#include <vector>

#include "socle/adapters/crypto/digest.hpp"
#include "socle/adapters/crypto/ed25519_token_signer.hpp"
#include "socle/adapters/json/json_parser.hpp"
#include "support/test_ports.hpp"

using socle::adapters::crypto::Ed25519TokenSigner;
using socle::application::TokenSigner;
using namespace socle::domain;

namespace {

// Test-side base64url, written independently of the adapter's so that a shared mistake in the
// two cannot hide.
constexpr std::string_view kAlphabet =
    "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-_";

std::string B64(std::string_view bytes) {
  std::string out;
  std::uint32_t buffer = 0;
  int bits = 0;
  for (const char c : bytes) {
    buffer = (buffer << 8) | static_cast<std::uint8_t>(c);
    bits += 8;
    while (bits >= 6) {
      bits -= 6;
      out += kAlphabet[(buffer >> bits) & 63];
    }
  }
  if (bits > 0) out += kAlphabet[(buffer << (6 - bits)) & 63];
  return out;
}

std::string B64(std::span<const std::uint8_t> bytes) {
  return B64(std::string_view(reinterpret_cast<const char*>(bytes.data()), bytes.size()));
}

std::string FromB64(std::string_view text) {
  std::string out;
  std::uint32_t buffer = 0;
  int bits = 0;
  for (const char c : text) {
    const std::size_t value = kAlphabet.find(c);
    REQUIRE(value != std::string_view::npos);
    buffer = (buffer << 6) | static_cast<std::uint32_t>(value);
    bits += 6;
    if (bits >= 8) {
      bits -= 8;
      out.push_back(static_cast<char>((buffer >> bits) & 0xFF));
    }
  }
  return out;
}

std::span<const std::uint8_t> AsBytes(std::string_view text) {
  return {reinterpret_cast<const std::uint8_t*>(text.data()), text.size()};
}

// The three segments of a compact JWS.
std::vector<std::string> Segments(std::string_view token) {
  std::vector<std::string> out;
  std::size_t start = 0;
  for (std::size_t dot = token.find('.'); dot != std::string_view::npos;
       dot = token.find('.', start)) {
    out.emplace_back(token.substr(start, dot - start));
    start = dot + 1;
  }
  out.emplace_back(token.substr(start));
  REQUIRE(out.size() == 3);
  return out;
}

JsonValue Json(std::string_view text) {
  INFO(text);
  auto parsed = socle::adapters::json::ParseJson(text);
  REQUIRE(parsed);
  return *parsed;
}

JsonValue HeaderOf(std::string_view token) { return Json(FromB64(Segments(token)[0])); }
JsonValue PayloadOf(std::string_view token) { return Json(FromB64(Segments(token)[1])); }

std::set<std::string> Keys(const JsonValue& object) {
  std::set<std::string> keys;
  for (const auto& [key, value] : object.members()) keys.insert(key);
  return keys;
}

std::string StringAt(const JsonValue& object, std::string_view key) {
  const JsonValue* value = object.Find(key);
  REQUIRE(value != nullptr);
  REQUIRE(value->type() == JsonValue::Type::kString);
  return value->AsString();
}

// Claims on whole seconds, so that a round trip gives them back equal.
TokenClaims OneTimeClaims() {
  TokenClaims claims;
  claims.iss = "socle";
  claims.sub = "r1234567890abcd";
  claims.aud = "project:p123";
  claims.jti = "0123456789abcdef0123456789abcdef";
  claims.collection_id = "_pb_users_auth_";
  claims.type = "emailChange";
  claims.iat = Timestamp::FromUnixMicros(1'700'000'000'000'000);
  claims.exp = Timestamp::FromUnixMicros(1'700'001'800'000'000);
  claims.key_binding = "Zm9vYmFyYmF6cXV4MTIzNA";
  claims.email = "ann@example.org";
  claims.new_email = "ann.new@example.net";
  return claims;
}

std::string Seed(std::uint8_t fill, std::size_t size = Ed25519TokenSigner::kKeySize) {
  std::string seed;
  for (std::size_t i = 0; i < size; ++i) seed.push_back(static_cast<char>(fill + i));
  return seed;
}

TokenSigner::KeyMaterial Material(std::string kid, std::uint8_t fill,
                                  std::size_t size = Ed25519TokenSigner::kKeySize) {
  return TokenSigner::KeyMaterial{std::move(kid), Seed(fill, size)};
}

std::string MustSign(Ed25519TokenSigner& signer, const TokenClaims& claims) {
  auto token = signer.Sign(claims);
  REQUIRE(token);
  return *token;
}

std::string KidOf(std::string_view token) { return StringAt(HeaderOf(token), "kid"); }

void RequireRefused(const Result<TokenClaims>& result) {
  REQUIRE_FALSE(result.has_value());
  CHECK(result.error().code == ErrorCode::kUnauthenticated);
  CHECK(result.error().message == "The token is invalid.");
}

// A signer holding one generated key "k1", and tokens over any payload text signed with it.
struct Fixture {
  socle::testing::SeededRandomSource random{11};
  Ed25519TokenSigner signer;
  Fixture() { REQUIRE(signer.Generate("k1", random)); }

  std::string SignRaw(std::string_view payload) {
    const std::string input =
        B64(std::string_view(R"({"alg":"EdDSA","typ":"JWT","kid":"k1"})")) + "." + B64(payload);
    auto signature = signer.SignBytes(AsBytes(input));
    REQUIRE(signature);
    return input + "." + B64(*signature);
  }
};

constexpr std::string_view kBasePayload =
    R"("iss":"socle","sub":"s","aud":"project:p","jti":"j","collectionId":"c",)"
    R"("type":"passwordReset","iat":1700000000,"exp":1700001800)";

std::string Payload(std::string_view extra) {
  std::string payload = "{" + std::string(kBasePayload);
  if (!extra.empty()) payload += "," + std::string(extra);
  return payload + "}";
}

}  // namespace

TEST_CASE("token claims: tkh, email and newEmail survive Sign and Verify", "[crypto][jwt]") {
  Fixture f;
  const TokenClaims claims = OneTimeClaims();
  const std::string token = MustSign(f.signer, claims);

  auto verified = f.signer.Verify(token);
  REQUIRE(verified);
  CHECK(*verified == claims);
  CHECK(verified->key_binding == "Zm9vYmFyYmF6cXV4MTIzNA");
  CHECK(verified->email == "ann@example.org");
  CHECK(verified->new_email == "ann.new@example.net");

  // Spelled as the one-time tokens spell them on the wire.
  const JsonValue payload = PayloadOf(token);
  CHECK(StringAt(payload, "tkh") == claims.key_binding);
  CHECK(StringAt(payload, "email") == claims.email);
  CHECK(StringAt(payload, "newEmail") == claims.new_email);
  CHECK(Keys(payload) == std::set<std::string>{"iss", "sub", "aud", "jti", "collectionId", "type",
                                               "iat", "exp", "tkh", "email", "newEmail"});

  SECTION("each claim on its own") {
    TokenClaims only_email = OneTimeClaims();
    only_email.key_binding.clear();
    only_email.new_email.clear();
    const std::string t = MustSign(f.signer, only_email);
    auto back = f.signer.Verify(t);
    REQUIRE(back);
    CHECK(*back == only_email);
    CHECK(Keys(PayloadOf(t)).count("email") == 1);
    CHECK(Keys(PayloadOf(t)).count("tkh") == 0);
    CHECK(Keys(PayloadOf(t)).count("newEmail") == 0);
  }

  SECTION("values that need JSON escaping come back unchanged") {
    TokenClaims odd = OneTimeClaims();
    odd.email = "\"quoted\\local\"@example.org";
    odd.new_email = "z\xC3\xBC@example.org";  // UTF-8 ü
    auto back = f.signer.Verify(MustSign(f.signer, odd));
    REQUIRE(back);
    CHECK(back->email == odd.email);
    CHECK(back->new_email == odd.new_email);
  }

  SECTION("changing a claim after signing breaks the signature") {
    const std::vector<std::string> parts = Segments(token);
    std::string text = FromB64(parts[1]);
    const std::size_t at = text.find("ann.new@example.net");
    REQUIRE(at != std::string::npos);
    text.replace(at, 3, "eve");
    RequireRefused(f.signer.Verify(parts[0] + "." + B64(text) + "." + parts[2]));
  }
}

TEST_CASE("token claims: empty tkh, email and newEmail are left out of the token",
          "[crypto][jwt]") {
  Fixture f;
  TokenClaims claims = OneTimeClaims();
  claims.key_binding.clear();
  claims.email.clear();
  claims.new_email.clear();
  const std::string token = MustSign(f.signer, claims);
  CHECK(Keys(PayloadOf(token)) ==
        std::set<std::string>{"iss", "sub", "aud", "jti", "collectionId", "type", "iat", "exp"});
  const std::string text = FromB64(Segments(token)[1]);
  CHECK(text.find("tkh") == std::string::npos);
  CHECK(text.find("\"email\"") == std::string::npos);
  CHECK(text.find("newEmail") == std::string::npos);
  auto verified = f.signer.Verify(token);
  REQUIRE(verified);
  CHECK(verified->key_binding.empty());
  CHECK(verified->email.empty());
  CHECK(verified->new_email.empty());
  CHECK(*verified == claims);
}

TEST_CASE("token claims: a tkh, email or newEmail that is not a string is refused",
          "[crypto][jwt]") {
  Fixture f;
  // The hand-made token itself is sound: with string values it verifies.
  auto sound = f.signer.Verify(
      f.SignRaw(Payload(R"("tkh":"b1nd","email":"a@example.org","newEmail":"b@example.org")")));
  REQUIRE(sound);
  CHECK(sound->key_binding == "b1nd");
  CHECK(sound->email == "a@example.org");
  CHECK(sound->new_email == "b@example.org");
  auto bare = f.signer.Verify(f.SignRaw(Payload("")));
  REQUIRE(bare);
  CHECK(bare->key_binding.empty());

  for (const std::string_view claim : {"tkh", "email", "newEmail"}) {
    for (const std::string_view value :
         {"123", "0", "true", "false", "null", R"(["x"])", R"({"v":"x"})", "1.5"}) {
      const std::string extra = "\"" + std::string(claim) + "\":" + std::string(value);
      INFO(extra);
      RequireRefused(f.signer.Verify(f.SignRaw(Payload(extra))));
    }
  }

  SECTION("a claim given twice is refused even when both are strings") {
    RequireRefused(
        f.signer.Verify(f.SignRaw(Payload(R"("email":"a@example.org","email":"b@example.org")"))));
    RequireRefused(f.signer.Verify(f.SignRaw(Payload(R"("tkh":"one","tkh":"two")"))));
  }
}

TEST_CASE("token claims: Bind is a short, deterministic, one-way binding", "[crypto][jwt]") {
  Ed25519TokenSigner signer;  // Bind needs no key
  const std::string secret = "Qm9uZEphbWVzQm9uZEphbWVzQm9uZEphbWVzQm9uZEphbWVzMDA3";
  const std::string bound = signer.Bind(secret);

  CHECK(signer.Bind(secret) == bound);
  Ed25519TokenSigner other;  // another instance, same answer: nothing per-process in it
  CHECK(other.Bind(secret) == bound);

  CHECK(bound.size() == 22);
  CHECK(bound.find_first_not_of(kAlphabet) == std::string::npos);
  CHECK(bound.find('=') == std::string::npos);
  CHECK(bound.find(secret) == std::string::npos);
  CHECK(secret.find(bound) == std::string::npos);
  CHECK(bound.find(secret.substr(0, 8)) == std::string::npos);

  // The documented construction: base64url of the first 16 bytes of
  // SHA-256("socle-token-key\0" + secret).
  std::string input = "socle-token-key";
  input.push_back('\0');
  input += secret;
  const auto digest = socle::adapters::crypto::Sha256(std::string_view(input));
  CHECK(bound == B64(std::span(digest.data(), 16)));
  // Not the plain hash of the secret (the prefix separates it from other uses of SHA-256).
  const auto plain = socle::adapters::crypto::Sha256(std::string_view(secret));
  CHECK(bound != B64(std::span(plain.data(), 16)));

  std::set<std::string> seen;
  for (const std::string& s :
       {secret, secret + "x", std::string("x") + secret, std::string(), std::string(1, '\0'),
        std::string("a") + '\0' + "b", std::string("a\0b\0", 4), std::string("ab"),
        std::string("tokenKey") + '\0' + "ann@example.org",
        std::string("tokenKey") + '\0' + "ann@example.net"}) {
    const std::string b = signer.Bind(s);
    CHECK(b.size() == 22);
    seen.insert(b);
  }
  CHECK(seen.size() == 10);  // every secret its own binding
}

TEST_CASE("token claims: ReplaceKeys installs a whole ring", "[crypto][jwt]") {
  Ed25519TokenSigner signer;
  REQUIRE(signer.ReplaceKeys({Material("a", 1), Material("b", 100)}, "a"));
  CHECK(signer.CurrentKeyId() == "a");
  const TokenClaims claims = OneTimeClaims();
  const std::string by_a = MustSign(signer, claims);
  CHECK(KidOf(by_a) == "a");
  REQUIRE(signer.Verify(by_a));
  const std::string jwks = signer.PublicJwks();
  CHECK(jwks.find("\"kid\":\"a\"") != std::string::npos);
  CHECK(jwks.find("\"kid\":\"b\"") != std::string::npos);

  // A token of key b, made by another signer that holds the same seed, verifies here.
  Ed25519TokenSigner holder_of_b;
  REQUIRE(holder_of_b.ReplaceKeys({Material("b", 100)}, "b"));
  const std::string by_b = MustSign(holder_of_b, claims);
  CHECK(KidOf(by_b) == "b");
  auto verified_b = signer.Verify(by_b);
  REQUIRE(verified_b);
  CHECK(*verified_b == claims);
  // The same seed gives the same key: the ring is rebuilt from stored seeds, not regenerated.
  REQUIRE(holder_of_b.Verify(MustSign(holder_of_b, claims)));

  SECTION("the current key may be any of the ring") {
    REQUIRE(signer.ReplaceKeys({Material("a", 1), Material("b", 100)}, "b"));
    CHECK(signer.CurrentKeyId() == "b");
    CHECK(KidOf(MustSign(signer, claims)) == "b");
    REQUIRE(signer.Verify(by_a));
    REQUIRE(signer.Verify(by_b));
  }

  SECTION("a key left out of the new ring stops verifying its tokens") {
    REQUIRE(signer.ReplaceKeys({Material("b", 100), Material("c", 200)}, "c"));
    CHECK(signer.CurrentKeyId() == "c");
    RequireRefused(signer.Verify(by_a));
    REQUIRE(signer.Verify(by_b));
    CHECK(KidOf(MustSign(signer, claims)) == "c");
    CHECK(signer.PublicJwks().find("\"kid\":\"a\"") == std::string::npos);
  }

  SECTION("a kid given another seed does not verify the old key's tokens") {
    REQUIRE(signer.ReplaceKeys({Material("a", 7)}, "a"));
    RequireRefused(signer.Verify(by_a));
    REQUIRE(signer.Verify(MustSign(signer, claims)));
  }

  SECTION("no current key: the ring only verifies") {
    REQUIRE(signer.ReplaceKeys({Material("a", 1)}, ""));
    CHECK(signer.CurrentKeyId().empty());
    auto sign = signer.Sign(claims);
    REQUIRE_FALSE(sign);
    CHECK(sign.error().code == ErrorCode::kFailedPrecondition);
    REQUIRE(signer.Verify(by_a));
    RequireRefused(signer.Verify(by_b));
  }

  SECTION("an empty ring verifies nothing") {
    REQUIRE(signer.ReplaceKeys({}, ""));
    RequireRefused(signer.Verify(by_a));
    CHECK_FALSE(signer.Sign(claims));
    CHECK(signer.PublicJwks() == R"({"keys":[]})");
  }

  SECTION("keys added after a replacement join the new ring") {
    REQUIRE(signer.ReplaceKeys({Material("b", 100)}, "b"));
    socle::testing::SeededRandomSource random{3};
    REQUIRE(signer.Generate("d", random));
    CHECK(signer.CurrentKeyId() == "d");
    REQUIRE(signer.Verify(by_b));
    RequireRefused(signer.Verify(by_a));
  }
}

TEST_CASE("token claims: a refused ReplaceKeys keeps the old ring", "[crypto][jwt]") {
  Ed25519TokenSigner signer;
  REQUIRE(signer.ReplaceKeys({Material("a", 1), Material("b", 100)}, "a"));
  const TokenClaims claims = OneTimeClaims();
  const std::string by_a = MustSign(signer, claims);
  Ed25519TokenSigner holder_of_c;
  REQUIRE(holder_of_c.ReplaceKeys({Material("c", 200)}, "c"));
  const std::string by_c = MustSign(holder_of_c, claims);
  const std::string jwks_before = signer.PublicJwks();

  struct Bad {
    const char* why;
    std::vector<TokenSigner::KeyMaterial> keys;
    std::string current;
  };
  const std::vector<Bad> bad = {
      {"unknown current kid", {Material("c", 200)}, "z"},
      {"current kid of the old ring only", {Material("c", 200)}, "a"},
      {"duplicate kid", {Material("c", 200), Material("c", 201)}, "c"},
      {"duplicate kid with the same seed", {Material("c", 200), Material("c", 200)}, "c"},
      {"seed of 31 bytes", {Material("c", 200, 31)}, "c"},
      {"seed of 33 bytes", {Material("c", 200, 33)}, "c"},
      {"empty seed", {Material("c", 200, 0)}, "c"},
      {"a good key and a short one", {Material("c", 200), Material("d", 50, 16)}, "c"},
      {"empty kid", {Material("", 200)}, ""},
      {"kid with a space", {Material("c d", 200)}, "c d"},
      {"kid with a slash", {Material("../c", 200)}, "../c"},
      {"kid too long",
       {Material(std::string(Ed25519TokenSigner::kMaxKeyIdBytes + 1, 'c'), 200)},
       ""},
  };
  for (const auto& attempt : bad) {
    INFO(attempt.why);
    auto replaced = signer.ReplaceKeys(attempt.keys, attempt.current);
    REQUIRE_FALSE(replaced);
    CHECK(replaced.error().code == ErrorCode::kInvalidArgument);
    // The secret material never shows in what a caller may log.
    for (const auto& key : attempt.keys) {
      if (!key.seed.empty()) {
        CHECK(replaced.error().message.find(key.seed) == std::string::npos);
        CHECK(replaced.error().internal.find(key.seed) == std::string::npos);
      }
    }
    // Nothing of the refused ring is in: the old current key signs, its tokens verify, the
    // would-be key's do not.
    CHECK(signer.CurrentKeyId() == "a");
    CHECK(signer.PublicJwks() == jwks_before);
    const std::string fresh = MustSign(signer, claims);
    CHECK(KidOf(fresh) == "a");
    REQUIRE(signer.Verify(fresh));
    REQUIRE(signer.Verify(by_a));
    RequireRefused(signer.Verify(by_c));
  }
  // The longest valid kid is accepted, so the "too long" case above is the bound, not the kid.
  REQUIRE(signer.ReplaceKeys({Material(std::string(Ed25519TokenSigner::kMaxKeyIdBytes, 'c'), 200)},
                             std::string(Ed25519TokenSigner::kMaxKeyIdBytes, 'c')));
}

TEST_CASE("token claims: ReplaceKeys is atomic for concurrent signers and verifiers",
          "[crypto][jwt]") {
  // Two rings with the same keys, differing only in their current key: at every instant the
  // ring holds both keys, so a verification that ever failed, or a token signed with a key of
  // neither, would show a ring seen half-replaced.
  Ed25519TokenSigner signer;
  const std::vector<TokenSigner::KeyMaterial> ring = {Material("a", 1), Material("b", 100)};
  REQUIRE(signer.ReplaceKeys(ring, "a"));
  const TokenClaims claims = OneTimeClaims();
  const std::string by_a = MustSign(signer, claims);
  REQUIRE(signer.ReplaceKeys(ring, "b"));
  const std::string by_b = MustSign(signer, claims);

  std::atomic<bool> done{false};
  std::atomic<int> failures{0};
  std::atomic<int> checks{0};
  std::vector<std::jthread> readers;
  for (int t = 0; t < 2; ++t) {
    readers.emplace_back([&] {
      while (!done.load()) {
        if (!signer.Verify(by_a) || !signer.Verify(by_b)) ++failures;
        auto token = signer.Sign(claims);
        if (!token || !signer.Verify(*token)) ++failures;
        ++checks;
      }
    });
  }
  // Swap until the readers have done a good number of rounds alongside (bounded either way).
  int swaps = 0;
  while ((swaps < 400 || checks.load() < 200) && swaps < 200'000) {
    if (!signer.ReplaceKeys(ring, swaps % 2 == 0 ? "a" : "b")) ++failures;
    ++swaps;
  }
  done = true;
  readers.clear();
  CHECK(failures.load() == 0);
  CHECK(checks.load() >= 200);
}
