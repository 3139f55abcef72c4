#include "socle/adapters/pending_audit.hpp"

namespace socle::adapters {

namespace {

PendingAudit*& Slot() noexcept {
  thread_local PendingAudit* pending = nullptr;
  return pending;
}

// Sets the thread's pending audit for one scope, and clears it however the scope ends.
class PendingAuditScope final {
 public:
  explicit PendingAuditScope(PendingAudit& pending) noexcept { Slot() = &pending; }
  ~PendingAuditScope() { Slot() = nullptr; }
  PendingAuditScope(const PendingAuditScope&) = delete;
  PendingAuditScope& operator=(const PendingAuditScope&) = delete;
};

}  // namespace

domain::Result<void> RunAudited(const void* store, const std::string& chain,
                                const application::AuditWrite& audit,
                                const std::function<domain::Result<void>()>& change,
                                const std::function<domain::Result<void>()>& record) {
  if (!audit || !change) {
    return domain::Fail(domain::Error::Internal("Audited without an audit or a change"));
  }
  if (Slot() != nullptr) {
    return domain::Fail(domain::Error::Internal("Audited calls cannot be nested"));
  }
  PendingAudit pending{store, chain, audit, false, std::nullopt};
  domain::Result<void> changed = [&] {
    PendingAuditScope scope(pending);
    return change();
  }();
  // The audit's failure rolled the change back; the method may have reworded the error it got.
  if (pending.failed) return domain::Fail(std::move(*pending.failed));
  if (!changed) return changed;
  if (pending.taken) return {};
  // The change succeeded without writing (it found nothing to do): the attempt is still
  // recorded, in a transaction of its own.
  return record();
}

domain::Result<PendingAudit*> PendingAuditFor(const void* store) {
  PendingAudit* pending = Slot();
  if (pending == nullptr || pending->store != store) return nullptr;
  if (pending->taken) {
    return domain::Fail(domain::Error::Internal("an audited change wrote more than once"));
  }
  return pending;
}

}  // namespace socle::adapters
