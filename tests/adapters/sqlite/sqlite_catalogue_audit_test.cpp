// The SQLite catalogue's platform audit trail beyond the CatalogueStore contract: what the
// database itself refuses behind the store's back (triggers: no UPDATE but the erasure of a
// personal part, no DELETE, no INSERT that does not extend its chain), migration 0005 applied
// to a catalogue already at version 4 with data in it, and two stores on one file (as two
// processes would be) appending to one chain without breaking it.
#include <catch2/catch.hpp>
#include <sqlite3.h>

#include <cstdint>
#include <filesystem>
#include <memory>
#include <stdexcept>
#include <string>
#include <thread>
#include <utility>
#include <vector>

#include "socle/adapters/crypto/digest.hpp"
#include "socle/adapters/migration.hpp"
#include "socle/adapters/sqlite/sqlite_catalogue_store.hpp"
#include "support/temp_dir.hpp"

using namespace socle;
using namespace socle::domain;
using adapters::sqlite::SqliteCatalogueStore;
using application::AuditAppender;
using application::AuditWrite;
using application::StoredAuditEvent;
using socle::testing::TempDir;

namespace {

namespace fs = std::filesystem;
using V = std::vector<std::string>;

const std::string kOrg = "orga00000000001";
const std::string kMember = "mem000000000001";

const Sha256Hex kSha256 = [](std::string_view bytes) {
  return adapters::crypto::ToHex(adapters::crypto::Sha256(bytes));
};

std::string Outcome(const Result<void>& result) {
  if (result) return "ok";
  return std::string(ToString(result.error().code)) + ": " + result.error().message + " / " +
         result.error().internal;
}

// A raw sqlite3 handle: another program working on the file behind the store's back.
class RawDb {
 public:
  explicit RawDb(const fs::path& path) {
    if (sqlite3_open_v2(path.c_str(), &db_, SQLITE_OPEN_READWRITE | SQLITE_OPEN_CREATE,
                        nullptr) != SQLITE_OK) {
      throw std::runtime_error("open failed: " + path.string());
    }
    sqlite3_busy_timeout(db_, 5000);
    sqlite3_extended_result_codes(db_, 1);
  }
  ~RawDb() { sqlite3_close(db_); }
  RawDb(const RawDb&) = delete;
  RawDb& operator=(const RawDb&) = delete;

  /// Runs `sql`; the extended result code (SQLITE_OK on success) and the error message.
  std::pair<int, std::string> Exec(const std::string& sql) {
    char* message = nullptr;
    const int rc = sqlite3_exec(db_, sql.c_str(), nullptr, nullptr, &message);
    std::string text = message != nullptr ? message : "";
    sqlite3_free(message);
    return {rc == SQLITE_OK ? SQLITE_OK : sqlite3_extended_errcode(db_), text};
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

 private:
  sqlite3* db_ = nullptr;
};

std::unique_ptr<SqliteCatalogueStore> OpenStore(const fs::path& path) {
  auto store = SqliteCatalogueStore::Open({.path = path.string()});
  if (!store) throw std::runtime_error("opening the store failed: " + store.error().internal);
  return std::move(*store);
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
// and a target part (the organisation's data), to be sealed on the head the appender locks.
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
    const std::string actor_data = CanonicalPersonal("salt-a", {{"ip", JsonValue::String("192.0.2.7")}});
    const std::string target_data = CanonicalPersonal("salt-t", {{"email", JsonValue::String("a@x.io")}});
    draft.actor_personal = kSha256(actor_data);
    draft.target_personal = kSha256(target_data);
    const AuditEvent event = SealAuditEvent(draft, *head, kSha256);
    return appender.AppendAudit(
        event, {AuditPersonal{0, event.seq, AuditPart::kActor, kMember, actor_data},
                AuditPersonal{0, event.seq, AuditPart::kTarget, kOrg, target_data}});
  };
}

// A catalogue with kOrg and two events on its chain.
struct Fixture {
  Fixture() : path(dir.path() / "catalogue.db"), store(OpenStore(path)) {
    auto migrated = store->Migrate();
    if (!migrated) throw std::runtime_error("migrating failed: " + migrated.error().internal);
    Require(store->UpsertRegion(Region{Slug::Parse("local").value(), ""}));
    Require(store->Audited(kOrg, AppendOne(kOrg, "organisation.create", 1),
                           [&] { return store->InsertOrganisation(Org()); }));
    Require(store->RecordAudit(kOrg, AppendOne(kOrg, "organisation.read", 2)));
  }
  static void Require(const Result<void>& done) {
    if (!done) throw std::runtime_error("fixture step failed: " + Outcome(done));
  }

