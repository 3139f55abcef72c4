#include "org_export.hpp"

#include <cstdio>
#include <map>
#include <optional>
#include <utility>
#include <vector>

#include "catalogue_json.hpp"
#include "collection_output.hpp"
#include "access_commands.hpp"
#include "socle/adapters/json/access_json.hpp"
#include "socle/adapters/json/csv_field.hpp"
#include "socle/adapters/json/json_writer.hpp"
#include "socle/adapters/json/project_settings_json.hpp"
#include "socle/adapters/json/record_json.hpp"
#include "tar_writer.hpp"

namespace socle::adapters::cli {
namespace {

using domain::ErrorCode;
using json::JsonWriter;

// The largest page every list is read with: the use cases' own bound.
constexpr std::int64_t kPerPage = domain::PageRequest::kMaxPerPage;

// A file of the archive whose size is known only once it is written: an anonymous temporary
// file (std::tmpfile, removed when closed, even if the process dies), appended to, then read
// back into the archive.
class Spool final {
 public:
  static domain::Result<Spool> Create() {
    std::FILE* file = std::tmpfile();
    if (file == nullptr) {
      return domain::Fail(ErrorCode::kUnavailable,
                          "Cannot make a temporary file to spool the export through.");
    }
    return Spool(file);
  }
  Spool(Spool&& other) noexcept : file_(std::exchange(other.file_, nullptr)), size_(other.size_) {}
  Spool& operator=(Spool&&) = delete;
  Spool(const Spool&) = delete;
  Spool& operator=(const Spool&) = delete;
  ~Spool() {
    if (file_ != nullptr) std::fclose(file_);
  }

  domain::Result<void> Append(std::string_view text) {
    if (std::fwrite(text.data(), 1, text.size(), file_) != text.size()) {
      return domain::Fail(ErrorCode::kUnavailable,
                          "Cannot write a temporary file of the export (is the disk full?).");
    }
    size_ += text.size();
    return {};
  }
  /// Makes the content readable from its start.
  domain::Result<void> Rewind() {
    if (std::fflush(file_) != 0 || std::fseek(file_, 0, SEEK_SET) != 0) {
      return domain::Fail(ErrorCode::kUnavailable, "Cannot read back a temporary file.");
    }
    return {};
  }
  std::FILE* file() const noexcept { return file_; }
  std::uint64_t size() const noexcept { return size_; }

 private:
  explicit Spool(std::FILE* file) : file_(file) {}
  std::FILE* file_;
  std::uint64_t size_ = 0;
};

// The organisation's projects by id, for the documents that name projects by slug. An id not
// among them (a project deleted meanwhile) is shown as the id, never as null.
class ExportProjects final : public json::ProjectSlugResolver {
 public:
  explicit ExportProjects(const std::vector<domain::Project>& projects) {
    for (const auto& project : projects) slugs_.emplace(project.id.str(), project.slug.str());
  }
  domain::Result<std::optional<std::string>> SlugOf(
      const std::optional<std::string>& project_id) override {
    if (!project_id) return std::optional<std::string>();
    auto found = slugs_.find(*project_id);
    return std::optional<std::string>(found == slugs_.end() ? *project_id : found->second);
  }

 private:
  std::map<std::string, std::string> slugs_;
};

// Whether a record's field goes into the export: every field but password hashes and an auth
// collection's tokenKey (which would let whoever reads the export sign in as the user, or keep
// their sessions alive).
bool Exported(const domain::Collection& collection, const domain::Field& field) {
  if (field.type == domain::FieldType::kPassword) return false;
  return !(collection.type == domain::CollectionType::kAuth && field.name == "tokenKey");
}

// A record's value as a CSV cell: text as it is, nothing for null, anything else (numbers,
// booleans, arrays, objects) as its JSON text.
std::string CellText(const domain::JsonValue& value) {
  if (value.type() == domain::JsonValue::Type::kString) return value.AsString();
  if (value.type() == domain::JsonValue::Type::kNull) return {};
  JsonWriter w;
  w.Value(value);
  return std::move(w).Take();
}

// One project and what of it goes into the archive.
struct ProjectPlan {
  domain::Project project;
  std::vector<domain::Collection> collections;
};

// Builds and writes the archive: the documents of the organisation first, then each project.
class Exporter final {
 public:
  Exporter(CatalogueServices& services, std::ostream& archive, domain::Timestamp now,
           std::string_view version, application::AuditContext context)
      : services_(services),
        data_(*services.data),
        access_(*services.access),
        tar_(archive, now.unix_micros() / 1'000'000),
        now_(now),
        version_(version),
        operator_(AccessCommands::Operator()),
        context_(std::move(context)) {}

