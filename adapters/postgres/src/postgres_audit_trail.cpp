#include "postgres_audit_trail.hpp"

#include <algorithm>
#include <limits>
#include <optional>
#include <string>
#include <utility>

#include "postgres_audit_row.hpp"
#include "postgres_filter_compiler.hpp"
#include "postgres_record_codec.hpp"
#include "socle/adapters/postgres/identifier.hpp"
#include "sql_text.hpp"

namespace socle::adapters::postgres {

using application::AuditQuery;
using application::StoredAuditEvent;
using domain::AuditEvent;
using domain::AuditHead;
using domain::AuditPersonal;
using domain::Error;
using domain::ErrorCode;
using domain::Fail;
using domain::Result;

namespace {

// ---- DDL -------------------------------------------------------------------------------------
// "@s" stands for the project's quoted schema, "@r" for its quoted role (ExpandSqlTemplate).

// One function refuses every change the trail does not allow, whoever asks: the owner (the
// login role) as much as the project role, which lacks the privileges anyway. The one change
// allowed is the erasure: an UPDATE that sets actor_data or target_data to NULL and leaves
// every other column as it was. The other columns are compared as a whole row (jsonb without
// the two data columns), so that a column added later is protected without naming it here.
// The checks are nested IFs: NEW is NULL for DELETE and for the statement-level TRUNCATE
// trigger, and SQL does not promise to short-circuit AND.
// `_audit` is partitioned by month on `at`, hence `at` in its primary key (a partitioned table's
// unique keys must hold the partition key); (lane, seq) is unique in practice because a lane
// is appended to only under its advisory lock, at head.seq + 1. The indexes serve the head
// lookup (the primary key, read backwards), the newest-first listing, and the searches by
// actor and by target (a data subject's events, a record's history, and the erasure of a
// subject's personal data). The personal parts are columns of the event rather than rows of
// a table of their own: a part's subject is always the event's actor_id (actor part) or
// target_id (target part), so the event's indexes find them, and a commit touches no B-tree
// beyond the event's.
constexpr std::string_view kCreateTables =
    "CREATE OR REPLACE FUNCTION @s._audit_append_only() RETURNS trigger LANGUAGE plpgsql AS $f$"
    " BEGIN"
    " IF TG_OP = 'UPDATE' THEN"
    " IF (pg_catalog.to_jsonb(NEW) - 'actor_data' - 'target_data')"
    " = (pg_catalog.to_jsonb(OLD) - 'actor_data' - 'target_data')"
    " AND (NEW.actor_data IS NULL OR NEW.actor_data IS NOT DISTINCT FROM OLD.actor_data)"
    " AND (NEW.target_data IS NULL OR NEW.target_data IS NOT DISTINCT FROM OLD.target_data)"
    " THEN RETURN NEW; END IF;"
    " END IF;"
    " RAISE EXCEPTION 'the audit trail is append-only: % on % refused', TG_OP, TG_TABLE_NAME"
    " USING HINT = 'Audit events are never changed; personal data is only erased (set to NULL).';"
    " END $f$;"
    "CREATE TABLE IF NOT EXISTS @s._audit ("
    " lane BIGINT NOT NULL,"
    " seq BIGINT NOT NULL,"
    " at TIMESTAMPTZ NOT NULL,"
    " org_id TEXT COLLATE \"C\" NOT NULL,"
    " project_id TEXT COLLATE \"C\" NOT NULL,"
    " actor_kind TEXT COLLATE \"C\" NOT NULL,"
    " actor_id TEXT COLLATE \"C\" NOT NULL,"
    " action TEXT COLLATE \"C\" NOT NULL,"
    " target_kind TEXT COLLATE \"C\" NOT NULL,"
    " target_collection TEXT COLLATE \"C\" NOT NULL,"
    " target_id TEXT COLLATE \"C\" NOT NULL,"
    " outcome TEXT COLLATE \"C\" NOT NULL,"
    " request_id TEXT COLLATE \"C\" NOT NULL,"
    " reason TEXT COLLATE \"C\" NOT NULL,"
    " changes TEXT COLLATE \"C\" NOT NULL,"
    " actor_personal TEXT COLLATE \"C\" NOT NULL,"
    " target_personal TEXT COLLATE \"C\" NOT NULL,"
    " prev_hash TEXT COLLATE \"C\" NOT NULL,"
    " hash TEXT COLLATE \"C\" NOT NULL,"
    " actor_data TEXT COLLATE \"C\","
    " target_data TEXT COLLATE \"C\","
    " PRIMARY KEY (lane, seq, at)"
    ") PARTITION BY RANGE (at);"
    "CREATE INDEX IF NOT EXISTS _audit_newest ON @s._audit (at, lane, seq);"
    "CREATE INDEX IF NOT EXISTS _audit_actor ON @s._audit (actor_id, at);"
    "CREATE INDEX IF NOT EXISTS _audit_target ON @s._audit (target_id, at);"
    // The safety net: an event outside every monthly partition (partitions not created in
    // time, a clock far off) is still kept.
    "CREATE TABLE IF NOT EXISTS @s._audit_default PARTITION OF @s._audit DEFAULT;"
    // Row triggers on a partitioned table are cloned onto every partition, present and future.
    "CREATE OR REPLACE TRIGGER _audit_append_only BEFORE UPDATE OR DELETE ON @s._audit"
    " FOR EACH ROW EXECUTE FUNCTION @s._audit_append_only();"
    "CREATE OR REPLACE TRIGGER _audit_no_truncate BEFORE TRUNCATE ON @s._audit"
    " FOR EACH STATEMENT EXECUTE FUNCTION @s._audit_append_only();"
    // A lane and its head in one round trip: the lowest lane no other transaction holds (the
    // series stops at the first lock obtained), or, when every lane is held, the `fallback`
    // one, waited for; then its last event, read by a statement of its own (a volatile
    // function's statements each take a new snapshot in READ COMMITTED, so it sees every event
    // the lane's previous holder committed). One row even for an empty lane; the isolation
    // level comes along to check that assumption.
    "CREATE OR REPLACE FUNCTION @s._audit_lock_head(lock_class INT4, lock_key TEXT,"
    " fallback INT8) RETURNS TABLE (o_lane INT8, o_seq INT8, o_hash TEXT, o_isolation TEXT)"
    " LANGUAGE plpgsql VOLATILE AS $f$"
    " DECLARE chosen INT8;"
    " BEGIN"
    " SELECT g.l INTO chosen FROM pg_catalog.generate_series(0, 63) AS g(l)"
    " WHERE pg_catalog.pg_try_advisory_xact_lock(lock_class,"
    " pg_catalog.hashtext(lock_key) # g.l::int4) LIMIT 1;"
    " IF chosen IS NULL THEN"
    " chosen := fallback;"
    " PERFORM pg_catalog.pg_advisory_xact_lock(lock_class,"
    " pg_catalog.hashtext(lock_key) # chosen::int4);"
    " END IF;"
    // A lane whose events were all archived goes on from its latest anchor.
    " RETURN QUERY SELECT chosen, coalesce(h.seq, k.seq), coalesce(h.hash, k.hash),"
    " pg_catalog.current_setting('transaction_isolation')"
    " FROM (SELECT 1) AS one LEFT JOIN LATERAL (SELECT a.seq, a.hash FROM @s._audit AS a"
    " WHERE a.lane = chosen ORDER BY a.seq DESC, a.at DESC LIMIT 1) AS h ON TRUE"
    " LEFT JOIN LATERAL (SELECT x.seq, x.hash FROM @s._audit_anchor AS x"
    " WHERE x.lane = chosen ORDER BY x.seq DESC LIMIT 1) AS k ON TRUE;"
    " END $f$;"
    // Retention (Archive): where each chain whose beginning was archived now begins, the last
    // archived event's lane, seq and hash, one row per archive. Only ever added to, each
    // anchor at an event still in the trail (checked before its partition is detached) and
    // beyond its lane's previous one; UPDATE, DELETE and TRUNCATE are refused to everyone.
    "CREATE TABLE IF NOT EXISTS @s._audit_anchor ("
    " lane BIGINT NOT NULL,"
    " seq BIGINT NOT NULL,"
    " hash TEXT COLLATE \"C\" NOT NULL,"
    " at TIMESTAMPTZ NOT NULL DEFAULT pg_catalog.now(),"
    " PRIMARY KEY (lane, seq));"
    "CREATE OR REPLACE FUNCTION @s._audit_anchor_guard() RETURNS trigger LANGUAGE plpgsql AS $f$"
    " BEGIN"
    " IF TG_OP = 'INSERT' THEN"
    " IF EXISTS (SELECT 1 FROM @s._audit AS a WHERE a.lane = NEW.lane AND a.seq = NEW.seq"
    " AND a.hash = NEW.hash)"
    " AND NEW.seq > coalesce((SELECT max(n.seq) FROM @s._audit_anchor AS n"
    " WHERE n.lane = NEW.lane), 0) THEN RETURN NEW; END IF;"
    " RAISE EXCEPTION 'an audit anchor must name a stored event beyond its lane''s last anchor';"
    " END IF;"
    " RAISE EXCEPTION 'audit anchors are append-only: % on % refused', TG_OP, TG_TABLE_NAME;"
    " END $f$;"
    "CREATE OR REPLACE TRIGGER _audit_anchor_guard BEFORE INSERT OR UPDATE OR DELETE"
    " ON @s._audit_anchor FOR EACH ROW EXECUTE FUNCTION @s._audit_anchor_guard();"
    "CREATE OR REPLACE TRIGGER _audit_anchor_no_truncate BEFORE TRUNCATE ON @s._audit_anchor"
    " FOR EACH STATEMENT EXECUTE FUNCTION @s._audit_anchor_guard()";

// The project role appends and reads; a schema-wide GRANT (GrantProjectSchema) gave it more.
// Without UPDATE it cannot erase either: the store erases as the login role.
// The anchors it reads (the head of a lane archived whole), never writes.
constexpr std::string_view kSecureTables =
    "REVOKE ALL ON @s._audit FROM @r; GRANT SELECT, INSERT ON @s._audit TO @r;"
    "REVOKE ALL ON @s._audit_anchor FROM @r; GRANT SELECT ON @s._audit_anchor TO @r";
// The partitions, whose privileges count only when one is named directly.
constexpr Statement kListPartitions{
    "", "SELECT c.relname FROM pg_catalog.pg_partition_tree($1::regclass) AS t"
        " JOIN pg_catalog.pg_class AS c ON c.oid = t.relid WHERE t.level > 0 ORDER BY 1",
    1};

// The current month and the next two by the server's clock (UTC): each month's partition name
// suffix, its bounds, whether its partition exists, whether the default partition holds
// events of that month (the partition can then not be attached), and its start in
// microseconds. $1: the quoted schema.
constexpr std::string_view kMonths =
    "SELECT to_char(m, 'YYYY\"m\"MM'), to_char(m, 'YYYY-MM-DD'),"
    " to_char(m + interval '1 month', 'YYYY-MM-DD'),"
    " pg_catalog.to_regclass($1::text || '._audit_y' || to_char(m, 'YYYY\"m\"MM')) IS NOT NULL,"
    " EXISTS (SELECT 1 FROM @s._audit_default AS d WHERE d.at >= m AT TIME ZONE 'UTC'"
    " AND d.at < (m + interval '1 month') AT TIME ZONE 'UTC'),"
    " (extract(epoch FROM m AT TIME ZONE 'UTC') * 1000000)::int8"
    " FROM pg_catalog.generate_series(date_trunc('month', now() AT TIME ZONE 'UTC'),"
    " date_trunc('month', now() AT TIME ZONE 'UTC') + interval '2 months', interval '1 month')"
    " AS m ORDER BY m";
// A partition is made apart and then attached: ATTACH takes a lock on the parent that lets
// appends and reads go on, where CREATE TABLE ... PARTITION OF would stop them for a moment.
// Attaching creates the partition's indexes and clones the triggers.
constexpr std::string_view kPartitionLockTimeout = "SET LOCAL lock_timeout = '5s'";

// ---- statements ------------------------------------------------------------------------------

// A lane and its head (see _audit_lock_head above). $1 the lock class, $2 the lock key (the
// schema's name), $3 the lane to wait for when every lane is held.
constexpr std::string_view kLockHead =
    "SELECT o_lane, o_seq, o_hash, o_isolation FROM @s._audit_lock_head($1::int4, $2::text,"
    " $3::int8)";
static_assert(kAuditLanes == 64, "_audit_lock_head's series names the lane count");

// The event and its personal parts' data ($20 actor's, $21 target's; NULL without one): the lane,
// then the values in the order AppendAuditParams gives them (postgres_audit_row.hpp).
constexpr std::string_view kInsertEvent =
    "INSERT INTO @s._audit (lane, seq, at, org_id, project_id, actor_kind, actor_id, action,"
    " target_kind, target_collection, target_id, outcome, request_id, reason, changes,"
    " actor_personal, target_personal, prev_hash, hash, actor_data, target_data) VALUES"
    " ($1::int8, $2::int8, $3::timestamptz, $4::text, $5::text, $6::text, $7::text, $8::text,"
    " $9::text, $10::text, $11::text, $12::text, $13::text, $14::text, $15::text, $16::text,"
    " $17::text, $18::text, $19::text, $20::text, $21::text)";
constexpr int kInsertParams = 21;

// The lane, then the event columns as read back, `at` in microseconds, then the parts' data,
// from an alias a: the lane and the columns ReadAuditEvent reads (postgres_audit_row.hpp).
constexpr std::string_view kEventColumns =
    "a.lane, a.seq, (extract(epoch FROM a.at) * 1000000)::int8, a.org_id, a.project_id,"
    " a.actor_kind, a.actor_id, a.action, a.target_kind, a.target_collection, a.target_id,"
    " a.outcome, a.request_id, a.reason, a.changes, a.actor_personal, a.target_personal,"
    " a.prev_hash, a.hash, a.actor_data, a.target_data";
constexpr int kColumnCount = 21;

constexpr std::string_view kChain =
    " FROM @s._audit AS a WHERE a.lane = $1::int8 AND a.seq > $2::int8"
    " ORDER BY a.seq, a.at LIMIT $3::int8";

// A loose index scan: each lane found by one probe of the primary key, then its last event.
constexpr std::string_view kHeads =
    "WITH RECURSIVE lanes (lane) AS ("
    " (SELECT a.lane FROM @s._audit AS a ORDER BY a.lane LIMIT 1)"
    " UNION ALL"
    " SELECT (SELECT a.lane FROM @s._audit AS a WHERE a.lane > l.lane ORDER BY a.lane LIMIT 1)"
    " FROM lanes AS l WHERE l.lane IS NOT NULL)"
    " SELECT l.lane, h.seq, h.hash FROM lanes AS l CROSS JOIN LATERAL (SELECT a.seq, a.hash"
    " FROM @s._audit AS a WHERE a.lane = l.lane ORDER BY a.seq DESC, a.at DESC LIMIT 1) AS h"
    " ORDER BY l.lane";

// The erasure, one statement per kind of part, each served by the event's index on its
// subject column; a part already erased is not counted again.
constexpr std::string_view kEraseActor =
    "UPDATE @s._audit SET actor_data = NULL WHERE actor_id = $1::text AND actor_data IS NOT NULL";
constexpr std::string_view kEraseTarget =
    "UPDATE @s._audit SET target_data = NULL"
    " WHERE target_id = $1::text AND target_data IS NOT NULL";

// ---- retention -------------------------------------------------------------------------------

// The latest anchor of every lane.
constexpr std::string_view kAnchors =
    "SELECT DISTINCT ON (n.lane) n.lane, n.seq, n.hash FROM @s._audit_anchor AS n"
    " ORDER BY n.lane, n.seq DESC";
// The monthly partitions that end at or before the cut ($2, timestamptz): their oid, their name
// and their month's start as it is in their name (`_audit_yYYYYmMM`, made by EnsurePartitions
// with exactly that month as bounds). $1: the parent, `schema._audit`.
constexpr std::string_view kArchivablePartitions =
    "SELECT c.oid::int8, c.relname FROM pg_catalog.pg_inherits AS i"
    " JOIN pg_catalog.pg_class AS c ON c.oid = i.inhrelid"
    " WHERE i.inhparent = $1::regclass AND c.relname ~ '^_audit_y[0-9]{4}m[0-9]{2}$'"
    " AND (pg_catalog.to_date(substr(c.relname, 9), 'YYYY\"m\"MM') + interval '1 month')"
    " AT TIME ZONE 'UTC' <= $2::timestamptz"
    " ORDER BY c.relname";
// Per lane, the events of those partitions ($1, oid[]): how many, the first and last seq.
constexpr std::string_view kArchivedLanes =
    "SELECT a.lane, count(*), min(a.seq), max(a.seq) FROM @s._audit AS a"
    " WHERE a.tableoid = ANY($1::oid[]) GROUP BY a.lane ORDER BY a.lane";
// Whether an event kept (outside those partitions) sits at or before seq $2 of lane $1.
constexpr std::string_view kKeptBefore =
    "SELECT EXISTS (SELECT 1 FROM @s._audit AS a WHERE a.lane = $1::int8 AND a.seq <= $2::int8"
    " AND a.tableoid <> ALL($3::oid[]))";
constexpr std::string_view kLastAnchor =
    "SELECT coalesce(max(n.seq), 0) FROM @s._audit_anchor AS n WHERE n.lane = $1::int8";
// One page of the archived events in chain order, after (lane $2, seq $3).
constexpr std::string_view kArchivePage =
    " FROM @s._audit AS a WHERE a.tableoid = ANY($1::oid[]) AND (a.lane, a.seq) > ($2::int8,"
    " $3::int8) ORDER BY a.lane, a.seq LIMIT $4::int8";
constexpr std::string_view kInsertAnchor =
    "INSERT INTO @s._audit_anchor (lane, seq, hash) VALUES ($1::int8, $2::int8, $3::text)";
// Nobody appends or reads while partitions are detached: the trail before the cut is then the
// one archived, and appenders wait (at most this long) rather than fail.
constexpr std::string_view kArchiveLock =
    "SET LOCAL lock_timeout = '5s'; LOCK TABLE @s._audit IN ACCESS EXCLUSIVE MODE";
// The snapshot the archive is read from: every page of one moment.
constexpr char kBeginSnapshot[] = "BEGIN ISOLATION LEVEL REPEATABLE READ READ ONLY";
constexpr std::int64_t kArchivePageSize = 1000;

// The result types never change: one generation for every statement of the trail.
constexpr std::uint64_t kAuditGeneration = 0;

constexpr std::int64_t kMaxEventsPage = 1000;
constexpr std::chrono::hours kPartitionsRetry{1};

std::int64_t SteadyNowNs() noexcept {
  return std::chrono::duration_cast<std::chrono::nanoseconds>(
             std::chrono::steady_clock::now().time_since_epoch())
      .count();
}

std::string Expand(std::string_view tmpl, const std::string& schema,
                   const std::string& role = {}) {
  return ExpandSqlTemplate(tmpl, schema, role);
}

std::string ChainStatement(const std::string& schema) {
  return "SELECT " + std::string(kEventColumns) + Expand(kChain, schema);
}

bool IsDigits(std::string_view text, std::string_view shape) {
  // `shape`: '9' a digit, anything else itself.
  if (text.size() != shape.size()) return false;
  for (std::size_t i = 0; i < text.size(); ++i) {
    if (shape[i] == '9' ? (text[i] < '0' || text[i] > '9') : text[i] != shape[i]) return false;
  }
  return true;
}

// The events of rows of kEventColumns, each of the lane its first column holds.
Result<std::vector<StoredAuditEvent>> ReadEvents(const PgResult& rows) {
  return ReadAuditEvents(rows, kColumnCount, "the audit trail",
                         [&](int row) -> Result<StoredAuditEvent> {
                           auto lane = ParseInt8(rows.Text(row, 0));
                           if (!lane) return Fail(lane.error());
                           return ReadAuditEvent(rows, row, 1, *lane);
                         });
}

}  // namespace

// ---- PostgresAuditTrail ----------------------------------------------------------------------

PostgresAuditTrail::PostgresAuditTrail(std::string sql_schema, std::string schema_name,
                                       std::string sql_role)
    : sql_schema_(std::move(sql_schema)),
      schema_name_(std::move(schema_name)),
      sql_role_(std::move(sql_role)),
      lock_head_(Expand(kLockHead, sql_schema_)),
      append_(Expand(kInsertEvent, sql_schema_)),
      heads_(Expand(kHeads, sql_schema_)),
      chain_(ChainStatement(sql_schema_)),
      erase_actor_(Expand(kEraseActor, sql_schema_)),
      erase_target_(Expand(kEraseTarget, sql_schema_)),
      months_(Expand(kMonths, sql_schema_)),
      anchors_(Expand(kAnchors, sql_schema_)),
      archived_lanes_(Expand(kArchivedLanes, sql_schema_)),
      kept_before_(Expand(kKeptBefore, sql_schema_)),
      last_anchor_(Expand(kLastAnchor, sql_schema_)),
      archive_page_("SELECT " + std::string(kEventColumns) + Expand(kArchivePage, sql_schema_)),
      insert_anchor_(Expand(kInsertAnchor, sql_schema_)),
      archive_lock_(Expand(kArchiveLock, sql_schema_)),
      horizon_us_(std::numeric_limits<std::int64_t>::min()),
      quiet_until_ns_(std::numeric_limits<std::int64_t>::min()) {}

Result<void> PostgresAuditTrail::Create(Connection& conn) const {
  if (auto done = conn.Script(Expand(kCreateTables, sql_schema_)); !done) {
    return Fail(done.error());
  }
  return {};
}

Result<void> PostgresAuditTrail::Secure(Connection& conn) const {
  if (auto done = conn.Script(Expand(kSecureTables, sql_schema_, sql_role_)); !done) {
    return Fail(done.error());
  }
  auto partitions = conn.Execute(kListPartitions, {sql_schema_ + "._audit"});
  if (!partitions) return Fail(partitions.error());
  if (partitions->Rows() == 0) return {};
  std::string revoke = "REVOKE ALL ON ";
  for (int row = 0; row < partitions->Rows(); ++row) {
    auto name = QuoteIdentifier(partitions->Text(row, 0));
    if (!name) return Fail(Error::Internal("unexpected audit partition name"));
    if (row > 0) revoke += ", ";
    revoke += sql_schema_ + "." + *name;
  }
  revoke += " FROM " + sql_role_;
  if (auto done = conn.Script(revoke); !done) return Fail(done.error());
  return {};
}

Result<void> PostgresAuditTrail::EnsurePartitions(Connection& conn) {
  if (auto limited = conn.Script(std::string(kPartitionLockTimeout)); !limited) {
    return Fail(limited.error());
  }
  auto months = conn.ExecuteCached(months_, {sql_schema_}, kAuditGeneration);
  if (!months) return Fail(months.error());
  if (months->Rows() == 0 || months->Columns() != 6) {
    return Fail(Error::Internal("unexpected answer planning the audit partitions"));
  }
  for (int row = 0; row < months->Rows(); ++row) {
    const std::string_view suffix = months->Text(row, 0);
    const std::string_view from = months->Text(row, 1);
    const std::string_view to = months->Text(row, 2);
    // What is spliced into the DDL below is the server's own date formatting, checked.
    if (!IsDigits(suffix, "9999m99") || !IsDigits(from, "9999-99-99") ||
        !IsDigits(to, "9999-99-99")) {
      return Fail(Error::Internal("unexpected month from PostgreSQL: " + std::string(suffix)));
    }
    const bool exists = months->Text(row, 3) == "t";
    const bool in_default = months->Text(row, 4) == "t";
    if (exists || in_default) continue;
    auto name = QuoteIdentifier("_audit_y" + std::string(suffix));
    if (!name) return Fail(name.error());
    const std::string partition = sql_schema_ + "." + *name;
    const std::string ddl = "CREATE TABLE " + partition + " (LIKE " + sql_schema_ +
                            "._audit INCLUDING DEFAULTS INCLUDING CONSTRAINTS); ALTER TABLE " +
                            sql_schema_ + "._audit ATTACH PARTITION " + partition +
                            " FOR VALUES FROM ('" + std::string(from) + " 00:00:00+00') TO ('" +
                            std::string(to) + " 00:00:00+00')";
    if (auto done = conn.Script(ddl); !done) return Fail(done.error());
  }
  auto last = ParseInt8(months->Text(months->Rows() - 1, 5));
  if (!last) return Fail(last.error());
  SetHorizon(*last);
  return {};
}

void PostgresAuditTrail::SetHorizon(std::int64_t last_month_us) noexcept {
  horizon_us_.store(last_month_us);
}

bool PostgresAuditTrail::TakePartitionsDue() noexcept {
  // A plain load first: the common answer (no) costs no write to a shared cache line.
  return partitions_due_.load(std::memory_order_relaxed) && partitions_due_.exchange(false);
}

void PostgresAuditTrail::PartitionsTried(bool created) noexcept {
  if (created && due_at_us_.load() < horizon_us_.load()) return;
  const auto pause = std::chrono::duration_cast<std::chrono::nanoseconds>(kPartitionsRetry);
  quiet_until_ns_.store(SteadyNowNs() + pause.count());
}

void PostgresAuditTrail::Appended(domain::Timestamp at) noexcept {
  const std::int64_t us = at.unix_micros();
  // The common case costs one relaxed load: the event is before the last month created.
  if (us < horizon_us_.load(std::memory_order_relaxed)) return;
  if (SteadyNowNs() < quiet_until_ns_.load(std::memory_order_relaxed)) return;
  due_at_us_.store(us);
  partitions_due_.store(true);
}

Result<std::vector<StoredAuditEvent>> PostgresAuditTrail::Events(Connection& conn,
                                                                const AuditQuery& query) const {
  // The statement's shape depends only on which filters are set; every value is bound.
  SqlParams params;
  std::string where;
  auto condition = [&](std::string sql) {
    where += where.empty() ? " WHERE " : " AND ";
    where += sql;
  };
  // No stored value holds NUL: a filter that does matches nothing.
  if (!CanBindText(query.org_id) || !AuditCriteriaBindable(query)) {
    return std::vector<StoredAuditEvent>();
  }
  if (!query.org_id.empty()) condition("a.org_id = " + params.Add(query.org_id, "text"));
  AddAuditCriteria(query, "a.lane", params, condition);
  const std::int64_t limit = std::clamp<std::int64_t>(query.limit, 1, kMaxEventsPage);
  std::string sql = "SELECT " + std::string(kEventColumns) + " FROM " + sql_schema_ +
                    "._audit AS a" + where +
                    " ORDER BY a.at DESC, a.lane DESC, a.seq DESC LIMIT " +
                    params.Add(std::to_string(limit), "int8");
  Params values = params.Bind(sql);
  auto rows = conn.ExecuteCached(sql, values, kAuditGeneration);
  if (!rows) return Fail(rows.error());
  return ReadEvents(*rows);
}

Result<std::vector<AuditHead>> PostgresAuditTrail::Heads(Connection& conn) const {
  auto rows = conn.ExecuteCached(heads_, {}, kAuditGeneration);
  if (!rows) return Fail(rows.error());
  std::vector<AuditHead> heads;
  heads.reserve(static_cast<std::size_t>(rows->Rows()));
  for (int row = 0; row < rows->Rows(); ++row) {
    auto lane = ParseInt8(rows->Text(row, 0));
    auto seq = ParseInt8(rows->Text(row, 1));
    if (!lane) return Fail(lane.error());
    if (!seq) return Fail(seq.error());
    heads.push_back(AuditHead{*lane, *seq, std::string(rows->Text(row, 2))});
  }
  // A lane archived whole has no event left; its head is its anchor, where it goes on.
  auto anchors = Anchors(conn);
  if (!anchors) return Fail(anchors.error());
  for (const AuditHead& anchor : *anchors) {
    const bool listed = std::any_of(heads.begin(), heads.end(),
                                    [&](const AuditHead& head) { return head.lane == anchor.lane; });
    if (!listed) heads.push_back(anchor);
  }
  std::sort(heads.begin(), heads.end(),
            [](const AuditHead& a, const AuditHead& b) { return a.lane < b.lane; });
  return heads;
}

Result<std::vector<AuditHead>> PostgresAuditTrail::Anchors(Connection& conn) const {
  auto rows = conn.ExecuteCached(anchors_, {}, kAuditGeneration);
  if (!rows) {
    // A schema made by a build without retention has no anchors table until it is next
    // created: nothing was ever archived there.
    if (conn.last_sqlstate() == "42P01" && !conn.broken()) return std::vector<AuditHead>();
    return Fail(rows.error());
  }
  std::vector<AuditHead> anchors;
  anchors.reserve(static_cast<std::size_t>(rows->Rows()));
  for (int row = 0; row < rows->Rows(); ++row) {
    auto lane = ParseInt8(rows->Text(row, 0));
    auto seq = ParseInt8(rows->Text(row, 1));
    if (!lane) return Fail(lane.error());
    if (!seq) return Fail(seq.error());
    anchors.push_back(AuditHead{*lane, *seq, std::string(rows->Text(row, 2))});
  }
  return anchors;
}

namespace {

// The events of the archived partitions in one lane: how many, the first and last seq.
struct ArchivedLane {
  std::int64_t lane = 0;
  std::int64_t count = 0;
  std::int64_t first = 0;
  std::int64_t last = 0;
  friend bool operator==(const ArchivedLane&, const ArchivedLane&) = default;
};

Result<std::vector<ArchivedLane>> ReadArchivedLanes(Connection& conn, const std::string& sql,
                                                    const std::string& oids) {
  auto rows = conn.ExecuteCached(sql, {oids}, kAuditGeneration);
  if (!rows) return Fail(rows.error());
  std::vector<ArchivedLane> lanes;
  for (int row = 0; row < rows->Rows(); ++row) {
    ArchivedLane lane;
    for (auto [column, value] : {std::pair{0, &lane.lane}, std::pair{1, &lane.count},
                                 std::pair{2, &lane.first}, std::pair{3, &lane.last}}) {
      auto parsed = ParseInt8(rows->Text(row, column));
      if (!parsed) return Fail(parsed.error());
      *value = *parsed;
    }
    lanes.push_back(lane);
  }
  return lanes;
}

Error NotAPrefix(std::int64_t lane, domain::Timestamp before) {
  return Error::Make(ErrorCode::kFailedPrecondition,
                     "The audit events of the months before " + before.ToIso8601() +
                         " are not the beginning of their chain in lane " + std::to_string(lane) +
                         " (a later event is older than an earlier one, or an earlier one sits "
                         "outside those months). Choose another cut.");
}

}  // namespace

Result<application::AuditArchived> PostgresAuditTrail::Archive(
    Connection& conn, domain::Timestamp before, application::AuditArchiveSink& sink) const {
  application::AuditArchived archived;
  // The partitions, then every event of theirs to the sink, from one snapshot.
  std::vector<std::string> names;
  std::string oids = "{";
  std::vector<ArchivedLane> lanes;
  std::vector<AuditHead> anchors;
  auto streamed = InTransaction(conn, kBeginSnapshot, [&]() -> Result<void> {
    auto partitions = conn.ExecuteCached(std::string(kArchivablePartitions),
                                         {sql_schema_ + "._audit", before.ToIso8601()},
                                         kAuditGeneration);
    if (!partitions) return Fail(partitions.error());
    for (int row = 0; row < partitions->Rows(); ++row) {
      const std::string_view oid = partitions->Text(row, 0);
      const std::string_view name = partitions->Text(row, 1);
      // Spliced into DDL below: the shape is checked, and the name quoted there too.
      if (!IsDigits(oid, std::string(oid.size(), '9')) || !IsDigits(name, "_audit_y9999m99")) {
        return Fail(Error::Internal("unexpected audit partition " + std::string(name)));
      }
      if (row > 0) oids += ",";
      oids += oid;
      names.emplace_back(name);
    }
    oids += "}";
    if (names.empty()) return {};
    auto found = ReadArchivedLanes(conn, archived_lanes_, oids);
    if (!found) return Fail(found.error());
    lanes = std::move(*found);
    for (const ArchivedLane& lane : lanes) {
      auto anchor = conn.ExecuteCached(last_anchor_, {std::to_string(lane.lane)},
                                       kAuditGeneration);
      if (!anchor) return Fail(anchor.error());
      auto from = ParseInt8(anchor->Text(0, 0));
      if (!from) return Fail(from.error());
      if (lane.first != *from + 1 || lane.last - lane.first + 1 != lane.count) {
        return Fail(NotAPrefix(lane.lane, before));
      }
      auto kept = conn.ExecuteCached(
          kept_before_, {std::to_string(lane.lane), std::to_string(lane.last), oids},
          kAuditGeneration);
      if (!kept) return Fail(kept.error());
      if (kept->Text(0, 0) != "f") return Fail(NotAPrefix(lane.lane, before));
    }
    std::int64_t after_lane = std::numeric_limits<std::int64_t>::min();
    std::int64_t after_seq = 0;
    for (;;) {
      auto rows = conn.ExecuteCached(archive_page_,
                                     {oids, std::to_string(after_lane), std::to_string(after_seq),
                                      std::to_string(kArchivePageSize)},
                                     kAuditGeneration);
      if (!rows) return Fail(rows.error());
      auto page = ReadEvents(*rows);
      if (!page) return Fail(page.error());
      for (const StoredAuditEvent& stored : *page) {
        if (auto written = sink.Write(stored); !written) return written;
        const AuditHead head{stored.event.lane, stored.event.seq, stored.event.hash};
        if (!anchors.empty() && anchors.back().lane == head.lane) {
          anchors.back() = head;
        } else {
          anchors.push_back(head);
        }
        after_lane = stored.event.lane;
        after_seq = stored.event.seq;
      }
      if (static_cast<std::int64_t>(page->size()) < kArchivePageSize) return {};
    }
  });
  if (!streamed) return Fail(streamed.error());
  if (names.empty()) return archived;
  if (auto committed = sink.Commit(); !committed) return Fail(committed.error());

  // Then, in one transaction holding the trail: the same events still there (none appended
  // meanwhile with an old time), the anchors, and the partitions detached and renamed.
  auto moved = InTransaction(conn, [&]() -> Result<void> {
    if (auto locked = conn.Script(archive_lock_); !locked) return Fail(locked.error());
    auto now = ReadArchivedLanes(conn, archived_lanes_, oids);
    if (!now) return Fail(now.error());
    if (*now != lanes) {
      return Fail(ErrorCode::kAborted,
                  "The audit trail before the cut changed while it was archived; archive again.");
    }
    for (const AuditHead& anchor : anchors) {
      auto done = conn.ExecuteCached(
          insert_anchor_, {std::to_string(anchor.lane), std::to_string(anchor.seq), anchor.hash},
          kAuditGeneration);
      if (!done) return Fail(done.error());
    }
    for (const std::string& name : names) {
      auto quoted = QuoteIdentifier(name);
      // "_audit_y" -> "_audit_archived_y": the month stays in the name.
      auto renamed = QuoteIdentifier("_audit_archived_" + name.substr(7));
      if (!quoted) return Fail(quoted.error());
      if (!renamed) return Fail(renamed.error());
      const std::string table = sql_schema_ + "." + *renamed;
      // The detached table keeps its rows, out of the trail's reach: no trigger of the parent
      // applies to it any more, so it gets its own, and the project role nothing on it.
      const std::string ddl =
          "ALTER TABLE " + sql_schema_ + "._audit DETACH PARTITION " + sql_schema_ + "." +
          *quoted + "; ALTER TABLE " + sql_schema_ + "." + *quoted + " RENAME TO " + *renamed +
          "; CREATE OR REPLACE TRIGGER _audit_archived_append_only BEFORE UPDATE OR DELETE ON " +
          table + " FOR EACH ROW EXECUTE FUNCTION " + sql_schema_ +
          "._audit_append_only(); CREATE OR REPLACE TRIGGER _audit_archived_no_truncate BEFORE "
          "TRUNCATE ON " +
          table + " FOR EACH STATEMENT EXECUTE FUNCTION " + sql_schema_ +
          "._audit_append_only(); REVOKE ALL ON " + table + " FROM " + sql_role_;
      if (auto done = conn.Script(ddl); !done) return Fail(done.error());
      archived.detached.push_back(name.substr(0, 7) + "archived_" + name.substr(7));
    }
    return {};
  });
  if (!moved) return Fail(moved.error());
  for (const ArchivedLane& lane : lanes) archived.events += lane.count;
  archived.anchors = std::move(anchors);
  return archived;
}

Result<std::vector<StoredAuditEvent>> PostgresAuditTrail::Chain(Connection& conn,
                                                               std::int64_t lane,
                                                               std::int64_t after_seq,
                                                               std::int64_t limit) const {
  if (limit <= 0) return std::vector<StoredAuditEvent>();
  auto rows = conn.ExecuteCached(
      chain_, {std::to_string(lane), std::to_string(after_seq), std::to_string(limit)},
      kAuditGeneration);
  if (!rows) return Fail(rows.error());
  return ReadEvents(*rows);
}

Result<std::int64_t> PostgresAuditTrail::Erase(Connection& conn,
                                               std::string_view subject) const {
  if (!CanBindText(subject)) return 0;  // no stored subject holds NUL
  // Both kinds of part or neither: a subject is erased whole, and the count is exact.
  return InTransaction(conn, [&]() -> Result<std::int64_t> {
    const Params params{std::string(subject)};
    auto actors = conn.ExecuteCached(erase_actor_, params, kAuditGeneration);
    if (!actors) return Fail(actors.error());
    auto targets = conn.ExecuteCached(erase_target_, params, kAuditGeneration);
    if (!targets) return Fail(targets.error());
    return actors->Affected() + targets->Affected();
  });
}

std::int64_t PostgresAuditTrail::NextWaitLane() noexcept {
  return static_cast<std::int64_t>(next_wait_lane_.fetch_add(1, std::memory_order_relaxed) %
                                   static_cast<std::uint64_t>(kAuditLanes));
}

// ---- PostgresAuditAppender -------------------------------------------------------------------

// The lowest free lane: writers one after another share lane 0 (one chain to read), and only
// concurrent ones spread out. When every lane is held, each waiter queues on another lane, so
// that they spread over the lanes as these free up instead of all waiting for lane 0.
Params PostgresAuditAppender::LockHeadParams() const {
  return {std::to_string(kAuditLockClass), trail_.schema_name_,
          std::to_string(trail_.NextWaitLane())};
}

void PostgresAuditAppender::WillAppendAudit() {
  if (head_ || announced_) return;
  announced_ = conn_.DeferKept(trail_.lock_head_, LockHeadParams(), kAuditGeneration);
}

Result<AuditHead> PostgresAuditAppender::LockAuditHead() {
  if (head_) return *head_;
  Result<PgResult> rows = Fail(Error::Internal("no audit lane read"));
  if (auto announced = std::exchange(announced_, nullptr)) {
    // Sent with an earlier round trip, or still waiting for one: then on its own now.
    if (!*announced) {
      if (auto flushed = conn_.Flush(); !flushed) return Fail(flushed.error());
    }
    if (*announced) rows = std::move(**announced);
  }
  // Not announced, or its round trip failed (the transaction cannot commit then, and this
  // statement fails with the reason).
  if (!rows) {
    rows = conn_.ExecuteCached(trail_.lock_head_, LockHeadParams(), kAuditGeneration);
  }
  if (!rows) return Fail(rows.error());
  if (rows->Rows() != 1 || rows->Columns() != 4) {
    return Fail(Error::Internal("unexpected answer reading an audit lane's head"));
  }
  if (rows->Text(0, 3) != "read committed") {
    return Fail(Error::Internal("audit heads need READ COMMITTED transactions, not " +
                                std::string(rows->Text(0, 3))));
  }
  auto lane = ParseInt8(rows->Text(0, 0));
  if (!lane) return Fail(lane.error());
  AuditHead head;
  head.lane = *lane;
  if (!rows->IsNull(0, 1)) {
    auto seq = ParseInt8(rows->Text(0, 1));
    if (!seq) return Fail(seq.error());
    head.seq = *seq;
    head.hash = std::string(rows->Text(0, 2));
  }
  head_ = head;
  return head;
}

Result<void> PostgresAuditAppender::AppendAudit(const AuditEvent& event,
                                                const std::vector<AuditPersonal>& personal) {
  // The chain's integrity rests on these: an event that does not follow the locked head would
  // fork or break it, and no constraint of a partitioned table can refuse it.
  if (!head_) return Fail(Error::Internal("AppendAudit without LockAuditHead"));
  if (event.lane != head_->lane) {
    return Fail(Error::Internal("audit event for lane " + std::to_string(event.lane) +
                                " while holding lane " + std::to_string(head_->lane)));
  }
  if (event.seq != head_->seq + 1) {
    return Fail(Error::Internal("audit event " + std::to_string(event.seq) + " does not follow " +
                                std::to_string(head_->seq) + " in lane " +
                                std::to_string(head_->lane)));
  }
  // Checked before the INSERT: a part that fits nowhere would be lost or misattributed (see
  // AppendAuditParams).
  Params params;
  params.reserve(static_cast<std::size_t>(kInsertParams));
  params.push_back(std::to_string(event.lane));
  if (auto fits = AppendAuditParams(event, personal, params); !fits) return fits;
  // Deferred: the event travels with the next statement, normally the COMMIT (one round trip
  // for both); should it fail, that statement fails and the transaction rolls back.
  conn_.Defer(trail_.append_, std::move(params), kAuditGeneration);
  head_ = AuditHead{event.lane, event.seq, event.hash};
  trail_.Appended(event.at);
  return {};
}

}  // namespace socle::adapters::postgres
