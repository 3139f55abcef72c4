// The SQLite project store's audit table beyond the ProjectStore contract: the database itself
// refuses to change or remove an event and allows only the erasure of its personal parts
// (triggers), the store refuses parts its columns cannot hold, a database from an older build
// gains the table when opened, the columns hold what the specification says, the hot queries
// and the erasure use their indexes, and two processes appending to one file keep one unbroken
// chain.
#include <catch2/catch.hpp>
#include <sqlite3.h>

#include <cstdint>
#include <filesystem>
#include <functional>
#include <memory>
#include <optional>
#include <stdexcept>
#include <string>
#include <thread>
#include <utility>
#include <vector>

#include "socle/adapters/crypto/digest.hpp"
#include "socle/adapters/sqlite/project_database_path.hpp"
#include "socle/adapters/sqlite/sqlite_project_store.hpp"
#include "support/temp_dir.hpp"

using namespace socle;
using namespace socle::domain;
using adapters::sqlite::SqliteProjectStoreOptions;
using adapters::sqlite::SqliteProjectStores;
using application::ProjectStore;
using application::RecordTransaction;
using application::StoredAuditEvent;
using socle::testing::TempDir;

namespace {

namespace fs = std::filesystem;
using V = std::vector<std::string>;

constexpr std::string_view kProject = "proj00000000001";

const Sha256Hex kSha256 = [](std::string_view bytes) {
  return adapters::crypto::ToHex(adapters::crypto::Sha256(bytes));
};

// A raw sqlite3 handle: another program working on the file behind the store's back.
class RawDb {
 public:
  explicit RawDb(const fs::path& path, int flags = SQLITE_OPEN_READWRITE) {
    if (sqlite3_open_v2(path.c_str(), &db_, flags, nullptr) != SQLITE_OK) {
      throw std::runtime_error("open failed: " + path.string());
    }
    sqlite3_busy_timeout(db_, 5000);
  }
  ~RawDb() { sqlite3_close(db_); }
  RawDb(const RawDb&) = delete;
  RawDb& operator=(const RawDb&) = delete;

  /// Runs `sql`; the extended result code (SQLITE_OK on success) and the error message.
  std::pair<int, std::string> Exec(const std::string& sql) {
    char* message = nullptr;
    sqlite3_exec(db_, sql.c_str(), nullptr, nullptr, &message);
    std::string text = message != nullptr ? message : "";
    sqlite3_free(message);
    return {sqlite3_extended_errcode(db_), text};
  }

  /// The first column of every row of `sql`, as text ("<null>" for NULL).
  V Column(const std::string& sql) {
    sqlite3_stmt* stmt = nullptr;
    if (sqlite3_prepare_v2(db_, sql.c_str(), -1, &stmt, nullptr) != SQLITE_OK) {
      throw std::runtime_error(std::string(sqlite3_errmsg(db_)) + " in " + sql);
    }
    V out;
    while (sqlite3_step(stmt) == SQLITE_ROW) {
      const auto* text = sqlite3_column_text(stmt, 0);
      out.emplace_back(text != nullptr ? reinterpret_cast<const char*>(text) : "<null>");
    }
    sqlite3_finalize(stmt);
    return out;
  }

  /// The query plan of `sql`, its details joined by " | ".
  std::string Plan(const std::string& sql) {
    sqlite3_stmt* stmt = nullptr;
    const std::string explain = "EXPLAIN QUERY PLAN " + sql;
    if (sqlite3_prepare_v2(db_, explain.c_str(), -1, &stmt, nullptr) != SQLITE_OK) {
      throw std::runtime_error(std::string(sqlite3_errmsg(db_)) + " in " + sql);
    }
    std::string out;
    while (sqlite3_step(stmt) == SQLITE_ROW) {
      if (!out.empty()) out += " | ";
      out += reinterpret_cast<const char*>(sqlite3_column_text(stmt, 3));
    }
    sqlite3_finalize(stmt);
    return out;
  }

