// The platform's audit trail of PostgresCatalogueStore: socle.platform_audit of
// migrations/postgres/0005_audit.sql, one hash chain per organisation (org_id its name) and the
// platform's own (''), each of the one lane 0. Events are appended inside the write transaction
// of the change they describe (CatalogueWrite runs the audit an Audited call left pending).
#include "postgres_catalogue_audit.hpp"

#include <algorithm>
#include <optional>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

#include "connection.hpp"
#include "postgres_audit_row.hpp"
#include "postgres_filter_compiler.hpp"
#include "postgres_record_codec.hpp"
#include "socle/adapters/postgres/postgres_catalogue_store.hpp"
#include "sql_text.hpp"

namespace socle::adapters::postgres {

using application::AuditQuery;
using application::AuditWrite;
using application::StoredAuditEvent;
using domain::Error;
using domain::ErrorCode;
using domain::Fail;
using domain::Result;

namespace {

// ---- SQL, as named constants; every value is bound ($n). --------------------------------------

// The appender's statements run as the login role: an access transaction runs as socle_tenant,
// which has no privilege on the trail. SET LOCAL, so the switch ends with the transaction.
constexpr Statement kAsLoginRole{"socle_audit_as_login_role",
                                 "SELECT pg_catalog.set_config('role', 'none', true)", 0};
// The chain's lock, held to the end of the transaction (its commit included): a 64-bit key
// hashed from the chain's name, prefixed so that it shares no key with another use of
// hashtextextended. A statement of its own: the head must be read by a later statement, whose
// READ COMMITTED snapshot is taken once the lock is granted (kPlatformAuditHead).
constexpr Statement kLockChain{
    "socle_audit_lock_chain",
    "SELECT pg_catalog.pg_advisory_xact_lock("
    "pg_catalog.hashtextextended('socle.platform_audit/' || $1::text, 0))",
    1};
// The chain's last event, one probe of the primary key read backwards; one row even for an
// empty chain; the isolation level comes along to check that the snapshot is the statement's.
constexpr Statement kPlatformAuditHead{
    "socle_audit_head",
    "SELECT h.seq, h.hash, pg_catalog.current_setting('transaction_isolation')"
    " FROM (SELECT 1) AS one LEFT JOIN LATERAL (SELECT a.seq, a.hash"
    " FROM socle.platform_audit AS a WHERE a.org_id = $1::text ORDER BY a.seq DESC LIMIT 1)"
    " AS h ON TRUE",
    1};
// The event and its personal parts' data ($19 actor's, $20 target's; NULL without one), in the
// order AppendAuditParams gives them (postgres_audit_row.hpp).
constexpr Statement kInsertPlatformAudit{
    "socle_audit_insert",
    "INSERT INTO socle.platform_audit (seq, at, org_id, project_id, actor_kind, actor_id,"
    " action, target_kind, target_collection, target_id, outcome, request_id, reason, changes,"
    " actor_personal, target_personal, prev_hash, hash, actor_data, target_data) VALUES"
    " ($1::int8, $2::timestamptz, $3::text, $4::text, $5::text, $6::text, $7::text, $8::text,"
    " $9::text, $10::text, $11::text, $12::text, $13::text, $14::text, $15::text, $16::text,"
    " $17::text, $18::text, $19::text, $20::text)",
    20};
// The event columns as read back, `at` in microseconds, then the parts' data: the columns
// ReadAuditEvent reads (postgres_audit_row.hpp), the first of them first.
constexpr std::string_view kEventColumns =
    "SELECT a.seq, (extract(epoch FROM a.at) * 1000000)::int8, a.org_id, a.project_id,"
    " a.actor_kind, a.actor_id, a.action, a.target_kind, a.target_collection, a.target_id,"
    " a.outcome, a.request_id, a.reason, a.changes, a.actor_personal, a.target_personal,"
    " a.prev_hash, a.hash, a.actor_data, a.target_data FROM socle.platform_audit AS a";
constexpr int kColumnCount = 20;
constexpr Statement kPlatformAuditChain{
    "socle_audit_chain",
    "SELECT a.seq, (extract(epoch FROM a.at) * 1000000)::int8, a.org_id, a.project_id,"
    " a.actor_kind, a.actor_id, a.action, a.target_kind, a.target_collection, a.target_id,"
    " a.outcome, a.request_id, a.reason, a.changes, a.actor_personal, a.target_personal,"
    " a.prev_hash, a.hash, a.actor_data, a.target_data FROM socle.platform_audit AS a"
    " WHERE a.org_id = $1::text AND a.seq > $2::int8 ORDER BY a.seq LIMIT $3::int8",
    3};
// Every chain's head, sorted by chain (the "C" collation: byte order): a loose index scan, each
// chain found by one probe of the primary key, then its last event by another.
constexpr Statement kPlatformAuditHeads{
    "socle_audit_heads",
    "WITH RECURSIVE chains (name) AS ("
    " (SELECT a.org_id FROM socle.platform_audit AS a ORDER BY a.org_id LIMIT 1)"
    " UNION ALL"
    " SELECT (SELECT a.org_id FROM socle.platform_audit AS a WHERE a.org_id > c.name"
    " ORDER BY a.org_id LIMIT 1) FROM chains AS c WHERE c.name IS NOT NULL)"
    " SELECT c.name, h.seq, h.hash FROM chains AS c CROSS JOIN LATERAL (SELECT a.seq, a.hash"
    " FROM socle.platform_audit AS a WHERE a.org_id = c.name ORDER BY a.seq DESC LIMIT 1) AS h"
    " ORDER BY c.name",
    0};
// The erasure, one statement per kind of part, each served by the event's index on its subject
// column; a part already erased is not counted again.
constexpr Statement kEraseActorData{
    "socle_audit_erase_actor",
    "UPDATE socle.platform_audit SET actor_data = NULL"
    " WHERE actor_id = $1::text AND actor_data IS NOT NULL",
    1};
constexpr Statement kEraseTargetData{
    "socle_audit_erase_target",
    "UPDATE socle.platform_audit SET target_data = NULL"
    " WHERE target_id = $1::text AND target_data IS NOT NULL",
    1};

// Every chain is the one lane.
constexpr std::int64_t kLane = 0;
// The most events one search returns.
constexpr std::int64_t kMaxAuditPage = 1000;
// The searches' result types never change: one generation for all of them.
constexpr std::uint64_t kAuditGeneration = 0;

// ---- helpers -----------------------------------------------------------------------------------

// The events of rows of kEventColumns, every one of the one lane.
Result<std::vector<StoredAuditEvent>> ReadEvents(const PgResult& rows) {
  return ReadAuditEvents(rows, kColumnCount, "the platform's audit trail",
                         [&](int row) { return ReadAuditEvent(rows, row, 0, kLane); });
}

// The events of a query's answer into `out`, the answer's error otherwise: the work of an
// OnConnection call, which gives back only success or failure.
Result<void> ReadEventsInto(Result<PgResult> rows, std::vector<StoredAuditEvent>& out) {
  if (!rows) return Fail(rows.error());
  auto events = ReadEvents(*rows);
  if (!events) return Fail(events.error());
  out = std::move(*events);
  return {};
}

// The AuditAppender of one chain inside one write transaction on `conn`, as the login role.
class CatalogueAuditAppender final : public application::AuditAppender {
 public:
  CatalogueAuditAppender(Connection& conn, const std::string& chain) noexcept
      : conn_(conn), chain_(chain) {}

