// A change and its audit event commit together or not at all, even when the process dies
// between them and the commit: a child process writes a record through ManageRecords over a
// real store whose transaction is cut by SIGKILL after the work (the record and its event are
// written) and before the commit. The parent then opens the same storage: neither the record
// nor its event is there, and the chain still verifies. On SQLite (the file's journal rolls
// back) and PostgreSQL (the server aborts the dead session's transaction).
#include <catch2/catch.hpp>
#include <signal.h>
#include <sys/wait.h>
#include <unistd.h>

#include <cstdlib>
#include <functional>
#include <memory>
#include <random>
#include <string>

#include "application/audit_world.hpp"
#include "socle/adapters/postgres/postgres_project_store.hpp"
#include "socle/adapters/sqlite/sqlite_project_store.hpp"
#include "support/forwarding_project_store.hpp"
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

// A project's store whose write transactions die with the process once their work is done,
// before the commit. Everything else goes to the real store.
class DyingStore final : public socle::testing::ForwardingProjectStore {
 public:
  using ForwardingProjectStore::ForwardingProjectStore;

  Result<void> Write(
      const std::function<Result<void>(application::RecordTransaction&)>& work) override {
    return inner().Write([&](application::RecordTransaction& tx) -> Result<void> {
      auto done = work(tx);
      // The record and its event are written, not committed.
      if (done) ::kill(::getpid(), SIGKILL);
      return done;
    });
  }
};

// The stores of `inner`, each project's behind a DyingStore once `armed`.
class DyingStores final : public application::ProjectStores {
 public:
  explicit DyingStores(application::ProjectStores& inner) : inner_(inner) {}
  Result<std::shared_ptr<application::ProjectStore>> Open(const Project& project) override {
    auto store = inner_.Open(project);
    if (!store || !armed) return store;
    return std::shared_ptr<application::ProjectStore>(std::make_shared<DyingStore>(*store));
  }
  void Close(const Id& project_id) override { inner_.Close(project_id); }
  bool armed = false;

 private:
  application::ProjectStores& inner_;
};

// In a child process, over the stores `open` makes there (no connection or file handle is
// shared with the parent): the collection and one record, committed; then a second record
// whose transaction dies before its commit. Returns how the child ended.
using StoresFactory = std::function<std::unique_ptr<application::ProjectStores>()>;

int RunChild(const StoresFactory& open, std::uint64_t seed) {
  const pid_t child = ::fork();
  REQUIRE(child >= 0);
  if (child == 0) {
    // No Catch here: the child reports by how it ends, and never returns into the framework.
    try {
      auto stores = open();
      DyingStores dying(*stores);
      AuditWorld w(dying, seed);
      auto people = NewCollection("people", {NewField("name", FieldType::kText)});
      if (!w.collections.Create("shop", people, "test", w.context)) std::_Exit(10);
      if (!w.records.Create("shop", "people", {Body({{"name", Str("Kept")}}), {}, {}, {}},
                            w.Superuser())) {
        std::_Exit(11);
      }
      dying.armed = true;
      w.directory.Forget(w.Project());  // the next Find opens the store through DyingStores
      (void)w.records.Create("shop", "people", {Body({{"name", Str("Ghost")}}), {}, {}, {}},
                             w.Superuser());
    } catch (...) {
      std::_Exit(13);
    }
    std::_Exit(12);  // not reached: the write killed the process
  }
  int status = 0;
  REQUIRE(::waitpid(child, &status, 0) == child);
  INFO("child status " << status);
  REQUIRE(WIFSIGNALED(status));
  CHECK(WTERMSIG(status) == SIGKILL);
  return status;
}

void CheckNothingSurvived(AuditWorld& w) {
  auto listed = w.records.List("shop", "people", {}, w.Superuser());
  REQUIRE(listed);
  REQUIRE(listed->items.size() == 1);
  const Collection& people = *listed->items[0].collection;
  CHECK(*listed->items[0].record.Get(people, "name") == Str("Kept"));
  const auto events = w.Events();
  REQUIRE(events.size() == 2);
  CHECK(events[0].event.action == "collection.create");
  CHECK(events[1].event.action == "record.create");
  CHECK(events[1].event.changes.find("Ghost") == std::string::npos);
  CHECK(w.Verify().ok);
  // The trail goes on from where it was.
  w.MustInsert("people", Body({{"name", Str("After")}}));
  CHECK(w.Events().back().event.seq == events.back().event.seq + 1);
  CHECK(w.Verify().ok);
}

std::uint64_t FreshSeed() {
  std::random_device device;
  return (static_cast<std::uint64_t>(device()) << 32) | device();
}

}  // namespace

TEST_CASE("audit: a process killed before its commit leaves neither the change nor its event "
          "(SQLite)",
          "[audit][sqlite]") {
  socle::testing::TempDir dir;
  const std::uint64_t seed = FreshSeed();
  RunChild(
      [&] {
        return std::make_unique<adapters::sqlite::SqliteProjectStores>(
            adapters::sqlite::SqliteProjectStoreOptions{.data_dir = dir.path().string()});
      },
      seed);
  adapters::sqlite::SqliteProjectStores stores({.data_dir = dir.path().string()});
  AuditWorld w(stores, seed);  // the same seed: the same organisation and project ids
  CheckNothingSurvived(w);
}

TEST_CASE("audit: a process killed before its commit leaves neither the change nor its event "
          "(PostgreSQL)",
          "[audit][postgres]") {
  socle::testing::PostgresTestDatabase db;
  const std::uint64_t seed = FreshSeed();
  RunChild(
      [&]() -> std::unique_ptr<application::ProjectStores> {
        return Must(adapters::postgres::PostgresProjectStores::Connect(
                        {.url = db.url(), .pool_size = 2},
                        adapters::postgres::PostgresProjectStores::SchemaWatch::kOnErrorOnly),
                    "project stores");
      },
      seed);
  auto stores = Must(adapters::postgres::PostgresProjectStores::Connect(
                         {.url = db.url(), .pool_size = 2},
                         adapters::postgres::PostgresProjectStores::SchemaWatch::kOnErrorOnly),
                     "project stores");
  AuditWorld w(*stores, seed);
  CheckNothingSurvived(w);
}
