#pragma once

#include <map>
#include <memory>
#include <mutex>
#include <string>

#include "socle/application/ports/clusters.hpp"

namespace socle::adapters::memory {

/// The Clusters in process memory: each placement has project stores of its own, which every
/// Open of the placement returns and DropDatabase forgets with their data. Thread-safe.
class MemoryClusters final : public application::Clusters {
 public:
  domain::Result<std::shared_ptr<application::ProjectStores>> Open(
      const domain::Placement& placement) override;
  domain::Result<void> DropDatabase(const domain::Placement& placement) override;

 private:
  std::mutex mutex_;
  std::map<std::pair<std::string, std::string>, std::shared_ptr<application::ProjectStores>>
      placements_;
};

}  // namespace socle::adapters::memory
