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
  auto several = Error::Fields({{"slug", "validation_required", "Missing required value."},
                                {"tier", "validation_invalid_value", "Must be one of: shared."}});
  CHECK(several.code == ErrorCode::kInvalidArgument);
  CHECK(several.message == e.message);
  REQUIRE(several.fields.size() == 2);
  CHECK(several.fields[0] == e.fields[0]);
  CHECK(several.fields[1].field == "tier");
  auto internal = Error::Internal("SQLSTATE 08006 connection lost");
  CHECK(internal.code == ErrorCode::kInternal);
  CHECK(internal.message.find("SQLSTATE") == std::string::npos);  // never leaks to clients
  CHECK(ToString(ErrorCode::kFailedPrecondition) == "failed_precondition");
  CHECK(ToString(ErrorCode::kAlreadyExists) == "already_exists");
}

TEST_CASE("a placement follows the organisation's region and tier", "[domain][tenancy]") {
  using namespace socle::domain;
  const Id org = *Id::Parse("abcdefghij01234");
  const Region local{*Slug::Parse("local"), ""};
  const Region west{*Slug::Parse("eu-west"), "postgresql://db.west/socle"};

  const Placement shared_here = PlacementOf(local, IsolationTier::kShared, org);
  CHECK(shared_here.own());
  CHECK(shared_here == Placement{});

  const Placement dedicated_here = PlacementOf(local, IsolationTier::kDedicated, org);
  CHECK_FALSE(dedicated_here.own());
  CHECK(dedicated_here.cluster_url.empty());
  CHECK(dedicated_here.database == "socle_o_abcdefghij01234");

  const Placement shared_west = PlacementOf(west, IsolationTier::kShared, org);
  CHECK_FALSE(shared_west.own());
  CHECK(shared_west.cluster_url == west.store_url);
  CHECK(shared_west.database.empty());

  const Placement dedicated_west = PlacementOf(west, IsolationTier::kDedicated, org);
  CHECK(dedicated_west.cluster_url == west.store_url);
  CHECK(dedicated_west.database == DedicatedDatabaseName(org));
  CHECK(dedicated_west != PlacementOf(west, IsolationTier::kDedicated,
                                      *Id::Parse("abcdefghij01235")));
}
