#pragma once

#include <istream>
#include <optional>
#include <ostream>
#include <span>
#include <string>
#include <vector>

#include "socle/adapters/cli/command.hpp"
#include "socle/application/audit_log.hpp"
#include "socle/application/audit_retention.hpp"
#include "socle/application/audit_trail.hpp"
#include "socle/application/data_subjects.hpp"
#include "socle/application/manage_access.hpp"
#include "socle/application/manage_api_keys.hpp"
#include "socle/application/manage_collections.hpp"
#include "socle/application/manage_organisation_keys.hpp"
#include "socle/application/manage_organisations.hpp"
#include "socle/application/manage_projects.hpp"
#include "socle/application/manage_records.hpp"
#include "socle/application/manage_regions.hpp"
#include "socle/application/manage_settings.hpp"
#include "socle/application/manage_signing_keys.hpp"
#include "socle/application/manage_superusers.hpp"
#include "socle/application/platform_catalogue.hpp"
#include "socle/application/platform_sessions.hpp"
#include "socle/application/sign_in_log.hpp"
#include "socle/application/ports/catalogue_store.hpp"
#include "socle/application/ports/random_source.hpp"
#include "socle/application/project_directory.hpp"
#include "socle/domain/error.hpp"

namespace socle::adapters::cli {

/// Exit statuses of `socle`, the contract scripts rely on.
inline constexpr int kExitOk = 0;
inline constexpr int kExitError = 1;  ///< Refused by a use case, or the store failed.
inline constexpr int kExitUsage = 2;  ///< The command line (or a setting) is malformed.

/// What `collection` and `settings` commands run against: the projects' own stores, built by
/// the composition root next to the catalogue.
struct ProjectDataServices {
  /// Also released for each project a delete removes, so no store of a deleted project stays open.
  application::ProjectDirectory& directory;
  application::ManageCollections& collections;
  application::ManageRecords& records;  ///< Counts what `collection delete` would remove.
  /// Draws each invocation's request id ("cli-" and 16 hex digits), which the audit trail
  /// records with every event of the changes (and audited reads) the command makes.
  application::RandomSource& random;
  /// For `settings`; null: those commands fail (exit 1).
  application::ManageSettings* settings = nullptr;
};

/// What `superuser` and `keys` commands run against: the platform store's use cases.
struct AuthServices {
  application::ManageSuperusers& superusers;
  application::ManageSigningKeys& keys;
  application::ManageApiKeys* api_keys = nullptr;  ///< for `apikey`; null: those fail
  application::PlatformSessions* members = nullptr;  ///< for `member`, `maintenance`
  application::Clock* clock = nullptr;                ///< for `maintenance run`
  application::SignInLog* sign_in_log = nullptr;      ///< purged by `maintenance run`
};

/// What the commands on organisations' access run against (org owner, transfer and explain;
/// member but upsert; team, role, policy, flag and orgkey): the platform's access use cases,
/// which check every permission. The CLI calls them as an operator, a superuser (id "cli"),
/// who holds every permission in every organisation; what it makes is recorded as made by
/// "superuser:cli".
struct AccessServices {
  application::ManageAccess& access;
  application::PlatformCatalogue& catalogue;       ///< for `org owner`
  application::ManageOrganisationKeys& organisation_keys;
  application::PlatformSessions& members;          ///< finds the member `org owner` names
};

/// What store-backed commands run against, built by the composition root.
struct CatalogueServices {
  application::CatalogueStore& store;  ///< For `migrate`.
  application::ManageOrganisations& organisations;
  application::ManageProjects& projects;
  application::ManageRegions& regions;
  /// Null when the projects' stores are not available: `collection` commands then fail (exit 1)
  /// and the others work as before.
  ProjectDataServices* data = nullptr;
  /// Null when authentication could not be set up: `superuser` and `keys` commands then fail.
  AuthServices* auth = nullptr;
  /// Null when access control could not be set up: the access commands then fail (exit 1).
  AccessServices* access = nullptr;
  /// For `audit`; null when the audit trail could not be opened: those commands then fail
  /// (exit 1). The use cases in `data` write the trail themselves (their AuditTrail).
  application::AuditLog* audit = nullptr;
  /// For `subject`; null when the projects' stores, the audit trail or the platform store
  /// could not be set up: those commands then fail (exit 1).
  application::ManageDataSubjects* subjects = nullptr;
  /// For `audit archive`; null when the audit trail could not be opened.
  application::AuditRetention* audit_retention = nullptr;
};

/// The `socle` ops CLI's command layer: turns a parsed command into use-case calls and their
/// results into text (aligned tables, `key: value` lines) or, with --json, into the HTTP API's
/// JSON shapes. Results go to `out`; messages and errors to `err`. Holds no process state, so
/// tests drive it with string streams.
class OpsCli final {
 public:
  /// `settings_help` (the common settings flags, one per line) is shown by `socle help`. `in`
  /// is what `collection import -` reads; null refuses "-".
  OpsCli(std::ostream& out, std::ostream& err, std::string settings_help = {},
         std::istream* in = nullptr);

