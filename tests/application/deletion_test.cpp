// Deleting an organisation or a project: scheduled (hidden from the platform API's use cases,
// the data API's directory, API keys and members) for the grace period, restorable until then,
// purged after it with everything it holds. Over the memory stores and over SQLite (whose
// project database files the purge must remove), with a clock the tests move.
#include <catch2/catch.hpp>

#include <filesystem>
#include <memory>
#include <optional>
#include <string>
#include <vector>

#include "application/deletion_world.hpp"
#include "socle/adapters/memory/memory_catalogue_store.hpp"
#include "socle/adapters/memory/memory_project_store.hpp"
#include "socle/adapters/sqlite/project_database_path.hpp"
#include "socle/adapters/sqlite/sqlite_catalogue_store.hpp"
#include "socle/adapters/sqlite/sqlite_project_store.hpp"
#include "support/temp_dir.hpp"

using namespace socle;
using application::ForceDelete;
using application::Principal;
using domain::ErrorCode;
using socle::testing::DeletionWorld;
using socle::testing::kDayMicros;
using socle::testing::Must;

namespace {

constexpr std::chrono::seconds kThirtyDays = std::chrono::days(30);

template <typename T>
ErrorCode CodeOf(const domain::Result<T>& result) {
  REQUIRE_FALSE(result.has_value());
  return result.error().code;
}

enum class Backend { kMemory, kSqlite };

// The stores of one backend: the catalogue (which keeps the access data too) and the projects'.
class Stores {
 public:
  explicit Stores(Backend backend) {
    if (backend == Backend::kMemory) {
      memory_ = std::make_unique<adapters::memory::MemoryCatalogueStore>();
      project_stores_ = std::make_unique<adapters::memory::MemoryProjectStores>();
      catalogue_ = memory_.get();
      access_ = memory_.get();
      return;
    }
    auto opened = adapters::sqlite::SqliteCatalogueStore::Open({.path = catalogue_path()});
    REQUIRE(opened);
    sqlite_ = std::move(*opened);
    REQUIRE(sqlite_->Migrate());
    catalogue_ = sqlite_.get();
    access_ = sqlite_.get();
    adapters::sqlite::SqliteProjectStoreOptions options;
    options.data_dir = dir_.path().string();
    project_stores_ = std::make_unique<adapters::sqlite::SqliteProjectStores>(options);
  }

  application::CatalogueStore& catalogue() { return *catalogue_; }
  application::AccessStore& access() { return *access_; }
  application::ProjectStores& projects() { return *project_stores_; }
  std::string catalogue_path() const { return (dir_.path() / "catalogue.db").string(); }

 private:
  socle::testing::TempDir dir_;  // first: removed after the stores closed their files
  std::unique_ptr<adapters::memory::MemoryCatalogueStore> memory_;
  std::unique_ptr<adapters::sqlite::SqliteCatalogueStore> sqlite_;
  std::unique_ptr<application::ProjectStores> project_stores_;
  application::CatalogueStore* catalogue_ = nullptr;
  application::AccessStore* access_ = nullptr;
};

const char* Name(Backend backend) { return backend == Backend::kMemory ? "memory" : "sqlite"; }

const Principal kAnn = DeletionWorld::Member("mem000000000001", "ann@acme.test");
const Principal kVic = DeletionWorld::Member("mem000000000002", "vic@acme.test");
const Principal kAdam = DeletionWorld::Member("mem000000000003", "adam@acme.test");
const Principal kBob = DeletionWorld::Member("mem000000000009", "bob@bigco.test");

}  // namespace