  domain::Result<ExportSummary> Run(std::string_view org_slug) {
    auto org = services_.organisations.Get(org_slug);
    if (!org) return domain::Fail(std::move(org.error()));
    org_.emplace(std::move(*org));
    const std::string slug = org_->slug.str();
    if (auto planned = Plan(slug); !planned) return domain::Fail(std::move(planned.error()));

    // Every document of the organisation is read before anything is written, so that a refusal
    // (a store down) leaves no archive at all rather than a partial one.
    ExportProjects names(projects_only_);
    std::vector<std::pair<std::string, std::string>> documents;
    auto add = [&](std::string name, domain::Result<std::string> text) -> domain::Result<void> {
      if (!text) return domain::Fail(std::move(text.error()));
      documents.emplace_back("organisation/" + std::move(name), std::move(*text));
      return {};
    };
    if (auto r = add("members.json", Members(slug)); !r) return domain::Fail(std::move(r.error()));
    if (auto r = add("invitations.json", Invitations(slug, names)); !r) {
      return domain::Fail(std::move(r.error()));
    }
    if (auto r = add("teams.json", Teams(slug)); !r) return domain::Fail(std::move(r.error()));
    if (auto r = add("roles.json", Roles(slug)); !r) return domain::Fail(std::move(r.error()));
    if (auto r = add("policies.json", Policies(slug, names)); !r) {
      return domain::Fail(std::move(r.error()));
    }
    if (auto r = add("flags.json", Flags(slug)); !r) return domain::Fail(std::move(r.error()));
    if (auto r = add("apikeys.json", ApiKeys(slug, names)); !r) {
      return domain::Fail(std::move(r.error()));
    }

    if (auto r = Put(tar_.AddFile("socle-export.json", Metadata(documents))); !r) return domain::Fail(std::move(r.error()));
    if (auto r = Put(tar_.AddDirectory("organisation")); !r) return domain::Fail(std::move(r.error()));
    for (const auto& [name, text] : documents) {
      if (auto r = Put(tar_.AddFile(name, text)); !r) return domain::Fail(std::move(r.error()));
    }
    if (auto r = Put(tar_.AddDirectory("projects")); !r) return domain::Fail(std::move(r.error()));
    for (const auto& plan : plans_) {
      if (auto r = WriteProject(plan); !r) return domain::Fail(std::move(r.error()));
    }
    if (auto r = tar_.Finish(); !r) return domain::Fail(std::move(r.error()));
    summary_.projects = static_cast<std::int64_t>(plans_.size());
    return summary_;
  }

 private:
  // Counts a written entry.
  domain::Result<void> Put(domain::Result<void> written) {
    if (written) ++summary_.files;
    return written;
  }

  // The projects and their collections, so that the metadata can list every file up front.
  domain::Result<void> Plan(const std::string& org) {
    for (std::int64_t page = 1;; ++page) {
      auto listed = services_.projects.List(org, domain::PageRequest{page, kPerPage});
      if (!listed) return domain::Fail(std::move(listed.error()));
      for (auto& project : listed->items) projects_only_.push_back(std::move(project));
      if (page >= listed->TotalPages()) break;
    }
    for (const auto& project : projects_only_) {
      auto collections = data_.collections.List(project.slug.str());
      if (!collections) return domain::Fail(std::move(collections.error()));
      plans_.push_back(ProjectPlan{project, std::move(*collections)});
    }
    return {};
  }

  domain::Result<std::string> Members(const std::string& org) {
    JsonWriter w;
    w.BeginObject().Key("items").BeginArray();
    for (std::int64_t page = 1;; ++page) {
      auto listed = access_.access.ListMembers(operator_, org, domain::PageRequest{page, kPerPage});
      if (!listed) return domain::Fail(std::move(listed.error()));
      for (const auto& member : listed->items) json::WriteMember(w, member);
      if (page >= listed->TotalPages()) break;
    }
    w.EndArray().EndObject();
    return std::move(w).Take();
  }

  domain::Result<std::string> Invitations(const std::string& org, ExportProjects& names) {
    JsonWriter w;
    w.BeginObject().Key("items").BeginArray();
    for (std::int64_t page = 1;; ++page) {
      auto listed =
          access_.access.ListInvitations(operator_, org, domain::PageRequest{page, kPerPage});
      if (!listed) return domain::Fail(std::move(listed.error()));
      // Never the token: only a one-way binding of it is stored, and it is not exported.
      for (const auto& invitation : listed->items) {
        if (auto r = json::WriteInvitation(w, invitation, names); !r) {
          return domain::Fail(std::move(r.error()));
        }
      }
      if (page >= listed->TotalPages()) break;
    }
    w.EndArray().EndObject();
    return std::move(w).Take();
  }

