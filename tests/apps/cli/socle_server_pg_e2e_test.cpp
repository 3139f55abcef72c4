// The end-to-end check on PostgreSQL: the CLI and a running socle-server share one
// throwaway database of the test cluster, named through SOCLE_DATABASE_URL.
#include <catch2/catch.hpp>

#include "shared_catalogue_scenario.hpp"
#include "shared_collections_scenario.hpp"
#include "support/postgres_test_database.hpp"

TEST_CASE("the CLI and socle-server share the catalogue on PostgreSQL", "[cli][e2e][postgres]") {
  socle::testing::PostgresTestDatabase database;
  socle::testing::TempDir dir;
  socle::testing::StoreLocation store{{"--data-dir", dir / "data"},
                                      {{"SOCLE_DATABASE_URL", database.url()}}};
  socle::testing::CheckCliAndServerShareTheCatalogue(store, dir);
  // Nothing went to the embedded store: the URL won.
  CHECK_FALSE(std::filesystem::exists(dir.path() / "data" / "catalogue.db"));
}

TEST_CASE("collections imported with the CLI are served by socle-server on PostgreSQL",
          "[cli][e2e][postgres][collection]") {
  socle::testing::PostgresTestDatabase database;
  socle::testing::TempDir dir;
  socle::testing::StoreLocation store{{"--data-dir", dir / "data"},
                                      {{"SOCLE_DATABASE_URL", database.url()}}};
  socle::testing::CheckCliCollectionsServedOverHttp(store, dir);
  CHECK_FALSE(std::filesystem::exists(dir.path() / "data" / "projects"));
}

TEST_CASE("schema changes made with the CLI reach a running socle-server on PostgreSQL",
          "[cli][e2e][postgres][collection]") {
  socle::testing::PostgresTestDatabase database;
  socle::testing::TempDir dir;
  socle::testing::StoreLocation store{{"--data-dir", dir / "data"},
                                      {{"SOCLE_DATABASE_URL", database.url()}}};
  socle::testing::CheckCliSchemaChangesReachRunningServer(store, dir);
}
