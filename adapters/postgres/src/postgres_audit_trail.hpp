#pragma once

#include <atomic>
#include <chrono>
#include <cstdint>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "connection.hpp"
#include "socle/application/ports/project_store.hpp"
#include "socle/domain/audit.hpp"
#include "socle/domain/error.hpp"
#include "socle/domain/timestamp.hpp"

// A project's audit trail on PostgreSQL, in the project's own schema beside its records:
//
// - `_audit`, one row per event (every AuditEvent member a column of its own, `changes` the
//   JSON text verbatim, and the data of its personal parts in `actor_data` and `target_data`,
//   NULL when it has none or it was erased: a part's subject is always the event's actor_id or
//   target_id), RANGE-partitioned by month on `at`: `_audit_yYYYYmMM` for each month,
//   created ahead (the current month and the next two, when the store opens and again when
//   events reach the last month created), and `_audit_default` for anything outside them.
//   Retention (Archive) works partition by partition: the months that end before the cut are
//   exported to an archive sink, then detached and renamed `_audit_archived_yYYYYmMM` (kept,
//   never dropped here: the operator drops them after checking the archive), without
//   touching a row of the others. `_audit_anchor` notes where each cut chain now begins (the
//   last archived event), so that the rest verifies from there. A month whose events sit in
//   the default partition keeps them there, and is never archived.
//
// Append-only at the storage level: the project role, which writes records and their events,
// holds SELECT and INSERT only; and triggers refuse DELETE and TRUNCATE, and any UPDATE but
// one that sets actor_data or target_data to NULL and changes nothing else, to everyone, the
// owner (the login role) included. Only someone able to disable triggers (a superuser) can
// rewrite history, and the hash chain makes that detectable. Erasure (that UPDATE) runs as
// the login role.
//
// Each project has kAuditLanes chains ("lanes") so that concurrent writers do not queue behind
// one chain head: a transaction takes a lane with a transaction-level advisory lock, the lowest
// free one, and holds it until it ends (through its commit). A lane is held for the commit's
// fsync, so there are more lanes than a pool has connections: durable commits still group.
namespace socle::adapters::postgres {

/// How many chains each project's trail may have on PostgreSQL (used only as concurrency
/// needs: writers one after another share lane 0).
inline constexpr std::int64_t kAuditLanes = 64;

/// "Soca": the class of the advisory locks that hold an audit lane (two-key form: the class,
/// and the project's schema name hashed with the lane).
inline constexpr std::int32_t kAuditLockClass = 0x536f6361;

/// The audit tables of one project's schema: their DDL, their statements (the schema
/// substituted once) and the upkeep of their monthly partitions. Thread-safe.
class PostgresAuditTrail final {
 public:
  /// `sql_schema` and `sql_role` quoted (QuoteIdentifier); `schema_name` the schema unquoted.
  PostgresAuditTrail(std::string sql_schema, std::string schema_name, std::string sql_role);
  PostgresAuditTrail(const PostgresAuditTrail&) = delete;
  PostgresAuditTrail& operator=(const PostgresAuditTrail&) = delete;

  /// Creates the tables, their indexes, the default partition and the append-only triggers
  /// unless they exist. Preconditions: inside a transaction, as the login role (the owner),
  /// holding the project's storage lock.
  domain::Result<void> Create(Connection& conn) const;
  /// Leaves the project role SELECT and INSERT on `_audit` and nothing on the partitions
  /// (reached through their parent only), whatever a schema-wide GRANT gave it. Same
  /// preconditions as Create, after every grant on the schema's tables.
  domain::Result<void> Secure(Connection& conn) const;
  /// Creates the partitions of the current month and of the next two where missing (by the
  /// server's clock), except for a month that already has events in the default partition,
  /// and notes how far they reach. Same preconditions as Create.
  domain::Result<void> EnsurePartitions(Connection& conn);

  /// Notes how far the monthly partitions reach (start of the last month created, in
  /// microseconds), as the store's opening query found.
  void SetHorizon(std::int64_t last_month_us) noexcept;
  /// Whether events reached the last month created, so that the next months' partitions are
  /// due; true once per occasion (the caller then runs EnsurePartitions and reports with
  /// PartitionsTried).
  bool TakePartitionsDue() noexcept;
  /// Notes how the due partitions' creation went: when it failed, or when the events that
  /// made them due still lie beyond them (a clock far ahead of the server's), they are not
  /// due again for an hour, so that writers do not pay for a futile attempt each time.
  void PartitionsTried(bool created) noexcept;