 private:
  sqlite3* db_ = nullptr;
};

Project MakeProject() {
  return Project{Id::Parse(kProject).value(), Slug::Parse("proj").value(),
                 DisplayName::Parse("Project").value(), Id::Parse("org000000000001").value(),
                 Slug::Parse("acme").value(), {}, {}};
}

fs::path DatabaseOf(const TempDir& dir) {
  return adapters::sqlite::ProjectDatabasePath(dir.path() / "catalogue.db",
                                               Id::Parse(kProject).value());
}

std::shared_ptr<ProjectStore> OpenStore(SqliteProjectStores& stores) {
  auto store = stores.Open(MakeProject());
  INFO((store ? std::string() : store.error().internal));
  REQUIRE(store.has_value());
  return *store;
}

AuditEvent Draft(std::string request_id, std::int64_t at_micros) {
  AuditEvent event;
  event.at = Timestamp::FromUnixMicros(at_micros);
  event.org_id = "org000000000001";
  event.project_id = std::string(kProject);
  event.actor_kind = AuditActorKind::kMember;
  event.actor_id = "m_alice";
  event.action = "record.update";
  event.target_kind = "record";
  event.target_collection = "pbc_notes";
  event.target_id = "n1";
  event.request_id = std::move(request_id);
  event.changes = R"([ {"field": "text", "before": "a", "after": "b"} ])";
  return event;
}

const std::string kActorData = R"({"ip":"192.0.2.1","salt":"s"})";

// The parts handed to AppendAudit for a sealed event: by default its actor part alone, whose
// subject is the event's actor. A test may change them to what the store must refuse.
using Parts = std::function<std::vector<AuditPersonal>(const AuditEvent&)>;

std::vector<AuditPersonal> ActorPart(const AuditEvent& event) {
  return {AuditPersonal{event.lane, event.seq, AuditPart::kActor, event.actor_id, kActorData}};
}

// Appends one event with `parts`, in a transaction of its own; the error when the store refused.
Result<StoredAuditEvent> Append(ProjectStore& store, AuditEvent draft,
                                const Parts& parts = ActorPart) {
  draft.actor_personal = kSha256(kActorData);
  StoredAuditEvent stored;
  auto done = store.Write([&](RecordTransaction& tx) -> Result<void> {
    auto head = tx.LockAuditHead();
    if (!head) return std::unexpected(head.error());
    stored.event = SealAuditEvent(draft, *head, kSha256);
    stored.personal = parts(stored.event);
    return tx.AppendAudit(stored.event, stored.personal);
  });
  if (!done) return std::unexpected(done.error());
  return stored;
}

StoredAuditEvent MustAppend(ProjectStore& store, AuditEvent draft,
                            const Parts& parts = ActorPart) {
  auto stored = Append(store, std::move(draft), parts);
  INFO((stored ? std::string() : stored.error().message + " / " + stored.error().internal));
  REQUIRE(stored.has_value());
  return *stored;
}

std::string Verify(ProjectStore& store, std::int64_t lane) {
  AuditChainVerifier verifier(lane, kSha256, std::nullopt);
  auto chain = store.AuditChain(lane, 0, 10'000);
  if (!chain) return "AuditChain failed: " + chain.error().internal;
  for (const auto& stored : *chain) {
    if (!verifier.Next(stored.event)) break;
    for (const auto& part : stored.personal) verifier.Personal(stored.event, part);
  }
  if (auto broken = verifier.Finish()) {
    return std::string(ToString(*broken)) + ": " + verifier.detail();
  }
  return "";
}

// The bookkeeping of a project database as the build before the audit trail created it.
constexpr const char* kOldBootstrap =
    "CREATE TABLE \"_collections\" (id TEXT NOT NULL PRIMARY KEY, name TEXT NOT NULL,"
    " position INTEGER NOT NULL, definition TEXT NOT NULL) STRICT;"
    "CREATE TABLE \"_schema_history\" (seq INTEGER PRIMARY KEY, version INTEGER NOT NULL,"
    " at INTEGER NOT NULL, actor TEXT NOT NULL, \"before\" TEXT NULL, \"after\" TEXT NULL) STRICT;"
    "CREATE TABLE \"_schema_version\" (id INTEGER NOT NULL PRIMARY KEY CHECK (id = 1),"
    " version INTEGER NOT NULL) STRICT;"
    "INSERT INTO \"_schema_version\" (id, version) VALUES (1, 0);";

}  // namespace

TEST_CASE("sqlite audit: the database refuses to change or remove events",
          "[sqlite][project][audit]") {
  TempDir dir;
  SqliteProjectStores stores({.data_dir = dir.path().string()});
  auto store = OpenStore(stores);
  const StoredAuditEvent first = MustAppend(*store, Draft("r1", 1'000'000));
  const StoredAuditEvent second = MustAppend(*store, Draft("r2", 2'000'000));

  RawDb raw(DatabaseOf(dir));
  const V events_before = raw.Column("SELECT hash FROM _audit ORDER BY lane, seq");
  REQUIRE(events_before == V{first.event.hash, second.event.hash});
  auto refused = [&](const std::string& sql, std::string_view why) {
    INFO(sql);
    const auto [code, message] = raw.Exec(sql);
    CHECK(code == SQLITE_CONSTRAINT_TRIGGER);
    CHECK(message.find(why) != std::string::npos);
  };

  SECTION("UPDATE of an event") {
    refused("UPDATE _audit SET reason = 'edited' WHERE seq = 1", "append-only");
    refused("UPDATE _audit SET seq = seq + 10", "append-only");
    // Every column but the personal data, one at a time, to a value of its own type.
    for (const char* column : {"lane", "seq", "at"}) {
      refused(std::string("UPDATE _audit SET ") + column + " = " + column + " + 1 WHERE seq = 2",
              "append-only");
    }
    for (const char* column :
         {"org_id", "project_id", "actor_kind", "actor_id", "action", "target_kind",
          "target_collection", "target_id", "outcome", "request_id", "reason", "changes",
          "actor_personal", "target_personal", "prev_hash", "hash"}) {
      refused(std::string("UPDATE _audit SET ") + column + " = " + column + " || 'x' WHERE seq = 2",
              "append-only");
    }
    // An erasure cannot carry another change with it.
    refused("UPDATE _audit SET actor_data = NULL, actor_id = 'm_bob' WHERE seq = 1",
            "append-only");
    refused("UPDATE _audit SET target_data = NULL, hash = prev_hash WHERE seq = 1",
            "append-only");
    CHECK(raw.Column("SELECT actor_data FROM _audit ORDER BY seq") == V{kActorData, kActorData});
  }
  SECTION("an UPDATE that changes nothing is harmless") {
    const auto [code, message] =
        raw.Exec("UPDATE _audit SET reason = reason, actor_data = actor_data, target_data = NULL");
    INFO(message);
    CHECK(code == SQLITE_OK);
    CHECK(raw.Column("SELECT actor_data FROM _audit ORDER BY seq") == V{kActorData, kActorData});
  }
  SECTION("DELETE of an event") {
    refused("DELETE FROM _audit WHERE seq = 2", "append-only");
    refused("DELETE FROM _audit", "append-only");
  }
  SECTION("an event replacing another, or out of its chain's order") {
    refused("INSERT OR REPLACE INTO _audit SELECT lane, seq, at, org_id, project_id, actor_kind,"
            " actor_id, action, target_kind, target_collection, target_id, outcome, request_id,"
            " 'replaced', changes, actor_personal, target_personal, prev_hash, hash,"
            " actor_data, target_data FROM _audit WHERE seq = 1",
            "end of their chain");
    refused("REPLACE INTO _audit SELECT * FROM _audit WHERE seq = 2", "end of their chain");
    refused("INSERT INTO _audit SELECT * FROM _audit WHERE seq = 2"
            " ON CONFLICT (lane, seq) DO UPDATE SET reason = 'upsert'",
            "end of their chain");
    refused("INSERT INTO _audit SELECT lane, seq + 2, at, org_id, project_id, actor_kind,"
            " actor_id, action, target_kind, target_collection, target_id, outcome, request_id,"
            " reason, changes, actor_personal, target_personal, prev_hash, hash,"
            " actor_data, target_data FROM _audit WHERE seq = 2",
            "end of their chain");
    refused("INSERT INTO _audit SELECT lane + 1, seq, at, org_id, project_id, actor_kind,"
            " actor_id, action, target_kind, target_collection, target_id, outcome, request_id,"
            " reason, changes, actor_personal, target_personal, prev_hash, hash,"
            " actor_data, target_data FROM _audit WHERE seq = 2",
            "end of their chain");
  }
  SECTION("personal data changed, or set where there was none") {
    refused("UPDATE _audit SET actor_data = '{}'", "append-only");
    refused("UPDATE _audit SET actor_data = actor_data || ' ' WHERE seq = 1", "append-only");
    // The events have no target part: one cannot be added afterwards either.
    refused("UPDATE _audit SET target_data = '{}' WHERE seq = 2", "append-only");
    CHECK(raw.Column("SELECT actor_data FROM _audit ORDER BY seq") ==
          V{first.personal[0].data, second.personal[0].data});
    CHECK(raw.Column("SELECT typeof(target_data) FROM _audit ORDER BY seq") == V{"null", "null"});
  }
  SECTION("once erased, personal data cannot be put back") {
    REQUIRE(raw.Exec("UPDATE _audit SET actor_data = NULL WHERE seq = 1").first == SQLITE_OK);
    refused("UPDATE _audit SET actor_data = '" + kActorData + "' WHERE seq = 1", "append-only");
    CHECK(raw.Column("SELECT actor_data FROM _audit ORDER BY seq") == V{"<null>", kActorData});
  }
  SECTION("NULL in a data column is the erasure, and the chain stays valid") {
    const auto [code, message] = raw.Exec("UPDATE _audit SET actor_data = NULL WHERE seq = 1");
    INFO(message);
    CHECK(code == SQLITE_OK);
    CHECK(raw.Column("SELECT seq FROM _audit WHERE actor_data IS NOT NULL") == V{"2"});
    auto chain = store->AuditChain(0, 0, 10);
    REQUIRE(chain.has_value());
    REQUIRE(chain->size() == 2);
    CHECK((*chain)[0].personal.empty());
    CHECK((*chain)[1].personal == second.personal);
    CHECK(Verify(*store, 0) == "");
  }
  // Whatever was attempted, the events are as appended and still form a valid chain.
  CHECK(raw.Column("SELECT hash FROM _audit ORDER BY lane, seq") == events_before);
  CHECK(raw.Column("SELECT reason FROM _audit ORDER BY seq") == V{"", ""});
  CHECK(Verify(*store, 0) == "");
  // The store goes on appending after the refusals.
  const StoredAuditEvent third = MustAppend(*store, Draft("r3", 3'000'000));
  CHECK(third.event.seq == 3);
  CHECK(Verify(*store, 0) == "");
}

TEST_CASE("sqlite audit: the store refuses parts the event's columns cannot hold",
          "[sqlite][project][audit]") {
  TempDir dir;
  SqliteProjectStores stores({.data_dir = dir.path().string()});
  auto store = OpenStore(stores);
  const StoredAuditEvent first = MustAppend(*store, Draft("r1", 1'000'000));

  // Each refusal is the store's (internal: a bug in the caller), and leaves no event behind.
  auto refused = [&](const Parts& parts) {
    auto done = Append(*store, Draft("wrong", 2'000'000), parts);
    REQUIRE_FALSE(done.has_value());
    INFO(done.error().internal);
    CHECK(done.error().code == ErrorCode::kInternal);
    auto heads = store->AuditHeads();
    REQUIRE(heads.has_value());
    CHECK((*heads == std::vector<AuditHead>{AuditHead{0, 1, first.event.hash}}));
  };
  auto part = [](const AuditEvent& event, AuditPart kind, std::string subject) {
    return AuditPersonal{event.lane, event.seq, kind, std::move(subject), "{\"salt\":\"t\"}"};
  };

  SECTION("an actor part whose subject is not the event's actor") {
    refused([&](const AuditEvent& event) {
      return std::vector{part(event, AuditPart::kActor, "m_bob")};
    });
  }
  SECTION("a target part whose subject is not the event's target") {
    refused([&](const AuditEvent& event) {
      return std::vector{part(event, AuditPart::kTarget, event.actor_id)};
    });
  }
  SECTION("two parts of one kind") {
    refused([&](const AuditEvent& event) {
      return std::vector{part(event, AuditPart::kActor, event.actor_id),
                         part(event, AuditPart::kActor, event.actor_id)};
    });
    refused([&](const AuditEvent& event) {
      return std::vector{part(event, AuditPart::kTarget, event.target_id),
                         part(event, AuditPart::kActor, event.actor_id),
                         part(event, AuditPart::kTarget, event.target_id)};
    });
  }
  SECTION("a part of another event") {
    refused([&](const AuditEvent& event) {
      AuditPersonal other = part(event, AuditPart::kActor, event.actor_id);
      other.seq = event.seq - 1;
      return std::vector{other};
    });
    refused([&](const AuditEvent& event) {
      AuditPersonal other = part(event, AuditPart::kTarget, event.target_id);
      other.lane = event.lane + 1;
      return std::vector{part(event, AuditPart::kActor, event.actor_id), other};
    });
  }
  SECTION("both parts, given target first, are stored and read back actor first") {
    AuditEvent draft = Draft("both", 2'000'000);
    draft.target_personal = kSha256(R"({"salt":"t"})");
    const StoredAuditEvent both = MustAppend(*store, draft, [&](const AuditEvent& event) {
      return std::vector{part(event, AuditPart::kTarget, event.target_id),
                         ActorPart(event).front()};
    });
    auto chain = store->AuditChain(0, 1, 10);
    REQUIRE(chain.has_value());
    REQUIRE(chain->size() == 1);
    CHECK((*chain)[0].event == both.event);
    CHECK(((*chain)[0].personal == std::vector{ActorPart(both.event).front(),
                                               part(both.event, AuditPart::kTarget, "n1")}));
    CHECK(Verify(*store, 0) == "");
  }
  // Whatever was refused, the transaction's connection goes on appending.
  CHECK(MustAppend(*store, Draft("after", 3'000'000)).event.hash != "");
  CHECK(Verify(*store, 0) == "");
}

TEST_CASE("sqlite audit: a database from an older build gains the audit tables",
          "[sqlite][project][audit]") {
  TempDir dir;
  const fs::path file = DatabaseOf(dir);
  fs::create_directories(file.parent_path());
  {
    RawDb raw(file, SQLITE_OPEN_READWRITE | SQLITE_OPEN_CREATE);
    REQUIRE(raw.Exec(kOldBootstrap).first == SQLITE_OK);
    REQUIRE(raw.Column("SELECT name FROM sqlite_schema WHERE name LIKE '\\_audit%' ESCAPE '\\'")
                .empty());
  }
  SqliteProjectStores stores({.data_dir = dir.path().string()});
  auto store = OpenStore(stores);
  RawDb raw(file);
  CHECK(raw.Column("SELECT name FROM sqlite_schema WHERE type = 'table' ORDER BY name") ==
        V{"_audit", "_audit_anchor", "_collections", "_schema_history", "_schema_version"});
  CHECK(raw.Column("SELECT name FROM sqlite_schema WHERE type = 'trigger' ORDER BY name") ==
        V{"_audit_anchor_at_event", "_audit_anchor_no_delete", "_audit_anchor_no_update",
          "_audit_delete_archived_only", "_audit_next_in_chain", "_audit_no_update"});
  CHECK(raw.Column("SELECT name FROM sqlite_schema WHERE type = 'index' AND name NOT LIKE"
                   " 'sqlite_autoindex%' ORDER BY name") ==
        V{"_audit_actor", "_audit_at", "_audit_target"});
  // The personal parts are the event's last two columns, both nullable.
  CHECK(raw.Column("SELECT name || ' ' || type || ' ' || \"notnull\""
                   " FROM pragma_table_info('_audit')"
                   " WHERE name LIKE '%\\_data' ESCAPE '\\' ORDER BY cid") ==
        V{"actor_data TEXT 0", "target_data TEXT 0"});
  const StoredAuditEvent first = MustAppend(*store, Draft("r1", 1'000'000));
  CHECK(first.event.seq == 1);
  CHECK(raw.Exec("DELETE FROM _audit").first == SQLITE_CONSTRAINT_TRIGGER);

  SECTION("and opening it again changes nothing") {
    SqliteProjectStores again({.data_dir = dir.path().string()});
    auto reopened = OpenStore(again);
    auto heads = reopened->AuditHeads();
    REQUIRE(heads.has_value());
    CHECK((*heads == std::vector<AuditHead>{AuditHead{0, 1, first.event.hash}}));
    CHECK(raw.Column("SELECT count(*) FROM sqlite_schema"
                     " WHERE name LIKE '\\_audit%' ESCAPE '\\'") == V{"11"});
  }
}

TEST_CASE("sqlite audit: the columns hold each member as specified", "[sqlite][project][audit]") {
  TempDir dir;
  SqliteProjectStores stores({.data_dir = dir.path().string()});
  auto store = OpenStore(stores);
  AuditEvent draft = Draft("r1", 1'717'171'717'123'456);
  draft.actor_kind = AuditActorKind::kApiKey;
  draft.outcome = AuditOutcome::kDenied;
  const StoredAuditEvent stored = MustAppend(*store, draft);

  RawDb raw(DatabaseOf(dir));
  CHECK(raw.Column("SELECT typeof(at) || ' ' || at FROM _audit") == V{"integer 1717171717123456"});
  CHECK(raw.Column("SELECT actor_kind || ' ' || outcome FROM _audit") == V{"api_key denied"});
  // The changes are the text the event's hash covers, not a re-serialisation.
  CHECK(raw.Column("SELECT changes FROM _audit") == V{draft.changes});
  CHECK(raw.Column("SELECT lane || '/' || seq || ' ' || prev_hash FROM _audit") ==
        V{"0/1 " + std::string(kAuditGenesis)});
  // The actor part's data as given, under the event's actor; no target part, so NULL.
  CHECK(raw.Column("SELECT actor_id || ' ' || actor_data FROM _audit") ==
        V{"m_alice " + kActorData});
  CHECK(raw.Column("SELECT typeof(target_data) FROM _audit") == V{"null"});
  CHECK(raw.Column("SELECT hash FROM _audit") == V{stored.event.hash});
}

TEST_CASE("sqlite audit: the hot audit queries use their indexes", "[sqlite][project][audit]") {
  TempDir dir;
  SqliteProjectStores stores({.data_dir = dir.path().string()});
  auto store = OpenStore(stores);
  // Actors and targets vary as in a real trail, so that the planner's statistics favour them.
  for (int i = 0; i < 200; ++i) {
    AuditEvent draft = Draft("r" + std::to_string(i), 1'000'000 + i);
    draft.actor_id = "m_" + std::to_string(i % 20);
    draft.target_id = "n" + std::to_string(i);
    MustAppend(*store, draft);
  }
  RawDb raw(DatabaseOf(dir));
  REQUIRE(raw.Exec("ANALYZE").first == SQLITE_OK);

  // The head a writer locks: the last row of its lane, found along the primary key.
  const std::string head =
      raw.Plan("SELECT seq, hash FROM _audit WHERE lane = 0 ORDER BY seq DESC LIMIT 1");
  INFO(head);
  CHECK(head.find("SEARCH _audit USING PRIMARY KEY (lane=?)") != std::string::npos);
  CHECK(head.find("TEMP B-TREE") == std::string::npos);
  // A newest-first page walks the time index backwards, without sorting the trail.
  const std::string page = raw.Plan(
      "SELECT seq FROM _audit AS a WHERE (a.at, a.lane, a.seq) < (?, ?, ?)"
      " ORDER BY a.at DESC, a.lane DESC, a.seq DESC LIMIT 10");
  INFO(page);
  CHECK(page.find("_audit_at") != std::string::npos);
  CHECK(page.find("TEMP B-TREE") == std::string::npos);
  // A data subject's events come from the actor and target indexes, not a scan.
  const std::string subject = raw.Plan(
      "SELECT seq FROM _audit AS a WHERE (a.actor_id = ? OR a.target_id = ?)"
      " ORDER BY a.at DESC, a.lane DESC, a.seq DESC LIMIT 100");
  INFO(subject);
  CHECK(subject.find("_audit_actor") != std::string::npos);
  CHECK(subject.find("_audit_target") != std::string::npos);
  // The erasure finds a subject's parts through the same indexes.
  const std::string erase_actor = raw.Plan(
      "UPDATE _audit SET actor_data = NULL WHERE actor_id = ? AND actor_data IS NOT NULL");
  INFO(erase_actor);
  CHECK(erase_actor.find("USING INDEX _audit_actor") != std::string::npos);
  const std::string erase_target = raw.Plan(
      "UPDATE _audit SET target_data = NULL WHERE target_id = ? AND target_data IS NOT NULL");
  INFO(erase_target);
  CHECK(erase_target.find("USING INDEX _audit_target") != std::string::npos);
}

TEST_CASE("sqlite audit: two processes appending to one file keep one chain",
          "[sqlite][project][audit][concurrency]") {
  TempDir dir;
  // Two ProjectStores over one directory stand for two processes (a server and the CLI): no
  // in-process lock is shared, only SQLite's lock on the file.
  SqliteProjectStores server({.data_dir = dir.path().string()});
  SqliteProjectStores cli({.data_dir = dir.path().string()});
  auto a = OpenStore(server);
  auto b = OpenStore(cli);
  constexpr int kEach = 30;
  std::vector<std::string> failures(2);
  auto append = [&](ProjectStore& store, int who) {
    for (int i = 0; i < kEach; ++i) {
      auto done = Append(store, Draft("w" + std::to_string(who) + "-" + std::to_string(i),
                                      5'000'000 + i));
      if (!done) {
        failures[static_cast<std::size_t>(who)] =
            done.error().message + " / " + done.error().internal;
        return;
      }
    }
  };
  std::thread first([&] { append(*a, 0); });
  std::thread second([&] { append(*b, 1); });
  first.join();
  second.join();
  CHECK(failures == V{"", ""});
  auto heads = a->AuditHeads();
  REQUIRE(heads.has_value());
  REQUIRE(heads->size() == 1);
  CHECK((*heads)[0].seq == 2 * kEach);
  CHECK(Verify(*a, 0) == "");
  CHECK(Verify(*b, 0) == "");
}

namespace {

// An archive kept in memory.
class MemorySink final : public application::AuditArchiveSink {
 public:
  Result<void> Write(const StoredAuditEvent& event) override {
    written.push_back(event);
    return {};
  }
  Result<void> Commit() override { return {}; }
  std::vector<StoredAuditEvent> written;
};

}  // namespace

TEST_CASE("sqlite audit: only archived events can be deleted, and anchors cannot be touched",
          "[sqlite][project][audit][retention]") {
  TempDir dir;
  SqliteProjectStores stores({.data_dir = dir.path().string()});
  auto store = OpenStore(stores);
  const StoredAuditEvent first = MustAppend(*store, Draft("r1", 1'000'000));
  const StoredAuditEvent second = MustAppend(*store, Draft("r2", 2'000'000));
  const StoredAuditEvent third = MustAppend(*store, Draft("r3", 3'000'000));

  RawDb raw(DatabaseOf(dir));
  auto refused = [&](const std::string& sql, std::string_view why) {
    INFO(sql);
    const auto [code, message] = raw.Exec(sql);
    CHECK(code == SQLITE_CONSTRAINT_TRIGGER);
    CHECK(message.find(why) != std::string::npos);
  };
  // Before any archive, no event can go, nor can an anchor be made up.
  refused("DELETE FROM _audit WHERE seq = 1", "only archived events");
  refused("INSERT INTO _audit_anchor (lane, seq, hash, at) VALUES (0, 1, 'forged', 0)",
          "stored event");

  MemorySink sink;
  auto archived = store->ArchiveAudit(Timestamp::FromUnixMicros(2'500'000), sink);
  REQUIRE(archived.has_value());
  CHECK(archived->events == 2);
  const AuditHead anchor{0, 2, second.event.hash};
  CHECK(archived->anchors == std::vector<AuditHead>{anchor});
  CHECK(raw.Column("SELECT seq || ' ' || hash FROM _audit_anchor") ==
        V{"2 " + second.event.hash});
  CHECK(raw.Column("SELECT seq FROM _audit") == V{"3"});

  // The anchor is fixed, and events beyond it stay undeletable.
  refused("UPDATE _audit_anchor SET seq = 3", "append-only");
  refused("UPDATE _audit_anchor SET hash = 'x'", "append-only");
  refused("DELETE FROM _audit_anchor", "append-only");
  refused("DELETE FROM _audit WHERE seq = 3", "only archived events");
  // An anchor only at a stored event beyond the last one.
  refused("INSERT INTO _audit_anchor (lane, seq, hash, at) VALUES (0, 1, '" + first.event.hash +
              "', 0)",
          "stored event");
  refused("INSERT INTO _audit_anchor (lane, seq, hash, at) VALUES (0, 3, 'forged', 0)",
          "stored event");
  CHECK(raw.Column("SELECT count(*) FROM _audit_anchor") == V{"1"});
  // Appending goes on at the end of the chain only, also across the archived part.
  refused("INSERT INTO _audit (lane, seq, at, org_id, project_id, actor_kind, actor_id, action,"
          " target_kind, target_collection, target_id, outcome, request_id, reason, changes,"
          " actor_personal, target_personal, prev_hash, hash) SELECT lane, 1, at, org_id,"
          " project_id, actor_kind, actor_id, action, target_kind, target_collection, target_id,"
          " outcome, request_id, reason, changes, actor_personal, target_personal, prev_hash,"
          " hash FROM _audit WHERE seq = 3",
          "end of their chain");
  const StoredAuditEvent fourth = MustAppend(*store, Draft("r4", 4'000'000));
  CHECK(fourth.event.seq == 4);

  SECTION("a store opened afresh keeps the anchor and the triggers") {
    SqliteProjectStores again({.data_dir = dir.path().string()});
    auto reopened = OpenStore(again);
    auto anchors = reopened->AuditAnchors();
    REQUIRE(anchors.has_value());
    CHECK(*anchors == std::vector<AuditHead>{anchor});
    refused("DELETE FROM _audit WHERE seq = 4", "only archived events");
    // The triggers of builds that knew no anchors are gone.
    CHECK(raw.Column("SELECT name FROM sqlite_master WHERE type = 'trigger' AND name IN"
                     " ('_audit_no_delete', '_audit_in_order')")
              .empty());
  }
}

TEST_CASE("sqlite audit: a database from the build before retention gains its anchors",
          "[sqlite][project][audit][retention]") {
  TempDir dir;
  const fs::path file = DatabaseOf(dir);
  {
    SqliteProjectStores stores({.data_dir = dir.path().string()});
    auto store = OpenStore(stores);
    MustAppend(*store, Draft("r1", 1'000'000));
  }
  {
    // Back to how that build left the file: no anchors, the old delete and insert triggers.
    RawDb raw(file);
    for (const char* sql :
         {"DROP TRIGGER _audit_delete_archived_only", "DROP TRIGGER _audit_next_in_chain",
          "DROP TABLE _audit_anchor",
          "CREATE TRIGGER \"_audit_no_delete\" BEFORE DELETE ON \"_audit\""
          " BEGIN SELECT RAISE(ABORT, 'audit events are append-only'); END",
          "CREATE TRIGGER \"_audit_in_order\" BEFORE INSERT ON \"_audit\" WHEN NEW.seq IS NOT"
          " coalesce((SELECT max(seq) FROM \"_audit\" WHERE lane = NEW.lane), 0) + 1"
          " BEGIN SELECT RAISE(ABORT, 'audit events are appended at the end of their chain');"
          " END"}) {
      INFO(sql);
      REQUIRE(raw.Exec(sql).first == SQLITE_OK);
    }
  }
  SqliteProjectStores stores({.data_dir = dir.path().string()});
  auto store = OpenStore(stores);
  RawDb raw(file);
  CHECK(raw.Column("SELECT name FROM sqlite_schema WHERE type = 'trigger' AND name IN"
                   " ('_audit_no_delete', '_audit_in_order')")
            .empty());
  MemorySink sink;
  auto archived = store->ArchiveAudit(Timestamp::FromUnixMicros(2'000'000), sink);
  REQUIRE(archived.has_value());
  CHECK(archived->events == 1);
  CHECK(MustAppend(*store, Draft("r2", 3'000'000)).event.seq == 2);
}
