// Tampering with a project's audit trail behind Socle's back, on SQLite (a raw connection that
// first drops the triggers) and on PostgreSQL (a superuser session with triggers disabled):
// an edited diff, an edited personal part, a deleted event, two events swapped, the tail
// truncated after a checkpoint; the same for an organisation's chain of platform events in the
// catalogue database. `verify` (AuditLog::Verify, what `socle audit verify` and the
// API run) must catch each, naming the first broken link; an untouched trail verifies.
#include <catch2/catch.hpp>
#include <sqlite3.h>

#include <algorithm>
#include <functional>
#include <random>
#include <stdexcept>
#include <string>

#include "application/audit_world.hpp"
#include "socle/adapters/postgres/postgres_catalogue_store.hpp"
#include "socle/adapters/postgres/postgres_project_store.hpp"
#include "socle/adapters/sqlite/sqlite_catalogue_store.hpp"
#include "socle/application/platform_trail.hpp"
#include "socle/adapters/sqlite/project_database_path.hpp"
#include "socle/adapters/sqlite/sqlite_project_store.hpp"
#include "support/postgres_test_database.hpp"
#include "support/temp_dir.hpp"

using namespace socle;
using namespace socle::domain;
using socle::testing::AuditWorld;
using socle::testing::Body;
using socle::testing::Must;
using socle::testing::NewCollection;
using socle::testing::NewField;
using socle::testing::Str;

namespace {

// Runs SQL behind the store's back; throws on failure (the tampering itself must work).
using Tamper = std::function<void(const std::string& sql)>;

struct Scenario {
  AuditWorld& world;
  Tamper run;
  std::string table;  // the events table, qualified as the database needs
};

// Seven events on one lane: the collection, then six records (one with a personal value).
void Fill(AuditWorld& w) {
  auto people = NewCollection("people", {NewField("name", FieldType::kText),
                                         NewField("phone", FieldType::kText)});
  people.fields[1].pii = "digits";
  w.MustCreate(people);
  for (int i = 1; i <= 6; ++i) {
    w.MustInsert("people", Body({{"name", Str("person " + std::to_string(i))},
                                 {"phone", Str("+32 2 555 010" + std::to_string(i))}}));
  }
}

const application::AuditChainReport& OnlyChain(const application::AuditVerification& report) {
  REQUIRE(report.chains.size() == 1);
  return report.chains[0];
}

void RunScenarios(Scenario s) {
  AuditWorld& w = s.world;
  Fill(w);
  const auto events = w.Events();
  REQUIRE(events.size() == 7);
  const std::int64_t lane = events[0].event.lane;
  const std::string where_lane = " WHERE lane = " + std::to_string(lane) + " AND seq = ";
  {
    const auto clean = w.Verify();
    CHECK(clean.ok);
    CHECK(OnlyChain(clean).events == 7);
  }

  SECTION("an edited diff") {
    s.run("UPDATE " + s.table + " SET changes = replace(changes, 'person 3', 'person X')" +
          where_lane + "4");
    const auto report = w.Verify();
    CHECK_FALSE(report.ok);
    CHECK(OnlyChain(report).broken == AuditBreak::kEdited);
    CHECK(OnlyChain(report).broken_at == 4);
  }
  SECTION("an edited personal part") {
    s.run("UPDATE " + s.table + " SET target_data = replace(target_data, '555 0102', '555 0999')" +
          where_lane + "3");
    const auto report = w.Verify();
    CHECK_FALSE(report.ok);
    CHECK(OnlyChain(report).broken == AuditBreak::kPersonal);
    CHECK(OnlyChain(report).broken_at == 3);
  }
  SECTION("a deleted event") {
    s.run("DELETE FROM " + s.table + where_lane + "5");
    const auto report = w.Verify();
    CHECK_FALSE(report.ok);
    CHECK(OnlyChain(report).broken == AuditBreak::kDeleted);
    CHECK(OnlyChain(report).broken_at == 5);
  }
  SECTION("two events swapped") {
    s.run("UPDATE " + s.table + " SET seq = -5" + where_lane + "5");
    s.run("UPDATE " + s.table + " SET seq = 5" + where_lane + "6");
    s.run("UPDATE " + s.table + " SET seq = 6" + where_lane + "-5");
    const auto report = w.Verify();
    CHECK_FALSE(report.ok);
    CHECK(OnlyChain(report).broken == AuditBreak::kReordered);
    CHECK(OnlyChain(report).broken_at == 5);
  }
  SECTION("the tail truncated after a checkpoint") {
    REQUIRE(w.log.Checkpoint(false));
    s.run("DELETE FROM " + s.table + " WHERE lane = " + std::to_string(lane) + " AND seq > 5");
    const auto report = w.Verify();
    CHECK_FALSE(report.ok);
    CHECK(OnlyChain(report).broken == AuditBreak::kTruncated);
    CHECK(OnlyChain(report).broken_at == 6);
    CHECK(OnlyChain(report).signed_seq == 7);
  }
  SECTION("the whole chain deleted after a checkpoint") {
    REQUIRE(w.log.Checkpoint(false));
    s.run("DELETE FROM " + s.table);
    const auto report = w.Verify();
    CHECK_FALSE(report.ok);
    CHECK(OnlyChain(report).broken == AuditBreak::kTruncated);
  }
}

class RawSqlite {
 public:
  explicit RawSqlite(const std::filesystem::path& path) {
    if (sqlite3_open_v2(path.c_str(), &db_, SQLITE_OPEN_READWRITE, nullptr) != SQLITE_OK) {
      throw std::runtime_error("cannot open " + path.string());
    }
    sqlite3_busy_timeout(db_, 5000);
  }
  ~RawSqlite() { sqlite3_close(db_); }
  RawSqlite(const RawSqlite&) = delete;
  RawSqlite& operator=(const RawSqlite&) = delete;

