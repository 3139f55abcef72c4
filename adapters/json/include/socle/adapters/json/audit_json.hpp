#pragma once

#include <string>
#include <string_view>

#include "socle/adapters/json/json_writer.hpp"
#include "socle/application/audit_log.hpp"
#include "socle/application/data_subjects.hpp"
#include "socle/application/ports/project_store.hpp"
#include "socle/domain/audit.hpp"

// The audit trail's documents, shared by the HTTP API and `socle audit`.
namespace socle::adapters::json {

/// One event: {project, lane, seq, at, actor: {kind, id}, action, target: {kind, collection,
/// id}, outcome, requestId, reason, changes: [...], personal, hash, prevHash}. `personal` is
/// {actor: {...} | null, target: {...} | null} with the parts still present (without their
/// salt) when `show_personal`, else the string "masked"; an erased part is null.
void WriteAuditEvent(JsonWriter& w, const application::StoredAuditEvent& stored,
                     bool show_personal);

/// The CSV header of WriteAuditCsvRow's rows (RFC 4180, CRLF-terminated).
std::string AuditCsvHeader();
/// One event as a CSV row (CRLF-terminated); changes as their JSON text; no personal data.
std::string AuditCsvRow(const application::StoredAuditEvent& stored);

/// {ok, checkpoint: {at, key, publicKey, heads, signature} | null, checkpointProblem, chains:
/// [{org, project, projectSlug, lane, events, headSeq, headHash, signedSeq, ok, problem,
/// brokenAt, detail}]}.
void WriteAuditVerification(JsonWriter& w, const application::AuditVerification& report);

/// {at, key, publicKey, heads: [{org, project, lane, seq, hash}], signature}.
void WriteAuditCheckpoint(JsonWriter& w, const domain::AuditCheckpoint& checkpoint);

/// A data subject's export, the same document however it is asked for (HTTP, CLI):
/// {records, events, signIns, truncated}. Records show what is theirs as they would see it,
/// never secrets (password hashes, token keys, hidden fields); `subject_id` is the record
/// they are.
void WriteSubjectExport(JsonWriter& w, const application::SubjectExport& exported,
                        std::string_view subject_id);
/// What an erasure did: {recordDeleted, recordPseudonymised, personalParts, signIns}.
void WriteErasureReport(JsonWriter& w, const application::ErasureReport& report);

}  // namespace socle::adapters::json
