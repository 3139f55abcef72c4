#pragma once

#include <functional>
#include <memory>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "socle/application/audit_context.hpp"
#include "socle/application/ports/clock.hpp"
#include "socle/application/ports/project_store.hpp"
#include "socle/application/ports/random_source.hpp"
#include "socle/domain/audit.hpp"
#include "socle/domain/error.hpp"
#include "socle/domain/tenancy.hpp"

namespace socle::application {

/// One event as a use case describes it; AuditTrail adds the time, the chain and the hashes.
struct AuditEntry {
  std::string org_id;
  std::string project_id;
  AuditActor actor;
  std::string action;
  std::string target_kind;
  std::string target_collection;
  std::string target_id;
  domain::AuditOutcome outcome = domain::AuditOutcome::kSuccess;
  /// Masked changes (domain::DiffForAudit); personal values go to the target's personal part,
  /// whose subject is target_id.
  domain::AuditDiff diff;
  AuditOrigin origin;
};

/// Writes audit events: fills in the time and the personal parts, seals each event on its
/// chain's head and appends it inside the caller's transaction. Thread-safe.
class AuditTrail final {
 public:
  AuditTrail(Clock& clock, RandomSource& random, domain::Sha256Hex sha256)
      : clock_(clock), random_(random), sha256_(std::move(sha256)) {}

  /// Appends `entry` inside the transaction `appender` belongs to.
  domain::Result<void> Append(AuditAppender& appender, const AuditEntry& entry);
  /// Appends `entry` in a transaction of its own (attempts that changed nothing: denied or
  /// failed writes, reads of collections with auditReads).
  domain::Result<void> Record(ProjectStore& store, const AuditEntry& entry);

  const domain::Sha256Hex& sha256() const noexcept { return sha256_; }

 private:
  Clock& clock_;
  RandomSource& random_;
  domain::Sha256Hex sha256_;
};

/// A record transaction that records every insert, update and delete made through it —
/// cascades and cleared references included — and appends their events when the work is
/// done, in the same transaction: a change and its event commit together or not at all.
class AuditedTransaction final : public RecordTransaction {
 public:
  /// `base` gives every event its organisation, project, actor and origin, and its action when
  /// set (an account flow's "auth.confirm_verification" rather than "record.update").
  AuditedTransaction(RecordTransaction& inner, AuditTrail& trail, AuditEntry base)
      : inner_(inner), trail_(trail), base_(std::move(base)) {}

  domain::Result<std::optional<domain::Record>> Find(const domain::Collection& collection,
                                                     std::string_view id) override;
  domain::Result<std::size_t> CountExisting(const domain::Collection& collection,
                                            const std::vector<std::string>& ids) override;
  domain::Result<RecordPage> Query(const domain::Collection& collection,
                                   const RecordQuery& query) override;
  domain::Result<bool> Matches(const domain::Collection& collection, std::string_view id,
                               const domain::filter::ResolvedFilter& filter) override;
  domain::Result<void> Insert(const domain::Collection& collection,
                              const domain::Record& record) override;
  domain::Result<void> Update(const domain::Collection& collection,
                              const domain::Record& record) override;
  domain::Result<void> Delete(const domain::Collection& collection, std::string_view id) override;
  void WillAppendAudit() override { inner_.WillAppendAudit(); }
  domain::Result<domain::AuditHead> LockAuditHead() override { return inner_.LockAuditHead(); }
  domain::Result<void> AppendAudit(const domain::AuditEvent& event,
                                   const std::vector<domain::AuditPersonal>& personal) override {
    return inner_.AppendAudit(event, personal);
  }

  /// Appends the events of the changes made so far (and forgets them). Call it as the last
  /// step of the work, before the transaction commits.
  domain::Result<void> Flush();

 private:
  struct Change {
    const domain::Collection* collection;
    std::optional<domain::Record> before;
    std::optional<domain::Record> after;
  };

  RecordTransaction& inner_;
  AuditTrail& trail_;
  AuditEntry base_;
  std::vector<Change> changes_;
};

/// Runs `work` in a write transaction of `store`, recording every insert, update and delete it
/// makes (AuditedTransaction, with `base`'s organisation, project, actor, origin and, when set,
/// action) before the commit. Without a trail, a plain Write.
domain::Result<void> WriteAudited(ProjectStore& store, AuditTrail* trail, const AuditEntry& base,
                                  const std::function<domain::Result<void>(RecordTransaction&)>& work);

/// The outcome an error stands for: denied for permission and authentication refusals, error
/// for anything else.
domain::AuditOutcome OutcomeOf(const domain::Error& error) noexcept;

}  // namespace socle::application
