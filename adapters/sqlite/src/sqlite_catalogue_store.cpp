#include "socle/adapters/sqlite/sqlite_catalogue_store.hpp"

#include <chrono>
#include <cstdio>
#include <filesystem>
#include <mutex>
#include <string_view>
#include <system_error>
#include <utility>
#include <vector>

#include "connection.hpp"
#include "sqlite_catalogue_store_impl.hpp"
#include "socle/adapters/bounded_pool.hpp"
#include "socle/adapters/json/project_settings_json.hpp"
#include "socle/adapters/migration.hpp"
#include "socle/adapters/sqlite/project_database_path.hpp"

namespace socle::adapters::sqlite {

using application::DeleteMode;
using application::MigrationReport;
using domain::Error;
using domain::ErrorCode;
using domain::Fail;
using domain::Result;

namespace {

// ---- SQL, as named constants; every value is bound (?n). -------------------------------------

constexpr char kJournalModeWal[] = "PRAGMA journal_mode = WAL";
// A read transaction: the statements in it see one snapshot of the file.
constexpr char kBeginRead[] = "BEGIN";

constexpr char kCreateSchemaMigrations[] =
    "CREATE TABLE IF NOT EXISTS schema_migrations ("
    " version INTEGER NOT NULL PRIMARY KEY,"
    " name TEXT NOT NULL,"
    " applied_at INTEGER NOT NULL) STRICT";
constexpr std::string_view kCurrentVersion =
    "SELECT coalesce(max(version), 0) FROM schema_migrations";
constexpr std::string_view kRecordMigration =
    "INSERT INTO schema_migrations (version, name, applied_at) VALUES (?1, ?2, ?3)";

constexpr std::string_view kPing = "SELECT 1";

constexpr std::string_view kUpsertRegion =
    "INSERT INTO regions (name, store_url) VALUES (?1, ?2)"
    " ON CONFLICT (name) DO UPDATE SET store_url = excluded.store_url";
constexpr std::string_view kGetRegion = "SELECT name, store_url FROM regions WHERE name = ?1";
constexpr std::string_view kListRegions = "SELECT name, store_url FROM regions ORDER BY name";

constexpr std::string_view kInsertOrganisation =
    "INSERT INTO organisations (id, slug, name, region, tier, created, updated)"
    " VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7)";
// Lookups, listings and updates see live rows only (deleted IS NULL); a project is live when
// its organisation is too. The purge (Delete*) and the Schedule/Restore methods see them all.
constexpr std::string_view kGetOrganisation =
    "SELECT id, slug, name, region, tier, created, updated FROM organisations"
    " WHERE slug = ?1 AND deleted IS NULL";
constexpr std::string_view kGetOrganisationById =
    "SELECT id, slug, name, region, tier, created, updated FROM organisations"
    " WHERE id = ?1 AND deleted IS NULL";
// One statement reads the total and the page from the same snapshot; the LEFT JOIN keeps the
// total when the page is past the end (one row of NULLs).
constexpr std::string_view kListOrganisations =
    "SELECT t.total, p.id, p.slug, p.name, p.region, p.tier, p.created, p.updated"
    " FROM (SELECT count(*) AS total FROM organisations WHERE deleted IS NULL) AS t"
    " LEFT JOIN (SELECT id, slug, name, region, tier, created, updated FROM organisations"
    "            WHERE deleted IS NULL ORDER BY slug LIMIT ?1 OFFSET ?2) AS p ON TRUE"
    " ORDER BY p.slug";
constexpr std::string_view kUpdateOrganisation =
    "UPDATE organisations SET name = ?2, updated = ?3 WHERE id = ?1 AND deleted IS NULL";
constexpr std::string_view kOrganisationExists = "SELECT 1 FROM organisations WHERE id = ?1";
// Every project, and whether it is live (not scheduled on its own).
constexpr std::string_view kProjectIdsOfOrganisation =
    "SELECT id, deleted IS NULL FROM projects WHERE org_id = ?1 ORDER BY id";
constexpr std::string_view kDeleteProjectsOfOrganisation = "DELETE FROM projects WHERE org_id = ?1";
constexpr std::string_view kDeleteOrganisation = "DELETE FROM organisations WHERE id = ?1";

// Inserts nothing when the organisation is missing or scheduled (the caller reads Changes()).
constexpr std::string_view kInsertProject =
    "INSERT INTO projects (id, slug, name, org_id, created, updated)"
    " SELECT ?1, ?2, ?3, ?4, ?5, ?6"
    " WHERE EXISTS (SELECT 1 FROM organisations WHERE id = ?4 AND deleted IS NULL)";
constexpr std::string_view kGetProject =
    "SELECT p.id, p.slug, p.name, p.org_id, o.slug, o.region, o.tier, p.created, p.updated"
    " FROM projects AS p JOIN organisations AS o ON o.id = p.org_id"
    " WHERE p.slug = ?1 AND p.deleted IS NULL AND o.deleted IS NULL";
constexpr std::string_view kGetProjectById =
    "SELECT p.id, p.slug, p.name, p.org_id, o.slug, o.region, o.tier, p.created, p.updated"
    " FROM projects AS p JOIN organisations AS o ON o.id = p.org_id"
    " WHERE p.id = ?1 AND p.deleted IS NULL AND o.deleted IS NULL";
constexpr std::string_view kListProjects =
    "SELECT t.total, p.id, p.slug, p.name, p.org_id, p.org_slug, p.org_region, p.org_tier, p.created, p.updated"
    " FROM (SELECT count(*) AS total"
    "       FROM projects AS pr JOIN organisations AS o ON o.id = pr.org_id"
    "       WHERE pr.deleted IS NULL AND o.deleted IS NULL) AS t"
    " LEFT JOIN (SELECT pr.id, pr.slug, pr.name, pr.org_id, o.slug AS org_slug, o.region AS org_region,"
    " o.tier AS org_tier,"
    "                   pr.created, pr.updated"
    "            FROM projects AS pr JOIN organisations AS o ON o.id = pr.org_id"
    "            WHERE pr.deleted IS NULL AND o.deleted IS NULL"
    "            ORDER BY pr.slug LIMIT ?1 OFFSET ?2) AS p ON TRUE"
    " ORDER BY p.slug";
constexpr std::string_view kListProjectsOfOrganisation =
    "SELECT t.total, p.id, p.slug, p.name, p.org_id, p.org_slug, p.org_region, p.org_tier, p.created, p.updated"
    " FROM (SELECT count(*) AS total"
    "       FROM projects AS pr JOIN organisations AS o ON o.id = pr.org_id"
    "       WHERE pr.org_id = ?3 AND pr.deleted IS NULL AND o.deleted IS NULL) AS t"
    " LEFT JOIN (SELECT pr.id, pr.slug, pr.name, pr.org_id, o.slug AS org_slug, o.region AS org_region,"
    " o.tier AS org_tier,"
    "                   pr.created, pr.updated"
    "            FROM projects AS pr JOIN organisations AS o ON o.id = pr.org_id"
    "            WHERE pr.org_id = ?3 AND pr.deleted IS NULL AND o.deleted IS NULL"
    "            ORDER BY pr.slug LIMIT ?1 OFFSET ?2) AS p ON TRUE"
    " ORDER BY p.slug";
constexpr std::string_view kUpdateProject =
    "UPDATE projects SET name = ?2, updated = ?3"
    " WHERE id = ?1 AND deleted IS NULL"
    " AND org_id IN (SELECT id FROM organisations WHERE deleted IS NULL)";
constexpr std::string_view kDeleteProject = "DELETE FROM projects WHERE id = ?1";

constexpr std::string_view kLiveProjectExists =
    "SELECT 1 FROM projects AS p JOIN organisations AS o ON o.id = p.org_id"
    " WHERE p.id = ?1 AND p.deleted IS NULL AND o.deleted IS NULL";
// One row per live project: its settings, or NULL when it has none (no row: no such project).
constexpr std::string_view kGetProjectSettings =
    "SELECT s.value FROM projects AS p JOIN organisations AS o ON o.id = p.org_id"
    " LEFT JOIN project_settings AS s ON s.project_id = p.id"
    " WHERE p.id = ?1 AND p.deleted IS NULL AND o.deleted IS NULL";

// ---- scheduled deletions

// Whether the organisation exists (a row) and is scheduled (a non-NULL value).
constexpr std::string_view kOrganisationDeleted = "SELECT deleted FROM organisations WHERE id = ?1";
constexpr std::string_view kCountLiveProjectsOfOrganisation =
    "SELECT count(*) FROM projects WHERE org_id = ?1 AND deleted IS NULL";
constexpr std::string_view kSetOrganisationDeleted =
    "UPDATE organisations SET deleted = ?2 WHERE id = ?1";
constexpr std::string_view kScheduleProject =
    "UPDATE projects SET deleted = ?2"
    " WHERE id = ?1 AND deleted IS NULL"
    " AND org_id IN (SELECT id FROM organisations WHERE deleted IS NULL)";
// The project's own deletion time and its organisation's (a row when the project exists).
constexpr std::string_view kProjectDeleted =
    "SELECT p.deleted, o.deleted FROM projects AS p JOIN organisations AS o ON o.id = p.org_id"
    " WHERE p.id = ?1";
constexpr std::string_view kRestoreProject = "UPDATE projects SET deleted = NULL WHERE id = ?1";
constexpr std::string_view kListScheduledOrganisations =
    "SELECT id, slug, name, region, tier, created, updated, deleted FROM organisations"
    " WHERE deleted IS NOT NULL ORDER BY slug";
constexpr std::string_view kGetScheduledOrganisation =
    "SELECT id, slug, name, region, tier, created, updated, deleted FROM organisations"
    " WHERE slug = ?1 AND deleted IS NOT NULL";
// The projects scheduled on their own, and those of scheduled organisations: two indexed
// halves rather than one OR that would scan every project; UNION drops the rows both give.
// A hidden project's deletion time is the earlier of its own and its organisation's: SQLite's
// two-argument min() is NULL when either is, and coalesce then keeps the one that is set.
constexpr std::string_view kListScheduledProjects =
    "SELECT p.id, p.slug, p.name, p.org_id, o.slug, o.region, o.tier, p.created, p.updated, "
    " coalesce(min(p.deleted, o.deleted), p.deleted, o.deleted)"
    " FROM projects AS p JOIN organisations AS o ON o.id = p.org_id WHERE p.deleted IS NOT NULL"
    " UNION"
    " SELECT p.id, p.slug, p.name, p.org_id, o.slug, o.region, o.tier, p.created, p.updated, "
    " coalesce(min(p.deleted, o.deleted), p.deleted, o.deleted)"
    " FROM organisations AS o JOIN projects AS p ON p.org_id = o.id WHERE o.deleted IS NOT NULL"
    " ORDER BY 2";
constexpr std::string_view kGetScheduledProject =
    "SELECT p.id, p.slug, p.name, p.org_id, o.slug, o.region, o.tier, p.created, p.updated, "
    " coalesce(min(p.deleted, o.deleted), p.deleted, o.deleted)"
    " FROM projects AS p JOIN organisations AS o ON o.id = p.org_id"
    " WHERE p.slug = ?1 AND (p.deleted IS NOT NULL OR o.deleted IS NOT NULL)";
constexpr std::string_view kPutProjectSettings =
    "INSERT INTO project_settings (project_id, value, updated) VALUES (?1, ?2, ?3)"
    " ON CONFLICT (project_id) DO UPDATE SET value = excluded.value, updated = excluded.updated";

// ---- helpers -----------------------------------------------------------------------------------

Result<domain::Region> ReadRegion(const Statement& row, int first) {
  auto name = Column(domain::Slug::Parse(row.Text(first)), "regions.name");
  if (!name) return Fail(name.error());
  return domain::Region{*name, std::string(row.Text(first + 1))};
}

Result<domain::Organisation> ReadOrganisation(const Statement& row, int first) {
  auto id = Column(domain::Id::Parse(row.Text(first)), "organisations.id");
  auto slug = Column(domain::Slug::Parse(row.Text(first + 1)), "organisations.slug");
  auto name = Column(domain::DisplayName::Parse(row.Text(first + 2)), "organisations.name");
  auto region = Column(domain::Slug::Parse(row.Text(first + 3)), "organisations.region");
  auto tier = Column(domain::ParseIsolationTier(row.Text(first + 4)), "organisations.tier");
  if (!id) return Fail(id.error());
  if (!slug) return Fail(slug.error());
  if (!name) return Fail(name.error());
  if (!region) return Fail(region.error());
  if (!tier) return Fail(tier.error());
  return domain::Organisation{*id,
                              *slug,
                              *name,
                              *region,
                              *tier,
                              domain::Timestamp::FromUnixMicros(row.Int(first + 5)),
                              domain::Timestamp::FromUnixMicros(row.Int(first + 6))};
}

Result<domain::Project> ReadProject(const Statement& row, int first) {
  auto id = Column(domain::Id::Parse(row.Text(first)), "projects.id");
  auto slug = Column(domain::Slug::Parse(row.Text(first + 1)), "projects.slug");
  auto name = Column(domain::DisplayName::Parse(row.Text(first + 2)), "projects.name");
  auto org_id = Column(domain::Id::Parse(row.Text(first + 3)), "projects.org_id");
  auto org_slug = Column(domain::Slug::Parse(row.Text(first + 4)), "organisations.slug");
  if (!id) return Fail(id.error());
  if (!slug) return Fail(slug.error());
  if (!name) return Fail(name.error());
  if (!org_id) return Fail(org_id.error());
  auto region = Column(domain::Slug::Parse(row.Text(first + 5)), "organisations.region");
  auto tier = Column(domain::ParseIsolationTier(row.Text(first + 6)), "organisations.tier");
  if (!org_slug) return Fail(org_slug.error());
  if (!region) return Fail(region.error());
  if (!tier) return Fail(tier.error());
  domain::Project project{*id,
                          *slug,
                          *name,
                          *org_id,
                          *org_slug,
                          domain::Timestamp::FromUnixMicros(row.Int(first + 7)),
                          domain::Timestamp::FromUnixMicros(row.Int(first + 8))};
  project.org_region = std::move(*region);
  project.org_tier = *tier;
  return project;
}

// A row of the scheduled listings: the item's columns, then its deletion time.
template <typename T, typename Reader>
Result<T> ReadScheduled(const Statement& row, Reader read, int deleted_column) {
  auto item = read(row, 0);
  if (!item) return Fail(item.error());
  item->deleted = domain::Timestamp::FromUnixMicros(row.Int(deleted_column));
  return item;
}

std::string MigrationLabel(const Migration& migration) {
  char number[16];
  std::snprintf(number, sizeof number, "%04d_", migration.version);
  return number + std::string(migration.name);
}

// Refines the generic "key already exists" message: SQLite names the column that collided
// ("UNIQUE constraint failed: organisations.slug").
Error Conflict(Error error, std::string_view table, std::string_view what) {
  if (error.code != ErrorCode::kAlreadyExists) return error;
  const bool slug = error.internal.find(std::string(table) + ".slug") != std::string::npos;
  error.message = std::string(what) + (slug ? " with this slug" : " with this id") +
                  " already exists.";
  return error;
}

// Opens the first connection, which proves the file can be opened, and switches the file to
// WAL (a persistent property of the file): readers then block neither the writer nor each other.
Result<void> EnableWal(BoundedPool<Connection>& pool, const std::string& path) {
  auto lease = pool.Acquire();
  if (!lease) return Fail(lease.error());
  auto mode = (*lease)->Prepare(kJournalModeWal);
  if (!mode) return Fail(mode.error());
  auto row = mode->Step();
  if (!row) return Fail(row.error());
  if (!*row || mode->Text(0) != "wal") {
    Error error = Error::Make(ErrorCode::kUnavailable,
                              "The SQLite catalogue cannot use write-ahead logging here.");
    error.internal = path + ": journal_mode is " + std::string(mode->Text(0));
    return Fail(std::move(error));
  }
  return {};
}

}  // namespace

SqliteCatalogueStore::SqliteCatalogueStore(std::unique_ptr<Impl> impl) : impl_(std::move(impl)) {}
SqliteCatalogueStore::~SqliteCatalogueStore() = default;

Result<std::unique_ptr<SqliteCatalogueStore>> SqliteCatalogueStore::Open(
    const SqliteOptions& options) {
  // Special names would give every pooled connection a database of its own.
  if (options.path.empty() || options.path == ":memory:" || options.path.starts_with("file:")) {
    return Fail(ErrorCode::kInvalidArgument,
                "The SQLite catalogue needs a file path (use memory:// for an in-memory store).");
  }
  const std::filesystem::path path(options.path);
  if (path.has_parent_path()) {
    std::error_code ec;
    std::filesystem::create_directories(path.parent_path(), ec);
    if (ec) {
      Error error = Error::Make(ErrorCode::kUnavailable,
                                "Cannot create the directory of the SQLite catalogue.");
      error.internal = path.parent_path().string() + ": " + ec.message();
      return Fail(std::move(error));
    }
  }
  auto impl = std::make_unique<Impl>(options);
  if (auto wal = EnableWal(impl->pool, options.path); !wal) return Fail(wal.error());
  return std::unique_ptr<SqliteCatalogueStore>(new SqliteCatalogueStore(std::move(impl)));
}

Result<MigrationReport> SqliteCatalogueStore::Migrate() {
  const auto migrations = migrations::sqlite();
  const int newest = migrations.empty() ? 0 : migrations.back().version;
  return impl_->WithConnection([&](Connection& conn) -> Result<MigrationReport> {
    auto current_version = [&]() -> Result<int> {
      auto stmt = conn.Prepare(kCurrentVersion);
      if (!stmt) return Fail(stmt.error());
      auto row = stmt->Step();
      if (!row) return Fail(row.error());
      return static_cast<int>(stmt->Int(0));
    };
    MigrationReport report;
    auto start = InTransaction(conn, kBeginImmediate, [&]() -> Result<int> {
      if (auto created = conn.Exec(kCreateSchemaMigrations); !created) {
        return Fail(created.error());
      }
      return current_version();
    });
    if (!start) return Fail(start.error());
    report.from_version = report.to_version = *start;
    if (*start > newest) {
      return Fail(ErrorCode::kFailedPrecondition,
                  "The catalogue schema (version " + std::to_string(*start) +
                      ") is newer than this build of Socle (version " + std::to_string(newest) +
                      "); run a newer release.");
    }
    // One transaction per migration, with its schema_migrations row: a failure leaves the
    // database at the last complete version. BEGIN IMMEDIATE serialises concurrent migrators
    // (other processes included); each re-reads the version under the lock and skips what
    // another one applied meanwhile.
    for (const Migration& migration : migrations) {
      if (migration.version <= report.to_version) continue;
      const std::string sql(migration.sql);
      auto applied = InTransaction(conn, kBeginImmediate, [&]() -> Result<bool> {
        auto now = current_version();
        if (!now) return Fail(now.error());
        if (*now >= migration.version) return false;
        if (auto ran = conn.Exec(sql.c_str()); !ran) return Fail(ran.error());
        auto record = conn.Prepare(kRecordMigration);
        if (!record) return Fail(record.error());
        const auto applied_at = std::chrono::duration_cast<std::chrono::microseconds>(
                                    std::chrono::system_clock::now().time_since_epoch())
                                    .count();
        auto recorded = record->Bind(std::int64_t{migration.version})
                            .Bind(migration.name)
                            .Bind(static_cast<std::int64_t>(applied_at))
                            .Run();
        if (!recorded) return Fail(recorded.error());
        return true;
      });
      if (!applied) return Fail(applied.error());
      if (*applied) report.applied.push_back(MigrationLabel(migration));
      report.to_version = migration.version;
    }
    return report;
  });
}

Result<void> SqliteCatalogueStore::Ping() {
  return impl_->WithConnection([](Connection& conn) -> Result<void> {
    auto stmt = conn.Prepare(kPing);
    if (!stmt) return Fail(stmt.error());
    return stmt->Run();
  });
}

Result<void> SqliteCatalogueStore::UpsertRegion(const domain::Region& region) {
  return impl_->Write([&](Connection& conn) -> Result<void> {
    auto stmt = conn.Prepare(kUpsertRegion);
    if (!stmt) return Fail(stmt.error());
    return stmt->Bind(region.name.str()).Bind(region.store_url).Run();
  });
}

Result<domain::Region> SqliteCatalogueStore::GetRegion(const domain::Slug& name) {
  return impl_->WithConnection([&](Connection& conn) -> Result<domain::Region> {
    auto stmt = conn.Prepare(kGetRegion);
    if (!stmt) return Fail(stmt.error());
    auto row = stmt->Bind(name.str()).Step();
    if (!row) return Fail(row.error());
    if (!*row) return Fail(ErrorCode::kNotFound, "Region not found.");
    return ReadRegion(*stmt, 0);
  });
}

Result<std::vector<domain::Region>> SqliteCatalogueStore::ListRegions() {
  return impl_->WithConnection([&](Connection& conn) -> Result<std::vector<domain::Region>> {
    auto stmt = conn.Prepare(kListRegions);
    if (!stmt) return Fail(stmt.error());
    std::vector<domain::Region> out;
    for (;;) {
      auto row = stmt->Step();
      if (!row) return Fail(row.error());
      if (!*row) return out;
      auto region = ReadRegion(*stmt, 0);
      if (!region) return Fail(region.error());
      out.push_back(std::move(*region));
    }
  });
}

Result<void> SqliteCatalogueStore::InsertOrganisation(const domain::Organisation& org) {
  return impl_->Write([&](Connection& conn) -> Result<void> {
    auto stmt = conn.Prepare(kInsertOrganisation);
    if (!stmt) return Fail(stmt.error());
    auto done = stmt->Bind(org.id.str())
                    .Bind(org.slug.str())
                    .Bind(org.name.str())
                    .Bind(org.region.str())
                    .Bind(domain::ToString(org.tier))
                    .Bind(org.created.unix_micros())
                    .Bind(org.updated.unix_micros())
                    .Run();
    if (done) return {};
    Error error = Conflict(std::move(done.error()), "organisations", "An organisation");
    if (error.code == ErrorCode::kFailedPrecondition) {
      error.message = "The organisation's region does not exist.";  // the region foreign key
    }
    return Fail(std::move(error));
  });
}

Result<domain::Organisation> SqliteCatalogueStore::GetOrganisation(const domain::Slug& slug) {
  return impl_->WithConnection([&](Connection& conn) -> Result<domain::Organisation> {
    auto stmt = conn.Prepare(kGetOrganisation);
    if (!stmt) return Fail(stmt.error());
    auto row = stmt->Bind(slug.str()).Step();
    if (!row) return Fail(row.error());
    if (!*row) return Fail(ErrorCode::kNotFound, "Organisation not found.");
    return ReadOrganisation(*stmt, 0);
  });
}

Result<domain::Organisation> SqliteCatalogueStore::GetOrganisationById(const domain::Id& id) {
  return impl_->WithConnection([&](Connection& conn) -> Result<domain::Organisation> {
    auto stmt = conn.Prepare(kGetOrganisationById);
    if (!stmt) return Fail(stmt.error());
    auto row = stmt->Bind(id.str()).Step();
    if (!row) return Fail(row.error());
    if (!*row) return Fail(ErrorCode::kNotFound, "Organisation not found.");
    return ReadOrganisation(*stmt, 0);
  });
}

Result<domain::PageOf<domain::Organisation>> SqliteCatalogueStore::ListOrganisations(
    const domain::PageRequest& page) {
  return impl_->WithConnection([&](Connection& conn) -> Result<domain::PageOf<domain::Organisation>> {
    auto stmt = conn.Prepare(kListOrganisations);
    if (!stmt) return Fail(stmt.error());
    stmt->Bind(page.per_page).Bind(page.Offset());
    return ReadPage<domain::Organisation>(*stmt, page, ReadOrganisation);
  });
}

Result<void> SqliteCatalogueStore::UpdateOrganisation(const domain::Organisation& org) {
  return impl_->Write([&](Connection& conn) -> Result<void> {
    auto stmt = conn.Prepare(kUpdateOrganisation);
    if (!stmt) return Fail(stmt.error());
    auto done =
        stmt->Bind(org.id.str()).Bind(org.name.str()).Bind(org.updated.unix_micros()).Run();
    if (!done) return done;
    if (conn.Changes() == 0) return Fail(ErrorCode::kNotFound, "Organisation not found.");
    return {};
  });
}

Result<std::int64_t> SqliteCatalogueStore::DeleteOrganisation(const domain::Id& org_id,
                                                              DeleteMode mode) {
  std::vector<std::string> project_ids;
  auto deleted = impl_->Write([&](Connection& conn) -> Result<std::int64_t> {
    auto exists = conn.Prepare(kOrganisationExists);
    if (!exists) return Fail(exists.error());
    auto found = exists->Bind(org_id.str()).Step();
    if (!found) return Fail(found.error());
    if (!*found) return Fail(ErrorCode::kNotFound, "Organisation not found.");

    auto ids = conn.Prepare(kProjectIdsOfOrganisation);
    if (!ids) return Fail(ids.error());
    ids->Bind(org_id.str());
    bool has_live = false;
    for (;;) {
      auto row = ids->Step();
      if (!row) return Fail(row.error());
      if (!*row) break;
      project_ids.emplace_back(ids->Text(0));
      has_live = has_live || ids->Int(1) != 0;
    }
    if (has_live && mode == DeleteMode::kRefuseIfProjects) {
      return Fail(ErrorCode::kFailedPrecondition,
                  "The organisation still has projects; delete them first or force the "
                  "deletion.");
    }
    for (std::string_view sql : {kDeleteProjectsOfOrganisation, kDeleteOrganisation}) {
      auto stmt = conn.Prepare(sql);
      if (!stmt) return Fail(stmt.error());
      if (auto done = stmt->Bind(org_id.str()).Run(); !done) return Fail(done.error());
    }
    return static_cast<std::int64_t>(project_ids.size());
  });
  if (deleted) impl_->RemoveProjectFiles(project_ids);
  return deleted;
}

Result<void> SqliteCatalogueStore::InsertProject(const domain::Project& project) {
  return impl_->Write([&](Connection& conn) -> Result<void> {
    auto stmt = conn.Prepare(kInsertProject);
    if (!stmt) return Fail(stmt.error());
    auto done = stmt->Bind(project.id.str())
                    .Bind(project.slug.str())
                    .Bind(project.name.str())
                    .Bind(project.org_id.str())
                    .Bind(project.created.unix_micros())
                    .Bind(project.updated.unix_micros())
                    .Run();
    if (done) {
      if (conn.Changes() == 0) return Fail(ErrorCode::kNotFound, "Organisation not found.");
      return {};
    }
    Error error = Conflict(std::move(done.error()), "projects", "A project");
    if (error.code == ErrorCode::kFailedPrecondition) {
      // The only foreign key is the organisation, and the port names this case not_found.
      error.code = ErrorCode::kNotFound;
      error.message = "Organisation not found.";
    }
    return Fail(std::move(error));
  });
}

Result<domain::Project> SqliteCatalogueStore::GetProject(const domain::Slug& slug) {
  return impl_->WithConnection([&](Connection& conn) -> Result<domain::Project> {
    auto stmt = conn.Prepare(kGetProject);
    if (!stmt) return Fail(stmt.error());
    auto row = stmt->Bind(slug.str()).Step();
    if (!row) return Fail(row.error());
    if (!*row) return Fail(ErrorCode::kNotFound, "Project not found.");
    return ReadProject(*stmt, 0);
  });
}

Result<domain::Project> SqliteCatalogueStore::GetProjectById(const domain::Id& id) {
  return impl_->WithConnection([&](Connection& conn) -> Result<domain::Project> {
    auto stmt = conn.Prepare(kGetProjectById);
    if (!stmt) return Fail(stmt.error());
    auto row = stmt->Bind(id.str()).Step();
    if (!row) return Fail(row.error());
    if (!*row) return Fail(ErrorCode::kNotFound, "Project not found.");
    return ReadProject(*stmt, 0);
  });
}

Result<domain::PageOf<domain::Project>> SqliteCatalogueStore::ListProjects(
    const std::optional<domain::Id>& org_id, const domain::PageRequest& page) {
  return impl_->WithConnection([&](Connection& conn) -> Result<domain::PageOf<domain::Project>> {
    auto stmt = conn.Prepare(org_id ? kListProjectsOfOrganisation : kListProjects);
    if (!stmt) return Fail(stmt.error());
    stmt->Bind(page.per_page).Bind(page.Offset());
    if (org_id) stmt->Bind(org_id->str());
    return ReadPage<domain::Project>(*stmt, page, ReadProject);
  });
}

Result<void> SqliteCatalogueStore::UpdateProject(const domain::Project& project) {
  return impl_->Write([&](Connection& conn) -> Result<void> {
    auto stmt = conn.Prepare(kUpdateProject);
    if (!stmt) return Fail(stmt.error());
    auto done = stmt->Bind(project.id.str())
                    .Bind(project.name.str())
                    .Bind(project.updated.unix_micros())
                    .Run();
    if (!done) return done;
    if (conn.Changes() == 0) return Fail(ErrorCode::kNotFound, "Project not found.");
    return {};
  });
}

Result<void> SqliteCatalogueStore::DeleteProject(const domain::Id& project_id) {
  auto deleted = impl_->Write([&](Connection& conn) -> Result<void> {
    auto stmt = conn.Prepare(kDeleteProject);
    if (!stmt) return Fail(stmt.error());
    if (auto done = stmt->Bind(project_id.str()).Run(); !done) return done;
    if (conn.Changes() == 0) return Fail(ErrorCode::kNotFound, "Project not found.");
    return {};
  });
  if (deleted) impl_->RemoveProjectFiles({project_id.str()});
  return deleted;
}

Result<std::optional<domain::ProjectSettings>> SqliteCatalogueStore::GetProjectSettings(
    const domain::Id& project_id) {
  return impl_->WithConnection(
      [&](Connection& conn) -> Result<std::optional<domain::ProjectSettings>> {
        auto stmt = conn.Prepare(kGetProjectSettings);
        if (!stmt) return Fail(stmt.error());
        auto row = stmt->Bind(project_id.str()).Step();
        if (!row) return Fail(row.error());
        if (!*row) return Fail(ErrorCode::kNotFound, "Project not found.");
        if (stmt->IsNull(0)) return std::optional<domain::ProjectSettings>();
        auto settings = json::ProjectSettingsFromText(stmt->Text(0));
        if (!settings) return Fail(settings.error());
        return std::optional<domain::ProjectSettings>(std::move(*settings));
      });
}

Result<void> SqliteCatalogueStore::PutProjectSettings(const domain::Id& project_id,
                                                      const domain::ProjectSettings& settings,
                                                      domain::Timestamp at) {
  const std::string value = json::ProjectSettingsText(settings);
  return impl_->Write([&](Connection& conn) -> Result<void> {
    // Checked under the write lock, so the project cannot go (or be hidden) in between; the
    // foreign key would refuse a missing one too, but with a code shared by every constraint.
    auto exists = conn.Prepare(kLiveProjectExists);
    if (!exists) return Fail(exists.error());
    auto found = exists->Bind(project_id.str()).Step();
    if (!found) return Fail(found.error());
    if (!*found) return Fail(ErrorCode::kNotFound, "Project not found.");
    auto stmt = conn.Prepare(kPutProjectSettings);
    if (!stmt) return Fail(stmt.error());
    return stmt->Bind(project_id.str()).Bind(value).Bind(at.unix_micros()).Run();
  });
}

}  // namespace socle::adapters::sqlite