TEST_CASE("a deleted project is hidden everywhere until restored, its data intact",
          "[application][deletion]") {
  const Backend backend = GENERATE(Backend::kMemory, Backend::kSqlite);
  INFO(Name(backend));
  Stores stores(backend);
  DeletionWorld w(stores.catalogue(), stores.access(), stores.projects(), kThirtyDays);
  auto org = Must(w.platform_catalogue.CreateOrganisation(kAnn, {"acme", {}, {}, {}}), "org");
  Must(w.platform_catalogue.CreateProject(kAnn, {"shop", "acme", {}}), "project");
  w.AddPosts("shop", 3);
  const std::string key =
      Must(w.api_keys.Create("shop", "deploy", {"posts:read"}, std::nullopt), "key").secret;
  REQUIRE(w.api_keys.Identify("shop", key));
  REQUIRE(w.Posts("shop") == 3);

  const auto asked = w.clock.Now();
  auto deleted = w.platform_catalogue.DeleteProject(kAnn, "shop");
  REQUIRE(deleted);
  CHECK(deleted->deleted == asked);
  REQUIRE(deleted->purge_after.has_value());
  CHECK(deleted->purge_after->unix_micros() - asked.unix_micros() == 30 * kDayMicros);

  // Not found for everyone, at once (the clock stands still, so the directory's cached entry
  // could not have expired): the platform use cases, the data API through the directory, the
  // project's API key.
  CHECK(CodeOf(w.platform_catalogue.GetProject(kAnn, "shop")) == ErrorCode::kNotFound);
  CHECK(CodeOf(w.platform_catalogue.GetProject(DeletionWorld::Superuser(), "shop")) ==
        ErrorCode::kNotFound);
  CHECK(CodeOf(w.platform_catalogue.RenameProject(kAnn, "shop", "x")) == ErrorCode::kNotFound);
  CHECK(CodeOf(w.platform_catalogue.DeleteProject(kAnn, "shop")) == ErrorCode::kNotFound);
  CHECK(Must(w.platform_catalogue.ListProjects(kAnn, "acme", {1, 30}), "list").total_items == 0);
  CHECK(CodeOf(w.directory.Find("shop")) == ErrorCode::kNotFound);
  CHECK(w.Posts("shop") == -1);
  CHECK_FALSE(w.api_keys.Identify("shop", key));
  CHECK(CodeOf(w.projects.Create({"shop", "acme", {}})) == ErrorCode::kAlreadyExists);

  // Within the grace period the purge leaves it alone.
  w.clock.Advance(29 * kDayMicros);
  auto early = w.deletion.Purge(w.clock.Now());
  REQUIRE(early);
  CHECK(early->projects == 0);
  CHECK(early->failures.empty());

  auto restored = w.platform_catalogue.RestoreProject(kAnn, "shop");
  REQUIRE(restored);
  CHECK(restored->slug.str() == "shop");
  CHECK(restored->org_id == org.id);
  CHECK_FALSE(restored->deleted.has_value());
  CHECK(w.platform_catalogue.GetProject(kAnn, "shop"));
  CHECK(w.Posts("shop") == 3);
  CHECK(w.api_keys.Identify("shop", key));
  CHECK(CodeOf(w.platform_catalogue.RestoreProject(kAnn, "shop")) ==
        ErrorCode::kFailedPrecondition);  // live
}

