// The real `socle` binary: settings from flags, environment and files, the embedded SQLite
// store in a temporary data directory, output streams and exit statuses.
#include <sys/stat.h>

#include <catch2/catch.hpp>
#include <filesystem>
#include <fstream>

#include "harness.hpp"

namespace {

using socle::testing::JsonInt;
using socle::testing::JsonItems;
using socle::testing::JsonString;
using socle::testing::ProcessResult;
using socle::testing::Socle;
using socle::testing::TempDir;

bool Contains(const std::string& text, std::string_view part) {
  return text.find(part) != std::string::npos;
}

// Runs socle with --data-dir pointing into `dir`, and reports what it printed on failure.
ProcessResult InDir(const TempDir& dir, std::vector<std::string> args,
                    const socle::testing::EnvVars& env = {}) {
  args.insert(args.begin(), {"--data-dir", dir / "data"});
  auto result = Socle(args, env);
  std::string line = "socle";
  for (const auto& arg : args) line += " " + arg;
  UNSCOPED_INFO(line << " -> " << result.exit_code << "\nstdout: " << result.out
                     << "\nstderr: " << result.err);
  return result;
}

}  // namespace

TEST_CASE("socle --version and help need no store", "[cli][binary]") {
  auto version = Socle({"--version", "--database-url", "postgres://nobody@127.0.0.1:1/none"});
  CHECK(version.exit_code == 0);
  CHECK(version.out == "socle " SOCLE_TEST_VERSION "\n");

  auto help = Socle({"help"});
  CHECK(help.exit_code == 0);
  CHECK(Contains(help.out, "org create SLUG"));
  CHECK(Contains(help.out, "SOCLE_DATABASE_URL"));  // the settings table
  CHECK(help.err.empty());

  auto command_help = Socle({"project", "create", "--help"});
  CHECK(command_help.exit_code == 0);
  CHECK(Contains(command_help.out, "Usage: socle project create SLUG"));
}

TEST_CASE("socle exits 2 on usage errors, with the reason on stderr", "[cli][binary]") {
  TempDir dir;
  for (std::vector<std::string> args : {std::vector<std::string>{},
                                        {"launch"},
                                        {"org"},
                                        {"org", "create"},
                                        {"org", "list", "--bogus"},
                                        {"project", "create", "web"},
                                        {"org", "get", "a", "b"}}) {
    auto result = InDir(dir, args);
    CHECK(result.exit_code == 2);
    CHECK(result.out.empty());
    CHECK(Contains(result.err, "socle: "));
    CHECK(Contains(result.err, "Usage: socle"));
  }
  CHECK_FALSE(std::filesystem::exists(dir.path() / "data"));  // no store was opened
}

TEST_CASE("socle exits 2 on malformed settings, naming them", "[cli][binary]") {
  TempDir dir;
  auto result = InDir(dir, {"org", "list"}, {{"SOCLE_DATABASE_POOL_SIZE", "lots"}});
  CHECK(result.exit_code == 2);
  CHECK(Contains(result.err, "SOCLE_DATABASE_POOL_SIZE: must be a whole number"));

  std::ofstream(dir / "bad.toml") << "[database]\nurl = \"sqlite://x\"\npool = 3\n";
  auto file = InDir(dir, {"org", "list", "--config", dir / "bad.toml"});
  CHECK(file.exit_code == 2);
  CHECK(Contains(file.err, "unknown key database.pool"));
}

