#pragma once

// What the in-memory audit trails share: the platform's (MemoryCatalogueStore's chains) and each
// project's (MemoryProjectStore's lane). Private to the adapter.

#include <vector>

#include "socle/application/ports/audit_store.hpp"
#include "socle/domain/audit.hpp"
#include "socle/domain/error.hpp"

namespace socle::adapters::memory {

/// Whether `event` meets the criteria of `query` that are set, but for query.org_id, which
/// only a trail holding several organisations' events looks at (a platform chain holds one
/// organisation's, or none's).
bool AuditMatchesCriteria(const domain::AuditEvent& event, const application::AuditQuery& query);

/// `event` stored with `personal`, read back actor part first as every store returns them;
/// an internal error for a part of another event or a kind of part given twice.
domain::Result<application::StoredAuditEvent> StoredWithParts(
    const domain::AuditEvent& event, const std::vector<domain::AuditPersonal>& personal);

}  // namespace socle::adapters::memory
