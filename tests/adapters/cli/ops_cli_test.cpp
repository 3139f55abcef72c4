#include "socle/adapters/cli/ops_cli.hpp"

#include <simdjson.h>

#include <catch2/catch.hpp>
#include <set>
#include <sstream>

#include "socle/adapters/memory/memory_catalogue_store.hpp"
#include "support/test_ports.hpp"

namespace {

using socle::adapters::cli::CatalogueServices;
using socle::adapters::cli::kExitError;
using socle::adapters::cli::kExitOk;
using socle::adapters::cli::kExitUsage;
using socle::adapters::cli::OpsCli;
using socle::application::ManageOrganisations;
using socle::application::ManageProjects;
using socle::application::ManageRegions;
using socle::domain::ErrorCode;
using socle::domain::Fail;
using socle::domain::Result;

constexpr std::string_view kSettingsHelp = "  --data-dir DIR  Where data lives. [SOCLE_DATA_DIR]\n";

// One `socle` process, minus the process: a memory store, a fixed clock and seeded ids.
class Cli {
 public:
  int Run(std::vector<std::string> args) {
    out_.str("");
    err_.str("");
    OpsCli cli(out_, err_, std::string(kSettingsHelp));
    return cli.Run(args, services_);
  }
  std::string out() const { return out_.str(); }
  std::string err() const { return err_.str(); }
  socle::testing::ManualClock& clock() { return clock_; }
  socle::adapters::memory::MemoryCatalogueStore& store() { return store_; }

