#include "socle/adapters/cli/command.hpp"

#include <catch2/catch.hpp>
#include <string>
#include <vector>

namespace {

using socle::adapters::cli::Command;
using socle::adapters::cli::HelpText;
using socle::adapters::cli::ParseCommand;
using socle::adapters::cli::UsageLine;
using socle::adapters::cli::Verb;

using Args = std::vector<std::string>;

Command Parsed(const Args& args) {
  auto command = ParseCommand(args);
  INFO((command ? std::string() : command.error().message));
  REQUIRE(command);
  return *command;
}

// The usage error a command line gives, as "topic|message".
std::string UsageOf(const Args& args) {
  auto command = ParseCommand(args);
  if (command) return "parsed";
  return command.error().topic + "|" + command.error().message;
}

}  // namespace

TEST_CASE("every command parses into its verb and arguments", "[cli]") {
  CHECK(Parsed({"migrate"}).verb == Verb::kMigrate);

  auto create = Parsed(
      {"org", "create", "acme", "--name", "Acme Corp", "--region=eu", "--tier", "dedicated"});
  CHECK(create.verb == Verb::kOrgCreate);
  CHECK(create.slug == "acme");
  CHECK(create.name == "Acme Corp");
  CHECK(create.region == "eu");
  CHECK(create.tier == "dedicated");
  CHECK_FALSE(create.json);

  auto bare = Parsed({"org", "create", "acme"});
  CHECK_FALSE(bare.name);
  CHECK_FALSE(bare.region);
  CHECK_FALSE(bare.tier);

  auto list = Parsed({"org", "list", "--json", "--page=2", "--per-page", "5"});
  CHECK(list.verb == Verb::kOrgList);
  CHECK(list.json);
  CHECK(list.page == 2);
  CHECK(list.per_page == 5);
  CHECK(Parsed({"org", "list"}).per_page == Command::kDefaultPerPage);

  CHECK(Parsed({"org", "get", "acme"}).verb == Verb::kOrgGet);
  auto rename = Parsed({"org", "rename", "acme", "New name"});
  CHECK(rename.verb == Verb::kOrgRename);
  CHECK(rename.slug == "acme");
  CHECK(rename.name == "New name");
  auto remove = Parsed({"org", "delete", "acme", "--force"});
  CHECK(remove.verb == Verb::kOrgDelete);
  CHECK(remove.force);
  CHECK_FALSE(Parsed({"org", "delete", "acme"}).force);

  auto project = Parsed({"project", "create", "web", "--org=acme", "--name", "Web"});
  CHECK(project.verb == Verb::kProjectCreate);
  CHECK(project.slug == "web");
  CHECK(project.org == "acme");
  CHECK(project.name == "Web");
  auto projects = Parsed({"project", "list", "--org", "acme"});
  CHECK(projects.verb == Verb::kProjectList);
  CHECK(projects.org == "acme");
  CHECK_FALSE(Parsed({"project", "list"}).org);
  CHECK(Parsed({"project", "get", "web"}).verb == Verb::kProjectGet);
  CHECK(Parsed({"project", "rename", "web", "Site"}).name == "Site");
  CHECK(Parsed({"project", "delete", "web"}).verb == Verb::kProjectDelete);
}

TEST_CASE("region commands parse into their verb, name and store URL", "[cli]") {
  auto list = Parsed({"region", "list", "--json"});
  CHECK(list.verb == Verb::kRegionList);
  CHECK(list.json);
  CHECK(list.NeedsStore());

  auto set = Parsed({"region", "set", "eu-west", "--store-url", "postgres://u:pw@eu/socle"});
  CHECK(set.verb == Verb::kRegionSet);
  CHECK(set.slug == "eu-west");
  CHECK(set.store_url == "postgres://u:pw@eu/socle");
  // An empty store URL is a value like any other (the use case decides whether it is allowed).
  CHECK(Parsed({"region", "set", "local", "--store-url="}).store_url == "");
}

