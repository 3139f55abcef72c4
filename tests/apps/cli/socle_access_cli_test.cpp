// The real `socle` binary on organisations' access: one process per command over the embedded
// SQLite store in a temporary data directory, so that what one command makes (members, teams,
// policies, flags, keys) is what the next one finds. JSON is read with simdjson, independent of
// Socle's own writer.
#include <catch2/catch.hpp>

#include <string>
#include <vector>

#include "harness.hpp"

namespace {

using socle::testing::JsonBoolAt;
using socle::testing::JsonHas;
using socle::testing::JsonItems;
using socle::testing::JsonString;
using socle::testing::JsonStringAt;
using socle::testing::ProcessResult;
using socle::testing::Socle;
using socle::testing::TempDir;

constexpr const char* kPassword = "velvet-otter-quarry-41";

bool Contains(const std::string& text, std::string_view part) {
  return text.find(part) != std::string::npos;
}

// Runs socle with --data-dir in `dir`, and reports what it printed on failure.
ProcessResult InDir(const TempDir& dir, std::vector<std::string> args) {
  args.insert(args.begin(), {"--data-dir", dir / "data"});
  auto result = Socle(args);
  std::string line = "socle";
  for (const auto& arg : args) line += " " + arg;
  UNSCOPED_INFO(line << " -> " << result.exit_code << "\nstdout: " << result.out
                     << "\nstderr: " << result.err);
  return result;
}

// Runs a command that must succeed; returns its stdout.
std::string Ok(const TempDir& dir, std::vector<std::string> args) {
  auto result = InDir(dir, std::move(args));
  REQUIRE(result.exit_code == 0);
  return result.out;
}

}  // namespace

