#pragma once

#include <mutex>
#include <optional>
#include <vector>

#include "socle/application/ports/audit_checkpoints.hpp"

namespace socle::adapters::memory {

/// Audit checkpoints in process memory, for embeddings whose stores are in memory too (nothing
/// outlives the process, so there is nothing to keep apart). Thread-safe.
class MemoryAuditCheckpoints final : public application::AuditCheckpoints {
 public:
  domain::Result<void> Append(const domain::AuditCheckpoint& checkpoint) override;
  domain::Result<std::optional<domain::AuditCheckpoint>> Latest() override;

 private:
  std::mutex mutex_;
  std::vector<domain::AuditCheckpoint> checkpoints_;
};

}  // namespace socle::adapters::memory
