#pragma once

#include "socle/adapters/http/principal.hpp"
#include "socle/adapters/http/request.hpp"
#include "socle/adapters/http/response.hpp"
#include "socle/adapters/http/router.hpp"
#include "socle/application/audit_log.hpp"
#include "socle/application/data_subjects.hpp"
#include "socle/application/platform_catalogue.hpp"
#include "socle/domain/error.hpp"

namespace socle::adapters::http {

/// The audit trail for auditors, under /api/v1/audit (docs/audit.md, docs/api/openapi.yaml):
///
///   GET  /api/v1/audit                  ?org (required) &project &actor &action &collection
///                                       &target &subject &from &to (RFC 3339) &perPage (1-500,
///                                       default 100) &cursor &format=json|jsonl|csv
///                                       → 200 {items: [event], nextCursor: string|null}; jsonl
///                                       and csv export up to kMaxExport events, the cursor of
///                                       the rest in the X-Next-Cursor header
///   GET  /api/v1/audit/records/{collection}/{id} ?org &project (both required) &perPage
///                                       &cursor → 200 the record's history, newest first
///   GET  /api/v1/audit/verify           ?org &publicKey → 200 {ok, checkpoint, chains ...};
///                                       without org: every organisation (superusers)
///   POST /api/v1/audit/checkpoint       → 201 checkpoint (superusers)
///   with ServeDataSubjects (GDPR: a person's data in a project):
///   GET    /api/v1/projects/{project}/subjects/{collection}/{id} → 200 {records, events,
///          signIns, truncated}: their record, the records pointing at it, the audit events
///          about them with personal parts, their sign-in attempts (records.read_pii and
///          audit.read on the project)
///   DELETE /api/v1/projects/{project}/subjects/{collection}/{id} ?mode=delete|pseudonymise
///          → 200 {recordDeleted, recordPseudonymised, personalParts, signIns} (records.delete
///          and records.read_pii on the project; X-Audit-Reason recorded)
///
/// audit.read on the organisation (or the project, when one is named) is needed; a caller
/// without standing is told the organisation does not exist. Personal data (client addresses,
/// user agents, personal field values) is shown to callers holding records.read_pii there;
/// others get "masked".
class AuditApi final {
 public:
  static constexpr std::int64_t kMaxExport = 50'000;

  AuditApi(application::AuditLog& log, application::PlatformCatalogue& platform,
           PrincipalIdentifier identify)
      : log_(log), platform_(platform), identify_(std::move(identify)) {}

  /// Serves the data subjects' routes too (before Register); `subjects` must outlive the router.
  void ServeDataSubjects(application::ManageDataSubjects& subjects) { subjects_ = &subjects; }

  /// Adds the routes above to `router`; fails only on a route clash.
  domain::Result<void> Register(Router& router);

 private:
  Response Search(const Request& request);
  Response RecordHistory(const Request& request);
  Response Verify(const Request& request);
  Response Checkpoint(const Request& request);
  Response ExportSubject(const Request& request);
  Response EraseSubject(const Request& request);

  application::AuditLog& log_;
  application::PlatformCatalogue& platform_;
  PrincipalIdentifier identify_;
  application::ManageDataSubjects* subjects_ = nullptr;
};

}  // namespace socle::adapters::http
