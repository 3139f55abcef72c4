#pragma once

// What the audit contract suites (a project's trail, the catalogue's chains) share: the real
// SHA-256, and events sealed on an appender's head and appended with their personal parts, as
// AuditTrail does.
#include <cstdint>
#include <optional>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

#include "socle/adapters/crypto/digest.hpp"
#include "socle/application/ports/audit_store.hpp"
#include "socle/domain/audit.hpp"

namespace socle::testing {

inline std::string HexSha256(std::string_view bytes) {
  return adapters::crypto::ToHex(adapters::crypto::Sha256(bytes));
}

inline const domain::Sha256Hex kSha256 = [](std::string_view bytes) { return HexSha256(bytes); };

/// A personal part: subject, data.
using Part = std::optional<std::pair<std::string, std::string>>;

/// A draft with its personal parts, each named by subject. A part's hash goes into the event
/// before sealing (the chain covers it); lane and seq are filled once the event is sealed.
struct Pending {
  domain::AuditEvent event;
  Part actor;
  Part target;
};

inline Pending WithParts(domain::AuditEvent event, Part actor = std::nullopt,
                         Part target = std::nullopt) {
  if (actor) event.actor_personal = HexSha256(actor->second);
  if (target) event.target_personal = HexSha256(target->second);
  return Pending{std::move(event), std::move(actor), std::move(target)};
}

/// Seals `pending` on the appender's current head and appends it with its parts; the stored
/// form.
inline domain::Result<application::StoredAuditEvent> SealAndAppend(
    application::AuditAppender& appender, const Pending& pending) {
  auto head = appender.LockAuditHead();
  if (!head) return std::unexpected(head.error());
  application::StoredAuditEvent stored;
  stored.event = domain::SealAuditEvent(pending.event, *head, kSha256);
  auto part = [&](domain::AuditPart kind, const std::pair<std::string, std::string>& subject_data) {
    stored.personal.push_back(domain::AuditPersonal{stored.event.lane, stored.event.seq, kind,
                                                    subject_data.first, subject_data.second});
  };
  if (pending.actor) part(domain::AuditPart::kActor, *pending.actor);
  if (pending.target) part(domain::AuditPart::kTarget, *pending.target);
  // Handed over target part first: the store returns them actor first whatever the order given.
  const std::vector<domain::AuditPersonal> given(stored.personal.rbegin(),
                                                 stored.personal.rend());
  if (auto appended = appender.AppendAudit(stored.event, given); !appended) {
    return std::unexpected(appended.error());
  }
  return stored;
}

/// Builds an AuditQuery one criterion at a time (designated initializers would leave members
/// uninitialised in the compiler's eyes).
struct Q {
  application::AuditQuery query;
  Q& Org(std::string id) { query.org_id = std::move(id); return *this; }
  Q& Actor(std::string id) { query.actor_id = std::move(id); return *this; }
  Q& Action(std::string action) { query.action = std::move(action); return *this; }
  Q& Collection(std::string id) { query.target_collection = std::move(id); return *this; }
  Q& Target(std::string id) { query.target_id = std::move(id); return *this; }
  Q& Subject(std::string id) { query.subject = std::move(id); return *this; }
  Q& From(domain::Timestamp at) { query.from = at; return *this; }
  Q& To(domain::Timestamp at) { query.to = at; return *this; }
  Q& Before(application::AuditCursor cursor) { query.before = cursor; return *this; }
  Q& Limit(std::int64_t limit) { query.limit = limit; return *this; }
  operator application::AuditQuery() const { return query; }
};

/// Strings every text column must keep byte for byte: quotes, backslashes, SQL and LIKE
/// metacharacters, control characters (NUL aside, which PostgreSQL text cannot hold), DEL,
/// multi-byte UTF-8 and an emoji outside the BMP.
inline const std::string kAwkward =
    "O'Brien \"quoted\" back\\slash 100% under_score ; DROP TABLE _audit; --\t\n\r\x01\x1f\x7f "
    "\xC3\xA9t\xC3\xA9 \xE6\x97\xA5\xE6\x9C\xAC \xF0\x9F\x94\x92";

}  // namespace socle::testing
