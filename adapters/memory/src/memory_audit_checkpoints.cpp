#include "socle/adapters/memory/memory_audit_checkpoints.hpp"

namespace socle::adapters::memory {

domain::Result<void> MemoryAuditCheckpoints::Append(const domain::AuditCheckpoint& checkpoint) {
  std::lock_guard lock(mutex_);
  checkpoints_.push_back(checkpoint);
  return {};
}

domain::Result<std::optional<domain::AuditCheckpoint>> MemoryAuditCheckpoints::Latest() {
  std::lock_guard lock(mutex_);
  if (checkpoints_.empty()) return std::optional<domain::AuditCheckpoint>();
  return std::optional<domain::AuditCheckpoint>(checkpoints_.back());
}

}  // namespace socle::adapters::memory