  TempDir dir;
  fs::path path;
  std::unique_ptr<SqliteCatalogueStore> store;
};

// The columns of the chain's rows, as text, for comparing before and after an attempt.
V Rows(RawDb& raw) {
  return raw.Column(
      "SELECT org_id || '|' || seq || '|' || at || '|' || action || '|' || hash || '|' ||"
      " prev_hash || '|' || coalesce(actor_data, '-') || '|' || coalesce(target_data, '-')"
      " FROM platform_audit ORDER BY org_id, seq");
}

}  // namespace

TEST_CASE("sqlite catalogue audit: the database refuses to edit or remove an event",
          "[sqlite][audit]") {
  Fixture fx;
  RawDb raw(fx.path);
  const V before = Rows(raw);
  REQUIRE(before.size() == 2);

  // Every column of an event, one at a time, and the personal parts set to another value.
  for (const std::string assignment :
       {"org_id = 'orgb00000000001'", "seq = 9", "at = at + 1", "project_id = 'x'",
        "actor_kind = 'system'", "actor_id = 'someone'", "action = 'forged'",
        "target_kind = 'x'", "target_collection = 'x'", "target_id = 'x'",
        "outcome = 'denied'", "request_id = 'x'", "reason = 'x'", "changes = '[1]'",
        "actor_personal = ''", "target_personal = ''", "prev_hash = hash", "hash = prev_hash",
        "actor_data = 'rewritten'", "target_data = '{}'",
        "actor_data = NULL, action = 'forged'"}) {
    INFO(assignment);
    auto [code, message] = raw.Exec("UPDATE platform_audit SET " + assignment + " WHERE seq = 1");
    CHECK(code == SQLITE_CONSTRAINT_TRIGGER);
    CHECK(message.find("append-only") != std::string::npos);
  }
  auto [deleted, delete_message] = raw.Exec("DELETE FROM platform_audit WHERE seq = 2");
  CHECK(deleted == SQLITE_CONSTRAINT_TRIGGER);
  CHECK(raw.Exec("DELETE FROM platform_audit").first == SQLITE_CONSTRAINT_TRIGGER);
  CHECK(Rows(raw) == before);

  // Assigning a column its own value changes nothing, and is let through.
  CHECK(raw.Exec("UPDATE platform_audit SET action = action, hash = hash").first == SQLITE_OK);
  CHECK(Rows(raw) == before);
}

