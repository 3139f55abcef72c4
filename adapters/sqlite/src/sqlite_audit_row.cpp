#include "sqlite_audit_row.hpp"

#include <string>

namespace socle::adapters::sqlite {

namespace {

constexpr std::string_view kByActor = " AND a.actor_id = ?";
constexpr std::string_view kByAction = " AND a.action = ?";
constexpr std::string_view kByCollection = " AND a.target_collection = ?";
constexpr std::string_view kByTarget = " AND a.target_id = ?";
constexpr std::string_view kBySubject = " AND (a.actor_id = ? OR a.target_id = ?)";
constexpr std::string_view kFrom = " AND a.at >= ?";
constexpr std::string_view kTo = " AND a.at < ?";

}  // namespace

domain::Result<application::StoredAuditEvent> ReadAuditEvent(const Statement& row, int first,
                                                             std::int64_t lane,
                                                             std::string_view trail) {
  auto corrupt = [&](std::string detail) {
    return domain::Error::Internal("a stored " + std::string(trail) +
                                   " is invalid: " + std::move(detail));
  };
  application::StoredAuditEvent stored;
  domain::AuditEvent& event = stored.event;
  auto text = [&](int column) { return std::string(row.Text(first + column)); };
  event.lane = lane;
  event.seq = row.Int(first);
  event.at = domain::Timestamp::FromUnixMicros(row.Int(first + 1));
  event.org_id = text(2);
  event.project_id = text(3);
  const auto kind = domain::ParseAuditActorKind(row.Text(first + 4));
  if (!kind) return domain::Fail(corrupt("actor kind " + text(4)));
  event.actor_kind = *kind;
  event.actor_id = text(5);
  event.action = text(6);
  event.target_kind = text(7);
  event.target_collection = text(8);
  event.target_id = text(9);
  const auto outcome = domain::ParseAuditOutcome(row.Text(first + 10));
  if (!outcome) return domain::Fail(corrupt("outcome " + text(10)));
  event.outcome = *outcome;
  event.request_id = text(11);
  event.reason = text(12);
  event.changes = text(13);
  event.actor_personal = text(14);
  event.target_personal = text(15);
  event.prev_hash = text(16);
  event.hash = text(17);
  if (!row.IsNull(first + 18)) {
    stored.personal.push_back(domain::AuditPersonal{
        event.lane, event.seq, domain::AuditPart::kActor, event.actor_id, text(18)});
  }
  if (!row.IsNull(first + 19)) {
    stored.personal.push_back(domain::AuditPersonal{
        event.lane, event.seq, domain::AuditPart::kTarget, event.target_id, text(19)});
  }
  return stored;
}

domain::Result<AuditRowParts> AuditPartsOf(const domain::AuditEvent& event,
                                           const std::vector<domain::AuditPersonal>& personal) {
  AuditRowParts parts;
  for (const auto& part : personal) {
    if (part.lane != event.lane || part.seq != event.seq) {
      return domain::Fail(domain::Error::Internal("audit personal part of another event"));
    }
    const bool is_actor = part.part == domain::AuditPart::kActor;
    const domain::AuditPersonal*& slot = is_actor ? parts.actor : parts.target;
    if (slot != nullptr) {
      return domain::Fail(domain::Error::Internal("audit personal part given twice"));
    }
    if (part.subject != (is_actor ? event.actor_id : event.target_id)) {
      const std::string kind(domain::ToString(part.part));
      return domain::Fail(domain::Error::Internal("audit " + kind +
                                                  " part whose subject is not the event's " +
                                                  kind));
    }
    slot = &part;
  }
  return parts;
}

void BindAuditEvent(Statement& stmt, const domain::AuditEvent& event, const AuditRowParts& parts) {
  stmt.Bind(event.seq).Bind(event.at.unix_micros());
  stmt.Bind(event.org_id).Bind(event.project_id).Bind(domain::ToString(event.actor_kind));
  stmt.Bind(event.actor_id).Bind(event.action).Bind(event.target_kind);
  stmt.Bind(event.target_collection).Bind(event.target_id);
  stmt.Bind(domain::ToString(event.outcome)).Bind(event.request_id).Bind(event.reason);
  stmt.Bind(event.changes).Bind(event.actor_personal).Bind(event.target_personal);
  stmt.Bind(event.prev_hash).Bind(event.hash);
  for (const domain::AuditPersonal* part : {parts.actor, parts.target}) {
    if (part != nullptr) {
      stmt.Bind(part->data);
    } else {
      stmt.BindNull();
    }
  }
}

void AppendAuditCriteria(std::string& sql, const application::AuditQuery& query,
                         std::string_view lane) {
  if (!query.actor_id.empty()) sql += kByActor;
  if (!query.action.empty()) sql += kByAction;
  if (!query.target_collection.empty()) sql += kByCollection;
  if (!query.target_id.empty()) sql += kByTarget;
  if (!query.subject.empty()) sql += kBySubject;
  if (query.from) sql += kFrom;
  if (query.to) sql += kTo;
  if (query.before) {
    sql += " AND (a.at, ";
    sql += lane;
    sql += ", a.seq) < (?, ?, ?)";
  }
}

void BindAuditCriteria(Statement& stmt, const application::AuditQuery& query) {
  if (!query.actor_id.empty()) stmt.Bind(query.actor_id);
  if (!query.action.empty()) stmt.Bind(query.action);
  if (!query.target_collection.empty()) stmt.Bind(query.target_collection);
  if (!query.target_id.empty()) stmt.Bind(query.target_id);
  if (!query.subject.empty()) stmt.Bind(query.subject).Bind(query.subject);
  if (query.from) stmt.Bind(query.from->unix_micros());
  if (query.to) stmt.Bind(query.to->unix_micros());
  if (query.before) {
    stmt.Bind(query.before->at.unix_micros()).Bind(query.before->lane);
    stmt.Bind(query.before->seq);
  }
}

}  // namespace socle::adapters::sqlite
