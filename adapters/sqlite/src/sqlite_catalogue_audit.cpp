// The platform's audit trail of SqliteCatalogueStore: the table platform_audit of
// migrations/sqlite/0005_audit.sql, one hash chain per organisation (org_id its name) and the
// platform's own (''), each of the one lane 0. Events are appended inside the write transaction
// of the change they describe (Impl::Write runs the audit an Audited call left pending), so a
// chain is held by the file's write lock, taken at BEGIN IMMEDIATE, in this process and any
// other that opens the file.
#include <algorithm>
#include <optional>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

#include "connection.hpp"
#include "socle/adapters/sqlite/sqlite_catalogue_store.hpp"
#include "sqlite_audit_row.hpp"
#include "sqlite_catalogue_store_impl.hpp"

namespace socle::adapters::sqlite {

using application::AuditQuery;
using application::AuditWrite;
using application::StoredAuditEvent;
using domain::Error;
using domain::ErrorCode;
using domain::Fail;
using domain::Result;

namespace {

// ---- SQL, as named constants; every value is bound. -------------------------------------------

// A chain's head: its last event, one probe of the primary key read backwards.
constexpr std::string_view kPlatformAuditHead =
    "SELECT seq, hash FROM platform_audit WHERE org_id = ?1 ORDER BY seq DESC LIMIT 1";
// The columns in the order BindAuditEvent binds them (sqlite_audit_row.hpp).
constexpr std::string_view kInsertPlatformAudit =
    "INSERT INTO platform_audit (seq, at, org_id, project_id, actor_kind, actor_id, action,"
    " target_kind, target_collection, target_id, outcome, request_id, reason, changes,"
    " actor_personal, target_personal, prev_hash, hash, actor_data, target_data)"
    " VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8, ?9, ?10, ?11, ?12, ?13, ?14, ?15, ?16, ?17, ?18,"
    " ?19, ?20)";
// Every chain's head, sorted by chain (byte order, as BINARY compares text): the chains are
// walked along the primary key one probe each (a loose index scan), then each one's last event
// is found by max(seq), another probe, rather than by reading every event.
constexpr std::string_view kPlatformAuditHeads =
    "WITH RECURSIVE chains (name) AS ("
    " SELECT (SELECT org_id FROM platform_audit ORDER BY org_id LIMIT 1)"
    " UNION ALL"
    " SELECT (SELECT org_id FROM platform_audit WHERE org_id > c.name ORDER BY org_id LIMIT 1)"
    " FROM chains AS c WHERE c.name IS NOT NULL)"
    " SELECT a.org_id, a.seq, a.hash FROM chains AS c JOIN platform_audit AS a"
    " ON a.org_id = c.name"
    " AND a.seq = (SELECT max(m.seq) FROM platform_audit AS m WHERE m.org_id = c.name)"
    " ORDER BY a.org_id";
// Erasure of a subject's parts, one statement per kind, each along its (subject, at) index.
// The `IS NOT NULL` keeps parts already erased out of the count.
constexpr std::string_view kErasePlatformActorData =
    "UPDATE platform_audit SET actor_data = NULL WHERE actor_id = ?1 AND actor_data IS NOT NULL";
constexpr std::string_view kErasePlatformTargetData =
    "UPDATE platform_audit SET target_data = NULL"
    " WHERE target_id = ?1 AND target_data IS NOT NULL";
// An event with its personal parts, the columns ReadAuditEvent reads (sqlite_audit_row.hpp), the
// first of them first: a chain in sequence order, and the start of a search of one chain, to
// which the criteria that are set are appended.
constexpr std::string_view kPlatformAuditChain =
    "SELECT a.seq, a.at, a.org_id, a.project_id, a.actor_kind, a.actor_id, a.action,"
    " a.target_kind, a.target_collection, a.target_id, a.outcome, a.request_id, a.reason,"
    " a.changes, a.actor_personal, a.target_personal, a.prev_hash, a.hash, a.actor_data,"
    " a.target_data FROM platform_audit AS a"
    " WHERE a.org_id = ?1 AND a.seq > ?2 ORDER BY a.seq LIMIT ?3";
constexpr std::string_view kPlatformAuditSearch =
    "SELECT a.seq, a.at, a.org_id, a.project_id, a.actor_kind, a.actor_id, a.action,"
    " a.target_kind, a.target_collection, a.target_id, a.outcome, a.request_id, a.reason,"
    " a.changes, a.actor_personal, a.target_personal, a.prev_hash, a.hash, a.actor_data,"
    " a.target_data FROM platform_audit AS a"
    " WHERE a.org_id = ?";
// The lane of every event here is 0, which the cursor's comparison of the criteria
// (AppendAuditCriteria) spells out.
constexpr std::string_view kLaneColumn = "0";
// Served backwards by the (org_id, at, seq) index.
constexpr std::string_view kNewestFirst = " ORDER BY a.at DESC, a.seq DESC LIMIT ?";

// Every chain is the one lane.
constexpr std::int64_t kLane = 0;
// The most events one search returns.
constexpr std::int64_t kMaxAuditPage = 1000;

// ---- helpers -----------------------------------------------------------------------------------

// The rows of a platform_audit SELECT of the event columns, every one of the one lane.
Result<std::vector<StoredAuditEvent>> ReadPlatformAuditRows(Statement& stmt) {
  return ReadAuditEvents(stmt, [](const Statement& row) {
    return ReadAuditEvent(row, 0, kLane, "platform audit event");
  });
}

// The AuditAppender of one chain inside one write transaction. The chain is already locked:
// the transaction holds the file's write lock from BEGIN IMMEDIATE to its end, so the head read
// here stays the chain's head until COMMIT, whatever else appends.
class CatalogueAuditAppender final : public application::AuditAppender {
 public:
  CatalogueAuditAppender(Connection& conn, const std::string& chain) noexcept
      : conn_(conn), chain_(chain) {}

