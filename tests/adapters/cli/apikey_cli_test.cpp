// `socle apikey ...`: parsing, and the commands run against the memory stores with the API
// keys use case for real (the platform store, the real Ed25519 signer's binding), wired as
// apps/socle/main.cpp wires them. The secret must reach stdout once, at creation, and nowhere
// else: not stderr, not a list.
#include <catch2/catch.hpp>

#include <algorithm>
#include <set>
#include <sstream>
#include <string>
#include <string_view>
#include <vector>

#include "access_cli_world.hpp"
#include "socle/adapters/cli/command.hpp"
#include "socle/adapters/cli/ops_cli.hpp"
#include "socle/adapters/crypto/argon2_password_hasher.hpp"
#include "socle/adapters/crypto/ed25519_token_signer.hpp"
#include "socle/adapters/crypto/secret_box.hpp"
#include "socle/adapters/json/json_parser.hpp"
#include "socle/adapters/memory/memory_catalogue_store.hpp"
#include "socle/adapters/memory/memory_project_store.hpp"
#include "socle/application/manage_api_keys.hpp"
#include "socle/application/platform_store.hpp"
#include "support/test_ports.hpp"

namespace {

namespace cli = socle::adapters::cli;
namespace application = socle::application;
namespace crypto = socle::adapters::crypto;
namespace json = socle::adapters::json;
using cli::kExitError;
using cli::kExitOk;
using cli::kExitUsage;
using cli::Verb;
using socle::domain::JsonValue;

using Args = std::vector<std::string>;

using socle::testing::MakeBox;
using socle::testing::MakeHasher;

// A `socle` process minus the process, wired as apps/socle/main.cpp wires it. Organisation
// acme, projects web and shop.
class Cli {
 public:
  explicit Cli(bool with_auth = true) {
    if (with_auth) services_.auth = &auth_;
    REQUIRE(Run({"org", "create", "acme"}) == kExitOk);
    REQUIRE(Run({"project", "create", "web", "--org", "acme"}) == kExitOk);
    REQUIRE(Run({"project", "create", "shop", "--org", "acme"}) == kExitOk);
  }

  int Run(const Args& args) {
    out_.str("");
    err_.str("");
    cli::OpsCli ops(out_, err_, "");
    return ops.Run(args, services_);
  }
  std::string out() const { return out_.str(); }
  std::string err() const { return err_.str(); }
  application::ManageApiKeys& keys() { return api_keys_; }
  socle::testing::ManualClock& clock() { return clock_; }

  // Creates a key of `project` through the CLI; returns {id, secret}.
  std::pair<std::string, std::string> MustCreate(const Args& scopes, std::string project = "web",
                                                 std::string name = "ci") {
    Args args{"apikey", "create", name, "--project", project, "--json"};
    for (const auto& scope : scopes) {
      args.push_back("--scope");
      args.push_back(scope);
    }
    INFO(err());
    REQUIRE(Run(args) == kExitOk);
    auto parsed = json::ParseJson(out());
    INFO(out());
    REQUIRE(parsed);
    const JsonValue* id = parsed->Find("id");
    const JsonValue* key = parsed->Find("key");
    REQUIRE(id != nullptr);
    REQUIRE(key != nullptr);
    return {id->AsString(), key->AsString()};
  }

