// The end-to-end check on the embedded default: the CLI and a running socle-server
// share one SQLite data directory.
#include <catch2/catch.hpp>

#include "shared_catalogue_scenario.hpp"

TEST_CASE("the CLI and socle-server share the catalogue on SQLite", "[cli][e2e][sqlite]") {
  socle::testing::TempDir dir;
  socle::testing::StoreLocation store{{"--data-dir", dir / "data"}, {}};
  socle::testing::CheckCliAndServerShareTheCatalogue(store, dir);
}