 private:
  socle::adapters::memory::MemoryCatalogueStore store_;
  socle::testing::ManualClock clock_;
  socle::testing::SeededRandomSource random_;
  ManageOrganisations organisations_{store_, clock_, random_};
  ManageProjects projects_{store_, clock_, random_};
  ManageRegions regions_{store_};
  CatalogueServices services_{store_, organisations_, projects_, regions_};
  std::ostringstream out_;
  std::ostringstream err_;
};

// Parses `text` as one JSON document; the element lives as long as `parser`.
simdjson::dom::element ParseJson(simdjson::dom::parser& parser, const std::string& text) {
  simdjson::dom::element doc;
  INFO(text);
  REQUIRE(parser.parse(text).get(doc) == simdjson::SUCCESS);
  return doc;
}

std::set<std::string> Keys(simdjson::dom::element element) {
  std::set<std::string> keys;
  simdjson::dom::object object;
  REQUIRE(element.get(object) == simdjson::SUCCESS);
  for (auto field : object) keys.emplace(field.key);
  return keys;
}

std::string Text(simdjson::dom::element element, const char* key) {
  std::string_view value;
  REQUIRE(element[key].get(value) == simdjson::SUCCESS);
  return std::string(value);
}

std::int64_t Number(simdjson::dom::element element, const char* key) {
  std::int64_t value = 0;
  REQUIRE(element[key].get(value) == simdjson::SUCCESS);
  return value;
}

bool Contains(const std::string& text, std::string_view part) {
  return text.find(part) != std::string::npos;
}

const std::set<std::string> kOrganisationKeys{"id",   "slug",    "name",   "region",
                                              "tier", "created", "updated"};
const std::set<std::string> kProjectKeys{"id", "slug", "name", "org", "created", "updated"};
const std::set<std::string> kPageKeys{"page", "perPage", "totalItems", "totalPages", "items"};

// A store that is down: every call fails as a lost database connection would.
class UnavailableStore final : public socle::application::CatalogueStore {
 public:
  template <typename T>
  static Result<T> Down() {
    return Fail(ErrorCode::kUnavailable, "The catalogue store is unavailable.");
  }
  Result<socle::application::MigrationReport> Migrate() override {
    return Down<socle::application::MigrationReport>();
  }
  Result<void> Ping() override { return Down<void>(); }
  Result<void> UpsertRegion(const socle::domain::Region&) override { return Down<void>(); }
  Result<socle::domain::Region> GetRegion(const socle::domain::Slug&) override {
    return Down<socle::domain::Region>();
  }
  Result<std::vector<socle::domain::Region>> ListRegions() override {
    return Down<std::vector<socle::domain::Region>>();
  }
  Result<void> InsertOrganisation(const socle::domain::Organisation&) override {
    return Down<void>();
  }
  Result<socle::domain::Organisation> GetOrganisation(const socle::domain::Slug&) override {
    return Down<socle::domain::Organisation>();
  }
  Result<socle::domain::Organisation> GetOrganisationById(const socle::domain::Id&) override {
    return Down<socle::domain::Organisation>();
  }
  Result<socle::domain::PageOf<socle::domain::Organisation>> ListOrganisations(
      const socle::domain::PageRequest&) override {
    return Down<socle::domain::PageOf<socle::domain::Organisation>>();
  }
  Result<void> UpdateOrganisation(const socle::domain::Organisation&) override {
    return Down<void>();
  }
  Result<std::int64_t> DeleteOrganisation(const socle::domain::Id&,
                                          socle::application::DeleteMode) override {
    return Down<std::int64_t>();
  }
  Result<void> InsertProject(const socle::domain::Project&) override { return Down<void>(); }
  Result<socle::domain::Project> GetProject(const socle::domain::Slug&) override {
    return Down<socle::domain::Project>();
  }
  Result<socle::domain::Project> GetProjectById(const socle::domain::Id&) override {
    return Down<socle::domain::Project>();
  }
  Result<socle::domain::PageOf<socle::domain::Project>> ListProjects(
      const std::optional<socle::domain::Id>&, const socle::domain::PageRequest&) override {
    return Down<socle::domain::PageOf<socle::domain::Project>>();
  }
  Result<void> UpdateProject(const socle::domain::Project&) override { return Down<void>(); }
  Result<void> DeleteProject(const socle::domain::Id&) override { return Down<void>(); }
  Result<std::optional<socle::domain::ProjectSettings>> GetProjectSettings(
      const socle::domain::Id&) override {
    return Down<std::optional<socle::domain::ProjectSettings>>();
  }
  Result<void> PutProjectSettings(const socle::domain::Id&, const socle::domain::ProjectSettings&,
                                  socle::domain::Timestamp) override {
    return Down<void>();
  }
  Result<void> Audited(const std::string&, const socle::application::AuditWrite&,
                       const std::function<Result<void>()>&) override {
    return Down<void>();
  }
  Result<void> RecordAudit(const std::string&, const socle::application::AuditWrite&) override {
    return Down<void>();
  }
  Result<std::vector<socle::application::StoredAuditEvent>> PlatformAuditEvents(
      const std::string&, const socle::application::AuditQuery&) override {
    return Down<std::vector<socle::application::StoredAuditEvent>>();
  }
  Result<std::vector<socle::domain::AuditCheckpointHead>> PlatformAuditHeads() override {
    return Down<std::vector<socle::domain::AuditCheckpointHead>>();
  }
  Result<std::vector<socle::application::StoredAuditEvent>> PlatformAuditChain(
      const std::string&, std::int64_t, std::int64_t) override {
    return Down<std::vector<socle::application::StoredAuditEvent>>();
  }
  Result<std::int64_t> ErasePlatformPersonal(std::string_view) override {
    return Down<std::int64_t>();
  }
};

}  // namespace

TEST_CASE("org create prints the organisation as key: value lines", "[cli]") {
  Cli cli;
  REQUIRE(cli.Run({"org", "create", "acme", "--name", "Acme Corp"}) == kExitOk);
  CHECK(cli.err().empty());
  auto out = cli.out();
  CHECK(Contains(out, "slug:    acme\n"));
  CHECK(Contains(out, "name:    Acme Corp\n"));
  CHECK(Contains(out, "region:  local\n"));
  CHECK(Contains(out, "tier:    shared\n"));
  CHECK(Contains(out, "created: 2023-11-14 22:13:20.000Z\n"));
  CHECK(out.starts_with("id:      "));
}

TEST_CASE("org create --json prints the API's organisation object", "[cli]") {
  Cli cli;
  REQUIRE(cli.Run({"org", "create", "acme", "--json", "--tier=dedicated"}) == kExitOk);
  simdjson::dom::parser parser;
  auto org = ParseJson(parser, cli.out());
  CHECK(Keys(org) == kOrganisationKeys);
  CHECK(Text(org, "slug") == "acme");
  CHECK(Text(org, "name") == "acme");  // the slug when no name is given
  CHECK(Text(org, "region") == "local");
  CHECK(Text(org, "tier") == "dedicated");
  CHECK(Text(org, "id").size() == 15);
  CHECK(Text(org, "created") == "2023-11-14 22:13:20.000Z");
  CHECK(Text(org, "updated") == Text(org, "created"));
}

