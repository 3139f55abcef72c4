#pragma once

#include <cstdint>
#include <string_view>
#include <vector>

#include "socle/application/audit_trail.hpp"
#include "socle/application/manage_records.hpp"
#include "socle/application/project_directory.hpp"
#include "socle/application/sign_in_log.hpp"
#include "socle/domain/error.hpp"

namespace socle::application {

/// Everything a project holds about one data subject (GDPR art. 15 and 20).
struct SubjectExport {
  domain::SchemaPtr schema;  ///< what the records' collection pointers point into
  /// The subject's own record first, then every record whose relation fields point at it.
  std::vector<ExpandedRecord> records;
  /// The audit events whose actor or target is the subject, newest first, with the personal
  /// parts not erased.
  std::vector<StoredAuditEvent> events;
  /// Their sign-in attempts (auth collections), newest first.
  std::vector<SignInAttempt> sign_ins;
  /// True when a bound was reached (kMaxRecords, kMaxEvents, kMaxSignIns): export again in
  /// parts (the audit API pages further).
  bool truncated = false;
};

/// How the subject's own record is erased: deleted (with the cascades its relations declare),
/// or kept with every personal field blanked (when other records must keep pointing at it).
enum class ErasureMode { kDelete, kPseudonymise };

/// What an erasure removed.
struct ErasureReport {
  bool record_deleted = false;
  bool record_pseudonymised = false;
  std::int64_t personal_parts = 0;  ///< audit personal parts deleted
  std::int64_t sign_ins = 0;        ///< sign-in attempts deleted
};

/// A project's data subjects: the records that stand for people (users of an auth collection,
/// a co-ownership's owners ...). Export gathers what is about them; erasure removes their
/// record (or its personal fields), the personal parts of every audit event about them
/// (docs/audit.md: the chains stay valid) and their sign-in attempts, and records that it
/// happened. Callers are trusted (superusers, the CLI): authorisation happens before.
/// Thread-safe.
class ManageDataSubjects final {
 public:
  static constexpr std::int64_t kMaxRecords = 10'000;
  static constexpr std::int64_t kMaxEvents = 100'000;
  static constexpr std::int64_t kMaxSignIns = 10'000;

  /// `audit` and `sign_ins` may be null (nothing of theirs is then exported or erased).
  ManageDataSubjects(ProjectDirectory& projects, ManageRecords& records, AuditTrail* audit,
                     SignInLog* sign_ins)
      : projects_(projects), records_(records), audit_(audit), sign_ins_(sign_ins) {}

  /// not_found when the project or collection does not exist; the record may be gone (its
  /// events are still exported).
  domain::Result<SubjectExport> Export(std::string_view project, std::string_view collection,
                                       std::string_view id);
  /// Erases the subject `id` of `collection`. Idempotent: a record already gone is fine, so
  /// an erasure interrupted half-way is completed by running it again. not_found for an
  /// unknown project or collection; invalid_argument when deleting is refused by a required
  /// reference (pseudonymise instead) or the id is malformed.
  domain::Result<ErasureReport> Erase(std::string_view project, std::string_view collection,
                                      std::string_view id, ErasureMode mode,
                                      const AuditContext& who);

 private:
  ProjectDirectory& projects_;
  ManageRecords& records_;
  AuditTrail* audit_;
  SignInLog* sign_ins_;
};

}  // namespace socle::application