TEST_CASE("socle manages organisations and projects in the data directory", "[cli][binary]") {
  TempDir dir;
  auto created = InDir(dir, {"org", "create", "acme", "--name", "Acme Corp", "--json"});
  REQUIRE(created.exit_code == 0);
  CHECK(JsonString(created.out, "slug") == "acme");
  CHECK(JsonString(created.out, "name") == "Acme Corp");
  const std::string id = JsonString(created.out, "id");

  // The data directory was created owner-only, with the catalogue in it.
  struct stat info {};
  REQUIRE(::stat((dir / "data").c_str(), &info) == 0);
  CHECK((info.st_mode & 0777) == 0700);
  CHECK(std::filesystem::exists(dir.path() / "data" / "catalogue.db"));

  auto project = InDir(dir, {"project", "create", "web", "--org", "acme", "--json"});
  REQUIRE(project.exit_code == 0);
  CHECK(JsonString(project.out, "org") == "acme");

  auto list = InDir(dir, {"org", "list"});
  REQUIRE(list.exit_code == 0);
  CHECK(list.out.starts_with("SLUG  NAME       REGION  TIER    ID"));
  CHECK(Contains(list.out, "\nacme  Acme Corp  local   shared  " + id + "  "));

  auto get = InDir(dir, {"org", "get", "acme", "--json"});
  REQUIRE(get.exit_code == 0);
  CHECK(JsonString(get.out, "id") == id);

  auto renamed = InDir(dir, {"org", "rename", "acme", "Acme Industries"});
  REQUIRE(renamed.exit_code == 0);
  CHECK(Contains(renamed.out, "name:    Acme Industries\n"));

  auto projects = InDir(dir, {"project", "list", "--org", "acme", "--json"});
  REQUIRE(projects.exit_code == 0);
  CHECK(JsonInt(projects.out, "totalItems") == 1);
  CHECK(JsonItems(projects.out, "slug") == std::vector<std::string>{"web"});

  auto refused = InDir(dir, {"org", "delete", "acme"});
  CHECK(refused.exit_code == 1);
  CHECK(Contains(refused.err, "has 1 project; pass --force"));

  auto forced = InDir(dir, {"org", "delete", "acme", "--force"});
  REQUIRE(forced.exit_code == 0);
  CHECK(forced.out == "Deleted organisation acme and its 1 project.\n");

  auto gone = InDir(dir, {"org", "get", "acme"});
  CHECK(gone.exit_code == 1);
  CHECK(gone.err == "socle: Organisation not found.\n");
  auto empty = InDir(dir, {"org", "list", "--json"});
  REQUIRE(empty.exit_code == 0);
  CHECK(JsonInt(empty.out, "totalItems") == 0);
}

TEST_CASE("socle defines regions and places organisations in them", "[cli][binary]") {
  TempDir dir;
  auto set = InDir(dir, {"region", "set", "eu-west", "--store-url",
                         "postgres://socle:s3cret@eu-db:5432/socle", "--json"});
  REQUIRE(set.exit_code == 0);
  CHECK(JsonString(set.out, "name") == "eu-west");
  CHECK(JsonString(set.out, "storeUrl") == "postgres://socle:***@eu-db:5432/socle");

  auto created = InDir(dir, {"org", "create", "acme", "--region", "eu-west", "--json"});
  REQUIRE(created.exit_code == 0);
  CHECK(JsonString(created.out, "region") == "eu-west");

  auto list = InDir(dir, {"region", "list"});
  REQUIRE(list.exit_code == 0);
  CHECK(list.out ==
        "NAME     STORE URL\n"
        "eu-west  postgres://socle:***@eu-db:5432/socle\n"
        "local    (this instance's own store)\n");
  auto json = InDir(dir, {"region", "list", "--json"});
  REQUIRE(json.exit_code == 0);
  CHECK(JsonItems(json.out, "name") == std::vector<std::string>{"eu-west", "local"});
  CHECK_FALSE(Contains(json.out, "s3cret"));

  auto bad = InDir(dir, {"region", "set", "us-east", "--store-url", "mysql://db/socle"});
  CHECK(bad.exit_code == 1);
  CHECK(bad.out.empty());
  CHECK(Contains(bad.err, "  storeUrl: Must start with postgres:// or postgresql://."));
}

TEST_CASE("socle migrate reports the applied migrations once", "[cli][binary]") {
  TempDir dir;
  auto first = InDir(dir, {"migrate", "--json"});
  REQUIRE(first.exit_code == 0);
  CHECK(JsonInt(first.out, "fromVersion") == 0);
  CHECK(JsonInt(first.out, "toVersion") >= 1);
  auto again = InDir(dir, {"migrate"});
  REQUIRE(again.exit_code == 0);
  CHECK(Contains(again.out, "up to date"));
}

TEST_CASE("socle reads its store from the environment, a secret file and a config file",
          "[cli][binary]") {
  TempDir dir;
  const std::string url = "sqlite://" + (dir / "elsewhere.db");
  auto by_env = Socle({"org", "create", "env-org"}, {{"SOCLE_DATABASE_URL", url}});
  REQUIRE(by_env.exit_code == 0);

  std::ofstream(dir / "url.secret") << url << "\n";
  auto by_secret =
      Socle({"org", "get", "env-org"}, {{"SOCLE_DATABASE_URL_FILE", dir / "url.secret"}});
  CHECK(by_secret.exit_code == 0);

  std::ofstream(dir / "socle.toml") << "[database]\nurl = \"" << url << "\"\n";
  auto by_file = Socle({"org", "list", "--json", "--config", dir / "socle.toml"});
  REQUIRE(by_file.exit_code == 0);
  CHECK(JsonItems(by_file.out, "slug") == std::vector<std::string>{"env-org"});

  // A flag beats the environment: this data directory's store is empty.
  auto by_flag =
      Socle({"org", "list", "--json", "--database-url", "sqlite://" + (dir / "other.db")},
            {{"SOCLE_DATABASE_URL", url}});
  REQUIRE(by_flag.exit_code == 0);
  CHECK(JsonInt(by_flag.out, "totalItems") == 0);
}

