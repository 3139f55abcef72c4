// PlatformIdentifier: who a platform request's Authorization header proves, for each kind of
// credential and for the ones that prove nothing (which are refused, never taken as anonymous
// and never a 500).
#include <catch2/catch.hpp>

#include <string>

#include "platform_world.hpp"
#include "socle/adapters/http/error_response.hpp"
#include "socle/adapters/http/principal.hpp"
#include "socle/adapters/http/request.hpp"
#include "socle/adapters/memory/memory_catalogue_store.hpp"
#include "socle/domain/token_claims.hpp"
#include "support/test_ports.hpp"

namespace http = socle::adapters::http;
using socle::application::Principal;
using socle::domain::ErrorCode;

namespace {

constexpr std::string_view kPassword = "marble-falcon-ember-31";

http::Request WithAuthorization(std::string value) {
  http::Request request;
  request.headers.emplace_back("authorization", std::move(value));
  return request;
}

struct World {
  socle::adapters::memory::MemoryCatalogueStore store;
  socle::testing::ManualClock clock;
  socle::testing::SeededRandomSource random;
  socle::testing::PlainTestHasher hasher;
  socle::testing::PlatformWorld platform{store, store, clock, random, hasher};
};

void CheckRefused(const socle::domain::Result<Principal>& result) {
  REQUIRE_FALSE(result);
  CHECK(result.error().code == ErrorCode::kUnauthenticated);
  CHECK(result.error().message == "The request requires valid authorization token.");
  CHECK(http::ErrorResponse(result.error()).status == 401);
}

}  // namespace

TEST_CASE("PlatformIdentifier: no credentials is anonymous", "[http][principal]") {
  World w;
  const auto& identify = w.platform.identify();
  for (const http::Request& request : {http::Request{}, WithAuthorization(""),
                                       WithAuthorization("   ")}) {
    auto principal = identify(request);
    REQUIRE(principal);
    CHECK(principal->kind == Principal::Kind::kAnonymous);
    CHECK_FALSE(principal->authenticated());
    // Routes that need a caller refuse it.
    auto required = http::RequirePrincipal(identify, request);
    REQUIRE_FALSE(required);
    CHECK(required.error().code == ErrorCode::kUnauthenticated);
  }
}

TEST_CASE("PlatformIdentifier: a member's access token is that member", "[http][principal]") {
  World w;
  const std::string id = w.platform.AddMember("ann@example.com", kPassword);
  const auto tokens = w.platform.SignIn("ann@example.com", kPassword);
  for (const std::string& header :
       {"Bearer " + tokens.access_token, "bearer  " + tokens.access_token, tokens.access_token}) {
    auto principal = w.platform.identify()(WithAuthorization(header));
    REQUIRE(principal);
    CHECK(principal->kind == Principal::Kind::kMember);
    CHECK(principal->id == id);
    CHECK(principal->email == "ann@example.com");
    CHECK_FALSE(principal->active_role.has_value());
  }
  // A session switched to one role carries it.
  auto switched = w.platform.sessions().Refresh(tokens.refresh_token, {"127.0.0.1", "test"},
                                                std::string("viewer"));
  REQUIRE(switched);
  auto principal = w.platform.identify()(WithAuthorization("Bearer " + switched->access_token));
  REQUIRE(principal);
  CHECK(principal->active_role == std::optional<std::string>("viewer"));
  // The refresh token is no access token.
  CheckRefused(w.platform.identify()(WithAuthorization("Bearer " + switched->refresh_token)));
}

TEST_CASE("PlatformIdentifier: a superuser's platform token is that superuser",
          "[http][principal]") {
  World w;
  const std::string token = w.platform.SuperuserToken("root@example.com", kPassword);
  auto principal = w.platform.identify()(WithAuthorization("Bearer " + token));
  REQUIRE(principal);
  CHECK(principal->kind == Principal::Kind::kSuperuser);
  CHECK(principal->email == "root@example.com");
  CHECK(principal->id.size() == 15);
  CHECK(principal->Actor() == "superuser:" + principal->id);
}

TEST_CASE("PlatformIdentifier: anything else presented is refused with 401", "[http][principal]") {
  World w;
  w.platform.AddMember("ann@example.com", kPassword);
  const auto tokens = w.platform.SignIn("ann@example.com", kPassword);
  const auto& identify = w.platform.identify();

  CheckRefused(identify(WithAuthorization("Bearer not-a-token")));
  CheckRefused(identify(WithAuthorization("Basic YWxhZGRpbjpvcGVuc2VzYW1l")));
  CheckRefused(identify(WithAuthorization("Bearer " + tokens.access_token + "x")));
  CheckRefused(identify(WithAuthorization("Bearer sk_" + std::string(40, 'a'))));
  CheckRefused(identify(WithAuthorization("Bearer a.b.c")));

  // Tokens signed with the platform's own key: for a project, or for nobody the platform knows.
  socle::domain::TokenClaims claims;
  claims.iss = "socle";
  claims.sub = "zzzzzzzzzzzzzzz";
  claims.aud = "project:abcdefghijklmno";
  claims.type = "auth";
  claims.jti = "jti-of-a-forged-token";
  claims.collection_id = "pbc_1234567890";
  claims.iat = w.clock.Now();
  claims.exp = socle::domain::Timestamp::FromUnixMicros(w.clock.Now().unix_micros() +
                                                        600'000'000);
  auto foreign = w.platform.signer().Sign(claims);
  REQUIRE(foreign);
  CheckRefused(identify(WithAuthorization("Bearer " + *foreign)));
  claims.aud = "platform";
  auto unknown = w.platform.signer().Sign(claims);
  REQUIRE(unknown);
  CheckRefused(identify(WithAuthorization("Bearer " + *unknown)));

  // An access token outlives its member's password change by not one request.
  w.platform.AddMember("ann@example.com", "another-password-99");
  CheckRefused(identify(WithAuthorization("Bearer " + tokens.access_token)));
  // Or its lifetime.
  const auto fresh = w.platform.SignIn("ann@example.com", "another-password-99");
  w.clock.Advance(16LL * 60 * 1'000'000);
  CheckRefused(identify(WithAuthorization("Bearer " + fresh.access_token)));
}