  Result<domain::AuditHead> LockAuditHead() override {
    // Only this transaction appends to the chain until it ends: the head it last appended is
    // the chain's.
    if (head_) return *head_;
    if (!CanBindText(chain_)) return Fail(AuditHasNul());
    if (auto locked = conn_.Execute(kLockChain, {chain_}); !locked) {
      return Fail(locked.error());
    }
    auto rows = conn_.Execute(kPlatformAuditHead, {chain_});
    if (!rows) return Fail(rows.error());
    if (rows->Rows() != 1 || rows->Columns() != 3) {
      return Fail(Error::Internal("unexpected answer reading an audit chain's head"));
    }
    // In REPEATABLE READ or SERIALIZABLE the snapshot would predate the lock, and the head
    // could be one another writer has since extended.
    if (rows->Text(0, 2) != "read committed") {
      return Fail(Error::Internal("audit heads need READ COMMITTED transactions, not " +
                                  std::string(rows->Text(0, 2))));
    }
    domain::AuditHead head;
    head.lane = kLane;
    if (!rows->IsNull(0, 0)) {
      auto seq = ParseInt8(rows->Text(0, 0));
      if (!seq) return Fail(seq.error());
      head.seq = *seq;
      head.hash = std::string(rows->Text(0, 1));
    }
    head_ = std::move(head);
    return *head_;
  }

