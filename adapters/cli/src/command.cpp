#include "socle/adapters/cli/command.hpp"

#include <algorithm>
#include <array>
#include <bit>
#include <charconv>
#include <cstdint>
#include <optional>
#include <utility>
#include <vector>

#include "report_error.hpp"
#include "socle/application/audit_log.hpp"
#include "socle/domain/page.hpp"

namespace socle::adapters::cli {
namespace {

// Command-specific flags, as bits so that a command's table row can list the ones it takes (64
// of them: there are more than 32).
enum FlagBit : std::uint64_t {
  kNoFlags = 0,
  kName = std::uint64_t{1} << 0,
  kRegion = std::uint64_t{1} << 1,
  kTier = std::uint64_t{1} << 2,
  kOrg = std::uint64_t{1} << 3,
  kForce = std::uint64_t{1} << 4,
  kPage = std::uint64_t{1} << 5,
  kPerPage = std::uint64_t{1} << 6,
  kStoreUrl = std::uint64_t{1} << 7,
  kProject = std::uint64_t{1} << 8,
  kOut = std::uint64_t{1} << 9,
  kYes = std::uint64_t{1} << 10,
  kDeleteMissing = std::uint64_t{1} << 11,
  kScope = std::uint64_t{1} << 12,
  kExpires = std::uint64_t{1} << 13,
  kDescription = std::uint64_t{1} << 14,
  kLevel = std::uint64_t{1} << 15,
  kSubject = std::uint64_t{1} << 16,
  kRoleScope = std::uint64_t{1} << 17,
  kParent = std::uint64_t{1} << 18,
  kPermission = std::uint64_t{1} << 19,
  kMember = std::uint64_t{1} << 20,
  kTeam = std::uint64_t{1} << 21,
  kApiKey = std::uint64_t{1} << 22,
  kKey = std::uint64_t{1} << 23,
  kReason = std::uint64_t{1} << 24,
  kPublicKey = std::uint64_t{1} << 25,
  kActor = std::uint64_t{1} << 26,
  kAction = std::uint64_t{1} << 27,
  kCollection = std::uint64_t{1} << 28,
  kTarget = std::uint64_t{1} << 29,
  kFrom = std::uint64_t{1} << 30,
  kTo = std::uint64_t{1} << 31,
  kLimit = std::uint64_t{1} << 32,
  kCursor = std::uint64_t{1} << 33,
  kFormat = std::uint64_t{1} << 34,
  kPersonal = std::uint64_t{1} << 35,
  kMode = std::uint64_t{1} << 36,
  kBefore = std::uint64_t{1} << 37,
  kOlderThanMonths = std::uint64_t{1} << 38,
};
using FlagSet = std::uint64_t;

// Whose policy or explanation: policy grant and org explain take exactly one of these.
constexpr FlagSet kSubjectKinds = kMember | kTeam | kApiKey;

struct FlagSpec {
  FlagBit bit;
  std::string_view name;
  std::string_view value_name;  ///< Empty for a switch.
  bool repeatable = false;      ///< Every value counts (usage shows "..."), not the last.
};

constexpr std::array kFlags = {
    FlagSpec{kName, "--name", "NAME"},
    FlagSpec{kRegion, "--region", "REGION"},
    FlagSpec{kTier, "--tier", "shared|dedicated"},
    FlagSpec{kOrg, "--org", "ORG"},
    // Usage lines show flags in this order: whose policy or explanation comes first.
    FlagSpec{kMember, "--member", "ID"},
    FlagSpec{kTeam, "--team", "ID"},
    FlagSpec{kApiKey, "--apikey", "ID"},
    FlagSpec{kForce, "--force", ""},
    FlagSpec{kPage, "--page", "N"},
    FlagSpec{kPerPage, "--per-page", "N"},
    FlagSpec{kStoreUrl, "--store-url", "URL"},
    FlagSpec{kProject, "--project", "PROJECT"},
    FlagSpec{kOut, "--out", "FILE"},
    FlagSpec{kYes, "--yes", ""},
    FlagSpec{kDeleteMissing, "--delete-missing", ""},
    FlagSpec{kScope, "--scope", "SCOPE"},
    FlagSpec{kExpires, "--expires", "DATE"},
    FlagSpec{kDescription, "--description", "TEXT"},
    FlagSpec{kLevel, "--level", "organisation|role|user"},
    FlagSpec{kSubject, "--subject", "SUBJECT"},
    // A name two flags share: role put's --scope is a role's scope, apikey create's a key's
    // scope. Which one a command line means is decided once its command is known.
    FlagSpec{kRoleScope, "--scope", "organisation|project"},
    FlagSpec{kParent, "--parent", "ROLE", true},
    FlagSpec{kPermission, "--permission", "PERMISSION", true},
    FlagSpec{kKey, "--key", "KEY"},
    FlagSpec{kReason, "--reason", "TEXT"},
    FlagSpec{kPublicKey, "--public-key", "KEY"},
    FlagSpec{kActor, "--actor", "ID"},
    FlagSpec{kAction, "--action", "ACTION"},
    FlagSpec{kCollection, "--collection", "COLLECTION"},
    FlagSpec{kTarget, "--target", "ID"},
    FlagSpec{kFrom, "--from", "TIME"},
    FlagSpec{kTo, "--to", "TIME"},
    FlagSpec{kLimit, "--limit", "N"},
    FlagSpec{kCursor, "--cursor", "CURSOR"},
    FlagSpec{kFormat, "--format", "table|jsonl|csv"},
    FlagSpec{kPersonal, "--personal", ""},
    FlagSpec{kMode, "--mode", "delete|pseudonymise"},
    FlagSpec{kBefore, "--before", "DATE"},
    FlagSpec{kOlderThanMonths, "--older-than-months", "N"},
};

// Flags that share a name must agree on taking a value: the command line is split into flags
// and arguments before the command (and so which of them is meant) is known.
constexpr bool SharedNamesAgree() {
  for (const auto& a : kFlags) {
    for (const auto& b : kFlags) {
      if (a.name == b.name && a.value_name.empty() != b.value_name.empty()) return false;
    }
  }
  return true;
}
static_assert(SharedNamesAgree());

// One row per command: the single description that drives parsing, usage lines and help.
struct CommandSpec {
  std::string_view path;  ///< "org create"
  Verb verb;
  std::string_view arguments;  ///< Positional arguments as shown in usage: "SLUG NAME".
  std::size_t positionals;     ///< How many there must be.
  FlagSet flags;               ///< Command-specific flags it accepts.
  FlagSet required;            ///< Those of them that must be given.
  std::string_view summary;
  std::string_view details;  ///< Help for its arguments and flags, one line each.
  /// Flags of which exactly one must be given (shown as "(--a X|--b Y)").
  FlagSet one_of = kNoFlags;
  /// How many of the first positional arguments may be left out (shown as "[ORG]"), on top of
  /// the `positionals` that must be there.
  std::size_t optional = 0;
};

constexpr std::string_view kPagingHelp =
    "  --page N           Page to show, from 1 (default 1).\n"
    "  --per-page N       Items per page, 1 to 1000 (default 100).\n";

constexpr std::string_view kProjectHelp =
    "  --project PROJECT  The project's slug (required).\n";

// Audit filters are ids, slugs and action names, as in the audit API: anything longer is not one.
constexpr std::size_t kMaxAuditFilterBytes = 200;

constexpr std::array kCommands = {
    CommandSpec{"migrate", Verb::kMigrate, "", 0, kNoFlags, kNoFlags,
                "Bring the catalogue store's schema up to this version of Socle.",
                "Every other command does this first as well; run it on its own to see what "
                "was applied.\n"},
    CommandSpec{"org create", Verb::kOrgCreate, "SLUG", 1, kName | kRegion | kTier, kNoFlags,
                "Create an organisation (a tenant).",
                "  SLUG               2-63 of a-z, 0-9 and '-', starting with a letter.\n"
                "  --name NAME        Display name (default: the slug).\n"
                "  --region REGION    Home region (default: local).\n"
                "  --tier TIER        Isolation tier: shared (default) or dedicated.\n"},
    CommandSpec{"org list", Verb::kOrgList, "", 0, kPage | kPerPage, kNoFlags,
                "List organisations, by slug.", kPagingHelp},
    CommandSpec{"org get", Verb::kOrgGet, "SLUG", 1, kNoFlags, kNoFlags, "Show one organisation.",
                ""},
    CommandSpec{"org rename", Verb::kOrgRename, "SLUG NAME", 2, kNoFlags, kNoFlags,
                "Change an organisation's display name (its slug never changes).", ""},
    CommandSpec{"org delete", Verb::kOrgDelete, "SLUG", 1, kForce, kNoFlags,
                "Delete an organisation.",
                "  --force            Also delete its projects and their data; without it an\n"
                "                     organisation that has projects is not deleted.\n"},
    CommandSpec{"org owner", Verb::kOrgOwner, "ORG EMAIL", 2, kNoFlags, kNoFlags,
                "Make the member with this e-mail an owner of an organisation.",
                "  ORG                The organisation's slug.\n"
                "  EMAIL              A platform member's e-mail address (see member\n"
                "                     upsert); they join the organisation if they are not in\n"
                "                     it. Other owners stay owners.\n"},
    CommandSpec{"org transfer", Verb::kOrgTransfer, "ORG MEMBER_ID", 2, kNoFlags, kNoFlags,
                "Make a member of an organisation one of its owners.",
                "  MEMBER_ID          A member of the organisation (see member list). An operator\n"
                "                     owns nothing, so nobody loses their ownership: to hand it\n"
                "                     over, revoke the former owner's policy afterwards.\n"},
    CommandSpec{"org explain", Verb::kOrgExplain, "ORG", 1, kSubjectKinds | kProject | kPermission,
                kNoFlags, "Explain what a member, a team or an API key may do, and why.",
                "  --member ID, --team ID, --apikey ID\n"
                "                     Whose access to explain (exactly one).\n"
                "  --project PROJECT  On this project of the organisation (default: on the\n"
                "                     organisation itself).\n"
                "  --permission PERMISSION\n"
                "                     A permission (resource.action) to explain, repeatable;\n"
                "                     default: every permission. See docs/rbac.md.\n"
                "Prints one line per permission: allowed or denied, and the policy and roles\n"
                "behind it.\n",
                kSubjectKinds},
    CommandSpec{"org export", Verb::kOrgExport, "ORG", 1, kOut, kOut,
                "Export everything of an organisation into one tar archive (data portability).",
                "  ORG                The organisation's slug.\n"
                "  --out FILE         The archive to write (ustar); - writes it to stdout. A\n"
                "                     file appears only once the archive is complete.\n"
                "The archive holds socle-export.json (what is where), the organisation's\n"
                "members, invitations, teams, custom roles, policies, flags and API keys (never\n"
                "a token, secret or binding), and per project its collections, settings and\n"
                "records (.jsonl and .csv, in clear, hidden fields included, password hashes\n"
                "and tokenKey left out). See docs/operations.md.\n"},
    CommandSpec{"project create", Verb::kProjectCreate, "SLUG", 1, kOrg | kName, kOrg,
                "Create a project in an organisation.",
                "  SLUG               Unique across the platform; names /p/SLUG.\n"
                "  --org ORG          The owning organisation's slug (required).\n"
                "  --name NAME        Display name (default: the slug).\n"},
    CommandSpec{"project list", Verb::kProjectList, "", 0, kOrg | kPage | kPerPage, kNoFlags,
                "List projects, by slug.",
                "  --org ORG          Only the projects of this organisation.\n"
                "  --page N           Page to show, from 1 (default 1).\n"
                "  --per-page N       Items per page, 1 to 1000 (default 100).\n"},
    CommandSpec{"project get", Verb::kProjectGet, "SLUG", 1, kNoFlags, kNoFlags,
                "Show one project.", ""},
    CommandSpec{"project rename", Verb::kProjectRename, "SLUG NAME", 2, kNoFlags, kNoFlags,
                "Change a project's display name (its slug never changes).", ""},
    CommandSpec{"project delete", Verb::kProjectDelete, "SLUG", 1, kNoFlags, kNoFlags,
                "Delete a project and its data.", ""},
    CommandSpec{"region list", Verb::kRegionList, "", 0, kNoFlags, kNoFlags,
                "List regions, by name, with their store URLs (passwords hidden).", ""},
    CommandSpec{"region set", Verb::kRegionSet, "NAME", 1, kStoreUrl, kStoreUrl,
                "Define a region, or change its store URL.",
                "  NAME               2-63 of a-z, 0-9 and '-', starting with a letter.\n"
                "  --store-url URL    The PostgreSQL cluster to place its organisations in:\n"
                "                     postgres://... or postgresql://... (empty only for\n"
                "                     local, meaning this instance's own store).\n"},
    CommandSpec{"collection list", Verb::kCollectionList, "", 0, kProject, kProject,
                "List a project's collections, in creation order.", kProjectHelp},
    CommandSpec{"collection get", Verb::kCollectionGet, "NAME", 1, kProject, kProject,
                "Show one collection: its rules, fields and indexes.",
                "  NAME               The collection's name or id.\n"
                "  --project PROJECT  The project's slug (required).\n"},
    CommandSpec{"collection import", Verb::kCollectionImport, "FILE", 1,
                kProject | kDeleteMissing | kReason, kProject,
                "Create or update collections from a PocketBase collections export.",
                "  FILE               A JSON array of collections, or {\"collections\": [...]}\n"
                "                     (PocketBase's export format); - reads stdin. Collections\n"
                "                     are matched by id, else by name; all are applied in one\n"
                "                     schema change, or none when one is invalid.\n"
                "  --project PROJECT  The project's slug (required).\n"
                "  --delete-missing   Also delete the project's collections the file does not\n"
                "                     name, with their records.\n"
                "  --reason TEXT      Why: recorded with each change in the audit trail (at\n"
                "                     most 1000 bytes).\n"},
    CommandSpec{"collection export", Verb::kCollectionExport, "", 0, kProject | kOut, kProject,
                "Print a project's collections as PocketBase's JSON export (importable back).",
                "  --project PROJECT  The project's slug (required).\n"
                "  --out FILE         Write to FILE instead of stdout (replaced whole, or left\n"
                "                     as it was when the export fails).\n"},
    CommandSpec{"collection delete", Verb::kCollectionDelete, "NAME", 1,
                kProject | kYes | kReason, kProject, "Delete a collection and its records.",
                "  NAME               The collection's name or id.\n"
                "  --project PROJECT  The project's slug (required).\n"
                "  --yes              Confirm: without it nothing is deleted and the command\n"
                "                     says how many records would go (exit 1).\n"
                "  --reason TEXT      Why: recorded with the deletion in the audit trail (at\n"
                "                     most 1000 bytes).\n"},
    CommandSpec{"collection history", Verb::kCollectionHistory, "", 0, kProject, kProject,
                "List the changes made to a project's collections, oldest first.", kProjectHelp},
    CommandSpec{"settings get", Verb::kSettingsGet, "", 0, kProject, kProject,
                "Show a project's settings (PocketBase's /api/settings).",
                "  --project PROJECT  The project's slug (required).\n"
                "With --json: PocketBase's settings document, which settings set reads back.\n"},
    CommandSpec{"settings set", Verb::kSettingsSet, "FILE", 1, kProject, kProject,
                "Change a project's settings from a JSON patch.",
                "  FILE               A JSON object in PocketBase's settings shape; - reads\n"
                "                     stdin. Its members are merged over the current settings\n"
                "                     as PATCH /api/settings merges them:\n"
                "                     {\"batch\": {\"maxRequests\": 20}} changes that value only;\n"
                "                     a list is replaced whole. The result is validated whole\n"
                "                     and stored, or nothing changes.\n"
                "  --project PROJECT  The project's slug (required).\n"},
    CommandSpec{"superuser upsert", Verb::kSuperuserUpsert, "EMAIL PASSWORD", 2, kNoFlags,
                kNoFlags, "Create a superuser, or give an existing one a new password.",
                "  EMAIL              The superuser's e-mail address (their sign-in identity).\n"
                "  PASSWORD           At least 8 characters, not a common password; - reads it\n"
                "                     from the first line of stdin (keeps it out of the shell's\n"
                "                     history and the process list). A new password signs the\n"
                "                     superuser out everywhere.\n"},
    CommandSpec{"keys list", Verb::kKeysList, "", 0, kNoFlags, kNoFlags,
                "List the token signing keys, newest (signing) first.",
                "Retired keys keep verifying the tokens they signed for 30 days.\n"},
    CommandSpec{"keys rotate", Verb::kKeysRotate, "", 0, kNoFlags, kNoFlags,
                "Add a new token signing key, which signs from now on.",
                "Older keys keep verifying for 30 days; running servers pick the new key up\n"
                "within a minute. Public keys: GET /.well-known/jwks.json.\n"},
    CommandSpec{"apikey create", Verb::kApiKeyCreate, "NAME", 1, kProject | kScope | kExpires,
                kProject | kScope, "Create an API key for a project's data API; shown once.",
                "  NAME               What the key is for (1-100 characters).\n"
                "  --project PROJECT  The project's slug (required).\n"
                "  --scope SCOPE      COLLECTION:ACTION, repeatable (at least one): ACTION is\n"
                "                     list, view, create, update, delete, read (list and view),\n"
                "                     write (create, update, delete) or all; COLLECTION a name\n"
                "                     or * for every collection. Within its scopes the key acts\n"
                "                     as a superuser; it never manages collections or settings.\n"
                "  --expires DATE     When the key stops working (YYYY-MM-DD or an instant).\n"
                "Send it as 'Authorization: Bearer sk_...' or 'X-API-Key: sk_...'.\n"},
    CommandSpec{"apikey list", Verb::kApiKeyList, "", 0, kProject, kProject,
                "List a project's API keys (never their secrets).", kProjectHelp},
    CommandSpec{"apikey revoke", Verb::kApiKeyRevoke, "ID", 1, kProject, kProject,
                "Revoke an API key: it stops working at once.",
                "  ID                 The key's id (see apikey list).\n"
                "  --project PROJECT  The project's slug (required).\n"},
    CommandSpec{"member upsert", Verb::kMemberUpsert, "EMAIL PASSWORD", 2, kName, kNoFlags,
                "Create a platform member, or give an existing one a new password.",
                "  EMAIL              The member's e-mail address (their sign-in identity).\n"
                "  PASSWORD           At least 8 characters, not a common password; - reads it\n"
                "                     from the first line of stdin. A new password ends all the\n"
                "                     member's sessions.\n"
                "  --name NAME        The member's display name (up to 255 characters; kept\n"
                "                     when not given).\n"},
    CommandSpec{"member list", Verb::kMemberList, "ORG", 1, kPage | kPerPage, kNoFlags,
                "List an organisation's members, by e-mail, with their roles and teams.",
                kPagingHelp},
    CommandSpec{"member remove", Verb::kMemberRemove, "ORG MEMBER_ID", 2, kNoFlags, kNoFlags,
                "Remove a member from an organisation, with their policies and team places.",
                "An organisation's last owner cannot be removed: make another owner first.\n"},
    CommandSpec{"member invite", Verb::kMemberInvite, "ORG EMAIL ROLE", 3, kProject, kNoFlags,
                "Invite someone to an organisation by e-mail; the token is shown once.",
                "  EMAIL              The invitee's e-mail address.\n"
                "  ROLE               The role they get by accepting (see role list); not owner.\n"
                "  --project PROJECT  Give a project role on this project only.\n"
                "Nothing is mailed: pass the token to the invitee, who accepts it through the\n"
                "platform API (POST /api/v1/invitations/accept) within 7 days.\n"},
    CommandSpec{"member invitations", Verb::kMemberInvitations, "ORG", 1, kPage | kPerPage,
                kNoFlags, "List an organisation's invitations, newest first (never their tokens).",
                kPagingHelp},
    CommandSpec{"member revoke-invitation", Verb::kMemberRevokeInvitation, "ORG ID", 2, kNoFlags,
                kNoFlags, "Revoke a pending invitation: its token stops working.",
                "  ID                 The invitation's id (see member invitations).\n"},
    CommandSpec{"team list", Verb::kTeamList, "ORG", 1, kNoFlags, kNoFlags,
                "List an organisation's teams, by name.", ""},
    CommandSpec{"team create", Verb::kTeamCreate, "ORG NAME", 2, kDescription, kNoFlags,
                "Create a team in an organisation.",
                "  NAME               1-100 characters, unique in the organisation (whatever the\n"
                "                     case).\n"
                "  --description TEXT What the team is for (up to 1000 characters).\n"},
    CommandSpec{"team show", Verb::kTeamShow, "ORG ID", 2, kNoFlags, kNoFlags,
                "Show a team and its members.", ""},
    CommandSpec{"team rename", Verb::kTeamRename, "ORG ID NAME", 3, kDescription, kNoFlags,
                "Rename a team.",
                "  --description TEXT Also replace its description.\n"},
    CommandSpec{"team delete", Verb::kTeamDelete, "ORG ID", 2, kNoFlags, kNoFlags,
                "Delete a team and its policies; its members stay in the organisation.", ""},
    CommandSpec{"team add", Verb::kTeamAdd, "ORG TEAM_ID MEMBER_ID", 3, kNoFlags, kNoFlags,
                "Add a member of the organisation to a team: they get the team's roles.", ""},
    CommandSpec{"team remove", Verb::kTeamRemove, "ORG TEAM_ID MEMBER_ID", 3, kNoFlags, kNoFlags,
                "Remove a member from a team.", ""},
    CommandSpec{"role list", Verb::kRoleList, "ORG", 1, kNoFlags, kNoFlags,
                "List an organisation's roles, built-in then custom.",
                "With --json: every role with its own and its effective permissions.\n"},
    CommandSpec{"role put", Verb::kRolePut, "ORG ID", 2, kName | kRoleScope | kParent | kPermission,
                kName | kRoleScope, "Create or replace a custom role of an organisation.",
                "  ID                 1-64 of a-z, 0-9, '_', '.' and '-'; not a built-in role's.\n"
                "  --name NAME        Display name.\n"
                "  --scope SCOPE      organisation (it applies to every project) or project.\n"
                "  --parent ROLE      A role whose permissions it inherits, repeatable. A\n"
                "                     project role cannot inherit an organisation role.\n"
                "  --permission PERMISSION\n"
                "                     A permission (resource.action) it grants, repeatable.\n"
                "A role of the same ID is replaced whole.\n"},
    CommandSpec{"role delete", Verb::kRoleDelete, "ORG ID", 2, kNoFlags, kNoFlags,
                "Delete a custom role (refused while bound, offered or inherited).", ""},
    CommandSpec{"policy list", Verb::kPolicyList, "ORG", 1, kNoFlags, kNoFlags,
                "List an organisation's policies: who holds which role, where.", ""},
    CommandSpec{"policy grant", Verb::kPolicyGrant, "ORG ROLE", 2, kSubjectKinds | kProject,
                kNoFlags, "Bind a role to a member, a team or an API key of an organisation.",
                "  ROLE               A role of the organisation (see role list); not owner,\n"
                "                     which org owner and org transfer give.\n"
                "  --member ID, --team ID, --apikey ID\n"
                "                     Who gets the role (exactly one).\n"
                "  --project PROJECT  On this project only (a project role); default: on the\n"
                "                     whole organisation.\n",
                kSubjectKinds},
    CommandSpec{"policy revoke", Verb::kPolicyRevoke, "ORG POLICY_ID", 2, kNoFlags, kNoFlags,
                "Remove a policy; an organisation's last owner policy stays.", ""},
    CommandSpec{"flag list", Verb::kFlagList, "[ORG]", 0, kNoFlags, kNoFlags,
                "List feature flags: the global ones, or an organisation's and the global ones.",
                "  ORG                The organisation; left out: the global flags only.\n",
                kNoFlags, 1},
    CommandSpec{"flag set", Verb::kFlagSet, "[ORG] KEY VALUE", 2,
                kLevel | kSubject | kDescription, kNoFlags, "Set a feature flag.",
                "  ORG                The organisation; left out: a global flag.\n"
                "  KEY                1-64 of a-z, 0-9, '_', '.' and '-'.\n"
                "  VALUE              true, false, a number or a \"quoted string\" are read as\n"
                "                     JSON; anything else is taken as a string.\n"
                "  --level LEVEL      organisation (the default with ORG), role or user. The most\n"
                "                     specific level wins: user, role, organisation, global.\n"
                "  --subject SUBJECT  The role id (--level role) or member id (--level user).\n"
                "  --description TEXT What the flag is for (up to 500 characters).\n",
                kNoFlags, 1},
    CommandSpec{"flag delete", Verb::kFlagDelete, "[ORG] KEY", 1, kLevel | kSubject, kNoFlags,
                "Delete a feature flag at one level.",
                "  ORG                The organisation; left out: a global flag.\n"
                "  --level LEVEL      organisation (the default with ORG), role or user.\n"
                "  --subject SUBJECT  The role id (--level role) or member id (--level user).\n",
                kNoFlags, 1},
    CommandSpec{"flag eval", Verb::kFlagEval, "ORG", 1, kMember | kKey, kNoFlags,
                "Show the feature flags' values in an organisation, and where they come from.",
                "  --member ID        As they are for this member (their roles, their own\n"
                "                     flags); default: for no member in particular.\n"
                "  --key KEY          Only this flag (default: every flag that is set).\n"},
    CommandSpec{"orgkey create", Verb::kOrgKeyCreate, "ORG NAME ROLE", 3, kProject | kExpires,
                kNoFlags, "Create an organisation's API key with a role; shown once.",
                "  NAME               What the key is for (1-100 characters).\n"
                "  ROLE               What it may do (see role list); not owner.\n"
                "  --project PROJECT  Give a project role on this project only.\n"
                "  --expires DATE     When the key stops working (YYYY-MM-DD or an instant).\n"
                "The key acts on the platform API and on the data API of the organisation's\n"
                "projects, within its role: 'Authorization: Bearer sk_...'.\n"},
    CommandSpec{"orgkey list", Verb::kOrgKeyList, "ORG", 1, kNoFlags, kNoFlags,
                "List an organisation's API keys and their roles (never their secrets).", ""},
    CommandSpec{"orgkey revoke", Verb::kOrgKeyRevoke, "ORG ID", 2, kNoFlags, kNoFlags,
                "Revoke an organisation's API key: it stops working and loses its policies.",
                "  ID                 The key's id (see orgkey list).\n"},
    CommandSpec{"maintenance run", Verb::kMaintenanceRun, "", 0, kNoFlags, kNoFlags,
                "Run the periodic clean-up now: spent member sessions, old sign-in attempts.",
                "Deletes expired refresh tokens, those revoked or exchanged more than a day ago,\n"
                "and sign-in attempts older than 90 days (socle-server also does this hourly).\n"},
    CommandSpec{"audit verify", Verb::kAuditVerify, "", 0, kOrg | kPublicKey, kNoFlags,
                "Check that the audit trail is intact: every chain, against the last checkpoint.",
                "  --org ORG          Only this organisation's projects (default: every one).\n"
                "  --public-key KEY   The checkpoint key to trust (base64url, as audit\n"
                "                     checkpoint prints it); default: this instance's own key.\n"
                "Recomputes every event's hash and link from the first event of its chain, and\n"
                "checks that each chain reaches the head the latest checkpoint signed. Prints a\n"
                "line per chain and the checkpoint's status. Exit 1 when anything is broken,\n"
                "naming the first broken event of each chain. See docs/audit.md.\n"},
    CommandSpec{"audit checkpoint", Verb::kAuditCheckpoint, "", 0, kNoFlags, kNoFlags,
                "Sign the head of every audit chain now (socle-server does it periodically).",
                "Appends the checkpoint to <data-dir>/audit/checkpoints.jsonl, signed with this\n"
                "instance's audit signing key. Keep copies of that file and of the public key\n"
                "printed: what a checkpoint signed cannot be rewritten without audit verify\n"
                "noticing. See docs/audit.md.\n"},
    CommandSpec{"audit archive", Verb::kAuditArchive, "", 0, kBefore | kOlderThanMonths,
                kNoFlags, "Move old audit events out of the projects' stores, into archive files.",
                "  --before DATE      Archive what is older than this day (YYYY-MM-DD) or\n"
                "                     instant (RFC 3339).\n"
                "  --older-than-months N\n"
                "                     Archive what is older than the first day of the month N\n"
                "                     months back (1 to 1200).\n"
                "Exactly one of the two. Each project's events are written to\n"
                "<data-dir>/audit/archive/<org>/<project>/ (JSON Lines, fsynced, listed with\n"
                "their SHA-256 in manifest.jsonl) before they leave the store; every chain\n"
                "then starts at an anchor and still verifies. On PostgreSQL whole months are\n"
                "detached (kept as _audit_archived_* tables, never dropped). socle-server does\n"
                "it daily with audit.retention_months. See docs/audit.md, Retention.\n"},
    CommandSpec{"audit list", Verb::kAuditList, "", 0,
                kOrg | kProject | kSubject | kActor | kAction | kCollection | kTarget | kFrom |
                    kTo | kLimit | kCursor | kFormat | kPersonal,
                kOrg, "List an organisation's audit events, newest first.",
                "  --org ORG          The organisation's slug (required).\n"
                "  --project PROJECT  Only this project of the organisation.\n"
                "  --subject SUBJECT  Only events whose actor or target is this id (a data\n"
                "                     subject's events).\n"
                "  --actor ID         Only events by this actor (a member's, user's, key's id;\n"
                "                     cli for this command line).\n"
                "  --action ACTION    Only this action: record.update, collection.delete ...\n"
                "  --collection COLLECTION\n"
                "                     Only events on this collection: its id, or with --project\n"
                "                     its name.\n"
                "  --target ID        Only events on this record (or collection) id.\n"
                "  --from TIME, --to TIME\n"
                "                     Only events at or after --from, and before --to: a day\n"
                "                     (YYYY-MM-DD, its first instant, UTC) or an instant\n"
                "                     (YYYY-MM-DD HH:MM:SSZ, or RFC 3339).\n"
                "  --limit N          Events to print, 1 to 500 (default 100).\n"
                "  --cursor CURSOR    Carry on where a previous page stopped: it prints the\n"
                "                     cursor on stderr when there are more events.\n"
                "  --format FORMAT    table (default); jsonl, one event per line in the audit\n"
                "                     API's shape; or csv, RFC 4180 with a header row.\n"
                "  --personal         Show the personal parts of events (client address, user\n"
                "                     agent, personal fields' values) in clear, with --json or\n"
                "                     --format jsonl; without it they are \"masked\".\n"
                "With --json: the audit API's page, {\"items\": [...], \"nextCursor\": ...}.\n"},
    CommandSpec{"subject export", Verb::kSubjectExport, "PROJECT COLLECTION ID", 3, kOut,
                kNoFlags, "Export what a project holds about one person (GDPR art. 15 and 20).",
                "  PROJECT            The project's slug.\n"
                "  COLLECTION         The collection of the person's record: name or id.\n"
                "  ID                 The person's record id (the record may be gone already).\n"
                "  --out FILE         Write to FILE instead of stdout (replaced whole, or left\n"
                "                     as it was when the export fails).\n"
                "Always JSON, the audit API's subject export: {\"records\": [their record\n"
                "without secrets, then the records pointing at it], \"events\": [the audit\n"
                "events about them, personal parts in clear], \"signIns\": [...],\n"
                "\"truncated\": ...}. It holds personal data: keep the file accordingly.\n"},
    CommandSpec{"subject erase", Verb::kSubjectErase, "PROJECT COLLECTION ID", 3,
                kMode | kReason | kYes, kMode,
                "Erase one person from a project (GDPR art. 17); the audit chains stay valid.",
                "  PROJECT            The project's slug.\n"
                "  COLLECTION         The collection of the person's record: name or id.\n"
                "  ID                 The person's record id.\n"
                "  --mode MODE        delete: their record goes, with the cascades its\n"
                "                     relations declare; pseudonymise: it stays (for the\n"
                "                     records that must keep pointing at it) with every\n"
                "                     personal field blanked. Either way the personal parts of\n"
                "                     the audit events about them and their sign-in attempts go.\n"
                "  --reason TEXT      Why: recorded with the erasure in the audit trail (at\n"
                "                     most 1000 bytes); required where the collection demands\n"
                "                     reasons (auditReasonRequired).\n"
                "  --yes              Confirm: without it nothing is erased and the command\n"
                "                     says what would go (exit 1).\n"
                "Running it again completes an erasure that was interrupted. See docs/audit.md.\n"},
};

constexpr std::array<std::string_view, 17> kGroups = {
    "org",    "project", "region", "collection", "settings", "superuser",   "keys",  "apikey",
    "member", "team", "role", "policy", "flag", "orgkey", "maintenance", "audit", "subject"};

constexpr std::string_view kCommonOptions =
    "  --json             Print the result as JSON, in the HTTP API's shapes.\n"
    "  -h, --help         Show this help.\n";
constexpr std::string_view kVersionOption = "  --version          Print socle's version.\n";
constexpr std::string_view kSettingsPointer =
    "  --data-dir DIR, --database-url URL, --config FILE and the other settings: see "
    "`socle help`.\n";

const CommandSpec* FindCommand(std::string_view path) {
  for (const auto& spec : kCommands) {
    if (spec.path == path) return &spec;
  }
  return nullptr;
}

bool IsGroup(std::string_view word) {
  for (auto group : kGroups) {
    if (group == word) return true;
  }
  return false;
}

const FlagSpec* FindFlag(std::string_view name) {
  for (const auto& flag : kFlags) {
    if (flag.name == name) return &flag;
  }
  return nullptr;
}

// The flag of this name that `spec` takes (names can be shared, see kFlags); nullptr if none.
const FlagSpec* FindFlagOf(const CommandSpec& spec, std::string_view name) {
  for (const auto& flag : kFlags) {
    if (flag.name == name && (spec.flags & flag.bit) != 0) return &flag;
  }
  return nullptr;
}

std::string FlagText(const FlagSpec& flag) {
  std::string text = std::string(flag.name);
  if (!flag.value_name.empty()) text += " " + std::string(flag.value_name);
  return text;
}

std::string Usage(const CommandSpec& spec) {
  std::string out = "socle " + std::string(spec.path);
  if (!spec.arguments.empty()) out += " " + std::string(spec.arguments);
  bool one_of_shown = false;
  for (const auto& flag : kFlags) {
    if ((spec.flags & flag.bit) == 0) continue;
    if ((spec.one_of & flag.bit) != 0) {
      // The whole group at the place of its first flag: "(--member ID|--team ID|--apikey ID)".
      if (one_of_shown) continue;
      one_of_shown = true;
      std::string group;
      for (const auto& member : kFlags) {
        if ((spec.one_of & member.bit) != 0) group += (group.empty() ? "" : "|") + FlagText(member);
      }
      out += " (" + group + ")";
      continue;
    }
    std::string text = FlagText(flag);
    out += (spec.required & flag.bit) != 0 ? " " + text : " [" + text + "]";
    if (flag.repeatable) out += "...";
  }
  return out;
}

// The words and flags of a command line, before they are matched against a command.
struct Tokens {
  std::vector<std::string> positionals;
  std::vector<std::pair<const FlagSpec*, std::string>> flags;  // in the order given
  std::vector<std::string> unknown_flags;
  std::optional<std::string> problem;  // a flag's missing value, a switch given a value
  bool help = false;
  bool version = false;
  bool json = false;
};

Tokens Tokenize(std::span<const std::string> args) {
  Tokens tokens;
  bool only_positionals = false;
  for (std::size_t i = 0; i < args.size(); ++i) {
    const std::string& arg = args[i];
    // No flag starts with a digit: "-1.5" is a negative number (a flag's VALUE), not a flag.
    const bool negative_number = arg.size() > 1 && arg[0] == '-' && arg[1] >= '0' && arg[1] <= '9';
    if (only_positionals || arg == "-" || !arg.starts_with('-') || negative_number) {
      tokens.positionals.push_back(arg);
      continue;
    }
    if (arg == "--") {
      only_positionals = true;
      continue;
    }
    auto equals = arg.find('=');
    std::string_view name = std::string_view(arg).substr(0, equals);
    bool has_value = equals != std::string::npos;
    if (name == "--help" || name == "-h" || name == "--version" || name == "--json") {
      if (has_value && !tokens.problem) tokens.problem = std::string(name) + " takes no value";
      if (name == "--json")
        tokens.json = true;
      else if (name == "--version")
        tokens.version = true;
      else
        tokens.help = true;
      continue;
    }
    const FlagSpec* flag = FindFlag(name);
    if (flag == nullptr) {
      tokens.unknown_flags.emplace_back(name);
      continue;
    }
    if (flag->value_name.empty()) {
      if (has_value && !tokens.problem) tokens.problem = std::string(name) + " takes no value";
      tokens.flags.emplace_back(flag, "");
      continue;
    }
    if (has_value) {
      tokens.flags.emplace_back(flag, arg.substr(equals + 1));
    } else if (i + 1 < args.size()) {
      tokens.flags.emplace_back(flag, args[++i]);
    } else if (!tokens.problem) {
      tokens.problem = std::string(name) + " needs a value: " + std::string(name) + " " +
                       std::string(flag->value_name);
    }
  }
  return tokens;
}

// The most specific command or group the words name, for --help: "org create", "org", "".
std::string TopicOf(const std::vector<std::string>& words) {
  if (words.empty()) return "";
  if (IsGroup(words[0])) {
    if (words.size() > 1 && FindCommand(words[0] + " " + words[1])) {
      return words[0] + " " + words[1];
    }
    return words[0];
  }
  if (FindCommand(words[0])) return words[0];
  return "";
}

std::optional<std::int64_t> ParseCount(std::string_view text, std::int64_t max) {
  std::int64_t value = 0;
  if (text.empty() || text.find_first_not_of("0123456789") != std::string_view::npos) {
    return std::nullopt;
  }
  auto [end, ec] = std::from_chars(text.data(), text.data() + text.size(), value);
  if (ec != std::errc{} || end != text.data() + text.size() || value < 1 || value > max) {
    return std::nullopt;
  }
  return value;
}

std::unexpected<UsageError> Usage(std::string message, std::string_view topic) {
  return std::unexpected(UsageError{std::move(message), std::string(topic)});
}

// Whether `text` has the shape of an Ed25519 public key in unpadded base64url: 32 bytes are 43
// characters. Whether it is a point of the curve is for the signer to say.
bool IsPublicKey(std::string_view text) {
  return text.size() == 43 && std::all_of(text.begin(), text.end(), [](char c) {
           return (c >= 'A' && c <= 'Z') || (c >= 'a' && c <= 'z') || (c >= '0' && c <= '9') ||
                  c == '-' || c == '_';
         });
}

// What is wrong with the combination of audit list's flags, once each one is known to be
// well-formed; nullopt when nothing is.
std::optional<std::string> AuditListProblem(const Command& command) {
  const std::pair<std::string_view, const std::optional<std::string>*> filters[] = {
      {"--subject", &command.subject}, {"--actor", &command.actor},
      {"--action", &command.action},   {"--collection", &command.collection},
      {"--target", &command.target},
  };
  for (const auto& [name, value] : filters) {
    if (*value && (*value)->size() > kMaxAuditFilterBytes) {
      return std::string(name) + " must be at most " + std::to_string(kMaxAuditFilterBytes) +
             " characters";
    }
  }
  if (command.from && command.to && *command.from >= *command.to) {
    return "--from must be before --to";
  }
  if (command.json && command.format != AuditFormat::kTable) {
    return "give either --json (the page as one JSON document) or --format, not both";
  }
  // The table and the CSV export have no place for personal data (nor does the API's CSV):
  // asking for it there would silently get nothing.
  if (command.personal && !command.json && command.format != AuditFormat::kJsonLines) {
    return "--personal needs --json or --format jsonl: the table and CSV never show personal "
           "data";
  }
  return std::nullopt;
}

// The names of the positional arguments, as the usage line spells them ("SLUG", "NAME").
std::vector<std::string> ArgumentNames(std::string_view arguments) {
  std::vector<std::string> names;
  while (!arguments.empty()) {
    auto space = arguments.find(' ');
    names.emplace_back(arguments.substr(0, space));
    if (space == std::string_view::npos) break;
    arguments.remove_prefix(space + 1);
  }
  return names;
}

}  // namespace

std::expected<Command, UsageError> ParseCommand(std::span<const std::string> args) {
  Tokens tokens = Tokenize(args);
  Command command;
  command.json = tokens.json;
  // Help and version answer even a command line that is otherwise wrong: that is when they are
  // needed.
  if (tokens.help) {
    command.verb = Verb::kHelp;
    command.help_topic = TopicOf(tokens.positionals);
    return command;
  }
  if (tokens.version) {
    command.verb = Verb::kVersion;
    return command;
  }

  const auto& words = tokens.positionals;
  if (words.empty()) return Usage("missing command", "");
  std::size_t consumed = 1;
  const CommandSpec* spec = nullptr;
  if (words[0] == "help") {
    std::string topic;
    for (std::size_t i = 1; i < words.size(); ++i) topic += (i > 1 ? " " : "") + words[i];
    if (!topic.empty() && !IsGroup(topic) && !FindCommand(topic)) {
      return Usage("no such command: socle " + topic, "");
    }
    command.verb = Verb::kHelp;
    command.help_topic = topic;
    return command;
  }
  if (IsGroup(words[0])) {
    if (words.size() < 2) return Usage("missing sub-command after socle " + words[0], words[0]);
    spec = FindCommand(words[0] + " " + words[1]);
    if (spec == nullptr) {
      return Usage("unknown command: socle " + words[0] + " " + words[1], words[0]);
    }
    consumed = 2;
  } else {
    spec = FindCommand(words[0]);
    if (spec == nullptr) return Usage("unknown command: " + words[0], "");
  }

  const std::string_view topic = spec->path;
  if (tokens.problem) return Usage(*tokens.problem, topic);
  if (!tokens.unknown_flags.empty()) {
    return Usage(
        "unknown flag " + tokens.unknown_flags.front() + " for socle " + std::string(topic), topic);
  }
  // Each flag as this command means it (a name can belong to several, see kFlags).
  std::vector<std::pair<const FlagSpec*, std::string>> flags;
  for (const auto& [any, value] : tokens.flags) {
    const FlagSpec* flag = FindFlagOf(*spec, any->name);
    if (flag == nullptr) {
      return Usage("socle " + std::string(topic) + " does not take " + std::string(any->name),
                   topic);
    }
    flags.emplace_back(flag, value);
  }
  std::span<const std::string> arguments(words.begin() + static_cast<std::ptrdiff_t>(consumed),
                                         words.end());
  auto names = ArgumentNames(spec->arguments);
  const std::size_t most = spec->positionals + spec->optional;
  if (arguments.size() < spec->positionals) {
    // Too few: the optional leading ones are all left out, the next required one is missing.
    return Usage("missing " + names[spec->optional + arguments.size()], topic);
  }
  if (arguments.size() > most) {
    return Usage("unexpected argument \"" + arguments[most] + "\"", topic);
  }
  const std::size_t left_out = most - arguments.size();
  for (std::size_t i = 0; i + left_out < spec->optional; ++i) {
    // "" stands for an argument left out; one given must name something.
    if (arguments[i].empty()) {
      std::string name = names[i + left_out];
      if (name.size() > 2 && name.front() == '[') name = name.substr(1, name.size() - 2);
      return Usage(name + " must not be empty (leave it out instead)", topic);
    }
  }
  for (const auto& flag : kFlags) {
    if ((spec->required & flag.bit) == 0) continue;
    bool given = false;
    for (const auto& [seen, value] : flags) given = given || seen == &flag;
    if (!given) {
      return Usage("missing " + std::string(flag.name) + " " + std::string(flag.value_name), topic);
    }
  }
  if (spec->one_of != kNoFlags) {
    FlagSet given = 0;
    for (const auto& [seen, value] : flags) given |= seen->bit & spec->one_of;
    if (given == 0 || std::popcount(given) > 1) {
      std::vector<const FlagSpec*> group;
      for (const auto& flag : kFlags) {
        if ((spec->one_of & flag.bit) != 0) group.push_back(&flag);
      }
      std::string listed;
      for (std::size_t i = 0; i < group.size(); ++i) {
        listed += (i == 0 ? "" : i + 1 == group.size() ? " or " : ", ") +
                  (given == 0 ? FlagText(*group[i]) : std::string(group[i]->name));
      }
      return Usage(given == 0 ? "missing " + listed : "give only one of " + listed, topic);
    }
  }

  command.verb = spec->verb;
  command.arguments.assign(left_out, std::string());
  command.arguments.insert(command.arguments.end(), arguments.begin(), arguments.end());
  if (!command.arguments.empty()) command.slug = command.arguments[0];
  // The access commands read `arguments`; the others name their second argument as before.
  if (arguments.size() > 1 && !command.NeedsAccess()) {
    // member upsert's PASSWORD is not a name: --name, applied below, names the member.
    if (spec->verb == Verb::kMemberUpsert) {
      command.password = arguments[1];
    } else {
      command.name = arguments[1];
    }
  }
  // A repeated flag takes its last value, as with the settings flags.
  for (const auto& [flag, value] : flags) {
    switch (flag->bit) {
      case kName:
        command.name = value;
        break;
      case kRegion:
        command.region = value;
        break;
      case kTier:
        command.tier = value;
        break;
      case kOrg:
        command.org = value;
        break;
      case kStoreUrl:
        command.store_url = value;
        break;
      case kProject:
        command.project = value;
        break;
      case kScope:
        command.scopes.push_back(value);  // repeatable: every one counts
        break;
      case kExpires:
        command.expires = value;
        break;
      case kDescription:
        command.description = value;
        break;
      case kLevel:
        if (value != "global" && value != "organisation" && value != "role" && value != "user") {
          return Usage("--level must be organisation, role or user (or global)", topic);
        }
        command.level = value;
        break;
      case kSubject:
        command.subject = value;
        break;
      case kRoleScope:
        if (value != "organisation" && value != "project") {
          return Usage("--scope must be organisation or project", topic);
        }
        command.role_scope = value;
        break;
      case kParent:
        command.parents.push_back(value);  // repeatable: every one counts
        break;
      case kPermission:
        command.permissions.push_back(value);  // repeatable: every one counts
        break;
      case kMember:
        command.member = value;
        break;
      case kTeam:
        command.team = value;
        break;
      case kApiKey:
        command.api_key = value;
        break;
      case kKey:
        command.key = value;
        break;
      case kOut:
        command.out_file = value;
        break;
      case kForce:
        command.force = true;
        break;
      case kYes:
        command.yes = true;
        break;
      case kDeleteMissing:
        command.delete_missing = true;
        break;
      case kPage: {
        auto page = ParseCount(value, domain::PageRequest::kMaxPage);
        if (!page) {
          return Usage("--page must be a whole number from 1 to " +
                           std::to_string(domain::PageRequest::kMaxPage),
                       topic);
        }
        command.page = *page;
        break;
      }
      case kPerPage: {
        auto per_page = ParseCount(value, domain::PageRequest::kMaxPerPage);
        if (!per_page) {
          return Usage("--per-page must be a whole number from 1 to " +
                           std::to_string(domain::PageRequest::kMaxPerPage),
                       topic);
        }
        command.per_page = *per_page;
        break;
      }
      case kReason:
        if (value.empty()) return Usage("--reason must not be empty (leave it out instead)", topic);
        if (value.size() > Command::kMaxReasonBytes) {
          return Usage("--reason must be at most " + std::to_string(Command::kMaxReasonBytes) +
                           " bytes",
                       topic);
        }
        command.reason = value;
        break;
      case kPublicKey:
        if (!IsPublicKey(value)) {
          return Usage(
              "--public-key must be an Ed25519 public key in base64url (43 characters), as "
              "socle audit checkpoint prints it",
              topic);
        }
        command.public_key = value;
        break;
      case kActor:
        command.actor = value;
        break;
      case kAction:
        command.action = value;
        break;
      case kCollection:
        command.collection = value;
        break;
      case kTarget:
        command.target = value;
        break;
      case kFrom:
      case kTo: {
        auto instant = ParseDayOrInstant(value);
        if (!instant) {
          return Usage(std::string(flag->name) +
                           " must be a day (YYYY-MM-DD) or an instant (YYYY-MM-DD HH:MM:SSZ)",
                       topic);
        }
        (flag->bit == kFrom ? command.from : command.to) = *instant;
        break;
      }
      case kBefore:
        command.archive_before = value;
        break;
      case kOlderThanMonths: {
        auto months = ParseCount(value, Command::kMaxRetentionMonths);
        if (!months) {
          return Usage("--older-than-months must be a whole number from 1 to " +
                           std::to_string(Command::kMaxRetentionMonths),
                       topic);
        }
        command.older_than_months = *months;
        break;
      }
      case kLimit: {
        auto limit = ParseCount(value, Command::kMaxAuditLimit);
        if (!limit) {
          return Usage("--limit must be a whole number from 1 to " +
                           std::to_string(Command::kMaxAuditLimit),
                       topic);
        }
        command.limit = *limit;
        break;
      }
      case kCursor:
        if (!application::DecodeAuditCursor(value)) {
          return Usage("--cursor must be a cursor printed by a previous audit list", topic);
        }
        command.cursor = value;
        break;
      case kFormat:
        if (value == "table") {
          command.format = AuditFormat::kTable;
        } else if (value == "jsonl") {
          command.format = AuditFormat::kJsonLines;
        } else if (value == "csv") {
          command.format = AuditFormat::kCsv;
        } else {
          return Usage("--format must be table, jsonl or csv", topic);
        }
        break;
      case kPersonal:
        command.personal = true;
        break;
      case kMode:
        if (value != "delete" && value != "pseudonymise") {
          return Usage("--mode must be delete or pseudonymise", topic);
        }
        command.mode = value;
        break;
      case kNoFlags:
        break;
    }
  }
  if (command.verb == Verb::kAuditList) {
    if (auto problem = AuditListProblem(command)) return Usage(std::move(*problem), topic);
  }
  return command;
}

std::string UsageLine(std::string_view topic) {
  if (const CommandSpec* spec = FindCommand(topic)) {
    return "Usage: " + Usage(*spec) + " [--json]";
  }
  if (IsGroup(topic))
    return "Usage: socle " + std::string(topic) + " COMMAND [ARGUMENTS] [OPTIONS]";
  return "Usage: socle COMMAND [ARGUMENTS] [OPTIONS]";
}

std::string HelpText(std::string_view topic) {
  if (const CommandSpec* spec = FindCommand(topic)) {
    std::string out = UsageLine(topic) + "\n\n" + std::string(spec->summary) + "\n";
    if (!spec->details.empty()) out += "\n" + std::string(spec->details);
    out += "\nOptions of every command:\n" + std::string(kCommonOptions) +
           std::string(kSettingsPointer);
    return out;
  }
  const bool group = IsGroup(topic);
  if (!topic.empty() && !group) return "";

  std::string out;
  if (!group) {
    out +=
        "socle: operate a Socle platform from the command line: migrate the catalogue store,\n"
        "manage regions, organisations, projects, their collections and settings, and the\n"
        "organisations' members, teams, roles, policies, feature flags and API keys; read,\n"
        "verify and checkpoint the audit trail; export and erase a data subject's data.\n\n";
  }
  out += UsageLine(topic) + "\n\nCommands:\n";
  for (const auto& spec : kCommands) {
    if (group && !spec.path.starts_with(std::string(topic) + " ")) continue;
    out += "  " + Usage(spec) + "\n      " + std::string(spec.summary) + "\n";
  }
  if (!group) out += "  socle help [COMMAND]\n      Show help for every command, or for one.\n";
  out += "\nOptions of every command:\n" + std::string(kCommonOptions) +
         std::string(kVersionOption) + std::string(kSettingsPointer);
  out +=
      "\nExit status: 0 success; 1 error (refused by the platform, store unreachable); "
      "2 usage error.\n";
  return out;
}

}  // namespace socle::adapters::cli