TEST_CASE("org create refusals exit 1 with the reasons on stderr", "[cli]") {
  Cli cli;
  SECTION("a malformed slug and tier, both reported") {
    CHECK(cli.Run({"org", "create", "Not_A_Slug", "--tier", "gold"}) == kExitError);
    CHECK(cli.out().empty());
    CHECK(Contains(cli.err(), "socle: "));
    CHECK(Contains(cli.err(), "  slug: "));
    CHECK(Contains(cli.err(), "  tier: Must be one of: shared, dedicated."));
  }
  SECTION("a slug already taken") {
    REQUIRE(cli.Run({"org", "create", "acme"}) == kExitOk);
    CHECK(cli.Run({"org", "create", "acme", "--json"}) == kExitError);
    CHECK(cli.out().empty());
    CHECK(Contains(cli.err(), "already exists"));
  }
  SECTION("an unknown region") {
    CHECK(cli.Run({"org", "create", "acme", "--region", "mars"}) == kExitError);
    CHECK(Contains(cli.err(), "region: Unknown region \"mars\"."));
  }
}

TEST_CASE("org list prints an aligned table", "[cli]") {
  Cli cli;
  REQUIRE(cli.Run({"org", "create", "beta", "--name", "Équipe Bêta"}) == kExitOk);
  REQUIRE(cli.Run({"org", "create", "alpha", "--name", "Alpha"}) == kExitOk);
  REQUIRE(cli.Run({"org", "list"}) == kExitOk);
  std::istringstream lines(cli.out());
  std::string header, first, second, extra;
  std::getline(lines, header);
  std::getline(lines, first);
  std::getline(lines, second);
  CHECK_FALSE(std::getline(lines, extra));
  CHECK(header.starts_with("SLUG   NAME         REGION  TIER    ID"));
  CHECK(first.starts_with("alpha  Alpha        local   shared  "));
  CHECK(second.starts_with("beta   Équipe Bêta  local   shared  "));  // aligned by code points
  CHECK(header.back() != ' ');
  CHECK(cli.err().empty());
}

TEST_CASE("org list --json prints the API's page shape", "[cli]") {
  Cli cli;
  REQUIRE(cli.Run({"org", "create", "alpha"}) == kExitOk);
  REQUIRE(cli.Run({"org", "create", "beta"}) == kExitOk);
  REQUIRE(cli.Run({"org", "create", "gamma"}) == kExitOk);
  REQUIRE(cli.Run({"org", "list", "--json", "--per-page", "2", "--page", "2"}) == kExitOk);
  simdjson::dom::parser parser;
  auto page = ParseJson(parser, cli.out());
  CHECK(Keys(page) == kPageKeys);
  CHECK(Number(page, "page") == 2);
  CHECK(Number(page, "perPage") == 2);
  CHECK(Number(page, "totalItems") == 3);
  CHECK(Number(page, "totalPages") == 2);
  simdjson::dom::array items;
  REQUIRE(page["items"].get(items) == simdjson::SUCCESS);
  REQUIRE(items.size() == 1);
  CHECK(Keys(items.at(0)) == kOrganisationKeys);
  CHECK(Text(items.at(0), "slug") == "gamma");
}

TEST_CASE("org list says when it shows one page of several", "[cli]") {
  Cli cli;
  for (auto slug : {"aa", "bb", "cc"}) REQUIRE(cli.Run({"org", "create", slug}) == kExitOk);
  REQUIRE(cli.Run({"org", "list", "--per-page", "2"}) == kExitOk);
  CHECK(Contains(cli.out(), "aa"));
  CHECK_FALSE(Contains(cli.out(), "cc"));
  CHECK(cli.err() == "Showing 1-2 of 3 organisations; next: --page 2.\n");
  REQUIRE(cli.Run({"org", "list", "--page", "9"}) == kExitOk);
  CHECK(Contains(cli.err(), "past the end"));
}

