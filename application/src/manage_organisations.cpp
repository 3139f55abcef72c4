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

Result<Organisation> ManageOrganisations::Create(const CreateOrganisationInput& input) {
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
  auto stored = store_.InsertOrganisation(org);
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
                                                 std::string_view new_name) {
  auto name = DisplayName::Parse(new_name);
  if (!name) return Fail(name.error());
  auto org = Get(slug);
  if (!org) return org;
  org->name = *name;
  org->updated = clock_.Now();
  auto stored = store_.UpdateOrganisation(*org);
  if (!stored) return Fail(stored.error());
  return org;
}

Result<std::int64_t> ManageOrganisations::Delete(std::string_view slug, ForceDelete force) {
  auto org = Get(slug);
  if (!org) return Fail(org.error());
  // The projects a forced delete takes along, read first: the catalogue forgets them with it. A
  // project created in between is released when its directory entry expires.
  std::vector<domain::Project> doomed;
  if (force == ForceDelete::kYes && directory_ != nullptr) {
    domain::PageRequest request{1, domain::PageRequest::kMaxPerPage};
    for (;;) {
      auto page = store_.ListProjects(org->id, request);
      if (!page) return Fail(page.error());
      doomed.insert(doomed.end(), page->items.begin(), page->items.end());
      if (page->items.empty() || request.page >= page->TotalPages()) break;
      ++request.page;
    }
  }
  auto deleted = store_.DeleteOrganisation(
      org->id, force == ForceDelete::kYes ? DeleteMode::kCascade : DeleteMode::kRefuseIfProjects);
  if (!deleted) return deleted;
  for (const auto& project : doomed) directory_->Forget(project);
  return deleted;
}

}  // namespace socle::application
