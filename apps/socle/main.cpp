// socle: the ops CLI's composition root. Reads the settings, opens the stores the settings name,
// wires the use cases to the real clock and random source, and hands over to the command layer.
#include <iostream>
#include <optional>
#include <memory>
#include <string>
#include <thread>
#include <vector>

#include "socle/adapters/cli/ops_cli.hpp"
#include "socle/adapters/config/load_settings.hpp"
#include "socle/adapters/crypto/openssl_random_source.hpp"
#include "socle/adapters/system/system_clock.hpp"
#include "socle/application/access_control.hpp"
#include "socle/adapters/files/file_audit_archive.hpp"
#include "socle/application/audit_log.hpp"
#include "socle/application/audit_retention.hpp"
#include "socle/application/audit_trail.hpp"
#include "socle/application/data_subjects.hpp"
#include "socle/application/manage_access.hpp"
#include "socle/application/manage_collections.hpp"
#include "socle/application/manage_organisation_keys.hpp"
#include "socle/application/manage_organisations.hpp"
#include "socle/application/manage_projects.hpp"
#include "socle/application/manage_records.hpp"
#include "socle/application/manage_regions.hpp"
#include "socle/application/manage_settings.hpp"
#include "socle/application/project_directory.hpp"
#include "socle/application/platform_catalogue.hpp"
#include "socle/application/platform_store.hpp"
#include "socle/application/platform_trail.hpp"
#include "socle/application/platform_sessions.hpp"
#include "socle/application/ports/access_store.hpp"
#include "socle/apps/open_audit.hpp"
#include "socle/apps/open_auth.hpp"
#include "socle/apps/open_store.hpp"