TEST_CASE("socle exits 1 when the store is unreachable, without showing the password",
          "[cli][binary]") {
  auto result =
      Socle({"org", "list"}, {{"SOCLE_DATABASE_URL", "postgres://socle:hunter2@127.0.0.1:1/socle"},
                              {"SOCLE_DATABASE_TIMEOUT_MS", "2000"}});
  CHECK(result.exit_code == 1);
  CHECK(result.out.empty());
  CHECK(Contains(result.err, "socle: "));
  CHECK(Contains(result.err, "postgres://socle:***@127.0.0.1:1/socle"));
  CHECK_FALSE(Contains(result.err, "hunter2"));
}

TEST_CASE("socle exits 1 when the data directory cannot be created", "[cli][binary]") {
  TempDir dir;
  std::ofstream(dir / "file") << "not a directory";
  auto result = Socle({"org", "list", "--data-dir", dir / "file/data"});
  CHECK(result.exit_code == 1);
  CHECK(Contains(result.err, "Cannot create the data directory"));
}

TEST_CASE("socle manages a project's collections in the data directory", "[cli][binary]") {
  TempDir dir;
  auto help = Socle({"--help"});
  CHECK(Contains(help.out, "socle collection import FILE --project PROJECT [--delete-missing]"));
  CHECK(InDir(dir, {"collection", "list"}).exit_code == 2);  // --project is required

  REQUIRE(InDir(dir, {"org", "create", "acme"}).exit_code == 0);
  REQUIRE(InDir(dir, {"project", "create", "web", "--org", "acme", "--json"}).exit_code == 0);
  const std::string project_id =
      JsonString(InDir(dir, {"project", "get", "web", "--json"}).out, "id");
  const std::string file = dir / "collections.json";
  std::ofstream(file) << R"([{"name": "notes", "type": "base", "listRule": "",
      "fields": [{"name": "body", "type": "text", "required": true}]}])";

  auto imported = InDir(dir, {"collection", "import", file, "--project", "web"});
  REQUIRE(imported.exit_code == 0);
  CHECK(Contains(imported.out, ": 1 created, 0 updated, 0 deleted.\n"));
  // The project's records get a SQLite file of their own, owner-only.
  struct stat info {};
  REQUIRE(::stat((dir.path() / "data" / "projects" / (project_id + ".db")).c_str(), &info) == 0);
  CHECK((info.st_mode & 0077) == 0);

  auto shown = InDir(dir, {"collection", "get", "notes", "--project", "web"});
  REQUIRE(shown.exit_code == 0);
  CHECK(Contains(shown.out, "listRule:   (everyone)\n"));
  CHECK(Contains(shown.out, "\nbody     text      yes\n"));

  auto exported = InDir(dir, {"collection", "export", "--project", "web"});
  REQUIRE(exported.exit_code == 0);
  CHECK(exported.out.starts_with("[\n{\"id\":\"pbc_"));

  auto refused = InDir(dir, {"collection", "delete", "notes", "--project", "web"});
  CHECK(refused.exit_code == 1);
  CHECK(refused.err ==
        "socle: collection notes of project web holds 0 records; pass --yes to delete it.\n");
  REQUIRE(InDir(dir, {"collection", "delete", "notes", "--project", "web", "--yes"}).exit_code ==
          0);
  auto history = InDir(dir, {"collection", "history", "--project", "web", "--json"});
  REQUIRE(history.exit_code == 0);
  CHECK(Contains(history.out, "\"action\":\"delete\""));

  // Deleting the project removes its file.
  REQUIRE(InDir(dir, {"project", "delete", "web"}).exit_code == 0);
  CHECK_FALSE(std::filesystem::exists(dir.path() / "data" / "projects" / (project_id + ".db")));
  CHECK(InDir(dir, {"collection", "list", "--project", "web"}).exit_code == 1);
}