  Result<void> AppendAudit(const domain::AuditEvent& event,
                           const std::vector<domain::AuditPersonal>& personal) override {
    // An event of another organisation would be verified against the wrong chain, and one of
    // another lane would start a chain nobody reads: the caller's mistake.
    if (event.org_id != chain_) {
      return Fail(ErrorCode::kInvalidArgument,
                  "An audit event must belong to the organisation of its chain.");
    }
    if (event.lane != kLane) {
      return Fail(ErrorCode::kInvalidArgument, "The platform's audit chains have one lane, 0.");
    }
    // The caller sealed the event on the head it locked; anything else would fork or break
    // the chain, which no later verification could tell from tampering.
    if (!head_) return Fail(Error::Internal("audit append without a locked chain"));
    if (event.seq != head_->seq + 1 || event.prev_hash != head_->hash) {
      return Fail(Error::Internal("audit append of seq " + std::to_string(event.seq) +
                                  " does not extend the chain's head, seq " +
                                  std::to_string(head_->seq)));
    }
    // Checked before the INSERT: a part that fits nowhere would be lost or misattributed (see
    // AppendAuditParams).
    Params params;
    params.reserve(static_cast<std::size_t>(kInsertPlatformAudit.params));
    if (auto fits = AppendAuditParams(event, personal, params); !fits) return fits;
    if (auto done = conn_.Execute(kInsertPlatformAudit, params); !done) {
      return Fail(done.error());
    }
    head_ = domain::AuditHead{kLane, event.seq, event.hash};
    return {};
  }

