// Deleting on PostgreSQL: a scheduled project keeps its schema p_<id> and its role
// socle_p_<id> (a restore needs them, and its data); the purge drops both, with the catalogue
// rows, the access rows and the API keys. The whole chain as socle-server runs it (the use
// cases over PostgresCatalogueStore and PostgresProjectStores), in a throwaway database.
#include <catch2/catch.hpp>

#include <memory>
#include <random>
#include <string>

#include "application/deletion_world.hpp"
#include "socle/adapters/postgres/postgres_catalogue_store.hpp"
#include "socle/adapters/postgres/postgres_project_store.hpp"
#include "support/postgres_test_database.hpp"

using namespace socle;
using application::ForceDelete;
using socle::testing::DeletionWorld;
using socle::testing::kDayMicros;
using socle::testing::Must;
using socle::testing::PostgresTestDatabase;

namespace {

// Roles are cluster-wide: a seed of its own gives this run ids (and role names) of its own.
std::uint64_t FreshSeed() {
  std::random_device device;
  return (static_cast<std::uint64_t>(device()) << 32) | device();
}

bool SchemaExists(const PostgresTestDatabase& db, const domain::Id& project) {
  return db.Value("SELECT count(*) FROM pg_catalog.pg_namespace WHERE nspname = $1",
                  {"p_" + project.str()}) == "1";
}

bool RoleExists(const PostgresTestDatabase& db, const domain::Id& project) {
  return db.Value("SELECT count(*) FROM pg_catalog.pg_roles WHERE rolname = $1",
                  {"socle_p_" + project.str()}) == "1";
}

std::string Count(const PostgresTestDatabase& db, const std::string& sql, const domain::Id& id) {
  return db.Value(sql, {id.str()});
}

const application::Principal kAnn = DeletionWorld::Member("mem000000000001", "ann@acme.test");

}  // namespace

TEST_CASE("postgres: the purge drops a deleted project's schema and role, not before",
          "[application][deletion][postgres]") {
  PostgresTestDatabase db;
  auto catalogue =
      Must(adapters::postgres::PostgresCatalogueStore::Open({.url = db.url(), .pool_size = 4}),
           "catalogue");
  Must(catalogue->Migrate(), "migrate");
  auto stores = Must(adapters::postgres::PostgresProjectStores::Connect(
                         {.url = db.url(), .pool_size = 4},
                         adapters::postgres::PostgresProjectStores::SchemaWatch::kOnErrorOnly),
                     "project stores");
  DeletionWorld w(*catalogue, *catalogue, *stores, std::chrono::days(30), FreshSeed());

  auto acme = Must(w.platform_catalogue.CreateOrganisation(kAnn, {"acme", {}, {}, {}}), "acme");
  auto shop = Must(w.platform_catalogue.CreateProject(kAnn, {"shop", "acme", {}}), "shop");
  auto blog = Must(w.platform_catalogue.CreateProject(kAnn, {"blog", "acme", {}}), "blog");
  w.AddPosts("shop", 2);
  w.AddPosts("blog", 1);
  Must(w.api_keys.Create("shop", "k", {"posts:read"}, std::nullopt), "key");
  Must(w.api_keys.CreateForOrganisation(acme.id, "ci", std::nullopt), "org key");
  for (const auto& id : {shop.id, blog.id}) {
    REQUIRE(SchemaExists(db, id));
    REQUIRE(RoleExists(db, id));
  }

  REQUIRE(w.platform_catalogue.DeleteProject(kAnn, "shop"));
  REQUIRE(w.platform_catalogue.DeleteOrganisation(kAnn, "acme", ForceDelete::kYes));
  // Scheduled: nothing of the storage is gone, so a restore brings back the data.
  CHECK(SchemaExists(db, shop.id));
  CHECK(RoleExists(db, shop.id));
  REQUIRE(w.platform_catalogue.RestoreOrganisation(kAnn, "acme"));
  CHECK(w.Posts("blog") == 1);
  REQUIRE(w.platform_catalogue.DeleteOrganisation(kAnn, "acme", ForceDelete::kYes));

  w.clock.Advance(29 * kDayMicros);
  auto early = w.deletion.Purge(w.clock.Now());
  REQUIRE(early);
  CHECK(early->organisations == 0);
  CHECK(SchemaExists(db, blog.id));

  w.clock.Advance(1 * kDayMicros);
  auto purged = w.deletion.Purge(w.clock.Now());
  REQUIRE(purged);
  CHECK(purged->failures.empty());
  CHECK(purged->organisations == 1);
  CHECK(purged->projects == 2);
  for (const auto& id : {shop.id, blog.id}) {
    INFO(id.str());
    CHECK_FALSE(SchemaExists(db, id));
    CHECK_FALSE(RoleExists(db, id));
    CHECK(Count(db, "SELECT count(*) FROM socle.projects WHERE id = $1", id) == "0");
    CHECK(Count(db, "SELECT count(*) FROM socle.project_settings WHERE project_id = $1", id) ==
          "0");
  }
  CHECK(Count(db, "SELECT count(*) FROM socle.organisations WHERE id = $1", acme.id) == "0");
  CHECK(Must(w.access_store.MemberOrganisations(kAnn.id), "ann's").empty());
  CHECK(Must(w.api_keys.ListForOrganisation(acme.id), "keys").empty());
  CHECK(Must(w.api_keys.DeleteForProject(shop.id), "keys") == 0);
  // The slugs are free again.
  CHECK(w.orgs.Create({"acme", {}, {}, {}}));
}