  void Exec(const std::string& sql) {
    char* message = nullptr;
    if (sqlite3_exec(db_, sql.c_str(), nullptr, nullptr, &message) != SQLITE_OK) {
      std::string text = message != nullptr ? message : "?";
      sqlite3_free(message);
      throw std::runtime_error(sql + ": " + text);
    }
  }
  std::vector<std::string> Column(const std::string& sql) {
    sqlite3_stmt* statement = nullptr;
    if (sqlite3_prepare_v2(db_, sql.c_str(), -1, &statement, nullptr) != SQLITE_OK) {
      throw std::runtime_error(sql);
    }
    std::vector<std::string> out;
    while (sqlite3_step(statement) == SQLITE_ROW) {
      out.emplace_back(reinterpret_cast<const char*>(sqlite3_column_text(statement, 0)));
    }
    sqlite3_finalize(statement);
    return out;
  }

 private:
  sqlite3* db_ = nullptr;
};

std::uint64_t FreshSeed() {
  std::random_device device;
  return (static_cast<std::uint64_t>(device()) << 32) | device();
}

}  // namespace

TEST_CASE("audit tampering on SQLite is detected", "[audit][sqlite]") {
  socle::testing::TempDir dir;
  adapters::sqlite::SqliteProjectStores stores({.data_dir = dir.path().string()});
  AuditWorld w(stores);
  const domain::Project project = w.Project();
  const auto file = adapters::sqlite::ProjectDatabasePath(dir.path() / "catalogue.db", project.id);
  std::unique_ptr<RawSqlite> raw;
  Tamper run = [&](const std::string& sql) {
    if (!raw) {
      raw = std::make_unique<RawSqlite>(file);
      // What an attacker with the file does first: the append-only triggers go.
      for (const auto& trigger : raw->Column(
               "SELECT name FROM sqlite_schema WHERE type = 'trigger' AND tbl_name LIKE '\\_audit%'"
               " ESCAPE '\\'")) {
        raw->Exec("DROP TRIGGER \"" + trigger + "\"");
      }
    }
    raw->Exec(sql);
  };
  RunScenarios({w, run, "_audit"});
}

TEST_CASE("audit tampering on PostgreSQL, as a superuser, is detected", "[audit][postgres]") {
  socle::testing::PostgresTestDatabase db;
  auto stores = Must(adapters::postgres::PostgresProjectStores::Connect(
                         {.url = db.url(), .pool_size = 4},
                         adapters::postgres::PostgresProjectStores::SchemaWatch::kOnErrorOnly),
                     "project stores");
  AuditWorld w(*stores, FreshSeed());  // roles are cluster-wide: ids of this run's own
  const domain::Project project = w.Project();
  const std::string schema = "p_" + project.id.str();
  std::unique_ptr<socle::testing::PostgresSession> session;
  Tamper run = [&](const std::string& sql) {
    if (!session) {
      session = std::make_unique<socle::testing::PostgresSession>(db.url());
      // A superuser's session: ordinary triggers do not fire in replica mode.
      session->Query("SET session_replication_role = replica");
    }
    session->Query(sql);
  };
  RunScenarios({w, run, schema + "._audit"});
}

// ---- the platform's events: an organisation's chain in the catalogue database -------------

namespace {

// An organisation's chain of six events in `catalogue` (created, renamed five times), read and
// checked by an AuditLog over no projects.
struct PlatformWorld {
  explicit PlatformWorld(application::CatalogueStore& store) : catalogue(store) {
    REQUIRE(catalogue.Migrate());
    REQUIRE(orgs.Create({"acme", std::nullopt, std::nullopt, std::nullopt}, context));
    for (int i = 1; i <= 5; ++i) {
      clock.Advance(10);
      REQUIRE(orgs.Rename("acme", "Acme " + std::to_string(i), context));
    }
    auto org = orgs.Get("acme");
    REQUIRE(org);
    org_id = org->id.str();
  }

