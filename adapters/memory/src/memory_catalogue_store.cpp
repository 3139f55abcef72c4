#include "socle/adapters/memory/memory_catalogue_store.hpp"

#include <algorithm>
#include <iterator>
#include <tuple>
#include <utility>

#include "memory_audit.hpp"

namespace socle::adapters::memory {

using application::AuditQuery;
using application::StoredAuditEvent;
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

// Appends to one chain of the trail on top of what it holds; what it appends joins the chain
// only when the whole audit succeeded, so a failed one leaves nothing behind.
class ChainAppender final : public application::AuditAppender {
 public:
  // `committed`: the chain as stored, nullptr when it has no event yet.
  ChainAppender(const std::string& chain, const std::vector<StoredAuditEvent>* committed)
      : chain_(chain), committed_(committed) {}

  Result<domain::AuditHead> LockAuditHead() override {
    // The caller holds the store's mutex for the whole audit: the chain is already locked.
    locked_ = true;
    return Head();
  }

  Result<void> AppendAudit(const domain::AuditEvent& event,
                           const std::vector<domain::AuditPersonal>& personal) override {
    // An event of another organisation would sit in a chain its verification never reads.
    if (event.org_id != chain_) {
      return Fail(ErrorCode::kInvalidArgument,
                  "An audit event must name the organisation of its chain.");
    }
    if (event.lane != 0) {
      return Fail(ErrorCode::kInvalidArgument, "The platform's audit chains have one lane, 0.");
    }
    // Sealed on the locked head or nothing: anything else would fork or break the chain, which
    // no later verification could tell from tampering.
    if (!locked_) return Fail(domain::Error::Internal("audit append without a locked chain"));
    const domain::AuditHead head = Head();
    if (event.seq != head.seq + 1 || event.prev_hash != head.hash) {
      return Fail(domain::Error::Internal("audit append of seq " + std::to_string(event.seq) +
                                          " that does not extend seq " +
                                          std::to_string(head.seq) + " of chain '" + chain_ +
                                          "'"));
    }
    auto stored = StoredWithParts(event, personal);
    if (!stored) return Fail(stored.error());
    appended_.push_back(std::move(*stored));
    return {};
  }

  std::vector<StoredAuditEvent> TakeAppended() && { return std::move(appended_); }

 private:
  domain::AuditHead Head() const {
    const StoredAuditEvent* last = nullptr;
    if (!appended_.empty()) {
      last = &appended_.back();
    } else if (committed_ != nullptr && !committed_->empty()) {
      last = &committed_->back();
    }
    if (last == nullptr) return domain::AuditHead{};
    return domain::AuditHead{0, last->event.seq, last->event.hash};
  }

  const std::string& chain_;
  const std::vector<StoredAuditEvent>* committed_;
  std::vector<StoredAuditEvent> appended_;
  bool locked_ = false;
};

// Sets a flag for as long as it lives.
class Raised final {
 public:
  explicit Raised(bool& flag) : flag_(flag) { flag_ = true; }
  ~Raised() { flag_ = false; }
  Raised(const Raised&) = delete;
  Raised& operator=(const Raised&) = delete;

 private:
  bool& flag_;
};

}  // namespace

MemoryCatalogueStore::MemoryCatalogueStore() {
  auto name = domain::Slug::Parse(domain::Region::kDefaultName);
  data_.regions.emplace(*name, domain::Region{*name, ""});
}

Result<application::MigrationReport> MemoryCatalogueStore::Migrate() {
  return application::MigrationReport{};  // nothing persistent to migrate
}

Result<void> MemoryCatalogueStore::Ping() { return {}; }

Result<void> MemoryCatalogueStore::UpsertRegion(const domain::Region& region) {
  std::lock_guard lock(mutex_);
  data_.regions.insert_or_assign(region.name, region);
  return {};
}

Result<domain::Region> MemoryCatalogueStore::GetRegion(const domain::Slug& name) {
  std::lock_guard lock(mutex_);
  auto it = data_.regions.find(name);
  if (it == data_.regions.end()) return Fail(ErrorCode::kNotFound, "Region not found.");
  return it->second;
}

Result<std::vector<domain::Region>> MemoryCatalogueStore::ListRegions() {
  std::lock_guard lock(mutex_);
  std::vector<domain::Region> out;
  for (const auto& [name, region] : data_.regions) out.push_back(region);
  return out;
}

