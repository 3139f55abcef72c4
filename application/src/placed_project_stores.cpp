#include "socle/application/placed_project_stores.hpp"

#include <utility>

namespace socle::application {

using domain::ErrorCode;
using domain::Fail;
using domain::Placement;
using domain::Result;

std::string PlacedProjectStores::KeyOf(const Placement& placement) {
  // A URL holds no newline (ManageRegions refuses control characters).
  return placement.cluster_url + '\n' + placement.database;
}

Result<Placement> PlacedProjectStores::Place(const std::optional<domain::Slug>& region,
                                             domain::IsolationTier tier,
                                             const domain::Id& org_id) {
  // A project without a region was not read from the catalogue: the platform's own system
  // project, which lives with the catalogue.
  if (!region) return Placement{};
  const domain::Slug& name = *region;
  domain::Region where{name, ""};  // the default region, unless given a cluster of its own
  auto found = catalogue_.GetRegion(name);
  if (found) {
    where = std::move(*found);
  } else if (found.error().code != ErrorCode::kNotFound) {
    return Fail(std::move(found.error()));
  } else if (name.str() != domain::Region::kDefaultName) {
    return Fail(ErrorCode::kUnavailable,
                "The region " + name.str() + " of this organisation is not defined.");
  }
  Placement placement = domain::PlacementOf(where, tier, org_id);
  if (placement.cluster_url.empty() && own_cluster_ == OwnCluster::kDatabasePerProject) {
    placement.database.clear();
  }
  return placement;
}

Result<Placement> PlacedProjectStores::PlacementOf(const domain::Project& project) {
  return Place(project.org_region, project.org_tier, project.org_id);
}

Result<std::shared_ptr<ProjectStores>> PlacedProjectStores::StoresOf(const Placement& placement) {
  if (placement.own()) return own_;
  const std::string key = KeyOf(placement);
  {
    std::lock_guard lock(mutex_);
    if (auto it = placed_.find(key); it != placed_.end()) return it->second;
  }
  // Opened outside the lock (it connects, and may create a database); should two callers race,
  // the first one's stores are kept.
  auto opened = clusters_->Open(placement);
  if (!opened) {
    // Whatever went wrong (a cluster down, a malformed URL, no right to create the database)
    // is the operator's to fix, not the caller's: the project is unavailable, and the detail
    // goes to the logs.
    domain::Error error = std::move(opened.error());
    if (error.code != ErrorCode::kUnavailable) {
      error.internal = "placing the project: " + error.message + " / " + error.internal;
      error.code = ErrorCode::kUnavailable;
    }
    error.message = "The project's storage cannot be reached.";
    return Fail(std::move(error));
  }
  std::lock_guard lock(mutex_);
  auto [it, inserted] = placed_.emplace(key, std::move(*opened));
  return it->second;
}

Result<std::shared_ptr<ProjectStore>> PlacedProjectStores::Open(const domain::Project& project) {
  auto placement = PlacementOf(project);
  if (!placement) return Fail(std::move(placement.error()));
  auto stores = StoresOf(*placement);
  if (!stores) return Fail(std::move(stores.error()));
  auto store = (*stores)->Open(project);
  if (!store) return store;
  if (!placement->own()) {
    std::lock_guard lock(mutex_);
    by_project_[project.id.str()] = *stores;
  }
  return store;
}

void PlacedProjectStores::Close(const domain::Id& project_id) {
  std::shared_ptr<ProjectStores> stores;
  {
    std::lock_guard lock(mutex_);
    if (auto it = by_project_.find(project_id.str()); it != by_project_.end()) {
      stores = std::move(it->second);
      by_project_.erase(it);
    }
  }
  if (stores != nullptr) {
    stores->Close(project_id);
  } else {
    own_->Close(project_id);
  }
}

Result<void> PlacedProjectStores::Remove(const domain::Project& project) {
  Close(project.id);
  auto placement = PlacementOf(project);
  if (!placement) return Fail(std::move(placement.error()));
  // In the instance's own store, the catalogue removes the project's storage itself, in the
  // transaction that deletes its row (both or neither): nothing to do here.
  if (placement->own()) return {};
  auto stores = StoresOf(*placement);
  if (!stores) return Fail(std::move(stores.error()));
  return (*stores)->Remove(project);
}

Result<void> PlacedProjectStores::RemoveOrganisation(const domain::Organisation& org) {
  auto placement = Place(std::optional<domain::Slug>(org.region), org.tier, org.id);
  if (!placement) return Fail(std::move(placement.error()));
  if (placement->database.empty()) return own_->RemoveOrganisation(org);
  {
    // Its stores are forgotten first: their pooled connections would hold the database.
    std::lock_guard lock(mutex_);
    auto doomed = placed_.find(KeyOf(*placement));
    if (doomed != placed_.end()) {
      for (auto it = by_project_.begin(); it != by_project_.end();) {
        it = it->second == doomed->second ? by_project_.erase(it) : std::next(it);
      }
      placed_.erase(doomed);
    }
  }
  return clusters_->DropDatabase(*placement);
}

}  // namespace socle::application
