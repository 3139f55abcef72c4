#include "socle/domain/token_claims.hpp"

#include <catch2/catch.hpp>
#include <chrono>
#include <cstdint>
#include <limits>
#include <optional>
#include <string>

using namespace socle::domain;

namespace {

constexpr std::int64_t kSecond = 1'000'000;
constexpr std::int64_t kNow = 1'700'000'000 * kSecond;

Timestamp At(std::int64_t offset_seconds) {
  return Timestamp::FromUnixMicros(kNow + offset_seconds * kSecond);
}

TokenClaims ValidClaims() {
  TokenClaims claims;
  claims.iss = "https://socle.example";
  claims.sub = "user123";
  claims.aud = "project-api";
  claims.jti = "jti1";
  claims.collection_id = "_pb_users_auth_";
  claims.type = "auth";
  claims.iat = At(-60);
  claims.exp = At(3600);
  return claims;
}

VerifyPolicy Policy() {
  return VerifyPolicy{"project-api", "https://socle.example", std::chrono::seconds{30}};
}

}  // namespace

TEST_CASE("CheckClaims accepts or refuses each claim at its bound", "[domain][token]") {
  struct Case {
    const char* name;
    void (*mutate)(TokenClaims&);
    std::optional<std::string> message;  // nullopt: accepted
  };
  const Case cases[] = {
      {"valid", [](TokenClaims&) {}, std::nullopt},
      {"wrong audience", [](TokenClaims& c) { c.aud = "other"; },
       "The token is not meant for this service."},
      {"empty audience", [](TokenClaims& c) { c.aud.clear(); },
       "The token is not meant for this service."},
      {"wrong issuer", [](TokenClaims& c) { c.iss = "https://evil.example"; },
       "The token was not issued by this service."},
      {"expired within skew", [](TokenClaims& c) { c.exp = At(-30); }, std::nullopt},
      {"expired beyond skew", [](TokenClaims& c) { c.exp = At(-31); }, "The token has expired."},
      {"expired by a microsecond beyond skew",
       [](TokenClaims& c) { c.exp = Timestamp::FromUnixMicros(kNow - 30 * kSecond - 1); },
       "The token has expired."},
      {"nbf within skew", [](TokenClaims& c) { c.nbf = At(30); }, std::nullopt},
      {"nbf beyond skew", [](TokenClaims& c) { c.nbf = At(31); }, "The token is not valid yet."},
      {"nbf in the past", [](TokenClaims& c) { c.nbf = At(-100); }, std::nullopt},
      {"iat within skew", [](TokenClaims& c) { c.iat = At(30); }, std::nullopt},
      {"iat beyond skew", [](TokenClaims& c) { c.iat = At(31); }, "The token is not valid yet."},
      {"exp at the end of time",
       [](TokenClaims& c) {
         c.exp = Timestamp::FromUnixMicros(std::numeric_limits<std::int64_t>::max());
       },
       std::nullopt},
  };
  for (const Case& test : cases) {
    SECTION(test.name) {
      TokenClaims claims = ValidClaims();
      test.mutate(claims);
      const Result<void> result = CheckClaims(claims, Policy(), At(0));
      if (!test.message) {
        CHECK(result.has_value());
      } else {
        REQUIRE_FALSE(result.has_value());
        CHECK(result.error().code == ErrorCode::kUnauthenticated);
        CHECK(result.error().message == *test.message);
        CHECK_FALSE(result.error().internal.empty());
      }
    }
  }
}

TEST_CASE("CheckClaims treats a negative skew as none", "[domain][token]") {
  VerifyPolicy policy = Policy();
  policy.max_skew = std::chrono::seconds{-100};
  TokenClaims claims = ValidClaims();
  claims.exp = At(-1);
  CHECK_FALSE(CheckClaims(claims, policy, At(0)).has_value());
  claims.exp = At(0);
  CHECK(CheckClaims(claims, policy, At(0)).has_value());
}

TEST_CASE("CheckClaims does not overflow near the ends of time", "[domain][token]") {
  VerifyPolicy policy = Policy();
  policy.max_skew = std::chrono::seconds{std::numeric_limits<std::int64_t>::max()};
  TokenClaims claims = ValidClaims();
  claims.exp = Timestamp::FromUnixMicros(std::numeric_limits<std::int64_t>::max());
  claims.iat = Timestamp::FromUnixMicros(std::numeric_limits<std::int64_t>::min());
  CHECK(CheckClaims(claims, policy, At(0)).has_value());
}