 private:
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
  application::PlatformStore platform_{project_stores_, clock_};
  crypto::Argon2PasswordHasher hasher_{MakeHasher(random_)};
  crypto::SecretBox box_{MakeBox(random_)};
  crypto::Ed25519TokenSigner signer_;
  application::ManageSigningKeys signing_keys_{platform_, signer_, box_, clock_, random_};
  application::ManageSuperusers superusers_{platform_, hasher_, clock_, random_};
  application::ManageApiKeys api_keys_{directory_, platform_, signer_, clock_, random_};
  cli::ProjectDataServices data_{directory_, collections_, records_, random_, &settings_};
  cli::AuthServices auth_{superusers_, signing_keys_, &api_keys_};
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

bool IsSecret(std::string_view key) {
  return key.size() == 53 && key.starts_with("sk_") &&
         std::all_of(key.begin() + 3, key.end(), [](char c) {
           return (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9');
         });
}

// Whether `text` shows anything of `secret` past the 12 characters shown as its prefix.
bool ShowsSecret(const std::string& text, const std::string& secret) {
  const std::string rest = secret.substr(12);
  for (std::size_t i = 0; i + 8 <= rest.size(); ++i) {
    if (Contains(text, rest.substr(i, 8))) return true;
  }
  return Contains(text, secret);
}

JsonValue ParseOut(const std::string& text) {
  INFO(text);
  auto parsed = json::ParseJson(text);
  REQUIRE(parsed);
  return *parsed;
}

std::set<std::string> Keys(const JsonValue& object) {
  std::set<std::string> keys;
  for (const auto& [key, value] : object.members()) keys.insert(key);
  return keys;
}

}  // namespace

TEST_CASE("apikey commands parse", "[cli][apikey]") {
  auto create = cli::ParseCommand(Args{"apikey", "create", "deploy", "--project", "web", "--scope",
                                       "posts:read", "--scope=comments:write", "--expires",
                                       "2030-01-01", "--json"});
  REQUIRE(create);
  CHECK(create->verb == Verb::kApiKeyCreate);
  CHECK(create->slug == "deploy");
  CHECK(create->project == "web");
  CHECK(create->scopes == std::vector<std::string>{"posts:read", "comments:write"});
  CHECK(create->expires == "2030-01-01");
  CHECK(create->json);
  CHECK(create->NeedsAuth());
  CHECK(create->NeedsProjectStores());

  auto list = cli::ParseCommand(Args{"apikey", "list", "--project", "web"});
  REQUIRE(list);
  CHECK(list->verb == Verb::kApiKeyList);
  CHECK(list->NeedsAuth());
  auto revoke = cli::ParseCommand(Args{"apikey", "revoke", "abc", "--project=web"});
  REQUIRE(revoke);
  CHECK(revoke->verb == Verb::kApiKeyRevoke);
  CHECK(revoke->slug == "abc");

  CHECK(UsageOf({"apikey", "create", "ci", "--project", "web"}) ==
        "apikey create|missing --scope SCOPE");
  CHECK(UsageOf({"apikey", "create", "ci", "--scope", "posts:read"}) ==
        "apikey create|missing --project PROJECT");
  CHECK(UsageOf({"apikey", "create", "--project", "web", "--scope", "posts:read"}) ==
        "apikey create|missing NAME");
  CHECK(UsageOf({"apikey", "create", "ci", "--project", "web", "--scope"}).starts_with(
      "apikey create|"));
  CHECK(UsageOf({"apikey", "list"}) == "apikey list|missing --project PROJECT");
  CHECK(UsageOf({"apikey", "list", "--project", "web", "--scope", "posts:read"}).starts_with(
      "apikey list|"));
  CHECK(UsageOf({"apikey", "list", "--project", "web", "--expires", "2030-01-01"}).starts_with(
      "apikey list|"));
  CHECK(UsageOf({"apikey", "revoke", "--project", "web"}) == "apikey revoke|missing ID");
  CHECK(UsageOf({"apikey", "revoke", "a", "b", "--project", "web"}) ==
        "apikey revoke|unexpected argument \"b\"");
  CHECK(UsageOf({"apikey"}) == "apikey|missing sub-command after socle apikey");
  CHECK(UsageOf({"apikey", "delete"}) == "apikey|unknown command: socle apikey delete");

  CHECK(Contains(cli::HelpText("apikey create"), "X-API-Key"));
  CHECK(Contains(cli::HelpText(""), "socle apikey create NAME --project PROJECT --scope SCOPE"));
}

TEST_CASE("apikey create without a scope is a usage error", "[cli][apikey]") {
  Cli t;
  CHECK(t.Run({"apikey", "create", "ci", "--project", "web"}) == kExitUsage);
  CHECK(t.out().empty());
  CHECK(Contains(t.err(), "socle: missing --scope SCOPE\n"));
  CHECK(Contains(t.err(), "Usage: socle apikey create NAME"));
  REQUIRE(t.Run({"apikey", "list", "--project", "web"}) == kExitOk);
  CHECK(t.out() == "No API keys.\n");
}

TEST_CASE("apikey create prints the key on stdout only", "[cli][apikey]") {
  Cli t;
  REQUIRE(t.Run({"apikey", "create", "deploy bot", "--project", "web", "--scope", "posts:read"}) ==
          kExitOk);
  const std::string out = t.out();
  const std::string err = t.err();
  INFO(out << "|" << err);
  REQUIRE(out.size() == 54);
  REQUIRE(out.back() == '\n');
  const std::string secret = out.substr(0, out.size() - 1);
  CHECK(IsSecret(secret));
  // The note names the key and says it is shown once, without showing it again.
  CHECK(Contains(err, "deploy bot"));
  CHECK(Contains(err, "shown only now"));
  CHECK_FALSE(ShowsSecret(err, secret));
  CHECK_FALSE(Contains(err, secret.substr(0, 12)));

  // What was printed is the key: it identifies a caller of web with the scopes asked for.
  auto caller = t.keys().Identify("web", secret);
  REQUIRE(caller);
  REQUIRE(caller->scopes);
  CHECK(caller->scopes->size() == 2);
  CHECK(Contains(err, caller->api_key_id));
  CHECK_FALSE(t.keys().Identify("shop", secret));
}

TEST_CASE("apikey create --json gives the id and the key", "[cli][apikey]") {
  Cli t;
  REQUIRE(t.Run({"apikey", "create", "ci", "--project", "web", "--scope", "*:read", "--json"}) ==
          kExitOk);
  CHECK(t.err().empty());
  const JsonValue made = ParseOut(t.out());
  CHECK(Keys(made) == std::set<std::string>{"id", "key"});
  const std::string id = made.Find("id")->AsString();
  const std::string secret = made.Find("key")->AsString();
  CHECK(IsSecret(secret));
  CHECK(id.size() == 15);
  auto caller = t.keys().Identify("web", secret);
  REQUIRE(caller);
  CHECK(caller->api_key_id == id);
}

TEST_CASE("apikey create refuses bad scopes, names and projects", "[cli][apikey]") {
  Cli t;
  CHECK(t.Run({"apikey", "create", "ci", "--project", "web", "--scope", "posts:read", "--scope",
               "posts:publish"}) == kExitError);
  CHECK(t.out().empty());
  CHECK(Contains(t.err(), "socle: Failed to validate the submitted data.\n"));
  CHECK(Contains(t.err(), "  scopes.1: A scope is COLLECTION:ACTION"));
  CHECK_FALSE(Contains(t.err(), "scopes.0"));

  CHECK(t.Run({"apikey", "create", "ci", "--project", "web", "--scope", ""}) == kExitError);
  CHECK(Contains(t.err(), "  scopes.0: "));

  CHECK(t.Run({"apikey", "create", std::string(101, 'n'), "--project", "web", "--scope",
               "posts:read"}) == kExitError);
  CHECK(t.out().empty());
  CHECK(Contains(t.err(), "  name: "));

  CHECK(t.Run({"apikey", "create", "ci", "--project", "nope", "--scope", "posts:read"}) ==
        kExitError);
  CHECK(t.out().empty());
  CHECK(Contains(t.err(), "socle: "));

  // Nothing was created by any of them.
  REQUIRE(t.Run({"apikey", "list", "--project", "web", "--json"}) == kExitOk);
  CHECK(t.out() == "[]\n");
}

TEST_CASE("apikey create --expires takes a date or an instant, in the future",
          "[cli][apikey]") {
  Cli t;  // the clock reads 2023-11-14
  REQUIRE(t.Run({"apikey", "create", "dated", "--project", "web", "--scope", "posts:read",
                 "--expires", "2030-01-01"}) == kExitOk);
  t.clock().Advance(1'000'000);  // a list is in creation order
  REQUIRE(t.Run({"apikey", "create", "instant", "--project", "web", "--scope", "posts:read",
                 "--expires", "2031-06-15 12:30:00Z"}) == kExitOk);
  t.clock().Advance(1'000'000);
  REQUIRE(t.Run({"apikey", "create", "rfc", "--project", "web", "--scope", "posts:read",
                 "--expires", "2032-02-29T08:00:00.250Z"}) == kExitOk);
  auto listed = t.keys().List("web");
  REQUIRE(listed);
  REQUIRE(listed->size() == 3);
  REQUIRE((*listed)[0].expires);
  CHECK((*listed)[0].expires->ToApiString() == "2030-01-01 00:00:00.000Z");
  REQUIRE((*listed)[1].expires);
  CHECK((*listed)[1].expires->ToApiString() == "2031-06-15 12:30:00.000Z");
  REQUIRE((*listed)[2].expires);
  CHECK((*listed)[2].expires->ToApiString() == "2032-02-29 08:00:00.250Z");
  REQUIRE(t.Run({"apikey", "list", "--project", "web"}) == kExitOk);
  CHECK(Contains(t.out(), "2030-01-01 00:00:00.000Z"));

  for (const std::string& garbage :
       {std::string("tomorrow"), std::string("2030-13-01"), std::string("2030-02-30"),
        std::string("01/02/2030"), std::string("2030-01-01 25:00:00Z"), std::string("2030-1-1"),
        std::string(""), std::string("2030-01-01 10:00:00")}) {
    INFO(garbage);
    CHECK(t.Run({"apikey", "create", "ci", "--project", "web", "--scope", "posts:read",
                 "--expires", garbage}) == kExitError);
    CHECK(t.out().empty());
    CHECK(Contains(t.err(), "  expires: Give a date (YYYY-MM-DD)"));
  }
  CHECK(t.Run({"apikey", "create", "ci", "--project", "web", "--scope", "posts:read",
               "--expires", "2020-01-01"}) == kExitError);
  CHECK(t.out().empty());
  CHECK(Contains(t.err(), "  expires: Must be in the future."));

  // A key given until the first instant of a day works until then, not after.
  auto [id, secret] = t.MustCreate({"posts:read"});
  (void)id;
  REQUIRE(t.Run({"apikey", "create", "soon", "--project", "web", "--scope", "posts:read",
                 "--expires", "2023-11-16", "--json"}) == kExitOk);
  const std::string soon = ParseOut(t.out()).Find("key")->AsString();
  CHECK(t.keys().Identify("web", soon));
  t.clock().Advance(std::int64_t{3} * 86'400 * 1'000'000);
  CHECK_FALSE(t.keys().Identify("web", soon));
  CHECK(t.keys().Identify("web", secret));

  auto all = t.keys().List("web");
  REQUIRE(all);
  CHECK(all->size() == 5);
}

TEST_CASE("apikey list never shows a secret", "[cli][apikey]") {
  Cli t;
  const auto [first_id, first] = t.MustCreate({"posts:read", "comments:create"}, "web", "reader");
  t.clock().Advance(1'000'000);
  const auto [second_id, second] = t.MustCreate({"*:all"}, "web", "admin tool");
  const auto [their_id, theirs] = t.MustCreate({"posts:read"}, "shop", "elsewhere");
  REQUIRE(t.keys().Identify("web", first));
  REQUIRE(t.keys().Identify("web", first));
  REQUIRE(t.keys().Flush());

  REQUIRE(t.Run({"apikey", "list", "--project", "web"}) == kExitOk);
  const std::string table = t.out();
  INFO(table);
  CHECK(table.starts_with("ID"));
  for (std::string_view column :
       {"NAME", "PREFIX", "SCOPES", "EXPIRES", "LAST USED", "USES", "STATUS"}) {
    CHECK(Contains(table, column));
  }
  CHECK(Contains(table, first_id));
  CHECK(Contains(table, second_id));
  CHECK_FALSE(Contains(table, their_id));
  CHECK(Contains(table, "reader"));
  CHECK(Contains(table, "admin tool"));
  CHECK(Contains(table, first.substr(0, 12) + "…"));
  CHECK(Contains(table, "posts:list posts:view comments:create"));
  CHECK(Contains(table, "active"));
  CHECK_FALSE(ShowsSecret(table, first));
  CHECK_FALSE(ShowsSecret(table, second));
  CHECK_FALSE(ShowsSecret(table, theirs));
  // Header and one line per key of web.
  CHECK(std::count(table.begin(), table.end(), '\n') == 3);
  CHECK(t.err().empty());

  REQUIRE(t.Run({"apikey", "list", "--project", "web", "--json"}) == kExitOk);
  const std::string text = t.out();
  CHECK_FALSE(ShowsSecret(text, first));
  CHECK_FALSE(ShowsSecret(text, second));
  const JsonValue listed = ParseOut(text);
  REQUIRE(listed.type() == JsonValue::Type::kArray);
  REQUIRE(listed.items().size() == 2);
  const JsonValue& a = listed.items()[0];
  CHECK(Keys(a) == std::set<std::string>{"id", "prefix", "uses", "revoked"});
  CHECK(a.Find("id")->AsString() == first_id);
  CHECK(a.Find("prefix")->AsString() == first.substr(0, 12));
  CHECK(a.Find("uses")->AsInt64() == 2);
  CHECK_FALSE(a.Find("revoked")->AsBool());
  CHECK(listed.items()[1].Find("uses")->AsInt64() == 0);

  REQUIRE(t.Run({"apikey", "list", "--project", "shop", "--json"}) == kExitOk);
  CHECK(ParseOut(t.out()).items().size() == 1);
  CHECK(t.Run({"apikey", "list", "--project", "nope"}) == kExitError);
  CHECK(t.out().empty());
}

TEST_CASE("apikey revoke stops a key and the list says so", "[cli][apikey]") {
  Cli t;
  const auto [id, secret] = t.MustCreate({"posts:read"});
  const auto [kept_id, kept] = t.MustCreate({"posts:read"});
  const auto [their_id, theirs] = t.MustCreate({"posts:read"}, "shop");

  REQUIRE(t.Run({"apikey", "revoke", id, "--project", "web"}) == kExitOk);
  CHECK(t.out() == "Revoked API key " + id + ".\n");
  CHECK_FALSE(t.keys().Identify("web", secret));
  CHECK(t.keys().Identify("web", kept));

  REQUIRE(t.Run({"apikey", "list", "--project", "web"}) == kExitOk);
  const std::string table = t.out();
  INFO(table);
  std::istringstream lines(table);
  std::string line;
  int revoked_lines = 0;
  while (std::getline(lines, line)) {
    if (Contains(line, id)) {
      CHECK(Contains(line, "revoked " + t.clock().Now().ToApiString()));
      ++revoked_lines;
    }
    if (Contains(line, kept_id)) CHECK(Contains(line, "active"));
  }
  CHECK(revoked_lines == 1);
  REQUIRE(t.Run({"apikey", "list", "--project", "web", "--json"}) == kExitOk);
  const JsonValue listed = ParseOut(t.out());
  REQUIRE(listed.items().size() == 2);
  for (const auto& key : listed.items()) {
    CHECK(key.Find("revoked")->AsBool() == (key.Find("id")->AsString() == id));
  }

  // Again: nothing to do, still fine.
  CHECK(t.Run({"apikey", "revoke", id, "--project", "web", "--json"}) == kExitOk);

  // Unknown ids, and another project's key, are not found and change nothing.
  CHECK(t.Run({"apikey", "revoke", "nosuchkey000000", "--project", "web"}) == kExitError);
  CHECK(t.out().empty());
  CHECK(Contains(t.err(), "socle: The API key was not found.\n"));
  CHECK(t.Run({"apikey", "revoke", their_id, "--project", "web"}) == kExitError);
  CHECK(Contains(t.err(), "socle: The API key was not found.\n"));
  CHECK(t.keys().Identify("shop", theirs));
  CHECK(t.Run({"apikey", "revoke", id, "--project", "nope"}) == kExitError);
}

TEST_CASE("apikey commands fail without authentication services", "[cli][apikey]") {
  Cli t(false);
  CHECK(t.Run({"apikey", "list", "--project", "web"}) == kExitError);
  CHECK(t.out().empty());
  CHECK(Contains(t.err(), "socle: "));
  CHECK(t.Run({"apikey", "create", "ci", "--project", "web", "--scope", "posts:read"}) ==
        kExitError);
  CHECK(t.out().empty());
}
