#pragma once

#include <vector>

#include "socle/adapters/json/json_writer.hpp"
#include "socle/domain/page.hpp"
#include "socle/domain/tenancy.hpp"

namespace socle::adapters::json {

// The platform catalogue's JSON shapes, written once for every adapter that prints them (the
// HTTP API and `socle --json`), so the two can never drift apart.

/// {id, slug, name, region, tier, created, updated}
void WriteOrganisation(JsonWriter& w, const domain::Organisation& org);
/// {id, slug, name, org, created, updated}; org is the owning organisation's slug.
void WriteProject(JsonWriter& w, const domain::Project& project);
/// {name, storeUrl}; the store URL with its password redacted (domain::RedactUrlPassword),
/// always: no output of Socle shows a region's password.
void WriteRegion(JsonWriter& w, const domain::Region& region);
/// {items: [...]}: regions are few, so their list is not paged.
void WriteRegionList(JsonWriter& w, const std::vector<domain::Region>& regions);
/// PocketBase's list shape {page, perPage, totalItems, totalPages, items: [...]}.
void WriteOrganisationPage(JsonWriter& w, const domain::PageOf<domain::Organisation>& page);
void WriteProjectPage(JsonWriter& w, const domain::PageOf<domain::Project>& page);

}  // namespace socle::adapters::json
