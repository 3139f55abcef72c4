#include "postgres_audit_row.hpp"

#include "postgres_record_codec.hpp"
#include "sql_text.hpp"

namespace socle::adapters::postgres {

namespace {

bool CanBindEvent(const domain::AuditEvent& e) {
  for (const std::string* text :
       {&e.org_id, &e.project_id, &e.actor_id, &e.action, &e.target_kind, &e.target_collection,
        &e.target_id, &e.request_id, &e.reason, &e.changes, &e.actor_personal, &e.target_personal,
        &e.prev_hash, &e.hash}) {
    if (!CanBindText(*text)) return false;
  }
  return true;
}

}  // namespace

domain::Error AuditHasNul() {
  return domain::Error::Make(domain::ErrorCode::kInvalidArgument,
                             "The audit event holds a NUL character, which cannot be stored.");
}

domain::Result<void> AppendAuditParams(const domain::AuditEvent& event,
                                       const std::vector<domain::AuditPersonal>& personal,
                                       Params& params) {
  std::optional<std::string> actor_data;
  std::optional<std::string> target_data;
  for (const domain::AuditPersonal& part : personal) {
    if (part.lane != event.lane || part.seq != event.seq) {
      return domain::Fail(domain::Error::Internal("audit personal part of another event"));
    }
    const bool actor = part.part == domain::AuditPart::kActor;
    if (part.subject != (actor ? event.actor_id : event.target_id)) {
      const std::string kind(domain::ToString(part.part));
      return domain::Fail(domain::Error::Internal("audit " + kind +
                                                  " part whose subject is not the event's " +
                                                  kind));
    }
    std::optional<std::string>& data = actor ? actor_data : target_data;
    if (data) return domain::Fail(domain::Error::Internal("audit personal part given twice"));
    if (!CanBindText(part.data)) return domain::Fail(AuditHasNul());
    data = part.data;
  }
  if (!CanBindEvent(event)) return domain::Fail(AuditHasNul());
  params.push_back(std::to_string(event.seq));
  params.push_back(event.at.ToIso8601());
  params.push_back(event.org_id);
  params.push_back(event.project_id);
  params.push_back(std::string(domain::ToString(event.actor_kind)));
  params.push_back(event.actor_id);
  params.push_back(event.action);
  params.push_back(event.target_kind);
  params.push_back(event.target_collection);
  params.push_back(event.target_id);
  params.push_back(std::string(domain::ToString(event.outcome)));
  params.push_back(event.request_id);
  params.push_back(event.reason);
  params.push_back(event.changes);
  params.push_back(event.actor_personal);
  params.push_back(event.target_personal);
  params.push_back(event.prev_hash);
  params.push_back(event.hash);
  params.push_back(std::move(actor_data));
  params.push_back(std::move(target_data));
  return {};
}

domain::Result<application::StoredAuditEvent> ReadAuditEvent(const PgResult& rows, int row,
                                                             int first, std::int64_t lane) {
  auto seq = ParseInt8(rows.Text(row, first));
  auto micros = ParseInt8(rows.Text(row, first + 1));
  if (!seq) return domain::Fail(seq.error());
  if (!micros) return domain::Fail(micros.error());
  auto text = [&](int column) { return std::string(rows.Text(row, first + column)); };
  application::StoredAuditEvent stored;
  domain::AuditEvent& event = stored.event;
  event.lane = lane;
  event.seq = *seq;
  event.at = domain::Timestamp::FromUnixMicros(*micros);
  event.org_id = text(2);
  event.project_id = text(3);
  auto kind = domain::ParseAuditActorKind(rows.Text(row, first + 4));
  if (!kind) {
    return domain::Fail(domain::Error::Internal("stored audit actor kind is unknown: " + text(4)));
  }
  event.actor_kind = *kind;
  event.actor_id = text(5);
  event.action = text(6);
  event.target_kind = text(7);
  event.target_collection = text(8);
  event.target_id = text(9);
  auto outcome = domain::ParseAuditOutcome(rows.Text(row, first + 10));
  if (!outcome) {
    return domain::Fail(domain::Error::Internal("stored audit outcome is unknown: " + text(10)));
  }
  event.outcome = *outcome;
  event.request_id = text(11);
  event.reason = text(12);
  event.changes = text(13);
  event.actor_personal = text(14);
  event.target_personal = text(15);
  event.prev_hash = text(16);
  event.hash = text(17);
  if (!rows.IsNull(row, first + 18)) {
    stored.personal.push_back(domain::AuditPersonal{
        event.lane, event.seq, domain::AuditPart::kActor, event.actor_id, text(18)});
  }
  if (!rows.IsNull(row, first + 19)) {
    stored.personal.push_back(domain::AuditPersonal{
        event.lane, event.seq, domain::AuditPart::kTarget, event.target_id, text(19)});
  }
  return stored;
}

bool AuditCriteriaBindable(const application::AuditQuery& query) {
  for (const std::string* text : {&query.actor_id, &query.action, &query.target_collection,
                                  &query.target_id, &query.subject}) {
    if (!CanBindText(*text)) return false;
  }
  return true;
}

void AddAuditCriteria(const application::AuditQuery& query, std::string_view lane,
                      SqlParams& params, const std::function<void(std::string)>& condition) {
  if (!query.actor_id.empty()) condition("a.actor_id = " + params.Add(query.actor_id, "text"));
  if (!query.action.empty()) condition("a.action = " + params.Add(query.action, "text"));
  if (!query.target_collection.empty()) {
    condition("a.target_collection = " + params.Add(query.target_collection, "text"));
  }
  if (!query.target_id.empty()) {
    condition("a.target_id = " + params.Add(query.target_id, "text"));
  }
  if (!query.subject.empty()) {
    const std::string subject = params.Add(query.subject, "text");
    condition("(a.actor_id = " + subject + " OR a.target_id = " + subject + ")");
  }
  if (query.from) condition("a.at >= " + params.Add(query.from->ToIso8601(), "timestamptz"));
  if (query.to) condition("a.at < " + params.Add(query.to->ToIso8601(), "timestamptz"));
  if (query.before) {
    condition("(a.at, " + std::string(lane) + ", a.seq) < (" +
              params.Add(query.before->at.ToIso8601(), "timestamptz") + ", " +
              params.Add(std::to_string(query.before->lane), "int8") + ", " +
              params.Add(std::to_string(query.before->seq), "int8") + ")");
  }
}

}  // namespace socle::adapters::postgres
