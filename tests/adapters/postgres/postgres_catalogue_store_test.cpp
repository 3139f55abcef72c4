// PostgresCatalogueStore beyond the contract: migrations, SQLSTATE mapping, the pool, broken
// connections, per-project schemas, bad URLs. Each case gets a throwaway database.
#include <catch2/catch.hpp>
#include <signal.h>
#include <sys/socket.h>
#include <sys/un.h>
#include <unistd.h>

#include <chrono>
#include <functional>
#include <future>
#include <stdexcept>
#include <string>
#include <thread>
#include <vector>

#include "socle/adapters/migration.hpp"
#include "socle/adapters/postgres/identifier.hpp"
#include "socle/adapters/postgres/postgres_catalogue_store.hpp"
#include "socle/adapters/postgres/sqlstate.hpp"
#include "support/postgres_test_database.hpp"
#include "support/temp_dir.hpp"

using namespace socle;
using namespace socle::domain;
using adapters::postgres::PostgresCatalogueStore;
using adapters::postgres::PostgresOptions;
using application::DeleteMode;
using socle::testing::PostgresSession;
using socle::testing::PostgresTestDatabase;
using socle::testing::TempDir;
using namespace std::chrono_literals;

namespace {

std::unique_ptr<PostgresCatalogueStore> OpenStore(const std::string& url,
                                                  PostgresOptions options = {}) {
  options.url = url;
  auto store = PostgresCatalogueStore::Open(options);
  if (!store) throw std::runtime_error("open failed: " + store.error().internal);
  return std::move(*store);
}

Organisation Org(std::string_view id, std::string_view slug) {
  auto at = Timestamp::FromUnixMicros(1'700'000'000'123'456);
  return Organisation{Id::Parse(id).value(), Slug::Parse(slug).value(),
                      DisplayName::Parse("Org").value(), Slug::Parse("local").value(),
                      IsolationTier::kShared, at, at};
}

Project Proj(std::string_view id, std::string_view slug, const Organisation& org) {
  auto at = Timestamp::FromUnixMicros(1'700'000'001'000'001);
  return Project{Id::Parse(id).value(), Slug::Parse(slug).value(),
                 DisplayName::Parse("Project").value(), org.id, org.slug, at, at};
}

// Polls `done` every 10 ms until it holds or `limit` passes; returns whether it held.
bool Eventually(const std::function<bool()>& done, std::chrono::milliseconds limit = 10s) {
  const auto deadline = std::chrono::steady_clock::now() + limit;
  while (std::chrono::steady_clock::now() < deadline) {
    if (done()) return true;
    std::this_thread::sleep_for(10ms);
  }
  return done();
}

bool SchemaExists(const PostgresTestDatabase& db, const std::string& name) {
  return db.Value("SELECT count(*) FROM pg_catalog.pg_namespace WHERE nspname = $1", {name}) ==
         "1";
}

// Server processes connected to the test database, other than the one asking.
int OtherBackends(const PostgresTestDatabase& db) {
  return std::stoi(db.Value(
      "SELECT count(*) FROM pg_catalog.pg_stat_activity"
      " WHERE datname = current_database() AND pid <> pg_backend_pid()"));
}

std::size_t MigrationCount() { return migrations::postgres().size(); }

}  // namespace

TEST_CASE("postgres: migrating applies every migration once, into schema socle",
          "[postgres][migrate]") {
  PostgresTestDatabase db;
  auto store = OpenStore(db.url());
  auto first = store->Migrate();
  REQUIRE(first);
  CHECK(first->from_version == 0);
  CHECK(first->to_version == migrations::postgres().back().version);
  REQUIRE(first->applied.size() == MigrationCount());
  CHECK(first->applied.front() == "0001_catalogue");

  auto second = store->Migrate();
  REQUIRE(second);
  CHECK(second->applied.empty());
  CHECK(second->from_version == first->to_version);

  CHECK(db.Value("SELECT count(*) FROM socle.schema_migrations") ==
        std::to_string(MigrationCount()));
  for (const char* table : {"socle.regions", "socle.organisations", "socle.projects"}) {
    CHECK(db.Value("SELECT to_regclass($1) IS NOT NULL", {table}) == "t");
  }
  CHECK(db.Value("SELECT count(*) FROM pg_catalog.pg_tables WHERE schemaname = 'public'") == "0");
}

TEST_CASE("postgres: a database newer than the build is refused", "[postgres][migrate]") {
  PostgresTestDatabase db;
  auto store = OpenStore(db.url());
  REQUIRE(store->Migrate());
  db.Query("INSERT INTO socle.schema_migrations (version, name) VALUES (9999, 'future')");
  auto again = store->Migrate();
  REQUIRE_FALSE(again);
  CHECK(again.error().code == ErrorCode::kFailedPrecondition);
  CHECK(again.error().message.find("newer") != std::string::npos);
}

TEST_CASE("postgres: servers migrating at once all succeed and apply each migration once",
          "[postgres][migrate][concurrency]") {
  PostgresTestDatabase db;
  std::vector<std::unique_ptr<PostgresCatalogueStore>> stores;
  for (int i = 0; i < 4; ++i) stores.push_back(OpenStore(db.url()));
  std::vector<std::future<Result<application::MigrationReport>>> runs;
  for (auto& store : stores) {
    runs.push_back(std::async(std::launch::async, [&store] { return store->Migrate(); }));
  }
  std::size_t applied = 0;
  for (auto& run : runs) {
    auto report = run.get();
    REQUIRE(report);
    applied += report->applied.size();
    CHECK(report->to_version == migrations::postgres().back().version);
  }
  CHECK(applied == MigrationCount());
  CHECK(db.Value("SELECT count(*) FROM socle.schema_migrations") ==
        std::to_string(MigrationCount()));
}

TEST_CASE("postgres: migrations wait for the advisory lock another server holds",
          "[postgres][migrate][concurrency]") {
  PostgresTestDatabase db;
  auto store = OpenStore(db.url());
  PostgresSession other_server(db.url());
  const std::string key = std::to_string(std::int64_t{0x536f636c654d6967});
  other_server.Query("SELECT pg_advisory_lock($1::int8)", {key});

  auto run = std::async(std::launch::async, [&] { return store->Migrate(); });
  REQUIRE(Eventually([&] {
    return db.Value("SELECT count(*) FROM pg_catalog.pg_locks"
                    " WHERE locktype = 'advisory' AND NOT granted") == "1";
  }));
  CHECK(run.wait_for(0s) == std::future_status::timeout);  // still waiting for the lock
  other_server.Query("SELECT pg_advisory_unlock($1::int8)", {key});
  REQUIRE(run.wait_for(30s) == std::future_status::ready);
  auto report = run.get();
  REQUIRE(report);
  CHECK(report->applied.size() == MigrationCount());
}

TEST_CASE("postgres: SQLSTATEs map to the canonical errors", "[postgres][errors]") {
  using adapters::postgres::ErrorFromSqlstate;
  struct Case {
    const char* sqlstate;
    ErrorCode expected;
  };
  const Case cases[] = {
      {"23505", ErrorCode::kAlreadyExists},      {"23503", ErrorCode::kFailedPrecondition},
      {"23502", ErrorCode::kInvalidArgument},    {"23514", ErrorCode::kInvalidArgument},
      {"40001", ErrorCode::kAborted},            {"40P01", ErrorCode::kAborted},
      {"08000", ErrorCode::kUnavailable},        {"08006", ErrorCode::kUnavailable},
      {"08001", ErrorCode::kUnavailable},        {"57P01", ErrorCode::kUnavailable},
      {"57014", ErrorCode::kDeadlineExceeded},   {"53000", ErrorCode::kResourceExhausted},
      {"53100", ErrorCode::kResourceExhausted},  {"53300", ErrorCode::kResourceExhausted},
      {"42601", ErrorCode::kInternal},           {"42P01", ErrorCode::kInternal},
      {"XX000", ErrorCode::kInternal},           {"", ErrorCode::kUnavailable},
  };
  for (const auto& c : cases) {
    INFO("SQLSTATE " << c.sqlstate);
    auto error = ErrorFromSqlstate(c.sqlstate, "secret driver detail");
    CHECK(error.code == c.expected);
    // the driver's words reach the logs only, never the client
    CHECK(error.message.find("secret") == std::string::npos);
    CHECK(error.internal.find("secret driver detail") != std::string::npos);
  }
}

TEST_CASE("postgres: identifiers are quoted only when made of [a-z0-9_]",
          "[postgres][identifiers]") {
  using adapters::postgres::QuoteIdentifier;
  CHECK(QuoteIdentifier("p_abc123").value() == "\"p_abc123\"");
  CHECK(QuoteIdentifier(std::string(63, 'a')));
  for (std::string_view bad : {"", "Upper", "a\"b", "a b", "a;drop", "caf\xc3\xa9", "a-b",
                               "a.b"}) {
    INFO(bad);
    auto quoted = QuoteIdentifier(bad);
    REQUIRE_FALSE(quoted);
    CHECK(quoted.error().code == ErrorCode::kInvalidArgument);
  }
  CHECK_FALSE(QuoteIdentifier(std::string(64, 'a')));  // PostgreSQL would truncate it
  CHECK(adapters::postgres::ProjectSchemaName(Id::Parse("abcdefghij12345").value()) ==
        "p_abcdefghij12345");
}

TEST_CASE("postgres: a project's schema lives and dies with its row", "[postgres][projects]") {
  PostgresTestDatabase db;
  auto store = OpenStore(db.url());
  REQUIRE(store->Migrate());
  auto acme = Org("aaaaaaaaaaaaaa1", "acme");
  auto bigco = Org("aaaaaaaaaaaaaa2", "bigco");
  REQUIRE(store->InsertOrganisation(acme));
  REQUIRE(store->InsertOrganisation(bigco));
  auto shop = Proj("ppppppppppppp01", "shop", acme);
  REQUIRE(store->InsertProject(shop));
  CHECK(SchemaExists(db, "p_ppppppppppppp01"));

  SECTION("DeleteProject drops the schema and what it holds") {
    db.Query("CREATE TABLE p_ppppppppppppp01.things (id int)");
    REQUIRE(store->DeleteProject(shop.id));
    CHECK_FALSE(SchemaExists(db, "p_ppppppppppppp01"));
  }
  SECTION("a refused insert creates no schema") {
    auto clash = Proj("ppppppppppppp02", "shop", acme);
    CHECK(store->InsertProject(clash).error().code == ErrorCode::kAlreadyExists);
    auto orphan = Proj("ppppppppppppp03", "orphan", Org("zzzzzzzzzzzzzz9", "ghost"));
    CHECK(store->InsertProject(orphan).error().code == ErrorCode::kNotFound);
    CHECK_FALSE(SchemaExists(db, "p_ppppppppppppp02"));
    CHECK_FALSE(SchemaExists(db, "p_ppppppppppppp03"));
  }
  SECTION("a schema that cannot be created undoes the row") {
    db.Query("CREATE SCHEMA p_ppppppppppppp04");
    auto blocked = store->InsertProject(Proj("ppppppppppppp04", "blocked", acme));
    REQUIRE_FALSE(blocked);
    CHECK(blocked.error().code == ErrorCode::kAlreadyExists);
    CHECK(store->GetProject(Slug::Parse("blocked").value()).error().code == ErrorCode::kNotFound);
  }
  SECTION("organisation deletion: refused keeps the schemas, cascade drops them") {
    REQUIRE(store->InsertProject(Proj("ppppppppppppp05", "blog", acme)));
    REQUIRE(store->InsertProject(Proj("ppppppppppppp06", "kept", bigco)));
    CHECK(store->DeleteOrganisation(acme.id, DeleteMode::kRefuseIfProjects).error().code ==
          ErrorCode::kFailedPrecondition);
    CHECK(SchemaExists(db, "p_ppppppppppppp01"));
    auto deleted = store->DeleteOrganisation(acme.id, DeleteMode::kCascade);
    REQUIRE(deleted);
    CHECK(*deleted == 2);
    CHECK_FALSE(SchemaExists(db, "p_ppppppppppppp01"));
    CHECK_FALSE(SchemaExists(db, "p_ppppppppppppp05"));
    CHECK(SchemaExists(db, "p_ppppppppppppp06"));
  }
}

TEST_CASE("postgres: an exhausted pool answers unavailable, a slow statement deadline_exceeded",
          "[postgres][limits]") {
  PostgresTestDatabase db;
  auto store = OpenStore(db.url(), {.url = {},
                                    .pool_size = 1,
                                    .connect_timeout_ms = 5000,
                                    .statement_timeout_ms = 1500,
                                    .acquire_timeout_ms = 200});
  REQUIRE(store->Migrate());
  // Another session inserts "acme" and keeps its transaction open: the store's insert of the
  // same slug must wait for it on the unique index, holding the pool's only connection.
  PostgresSession blocker(db.url());
  blocker.Query("BEGIN");
  blocker.Query(
      "INSERT INTO socle.organisations (id, slug, name, region, tier, created, updated)"
      " VALUES ('bbbbbbbbbbbbbb1', 'acme', 'Blocker', 'local', 'shared', now(), now())");
  auto waiting = std::async(std::launch::async, [&] {
    return store->InsertOrganisation(Org("aaaaaaaaaaaaaa1", "acme"));
  });
  REQUIRE(Eventually([&] {
    return db.Value("SELECT count(*) FROM pg_catalog.pg_stat_activity"
                    " WHERE datname = current_database() AND wait_event_type = 'Lock'") == "1";
  }));

  const auto start = std::chrono::steady_clock::now();
  auto ping = store->Ping();
  const auto waited = std::chrono::steady_clock::now() - start;
  REQUIRE_FALSE(ping);
  CHECK(ping.error().code == ErrorCode::kUnavailable);
  CHECK(waited >= 150ms);
  CHECK(waited < 1400ms);  // the acquire timeout, not the statement's

  REQUIRE(waiting.wait_for(20s) == std::future_status::ready);
  auto timed_out = waiting.get();
  REQUIRE_FALSE(timed_out);
  CHECK(timed_out.error().code == ErrorCode::kDeadlineExceeded);
  // the server's statement_timeout ended it (not the client's later deadline)
  CHECK(timed_out.error().internal.find("SQLSTATE 57014") != std::string::npos);
  CHECK(std::chrono::steady_clock::now() - start < 3s);

  blocker.Query("ROLLBACK");
  CHECK(store->InsertOrganisation(Org("aaaaaaaaaaaaaa1", "acme")));  // the connection survived
}

TEST_CASE("postgres: a connection killed by the server is replaced", "[postgres][pool]") {
  PostgresTestDatabase db;
  auto store = OpenStore(db.url(), {.url = {}, .pool_size = 2});
  REQUIRE(store->Migrate());
  REQUIRE(store->InsertOrganisation(Org("aaaaaaaaaaaaaa1", "acme")));
  REQUIRE(OtherBackends(db) >= 1);

  db.Query("SELECT pg_terminate_backend(pid) FROM pg_catalog.pg_stat_activity"
           " WHERE datname = current_database() AND pid <> pg_backend_pid()");
  REQUIRE(Eventually([&] { return OtherBackends(db) == 0; }));

  // The dead connections are noticed and discarded; the calls succeed on new ones.
  CHECK(store->Ping());
  auto org = store->GetOrganisation(Slug::Parse("acme").value());
  REQUIRE(org);
  CHECK(org->id.str() == "aaaaaaaaaaaaaa1");
  CHECK(store->InsertOrganisation(Org("aaaaaaaaaaaaaa2", "bigco")));
  CHECK(OtherBackends(db) >= 1);
}

TEST_CASE("postgres: a server that stops answering costs a bounded wait, not a hang",
          "[postgres][limits]") {
  PostgresTestDatabase db;
  auto store = OpenStore(db.url(), {.url = {}, .pool_size = 1, .statement_timeout_ms = 300});
  REQUIRE(store->Migrate());
  REQUIRE(store->Ping());
  const int backend = std::stoi(db.Value(
      "SELECT pid FROM pg_catalog.pg_stat_activity"
      " WHERE datname = current_database() AND pid <> pg_backend_pid()"));
  // A frozen backend answers nothing, not even its own statement_timeout: only the client's
  // deadline (statement timeout plus a grace period) can end the wait. The backend is resumed
  // whatever happens: frozen, it would block every CREATE/DROP DATABASE of the cluster.
  REQUIRE(kill(backend, SIGSTOP) == 0);
  const auto start = std::chrono::steady_clock::now();
  auto ping = std::async(std::launch::async, [&] { return store->Ping(); });
  const bool answered = ping.wait_for(10s) == std::future_status::ready;
  const auto waited = std::chrono::steady_clock::now() - start;
  kill(backend, SIGCONT);
  REQUIRE(answered);
  auto frozen = ping.get();
  REQUIRE_FALSE(frozen);
  CHECK(frozen.error().code == ErrorCode::kDeadlineExceeded);
  CHECK(waited >= 300ms);
  CHECK(waited < 4s);  // one deadline (0.3 s + grace), not two
  CHECK(store->Ping());  // on a new connection: the frozen one was discarded
}

TEST_CASE("postgres: data survives closing and reopening the store", "[postgres][durability]") {
  PostgresTestDatabase db;
  auto org = Org("aaaaaaaaaaaaaa1", "acme");
  {
    auto store = OpenStore(db.url());
    REQUIRE(store->Migrate());
    REQUIRE(store->InsertOrganisation(org));
    REQUIRE(store->InsertProject(Proj("ppppppppppppp01", "shop", org)));
  }
  REQUIRE(Eventually([&] { return OtherBackends(db) == 0; }));  // every connection closed
  auto reopened = OpenStore(db.url());
  auto migrated = reopened->Migrate();
  REQUIRE(migrated);
  CHECK(migrated->applied.empty());
  auto got = reopened->GetOrganisation(org.slug);
  REQUIRE(got);
  CHECK(got->created == org.created);
  CHECK(reopened->GetProject(Slug::Parse("shop").value())->org_slug.str() == "acme");
}

TEST_CASE("postgres: bad URLs and unreachable servers give clear errors", "[postgres][open]") {
  SECTION("a malformed URL is invalid_argument") {
    auto store = PostgresCatalogueStore::Open({.url = "postgresql:///db?no_such_option=1"});
    REQUIRE_FALSE(store);
    CHECK(store.error().code == ErrorCode::kInvalidArgument);
    CHECK(store.error().internal.find("no_such_option") != std::string::npos);
  }
  SECTION("no server behind the URL is unavailable, and the password is not repeated") {
    auto store = PostgresCatalogueStore::Open(
        {.url = "postgresql://socle:hunter2@/socle?host=/nonexistent-socle-dir&port=5432"});
    REQUIRE_FALSE(store);
    CHECK(store.error().code == ErrorCode::kUnavailable);
    CHECK(store.error().internal.find("/nonexistent-socle-dir") != std::string::npos);
    CHECK(store.error().internal.find("hunter2") == std::string::npos);
    CHECK(store.error().message.find("hunter2") == std::string::npos);
  }
  SECTION("a database that does not exist is unavailable") {
    auto store = PostgresCatalogueStore::Open({.url = PostgresTestDatabase::UrlFor("no_such_db")});
    REQUIRE_FALSE(store);
    CHECK(store.error().code == ErrorCode::kUnavailable);
    CHECK(store.error().internal.find("no_such_db") != std::string::npos);
  }
  SECTION("a server that never answers costs the connect timeout, not a hang") {
    // A listening socket nobody accepts on: the kernel completes the connection, then silence.
    TempDir dir;
    const std::string path = dir / ".s.PGSQL.5432";
    int fd = socket(AF_UNIX, SOCK_STREAM, 0);
    REQUIRE(fd >= 0);
    sockaddr_un addr{};
    addr.sun_family = AF_UNIX;
    REQUIRE(path.size() < sizeof addr.sun_path);
    path.copy(addr.sun_path, path.size());
    REQUIRE(bind(fd, reinterpret_cast<sockaddr*>(&addr), sizeof addr) == 0);
    REQUIRE(listen(fd, 4) == 0);

    const auto start = std::chrono::steady_clock::now();
    auto store = PostgresCatalogueStore::Open(
        {.url = "postgresql:///socle?host=" + dir.path().string() + "&port=5432",
         .connect_timeout_ms = 300});
    const auto waited = std::chrono::steady_clock::now() - start;
    close(fd);
    REQUIRE_FALSE(store);
    CHECK(store.error().code == ErrorCode::kUnavailable);
    CHECK(waited >= 250ms);
    CHECK(waited < 5s);
  }
}