namespace socle::adapters::sqlite {

Result<std::int64_t> SqliteCatalogueStore::ScheduleOrganisationDeletion(const domain::Id& org_id,
                                                                        domain::Timestamp at,
                                                                        DeleteMode mode) {
  return impl_->Write([&](Connection& conn) -> Result<std::int64_t> {
    // BEGIN IMMEDIATE: the count and the mark run under the file's write lock, so no project
    // can be inserted in between (InsertProject also refuses a scheduled organisation).
    auto state = conn.Prepare(kOrganisationDeleted);
    if (!state) return Fail(state.error());
    auto found = state->Bind(org_id.str()).Step();
    if (!found) return Fail(found.error());
    if (!*found || !state->IsNull(0)) {
      return Fail(ErrorCode::kNotFound, "Organisation not found.");
    }
    auto count = conn.Prepare(kCountLiveProjectsOfOrganisation);
    if (!count) return Fail(count.error());
    auto counted = count->Bind(org_id.str()).Step();
    if (!counted) return Fail(counted.error());
    const std::int64_t live = *counted ? count->Int(0) : 0;
    if (live > 0 && mode == DeleteMode::kRefuseIfProjects) {
      return Fail(ErrorCode::kFailedPrecondition,
                  "The organisation still has projects; delete them first or force the "
                  "deletion.");
    }
    auto mark = conn.Prepare(kSetOrganisationDeleted);
    if (!mark) return Fail(mark.error());
    if (auto done = mark->Bind(org_id.str()).Bind(at.unix_micros()).Run(); !done) {
      return Fail(done.error());
    }
    return live;
  });
}

Result<void> SqliteCatalogueStore::ScheduleProjectDeletion(const domain::Id& project_id,
                                                           domain::Timestamp at) {
  return impl_->Write([&](Connection& conn) -> Result<void> {
    auto stmt = conn.Prepare(kScheduleProject);
    if (!stmt) return Fail(stmt.error());
    if (auto done = stmt->Bind(project_id.str()).Bind(at.unix_micros()).Run(); !done) {
      return done;
    }
    if (conn.Changes() == 0) return Fail(ErrorCode::kNotFound, "Project not found.");
    return {};
  });
}

Result<void> SqliteCatalogueStore::RestoreOrganisation(const domain::Id& org_id) {
  return impl_->Write([&](Connection& conn) -> Result<void> {
    auto state = conn.Prepare(kOrganisationDeleted);
    if (!state) return Fail(state.error());
    auto found = state->Bind(org_id.str()).Step();
    if (!found) return Fail(found.error());
    if (!*found) return Fail(ErrorCode::kNotFound, "Organisation not found.");
    if (state->IsNull(0)) {
      return Fail(ErrorCode::kFailedPrecondition,
                  "The organisation is not scheduled for deletion.");
    }
    auto restore = conn.Prepare(kSetOrganisationDeleted);
    if (!restore) return Fail(restore.error());
    return restore->Bind(org_id.str()).BindNull().Run();
  });
}

Result<void> SqliteCatalogueStore::RestoreProject(const domain::Id& project_id) {
  return impl_->Write([&](Connection& conn) -> Result<void> {
    auto state = conn.Prepare(kProjectDeleted);
    if (!state) return Fail(state.error());
    auto found = state->Bind(project_id.str()).Step();
    if (!found) return Fail(found.error());
    if (!*found) return Fail(ErrorCode::kNotFound, "Project not found.");
    if (!state->IsNull(1)) {
      return Fail(ErrorCode::kFailedPrecondition,
                  "The project's organisation is scheduled for deletion; restore the "
                  "organisation.");
    }
    if (state->IsNull(0)) {
      return Fail(ErrorCode::kFailedPrecondition, "The project is not scheduled for deletion.");
    }
    auto restore = conn.Prepare(kRestoreProject);
    if (!restore) return Fail(restore.error());
    return restore->Bind(project_id.str()).Run();
  });
}

Result<application::ScheduledDeletions> SqliteCatalogueStore::ListScheduledDeletions() {
  return impl_->WithConnection([&](Connection& conn) {
    // One read transaction: both lists come from the same snapshot.
    return InTransaction(conn, kBeginRead, [&]() -> Result<application::ScheduledDeletions> {
      application::ScheduledDeletions out;
      auto orgs = conn.Prepare(kListScheduledOrganisations);
      if (!orgs) return Fail(orgs.error());
      for (;;) {
        auto row = orgs->Step();
        if (!row) return Fail(row.error());
        if (!*row) break;
        auto org = ReadScheduled<domain::Organisation>(*orgs, ReadOrganisation, 7);
        if (!org) return Fail(org.error());
        out.organisations.push_back(std::move(*org));
      }
      auto projects = conn.Prepare(kListScheduledProjects);
      if (!projects) return Fail(projects.error());
      for (;;) {
        auto row = projects->Step();
        if (!row) return Fail(row.error());
        if (!*row) break;
        auto project = ReadScheduled<domain::Project>(*projects, ReadProject, 9);
        if (!project) return Fail(project.error());
        out.projects.push_back(std::move(*project));
      }
      return out;
    });
  });
}

Result<domain::Organisation> SqliteCatalogueStore::GetScheduledOrganisation(
    const domain::Slug& slug) {
  return impl_->WithConnection([&](Connection& conn) -> Result<domain::Organisation> {
    auto stmt = conn.Prepare(kGetScheduledOrganisation);
    if (!stmt) return Fail(stmt.error());
    auto row = stmt->Bind(slug.str()).Step();
    if (!row) return Fail(row.error());
    if (!*row) return Fail(ErrorCode::kNotFound, "Organisation not found.");
    return ReadScheduled<domain::Organisation>(*stmt, ReadOrganisation, 7);
  });
}

Result<domain::Project> SqliteCatalogueStore::GetScheduledProject(const domain::Slug& slug) {
  return impl_->WithConnection([&](Connection& conn) -> Result<domain::Project> {
    auto stmt = conn.Prepare(kGetScheduledProject);
    if (!stmt) return Fail(stmt.error());
    auto row = stmt->Bind(slug.str()).Step();
    if (!row) return Fail(row.error());
    if (!*row) return Fail(ErrorCode::kNotFound, "Project not found.");
    return ReadScheduled<domain::Project>(*stmt, ReadProject, 9);
  });
}

}  // namespace socle::adapters::sqlite
