#include <catch2/catch.hpp>

#include <algorithm>

#include "socle/adapters/memory/memory_catalogue_store.hpp"
#include "socle/application/manage_organisations.hpp"
#include "socle/application/manage_projects.hpp"
#include "support/test_ports.hpp"

using namespace socle;
using namespace socle::domain;
using application::CreateOrganisationInput;
using application::ForceDelete;

namespace {

struct World {
  adapters::memory::MemoryCatalogueStore store;
  testing::ManualClock clock;
  testing::SeededRandomSource random;
  application::ManageOrganisations orgs{store, clock, random};
  application::ManageProjects projects{store, clock, random};
};

bool HasField(const Error& e, std::string_view field, std::string_view code) {
  return std::any_of(e.fields.begin(), e.fields.end(),
                     [&](const FieldError& f) { return f.field == field && f.code == code; });
}

}  // namespace

TEST_CASE("creating an organisation applies defaults and stamps time and id",
          "[application][orgs]") {
  World w;
  auto org = w.orgs.Create({"acme", std::nullopt, std::nullopt, std::nullopt});
  REQUIRE(org);
  CHECK(org->name.str() == "acme");
  CHECK(org->region.str() == "local");
  CHECK(org->tier == IsolationTier::kShared);
  CHECK(org->created == w.clock.Now());
  CHECK(org->updated == org->created);
  CHECK(Id::Parse(org->id.str()));
  CHECK(w.orgs.Get("acme")->id == org->id);
}

TEST_CASE("creating an organisation reports every bad field at once", "[application][orgs]") {
  World w;
  auto r = w.orgs.Create({"Bad Slug", std::string(""), std::string("No Region!"),
                          std::string("isolated")});
  REQUIRE_FALSE(r);
  CHECK(r.error().code == ErrorCode::kInvalidArgument);
  CHECK(r.error().fields.size() == 4);
  CHECK(HasField(r.error(), "slug", "validation_invalid_slug"));
  CHECK(HasField(r.error(), "name", "validation_required"));
  CHECK(HasField(r.error(), "region", "validation_invalid_region"));
  CHECK(HasField(r.error(), "tier", "validation_invalid_value"));
  CHECK(w.orgs.List(PageRequest{})->total_items == 0);
}

TEST_CASE("an organisation in an unknown region is refused on the region field",
          "[application][orgs]") {
  World w;
  auto r = w.orgs.Create({"acme", std::nullopt, std::string("eu-north"), std::nullopt});
  REQUIRE_FALSE(r);
  CHECK(HasField(r.error(), "region", "validation_unknown_region"));
  REQUIRE(w.store.UpsertRegion(Region{Slug::Parse("eu-north").value(), "postgres://x/y"}));
  auto ok = w.orgs.Create({"acme", std::nullopt, std::string("eu-north"),
                           std::string("dedicated")});
  REQUIRE(ok);
  CHECK(ok->region.str() == "eu-north");
  CHECK(ok->tier == IsolationTier::kDedicated);
}

TEST_CASE("duplicate organisation slugs conflict", "[application][orgs]") {
  World w;
  REQUIRE(w.orgs.Create({"acme", std::nullopt, std::nullopt, std::nullopt}));
  auto again = w.orgs.Create({"acme", std::string("Other"), std::nullopt, std::nullopt});
  REQUIRE_FALSE(again);
  CHECK(again.error().code == ErrorCode::kAlreadyExists);
}

TEST_CASE("renaming an organisation validates the name and moves updated",
          "[application][orgs]") {
  World w;
  auto org = w.orgs.Create({"acme", std::nullopt, std::nullopt, std::nullopt});
  w.clock.Advance(1'000);
  auto renamed = w.orgs.Rename("acme", "  Acme SA  ");
  REQUIRE(renamed);
  CHECK(renamed->name.str() == "Acme SA");
  CHECK(renamed->updated.unix_micros() == org->created.unix_micros() + 1'000);
  CHECK(renamed->created == org->created);
  CHECK(w.orgs.Rename("acme", "").error().code == ErrorCode::kInvalidArgument);
  CHECK(w.orgs.Rename("ghost", "X").error().code == ErrorCode::kNotFound);
  CHECK(w.orgs.Rename("NOT A SLUG", "X").error().code == ErrorCode::kInvalidArgument);
  CHECK(w.orgs.Get("acme")->name.str() == "Acme SA");
}

TEST_CASE("deleting an organisation refuses while it has projects unless forced",
          "[application][orgs]") {
  World w;
  REQUIRE(w.orgs.Create({"acme", std::nullopt, std::nullopt, std::nullopt}));
  REQUIRE(w.projects.Create({"shop", "acme", std::nullopt}));
  auto refused = w.orgs.Delete("acme", ForceDelete::kNo);
  REQUIRE_FALSE(refused);
  CHECK(refused.error().code == ErrorCode::kFailedPrecondition);
  CHECK(w.projects.Get("shop"));
  CHECK(w.orgs.Delete("acme", ForceDelete::kYes).value() == 1);
  CHECK(w.orgs.Get("acme").error().code == ErrorCode::kNotFound);
  CHECK(w.orgs.Delete("acme", ForceDelete::kYes).error().code == ErrorCode::kNotFound);
}

TEST_CASE("listing organisations pages through them", "[application][orgs]") {
  World w;
  for (const char* slug : {"c-org", "a-org", "b-org"}) {
    REQUIRE(w.orgs.Create({slug, std::nullopt, std::nullopt, std::nullopt}));
  }
  auto page = w.orgs.List(PageRequest::Make(2, 2).value());
  REQUIRE(page);
  CHECK(page->total_items == 3);
  REQUIRE(page->items.size() == 1);
  CHECK(page->items[0].slug.str() == "c-org");
}
