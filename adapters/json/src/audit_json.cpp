#include "socle/adapters/json/audit_json.hpp"

#include "socle/adapters/json/csv_field.hpp"
#include "socle/adapters/json/record_json.hpp"
#include "socle/adapters/json/json_parser.hpp"

namespace socle::adapters::json {

namespace {

// The stored JSON text of changes or of a personal part, re-serialised: what the store holds
// is read, never trusted to be well-formed (a tampered row must not break the document).
void WriteStoredJson(JsonWriter& w, std::string_view text, bool drop_salt) {
  auto parsed = ParseJson(text);
  if (!parsed) {
    w.String(text);
    return;
  }
  if (!drop_salt || !parsed->IsObject()) {
    w.Value(*parsed);
    return;
  }
  w.BeginObject();
  for (const auto& [key, value] : parsed->members()) {
    if (key == "salt") continue;
    w.Key(key).Value(value);
  }
  w.EndObject();
}

}  // namespace

void WriteAuditEvent(JsonWriter& w, const application::StoredAuditEvent& stored,
                     bool show_personal) {
  const domain::AuditEvent& e = stored.event;
  w.BeginObject();
  w.Key("org").String(e.org_id);
  w.Key("project").String(e.project_id);
  w.Key("lane").Int(e.lane);
  w.Key("seq").Int(e.seq);
  w.Key("at").String(e.at.ToIso8601());
  w.Key("actor").BeginObject().Key("kind").String(domain::ToString(e.actor_kind));
  w.Key("id").String(e.actor_id).EndObject();
  w.Key("action").String(e.action);
  w.Key("target").BeginObject().Key("kind").String(e.target_kind);
  w.Key("collection").String(e.target_collection).Key("id").String(e.target_id).EndObject();
  w.Key("outcome").String(domain::ToString(e.outcome));
  w.Key("requestId").String(e.request_id);
  w.Key("reason").String(e.reason);
  w.Key("changes");
  WriteStoredJson(w, e.changes, false);
  w.Key("personal");
  if (!show_personal) {
    w.String("masked");
  } else {
    w.BeginObject();
    for (const auto part : {domain::AuditPart::kActor, domain::AuditPart::kTarget}) {
      w.Key(domain::ToString(part));
      const domain::AuditPersonal* found = nullptr;
      for (const auto& each : stored.personal) {
        if (each.part == part) found = &each;
      }
      if (found == nullptr) {
        w.Null();
      } else {
        WriteStoredJson(w, found->data, true);
      }
    }
    w.EndObject();
  }
  w.Key("hash").String(e.hash);
  w.Key("prevHash").String(e.prev_hash);
  w.EndObject();
}

std::string AuditCsvHeader() {
  return "at,org,project,lane,seq,actorKind,actorId,action,targetKind,targetCollection,targetId,"
         "outcome,requestId,reason,changes,hash,prevHash\r\n";
}

std::string AuditCsvRow(const application::StoredAuditEvent& stored) {
  const domain::AuditEvent& e = stored.event;
  const std::string fields[] = {
      e.at.ToIso8601(),          e.org_id,
      e.project_id,              std::to_string(e.lane),
      std::to_string(e.seq),     std::string(domain::ToString(e.actor_kind)),
      e.actor_id,                e.action,
      e.target_kind,             e.target_collection,
      e.target_id,               std::string(domain::ToString(e.outcome)),
      e.request_id,              e.reason,
      e.changes,                 e.hash,
      e.prev_hash,
  };
  std::string row;
  bool first = true;
  for (const auto& field : fields) {
    if (!first) row += ',';
    first = false;
    row += CsvField(field);
  }
  row += "\r\n";
  return row;
}

void WriteAuditCheckpoint(JsonWriter& w, const domain::AuditCheckpoint& checkpoint) {
  w.BeginObject();
  w.Key("at").String(checkpoint.at.ToIso8601());
  w.Key("key").String(checkpoint.key_id);
  w.Key("publicKey").String(checkpoint.public_key);
  w.Key("heads").BeginArray();
  for (const auto& head : checkpoint.heads) {
    w.BeginObject();
    w.Key("org").String(head.org_id).Key("project").String(head.project_id);
    w.Key("lane").Int(head.lane).Key("seq").Int(head.seq).Key("hash").String(head.hash);
    w.EndObject();
  }
  w.EndArray();
  w.Key("signature").String(checkpoint.signature);
  w.EndObject();
}

void WriteAuditVerification(JsonWriter& w, const application::AuditVerification& report) {
  w.BeginObject();
  w.Key("ok").Bool(report.ok);
  w.Key("checkpoint");
  if (report.checkpoint) {
    WriteAuditCheckpoint(w, *report.checkpoint);
  } else {
    w.Null();
  }
  w.Key("checkpointProblem").String(report.checkpoint_problem);
  w.Key("chains").BeginArray();
  for (const auto& chain : report.chains) {
    w.BeginObject();
    w.Key("trail").String(chain.trail);
    w.Key("org").String(chain.org_id);
    w.Key("project").String(chain.project_id);
    w.Key("projectSlug").String(chain.project_slug);
    w.Key("lane").Int(chain.lane);
    w.Key("events").Int(chain.events);
    w.Key("headSeq").Int(chain.head.seq);
    w.Key("headHash").String(chain.head.hash);
    w.Key("signedSeq").Int(chain.signed_seq);
    w.Key("ok").Bool(!chain.broken);
    w.Key("problem");
    if (chain.broken) {
      w.String(domain::ToString(*chain.broken));
    } else {
      w.Null();
    }
    w.Key("brokenAt").Int(chain.broken_at);
    w.Key("detail").String(chain.detail);
    w.EndObject();
  }
  w.EndArray();
  w.EndObject();
}

void WriteSubjectExport(JsonWriter& w, const application::SubjectExport& exported,
                        std::string_view subject_id) {
  w.BeginObject().Key("records").BeginArray();
  for (const auto& item : exported.records) {
    RecordViewer viewer;
    viewer.auth_collection_id = item.collection->id;
    viewer.auth_record_id = subject_id;
    viewer.readable = [](const domain::Field& field) { return !field.hidden; };
    w.BeginObject();
    WriteRecordMembers(w, *item.collection, item.record, nullptr, viewer);
    w.EndObject();
  }
  w.EndArray().Key("events").BeginArray();
  for (const auto& event : exported.events) WriteAuditEvent(w, event, true);
  w.EndArray().Key("signIns").BeginArray();
  for (const auto& attempt : exported.sign_ins) {
    w.BeginObject();
    w.Key("at").String(attempt.at.ToIso8601()).Key("identity").String(attempt.identity);
    w.Key("outcome").String(attempt.outcome).Key("address").String(attempt.address);
    w.Key("userAgent").String(attempt.user_agent).EndObject();
  }
  w.EndArray().Key("truncated").Bool(exported.truncated).EndObject();
}

void WriteErasureReport(JsonWriter& w, const application::ErasureReport& report) {
  w.BeginObject();
  w.Key("recordDeleted").Bool(report.record_deleted);
  w.Key("recordPseudonymised").Bool(report.record_pseudonymised);
  w.Key("personalParts").Int(report.personal_parts);
  w.Key("signIns").Int(report.sign_ins);
  w.EndObject();
}

}  // namespace socle::adapters::json