TEST_CASE("socle manages an organisation's members, teams, policies, flags and keys",
          "[cli][binary][access]") {
  TempDir dir;
  Ok(dir, {"org", "create", "acme"});
  Ok(dir, {"project", "create", "web", "--org", "acme"});
  const std::string ann = JsonString(
      Ok(dir, {"member", "upsert", "ann@example.com", kPassword, "--json"}), "id");
  const std::string bob = JsonString(
      Ok(dir, {"member", "upsert", "bob@example.com", kPassword, "--json"}), "id");

  const std::string owner = Ok(dir, {"org", "owner", "acme", "ann@example.com", "--json"});
  CHECK(JsonString(owner, "memberId") == ann);
  CHECK(JsonBoolAt(owner, "/owner"));
  CHECK(JsonItems(Ok(dir, {"member", "list", "acme", "--json"}), "memberId") ==
        std::vector<std::string>{ann});
  CHECK(JsonStringAt(Ok(dir, {"member", "list", "acme", "--json"}), "/items/0/roles/0") ==
        "owner");

  // A second owner, then a team with a project role, and bob in it.
  Ok(dir, {"org", "owner", "acme", "bob@example.com"});
  const std::string team = JsonString(Ok(dir, {"team", "create", "acme", "Ops", "--json"}), "id");
  const std::string granted = Ok(dir, {"policy", "grant", "acme", "project.editor", "--team",
                                       team, "--project", "web", "--json"});
  CHECK(JsonStringAt(granted, "/subject/kind") == "team");
  CHECK(JsonString(granted, "project") == "web");
  CHECK(JsonString(granted, "createdBy") == "superuser:cli");
  Ok(dir, {"team", "add", "acme", team, bob});
  const std::string shown = Ok(dir, {"team", "show", "acme", team, "--json"});
  CHECK(JsonStringAt(shown, "/members/0/memberId") == bob);

  const std::string explained =
      Ok(dir, {"org", "explain", "acme", "--team", team, "--project", "web", "--permission",
               "records.update", "--permission", "project.delete", "--json"});
  CHECK(JsonStringAt(explained, "/items/0/permission") == "records.update");
  CHECK(JsonBoolAt(explained, "/items/0/allowed"));
  CHECK(JsonStringAt(explained, "/items/0/policy/project") == "web");
  CHECK_FALSE(JsonBoolAt(explained, "/items/1/allowed"));
  const std::string lines = Ok(dir, {"org", "explain", "acme", "--team", team, "--project",
                                     "web", "--permission", "records.update"});
  CHECK(Contains(lines, "has role project.editor on project web"));

  // Ownership: never by policy; the last owner stays.
  auto refused = InDir(dir, {"policy", "grant", "acme", "owner", "--member", bob});
  CHECK(refused.exit_code == 1);
  CHECK(refused.out.empty());
  CHECK(Contains(refused.err, "Ownership is given by transfer"));
  Ok(dir, {"member", "remove", "acme", ann});
  auto last = InDir(dir, {"member", "remove", "acme", bob});
  CHECK(last.exit_code == 1);
  CHECK(Contains(last.err, "last owner"));
  CHECK(JsonItems(Ok(dir, {"member", "list", "acme", "--json"}), "memberId") ==
        std::vector<std::string>{bob});

  // Invitations: the token once, never in the list.
  const std::string invited =
      Ok(dir, {"member", "invite", "acme", "carol@example.com", "viewer", "--json"});
  const std::string token = JsonString(invited, "token");
  CHECK(token.starts_with("inv_"));
  const std::string invitations = Ok(dir, {"member", "invitations", "acme", "--json"});
  CHECK(JsonItems(invitations, "email") == std::vector<std::string>{"carol@example.com"});
  CHECK_FALSE(Contains(invitations, token));

  // Feature flags, global and for the organisation; the most specific level wins.
  Ok(dir, {"flag", "set", "beta", "false"});
  Ok(dir, {"flag", "set", "acme", "beta", "true"});
  const std::string flags = Ok(dir, {"flag", "eval", "acme", "--key", "beta", "--json"});
  CHECK(JsonBoolAt(flags, "/items/0/value"));
  CHECK(JsonStringAt(flags, "/items/0/source") == "organisation");
  CHECK(JsonItems(Ok(dir, {"flag", "list", "--json"}), "level") ==
        std::vector<std::string>{"global"});

  // An organisation key: the secret alone on stdout, once; the list shows its role.
  auto key = InDir(dir, {"orgkey", "create", "acme", "ci", "project.viewer", "--project", "web"});
  REQUIRE(key.exit_code == 0);
  REQUIRE(key.out.size() == 54);
  const std::string secret = key.out.substr(0, 53);
  CHECK(secret.starts_with("sk_"));
  CHECK(Contains(key.err, "shown only now"));
  const std::string keys = Ok(dir, {"orgkey", "list", "acme", "--json"});
  CHECK(JsonItems(keys, "name") == std::vector<std::string>{"ci"});
  CHECK(JsonStringAt(keys, "/items/0/policies/0/role") == "project.viewer");
  CHECK_FALSE(Contains(keys, secret.substr(12)));
  Ok(dir, {"orgkey", "revoke", "acme", JsonStringAt(keys, "/items/0/id")});
  CHECK(JsonHas(Ok(dir, {"orgkey", "list", "acme", "--json"}), "/items/0/revoked"));
}

TEST_CASE("socle access commands exit 2 on usage errors and 1 on an unknown organisation",
          "[cli][binary][access]") {
  TempDir dir;
  auto help = Socle({"help"});
  CHECK(help.exit_code == 0);
  CHECK(Contains(help.out, "socle team add ORG TEAM_ID MEMBER_ID"));
  CHECK(Contains(help.out, "socle flag set [ORG] KEY VALUE"));

  using Args = std::vector<std::string>;
  for (const Args& args : {Args{"policy", "grant", "acme", "viewer"},
                           Args{"role", "put", "acme", "auditor", "--scope", "org"},
                           Args{"team", "add", "acme", "t1"},
                           Args{"flag", "set", "", "beta", "true"}}) {
    auto result = InDir(dir, args);
    CHECK(result.exit_code == 2);
    CHECK(result.out.empty());
    CHECK(Contains(result.err, "Usage: socle " + args[0] + " " + args[1]));
  }

  for (const Args& args : {Args{"member", "list", "nope"}, Args{"team", "create", "nope", "Ops"},
                           Args{"flag", "eval", "nope"},
                           Args{"orgkey", "list", "nope", "--json"}}) {
    auto result = InDir(dir, args);
    CHECK(result.exit_code == 1);
    CHECK(result.out.empty());
    CHECK(result.err == "socle: The organisation was not found.\n");
  }
}
