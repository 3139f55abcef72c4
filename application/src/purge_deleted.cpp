#include "socle/application/purge_deleted.hpp"

#include <set>
#include <utility>

namespace socle::application {
namespace {

// Who the purge's events name.
AuditContext PurgeContext() {
  AuditContext context;
  context.actor = {domain::AuditActorKind::kSystem, "purge"};
  return context;
}

}  // namespace

using domain::ErrorCode;
using domain::Fail;
using domain::Result;

domain::Timestamp PurgeDeleted::PurgeAfter(domain::Timestamp deleted) const {
  const auto micros = std::chrono::duration_cast<std::chrono::microseconds>(grace_).count();
  return domain::Timestamp::FromUnixMicros(deleted.unix_micros() + micros);
}

Result<PurgeReport> PurgeDeleted::Purge(domain::Timestamp now) {
  auto scheduled = store_.ListScheduledDeletions();
  if (!scheduled) return Fail(scheduled.error());
  PurgeReport report;
  std::set<domain::Id> purged_organisations;
  for (const auto& org : scheduled->organisations) {
    if (!org.deleted || now < PurgeAfter(*org.deleted)) continue;
    auto purged = PurgeOrganisationWith(org, scheduled->projects);
    if (!purged) {
      report.failures.push_back({"organisation " + org.slug.str(), purged.error()});
      continue;
    }
    purged_organisations.insert(org.id);
    ++report.organisations;
    report.projects += *purged;
  }
  // A project's time is the earlier of its own and its organisation's: one scheduled on its
  // own before its organisation was may be due first.
  for (const auto& project : scheduled->projects) {
    if (purged_organisations.contains(project.org_id)) continue;  // gone with it
    if (!project.deleted || now < PurgeAfter(*project.deleted)) continue;
    if (auto purged = PurgeProjectNow(project); !purged) {
      report.failures.push_back({"project " + project.slug.str(), purged.error()});
      continue;
    }
    ++report.projects;
  }
  if (report.organisations > 0 || report.projects > 0) Purged();
  return report;
}

void PurgeDeleted::Purged() {
  if (after_purge_) after_purge_();
}

Result<std::int64_t> PurgeDeleted::PurgeOrganisation(const domain::Organisation& org) {
  auto scheduled = store_.ListScheduledDeletions();
  if (!scheduled) return Fail(scheduled.error());
  auto purged = PurgeOrganisationWith(org, scheduled->projects);
  if (purged) Purged();
  return purged;
}

Result<std::int64_t> PurgeDeleted::PurgeOrganisationWith(
    const domain::Organisation& org, const std::vector<domain::Project>& projects) {
  std::vector<const domain::Project*> owned;
  for (const auto& project : projects) {
    if (project.org_id == org.id) owned.push_back(&project);
  }
  // Keys first: should anything after fail, the organisation stays scheduled and the next
  // purge runs again, whereas keys deleted last could outlive their organisation.
  if (api_keys_ != nullptr) {
    for (const auto* project : owned) {
      if (auto keys = api_keys_->DeleteForProject(project->id, PurgeContext()); !keys) {
        return Fail(keys.error());
      }
    }
    if (auto keys = api_keys_->DeleteForOrganisation(org.id, PurgeContext()); !keys) {
      return Fail(keys.error());
    }
  }
  // Then the stores are released: hidden, the projects cannot be looked up again, so no request
  // reopens them, and the catalogue removes what they hold with no connection left on it (a
  // SQLite file is unlinked closed).
  // Their storage placed outside the catalogue's database goes before the catalogue rows, for
  // the same reason (and is removed again, harmlessly, should a later step fail).
  if (directory_ != nullptr) {
    for (const auto* project : owned) {
      if (auto removed = directory_->Remove(*project); !removed) return Fail(removed.error());
    }
    if (auto removed = directory_->RemoveOrganisation(org); !removed) {
      return Fail(removed.error());
    }
  }
  std::int64_t removed = 0;
  auto deleted = WritePlatform(
      trail_,
      PlatformEntry(PurgeContext(), org.id.str(), "organisation.purge", "organisation",
                    org.id.str(), AuditChange<domain::Organisation>(&org, nullptr)),
      [&]() -> Result<void> {
        auto done = store_.DeleteOrganisation(org.id, DeleteMode::kCascade);
        if (!done) return Fail(done.error());
        removed = *done;
        return {};
      },
      RecordFailure::kNo);
  if (!deleted && deleted.error().code == ErrorCode::kNotFound) {
    return static_cast<std::int64_t>(owned.size());  // another process purged it first
  }
  if (!deleted) return Fail(deleted.error());
  return removed;
}

Result<void> PurgeDeleted::PurgeProject(const domain::Project& project) {
  auto purged = PurgeProjectNow(project);
  if (purged) Purged();
  return purged;
}

Result<void> PurgeDeleted::PurgeProjectNow(const domain::Project& project) {
  // In the same order as an organisation's, for the same reasons.
  if (api_keys_ != nullptr) {
    if (auto keys = api_keys_->DeleteForProject(project.id, PurgeContext()); !keys) {
      return Fail(keys.error());
    }
  }
  if (directory_ != nullptr) {
    if (auto removed = directory_->Remove(project); !removed) return Fail(removed.error());
  }
  auto entry = PlatformEntry(PurgeContext(), project.org_id.str(), "project.purge", "project",
                             project.id.str(), AuditChange<domain::Project>(&project, nullptr));
  entry.project_id = project.id.str();
  auto deleted = WritePlatform(
      trail_, entry, [&] { return store_.DeleteProject(project.id); }, RecordFailure::kNo);
  if (!deleted && deleted.error().code == ErrorCode::kNotFound) return {};  // purged already
  return deleted;
}

}  // namespace socle::application
