#pragma once

#include <memory>

#include "socle/application/ports/project_store.hpp"
#include "socle/domain/error.hpp"
#include "socle/domain/tenancy.hpp"

namespace socle::application {

/// The project stores of every placement but the instance's own (domain::Placement::own()):
/// a region's cluster, and the database of a dedicated organisation on its region's cluster
/// (cluster_url empty: the instance's own cluster). Thread-safe.
class Clusters {
 public:
  virtual ~Clusters() = default;

  /// The stores of `placement`, its dedicated database created when missing. unavailable when
  /// the cluster cannot be reached or the database cannot be created; invalid_argument for a
  /// malformed cluster URL. Each call opens stores of their own: callers keep them.
  virtual domain::Result<std::shared_ptr<ProjectStores>> Open(
      const domain::Placement& placement) = 0;
  /// Drops the dedicated database of `placement` (database set) with everything in it,
  /// connections to it included. Idempotent.
  virtual domain::Result<void> DropDatabase(const domain::Placement& placement) = 0;
};

}  // namespace socle::application
