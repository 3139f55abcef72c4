// socle-server: the HTTP server's composition root. Reads the settings, opens and migrates the
// catalogue store they name and opens the projects' stores beside it, wires the use cases to
// the real clock and random source, serves HTTP until SIGTERM/SIGINT, and exits 0 after a
// graceful shutdown (1 when it cannot start, 2 on a usage error).
#include <array>
#ifdef __GLIBC__
#include <malloc.h>
#endif
#include <condition_variable>
#include <filesystem>
#include <memory>
#include <cstdint>
#include <iostream>
#include <mutex>
#include <string>
#include <thread>
#include <string_view>
#include <vector>

#include "socle/adapters/config/load_settings.hpp"
#include "socle/adapters/crypto/openssl_random_source.hpp"
#include "socle/adapters/files/file_audit_archive.hpp"
#include "socle/adapters/http/access_api.hpp"
#include "socle/adapters/http/audit_api.hpp"
#include "socle/adapters/http/http_metrics.hpp"
#include "socle/adapters/http/http_server.hpp"
#include "socle/adapters/http/logger.hpp"
#include "socle/adapters/http/operations_api.hpp"
#include "socle/adapters/http/platform_api.hpp"
#include "socle/adapters/http/principal.hpp"
#include "socle/adapters/http/project_data_api.hpp"
#include "socle/adapters/http/router.hpp"
#include "socle/adapters/http/platform_auth_api.hpp"
#include "socle/adapters/http/setup_api.hpp"
#include "socle/adapters/mail/file_mailer.hpp"
#include "socle/adapters/mail/queued_mailer.hpp"
#include "socle/adapters/mail/smtp_mailer.hpp"
#include "socle/adapters/mail/smtp_options.hpp"
#include "socle/adapters/store_url.hpp"
#include "socle/adapters/system/system_clock.hpp"
#include "socle/application/access_control.hpp"
#include "socle/application/account_emails.hpp"
#include "socle/application/audit_retention.hpp"
#include "socle/application/authenticate.hpp"
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
#include "socle/application/manage_superusers.hpp"
#include "socle/application/platform_callers.hpp"
#include "socle/application/platform_catalogue.hpp"
#include "socle/application/platform_sessions.hpp"
#include "socle/application/ports/access_store.hpp"
#include "socle/application/project_directory.hpp"
#include "socle/application/purge_deleted.hpp"
#include "socle/apps/open_audit.hpp"
#include "socle/apps/open_auth.hpp"
#include "socle/apps/open_store.hpp"
#include "socle/domain/login_throttle.hpp"

