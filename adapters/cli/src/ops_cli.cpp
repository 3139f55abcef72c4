#include "socle/adapters/cli/ops_cli.hpp"

#include "catalogue_json.hpp"
#include "socle/domain/url.hpp"
#include "text_table.hpp"

namespace socle::adapters::cli {
namespace {

using domain::ErrorCode;

constexpr std::string_view kVersion = SOCLE_VERSION;

std::string Plural(std::int64_t count, std::string_view noun) {
  return std::to_string(count) + " " + std::string(noun) + (count == 1 ? "" : "s");
}

// A region's store URL as text output shows it: password hidden, the empty URL named.
std::string StoreUrlText(const domain::Region& region) {
  if (region.store_url.empty()) return "(this instance's own store)";
  return domain::RedactUrlPassword(region.store_url);
}

// A note on stderr when a list is cut to one page, so that a human does not take the page for
// everything; scripts read totalItems from --json instead.
template <typename T>
void NoteMorePages(std::ostream& err, const domain::PageOf<T>& page, std::string_view noun) {
  if (page.total_items <= static_cast<std::int64_t>(page.items.size())) return;
  if (page.items.empty()) {
    err << "Page " << page.page << " is past the end: " << Plural(page.total_items, noun) << " in "
        << page.TotalPages() << " pages of " << page.per_page << ".\n";
    return;
  }
  std::int64_t first = (page.page - 1) * page.per_page + 1;
  std::int64_t last = first + static_cast<std::int64_t>(page.items.size()) - 1;
  err << "Showing " << first << "-" << last << " of " << Plural(page.total_items, noun);
  if (page.page < page.TotalPages()) err << "; next: --page " << (page.page + 1);
  err << ".\n";
}

}  // namespace

OpsCli::OpsCli(std::ostream& out, std::ostream& err, std::string settings_help)
    : out_(out), err_(err), settings_help_(std::move(settings_help)) {}

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

int OpsCli::Fail(const domain::Error& error) {
  err_ << "socle: " << error.message << "\n";
  for (const auto& field : error.fields)
    err_ << "  " << field.field << ": " << field.message << "\n";
  // The operator running the CLI is the person the internal detail is for (the HTTP adapter
  // logs it instead); it never holds a password, adapters redact URLs.
  if (!error.internal.empty()) err_ << "  detail: " << error.internal << "\n";
  return kExitError;
}

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
  auto org = services.organisations.Create(input);
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
  auto org = services.organisations.Rename(command.slug, command.name.value_or(""));
  if (!org) return Fail(org.error());
  return ShowOrganisation(command, *org);
}

int OpsCli::OrgDelete(const Command& command, CatalogueServices& services) {
  auto deleted = services.organisations.Delete(
      command.slug, command.force ? application::ForceDelete::kYes : application::ForceDelete::kNo);
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

int OpsCli::ProjectCreate(const Command& command, CatalogueServices& services) {
  application::CreateProjectInput input;
  input.slug = command.slug;
  input.org = command.org.value_or("");
  input.name = command.name;
  auto project = services.projects.Create(input);
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
  auto project = services.projects.Rename(command.slug, command.name.value_or(""));
  if (!project) return Fail(project.error());
  return ShowProject(command, *project);
}

int OpsCli::ProjectDelete(const Command& command, CatalogueServices& services) {
  auto deleted = services.projects.Delete(command.slug);
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
  auto region = services.regions.Set(command.slug, command.store_url.value_or(""));
  if (!region) return Fail(region.error());
  if (command.json) {
    out_ << RegionJson(*region) << "\n";
    return kExitOk;
  }
  PrintFields(out_, {{"name", region->name.str()}, {"storeUrl", StoreUrlText(*region)}});
  return kExitOk;
}

}  // namespace socle::adapters::cli
