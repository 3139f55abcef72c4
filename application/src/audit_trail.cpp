#include "socle/application/audit_trail.hpp"

#include <array>
#include <cstdint>

namespace socle::application {

using domain::AuditEvent;
using domain::AuditPart;
using domain::AuditPersonal;
using domain::JsonValue;
using domain::Result;

namespace {

// Enough that a personal part's hash cannot be matched against guessed values.
constexpr std::size_t kSaltBytes = 16;

std::string Salt(RandomSource& random) {
  static constexpr char kHex[] = "0123456789abcdef";
  std::array<std::uint8_t, kSaltBytes> bytes{};
  random.Fill(bytes);
  std::string out;
  out.reserve(2 * kSaltBytes);
  for (const std::uint8_t byte : bytes) {
    out += kHex[byte >> 4];
    out += kHex[byte & 0xf];
  }
  return out;
}

}  // namespace

domain::AuditOutcome OutcomeOf(const domain::Error& error) noexcept {
  switch (error.code) {
    case domain::ErrorCode::kPermissionDenied:
    case domain::ErrorCode::kUnauthenticated:
      return domain::AuditOutcome::kDenied;
    default:
      return domain::AuditOutcome::kError;
  }
}

Result<void> AuditTrail::Append(AuditAppender& appender, const AuditEntry& entry) {
  AuditEvent event;
  event.at = clock_.Now();
  event.org_id = entry.org_id;
  event.project_id = entry.project_id;
  event.actor_kind = entry.actor.kind;
  event.actor_id = entry.actor.id;
  event.action = entry.action;
  event.target_kind = entry.target_kind;
  event.target_collection = entry.target_collection;
  event.target_id = entry.target_id;
  event.outcome = entry.outcome;
  event.request_id = entry.origin.request_id;
  event.reason = entry.origin.reason;
  event.changes = entry.diff.changes;

  std::vector<AuditPersonal> personal;
  if (!entry.origin.client_address.empty() || !entry.origin.user_agent.empty()) {
    std::vector<JsonValue::Member> values;
    if (!entry.origin.client_address.empty()) {
      values.emplace_back("clientAddress", JsonValue::String(entry.origin.client_address));
    }
    if (!entry.origin.user_agent.empty()) {
      values.emplace_back("userAgent", JsonValue::String(entry.origin.user_agent));
    }
    AuditPersonal part;
    part.part = AuditPart::kActor;
    part.subject = entry.actor.id;
    part.data = domain::CanonicalPersonal(Salt(random_), std::move(values));
    event.actor_personal = sha256_(part.data);
    personal.push_back(std::move(part));
  }
  if (!entry.diff.personal.empty()) {
    AuditPersonal part;
    part.part = AuditPart::kTarget;
    part.subject = entry.target_id;
    part.data = domain::CanonicalPersonal(Salt(random_), entry.diff.personal);
    event.target_personal = sha256_(part.data);
    personal.push_back(std::move(part));
  }

  auto head = appender.LockAuditHead();
  if (!head) return std::unexpected(std::move(head.error()));
  event = domain::SealAuditEvent(std::move(event), *head, sha256_);
  for (auto& part : personal) {
    part.lane = event.lane;
    part.seq = event.seq;
  }
  return appender.AppendAudit(event, personal);
}

Result<void> AuditTrail::Record(ProjectStore& store, const AuditEntry& entry) {
  return store.Write([&](RecordTransaction& tx) {
    tx.WillAppendAudit();
    return Append(tx, entry);
  });
}

// ---- AuditedTransaction ----------------------------------------------------------------------

Result<std::optional<domain::Record>> AuditedTransaction::Find(const domain::Collection& collection,
                                                               std::string_view id) {
  return inner_.Find(collection, id);
}

Result<std::size_t> AuditedTransaction::CountExisting(const domain::Collection& collection,
                                                      const std::vector<std::string>& ids) {
  return inner_.CountExisting(collection, ids);
}

Result<RecordPage> AuditedTransaction::Query(const domain::Collection& collection,
                                             const RecordQuery& query) {
  return inner_.Query(collection, query);
}

Result<bool> AuditedTransaction::Matches(const domain::Collection& collection, std::string_view id,
                                         const domain::filter::ResolvedFilter& filter) {
  return inner_.Matches(collection, id, filter);
}

Result<void> AuditedTransaction::Insert(const domain::Collection& collection,
                                        const domain::Record& record) {
  if (auto done = inner_.Insert(collection, record); !done) return done;
  changes_.push_back(Change{&collection, std::nullopt, record});
  return {};
}

Result<void> AuditedTransaction::Update(const domain::Collection& collection,
                                        const domain::Record& record) {
  // The stored state is read inside the transaction, which already locks the record, so the
  // diff is against exactly what this update replaces.
  auto before = inner_.Find(collection, record.Id(collection));
  if (!before) return std::unexpected(std::move(before.error()));
  if (auto done = inner_.Update(collection, record); !done) return done;
  changes_.push_back(Change{&collection, std::move(*before), record});
  return {};
}

Result<void> AuditedTransaction::Delete(const domain::Collection& collection,
                                        std::string_view id) {
  auto before = inner_.Find(collection, id);
  if (!before) return std::unexpected(std::move(before.error()));
  if (auto done = inner_.Delete(collection, id); !done) return done;
  if (*before) changes_.push_back(Change{&collection, std::move(*before), std::nullopt});
  return {};
}

Result<void> AuditedTransaction::Flush() {
  for (const Change& change : changes_) {
    AuditEntry entry = base_;
    const domain::Record& state = change.after ? *change.after : *change.before;
    if (entry.action.empty()) {
      entry.action = !change.before ? "record.create"
                     : !change.after ? "record.delete"
                                     : "record.update";
    }
    entry.target_kind = "record";
    entry.target_collection = change.collection->id;
    entry.target_id = state.Id(*change.collection);
    entry.outcome = domain::AuditOutcome::kSuccess;
    entry.diff = domain::DiffForAudit(*change.collection, change.before ? &*change.before : nullptr,
                                      change.after ? &*change.after : nullptr);
    if (auto done = trail_.Append(inner_, entry); !done) return done;
  }
  changes_.clear();
  return {};
}

Result<void> WriteAudited(ProjectStore& store, AuditTrail* trail, const AuditEntry& base,
                          const std::function<Result<void>(RecordTransaction&)>& work) {
  if (trail == nullptr) return store.Write(work);
  return store.Write([&](RecordTransaction& tx) -> Result<void> {
    tx.WillAppendAudit();
    AuditedTransaction audited(tx, *trail, base);
    if (auto done = work(audited); !done) return done;
    return audited.Flush();
  });
}

}  // namespace socle::application
