#include "socle/adapters/memory/memory_catalogue_store.hpp"

#include <algorithm>
#include <iterator>

namespace socle::adapters::memory {

using domain::ErrorCode;
using domain::Fail;
using domain::Result;

namespace {

template <typename Map>
auto PageOfMap(const Map& map, const domain::PageRequest& page, auto keep) {
  domain::PageOf<typename Map::mapped_type> out;
  out.page = page.page;
  out.per_page = page.per_page;
  const std::int64_t offset = page.Offset();
  for (const auto& [key, value] : map) {
    if (!keep(value)) continue;
    if (out.total_items >= offset && out.total_items < offset + page.per_page) {
      out.items.push_back(value);
    }
    ++out.total_items;
  }
  return out;
}

}  // namespace

MemoryCatalogueStore::MemoryCatalogueStore() {
  auto name = domain::Slug::Parse(domain::Region::kDefaultName);
  regions_.emplace(*name, domain::Region{*name, ""});
}

Result<application::MigrationReport> MemoryCatalogueStore::Migrate() {
  return application::MigrationReport{};  // nothing persistent to migrate
}

Result<void> MemoryCatalogueStore::Ping() { return {}; }

Result<void> MemoryCatalogueStore::UpsertRegion(const domain::Region& region) {
  std::lock_guard lock(mutex_);
  regions_.insert_or_assign(region.name, region);
  return {};
}

Result<domain::Region> MemoryCatalogueStore::GetRegion(const domain::Slug& name) {
  std::lock_guard lock(mutex_);
  auto it = regions_.find(name);
  if (it == regions_.end()) return Fail(ErrorCode::kNotFound, "Region not found.");
  return it->second;
}

Result<std::vector<domain::Region>> MemoryCatalogueStore::ListRegions() {
  std::lock_guard lock(mutex_);
  std::vector<domain::Region> out;
  for (const auto& [name, region] : regions_) out.push_back(region);
  return out;
}

Result<void> MemoryCatalogueStore::InsertOrganisation(const domain::Organisation& org) {
  std::lock_guard lock(mutex_);
  // A scheduled organisation keeps its slug and id: both are taken.
  if (orgs_.contains(org.slug)) {
    return Fail(ErrorCode::kAlreadyExists, "An organisation with this slug already exists.");
  }
  bool id_taken = std::any_of(orgs_.begin(), orgs_.end(),
                              [&](const auto& kv) { return kv.second.id == org.id; });
  if (id_taken) return Fail(ErrorCode::kAlreadyExists, "An organisation with this id already exists.");
  if (!regions_.contains(org.region)) {
    return Fail(ErrorCode::kFailedPrecondition, "The organisation's region does not exist.");
  }
  domain::Organisation stored = org;
  stored.deleted.reset();  // stored live, as the SQL stores' column default
  orgs_.emplace(org.slug, std::move(stored));
  return {};
}

Result<domain::Organisation> MemoryCatalogueStore::GetOrganisation(const domain::Slug& slug) {
  std::lock_guard lock(mutex_);
  auto it = orgs_.find(slug);
  if (it == orgs_.end() || it->second.deleted) {
    return Fail(ErrorCode::kNotFound, "Organisation not found.");
  }
  return it->second;
}

Result<domain::Organisation> MemoryCatalogueStore::GetOrganisationById(const domain::Id& id) {
  std::lock_guard lock(mutex_);
  for (const auto& [slug, org] : orgs_) {
    if (org.id == id && !org.deleted) return org;
  }
  return Fail(ErrorCode::kNotFound, "Organisation not found.");
}

Result<domain::PageOf<domain::Organisation>> MemoryCatalogueStore::ListOrganisations(
    const domain::PageRequest& page) {
  std::lock_guard lock(mutex_);
  return PageOfMap(orgs_, page, [](const domain::Organisation& org) { return !org.deleted; });
}

Result<void> MemoryCatalogueStore::UpdateOrganisation(const domain::Organisation& org) {
  std::lock_guard lock(mutex_);
  for (auto& [slug, stored] : orgs_) {
    if (stored.id == org.id && !stored.deleted) {
      stored.name = org.name;
      stored.updated = org.updated;
      return {};
    }
  }
  return Fail(ErrorCode::kNotFound, "Organisation not found.");
}

Result<std::int64_t> MemoryCatalogueStore::DeleteOrganisation(const domain::Id& org_id,
                                                              application::DeleteMode mode) {
  std::lock_guard lock(mutex_);
  auto org = std::find_if(orgs_.begin(), orgs_.end(),
                          [&](const auto& kv) { return kv.second.id == org_id; });
  if (org == orgs_.end()) return Fail(ErrorCode::kNotFound, "Organisation not found.");
  auto owned = [&](const auto& kv) { return kv.second.org_id == org_id; };
  auto count = static_cast<std::int64_t>(std::count_if(projects_.begin(), projects_.end(), owned));
  const bool has_live = std::any_of(projects_.begin(), projects_.end(), [&](const auto& kv) {
    return owned(kv) && !kv.second.deleted;
  });
  if (has_live && mode == application::DeleteMode::kRefuseIfProjects) {
    return Fail(ErrorCode::kFailedPrecondition,
                "The organisation still has projects; delete them first or force the deletion.");
  }
  for (const auto& [slug, project] : projects_) {
    if (project.org_id == org_id) settings_.erase(project.id);
  }
  std::erase_if(projects_, owned);
  EraseAccessOfOrganisation(org_id);  // the SQL stores cascade the same rows
  orgs_.erase(org);
  return count;
}

Result<void> MemoryCatalogueStore::InsertProject(const domain::Project& project) {
  std::lock_guard lock(mutex_);
  if (projects_.contains(project.slug)) {
    return Fail(ErrorCode::kAlreadyExists, "A project with this slug already exists.");
  }
  bool id_taken = std::any_of(projects_.begin(), projects_.end(),
                              [&](const auto& kv) { return kv.second.id == project.id; });
  if (id_taken) return Fail(ErrorCode::kAlreadyExists, "A project with this id already exists.");
  auto org = std::find_if(orgs_.begin(), orgs_.end(),
                          [&](const auto& kv) { return kv.second.id == project.org_id; });
  if (org == orgs_.end() || org->second.deleted) {
    return Fail(ErrorCode::kNotFound, "Organisation not found.");
  }
  domain::Project stored = project;
  stored.org_slug = org->second.slug;
  stored.org_region = org->second.region;
  stored.org_tier = org->second.tier;
  stored.deleted.reset();
  projects_.emplace(project.slug, std::move(stored));
  return {};
}

Result<domain::Project> MemoryCatalogueStore::GetProject(const domain::Slug& slug) {
  std::lock_guard lock(mutex_);
  auto it = projects_.find(slug);
  if (it == projects_.end() || Shown(it->second, ScheduledOrganisations()).deleted) {
    return Fail(ErrorCode::kNotFound, "Project not found.");
  }
  return it->second;
}

Result<domain::Project> MemoryCatalogueStore::GetProjectById(const domain::Id& id) {
  std::lock_guard lock(mutex_);
  const domain::Project* project = FindProject(id);
  if (project == nullptr || Shown(*project, ScheduledOrganisations()).deleted) {
    return Fail(ErrorCode::kNotFound, "Project not found.");
  }
  return *project;
}

Result<domain::PageOf<domain::Project>> MemoryCatalogueStore::ListProjects(
    const std::optional<domain::Id>& org_id, const domain::PageRequest& page) {
  std::lock_guard lock(mutex_);
  const auto scheduled = ScheduledOrganisations();
  return PageOfMap(projects_, page, [&](const domain::Project& p) {
    return (!org_id || p.org_id == *org_id) && !p.deleted && !scheduled.contains(p.org_id);
  });
}

Result<void> MemoryCatalogueStore::UpdateProject(const domain::Project& project) {
  std::lock_guard lock(mutex_);
  const auto scheduled = ScheduledOrganisations();
  for (auto& [slug, stored] : projects_) {
    if (stored.id == project.id && !Shown(stored, scheduled).deleted) {
      stored.name = project.name;
      stored.updated = project.updated;
      return {};
    }
  }
  return Fail(ErrorCode::kNotFound, "Project not found.");
}

Result<void> MemoryCatalogueStore::DeleteProject(const domain::Id& project_id) {
  std::lock_guard lock(mutex_);
  auto removed = std::erase_if(projects_, [&](const auto& kv) { return kv.second.id == project_id; });
  if (removed == 0) return Fail(ErrorCode::kNotFound, "Project not found.");
  settings_.erase(project_id);
  EraseAccessOfProject(project_id);
  return {};
}

bool MemoryCatalogueStore::HasLiveProject(const domain::Id& project_id) {
  const domain::Project* project = FindProject(project_id);
  return project != nullptr && !Shown(*project, ScheduledOrganisations()).deleted;
}

domain::Organisation* MemoryCatalogueStore::FindOrganisation(const domain::Id& org_id) {
  for (auto& [slug, org] : orgs_) {
    if (org.id == org_id) return &org;
  }
  return nullptr;
}

domain::Project* MemoryCatalogueStore::FindProject(const domain::Id& project_id) {
  for (auto& [slug, project] : projects_) {
    if (project.id == project_id) return &project;
  }
  return nullptr;
}

std::map<domain::Id, domain::Timestamp> MemoryCatalogueStore::ScheduledOrganisations() const {
  std::map<domain::Id, domain::Timestamp> out;
  for (const auto& [slug, org] : orgs_) {
    if (org.deleted) out.emplace(org.id, *org.deleted);
  }
  return out;
}

domain::Project MemoryCatalogueStore::Shown(
    const domain::Project& project, const std::map<domain::Id, domain::Timestamp>& scheduled) {
  domain::Project out = project;
  if (auto org = scheduled.find(project.org_id); org != scheduled.end()) {
    out.deleted = out.deleted ? std::min(*out.deleted, org->second) : org->second;
  }
  return out;
}

Result<std::int64_t> MemoryCatalogueStore::ScheduleOrganisationDeletion(
    const domain::Id& org_id, domain::Timestamp at, application::DeleteMode mode) {
  std::lock_guard lock(mutex_);
  domain::Organisation* org = FindOrganisation(org_id);
  if (org == nullptr || org->deleted) return Fail(ErrorCode::kNotFound, "Organisation not found.");
  auto live = static_cast<std::int64_t>(
      std::count_if(projects_.begin(), projects_.end(), [&](const auto& kv) {
        return kv.second.org_id == org_id && !kv.second.deleted;
      }));
  if (live > 0 && mode == application::DeleteMode::kRefuseIfProjects) {
    return Fail(ErrorCode::kFailedPrecondition,
                "The organisation still has projects; delete them first or force the deletion.");
  }
  org->deleted = at;
  return live;
}

Result<void> MemoryCatalogueStore::ScheduleProjectDeletion(const domain::Id& project_id,
                                                           domain::Timestamp at) {
  std::lock_guard lock(mutex_);
  domain::Project* project = FindProject(project_id);
  if (project == nullptr || Shown(*project, ScheduledOrganisations()).deleted) {
    return Fail(ErrorCode::kNotFound, "Project not found.");
  }
  project->deleted = at;
  return {};
}

Result<void> MemoryCatalogueStore::RestoreOrganisation(const domain::Id& org_id) {
  std::lock_guard lock(mutex_);
  domain::Organisation* org = FindOrganisation(org_id);
  if (org == nullptr) return Fail(ErrorCode::kNotFound, "Organisation not found.");
  if (!org->deleted) {
    return Fail(ErrorCode::kFailedPrecondition, "The organisation is not scheduled for deletion.");
  }
  org->deleted.reset();
  return {};
}

Result<void> MemoryCatalogueStore::RestoreProject(const domain::Id& project_id) {
  std::lock_guard lock(mutex_);
  domain::Project* project = FindProject(project_id);
  if (project == nullptr) return Fail(ErrorCode::kNotFound, "Project not found.");
  const domain::Organisation* org = FindOrganisation(project->org_id);
  if (org != nullptr && org->deleted) {
    return Fail(ErrorCode::kFailedPrecondition,
                "The project's organisation is scheduled for deletion; restore the organisation.");
  }
  if (!project->deleted) {
    return Fail(ErrorCode::kFailedPrecondition, "The project is not scheduled for deletion.");
  }
  project->deleted.reset();
  return {};
}

Result<application::ScheduledDeletions> MemoryCatalogueStore::ListScheduledDeletions() {
  std::lock_guard lock(mutex_);
  const auto scheduled = ScheduledOrganisations();
  application::ScheduledDeletions out;
  for (const auto& [slug, org] : orgs_) {  // slug order
    if (org.deleted) out.organisations.push_back(org);
  }
  for (const auto& [slug, project] : projects_) {
    domain::Project shown = Shown(project, scheduled);
    if (shown.deleted) out.projects.push_back(std::move(shown));
  }
  return out;
}

Result<domain::Organisation> MemoryCatalogueStore::GetScheduledOrganisation(
    const domain::Slug& slug) {
  std::lock_guard lock(mutex_);
  auto it = orgs_.find(slug);
  if (it == orgs_.end() || !it->second.deleted) {
    return Fail(ErrorCode::kNotFound, "Organisation not found.");
  }
  return it->second;
}

Result<domain::Project> MemoryCatalogueStore::GetScheduledProject(const domain::Slug& slug) {
  std::lock_guard lock(mutex_);
  auto it = projects_.find(slug);
  if (it == projects_.end()) return Fail(ErrorCode::kNotFound, "Project not found.");
  domain::Project shown = Shown(it->second, ScheduledOrganisations());
  if (!shown.deleted) return Fail(ErrorCode::kNotFound, "Project not found.");
  return shown;
}

Result<std::optional<domain::ProjectSettings>> MemoryCatalogueStore::GetProjectSettings(
    const domain::Id& project_id) {
  std::lock_guard lock(mutex_);
  if (!HasLiveProject(project_id)) return Fail(ErrorCode::kNotFound, "Project not found.");
  auto it = settings_.find(project_id);
  if (it == settings_.end()) return std::optional<domain::ProjectSettings>();
  return std::optional<domain::ProjectSettings>(it->second);
}

Result<void> MemoryCatalogueStore::PutProjectSettings(const domain::Id& project_id,
                                                      const domain::ProjectSettings& settings,
                                                      domain::Timestamp) {
  std::lock_guard lock(mutex_);
  if (!HasLiveProject(project_id)) return Fail(ErrorCode::kNotFound, "Project not found.");
  settings_.insert_or_assign(project_id, settings);
  return {};
}

}  // namespace socle::adapters::memory
