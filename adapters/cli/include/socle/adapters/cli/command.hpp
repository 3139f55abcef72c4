#pragma once

#include <cstddef>
#include <cstdint>
#include <expected>
#include <optional>
#include <span>
#include <string>
#include <string_view>
#include <vector>

#include "socle/application/audit_reason.hpp"
#include "socle/domain/timestamp.hpp"

namespace socle::adapters::cli {

/// What a `socle` invocation asks for.
enum class Verb {
  kHelp,
  kVersion,
  kMigrate,
  kOrgCreate,
  kOrgList,
  kOrgGet,
  kOrgRename,
  kOrgDelete,
  kProjectCreate,
  kProjectList,
  kProjectGet,
  kProjectRename,
  kProjectDelete,
  kRegionList,
  kRegionSet,
  kCollectionList,
  kCollectionGet,
  kCollectionImport,
  kCollectionExport,
  kCollectionDelete,
  kCollectionHistory,
  kSettingsGet,
  kSettingsSet,
  kSuperuserUpsert,
  kKeysList,
  kKeysRotate,
  kApiKeyCreate,
  kApiKeyList,
  kApiKeyRevoke,
  kMemberUpsert,
  kMaintenanceRun,
  // The audit trail of the projects' data: read, verified and checkpointed by the operator
  // through the audit log (CatalogueServices::audit).
  kAuditVerify,
  kAuditCheckpoint,
  kAuditList,
  kAuditArchive,
  // A data subject's data in a project (GDPR): exported or erased through ManageDataSubjects
  // (CatalogueServices::subjects).
  kSubjectExport,
  kSubjectErase,
  // Organisations' access (members, teams, roles, policies, flags, organisation API keys): the
  // operator acts as a superuser through the platform's access use cases. Kept together, from
  // kOrgOwner to kOrgKeyRevoke: Command::NeedsAccess tests that range.
  kOrgOwner,
  kOrgTransfer,
  kOrgExplain,
  /// Everything of one organisation in one archive: it reads through the access use cases too.
  kOrgExport,
  kMemberList,
  kMemberRemove,
  kMemberInvite,
  kMemberInvitations,
  kMemberRevokeInvitation,
  kTeamList,
  kTeamCreate,
  kTeamShow,
  kTeamRename,
  kTeamDelete,
  kTeamAdd,
  kTeamRemove,
  kRoleList,
  kRolePut,
  kRoleDelete,
  kPolicyList,
  kPolicyGrant,
  kPolicyRevoke,
  kFlagList,
  kFlagSet,
  kFlagDelete,
  kFlagEval,
  kOrgKeyCreate,
  kOrgKeyList,
  kOrgKeyRevoke,
};

/// How `audit list` prints its page of events.
enum class AuditFormat {
  kTable,      ///< aligned columns for a person
  kJsonLines,  ///< one event per line, the audit API's event document
  kCsv,        ///< RFC 4180 with a header row, the audit API's CSV export
};

/// One parsed `socle` command line: plain data, validated for shape only (the use cases
/// validate slugs, names and tiers).
struct Command {
  static constexpr std::int64_t kDefaultPerPage = 100;
  static constexpr std::int64_t kDefaultAuditLimit = 100;
  static constexpr std::int64_t kMaxAuditLimit = 500;
  /// The longest --reason: a sentence or two, as the API's X-Audit-Reason.
  static constexpr std::size_t kMaxReasonBytes = application::kMaxAuditReasonBytes;

