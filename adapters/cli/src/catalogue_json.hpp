#pragma once

#include <cstdint>
#include <optional>
#include <string>
#include <vector>

#include "socle/application/ports/catalogue_store.hpp"
#include "socle/domain/page.hpp"
#include "socle/domain/tenancy.hpp"

namespace socle::adapters::cli {

// The JSON documents `socle --json` prints. Organisations and projects, and lists of them, have
// the platform HTTP API's shapes so that one parser serves both.

/// {id, slug, name, region, tier, created, updated}
std::string OrganisationJson(const domain::Organisation& org);
/// {id, slug, name, org, created, updated}; org is the organisation's slug.
std::string ProjectJson(const domain::Project& project);
/// {page, perPage, totalItems, totalPages, items: [...]}
std::string OrganisationPageJson(const domain::PageOf<domain::Organisation>& page);
std::string ProjectPageJson(const domain::PageOf<domain::Project>& page);
/// {name, storeUrl}, the store URL's password redacted.
std::string RegionJson(const domain::Region& region);
/// {items: [{name, storeUrl}, ...]}
std::string RegionListJson(const std::vector<domain::Region>& regions);
/// {fromVersion, toVersion, applied: ["0001_catalogue", ...]}
std::string MigrationJson(const application::MigrationReport& report);
/// {slug, deleted: true[, projectsDeleted]} (the HTTP API answers deletes with no body).
std::string DeletedJson(const std::string& slug, std::optional<std::int64_t> projects_deleted);

}  // namespace socle::adapters::cli
