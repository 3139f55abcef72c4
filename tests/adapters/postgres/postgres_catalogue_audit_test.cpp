// The PostgreSQL catalogue's platform audit trail beyond the CatalogueStore contract: what the
// database refuses to everyone, the owner and a superuser included (UPDATE but the erasure of
// a personal part, DELETE, TRUNCATE, an INSERT that does not extend its chain), that
// socle_tenant cannot reach the trail while access changes run as it are still audited (under
// a non-superuser login role too), that appenders of one chain from several stores queue on
// its lock without breaking it, also on a server whose default isolation is SERIALIZABLE, and
// migration 0005 applied to a catalogue already at version 4 with data in it.
#include <libpq-fe.h>

#include <catch2/catch.hpp>
#include <cstdint>
#include <cstdio>
#include <memory>
#include <optional>
#include <stdexcept>
#include <string>
#include <thread>
#include <utility>
#include <vector>

#include "socle/adapters/crypto/digest.hpp"
#include "socle/adapters/migration.hpp"
#include "socle/adapters/postgres/postgres_catalogue_store.hpp"
#include "support/must.hpp"
#include "support/postgres_test_database.hpp"

using namespace socle;
using namespace socle::domain;
using adapters::postgres::PostgresCatalogueStore;
using application::AuditAppender;
using application::AuditWrite;
using application::StoredAuditEvent;
using socle::testing::Must;
using socle::testing::PgRow;
using socle::testing::PostgresTestDatabase;

namespace {

const std::string kOrg = "orga00000000001";
const std::string kMember = "mem000000000001";
const std::string kPlatform;  // the platform's own chain
constexpr char kRaiseException[] = "P0001";
constexpr char kInsufficientPrivilege[] = "42501";

const Sha256Hex kSha256 = [](std::string_view bytes) {
  return adapters::crypto::ToHex(adapters::crypto::Sha256(bytes));
};

std::string Outcome(const Result<void>& result) {
  if (result) return "ok";
  return std::string(ToString(result.error().code)) + ": " + result.error().message + " / " +
         result.error().internal;
}

// What a raw statement did: its rows, or the SQLSTATE and message it failed with.
struct RawOutcome {
  std::string sqlstate;  // "" on success
  std::string message;
  std::vector<PgRow> rows;
  bool ok() const { return sqlstate.empty(); }
};

// A libpq session writing its own SQL behind the store's back; every outcome is returned,
// failures included: the point is what the server refuses.
class RawSession final {
 public:
  explicit RawSession(const std::string& url) {
    const char* keys[] = {"dbname", "connect_timeout", nullptr};
    const char* values[] = {url.c_str(), "10", nullptr};
    conn_ = PQconnectdbParams(keys, values, 1);
    if (conn_ == nullptr || PQstatus(conn_) != CONNECTION_OK) {
      std::string message = conn_ != nullptr ? PQerrorMessage(conn_) : "out of memory";
      PQfinish(conn_);
      throw std::runtime_error("cannot connect to " + url + ": " + message);
    }
  }
  ~RawSession() { PQfinish(conn_); }
  RawSession(const RawSession&) = delete;
  RawSession& operator=(const RawSession&) = delete;

  // Several statements in one simple-protocol message; the last one's rows.
  RawOutcome Script(const std::string& sql) {
    std::unique_ptr<PGresult, decltype(&PQclear)> result(PQexec(conn_, sql.c_str()), &PQclear);
    RawOutcome out;
    const auto status = PQresultStatus(result.get());
    if (status != PGRES_TUPLES_OK && status != PGRES_COMMAND_OK) {
      const char* state = PQresultErrorField(result.get(), PG_DIAG_SQLSTATE);
      out.sqlstate = state != nullptr ? state : "?????";
      out.message = PQresultErrorMessage(result.get());
      return out;
    }
    for (int r = 0; r < PQntuples(result.get()); ++r) {
      PgRow row;
      for (int c = 0; c < PQnfields(result.get()); ++c) {
        if (PQgetisnull(result.get(), r, c) != 0) {
          row.emplace_back(std::nullopt);
        } else {
          row.emplace_back(std::string(PQgetvalue(result.get(), r, c)));
        }
      }
      out.rows.push_back(std::move(row));
    }
    return out;
  }
  // A script that must succeed (setting the scene, not what is tested).
  RawOutcome Ok(const std::string& sql) {
    auto outcome = Script(sql);
    if (!outcome.ok()) throw std::runtime_error("setup failed: " + sql + ": " + outcome.message);
    return outcome;
  }