TEST_CASE("a deleted organisation hides its projects, members and keys until restored",
          "[application][deletion]") {
  const Backend backend = GENERATE(Backend::kMemory, Backend::kSqlite);
  INFO(Name(backend));
  Stores stores(backend);
  DeletionWorld w(stores.catalogue(), stores.access(), stores.projects(), kThirtyDays);
  auto org = Must(w.platform_catalogue.CreateOrganisation(kAnn, {"acme", {}, {}, {}}), "org");
  Must(w.platform_catalogue.CreateProject(kAnn, {"shop", "acme", {}}), "shop");
  Must(w.platform_catalogue.CreateProject(kAnn, {"blog", "acme", {}}), "blog");
  w.AddPosts("shop", 2);
  w.Join(org, kVic, "viewer");
  auto org_key = Must(w.api_keys.CreateForOrganisation(org.id, "ci", std::nullopt), "org key");
  Principal key;
  key.kind = Principal::Kind::kApiKey;
  key.id = org_key.info.id;
  key.org_id = org.id.str();

  // A project deleted on its own first stays deleted when the organisation comes back.
  REQUIRE(w.platform_catalogue.DeleteProject(kAnn, "blog"));
  w.clock.Advance(1'000'000);
  CHECK(CodeOf(w.platform_catalogue.DeleteOrganisation(kAnn, "acme", ForceDelete::kNo)) ==
        ErrorCode::kFailedPrecondition);  // shop is live
  CHECK(CodeOf(w.platform_catalogue.DeleteOrganisation(kVic, "acme", ForceDelete::kYes)) ==
        ErrorCode::kPermissionDenied);
  auto deleted = w.platform_catalogue.DeleteOrganisation(kAnn, "acme", ForceDelete::kYes);
  REQUIRE(deleted);
  CHECK(deleted->projects == 1);
  REQUIRE(deleted->purge_after.has_value());

  for (const Principal& who : {kAnn, kVic, key, DeletionWorld::Superuser()}) {
    INFO(who.id);
    CHECK(CodeOf(w.platform_catalogue.GetOrganisation(who, "acme")) == ErrorCode::kNotFound);
    CHECK(CodeOf(w.platform_catalogue.ListProjects(who, "acme", {1, 30})) ==
          ErrorCode::kNotFound);
    CHECK(CodeOf(w.platform_catalogue.GetProject(who, "shop")) == ErrorCode::kNotFound);
    CHECK(CodeOf(w.platform_catalogue.CreateProject(who, {"more", "acme", {}})) ==
          ErrorCode::kNotFound);
    auto mine = w.platform_catalogue.ListOrganisations(who, {1, 30});
    REQUIRE(mine);
    CHECK(mine->total_items == 0);
  }
  CHECK(CodeOf(w.directory.Find("shop")) == ErrorCode::kNotFound);
  CHECK(w.Posts("shop") == -1);
  CHECK(CodeOf(w.orgs.Create({"acme", {}, {}, {}})) == ErrorCode::kAlreadyExists);

  // The trash: what each caller could restore. The organisation's projects come back with it
  // and are not listed on their own.
  auto trash = w.platform_catalogue.ListDeleted(kAnn);
  REQUIRE(trash);
  REQUIRE(trash->size() == 1);
  CHECK((*trash)[0].kind == application::DeletedItem::Kind::kOrganisation);
  CHECK((*trash)[0].slug.str() == "acme");
  CHECK((*trash)[0].deleted == deleted->deleted);
  CHECK((*trash)[0].purge_after == *deleted->purge_after);
  CHECK(Must(w.platform_catalogue.ListDeleted(kVic), "trash").empty());  // may not delete it
  CHECK(Must(w.platform_catalogue.ListDeleted(kBob), "trash").empty());  // a stranger
  CHECK(Must(w.platform_catalogue.ListDeleted(DeletionWorld::Superuser()), "trash").size() == 1);
  CHECK(CodeOf(w.platform_catalogue.ListDeleted(Principal::Anonymous())) ==
        ErrorCode::kUnauthenticated);

  // Restoring needs the permission to delete; strangers learn nothing.
  CHECK(CodeOf(w.platform_catalogue.RestoreOrganisation(kBob, "acme")) == ErrorCode::kNotFound);
  CHECK(CodeOf(w.platform_catalogue.RestoreOrganisation(kVic, "acme")) ==
        ErrorCode::kPermissionDenied);
  CHECK(CodeOf(w.platform_catalogue.RestoreOrganisation(kAnn, "nope")) == ErrorCode::kNotFound);
  CHECK(CodeOf(w.platform_catalogue.RestoreProject(kAnn, "shop")) ==
        ErrorCode::kFailedPrecondition);  // its organisation is scheduled

  auto back = w.platform_catalogue.RestoreOrganisation(kAnn, "acme");
  REQUIRE(back);
  CHECK(back->id == org.id);
  CHECK_FALSE(back->deleted.has_value());
  CHECK(w.platform_catalogue.GetOrganisation(kVic, "acme"));
  CHECK(w.platform_catalogue.GetProject(kAnn, "shop"));
  CHECK(w.Posts("shop") == 2);
  auto listed = Must(w.platform_catalogue.ListOrganisations(key, {1, 30}), "key's orgs");
  CHECK(listed.total_items == 1);
  // blog was deleted on its own: still in the trash.
  CHECK(CodeOf(w.platform_catalogue.GetProject(kAnn, "blog")) == ErrorCode::kNotFound);
  auto left = Must(w.platform_catalogue.ListDeleted(kAnn), "trash");
  REQUIRE(left.size() == 1);
  CHECK(left[0].kind == application::DeletedItem::Kind::kProject);
  CHECK(left[0].slug.str() == "blog");
  CHECK(CodeOf(w.platform_catalogue.RestoreOrganisation(kAnn, "acme")) ==
        ErrorCode::kFailedPrecondition);  // live
}

