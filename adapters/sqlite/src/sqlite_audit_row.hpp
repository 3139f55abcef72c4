#pragma once

// The encoding and decoding of a stored audit event, and the conditions of an audit search,
// shared by the two trails of the SQLite adapter: the platform's (platform_audit,
// sqlite_catalogue_audit.cpp) and each project's (_audit, sqlite_project_store.cpp). Both
// tables hold the same event columns; the project's adds its lane in front, the platform's has
// the one lane 0 and does not store it.

#include <cstdint>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

#include "connection.hpp"
#include "socle/application/ports/audit_store.hpp"
#include "socle/domain/error.hpp"

namespace socle::adapters::sqlite {

/// The event of the current row of `row`, in lane `lane`, whose 20 event columns start at
/// `first`: seq, at (Unix microseconds), org_id, project_id, actor_kind, actor_id, action,
/// target_kind, target_collection, target_id, outcome, request_id, reason, changes,
/// actor_personal, target_personal, prev_hash, hash, then the parts' data, actor_data and
/// target_data (NULL once erased). The event comes with those of its personal parts still
/// present, actor first. A part's subject is not stored: the appenders accept only the event's
/// actor or target. `trail` names the events in the error a corrupt row gives ("audit event",
/// "platform audit event").
domain::Result<application::StoredAuditEvent> ReadAuditEvent(const Statement& row, int first,
                                                             std::int64_t lane,
                                                             std::string_view trail);

/// The personal parts of one event, as the row stores them: nullptr where there is none.
struct AuditRowParts {
  const domain::AuditPersonal* actor = nullptr;
  const domain::AuditPersonal* target = nullptr;
};

/// `personal` sorted into the row's two parts. The parts are columns of the event, so each must
/// belong to it: its lane and seq, at most one of each kind, and the subject the row implies
/// (the erasures find a subject's parts by the event's actor_id and target_id, and reads give
/// those back as the subjects); a part stored under another subject could never be erased by
/// its own. An internal error otherwise, so that a refusal comes before anything is written.
domain::Result<AuditRowParts> AuditPartsOf(const domain::AuditEvent& event,
                                           const std::vector<domain::AuditPersonal>& personal);

/// Binds, at the statement's next parameters, the columns ReadAuditEvent reads, from seq to
/// target_data (NULL for a part not there).
void BindAuditEvent(Statement& stmt, const domain::AuditEvent& event, const AuditRowParts& parts);

/// Appends to `sql`, a search of alias `a` with a WHERE clause, the conditions of the criteria of
/// `query` that are set, from actor_id to the `before` cursor (not org_id, which only the
/// project trails take): constant fragments with `?` placeholders, which SQLite numbers in order
/// of appearance, so that BindAuditCriteria binds them in the same order. `lane` is the lane's
/// expression in the cursor's comparison ("a.lane", or the constant of a one-lane table).
void AppendAuditCriteria(std::string& sql, const application::AuditQuery& query,
                         std::string_view lane);

/// Binds, at the statement's next parameters, the values of the conditions AppendAuditCriteria
/// appended for `query`.
void BindAuditCriteria(Statement& stmt, const application::AuditQuery& query);

/// Every row `stmt` returns, each decoded by `read(stmt)`; the first failure ends the read.
template <typename Read>
domain::Result<std::vector<application::StoredAuditEvent>> ReadAuditEvents(Statement& stmt,
                                                                            Read&& read) {
  std::vector<application::StoredAuditEvent> events;
  for (;;) {
    auto row = stmt.Step();
    if (!row) return domain::Fail(row.error());
    if (!*row) return events;
    auto stored = read(stmt);
    if (!stored) return domain::Fail(stored.error());
    events.push_back(std::move(*stored));
  }
}

}  // namespace socle::adapters::sqlite