 private:
  Connection& conn_;
  const std::string& chain_;
  std::optional<domain::AuditHead> head_;  // set by LockAuditHead, moved along by each append
};

}  // namespace

Result<void> RunAudit(Connection& conn, const std::string& chain, const AuditWrite& audit) {
  if (auto login = conn.Execute(kAsLoginRole); !login) return Fail(login.error());
  CatalogueAuditAppender appender(conn, chain);
  return audit(appender);
}

Result<void> PostgresCatalogueStore::Audited(const std::string& chain, const AuditWrite& audit,
                                             const std::function<Result<void>()>& change) {
  return RunAudited(this, chain, audit, change, [&] { return RecordAudit(chain, audit); });
}

Result<void> PostgresCatalogueStore::RecordAudit(const std::string& chain,
                                                 const AuditWrite& audit) {
  if (!audit) return Fail(Error::Internal("RecordAudit without an audit"));
  // Not CatalogueWrite: this transaction records an attempt on its own and never takes an
  // Audited call's pending audit. Starting with BEGIN, it is safe to retry (Impl::Run).
  return OnConnection([&](Connection& conn) -> Result<void> {
    return InTransaction(conn, kBeginCatalogueWrite,
                         [&]() -> Result<void> { return RunAudit(conn, chain, audit); });
  });
}

Result<std::vector<StoredAuditEvent>> PostgresCatalogueStore::PlatformAuditEvents(
    const std::string& chain, const AuditQuery& query) {
  // No stored value holds NUL: a filter that does matches nothing.
  if (!CanBindText(chain) || !AuditCriteriaBindable(query)) {
    return std::vector<StoredAuditEvent>();
  }
  // The statement's shape depends only on which filters are set; every value is bound. The
  // chain's (org_id, at, seq) index serves the order; a subject's index, a subject's events.
  SqlParams params;
  std::string sql(kEventColumns);
  sql += " WHERE a.org_id = " + params.Add(chain, "text");
  auto condition = [&](const std::string& text) { sql += " AND " + text; };
  // Every event here is of lane 0, which the cursor's comparison spells out.
  AddAuditCriteria(query, "0::int8", params, condition);
  const std::int64_t limit = std::clamp<std::int64_t>(query.limit, 1, kMaxAuditPage);
  sql += " ORDER BY a.at DESC, a.seq DESC LIMIT " + params.Add(std::to_string(limit), "int8");
  const Params values = params.Bind(sql);
  std::vector<StoredAuditEvent> out;
  auto ran = OnConnection([&](Connection& conn) -> Result<void> {
    return ReadEventsInto(conn.ExecuteCached(sql, values, kAuditGeneration), out);
  });
  if (!ran) return Fail(ran.error());
  return out;
}

Result<std::vector<domain::AuditCheckpointHead>> PostgresCatalogueStore::PlatformAuditHeads() {
  std::vector<domain::AuditCheckpointHead> heads;
  // One statement: the heads of one snapshot.
  auto ran = OnConnection([&](Connection& conn) -> Result<void> {
    heads.clear();
    auto rows = conn.Execute(kPlatformAuditHeads);
    if (!rows) return Fail(rows.error());
    if (rows->Columns() != 3) {
      return Fail(Error::Internal("unexpected columns reading the audit chains' heads"));
    }
    for (int row = 0; row < rows->Rows(); ++row) {
      auto seq = ParseInt8(rows->Text(row, 1));
      if (!seq) return Fail(seq.error());
      heads.push_back(domain::AuditCheckpointHead{std::string(rows->Text(row, 0)), std::string(),
                                                  kLane, *seq, std::string(rows->Text(row, 2))});
    }
    return {};
  });
  if (!ran) return Fail(ran.error());
  return heads;
}

Result<std::vector<StoredAuditEvent>> PostgresCatalogueStore::PlatformAuditChain(
    const std::string& chain, std::int64_t after_seq, std::int64_t limit) {
  // PostgreSQL refuses a negative LIMIT; no chain name holds NUL.
  if (limit <= 0 || !CanBindText(chain)) return std::vector<StoredAuditEvent>();
  std::vector<StoredAuditEvent> out;
  auto ran = OnConnection([&](Connection& conn) -> Result<void> {
    return ReadEventsInto(conn.Execute(kPlatformAuditChain, {chain, std::to_string(after_seq),
                                                             std::to_string(limit)}),
                          out);
  });
  if (!ran) return Fail(ran.error());
  return out;
}

Result<std::int64_t> PostgresCatalogueStore::ErasePlatformPersonal(std::string_view subject) {
  if (!CanBindText(subject)) return 0;  // no stored subject holds NUL
  std::int64_t erased = 0;
  // Both kinds of part or neither, in one transaction: a subject is erased whole, and the
  // count is exact. Not CatalogueWrite: an erasure is not one of the changes an Audited call
  // describes. As the login role, which the append-only trigger lets erase.
  auto ran = OnConnection([&](Connection& conn) -> Result<void> {
    return InTransaction(conn, [&]() -> Result<void> {
      const Params params{std::string(subject)};
      auto actors = conn.Execute(kEraseActorData, params);
      if (!actors) return Fail(actors.error());
      auto targets = conn.Execute(kEraseTargetData, params);
      if (!targets) return Fail(targets.error());
      erased = actors->Affected() + targets->Affected();
      return {};
    });
  });
  if (!ran) return Fail(ran.error());
  return erased;
}

}  // namespace socle::adapters::postgres