TEST_CASE("an empty list says so, or is an empty page in JSON", "[cli]") {
  Cli cli;
  REQUIRE(cli.Run({"org", "list"}) == kExitOk);
  CHECK(cli.out() == "No organisations.\n");
  REQUIRE(cli.Run({"project", "list"}) == kExitOk);
  CHECK(cli.out() == "No projects.\n");
  REQUIRE(cli.Run({"project", "list", "--json"}) == kExitOk);
  simdjson::dom::parser parser;
  auto page = ParseJson(parser, cli.out());
  CHECK(Number(page, "totalItems") == 0);
  CHECK(Number(page, "perPage") == 100);
}

TEST_CASE("org get shows one organisation or exits 1 when there is none", "[cli]") {
  Cli cli;
  REQUIRE(cli.Run({"org", "create", "acme", "--name", "Acme"}) == kExitOk);
  REQUIRE(cli.Run({"org", "get", "acme", "--json"}) == kExitOk);
  simdjson::dom::parser parser;
  CHECK(Text(ParseJson(parser, cli.out()), "name") == "Acme");

  CHECK(cli.Run({"org", "get", "nobody"}) == kExitError);
  CHECK(cli.out().empty());
  CHECK(cli.err() == "socle: Organisation not found.\n");

  CHECK(cli.Run({"org", "get", "NOT VALID"}) == kExitError);
  CHECK(Contains(cli.err(), "slug: "));
}

TEST_CASE("org rename changes the name and the updated time", "[cli]") {
  Cli cli;
  REQUIRE(cli.Run({"org", "create", "acme"}) == kExitOk);
  cli.clock().Advance(1'500'000);
  REQUIRE(cli.Run({"org", "rename", "acme", "Acme Industries", "--json"}) == kExitOk);
  simdjson::dom::parser parser;
  auto org = ParseJson(parser, cli.out());
  CHECK(Text(org, "name") == "Acme Industries");
  CHECK(Text(org, "updated") == "2023-11-14 22:13:21.500Z");
  CHECK(Text(org, "created") == "2023-11-14 22:13:20.000Z");

  REQUIRE(cli.Run({"org", "get", "acme"}) == kExitOk);
  CHECK(Contains(cli.out(), "name:    Acme Industries\n"));
  CHECK(cli.Run({"org", "rename", "ghost", "X"}) == kExitError);
  CHECK(cli.Run({"org", "rename", "acme", ""}) == kExitError);
  CHECK(Contains(cli.err(), "name: "));
}

TEST_CASE("org delete refuses an organisation with projects unless --force", "[cli]") {
  Cli cli;
  REQUIRE(cli.Run({"org", "create", "acme"}) == kExitOk);
  REQUIRE(cli.Run({"project", "create", "web", "--org", "acme"}) == kExitOk);
  REQUIRE(cli.Run({"project", "create", "api", "--org", "acme"}) == kExitOk);

  CHECK(cli.Run({"org", "delete", "acme"}) == kExitError);
  CHECK(cli.out().empty());
  CHECK(cli.err() ==
        "socle: organisation acme has 2 projects; pass --force to delete it together with its "
        "projects and their data.\n");
  REQUIRE(cli.Run({"project", "get", "web"}) == kExitOk);  // nothing was deleted

  REQUIRE(cli.Run({"org", "delete", "acme", "--force"}) == kExitOk);
  CHECK(cli.out() == "Deleted organisation acme and its 2 projects.\n");
  CHECK(cli.Run({"org", "get", "acme"}) == kExitError);
  CHECK(cli.Run({"project", "get", "web"}) == kExitError);
}

TEST_CASE("org delete of one with a single project says so in the singular", "[cli]") {
  Cli cli;
  REQUIRE(cli.Run({"org", "create", "acme"}) == kExitOk);
  REQUIRE(cli.Run({"project", "create", "web", "--org", "acme"}) == kExitOk);
  CHECK(cli.Run({"org", "delete", "acme", "--json"}) == kExitError);
  CHECK(Contains(cli.err(), "has 1 project;"));
  REQUIRE(cli.Run({"org", "delete", "acme", "--force", "--json"}) == kExitOk);
  simdjson::dom::parser parser;
  auto deleted = ParseJson(parser, cli.out());
  CHECK(Text(deleted, "slug") == "acme");
  CHECK(Number(deleted, "projectsDeleted") == 1);
}

