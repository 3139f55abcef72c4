#include "socle/adapters/cli/ops_cli.hpp"

#include <array>
#include <cerrno>
#include <chrono>
#include <cstdint>
#include <filesystem>
#include <fstream>
#include <system_error>

#include "access_commands.hpp"
#include "audit_commands.hpp"
#include "catalogue_json.hpp"
#include "collection_output.hpp"
#include "org_export.hpp"
#include "report_error.hpp"
#include "socle/adapters/json/collection_json.hpp"
#include "socle/adapters/json/json_parser.hpp"
#include "socle/adapters/json/project_settings_json.hpp"
#include "socle/domain/url.hpp"
#include "subject_commands.hpp"
#include "text_table.hpp"

namespace socle::adapters::cli {
namespace {

using domain::ErrorCode;

constexpr std::string_view kVersion = SOCLE_VERSION;

// Who the schema history records for changes made here: the operator at a terminal, as opposed
// to a superuser through the API.
constexpr std::string_view kActor = "cli";

// The largest collections file `collection import` reads. PocketBase exports of large projects
// run to a few hundred kilobytes; the bound keeps a wrong file (a dump, /dev/zero) from being
// read whole into memory.
constexpr std::size_t kMaxImportBytes = std::size_t{32} << 20;
// Collections nest five levels deep (array, collection, fields, field, values); the parser's
// default depth leaves ample room and still refuses a hostile document.
constexpr std::size_t kMaxImportDepth = 64;
// The largest settings file `settings set` reads: a settings document is a few kilobytes even
// with many rate limit rules.
constexpr std::size_t kMaxSettingsBytes = std::size_t{1} << 20;

// A region's store URL as text output shows it: password hidden, the empty URL named.
std::string StoreUrlText(const domain::Region& region) {
  if (region.store_url.empty()) return "(this instance's own store)";
  return domain::RedactUrlPassword(region.store_url);
}

// What errno says, for messages about a local file.
std::string SystemReason(int error) { return std::generic_category().message(error); }

// Reads an input file (`-`: `in`), at most `max_bytes`; `what` names what it should hold
// ("a collections file") for the message about a larger one.
domain::Result<std::string> ReadInputFile(const std::string& file, std::istream* in,
                                          std::size_t max_bytes, std::string_view what) {
  std::ifstream opened;
  std::istream* source = in;
  const std::string shown = file == "-" ? "stdin" : file;
  if (file == "-") {
    if (in == nullptr) return domain::Fail(ErrorCode::kInvalidArgument, "Cannot read stdin here.");
  } else {
    std::error_code ec;
    if (std::filesystem::is_directory(file, ec)) {
      return domain::Fail(ErrorCode::kInvalidArgument,
                          "Cannot read " + file + ": it is a directory.");
    }
    opened.open(file, std::ios::binary);
    if (!opened) {
      return domain::Fail(ErrorCode::kInvalidArgument,
                          "Cannot read " + file + ": " + SystemReason(errno) + ".");
    }
    source = &opened;
  }
  std::string text;
  char buffer[65536];
  while (*source) {
    source->read(buffer, sizeof buffer);
    text.append(buffer, static_cast<std::size_t>(source->gcount()));
    if (text.size() > max_bytes) {
      return domain::Fail(ErrorCode::kInvalidArgument,
                          shown + " is larger than " + std::to_string(max_bytes >> 20) +
                              " MiB; that is not " + std::string(what) + ".");
    }
  }
  if (source->bad()) {
    return domain::Fail(ErrorCode::kInvalidArgument, "Cannot read " + shown + ".");
  }
  return text;
}

// Replaces `file` with `content` through a temporary file and a rename, so that a failure
// leaves what was there before rather than half an export.
domain::Result<void> WriteFileWhole(const std::string& file, std::string_view content) {
  const std::string temporary = file + ".partial";
  std::ofstream out(temporary, std::ios::binary | std::ios::trunc);
  if (!out) {
    return domain::Fail(ErrorCode::kUnavailable,
                        "Cannot write " + temporary + ": " + SystemReason(errno) + ".");
  }
  out.write(content.data(), static_cast<std::streamsize>(content.size()));
  out.close();
  std::error_code ec;
  if (!out) {
    std::filesystem::remove(temporary, ec);
    return domain::Fail(ErrorCode::kUnavailable, "Cannot write " + temporary + ".");
  }
  std::filesystem::rename(temporary, file, ec);
  if (ec) {
    std::string reason = ec.message();
    std::filesystem::remove(temporary, ec);
    return domain::Fail(ErrorCode::kUnavailable, "Cannot replace " + file + ": " + reason + ".");
  }
  return {};
}

// The collections of an import document: PocketBase's export (an array) or its import API's
// body ({"collections": [...], "deleteMissing": ...}).
struct ImportDocument {
  std::vector<domain::Collection> collections;
  bool asks_delete_missing = false;
};

domain::Result<ImportDocument> ReadImportDocument(const std::string& text,
                                                  const std::string& shown) {
  json::JsonLimits limits;
  limits.max_bytes = kMaxImportBytes;
  limits.max_depth = kMaxImportDepth;
  auto parsed = json::ParseJson(text, limits);
  if (!parsed) {
    domain::Error error = std::move(parsed.error());
    error.message = shown + " is not valid JSON: " + error.message;
    return domain::Fail(std::move(error));
  }
  const domain::JsonValue* array = &*parsed;
  ImportDocument document;
  if (parsed->IsObject()) {
    array = parsed->Find("collections");
    const domain::JsonValue* delete_missing = parsed->Find("deleteMissing");
    document.asks_delete_missing = delete_missing != nullptr &&
                                   delete_missing->type() == domain::JsonValue::Type::kBool &&
                                   delete_missing->AsBool();
  }
  if (array == nullptr || array->type() != domain::JsonValue::Type::kArray) {
    return domain::Fail(ErrorCode::kInvalidArgument,
                        shown + " must hold a JSON array of collections, or an object with a "
                                "\"collections\" array.");
  }
  auto collections = json::ReadCollections(*array);
  if (!collections) return domain::Fail(std::move(collections.error()));
  document.collections = std::move(*collections);
  return document;
}

std::string YesNo(bool value) { return value ? "true" : "false"; }

// A settings file's JSON object (`settings set`).
domain::Result<domain::JsonValue> ReadSettingsDocument(const std::string& text,
                                                       const std::string& shown) {
  json::JsonLimits limits;
  limits.max_bytes = kMaxSettingsBytes;
  auto parsed = json::ParseJson(text, limits);
  if (!parsed) {
    domain::Error error = std::move(parsed.error());
    error.message = shown + " is not valid JSON: " + error.message;
    return domain::Fail(std::move(error));
  }
  if (!parsed->IsObject()) {
    return domain::Fail(ErrorCode::kInvalidArgument,
                        shown + " must hold a JSON object of settings groups ({\"meta\": {...}, "
                                "\"batch\": {...}, ...}).");
  }
  return std::move(*parsed);
}

// Who the CLI's audit events name and where they come from: the system component "cli", a
// request id "cli-" and 16 random hex digits (one per invocation; none without a random
// source), the user agent "socle-cli/<version>", no client address (there is no network peer),
// and the --reason given.
application::AuditContext CliAuditContext(const Command& command,
                                          application::RandomSource* random) {
  application::AuditContext context;
  context.actor = {domain::AuditActorKind::kSystem, std::string(kActor)};
  if (random != nullptr) {
    // Eight random bytes: ids that never repeat in practice, short enough to type into a
    // search.
    std::array<std::uint8_t, 8> bytes{};
    random->Fill(bytes);
    constexpr std::string_view kHex = "0123456789abcdef";
    std::string request_id = "cli-";
    for (const std::uint8_t byte : bytes) {
      request_id += kHex[byte >> 4];
      request_id += kHex[byte & 0x0f];
    }
    context.origin.request_id = std::move(request_id);
  }
  context.origin.user_agent = "socle-cli/" + std::string(kVersion);
  context.origin.reason = command.reason.value_or("");
  return context;
}
application::AuditContext CliAuditContext(const Command& command,
                                          application::RandomSource& random) {
  return CliAuditContext(command, &random);
}

// The same for a catalogue command: the random source is the data services' (absent when the
// projects' stores could not be opened).
application::AuditContext ContextFor(const Command& command, const CatalogueServices& services) {
  return CliAuditContext(command, services.data != nullptr ? &services.data->random : nullptr);
}

}  // namespace

OpsCli::OpsCli(std::ostream& out, std::ostream& err, std::string settings_help, std::istream* in)
    : out_(out), err_(err), settings_help_(std::move(settings_help)), in_(in) {}

std::optional<Command> OpsCli::Parse(std::span<const std::string> args) {
  auto command = ParseCommand(args);
  if (command) return std::move(*command);
  const UsageError& usage = command.error();
  err_ << "socle: " << usage.message << "\n"
       << UsageLine(usage.topic) << "\n"
       << "Run `socle help" << (usage.topic.empty() ? "" : " " + usage.topic) << "` for more.\n";
  return std::nullopt;
}

int OpsCli::ReportSettingsError(const domain::Error& error) {
  err_ << "socle: invalid settings:\n";
  // The loader words one problem per line of its message; indent them under the heading.
  std::string_view message = error.message;
  while (!message.empty()) {
    auto newline = message.find('\n');
    err_ << "  " << message.substr(0, newline) << "\n";
    if (newline == std::string_view::npos) break;
    message.remove_prefix(newline + 1);
  }
  return kExitUsage;
}

int OpsCli::ReportStoreError(const domain::Error& error) { return Fail(error); }

int OpsCli::Fail(const domain::Error& error) { return ReportError(err_, error); }

int OpsCli::Run(std::span<const std::string> args, CatalogueServices& services) {
  auto command = Parse(args);
  if (!command) return kExitUsage;
  return Execute(*command, &services);
}

int OpsCli::Execute(const Command& command, CatalogueServices* services) {
  if (command.verb == Verb::kHelp) {
    out_ << HelpText(command.help_topic);
    if (command.help_topic.empty() && !settings_help_.empty()) {
      out_ << "\nSettings (flag, environment variable, socle.toml key; flags win):\n"
           << settings_help_;
    }
    return kExitOk;
  }
  if (command.verb == Verb::kVersion) {
    out_ << "socle " << kVersion << "\n";
    return kExitOk;
  }
  if (services == nullptr) {
    return Fail(domain::Error::Internal("a store command was run without a store"));
  }
  if (command.verb == Verb::kMigrate) return Migrate(command, *services);

  // Every command works on a fresh data directory: the schema is brought up to date first,
  // which is idempotent and safe against a server migrating at the same time.
  auto migrated = services->store.Migrate();
  if (!migrated) return Fail(migrated.error());

  switch (command.verb) {
    case Verb::kOrgCreate:
      return OrgCreate(command, *services);
    case Verb::kOrgList:
      return OrgList(command, *services);
    case Verb::kOrgGet:
      return OrgGet(command, *services);
    case Verb::kOrgRename:
      return OrgRename(command, *services);
    case Verb::kOrgDelete:
      return OrgDelete(command, *services);
    case Verb::kProjectCreate:
      return ProjectCreate(command, *services);
    case Verb::kProjectList:
      return ProjectList(command, *services);
    case Verb::kProjectGet:
      return ProjectGet(command, *services);
    case Verb::kProjectRename:
      return ProjectRename(command, *services);
    case Verb::kProjectDelete:
      return ProjectDelete(command, *services);
    case Verb::kRegionList:
      return RegionList(command, *services);
    case Verb::kRegionSet:
      return RegionSet(command, *services);
    case Verb::kCollectionList:
    case Verb::kCollectionGet:
    case Verb::kCollectionImport:
    case Verb::kCollectionExport:
    case Verb::kCollectionDelete:
    case Verb::kCollectionHistory:
      return CollectionCommand(command, *services);
    case Verb::kSettingsGet:
    case Verb::kSettingsSet:
      return SettingsCommand(command, *services);
    case Verb::kSuperuserUpsert:
    case Verb::kKeysList:
    case Verb::kKeysRotate:
    case Verb::kApiKeyCreate:
    case Verb::kApiKeyList:
    case Verb::kApiKeyRevoke:
    case Verb::kMemberUpsert:
    case Verb::kMaintenanceRun:
      return AuthCommand(command, *services);
    case Verb::kOrgExport:
      return OrgExport(command, *services);
    case Verb::kAuditVerify:
    case Verb::kAuditCheckpoint:
    case Verb::kAuditList:
      return AuditCommand(command, *services);
    case Verb::kAuditArchive:
      if (services->audit == nullptr || services->audit_retention == nullptr) {
        return Fail(domain::Error::Make(domain::ErrorCode::kUnavailable,
                                        "Audit retention is not available to this command."));
      }
      return AuditCommands(out_, err_, *services, *services->audit)
          .Archive(*services->audit_retention, command.archive_before, command.older_than_months,
                   command.json);
    case Verb::kSubjectExport:
    case Verb::kSubjectErase:
      if (services->subjects == nullptr || services->data == nullptr) {
        return Fail(domain::Error::Make(ErrorCode::kUnavailable,
                                        "Data subjects are not available to this command."));
      }
      return SubjectCommands(out_, err_, *services->subjects, &WriteFileWhole)
          .Run(command, CliAuditContext(command, services->data->random));
    case Verb::kOrgOwner:
    case Verb::kOrgTransfer:
    case Verb::kOrgExplain:
    case Verb::kMemberList:
    case Verb::kMemberRemove:
    case Verb::kMemberInvite:
    case Verb::kMemberInvitations:
    case Verb::kMemberRevokeInvitation:
    case Verb::kTeamList:
    case Verb::kTeamCreate:
    case Verb::kTeamShow:
    case Verb::kTeamRename:
    case Verb::kTeamDelete:
    case Verb::kTeamAdd:
    case Verb::kTeamRemove:
    case Verb::kRoleList:
    case Verb::kRolePut:
    case Verb::kRoleDelete:
    case Verb::kPolicyList:
    case Verb::kPolicyGrant:
    case Verb::kPolicyRevoke:
    case Verb::kFlagList:
    case Verb::kFlagSet:
    case Verb::kFlagDelete:
    case Verb::kFlagEval:
    case Verb::kOrgKeyCreate:
    case Verb::kOrgKeyList:
    case Verb::kOrgKeyRevoke:
      if (services->access == nullptr) {
        return Fail(domain::Error::Internal(
            "access control (members, teams, roles, policies) is not available to this command"));
      }
      return AccessCommands(out_, err_, services->store, *services->access,
                            ContextFor(command, *services).origin)
          .Run(command);
    case Verb::kHelp:
    case Verb::kVersion:
    case Verb::kMigrate:
      break;
  }
  return Fail(domain::Error::Internal("unhandled command"));
}

int OpsCli::Migrate(const Command& command, CatalogueServices& services) {
  auto report = services.store.Migrate();
  if (!report) return Fail(report.error());
  if (command.json) {
    out_ << MigrationJson(*report) << "\n";
  } else if (report->applied.empty()) {
    out_ << "The schema is up to date (version " << report->to_version << ").\n";
  } else {
    out_ << "Migrated the schema from version " << report->from_version << " to "
         << report->to_version << ":\n";
    for (const auto& name : report->applied) out_ << "  " << name << "\n";
  }
  return kExitOk;
}

int OpsCli::ShowOrganisation(const Command& command, const domain::Organisation& org) {
  if (command.json) {
    out_ << OrganisationJson(org) << "\n";
    return kExitOk;
  }
  PrintFields(out_, {{"id", org.id.str()},
                     {"slug", org.slug.str()},
                     {"name", org.name.str()},
                     {"region", org.region.str()},
                     {"tier", std::string(domain::ToString(org.tier))},
                     {"created", org.created.ToApiString()},
                     {"updated", org.updated.ToApiString()}});
  return kExitOk;
}

int OpsCli::ShowProject(const Command& command, const domain::Project& project) {
  if (command.json) {
    out_ << ProjectJson(project) << "\n";
    return kExitOk;
  }
  PrintFields(out_, {{"id", project.id.str()},
                     {"slug", project.slug.str()},
                     {"name", project.name.str()},
                     {"org", project.org_slug.str()},
                     {"created", project.created.ToApiString()},
                     {"updated", project.updated.ToApiString()}});
  return kExitOk;
}

int OpsCli::OrgCreate(const Command& command, CatalogueServices& services) {
  application::CreateOrganisationInput input;
  input.slug = command.slug;
  input.name = command.name;
  input.region = command.region;
  input.tier = command.tier;
  auto org = services.organisations.Create(input, ContextFor(command, services));
  if (!org) return Fail(org.error());
  return ShowOrganisation(command, *org);
}

int OpsCli::OrgList(const Command& command, CatalogueServices& services) {
  auto page = services.organisations.List(domain::PageRequest{command.page, command.per_page});
  if (!page) return Fail(page.error());
  if (command.json) {
    out_ << OrganisationPageJson(*page) << "\n";
    return kExitOk;
  }
  if (page->total_items == 0) {
    out_ << "No organisations.\n";
    return kExitOk;
  }
  TextTable table({"SLUG", "NAME", "REGION", "TIER", "ID", "CREATED"});
  for (const auto& org : page->items) {
    table.AddRow({org.slug.str(), org.name.str(), org.region.str(),
                  std::string(domain::ToString(org.tier)), org.id.str(),
                  org.created.ToApiString()});
  }
  if (!page->items.empty()) table.Print(out_);
  NoteMorePages(err_, *page, "organisation");
  return kExitOk;
}

int OpsCli::OrgGet(const Command& command, CatalogueServices& services) {
  auto org = services.organisations.Get(command.slug);
  if (!org) return Fail(org.error());
  return ShowOrganisation(command, *org);
}

int OpsCli::OrgRename(const Command& command, CatalogueServices& services) {
  auto org = services.organisations.Rename(command.slug, command.name.value_or(""),
                                           ContextFor(command, services));
  if (!org) return Fail(org.error());
  return ShowOrganisation(command, *org);
}

int OpsCli::OrgDelete(const Command& command, CatalogueServices& services) {
  auto deleted = services.organisations.Delete(
      command.slug, command.force ? application::ForceDelete::kYes : application::ForceDelete::kNo,
      ContextFor(command, services));
  if (!deleted) {
    if (deleted.error().code != ErrorCode::kFailedPrecondition) return Fail(deleted.error());
    // The use case refuses because of projects; say how many would go, and how to insist.
    auto projects = services.projects.List(command.slug, domain::PageRequest{1, 1});
    std::string what = projects ? Plural(projects->total_items, "project") : "projects";
    err_ << "socle: organisation " << command.slug << " has " << what
         << "; pass --force to delete it together with its projects and their data.\n";
    return kExitError;
  }
  if (command.json) {
    out_ << DeletedJson(command.slug, *deleted) << "\n";
  } else if (*deleted == 0) {
    out_ << "Deleted organisation " << command.slug << ".\n";
  } else {
    out_ << "Deleted organisation " << command.slug << " and its " << Plural(*deleted, "project")
         << ".\n";
  }
  return kExitOk;
}

int OpsCli::OrgExport(const Command& command, CatalogueServices& services) {
  if (services.data == nullptr || services.access == nullptr) {
    return Fail(domain::Error::Internal(
        "the projects' stores and access control are not available to this command"));
  }
  const std::string file = command.out_file.value_or("-");
  const domain::Timestamp now =
      services.auth != nullptr && services.auth->clock != nullptr
          ? services.auth->clock->Now()
          : domain::Timestamp::FromUnixMicros(
                std::chrono::duration_cast<std::chrono::microseconds>(
                    std::chrono::system_clock::now().time_since_epoch())
                    .count());
  if (file == "-") {
    auto summary = ExportOrganisation(services, command.arguments[0], out_, now, kVersion,
                                      CliAuditContext(command, services.data->random));
    if (!summary) return Fail(summary.error());
    return kExitOk;
  }
  // The archive goes to a temporary file beside FILE, renamed over it once complete, so that a
  // failure leaves whatever FILE was. It is opened before anything is read, so that a FILE that
  // cannot be written is said at once.
  std::error_code ec;
  if (std::filesystem::is_directory(file, ec)) {
    return Fail(domain::Error::Make(ErrorCode::kInvalidArgument,
                                    "Cannot write " + file + ": it is a directory."));
  }
  const std::string temporary = file + ".partial";
  std::ofstream archive(temporary, std::ios::binary | std::ios::trunc);
  if (!archive) {
    return Fail(domain::Error::Make(ErrorCode::kInvalidArgument,
                                    "Cannot write " + file + ": " + SystemReason(errno) + "."));
  }
  auto summary = ExportOrganisation(services, command.arguments[0], archive, now, kVersion,
                                    CliAuditContext(command, services.data->random));
  archive.close();
  if (!summary || !archive) {
    std::filesystem::remove(temporary, ec);
    if (!summary) return Fail(summary.error());
    return Fail(domain::Error::Make(ErrorCode::kUnavailable, "Cannot write " + temporary + "."));
  }
  std::filesystem::rename(temporary, file, ec);
  if (ec) {
    std::string reason = ec.message();
    std::filesystem::remove(temporary, ec);
    return Fail(domain::Error::Make(ErrorCode::kUnavailable,
                                    "Cannot replace " + file + ": " + reason + "."));
  }
  // A message, not a result: stdout stays empty, as with `collection export`.
  err_ << "Exported organisation " << command.arguments[0] << " to " << file << ": "
       << Plural(summary->projects, "project") << ", "
       << Plural(summary->collections, "collection") << ", "
       << Plural(summary->records, "record") << " (" << summary->files
       << " archive entries).\n";
  return kExitOk;
}

int OpsCli::ProjectCreate(const Command& command, CatalogueServices& services) {
  application::CreateProjectInput input;
  input.slug = command.slug;
  input.org = command.org.value_or("");
  input.name = command.name;
  auto project = services.projects.Create(input, ContextFor(command, services));
  if (!project) return Fail(project.error());
  return ShowProject(command, *project);
}

int OpsCli::ProjectList(const Command& command, CatalogueServices& services) {
  auto page =
      services.projects.List(command.org, domain::PageRequest{command.page, command.per_page});
  if (!page) return Fail(page.error());
  if (command.json) {
    out_ << ProjectPageJson(*page) << "\n";
    return kExitOk;
  }
  if (page->total_items == 0) {
    out_ << "No projects.\n";
    return kExitOk;
  }
  TextTable table({"SLUG", "NAME", "ORG", "ID", "CREATED"});
  for (const auto& project : page->items) {
    table.AddRow({project.slug.str(), project.name.str(), project.org_slug.str(), project.id.str(),
                  project.created.ToApiString()});
  }
  if (!page->items.empty()) table.Print(out_);
  NoteMorePages(err_, *page, "project");
  return kExitOk;
}

int OpsCli::ProjectGet(const Command& command, CatalogueServices& services) {
  auto project = services.projects.Get(command.slug);
  if (!project) return Fail(project.error());
  return ShowProject(command, *project);
}

int OpsCli::ProjectRename(const Command& command, CatalogueServices& services) {
  auto project = services.projects.Rename(command.slug, command.name.value_or(""),
                                          ContextFor(command, services));
  if (!project) return Fail(project.error());
  return ShowProject(command, *project);
}

int OpsCli::ProjectDelete(const Command& command, CatalogueServices& services) {
  auto deleted = services.projects.Delete(command.slug, ContextFor(command, services));
  if (!deleted) return Fail(deleted.error());
  if (command.json) {
    out_ << DeletedJson(command.slug, std::nullopt) << "\n";
  } else {
    out_ << "Deleted project " << command.slug << ".\n";
  }
  return kExitOk;
}

int OpsCli::RegionList(const Command& command, CatalogueServices& services) {
  auto regions = services.regions.List();
  if (!regions) return Fail(regions.error());
  if (command.json) {
    out_ << RegionListJson(*regions) << "\n";
    return kExitOk;
  }
  if (regions->empty()) {
    out_ << "No regions.\n";
    return kExitOk;
  }
  TextTable table({"NAME", "STORE URL"});
  for (const auto& region : *regions) table.AddRow({region.name.str(), StoreUrlText(region)});
  table.Print(out_);
  return kExitOk;
}

int OpsCli::RegionSet(const Command& command, CatalogueServices& services) {
  auto region = services.regions.Set(command.slug, command.store_url.value_or(""),
                                     ContextFor(command, services));
  if (!region) return Fail(region.error());
  if (command.json) {
    out_ << RegionJson(*region) << "\n";
    return kExitOk;
  }
  PrintFields(out_, {{"name", region->name.str()}, {"storeUrl", StoreUrlText(*region)}});
  return kExitOk;
}

int OpsCli::CollectionCommand(const Command& command, CatalogueServices& services) {
  if (services.data == nullptr) {
    return Fail(domain::Error::Internal("the projects' stores are not available to this command"));
  }
  ProjectDataServices& data = *services.data;
  switch (command.verb) {
    case Verb::kCollectionList:
      return CollectionList(command, data);
    case Verb::kCollectionGet:
      return CollectionGet(command, data);
    case Verb::kCollectionImport:
      return CollectionImport(command, data, CliAuditContext(command, data.random));
    case Verb::kCollectionExport:
      return CollectionExport(command, data);
    case Verb::kCollectionDelete:
      return CollectionDelete(command, data, CliAuditContext(command, data.random));
    case Verb::kCollectionHistory:
      return CollectionHistory(command, data);
    default:
      break;
  }
  return Fail(domain::Error::Internal("unhandled collection command"));
}

int OpsCli::CollectionList(const Command& command, ProjectDataServices& data) {
  const std::string project = command.project.value_or("");
  auto collections = data.collections.List(project);
  if (!collections) return Fail(collections.error());
  if (command.json) {
    out_ << CollectionListJson(*collections) << "\n";
    return kExitOk;
  }
  if (collections->empty()) {
    out_ << "No collections.\n";
    return kExitOk;
  }
  TextTable table({"NAME", "TYPE", "FIELDS", "ID", "UPDATED"});
  for (const auto& collection : *collections) {
    table.AddRow({collection.name, std::string(domain::ToString(collection.type)),
                  std::to_string(collection.fields.size()), collection.id,
                  collection.updated.ToApiString()});
  }
  table.Print(out_);
  return kExitOk;
}

int OpsCli::CollectionGet(const Command& command, ProjectDataServices& data) {
  const std::string project = command.project.value_or("");
  auto collection = data.collections.Get(project, command.slug);
  if (!collection) return Fail(collection.error());
  if (command.json) {
    out_ << CollectionJson(*collection) << "\n";
    return kExitOk;
  }
  // The others name the targets of relation fields; without them the ids still say it.
  auto all = data.collections.List(project);
  PrintCollection(out_, *collection, all ? *all : std::vector<domain::Collection>{});
  return kExitOk;
}

int OpsCli::CollectionImport(const Command& command, ProjectDataServices& data,
                             const application::AuditContext& context) {
  const std::string project = command.project.value_or("");
  const std::string shown = command.slug == "-" ? "stdin" : command.slug;
  auto text = ReadInputFile(command.slug, in_, kMaxImportBytes, "a collections file");
  if (!text) return Fail(text.error());
  auto document = ReadImportDocument(*text, shown);
  if (!document) return Fail(document.error());
  if (document->asks_delete_missing && !command.delete_missing) {
    err_ << "socle: note: " << shown
         << " sets deleteMissing; only --delete-missing deletes collections, so none will be.\n";
  }
  auto report = data.collections.Import(project, std::move(document->collections),
                                        command.delete_missing, std::string(kActor), context);
  if (!report) return Fail(report.error());
  if (command.json) {
    out_ << ImportReportJson(*report) << "\n";
    return kExitOk;
  }
  if (report->created.empty() && report->updated.empty() && report->deleted.empty()) {
    out_ << "Nothing to change: the collections of project " << project << " already match "
         << shown << ".\n";
    return kExitOk;
  }
  out_ << "Imported " << shown << " into project " << project << ": " << report->created.size()
       << " created, " << report->updated.size() << " updated, " << report->deleted.size()
       << " deleted.\n";
  TextTable table({"CHANGE", "COLLECTION"});
  for (const auto& name : report->created) table.AddRow({"created", name});
  for (const auto& name : report->updated) table.AddRow({"updated", name});
  for (const auto& name : report->deleted) table.AddRow({"deleted", name});
  table.Print(out_);
  return kExitOk;
}

int OpsCli::CollectionExport(const Command& command, ProjectDataServices& data) {
  const std::string project = command.project.value_or("");
  auto collections = data.collections.List(project);
  if (!collections) return Fail(collections.error());
  std::string document = CollectionExportJson(*collections);
  if (!command.out_file || *command.out_file == "-") {
    out_ << document;
    return kExitOk;
  }
  if (auto written = WriteFileWhole(*command.out_file, document); !written) {
    return Fail(written.error());
  }
  // A message, not a result: stdout stays empty so that scripts can tell the two apart.
  err_ << "Exported " << Plural(static_cast<std::int64_t>(collections->size()), "collection")
       << " of project " << project << " to " << *command.out_file << ".\n";
  return kExitOk;
}

int OpsCli::CollectionDelete(const Command& command, ProjectDataServices& data,
                             const application::AuditContext& context) {
  const std::string project = command.project.value_or("");
  auto collection = data.collections.Get(project, command.slug);
  if (!collection) return Fail(collection.error());
  if (!command.yes) {
    // Never a prompt: scripts must not hang, and a person reads how much would go.
    application::ListRecordsInput count;
    count.per_page = 1;
    application::Caller operator_caller;
    operator_caller.superuser = true;
    // Counting reads the collection: where reads are audited, the CLI is who read it.
    operator_caller.acting_as = context.actor;
    operator_caller.origin = context.origin;
    auto records = data.records.List(project, collection->id, count, operator_caller);
    err_ << "socle: collection " << collection->name << " of project " << project;
    if (records && records->total_items >= 0) {
      err_ << " holds " << Plural(records->total_items, "record") << "; pass --yes to delete it"
           << (records->total_items > 0 ? " with them" : "") << ".\n";
    } else {
      err_ << " would be deleted with its records; pass --yes to do so.\n";
    }
    return kExitError;
  }
  auto deleted = data.collections.Delete(project, collection->id, std::string(kActor), context);
  if (!deleted) return Fail(deleted.error());
  if (command.json) {
    out_ << CollectionDeletedJson(*collection) << "\n";
  } else {
    out_ << "Deleted collection " << collection->name << " of project " << project << ".\n";
  }
  return kExitOk;
}

int OpsCli::CollectionHistory(const Command& command, ProjectDataServices& data) {
  const std::string project = command.project.value_or("");
  auto history = data.collections.History(project);
  if (!history) return Fail(history.error());
  if (command.json) {
    out_ << HistoryJson(*history) << "\n";
    return kExitOk;
  }
  if (history->empty()) {
    out_ << "No changes.\n";
    return kExitOk;
  }
  TextTable table({"VERSION", "AT", "ACTOR", "CHANGE", "COLLECTION"});
  for (const auto& entry : *history) {
    table.AddRow({std::to_string(entry.version), entry.at.ToApiString(), entry.actor,
                  HistoryAction(entry), HistoryCollection(entry)});
  }
  table.Print(out_);
  return kExitOk;
}

int OpsCli::AuditCommand(const Command& command, CatalogueServices& services) {
  if (services.audit == nullptr) {
    return Fail(domain::Error::Make(ErrorCode::kUnavailable,
                                    "The audit trail is not available to this command."));
  }
  return AuditCommands(out_, err_, services, *services.audit).Run(command);
}

int OpsCli::AuthCommand(const Command& command, CatalogueServices& services) {
  if (services.auth == nullptr) {
    return Fail(domain::Error::Internal("authentication is not available to this command"));
  }
  AuthServices& auth = *services.auth;
  if (command.verb == Verb::kApiKeyCreate || command.verb == Verb::kApiKeyList ||
      command.verb == Verb::kApiKeyRevoke) {
    if (auth.api_keys == nullptr) {
      return Fail(domain::Error::Internal("API keys are not available to this command"));
    }
    return ApiKeyCommand(command, *auth.api_keys, ContextFor(command, services));
  }
  // A PASSWORD argument of "-" is read from the first line of stdin, out of the shell's history.
  auto read_password = [&](std::string password) -> domain::Result<std::string> {
    if (password != "-") return password;
    if (in_ == nullptr || !std::getline(*in_, password)) {
      return domain::Fail(ErrorCode::kInvalidArgument, "No password on the first line of stdin.");
    }
    if (!password.empty() && password.back() == '\r') password.pop_back();
    return password;
  };
  if (command.verb == Verb::kMemberUpsert || command.verb == Verb::kMaintenanceRun) {
    if (auth.members == nullptr || auth.clock == nullptr) {
      return Fail(domain::Error::Internal("platform members are not available to this command"));
    }
    if (command.verb == Verb::kMaintenanceRun) {
      auto purged = auth.members->Purge(auth.clock->Now());
      if (!purged) return Fail(purged.error());
      std::int64_t attempts = 0;
      if (auth.sign_in_log != nullptr) {
        auto gone = auth.sign_in_log->Purge();
        if (!gone) return Fail(gone.error());
        attempts = *gone;
      }
      if (command.json) {
        out_ << "{\"purgedSessions\":" << *purged << ",\"purgedSignInAttempts\":" << attempts
             << "}\n";
      } else {
        out_ << "Purged " << *purged << " spent member sessions and " << attempts
             << " sign-in attempts past their retention.\n";
      }
      return kExitOk;
    }
    auto password = read_password(command.password.value_or(""));
    if (!password) return Fail(password.error());
    auto done = auth.members->UpsertMember(command.slug, *password, command.name.value_or(""),
                                           ContextFor(command, services));
    if (!done) return Fail(done.error());
    if (command.json) {
      out_ << "{\"id\":\"" << done->id << "\",\"created\":" << (done->created ? "true" : "false")
           << "}\n";
    } else {
      out_ << (done->created ? "Created member " : "Changed the password of member ")
           << command.slug << " (" << done->id << ").\n";
    }
    return kExitOk;
  }
  if (command.verb == Verb::kSuperuserUpsert) {
    auto read = read_password(command.name.value_or(""));
    if (!read) return Fail(read.error());
    std::string password = std::move(*read);
    auto done = auth.superusers.Upsert(command.slug, password, ContextFor(command, services));
    if (!done) return Fail(done.error());
    if (command.json) {
      out_ << "{\"id\":\"" << done->id << "\",\"created\":" << (done->created ? "true" : "false")
           << "}\n";
    } else {
      out_ << (done->created ? "Created superuser " : "Changed the password of superuser ")
           << command.slug << " (" << done->id << ").\n";
    }
    return kExitOk;
  }
  if (command.verb == Verb::kKeysRotate) {
    auto kid = auth.keys.Rotate(ContextFor(command, services));
    if (!kid) return Fail(kid.error());
    out_ << (command.json ? "{\"kid\":\"" + *kid + "\"}" : "New signing key " + *kid + ".")
         << "\n";
    return kExitOk;
  }
  auto keys = auth.keys.List();
  if (!keys) return Fail(keys.error());
  if (command.json) {
    out_ << "[";
    for (std::size_t i = 0; i < keys->size(); ++i) {
      const auto& key = (*keys)[i];
      out_ << (i ? "," : "") << "{\"kid\":\"" << key.kid << "\",\"created\":\""
           << key.created.ToApiString() << "\",\"current\":" << (key.current ? "true" : "false")
           << ",\"retiresAt\":\"" << (key.current ? "" : key.retires_at.ToApiString()) << "\"}";
    }
    out_ << "]\n";
    return kExitOk;
  }
  TextTable table({"KID", "CREATED", "STATUS"});
  for (const auto& key : *keys) {
    table.AddRow({key.kid, key.created.ToApiString(),
                  key.current ? std::string("signing")
                              : "verifies until " + key.retires_at.ToApiString()});
  }
  table.Print(out_);
  return kExitOk;
}

int OpsCli::ApiKeyCommand(const Command& command, application::ManageApiKeys& keys,
                          const application::AuditContext& context) {
  const std::string project = command.project.value_or("");
  if (command.verb == Verb::kApiKeyRevoke) {
    auto revoked = keys.Revoke(project, command.slug, context);
    if (!revoked) return Fail(revoked.error());
    if (!command.json) out_ << "Revoked API key " << command.slug << ".\n";
    return kExitOk;
  }
  if (command.verb == Verb::kApiKeyCreate) {
    std::optional<domain::Timestamp> expires;
    if (command.expires) {
      auto parsed = ParseExpiry(*command.expires);
      if (!parsed) return Fail(parsed.error());
      expires = *parsed;
    }
    auto made = keys.Create(project, command.slug, command.scopes, expires, context);
    if (!made) return Fail(made.error());
    if (command.json) {
      out_ << "{\"id\":\"" << made->info.id << "\",\"key\":\"" << made->secret << "\"}\n";
    } else {
      out_ << made->secret << "\n";
      err_ << "API key " << made->info.id << " (" << made->info.name
           << ") created. The key above is shown only now: store it where the client keeps "
              "secrets.\n";
    }
    return kExitOk;
  }
  auto listed = keys.List(project);
  if (!listed) return Fail(listed.error());
  auto when = [](const std::optional<domain::Timestamp>& t) {
    return t ? t->ToApiString() : std::string("-");
  };
  if (command.json) {
    out_ << "[";
    for (std::size_t i = 0; i < listed->size(); ++i) {
      const auto& key = (*listed)[i];
      out_ << (i ? "," : "") << "{\"id\":\"" << key.id << "\",\"prefix\":\"" << key.prefix
           << "\",\"uses\":" << key.uses << ",\"revoked\":" << (key.revoked ? "true" : "false")
           << "}";
    }
    out_ << "]\n";
    return kExitOk;
  }
  if (listed->empty()) {
    out_ << "No API keys.\n";
    return kExitOk;
  }
  TextTable table({"ID", "NAME", "PREFIX", "SCOPES", "EXPIRES", "LAST USED", "USES", "STATUS"});
  for (const auto& key : *listed) {
    std::string scopes;
    for (const auto& scope : application::ManageApiKeys::ScopeText(key.scopes)) {
      scopes += (scopes.empty() ? "" : " ") + scope;
    }
    table.AddRow({key.id, key.name, key.prefix + "…", scopes, when(key.expires),
                  when(key.last_used), std::to_string(key.uses),
                  key.revoked ? "revoked " + key.revoked->ToApiString() : std::string("active")});
  }
  table.Print(out_);
  return kExitOk;
}

int OpsCli::SettingsCommand(const Command& command, CatalogueServices& services) {
  if (services.data == nullptr || services.data->settings == nullptr) {
    return Fail(
        domain::Error::Internal("the projects' settings are not available to this command"));
  }
  if (command.verb == Verb::kSettingsGet) return SettingsGet(command, *services.data->settings);
  return SettingsSet(command, *services.data->settings,
                     CliAuditContext(command, services.data->random));
}

int OpsCli::ShowSettings(const Command& command, const domain::ProjectSettings& settings) {
  if (command.json) {
    out_ << json::ProjectSettingsText(settings) << "\n";
    return kExitOk;
  }
  const auto& meta = settings.meta;
  const auto& batch = settings.batch;
  const auto& limits = settings.rate_limits;
  const auto& proxy = settings.trusted_proxy;
  std::string headers;
  for (const auto& header : proxy.headers) headers += (headers.empty() ? "" : ", ") + header;
  // PocketBase's keys, so that what is read here can be written back with settings set.
  PrintFields(out_, {{"meta.appName", meta.app_name},
                     {"meta.appURL", meta.app_url},
                     {"meta.senderName", meta.sender_name},
                     {"meta.senderAddress", meta.sender_address},
                     {"meta.hideControls", YesNo(meta.hide_controls)},
                     {"batch.enabled", YesNo(batch.enabled)},
                     {"batch.maxRequests", std::to_string(batch.max_requests)},
                     {"batch.timeout", std::to_string(batch.timeout) + " s"},
                     {"batch.maxBodySize", batch.max_body_size == 0
                                               ? std::string("0 (the server's body limit)")
                                               : std::to_string(batch.max_body_size) + " bytes"},
                     {"rateLimits.enabled",
                      YesNo(limits.enabled)},
                     {"trustedProxy.headers", headers.empty() ? "(none)" : headers},
                     {"trustedProxy.useLeftmostIP", YesNo(proxy.use_leftmost_ip)}});
  if (limits.rules.empty()) {
    out_ << "\nNo rate limit rules.\n";
    return kExitOk;
  }
  out_ << "\nRate limit rules:\n";
  TextTable table({"LABEL", "AUDIENCE", "MAX REQUESTS", "PER"});
  for (const auto& rule : limits.rules) {
    table.AddRow({rule.label, rule.audience.empty() ? "(all)" : rule.audience,
                  std::to_string(rule.max_requests), std::to_string(rule.duration) + " s"});
  }
  table.Print(out_);
  return kExitOk;
}

int OpsCli::SettingsGet(const Command& command, application::ManageSettings& settings) {
  auto current = settings.Get(command.project.value_or(""));
  if (!current) return Fail(current.error());
  return ShowSettings(command, *current);
}

int OpsCli::SettingsSet(const Command& command, application::ManageSettings& settings,
                        const application::AuditContext& context) {
  const std::string project = command.project.value_or("");
  const std::string shown = command.slug == "-" ? "stdin" : command.slug;
  auto text = ReadInputFile(command.slug, in_, kMaxSettingsBytes, "a settings file");
  if (!text) return Fail(text.error());
  auto patch = ReadSettingsDocument(*text, shown);
  if (!patch) return Fail(patch.error());
  // PATCH /api/settings' semantics: the file's members over the current settings.
  auto current = settings.Get(project);
  if (!current) return Fail(current.error());
  auto patched = json::PatchProjectSettings(*current, *patch);
  if (!patched) return Fail(patched.error());
  auto updated = settings.Update(project, std::move(*patched), context);
  if (!updated) {
    domain::Error error = std::move(updated.error());
    if (error.code == ErrorCode::kInvalidArgument) {
      error.message = "The settings of project " + project + " were not changed: " +
                      "the result would be invalid.";
    }
    return Fail(error);
  }
  if (!command.json) err_ << "Updated the settings of project " << project << ".\n";
  return ShowSettings(command, *updated);
}

}  // namespace socle::adapters::cli