TEST_CASE("malformed region command lines are usage errors", "[cli]") {
  CHECK(UsageOf({"region"}) == "region|missing sub-command after socle region");
  CHECK(UsageOf({"region", "delete", "eu"}) == "region|unknown command: socle region delete");
  CHECK(UsageOf({"region", "set", "--store-url", "postgres://db"}) == "region set|missing NAME");
  CHECK(UsageOf({"region", "set", "eu"}) == "region set|missing --store-url URL");
  CHECK(UsageOf({"region", "set", "eu", "--store-url"}) ==
        "region set|--store-url needs a value: --store-url URL");
  CHECK(UsageOf({"region", "list", "eu"}) == "region list|unexpected argument \"eu\"");
  CHECK(UsageOf({"region", "list", "--page", "2"}) ==
        "region list|socle region list does not take --page");
  CHECK(UsageOf({"org", "create", "acme", "--store-url", "postgres://db"}) ==
        "org create|socle org create does not take --store-url");
}

TEST_CASE("flags may come before, between or after the arguments", "[cli]") {
  auto command = Parsed({"--json", "org", "--name", "A", "create", "acme"});
  CHECK(command.verb == Verb::kOrgCreate);
  CHECK(command.json);
  CHECK(command.slug == "acme");
  CHECK(command.name == "A");
}

TEST_CASE("a double dash makes the rest positional", "[cli]") {
  auto command = Parsed({"org", "rename", "acme", "--", "--not a flag"});
  CHECK(command.name == "--not a flag");
}

TEST_CASE("a repeated flag keeps its last value", "[cli]") {
  CHECK(Parsed({"org", "create", "a1", "--name", "x", "--name=y"}).name == "y");
}

TEST_CASE("the help flag on every command asks for that command's help", "[cli]") {
  struct Case {
    Args args;
    std::string topic;
  };
  std::vector<Case> cases{
      {{"--help"}, ""},
      {{"-h"}, ""},
      {{"migrate", "--help"}, "migrate"},
      {{"org", "--help"}, "org"},
      {{"org", "create", "--help"}, "org create"},
      {{"org", "list", "-h"}, "org list"},
      {{"org", "get", "--help"}, "org get"},
      {{"org", "rename", "--help"}, "org rename"},
      {{"org", "delete", "--help"}, "org delete"},
      {{"project", "--help"}, "project"},
      {{"project", "create", "--help"}, "project create"},  // even without the required --org
      {{"project", "list", "--help"}, "project list"},
      {{"project", "get", "--help"}, "project get"},
      {{"project", "rename", "--help"}, "project rename"},
      {{"project", "delete", "--help"}, "project delete"},
      {{"region", "--help"}, "region"},
      {{"region", "list", "--help"}, "region list"},
      {{"region", "set", "--help"}, "region set"},  // even without the required --store-url
      {{"org", "frobnicate", "--help"}, "org"},
      {{"nonsense", "--help", "--bogus"}, ""},
      {{"help"}, ""},
      {{"help", "org"}, "org"},
      {{"help", "project", "create"}, "project create"},
  };
  for (const auto& c : cases) {
    INFO(c.topic);
    auto command = Parsed(c.args);
    CHECK(command.verb == Verb::kHelp);
    CHECK(command.help_topic == c.topic);
    CHECK_FALSE(command.NeedsStore());
    CHECK_FALSE(HelpText(c.topic).empty());
  }
}

TEST_CASE("the version flag asks for the version", "[cli]") {
  CHECK(Parsed({"--version"}).verb == Verb::kVersion);
  CHECK(Parsed({"org", "list", "--version"}).verb == Verb::kVersion);
  CHECK_FALSE(Parsed({"--version"}).NeedsStore());
  CHECK(Parsed({"org", "list"}).NeedsStore());
}

