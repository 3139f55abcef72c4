// The end-to-end check on the embedded default: the CLI and a running socle-server
// share one SQLite data directory.
#include <catch2/catch.hpp>
#include <filesystem>

#include "shared_catalogue_scenario.hpp"
#include "shared_collections_scenario.hpp"

TEST_CASE("the CLI and socle-server share the catalogue on SQLite", "[cli][e2e][sqlite]") {
  socle::testing::TempDir dir;
  socle::testing::StoreLocation store{{"--data-dir", dir / "data"}, {}};
  socle::testing::CheckCliAndServerShareTheCatalogue(store, dir);
}

TEST_CASE("collections imported with the CLI are served by socle-server on SQLite",
          "[cli][e2e][sqlite][collection]") {
  socle::testing::TempDir dir;
  // No grace period: what is deleted is purged at once, so that the files can be checked.
  socle::testing::StoreLocation store{{"--data-dir", dir / "data", "--deletion-grace-days", "0"},
                                      {}};
  socle::testing::CheckCliCollectionsServedOverHttp(store, dir);
  // Each project's records live in a SQLite file of its own, gone with the project once it is
  // purged; what remains is the platform's own store (superusers, signing keys).
  const auto projects = dir.path() / "data" / "projects";
  REQUIRE(std::filesystem::is_directory(projects));
  for (const auto& entry : std::filesystem::directory_iterator(projects)) {
    INFO(entry.path());
    CHECK(entry.path().filename().string().starts_with("platform0000000."));
  }
}

TEST_CASE("schema changes made with the CLI reach a running socle-server on SQLite",
          "[cli][e2e][sqlite][collection]") {
  socle::testing::TempDir dir;
  socle::testing::StoreLocation store{{"--data-dir", dir / "data"}, {}};
  socle::testing::CheckCliSchemaChangesReachRunningServer(store, dir);
}
