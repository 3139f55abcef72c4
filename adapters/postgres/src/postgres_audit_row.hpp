#pragma once

// The encoding and decoding of stored audit events, and the conditions of an audit search,
// shared by the two trails of the PostgreSQL adapter: the platform's (socle.platform_audit,
// postgres_catalogue_audit.cpp) and each project's (<schema>._audit, postgres_audit_trail.cpp).
// Both tables hold the same event columns; the project's adds its lane in front, the
// platform's has the one lane 0 and does not store it.

#include <cstddef>
#include <cstdint>
#include <functional>
#include <optional>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

#include "connection.hpp"
#include "postgres_filter_compiler.hpp"
#include "socle/application/ports/audit_store.hpp"
#include "socle/domain/error.hpp"

namespace socle::adapters::postgres {

/// The event of row `row` of `rows`, in lane `lane`, whose 20 event columns start at `first`:
/// seq, at (Unix microseconds, int8), org_id, project_id, actor_kind, actor_id, action,
/// target_kind, target_collection, target_id, outcome, request_id, reason, changes,
/// actor_personal, target_personal, prev_hash, hash, then the parts' data, actor_data and
/// target_data (NULL once erased). The event comes with those of its personal parts still
/// present, the actor part first; a part's subject is its event's actor_id or target_id, which
/// the appenders made sure of.
domain::Result<application::StoredAuditEvent> ReadAuditEvent(const PgResult& rows, int row,
                                                             int first, std::int64_t lane);

/// The error of an event or a part holding a NUL character, which a text parameter cannot carry.
domain::Error AuditHasNul();

/// Appends to `params` the values of the columns ReadAuditEvent reads, from seq (at as
/// ISO 8601) to actor_data and target_data (NULL for a part not there), once the event and its
/// parts can be stored; nothing is appended otherwise. A part is stored as its event's
/// actor_data or target_data, its subject implied by the event's actor_id or target_id: a part
/// of another event, given twice, or of another subject would be lost or misattributed (and
/// erased with the wrong subject), so it is refused (an internal error); text holding a NUL is
/// refused with AuditHasNul.
domain::Result<void> AppendAuditParams(const domain::AuditEvent& event,
                                       const std::vector<domain::AuditPersonal>& personal,
                                       Params& params);

/// Whether the text criteria of `query` from actor_id to subject can be bound. No stored value
/// holds NUL: a search by one that does matches nothing, and is not run.
bool AuditCriteriaBindable(const application::AuditQuery& query);

/// Adds, each through `condition`, the conditions over alias `a` of the criteria of `query` that
/// are set, from actor_id to the `before` cursor (not org_id, which only the project trails
/// take), their values added to `params`. `lane` is the lane's expression in the cursor's
/// comparison ("a.lane", or the constant of a one-lane table).
void AddAuditCriteria(const application::AuditQuery& query, std::string_view lane,
                      SqlParams& params, const std::function<void(std::string)>& condition);

/// Every row of `rows`, each decoded by `read(row)`, once the result has the `columns` expected;
/// `trail` names the trail in the error an unexpected result gives. The first failure ends it.
template <typename Read>
domain::Result<std::vector<application::StoredAuditEvent>> ReadAuditEvents(const PgResult& rows,
                                                                            int columns,
                                                                            std::string_view trail,
                                                                            Read&& read) {
  if (rows.Columns() != columns) {
    return domain::Fail(
        domain::Error::Internal("unexpected columns reading " + std::string(trail)));
  }
  std::vector<application::StoredAuditEvent> events;
  events.reserve(static_cast<std::size_t>(rows.Rows()));
  for (int row = 0; row < rows.Rows(); ++row) {
    auto stored = read(row);
    if (!stored) return domain::Fail(stored.error());
    events.push_back(std::move(*stored));
  }
  return events;
}

}  // namespace socle::adapters::postgres