TEST_CASE("sqlite catalogue audit: the database lets personal parts be erased, nothing more",
          "[sqlite][audit]") {
  Fixture fx;
  RawDb raw(fx.path);
  REQUIRE(raw.Exec("UPDATE platform_audit SET actor_data = NULL WHERE seq = 1").first ==
          SQLITE_OK);
  REQUIRE(raw.Exec("UPDATE platform_audit SET target_data = NULL WHERE seq = 2").first ==
          SQLITE_OK);
  CHECK(raw.Column("SELECT coalesce(actor_data, '-') || coalesce(target_data, '-') FROM"
                   " platform_audit ORDER BY seq")
            .at(0)
            .starts_with("-{"));
  // Once erased, a part cannot be put back.
  CHECK(raw.Exec("UPDATE platform_audit SET actor_data = 'back' WHERE seq = 1").first ==
        SQLITE_CONSTRAINT_TRIGGER);

  // The chain still verifies: the parts are outside the hashed bytes.
  auto chain = fx.store->PlatformAuditChain(kOrg, 0, 10);
  REQUIRE(chain.has_value());
  REQUIRE(chain->size() == 2);
  AuditChainVerifier verifier(0, kSha256, std::nullopt);
  for (const StoredAuditEvent& stored : *chain) {
    CHECK(verifier.Next(stored.event));
    for (const AuditPersonal& part : stored.personal) CHECK(verifier.Personal(stored.event, part));
  }
  CHECK_FALSE(verifier.Finish().has_value());
  CHECK((*chain)[0].personal.size() == 1);  // the target part is left
  CHECK((*chain)[1].personal.size() == 1);  // the actor part is left

  // The store's own erasure counts the parts still there.
  auto erased = fx.store->ErasePlatformPersonal(kMember);
  REQUIRE(erased.has_value());
  CHECK(*erased == 1);
}

TEST_CASE("sqlite catalogue audit: the database refuses an insert that does not extend its chain",
          "[sqlite][audit]") {
  Fixture fx;
  RawDb raw(fx.path);
  const V before = Rows(raw);
  const std::string head = raw.Column("SELECT hash FROM platform_audit WHERE seq = 2").at(0);
  const std::string first = raw.Column("SELECT hash FROM platform_audit WHERE seq = 1").at(0);
  const std::string genesis(kAuditGenesis);
  auto insert = [&](const std::string& org, std::int64_t seq, const std::string& prev,
                    std::string_view verb = "INSERT") {
    return raw.Exec(std::string(verb) +
                    " INTO platform_audit (org_id, seq, at, project_id, actor_kind, actor_id,"
                    " action, target_kind, target_collection, target_id, outcome, request_id,"
                    " reason, changes, actor_personal, target_personal, prev_hash, hash)"
                    " VALUES ('" + org + "', " + std::to_string(seq) +
                    ", 5, '', 'system', 'cli', 'forged', '', '', '', 'success', '', '', '[]',"
                    " '', '', '" + prev + "', 'feed')");
  };
  CHECK(insert(kOrg, 4, head).first == SQLITE_CONSTRAINT_TRIGGER);   // a gap
  CHECK(insert(kOrg, 2, first).first == SQLITE_CONSTRAINT_TRIGGER);  // a fork at seq 2
  CHECK(insert(kOrg, 3, first).first == SQLITE_CONSTRAINT_TRIGGER);  // linked to the wrong one
  CHECK(insert(kOrg, 2, first, "INSERT OR REPLACE").first == SQLITE_CONSTRAINT_TRIGGER);
  CHECK(insert("orgb00000000001", 2, genesis).first == SQLITE_CONSTRAINT_TRIGGER);
  CHECK(insert("orgb00000000001", 1, head).first == SQLITE_CONSTRAINT_TRIGGER);
  CHECK(Rows(raw) == before);

  // The next event of a chain, and the first of another, go in (the table has no foreign key
  // to the organisations: a chain may outlive, or name, an organisation that is gone).
  CHECK(insert(kOrg, 3, head).first == SQLITE_OK);
  CHECK(insert("orgb00000000001", 1, genesis).first == SQLITE_OK);
  CHECK(Rows(raw).size() == before.size() + 2);
}

