// `socle org owner|transfer|explain`, `member`, `team`, `role`, `policy`, `flag` and `orgkey`:
// parsing, and the commands run against the memory stores with the access use cases for real
// (AccessControl, ManageAccess, PlatformCatalogue, ManageOrganisationKeys over the platform
// store, the real Argon2id hasher and Ed25519 signer), wired as apps/socle/main.cpp wires them.
// The CLI acts as an operator (a superuser): only the use cases' own rules may refuse it.
#include <catch2/catch.hpp>

#include <algorithm>
#include <optional>
#include <set>
#include <sstream>
#include <string>
#include <string_view>
#include <vector>

#include "access_cli_world.hpp"
#include "socle/adapters/cli/command.hpp"
#include "socle/adapters/cli/ops_cli.hpp"
#include "socle/adapters/json/json_parser.hpp"
#include "socle/application/manage_access.hpp"
#include "socle/application/manage_api_keys.hpp"
#include "socle/domain/rbac.hpp"

namespace {

namespace cli = socle::adapters::cli;
namespace application = socle::application;
namespace json = socle::adapters::json;
using cli::kExitError;
using cli::kExitOk;
using cli::kExitUsage;
using cli::Verb;
using socle::domain::JsonValue;

using Args = std::vector<std::string>;
using socle::testing::ItemsOf;
using socle::testing::Str;

constexpr std::string_view kPassword = "velvet-otter-quarry-41";
constexpr std::string_view kOrgNotFound = "socle: The organisation was not found.\n";

bool Contains(const std::string& text, std::string_view part) {
  return text.find(part) != std::string::npos;
}

std::size_t Count(const std::string& text, std::string_view part) {
  std::size_t count = 0;
  for (auto at = text.find(part); at != std::string::npos; at = text.find(part, at + 1)) ++count;
  return count;
}

std::size_t Lines(const std::string& text) {
  return static_cast<std::size_t>(std::count(text.begin(), text.end(), '\n'));
}

// The usage error a command line gives, as "topic|message"; "parsed" when there is none.
std::string UsageOf(const Args& args) {
  auto command = cli::ParseCommand(args);
  if (command) return "parsed";
  return command.error().topic + "|" + command.error().message;
}

cli::Command Parsed(const Args& args) {
  auto command = cli::ParseCommand(args);
  INFO((command ? std::string() : command.error().message));
  REQUIRE(command);
  return *command;
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

std::vector<std::string> Strs(const JsonValue& object, std::string_view key) {
  const JsonValue* value = object.Find(key);
  INFO(key);
  REQUIRE(value != nullptr);
  REQUIRE(value->type() == JsonValue::Type::kArray);
  std::vector<std::string> out;
  for (const auto& item : value->items()) out.push_back(item.AsString());
  return out;
}

// The line of `table` that holds `part`; "" when none does.
std::string LineWith(const std::string& table, std::string_view part) {
  std::istringstream lines(table);
  std::string line;
  while (std::getline(lines, line)) {
    if (Contains(line, part)) return line;
  }
  return "";
}

// A `socle` process minus the process, wired as apps/socle/main.cpp wires it. Organisation
// acme with projects web and shop; organisation globex with project depot.
class Cli : public socle::testing::AccessCliWorld {
 public:
  explicit Cli(bool with_access = true) {
    if (!with_access) services_.access = nullptr;
    REQUIRE(Run({"org", "create", "acme"}) == kExitOk);
    REQUIRE(Run({"project", "create", "web", "--org", "acme"}) == kExitOk);
    REQUIRE(Run({"project", "create", "shop", "--org", "acme"}) == kExitOk);
    REQUIRE(Run({"org", "create", "globex"}) == kExitOk);
    REQUIRE(Run({"project", "create", "depot", "--org", "globex"}) == kExitOk);
  }

  // A platform member (not yet in any organisation); returns their id.
  std::string NewMember(const std::string& email) {
    auto made = sessions_.UpsertMember(email, kPassword, "");
    REQUIRE(made);
    return made->id;
  }
  // `email` joins acme with `role` as an invitee would: the operator invites them with the CLI,
  // they accept with the token it printed. Returns their member id.
  std::string Join(const std::string& email, const std::string& role,
                   std::optional<std::string> project = std::nullopt) {
    const std::string id = NewMember(email);
    Args args{"member", "invite", "acme", email, role, "--json"};
    if (project) args.insert(args.end(), {"--project", *project});
    const JsonValue invitation = ParseOut(Must(args));
    application::Principal invitee;
    invitee.kind = application::Principal::Kind::kMember;
    invitee.id = id;
    invitee.email = email;
    auto joined = access_.AcceptInvitation(invitee, Str(invitation, "token"), "", "");
    INFO((joined ? std::string() : joined.error().message));
    REQUIRE(joined);
    return id;
  }
  // Makes `email` (a new member) an owner of acme through `org owner`; returns their id.
  std::string Owner(const std::string& email) {
    const std::string id = NewMember(email);
    Must({"org", "owner", "acme", email});
    return id;
  }

  application::ManageAccess& access() { return access_; }
  application::ManageApiKeys& api_keys() { return api_keys_; }
};

}  // namespace

// Parsing ------------------------------------------------------------------------------------

TEST_CASE("access commands parse into their verbs, arguments and flags", "[cli][access]") {
  auto owner = Parsed({"org", "owner", "acme", "ann@example.com"});
  CHECK(owner.verb == Verb::kOrgOwner);
  CHECK(owner.arguments == Args{"acme", "ann@example.com"});
  CHECK(owner.NeedsAccess());
  CHECK(owner.NeedsAuth());  // the access use cases need the platform store
  CHECK(owner.NeedsStore());
  CHECK_FALSE(Parsed({"org", "get", "acme"}).NeedsAccess());
  CHECK_FALSE(Parsed({"member", "upsert", "a@b.c", "pw"}).NeedsAccess());

  auto invite = Parsed({"member", "invite", "acme", "bob@example.com", "project.editor",
                        "--project=web", "--json"});
  CHECK(invite.verb == Verb::kMemberInvite);
  CHECK(invite.arguments == Args{"acme", "bob@example.com", "project.editor"});
  CHECK(invite.project == "web");
  CHECK(invite.json);
  CHECK(Parsed({"member", "list", "acme", "--per-page", "5"}).per_page == 5);
  CHECK(Parsed({"member", "revoke-invitation", "acme", "i1"}).verb ==
        Verb::kMemberRevokeInvitation);
  CHECK(Parsed({"team", "add", "acme", "t1", "m1"}).arguments == Args{"acme", "t1", "m1"});
  auto rename = Parsed({"team", "rename", "acme", "t1", "Ops", "--description", "On call"});
  CHECK(rename.arguments == Args{"acme", "t1", "Ops"});
  CHECK(rename.description == "On call");
  CHECK_FALSE(rename.name);  // NAME is an argument here, not --name

  auto role = Parsed({"role", "put", "acme", "auditor", "--name", "Auditor", "--scope",
                      "organisation", "--parent", "viewer", "--permission", "audit.read",
                      "--permission=records.read_pii"});
  CHECK(role.verb == Verb::kRolePut);
  CHECK(role.arguments == Args{"acme", "auditor"});
  CHECK(role.name == "Auditor");
  CHECK(role.role_scope == "organisation");
  CHECK(role.parents == Args{"viewer"});
  CHECK(role.permissions == Args{"audit.read", "records.read_pii"});
  CHECK(role.scopes.empty());
  // --scope is a role's scope for role put and a key's scope for apikey create.
  auto key = Parsed({"apikey", "create", "ci", "--project", "web", "--scope", "posts:read"});
  CHECK(key.scopes == Args{"posts:read"});
  CHECK_FALSE(key.role_scope);

  auto grant = Parsed({"policy", "grant", "acme", "viewer", "--team", "t1", "--project", "web"});
  CHECK(grant.verb == Verb::kPolicyGrant);
  CHECK(grant.team == "t1");
  CHECK_FALSE(grant.member);
  CHECK(grant.arguments == Args{"acme", "viewer"});
  CHECK(Parsed({"policy", "grant", "acme", "viewer", "--apikey", "k1"}).api_key == "k1");
  // A repeated subject flag keeps its last value, as every flag does.
  CHECK(Parsed({"policy", "grant", "acme", "viewer", "--member", "a", "--member", "b"}).member ==
        "b");

  auto explain = Parsed({"org", "explain", "acme", "--member", "m1", "--permission",
                         "records.read", "--permission", "team.read"});
  CHECK(explain.verb == Verb::kOrgExplain);
  CHECK(explain.permissions == Args{"records.read", "team.read"});

  // The ORG of the flag commands may be left out: "" then stands for it (global flags).
  CHECK(Parsed({"flag", "list"}).arguments == Args{""});
  CHECK(Parsed({"flag", "list", "acme"}).arguments == Args{"acme"});
  CHECK(Parsed({"flag", "set", "beta", "true"}).arguments == Args{"", "beta", "true"});
  auto set = Parsed({"flag", "set", "acme", "beta", "on", "--level", "role", "--subject",
                     "viewer", "--description", "Beta UI"});
  CHECK(set.arguments == Args{"acme", "beta", "on"});
  CHECK(set.level == "role");
  CHECK(set.subject == "viewer");
  CHECK(set.description == "Beta UI");
  // A negative number is a VALUE, not a flag.
  CHECK(Parsed({"flag", "set", "acme", "limit", "-3"}).arguments == Args{"acme", "limit", "-3"});
  CHECK(UsageOf({"flag", "set", "acme", "limit", "-x"}) ==
        "flag set|unknown flag -x for socle flag set");
  CHECK(Parsed({"flag", "delete", "beta"}).arguments == Args{"", "beta"});
  CHECK(Parsed({"flag", "delete", "acme", "beta"}).arguments == Args{"acme", "beta"});
  auto eval = Parsed({"flag", "eval", "acme", "--member", "m1", "--key", "beta"});
  CHECK(eval.member == "m1");
  CHECK(eval.key == "beta");

  auto orgkey = Parsed({"orgkey", "create", "acme", "ci", "project.viewer", "--project", "web",
                        "--expires", "2030-01-01"});
  CHECK(orgkey.verb == Verb::kOrgKeyCreate);
  CHECK(orgkey.arguments == Args{"acme", "ci", "project.viewer"});
  CHECK(orgkey.expires == "2030-01-01");
  CHECK(Parsed({"orgkey", "list", "acme"}).verb == Verb::kOrgKeyList);
  CHECK(Parsed({"orgkey", "revoke", "acme", "k1"}).verb == Verb::kOrgKeyRevoke);
}

TEST_CASE("malformed access command lines are usage errors", "[cli][access]") {
  CHECK(UsageOf({"org", "owner", "acme"}) == "org owner|missing EMAIL");
  CHECK(UsageOf({"org", "transfer", "acme"}) == "org transfer|missing MEMBER_ID");
  CHECK(UsageOf({"org", "explain", "acme"}) ==
        "org explain|missing --member ID, --team ID or --apikey ID");
  CHECK(UsageOf({"org", "explain", "acme", "--member", "a", "--apikey", "b"}) ==
        "org explain|give only one of --member, --team or --apikey");
  CHECK(UsageOf({"policy", "grant", "acme", "viewer"}) ==
        "policy grant|missing --member ID, --team ID or --apikey ID");
  CHECK(UsageOf({"policy", "grant", "acme", "viewer", "--member", "a", "--team", "b"}) ==
        "policy grant|give only one of --member, --team or --apikey");
  CHECK(UsageOf({"policy", "grant", "acme", "--member", "a"}) == "policy grant|missing ROLE");
  CHECK(UsageOf({"policy", "revoke", "acme"}) == "policy revoke|missing POLICY_ID");
  CHECK(UsageOf({"member", "invite", "acme", "bob@example.com"}) == "member invite|missing ROLE");
  CHECK(UsageOf({"member", "list"}) == "member list|missing ORG");
  CHECK(UsageOf({"member", "list", "acme", "--project", "web"}) ==
        "member list|socle member list does not take --project");
  CHECK(UsageOf({"member", "remove", "acme", "a", "b"}) ==
        "member remove|unexpected argument \"b\"");
  CHECK(UsageOf({"member", "revoke-invitation", "acme"}) == "member revoke-invitation|missing ID");
  CHECK(UsageOf({"member", "kick", "acme"}) == "member|unknown command: socle member kick");
  CHECK(UsageOf({"team"}) == "team|missing sub-command after socle team");
  CHECK(UsageOf({"team", "add", "acme", "t1"}) == "team add|missing MEMBER_ID");
  CHECK(UsageOf({"team", "list", "acme", "--member", "m1"}) ==
        "team list|socle team list does not take --member");
  CHECK(UsageOf({"team", "create", "acme", "Ops", "--description"}) ==
        "team create|--description needs a value: --description TEXT");
  CHECK(UsageOf({"role", "put", "acme", "auditor", "--scope", "organisation"}) ==
        "role put|missing --name NAME");
  CHECK(UsageOf({"role", "put", "acme", "auditor", "--name", "Auditor"}) ==
        "role put|missing --scope organisation|project");
  CHECK(UsageOf({"role", "put", "acme", "auditor", "--name", "A", "--scope", "global"}) ==
        "role put|--scope must be organisation or project");
  CHECK(UsageOf({"role", "delete", "acme"}) == "role delete|missing ID");
  CHECK(UsageOf({"flag", "set"}) == "flag set|missing KEY");
  CHECK(UsageOf({"flag", "set", "beta"}) == "flag set|missing VALUE");
  CHECK(UsageOf({"flag", "set", "acme", "beta", "on", "extra"}) ==
        "flag set|unexpected argument \"extra\"");
  CHECK(UsageOf({"flag", "set", "", "beta", "on"}) ==
        "flag set|ORG must not be empty (leave it out instead)");
  CHECK(UsageOf({"flag", "set", "acme", "beta", "on", "--level", "team"}) ==
        "flag set|--level must be organisation, role or user (or global)");
  CHECK(UsageOf({"flag", "list", "acme", "globex"}) == "flag list|unexpected argument \"globex\"");
  CHECK(UsageOf({"flag", "list", ""}) == "flag list|ORG must not be empty (leave it out instead)");
  CHECK(UsageOf({"flag", "delete"}) == "flag delete|missing KEY");
  CHECK(UsageOf({"flag", "eval"}) == "flag eval|missing ORG");
  CHECK(UsageOf({"flag", "eval", "acme", "--team", "t1"}) ==
        "flag eval|socle flag eval does not take --team");
  CHECK(UsageOf({"orgkey", "create", "acme", "ci"}) == "orgkey create|missing ROLE");
  CHECK(UsageOf({"orgkey", "create", "acme", "ci", "viewer", "--scope", "posts:read"}) ==
        "orgkey create|socle orgkey create does not take --scope");
}

TEST_CASE("usage lines and help show the access commands", "[cli][access]") {
  CHECK(cli::UsageLine("policy grant") ==
        "Usage: socle policy grant ORG ROLE (--member ID|--team ID|--apikey ID) "
        "[--project PROJECT] [--json]");
  CHECK(cli::UsageLine("org explain") ==
        "Usage: socle org explain ORG (--member ID|--team ID|--apikey ID) [--project PROJECT] "
        "[--permission PERMISSION]... [--json]");
  CHECK(cli::UsageLine("role put") ==
        "Usage: socle role put ORG ID --name NAME --scope organisation|project [--parent ROLE]... "
        "[--permission PERMISSION]... [--json]");
  CHECK(cli::UsageLine("flag set") ==
        "Usage: socle flag set [ORG] KEY VALUE [--description TEXT] "
        "[--level organisation|role|user] [--subject SUBJECT] [--json]");
  CHECK(cli::UsageLine("flag list") == "Usage: socle flag list [ORG] [--json]");
  CHECK(cli::UsageLine("member invite") ==
        "Usage: socle member invite ORG EMAIL ROLE [--project PROJECT] [--json]");
  CHECK(cli::UsageLine("orgkey create") ==
        "Usage: socle orgkey create ORG NAME ROLE [--project PROJECT] [--expires DATE] [--json]");
  // Existing commands keep their usage.
  CHECK(cli::UsageLine("apikey create") ==
        "Usage: socle apikey create NAME --project PROJECT --scope SCOPE [--expires DATE] "
        "[--json]");

  const std::string overview = cli::HelpText("");
  for (std::string_view usage :
       {"socle org owner ORG EMAIL", "socle org transfer ORG MEMBER_ID", "socle org explain ORG",
        "socle member list ORG", "socle member remove ORG MEMBER_ID",
        "socle member invite ORG EMAIL ROLE", "socle member invitations ORG",
        "socle member revoke-invitation ORG ID", "socle member upsert EMAIL PASSWORD",
        "socle team list ORG", "socle team create ORG NAME", "socle team show ORG ID",
        "socle team rename ORG ID NAME", "socle team delete ORG ID",
        "socle team add ORG TEAM_ID MEMBER_ID", "socle team remove ORG TEAM_ID MEMBER_ID",
        "socle role list ORG", "socle role put ORG ID", "socle role delete ORG ID",
        "socle policy list ORG", "socle policy grant ORG ROLE", "socle policy revoke ORG POLICY_ID",
        "socle flag list [ORG]", "socle flag set [ORG] KEY VALUE", "socle flag delete [ORG] KEY",
        "socle flag eval ORG", "socle orgkey create ORG NAME ROLE", "socle orgkey list ORG",
        "socle orgkey revoke ORG ID"}) {
    INFO(usage);
    CHECK(Contains(overview, usage));
  }
  const std::string team = cli::HelpText("team");
  CHECK(Contains(team, "team add ORG TEAM_ID MEMBER_ID"));
  CHECK_FALSE(Contains(team, "role put"));
  CHECK(Contains(cli::HelpText("flag set"), "anything else is taken as a string"));
  CHECK(Parsed({"team", "add", "--help"}).help_topic == "team add");
  CHECK(Parsed({"help", "member", "revoke-invitation"}).help_topic == "member revoke-invitation");
  CHECK(Parsed({"orgkey", "--help"}).help_topic == "orgkey");

  Cli t;
  REQUIRE(t.Run({"help"}) == kExitOk);
  CHECK(Contains(t.out(), "socle policy grant ORG ROLE (--member ID|--team ID|--apikey ID)"));
  REQUIRE(t.Run({"role", "put", "--help"}) == kExitOk);
  CHECK(Contains(t.out(), "--parent ROLE"));
}

TEST_CASE("bad access command lines exit 2 and change nothing", "[cli][access]") {
  Cli t;
  t.Owner("ann@example.com");
  for (const Args& args :
       {Args{"policy", "grant", "acme", "viewer"},
        Args{"policy", "grant", "acme", "viewer", "--member", "a", "--apikey", "b"},
        Args{"role", "put", "acme", "auditor", "--name", "A", "--scope", "everywhere"},
        Args{"team", "create", "acme"}, Args{"flag", "set", "acme", "beta", "1", "--level=x"},
        Args{"member", "invite", "acme", "bob@example.com", "viewer", "--bogus"},
        Args{"org", "explain", "acme"}}) {
    INFO(args[0] << " " << args[1]);
    CHECK(t.Run(args) == kExitUsage);
    CHECK(t.out().empty());
    CHECK(Contains(t.err(), "socle: "));
    CHECK(Contains(t.err(), "Usage: socle " + args[0] + " " + args[1]));
  }
  CHECK(t.Must({"team", "list", "acme"}) == "No teams.\n");
  CHECK(t.Must({"member", "invitations", "acme"}) == "No invitations.\n");
  CHECK(t.Must({"flag", "list", "acme"}) == "No flags.\n");
  CHECK(ItemsOf(ParseOut(t.Must({"policy", "list", "acme", "--json"}))).size() == 1);
}

// Organisations ------------------------------------------------------------------------------

TEST_CASE("org owner makes the member with an e-mail an owner", "[cli][access]") {
  Cli t;
  const std::string ann = t.NewMember("ann@example.com");
  REQUIRE(t.Run({"org", "owner", "acme", "ann@example.com"}) == kExitOk);
  CHECK(t.out() == "Member ann@example.com (" + ann + ") is an owner of organisation acme.\n");
  CHECK(t.err().empty());

  const JsonValue members = ParseOut(t.Must({"member", "list", "acme", "--json"}));
  REQUIRE(ItemsOf(members).size() == 1);
  CHECK(Str(ItemsOf(members)[0], "memberId") == ann);
  CHECK(Strs(ItemsOf(members)[0], "roles") == Args{"owner"});
  const JsonValue policies = ParseOut(t.Must({"policy", "list", "acme", "--json"}));
  REQUIRE(ItemsOf(policies).size() == 1);
  CHECK(Str(ItemsOf(policies)[0], "createdBy") == "superuser:cli");

  // The e-mail is matched whatever its case; a second owner joins the first.
  const std::string bob = t.NewMember("bob@example.com");
  REQUIRE(t.Run({"org", "owner", "acme", "BOB@example.com", "--json"}) == kExitOk);
  const JsonValue done = ParseOut(t.out());
  CHECK(Keys(done) == std::set<std::string>{"org", "memberId", "email", "owner"});
  CHECK(Str(done, "memberId") == bob);
  CHECK(Str(done, "org") == "acme");
  CHECK(done.Find("owner")->AsBool());
  const std::string table = t.Must({"member", "list", "acme"});
  CHECK(Contains(LineWith(table, ann), "owner"));
  CHECK(Contains(LineWith(table, bob), "owner"));
  // Again: nothing changes, still fine.
  CHECK(t.Run({"org", "owner", "acme", "bob@example.com"}) == kExitOk);
  CHECK(ItemsOf(ParseOut(t.Must({"policy", "list", "acme", "--json"}))).size() == 2);

  // Nobody with that e-mail; no such organisation: exit 1, nothing on stdout.
  CHECK(t.Run({"org", "owner", "acme", "nobody@example.com"}) == kExitError);
  CHECK(t.out().empty());
  CHECK(Contains(t.err(), "socle: No member has the e-mail nobody@example.com"));
  CHECK(t.Run({"org", "owner", "nope", "ann@example.com"}) == kExitError);
  CHECK(t.out().empty());
  CHECK(t.err() == kOrgNotFound);
  // The other organisation was not touched.
  CHECK(ItemsOf(ParseOut(t.Must({"member", "list", "globex", "--json"}))).empty());
}

TEST_CASE("org transfer makes a member an owner; a stranger cannot be made one", "[cli][access]") {
  Cli t;
  const std::string ann = t.Owner("ann@example.com");
  const std::string bob = t.Join("bob@example.com", "viewer");
  const std::string stranger = t.NewMember("eve@example.org");

  REQUIRE(t.Run({"org", "transfer", "acme", bob}) == kExitOk);
  CHECK(t.out() == "Member " + bob + " is an owner of organisation acme.\n");
  const std::string members = t.Must({"member", "list", "acme"});
  CHECK(Contains(LineWith(members, bob), "owner"));
  CHECK(Contains(LineWith(members, ann), "owner"));  // an operator takes nobody's ownership

  CHECK(t.Run({"org", "transfer", "acme", stranger}) == kExitError);
  CHECK(t.out().empty());
  CHECK(Contains(t.err(), "  member: The member does not belong to the organisation.\n"));
  CHECK(t.Run({"org", "transfer", "nope", bob}) == kExitError);
  CHECK(t.err() == kOrgNotFound);

  // With two owners, the first can be let go: revoke their owner policy.
  const JsonValue policies = ParseOut(t.Must({"policy", "list", "acme", "--json"}));
  std::string ann_owner;
  for (const auto& policy : ItemsOf(policies)) {
    if (Str(policy, "role") == "owner" && Str(*policy.Find("subject"), "id") == ann) {
      ann_owner = Str(policy, "id");
    }
  }
  REQUIRE_FALSE(ann_owner.empty());
  REQUIRE(t.Run({"policy", "revoke", "acme", ann_owner, "--json"}) == kExitOk);
  const JsonValue revoked = ParseOut(t.out());
  CHECK(Str(revoked, "id") == ann_owner);
  CHECK(revoked.Find("revoked")->AsBool());
  CHECK_FALSE(Contains(LineWith(t.Must({"member", "list", "acme"}), ann), "owner"));
}

TEST_CASE("org explain says per permission whether and why it is allowed", "[cli][access]") {
  Cli t;
  t.Owner("ann@example.com");
  const std::string bob = t.Join("bob@example.com", "viewer");
  const std::string carol = t.Join("carol@example.com", "project.editor", "web");

  REQUIRE(t.Run({"org", "explain", "acme", "--member", bob, "--permission", "records.read",
                 "--permission", "organisation.delete"}) == kExitOk);
  const std::string text = t.out();
  INFO(text);
  CHECK(Lines(text) == 3);  // the header, one line per permission
  CHECK(text.starts_with("PERMISSION"));
  const std::string read = LineWith(text, "records.read");
  CHECK(Contains(read, "allowed"));
  // The organisation by slug, as the operator named it; the member by id or by e-mail.
  CHECK(Contains(read, " has role viewer on organisation acme, inherited from project.viewer"));
  CHECK((Contains(read, "member " + bob) || Contains(read, "member bob@example.com")));
  const std::string remove = LineWith(text, "organisation.delete");
  CHECK(Contains(remove, "denied"));
  CHECK(Contains(remove, "no policy grants organisation.delete"));

  REQUIRE(t.Run({"org", "explain", "acme", "--member", carol, "--project", "web",
                 "--permission", "records.update", "--json"}) == kExitOk);
  const JsonValue explained = ParseOut(t.out());
  REQUIRE(ItemsOf(explained).size() == 1);
  const JsonValue& item = ItemsOf(explained)[0];
  CHECK(Keys(item) ==
        std::set<std::string>{"permission", "allowed", "explanation", "policy", "via"});
  CHECK(item.Find("allowed")->AsBool());
  CHECK(Str(*item.Find("policy"), "project") == "web");
  CHECK(Str(*item.Find("policy"), "role") == "project.editor");
  CHECK(Strs(item, "via") == Args{"project.editor"});
  // On another project, or on the organisation, carol may not.
  REQUIRE(t.Run({"org", "explain", "acme", "--member", carol, "--project", "shop",
                 "--permission", "records.update", "--json"}) == kExitOk);
  const JsonValue elsewhere = ParseOut(t.out());
  CHECK_FALSE(ItemsOf(elsewhere)[0].Find("allowed")->AsBool());
  CHECK(ItemsOf(elsewhere)[0].Find("policy")->IsNull());

  // Without --permission: every permission, one line each.
  REQUIRE(t.Run({"org", "explain", "acme", "--member", bob}) == kExitOk);
  CHECK(Lines(t.out()) == socle::domain::KnownPermissions().size() + 1);

  // Teams are explained by their own policies.
  const JsonValue team = ParseOut(t.Must({"team", "create", "acme", "Ops", "--json"}));
  t.Must({"policy", "grant", "acme", "project.admin", "--team", Str(team, "id"), "--project",
          "shop"});
  REQUIRE(t.Run({"org", "explain", "acme", "--team", Str(team, "id"), "--project", "shop",
                 "--permission", "settings.update"}) == kExitOk);
  CHECK(Contains(t.out(), " has role project.admin on project shop"));
  CHECK((Contains(t.out(), "team " + Str(team, "id")) || Contains(t.out(), "team Ops")));

  CHECK(t.Run({"org", "explain", "acme", "--member", bob, "--permission", "records.fly"}) ==
        kExitError);
  CHECK(t.out().empty());
  CHECK(Contains(t.err(), "  permission: Unknown permission: records.fly."));
  CHECK(t.Run({"org", "explain", "acme", "--member", bob, "--project", "depot"}) == kExitError);
  CHECK(Contains(t.err(), "  project: Unknown project."));
  CHECK(t.Run({"org", "explain", "nope", "--member", bob}) == kExitError);
  CHECK(t.err() == kOrgNotFound);
}

// Members and invitations --------------------------------------------------------------------

TEST_CASE("member invite prints the token once; invitations never show it", "[cli][access]") {
  Cli t;
  t.Owner("ann@example.com");
  REQUIRE(t.Run({"member", "invite", "acme", "Bob@Example.com", "project.editor", "--project",
                 "web"}) == kExitOk);
  const std::string out = t.out();
  const std::string err = t.err();
  INFO(out << "|" << err);
  const std::string token_line = LineWith(out, "token:");
  REQUIRE(token_line.size() > 6);
  const std::string token = token_line.substr(token_line.rfind(' ') + 1);
  CHECK(token.size() == 54);
  CHECK(token.starts_with("inv_"));
  CHECK(Count(out, token) == 1);
  CHECK_FALSE(Contains(err, token));
  CHECK(Contains(out, "email:   bob@example.com\n"));
  CHECK(Contains(out, "role:    project.editor\n"));
  CHECK(Contains(out, "on:      project web\n"));
  // Seven days from now (the manual clock reads 2023-11-14 22:13:20).
  CHECK(Contains(out, "expires: 2023-11-21 22:13:20.000Z\n"));
  CHECK(Contains(err, "shown only now"));
  CHECK(Contains(err, "not mailed"));
  const std::string id = LineWith(out, "id:").substr(LineWith(out, "id:").rfind(' ') + 1);
  CHECK(id.size() == 15);

  // What was printed is the invitation's token.
  auto preview = t.access().PreviewInvitation(token);
  REQUIRE(preview);
  CHECK(preview->invitation.id.str() == id);
  CHECK(preview->invitation.email == "bob@example.com");

  const std::string table = t.Must({"member", "invitations", "acme"});
  CHECK_FALSE(Contains(table, token));
  CHECK(table.starts_with("ID"));
  CHECK(Contains(LineWith(table, id), "project web"));
  CHECK(Contains(LineWith(table, id), "pending"));
  const std::string listed_json = t.Must({"member", "invitations", "acme", "--json"});
  CHECK_FALSE(Contains(listed_json, token));
  const JsonValue page = ParseOut(listed_json);
  CHECK(Keys(page) ==
        std::set<std::string>{"page", "perPage", "totalItems", "totalPages", "items"});
  CHECK(page.Find("totalItems")->AsInt64() == 1);
  const JsonValue& invitation = ItemsOf(page)[0];
  CHECK(Keys(invitation) ==
        std::set<std::string>{"id", "email", "role", "project", "state", "created", "expires"});
  CHECK(Str(invitation, "project") == "web");
  CHECK(Str(invitation, "state") == "pending");

  REQUIRE(t.Run({"member", "invite", "acme", "carol@example.com", "viewer", "--json"}) == kExitOk);
  CHECK(t.err().empty());
  const JsonValue made = ParseOut(t.out());
  CHECK(Keys(made) == std::set<std::string>{"id", "email", "role", "project", "state", "created",
                                            "expires", "token"});
  CHECK(made.Find("project")->IsNull());
  CHECK(t.access().PreviewInvitation(Str(made, "token")));
}

TEST_CASE("member invite refuses what the use case refuses", "[cli][access]") {
  Cli t;
  t.Owner("ann@example.com");
  struct Case {
    Args args;
    std::string_view error;
  };
  for (const Case& c :
       {Case{{"member", "invite", "acme", "bob@example.com", "owner"},
             "  role: Ownership is given by transfer, not by invitation.\n"},
        Case{{"member", "invite", "acme", "not-an-address", "viewer"},
             "  email: Must be a valid email address.\n"},
        Case{{"member", "invite", "acme", "bob@example.com", "wizard"}, "  role: Unknown role.\n"},
        Case{{"member", "invite", "acme", "bob@example.com", "viewer", "--project", "web"},
             "  role: Only a project role can be given on one project.\n"},
        Case{{"member", "invite", "acme", "bob@example.com", "project.viewer", "--project",
              "depot"},
             "  project: Unknown project.\n"},
        Case{{"member", "invite", "nope", "bob@example.com", "viewer"}, kOrgNotFound}}) {
    INFO(c.args[3] << " " << c.args[4]);
    CHECK(t.Run(c.args) == kExitError);
    CHECK(t.out().empty());
    CHECK(Contains(t.err(), c.error));
  }
  CHECK(t.Must({"member", "invitations", "acme"}) == "No invitations.\n");
}

TEST_CASE("member revoke-invitation stops a pending invitation once", "[cli][access]") {
  Cli t;
  t.Owner("ann@example.com");
  const JsonValue made =
      ParseOut(t.Must({"member", "invite", "acme", "bob@example.com", "viewer", "--json"}));
  const std::string id = Str(made, "id");
  REQUIRE(t.Run({"member", "revoke-invitation", "acme", id}) == kExitOk);
  CHECK(t.out() == "Revoked invitation " + id + ".\n");
  CHECK_FALSE(t.access().PreviewInvitation(Str(made, "token")));
  CHECK(Contains(LineWith(t.Must({"member", "invitations", "acme"}), id), "revoked"));

  CHECK(t.Run({"member", "revoke-invitation", "acme", id}) == kExitError);
  CHECK(t.out().empty());
  CHECK(t.err() == "socle: The invitation is no longer pending.\n");
  CHECK(t.Run({"member", "revoke-invitation", "acme", "nosuchinvite000"}) == kExitError);
  CHECK(t.err() == "socle: The invitation was not found.\n");
  // Another organisation's invitation is not found from this one.
  CHECK(t.Run({"member", "revoke-invitation", "globex", id}) == kExitError);
  CHECK(t.err() == "socle: The invitation was not found.\n");

  const JsonValue other =
      ParseOut(t.Must({"member", "invite", "acme", "carol@example.com", "viewer", "--json"}));
  REQUIRE(t.Run({"member", "revoke-invitation", "acme", Str(other, "id"), "--json"}) == kExitOk);
  const JsonValue done = ParseOut(t.out());
  CHECK(Keys(done) == std::set<std::string>{"id", "revoked"});
  CHECK(Str(done, "id") == Str(other, "id"));
}

TEST_CASE("member list shows roles and team names, one page at a time", "[cli][access]") {
  Cli t;
  const std::string ann = t.Owner("ann@example.com");
  const std::string bob = t.Join("bob@example.com", "viewer");
  const JsonValue team = ParseOut(t.Must({"team", "create", "acme", "Night shift", "--json"}));
  t.Must({"team", "add", "acme", Str(team, "id"), bob});

  const std::string table = t.Must({"member", "list", "acme"});
  INFO(table);
  CHECK(table.starts_with("MEMBER ID"));
  CHECK(Lines(table) == 3);
  CHECK(Contains(LineWith(table, bob), "bob@example.com"));
  CHECK(Contains(LineWith(table, bob), "viewer"));
  CHECK(Contains(LineWith(table, bob), "Night shift"));
  CHECK(Contains(LineWith(table, ann), "owner"));
  CHECK(t.err().empty());

  const JsonValue page = ParseOut(t.Must({"member", "list", "acme", "--json"}));
  CHECK(page.Find("totalItems")->AsInt64() == 2);
  const JsonValue& first = ItemsOf(page)[0];  // by e-mail: ann, then bob
  CHECK(Keys(first) == std::set<std::string>{"memberId", "email", "roles", "teams", "created"});
  CHECK(Str(first, "email") == "ann@example.com");
  CHECK(Strs(ItemsOf(page)[1], "teams") == Args{Str(team, "id")});

  REQUIRE(t.Run({"member", "list", "acme", "--per-page", "1"}) == kExitOk);
  CHECK(Lines(t.out()) == 2);
  CHECK(t.err() == "Showing 1-1 of 2 members; next: --page 2.\n");
  CHECK(t.Must({"member", "list", "globex"}) == "No members.\n");
  CHECK(t.Run({"member", "list", "nope"}) == kExitError);
  CHECK(t.err() == kOrgNotFound);
}

TEST_CASE("member remove removes a member, never the last owner", "[cli][access]") {
  Cli t;
  const std::string ann = t.Owner("ann@example.com");
  const std::string bob = t.Join("bob@example.com", "viewer");

  CHECK(t.Run({"member", "remove", "acme", ann}) == kExitError);
  CHECK(t.out().empty());
  CHECK(t.err() ==
        "socle: The organisation's last owner cannot leave: transfer the ownership first.\n");
  CHECK(Contains(t.Must({"member", "list", "acme"}), ann));

  REQUIRE(t.Run({"member", "remove", "acme", bob}) == kExitOk);
  CHECK(t.out() == "Removed member " + bob + " from organisation acme.\n");
  CHECK_FALSE(Contains(t.Must({"member", "list", "acme"}), bob));
  CHECK(ItemsOf(ParseOut(t.Must({"policy", "list", "acme", "--json"}))).size() == 1);
  CHECK(t.Run({"member", "remove", "acme", bob}) == kExitError);
  CHECK(t.out().empty());

  // With a second owner, the first one can go.
  const std::string carol = t.Owner("carol@example.com");
  REQUIRE(t.Run({"member", "remove", "acme", ann, "--json"}) == kExitOk);
  const JsonValue done = ParseOut(t.out());
  CHECK(Keys(done) == std::set<std::string>{"org", "memberId", "removed"});
  CHECK(Str(done, "memberId") == ann);
  CHECK(t.Run({"member", "remove", "acme", carol}) == kExitError);
  CHECK(t.Run({"member", "remove", "nope", carol}) == kExitError);
  CHECK(t.err() == kOrgNotFound);
}

// Teams --------------------------------------------------------------------------------------

TEST_CASE("team commands create, show, rename, fill and delete teams", "[cli][access]") {
  Cli t;
  t.Owner("ann@example.com");
  const std::string bob = t.Join("bob@example.com", "viewer");
  const std::string stranger = t.NewMember("eve@example.org");

  REQUIRE(t.Run({"team", "create", "acme", "Ops", "--description", "On call"}) == kExitOk);
  const std::string shown = t.out();
  CHECK(Contains(shown, "name:        Ops\n"));
  CHECK(Contains(shown, "description: On call\n"));
  const std::string id = LineWith(shown, "id:").substr(LineWith(shown, "id:").rfind(' ') + 1);
  CHECK(id.size() == 15);

  REQUIRE(t.Run({"team", "create", "acme", "Design", "--json"}) == kExitOk);
  const JsonValue design = ParseOut(t.out());
  CHECK(Keys(design) == std::set<std::string>{"id", "name", "description", "created", "updated"});
  CHECK(Str(design, "description").empty());

  const std::string list = t.Must({"team", "list", "acme"});
  CHECK(list.starts_with("ID"));
  CHECK(Lines(list) == 3);
  CHECK(list.find("Design") < list.find("Ops"));  // by name
  CHECK(ItemsOf(ParseOut(t.Must({"team", "list", "acme", "--json"}))).size() == 2);
  CHECK(t.Must({"team", "list", "globex"}) == "No teams.\n");

  REQUIRE(t.Run({"team", "add", "acme", id, bob}) == kExitOk);
  CHECK(t.out() == "Added member " + bob + " to team " + id + ".\n");
  const std::string with_members = t.Must({"team", "show", "acme", id});
  CHECK(Contains(with_members, "Members:\n"));
  CHECK(Contains(LineWith(with_members, bob), "bob@example.com"));
  const JsonValue view = ParseOut(t.Must({"team", "show", "acme", id, "--json"}));
  REQUIRE(view.Find("members") != nullptr);
  REQUIRE(view.Find("members")->items().size() == 1);
  CHECK(Str(view.Find("members")->items()[0], "memberId") == bob);
  CHECK(Contains(t.Must({"team", "show", "acme", Str(design, "id")}), "\nNo members.\n"));

  // Refusals: a taken name, a stranger, someone already in, someone not in, unknown teams.
  CHECK(t.Run({"team", "create", "acme", "ops"}) == kExitError);
  CHECK(Contains(t.err(), "  name: A team of this name exists.\n"));
  CHECK(t.Run({"team", "create", "acme", std::string(101, 'x')}) == kExitError);
  CHECK(Contains(t.err(), "  name: "));
  CHECK(t.Run({"team", "add", "acme", id, stranger}) == kExitError);
  CHECK(t.out().empty());
  CHECK(t.Run({"team", "add", "acme", id, bob}) == kExitError);
  CHECK(Contains(t.err(), "  member: The member is in the team already.\n"));
  CHECK(t.Run({"team", "show", "acme", "nosuchteam00000"}) == kExitError);
  CHECK(t.out().empty());
  CHECK(t.err().starts_with("socle: "));
  CHECK(Contains(t.err(), "not found"));
  CHECK(t.Run({"team", "show", "globex", id}) == kExitError);  // not that organisation's

  REQUIRE(t.Run({"team", "rename", "acme", id, "Operations", "--json"}) == kExitOk);
  const JsonValue renamed = ParseOut(t.out());
  CHECK(Str(renamed, "name") == "Operations");
  CHECK(Str(renamed, "description") == "On call");  // kept when not given
  REQUIRE(t.Run({"team", "rename", "acme", id, "Operations", "--description", ""}) == kExitOk);
  CHECK(Contains(t.out(), "description: -\n"));
  CHECK(t.Run({"team", "rename", "acme", id, "Design"}) == kExitError);
  CHECK(Contains(t.err(), "  name: A team of this name exists.\n"));

  REQUIRE(t.Run({"team", "remove", "acme", id, bob, "--json"}) == kExitOk);
  const JsonValue removed = ParseOut(t.out());
  CHECK(Keys(removed) == std::set<std::string>{"teamId", "memberId", "removed"});
  CHECK(t.Run({"team", "remove", "acme", id, bob}) == kExitError);
  CHECK(t.out().empty());

  REQUIRE(t.Run({"team", "delete", "acme", id}) == kExitOk);
  CHECK(t.out() == "Deleted team " + id + ".\n");
  CHECK(t.Run({"team", "delete", "acme", id}) == kExitError);
  CHECK(ItemsOf(ParseOut(t.Must({"team", "list", "acme", "--json"}))).size() == 1);
  CHECK(t.Run({"team", "create", "nope", "Ops"}) == kExitError);
  CHECK(t.err() == kOrgNotFound);
}

// Roles --------------------------------------------------------------------------------------

TEST_CASE("role list shows the built-in and custom roles", "[cli][access]") {
  Cli t;
  const std::string table = t.Must({"role", "list", "acme"});
  INFO(table);
  CHECK(table.starts_with("ID"));
  for (std::string_view column : {"SCOPE", "BUILTIN", "PARENTS", "PERMISSIONS"}) {
    CHECK(Contains(LineWith(table, "ID"), column));
  }
  CHECK(Lines(table) == socle::domain::BuiltinRoles().size() + 1);
  const std::string owner = LineWith(table, "owner ");
  CHECK(Contains(owner, "organisation"));
  CHECK(Contains(owner, "yes"));
  CHECK(Contains(owner, "admin"));
  CHECK(Contains(owner, std::to_string(socle::domain::KnownPermissions().size())));
  CHECK(Contains(LineWith(table, "developer"), "viewer, project.admin"));

  const JsonValue roles = ParseOut(t.Must({"role", "list", "acme", "--json"}));
  REQUIRE(ItemsOf(roles).size() == socle::domain::BuiltinRoles().size());
  const JsonValue& first = ItemsOf(roles)[0];
  CHECK(Keys(first) == std::set<std::string>{"id", "name", "scope", "parents", "permissions",
                                             "builtin", "effective"});
  CHECK(first.Find("builtin")->AsBool());
  CHECK(t.Run({"role", "list", "nope"}) == kExitError);
  CHECK(t.err() == kOrgNotFound);
}

TEST_CASE("role put creates and replaces custom roles; role delete removes them",
          "[cli][access]") {
  Cli t;
  t.Owner("ann@example.com");
  REQUIRE(t.Run({"role", "put", "acme", "auditor", "--name", "Auditor", "--scope",
                 "organisation", "--parent", "viewer", "--permission", "audit.read"}) == kExitOk);
  const std::string shown = t.out();
  INFO(shown);
  CHECK(Contains(shown, "id:          auditor\n"));
  CHECK(Contains(shown, "name:        Auditor\n"));
  CHECK(Contains(shown, "scope:       organisation\n"));
  CHECK(Contains(shown, "parents:     viewer\n"));
  CHECK(Contains(shown, "permissions: audit.read\n"));
  CHECK(Contains(LineWith(shown, "effective:"), "records.read"));  // through viewer

  const std::string table = t.Must({"role", "list", "acme"});
  CHECK(Contains(LineWith(table, "auditor"), "no"));
  CHECK(t.Must({"role", "list", "globex"}).find("auditor") == std::string::npos);

  // Replaced whole.
  REQUIRE(t.Run({"role", "put", "acme", "auditor", "--name", "Auditor", "--scope",
                 "organisation", "--permission", "audit.read", "--json"}) == kExitOk);
  const JsonValue replaced = ParseOut(t.out());
  CHECK(Strs(replaced, "parents").empty());
  CHECK(Strs(replaced, "effective") == Args{"audit.read"});
  CHECK_FALSE(replaced.Find("builtin")->AsBool());

  REQUIRE(t.Run({"role", "put", "acme", "qa", "--name", "QA", "--scope", "project", "--parent",
                 "project.viewer", "--permission", "records.update"}) == kExitOk);

  struct Case {
    Args args;
    std::string_view error;
  };
  for (const Case& c : {
           Case{{"role", "put", "acme", "bad", "--name", "B", "--scope", "organisation",
                 "--permission", "records.fly"},
                "socle: The role is not valid.\n"},
           Case{{"role", "put", "acme", "bad", "--name", "B", "--scope", "project", "--parent",
                 "viewer"},
                "socle: The role is not valid.\n"},
           Case{{"role", "put", "acme", "bad", "--name", "B", "--scope", "organisation",
                 "--parent", "ghost"},
                "socle: The role is not valid.\n"},
           Case{{"role", "put", "acme", "owner", "--name", "Mine", "--scope", "organisation"},
                "socle: The role is not valid.\n"},
           Case{{"role", "put", "acme", "Bad Id", "--name", "B", "--scope", "organisation"},
                "socle: The role is not valid.\n"},
           Case{{"role", "put", "nope", "auditor", "--name", "A", "--scope", "organisation"},
                kOrgNotFound},
       }) {
    INFO(c.args[3]);
    CHECK(t.Run(c.args) == kExitError);
    CHECK(t.out().empty());
    CHECK(t.err().starts_with(c.error));
  }
  CHECK(ItemsOf(ParseOut(t.Must({"role", "list", "acme", "--json"}))).size() ==
        socle::domain::BuiltinRoles().size() + 2);

  // Bound, a role stays; unbound, it goes.
  const std::string bob = t.Join("bob@example.com", "viewer");
  const JsonValue bound =
      ParseOut(t.Must({"policy", "grant", "acme", "auditor", "--member", bob, "--json"}));
  CHECK(t.Run({"role", "delete", "acme", "auditor"}) == kExitError);
  CHECK(t.out().empty());
  CHECK(t.err().starts_with("socle: "));
  t.Must({"policy", "revoke", "acme", Str(bound, "id")});
  REQUIRE(t.Run({"role", "delete", "acme", "auditor"}) == kExitOk);
  CHECK(t.out() == "Deleted role auditor.\n");
  REQUIRE(t.Run({"role", "delete", "acme", "qa", "--json"}) == kExitOk);
  CHECK(Keys(ParseOut(t.out())) == std::set<std::string>{"id", "deleted"});
  CHECK(t.Run({"role", "delete", "acme", "auditor"}) == kExitError);
  CHECK(t.err() == "socle: The role was not found.\n");
  CHECK(t.Run({"role", "delete", "acme", "viewer"}) == kExitError);  // built-in: not stored
}

// Policies -----------------------------------------------------------------------------------

TEST_CASE("policy grant binds roles to members, teams and keys; never owner", "[cli][access]") {
  Cli t;
  const std::string ann = t.Owner("ann@example.com");
  const std::string bob = t.Join("bob@example.com", "viewer");
  const std::string stranger = t.NewMember("eve@example.org");
  const JsonValue team = ParseOut(t.Must({"team", "create", "acme", "Ops", "--json"}));

  REQUIRE(t.Run({"policy", "grant", "acme", "developer", "--member", bob}) == kExitOk);
  const std::string shown = t.out();
  CHECK(Contains(shown, "subject: member:" + bob + "\n"));
  CHECK(Contains(shown, "role:    developer\n"));
  CHECK(Contains(shown, "on:      organisation\n"));
  CHECK(Contains(shown, "by:      superuser:cli\n"));

  REQUIRE(t.Run({"policy", "grant", "acme", "project.editor", "--team", Str(team, "id"),
                 "--project", "shop", "--json"}) == kExitOk);
  const JsonValue granted = ParseOut(t.out());
  CHECK(Keys(granted) ==
        std::set<std::string>{"id", "subject", "role", "project", "created", "createdBy"});
  CHECK(Str(granted, "project") == "shop");
  CHECK(Str(*granted.Find("subject"), "kind") == "team");
  CHECK(Str(granted, "createdBy") == "superuser:cli");

  // An organisation key gets further roles the same way.
  const JsonValue key =
      ParseOut(t.Must({"orgkey", "create", "acme", "ci", "project.viewer", "--json"}));
  REQUIRE(t.Run({"policy", "grant", "acme", "project.editor", "--apikey", Str(key, "id"),
                 "--project", "web"}) == kExitOk);
  CHECK(Contains(t.out(), "subject: apikey:" + Str(key, "id") + "\n"));

  // Owner never comes from a policy; strangers, unknown roles and projects are refused.
  struct Case {
    Args args;
    std::string_view error;
  };
  for (const Case& c : {
           Case{{"policy", "grant", "acme", "owner", "--member", bob},
                "  role: Ownership is given by transfer, not by a policy.\n"},
           Case{{"policy", "grant", "acme", "viewer", "--member", stranger},
                "  subject: The member does not belong to the organisation.\n"},
           Case{{"policy", "grant", "acme", "viewer", "--team", "nosuchteam00000"},
                "  subject: Unknown team.\n"},
           Case{{"policy", "grant", "acme", "viewer", "--apikey", "nosuchkey000000"},
                "  subject: Unknown API key.\n"},
           Case{{"policy", "grant", "acme", "wizard", "--member", bob}, "  role: Unknown role.\n"},
           Case{{"policy", "grant", "acme", "viewer", "--member", bob, "--project", "web"},
                "  role: Only a project role can be given on one project.\n"},
           Case{{"policy", "grant", "acme", "project.viewer", "--member", bob, "--project",
                 "depot"},
                "  project: Unknown project.\n"},
           Case{{"policy", "grant", "acme", "developer", "--member", bob},
                "  role: The subject holds this role at this scope already.\n"},
           Case{{"policy", "grant", "nope", "viewer", "--member", bob}, kOrgNotFound},
       }) {
    INFO(c.args[3]);
    CHECK(t.Run(c.args) == kExitError);
    CHECK(t.out().empty());
    CHECK(Contains(t.err(), c.error));
  }

  const std::string table = t.Must({"policy", "list", "acme"});
  INFO(table);
  CHECK(table.starts_with("ID"));
  // ann's owner, bob's viewer and developer, the team's, the key's two; and the header.
  CHECK(Lines(table) == 7);
  CHECK(Contains(LineWith(table, "member:" + ann), "owner"));
  CHECK(Contains(LineWith(table, "team:" + Str(team, "id")), "project shop"));
  const JsonValue listed = ParseOut(t.Must({"policy", "list", "acme", "--json"}));
  CHECK(ItemsOf(listed).size() == 6);
  CHECK(t.Must({"policy", "list", "globex"}) == "No policies.\n");
}

TEST_CASE("policy revoke removes a policy; the last owner's stays", "[cli][access]") {
  Cli t;
  const std::string ann = t.Owner("ann@example.com");
  const std::string bob = t.Join("bob@example.com", "viewer");
  const JsonValue policies = ParseOut(t.Must({"policy", "list", "acme", "--json"}));
  std::string owner_policy, viewer_policy;
  for (const auto& policy : ItemsOf(policies)) {
    (Str(policy, "role") == "owner" ? owner_policy : viewer_policy) = Str(policy, "id");
  }
  REQUIRE_FALSE(owner_policy.empty());
  REQUIRE_FALSE(viewer_policy.empty());

  CHECK(t.Run({"policy", "revoke", "acme", owner_policy}) == kExitError);
  CHECK(t.out().empty());
  CHECK(t.err() == "socle: The organisation's last owner stays: transfer the ownership first.\n");

  REQUIRE(t.Run({"policy", "revoke", "acme", viewer_policy}) == kExitOk);
  CHECK(t.out() == "Revoked policy " + viewer_policy + ".\n");
  CHECK(t.Run({"policy", "revoke", "acme", viewer_policy}) == kExitError);
  CHECK(t.err() == "socle: The policy was not found.\n");
  CHECK(t.Run({"policy", "revoke", "globex", owner_policy}) == kExitError);
  CHECK(t.err() == "socle: The policy was not found.\n");
  CHECK(ItemsOf(ParseOut(t.Must({"policy", "list", "acme", "--json"}))).size() == 1);
  (void)ann;
  (void)bob;
}

// Feature flags ------------------------------------------------------------------------------

TEST_CASE("flag set reads its value as JSON or as text, at every level", "[cli][access]") {
  Cli t;
  t.Owner("ann@example.com");
  const std::string bob = t.Join("bob@example.com", "viewer");

  REQUIRE(t.Run({"flag", "set", "beta", "false", "--description", "The new UI"}) == kExitOk);
  const std::string global = t.out();
  CHECK(Contains(global, "key:         beta\n"));
  CHECK(Contains(global, "level:       global\n"));
  CHECK(Contains(global, "value:       false\n"));
  CHECK(Contains(global, "description: The new UI\n"));
  CHECK(Contains(global, "by:          superuser:cli\n"));

  struct Case {
    std::string text;
    JsonValue::Type type;
  };
  for (const Case& c : {Case{"true", JsonValue::Type::kBool}, Case{"42", JsonValue::Type::kNumber},
                        Case{"-1.5", JsonValue::Type::kNumber},
                        Case{"\"1.0\"", JsonValue::Type::kString},
                        Case{"blue", JsonValue::Type::kString},
                        Case{"null", JsonValue::Type::kString},
                        Case{"[1]", JsonValue::Type::kString},
                        Case{"{}", JsonValue::Type::kString}}) {
    INFO(c.text);
    REQUIRE(t.Run({"flag", "set", "acme", "theme", c.text, "--json"}) == kExitOk);
    const JsonValue flag = ParseOut(t.out());
    CHECK(Keys(flag) == std::set<std::string>{"key", "level", "subject", "value", "description",
                                              "updated", "updatedBy"});
    CHECK(Str(flag, "level") == "organisation");
    CHECK(flag.Find("value")->type() == c.type);
  }
  const JsonValue quoted =
      ParseOut(t.Must({"flag", "set", "acme", "version", "\"1.0\"", "--json"}));
  CHECK(Str(quoted, "value") == "1.0");
  const JsonValue text = ParseOut(t.Must({"flag", "set", "acme", "version", "null", "--json"}));
  CHECK(Str(text, "value") == "null");
  const JsonValue number = ParseOut(t.Must({"flag", "set", "acme", "limit", "42", "--json"}));
  CHECK(number.Find("value")->AsInt64() == 42);
  const JsonValue negative = ParseOut(t.Must({"flag", "set", "acme", "limit", "-3", "--json"}));
  CHECK(negative.Find("value")->AsInt64() == -3);

  REQUIRE(t.Run({"flag", "set", "acme", "beta", "true", "--level", "role", "--subject",
                 "viewer"}) == kExitOk);
  CHECK(Contains(t.out(), "subject:     viewer\n"));
  REQUIRE(t.Run({"flag", "set", "acme", "limit", "7", "--level", "user", "--subject", bob}) ==
          kExitOk);

  struct Refusal {
    Args args;
    std::string_view error;
  };
  for (const Refusal& c : {
           Refusal{{"flag", "set", "acme", "beta", "1", "--level", "role", "--subject", "ghost"},
                   "  subject: Unknown role.\n"},
           Refusal{{"flag", "set", "acme", "beta", "1", "--level", "user", "--subject",
                    "nosuchmember000"},
                   "  subject: The member does not belong to the organisation.\n"},
           Refusal{{"flag", "set", "acme", "beta", "1", "--level", "global"},
                   "  level: A global flag is set outside any organisation.\n"},
           Refusal{{"flag", "set", "beta", "1", "--level", "organisation"},
                   "  level: Outside an organisation, only global flags can be set.\n"},
           Refusal{{"flag", "set", "acme", "Not A Key", "1"}, "  key: "},
           Refusal{{"flag", "set", "acme", "beta", "1", "--description", std::string(501, 'd')},
                   "  description: "},
           Refusal{{"flag", "set", "nope", "beta", "1"}, kOrgNotFound},
       }) {
    INFO(c.args[2] << " " << c.args[3]);
    CHECK(t.Run(c.args) == kExitError);
    CHECK(t.out().empty());
    CHECK(Contains(t.err(), c.error));
  }
}

TEST_CASE("flag list, eval and delete", "[cli][access]") {
  Cli t;
  t.Owner("ann@example.com");
  const std::string bob = t.Join("bob@example.com", "viewer");
  const std::string carol = t.Join("carol@example.com", "developer");
  t.Must({"flag", "set", "beta", "false"});
  t.Must({"flag", "set", "acme", "beta", "true", "--level", "role", "--subject", "viewer"});
  t.Must({"flag", "set", "acme", "limit", "10"});
  t.Must({"flag", "set", "acme", "limit", "99", "--level", "user", "--subject", bob});
  t.Must({"flag", "set", "globex", "beta", "true"});

  const std::string global = t.Must({"flag", "list"});
  INFO(global);
  CHECK(Lines(global) == 2);
  CHECK(Contains(LineWith(global, "beta"), "global"));
  const JsonValue acme = ParseOut(t.Must({"flag", "list", "acme", "--json"}));
  CHECK(ItemsOf(acme).size() == 4);  // acme's three and the global one, not globex's
  const std::string table = t.Must({"flag", "list", "acme"});
  CHECK(table.starts_with("KEY"));
  CHECK(Contains(LineWith(table, bob), "99"));

  // Bob: his own limit, the viewer role's beta. Carol (developer inherits viewer): the role's
  // beta too, the organisation's limit.
  const JsonValue for_bob =
      ParseOut(t.Must({"flag", "eval", "acme", "--member", bob, "--json"}));
  REQUIRE(ItemsOf(for_bob).size() == 2);
  for (const auto& item : ItemsOf(for_bob)) {
    CHECK(Keys(item) == std::set<std::string>{"key", "value", "source", "level"});
    if (Str(item, "key") == "limit") {
      CHECK(item.Find("value")->AsInt64() == 99);
      CHECK(Str(item, "source") == "user");
    } else {
      CHECK(item.Find("value")->AsBool());
      CHECK(Str(item, "source") == "role:viewer");
    }
  }
  const std::string for_carol = t.Must({"flag", "eval", "acme", "--member", carol});
  CHECK(for_carol.starts_with("KEY"));
  CHECK(Contains(LineWith(for_carol, "limit"), "10"));
  CHECK(Contains(LineWith(for_carol, "limit"), "organisation"));
  const JsonValue one =
      ParseOut(t.Must({"flag", "eval", "acme", "--member", bob, "--key", "beta", "--json"}));
  REQUIRE(ItemsOf(one).size() == 1);
  const JsonValue unset =
      ParseOut(t.Must({"flag", "eval", "acme", "--key", "nothing.set", "--json"}));
  REQUIRE(ItemsOf(unset).size() == 1);
  CHECK(ItemsOf(unset)[0].Find("value")->IsNull());
  CHECK(Str(ItemsOf(unset)[0], "source") == "unset");
  CHECK(Contains(t.Must({"flag", "eval", "acme", "--key", "nothing.set"}), "(unset)"));
  CHECK(t.Run({"flag", "eval", "nope"}) == kExitError);
  CHECK(t.err() == kOrgNotFound);

  // Deleting: the organisation level by default, others named with --level and --subject.
  REQUIRE(t.Run({"flag", "delete", "acme", "limit"}) == kExitOk);
  CHECK(t.out() == "Deleted the organisation flag limit.\n");
  REQUIRE(t.Run({"flag", "delete", "acme", "limit", "--level", "user", "--subject", bob,
                 "--json"}) == kExitOk);
  const JsonValue gone = ParseOut(t.out());
  CHECK(Keys(gone) == std::set<std::string>{"key", "level", "subject", "deleted"});
  CHECK(Str(gone, "level") == "user");
  CHECK(t.Run({"flag", "delete", "acme", "limit"}) == kExitError);
  CHECK(t.out().empty());
  CHECK(t.err().starts_with("socle: "));
  CHECK(t.Run({"flag", "delete", "acme", "beta"}) == kExitError);  // set at role level only
  REQUIRE(t.Run({"flag", "delete", "beta"}) == kExitOk);
  CHECK(t.out() == "Deleted the global flag beta.\n");
  CHECK(t.Must({"flag", "list"}) == "No flags.\n");
  CHECK(ItemsOf(ParseOut(t.Must({"flag", "list", "acme", "--json"}))).size() == 1);
  CHECK(ItemsOf(ParseOut(t.Must({"flag", "list", "globex", "--json"}))).size() == 1);
}

// Organisation API keys ----------------------------------------------------------------------

TEST_CASE("orgkey create prints the secret once; list and revoke", "[cli][access]") {
  Cli t;
  t.Owner("ann@example.com");
  REQUIRE(t.Run({"orgkey", "create", "acme", "deploy bot", "project.editor", "--project",
                 "web"}) == kExitOk);
  const std::string out = t.out();
  const std::string err = t.err();
  INFO(out << "|" << err);
  REQUIRE(out.size() == 54);
  const std::string secret = out.substr(0, 53);
  CHECK(secret.starts_with("sk_"));
  CHECK_FALSE(Contains(err, secret.substr(12)));
  CHECK(Contains(err, "deploy bot"));
  CHECK(Contains(err, "shown only now"));
  // What was printed is the key: an organisation key of acme.
  auto identified = t.api_keys().IdentifyOrganisationKey(secret);
  REQUIRE(identified);
  const std::string id = identified->id;
  CHECK(Contains(err, id));

  REQUIRE(t.Run({"orgkey", "create", "acme", "reader", "viewer", "--expires", "2030-01-01",
                 "--json"}) == kExitOk);
  CHECK(t.err().empty());
  const JsonValue made = ParseOut(t.out());
  CHECK(Keys(made) == std::set<std::string>{"id", "name", "prefix", "expires", "revoked",
                                            "lastUsed", "uses", "created", "policies", "key"});
  CHECK(Str(made, "expires") == "2030-01-01 00:00:00.000Z");
  CHECK(made.Find("revoked")->IsNull());
  const JsonValue& policy = made.Find("policies")->items().at(0);
  CHECK(Str(policy, "role") == "viewer");
  CHECK(policy.Find("project")->IsNull());
  CHECK(t.api_keys().IdentifyOrganisationKey(Str(made, "key")));

  const std::string table = t.Must({"orgkey", "list", "acme"});
  INFO(table);
  CHECK(table.starts_with("ID"));
  CHECK(Lines(table) == 3);
  CHECK_FALSE(Contains(table, secret.substr(12)));
  CHECK(Contains(LineWith(table, id), "project.editor on web"));
  CHECK(Contains(LineWith(table, id), "active"));
  CHECK(Contains(LineWith(table, id), secret.substr(0, 12) + "…"));
  const std::string listed_json = t.Must({"orgkey", "list", "acme", "--json"});
  CHECK_FALSE(Contains(listed_json, secret.substr(12)));
  CHECK_FALSE(Contains(listed_json, Str(made, "key").substr(12)));
  CHECK(ItemsOf(ParseOut(listed_json)).size() == 2);
  CHECK(t.Must({"orgkey", "list", "globex"}) == "No API keys.\n");

  REQUIRE(t.Run({"orgkey", "revoke", "acme", id}) == kExitOk);
  CHECK(t.out() == "Revoked API key " + id + " of organisation acme.\n");
  CHECK_FALSE(t.api_keys().IdentifyOrganisationKey(secret));
  CHECK(Contains(LineWith(t.Must({"orgkey", "list", "acme"}), id), "revoked "));
  // Its policies went with it.
  CHECK_FALSE(Contains(t.Must({"policy", "list", "acme"}), "apikey:" + id));
  CHECK(t.Run({"orgkey", "revoke", "globex", Str(made, "id")}) == kExitError);
  CHECK(t.out().empty());
  CHECK(t.api_keys().IdentifyOrganisationKey(Str(made, "key")));
}

TEST_CASE("orgkey create refuses owner, bad scopes and dates", "[cli][access]") {
  Cli t;
  t.Owner("ann@example.com");
  struct Case {
    Args args;
    std::string_view error;
  };
  for (const Case& c : {
           Case{{"orgkey", "create", "acme", "ci", "owner"},
                "  role: Ownership is given by transfer, not by an API key.\n"},
           Case{{"orgkey", "create", "acme", "ci", "ghost"}, "  role: Unknown role.\n"},
           Case{{"orgkey", "create", "acme", "ci", "viewer", "--project", "web"},
                "  role: Only a project role can be given on one project.\n"},
           Case{{"orgkey", "create", "acme", "ci", "project.viewer", "--project", "depot"},
                "  project: Unknown project.\n"},
           Case{{"orgkey", "create", "acme", "ci", "viewer", "--expires", "tomorrow"},
                "  expires: Give a date (YYYY-MM-DD)"},
           Case{{"orgkey", "create", "acme", "ci", "viewer", "--expires", "2020-01-01"},
                "  expires: "},
           Case{{"orgkey", "create", "acme", std::string(101, 'n'), "viewer"}, "  name: "},
           Case{{"orgkey", "create", "nope", "ci", "viewer"}, kOrgNotFound},
       }) {
    INFO(c.args[3] << " " << c.args[4]);
    CHECK(t.Run(c.args) == kExitError);
    CHECK(t.out().empty());
    CHECK(Contains(t.err(), c.error));
  }
  CHECK(t.Must({"orgkey", "list", "acme"}) == "No API keys.\n");
}

// Across commands ----------------------------------------------------------------------------

TEST_CASE("every access command on an unknown organisation exits 1: not found",
          "[cli][access]") {
  Cli t;
  for (const Args& args : {
           Args{"org", "owner", "nope", "ann@example.com"},
           Args{"org", "transfer", "nope", "m1"},
           Args{"org", "explain", "nope", "--member", "m1"},
           Args{"member", "list", "nope"},
           Args{"member", "remove", "nope", "m1"},
           Args{"member", "invite", "nope", "bob@example.com", "viewer"},
           Args{"member", "invitations", "nope"},
           Args{"member", "revoke-invitation", "nope", "i1"},
           Args{"team", "list", "nope"},
           Args{"team", "create", "nope", "Ops"},
           Args{"team", "show", "nope", "t1"},
           Args{"team", "rename", "nope", "t1", "Ops"},
           Args{"team", "delete", "nope", "t1"},
           Args{"team", "add", "nope", "t1", "m1"},
           Args{"team", "remove", "nope", "t1", "m1"},
           Args{"role", "list", "nope"},
           Args{"role", "put", "nope", "r", "--name", "R", "--scope", "project"},
           Args{"role", "delete", "nope", "r"},
           Args{"policy", "list", "nope"},
           Args{"policy", "grant", "nope", "viewer", "--team", "t1"},
           Args{"policy", "revoke", "nope", "p1"},
           Args{"flag", "list", "nope"},
           Args{"flag", "set", "nope", "beta", "true"},
           Args{"flag", "delete", "nope", "beta"},
           Args{"flag", "eval", "nope"},
           Args{"orgkey", "create", "nope", "ci", "viewer"},
           Args{"orgkey", "list", "nope"},
           Args{"orgkey", "revoke", "nope", "k1"},
           // A malformed slug is no organisation either.
           Args{"member", "list", "Not A Slug"},
       }) {
    INFO(args[0] << " " << args[1]);
    CHECK(t.Run(args) == kExitError);
    CHECK(t.out().empty());
    CHECK(t.err() == kOrgNotFound);
  }
}

TEST_CASE("access commands fail without the access services", "[cli][access]") {
  Cli t(false);
  for (const Args& args : {Args{"member", "list", "acme"}, Args{"flag", "list"},
                           Args{"orgkey", "list", "acme", "--json"}}) {
    CHECK(t.Run(args) == kExitError);
    CHECK(t.out().empty());
    CHECK(Contains(t.err(), "socle: "));
  }
  // The other commands do not need them.
  CHECK(t.Run({"org", "get", "acme"}) == kExitOk);
}