  const application::AuditChainReport& Chain(const application::AuditVerification& report) {
    const auto found = std::find_if(report.chains.begin(), report.chains.end(),
                                    [&](const auto& c) { return c.org_id == org_id; });
    REQUIRE(found != report.chains.end());
    CHECK(found->trail == "organisation");
    return *found;
  }
  application::AuditVerification Verify() {
    auto report = log.Verify(nullptr);
    REQUIRE(report);
    return *report;
  }

  application::CatalogueStore& catalogue;
  application::AuditContext context{{domain::AuditActorKind::kMember, "member000000001"},
                                    {"req-1", "203.0.113.7", "test-agent/1.0", ""}};
  socle::testing::ManualClock clock;
  socle::testing::SeededRandomSource random;
  application::AuditTrail trail{clock, random, &socle::testing::Sha256Hex};
  application::PlatformTrail platform{catalogue, trail};
  application::ManageOrganisations orgs{catalogue, clock, random, nullptr, nullptr, &platform};
  adapters::memory::MemoryProjectStores stores;
  std::unique_ptr<adapters::crypto::Ed25519AuditSigner> signer = socle::testing::AuditSigner(5);
  adapters::memory::MemoryAuditCheckpoints checkpoints;
  application::AuditLog log{catalogue, stores, clock, &socle::testing::Sha256Hex, signer.get(),
                            &checkpoints};
  std::string org_id;
};

void RunPlatformScenarios(PlatformWorld& w, const Tamper& run, const std::string& table) {
  const std::string where = " WHERE org_id = '" + w.org_id + "' AND seq = ";
  {
    const auto clean = w.Verify();
    CHECK(clean.ok);
    CHECK(w.Chain(clean).events == 6);
  }
  SECTION("an edited diff") {
    run("UPDATE " + table + " SET changes = replace(changes, 'Acme 2', 'Evil 2')" + where + "3");
    const auto report = w.Verify();
    CHECK_FALSE(report.ok);
    CHECK(w.Chain(report).broken == AuditBreak::kEdited);
    CHECK(w.Chain(report).broken_at == 3);
  }
  SECTION("a deleted event") {
    run("DELETE FROM " + table + where + "4");
    const auto report = w.Verify();
    CHECK_FALSE(report.ok);
    CHECK(w.Chain(report).broken == AuditBreak::kDeleted);
    CHECK(w.Chain(report).broken_at == 4);
  }
  SECTION("two events swapped") {
    // Through a free number: the table checks that seq is positive.
    run("UPDATE " + table + " SET seq = 1000" + where + "4");
    run("UPDATE " + table + " SET seq = 4" + where + "5");
    run("UPDATE " + table + " SET seq = 5" + where + "1000");
    const auto report = w.Verify();
    CHECK_FALSE(report.ok);
    CHECK(w.Chain(report).broken == AuditBreak::kReordered);
    CHECK(w.Chain(report).broken_at == 4);
  }
  SECTION("the tail truncated after a checkpoint") {
    REQUIRE(w.log.Checkpoint());
    run("DELETE FROM " + table + " WHERE org_id = '" + w.org_id + "' AND seq >= 5");
    const auto report = w.Verify();
    CHECK_FALSE(report.ok);
    CHECK(w.Chain(report).broken == AuditBreak::kTruncated);
    CHECK(w.Chain(report).broken_at == 5);
  }
}

}  // namespace

TEST_CASE("tampering with an organisation's chain on SQLite is detected", "[audit][sqlite]") {
  socle::testing::TempDir dir;
  const auto file = dir.path() / "catalogue.db";
  auto store = Must(adapters::sqlite::SqliteCatalogueStore::Open({.path = file.string()}),
                    "catalogue");
  PlatformWorld w(*store);
  std::unique_ptr<RawSqlite> raw;
  Tamper run = [&](const std::string& sql) {
    if (!raw) {
      raw = std::make_unique<RawSqlite>(file);
      for (const auto& trigger : raw->Column(
               "SELECT name FROM sqlite_schema WHERE type = 'trigger' AND tbl_name = "
               "'platform_audit'")) {
        raw->Exec("DROP TRIGGER \"" + trigger + "\"");
      }
    }
    raw->Exec(sql);
  };
  RunPlatformScenarios(w, run, "platform_audit");
}

TEST_CASE("tampering with an organisation's chain on PostgreSQL, as a superuser, is detected",
          "[audit][postgres]") {
  socle::testing::PostgresTestDatabase db;
  auto store = Must(adapters::postgres::PostgresCatalogueStore::Open({.url = db.url(),
                                                                      .pool_size = 4}),
                    "catalogue");
  PlatformWorld w(*store);
  std::unique_ptr<socle::testing::PostgresSession> session;
  Tamper run = [&](const std::string& sql) {
    if (!session) {
      session = std::make_unique<socle::testing::PostgresSession>(db.url());
      session->Query("SET session_replication_role = replica");
    }
    session->Query(sql);
  };
  RunPlatformScenarios(w, run, "socle.platform_audit");
}
