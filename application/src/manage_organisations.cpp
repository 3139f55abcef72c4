#include "socle/application/manage_organisations.hpp"

#include "socle/application/new_id.hpp"
#include "socle/application/validation.hpp"

namespace socle::application {

using domain::DisplayName;
using domain::Error;
using domain::ErrorCode;
using domain::Fail;
using domain::Organisation;
using domain::Result;
using domain::Slug;

Result<Organisation> ManageOrganisations::Create(const CreateOrganisationInput& input,
                                                 const AuditContext& context) {
  FieldErrors errors;
  auto slug = errors.Take(Slug::Parse(input.slug));
  auto name = errors.Take(DisplayName::Parse(input.name.value_or(input.slug)));
  auto tier = errors.Take(domain::ParseIsolationTier(input.tier.value_or("shared")));
  std::string region_text = input.region.value_or(std::string(domain::Region::kDefaultName));
  auto region = Slug::Parse(region_text);
  if (!region) {
    errors.Add(Error::Field("region", "validation_invalid_region", "Must be a region name."));
  }
  if (!errors.empty()) return Fail(errors.Release());

  auto known = store_.GetRegion(*region);
  if (!known) {
    if (known.error().code != ErrorCode::kNotFound) return Fail(known.error());
    return Fail(Error::Field("region", "validation_unknown_region",
                             "Unknown region \"" + region_text + "\"."));
  }

  auto now = clock_.Now();
  Organisation org{NewId(random_), *slug, *name, *region, *tier, now, now};
  // A creation that fails leaves no organisation whose chain would hold the attempt.
  auto stored = WritePlatform(
      trail_,
      PlatformEntry(context, org.id.str(), "organisation.create", "organisation", org.id.str(),
                    AuditChange<Organisation>(nullptr, &org)),
      [&] { return store_.InsertOrganisation(org); }, RecordFailure::kNo);
  if (!stored) return Fail(stored.error());
  return org;
}

Result<domain::PageOf<Organisation>> ManageOrganisations::List(const domain::PageRequest& page) {
  return store_.ListOrganisations(page);
}

Result<Organisation> ManageOrganisations::Get(std::string_view slug) {
  auto parsed = Slug::Parse(slug);
  if (!parsed) return Fail(parsed.error());
  return store_.GetOrganisation(*parsed);
}

Result<Organisation> ManageOrganisations::Rename(std::string_view slug,
                                                 std::string_view new_name,
                                                 const AuditContext& context) {
  auto name = DisplayName::Parse(new_name);
  if (!name) return Fail(name.error());
  auto org = Get(slug);
  if (!org) return org;
  const Organisation before = *org;
  org->name = *name;
  org->updated = clock_.Now();
  auto stored = WritePlatform(
      trail_,
      PlatformEntry(context, org->id.str(), "organisation.update", "organisation", org->id.str(),
                    AuditChange(&before, &*org)),
      [&] { return store_.UpdateOrganisation(*org); });
  if (!stored) return Fail(stored.error());
  return org;
}

namespace {

// The live projects of `org`, every page.
Result<std::vector<domain::Project>> LiveProjects(CatalogueStore& store, const Organisation& org) {
  std::vector<domain::Project> out;
  domain::PageRequest request{1, domain::PageRequest::kMaxPerPage};
  for (;;) {
    auto page = store.ListProjects(org.id, request);
    if (!page) return Fail(page.error());
    out.insert(out.end(), page->items.begin(), page->items.end());
    if (page->items.empty() || request.page >= page->TotalPages()) return out;
    ++request.page;
  }
}

}  // namespace

Result<Deletion> ManageOrganisations::Remove(std::string_view slug, ForceDelete force,
                                             const AuditContext& context) {
  auto org = Get(slug);
  if (!org) return Fail(org.error());
  const auto mode =
      force == ForceDelete::kYes ? DeleteMode::kCascade : DeleteMode::kRefuseIfProjects;
  const domain::Timestamp now = clock_.Now();
  // The projects it takes along, read first: the catalogue hides (or forgets) them with it. A
  // project created in between is let go when its directory entry expires.
  std::vector<domain::Project> doomed;
  if (force == ForceDelete::kYes && directory_ != nullptr) {
    auto live = LiveProjects(store_, *org);
    if (!live) return Fail(live.error());
    doomed = std::move(*live);
  }

  auto entry = PlatformEntry(context, org->id.str(), "organisation.delete", "organisation",
                             org->id.str(), AuditChange<Organisation>(&*org, nullptr));
  if (deletion_ == nullptr) {
    std::int64_t projects = 0;
    auto deleted = WritePlatform(trail_, entry, [&]() -> Result<void> {
      auto done = store_.DeleteOrganisation(org->id, mode);
      if (!done) return Fail(done.error());
      projects = *done;
      return {};
    });
    if (!deleted) return Fail(deleted.error());
    if (directory_ != nullptr) {
      for (const auto& project : doomed) {
        if (auto removed = directory_->Remove(project); !removed) return Fail(removed.error());
      }
      if (auto removed = directory_->RemoveOrganisation(*org); !removed) {
        return Fail(removed.error());
      }
    }
    return Deletion{projects, now, std::nullopt};
  }

  // Scheduled, the projects are hidden by the catalogue and no longer served, their stores kept
  // for a restore.
  entry.action = "organisation.schedule_deletion";
  std::int64_t hidden = 0;
  auto scheduled = WritePlatform(trail_, entry, [&]() -> Result<void> {
    auto done = store_.ScheduleOrganisationDeletion(org->id, now, mode);
    if (!done) return Fail(done.error());
    hidden = *done;
    return {};
  });
  if (!scheduled) return Fail(scheduled.error());
  for (const auto& project : doomed) directory_->Evict(project.slug.str());
  if (deletion_->grace().count() > 0) return Deletion{hidden, now, PurgeAfter(now)};
  // No grace period: purged now. Should that fail, the organisation stays scheduled (hidden,
  // due at once) and the next purge finishes the work.
  org->deleted = now;
  if (auto purged = deletion_->PurgeOrganisation(*org); !purged) return Fail(purged.error());
  return Deletion{hidden, now, std::nullopt};
}

Result<std::int64_t> ManageOrganisations::Delete(std::string_view slug, ForceDelete force,
                                                 const AuditContext& context) {
  auto deleted = Remove(slug, force, context);
  if (!deleted) return Fail(deleted.error());
  return deleted->projects;
}

Result<Organisation> ManageOrganisations::Restore(std::string_view slug,
                                                  const AuditContext& context) {
  auto parsed = Slug::Parse(slug);
  if (!parsed) return Fail(parsed.error());
  auto scheduled = store_.GetScheduledOrganisation(*parsed);
  if (!scheduled) {
    if (scheduled.error().code != ErrorCode::kNotFound) return Fail(scheduled.error());
    auto live = store_.GetOrganisation(*parsed);
    if (!live) return Fail(live.error());
    return Fail(ErrorCode::kFailedPrecondition, "The organisation is not scheduled for deletion.");
  }
  // Past its grace period the purge may already be under way (its API keys gone, say): what
  // was promised restorable no longer is.
  if (deletion_ != nullptr && scheduled->deleted &&
      clock_.Now() >= PurgeAfter(*scheduled->deleted)) {
    return Fail(ErrorCode::kFailedPrecondition,
                "The organisation's grace period is over; it is being purged.");
  }
  auto restored = WritePlatform(
      trail_,
      PlatformEntry(context, scheduled->id.str(), "organisation.restore", "organisation",
                    scheduled->id.str()),
      [&] { return store_.RestoreOrganisation(scheduled->id); });
  if (!restored) return Fail(restored.error());
  scheduled->deleted.reset();
  return *scheduled;
}

domain::Timestamp ManageOrganisations::PurgeAfter(domain::Timestamp deleted) const {
  return deletion_ == nullptr ? deleted : deletion_->PurgeAfter(deleted);
}

}  // namespace socle::application
