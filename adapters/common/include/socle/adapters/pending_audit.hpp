#pragma once

#include <functional>
#include <optional>
#include <string>

#include "socle/application/ports/audit_store.hpp"
#include "socle/domain/error.hpp"

namespace socle::adapters {

/// The audit a CatalogueStore::Audited call hands to the one write transaction its change
/// makes, for the stores whose writes all go through one write helper (SQLite, PostgreSQL). It
/// lives on RunAudited's stack; the calling thread's pointer to it is set only while the change
/// runs.
struct PendingAudit {
  const void* store;  ///< the store it belongs to: other stores' writes on this thread ignore it
  const std::string& chain;
  const application::AuditWrite& audit;
  bool taken = false;                   ///< a write transaction took it, whatever came of it
  std::optional<domain::Error> failed;  ///< the audit's own error, which rolled the change back
};

/// CatalogueStore::Audited: runs `change` with a pending audit of `store` set on the calling
/// thread (a thread_local, so that calls from several threads stay independent). The store's
/// write helper takes it (PendingAuditFor), runs it just before COMMIT and records its failure
/// in `failed`. When the change succeeded without writing, `record` records the attempt in a
/// transaction of its own. Nested calls are refused: the outer change would go unaudited or be
/// audited on the wrong chain.
domain::Result<void> RunAudited(const void* store, const std::string& chain,
                                const application::AuditWrite& audit,
                                const std::function<domain::Result<void>()>& change,
                                const std::function<domain::Result<void>()>& record);

/// For a store's write helper: the calling thread's pending audit of `store`, nullptr when
/// there is none. internal when it was taken already: an audited change gets one write
/// transaction, and a second would commit unaudited. The helper sets `taken` once its
/// transaction began.
domain::Result<PendingAudit*> PendingAuditFor(const void* store);

}  // namespace socle::adapters
