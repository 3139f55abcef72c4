// `socle settings ...`: parsing, and the commands run against the memory stores with the
// settings use case for real.
#include <catch2/catch.hpp>
#include <fstream>
#include <sstream>
#include <string>
#include <vector>

#include "socle/adapters/cli/command.hpp"
#include "socle/adapters/cli/ops_cli.hpp"
#include "socle/adapters/json/json_parser.hpp"
#include "socle/adapters/json/project_settings_json.hpp"
#include "socle/adapters/memory/memory_catalogue_store.hpp"
#include "socle/adapters/memory/memory_project_store.hpp"
#include "support/temp_dir.hpp"
#include "support/test_ports.hpp"

namespace {

namespace cli = socle::adapters::cli;
namespace application = socle::application;
namespace json = socle::adapters::json;
using cli::kExitError;
using cli::kExitOk;
using cli::kExitUsage;
using cli::Verb;
using socle::domain::ProjectSettings;

using Args = std::vector<std::string>;

// A `socle` process minus the process, wired as apps/socle/main.cpp wires it.
class Cli {
 public:
  Cli() {
    REQUIRE(Run({"org", "create", "acme"}) == kExitOk);
    REQUIRE(Run({"project", "create", "web", "--org", "acme"}) == kExitOk);
  }

  int Run(const Args& args, const std::string& stdin_text = "") {
    out_.str("");
    err_.str("");
    std::istringstream in(stdin_text);
    cli::OpsCli ops(out_, err_, "", &in);
    return ops.Run(args, services_);
  }
  std::string out() const { return out_.str(); }
  std::string err() const { return err_.str(); }
  application::ManageSettings& settings() { return settings_; }
  cli::ProjectDataServices& data() { return data_; }

  // Writes `text` to a file of the test's temporary directory; returns its path.
  std::string File(const std::string& name, std::string_view text) {
    std::string path = dir_ / name;
    std::ofstream(path) << text;
    return path;
  }

 private:
  socle::testing::TempDir dir_;
  socle::adapters::memory::MemoryCatalogueStore store_;
  socle::adapters::memory::MemoryProjectStores project_stores_;
  socle::testing::ManualClock clock_;
  socle::testing::SeededRandomSource random_;
  application::ProjectDirectory directory_{store_, project_stores_, clock_};
  application::ManageOrganisations organisations_{store_, clock_, random_, &directory_};
  application::ManageProjects projects_{store_, clock_, random_, &directory_};
  application::ManageRegions regions_{store_};
  application::ManageCollections collections_{directory_, clock_, random_};
  application::ManageSettings settings_{directory_, store_, clock_};
  application::ManageRecords records_{directory_, clock_, random_, {}, &settings_};
  cli::ProjectDataServices data_{directory_, collections_, records_, random_, &settings_};
  cli::CatalogueServices services_{store_, organisations_, projects_, regions_, &data_};
  std::ostringstream out_;
  std::ostringstream err_;
};

bool Contains(const std::string& text, std::string_view part) {
  return text.find(part) != std::string::npos;
}

std::string UsageOf(const Args& args) {
  auto command = cli::ParseCommand(args);
  if (command) return "parsed";
  return command.error().topic + "|" + command.error().message;
}

// The settings a --json output holds.
ProjectSettings FromJson(const std::string& text) {
  auto parsed = json::ParseJson(text);
  INFO(text);
  REQUIRE(parsed);
  auto settings = json::ReadProjectSettings(*parsed);
  REQUIRE(settings);
  return *settings;
}

}  // namespace

TEST_CASE("settings commands parse", "[cli][settings]") {
  auto get = cli::ParseCommand(Args{"settings", "get", "--project", "web", "--json"});
  REQUIRE(get);
  CHECK(get->verb == Verb::kSettingsGet);
  CHECK(get->project == "web");
  CHECK(get->json);
  CHECK(get->NeedsProjectStores());
  auto set = cli::ParseCommand(Args{"settings", "set", "-", "--project=web"});
  REQUIRE(set);
  CHECK(set->verb == Verb::kSettingsSet);
  CHECK(set->slug == "-");
  CHECK(set->NeedsProjectStores());

  CHECK(UsageOf({"settings", "get"}) == "settings get|missing --project PROJECT");
  CHECK(UsageOf({"settings", "set", "--project", "web"}) == "settings set|missing FILE");
  CHECK(UsageOf({"settings", "get", "extra", "--project", "web"}) ==
        "settings get|unexpected argument \"extra\"");
  CHECK(UsageOf({"settings"}) == "settings|missing sub-command after socle settings");
  CHECK(UsageOf({"settings", "list"}) == "settings|unknown command: socle settings list");

  CHECK(Contains(cli::HelpText(""), "socle settings get --project PROJECT"));
  CHECK(Contains(cli::HelpText("settings set"), "PATCH /api/settings"));
  CHECK(cli::UsageLine("settings set") ==
        "Usage: socle settings set FILE --project PROJECT [--json]");
}