TEST_CASE("malformed command lines are usage errors naming the problem", "[cli]") {
  CHECK(UsageOf({}) == "|missing command");
  CHECK(UsageOf({"frobnicate"}) == "|unknown command: frobnicate");
  CHECK(UsageOf({"org"}) == "org|missing sub-command after socle org");
  CHECK(UsageOf({"org", "frobnicate"}) == "org|unknown command: socle org frobnicate");
  CHECK(UsageOf({"project"}) == "project|missing sub-command after socle project");
  CHECK(UsageOf({"help", "bogus"}) == "|no such command: socle bogus");
  CHECK(UsageOf({"org", "create"}) == "org create|missing SLUG");
  CHECK(UsageOf({"org", "rename", "acme"}) == "org rename|missing NAME");
  CHECK(UsageOf({"org", "get", "a", "b"}) == "org get|unexpected argument \"b\"");
  CHECK(UsageOf({"migrate", "now"}) == "migrate|unexpected argument \"now\"");
  CHECK(UsageOf({"org", "list", "--verbose"}) ==
        "org list|unknown flag --verbose for socle org list");
  CHECK(UsageOf({"org", "list", "-v"}) == "org list|unknown flag -v for socle org list");
  CHECK(UsageOf({"org", "get", "acme", "--force"}) ==
        "org get|socle org get does not take --force");
  CHECK(UsageOf({"project", "create", "web"}) == "project create|missing --org ORG");
  CHECK(UsageOf({"project", "delete", "web", "--force"}) ==
        "project delete|socle project delete does not take --force");
  CHECK(UsageOf({"org", "create", "acme", "--name"}) ==
        "org create|--name needs a value: --name NAME");
  CHECK(UsageOf({"org", "delete", "acme", "--force=yes"}) == "org delete|--force takes no value");
  CHECK(UsageOf({"org", "list", "--json=1"}) == "org list|--json takes no value");
  CHECK(UsageOf({"org", "list", "--page", "0"}) ==
        "org list|--page must be a whole number from 1 to 1000000");
  CHECK(UsageOf({"org", "list", "--per-page=1001"}) ==
        "org list|--per-page must be a whole number from 1 to 1000");
  CHECK(UsageOf({"org", "list", "--per-page=ten"}) ==
        "org list|--per-page must be a whole number from 1 to 1000");
}

TEST_CASE("usage lines show each command's arguments and flags", "[cli]") {
  CHECK(UsageLine("org create") ==
        "Usage: socle org create SLUG [--name NAME] [--region REGION] [--tier shared|dedicated] "
        "[--json]");
  CHECK(UsageLine("project create") ==
        "Usage: socle project create SLUG [--name NAME] --org ORG [--json]");
  CHECK(UsageLine("org delete") == "Usage: socle org delete SLUG [--force] [--json]");
  CHECK(UsageLine("region set") == "Usage: socle region set NAME --store-url URL [--json]");
  CHECK(UsageLine("region list") == "Usage: socle region list [--json]");
  CHECK(UsageLine("org") == "Usage: socle org COMMAND [ARGUMENTS] [OPTIONS]");
  CHECK(UsageLine("") == "Usage: socle COMMAND [ARGUMENTS] [OPTIONS]");
}

TEST_CASE("the overview lists every command and the exit statuses", "[cli]") {
  auto help = HelpText("");
  for (std::string_view command : {"migrate", "org create", "org list", "org get", "org rename",
                                   "org delete", "project create", "project list", "project get",
                                   "project rename", "project delete", "region list",
                                   "region set", "socle help"}) {
    CHECK(help.find(command) != std::string::npos);
  }
  CHECK(help.find("Exit status: 0") != std::string::npos);
  CHECK(help.find("--version") != std::string::npos);
  auto org = HelpText("org");
  CHECK(org.find("org create") != std::string::npos);
  CHECK(org.find("project create") == std::string::npos);
  auto region = HelpText("region");
  CHECK(region.find("region set NAME --store-url URL") != std::string::npos);
  CHECK(region.find("org create") == std::string::npos);
  CHECK(HelpText("bogus").empty());
}