  domain::Result<std::string> Teams(const std::string& org) {
    auto teams = access_.access.ListTeams(operator_, org);
    if (!teams) return domain::Fail(std::move(teams.error()));
    JsonWriter w;
    w.BeginObject().Key("items").BeginArray();
    for (const auto& team : *teams) {
      auto view = access_.access.GetTeam(operator_, org, team.id.str());
      if (!view) return domain::Fail(std::move(view.error()));
      json::WriteTeam(w, view->team, &view->members);
    }
    w.EndArray().EndObject();
    return std::move(w).Take();
  }

  domain::Result<std::string> Roles(const std::string& org) {
    auto roles = access_.access.ListRoles(operator_, org);
    if (!roles) return domain::Fail(std::move(roles.error()));
    // The built-in roles are the same in every organisation: not the organisation's data.
    std::vector<application::RoleView> custom;
    for (auto& role : *roles) {
      if (!role.role.builtin) custom.push_back(std::move(role));
    }
    JsonWriter w;
    json::WriteRoleList(w, custom);
    return std::move(w).Take();
  }

  domain::Result<std::string> Policies(const std::string& org, ExportProjects& names) {
    auto policies = access_.access.ListPolicies(operator_, org);
    if (!policies) return domain::Fail(std::move(policies.error()));
    JsonWriter w;
    if (auto r = json::WritePolicyList(w, *policies, names); !r) {
      return domain::Fail(std::move(r.error()));
    }
    return std::move(w).Take();
  }

  domain::Result<std::string> Flags(const std::string& org) {
    auto flags = access_.access.ListFlags(operator_, org);
    if (!flags) return domain::Fail(std::move(flags.error()));
    // The list holds the global flags too, which belong to the platform, not to the
    // organisation.
    std::vector<domain::FeatureFlag> own;
    for (auto& flag : *flags) {
      if (flag.level != domain::FlagLevel::kGlobal) own.push_back(std::move(flag));
    }
    JsonWriter w;
    json::WriteFlagList(w, own);
    return std::move(w).Take();
  }

  domain::Result<std::string> ApiKeys(const std::string& org, ExportProjects& names) {
    auto keys = access_.organisation_keys.List(operator_, org);
    if (!keys) return domain::Fail(std::move(keys.error()));
    JsonWriter w;
    // Never a secret (the list writer has none to write) nor a binding (not in the view).
    if (auto r = json::WriteOrganisationKeyList(w, *keys, names); !r) {
      return domain::Fail(std::move(r.error()));
    }
    return std::move(w).Take();
  }

  static std::string ProjectDir(const ProjectPlan& plan) {
    return "projects/" + plan.project.slug.str();
  }

  std::string Metadata(const std::vector<std::pair<std::string, std::string>>& documents) const {
    JsonWriter w;
    w.BeginObject();
    w.Key("format").String("socle-organisation-export");
    w.Key("version").Int(kExportFormatVersion);
    w.Key("generated").String(now_.ToApiString());
    w.Key("socleVersion").String(version_);
    w.Key("organisation").BeginObject();
    w.Key("id").String(org_->id.str());
    w.Key("slug").String(org_->slug.str());
    w.Key("name").String(org_->name.str());
    w.Key("region").String(org_->region.str());
    w.Key("tier").String(domain::ToString(org_->tier));
    w.Key("created").String(org_->created.ToApiString());
    w.EndObject();
    w.Key("records").BeginObject();
    w.Key("clear").Bool(true);
    w.Key("hiddenFields").Bool(true);
    w.Key("omitted").BeginArray().String("password fields (hashes)").String("tokenKey").EndArray();
    w.Key("note").String(
        "Records are exported in clear as the store holds them, hidden fields included, read "
        "as a superuser; password hashes and auth collections' tokenKey are left out. "
        "Invitation tokens, API key secrets and token bindings are never exported.");
    w.EndObject();
    w.Key("projects").BeginArray();
    for (const auto& plan : plans_) {
      w.BeginObject();
      w.Key("id").String(plan.project.id.str());
      w.Key("slug").String(plan.project.slug.str());
      w.Key("collections").BeginArray();
      for (const auto& collection : plan.collections) w.String(collection.name);
      w.EndArray();
      w.EndObject();
    }
    w.EndArray();
    w.Key("files").BeginArray();
    w.String("socle-export.json");
    for (const auto& [name, text] : documents) w.String(name);
    for (const auto& plan : plans_) {
      const std::string dir = ProjectDir(plan);
      w.String(dir + "/project.json");
      w.String(dir + "/collections.json");
      w.String(dir + "/settings.json");
      for (const auto& collection : plan.collections) {
        w.String(dir + "/records/" + collection.name + ".jsonl");
        w.String(dir + "/records/" + collection.name + ".csv");
      }
    }
    w.EndArray();
    w.EndObject();
    return std::move(w).Take() + "\n";
  }