  /// The project's events matching `query`, newest first, with their personal parts.
  domain::Result<std::vector<application::StoredAuditEvent>> Events(
      Connection& conn, const application::AuditQuery& query) const;
  /// The last event of every lane that has events, by lane.
  domain::Result<std::vector<domain::AuditHead>> Heads(Connection& conn) const;
  /// The events of `lane` with seq > after_seq in sequence order, at most `limit`.
  domain::Result<std::vector<application::StoredAuditEvent>> Chain(Connection& conn,
                                                                   std::int64_t lane,
                                                                   std::int64_t after_seq,
                                                                   std::int64_t limit) const;
  /// Erases (sets to NULL) the data of the personal parts of `subject`, the actor parts of
  /// the events it acted in and the target parts of those it was the target of, in one
  /// transaction; how many parts. Preconditions: as the login role, outside a transaction.
  domain::Result<std::int64_t> Erase(Connection& conn, std::string_view subject) const;
  /// The latest anchor of every lane archived from (none for a schema that predates them).
  domain::Result<std::vector<domain::AuditHead>> Anchors(Connection& conn) const;
  /// Retention (AuditChains::ArchiveAudit): streams the events of every monthly partition
  /// that ends at or before `before` to `sink` in chain order from one snapshot, commits the
  /// sink, then in one transaction holding the trail records the anchors and detaches and
  /// renames those partitions. failed_precondition when their events are not, in each lane,
  /// the run that follows its anchor with nothing kept before them; aborted when they changed
  /// between the two steps. Preconditions: as the login role (the owner), outside a
  /// transaction.
  domain::Result<application::AuditArchived> Archive(Connection& conn, domain::Timestamp before,
                                                     application::AuditArchiveSink& sink) const;

 private:
  friend class PostgresAuditAppender;

  // An event at `at` was appended: partitions are due when it reaches the horizon.
  void Appended(domain::Timestamp at) noexcept;
  // The lane a writer waits for when every lane is held: rotating.
  std::int64_t NextWaitLane() noexcept;

  const std::string sql_schema_;
  std::atomic<std::uint64_t> next_wait_lane_{0};
  const std::string schema_name_;
  const std::string sql_role_;
  const std::string lock_head_;
  const std::string append_;
  const std::string heads_;
  const std::string chain_;
  const std::string erase_actor_;
  const std::string erase_target_;
  const std::string months_;
  const std::string anchors_;
  const std::string archived_lanes_;
  const std::string kept_before_;
  const std::string last_anchor_;
  const std::string archive_page_;
  const std::string insert_anchor_;
  const std::string archive_lock_;

  // Start of the last month with a partition (microseconds); events from it make the next
  // months due. The minimum until the partitions were checked: the first event makes them due.
  std::atomic<std::int64_t> horizon_us_;
  std::atomic<std::int64_t> due_at_us_{0};  // the event that made the partitions due
  // No attempt before this steady_clock time (nanoseconds since its epoch).
  std::atomic<std::int64_t> quiet_until_ns_;
  std::atomic<bool> partitions_due_{false};
};

/// The AuditAppender of one transaction on `conn`: LockAuditHead takes a lane for the rest
/// of the transaction and returns its head; AppendAudit checks that each event follows that
/// head and inserts it with its personal parts, refusing (kInternal) parts that its row cannot
/// hold: of another event, given twice, or whose subject is not the event's actor_id (actor
/// part) or target_id (target part). Used by one thread, within one transaction;
/// relies on READ COMMITTED (the head is read after the lock, with a snapshot that sees every
/// event committed under it), which it checks.
class PostgresAuditAppender final : public application::AuditAppender {
 public:
  PostgresAuditAppender(PostgresAuditTrail& trail, Connection& conn) noexcept
      : trail_(trail), conn_(conn) {}

  /// Defers the lane's lock and head read (one statement, see _audit_lock_head) to travel with
  /// the transaction's next round trip.
  void WillAppendAudit() override;
  domain::Result<domain::AuditHead> LockAuditHead() override;
  domain::Result<void> AppendAudit(const domain::AuditEvent& event,
                                   const std::vector<domain::AuditPersonal>& personal) override;

 private:
  PostgresAuditTrail& trail_;
  Connection& conn_;
  Params LockHeadParams() const;

  std::optional<domain::AuditHead> head_;  // the locked lane's head, once locked
  Connection::KeptResult announced_;       // the deferred lock and head read, until read
};

}  // namespace socle::adapters::postgres