  Verb verb = Verb::kHelp;
  std::string help_topic;                   ///< kHelp: "", "org" or "org create" ...
  /// The first positional argument: a SLUG; region set and collection get/delete: the NAME;
  /// collection import and settings set: the FILE ("-" for stdin).
  std::string slug;
  std::optional<std::string> name;          ///< --name, or the NAME argument of rename.
  std::optional<std::string> region;        ///< --region
  std::optional<std::string> tier;          ///< --tier
  std::optional<std::string> org;           ///< --org
  std::optional<std::string> store_url;     ///< --store-url
  std::optional<std::string> project;       ///< --project (collection and settings commands)
  std::optional<std::string> out_file;      ///< --out FILE (collection and org export)
  std::vector<std::string> scopes;          ///< --scope, repeatable (apikey create)
  std::optional<std::string> password;      ///< member upsert: the PASSWORD argument
  std::optional<std::string> expires;       ///< --expires DATE (apikey and orgkey create)
  /// Every positional argument after the command's words, in order. A leading optional argument
  /// left out (the ORG of `flag list`, `flag set`, `flag delete`) is there as "", so that each
  /// argument keeps its index; one given explicitly is never empty.
  std::vector<std::string> arguments;
  std::optional<std::string> description;   ///< --description TEXT (team, flag)
  std::optional<std::string> level;         ///< --level: global, organisation, role or user
  /// --subject: a flag's role or member id; for audit list, a data subject's id (events whose
  /// actor or target it is).
  std::optional<std::string> subject;
  std::optional<std::string> role_scope;    ///< --scope of role put: organisation or project
  std::vector<std::string> parents;         ///< --parent, repeatable (role put)
  std::vector<std::string> permissions;     ///< --permission, repeatable (role put, explain)
  /// Whose policy or explanation: at most one of --member, --team and --apikey (the parser
  /// makes sure policy grant and org explain have exactly one).
  std::optional<std::string> member;
  std::optional<std::string> team;
  std::optional<std::string> api_key;
  std::optional<std::string> key;           ///< --key (flag eval)
  bool force = false;                       ///< --force
  bool yes = false;                         ///< --yes: confirms a destructive command
  bool delete_missing = false;              ///< --delete-missing (collection import)
  bool json = false;                        ///< --json: the HTTP API's JSON shapes on stdout.
  std::int64_t page = 1;                    ///< --page, from 1.
  std::int64_t per_page = kDefaultPerPage;  ///< --per-page
  /// --reason TEXT: why the change is made, recorded in its audit events (collection import
  /// and delete). Never empty when given.
  std::optional<std::string> reason;
  std::optional<std::string> public_key;    ///< --public-key KEY (audit verify)
  // audit list's filters: --actor, --action, --collection, --target; --subject is `subject`.
  std::optional<std::string> actor;
  std::optional<std::string> action;
  std::optional<std::string> collection;
  std::optional<std::string> target;
  std::optional<domain::Timestamp> from;    ///< --from TIME: events at or after it
  std::optional<domain::Timestamp> to;      ///< --to TIME: events before it
  std::int64_t limit = kDefaultAuditLimit;  ///< --limit N, 1 to kMaxAuditLimit
  std::optional<std::string> cursor;        ///< --cursor CURSOR, well-formed when given
  AuditFormat format = AuditFormat::kTable; ///< --format
  bool personal = false;                    ///< --personal: show events' personal parts
  /// audit archive's cut: --before DATE (as written; AuditCommands parses it) or
  /// --older-than-months N (1 to kMaxRetentionMonths).
  std::optional<std::string> archive_before;
  std::optional<std::int64_t> older_than_months;
  static constexpr std::int64_t kMaxRetentionMonths = 1200;
  /// --mode of subject erase: "delete" or "pseudonymise" (the parser accepts nothing else).
  std::optional<std::string> mode;

  /// False for help and version, which must work without any store.
  bool NeedsStore() const noexcept { return verb != Verb::kHelp && verb != Verb::kVersion; }
  /// True for the `collection`, `settings` and `audit` commands, which find their project (or
  /// every project) through the projects' stores.
  bool NeedsProjectStores() const noexcept {
    return verb == Verb::kCollectionList || verb == Verb::kCollectionGet ||
           verb == Verb::kCollectionImport || verb == Verb::kCollectionExport ||
           verb == Verb::kCollectionDelete || verb == Verb::kCollectionHistory ||
           verb == Verb::kSettingsGet || verb == Verb::kSettingsSet || NeedsAudit() ||
           NeedsAuth();
  }
  /// True for the `subject` commands: they reach a project's records, its audit trail and the
  /// platform's sign-in attempts.
  bool NeedsSubjects() const noexcept {
    return verb == Verb::kSubjectExport || verb == Verb::kSubjectErase;
  }
  /// True for the `audit` commands, which run against the audit log (and through it every
  /// project's store).
  bool NeedsAudit() const noexcept {
    return verb == Verb::kAuditVerify || verb == Verb::kAuditCheckpoint ||
           verb == Verb::kAuditList || verb == Verb::kAuditArchive;
  }
  /// True for the `superuser` and `keys` commands, which work on the platform store, for the
  /// `subject` commands (a user's sign-in attempts are there), and for the access commands,
  /// whose use cases need it (members, token bindings, API keys).
  bool NeedsAuth() const noexcept {
    return verb == Verb::kSuperuserUpsert || verb == Verb::kKeysList || verb == Verb::kKeysRotate ||
           verb == Verb::kApiKeyCreate || verb == Verb::kApiKeyList || verb == Verb::kApiKeyRevoke ||
           verb == Verb::kMemberUpsert || verb == Verb::kMaintenanceRun || NeedsSubjects() ||
           NeedsAccess();
  }
  /// True for the commands on organisations' access (AccessServices): org owner, transfer,
  /// explain and export, member (but upsert), team, role, policy, flag and orgkey.
  bool NeedsAccess() const noexcept {
    return verb >= Verb::kOrgOwner && verb <= Verb::kOrgKeyRevoke;
  }
};

/// A command line that does not fit any command (exit status 2).
struct UsageError {
  std::string message;  ///< One sentence naming what is wrong.
  std::string topic;    ///< The command whose usage to show ("org create"); empty: all.
};

/// Parses the arguments LoadSettings left over (settings flags already removed).
/// Accepts `--flag value` and `--flag=value`; `--` makes every later argument positional;
/// `--help`/`-h` anywhere asks for the help of the command named so far, `--version` for the
/// version. Unknown commands and flags, missing or extra arguments are UsageErrors.
std::expected<Command, UsageError> ParseCommand(std::span<const std::string> args);

/// The help text of `topic` ("" for the overview, "org", "org create" ...); empty when there is
/// no such command. Does not include the settings flags, which the caller appends.
std::string HelpText(std::string_view topic);

/// "Usage: socle org create SLUG [--name NAME] ..." for a command, or the general usage line.
std::string UsageLine(std::string_view topic);

}  // namespace socle::adapters::cli
