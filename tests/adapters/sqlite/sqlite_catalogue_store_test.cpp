// SqliteCatalogueStore beyond the contract: migrations, error mapping, file handling, limits.
#include <catch2/catch.hpp>
#include <sqlite3.h>

#include <chrono>
#include <filesystem>
#include <fstream>
#include <future>
#include <stdexcept>
#include <string>
#include <thread>
#include <vector>

#include "socle/adapters/migration.hpp"
#include "socle/adapters/sqlite/project_database_path.hpp"
#include "socle/adapters/sqlite/sqlite_catalogue_store.hpp"
#include "socle/adapters/sqlite/sqlite_error.hpp"
#include "support/temp_dir.hpp"

using namespace socle;
using namespace socle::domain;
using adapters::sqlite::SqliteCatalogueStore;
using adapters::sqlite::SqliteOptions;
using application::DeleteMode;
using socle::testing::TempDir;

namespace {

namespace fs = std::filesystem;

// A raw sqlite3 handle, for looking at and tampering with the file behind the store's back.
class RawDb {
 public:
  explicit RawDb(const fs::path& path) {
    if (sqlite3_open(path.c_str(), &db_) != SQLITE_OK) throw std::runtime_error("open failed");
    sqlite3_busy_timeout(db_, 5000);
  }
  ~RawDb() { sqlite3_close(db_); }
  void Exec(const std::string& sql) {
    char* message = nullptr;
    if (sqlite3_exec(db_, sql.c_str(), nullptr, nullptr, &message) != SQLITE_OK) {
      std::string text = message != nullptr ? message : "?";
      sqlite3_free(message);
      throw std::runtime_error(sql + ": " + text);
    }
  }
  std::string Text(const std::string& sql) {
    sqlite3_stmt* stmt = nullptr;
    if (sqlite3_prepare_v2(db_, sql.c_str(), -1, &stmt, nullptr) != SQLITE_OK) {
      throw std::runtime_error(sqlite3_errmsg(db_));
    }
    std::string out;
    if (sqlite3_step(stmt) == SQLITE_ROW && sqlite3_column_text(stmt, 0) != nullptr) {
      out = reinterpret_cast<const char*>(sqlite3_column_text(stmt, 0));
    }
    sqlite3_finalize(stmt);
    return out;
  }

