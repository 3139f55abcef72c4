#pragma once

#include <optional>
#include <string>
#include <vector>

#include "socle/domain/audit.hpp"
#include "socle/domain/error.hpp"

namespace socle::application {

/// Where signed audit checkpoints are kept: outside the audit tables (by default a file under
/// the data directory), so that someone able to rewrite the tables cannot also rewrite the
/// heads a checkpoint signed. Append-only; thread-safe.
/// Adapter: files::FileAuditCheckpoints.
class AuditCheckpoints {
 public:
  virtual ~AuditCheckpoints() = default;

  /// Appends `checkpoint` durably (it is on disk when this returns). unavailable when it
  /// cannot be written.
  virtual domain::Result<void> Append(const domain::AuditCheckpoint& checkpoint) = 0;
  /// The last checkpoint appended, nullopt when there is none. internal when what is stored
  /// cannot be read back (the store was damaged: verification must not pass silently then).
  virtual domain::Result<std::optional<domain::AuditCheckpoint>> Latest() = 0;
};

}  // namespace socle::application
