// The audit trail on PostgreSQL beyond the ProjectStore contract: its tables in the project's
// schema (monthly partitions, keys, indexes), what the database itself refuses (the project
// role's privileges, the owner's triggers) and what a superuser can still do (and the chain
// then shows), the lanes and their advisory locks under concurrency, the query plans of the
// hot statements, and the upkeep of the partitions. The store runs as a non-superuser login
// role, as in production; each case gets a throwaway database and a project id of its own
// (project roles are cluster-wide).
#include <libpq-fe.h>

#include <algorithm>
#include <atomic>
#include <catch2/catch.hpp>
#include <chrono>
#include <cstdint>
#include <cstdio>
#include <functional>
#include <latch>
#include <memory>
#include <optional>
#include <random>
#include <set>
#include <stdexcept>
#include <string>
#include <thread>
#include <utility>
#include <vector>

#include "connection.hpp"
#include "postgres_audit_trail.hpp"
#include "socle/adapters/postgres/identifier.hpp"
#include "project_role.hpp"
#include "socle/adapters/crypto/digest.hpp"
#include "socle/adapters/postgres/postgres_catalogue_store.hpp"
#include "socle/adapters/postgres/postgres_project_store.hpp"
#include "support/must.hpp"
#include "support/postgres_test_database.hpp"

using namespace socle;
using namespace socle::domain;
using adapters::postgres::kAuditLanes;
using adapters::postgres::kAuditLockClass;
using adapters::postgres::PostgresCatalogueStore;
using adapters::postgres::PostgresProjectStores;
using adapters::postgres::ProjectRoleName;
using application::AuditQuery;
using application::ProjectStore;
using application::RecordTransaction;
using application::StoredAuditEvent;
using socle::testing::Must;
using socle::testing::PgRow;
using socle::testing::PostgresSession;
using socle::testing::PostgresTestDatabase;

namespace {

constexpr std::int64_t kMicrosPerDay = 86'400'000'000;

Timestamp Seconds(std::int64_t seconds) { return Timestamp::FromUnixMicros(seconds * 1'000'000); }

std::string HexSha256(std::string_view bytes) {
  return adapters::crypto::ToHex(adapters::crypto::Sha256(bytes));
}
const Sha256Hex kSha256 = [](std::string_view bytes) { return HexSha256(bytes); };

std::string Describe(const Error& error) { return error.message + " / " + error.internal; }

// The first instant (UTC) of the month `offset` months from the current one, and the name of
// its partition, computed here from the system clock (independently of the store's SQL).
struct Month {
  Timestamp start;
  std::string partition;
};

Month MonthFromNow(int offset) {
  using namespace std::chrono;
  const year_month_day today{floor<days>(system_clock::now())};
  const year_month first = year_month{today.year(), today.month()} + months{offset};
  const sys_days start{first / day{1}};
  char name[32];
  std::snprintf(name, sizeof name, "_audit_y%04dm%02u", static_cast<int>(first.year()),
                static_cast<unsigned>(first.month()));
  const auto micros = duration_cast<microseconds>(start.time_since_epoch()).count();
  return Month{Timestamp::FromUnixMicros(micros), name};
}

Timestamp Plus(Timestamp at, std::int64_t micros) {
  return Timestamp::FromUnixMicros(at.unix_micros() + micros);
}

Id UniqueId() {
  static std::random_device device;
  return Id::FromRandom([] { return static_cast<std::uint8_t>(device()); });
}

// A URL for the same database as `url`, logging in as `user`.
std::string UrlAs(const std::string& url, const std::string& user) {
  const auto at = url.find("user=");
  if (at == std::string::npos) {
    return url + (url.find('?') == std::string::npos ? "?user=" : "&user=") + user;
  }
  const auto end = url.find('&', at);
  return url.substr(0, at) + "user=" + user + (end == std::string::npos ? "" : url.substr(end));
}

// The production shape of the pools' login role: LOGIN, CREATEROLE, CREATE on the database,
// not a superuser. Dropped with what it owns after the stores closed.
class LoginRole final {
 public:
  explicit LoginRole(const PostgresTestDatabase& db) : db_(db), name_(db.name() + "_login") {
    db_.Query("CREATE ROLE \"" + name_ + "\" LOGIN CREATEROLE");
    db_.Query("GRANT CREATE ON DATABASE \"" + db_.name() + "\" TO \"" + name_ + "\"");
  }
  ~LoginRole() {
    try {
      db_.Query("DROP OWNED BY \"" + name_ + "\" CASCADE");
      db_.Query("DROP ROLE \"" + name_ + "\"");
    } catch (const std::exception& e) {
      std::fprintf(stderr, "warning: could not drop role %s: %s\n", name_.c_str(), e.what());
    }
  }
  LoginRole(const LoginRole&) = delete;
  LoginRole& operator=(const LoginRole&) = delete;
  const std::string& name() const noexcept { return name_; }

 private:
  const PostgresTestDatabase& db_;
  std::string name_;
};

// A raw libpq session for hand-written SQL (what a person with a psql prompt would send),
// reporting each statement's SQLSTATE.
class RawSession final {
 public:
  explicit RawSession(const std::string& url) {
    conn_ = PQconnectdb(url.c_str());
    if (conn_ == nullptr || PQstatus(conn_) != CONNECTION_OK) {
      std::string message = conn_ != nullptr ? PQerrorMessage(conn_) : "out of memory";
      PQfinish(conn_);
      throw std::runtime_error("raw session cannot connect: " + message);
    }
    PQsetNoticeProcessor(conn_, [](void*, const char*) {}, nullptr);
    if (!Run("SET TimeZone = 'UTC'").empty()) throw std::runtime_error("cannot set the time zone");
  }
  ~RawSession() { PQfinish(conn_); }
  RawSession(const RawSession&) = delete;
  RawSession& operator=(const RawSession&) = delete;

  /// Runs `sql` (simple protocol); "" when it succeeded, else its SQLSTATE.
  std::string Run(const std::string& sql) {
    std::unique_ptr<PGresult, decltype(&PQclear)> result(PQexec(conn_, sql.c_str()), &PQclear);
    const auto status = PQresultStatus(result.get());
    if (status == PGRES_COMMAND_OK || status == PGRES_TUPLES_OK) return "";
    last_message_ = PQresultErrorMessage(result.get());
    const char* sqlstate = PQresultErrorField(result.get(), PG_DIAG_SQLSTATE);
    return sqlstate != nullptr ? sqlstate : "?????";
  }

  /// Every row's first column.
  std::vector<std::string> Column(const std::string& sql) {
    std::unique_ptr<PGresult, decltype(&PQclear)> result(PQexec(conn_, sql.c_str()), &PQclear);
    if (PQresultStatus(result.get()) != PGRES_TUPLES_OK) {
      throw std::runtime_error("raw query failed: " + sql + ": " + PQerrorMessage(conn_));
    }
    std::vector<std::string> values;
    for (int row = 0; row < PQntuples(result.get()); ++row) {
      values.emplace_back(PQgetvalue(result.get(), row, 0));
    }
    return values;
  }

  std::string Value(const std::string& sql) {
    auto values = Column(sql);
    if (values.empty()) throw std::runtime_error("raw query returned no row: " + sql);
    return values.front();
  }

  const std::string& last_message() const noexcept { return last_message_; }