Result<void> MemoryCatalogueStore::InsertOrganisation(const domain::Organisation& org) {
  std::lock_guard lock(mutex_);
  // A scheduled organisation keeps its slug and id: both are taken.
  if (data_.orgs.contains(org.slug)) {
    return Fail(ErrorCode::kAlreadyExists, "An organisation with this slug already exists.");
  }
  bool id_taken = std::any_of(data_.orgs.begin(), data_.orgs.end(),
                              [&](const auto& kv) { return kv.second.id == org.id; });
  if (id_taken)
    return Fail(ErrorCode::kAlreadyExists, "An organisation with this id already exists.");
  if (!data_.regions.contains(org.region)) {
    return Fail(ErrorCode::kFailedPrecondition, "The organisation's region does not exist.");
  }
  domain::Organisation stored = org;
  stored.deleted.reset();  // stored live, as the SQL stores' column default
  data_.orgs.emplace(org.slug, std::move(stored));
  return {};
}

Result<domain::Organisation> MemoryCatalogueStore::GetOrganisation(const domain::Slug& slug) {
  std::lock_guard lock(mutex_);
  auto it = data_.orgs.find(slug);
  if (it == data_.orgs.end() || it->second.deleted) {
    return Fail(ErrorCode::kNotFound, "Organisation not found.");
  }
  return it->second;
}

Result<domain::Organisation> MemoryCatalogueStore::GetOrganisationById(const domain::Id& id) {
  std::lock_guard lock(mutex_);
  for (const auto& [slug, org] : data_.orgs) {
    if (org.id == id && !org.deleted) return org;
  }
  return Fail(ErrorCode::kNotFound, "Organisation not found.");
}

Result<domain::PageOf<domain::Organisation>> MemoryCatalogueStore::ListOrganisations(
    const domain::PageRequest& page) {
  std::lock_guard lock(mutex_);
  return PageOfMap(data_.orgs, page, [](const domain::Organisation& org) { return !org.deleted; });
}