TEST_CASE("sqlite catalogue audit: migration 0005 applies to a catalogue at version 4 with data",
          "[sqlite][audit][migration]") {
  TempDir dir;
  const fs::path path = dir.path() / "catalogue.db";
  {
    // Version 4 as an older build left it: migrations 1 to 4 and their records, then data.
    RawDb raw(path);
    REQUIRE(raw.Exec("CREATE TABLE schema_migrations (version INTEGER NOT NULL PRIMARY KEY,"
                     " name TEXT NOT NULL, applied_at INTEGER NOT NULL) STRICT")
                .first == SQLITE_OK);
    int applied = 0;
    for (const adapters::Migration& migration : migrations::sqlite()) {
      if (migration.version > 4) break;
      INFO(migration.name);
      // Line breaks around the script: it may end with a comment.
      REQUIRE(raw.Exec("BEGIN;\n" + std::string(migration.sql) +
                       "\n;INSERT INTO schema_migrations VALUES (" +
                       std::to_string(migration.version) + ", '" + std::string(migration.name) +
                       "', 1); COMMIT")
                  .first == SQLITE_OK);
      ++applied;
    }
    REQUIRE(applied == 4);
    REQUIRE(raw.Exec("PRAGMA foreign_keys = ON;"
                     "INSERT OR IGNORE INTO regions (name, store_url) VALUES ('local', '');"
                     "INSERT INTO organisations (id, slug, name, region, tier, created, updated)"
                     " VALUES ('" + kOrg + "', 'acme', 'Acme', 'local', 'shared', 1, 1);"
                     "INSERT INTO memberships (org_id, member_id, email, created)"
                     " VALUES ('" + kOrg + "', '" + kMember + "', 'a@x.io', 1)")
                .first == SQLITE_OK);
  }

  auto store = OpenStore(path);
  auto report = store->Migrate();
  REQUIRE(report.has_value());
  CHECK(report->from_version == 4);
  CHECK(report->to_version >= 5);
  REQUIRE_FALSE(report->applied.empty());
  CHECK(report->applied.front() == "0005_audit");

  // The data is still there, and its changes are audited from now on.
  auto org = store->GetOrganisationById(Id::Parse(kOrg).value());
  REQUIRE(org.has_value());
  CHECK(org->slug.str() == "acme");
  CHECK(store->GetMembership(Id::Parse(kOrg).value(), kMember).has_value());
  Organisation renamed = *org;
  renamed.name = DisplayName::Parse("Acme Ltd").value();
  REQUIRE(Outcome(store->Audited(kOrg, AppendOne(kOrg, "organisation.update", 3),
                                 [&] { return store->UpdateOrganisation(renamed); })) == "ok");
  auto heads = store->PlatformAuditHeads();
  REQUIRE(heads.has_value());
  REQUIRE(heads->size() == 1);
  CHECK(heads->front().org_id == kOrg);
  CHECK(heads->front().seq == 1);
  CHECK(store->GetOrganisationById(Id::Parse(kOrg).value())->name.str() == "Acme Ltd");

  // Migrating again changes nothing.
  auto again = store->Migrate();
  REQUIRE(again.has_value());
  CHECK(again->applied.empty());
}

TEST_CASE("sqlite catalogue audit: two stores on one file append to one unbroken chain",
          "[sqlite][audit][concurrency]") {
  Fixture fx;
  auto other = OpenStore(fx.path);  // another process would open the file the same way
  constexpr int kEach = 15;
  std::vector<std::string> failures[2];
  auto append = [&](SqliteCatalogueStore& store, int which) {
    for (int i = 0; i < kEach; ++i) {
      Organisation org = Org();
      org.updated = Timestamp::FromUnixMicros(1'700'000'000'000'000 + which * 100 + i);
      auto done = store.Audited(kOrg, AppendOne(kOrg, "organisation.update", 10 + i),
                                [&] { return store.UpdateOrganisation(org); });
      if (!done) failures[which].push_back(Outcome(done));
    }
  };
  std::thread first([&] { append(*fx.store, 0); });
  std::thread second([&] { append(*other, 1); });
  first.join();
  second.join();
  CHECK(failures[0].empty());
  CHECK(failures[1].empty());

  auto chain = fx.store->PlatformAuditChain(kOrg, 0, 1000);
  REQUIRE(chain.has_value());
  CHECK(chain->size() == 2 + 2 * kEach);
  AuditChainVerifier verifier(0, kSha256, std::nullopt);
  for (const StoredAuditEvent& stored : *chain) verifier.Next(stored.event);
  CHECK_FALSE(verifier.Finish().has_value());
}