  Result<domain::AuditHead> LockAuditHead() override {
    // Only this transaction appends until it ends: the head it last appended is the chain's.
    if (head_) return *head_;
    auto stmt = conn_.Prepare(kPlatformAuditHead);
    if (!stmt) return Fail(stmt.error());
    auto row = stmt->Bind(chain_).Step();
    if (!row) return Fail(row.error());
    domain::AuditHead head;
    head.lane = kLane;
    if (*row) {
      head.seq = stmt->Int(0);
      head.hash = std::string(stmt->Text(1));
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
    // All checked before anything is written, so that a refusal leaves no event behind.
    auto parts = AuditPartsOf(event, personal);
    if (!parts) return Fail(parts.error());
    auto stmt = conn_.Prepare(kInsertPlatformAudit);
    if (!stmt) return Fail(stmt.error());
    BindAuditEvent(*stmt, event, *parts);
    if (auto done = stmt->Run(); !done) return done;
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
  CatalogueAuditAppender appender(conn, chain);
  return audit(appender);
}

Result<void> SqliteCatalogueStore::Audited(const std::string& chain, const AuditWrite& audit,
                                           const std::function<Result<void>()>& change) {
  return RunAudited(impl_.get(), chain, audit, change,
                    [&] { return RecordAudit(chain, audit); });
}

Result<void> SqliteCatalogueStore::RecordAudit(const std::string& chain, const AuditWrite& audit) {
  if (!audit) return Fail(Error::Internal("RecordAudit without an audit"));
  // Not Impl::Write: this transaction records an attempt on its own and never takes an
  // Audited call's pending audit.
  return impl_->WithWriter([&](Connection& conn) {
    return InTransaction(conn, kBeginImmediate,
                         [&]() -> Result<void> { return RunAudit(conn, chain, audit); });
  });
}

Result<std::vector<StoredAuditEvent>> SqliteCatalogueStore::PlatformAuditEvents(
    const std::string& chain, const AuditQuery& query) {
  // Built from the constant fragments of the criteria that are set, every value bound: the
  // planner then sees plain equalities and picks the chain's time index or a subject's index.
  std::string sql(kPlatformAuditSearch);
  AppendAuditCriteria(sql, query, kLaneColumn);
  sql += kNewestFirst;
  const std::int64_t limit = std::clamp<std::int64_t>(query.limit, 1, kMaxAuditPage);
  return impl_->WithConnection([&](Connection& conn) -> Result<std::vector<StoredAuditEvent>> {
    auto stmt = conn.PrepareCached(sql);
    if (!stmt) return Fail(stmt.error());
    stmt->Bind(chain);
    BindAuditCriteria(*stmt, query);
    stmt->Bind(limit);
    return ReadPlatformAuditRows(*stmt);
  });
}

Result<std::vector<domain::AuditCheckpointHead>> SqliteCatalogueStore::PlatformAuditHeads() {
  // One statement: the heads of one snapshot.
  return impl_->WithConnection(
      [&](Connection& conn) -> Result<std::vector<domain::AuditCheckpointHead>> {
        auto stmt = conn.Prepare(kPlatformAuditHeads);
        if (!stmt) return Fail(stmt.error());
        std::vector<domain::AuditCheckpointHead> heads;
        for (;;) {
          auto row = stmt->Step();
          if (!row) return Fail(row.error());
          if (!*row) return heads;
          heads.push_back(domain::AuditCheckpointHead{std::string(stmt->Text(0)), std::string(),
                                                      kLane, stmt->Int(1),
                                                      std::string(stmt->Text(2))});
        }
      });
}

Result<std::vector<StoredAuditEvent>> SqliteCatalogueStore::PlatformAuditChain(
    const std::string& chain, std::int64_t after_seq, std::int64_t limit) {
  // SQLite reads a negative LIMIT as none at all.
  if (limit <= 0) return std::vector<StoredAuditEvent>();
  return impl_->WithConnection([&](Connection& conn) -> Result<std::vector<StoredAuditEvent>> {
    auto stmt = conn.Prepare(kPlatformAuditChain);
    if (!stmt) return Fail(stmt.error());
    stmt->Bind(chain).Bind(after_seq).Bind(limit);
    return ReadPlatformAuditRows(*stmt);
  });
}

Result<std::int64_t> SqliteCatalogueStore::ErasePlatformPersonal(std::string_view subject) {
  // One transaction, so that a subject's parts are erased all together or not at all. Not
  // Impl::Write: an erasure is not one of the changes an Audited call describes.
  return impl_->WithWriter([&](Connection& conn) {
    return InTransaction(conn, kBeginImmediate, [&]() -> Result<std::int64_t> {
      std::int64_t erased = 0;
      for (const std::string_view sql : {kErasePlatformActorData, kErasePlatformTargetData}) {
        auto stmt = conn.Prepare(sql);
        if (!stmt) return Fail(stmt.error());
        if (auto done = stmt->Bind(subject).Run(); !done) return Fail(done.error());
        erased += conn.Changes();
      }
      return erased;
    });
  });
}

}  // namespace socle::adapters::sqlite