TEST_CASE("org delete without projects needs no --force", "[cli]") {
  Cli cli;
  REQUIRE(cli.Run({"org", "create", "acme"}) == kExitOk);
  REQUIRE(cli.Run({"org", "delete", "acme"}) == kExitOk);
  CHECK(cli.out() == "Deleted organisation acme.\n");
  CHECK(cli.Run({"org", "delete", "acme"}) == kExitError);
  CHECK(cli.err() == "socle: Organisation not found.\n");
}

TEST_CASE("project commands create, list, show, rename and delete", "[cli]") {
  Cli cli;
  REQUIRE(cli.Run({"org", "create", "acme"}) == kExitOk);
  REQUIRE(cli.Run({"org", "create", "beta"}) == kExitOk);

  REQUIRE(cli.Run({"project", "create", "web", "--org", "acme", "--name", "Web site", "--json"}) ==
          kExitOk);
  simdjson::dom::parser parser;
  auto web = ParseJson(parser, cli.out());
  CHECK(Keys(web) == kProjectKeys);
  CHECK(Text(web, "slug") == "web");
  CHECK(Text(web, "name") == "Web site");
  CHECK(Text(web, "org") == "acme");

  REQUIRE(cli.Run({"project", "create", "shop", "--org=beta"}) == kExitOk);
  CHECK(Contains(cli.out(), "org:     beta\n"));

  REQUIRE(cli.Run({"project", "list"}) == kExitOk);
  CHECK(cli.out().starts_with("SLUG  NAME      ORG   ID"));
  CHECK(Contains(cli.out(), "\nshop  shop      beta  "));
  CHECK(Contains(cli.out(), "\nweb   Web site  acme  "));

  REQUIRE(cli.Run({"project", "list", "--org", "beta", "--json"}) == kExitOk);
  auto page = ParseJson(parser, cli.out());
  CHECK(Keys(page) == kPageKeys);
  CHECK(Number(page, "totalItems") == 1);

  CHECK(cli.Run({"project", "list", "--org", "ghost"}) == kExitError);
  CHECK(cli.err() == "socle: Organisation not found.\n");

  REQUIRE(cli.Run({"project", "get", "web"}) == kExitOk);
  CHECK(Contains(cli.out(), "name:    Web site\n"));
  REQUIRE(cli.Run({"project", "rename", "web", "Storefront"}) == kExitOk);
  CHECK(Contains(cli.out(), "name:    Storefront\n"));

  REQUIRE(cli.Run({"project", "delete", "web", "--json"}) == kExitOk);
  auto deleted = ParseJson(parser, cli.out());
  CHECK(Text(deleted, "slug") == "web");
  CHECK(Keys(deleted) == std::set<std::string>{"slug", "deleted"});
  CHECK(cli.Run({"project", "get", "web"}) == kExitError);
  CHECK(cli.err() == "socle: Project not found.\n");
  REQUIRE(cli.Run({"project", "delete", "shop"}) == kExitOk);
  CHECK(cli.out() == "Deleted project shop.\n");
  CHECK(cli.Run({"project", "delete", "shop"}) == kExitError);
}

TEST_CASE("project create refusals exit 1", "[cli]") {
  Cli cli;
  CHECK(cli.Run({"project", "create", "web", "--org", "ghost"}) == kExitError);
  CHECK(cli.err() == "socle: Organisation not found.\n");
  REQUIRE(cli.Run({"org", "create", "acme"}) == kExitOk);
  REQUIRE(cli.Run({"project", "create", "web", "--org", "acme"}) == kExitOk);
  CHECK(cli.Run({"project", "create", "web", "--org", "acme"}) == kExitError);
  CHECK(Contains(cli.err(), "already exists"));
}

