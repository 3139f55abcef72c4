#pragma once

#include <map>
#include <memory>
#include <mutex>
#include <string>

#include "socle/application/ports/catalogue_store.hpp"
#include "socle/application/ports/clusters.hpp"
#include "socle/application/ports/project_store.hpp"
#include "socle/domain/error.hpp"
#include "socle/domain/id.hpp"
#include "socle/domain/tenancy.hpp"

namespace socle::application {

/// The ProjectStores that puts each project where its organisation's region and tier say
/// (domain::PlacementOf): the shared tier of the default region in the instance's own stores,
/// beside the catalogue; anything else in the stores `clusters` opens for that placement (a
/// region's cluster; a dedicated organisation's own database), opened on first use and kept.
/// Thread-safe.
class PlacedProjectStores final : public ProjectStores {
 public:
  /// What a dedicated organisation of a region without a cluster URL (the instance's own
  /// cluster) gets.
  enum class OwnCluster {
    /// A database of its own on the instance's cluster (PostgreSQL, memory).
    kDatabases,
    /// The instance's own stores, where each project is already a database of its own (one
    /// SQLite file per project).
    kDatabasePerProject,
  };

  PlacedProjectStores(CatalogueStore& catalogue, std::shared_ptr<ProjectStores> own,
                      std::shared_ptr<Clusters> clusters, OwnCluster own_cluster)
      : catalogue_(catalogue),
        own_(std::move(own)),
        clusters_(std::move(clusters)),
        own_cluster_(own_cluster) {}

  /// The project's store in its placement. unavailable when its region is unknown or its
  /// placement's stores cannot be opened (whatever the cause: a cluster down, a malformed
  /// cluster URL, a database that cannot be created).
  domain::Result<std::shared_ptr<ProjectStore>> Open(const domain::Project& project) override;
  void Close(const domain::Id& project_id) override;
  domain::Result<void> Remove(const domain::Project& project) override;
  domain::Result<void> RemoveOrganisation(const domain::Organisation& org) override;

  /// Where the project's data lives (its region read from the catalogue); after
  /// OwnCluster::kDatabasePerProject, a dedicated placement on the own cluster is own().
  domain::Result<domain::Placement> PlacementOf(const domain::Project& project);

 private:
  domain::Result<domain::Placement> Place(const std::optional<domain::Slug>& region,
                                          domain::IsolationTier tier, const domain::Id& org_id);
  // The stores serving `placement`, opened when missing.
  domain::Result<std::shared_ptr<ProjectStores>> StoresOf(const domain::Placement& placement);
  static std::string KeyOf(const domain::Placement& placement);

  CatalogueStore& catalogue_;
  std::shared_ptr<ProjectStores> own_;
  std::shared_ptr<Clusters> clusters_;
  OwnCluster own_cluster_;
  std::mutex mutex_;
  std::map<std::string, std::shared_ptr<ProjectStores>> placed_;      // by KeyOf(placement)
  std::map<std::string, std::shared_ptr<ProjectStores>> by_project_;  // open projects, by id
};

}  // namespace socle::application
