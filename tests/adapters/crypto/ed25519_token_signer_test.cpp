#include "socle/adapters/crypto/ed25519_token_signer.hpp"

#include <catch2/catch.hpp>
#include <cstdint>
#include <fstream>
#include <optional>
#include <sstream>
#include <string>
#include <string_view>
#include <vector>

#include "socle/adapters/json/json_parser.hpp"
#include "support/test_ports.hpp"

using socle::adapters::crypto::Ed25519TokenSigner;
using socle::adapters::json::JsonLimits;
using socle::adapters::json::ParseJson;
using namespace socle::domain;

namespace {

using Bytes = std::vector<std::uint8_t>;

std::string ReadFile(const char* path) {
  std::ifstream in(path, std::ios::binary);
  INFO("test vectors file: " << path);
  REQUIRE(in.good());
  std::ostringstream text;
  text << in.rdbuf();
  return text.str();
}

JsonValue ReadJsonFile(const char* path) {
  auto parsed = ParseJson(ReadFile(path), JsonLimits{64, std::size_t{16} << 20});
  REQUIRE(parsed);
  return *parsed;
}

const std::string& Str(const JsonValue& object, std::string_view key) {
  const JsonValue* value = object.Find(key);
  REQUIRE(value != nullptr);
  REQUIRE(value->type() == JsonValue::Type::kString);
  return value->AsString();
}

Bytes FromHex(std::string_view hex) {
  REQUIRE(hex.size() % 2 == 0);
  Bytes out;
  for (std::size_t i = 0; i < hex.size(); i += 2) {
    out.push_back(static_cast<std::uint8_t>(std::stoi(std::string(hex.substr(i, 2)), nullptr, 16)));
  }
  return out;
}

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

std::string B64(const Bytes& bytes) {
  return B64(std::string_view(reinterpret_cast<const char*>(bytes.data()), bytes.size()));
}

Bytes FromB64(std::string_view text) {
  Bytes out;
  std::uint32_t buffer = 0;
  int bits = 0;
  for (const char c : text) {
    const std::size_t value = kAlphabet.find(c);
    REQUIRE(value != std::string_view::npos);
    buffer = (buffer << 6) | static_cast<std::uint32_t>(value);
    bits += 6;
    if (bits >= 8) {
      bits -= 8;
      out.push_back(static_cast<std::uint8_t>((buffer >> bits) & 0xFF));
    }
  }
  return out;
}

std::span<const std::uint8_t> AsBytes(std::string_view text) {
  return {reinterpret_cast<const std::uint8_t*>(text.data()), text.size()};
}

TokenClaims SampleClaims() {
  TokenClaims claims;
  claims.iss = "https://socle.example";
  claims.sub = "user123";
  claims.aud = "project-api";
  claims.jti = "f3a9c2";
  claims.collection_id = "_pb_users_auth_";
  claims.type = "auth";
  claims.iat = Timestamp::FromUnixMicros(1'700'000'000'000'000);
  claims.exp = Timestamp::FromUnixMicros(1'700'003'600'000'000);
  return claims;
}

// A signer holding one generated key "k1".
struct Fixture {
  socle::testing::SeededRandomSource random{7};
  Ed25519TokenSigner signer;
  Fixture() { REQUIRE(signer.Generate("k1", random)); }

  // A token over any header and payload text, validly signed with k1: the refusals below must
  // come from the structure checks, not from a bad signature.
  std::string SignRaw(std::string_view header, std::string_view payload) {
    std::string input = B64(header) + "." + B64(payload);
    auto signature = signer.SignBytes(AsBytes(input));
    REQUIRE(signature);
    return input + "." + B64(*signature);
  }
  Result<TokenClaims> VerifyRaw(std::string_view header, std::string_view payload) {
    return signer.Verify(SignRaw(header, payload));
  }
};

constexpr std::string_view kGoodHeader = R"({"alg":"EdDSA","typ":"JWT","kid":"k1"})";
constexpr std::string_view kGoodPayload =
    R"({"iss":"i","sub":"s","aud":"a","jti":"j","collectionId":"c","type":"auth",)"
    R"("iat":1700000000,"exp":1700003600})";

void RequireUnauthenticated(const Result<TokenClaims>& result) {
  REQUIRE_FALSE(result.has_value());
  CHECK(result.error().code == ErrorCode::kUnauthenticated);
  CHECK(result.error().message == "The token is invalid.");
}

}  // namespace

TEST_CASE("RFC 8037 A.4: the Ed25519 JWS example is reproduced and verified", "[crypto][jwt]") {
  const JsonValue file = ReadJsonFile(SOCLE_JOSE_VECTORS_FILE);
  const JsonValue* vectors = file.Find("vectors");
  REQUIRE(vectors != nullptr);
  const JsonValue* eddsa = nullptr;
  for (const JsonValue& v : vectors->items()) {
    if (Str(v, "id") == "rfc8037-a4-eddsa") eddsa = &v;
  }
  REQUIRE(eddsa != nullptr);
  const JsonValue* jwk = eddsa->Find("jwk_private");
  REQUIRE(jwk != nullptr);
  const Bytes d = FromB64(Str(*jwk, "d"));
  const Bytes x = FromB64(Str(*jwk, "x"));
  const std::string& input = Str(*eddsa, "signing_input");
  const Bytes expected = FromB64(Str(*eddsa, "signature_b64url"));
  REQUIRE(input == B64(Str(*eddsa, "protected_header_utf8")) + "." +
                       B64(Str(*eddsa, "payload_utf8")));

  Ed25519TokenSigner signer;
  REQUIRE(signer.AddKey("rfc8037", d));
  auto signature = signer.SignBytes(AsBytes(input));
  REQUIRE(signature);
  CHECK(*signature == expected);
  CHECK(Ed25519TokenSigner::VerifyBytes(x, AsBytes(input), expected));
  Bytes flipped = expected;
  flipped[10] ^= 0x01;
  CHECK_FALSE(Ed25519TokenSigner::VerifyBytes(x, AsBytes(input), flipped));

  // The public half derived from d is the published x.
  CHECK(signer.PublicJwks().find("\"x\":\"" + Str(*jwk, "x") + "\"") != std::string::npos);

  // A valid JWS but not one of our JWTs: no kid, payload not JSON.
  RequireUnauthenticated(signer.Verify(Str(*eddsa, "compact")));

  SECTION("the HS256 and unsecured examples are refused") {
    for (const JsonValue& v : vectors->items()) {
      if (Str(v, "id") != "rfc8037-a4-eddsa") {
        INFO(Str(v, "id"));
        RequireUnauthenticated(signer.Verify(Str(v, "compact")));
      }
    }
  }
}

TEST_CASE("Wycheproof Ed25519: valid signatures verify, invalid ones do not", "[crypto][jwt]") {
  const JsonValue file = ReadJsonFile(SOCLE_WYCHEPROOF_ED25519_FILE);
  const JsonValue* groups = file.Find("testGroups");
  REQUIRE(groups != nullptr);
  std::size_t checked = 0;
  for (const JsonValue& group : groups->items()) {
    REQUIRE(Str(group, "type") == "EddsaVerify");
    const JsonValue* key = group.Find("publicKey");
    REQUIRE(key != nullptr);
    const Bytes pk = FromHex(Str(*key, "pk"));
    const JsonValue* tests = group.Find("tests");
    REQUIRE(tests != nullptr);
    for (const JsonValue& test : tests->items()) {
      const std::string& result = Str(test, "result");
      const JsonValue* id = test.Find("tcId");
      INFO("tcId " << (id != nullptr && id->AsInt64() ? *id->AsInt64() : -1) << ": "
                   << Str(test, "comment"));
      REQUIRE((result == "valid" || result == "invalid"));
      const bool verified =
          Ed25519TokenSigner::VerifyBytes(pk, FromHex(Str(test, "msg")), FromHex(Str(test, "sig")));
      CHECK(verified == (result == "valid"));
      ++checked;
    }
  }
  CHECK(checked > 100);
}

TEST_CASE("Sign then Verify returns the claims", "[crypto][jwt]") {
  Fixture f;
  TokenClaims claims = SampleClaims();
  SECTION("without nbf") {}
  SECTION("with nbf") { claims.nbf = Timestamp::FromUnixMicros(1'700'000'100'000'000); }
  auto token = f.signer.Sign(claims);
  REQUIRE(token);
  auto verified = f.signer.Verify(*token);
  REQUIRE(verified);
  CHECK(*verified == claims);
  CHECK(f.signer.CurrentKeyId() == "k1");

  // The header is exactly what the port promises.
  const std::string header = token->substr(0, token->find('.'));
  CHECK(header == B64(std::string_view(R"({"alg":"EdDSA","typ":"JWT","kid":"k1"})")));
}

TEST_CASE("Sign drops sub-second parts and refuses without a key", "[crypto][jwt]") {
  Fixture f;
  TokenClaims claims = SampleClaims();
  claims.exp = Timestamp::FromUnixMicros(1'700'003'600'999'999);
  auto verified = f.signer.Verify(*f.signer.Sign(claims));
  REQUIRE(verified);
  CHECK(verified->exp == Timestamp::FromUnixMicros(1'700'003'600'000'000));

  Ed25519TokenSigner empty;
  CHECK(empty.CurrentKeyId().empty());
  auto token = empty.Sign(claims);
  REQUIRE_FALSE(token);
  CHECK(token.error().code == ErrorCode::kFailedPrecondition);
}

TEST_CASE("Tampered tokens are refused", "[crypto][jwt]") {
  Fixture f;
  auto signed_token = f.signer.Sign(SampleClaims());
  REQUIRE(signed_token);
  const std::string token = *signed_token;
  const std::size_t first = token.find('.');
  const std::size_t second = token.find('.', first + 1);

  SECTION("payload") {
    TokenClaims other = SampleClaims();
    other.sub = "admin";
    auto forged = f.signer.Sign(other);
    REQUIRE(forged);
    const std::size_t f1 = forged->find('.');
    const std::size_t f2 = forged->find('.', f1 + 1);
    RequireUnauthenticated(f.signer.Verify(token.substr(0, first + 1) +
                                           forged->substr(f1 + 1, f2 - f1 - 1) +
                                           token.substr(second)));
  }
  SECTION("header") {
    const std::string header = B64(std::string_view(R"({"alg":"EdDSA","typ":"JWT","kid":"k1" })"));
    RequireUnauthenticated(f.signer.Verify(header + token.substr(first)));
  }
  SECTION("signature") {
    Bytes signature = FromB64(token.substr(second + 1));
    signature[0] ^= 0x80;
    RequireUnauthenticated(f.signer.Verify(token.substr(0, second + 1) + B64(signature)));
  }
  SECTION("truncated signature") {
    RequireUnauthenticated(f.signer.Verify(token.substr(0, token.size() - 4)));
  }
  SECTION("signed by another key with the same kid") {
    socle::testing::SeededRandomSource other_random{8};
    Ed25519TokenSigner other;
    REQUIRE(other.Generate("k1", other_random));
    auto foreign = other.Sign(SampleClaims());
    REQUIRE(foreign);
    RequireUnauthenticated(f.signer.Verify(*foreign));
  }
}

TEST_CASE("The algorithm is pinned and the key comes from the ring only", "[crypto][jwt]") {
  Fixture f;
  const std::string payload = B64(kGoodPayload);
  SECTION("alg none, empty signature") {
    RequireUnauthenticated(
        f.signer.Verify(B64(std::string_view(R"({"alg":"none","kid":"k1"})")) + "." + payload +
                        "."));
  }
  SECTION("alg none, even with a valid Ed25519 signature") {
    RequireUnauthenticated(f.VerifyRaw(R"({"alg":"none","kid":"k1"})", kGoodPayload));
  }
  SECTION("HS256") {
    // Whatever the MAC, the header alone is enough to refuse it.
    RequireUnauthenticated(f.signer.Verify(f.SignRaw(R"({"alg":"HS256","typ":"JWT","kid":"k1"})",
                                                     kGoodPayload)));
    RequireUnauthenticated(f.signer.Verify(B64(std::string_view(R"({"alg":"HS256","kid":"k1"})")) +
                                           "." + payload + "." + B64(Bytes(32, 0x41))));
  }
  SECTION("alg spelled differently") {
    RequireUnauthenticated(f.VerifyRaw(R"({"alg":"eddsa","kid":"k1"})", kGoodPayload));
    RequireUnauthenticated(f.VerifyRaw(R"({"alg":["EdDSA"],"kid":"k1"})", kGoodPayload));
  }
  SECTION("missing alg") {
    RequireUnauthenticated(f.VerifyRaw(R"({"kid":"k1"})", kGoodPayload));
  }
  SECTION("missing kid") {
    RequireUnauthenticated(f.VerifyRaw(R"({"alg":"EdDSA","typ":"JWT"})", kGoodPayload));
  }
  SECTION("kid not a string") {
    RequireUnauthenticated(f.VerifyRaw(R"({"alg":"EdDSA","kid":1})", kGoodPayload));
  }
  SECTION("unknown kid") {
    RequireUnauthenticated(f.VerifyRaw(R"({"alg":"EdDSA","kid":"k2"})", kGoodPayload));
  }
  SECTION("embedded keys and critical extensions") {
    for (const char* header :
         {R"({"alg":"EdDSA","kid":"k1","jwk":{"kty":"OKP","crv":"Ed25519","x":"AA"}})",
          R"({"alg":"EdDSA","kid":"k1","jku":"https://evil.example/jwks.json"})",
          R"({"alg":"EdDSA","kid":"k1","x5u":"https://evil.example/cert"})",
          R"({"alg":"EdDSA","kid":"k1","crit":["exp"]})",
          R"({"alg":"EdDSA","kid":"k1","typ":"at+jwt"})"}) {
      INFO(header);
      RequireUnauthenticated(f.signer.Verify(f.SignRaw(header, kGoodPayload)));
    }
  }
  SECTION("the same structure with a good header verifies") {
    auto claims = f.signer.Verify(f.SignRaw(R"({"alg":"EdDSA","kid":"k1"})", kGoodPayload));
    REQUIRE(claims);
    CHECK(claims->sub == "s");
    CHECK(claims->collection_id == "c");
  }
}

TEST_CASE("Key rotation: tokens of a retired key verify while it stays in the ring",
          "[crypto][jwt]") {
  socle::testing::SeededRandomSource random{11};
  Ed25519TokenSigner old_signer;
  REQUIRE(old_signer.Generate("2024-01", random));
  auto old_token = old_signer.Sign(SampleClaims());
  REQUIRE(old_token);

  // The old key's public half, as the JWKS publishes it.
  const std::string jwks = old_signer.PublicJwks();
  const std::size_t x_at = jwks.find("\"x\":\"");
  REQUIRE(x_at != std::string::npos);
  const std::string x = jwks.substr(x_at + 5, jwks.find('"', x_at + 5) - x_at - 5);

  Ed25519TokenSigner signer;
  REQUIRE(signer.AddVerifyOnlyKey("2024-01", FromB64(x)));
  CHECK(signer.CurrentKeyId().empty());
  REQUIRE(signer.Generate("2024-02", random));
  CHECK(signer.CurrentKeyId() == "2024-02");

  auto old_claims = signer.Verify(*old_token);
  REQUIRE(old_claims);
  CHECK(*old_claims == SampleClaims());
  auto new_token = signer.Sign(SampleClaims());
  REQUIRE(new_token);
  CHECK(signer.Verify(*new_token));
  RequireUnauthenticated(old_signer.Verify(*new_token));

  // The key set lists both keys, in kid order.
  const std::string both = signer.PublicJwks();
  CHECK(both.find(R"("kid":"2024-01")") < both.find(R"("kid":"2024-02")"));
  CHECK(both.find(R"("kty":"OKP","crv":"Ed25519")") != std::string::npos);
  CHECK(both.find("\"d\"") == std::string::npos);

  CHECK(signer.RemoveKey("2024-02").error().code == ErrorCode::kFailedPrecondition);
  REQUIRE(signer.RemoveKey("2024-01"));
  RequireUnauthenticated(signer.Verify(*old_token));
  CHECK(signer.RemoveKey("2024-01").error().code == ErrorCode::kNotFound);
}

TEST_CASE("A remembered token is forgotten when its key leaves the ring or changes",
          "[crypto][jwt]") {
  using Material = socle::application::TokenSigner::KeyMaterial;
  const Material a{"k1", std::string(32, 'a')};
  const Material b{"k2", std::string(32, 'b')};
  const Material a_changed{"k1", std::string(32, 'c')};
  Ed25519TokenSigner signer;
  REQUIRE(signer.ReplaceKeys({a, b}, "k1"));
  auto token = signer.Sign(SampleClaims());
  REQUIRE(token);
  REQUIRE(signer.Verify(*token));  // now remembered

  // The periodic reload hands over the same keys: still valid.
  REQUIRE(signer.ReplaceKeys({a, b}, "k2"));
  auto again = signer.Verify(*token);
  REQUIRE(again);
  CHECK(*again == SampleClaims());

  SECTION("its key left the ring") {
    REQUIRE(signer.ReplaceKeys({b}, "k2"));
    RequireUnauthenticated(signer.Verify(*token));
    // Back in the ring, the signature holds again.
    REQUIRE(signer.ReplaceKeys({a, b}, "k1"));
    CHECK(signer.Verify(*token));
  }
  SECTION("its key id now names another key") {
    REQUIRE(signer.ReplaceKeys({a_changed, b}, "k1"));
    RequireUnauthenticated(signer.Verify(*token));
  }
  SECTION("its key was removed") {
    REQUIRE(signer.ReplaceKeys({a, b}, "k2"));
    REQUIRE(signer.RemoveKey("k1"));
    RequireUnauthenticated(signer.Verify(*token));
  }
  SECTION("another key was removed") {
    REQUIRE(signer.ReplaceKeys({a, b}, "k1"));
    REQUIRE(signer.RemoveKey("k2"));
    CHECK(signer.Verify(*token));
  }
  SECTION("an altered copy of a remembered token") {
    std::string altered = *token;
    altered.back() = altered.back() == 'A' ? 'B' : 'A';
    RequireUnauthenticated(signer.Verify(altered));
    CHECK(signer.Verify(*token));
  }
}

TEST_CASE("More tokens than the signer remembers all keep verifying", "[crypto][jwt]") {
  Fixture f;
  std::vector<std::string> tokens;
  for (std::size_t i = 0; i < Ed25519TokenSigner::kVerifiedCapacity + 200; ++i) {
    TokenClaims claims = SampleClaims();
    claims.jti = "jti-" + std::to_string(i);
    auto token = f.signer.Sign(claims);
    REQUIRE(token);
    tokens.push_back(std::move(*token));
  }
  for (int round = 0; round < 2; ++round) {
    for (std::size_t i = 0; i < tokens.size(); ++i) {
      auto claims = f.signer.Verify(tokens[i]);
      REQUIRE(claims);
      REQUIRE(claims->jti == "jti-" + std::to_string(i));
    }
  }
}

TEST_CASE("The key ring refuses bad keys and ids", "[crypto][jwt]") {
  Ed25519TokenSigner signer;
  const Bytes key(32, 7);
  CHECK(signer.AddKey("", key).error().code == ErrorCode::kInvalidArgument);
  CHECK(signer.AddKey("bad kid", key).error().code == ErrorCode::kInvalidArgument);
  CHECK(signer.AddKey(std::string(65, 'k'), key).error().code == ErrorCode::kInvalidArgument);
  CHECK(signer.AddKey("k", Bytes(31, 7)).error().code == ErrorCode::kInvalidArgument);
  CHECK(signer.AddVerifyOnlyKey("k", Bytes(33, 7)).error().code == ErrorCode::kInvalidArgument);
  REQUIRE(signer.AddKey("k", key));
  CHECK(signer.AddVerifyOnlyKey("k", key).error().code == ErrorCode::kAlreadyExists);
}

TEST_CASE("Malformed tokens are refused, never a crash", "[crypto][jwt]") {
  Fixture f;
  auto good = f.signer.Sign(SampleClaims());
  REQUIRE(good);
  const std::string& token = *good;

  SECTION("segment counts") {
    for (const std::string& bad :
         {std::string(), std::string("."), std::string(".."), std::string("..."),
          token.substr(0, token.rfind('.')), token + ".", token + "." + token,
          std::string("abc")}) {
      INFO(bad);
      RequireUnauthenticated(f.signer.Verify(bad));
    }
  }
  SECTION("bad base64url") {
    const std::size_t first = token.find('.');
    for (const std::string& bad :
         {token.substr(0, first) + "=" + token.substr(first),   // padding
          "+" + token.substr(1),                                 // standard alphabet
          " " + token,                                           // whitespace
          token.substr(0, first - 1) + token.substr(first),      // a length of 4n+1 or stray bits
          token + "=="}) {
      INFO(bad);
      RequireUnauthenticated(f.signer.Verify(bad));
    }
  }
  SECTION("non-canonical trailing bits in a segment") {
    // "e30" is "{}"; "e31" decodes to the same bytes with a stray low bit set.
    RequireUnauthenticated(f.signer.Verify("e31." + B64(kGoodPayload) + ".AA"));
  }
  SECTION("huge token") {
    const std::string huge(Ed25519TokenSigner::kMaxTokenBytes + 1, 'A');
    RequireUnauthenticated(f.signer.Verify(huge));
    const std::string padded_claims =
        R"({"iss":"i","sub":")" + std::string(9000, 'x') +
        R"(","aud":"a","jti":"j","collectionId":"c","type":"auth","iat":1,"exp":2})";
    RequireUnauthenticated(f.signer.Verify(f.SignRaw(kGoodHeader, padded_claims)));
  }
  SECTION("deep JSON") {
    const std::string deep = R"({"alg":"EdDSA","kid":"k1","x":)" + std::string(40, '[') +
                             std::string(40, ']') + "}";
    RequireUnauthenticated(f.signer.Verify(f.SignRaw(deep, kGoodPayload)));
  }
  SECTION("non-object or non-JSON header and payload") {
    for (const char* bad : {"[]", "\"EdDSA\"", "null", "1", "not json", "", "{"}) {
      INFO(bad);
      RequireUnauthenticated(f.signer.Verify(f.SignRaw(bad, kGoodPayload)));
      RequireUnauthenticated(f.signer.Verify(f.SignRaw(kGoodHeader, bad)));
    }
  }
  // Every claim but those under test: {"jti", "collectionId", "type"} plus `rest`.
  const auto payload = [](std::string_view rest) {
    return std::string(R"({"jti":"j","collectionId":"c","type":"auth",)") + std::string(rest) +
           "}";
  };
  SECTION("the payload helper builds a valid payload") {
    CHECK(f.VerifyRaw(kGoodHeader, payload(R"("iss":"i","sub":"s","aud":"a","iat":1,"exp":2)")));
  }
  SECTION("duplicate keys") {
    RequireUnauthenticated(f.VerifyRaw(R"({"alg":"EdDSA","kid":"k1","kid":"k1"})", kGoodPayload));
    RequireUnauthenticated(f.VerifyRaw(
        kGoodHeader, payload(R"("iss":"i","sub":"s","sub":"admin","aud":"a","iat":1,"exp":2)")));
  }
  SECTION("claims of the wrong type or missing") {
    for (const char* bad : {
             R"("sub":"s","aud":"a","iat":1,"exp":2)",
             R"("iss":"i","sub":"s","aud":["a"],"iat":1,"exp":2)",
             R"("iss":"i","sub":"s","aud":"a","iat":1,"exp":2.5)",
             R"("iss":"i","sub":"s","aud":"a","iat":1,"exp":"2")",
             R"("iss":"i","sub":"s","aud":"a","iat":1)",
             R"("iss":"i","sub":"s","aud":"a","iat":-1,"exp":2)",
             R"("iss":"i","sub":"s","aud":"a","iat":1,"exp":99999999999999999)",
             R"("iss":"i","sub":"s","aud":"a","iat":1,"exp":2,"nbf":1.5)"}) {
      INFO(bad);
      RequireUnauthenticated(f.VerifyRaw(kGoodHeader, payload(bad)));
    }
  }
}
