#include <catch2/catch.hpp>

#include "socle/adapters/memory/memory_catalogue_store.hpp"
#include "socle/application/manage_organisations.hpp"
#include "socle/application/manage_projects.hpp"
#include "support/test_ports.hpp"

using namespace socle;
using namespace socle::domain;

namespace {

struct World {
  World() { REQUIRE(orgs.Create({"acme", std::nullopt, std::nullopt, std::nullopt})); }
  adapters::memory::MemoryCatalogueStore store;
  testing::ManualClock clock;
  testing::SeededRandomSource random;
  application::ManageOrganisations orgs{store, clock, random};
  application::ManageProjects projects{store, clock, random};
};

}  // namespace

TEST_CASE("creating a project ties it to its organisation", "[application][projects]") {
  World w;
  auto project = w.projects.Create({"shop", "acme", std::string("Web shop")});
  REQUIRE(project);
  CHECK(project->org_slug.str() == "acme");
  CHECK(project->org_id == w.orgs.Get("acme")->id);
  CHECK(project->name.str() == "Web shop");
  CHECK(w.projects.Get("shop")->id == project->id);
}

TEST_CASE("creating a project validates all fields and the organisation",
          "[application][projects]") {
  World w;
  auto bad = w.projects.Create({"", "NOPE", std::string(300, 'x')});
  REQUIRE_FALSE(bad);
  CHECK(bad.error().code == ErrorCode::kInvalidArgument);
  CHECK(bad.error().fields.size() == 3);
  auto missing = w.projects.Create({"shop", "ghost", std::nullopt});
  REQUIRE_FALSE(missing);
  CHECK(missing.error().code == ErrorCode::kNotFound);
  REQUIRE(w.projects.Create({"shop", "acme", std::nullopt}));
  CHECK(w.projects.Create({"shop", "acme", std::nullopt}).error().code ==
        ErrorCode::kAlreadyExists);
}

TEST_CASE("listing projects of one organisation or all", "[application][projects]") {
  World w;
  REQUIRE(w.orgs.Create({"bigco", std::nullopt, std::nullopt, std::nullopt}));
  REQUIRE(w.projects.Create({"shop", "acme", std::nullopt}));
  REQUIRE(w.projects.Create({"blog", "bigco", std::nullopt}));
  CHECK(w.projects.List(std::string("acme"), PageRequest{})->total_items == 1);
  CHECK(w.projects.List(std::nullopt, PageRequest{})->total_items == 2);
  CHECK(w.projects.List(std::string("ghost"), PageRequest{}).error().code ==
        ErrorCode::kNotFound);
  CHECK(w.projects.List(std::string("Bad!"), PageRequest{}).error().code ==
        ErrorCode::kInvalidArgument);
}

TEST_CASE("renaming and deleting projects", "[application][projects]") {
  World w;
  REQUIRE(w.projects.Create({"shop", "acme", std::nullopt}));
  w.clock.Advance(7);
  auto renamed = w.projects.Rename("shop", "Shop");
  REQUIRE(renamed);
  CHECK(renamed->updated.unix_micros() == renamed->created.unix_micros() + 7);
  CHECK(w.projects.Rename("shop", "\x01").error().code == ErrorCode::kInvalidArgument);
  REQUIRE(w.projects.Delete("shop"));
  CHECK(w.projects.Delete("shop").error().code == ErrorCode::kNotFound);
  // deleting the last project frees the organisation for a plain delete
  CHECK(w.orgs.Delete("acme", application::ForceDelete::kNo).value() == 0);
}