namespace {

int Main(int argc, char** argv) {
  namespace cli = socle::adapters::cli;
  namespace config = socle::adapters::config;
  namespace application = socle::application;

  std::vector<std::string> args(argv + 1, argv + argc);
  cli::OpsCli ops(std::cout, std::cerr, config::SettingsHelp(), &std::cin);

  auto loaded = config::LoadSettings(args, config::SystemEnvironment());
  if (!loaded) return ops.ReportSettingsError(loaded.error());

  auto command = ops.Parse(loaded->rest);
  if (!command) return cli::kExitUsage;
  // Help and --version must answer even when the database is down or unconfigured.
  if (!command->NeedsStore()) return ops.Execute(*command, nullptr);

  loaded->settings = config::ResolveAuto(std::move(loaded->settings),
                                         std::thread::hardware_concurrency());
  auto store = socle::apps::OpenCatalogueStore(loaded->settings);
  if (!store) return ops.ReportStoreError(store.error());
  // The projects' stores are needed by the collection, settings and audit commands; the
  // catalogue commands use them only to release a deleted project's store, so they still work
  // when these cannot be opened.
  // One command, then exit: no need to listen for other processes' schema changes.
  auto project_stores =
      socle::apps::OpenProjectStores(loaded->settings, **store,
                                     socle::apps::SchemaChanges::kIgnore);
  if (!project_stores && command->NeedsProjectStores()) {
    return ops.ReportStoreError(project_stores.error());
  }

  socle::adapters::system::SystemClock clock;
  socle::adapters::crypto::OpenSslRandomSource random;
  // Deleting a project (or an organisation with its projects) releases the project's store.
  std::optional<application::ProjectDirectory> directory;
  if (project_stores) directory.emplace(**store, **project_stores, clock);
  application::ProjectDirectory* releases = directory ? &*directory : nullptr;
  // Every change to the catalogue and to access commits with its event in the platform's
  // trail, in the catalogue's own database: no command changes them without it.
  application::AuditTrail platform_events(clock, random, &socle::apps::Sha256Hex);
  application::PlatformTrail platform_trail(**store, platform_events);
  application::ManageOrganisations organisations(**store, clock, random, releases, nullptr,
                                                 &platform_trail);
  application::ManageProjects projects(**store, clock, random, releases, nullptr,
                                       &platform_trail);
  application::ManageRegions regions(**store, &platform_trail);
  cli::CatalogueServices services{**store, organisations, projects, regions};
  if (!directory) return ops.Execute(*command, &services);

  // The audit trail, before anything that writes a project's data: every change this process
  // makes to a project commits with its audit event, so a command that reaches the projects'
  // data does not run without it. Its log reads the platform store's trail too (opened on
  // first use).
  application::PlatformStore platform_store(**project_stores, clock);
  auto audit = socle::apps::OpenAudit(loaded->settings, **store, **project_stores, clock, random,
                                      &platform_store);
  if (!audit) {
    if (command->NeedsProjectStores()) return ops.ReportStoreError(audit.error());
    return ops.Execute(*command, &services);
  }
  services.audit = audit->log.get();
  // Retention: old events go to archive files under the data directory before they leave.
  socle::adapters::files::FileAuditArchives audit_archives(
      socle::adapters::files::FileAuditArchive::DefaultRoot(loaded->settings.data_dir));
  application::AuditRetention audit_retention(**store, **project_stores, audit_archives, clock);
  services.audit_retention = &audit_retention;
  application::AuditTrail* trail = audit->trail.get();

  application::ManageCollections collections(*directory, clock, random, trail);
  application::ManageSettings settings(*directory, **store, clock, &platform_trail);
  application::ManageRecords records(*directory, clock, random, {}, &settings, {}, trail);
  cli::ProjectDataServices data{*directory, collections, records, random, &settings};
  services.data = &data;
  if (!command->NeedsAuth()) return ops.Execute(*command, &services);

  auto auth = socle::apps::OpenAuth(loaded->settings, **project_stores, clock, random);
  if (!auth) return ops.ReportStoreError(auth.error());
  application::ManageSuperusers superusers(*auth->platform, *auth->hasher, clock, random, {},
                                           auth->trail.get());
  application::ManageApiKeys api_keys(*directory, *auth->platform, *auth->signer, clock, random,
                                      auth->trail.get());
  auto identities = socle::domain::LoginThrottle::Create({});
  if (!identities) return ops.ReportStoreError(identities.error());
  application::PlatformSessions members(*auth->platform, *auth->signer, *auth->hasher, clock,
                                        random, *identities, nullptr, {}, {}, auth->trail.get());
  application::SignInLog sign_in_log(*auth->platform, clock, random);
  cli::AuthServices auth_services{superusers, *auth->keys, &api_keys, &members, &clock,
                                  &sign_in_log};
  services.auth = &auth_services;
  // A data subject's record, the trail's events about them and their sign-in attempts.
  application::ManageDataSubjects subjects(*directory, records, trail, &sign_in_log);
  services.subjects = &subjects;
  if (!command->NeedsAccess()) return ops.Execute(*command, &services);

  // Access control: every CatalogueStore adapter keeps the organisations' access data in the
  // same database, as an AccessStore. A store that did not would leave services.access null,
  // and the access commands would say so (exit 1).
  auto* access_store = dynamic_cast<application::AccessStore*>(store->get());
  if (access_store == nullptr) return ops.Execute(*command, &services);
  application::AccessControl access(*access_store, clock);
  application::PlatformCatalogue catalogue(organisations, projects, **store, *access_store, access,
                                           clock, random, &platform_trail);
  // No mailer and no invitation URL: invitations are not mailed, the operator hands the token
  // `member invite` prints to the invitee.
  application::ManageAccess manage_access(**store, *access_store, access, members, *auth->signer,
                                          clock, random, nullptr, {}, &platform_trail);
  application::ManageOrganisationKeys organisation_keys(**store, *access_store, access, api_keys,
                                                        clock, random, &platform_trail);
  cli::AccessServices access_services{manage_access, catalogue, organisation_keys, members};
  services.access = &access_services;
  return ops.Execute(*command, &services);
}

}  // namespace

int main(int argc, char** argv) {
  int status = Main(argc, argv);
  // A closed or full stdout (`socle org list | head -0`, a full disk) must not pass for success.
  std::cout.flush();
  if (!std::cout) {
    std::cerr << "socle: cannot write the output\n";
    return socle::adapters::cli::kExitError;
  }
  return status;
}
