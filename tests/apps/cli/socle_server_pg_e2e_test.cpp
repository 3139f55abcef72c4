// The end-to-end check on PostgreSQL: the CLI and a running socle-server share one
// throwaway database of the test cluster, named through SOCLE_DATABASE_URL.
#include <catch2/catch.hpp>

#include "shared_catalogue_scenario.hpp"
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