  domain::Result<void> WriteProject(const ProjectPlan& plan) {
    const std::string dir = ProjectDir(plan);
    const std::string slug = plan.project.slug.str();
    if (auto r = Put(tar_.AddDirectory(dir)); !r) return r;
    if (auto r = Put(tar_.AddFile(dir + "/project.json", ProjectJson(plan.project) + "\n")); !r) {
      return r;
    }
    if (auto r = Put(tar_.AddFile(dir + "/collections.json", CollectionExportJson(plan.collections)));
        !r) {
      return r;
    }
    if (data_.settings == nullptr) {
      return domain::Fail(domain::Error::Internal("the projects' settings are not available"));
    }
    auto settings = data_.settings->Get(slug);
    if (!settings) return domain::Fail(std::move(settings.error()));
    JsonWriter w;
    json::WriteProjectSettings(w, *settings);
    if (auto r = Put(tar_.AddFile(dir + "/settings.json", std::move(w).Take() + "\n")); !r) {
      return r;
    }
    if (auto r = Put(tar_.AddDirectory(dir + "/records")); !r) return r;
    for (const auto& collection : plan.collections) {
      if (auto r = WriteRecords(slug, dir + "/records/" + collection.name, collection); !r) {
        return r;
      }
      ++summary_.collections;
    }
    return {};
  }

  // Both records files of one collection, from one pass over its pages.
  domain::Result<void> WriteRecords(const std::string& project, const std::string& base,
                                    const domain::Collection& collection) {
    auto lines = Spool::Create();
    if (!lines) return domain::Fail(std::move(lines.error()));
    auto table = Spool::Create();
    if (!table) return domain::Fail(std::move(table.error()));

    std::string header;
    for (const auto& field : collection.fields) {
      if (!Exported(collection, field)) continue;
      header += (header.empty() ? "" : ",") + json::CsvField(field.name);
    }
    if (auto r = table->Append(header + "\r\n"); !r) return r;

    application::Caller superuser;
    superuser.superuser = true;
    superuser.acting_as = context_.actor;
    superuser.origin = context_.origin;
    json::RecordViewer viewer;
    viewer.superuser = true;
    application::ListRecordsInput input;
    input.per_page = kPerPage;
    input.sort = "id";  // a stable order, so that paging neither skips nor repeats a record
    input.skip_total = true;
    for (std::int64_t page = 1;; ++page) {
      input.page = page;
      auto listed = data_.records.List(project, collection.id, input, superuser);
      if (!listed) return domain::Fail(std::move(listed.error()));
      for (const auto& item : listed->items) {
        // The list's own collection (its schema snapshot), which the record is aligned with.
        const domain::Collection& schema = *item.collection;
        JsonWriter w;
        w.BeginObject();
        json::WriteRecordMembers(w, schema, item.record, nullptr, viewer);
        w.EndObject();
        if (auto r = lines->Append(std::move(w).Take() + "\n"); !r) return r;
        std::string row;
        bool first = true;
        for (const auto& field : collection.fields) {
          if (!Exported(collection, field)) continue;
          const domain::JsonValue* value = item.record.Get(schema, field.name);
          if (!first) row += ',';
          first = false;
          if (value != nullptr) row += json::CsvField(CellText(*value));
        }
        if (auto r = table->Append(row + "\r\n"); !r) return r;
        ++summary_.records;
      }
      if (static_cast<std::int64_t>(listed->items.size()) < kPerPage) break;
    }
    if (auto r = lines->Rewind(); !r) return r;
    if (auto r = Put(tar_.AddFile(base + ".jsonl", lines->file(), lines->size())); !r) return r;
    if (auto r = table->Rewind(); !r) return r;
    return Put(tar_.AddFile(base + ".csv", table->file(), table->size()));
  }

  CatalogueServices& services_;
  ProjectDataServices& data_;
  AccessServices& access_;
  TarWriter tar_;
  domain::Timestamp now_;
  std::string version_;
  application::Principal operator_;
  application::AuditContext context_;  // who reads, for collections whose reads are audited
  std::optional<domain::Organisation> org_;
  std::vector<domain::Project> projects_only_;
  std::vector<ProjectPlan> plans_;
  ExportSummary summary_;
};

}  // namespace

domain::Result<ExportSummary> ExportOrganisation(CatalogueServices& services, std::string_view org,
                                                 std::ostream& archive, domain::Timestamp now,
                                                 std::string_view version,
                                                 const application::AuditContext& context) {
  if (services.data == nullptr || services.access == nullptr) {
    return domain::Fail(domain::Error::Internal(
        "the projects' stores and access control are needed to export an organisation"));
  }
  return Exporter(services, archive, now, version, context).Run(org);
}

}  // namespace socle::adapters::cli