TEST_CASE("the purge removes what is past its grace period, with its access rows and keys",
          "[application][deletion]") {
  const Backend backend = GENERATE(Backend::kMemory, Backend::kSqlite);
  INFO(Name(backend));
  Stores stores(backend);
  DeletionWorld w(stores.catalogue(), stores.access(), stores.projects(), kThirtyDays);
  auto acme = Must(w.platform_catalogue.CreateOrganisation(kAnn, {"acme", {}, {}, {}}), "acme");
  auto bigco = Must(w.platform_catalogue.CreateOrganisation(kBob, {"bigco", {}, {}, {}}), "bigco");
  auto shop = Must(w.platform_catalogue.CreateProject(kAnn, {"shop", "acme", {}}), "shop");
  auto solo = Must(w.platform_catalogue.CreateProject(kBob, {"solo", "bigco", {}}), "solo");
  Must(w.platform_catalogue.CreateProject(kBob, {"kept", "bigco", {}}), "kept");
  w.AddPosts("kept", 1);
  w.Join(acme, kVic, "viewer");
  Must(w.api_keys.Create("shop", "shop key", {"posts:read"}, std::nullopt), "shop key");
  Must(w.api_keys.Create("solo", "solo key", {"posts:read"}, std::nullopt), "solo key");
  const std::string kept_key =
      Must(w.api_keys.Create("kept", "kept key", {"posts:read"}, std::nullopt), "kept").secret;
  Must(w.api_keys.CreateForOrganisation(acme.id, "acme ci", std::nullopt), "acme key");

  REQUIRE(w.platform_catalogue.DeleteOrganisation(kAnn, "acme", ForceDelete::kYes));
  w.clock.Advance(10 * kDayMicros);
  REQUIRE(w.platform_catalogue.DeleteProject(kBob, "solo"));

  // Day 29 of acme's grace: nothing is due.
  w.clock.Advance(19 * kDayMicros);
  auto nothing = w.deletion.Purge(w.clock.Now());
  REQUIRE(nothing);
  CHECK(nothing->organisations == 0);
  CHECK(nothing->projects == 0);
  CHECK(Must(w.catalogue.ListScheduledDeletions(), "scheduled").organisations.size() == 1);
  CHECK(Must(w.api_keys.ListForOrganisation(acme.id), "acme keys").size() == 1);

  // Past its grace period a restore is refused: the purge is due.
  w.clock.Advance(1 * kDayMicros);
  CHECK(CodeOf(w.platform_catalogue.RestoreOrganisation(kAnn, "acme")) ==
        ErrorCode::kFailedPrecondition);
  auto purged = w.deletion.Purge(w.clock.Now());
  REQUIRE(purged);
  CHECK(purged->failures.empty());
  CHECK(purged->organisations == 1);
  CHECK(purged->projects == 1);  // shop; solo has ten days to go

  auto scheduled = Must(w.catalogue.ListScheduledDeletions(), "scheduled");
  CHECK(scheduled.organisations.empty());
  REQUIRE(scheduled.projects.size() == 1);
  CHECK(scheduled.projects[0].slug.str() == "solo");
  // Gone for good: rows, access rows, keys; the slugs are free again.
  CHECK(CodeOf(w.catalogue.GetScheduledOrganisation(acme.slug)) == ErrorCode::kNotFound);
  CHECK(CodeOf(w.platform_catalogue.RestoreOrganisation(kAnn, "acme")) == ErrorCode::kNotFound);
  CHECK(Must(w.access_store.MemberOrganisations(kVic.id), "vic's").empty());
  CHECK(Must(w.access_store.MemberOrganisations(kAnn.id), "ann's").empty());
  CHECK(Must(w.api_keys.ListForOrganisation(acme.id), "acme keys").empty());
  CHECK(Must(w.api_keys.DeleteForProject(shop.id), "shop keys") == 0);
  REQUIRE(w.orgs.Create({"acme", {}, {}, {}}));
  REQUIRE(w.projects.Create({"shop", "acme", {}}));
  // A new project starts empty: the old data did not come back.
  CHECK(Must(w.collections.List("shop"), "collections").empty());
  // The other tenant is untouched.
  CHECK(w.Posts("kept") == 1);
  CHECK(w.api_keys.Identify("kept", kept_key));
  CHECK(Must(w.access_store.MemberOrganisations(kBob.id), "bob's").size() == 1);

  // Ten days later solo's turn comes.
  w.clock.Advance(10 * kDayMicros);
  auto second = w.deletion.Purge(w.clock.Now());
  REQUIRE(second);
  CHECK(second->organisations == 0);
  CHECK(second->projects == 1);
  CHECK(Must(w.api_keys.DeleteForProject(solo.id), "solo keys") == 0);
  CHECK(Must(w.catalogue.ListScheduledDeletions(), "scheduled").projects.empty());
  CHECK(w.catalogue.GetOrganisation(bigco.slug));
}