TEST_CASE("settings get shows the defaults, as text and as JSON", "[cli][settings]") {
  Cli t;
  REQUIRE(t.Run({"settings", "get", "--project", "web"}) == kExitOk);
  CHECK(Contains(t.out(), "meta.appName:               Acme\n"));
  CHECK(Contains(t.out(), "batch.enabled:              true\n"));
  CHECK(Contains(t.out(), "batch.maxRequests:          50\n"));
  CHECK(Contains(t.out(), "rateLimits.enabled:         false\n"));
  CHECK(Contains(t.out(), "/api/batch  (all)     3             1 s\n"));

  REQUIRE(t.Run({"settings", "get", "--project", "web", "--json"}) == kExitOk);
  CHECK(t.out() == json::ProjectSettingsText(ProjectSettings{}) + "\n");

  CHECK(t.Run({"settings", "get", "--project", "nope"}) == kExitError);
  CHECK(Contains(t.err(), "socle: "));
  CHECK(t.out().empty());
}

TEST_CASE("settings set merges a file or stdin over the settings", "[cli][settings]") {
  Cli t;
  const std::string file =
      t.File("settings.json", R"({"meta": {"appName": "Web"}, "batch": {"maxRequests": 20},
                                  "trustedProxy": {"headers": ["X-Real-IP"]}})");
  REQUIRE(t.Run({"settings", "set", file, "--project", "web"}) == kExitOk);
  CHECK(Contains(t.err(), "Updated the settings of project web."));
  CHECK(Contains(t.out(), "meta.appName:               Web\n"));
  CHECK(Contains(t.out(), "trustedProxy.headers:       X-Real-IP\n"));

  // Another patch keeps what the first one set.
  REQUIRE(t.Run({"settings", "set", "-", "--project", "web", "--json"},
                R"({"batch": {"enabled": false}, "rateLimits": {"rules": []}})") == kExitOk);
  const ProjectSettings shown = FromJson(t.out());
  CHECK(shown.meta.app_name == "Web");
  CHECK(shown.batch.max_requests == 20);
  CHECK_FALSE(shown.batch.enabled);
  CHECK(shown.rate_limits.rules.empty());
  CHECK(t.settings().Get("web").value() == shown);  // what was printed is what was stored

  // `settings get --json` reads back through `settings set` unchanged.
  REQUIRE(t.Run({"settings", "get", "--project", "web", "--json"}) == kExitOk);
  const std::string exported = t.out();
  REQUIRE(t.Run({"settings", "set", "-", "--project", "web", "--json"}, exported) == kExitOk);
  CHECK(t.out() == exported);
}

TEST_CASE("settings set refuses bad input and changes nothing", "[cli][settings]") {
  Cli t;
  auto unchanged = [&] { CHECK(t.settings().Get("web").value() == ProjectSettings{}); };

  CHECK(t.Run({"settings", "set", "-", "--project", "web"},
              R"({"meta": {"appName": "", "appURL": "localhost"}})") == kExitError);
  CHECK(Contains(t.err(), "were not changed"));
  CHECK(Contains(t.err(), "  meta.appName: Cannot be blank.\n"));
  CHECK(Contains(t.err(), "  meta.appURL: Must be a valid http:// or https:// URL.\n"));
  CHECK(t.out().empty());
  unchanged();

  CHECK(t.Run({"settings", "set", "-", "--project", "web"}, R"({"batch": {"timeout": "3"}})") ==
        kExitError);
  CHECK(Contains(t.err(), "batch.timeout: Must be an integer."));
  unchanged();

  CHECK(t.Run({"settings", "set", "-", "--project", "web"}, "[]") == kExitError);
  CHECK(Contains(t.err(), "stdin must hold a JSON object"));
  CHECK(t.Run({"settings", "set", "-", "--project", "web"}, "{") == kExitError);
  CHECK(Contains(t.err(), "stdin is not valid JSON"));
  CHECK(t.Run({"settings", "set", t.File("missing/none.json", ""), "--project", "web"}) ==
        kExitError);
  CHECK(t.Run({"settings", "set", "-", "--project", "web"}, std::string(2 << 20, ' ')) ==
        kExitError);
  CHECK(Contains(t.err(), "larger than 1 MiB; that is not a settings file"));
  CHECK(t.Run({"settings", "set", "-", "--project", "nope"}, "{}") == kExitError);
  unchanged();
  CHECK(t.Run({"settings", "set", "--project", "web"}) == kExitUsage);
}

TEST_CASE("settings commands need the settings use case", "[cli][settings]") {
  Cli t;
  t.data().settings = nullptr;
  CHECK(t.Run({"settings", "get", "--project", "web"}) == kExitError);
  CHECK(t.out().empty());
}