Result<void> MemoryCatalogueStore::UpdateOrganisation(const domain::Organisation& org) {
  std::lock_guard lock(mutex_);
  for (auto& [slug, stored] : data_.orgs) {
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
  auto org = std::find_if(data_.orgs.begin(), data_.orgs.end(),
                          [&](const auto& kv) { return kv.second.id == org_id; });
  if (org == data_.orgs.end()) return Fail(ErrorCode::kNotFound, "Organisation not found.");
  auto owned = [&](const auto& kv) { return kv.second.org_id == org_id; };
  auto count =
      static_cast<std::int64_t>(std::count_if(data_.projects.begin(), data_.projects.end(), owned));
  const bool has_live =
      std::any_of(data_.projects.begin(), data_.projects.end(),
                  [&](const auto& kv) { return owned(kv) && !kv.second.deleted; });
  if (has_live && mode == application::DeleteMode::kRefuseIfProjects) {
    return Fail(ErrorCode::kFailedPrecondition,
                "The organisation still has projects; delete them first or force the deletion.");
  }
  for (const auto& [slug, project] : data_.projects) {
    if (project.org_id == org_id) data_.settings.erase(project.id);
  }
  std::erase_if(data_.projects, owned);
  EraseAccessOfOrganisation(org_id);  // the SQL stores cascade the same rows
  data_.orgs.erase(org);
  return count;
}

Result<void> MemoryCatalogueStore::InsertProject(const domain::Project& project) {
  std::lock_guard lock(mutex_);
  if (data_.projects.contains(project.slug)) {
    return Fail(ErrorCode::kAlreadyExists, "A project with this slug already exists.");
  }
  bool id_taken = std::any_of(data_.projects.begin(), data_.projects.end(),
                              [&](const auto& kv) { return kv.second.id == project.id; });
  if (id_taken) return Fail(ErrorCode::kAlreadyExists, "A project with this id already exists.");
  auto org = std::find_if(data_.orgs.begin(), data_.orgs.end(),
                          [&](const auto& kv) { return kv.second.id == project.org_id; });
  if (org == data_.orgs.end() || org->second.deleted) {
    return Fail(ErrorCode::kNotFound, "Organisation not found.");
  }
  domain::Project stored = project;
  stored.org_slug = org->second.slug;
  stored.org_region = org->second.region;
  stored.org_tier = org->second.tier;
  stored.deleted.reset();
  data_.projects.emplace(project.slug, std::move(stored));
  return {};
}

Result<domain::Project> MemoryCatalogueStore::GetProject(const domain::Slug& slug) {
  std::lock_guard lock(mutex_);
  auto it = data_.projects.find(slug);
  if (it == data_.projects.end() || Shown(it->second, ScheduledOrganisations()).deleted) {
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
  return PageOfMap(data_.projects, page, [&](const domain::Project& p) {
    return (!org_id || p.org_id == *org_id) && !p.deleted && !scheduled.contains(p.org_id);
  });
}

Result<void> MemoryCatalogueStore::UpdateProject(const domain::Project& project) {
  std::lock_guard lock(mutex_);
  const auto scheduled = ScheduledOrganisations();
  for (auto& [slug, stored] : data_.projects) {
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
  auto removed =
      std::erase_if(data_.projects, [&](const auto& kv) { return kv.second.id == project_id; });
  if (removed == 0) return Fail(ErrorCode::kNotFound, "Project not found.");
  data_.settings.erase(project_id);
  EraseAccessOfProject(project_id);
  return {};
}

bool MemoryCatalogueStore::HasLiveProject(const domain::Id& project_id) {
  const domain::Project* project = FindProject(project_id);
  return project != nullptr && !Shown(*project, ScheduledOrganisations()).deleted;
}

domain::Organisation* MemoryCatalogueStore::FindOrganisation(const domain::Id& org_id) {
  for (auto& [slug, org] : data_.orgs) {
    if (org.id == org_id) return &org;
  }
  return nullptr;
}

domain::Project* MemoryCatalogueStore::FindProject(const domain::Id& project_id) {
  for (auto& [slug, project] : data_.projects) {
    if (project.id == project_id) return &project;
  }
  return nullptr;
}

std::map<domain::Id, domain::Timestamp> MemoryCatalogueStore::ScheduledOrganisations() const {
  std::map<domain::Id, domain::Timestamp> out;
  for (const auto& [slug, org] : data_.orgs) {
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
      std::count_if(data_.projects.begin(), data_.projects.end(), [&](const auto& kv) {
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
  for (const auto& [slug, org] : data_.orgs) {  // slug order
    if (org.deleted) out.organisations.push_back(org);
  }
  for (const auto& [slug, project] : data_.projects) {
    domain::Project shown = Shown(project, scheduled);
    if (shown.deleted) out.projects.push_back(std::move(shown));
  }
  return out;
}

Result<domain::Organisation> MemoryCatalogueStore::GetScheduledOrganisation(
    const domain::Slug& slug) {
  std::lock_guard lock(mutex_);
  auto it = data_.orgs.find(slug);
  if (it == data_.orgs.end() || !it->second.deleted) {
    return Fail(ErrorCode::kNotFound, "Organisation not found.");
  }
  return it->second;
}

Result<domain::Project> MemoryCatalogueStore::GetScheduledProject(const domain::Slug& slug) {
  std::lock_guard lock(mutex_);
  auto it = data_.projects.find(slug);
  if (it == data_.projects.end()) return Fail(ErrorCode::kNotFound, "Project not found.");
  domain::Project shown = Shown(it->second, ScheduledOrganisations());
  if (!shown.deleted) return Fail(ErrorCode::kNotFound, "Project not found.");
  return shown;
}

Result<std::optional<domain::ProjectSettings>> MemoryCatalogueStore::GetProjectSettings(
    const domain::Id& project_id) {
  std::lock_guard lock(mutex_);
  if (!HasLiveProject(project_id)) return Fail(ErrorCode::kNotFound, "Project not found.");
  auto it = data_.settings.find(project_id);
  if (it == data_.settings.end()) return std::optional<domain::ProjectSettings>();
  return std::optional<domain::ProjectSettings>(it->second);
}

Result<void> MemoryCatalogueStore::PutProjectSettings(const domain::Id& project_id,
                                                      const domain::ProjectSettings& settings,
                                                      domain::Timestamp) {
  std::lock_guard lock(mutex_);
  if (!HasLiveProject(project_id)) return Fail(ErrorCode::kNotFound, "Project not found.");
  data_.settings.insert_or_assign(project_id, settings);
  return {};
}

// ---- the platform's audit trail ----------------------------------------------------------------

Result<void> MemoryCatalogueStore::RunAudit(const std::string& chain,
                                            const application::AuditWrite& audit) {
  if (!audit) return {};
  // An audit that recorded another (through RecordAudit) would append behind the back of the
  // head this one locked.
  if (recording_) {
    return Fail(domain::Error::Internal("an audit may not record another audit"));
  }
  const Raised recording(recording_);
  auto existing = audit_.find(chain);
  ChainAppender appender(chain, existing == audit_.end() ? nullptr : &existing->second);
  if (auto recorded = audit(appender); !recorded) return recorded;
  auto appended = std::move(appender).TakeAppended();
  if (appended.empty()) return {};
  // Created only now: a chain that never received an event has no head to report.
  AuditChain& events = audit_[chain];
  std::move(appended.begin(), appended.end(), std::back_inserter(events));
  return {};
}

Result<void> MemoryCatalogueStore::Audited(const std::string& chain,
                                           const application::AuditWrite& audit,
                                           const std::function<Result<void>()>& change) {
  std::lock_guard lock(mutex_);
  if (auditing_) {
    return Fail(domain::Error::Internal("Audited called inside another Audited change"));
  }
  const Raised auditing(auditing_);
  // Held since before the change: nothing else can write between the copy and the audit, so
  // putting the copy back undoes exactly what the change did.
  Data saved = data_;
  if (auto changed = change ? change() : Result<void>(); !changed) {
    // Every method is atomic on its own; putting the copy back also covers a change that
    // wrote before a later step of it failed.
    data_ = std::move(saved);
    return changed;
  }
  if (auto recorded = RunAudit(chain, audit); !recorded) {
    data_ = std::move(saved);
    return recorded;
  }
  return {};
}

Result<void> MemoryCatalogueStore::RecordAudit(const std::string& chain,
                                               const application::AuditWrite& audit) {
  std::lock_guard lock(mutex_);
  return RunAudit(chain, audit);
}

Result<std::vector<StoredAuditEvent>> MemoryCatalogueStore::PlatformAuditEvents(
    const std::string& chain, const AuditQuery& query) {
  const auto limit = static_cast<std::size_t>(std::clamp<std::int64_t>(query.limit, 1, 1000));
  std::lock_guard lock(mutex_);
  std::vector<StoredAuditEvent> out;
  auto found = audit_.find(chain);
  if (found == audit_.end()) return out;
  std::vector<const StoredAuditEvent*> matching;
  for (const auto& stored : found->second) {
    // query.org_id is not looked at: a chain holds one organisation's events (or none's).
    if (AuditMatchesCriteria(stored.event, query)) matching.push_back(&stored);
  }
  const auto end =
      matching.begin() + static_cast<std::ptrdiff_t>(std::min(limit, matching.size()));
  std::partial_sort(matching.begin(), end, matching.end(), [](const auto* a, const auto* b) {
    return std::tie(a->event.at, a->event.lane, a->event.seq) >
           std::tie(b->event.at, b->event.lane, b->event.seq);
  });
  out.reserve(static_cast<std::size_t>(end - matching.begin()));
  for (auto it = matching.begin(); it != end; ++it) out.push_back(**it);
  return out;
}

Result<std::vector<domain::AuditCheckpointHead>> MemoryCatalogueStore::PlatformAuditHeads() {
  std::lock_guard lock(mutex_);
  std::vector<domain::AuditCheckpointHead> heads;  // the map is ordered by chain
  for (const auto& [chain, events] : audit_) {
    if (events.empty()) continue;
    const auto& last = events.back().event;
    heads.push_back(domain::AuditCheckpointHead{chain, "", 0, last.seq, last.hash});
  }
  return heads;
}

Result<std::vector<StoredAuditEvent>> MemoryCatalogueStore::PlatformAuditChain(
    const std::string& chain, std::int64_t after_seq, std::int64_t limit) {
  std::lock_guard lock(mutex_);
  std::vector<StoredAuditEvent> out;
  auto found = audit_.find(chain);
  if (found == audit_.end() || limit <= 0) return out;
  const AuditChain& events = found->second;
  // seq n sits at index n - 1 (appends are checked to extend the chain by one).
  const auto first = static_cast<std::size_t>(std::max<std::int64_t>(after_seq, 0));
  for (std::size_t i = first; i < events.size() && out.size() < static_cast<std::size_t>(limit);
       ++i) {
    out.push_back(events[i]);
  }
  return out;
}

Result<std::int64_t> MemoryCatalogueStore::ErasePlatformPersonal(std::string_view subject) {
  std::lock_guard lock(mutex_);
  std::int64_t erased = 0;
  for (auto& [chain, events] : audit_) {
    for (auto& stored : events) {
      erased += static_cast<std::int64_t>(std::erase_if(
          stored.personal,
          [&](const domain::AuditPersonal& part) { return part.subject == subject; }));
    }
  }
  return erased;
}

}  // namespace socle::adapters::memory