TEST_CASE("without a grace period deleting purges at once", "[application][deletion]") {
  const Backend backend = GENERATE(Backend::kMemory, Backend::kSqlite);
  INFO(Name(backend));
  Stores stores(backend);
  DeletionWorld w(stores.catalogue(), stores.access(), stores.projects(), std::chrono::seconds(0));
  auto acme = Must(w.platform_catalogue.CreateOrganisation(kAnn, {"acme", {}, {}, {}}), "acme");
  auto shop = Must(w.platform_catalogue.CreateProject(kAnn, {"shop", "acme", {}}), "shop");
  Must(w.platform_catalogue.CreateProject(kAnn, {"blog", "acme", {}}), "blog");
  w.AddPosts("shop", 1);
  Must(w.api_keys.Create("shop", "k", {"posts:read"}, std::nullopt), "key");
  Must(w.api_keys.CreateForOrganisation(acme.id, "ci", std::nullopt), "org key");

  auto project = w.platform_catalogue.DeleteProject(kAnn, "blog");
  REQUIRE(project);
  CHECK_FALSE(project->purge_after.has_value());
  CHECK(CodeOf(w.catalogue.GetScheduledProject(domain::Slug::Parse("blog").value())) ==
        ErrorCode::kNotFound);
  CHECK(w.projects.Create({"blog", "acme", {}}));  // the slug is free at once

  auto org = w.platform_catalogue.DeleteOrganisation(kAnn, "acme", ForceDelete::kYes);
  REQUIRE(org);
  CHECK(org->projects == 2);
  CHECK_FALSE(org->purge_after.has_value());
  auto scheduled = Must(w.catalogue.ListScheduledDeletions(), "scheduled");
  CHECK(scheduled.organisations.empty());
  CHECK(scheduled.projects.empty());
  CHECK(Must(w.platform_catalogue.ListDeleted(kAnn), "trash").empty());
  CHECK(Must(w.api_keys.ListForOrganisation(acme.id), "keys").empty());
  CHECK(Must(w.api_keys.DeleteForProject(shop.id), "keys") == 0);
  CHECK(Must(w.access_store.MemberOrganisations(kAnn.id), "ann's").empty());
  CHECK(w.orgs.Create({"acme", {}, {}, {}}));
}