  /// Parses the arguments the settings loader left; on a usage error prints it with the
  /// command's usage line and returns nullopt (exit with kExitUsage).
  std::optional<Command> Parse(std::span<const std::string> args);

  /// Prints a configuration error (from LoadSettings); returns kExitUsage.
  int ReportSettingsError(const domain::Error& error);

  /// Prints a failure to open the store; returns kExitError.
  int ReportStoreError(const domain::Error& error);

  /// Runs `command`. `services` may be null only when !command.NeedsStore(). Commands other
  /// than `migrate` first bring the store's schema up to date, silently. Returns the exit status.
  int Execute(const Command& command, CatalogueServices* services);

  /// Parse, then Execute: the whole invocation, for callers that already hold a store.
  int Run(std::span<const std::string> args, CatalogueServices& services);

 private:
  int Fail(const domain::Error& error);
  int Migrate(const Command& command, CatalogueServices& services);
  int OrgCreate(const Command& command, CatalogueServices& services);
  int OrgList(const Command& command, CatalogueServices& services);
  int OrgGet(const Command& command, CatalogueServices& services);
  int OrgRename(const Command& command, CatalogueServices& services);
  int OrgDelete(const Command& command, CatalogueServices& services);
  int OrgExport(const Command& command, CatalogueServices& services);
  int ProjectCreate(const Command& command, CatalogueServices& services);
  int ProjectList(const Command& command, CatalogueServices& services);
  int ProjectGet(const Command& command, CatalogueServices& services);
  int ProjectRename(const Command& command, CatalogueServices& services);
  int ProjectDelete(const Command& command, CatalogueServices& services);
  int RegionList(const Command& command, CatalogueServices& services);
  int RegionSet(const Command& command, CatalogueServices& services);
  int CollectionCommand(const Command& command, CatalogueServices& services);
  int CollectionList(const Command& command, ProjectDataServices& data);
  int CollectionGet(const Command& command, ProjectDataServices& data);
  int CollectionImport(const Command& command, ProjectDataServices& data,
                       const application::AuditContext& context);
  int CollectionExport(const Command& command, ProjectDataServices& data);
  int CollectionDelete(const Command& command, ProjectDataServices& data,
                       const application::AuditContext& context);
  int CollectionHistory(const Command& command, ProjectDataServices& data);
  int SettingsCommand(const Command& command, CatalogueServices& services);
  int AuditCommand(const Command& command, CatalogueServices& services);
  int AuthCommand(const Command& command, CatalogueServices& services);
  int ApiKeyCommand(const Command& command, application::ManageApiKeys& keys,
                    const application::AuditContext& context);
  int SettingsGet(const Command& command, application::ManageSettings& settings);
  int SettingsSet(const Command& command, application::ManageSettings& settings,
                  const application::AuditContext& context);
  int ShowSettings(const Command& command, const domain::ProjectSettings& settings);
  int ShowOrganisation(const Command& command, const domain::Organisation& org);
  int ShowProject(const Command& command, const domain::Project& project);

  std::ostream& out_;
  std::ostream& err_;
  std::string settings_help_;
  std::istream* in_;
};

}  // namespace socle::adapters::cli
