#include "socle/application/manage_regions.hpp"

#include <catch2/catch.hpp>

#include <algorithm>
#include <string>

#include "socle/adapters/memory/memory_catalogue_store.hpp"

using namespace socle;
using namespace socle::domain;
using application::ManageRegions;

namespace {

struct World {
  adapters::memory::MemoryCatalogueStore store;
  ManageRegions regions{store};
};

bool HasField(const Error& e, std::string_view field, std::string_view code) {
  return std::any_of(e.fields.begin(), e.fields.end(),
                     [&](const FieldError& f) { return f.field == field && f.code == code; });
}

std::string StoreUrlCode(ManageRegions& regions, std::string_view name, std::string_view url) {
  auto r = regions.Set(name, url);
  REQUIRE_FALSE(r);
  REQUIRE(r.error().code == ErrorCode::kInvalidArgument);
  REQUIRE(r.error().fields.size() == 1);
  CHECK(r.error().fields[0].field == "storeUrl");
  return r.error().fields[0].code;
}

}  // namespace

TEST_CASE("the default region is listed from the start", "[application][regions]") {
  World w;
  auto list = w.regions.List();
  REQUIRE(list);
  REQUIRE(list->size() == 1);
  CHECK(list->front().name.str() == "local");
  CHECK(list->front().store_url.empty());
}

TEST_CASE("setting a region creates it, then replaces its store URL", "[application][regions]") {
  World w;
  auto set = w.regions.Set("eu-west", "postgres://socle:secret@eu-db:5432/socle");
  REQUIRE(set);
  CHECK(set->name.str() == "eu-west");
  CHECK(set->store_url == "postgres://socle:secret@eu-db:5432/socle");
  REQUIRE(w.regions.Set("eu-west", "postgresql://eu-db-2/socle"));

  auto list = w.regions.List();
  REQUIRE(list);
  REQUIRE(list->size() == 2);
  CHECK(list->at(0).name.str() == "eu-west");
  CHECK(list->at(0).store_url == "postgresql://eu-db-2/socle");
  CHECK(list->at(1).name.str() == "local");
}

TEST_CASE("only the default region may have an empty store URL", "[application][regions]") {
  World w;
  REQUIRE(w.regions.Set("local", "postgres://db/socle"));
  auto reset = w.regions.Set("local", "");
  REQUIRE(reset);
  CHECK(reset->store_url.empty());
  CHECK(StoreUrlCode(w.regions, "eu-west", "") == "validation_required");
}

TEST_CASE("a store URL must be a bounded PostgreSQL URL without control characters",
          "[application][regions]") {
  World w;
  CHECK(StoreUrlCode(w.regions, "eu", "sqlite://data/catalogue.db") == "validation_invalid_url");
  CHECK(StoreUrlCode(w.regions, "eu", "mysql://db/x") == "validation_invalid_url");
  CHECK(StoreUrlCode(w.regions, "eu", "postgres://db/x\nsslmode=disable") ==
        "validation_invalid_url");
  CHECK(StoreUrlCode(w.regions, "eu", std::string("postgres://db/x\0", 16)) ==
        "validation_invalid_url");

  std::string longest = "postgres://db/";
  longest.resize(ManageRegions::kMaxStoreUrlLength, 'x');
  CHECK(w.regions.Set("eu", longest));
  CHECK(StoreUrlCode(w.regions, "eu", longest + "x") == "validation_length_out_of_range");
}

TEST_CASE("setting a region reports every bad field at once and stores nothing",
          "[application][regions]") {
  World w;
  auto r = w.regions.Set("EU West", "ftp://db");
  REQUIRE_FALSE(r);
  CHECK(r.error().code == ErrorCode::kInvalidArgument);
  CHECK(r.error().fields.size() == 2);
  CHECK(HasField(r.error(), "name", "validation_invalid_slug"));
  CHECK(HasField(r.error(), "storeUrl", "validation_invalid_url"));
  CHECK(HasField(w.regions.Set("", "postgres://db").error(), "name", "validation_required"));
  CHECK(w.regions.List()->size() == 1);
}

TEST_CASE("a region that is set is stored as given, password included",
          "[application][regions]") {
  World w;
  REQUIRE(w.regions.Set("eu-west", "postgres://u:pw@eu-db/socle"));
  auto region = w.store.GetRegion(*Slug::Parse("eu-west"));
  REQUIRE(region);
  CHECK(region->store_url == "postgres://u:pw@eu-db/socle");
}