TEST_CASE("restoring asks for the permission to delete and says why it cannot",
          "[application][deletion]") {
  adapters::memory::MemoryCatalogueStore store;
  adapters::memory::MemoryProjectStores project_stores;
  DeletionWorld w(store, store, project_stores, kThirtyDays);
  auto acme = Must(w.platform_catalogue.CreateOrganisation(kAnn, {"acme", {}, {}, {}}), "acme");
  Must(w.platform_catalogue.CreateProject(kAnn, {"shop", "acme", {}}), "shop");
  Must(w.platform_catalogue.CreateOrganisation(kBob, {"bigco", {}, {}, {}}), "bigco");
  w.Join(acme, kVic, "viewer");
  w.Join(acme, kAdam, "admin");  // project.delete, not organisation.delete

  // Live: a member who could delete it is told it is not in the trash, anybody else that it
  // does not exist.
  CHECK(CodeOf(w.platform_catalogue.RestoreProject(kAdam, "shop")) ==
        ErrorCode::kFailedPrecondition);
  CHECK(CodeOf(w.platform_catalogue.RestoreProject(kVic, "shop")) ==
        ErrorCode::kPermissionDenied);
  CHECK(CodeOf(w.platform_catalogue.RestoreProject(kBob, "shop")) == ErrorCode::kNotFound);
  CHECK(CodeOf(w.platform_catalogue.RestoreOrganisation(kBob, "acme")) == ErrorCode::kNotFound);
  CHECK(CodeOf(w.platform_catalogue.RestoreOrganisation(kAnn, "bigco")) == ErrorCode::kNotFound);
  CHECK(CodeOf(w.platform_catalogue.RestoreProject(kAnn, "Not A Slug")) == ErrorCode::kNotFound);

  REQUIRE(w.platform_catalogue.DeleteProject(kAdam, "shop"));
  CHECK(CodeOf(w.platform_catalogue.RestoreProject(kBob, "shop")) == ErrorCode::kNotFound);
  CHECK(CodeOf(w.platform_catalogue.RestoreProject(kVic, "shop")) ==
        ErrorCode::kPermissionDenied);
  CHECK(Must(w.platform_catalogue.ListDeleted(kVic), "vic's trash").empty());
  CHECK(Must(w.platform_catalogue.ListDeleted(kAdam), "adam's trash").size() == 1);
  CHECK(Must(w.platform_catalogue.ListDeleted(kBob), "bob's trash").empty());
  CHECK(w.platform_catalogue.RestoreProject(kAdam, "shop"));

  // The operators' use cases check no permission, but keep to the same states.
  REQUIRE(w.projects.Delete("shop"));
  CHECK(CodeOf(w.projects.Restore("nope")) == ErrorCode::kNotFound);
  CHECK(CodeOf(w.projects.Restore("Not A Slug")) == ErrorCode::kInvalidArgument);
  w.clock.Advance(30 * kDayMicros);
  CHECK(CodeOf(w.projects.Restore("shop")) == ErrorCode::kFailedPrecondition);  // past grace
}

TEST_CASE("the purge removes a SQLite project's database file and its companions",
          "[application][deletion][sqlite]") {
  Stores stores(Backend::kSqlite);
  DeletionWorld w(stores.catalogue(), stores.access(), stores.projects(), kThirtyDays);
  Must(w.platform_catalogue.CreateOrganisation(kAnn, {"acme", {}, {}, {}}), "acme");
  auto shop = Must(w.platform_catalogue.CreateProject(kAnn, {"shop", "acme", {}}), "shop");
  auto blog = Must(w.platform_catalogue.CreateProject(kAnn, {"blog", "acme", {}}), "blog");
  w.AddPosts("shop", 2);
  w.AddPosts("blog", 2);
  const auto shop_db = adapters::sqlite::ProjectDatabasePath(stores.catalogue_path(), shop.id);
  const auto blog_db = adapters::sqlite::ProjectDatabasePath(stores.catalogue_path(), blog.id);
  auto files_of = [](const std::filesystem::path& db) {
    std::vector<std::string> present;
    for (const char* suffix : {"", "-wal", "-shm", "-journal"}) {
      if (std::filesystem::exists(db.string() + suffix)) present.push_back(suffix);
    }
    return present;
  };
  // An open WAL database has its -wal and -shm beside it.
  REQUIRE(files_of(shop_db) == std::vector<std::string>{"", "-wal", "-shm"});
  REQUIRE(files_of(blog_db) == std::vector<std::string>{"", "-wal", "-shm"});

  // Scheduled, the data stays (it can be restored); the store is released.
  REQUIRE(w.platform_catalogue.DeleteProject(kAnn, "shop"));
  REQUIRE(w.platform_catalogue.DeleteOrganisation(kAnn, "acme", ForceDelete::kYes));
  CHECK_FALSE(files_of(shop_db).empty());
  CHECK(std::filesystem::exists(blog_db));

  w.clock.Advance(30 * kDayMicros);
  auto purged = w.deletion.Purge(w.clock.Now());
  REQUIRE(purged);
  CHECK(purged->failures.empty());
  CHECK(purged->organisations == 1);
  CHECK(purged->projects == 2);
  CHECK(files_of(shop_db).empty());
  CHECK(files_of(blog_db).empty());
  // Nothing reopened (and so recreated) them afterwards.
  CHECK(CodeOf(w.directory.Find("shop")) == ErrorCode::kNotFound);
  CHECK(files_of(shop_db).empty());
}
