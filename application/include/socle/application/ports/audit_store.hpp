#pragma once

#include <cstdint>
#include <functional>
#include <memory>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "socle/domain/audit.hpp"
#include "socle/domain/error.hpp"
#include "socle/domain/timestamp.hpp"

namespace socle::application {

/// Appends audit events inside a store's write transaction, so that a change and the event
/// describing it commit together or not at all (see docs/audit.md).
class AuditAppender {
 public:
  virtual ~AuditAppender() = default;

  /// Says, at the start of a transaction, that it will lock a chain and append to it: a store
  /// may then lock the lane and read its head along with the transaction's first statement
  /// rather than in a round trip of its own (holding the lane from there on). Nothing else
  /// changes: LockAuditHead and AppendAudit answer as they would without it, and a transaction
  /// that ends without appending appends nothing. A hint; by default it does nothing.
  virtual void WillAppendAudit() {}

  /// Locks one of the trail's chains against other writers until the transaction ends and
  /// returns its head. A store with several lanes takes one that no other transaction holds
  /// when there is one.
  virtual domain::Result<domain::AuditHead> LockAuditHead() = 0;
  /// Appends `event`, sealed on the head LockAuditHead returned (domain::SealAuditEvent), with
  /// its personal parts. Audit rows are never updated or deleted afterwards, except personal
  /// parts by AuditChains::ErasePersonal.
  virtual domain::Result<void> AppendAudit(const domain::AuditEvent& event,
                                           const std::vector<domain::AuditPersonal>& personal) = 0;
};

/// What a store runs inside a write transaction to record the change it makes.
using AuditWrite = std::function<domain::Result<void>(AuditAppender&)>;

/// Where a page of audit events starts: strictly older than this event (the order is
/// newest first by time, then lane and sequence number descending).
struct AuditCursor {
  domain::Timestamp at;
  std::int64_t lane = 0;
  std::int64_t seq = 0;
  friend bool operator==(const AuditCursor&, const AuditCursor&) = default;
};

/// A search of a trail's events; empty strings match everything.
struct AuditQuery {
  /// Events about this organisation (the platform's trail holds several organisations').
  std::string org_id;
  std::string actor_id;
  std::string action;
  std::string target_collection;
  std::string target_id;
  /// Events whose actor or target is this id (a data subject's events).
  std::string subject;
  std::optional<domain::Timestamp> from;  ///< at >= from
  std::optional<domain::Timestamp> to;    ///< at < to
  std::optional<AuditCursor> before;
  std::int64_t limit = 100;
};

/// An audit event with those of its personal parts not erased.
struct StoredAuditEvent {
  domain::AuditEvent event;
  std::vector<domain::AuditPersonal> personal;
  friend bool operator==(const StoredAuditEvent&, const StoredAuditEvent&) = default;
};

/// Where retention (AuditChains::ArchiveAudit) sends the events it moves out of a trail: an
/// archive the operator keeps. It receives every archived event in chain order (lane, then
/// seq), then Commit; the store removes the events only once Commit succeeded, so that nothing
/// leaves the trail without having been made durable elsewhere first. Used by one thread.
class AuditArchiveSink {
 public:
  virtual ~AuditArchiveSink() = default;

  /// Takes the next archived event with those of its personal parts not erased. unavailable
  /// or internal when it cannot be kept; the archive is then abandoned.
  virtual domain::Result<void> Write(const StoredAuditEvent& event) = 0;
  /// Makes every event written so far durable (and findable by the operator). unavailable or
  /// internal when that failed: the store then removes nothing.
  virtual domain::Result<void> Commit() = 0;
  /// Where the committed archive can be found, for reports; "" when there is nothing to name.
  virtual std::string Location() const { return {}; }
};

/// Where retention's archives are made: one sink per project and run.
class AuditArchives {
 public:
  virtual ~AuditArchives() = default;
  /// A new, empty archive for the trail of `project_id` (of `org_id`). invalid_argument when
  /// the ids cannot name an archive.
  virtual domain::Result<std::unique_ptr<AuditArchiveSink>> Open(std::string_view org_id,
                                                                 std::string_view project_id) = 0;
};

/// What one ArchiveAudit moved out of a trail.
struct AuditArchived {
  std::int64_t events = 0;  ///< how many events the sink received and the trail no longer holds
  /// Where each chain it cut now begins (the last archived event of that lane), by lane.
  std::vector<domain::AuditHead> anchors;
  /// PostgreSQL: the detached monthly partitions, as renamed, kept for the operator to drop.
  std::vector<std::string> detached;
  friend bool operator==(const AuditArchived&, const AuditArchived&) = default;
};

/// The read side of an audit trail, one or several chains (lanes) as one store keeps them:
/// what searching, verification, checkpoints and erasure need. Thread-safe.
class AuditChains {
 public:
  virtual ~AuditChains() = default;

  /// Audit events matching `query`, newest first (at, lane, seq descending), at most
  /// query.limit of them.
  virtual domain::Result<std::vector<StoredAuditEvent>> AuditEvents(const AuditQuery& query) = 0;
  /// The head of every chain that has events, by lane.
  virtual domain::Result<std::vector<domain::AuditHead>> AuditHeads() = 0;
  /// The events of one chain with seq > after_seq, in sequence order, at most `limit`: the
  /// chain as stored, for verification (nothing is checked here).
  virtual domain::Result<std::vector<StoredAuditEvent>> AuditChain(std::int64_t lane,
                                                                   std::int64_t after_seq,
                                                                   std::int64_t limit) = 0;
  /// Deletes every personal part whose subject is `subject` (GDPR erasure); returns how many.
  /// The events stay, and so does the chains' validity.
  virtual domain::Result<std::int64_t> ErasePersonal(std::string_view subject) = 0;
  /// Where each chain whose beginning was archived (moved out by retention) now begins: the
  /// last archived event's lane, seq and hash, which the first stored event links to. Chains
  /// never archived are absent. A trail that never archives has none (this body).
  virtual domain::Result<std::vector<domain::AuditHead>> AuditAnchors();
  /// Retention: moves every event older than `before` out of the trail. The events go to
  /// `sink` in chain order, with their personal parts, and sink.Commit() runs; then, in one
  /// transaction, each cut chain's new anchor (AuditAnchors) is recorded and the events are
  /// removed from the live trail (PostgreSQL: only whole monthly partitions that end at or
  /// before `before`, detached and kept renamed, never dropped). Nothing is removed when the
  /// sink fails. Returns what moved (nothing at all when no event is old enough).
  /// failed_precondition when the events before the cut are not, in every chain, a run from
  /// its start (an event older than the cut after a newer one in the same chain: a clock that
  /// went back), or when the trail cannot archive (this body); the errors of the sink; internal
  /// or unavailable from the store.
  virtual domain::Result<AuditArchived> ArchiveAudit(domain::Timestamp before,
                                                     AuditArchiveSink& sink);
};

inline domain::Result<std::vector<domain::AuditHead>> AuditChains::AuditAnchors() {
  return std::vector<domain::AuditHead>{};
}

inline domain::Result<AuditArchived> AuditChains::ArchiveAudit(domain::Timestamp /*before*/,
                                                               AuditArchiveSink& /*sink*/) {
  return domain::Fail(domain::ErrorCode::kFailedPrecondition,
                      "This audit trail cannot be archived.");
}

}  // namespace socle::application