 private:
  PGconn* conn_;
  std::string last_message_;
};

// A throwaway database, the catalogue migrated by a non-superuser login role that then runs
// the project stores, and one project created by the catalogue.
struct Fixture {
  PostgresTestDatabase db;
  LoginRole login{db};  // dropped after the stores below, before the database
  const std::string url = UrlAs(db.url(), login.name());
  const Project project{UniqueId(),
                        Slug::Parse("audited").value(),
                        DisplayName::Parse("Audited").value(),
                        Id::Parse("org000000000001").value(),
                        Slug::Parse("acme").value(),
                        Seconds(1'700'000'000),
                        Seconds(1'700'000'000)};
  const std::string schema = "p_" + project.id.str();
  const std::string role = ProjectRoleName(project.id);
  const std::string audit = schema + "._audit";
  std::unique_ptr<PostgresProjectStores> stores;
  std::shared_ptr<ProjectStore> store;

  explicit Fixture(std::size_t pool_size = 4) {
    auto catalogue = Must(PostgresCatalogueStore::Open({.url = url}), "catalogue");
    Must(catalogue->Migrate(), "migrate");
    Must(catalogue->InsertOrganisation(Organisation{
             project.org_id, project.org_slug, DisplayName::Parse("Acme").value(),
             Slug::Parse("local").value(), IsolationTier::kShared, Seconds(0), Seconds(0)}),
         "organisation");
    Must(catalogue->InsertProject(project), "project");
    Reopen(pool_size);
  }

  // The project opened afresh by another ProjectStores, as another process would.
  ProjectStore& Reopen(std::size_t pool_size = 4) {
    store.reset();
    stores = Must(PostgresProjectStores::Connect({.url = url, .pool_size = pool_size}), "connect");
    store = Must(stores->Open(project), "open");
    return *store;
  }

  std::string Value(const std::string& sql, const std::vector<std::string>& params = {}) const {
    return db.Value(sql, params);
  }
  std::vector<std::string> Partitions() const {
    std::vector<std::string> names;
    for (const PgRow& row : db.Query("SELECT c.relname FROM pg_catalog.pg_partition_tree($1)"
                                     " AS t JOIN pg_catalog.pg_class AS c ON c.oid = t.relid"
                                     " WHERE t.level = 1 ORDER BY 1",
                                     {audit})) {
      names.push_back(*row[0]);
    }
    return names;
  }
  bool HasPartition(const std::string& name) const {
    return Value("SELECT to_regclass($1) IS NOT NULL", {schema + "." + name}) == "t";
  }
};

AuditEvent Draft(std::string label, Timestamp at, std::string target_id = "r1") {
  AuditEvent event;
  event.at = at;
  event.org_id = "org000000000001";
  event.actor_kind = AuditActorKind::kMember;
  event.actor_id = "m_alice";
  event.action = "record.update";
  event.target_kind = "record";
  event.target_collection = "pbc_notes";
  event.target_id = std::move(target_id);
  event.request_id = std::move(label);
  event.changes = R"([{"field":"title","before":"a","after":"b"}])";
  return event;
}

// Seals `draft` on the appender's head and appends it with `parts` as handed over (their hashes
// go into the event first; lane and seq are filled in after sealing, then `tamper` may spoil
// them), returning the stored form, parts actor first as the store reads them back.
Result<StoredAuditEvent> SealAndAppendParts(
    application::AuditAppender& appender, AuditEvent draft, std::vector<AuditPersonal> parts,
    const std::function<void(std::vector<AuditPersonal>&)>& tamper = {}) {
  auto head = appender.LockAuditHead();
  if (!head) return std::unexpected(head.error());
  for (const auto& part : parts) {
    (part.part == AuditPart::kActor ? draft.actor_personal : draft.target_personal) =
        HexSha256(part.data);
  }
  StoredAuditEvent stored{SealAuditEvent(std::move(draft), *head, kSha256), {}};
  for (auto& part : parts) {
    part.lane = stored.event.lane;
    part.seq = stored.event.seq;
  }
  if (tamper) tamper(parts);
  if (auto done = appender.AppendAudit(stored.event, parts); !done) {
    return std::unexpected(done.error());
  }
  stored.personal = std::move(parts);
  std::stable_sort(stored.personal.begin(), stored.personal.end(),
                   [](const AuditPersonal& a, const AuditPersonal& b) {
                     return a.part == AuditPart::kActor && b.part == AuditPart::kTarget;
                   });
  return stored;
}

AuditPersonal Part(AuditPart kind, std::string subject, std::string data) {
  return AuditPersonal{0, 0, kind, std::move(subject), std::move(data)};
}

// Seals `draft` on the appender's head and appends it, with a target part when `subject` is
// set; the stored form.
Result<StoredAuditEvent> SealAndAppend(application::AuditAppender& appender, AuditEvent draft,
                                       const std::string& subject = {}) {
  std::vector<AuditPersonal> parts;
  if (!subject.empty()) {
    parts.push_back(Part(AuditPart::kTarget, subject, R"({"salt":"s","title":"secret"})"));
  }
  return SealAndAppendParts(appender, std::move(draft), std::move(parts));
}

// The actor's and the target's parts of `event`, each named by the event's id for it.
std::vector<AuditPersonal> BothParts(const AuditEvent& event) {
  return {Part(AuditPart::kActor, event.actor_id, R"({"ip":"192.0.2.1","salt":"a"})"),
          Part(AuditPart::kTarget, event.target_id, R"({"salt":"t","title":"secret"})")};
}

// Appends `drafts` in one transaction, each with the parts `parts_of` gives it.
std::vector<StoredAuditEvent> AppendInOneWith(
    ProjectStore& store, std::vector<AuditEvent> drafts,
    const std::function<std::vector<AuditPersonal>(const AuditEvent&)>& parts_of) {
  std::vector<StoredAuditEvent> stored;
  auto done = store.Write([&](RecordTransaction& tx) -> Result<void> {
    stored.clear();
    for (auto& draft : drafts) {
      auto appended = SealAndAppendParts(tx, draft, parts_of(draft));
      if (!appended) return std::unexpected(appended.error());
      stored.push_back(std::move(*appended));
    }
    return {};
  });
  INFO((done ? std::string() : Describe(done.error())));
  REQUIRE(done.has_value());
  return stored;
}

// Appends `drafts` in one transaction, each with a target part of `subject` when set.
std::vector<StoredAuditEvent> AppendInOne(ProjectStore& store, std::vector<AuditEvent> drafts,
                                          const std::string& subject = {}) {
  return AppendInOneWith(store, std::move(drafts), [&](const AuditEvent&) {
    std::vector<AuditPersonal> parts;
    if (!subject.empty()) {
      parts.push_back(Part(AuditPart::kTarget, subject, R"({"salt":"s","title":"secret"})"));
    }
    return parts;
  });
}

std::vector<StoredAuditEvent> Chain(ProjectStore& store, std::int64_t lane) {
  return Must(store.AuditChain(lane, 0, 100'000), "chain");
}

// The first break of `lane` as the domain verifier finds it, or "" when intact.
std::string Verify(ProjectStore& store, std::int64_t lane) {
  AuditChainVerifier verifier(lane, kSha256, std::nullopt);
  for (const auto& stored : Chain(store, lane)) {
    if (!verifier.Next(stored.event)) break;
    for (const auto& part : stored.personal) verifier.Personal(stored.event, part);
  }
  if (auto broken = verifier.Finish()) return std::string(ToString(*broken));
  return "";
}

bool Eventually(const std::function<bool()>& check) {
  const auto deadline = std::chrono::steady_clock::now() + std::chrono::seconds(10);
  for (;;) {
    if (check()) return true;
    if (std::chrono::steady_clock::now() >= deadline) return false;
    std::this_thread::sleep_for(std::chrono::milliseconds(5));
  }
}

// Sessions waiting for one of the audit lanes' advisory locks.
int WaitingForLane(const Fixture& f) {
  return std::stoi(f.Value(
      "SELECT count(*) FROM pg_catalog.pg_locks WHERE locktype = 'advisory' AND NOT granted"
      " AND classid = $1::oid AND objsubid = 2",
      {std::to_string(kAuditLockClass)}));
}

}  // namespace

TEST_CASE("postgres audit: the trail's tables sit in the project's schema, partitioned by month",
          "[postgres][audit]") {
  Fixture f;
  CHECK(f.Value("SELECT relkind FROM pg_catalog.pg_class WHERE oid = $1::regclass", {f.audit}) ==
        "p");
  CHECK(f.Value("SELECT pg_catalog.pg_get_partkeydef($1::regclass)", {f.audit}) == "RANGE (at)");
  CHECK(f.Value("SELECT pg_catalog.pg_get_userbyid(relowner) FROM pg_catalog.pg_class"
                " WHERE oid = $1::regclass",
                {f.audit}) == f.login.name());
  // The personal parts live in the event's row: no table of their own; beside the partitions
  // only the anchors of retention.
  CHECK(f.Value("SELECT string_agg(tablename, ',') FROM pg_catalog.pg_tables WHERE schemaname = $1"
                " AND tablename LIKE '\\_audit\\_%' AND tablename NOT LIKE '\\_audit\\_y%'"
                " AND tablename <> '_audit_default'",
                {f.schema}) == "_audit_anchor");

  // The current month and the next two, and the default partition as a safety net.
  const std::vector<std::string> expected{"_audit_default", MonthFromNow(0).partition,
                                          MonthFromNow(1).partition, MonthFromNow(2).partition};
  CHECK(f.Partitions() == expected);
  auto bound = [&](const std::string& partition) {
    return f.Value("SELECT pg_catalog.pg_get_expr(relpartbound, oid) FROM pg_catalog.pg_class"
                   " WHERE oid = $1::regclass",
                   {f.schema + "." + partition});
  };
  CHECK(bound("_audit_default") == "DEFAULT");
  // Bounds at midnight UTC, whatever the session's time zone prints them in.
  for (int offset = 0; offset < 3; ++offset) {
    const std::string range = bound(MonthFromNow(offset).partition);
    INFO(range);
    const std::string from = f.Value(
        "SELECT (extract(epoch FROM substring($1 FROM 'FROM \\(''([^'']+)''\\)')::timestamptz)"
        " * 1000000)::int8",
        {range});
    const std::string to = f.Value(
        "SELECT (extract(epoch FROM substring($1 FROM 'TO \\(''([^'']+)''\\)')::timestamptz)"
        " * 1000000)::int8",
        {range});
    CHECK(from == std::to_string(MonthFromNow(offset).start.unix_micros()));
    CHECK(to == std::to_string(MonthFromNow(offset + 1).start.unix_micros()));
  }

  // Every member of an event a column of its own; `changes` text, stored verbatim; the
  // personal parts' data last, the only nullable columns (NULL: no such part, or erased).
  std::vector<std::string> columns;
  for (const PgRow& row :
       f.db.Query("SELECT column_name || ' ' || data_type || coalesce(' ' || collation_name, '')"
                  " || CASE is_nullable WHEN 'YES' THEN ' null' ELSE '' END"
                  " FROM information_schema.columns WHERE table_schema = $1 AND table_name = $2"
                  " ORDER BY ordinal_position",
                  {f.schema, "_audit"})) {
    columns.push_back(*row[0]);
  }
  const std::vector<std::string> expected_columns{
      "lane bigint", "seq bigint", "at timestamp with time zone", "org_id text C",
      "project_id text C", "actor_kind text C", "actor_id text C", "action text C",
      "target_kind text C", "target_collection text C", "target_id text C", "outcome text C",
      "request_id text C", "reason text C", "changes text C", "actor_personal text C",
      "target_personal text C", "prev_hash text C", "hash text C", "actor_data text C null",
      "target_data text C null"};
  CHECK(columns == expected_columns);
  auto primary_key = [&](const std::string& table) {
    return f.Value("SELECT pg_catalog.pg_get_constraintdef(oid) FROM pg_catalog.pg_constraint"
                   " WHERE conrelid = $1::regclass AND contype = 'p'",
                   {table});
  };
  CHECK(primary_key(f.audit) == "PRIMARY KEY (lane, seq, at)");
  auto has_index = [&](const std::string& table, const std::string& columns_text) {
    return f.Value("SELECT count(*) FROM pg_catalog.pg_indexes WHERE schemaname = $1"
                   " AND tablename = $2 AND indexdef LIKE '%' || $3",
                   {f.schema, table, columns_text}) == "1";
  };
  CHECK(has_index("_audit", "(at, lane, seq)"));
  CHECK(has_index("_audit", "(actor_id, at)"));
  CHECK(has_index("_audit", "(target_id, at)"));
  // Nothing else for a commit to update: the event's row and these four B-trees.
  CHECK(f.Value("SELECT count(*) FROM pg_catalog.pg_indexes WHERE schemaname = $1"
                " AND tablename = '_audit'",
                {f.schema}) == "4");

  // Each partition carries the keys, the indexes and the append-only trigger.
  for (const std::string& partition : expected) {
    INFO(partition);
    CHECK(primary_key(f.schema + "." + partition).starts_with("PRIMARY KEY (lane, seq, at)"));
    CHECK(has_index(partition, "(at, lane, seq)"));
    CHECK(f.Value("SELECT count(*) FROM pg_catalog.pg_trigger WHERE tgrelid = $1::regclass"
                  " AND tgname = '_audit_append_only' AND tgenabled = 'O'",
                  {f.schema + "." + partition}) == "1");
  }
}

TEST_CASE("postgres audit: the project role may read and append the trail, nothing more",
          "[postgres][audit]") {
  Fixture f;
  auto privileges = [&](const std::string& table) {
    std::string held;
    for (const char* privilege :
         {"SELECT", "INSERT", "UPDATE", "DELETE", "TRUNCATE", "REFERENCES", "TRIGGER"}) {
      if (f.Value("SELECT pg_catalog.has_table_privilege($1, $2, $3)",
                  {f.role, table, privilege}) == "t") {
        held += held.empty() ? privilege : std::string(",") + privilege;
      }
    }
    return held;
  };
  CHECK(privileges(f.audit) == "SELECT,INSERT");
  // The partitions are reached through their parent only.
  for (const std::string& partition : f.Partitions()) {
    INFO(partition);
    CHECK(privileges(f.schema + "." + partition) == "");
  }

  SECTION("also after the storage was granted again (a role made afresh in this database)") {
    // Opening grants the whole schema again when the role lost its grants; the trail's are
    // narrowed once more.
    f.db.Query("REVOKE ALL ON SCHEMA " + f.schema + " FROM " + f.role);
    f.Reopen();
    CHECK(privileges(f.audit) == "SELECT,INSERT");
    for (const std::string& partition : f.Partitions()) {
      INFO(partition);
      CHECK(privileges(f.schema + "." + partition) == "");
    }
  }
}

TEST_CASE("postgres audit: events cannot be changed in the database, even by their owner",
          "[postgres][audit]") {
  Fixture f;
  // Events in the default partition (long ago) and in the current month's, each with both
  // personal parts (actor m_alice, target r1).
  const auto stored = AppendInOneWith(*f.store,
                                      {Draft("old", Seconds(1'000'000'000)),
                                       Draft("now", Plus(MonthFromNow(0).start, 1)),
                                       Draft("older", Seconds(1'000'000'100))},
                                      BothParts);
  const std::int64_t lane = stored[0].event.lane;
  const std::string current = f.schema + "." + MonthFromNow(0).partition;
  const std::string fallback = f.schema + "._audit_default";
  REQUIRE(f.Value("SELECT count(*) FROM " + current) == "1");
  REQUIRE(f.Value("SELECT count(*) FROM " + fallback) == "2");
  REQUIRE(f.Value("SELECT count(*) FROM " + f.audit +
                  " WHERE actor_data IS NOT NULL AND target_data IS NOT NULL") == "3");

  SECTION("the project role lacks the privileges") {
    RawSession session(f.url);
    REQUIRE(session.Run("SET ROLE \"" + f.role + "\"").empty());
    CHECK(session.Value("SELECT count(*) FROM " + f.audit) == "3");
    for (const std::string& table : {f.audit, current, fallback}) {
      INFO(table);
      CHECK(session.Run("UPDATE " + table + " SET reason = 'forged'") == "42501");
      // Erasure is not the project role's either: the store runs it as the login role.
      CHECK(session.Run("UPDATE " + table + " SET target_data = NULL") == "42501");
      CHECK(session.Run("DELETE FROM " + table) == "42501");
      CHECK(session.Run("TRUNCATE " + table) == "42501");
    }
    CHECK(session.Run("SELECT * FROM " + current) == "42501");
    CHECK(session.Run("ALTER TABLE " + f.audit + " DISABLE TRIGGER ALL") == "42501");
  }
  SECTION("the owner meets the triggers") {
    RawSession owner(f.url);
    CHECK(owner.Value("SELECT current_user") == f.login.name());
    // Every column but the data ones is fixed, and those may only be erased (set to NULL).
    const std::vector<std::string> refused{
        "reason = 'forged'",
        "hash = repeat('0', 64)",
        "actor_personal = ''",
        "actor_id = 'm_mallory'",
        "lane = lane + 1",
        "seq = seq + 1",
        "at = at + interval '1 microsecond'",
        "at = '2001-09-09 01:46:40+00'",  // into another partition for the current month's
        "target_data = '{}'",             // data replaced rather than erased
        "actor_data = upper(actor_data)",
        "target_data = NULL, reason = 'forged'",  // an erasure carries nothing else along
        "actor_data = NULL, target_id = 'r2'",
    };
    for (const std::string& table : {f.audit, current, fallback}) {
      for (const std::string& set : refused) {
        INFO(table << " SET " << set);
        CHECK(owner.Run("UPDATE " + table + " SET " + set) == "P0001");
        CHECK(owner.last_message().find("append-only") != std::string::npos);
      }
      INFO(table);
      CHECK(owner.Run("DELETE FROM " + table) == "P0001");
    }
    CHECK(owner.Run("TRUNCATE " + f.audit) == "P0001");

    // The erasure path, open to the owner: setting data to NULL, alone or with the other data
    // column left as it is; a no-op UPDATE changes nothing and passes too.
    REQUIRE(owner.Run("BEGIN").empty());
    CHECK(owner.Run("UPDATE " + f.audit + " SET reason = reason, hash = hash").empty());
    CHECK(owner.Run("UPDATE " + fallback + " SET target_data = NULL").empty());
    CHECK(owner.Run("UPDATE " + f.audit + " SET actor_data = NULL, target_data = target_data")
              .empty());
    CHECK(owner.Value("SELECT count(*) FROM " + f.audit +
                      " WHERE actor_data IS NULL AND target_data IS NULL") == "2");
    CHECK(owner.Value("SELECT count(*) FROM " + f.audit + " WHERE target_data IS NOT NULL") ==
          "1");
    // Erased data cannot be put back (or forged) afterwards.
    CHECK(owner.Run("UPDATE " + fallback + " SET target_data = '{\"salt\":\"s\"}'") == "P0001");
    REQUIRE(owner.Run("ROLLBACK").empty());
    // Nothing changed.
    CHECK(Chain(*f.store, lane) == stored);

    // The store erases as the login role, which the project role could not: a subject's parts
    // of the kind it has, the others staying.
    CHECK(Must(f.store->ErasePersonal("r1"), "erase") == 3);
    for (const auto& one : Chain(*f.store, lane)) {
      REQUIRE(one.personal.size() == 1);
      CHECK(one.personal[0].part == AuditPart::kActor);
      CHECK(one.personal[0].subject == "m_alice");
    }
    CHECK(Must(f.store->ErasePersonal("r1"), "erase again") == 0);
    CHECK(Must(f.store->ErasePersonal("m_alice"), "erase actor") == 3);
    const auto erased = Chain(*f.store, lane);
    REQUIRE(erased.size() == 3);
    for (std::size_t i = 0; i < erased.size(); ++i) {
      CHECK(erased[i].personal.empty());
      CHECK(erased[i].event == stored[i].event);
    }
    CHECK(Verify(*f.store, lane) == "");
  }
  SECTION("a superuser who disables the triggers can edit, and the chain shows it") {
    PostgresSession superuser(f.db.url());
    superuser.Query("SET session_replication_role = replica");
    superuser.Query("UPDATE " + f.audit + " SET reason = 'forged' WHERE seq = 3");
    const auto chain = Chain(*f.store, lane);
    REQUIRE(chain.size() == 3);
    CHECK(chain[2].event.reason == "forged");
    CHECK(Verify(*f.store, lane) == "edited");
    // Personal data put in place of the erased or the original no longer matches its hash.
    superuser.Query("UPDATE " + f.audit + " SET target_data = '{\"salt\":\"x\"}' WHERE seq = 1");
    AuditChainVerifier verifier(lane, kSha256, std::nullopt);
    const auto forged = Chain(*f.store, lane);
    REQUIRE(forged[0].personal.size() == 2);
    CHECK(verifier.Next(forged[0].event));
    CHECK(verifier.Personal(forged[0].event, forged[0].personal[0]));  // the actor's, intact
    CHECK_FALSE(verifier.Personal(forged[0].event, forged[0].personal[1]));
    superuser.Query("DELETE FROM " + f.audit + " WHERE seq = 1");
    CHECK(Verify(*f.store, lane) == "deleted");
  }
}

TEST_CASE("postgres audit: personal parts are kept in their event's row, only parts that fit it",
          "[postgres][audit]") {
  Fixture f;
  const std::string actor_data = R"({"ip":"192.0.2.1","salt":"a"})";
  const std::string target_data = R"({"salt":"t","title":{"after":"b","before":"a"}})";

  SECTION("the data in the row's columns, read back actor part first") {
    std::vector<StoredAuditEvent> stored;
    auto done = f.store->Write([&](RecordTransaction& tx) -> Result<void> {
      stored.clear();
      // Handed over target part first.
      for (auto& [draft, parts] : std::vector<std::pair<AuditEvent, std::vector<AuditPersonal>>>{
               {Draft("both", Seconds(1)),
                {Part(AuditPart::kTarget, "r1", target_data),
                 Part(AuditPart::kActor, "m_alice", actor_data)}},
               {Draft("actor", Seconds(2)), {Part(AuditPart::kActor, "m_alice", actor_data)}},
               {Draft("target", Seconds(3), "r2"), {Part(AuditPart::kTarget, "r2", target_data)}},
               {Draft("none", Seconds(4)), {}}}) {
        auto appended = SealAndAppendParts(tx, draft, parts);
        if (!appended) return std::unexpected(appended.error());
        stored.push_back(std::move(*appended));
      }
      return {};
    });
    INFO((done ? std::string() : Describe(done.error())));
    REQUIRE(done.has_value());
    REQUIRE(stored.size() == 4);
    const std::int64_t lane = stored[0].event.lane;
    const auto chain = Chain(*f.store, lane);
    CHECK(chain == stored);
    REQUIRE(chain[0].personal.size() == 2);
    CHECK(chain[0].personal[0] ==
          AuditPersonal{lane, 1, AuditPart::kActor, "m_alice", actor_data});
    CHECK(chain[0].personal[1] == AuditPersonal{lane, 1, AuditPart::kTarget, "r1", target_data});
    const auto newest_first = Must(f.store->AuditEvents(AuditQuery{}), "events");
    CHECK(newest_first == std::vector<StoredAuditEvent>(stored.rbegin(), stored.rend()));
    std::vector<std::string> rows;
    for (const PgRow& row : f.db.Query("SELECT request_id || ' ' || coalesce(actor_data, '-')"
                                       " || ' ' || coalesce(target_data, '-') FROM " +
                                       f.audit + " ORDER BY seq")) {
      rows.push_back(*row[0]);
    }
    const std::vector<std::string> expected{"both " + actor_data + " " + target_data,
                                            "actor " + actor_data + " -",
                                            "target - " + target_data, "none - -"};
    CHECK(rows == expected);
    CHECK(Verify(*f.store, lane) == "");
  }

  SECTION("a part its event's row cannot hold is refused, and nothing written") {
    using Tamper = std::function<void(std::vector<AuditPersonal>&)>;
    struct Case {
      std::string what;
      std::vector<AuditPersonal> parts;
      Tamper tamper;
    };
    const std::vector<Case> cases{
        {"actor part of another subject", {Part(AuditPart::kActor, "m_bob", actor_data)}, {}},
        {"target part of another subject", {Part(AuditPart::kTarget, "r2", target_data)}, {}},
        {"actor part named by the target's id", {Part(AuditPart::kActor, "r1", actor_data)}, {}},
        {"target part named by the actor's id",
         {Part(AuditPart::kTarget, "m_alice", target_data)},
         {}},
        {"actor part without a subject", {Part(AuditPart::kActor, "", actor_data)}, {}},
        {"two actor parts",
         {Part(AuditPart::kActor, "m_alice", actor_data),
          Part(AuditPart::kActor, "m_alice", actor_data)},
         {}},
        {"two target parts",
         {Part(AuditPart::kTarget, "r1", target_data),
          Part(AuditPart::kTarget, "r1", target_data)},
         {}},
        {"three parts",
         {Part(AuditPart::kActor, "m_alice", actor_data),
          Part(AuditPart::kTarget, "r1", target_data),
          Part(AuditPart::kActor, "m_alice", actor_data)},
         {}},
        {"a part of the next event",
         {Part(AuditPart::kTarget, "r1", target_data)},
         [](std::vector<AuditPersonal>& parts) { parts[0].seq += 1; }},
        {"a part of another lane",
         {Part(AuditPart::kActor, "m_alice", actor_data),
          Part(AuditPart::kTarget, "r1", target_data)},
         [](std::vector<AuditPersonal>& parts) { parts[1].lane += 1; }},
    };
    std::vector<std::string> outcomes;
    auto done = f.store->Write([&](RecordTransaction& tx) -> Result<void> {
      outcomes.clear();
      for (const Case& c : cases) {
        auto appended = SealAndAppendParts(tx, Draft(c.what, Seconds(1)), c.parts, c.tamper);
        outcomes.push_back(c.what + ": " +
                           (appended ? std::string("appended")
                                     : std::string(ToString(appended.error().code))));
      }
      // The transaction stays usable: the right event goes in.
      const AuditEvent right_draft = Draft("right", Seconds(2));
      auto right = SealAndAppendParts(tx, right_draft, BothParts(right_draft));
      if (!right) return std::unexpected(right.error());
      return {};
    });
    INFO((done ? std::string() : Describe(done.error())));
    REQUIRE(done.has_value());
    REQUIRE(outcomes.size() == cases.size());
    for (std::size_t i = 0; i < cases.size(); ++i) {
      CHECK(outcomes[i] == cases[i].what + ": " + std::string(ToString(ErrorCode::kInternal)));
    }
    const auto events = Must(f.store->AuditEvents(AuditQuery{}), "events");
    REQUIRE(events.size() == 1);
    CHECK(events[0].event.request_id == "right");
    CHECK(events[0].event.seq == 1);
    CHECK(events[0].personal.size() == 2);
    CHECK(f.Value("SELECT count(*) FROM " + f.audit) == "1");
  }

  SECTION("a subject both actor and target of an event has both its parts erased") {
    // A user changing their own record: actor_id and target_id are the same.
    AuditEvent self = Draft("self", Seconds(1), "u_self");
    self.actor_kind = AuditActorKind::kAppUser;
    self.actor_id = "u_self";
    AuditEvent by_other = Draft("by-other", Seconds(2), "u_self");
    AuditEvent other = Draft("other", Seconds(3), "r9");
    const auto stored = AppendInOneWith(*f.store, {self, by_other, other}, BothParts);
    const std::int64_t lane = stored[0].event.lane;
    CHECK(Must(f.store->ErasePersonal("u_self"), "erase") == 3);
    const auto after = Chain(*f.store, lane);
    REQUIRE(after.size() == 3);
    CHECK(after[0].personal.empty());
    REQUIRE(after[1].personal.size() == 1);
    CHECK(after[1].personal[0] == stored[1].personal[0]);  // m_alice's actor part stays
    CHECK(after[2].personal == stored[2].personal);
    for (std::size_t i = 0; i < after.size(); ++i) CHECK(after[i].event == stored[i].event);
    CHECK(Must(f.store->ErasePersonal("u_self"), "erase again") == 0);
    CHECK(Verify(*f.store, lane) == "");
  }
}

TEST_CASE("postgres audit: concurrent transactions take different lanes",
          "[postgres][audit][lanes]") {
  Fixture f(/*pool_size=*/kAuditLanes + 4);

  SECTION("one lane per transaction, the same one for every call within it") {
    std::latch first_locked(1);
    std::latch second_done(1);
    std::vector<std::int64_t> first_lanes;
    std::string first_error;
    std::thread first([&] {
      auto done = f.store->Write([&](RecordTransaction& tx) -> Result<void> {
        auto appended = SealAndAppend(tx, Draft("first-1", Seconds(10)));
        if (!appended) return std::unexpected(appended.error());
        first_lanes.push_back(appended->event.lane);
        first_locked.count_down();
        second_done.wait();
        auto again = SealAndAppend(tx, Draft("first-2", Seconds(11)));
        if (!again) return std::unexpected(again.error());
        first_lanes.push_back(again->event.lane);
        return {};
      });
      if (!done) first_error = Describe(done.error());
      if (first_lanes.empty()) first_locked.count_down();
    });
    first_locked.wait();
    std::optional<std::int64_t> second_lane;
    auto second = f.store->Write([&](RecordTransaction& tx) -> Result<void> {
      auto appended = SealAndAppend(tx, Draft("second", Seconds(12)));
      if (!appended) return std::unexpected(appended.error());
      second_lane = appended->event.lane;
      return {};
    });
    second_done.count_down();
    first.join();
    CHECK(first_error == "");
    INFO((second ? std::string() : Describe(second.error())));
    REQUIRE(second.has_value());
    REQUIRE(first_lanes.size() == 2);
    CHECK(first_lanes[0] == first_lanes[1]);
    REQUIRE(second_lane.has_value());
    CHECK(*second_lane != first_lanes[0]);
    CHECK(Chain(*f.store, first_lanes[0]).size() == 2);
    CHECK(Verify(*f.store, first_lanes[0]) == "");
    CHECK(Verify(*f.store, *second_lane) == "");
  }

  SECTION("with every lane taken, the next writer waits for one and links to its last event") {
    constexpr int kHolders = static_cast<int>(kAuditLanes);
    std::latch all_locked(kHolders);
    std::latch release(1);
    std::vector<std::int64_t> lanes(kHolders, -1);
    std::vector<std::string> errors(kHolders);
    std::vector<std::thread> holders;
    for (int h = 0; h < kHolders; ++h) {
      holders.emplace_back([&, h] {
        bool counted = false;
        auto done = f.store->Write([&](RecordTransaction& tx) -> Result<void> {
          auto appended = SealAndAppend(tx, Draft("holder-" + std::to_string(h), Seconds(20)));
          if (!appended) return std::unexpected(appended.error());
          lanes[static_cast<std::size_t>(h)] = appended->event.lane;
          counted = true;
          all_locked.count_down();
          release.wait();
          return {};
        });
        if (!done) errors[static_cast<std::size_t>(h)] = Describe(done.error());
        if (!counted) all_locked.count_down();
      });
    }
    all_locked.wait();
    // Each holder took a lane of its own: all of them are taken.
    CHECK(std::set<std::int64_t>(lanes.begin(), lanes.end()).size() ==
          static_cast<std::size_t>(kHolders));
    CHECK(*std::min_element(lanes.begin(), lanes.end()) == 0);
    CHECK(*std::max_element(lanes.begin(), lanes.end()) == kAuditLanes - 1);

    std::atomic<bool> late_done{false};
    std::optional<StoredAuditEvent> late;
    std::string late_error;
    std::thread latecomer([&] {
      auto done = f.store->Write([&](RecordTransaction& tx) -> Result<void> {
        auto appended = SealAndAppend(tx, Draft("late", Seconds(21)));
        if (!appended) return std::unexpected(appended.error());
        late = *appended;
        return {};
      });
      if (!done) late_error = Describe(done.error());
      late_done.store(true);
    });
    // It queues on a lane's lock rather than failing or forking a chain.
    CHECK(Eventually([&] { return WaitingForLane(f) == 1; }));
    CHECK_FALSE(late_done.load());
    release.count_down();
    for (auto& holder : holders) holder.join();
    latecomer.join();
    for (const auto& error : errors) CHECK(error == "");
    CHECK(late_error == "");
    REQUIRE(late.has_value());
    // It read the head after its lane's holder committed.
    CHECK(late->event.seq == 2);
    const auto chain = Chain(*f.store, late->event.lane);
    REQUIRE(chain.size() == 2);
    CHECK(chain[1].event == late->event);
    CHECK(Verify(*f.store, late->event.lane) == "");
  }
}

TEST_CASE("postgres audit: many concurrent writers keep every lane's chain intact",
          "[postgres][audit][lanes]") {
  constexpr int kThreads = 8;
  constexpr int kPerThread = 40;
  Fixture f(/*pool_size=*/kThreads);
  std::vector<std::string> errors(kThreads);
  std::vector<std::thread> threads;
  for (int t = 0; t < kThreads; ++t) {
    threads.emplace_back([&, t] {
      for (int i = 0; i < kPerThread; ++i) {
        auto done = f.store->Write([&](RecordTransaction& tx) -> Result<void> {
          auto appended = SealAndAppend(
              tx,
              Draft("w" + std::to_string(t) + "-" + std::to_string(i), Seconds(100 + i),
                    "subject-" + std::to_string(t)),
              "subject-" + std::to_string(t));
          if (!appended) return std::unexpected(appended.error());
          return {};
        });
        if (!done) {
          errors[static_cast<std::size_t>(t)] = Describe(done.error());
          return;
        }
      }
    });
  }
  for (auto& thread : threads) thread.join();
  for (const auto& error : errors) CHECK(error == "");

  const auto heads = Must(f.store->AuditHeads(), "heads");
  // Concurrent writers spread over several lanes.
  CHECK(heads.size() > 1);
  std::int64_t total = 0;
  for (const auto& head : heads) {
    INFO("lane " << head.lane);
    CHECK(head.lane >= 0);
    CHECK(head.lane < kAuditLanes);
    CHECK(Verify(*f.store, head.lane) == "");
    const auto chain = Chain(*f.store, head.lane);
    CHECK(static_cast<std::int64_t>(chain.size()) == head.seq);
    total += head.seq;
  }
  CHECK(total == kThreads * kPerThread);
  // No (lane, seq) twice: the primary key alone (with `at`) would not refuse it.
  CHECK(f.Value("SELECT count(*) FROM (SELECT lane, seq FROM " + f.audit +
                " GROUP BY lane, seq HAVING count(*) > 1) AS twice") == "0");
}

TEST_CASE("postgres audit: the head lookup and the newest-first listing are index scans",
          "[postgres][audit][plan]") {
  Fixture f;
  // Events in the default partition and in two monthly ones, all in one lane.
  std::vector<AuditEvent> drafts;
  for (int i = 0; i < 3'000; ++i) {
    const Timestamp at = i < 1'000   ? Seconds(1'000'000'000 + i)
                         : i < 2'000 ? Plus(MonthFromNow(0).start, i)
                                     : Plus(MonthFromNow(1).start, i);
    drafts.push_back(Draft("e" + std::to_string(i), at, "r" + std::to_string(i % 50)));
  }
  const auto stored = AppendInOne(*f.store, drafts);
  const std::string lane = std::to_string(stored[0].event.lane);
  f.db.Query("ANALYZE " + f.audit);

  RawSession session(f.url);
  REQUIRE(session.Run("SET ROLE \"" + f.role + "\"").empty());
  auto plan = [&](const std::string& sql) {
    std::string text;
    for (const auto& line : session.Column("EXPLAIN " + sql)) text += line + "\n";
    return text;
  };
  // The statements as the store sends them (postgres_audit_trail.cpp), values inlined.
  const std::string head = plan("SELECT a.seq, a.hash FROM " + f.audit + " AS a WHERE a.lane = " +
                                lane + " ORDER BY a.seq DESC, a.at DESC LIMIT 1");
  INFO(head);
  CHECK(head.find("Index Scan Backward") != std::string::npos);
  CHECK(head.find("Seq Scan") == std::string::npos);
  CHECK(head.find("Sort  (") == std::string::npos);  // no sort node ("Sort Key" of a merge is)

  const std::string newest = plan("SELECT * FROM " + f.audit +
                                  " AS a ORDER BY a.at DESC, a.lane DESC, a.seq DESC LIMIT 100");
  INFO(newest);
  CHECK(newest.find("Index Scan Backward using") != std::string::npos);
  CHECK(newest.find("Seq Scan") == std::string::npos);
  CHECK(newest.find("Sort  (") == std::string::npos);

  const std::string by_target = plan("SELECT * FROM " + f.audit + " AS a WHERE a.target_id = 'r7'"
                                     " ORDER BY a.at DESC, a.lane DESC, a.seq DESC LIMIT 100");
  INFO(by_target);
  // Through the target index in every partition that holds events (an empty one may be read
  // whole: there is nothing to read).
  for (const std::string& partition :
       {MonthFromNow(0).partition, MonthFromNow(1).partition, std::string("_audit_default")}) {
    CHECK(by_target.find("Index Scan on " + partition + "_target_id_at_idx") != std::string::npos);
    CHECK(by_target.find("Seq Scan on " + partition + " ") == std::string::npos);
  }

  // The erasure (as the login role, which runs it) goes through the same indexes: no table of
  // parts, no index of subjects of its own.
  RawSession owner(f.url);
  for (const auto& [column, id] :
       {std::pair<std::string, std::string>{"actor", "m_bob"}, {"target", "r7"}}) {
    std::string erase;
    for (const auto& line :
         owner.Column("EXPLAIN UPDATE " + f.audit + " SET " + column + "_data = NULL WHERE " +
                      column + "_id = '" + id + "' AND " + column + "_data IS NOT NULL")) {
      erase += line + "\n";
    }
    INFO(erase);
    for (const std::string& partition : {MonthFromNow(0).partition, MonthFromNow(1).partition,
                                         std::string("_audit_default")}) {
      CHECK(erase.find("Seq Scan on " + partition + " ") == std::string::npos);
      CHECK(erase.find(partition + "_" + column + "_id_at_idx") != std::string::npos);
    }
  }

  // And the store reads them back in order through them.
  AuditQuery query;
  query.limit = 3;
  const auto page = Must(f.store->AuditEvents(query), "events");
  REQUIRE(page.size() == 3);
  CHECK(page[0].event.request_id == "e2999");
  CHECK(Must(f.store->AuditHeads(), "heads")[0].seq == 3'000);
}

TEST_CASE("postgres audit: events go to their month's partition, others to the default one",
          "[postgres][audit][partitions]") {
  Fixture f;
  const Month now = MonthFromNow(0);
  const Month next = MonthFromNow(1);
  const Month last = MonthFromNow(2);
  AppendInOne(*f.store,
              {Draft("long-ago", Seconds(1'000'000'000)), Draft("now", Plus(now.start, 5)),
               Draft("next", Plus(next.start, 0)), Draft("last", Plus(last.start, -1)),
               Draft("far", MonthFromNow(40).start)});
  std::vector<std::string> placed;
  for (const PgRow& row : f.db.Query("SELECT request_id || ' ' || tableoid::regclass::text FROM " +
                                     f.audit + " ORDER BY seq")) {
    placed.push_back(*row[0]);
  }
  const std::vector<std::string> expected{
      "long-ago " + f.schema + "._audit_default", "now " + f.schema + "." + now.partition,
      "next " + f.schema + "." + next.partition, "last " + f.schema + "." + next.partition,
      "far " + f.schema + "._audit_default"};
  CHECK(placed == expected);
}

TEST_CASE("postgres audit: a project opened by an older build gets its trail on open",
          "[postgres][audit][partitions]") {
  Fixture f;
  // What a schema made before the trail existed looks like.
  f.stores.reset();
  f.store.reset();
  f.db.Query("DROP TABLE " + f.audit);
  f.db.Query("DROP TABLE " + f.schema + "._audit_anchor");
  f.db.Query("DROP FUNCTION " + f.schema + "._audit_append_only()");
  REQUIRE(f.Value("SELECT to_regclass($1) IS NULL", {f.audit}) == "t");

  ProjectStore& store = f.Reopen();
  CHECK(f.Partitions().size() == 4);
  CHECK(f.Value("SELECT pg_catalog.has_table_privilege($1, $2, 'UPDATE')", {f.role, f.audit}) ==
        "f");
  CHECK(f.Value("SELECT pg_catalog.has_table_privilege($1, $2, 'INSERT')", {f.role, f.audit}) ==
        "t");
  const auto stored = AppendInOne(store, {Draft("after-upgrade", Seconds(5))});
  CHECK(stored[0].event.seq == 1);
  RawSession owner(f.url);
  CHECK(owner.Run("DELETE FROM " + f.audit) == "P0001");
}

TEST_CASE("postgres audit: partitions are kept ahead of the events",
          "[postgres][audit][partitions]") {
  Fixture f;
  const Month now = MonthFromNow(0);
  const Month next = MonthFromNow(1);
  const Month last = MonthFromNow(2);
  // As a retention job would: detach and drop a month.
  auto drop_month = [&](const Month& month) {
    f.db.Query("ALTER TABLE " + f.audit + " DETACH PARTITION " + f.schema + "." + month.partition);
    f.db.Query("DROP TABLE " + f.schema + "." + month.partition);
  };
  drop_month(next);
  REQUIRE_FALSE(f.HasPartition(next.partition));

  SECTION("events reaching the last month created make the next ones") {
    // An event before the last month created changes nothing.
    AppendInOne(*f.store, {Draft("now", Plus(now.start, 1))});
    CHECK_FALSE(f.HasPartition(next.partition));
    // One in it makes the partitions due: made after its transaction committed.
    AppendInOne(*f.store, {Draft("last", Plus(last.start, kMicrosPerDay))});
    CHECK(f.HasPartition(next.partition));
    CHECK(f.Value("SELECT count(*) FROM " + f.schema + "." + last.partition) == "1");
    CHECK(f.Value("SELECT pg_catalog.has_table_privilege($1, $2, 'SELECT')",
                  {f.role, f.schema + "." + next.partition}) == "f");
  }
  SECTION("events from a clock far ahead do not make every write try again") {
    // The first makes the partitions due: the missing month is made, but the event still lies
    // beyond the last one, so the next attempt waits (an hour) instead of following each write.
    AppendInOne(*f.store, {Draft("far-1", MonthFromNow(30).start)});
    CHECK(f.HasPartition(next.partition));
    drop_month(next);
    AppendInOne(*f.store, {Draft("far-2", MonthFromNow(31).start)});
    AppendInOne(*f.store, {Draft("last", Plus(last.start, kMicrosPerDay))});
    CHECK_FALSE(f.HasPartition(next.partition));
    // A store opening meanwhile still makes them.
    f.Reopen();
    CHECK(f.HasPartition(next.partition));
  }
  SECTION("a store opening later makes the missing ones") {
    f.Reopen();
    CHECK(f.HasPartition(next.partition));
    CHECK(f.Partitions().size() == 4);
  }
  SECTION("a month whose events went to the default partition keeps them there") {
    AppendInOne(*f.store, {Draft("in-default", Plus(next.start, kMicrosPerDay))});
    CHECK(f.Value("SELECT count(*) FROM " + f.schema + "._audit_default") == "1");
    ProjectStore& reopened = f.Reopen();
    CHECK_FALSE(f.HasPartition(next.partition));
    CHECK(f.HasPartition(last.partition));
    const auto heads = Must(reopened.AuditHeads(), "heads");
    REQUIRE(heads.size() == 1);
    const auto chain = Chain(reopened, heads[0].lane);
    REQUIRE(chain.size() == 1);
    CHECK(chain[0].event.request_id == "in-default");
  }
}

TEST_CASE("postgres audit: what PostgreSQL text cannot hold is refused, and nothing written",
          "[postgres][audit]") {
  Fixture f;
  std::optional<Error> refusal;
  auto done = f.store->Write([&](RecordTransaction& tx) -> Result<void> {
    AuditEvent draft = Draft("nul", Seconds(1));
    draft.reason = std::string("before\0after", 12);
    auto appended = SealAndAppend(tx, draft);
    if (!appended) refusal = appended.error();
    // The transaction stays usable: the right event goes in.
    auto right = SealAndAppend(tx, Draft("right", Seconds(2)));
    if (!right) return std::unexpected(right.error());
    return {};
  });
  INFO((done ? std::string() : Describe(done.error())));
  REQUIRE(done.has_value());
  REQUIRE(refusal.has_value());
  CHECK(refusal->code == ErrorCode::kInvalidArgument);
  const auto events = Must(f.store->AuditEvents(AuditQuery{}), "events");
  REQUIRE(events.size() == 1);
  CHECK(events[0].event.request_id == "right");
  CHECK(events[0].event.seq == 1);
  // A search for a value with NUL matches nothing rather than failing.
  AuditQuery query;
  query.actor_id = std::string("m_\0alice", 8);
  CHECK(Must(f.store->AuditEvents(query), "search").empty());
  CHECK(Must(f.store->ErasePersonal(std::string("r\0", 2)), "erase") == 0);
}

// ---- retention -------------------------------------------------------------------------------

namespace {

// An archive kept in memory.
class MemorySink final : public application::AuditArchiveSink {
 public:
  Result<void> Write(const StoredAuditEvent& event) override {
    written.push_back(event);
    return {};
  }
  Result<void> Commit() override {
    ++commits;
    return {};
  }
  std::vector<StoredAuditEvent> written;
  int commits = 0;
};

}  // namespace

TEST_CASE("postgres audit: retention detaches whole months, keeps them renamed, and anchors chains",
          "[postgres][audit][retention]") {
  Fixture f;
  const Month now = MonthFromNow(0);
  const Month next = MonthFromNow(1);
  const std::string archived_name = "_audit_archived_" + now.partition.substr(7);
  const auto old = AppendInOne(
      *f.store, {Draft("a", Plus(now.start, 1'000'000)), Draft("b", Plus(now.start, 2'000'000))},
      "r1");
  const auto kept = AppendInOne(*f.store, {Draft("c", Plus(next.start, 1'000'000))}, "r1");
  const std::int64_t lane = old[0].event.lane;
  REQUIRE(kept[0].event.lane == lane);

  // The trail as the store's login role sees it, on a connection of its own.
  auto conn = Must(adapters::postgres::Connection::Open({.url = f.url}), "connect");
  adapters::postgres::PostgresAuditTrail trail(
      Must(adapters::postgres::QuoteIdentifier(f.schema), "schema"), f.schema,
      Must(adapters::postgres::QuoteIdentifier(f.role), "role"));
  MemorySink sink;
  const auto archived = Must(trail.Archive(*conn, next.start, sink), "archive");
  CHECK(archived.events == 2);
  CHECK(archived.detached == std::vector<std::string>{archived_name});
  const AuditHead anchor{lane, 2, old[1].event.hash};
  CHECK(archived.anchors == std::vector<AuditHead>{anchor});
  REQUIRE(sink.written.size() == 2);
  CHECK(sink.written[0] == old[0]);
  CHECK(sink.written[1] == old[1]);
  CHECK(sink.commits == 1);

  // Detached, renamed, every row still there, out of the project role's reach.
  CHECK_FALSE(f.HasPartition(now.partition));
  CHECK(f.HasPartition(archived_name));
  const auto partitions = f.Partitions();
  CHECK(std::find(partitions.begin(), partitions.end(), archived_name) == partitions.end());
  CHECK(f.Value("SELECT count(*) FROM " + f.schema + "." + archived_name) == "2");
  CHECK(f.Value("SELECT string_agg(request_id, ',' ORDER BY seq) FROM " + f.schema + "." +
                archived_name) == "a,b");
  CHECK(f.Value("SELECT count(*) FROM " + f.audit) == "1");
  CHECK(f.Value("SELECT pg_catalog.has_table_privilege($1, $2, 'SELECT')",
                {f.role, f.schema + "." + archived_name}) == "f");
  CHECK(f.Value("SELECT pg_catalog.has_table_privilege($1, $2, 'INSERT')",
                {f.role, f.schema + "._audit_anchor"}) == "f");
  CHECK(f.Value("SELECT pg_catalog.has_table_privilege($1, $2, 'SELECT')",
                {f.role, f.schema + "._audit_anchor"}) == "t");

  // The rest verifies from the anchor; the anchors are listed and head a chain.
  CHECK(Must(trail.Anchors(*conn), "anchors") == std::vector<AuditHead>{anchor});
  AuditChainVerifier verifier(lane, kSha256, std::nullopt, anchor);
  for (const auto& stored : Chain(*f.store, lane)) verifier.Next(stored.event);
  CHECK_FALSE(verifier.Finish().has_value());
  CHECK(verifier.events() == 1);

  // Nothing more to archive at the same cut; a cut within the kept month detaches nothing.
  MemorySink again;
  CHECK(Must(trail.Archive(*conn, next.start, again), "again").events == 0);
  CHECK(Must(trail.Archive(*conn, Plus(next.start, 2'000'000), again), "mid").events == 0);
  CHECK(again.written.empty());

  SECTION("the database refuses touching anchors and archived rows, even to their owner") {
    RawSession owner(f.url);
    const std::string anchors = f.schema + "._audit_anchor";
    CHECK(owner.Run("UPDATE " + anchors + " SET seq = 1") == "P0001");
    CHECK(owner.Run("DELETE FROM " + anchors) == "P0001");
    CHECK(owner.Run("TRUNCATE " + anchors) == "P0001");
    // An anchor must name a stored event beyond the last one.
    CHECK(owner.Run("INSERT INTO " + anchors + " (lane, seq, hash) VALUES (" +
                    std::to_string(lane) + ", 3, 'forged')") == "P0001");
    CHECK(owner.Run("INSERT INTO " + anchors + " (lane, seq, hash) VALUES (" +
                    std::to_string(lane) + ", 1, '" + old[0].event.hash + "')") == "P0001");
    const std::string detached = f.schema + "." + archived_name;
    CHECK(owner.Run("DELETE FROM " + detached) == "P0001");
    CHECK(owner.Run("UPDATE " + detached + " SET reason = 'forged'") == "P0001");
    CHECK(owner.Run("TRUNCATE " + detached) == "P0001");
    // Un-archived events stay undeletable.
    CHECK(owner.Run("DELETE FROM " + f.audit) == "P0001");
    RawSession project(f.url);
    REQUIRE(project.Run("SET ROLE \"" + f.role + "\"").empty());
    CHECK(project.Run("INSERT INTO " + anchors + " (lane, seq, hash) VALUES (" +
                      std::to_string(lane) + ", 3, '" + kept[0].event.hash + "')") == "42501");
    CHECK(project.Run("SELECT * FROM " + detached) == "42501");
  }
  SECTION("the chain goes on from the live events, and erasure still works") {
    const auto next_event = AppendInOne(*f.store, {Draft("d", Plus(next.start, 3'000'000))});
    CHECK(next_event[0].event.seq == 4);
    CHECK(Must(f.store->ErasePersonal("r1"), "erase") == 1);
    AuditChainVerifier after(lane, kSha256, std::nullopt, anchor);
    for (const auto& stored : Chain(*f.store, lane)) after.Next(stored.event);
    CHECK_FALSE(after.Finish().has_value());
    // The archived month keeps its personal parts: erasing them there is the operator's.
    CHECK(f.Value("SELECT count(*) FROM " + f.schema + "." + archived_name +
                  " WHERE target_data IS NOT NULL") == "2");
  }
}

TEST_CASE("postgres audit: a lane archived whole continues from its anchor",
          "[postgres][audit][retention]") {
  Fixture f;
  const Month now = MonthFromNow(0);
  const Month next = MonthFromNow(1);
  const auto old = AppendInOne(*f.store, {Draft("a", Plus(now.start, 1'000'000))});
  const std::int64_t lane = old[0].event.lane;
  auto conn = Must(adapters::postgres::Connection::Open({.url = f.url}), "connect");
  adapters::postgres::PostgresAuditTrail trail(
      Must(adapters::postgres::QuoteIdentifier(f.schema), "schema"), f.schema,
      Must(adapters::postgres::QuoteIdentifier(f.role), "role"));
  MemorySink sink;
  CHECK(Must(trail.Archive(*conn, next.start, sink), "archive").events == 1);
  const AuditHead anchor{lane, 1, old[0].event.hash};
  CHECK(Must(trail.Heads(*conn), "heads") == std::vector<AuditHead>{anchor});
  const auto later = AppendInOne(*f.store, {Draft("b", Plus(next.start, 1'000'000))});
  CHECK(later[0].event.lane == lane);
  CHECK(later[0].event.seq == 2);
  CHECK(later[0].event.prev_hash == anchor.hash);
}

TEST_CASE("postgres audit: retention refuses months that are not each chain's beginning",
          "[postgres][audit][retention]") {
  Fixture f;
  const Month now = MonthFromNow(0);
  const Month next = MonthFromNow(1);
  // The first event in the default partition (long ago) stays, so the current month's cannot go;
  // then a clock that went back inside the months themselves.
  AppendInOne(*f.store, {Draft("a", Seconds(1'000'000'000)), Draft("b", Plus(now.start, 1))});
  auto conn = Must(adapters::postgres::Connection::Open({.url = f.url}), "connect");
  adapters::postgres::PostgresAuditTrail trail(
      Must(adapters::postgres::QuoteIdentifier(f.schema), "schema"), f.schema,
      Must(adapters::postgres::QuoteIdentifier(f.role), "role"));
  MemorySink sink;
  auto refused = trail.Archive(*conn, next.start, sink);
  REQUIRE_FALSE(refused.has_value());
  CHECK(refused.error().code == ErrorCode::kFailedPrecondition);
  CHECK(sink.written.empty());
  CHECK(f.HasPartition(now.partition));
  CHECK(f.Value("SELECT count(*) FROM " + f.audit) == "2");
}
