#include "memory_audit.hpp"

#include <algorithm>
#include <tuple>

namespace socle::adapters::memory {

bool AuditMatchesCriteria(const domain::AuditEvent& event, const application::AuditQuery& query) {
  if (!query.actor_id.empty() && event.actor_id != query.actor_id) return false;
  if (!query.action.empty() && event.action != query.action) return false;
  if (!query.target_collection.empty() && event.target_collection != query.target_collection) {
    return false;
  }
  if (!query.target_id.empty() && event.target_id != query.target_id) return false;
  if (!query.subject.empty() && event.actor_id != query.subject &&
      event.target_id != query.subject) {
    return false;
  }
  if (query.from && event.at < *query.from) return false;
  if (query.to && !(event.at < *query.to)) return false;
  if (query.before) {
    const auto& cursor = *query.before;
    const bool older =
        std::tie(event.at, event.lane, event.seq) < std::tie(cursor.at, cursor.lane, cursor.seq);
    if (!older) return false;
  }
  return true;
}

domain::Result<application::StoredAuditEvent> StoredWithParts(
    const domain::AuditEvent& event, const std::vector<domain::AuditPersonal>& personal) {
  application::StoredAuditEvent stored{event, {}};
  for (const auto& part : personal) {
    if (part.lane != event.lane || part.seq != event.seq) {
      return domain::Fail(domain::Error::Internal("audit personal part of another event"));
    }
    const bool twice = std::any_of(stored.personal.begin(), stored.personal.end(),
                                   [&](const auto& other) { return other.part == part.part; });
    if (twice) return domain::Fail(domain::Error::Internal("audit personal part given twice"));
    stored.personal.push_back(part);
  }
  std::sort(stored.personal.begin(), stored.personal.end(),
            [](const auto& a, const auto& b) { return a.part < b.part; });
  return stored;
}

}  // namespace socle::adapters::memory
