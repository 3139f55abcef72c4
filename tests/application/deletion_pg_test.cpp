// Deleting on PostgreSQL: a scheduled project keeps its schema p_<id> and its role
// socle_p_<id> (a restore needs them, and its data); the purge drops both, with the catalogue
// rows, the access rows and the API keys. The whole chain as socle-server runs it (the use
// cases over PostgresCatalogueStore and PostgresProjectStores), in a throwaway database.
#include <catch2/catch.hpp>

#include <memory>
#include <random>
#include <string>

#include "application/deletion_world.hpp"
#include "socle/application/placed_project_stores.hpp"
#include "socle/adapters/postgres/postgres_catalogue_store.hpp"
#include "socle/adapters/postgres/postgres_clusters.hpp"
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

// The tiers on PostgreSQL, wired as socle-server wires them (PlacedProjectStores over
// PostgresClusters): a shared organisation's projects are schemas of the catalogue's database;
// a dedicated one's live in a database of its own (socle_o_<org id>) that nobody but the
// owner may connect to; a region's in the region's cluster, dedicated there too when asked.
// The purge removes each where it is, the dedicated database last.
TEST_CASE("postgres: each tier's projects live where it says, and the purge removes them there",
          "[application][deletion][postgres][tenancy]") {
  PostgresTestDatabase db;
  PostgresTestDatabase west;  // the region's cluster (a database of the test cluster)
  auto catalogue =
      Must(adapters::postgres::PostgresCatalogueStore::Open({.url = db.url(), .pool_size = 4}),
           "catalogue");
  Must(catalogue->Migrate(), "migrate");
  Must(catalogue->UpsertRegion({*domain::Slug::Parse("west"), west.url()}), "region");
  const auto watch = adapters::postgres::PostgresProjectStores::SchemaWatch::kOnErrorOnly;
  std::shared_ptr<application::ProjectStores> own =
      Must(adapters::postgres::PostgresProjectStores::Connect({.url = db.url(), .pool_size = 4},
                                                              watch),
           "project stores");
  application::PlacedProjectStores stores(
      *catalogue, own,
      std::make_shared<adapters::postgres::PostgresClusters>(
          adapters::postgres::PostgresOptions{.url = db.url(), .pool_size = 4}, watch),
      application::PlacedProjectStores::OwnCluster::kDatabases);
  DeletionWorld w(*catalogue, *catalogue, stores, std::chrono::days(30), FreshSeed());

  auto acme = Must(w.platform_catalogue.CreateOrganisation(kAnn, {"acme", {}, {}, {}}), "acme");
  auto vault =
      Must(w.platform_catalogue.CreateOrganisation(kAnn, {"vault", {}, {}, "dedicated"}), "vault");
  auto far = Must(w.platform_catalogue.CreateOrganisation(kAnn, {"far", {}, "west", {}}), "far");
  auto deep = Must(
      w.platform_catalogue.CreateOrganisation(kAnn, {"deep", {}, "west", "dedicated"}), "deep");
  struct Placed {
    std::string slug;
    domain::Id id;
  };
  std::vector<Placed> projects;
  for (const auto& [slug, org] : std::vector<std::pair<std::string, std::string>>{
           {"shop", "acme"}, {"safe", "vault"}, {"away", "far"}, {"down", "deep"}}) {
    auto made = Must(w.platform_catalogue.CreateProject(kAnn, {slug, org, {}}), slug);
    w.AddPosts(slug, 2);
    projects.push_back({slug, made.id});
  }
  const domain::Id& shop = projects[0].id;
  const domain::Id& safe = projects[1].id;
  const domain::Id& away = projects[2].id;
  const domain::Id& down = projects[3].id;
  const std::string vault_db = domain::DedicatedDatabaseName(vault.id);
  const std::string deep_db = domain::DedicatedDatabaseName(deep.id);
  const auto database_exists = [&](const std::string& name) {
    return db.Value("SELECT count(*) FROM pg_catalog.pg_database WHERE datname = $1", {name}) ==
           "1";
  };
  const auto schema_in = [&](const std::string& database, const domain::Id& project) {
    socle::testing::PostgresSession session(PostgresTestDatabase::UrlFor(database));
    return session.Value("SELECT count(*) FROM pg_catalog.pg_namespace WHERE nspname = $1",
                         {"p_" + project.str()}) == "1";
  };

  // Where each project's data is, and is not.
  CHECK(SchemaExists(db, shop));
  REQUIRE(database_exists(vault_db));
  CHECK(schema_in(vault_db, safe));
  CHECK_FALSE(SchemaExists(db, safe));
  CHECK(SchemaExists(west, away));
  CHECK_FALSE(SchemaExists(db, away));
  REQUIRE(database_exists(deep_db));
  CHECK(schema_in(deep_db, down));
  CHECK_FALSE(SchemaExists(west, down));
  CHECK_FALSE(SchemaExists(db, down));
  for (const auto& project : projects) CHECK(w.Posts(project.slug) == 2);
  // Only the owner (and superusers) may connect to a dedicated database: not PUBLIC, not the
  // role every organisation's access rows are read as.
  for (const auto& name : {vault_db, deep_db}) {
    CHECK(db.Value("SELECT has_database_privilege('socle_tenant', $1, 'CONNECT')", {name}) ==
          "f");
    CHECK(db.Value("SELECT count(*) FROM pg_catalog.pg_database d,"
                   " aclexplode(d.datacl) a WHERE d.datname = $1 AND a.grantee = 0",
                   {name}) == "0");
  }
  // A project role reaches nothing of another organisation's dedicated database.
  {
    socle::testing::PostgresSession session(PostgresTestDatabase::UrlFor(vault_db));
    CHECK(session.Value("SELECT has_schema_privilege($1, $2, 'USAGE')",
                        {"socle_p_" + shop.str(), "p_" + safe.str()}) == "f");
  }

  // Scheduled, nothing moves; purged, each goes from where it is.
  REQUIRE(w.platform_catalogue.DeleteOrganisation(kAnn, "vault", ForceDelete::kYes));
  REQUIRE(w.platform_catalogue.DeleteOrganisation(kAnn, "deep", ForceDelete::kYes));
  REQUIRE(w.platform_catalogue.DeleteProject(kAnn, "away"));
  CHECK(database_exists(vault_db));
  CHECK(SchemaExists(west, away));
  w.clock.Advance(30 * kDayMicros);
  auto purged = w.deletion.Purge(w.clock.Now());
  REQUIRE(purged);
  std::string failures;
  for (const auto& failure : purged->failures) {
    failures += failure.what + ": " + failure.error.message + " / " + failure.error.internal + "\n";
  }
  INFO(failures);
  CHECK(purged->failures.empty());
  CHECK(purged->organisations == 2);
  CHECK(purged->projects == 3);
  CHECK_FALSE(database_exists(vault_db));
  CHECK_FALSE(database_exists(deep_db));
  CHECK_FALSE(SchemaExists(west, away));
  for (const auto& id : {safe, away, down}) CHECK_FALSE(RoleExists(db, id));
  // The shared organisation is untouched.
  CHECK(SchemaExists(db, shop));
  // In the instance's own database the catalogue drops a project's schema with its row, both
  // or neither: removing the project's storage beforehand leaves it there.
  REQUIRE(stores.Remove(Must(catalogue->GetProjectById(shop), "shop")));
  CHECK(SchemaExists(db, shop));
  CHECK(w.Posts("shop") == 2);
  CHECK(Count(db, "SELECT count(*) FROM socle.organisations WHERE id = $1", acme.id) == "1");
  CHECK(Count(db, "SELECT count(*) FROM socle.organisations WHERE id = $1", far.id) == "1");

  // A region whose URL does not work (here one PostgreSQL cannot parse): its projects are
  // unavailable, a server-side failure, not the caller's bad input; the others still serve.
  Must(catalogue->UpsertRegion({*domain::Slug::Parse("broken"), "postgresql://[::1"}), "region");
  Must(w.platform_catalogue.CreateOrganisation(kAnn, {"lost", {}, "broken", {}}), "lost");
  Must(w.platform_catalogue.CreateProject(kAnn, {"gone", "lost", {}}), "gone");
  auto unreachable = w.directory.Find("gone");
  REQUIRE_FALSE(unreachable);
  CHECK(unreachable.error().code == domain::ErrorCode::kUnavailable);
  CHECK(unreachable.error().message.find("[::1") == std::string::npos);
  CHECK(w.Posts("shop") == 2);
}
