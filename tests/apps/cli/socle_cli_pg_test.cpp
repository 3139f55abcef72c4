// The real `socle` binary on PostgreSQL: SOCLE_DATABASE_URL names a throwaway database of the
// test cluster, and the CLI migrates and manages it.
#include <catch2/catch.hpp>

#include "harness.hpp"
#include "support/postgres_test_database.hpp"

namespace {

using socle::testing::JsonInt;
using socle::testing::JsonItems;
using socle::testing::JsonString;
using socle::testing::Socle;

}  // namespace

TEST_CASE("socle manages organisations and projects in PostgreSQL", "[cli][binary][postgres]") {
  socle::testing::PostgresTestDatabase database;
  socle::testing::TempDir dir;
  const socle::testing::EnvVars env{{"SOCLE_DATABASE_URL", database.url()}};
  auto run = [&](std::vector<std::string> args) {
    args.insert(args.end(), {"--data-dir", dir / "data"});
    auto result = Socle(args, env);
    UNSCOPED_INFO("socle " << args[0] << " -> " << result.exit_code << "\nstdout: " << result.out
                           << "\nstderr: " << result.err);
    return result;
  };

  auto migrated = run({"migrate", "--json"});
  REQUIRE(migrated.exit_code == 0);
  CHECK(JsonInt(migrated.out, "fromVersion") == 0);
  CHECK(JsonInt(migrated.out, "toVersion") >= 1);
  CHECK(run({"migrate"}).out.find("up to date") != std::string::npos);

  auto org = run({"org", "create", "acme", "--name", "Acme", "--tier", "dedicated", "--json"});
  REQUIRE(org.exit_code == 0);
  CHECK(JsonString(org.out, "tier") == "dedicated");
  REQUIRE(run({"project", "create", "web", "--org", "acme"}).exit_code == 0);
  CHECK(run({"project", "create", "web", "--org", "acme"}).exit_code == 1);

  auto listed = run({"org", "list", "--json"});
  REQUIRE(listed.exit_code == 0);
  CHECK(JsonItems(listed.out, "id") == std::vector<std::string>{JsonString(org.out, "id")});
  CHECK(database.Value("SELECT count(*) FROM socle.projects") == "1");

  auto refused = run({"org", "delete", "acme"});
  CHECK(refused.exit_code == 1);
  CHECK(refused.err.find("has 1 project; pass --force") != std::string::npos);
  auto forced = run({"org", "delete", "acme", "--force", "--json"});
  REQUIRE(forced.exit_code == 0);
  CHECK(JsonInt(forced.out, "projectsDeleted") == 1);
  CHECK(JsonInt(run({"project", "list", "--json"}).out, "totalItems") == 0);
  // The URL won over the data directory: nothing was written there.
  CHECK_FALSE(std::filesystem::exists(dir.path() / "data"));
}
