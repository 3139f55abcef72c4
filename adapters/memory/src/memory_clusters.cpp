#include "socle/adapters/memory/memory_clusters.hpp"

#include "socle/adapters/memory/memory_project_store.hpp"

namespace socle::adapters::memory {

domain::Result<std::shared_ptr<application::ProjectStores>> MemoryClusters::Open(
    const domain::Placement& placement) {
  std::lock_guard lock(mutex_);
  auto& stores = placements_[{placement.cluster_url, placement.database}];
  if (stores == nullptr) stores = std::make_shared<MemoryProjectStores>();
  return stores;
}

domain::Result<void> MemoryClusters::DropDatabase(const domain::Placement& placement) {
  if (placement.database.empty()) return {};
  std::lock_guard lock(mutex_);
  placements_.erase({placement.cluster_url, placement.database});
  return {};
}

}  // namespace socle::adapters::memory