 private:
  PGconn* conn_;
};

std::string UrlAs(const std::string& url, const std::string& user) {
  const auto at = url.find("user=");
  if (at == std::string::npos) {
    return url + (url.find('?') == std::string::npos ? "?user=" : "&user=") + user;
  }
  const auto end = url.find('&', at);
  return url.substr(0, at) + "user=" + user + (end == std::string::npos ? "" : url.substr(end));
}

Organisation Org() {
  return Organisation{Id::Parse(kOrg).value(),
                      Slug::Parse("acme").value(),
                      DisplayName::Parse("Acme").value(),
                      Slug::Parse("local").value(),
                      IsolationTier::kShared,
                      Timestamp::FromUnixMicros(1'700'000'000'000'000),
                      Timestamp::FromUnixMicros(1'700'000'000'000'000)};
}

// An event of `chain` at second `second` by kMember, with an actor part (the member's address)
// and a target part, sealed on the head the appender locks.
AuditWrite AppendOne(const std::string& chain, std::string action, std::int64_t second) {
  return [chain, action = std::move(action), second](AuditAppender& appender) -> Result<void> {
    auto head = appender.LockAuditHead();
    if (!head) return Fail(head.error());
    AuditEvent draft;
    draft.at = Timestamp::FromUnixMicros(second * 1'000'000);
    draft.org_id = chain;
    draft.actor_kind = AuditActorKind::kMember;
    draft.actor_id = kMember;
    draft.action = action;
    draft.target_kind = "organisation";
    draft.target_id = kOrg;
    const std::string actor_data =
        CanonicalPersonal("salt-a", {{"ip", JsonValue::String("192.0.2.7")}});
    const std::string target_data =
        CanonicalPersonal("salt-t", {{"email", JsonValue::String("a@x.io")}});
    draft.actor_personal = kSha256(actor_data);
    draft.target_personal = kSha256(target_data);
    const AuditEvent event = SealAuditEvent(draft, *head, kSha256);
    return appender.AppendAudit(
        event, {AuditPersonal{0, event.seq, AuditPart::kActor, kMember, actor_data},
                AuditPersonal{0, event.seq, AuditPart::kTarget, kOrg, target_data}});
  };
}

std::unique_ptr<PostgresCatalogueStore> OpenStore(const std::string& url) {
  auto store = Must(PostgresCatalogueStore::Open({.url = url, .pool_size = 4}), "open");
  Must(store->Migrate(), "migrate");
  return store;
}

// kOrg, created by an audited change, and a second event on its chain.
void Populate(PostgresCatalogueStore& store) {
  Must(store.UpsertRegion(Region{Slug::Parse("local").value(), ""}), "region");
  Must(store.Audited(kOrg, AppendOne(kOrg, "organisation.create", 1),
                     [&] { return store.InsertOrganisation(Org()); }),
       "audited insert");
  Must(store.RecordAudit(kOrg, AppendOne(kOrg, "organisation.read", 2)), "record");
}

// The chain's rows as text, for comparing before and after an attempt.
std::vector<std::string> Rows(RawSession& raw) {
  auto outcome = raw.Ok(
      "SELECT concat_ws('|', org_id, seq, at, action, hash, prev_hash,"
      " coalesce(actor_data, '-'), coalesce(target_data, '-'))"
      " FROM socle.platform_audit ORDER BY org_id, seq");
  std::vector<std::string> out;
  for (const PgRow& row : outcome.rows) out.push_back(row.at(0).value_or("<null>"));
  return out;
}

// Whether the chain verifies from its first event, and how many events it has.
std::pair<bool, std::size_t> Verify(PostgresCatalogueStore& store, const std::string& chain) {
  auto events = Must(store.PlatformAuditChain(chain, 0, 100000), "chain");
  AuditChainVerifier verifier(0, kSha256, std::nullopt);
  for (const StoredAuditEvent& stored : events) {
    verifier.Next(stored.event);
    for (const AuditPersonal& part : stored.personal) verifier.Personal(stored.event, part);
  }
  return {!verifier.Finish().has_value(), events.size()};
}

}  // namespace

TEST_CASE("postgres catalogue audit: nobody may edit, delete or truncate an event",
          "[postgres][audit]") {
  PostgresTestDatabase db;
  auto store = OpenStore(db.url());
  Populate(*store);
  RawSession raw(db.url());  // the test cluster's superuser: triggers hold for it too
  const auto before = Rows(raw);
  REQUIRE(before.size() == 2);

  for (const std::string assignment :
       {"org_id = 'orgb00000000001'", "seq = 9", "at = at + interval '1 second'",
        "project_id = 'x'", "actor_kind = 'system'", "actor_id = 'someone'",
        "action = 'forged'", "target_kind = 'x'", "target_collection = 'x'", "target_id = 'x'",
        "outcome = 'denied'", "request_id = 'x'", "reason = 'x'", "changes = '[1]'",
        "actor_personal = ''", "target_personal = ''", "prev_hash = hash", "hash = prev_hash",
        "actor_data = 'rewritten'", "target_data = '{}'",
        "actor_data = NULL, action = 'forged'"}) {
    INFO(assignment);
    auto outcome = raw.Script("UPDATE socle.platform_audit SET " + assignment + " WHERE seq = 1");
    CHECK(outcome.sqlstate == kRaiseException);
    CHECK(outcome.message.find("append-only") != std::string::npos);
  }
  CHECK(raw.Script("DELETE FROM socle.platform_audit WHERE seq = 2").sqlstate ==
        kRaiseException);
  CHECK(raw.Script("DELETE FROM socle.platform_audit").sqlstate == kRaiseException);
  auto truncated = raw.Script("TRUNCATE socle.platform_audit");
  CHECK(truncated.sqlstate == kRaiseException);
  CHECK(truncated.message.find("TRUNCATE") != std::string::npos);
  CHECK(Rows(raw) == before);

  // Assigning a column its own value changes nothing and is let through.
  CHECK(raw.Script("UPDATE socle.platform_audit SET action = action, hash = hash").ok());
  CHECK(Rows(raw) == before);

  // Purging the organisation leaves its chain: no foreign key, no cascade.
  Must(store->DeleteOrganisation(Id::Parse(kOrg).value(), application::DeleteMode::kCascade),
       "purge");
  CHECK(Rows(raw) == before);
  CHECK(Verify(*store, kOrg) == std::pair<bool, std::size_t>{true, 2});
}

TEST_CASE("postgres catalogue audit: personal parts can be erased, and nothing else changes",
          "[postgres][audit]") {
  PostgresTestDatabase db;
  auto store = OpenStore(db.url());
  Populate(*store);
  RawSession raw(db.url());
  REQUIRE(raw.Script("UPDATE socle.platform_audit SET actor_data = NULL WHERE seq = 1").ok());
  REQUIRE(raw.Script("UPDATE socle.platform_audit SET target_data = NULL WHERE seq = 2").ok());
  // Once erased, a part cannot be put back.
  CHECK(raw.Script("UPDATE socle.platform_audit SET actor_data = 'back' WHERE seq = 1")
            .sqlstate == kRaiseException);
  auto chain = Must(store->PlatformAuditChain(kOrg, 0, 10), "chain");
  REQUIRE(chain.size() == 2);
  CHECK(chain[0].personal.size() == 1);
  CHECK(chain[0].personal[0].part == AuditPart::kTarget);
  CHECK(chain[1].personal.size() == 1);
  CHECK(chain[1].personal[0].part == AuditPart::kActor);
  CHECK(Verify(*store, kOrg) == std::pair<bool, std::size_t>{true, 2});
  // The store's erasure counts the parts still there.
  CHECK(Must(store->ErasePlatformPersonal(kMember), "erase") == 1);
  CHECK(Must(store->ErasePlatformPersonal(kMember), "erase again") == 0);
}

TEST_CASE("postgres catalogue audit: an insert that does not extend its chain is refused",
          "[postgres][audit]") {
  PostgresTestDatabase db;
  auto store = OpenStore(db.url());
  Populate(*store);
  RawSession raw(db.url());
  const auto before = Rows(raw);
  const std::string head =
      raw.Ok("SELECT hash FROM socle.platform_audit WHERE seq = 2").rows.at(0).at(0).value();
  const std::string first =
      raw.Ok("SELECT hash FROM socle.platform_audit WHERE seq = 1").rows.at(0).at(0).value();
  const std::string genesis(kAuditGenesis);
  auto insert = [&](const std::string& org, std::int64_t seq, const std::string& prev) {
    return raw.Script(
        "INSERT INTO socle.platform_audit (org_id, seq, at, project_id, actor_kind, actor_id,"
        " action, target_kind, target_collection, target_id, outcome, request_id, reason,"
        " changes, actor_personal, target_personal, prev_hash, hash) VALUES ('" + org + "', " +
        std::to_string(seq) + ", now(), '', 'system', 'cli', 'forged', '', '', '', 'success',"
        " '', '', '[]', '', '', '" + prev + "', 'feed')");
  };
  CHECK(insert(kOrg, 4, head).sqlstate == kRaiseException);   // a gap
  CHECK(insert(kOrg, 3, first).sqlstate == kRaiseException);  // linked to the wrong event
  CHECK(insert(kOrg, 2, first).sqlstate == kRaiseException);  // a fork
  CHECK(insert("orgb00000000001", 2, genesis).sqlstate == kRaiseException);
  CHECK(insert("orgb00000000001", 1, head).sqlstate == kRaiseException);
  CHECK(Rows(raw) == before);
  CHECK(insert(kOrg, 3, head).ok());
  CHECK(insert("orgb00000000001", 1, genesis).ok());
  CHECK(Rows(raw).size() == before.size() + 2);
}

TEST_CASE("postgres catalogue audit: socle_tenant cannot reach the trail, access changes are "
          "audited all the same",
          "[postgres][audit][rls]") {
  PostgresTestDatabase db;
  auto store = OpenStore(db.url());
  Populate(*store);
  RawSession raw(db.url());
  for (const std::string sql :
       {"SELECT count(*) FROM socle.platform_audit",
        "UPDATE socle.platform_audit SET actor_data = NULL",
        "INSERT INTO socle.platform_audit SELECT * FROM socle.platform_audit LIMIT 0"}) {
    INFO(sql);
    auto outcome = raw.Script("BEGIN; SET LOCAL ROLE socle_tenant;"
                              " SELECT set_config('socle.scope', 'platform', true);"
                              " SELECT set_config('socle.org_id', '" + kOrg + "', true); " +
                              sql);
    CHECK(outcome.sqlstate == kInsufficientPrivilege);
    raw.Ok("ROLLBACK");
  }

  // An access change runs as socle_tenant; its events are appended after it, as the login role.
  const Membership member{Id::Parse(kOrg).value(), kMember, "a@x.io",
                          Timestamp::FromUnixMicros(5)};
  REQUIRE(Outcome(store->Audited(kOrg, AppendOne(kOrg, "member.add", 3),
                                 [&] { return store->InsertMembership(member, {}); })) == "ok");
  CHECK(Verify(*store, kOrg) == std::pair<bool, std::size_t>{true, 3});
  // The role switch lasted only as long as that transaction: the next access call on the same
  // pooled connections is filtered as before (it sees its own organisation's rows only).
  CHECK(store->GetMembership(Id::Parse(kOrg).value(), kMember).has_value());
  CHECK(raw.Ok("SELECT count(*) FROM pg_catalog.pg_policies"
               " WHERE schemaname = 'socle' AND tablename = 'platform_audit'")
            .rows.at(0)
            .at(0) == "0");
}

TEST_CASE("postgres catalogue audit: a non-superuser login role writes and erases the trail",
          "[postgres][audit][deployment]") {
  PostgresTestDatabase db;
  const std::string login = db.name() + "_login";
  db.Query("CREATE ROLE \"" + login + "\" LOGIN CREATEROLE");
  db.Query("GRANT CREATE ON DATABASE \"" + db.name() + "\" TO \"" + login + "\"");
  {
    auto store = OpenStore(UrlAs(db.url(), login));
    Populate(*store);
    const Membership member{Id::Parse(kOrg).value(), kMember, "a@x.io",
                            Timestamp::FromUnixMicros(5)};
    REQUIRE(Outcome(store->Audited(kOrg, AppendOne(kOrg, "member.add", 3),
                                   [&] { return store->InsertMembership(member, {}); })) == "ok");
    REQUIRE(Outcome(store->Audited(kPlatform, AppendOne(kPlatform, "flag.put", 4), [&] {
      FeatureFlag flag;
      flag.key = "beta";
      flag.level = FlagLevel::kGlobal;
      flag.value = JsonValue::Bool(true);
      flag.updated_by = "system";
      return store->PutFlag(flag);
    })) == "ok");
    CHECK(Verify(*store, kOrg) == std::pair<bool, std::size_t>{true, 3});
    CHECK(Verify(*store, kPlatform) == std::pair<bool, std::size_t>{true, 1});
    CHECK(Must(store->ErasePlatformPersonal(kMember), "erase") == 4);
    CHECK(db.Value("SELECT tableowner FROM pg_catalog.pg_tables"
                   " WHERE schemaname = 'socle' AND tablename = 'platform_audit'") == login);
    // The owner may not rewrite what it wrote either.
    RawSession owner(UrlAs(db.url(), login));
    CHECK(owner.Script("DELETE FROM socle.platform_audit").sqlstate == kRaiseException);
  }
  db.Query("DROP OWNED BY \"" + login + "\" CASCADE");
  db.Query("DROP ROLE \"" + login + "\"");
}

TEST_CASE("postgres catalogue audit: appenders of one chain queue on its lock",
          "[postgres][audit][concurrency]") {
  PostgresTestDatabase db;
  // Audited transactions are READ COMMITTED whatever the server's default, which the head's
  // lock needs: SERIALIZABLE by default here would otherwise let a head be read stale.
  const bool serializable = GENERATE(false, true);
  if (serializable) {
    db.Query("ALTER DATABASE \"" + db.name() +
             "\" SET default_transaction_isolation = 'serializable'");
  }
  auto first = OpenStore(db.url());
  auto second = OpenStore(db.url());
  Populate(*first);
  constexpr int kThreads = 4;
  constexpr int kEach = 8;
  std::vector<std::string> failures[kThreads];
  std::vector<std::thread> threads;
  for (int t = 0; t < kThreads; ++t) {
    threads.emplace_back([&, t] {
      PostgresCatalogueStore& store = t % 2 == 0 ? *first : *second;
      for (int i = 0; i < kEach; ++i) {
        Organisation org = Org();
        org.updated = Timestamp::FromUnixMicros(1'700'000'000'000'000 + t * 100 + i);
        auto done = store.Audited(kOrg, AppendOne(kOrg, "organisation.update", 10 + i),
                                  [&] { return store.UpdateOrganisation(org); });
        if (!done) failures[t].push_back(Outcome(done));
        // The platform's chain at the same time, by an attempt recorded on its own.
        auto recorded = store.RecordAudit(kPlatform, AppendOne(kPlatform, "signin", 10 + i));
        if (!recorded) failures[t].push_back(Outcome(recorded));
      }
    });
  }
  for (auto& thread : threads) thread.join();
  for (int t = 0; t < kThreads; ++t) {
    INFO("thread " << t << (serializable ? " (serializable default)" : ""));
    CHECK(failures[t].empty());
    if (!failures[t].empty()) CHECK(failures[t].front().empty());
  }
  CHECK(Verify(*first, kOrg) ==
        std::pair<bool, std::size_t>{true, 2 + static_cast<std::size_t>(kThreads * kEach)});
  CHECK(Verify(*first, kPlatform) ==
        std::pair<bool, std::size_t>{true, static_cast<std::size_t>(kThreads * kEach)});
  auto heads = Must(first->PlatformAuditHeads(), "heads");
  REQUIRE(heads.size() == 2);
  CHECK(heads[0].org_id == kPlatform);  // "" sorts first
  CHECK(heads[1].org_id == kOrg);
  CHECK(heads[1].seq == 2 + kThreads * kEach);
}

TEST_CASE("postgres catalogue audit: migration 0005 applies to a catalogue at version 4 with data",
          "[postgres][audit][migration]") {
  PostgresTestDatabase db;
  {
    // Version 4 as an older build left it: migrations 1 to 4 and their records, then data.
    RawSession raw(db.url());
    raw.Ok("CREATE SCHEMA IF NOT EXISTS socle;"
           "CREATE TABLE socle.schema_migrations (version integer NOT NULL PRIMARY KEY,"
           " name text NOT NULL, applied_at timestamptz NOT NULL DEFAULT now())");
    int applied = 0;
    for (const adapters::Migration& migration : migrations::postgres()) {
      if (migration.version > 4) break;
      INFO(migration.name);
      // Line breaks around the script: it may end with a comment.
      raw.Ok("BEGIN;\n" + std::string(migration.sql) +
             "\n;INSERT INTO socle.schema_migrations (version, name) VALUES (" +
             std::to_string(migration.version) + ", '" + std::string(migration.name) +
             "'); COMMIT");
      ++applied;
    }
    REQUIRE(applied == 4);
    raw.Ok("INSERT INTO socle.regions (name, store_url) VALUES ('local', '')"
           " ON CONFLICT (name) DO NOTHING;"
           "INSERT INTO socle.organisations (id, slug, name, region, tier, created, updated)"
           " VALUES ('" + kOrg + "', 'acme', 'Acme', 'local', 'shared', now(), now());"
           "INSERT INTO socle.memberships (org_id, member_id, email, created)"
           " VALUES ('" + kOrg + "', '" + kMember + "', 'a@x.io', now())");
  }

  auto store = Must(PostgresCatalogueStore::Open({.url = db.url()}), "open");
  auto report = Must(store->Migrate(), "migrate");
  CHECK(report.from_version == 4);
  CHECK(report.to_version >= 5);
  REQUIRE_FALSE(report.applied.empty());
  CHECK(report.applied.front() == "0005_audit");

  // The data is still there, and its changes are audited from now on.
  auto org = Must(store->GetOrganisationById(Id::Parse(kOrg).value()), "organisation");
  CHECK(org.slug.str() == "acme");
  CHECK(store->GetMembership(Id::Parse(kOrg).value(), kMember).has_value());
  org.name = DisplayName::Parse("Acme Ltd").value();
  REQUIRE(Outcome(store->Audited(kOrg, AppendOne(kOrg, "organisation.update", 3),
                                 [&] { return store->UpdateOrganisation(org); })) == "ok");
  auto heads = Must(store->PlatformAuditHeads(), "heads");
  REQUIRE(heads.size() == 1);
  CHECK(heads[0].org_id == kOrg);
  CHECK(heads[0].seq == 1);
  CHECK(Must(store->GetOrganisationById(Id::Parse(kOrg).value()), "again").name.str() ==
        "Acme Ltd");
  CHECK(Must(store->Migrate(), "migrate again").applied.empty());
}