namespace {

namespace config = socle::adapters::config;
namespace http = socle::adapters::http;

constexpr int kExitOk = 0;
constexpr int kExitStartFailed = 1;
constexpr int kExitUsage = 2;
constexpr std::string_view kVersion = SOCLE_VERSION;

void PrintUsage(std::ostream& out) {
  out << "Usage: socle-server [--http ADDR:PORT] [--data-dir DIR] [--database-url URL]\n"
         "                    [--config FILE] [--log-level LEVEL] [options]\n"
         "       socle-server --help | --version\n"
         "\n"
         "Serves the Socle platform API (/api/v1) and each project's data API (/p/PROJECT/api,\n"
         "PocketBase-compatible) over HTTP until SIGTERM or SIGINT, then finishes the requests\n"
         "in flight and exits 0. When ready it prints one line to stdout:\n"
         "  socle-server listening on http://ADDR:PORT\n"
         "\n"
         "Options (flags > SOCLE_* environment > config file > defaults):\n"
      << config::SettingsHelp();
}

// Every problem of a failed LoadSettings, one per line.
void PrintSettingsError(const socle::domain::Error& error) {
  std::cerr << "socle-server: " << error.message << "\n";
  for (const auto& field : error.fields) {
    if (error.message.find(field.message) == std::string::npos) {
      std::cerr << "  " << field.field << ": " << field.message << "\n";
    }
  }
  std::cerr << "Run 'socle-server --help' for usage.\n";
}

// The one place that reports a start-up failure: a structured log line for the log pipeline,
// and a plain sentence for the person at the terminal.
int StartFailed(http::Logger& logger, std::string_view what, const socle::domain::Error& error) {
  logger.Error(what, {{"error", error.message}, {"code", socle::domain::ToString(error.code)},
                      {"detail", error.internal}});
  std::cerr << "socle-server: " << what << ": " << error.message << "\n";
  return kExitStartFailed;
}

http::HttpServerOptions ServerOptions(const config::Settings& settings) {
  http::HttpServerOptions options;
  options.address = settings.http_address;
  options.port = settings.http_port;
  options.io_threads = settings.http_threads;
  options.worker_threads = settings.worker_threads;
  // ResolveAuto has turned "auto" into one of the others.
  options.loop_reads = settings.http_reads == "loop"    ? http::LoopReads::kAll
                       : settings.http_reads == "point" ? http::LoopReads::kPoint
                                                        : http::LoopReads::kNone;
  options.max_body_bytes = settings.max_body_bytes;
  options.max_header_bytes = settings.max_header_bytes;
  options.read_timeout = std::chrono::milliseconds(settings.read_timeout_ms);
  options.idle_timeout = std::chrono::milliseconds(settings.idle_timeout_ms);
  options.shutdown_timeout = std::chrono::milliseconds(settings.shutdown_timeout_ms);
  options.max_connections = settings.max_connections;
  options.rate_limit_per_second = settings.rate_limit_per_second;
  return options;
}

// The listening address as a URL's authority: IPv6 addresses go in brackets.
std::string Authority(const std::string& address, std::uint16_t port) {
  const bool ipv6 = address.find(':') != std::string::npos;
  return (ipv6 ? "[" + address + "]" : address) + ":" + std::to_string(port);
}

// Where the links this server mails point (invitations): the public URL when it is set (behind
// a proxy only the operator knows it). Otherwise the listening address, which is only
// meaningful when it is a concrete address and port; failing both, no link can be made and
// invitations are not mailed (the inviter gets the token in the API answer and passes it on).
std::string InvitationUrl(const config::Settings& settings) {
  if (!settings.public_url.empty()) return settings.public_url + "/_/invitations";
  const std::string& address = settings.http_address;
  if (settings.http_port == 0 || address.empty() || address == "0.0.0.0" || address == "::") {
    return {};
  }
  return "http://" + Authority(address, settings.http_port) + "/_/invitations";
}

// The first-superuser link printed at start: the public URL when set, else the address the
// server actually listens on (a wildcard address at least names the port to use).
std::string SetupUrl(const config::Settings& settings, std::uint16_t port,
                     std::string_view token) {
  const std::string base = settings.public_url.empty()
                               ? "http://" + Authority(settings.http_address, port)
                               : settings.public_url;
  return base + "/_/setup?token=" + std::string(token);
}

// The sender of the platform's own mail (invitations): no-reply at the public URL's host when
// that is a domain name, whose owner runs this server; otherwise a name under .localhost
// (RFC 6761), which says plainly that the mail comes from a local installation. Either way an
// address mail adapters accept: they refuse a domain without a dot, such as bare "localhost".
std::string PlatformMailFrom(const config::Settings& settings) {
  constexpr std::string_view kLocal = "Socle <no-reply@socle.localhost>";
  const std::string& url = settings.public_url;
  const auto start = url.find("://");
  if (start == std::string::npos) return std::string(kLocal);
  std::string host = url.substr(start + 3, url.find_first_of(":/", start + 3) - (start + 3));
  const bool ip_literal = host.empty() || host.front() == '[' ||
                          host.find_first_not_of("0123456789.") == std::string::npos;
  if (ip_literal || host.find('.') == std::string::npos) return std::string(kLocal);
  for (char& c : host) {
    if (c >= 'A' && c <= 'Z') c = static_cast<char>(c - 'A' + 'a');
  }
  return "Socle <no-reply@" + host + ">";
}

std::string Join(const std::vector<std::string>& items) {
  std::string out;
  for (const auto& item : items) out += (out.empty() ? "" : ",") + item;
  return out;
}

int Main(int argc, char** argv) {
  std::vector<std::string> args(argv + 1, argv + argc);
  // Help and version answer before anything that could fail (a broken config, a dead database).
  for (const auto& arg : args) {
    if (arg == "--") break;
    if (arg == "--help" || arg == "-h") {
      PrintUsage(std::cout);
      return kExitOk;
    }
    if (arg == "--version") {
      std::cout << "socle-server " << kVersion << "\n";
      return kExitOk;
    }
  }

  auto loaded = config::LoadSettings(args, config::SystemEnvironment());
  if (!loaded) {
    PrintSettingsError(loaded.error());
    return kExitUsage;
  }
  if (!loaded->rest.empty()) {
    std::cerr << "socle-server: unknown argument '" << loaded->rest.front() << "'\n"
              << "Run 'socle-server --help' for usage.\n";
    return kExitUsage;
  }
  const config::Settings settings =
      config::ResolveAuto(std::move(loaded->settings), std::thread::hardware_concurrency());
  auto level = http::ParseLogLevel(settings.log_level);
  auto format = http::ParseLogFormat(settings.log_format);
  if (!level || !format) {
    PrintSettingsError(!level ? level.error() : format.error());
    return kExitUsage;
  }

  socle::adapters::system::SystemClock clock;
  socle::adapters::crypto::OpenSslRandomSource random;
  http::Logger logger(*level, *format, clock, http::Logger::StderrSink());
  logger.Info("socle-server starting",
              {{"version", kVersion},
               {"config_file", settings.config_file},
               {"data_dir", settings.data_dir},
               {"public_url", settings.public_url},
               {"database", settings.database_url.empty()
                                ? std::string("sqlite (data_dir)")
                                : socle::adapters::StoreUrl::Redact(settings.database_url)}});

  if (const std::size_t short_by = config::PoolShortfall(settings); short_by > 0) {
    logger.Warn("the database pools are smaller than the threads that may use them at once",
                {{"pool_size", settings.database_pool_size},
                 {"workers", settings.worker_threads},
                 {"loops", settings.http_threads},
                 {"reads", settings.http_reads},
                 {"short_by", short_by},
                 {"hint", "leave database.pool_size at 0 (automatic) or raise it; a loop that "
                          "waits for a connection holds every request of its connections"}});
  }

  auto store = socle::apps::OpenCatalogueStore(settings);
  if (!store) return StartFailed(logger, "cannot open the store", store.error());
  auto migrated = (*store)->Migrate();
  if (!migrated) return StartFailed(logger, "cannot migrate the store", migrated.error());
  logger.Info("store migrated", {{"from_version", migrated->from_version},
                                 {"to_version", migrated->to_version},
                                 {"applied", Join(migrated->applied)}});
  auto project_stores = socle::apps::OpenProjectStores(settings, **store);
  if (!project_stores) {
    return StartFailed(logger, "cannot open the projects' stores", project_stores.error());
  }

  auto auth = socle::apps::OpenAuth(settings, **project_stores, clock, random);
  if (!auth) return StartFailed(logger, "cannot set up authentication", auth.error());
  socle::application::ManageSuperusers superusers(*auth->platform, *auth->hasher, clock, random,
                                                  {}, auth->trail.get());
  auto throttle = socle::domain::LoginThrottle::Create({});
  if (!throttle) return StartFailed(logger, "cannot set up sign-in throttling", throttle.error());
  auto address_throttle =
      socle::domain::LoginThrottle::Create(socle::application::AddressThrottleOptions());
  if (!address_throttle) {
    return StartFailed(logger, "cannot set up sign-in throttling", address_throttle.error());
  }

  socle::application::ProjectDirectory directory(**store, **project_stores, clock);
  // Every change to a project's collections and records commits with its audit event.
  auto audit = socle::apps::OpenAudit(settings, **store, **project_stores, clock, random,
                                      auth->platform.get());
  if (!audit) return StartFailed(logger, "cannot set up the audit trail", audit.error());
  // Retention (audit.retention_months): old events go to archive files under the data
  // directory, then leave the stores (PostgreSQL: whole monthly partitions, detached).
  socle::adapters::files::FileAuditArchives audit_archives(
      socle::adapters::files::FileAuditArchive::DefaultRoot(settings.data_dir));
  socle::application::AuditRetention audit_retention(**store, **project_stores, audit_archives,
                                                     clock);
  socle::application::ManageApiKeys api_keys(directory, *auth->platform, *auth->signer, clock,
                                             random, auth->trail.get());
  // Deleting an organisation or a project hides it for the grace period (restorable), then the
  // hourly purge below removes it with its data and API keys; 0 days purges at once.
  socle::application::PurgeDeleted deletion(**store, &directory, &api_keys,
                                            std::chrono::days(settings.deletion_grace_days),
                                            audit->platform.get());
  // A purged project's trail goes with it: a fresh checkpoint stops expecting its chains.
  deletion.AfterPurge([&] {
    if (auto signed_heads = audit->log->Checkpoint(true); !signed_heads) {
      logger.Error("cannot write an audit checkpoint after a purge",
                   {{"error", signed_heads.error().message},
                    {"detail", signed_heads.error().internal}});
    }
  });
  // Every change to the catalogue and to access commits with its event in the platform's
  // trail (the organisation's chain).
  socle::application::ManageOrganisations organisations(**store, clock, random, &directory,
                                                        &deletion, audit->platform.get());
  socle::application::ManageProjects projects(**store, clock, random, &directory, &deletion,
                                              audit->platform.get());
  socle::application::ManageRegions regions(**store, audit->platform.get());
  socle::application::ManageCollections collections(directory, clock, random, audit->trail.get());
  socle::application::ManageSettings project_settings(directory, **store, clock,
                                                      audit->platform.get());
  // Batches follow each project's settings (enabled, maxRequests, timeout), read per batch.
  socle::application::PasswordSettings passwords;
  passwords.hasher = auth->hasher.get();
  socle::application::ManageRecords records(directory, clock, random, {}, &project_settings,
                                            passwords, audit->trail.get());
  // Every sign-in attempt is recorded (for the audit trail and for looking into attacks).
  socle::application::SignInLog sign_in_log(*auth->platform, clock, random);
  socle::application::AuthenticateOptions authenticate_options;
  authenticate_options.address_throttle = &*address_throttle;
  authenticate_options.sign_in_log = &sign_in_log;
  authenticate_options.audit = audit->trail.get();
  socle::application::Authenticate authenticate(directory, *auth->platform, *auth->signer,
                                                *auth->hasher, clock, random, *throttle,
                                                authenticate_options);
  // Platform members sign in to the platform API with the same throttles.
  socle::application::PlatformSessionsOptions members_options;
  members_options.sign_in_log = &sign_in_log;
  socle::application::PlatformSessions members(*auth->platform, *auth->signer, *auth->hasher,
                                               clock, random, *throttle, &*address_throttle,
                                               members_options, {}, auth->trail.get());

  // Mail: SMTP when configured, else .eml files under the data directory; either way sent from
  // a queue so that no request waits for it.
  std::unique_ptr<socle::application::Mailer> delivery;
  if (!settings.smtp_url.empty()) {
    auto options = socle::adapters::mail::ParseSmtpUrl(settings.smtp_url);
    if (!options) return StartFailed(logger, "invalid SMTP URL", options.error());
    auto smtp = socle::adapters::mail::SmtpMailer::Create(*options, clock, random);
    if (!smtp) return StartFailed(logger, "cannot set up SMTP", smtp.error());
    logger.Info("mail goes over SMTP",
                {{"smtp", socle::adapters::mail::RedactedSmtpUrl(*options)}});
    delivery = std::move(*smtp);
  } else {
    const auto folder = std::filesystem::path(settings.data_dir) / "mail";
    logger.Info("mail is written to files", {{"directory", folder.string()}});
    delivery = std::make_unique<socle::adapters::mail::FileMailer>(folder, clock, random);
  }
  socle::adapters::mail::QueuedMailer mailer(
      *delivery, [&logger](const socle::application::MailMessage& message,
                           const socle::domain::Error& error) {
        logger.Error("cannot send an e-mail", {{"subject", message.subject},
                                               {"error", error.message},
                                               {"detail", error.internal}});
      });
  socle::application::AuthenticateOptions email_options;
  email_options.audit = audit->trail.get();  // confirmations change records: audited
  socle::application::AccountEmails emails(directory, *auth->platform, project_settings,
                                           *auth->signer, *auth->hasher, mailer, clock, random,
                                           email_options);
  http::HttpMetrics metrics(clock.Now());
  http::JsonLimits json_limits;
  json_limits.max_bytes = settings.max_body_bytes;
  // Access control: every CatalogueStore adapter keeps the organisations' access data (who
  // belongs where, with which roles) in the same database, as an AccessStore.
  auto* access_store = dynamic_cast<socle::application::AccessStore*>(store->get());
  if (access_store == nullptr) {
    return StartFailed(logger, "cannot set up access control",
                       socle::domain::Error::Internal("the catalogue store keeps no access data"));
  }
  socle::application::AccessControl access(*access_store, clock);
  socle::application::PlatformCatalogue catalogue(organisations, projects, **store, *access_store,
                                                  access, clock, random, audit->platform.get());
  socle::application::ManageAccessOptions access_options;
  access_options.invitation_url = InvitationUrl(settings);
  access_options.mail_from = PlatformMailFrom(settings);
  if (access_options.invitation_url.empty()) {
    logger.Info("invitations are not mailed: no address to link to (no public URL, and the "
                "listening address is port 0 or a wildcard)",
                {{"address", settings.http_address},
                 {"port", settings.http_port}});
  }
  socle::application::ManageAccess manage_access(**store, *access_store, access, members,
                                                 *auth->signer, clock, random, &mailer,
                                                 access_options, audit->platform.get());
  // Every request is identified by its token (Authorization header) and nothing else: there
  // is deliberately no other way in (no flag, no header, no loopback exception).
  socle::application::ManageOrganisationKeys organisation_keys(
      **store, *access_store, access, api_keys, clock, random, audit->platform.get());
  // Platform callers are members (access tokens), superusers (platform tokens) or an
  // organisation's API keys, nobody else.
  const http::PrincipalIdentifier identify_principal =
      http::PlatformIdentifier(members, authenticate, &api_keys);
  http::PlatformApi platform(catalogue, regions, identify_principal, json_limits);
  http::AccessApi access_api(manage_access, **store, identify_principal, json_limits);
  access_api.ServeOrganisationKeys(organisation_keys);
  http::OperationsApi operations(**store, metrics, clock, std::string(kVersion));
  http::AuditApi audit_api(*audit->log, catalogue, identify_principal);
  // GDPR: a person's data in a project, exported or erased (the chains stay valid).
  socle::application::ManageDataSubjects subjects(directory, records, audit->trail.get(),
                                                  &sign_in_log);
  audit_api.ServeDataSubjects(subjects);
  // On a project's data API: its auth records and superusers, its API keys, the organisation's
  // keys and members with the rights their policies give there.
  socle::application::PlatformCallers platform_callers(directory, members, access);
  http::ProjectDataApi project_data(
      collections, records, project_settings,
      http::TokenIdentifier(authenticate, &api_keys, &platform_callers), json_limits);
  project_data.ServeAuthentication(authenticate, *auth->signer, &emails);
  http::Router router;
  if (auto added = platform.Register(router); !added) {
    return StartFailed(logger, "cannot register routes", added.error());
  }
  http::PlatformAuthApi platform_auth(members, authenticate, manage_access, json_limits);
  if (auto added = platform_auth.Register(router); !added) {
    return StartFailed(logger, "cannot register routes", added.error());
  }
  if (auto added = access_api.Register(router); !added) {
    return StartFailed(logger, "cannot register routes", added.error());
  }
  if (auto added = operations.Register(router); !added) {
    return StartFailed(logger, "cannot register routes", added.error());
  }
  if (auto added = audit_api.Register(router); !added) {
    return StartFailed(logger, "cannot register routes", added.error());
  }
  if (auto added = project_data.Register(router); !added) {
    return StartFailed(logger, "cannot register routes", added.error());
  }
  // A fresh installation has no superuser: a one-time link, valid for an hour, creates the
  // first one (or `socle superuser upsert` does).
  std::string setup_token;
  {
    std::array<std::uint8_t, 32> bytes{};
    random.Fill(bytes);
    static constexpr std::string_view kHex = "0123456789abcdef";
    for (std::uint8_t b : bytes) {
      setup_token += kHex[b >> 4];
      setup_token += kHex[b & 15];
    }
  }
  http::SetupApi setup(superusers, clock, setup_token,
                       socle::domain::Timestamp::FromUnixMicros(clock.Now().unix_micros() +
                                                                3'600'000'000LL));
  if (auto added = setup.Register(router); !added) {
    return StartFailed(logger, "cannot register routes", added.error());
  }

  http::HttpServer server(ServerOptions(settings), router, logger, metrics, random);
  server.ShutdownOnSignals();
  if (auto started = server.Start(); !started) {
    return StartFailed(logger, "cannot listen", started.error());
  }
  // The address actually bound, whatever the public URL says: scripts connect to it.
  std::cout << "socle-server listening on http://"
            << Authority(settings.http_address, server.port())
            << std::endl;  // flushed: scripts wait for this line

  if (auto count = superusers.Count(); count && *count == 0) {
    // On stderr: stdout carries the one ready line scripts wait for.
    const std::string link = SetupUrl(settings, server.port(), setup_token);
    std::cerr << "No superuser exists yet. Create the first one within the hour at\n  " << link
              << "\nor with: socle superuser upsert EMAIL PASSWORD" << std::endl;
  }

  // Every minute: keys rotated by another process (socle keys rotate) reach this one, and the
  // API keys' counted uses are written; every hour, spent member sessions, old invitations
  // and deletions past their grace period go.
  std::mutex reload_mutex;
  std::condition_variable_any reload_wake;
  int ticks = 0;
  std::jthread key_reloader([&](std::stop_token stop) {
    std::unique_lock lock(reload_mutex);
    while (!reload_wake.wait_for(lock, stop, std::chrono::seconds(60), [] { return false; })) {
      if (stop.stop_requested()) return;
      // A signed checkpoint of every audit chain's head, when one moved: truncating a chain
      // behind it is then detected.
      if (settings.audit_checkpoint_minutes > 0 &&
          (ticks + 1) % static_cast<int>(settings.audit_checkpoint_minutes) == 0) {
        if (auto signed_heads = audit->log->Checkpoint(true); !signed_heads) {
          logger.Error("cannot write an audit checkpoint",
                       {{"error", signed_heads.error().message},
                        {"detail", signed_heads.error().internal}});
        }
      }
      if (auto flushed = api_keys.Flush(); !flushed) {
        logger.Error("cannot record API key use",
                     {{"error", flushed.error().message}, {"detail", flushed.error().internal}});
      }
      // Hourly: spent member sessions (Purge reads the whole table), sign-in attempts older
      // than their retention.
      if (++ticks % 60 == 0) {
        if (auto purged = members.Purge(clock.Now()); !purged) {
          logger.Error("cannot purge spent member sessions",
                       {{"error", purged.error().message}, {"detail", purged.error().internal}});
        }
        if (auto purged = sign_in_log.Purge(); !purged) {
          logger.Error("cannot purge old sign-in attempts",
                       {{"error", purged.error().message}, {"detail", purged.error().internal}});
        }
        // Invitations closed or expired a month ago help nobody (no token of them works).
        const auto month_ago = socle::domain::Timestamp::FromUnixMicros(
            clock.Now().unix_micros() - 30LL * 24 * 3'600'000'000LL);
        if (auto purged = access_store->PurgeInvitations(month_ago); !purged) {
          logger.Error("cannot purge old invitations",
                       {{"error", purged.error().message}, {"detail", purged.error().internal}});
        }
        // Daily, an hour after start: audit events older than the retention, archived.
        if (settings.audit_retention_months > 0 && ticks % 1440 == 60) {
          auto archived = audit_retention.ArchiveOlderThan(settings.audit_retention_months);
          if (!archived) {
            logger.Error("cannot archive old audit events",
                         {{"error", archived.error().message},
                          {"detail", archived.error().internal}});
          } else {
            for (const auto& project : archived->projects) {
              if (!project.error) continue;
              logger.Error("cannot archive a project's audit events",
                           {{"project", project.project_id},
                            {"error", project.error->message},
                            {"detail", project.error->internal}});
            }
          }
        }
        // Organisations and projects whose grace period is over go for good.
        if (auto purged = deletion.Purge(clock.Now()); !purged) {
          logger.Error("cannot purge deleted organisations and projects",
                       {{"error", purged.error().message}, {"detail", purged.error().internal}});
        } else {
          if (purged->organisations > 0 || purged->projects > 0) {
            logger.Info("purged deleted organisations and projects",
                        {{"organisations", purged->organisations},
                         {"projects", purged->projects}});
          }
          for (const auto& failure : purged->failures) {
            logger.Error("cannot purge a deleted " + failure.what,
                         {{"error", failure.error.message}, {"detail", failure.error.internal}});
          }
        }
      }
      if (auto reloaded = auth->keys->Load(); !reloaded) {
        logger.Error("cannot reload the token signing keys",
                     {{"error", reloaded.error().message}, {"detail", reloaded.error().internal}});
      }
    }
  });

  server.Wait();
  key_reloader.request_stop();
  key_reloader.join();
  (void)api_keys.Flush();  // the last minute's uses
  logger.Info("socle-server stopped");
  return kExitOk;
}

}  // namespace

int main(int argc, char** argv) {
#ifdef __GLIBC__
  // glibc raises its mmap threshold to the size of the largest block freed so far, so that
  // after the first password hash (Argon2id: 19 MiB) every later one comes from the heap, and
  // the heap keeps those pages for good: a fixed threshold sends large blocks to mmap and back
  // to the system when freed, and the server's resident memory stays at its working set.
  mallopt(M_MMAP_THRESHOLD, 512 * 1024);
#endif
  return Main(argc, argv);
}
