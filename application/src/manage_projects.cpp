#include "socle/application/manage_projects.hpp"

#include "socle/application/new_id.hpp"
#include "socle/application/validation.hpp"

namespace socle::application {
namespace {

// An event of the project's organisation's chain about the project.
AuditEntry ProjectEntry(const AuditContext& context, const domain::Project& project,
                        std::string action, domain::AuditDiff diff = {}) {
  auto entry = PlatformEntry(context, project.org_id.str(), std::move(action), "project",
                             project.id.str(), std::move(diff));
  entry.project_id = project.id.str();
  return entry;
}

}  // namespace

using domain::DisplayName;
using domain::Error;
using domain::ErrorCode;
using domain::Fail;
using domain::Project;
using domain::Result;
using domain::Slug;

Result<Project> ManageProjects::Create(const CreateProjectInput& input,
                                       const AuditContext& context) {
  FieldErrors errors;
  auto slug = errors.Take(Slug::Parse(input.slug));
  auto name = errors.Take(DisplayName::Parse(input.name.value_or(input.slug)));
  auto org_slug = Slug::Parse(input.org);
  if (!org_slug) {
    errors.Add(Error::Field("org", "validation_invalid_org", "Must be an organisation slug."));
  }
  if (!errors.empty()) return Fail(errors.Release());

  auto org = store_.GetOrganisation(*org_slug);
  if (!org) return Fail(org.error());

  auto now = clock_.Now();
  Project project{NewId(random_), *slug, *name, org->id, org->slug, now, now};
  auto stored = WritePlatform(
      trail_, ProjectEntry(context, project, "project.create", AuditChange<Project>(nullptr, &project)),
      [&] { return store_.InsertProject(project); });
  if (!stored) return Fail(stored.error());
  return project;
}

Result<domain::PageOf<Project>> ManageProjects::List(const std::optional<std::string>& org,
                                                     const domain::PageRequest& page) {
  if (!org) return store_.ListProjects(std::nullopt, page);
  auto org_slug = Slug::Parse(*org);
  if (!org_slug) return Fail(org_slug.error());
  auto found = store_.GetOrganisation(*org_slug);
  if (!found) return Fail(found.error());
  return store_.ListProjects(found->id, page);
}

Result<Project> ManageProjects::Get(std::string_view slug) {
  auto parsed = Slug::Parse(slug);
  if (!parsed) return Fail(parsed.error());
  return store_.GetProject(*parsed);
}

Result<Project> ManageProjects::Rename(std::string_view slug, std::string_view new_name,
                                       const AuditContext& context) {
  auto name = DisplayName::Parse(new_name);
  if (!name) return Fail(name.error());
  auto project = Get(slug);
  if (!project) return project;
  const Project before = *project;
  project->name = *name;
  project->updated = clock_.Now();
  auto stored = WritePlatform(
      trail_, ProjectEntry(context, *project, "project.update", AuditChange(&before, &*project)),
      [&] { return store_.UpdateProject(*project); });
  if (!stored) return Fail(stored.error());
  return project;
}

Result<Deletion> ManageProjects::Remove(std::string_view slug, const AuditContext& context) {
  auto project = Get(slug);
  if (!project) return Fail(project.error());
  const domain::Timestamp now = clock_.Now();
  auto entry =
      ProjectEntry(context, *project, "project.delete", AuditChange<Project>(&*project, nullptr));
  if (deletion_ == nullptr) {
    auto deleted =
        WritePlatform(trail_, entry, [&] { return store_.DeleteProject(project->id); });
    if (!deleted) return Fail(deleted.error());
    if (directory_ != nullptr) {
      if (auto removed = directory_->Remove(*project); !removed) return Fail(removed.error());
    }
    return Deletion{0, now, std::nullopt};
  }
  // Scheduled, the project is hidden by the catalogue and no longer served, its store kept for
  // a restore.
  entry.action = "project.schedule_deletion";
  auto hidden = WritePlatform(trail_, entry,
                              [&] { return store_.ScheduleProjectDeletion(project->id, now); });
  if (!hidden) return Fail(hidden.error());
  if (directory_ != nullptr) directory_->Evict(project->slug.str());
  if (deletion_->grace().count() > 0) return Deletion{0, now, PurgeAfter(now)};
  // No grace period: purged now. Should that fail, the project stays scheduled (hidden, due at
  // once) and the next purge finishes the work.
  project->deleted = now;
  if (auto purged = deletion_->PurgeProject(*project); !purged) return Fail(purged.error());
  return Deletion{0, now, std::nullopt};
}

Result<void> ManageProjects::Delete(std::string_view slug, const AuditContext& context) {
  auto deleted = Remove(slug, context);
  if (!deleted) return Fail(deleted.error());
  return {};
}

Result<Project> ManageProjects::Restore(std::string_view slug, const AuditContext& context) {
  auto parsed = Slug::Parse(slug);
  if (!parsed) return Fail(parsed.error());
  auto scheduled = store_.GetScheduledProject(*parsed);
  if (!scheduled) {
    if (scheduled.error().code != ErrorCode::kNotFound) return Fail(scheduled.error());
    auto live = store_.GetProject(*parsed);
    if (!live) return Fail(live.error());
    return Fail(ErrorCode::kFailedPrecondition, "The project is not scheduled for deletion.");
  }
  // Past its grace period the purge may already be under way (its API keys gone, say): what
  // was promised restorable no longer is.
  if (deletion_ != nullptr && scheduled->deleted &&
      clock_.Now() >= PurgeAfter(*scheduled->deleted)) {
    return Fail(ErrorCode::kFailedPrecondition,
                "The project's grace period is over; it is being purged.");
  }
  auto restored = WritePlatform(trail_, ProjectEntry(context, *scheduled, "project.restore"),
                                [&] { return store_.RestoreProject(scheduled->id); });
  if (!restored) return Fail(restored.error());
  scheduled->deleted.reset();
  return *scheduled;
}

domain::Timestamp ManageProjects::PurgeAfter(domain::Timestamp deleted) const {
  return deletion_ == nullptr ? deleted : deletion_->PurgeAfter(deleted);
}

}  // namespace socle::application
