#include <catch2/catch.hpp>

#include "socle/domain/error.hpp"
#include "socle/domain/tenancy.hpp"

using namespace socle::domain;

TEST_CASE("IsolationTier parses its two names only", "[domain][tenancy]") {
  CHECK(ParseIsolationTier("shared").value() == IsolationTier::kShared);
  CHECK(ParseIsolationTier("dedicated").value() == IsolationTier::kDedicated);
  CHECK(ToString(IsolationTier::kDedicated) == "dedicated");
  for (const char* bad : {"", "Shared", "isolated", "dedicated "}) {
    auto tier = ParseIsolationTier(bad);
    REQUIRE_FALSE(tier);
    CHECK(tier.error().fields.at(0).field == "tier");
  }
}

TEST_CASE("Error helpers", "[domain][error]") {
  auto e = Error::Field("slug", "validation_required", "Missing required value.");
  CHECK(e.code == ErrorCode::kInvalidArgument);
  CHECK(e.fields.size() == 1);
  auto internal = Error::Internal("SQLSTATE 08006 connection lost");
  CHECK(internal.code == ErrorCode::kInternal);
  CHECK(internal.message.find("SQLSTATE") == std::string::npos);  // never leaks to clients
  CHECK(ToString(ErrorCode::kFailedPrecondition) == "failed_precondition");
  CHECK(ToString(ErrorCode::kAlreadyExists) == "already_exists");
}