 private:
  sqlite3* db_ = nullptr;
};

std::unique_ptr<SqliteCatalogueStore> OpenStore(const fs::path& path, SqliteOptions options = {}) {
  options.path = path.string();
  auto store = SqliteCatalogueStore::Open(options);
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

void Touch(const fs::path& path) {
  fs::create_directories(path.parent_path());
  std::ofstream(path) << "data";
}

int KnownVersion() { return migrations::sqlite().back().version; }

}  // namespace

TEST_CASE("sqlite: the first migration applies every migration, the next one nothing",
          "[sqlite][migrate]") {
  TempDir dir;
  auto store = OpenStore(dir.path() / "catalogue.db");
  auto first = store->Migrate();
  REQUIRE(first);
  CHECK(first->from_version == 0);
  CHECK(first->to_version == KnownVersion());
  REQUIRE(first->applied.size() == migrations::sqlite().size());
  CHECK(first->applied.front() == "0001_catalogue");

  auto second = store->Migrate();
  REQUIRE(second);
  CHECK(second->applied.empty());
  CHECK(second->from_version == KnownVersion());
  CHECK(second->to_version == KnownVersion());

  RawDb raw(dir.path() / "catalogue.db");
  CHECK(raw.Text("SELECT count(*) FROM schema_migrations") ==
        std::to_string(migrations::sqlite().size()));
  CHECK(raw.Text("SELECT name FROM schema_migrations WHERE version = 1") == "catalogue");
}

TEST_CASE("sqlite: a database newer than the build is refused", "[sqlite][migrate]") {
  TempDir dir;
  auto store = OpenStore(dir.path() / "catalogue.db");
  REQUIRE(store->Migrate());
  RawDb(dir.path() / "catalogue.db")
      .Exec("INSERT INTO schema_migrations (version, name, applied_at) VALUES (9999, 'future', 0)");
  auto again = store->Migrate();
  REQUIRE_FALSE(again);
  CHECK(again.error().code == ErrorCode::kFailedPrecondition);
  CHECK(again.error().message.find("newer") != std::string::npos);
}

TEST_CASE("sqlite: stores migrating one file at once apply each migration once",
          "[sqlite][migrate][concurrency]") {
  // Several rounds on fresh files, the migrators released together: the interleavings where
  // one reads the version before another applies a migration do come up.
  constexpr int kRounds = 10;
  constexpr int kMigrators = 6;
  for (int round = 0; round < kRounds; ++round) {
    TempDir dir;
    const auto path = dir.path() / "catalogue.db";
    std::vector<std::unique_ptr<SqliteCatalogueStore>> stores;
    for (int i = 0; i < kMigrators; ++i) stores.push_back(OpenStore(path));
    std::promise<void> go;
    std::shared_future<void> start = go.get_future().share();
    std::vector<std::future<Result<application::MigrationReport>>> runs;
    for (auto& store : stores) {
      runs.push_back(std::async(std::launch::async, [&store, start] {
        start.wait();
        return store->Migrate();
      }));
    }
    go.set_value();
    std::size_t applied = 0;
    for (auto& run : runs) {
      auto report = run.get();
      REQUIRE(report);
      applied += report->applied.size();
      CHECK(report->to_version == KnownVersion());
    }
    CHECK(applied == migrations::sqlite().size());
    CHECK(RawDb(path).Text("SELECT count(*) FROM schema_migrations") ==
          std::to_string(migrations::sqlite().size()));
  }
}

TEST_CASE("sqlite: the file is in WAL mode and its directory is created",
          "[sqlite][open]") {
  TempDir dir;
  const auto path = dir.path() / "nested" / "deeper" / "catalogue.db";
  auto store = OpenStore(path);
  REQUIRE(store->Migrate());
  CHECK(fs::exists(path));
  CHECK(RawDb(path).Text("PRAGMA journal_mode") == "wal");
}

TEST_CASE("sqlite: unusable paths give clear errors", "[sqlite][open]") {
  TempDir dir;
  for (const char* special : {"", ":memory:", "file:catalogue.db?mode=memory"}) {
    auto store = SqliteCatalogueStore::Open({.path = special});
    REQUIRE_FALSE(store);
    CHECK(store.error().code == ErrorCode::kInvalidArgument);
  }
  // A directory cannot be created under a regular file.
  Touch(dir.path() / "a-file");
  auto under_file = SqliteCatalogueStore::Open({.path = (dir.path() / "a-file" / "c.db").string()});
  REQUIRE_FALSE(under_file);
  CHECK(under_file.error().code == ErrorCode::kUnavailable);
  CHECK(under_file.error().internal.find("a-file") != std::string::npos);
  // A file that is not a database.
  std::ofstream(dir.path() / "garbage.db") << std::string(4096, 'x');
  auto garbage = SqliteCatalogueStore::Open({.path = (dir.path() / "garbage.db").string()});
  REQUIRE_FALSE(garbage);
  CHECK(garbage.error().code == ErrorCode::kInternal);
  CHECK(garbage.error().internal.find("not a database") != std::string::npos);
}

TEST_CASE("sqlite: data survives closing and reopening the store", "[sqlite][durability]") {
  TempDir dir;
  const auto path = dir.path() / "catalogue.db";
  auto org = Org("aaaaaaaaaaaaaa1", "acme");
  {
    auto store = OpenStore(path);
    REQUIRE(store->Migrate());
    REQUIRE(store->InsertOrganisation(org));
    REQUIRE(store->InsertProject(Proj("ppppppppppppp01", "shop", org)));
    REQUIRE(store->UpsertRegion(Region{Slug::Parse("eu-west").value(), "postgres://eu"}));
  }
  auto reopened = OpenStore(path);
  auto migrated = reopened->Migrate();
  REQUIRE(migrated);
  CHECK(migrated->applied.empty());
  auto got = reopened->GetOrganisation(org.slug);
  REQUIRE(got);
  CHECK(got->created == org.created);
  CHECK(reopened->GetProject(Slug::Parse("shop").value())->org_slug.str() == "acme");
  CHECK(reopened->GetRegion(Slug::Parse("eu-west").value())->store_url == "postgres://eu");
}

TEST_CASE("sqlite: deleting projects removes their database files after the commit",
          "[sqlite][projects]") {
  TempDir dir;
  const auto path = dir.path() / "catalogue.db";
  auto store = OpenStore(path);
  REQUIRE(store->Migrate());
  auto acme = Org("aaaaaaaaaaaaaa1", "acme");
  auto bigco = Org("aaaaaaaaaaaaaa2", "bigco");
  REQUIRE(store->InsertOrganisation(acme));
  REQUIRE(store->InsertOrganisation(bigco));
  auto shop = Proj("ppppppppppppp01", "shop", acme);
  auto blog = Proj("ppppppppppppp02", "blog", acme);
  auto kept = Proj("ppppppppppppp03", "kept", bigco);
  for (const auto& p : {shop, blog, kept}) {
    REQUIRE(store->InsertProject(p));
    Touch(adapters::sqlite::ProjectDatabasePath(path, p.id));
    Touch(adapters::sqlite::ProjectDatabasePath(path, p.id).string() + "-wal");
  }
  const auto shop_db = adapters::sqlite::ProjectDatabasePath(path, shop.id);
  CHECK(shop_db == dir.path() / "projects" / "ppppppppppppp01.db");

  SECTION("one project") {
    REQUIRE(store->DeleteProject(shop.id));
    CHECK_FALSE(fs::exists(shop_db));
    CHECK_FALSE(fs::exists(shop_db.string() + "-wal"));
    CHECK(fs::exists(adapters::sqlite::ProjectDatabasePath(path, blog.id)));
    // a project without a file yet is deleted all the same
    auto empty = Proj("ppppppppppppp04", "empty", acme);
    REQUIRE(store->InsertProject(empty));
    CHECK(store->DeleteProject(empty.id));
  }
  SECTION("a refused organisation deletion keeps them, a cascade removes them") {
    CHECK(store->DeleteOrganisation(acme.id, DeleteMode::kRefuseIfProjects).error().code ==
          ErrorCode::kFailedPrecondition);
    CHECK(fs::exists(shop_db));
    auto deleted = store->DeleteOrganisation(acme.id, DeleteMode::kCascade);
    REQUIRE(deleted);
    CHECK(*deleted == 2);
    CHECK_FALSE(fs::exists(shop_db));
    CHECK_FALSE(fs::exists(adapters::sqlite::ProjectDatabasePath(path, blog.id)));
    CHECK(fs::exists(adapters::sqlite::ProjectDatabasePath(path, kept.id)));
  }
}

TEST_CASE("sqlite: result codes map to the canonical errors", "[sqlite][errors]") {
  using adapters::sqlite::ErrorFromSqlite;
  struct Case {
    int code;
    ErrorCode expected;
  };
  const Case cases[] = {
      {SQLITE_CONSTRAINT_UNIQUE, ErrorCode::kAlreadyExists},
      {SQLITE_CONSTRAINT_PRIMARYKEY, ErrorCode::kAlreadyExists},
      {SQLITE_CONSTRAINT_FOREIGNKEY, ErrorCode::kFailedPrecondition},
      {SQLITE_CONSTRAINT_CHECK, ErrorCode::kInvalidArgument},
      {SQLITE_CONSTRAINT_NOTNULL, ErrorCode::kInvalidArgument},
      {SQLITE_CONSTRAINT, ErrorCode::kFailedPrecondition},
      {SQLITE_BUSY, ErrorCode::kUnavailable},
      {SQLITE_BUSY_TIMEOUT, ErrorCode::kUnavailable},
      {SQLITE_BUSY_SNAPSHOT, ErrorCode::kAborted},
      {SQLITE_LOCKED, ErrorCode::kAborted},
      {SQLITE_INTERRUPT, ErrorCode::kDeadlineExceeded},
      {SQLITE_FULL, ErrorCode::kResourceExhausted},
      {SQLITE_NOMEM, ErrorCode::kResourceExhausted},
      {SQLITE_TOOBIG, ErrorCode::kResourceExhausted},
      {SQLITE_CANTOPEN, ErrorCode::kUnavailable},
      {SQLITE_IOERR_WRITE, ErrorCode::kUnavailable},
      {SQLITE_READONLY, ErrorCode::kUnavailable},
      {SQLITE_CORRUPT, ErrorCode::kInternal},
      {SQLITE_NOTADB, ErrorCode::kInternal},
      {SQLITE_ERROR, ErrorCode::kInternal},
      {SQLITE_MISUSE, ErrorCode::kInternal},
  };
  for (const auto& c : cases) {
    INFO("sqlite code " << c.code);
    auto error = ErrorFromSqlite(c.code, "secret driver detail");
    CHECK(error.code == c.expected);
    // the driver's words reach the logs only, never the client
    CHECK(error.message.find("secret") == std::string::npos);
    CHECK(error.internal.find("secret driver detail") != std::string::npos);
  }
}

TEST_CASE("sqlite: a writer blocked past the busy timeout gets unavailable, not a hang",
          "[sqlite][limits]") {
  TempDir dir;
  const auto path = dir.path() / "catalogue.db";
  auto store = OpenStore(path, {.path = {}, .pool_size = 1, .busy_timeout_ms = 100});
  REQUIRE(store->Migrate());
  RawDb holder(path);
  holder.Exec("BEGIN IMMEDIATE");  // another process holds the write lock

  const auto start = std::chrono::steady_clock::now();
  auto first = std::async(std::launch::async,
                          [&] { return store->InsertOrganisation(Org("aaaaaaaaaaaaaa1", "acme")); });
  auto second = std::async(std::launch::async,
                           [&] { return store->InsertOrganisation(Org("aaaaaaaaaaaaaa2", "bigco")); });
  // Both fail within a bound: one waited for the lock, the other for the single connection
  // (or for the lock after it). Neither may hang.
  REQUIRE(first.wait_for(std::chrono::seconds(20)) == std::future_status::ready);
  REQUIRE(second.wait_for(std::chrono::seconds(20)) == std::future_status::ready);
  auto a = first.get();
  auto b = second.get();
  REQUIRE_FALSE(a);
  REQUIRE_FALSE(b);
  CHECK(a.error().code == ErrorCode::kUnavailable);
  CHECK(b.error().code == ErrorCode::kUnavailable);
  CHECK(std::chrono::steady_clock::now() - start < std::chrono::seconds(10));
  // Reads still work while the writer lock is held (WAL), and writes resume once it goes.
  CHECK(store->ListOrganisations(PageRequest{})->total_items == 0);
  holder.Exec("ROLLBACK");
  CHECK(store->InsertOrganisation(Org("aaaaaaaaaaaaaa1", "acme")));
}

TEST_CASE("sqlite: a failed write rolls back and leaves the connection usable",
          "[sqlite][transactions]") {
  TempDir dir;
  auto store = OpenStore(dir.path() / "catalogue.db", {.path = {}, .pool_size = 1});
  REQUIRE(store->Migrate());
  auto org = Org("aaaaaaaaaaaaaa1", "acme");
  REQUIRE(store->InsertOrganisation(org));
  auto dup = store->InsertOrganisation(Org("aaaaaaaaaaaaaa2", "acme"));
  REQUIRE_FALSE(dup);
  CHECK(dup.error().code == ErrorCode::kAlreadyExists);
  CHECK(dup.error().message == "An organisation with this slug already exists.");
  auto dup_id = store->InsertOrganisation(Org("aaaaaaaaaaaaaa1", "other"));
  CHECK(dup_id.error().message == "An organisation with this id already exists.");
  // the single pooled connection is not stuck inside a transaction
  CHECK(store->InsertOrganisation(Org("aaaaaaaaaaaaaa3", "third")));
  RawDb raw(dir.path() / "catalogue.db");
  raw.Exec("BEGIN IMMEDIATE");  // would time out if the store still held the write lock
  raw.Exec("ROLLBACK");
}