TEST_CASE("region set defines a region and shows its store URL without the password", "[cli]") {
  Cli cli;
  REQUIRE(cli.Run({"region", "set", "eu-west", "--store-url",
                   "postgres://socle:s3cret@eu-db:5432/socle?password=s3cret"}) == kExitOk);
  CHECK(cli.err().empty());
  CHECK(cli.out() ==
        "name:     eu-west\n"
        "storeUrl: postgres://socle:***@eu-db:5432/socle?password=***\n");
  // The store keeps the URL whole: it is the output that hides the password.
  auto region = cli.store().GetRegion(*socle::domain::Slug::Parse("eu-west"));
  REQUIRE(region);
  CHECK(Contains(region->store_url, "s3cret"));

  REQUIRE(cli.Run({"region", "set", "eu-west", "--json", "--store-url=postgresql://u:pw@eu-2/x"}) ==
          kExitOk);
  simdjson::dom::parser parser;
  auto json = ParseJson(parser, cli.out());
  CHECK(Keys(json) == std::set<std::string>{"name", "storeUrl"});
  CHECK(Text(json, "name") == "eu-west");
  CHECK(Text(json, "storeUrl") == "postgresql://u:***@eu-2/x");

  REQUIRE(cli.Run({"org", "create", "acme", "--region", "eu-west"}) == kExitOk);
  CHECK(Contains(cli.out(), "region:  eu-west\n"));
}

TEST_CASE("region list prints a table, or the API's list shape in JSON", "[cli]") {
  Cli cli;
  REQUIRE(cli.Run({"region", "set", "eu-west", "--store-url", "postgres://u:pw@eu-db/socle"}) ==
          kExitOk);
  REQUIRE(cli.Run({"region", "list"}) == kExitOk);
  CHECK(cli.out() ==
        "NAME     STORE URL\n"
        "eu-west  postgres://u:***@eu-db/socle\n"
        "local    (this instance's own store)\n");

  REQUIRE(cli.Run({"region", "list", "--json"}) == kExitOk);
  CHECK(cli.out() ==
        "{\"items\":[{\"name\":\"eu-west\",\"storeUrl\":\"postgres://u:***@eu-db/socle\"},"
        "{\"name\":\"local\",\"storeUrl\":\"\"}]}\n");
}

TEST_CASE("region set refusals exit 1 naming every bad field", "[cli]") {
  Cli cli;
  CHECK(cli.Run({"region", "set", "EU", "--store-url", "mysql://u:pw@db/x"}) == kExitError);
  CHECK(cli.out().empty());
  CHECK(Contains(cli.err(), "  name: "));
  CHECK(Contains(cli.err(), "  storeUrl: Must start with postgres:// or postgresql://.\n"));
  CHECK_FALSE(Contains(cli.err(), "pw"));

  CHECK(cli.Run({"region", "set", "eu", "--store-url="}) == kExitError);
  CHECK(Contains(cli.err(), "  storeUrl: Missing required value.\n"));
  REQUIRE(cli.Run({"region", "list", "--json"}) == kExitOk);
  CHECK_FALSE(Contains(cli.out(), "\"eu\""));
}

TEST_CASE("migrate reports the schema version", "[cli]") {
  Cli cli;
  REQUIRE(cli.Run({"migrate"}) == kExitOk);
  CHECK(Contains(cli.out(), "version"));
  REQUIRE(cli.Run({"migrate", "--json"}) == kExitOk);
  simdjson::dom::parser parser;
  auto report = ParseJson(parser, cli.out());
  CHECK(Keys(report) == std::set<std::string>{"fromVersion", "toVersion", "applied"});
}

TEST_CASE("usage errors exit 2 with the command's usage on stderr", "[cli]") {
  Cli cli;
  CHECK(cli.Run({"org", "create"}) == kExitUsage);
  CHECK(cli.out().empty());
  CHECK(cli.err() ==
        "socle: missing SLUG\n"
        "Usage: socle org create SLUG [--name NAME] [--region REGION] [--tier shared|dedicated] "
        "[--json]\n"
        "Run `socle help org create` for more.\n");

  CHECK(cli.Run({}) == kExitUsage);
  CHECK(Contains(cli.err(), "socle: missing command\nUsage: socle COMMAND"));
  CHECK(cli.Run({"launch"}) == kExitUsage);
  CHECK(Contains(cli.err(), "unknown command: launch"));
  CHECK(cli.Run({"org", "list", "--colour"}) == kExitUsage);
  CHECK(Contains(cli.err(), "unknown flag --colour"));
  CHECK(cli.Run({"project", "create", "web"}) == kExitUsage);
  CHECK(Contains(cli.err(), "missing --org ORG"));
  // Nothing was done: a usage error is caught before any use case runs.
  REQUIRE(cli.Run({"org", "list", "--json"}) == kExitOk);
  simdjson::dom::parser parser;
  CHECK(Number(ParseJson(parser, cli.out()), "totalItems") == 0);
}

TEST_CASE("help goes to stdout with exit 0, for every command", "[cli]") {
  Cli cli;
  REQUIRE(cli.Run({"help"}) == kExitOk);
  CHECK(Contains(cli.out(), "Usage: socle COMMAND"));
  CHECK(Contains(cli.out(), "Settings (flag, environment variable, socle.toml key; flags win):\n" +
                                std::string(kSettingsHelp)));
  CHECK(cli.err().empty());

  for (std::vector<std::string> args : {std::vector<std::string>{"--help"},
                                        {"migrate", "--help"},
                                        {"org", "create", "--help"},
                                        {"org", "list", "--help"},
                                        {"org", "get", "--help"},
                                        {"org", "rename", "--help"},
                                        {"org", "delete", "-h"},
                                        {"project", "create", "--help"},
                                        {"project", "list", "--help"},
                                        {"project", "get", "--help"},
                                        {"project", "rename", "--help"},
                                        {"project", "delete", "--help"},
                                        {"help", "org"}}) {
    INFO(args.front());
    CHECK(cli.Run(args) == kExitOk);
    CHECK(Contains(cli.out(), "Usage: socle"));
    CHECK(cli.err().empty());
  }
  REQUIRE(cli.Run({"org", "delete", "--help"}) == kExitOk);
  CHECK(Contains(cli.out(), "--force"));
  CHECK_FALSE(Contains(cli.out(), "Settings ("));  // the long settings list is for `socle help`
}

TEST_CASE("the version flag prints the version", "[cli]") {
  Cli cli;
  REQUIRE(cli.Run({"--version"}) == kExitOk);
  CHECK(cli.out() == "socle " SOCLE_TEST_VERSION "\n");
}

TEST_CASE("help and version need no store", "[cli]") {
  std::ostringstream out, err;
  OpsCli cli(out, err);
  auto command = cli.Parse(std::vector<std::string>{"--version"});
  REQUIRE(command);
  CHECK(cli.Execute(*command, nullptr) == kExitOk);
  command = cli.Parse(std::vector<std::string>{"help", "project"});
  REQUIRE(command);
  CHECK(cli.Execute(*command, nullptr) == kExitOk);
  CHECK(Contains(out.str(), "project delete"));
}

TEST_CASE("a store that is down makes every command exit 1 with its message", "[cli]") {
  UnavailableStore store;
  socle::testing::ManualClock clock;
  socle::testing::SeededRandomSource random;
  ManageOrganisations organisations(store, clock, random);
  ManageProjects projects(store, clock, random);
  ManageRegions regions(store);
  CatalogueServices services{store, organisations, projects, regions};
  std::ostringstream out, err;
  OpsCli cli(out, err);
  for (std::vector<std::string> args : {std::vector<std::string>{"migrate"},
                                        {"org", "list"},
                                        {"org", "create", "acme"},
                                        {"region", "list"},
                                        {"project", "get", "web", "--json"}}) {
    INFO(args.front());
    out.str("");
    err.str("");
    CHECK(cli.Run(args, services) == kExitError);
    CHECK(out.str().empty());
    CHECK(err.str() == "socle: The catalogue store is unavailable.\n");
  }
}

TEST_CASE("settings and store-opening errors are reported with their exit status", "[cli]") {
  std::ostringstream out, err;
  OpsCli cli(out, err);
  socle::domain::Error settings{
      ErrorCode::kInvalidArgument,
      "SOCLE_HTTP: the port must be a number\n--log-level: must be one of",
      {},
      {}};
  CHECK(cli.ReportSettingsError(settings) == kExitUsage);
  CHECK(err.str() ==
        "socle: invalid settings:\n  SOCLE_HTTP: the port must be a number\n  --log-level: must be "
        "one of\n");
  err.str("");
  auto store = socle::domain::Error::Make(
      ErrorCode::kUnavailable,
      "Cannot open the catalogue store postgres://u:***@db/x: connection refused.");
  store.internal = "could not connect";
  CHECK(cli.ReportStoreError(store) == kExitError);
  CHECK(err.str() ==
        "socle: Cannot open the catalogue store postgres://u:***@db/x: connection refused.\n"
        "  detail: could not connect\n");
}
