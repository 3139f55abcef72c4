#include "socle/adapters/postgres/postgres_catalogue_store.hpp"

#include <charconv>
#include <cstdio>
#include <string_view>
#include <utility>
#include <vector>

#include "connection.hpp"
#include "postgres_catalogue_audit.hpp"
#include "project_role.hpp"
#include "socle/adapters/bounded_pool.hpp"
#include "socle/adapters/json/project_settings_json.hpp"
#include "socle/adapters/migration.hpp"
#include "socle/adapters/postgres/identifier.hpp"

namespace socle::adapters::postgres {

using application::DeleteMode;
using application::MigrationReport;
using domain::Error;
using domain::ErrorCode;
using domain::Fail;
using domain::Result;

namespace {

// ---- SQL, as named constants; every value is bound ($n). --------------------------------------
// Timestamps go in as RFC 3339 text with microseconds and come out as integer microseconds
// (extract(epoch) is numeric, hence exact, since PostgreSQL 14): both directions are exact.

// The first statement of a transaction that must read several statements from one snapshot.
constexpr char kRepeatableRead[] = "SET TRANSACTION ISOLATION LEVEL REPEATABLE READ";

// A fixed key ("SocleMig") for pg_advisory_lock: every Socle server migrating this database
// takes the same session lock, so migrations run one server at a time.
constexpr std::int64_t kMigrationLockKey = 0x536f636c654d6967;
// Migrations run on a dedicated connection whose statements may legitimately take longer than
// a request (an index on a large table, or waiting for another server's migrations), but not
// forever.
constexpr std::chrono::milliseconds kMigrationStatementTimeout{10 * 60 * 1000};

constexpr char kCreateMigrationTable[] =
    "CREATE SCHEMA IF NOT EXISTS socle;"
    "CREATE TABLE IF NOT EXISTS socle.schema_migrations ("
    " version integer NOT NULL PRIMARY KEY,"
    " name text NOT NULL,"
    " applied_at timestamptz NOT NULL DEFAULT now())";
constexpr Statement kAdvisoryLock{"", "SELECT pg_catalog.pg_advisory_lock($1::int8)", 1};
constexpr Statement kAdvisoryUnlock{"", "SELECT pg_catalog.pg_advisory_unlock($1::int8)", 1};
constexpr Statement kCurrentVersion{
    "", "SELECT coalesce(max(version), 0) FROM socle.schema_migrations", 0};
constexpr Statement kRecordMigration{
    "", "INSERT INTO socle.schema_migrations (version, name) VALUES ($1::int4, $2::text)", 2};

constexpr Statement kPing{"socle_ping", "SELECT 1", 0};

constexpr Statement kUpsertRegion{
    "socle_upsert_region",
    "INSERT INTO socle.regions (name, store_url) VALUES ($1::text, $2::text)"
    " ON CONFLICT (name) DO UPDATE SET store_url = EXCLUDED.store_url",
    2};
constexpr Statement kGetRegion{
    "socle_get_region", "SELECT name, store_url FROM socle.regions WHERE name = $1::text", 1};
constexpr Statement kListRegions{
    "socle_list_regions", "SELECT name, store_url FROM socle.regions ORDER BY name", 0};

constexpr Statement kInsertOrganisation{
    "socle_insert_organisation",
    "INSERT INTO socle.organisations (id, slug, name, region, tier, created, updated)"
    " VALUES ($1::text, $2::text, $3::text, $4::text, $5::text, $6::timestamptz,"
    " $7::timestamptz)",
    7};
// Lookups, listings and updates see live rows only (deleted IS NULL); a project is live when
// its organisation is too. The purge (Delete*) and the Schedule/Restore statements see them all.
constexpr Statement kGetOrganisation{
    "socle_get_organisation",
    "SELECT o.id, o.slug, o.name, o.region, o.tier,"
    " (extract(epoch FROM o.created) * 1000000)::int8 AS created_us,"
    " (extract(epoch FROM o.updated) * 1000000)::int8 AS updated_us"
    " FROM socle.organisations AS o WHERE o.slug = $1::text AND o.deleted IS NULL",
    1};
constexpr Statement kGetOrganisationById{
    "socle_get_organisation_by_id",
    "SELECT o.id, o.slug, o.name, o.region, o.tier,"
    " (extract(epoch FROM o.created) * 1000000)::int8 AS created_us,"
    " (extract(epoch FROM o.updated) * 1000000)::int8 AS updated_us"
    " FROM socle.organisations AS o WHERE o.id = $1::text AND o.deleted IS NULL",
    1};
// One statement reads the total and the page from the same snapshot; the LEFT JOIN keeps the
// total when the page is past the end (one row of NULLs).
constexpr Statement kListOrganisations{
    "socle_list_organisations",
    "SELECT t.total, page.* FROM"
    " (SELECT count(*) AS total FROM socle.organisations WHERE deleted IS NULL) AS t"
    " LEFT JOIN (SELECT o.id, o.slug, o.name, o.region, o.tier,"
    "            (extract(epoch FROM o.created) * 1000000)::int8 AS created_us,"
    "            (extract(epoch FROM o.updated) * 1000000)::int8 AS updated_us"
    "            FROM socle.organisations AS o WHERE o.deleted IS NULL"
    "            ORDER BY o.slug LIMIT $1::int8 OFFSET $2::int8) AS page ON true"
    " ORDER BY page.slug",
    2};
constexpr Statement kUpdateOrganisation{
    "socle_update_organisation",
    "UPDATE socle.organisations SET name = $2::text, updated = $3::timestamptz"
    " WHERE id = $1::text AND deleted IS NULL",
    3};
// FOR UPDATE: a concurrent InsertProject for this organisation waits on its foreign key check
// until the deletion commits, then fails; no project can slip in between count and delete.
constexpr Statement kLockOrganisation{
    "socle_lock_organisation", "SELECT 1 FROM socle.organisations WHERE id = $1::text FOR UPDATE",
    1};
// Every project, and whether it is live (not scheduled on its own).
constexpr Statement kProjectIdsOfOrganisation{
    "socle_project_ids_of_organisation",
    "SELECT id, deleted IS NULL FROM socle.projects WHERE org_id = $1::text ORDER BY id"
    " FOR UPDATE",
    1};
constexpr Statement kDeleteProjectsOfOrganisation{
    "socle_delete_projects_of_organisation", "DELETE FROM socle.projects WHERE org_id = $1::text",
    1};
constexpr Statement kDeleteOrganisation{
    "socle_delete_organisation", "DELETE FROM socle.organisations WHERE id = $1::text", 1};

// Inserts nothing (0 rows) when the organisation is missing or scheduled. FOR KEY SHARE, as the
// foreign key check would take: a concurrent ScheduleOrganisationDeletion (FOR UPDATE) makes
// this wait for its commit and then see the organisation scheduled.
constexpr Statement kInsertProject{
    "socle_insert_project",
    "INSERT INTO socle.projects (id, slug, name, org_id, created, updated)"
    " SELECT $1::text, $2::text, $3::text, o.id, $5::timestamptz, $6::timestamptz"
    " FROM socle.organisations AS o WHERE o.id = $4::text AND o.deleted IS NULL"
    " FOR KEY SHARE OF o",
    6};
// What places an organisation's projects: its tier, and its region's cluster URL.
constexpr Statement kPlacementOfOrganisation{
    "socle_placement_of_organisation",
    "SELECT o.tier, coalesce(r.store_url, '') FROM socle.organisations AS o"
    " LEFT JOIN socle.regions AS r ON r.name = o.region WHERE o.id = $1::text",
    1};
constexpr Statement kGetProjectById{
    "socle_get_project_by_id",
    "SELECT p.id, p.slug, p.name, p.org_id, o.slug AS org_slug, o.region AS org_region,"
    " o.tier AS org_tier,"
    " (extract(epoch FROM p.created) * 1000000)::int8 AS created_us,"
    " (extract(epoch FROM p.updated) * 1000000)::int8 AS updated_us"
    " FROM socle.projects AS p JOIN socle.organisations AS o ON o.id = p.org_id"
    " WHERE p.id = $1::text AND p.deleted IS NULL AND o.deleted IS NULL",
    1};
constexpr Statement kGetProject{
    "socle_get_project",
    "SELECT p.id, p.slug, p.name, p.org_id, o.slug AS org_slug, o.region AS org_region,"
    " o.tier AS org_tier,"
    " (extract(epoch FROM p.created) * 1000000)::int8 AS created_us,"
    " (extract(epoch FROM p.updated) * 1000000)::int8 AS updated_us"
    " FROM socle.projects AS p JOIN socle.organisations AS o ON o.id = p.org_id"
    " WHERE p.slug = $1::text AND p.deleted IS NULL AND o.deleted IS NULL",
    1};
constexpr Statement kListProjects{
    "socle_list_projects",
    "SELECT t.total, page.* FROM"
    " (SELECT count(*) AS total"
    "  FROM socle.projects AS p JOIN socle.organisations AS o ON o.id = p.org_id"
    "  WHERE p.deleted IS NULL AND o.deleted IS NULL) AS t"
    " LEFT JOIN (SELECT p.id, p.slug, p.name, p.org_id, o.slug AS org_slug, o.region AS org_region,"
    " o.tier AS org_tier,"
    "            (extract(epoch FROM p.created) * 1000000)::int8 AS created_us,"
    "            (extract(epoch FROM p.updated) * 1000000)::int8 AS updated_us"
    "            FROM socle.projects AS p JOIN socle.organisations AS o ON o.id = p.org_id"
    "            WHERE p.deleted IS NULL AND o.deleted IS NULL"
    "            ORDER BY p.slug LIMIT $1::int8 OFFSET $2::int8) AS page ON true"
    " ORDER BY page.slug",
    2};
constexpr Statement kListProjectsOfOrganisation{
    "socle_list_projects_of_organisation",
    "SELECT t.total, page.* FROM"
    " (SELECT count(*) AS total"
    "  FROM socle.projects AS p JOIN socle.organisations AS o ON o.id = p.org_id"
    "  WHERE p.org_id = $3::text AND p.deleted IS NULL AND o.deleted IS NULL) AS t"
    " LEFT JOIN (SELECT p.id, p.slug, p.name, p.org_id, o.slug AS org_slug, o.region AS org_region,"
    " o.tier AS org_tier,"
    "            (extract(epoch FROM p.created) * 1000000)::int8 AS created_us,"
    "            (extract(epoch FROM p.updated) * 1000000)::int8 AS updated_us"
    "            FROM socle.projects AS p JOIN socle.organisations AS o ON o.id = p.org_id"
    "            WHERE p.org_id = $3::text AND p.deleted IS NULL AND o.deleted IS NULL"
    "            ORDER BY p.slug LIMIT $1::int8 OFFSET $2::int8) AS page ON true"
    " ORDER BY page.slug",
    3};
constexpr Statement kUpdateProject{
    "socle_update_project",
    "UPDATE socle.projects AS p SET name = $2::text, updated = $3::timestamptz"
    " FROM socle.organisations AS o"
    " WHERE p.id = $1::text AND p.deleted IS NULL AND o.id = p.org_id AND o.deleted IS NULL",
    3};
constexpr Statement kDeleteProject{
    "socle_delete_project", "DELETE FROM socle.projects WHERE id = $1::text", 1};

// One row per live project: its settings, or NULL when it has none (no row: no such project).
constexpr Statement kGetProjectSettings{
    "socle_get_project_settings",
    "SELECT s.value::text FROM socle.projects AS p"
    " JOIN socle.organisations AS o ON o.id = p.org_id"
    " LEFT JOIN socle.project_settings AS s ON s.project_id = p.id"
    " WHERE p.id = $1::text AND p.deleted IS NULL AND o.deleted IS NULL",
    1};
// Writes nothing (0 rows) when the project does not exist or is hidden; one statement, hence
// atomic and idempotent (see Impl::Run).
constexpr Statement kPutProjectSettings{
    "socle_put_project_settings",
    "INSERT INTO socle.project_settings (project_id, value, updated)"
    " SELECT p.id, $2::jsonb, $3::timestamptz"
    " FROM socle.projects AS p JOIN socle.organisations AS o ON o.id = p.org_id"
    " WHERE p.id = $1::text AND p.deleted IS NULL AND o.deleted IS NULL"
    " ON CONFLICT (project_id) DO UPDATE SET value = EXCLUDED.value, updated = EXCLUDED.updated",
    3};

// ---- scheduled deletions

// FOR UPDATE conflicts with the FOR KEY SHARE of kInsertProject: no project is added to the
// organisation between the count of its live projects and its scheduling.
constexpr Statement kLockLiveOrganisation{
    "socle_lock_live_organisation",
    "SELECT 1 FROM socle.organisations WHERE id = $1::text AND deleted IS NULL FOR UPDATE", 1};
constexpr Statement kCountLiveProjectsOfOrganisation{
    "socle_count_live_projects_of_organisation",
    "SELECT count(*) FROM socle.projects WHERE org_id = $1::text AND deleted IS NULL", 1};
constexpr Statement kScheduleOrganisation{
    "socle_schedule_organisation",
    "UPDATE socle.organisations SET deleted = $2::timestamptz WHERE id = $1::text", 2};
// A row when the project and its organisation are live; FOR SHARE OF o: the organisation
// cannot be scheduled or restored until the project's scheduling commits.
constexpr Statement kLockLiveProject{
    "socle_lock_live_project",
    "SELECT 1 FROM socle.projects AS p JOIN socle.organisations AS o ON o.id = p.org_id"
    " WHERE p.id = $1::text AND p.deleted IS NULL AND o.deleted IS NULL"
    " FOR UPDATE OF p FOR SHARE OF o",
    1};
constexpr Statement kScheduleProject{
    "socle_schedule_project",
    "UPDATE socle.projects SET deleted = $2::timestamptz WHERE id = $1::text", 2};
// Whether the organisation exists (a row) and is scheduled; locked until the restore commits.
constexpr Statement kLockOrganisationState{
    "socle_lock_organisation_state",
    "SELECT deleted IS NOT NULL FROM socle.organisations WHERE id = $1::text FOR UPDATE", 1};
constexpr Statement kRestoreOrganisation{
    "socle_restore_organisation",
    "UPDATE socle.organisations SET deleted = NULL WHERE id = $1::text", 1};
// The project's state and its organisation's (a row when the project exists), both locked
// until the restore commits.
constexpr Statement kLockProjectState{
    "socle_lock_project_state",
    "SELECT p.deleted IS NOT NULL, o.deleted IS NOT NULL"
    " FROM socle.projects AS p JOIN socle.organisations AS o ON o.id = p.org_id"
    " WHERE p.id = $1::text FOR UPDATE OF p FOR SHARE OF o",
    1};
constexpr Statement kRestoreProject{
    "socle_restore_project", "UPDATE socle.projects SET deleted = NULL WHERE id = $1::text", 1};
constexpr Statement kListScheduledOrganisations{
    "socle_list_scheduled_organisations",
    "SELECT o.id, o.slug, o.name, o.region, o.tier,"
    " (extract(epoch FROM o.created) * 1000000)::int8 AS created_us,"
    " (extract(epoch FROM o.updated) * 1000000)::int8 AS updated_us,"
    " (extract(epoch FROM o.deleted) * 1000000)::int8 AS deleted_us"
    " FROM socle.organisations AS o WHERE o.deleted IS NOT NULL ORDER BY o.slug",
    0};
constexpr Statement kGetScheduledOrganisation{
    "socle_get_scheduled_organisation",
    "SELECT o.id, o.slug, o.name, o.region, o.tier,"
    " (extract(epoch FROM o.created) * 1000000)::int8 AS created_us,"
    " (extract(epoch FROM o.updated) * 1000000)::int8 AS updated_us,"
    " (extract(epoch FROM o.deleted) * 1000000)::int8 AS deleted_us"
    " FROM socle.organisations AS o WHERE o.slug = $1::text AND o.deleted IS NOT NULL",
    1};
// The projects scheduled on their own, and those of scheduled organisations: two indexed
// halves rather than one OR that would scan every project; UNION drops the rows both give. A
// hidden project's deletion time is the earlier of its own and its organisation's (least()
// skips NULLs).
constexpr Statement kListScheduledProjects{
    "socle_list_scheduled_projects",
    "SELECT p.id, p.slug, p.name, p.org_id, o.slug AS org_slug, o.region AS org_region,"
    " o.tier AS org_tier,"
    " (extract(epoch FROM p.created) * 1000000)::int8 AS created_us,"
    " (extract(epoch FROM p.updated) * 1000000)::int8 AS updated_us,"
    " (extract(epoch FROM least(p.deleted, o.deleted)) * 1000000)::int8 AS deleted_us"
    " FROM socle.projects AS p JOIN socle.organisations AS o ON o.id = p.org_id"
    " WHERE p.deleted IS NOT NULL"
    " UNION"
    " SELECT p.id, p.slug, p.name, p.org_id, o.slug AS org_slug, o.region AS org_region,"
    " o.tier AS org_tier,"
    " (extract(epoch FROM p.created) * 1000000)::int8 AS created_us,"
    " (extract(epoch FROM p.updated) * 1000000)::int8 AS updated_us,"
    " (extract(epoch FROM least(p.deleted, o.deleted)) * 1000000)::int8 AS deleted_us"
    " FROM socle.organisations AS o JOIN socle.projects AS p ON p.org_id = o.id"
    " WHERE o.deleted IS NOT NULL"
    " ORDER BY 2",
    0};
constexpr Statement kGetScheduledProject{
    "socle_get_scheduled_project",
    "SELECT p.id, p.slug, p.name, p.org_id, o.slug AS org_slug, o.region AS org_region,"
    " o.tier AS org_tier,"
    " (extract(epoch FROM p.created) * 1000000)::int8 AS created_us,"
    " (extract(epoch FROM p.updated) * 1000000)::int8 AS updated_us,"
    " (extract(epoch FROM least(p.deleted, o.deleted)) * 1000000)::int8 AS deleted_us"
    " FROM socle.projects AS p JOIN socle.organisations AS o ON o.id = p.org_id"
    " WHERE p.slug = $1::text AND (p.deleted IS NOT NULL OR o.deleted IS NOT NULL)",
    1};

// DDL cannot take parameters: the one varying part, the schema name, is built from a
// validated Id and goes through QuoteIdentifier.
constexpr std::string_view kCreateSchema = "CREATE SCHEMA ";
constexpr std::string_view kDropSchema = "DROP SCHEMA IF EXISTS ";
constexpr std::string_view kDropSchemaSuffix = " CASCADE";

// ---- helpers -----------------------------------------------------------------------------------

Result<std::string> ProjectSchemaDdl(std::string_view prefix, const domain::Id& project_id,
                                     std::string_view suffix = {}) {
  auto quoted = QuoteIdentifier(ProjectSchemaName(project_id));
  if (!quoted) return Fail(quoted.error());
  return std::string(prefix) + *quoted + std::string(suffix);
}

Result<std::int64_t> Int(const PgResult& result, int row, int column) {
  const std::string_view text = result.Text(row, column);
  std::int64_t value = 0;
  auto [end, ec] = std::from_chars(text.data(), text.data() + text.size(), value);
  if (ec != std::errc() || end != text.data() + text.size()) {
    return Fail(Error::Internal("expected an integer from PostgreSQL, got: " + std::string(text)));
  }
  return value;
}

// Rows are read back through the domain parsers: a row that fails them was written by
// something else than this adapter, which is an internal error, not the caller's.
template <typename T>
Result<T> Column(Result<T> parsed, std::string_view column) {
  if (parsed) return parsed;
  return Fail(Error::Internal("stored " + std::string(column) + " is malformed: " +
                              parsed.error().message));
}

Result<domain::Timestamp> Micros(const PgResult& result, int row, int column) {
  auto micros = Int(result, row, column);
  if (!micros) return Fail(micros.error());
  return domain::Timestamp::FromUnixMicros(*micros);
}

Result<domain::Region> ReadRegion(const PgResult& r, int row, int first) {
  auto name = Column(domain::Slug::Parse(r.Text(row, first)), "regions.name");
  if (!name) return Fail(name.error());
  return domain::Region{*name, std::string(r.Text(row, first + 1))};
}

Result<domain::Organisation> ReadOrganisation(const PgResult& r, int row, int first) {
  auto id = Column(domain::Id::Parse(r.Text(row, first)), "organisations.id");
  auto slug = Column(domain::Slug::Parse(r.Text(row, first + 1)), "organisations.slug");
  auto name = Column(domain::DisplayName::Parse(r.Text(row, first + 2)), "organisations.name");
  auto region = Column(domain::Slug::Parse(r.Text(row, first + 3)), "organisations.region");
  auto tier = Column(domain::ParseIsolationTier(r.Text(row, first + 4)), "organisations.tier");
  auto created = Micros(r, row, first + 5);
  auto updated = Micros(r, row, first + 6);
  if (!id) return Fail(id.error());
  if (!slug) return Fail(slug.error());
  if (!name) return Fail(name.error());
  if (!region) return Fail(region.error());
  if (!tier) return Fail(tier.error());
  if (!created) return Fail(created.error());
  if (!updated) return Fail(updated.error());
  return domain::Organisation{*id, *slug, *name, *region, *tier, *created, *updated};
}

Result<domain::Project> ReadProject(const PgResult& r, int row, int first) {
  auto id = Column(domain::Id::Parse(r.Text(row, first)), "projects.id");
  auto slug = Column(domain::Slug::Parse(r.Text(row, first + 1)), "projects.slug");
  auto name = Column(domain::DisplayName::Parse(r.Text(row, first + 2)), "projects.name");
  auto org_id = Column(domain::Id::Parse(r.Text(row, first + 3)), "projects.org_id");
  auto org_slug = Column(domain::Slug::Parse(r.Text(row, first + 4)), "organisations.slug");
  auto region = Column(domain::Slug::Parse(r.Text(row, first + 5)), "organisations.region");
  auto tier = Column(domain::ParseIsolationTier(r.Text(row, first + 6)), "organisations.tier");
  auto created = Micros(r, row, first + 7);
  auto updated = Micros(r, row, first + 8);
  if (!id) return Fail(id.error());
  if (!slug) return Fail(slug.error());
  if (!name) return Fail(name.error());
  if (!org_id) return Fail(org_id.error());
  if (!org_slug) return Fail(org_slug.error());
  if (!region) return Fail(region.error());
  if (!tier) return Fail(tier.error());
  if (!created) return Fail(created.error());
  if (!updated) return Fail(updated.error());
  domain::Project project{*id, *slug, *name, *org_id, *org_slug, *created, *updated};
  project.org_region = std::move(*region);
  project.org_tier = *tier;
  return project;
}

// A row of the scheduled listings: the item's columns from the first, then its deletion time.
template <typename T, typename Reader>
Result<T> ReadScheduled(const PgResult& r, int row, Reader read, int deleted_column) {
  auto item = read(r, row, 0);
  if (!item) return Fail(item.error());
  auto deleted = Micros(r, row, deleted_column);
  if (!deleted) return Fail(deleted.error());
  item->deleted = *deleted;
  return item;
}

// Reads a page query shaped "total, columns of one item ..." into a PageOf.
template <typename T, typename Reader>
Result<domain::PageOf<T>> ReadPage(const PgResult& r, const domain::PageRequest& page,
                                   Reader read) {
  domain::PageOf<T> out;
  out.page = page.page;
  out.per_page = page.per_page;
  for (int row = 0; row < r.Rows(); ++row) {
    auto total = Int(r, row, 0);
    if (!total) return Fail(total.error());
    out.total_items = *total;
    if (r.IsNull(row, 1)) continue;  // the page is past the end: only the total came back
    auto item = read(r, row, 1);
    if (!item) return Fail(item.error());
    out.items.push_back(std::move(*item));
  }
  return out;
}

// Refines the generic "key already exists" message with the constraint PostgreSQL named.
Error Conflict(Error error, const Connection& conn, std::string_view table, std::string_view what) {
  if (error.code != ErrorCode::kAlreadyExists) return error;
  const bool slug = conn.last_constraint() == std::string(table) + "_slug_key";
  error.message = std::string(what) + (slug ? " with this slug" : " with this id") +
                  " already exists.";
  return error;
}

std::string MigrationLabel(const Migration& migration) {
  char number[16];
  std::snprintf(number, sizeof number, "%04d_", migration.version);
  return number + std::string(migration.name);
}

}  // namespace

struct PostgresCatalogueStore::Impl {
  // A connection that broke, or that a failed ROLLBACK left inside a transaction, is closed
  // rather than lent again, and so is one whose backend was terminated while it sat idle
  // (IsReusable() reads what the server sent meanwhile).
  explicit Impl(const PostgresOptions& options)
      : settings{options.url, std::chrono::milliseconds(options.connect_timeout_ms),
                 std::chrono::milliseconds(options.statement_timeout_ms)},
        pool([this] { return Connection::Open(settings); },
             [](Connection& conn) { return conn.IsReusable(); }, options.pool_size,
             std::chrono::milliseconds(options.acquire_timeout_ms)) {}

  // Runs `op` on a pooled connection. A connection that died while idle in the pool (server
  // restart, pg_terminate_backend, a network cut the pool could not see) is lost on its first
  // round trip, before anything took effect. Every operation here is either idempotent or
  // starts with BEGIN, so it is then retried once, on a fresh connection. A timeout is not
  // retried: the server is slow or hung, and a retry would only double the caller's wait.
  template <typename Op>
  auto Run(Op&& op) -> decltype(op(std::declval<Connection&>())) {
    for (int attempt = 1;; ++attempt) {
      auto lease = pool.Acquire();
      if (!lease) return Fail(lease.error());
      Connection& conn = **lease;
      conn.ResetUsage();
      auto result = op(conn);
      const bool lost_before_any_effect = !result && conn.broken() && conn.round_trips() == 0 &&
                                          result.error().code == ErrorCode::kUnavailable;
      if (attempt > 1 || !lost_before_any_effect) return result;
    }
  }

  const ConnectionSettings settings;  // of every pooled connection
  BoundedPool<Connection> pool;
};

PostgresCatalogueStore::PostgresCatalogueStore(std::unique_ptr<Impl> impl)
    : impl_(std::move(impl)) {}
PostgresCatalogueStore::~PostgresCatalogueStore() = default;

Result<void> PostgresCatalogueStore::OnConnection(
    const std::function<Result<void>(Connection&)>& op) {
  return impl_->Run(op);
}

Result<std::unique_ptr<PostgresCatalogueStore>> PostgresCatalogueStore::Open(
    const PostgresOptions& options) {
  auto impl = std::make_unique<Impl>(options);
  {
    auto first = impl->pool.Acquire();  // a bad URL or an unreachable server fails here
    if (!first) return Fail(first.error());
  }
  return std::unique_ptr<PostgresCatalogueStore>(new PostgresCatalogueStore(std::move(impl)));
}

Result<MigrationReport> PostgresCatalogueStore::Migrate() {
  const auto migrations = migrations::postgres();
  const int newest = migrations.empty() ? 0 : migrations.back().version;

  // A dedicated connection: the advisory lock belongs to its session, which ends (releasing
  // the lock) however this function returns.
  ConnectionSettings settings = impl_->settings;
  settings.statement_timeout = kMigrationStatementTimeout;
  auto opened = Connection::Open(settings);
  if (!opened) return Fail(opened.error());
  Connection& conn = **opened;

  const std::string lock_key = std::to_string(kMigrationLockKey);
  if (auto locked = conn.Execute(kAdvisoryLock, {lock_key}); !locked) return Fail(locked.error());
  auto current_version = [&]() -> Result<int> {
    auto rows = conn.Execute(kCurrentVersion);
    if (!rows) return Fail(rows.error());
    auto version = Int(*rows, 0, 0);
    if (!version) return Fail(version.error());
    return static_cast<int>(*version);
  };

  auto report = [&]() -> Result<MigrationReport> {
    if (auto created = conn.Script(kCreateMigrationTable); !created) {
      return Fail(created.error());
    }
    auto start = current_version();
    if (!start) return Fail(start.error());
    MigrationReport out;
    out.from_version = out.to_version = *start;
    if (*start > newest) {
      return Fail(ErrorCode::kFailedPrecondition,
                  "The catalogue schema (version " + std::to_string(*start) +
                      ") is newer than this build of Socle (version " + std::to_string(newest) +
                      "); run a newer release.");
    }
    // One transaction per migration, with its schema_migrations row: a failure leaves the
    // database at the last complete version. The advisory lock makes this the only migrator.
    for (const Migration& migration : migrations) {
      if (migration.version <= out.to_version) continue;
      auto applied = InTransaction(conn, [&]() -> Result<void> {
        if (auto ran = conn.Script(std::string(migration.sql)); !ran) return Fail(ran.error());
        auto recorded = conn.Execute(
            kRecordMigration, {std::to_string(migration.version), std::string(migration.name)});
        if (!recorded) return Fail(recorded.error());
        return {};
      });
      if (!applied) return Fail(applied.error());
      out.applied.push_back(MigrationLabel(migration));
      out.to_version = migration.version;
    }
    return out;
  }();
  if (!conn.broken()) (void)conn.Execute(kAdvisoryUnlock, {lock_key});
  return report;
}

Result<void> PostgresCatalogueStore::Ping() {
  return impl_->Run([](Connection& conn) -> Result<void> {
    auto pong = conn.Execute(kPing);
    if (!pong) return Fail(pong.error());
    return {};
  });
}

Result<void> PostgresCatalogueStore::UpsertRegion(const domain::Region& region) {
  // In a transaction although it is one statement: the write transaction is where an audited
  // change's events go (CatalogueWrite).
  return impl_->Run([&](Connection& conn) {
    return CatalogueWrite(conn, this, [&]() -> Result<void> {
      auto done = conn.Execute(kUpsertRegion, {region.name.str(), region.store_url});
      if (!done) return Fail(done.error());
      return {};
    });
  });
}

Result<domain::Region> PostgresCatalogueStore::GetRegion(const domain::Slug& name) {
  return impl_->Run([&](Connection& conn) -> Result<domain::Region> {
    auto rows = conn.Execute(kGetRegion, {name.str()});
    if (!rows) return Fail(rows.error());
    if (rows->Rows() == 0) return Fail(ErrorCode::kNotFound, "Region not found.");
    return ReadRegion(*rows, 0, 0);
  });
}

Result<std::vector<domain::Region>> PostgresCatalogueStore::ListRegions() {
  return impl_->Run([&](Connection& conn) -> Result<std::vector<domain::Region>> {
    auto rows = conn.Execute(kListRegions);
    if (!rows) return Fail(rows.error());
    std::vector<domain::Region> out;
    for (int row = 0; row < rows->Rows(); ++row) {
      auto region = ReadRegion(*rows, row, 0);
      if (!region) return Fail(region.error());
      out.push_back(std::move(*region));
    }
    return out;
  });
}

Result<void> PostgresCatalogueStore::InsertOrganisation(const domain::Organisation& org) {
  return impl_->Run([&](Connection& conn) {
    // In a transaction although it is one statement: a retry must not follow an insert that
    // might have committed (see Impl::Run).
    return CatalogueWrite(conn, this, [&]() -> Result<void> {
      auto done = conn.Execute(kInsertOrganisation,
                               {org.id.str(), org.slug.str(), org.name.str(), org.region.str(),
                                std::string(domain::ToString(org.tier)), org.created.ToIso8601(),
                                org.updated.ToIso8601()});
      if (done) return {};
      Error error = Conflict(std::move(done.error()), conn, "organisations", "An organisation");
      if (error.code == ErrorCode::kFailedPrecondition) {
        error.message = "The organisation's region does not exist.";  // the region foreign key
      }
      return Fail(std::move(error));
    });
  });
}

Result<domain::Organisation> PostgresCatalogueStore::GetOrganisation(const domain::Slug& slug) {
  return impl_->Run([&](Connection& conn) -> Result<domain::Organisation> {
    auto rows = conn.Execute(kGetOrganisation, {slug.str()});
    if (!rows) return Fail(rows.error());
    if (rows->Rows() == 0) return Fail(ErrorCode::kNotFound, "Organisation not found.");
    return ReadOrganisation(*rows, 0, 0);
  });
}

Result<domain::Organisation> PostgresCatalogueStore::GetOrganisationById(const domain::Id& id) {
  return impl_->Run([&](Connection& conn) -> Result<domain::Organisation> {
    auto rows = conn.Execute(kGetOrganisationById, {id.str()});
    if (!rows) return Fail(rows.error());
    if (rows->Rows() == 0) return Fail(ErrorCode::kNotFound, "Organisation not found.");
    return ReadOrganisation(*rows, 0, 0);
  });
}

Result<domain::PageOf<domain::Organisation>> PostgresCatalogueStore::ListOrganisations(
    const domain::PageRequest& page) {
  return impl_->Run([&](Connection& conn) -> Result<domain::PageOf<domain::Organisation>> {
    auto rows = conn.Execute(kListOrganisations,
                             {std::to_string(page.per_page), std::to_string(page.Offset())});
    if (!rows) return Fail(rows.error());
    return ReadPage<domain::Organisation>(*rows, page, ReadOrganisation);
  });
}

Result<void> PostgresCatalogueStore::UpdateOrganisation(const domain::Organisation& org) {
  return impl_->Run([&](Connection& conn) {
    return CatalogueWrite(conn, this, [&]() -> Result<void> {
      auto done = conn.Execute(kUpdateOrganisation,
                               {org.id.str(), org.name.str(), org.updated.ToIso8601()});
      if (!done) return Fail(done.error());
      if (done->Affected() == 0) return Fail(ErrorCode::kNotFound, "Organisation not found.");
      return {};
    });
  });
}

Result<std::int64_t> PostgresCatalogueStore::DeleteOrganisation(const domain::Id& org_id,
                                                                DeleteMode mode) {
  return impl_->Run([&](Connection& conn) {
    return CatalogueWrite(conn, this, [&]() -> Result<std::int64_t> {
      auto org = conn.Execute(kLockOrganisation, {org_id.str()});
      if (!org) return Fail(org.error());
      if (org->Rows() == 0) return Fail(ErrorCode::kNotFound, "Organisation not found.");

      auto projects = conn.Execute(kProjectIdsOfOrganisation, {org_id.str()});
      if (!projects) return Fail(projects.error());
      const int count = projects->Rows();
      bool has_live = false;
      for (int row = 0; row < count; ++row) has_live = has_live || projects->Text(row, 1) == "t";
      if (has_live && mode == DeleteMode::kRefuseIfProjects) {
        return Fail(ErrorCode::kFailedPrecondition,
                    "The organisation still has projects; delete them first or force the "
                    "deletion.");
      }
      if (auto done = conn.Execute(kDeleteProjectsOfOrganisation, {org_id.str()}); !done) {
        return Fail(done.error());
      }
      // Each project's schema goes in the same transaction as its row: both or neither.
      for (int row = 0; row < count; ++row) {
        auto id = Column(domain::Id::Parse(projects->Text(row, 0)), "projects.id");
        if (!id) return Fail(id.error());
        auto drop = ProjectSchemaDdl(kDropSchema, *id, kDropSchemaSuffix);
        if (!drop) return Fail(drop.error());
        if (auto dropped = conn.Script(*drop); !dropped) return Fail(dropped.error());
        if (auto role = DropProjectRole(conn, *id); !role) return Fail(role.error());
      }
      if (auto done = conn.Execute(kDeleteOrganisation, {org_id.str()}); !done) {
        return Fail(done.error());
      }
      return static_cast<std::int64_t>(count);
    });
  });
}

Result<void> PostgresCatalogueStore::InsertProject(const domain::Project& project) {
  return impl_->Run([&](Connection& conn) {
    return CatalogueWrite(conn, this, [&]() -> Result<void> {
      auto done = conn.Execute(kInsertProject,
                               {project.id.str(), project.slug.str(), project.name.str(),
                                project.org_id.str(), project.created.ToIso8601(),
                                project.updated.ToIso8601()});
      if (done && done->Affected() == 0) {
        return Fail(ErrorCode::kNotFound, "Organisation not found.");  // missing or scheduled
      }
      if (!done) {
        Error error = Conflict(std::move(done.error()), conn, "projects", "A project");
        if (error.code == ErrorCode::kFailedPrecondition) {
          // The only foreign key is the organisation, and the port names this case not_found.
          error.code = ErrorCode::kNotFound;
          error.message = "Organisation not found.";
        }
        return Fail(std::move(error));
      }
      // The project's own schema is created with its row, both or neither, when the project
      // lives in this database (its organisation's placement is the instance's own).
      auto placed = conn.Execute(kPlacementOfOrganisation, {project.org_id.str()});
      if (!placed) return Fail(placed.error());
      if (placed->Rows() != 1) return Fail(ErrorCode::kNotFound, "Organisation not found.");
      auto tier = Column(domain::ParseIsolationTier(placed->Text(0, 0)), "organisations.tier");
      if (!tier) return Fail(tier.error());
      domain::Region region{project.slug, std::string(placed->Text(0, 1))};  // name unused
      if (!domain::PlacementOf(region, *tier, project.org_id).own()) return {};
      auto create = ProjectSchemaDdl(kCreateSchema, project.id);
      if (!create) return Fail(create.error());
      if (auto created = conn.Script(*create); !created) return Fail(created.error());
      return {};
    });
  });
}

Result<domain::Project> PostgresCatalogueStore::GetProject(const domain::Slug& slug) {
  return impl_->Run([&](Connection& conn) -> Result<domain::Project> {
    auto rows = conn.Execute(kGetProject, {slug.str()});
    if (!rows) return Fail(rows.error());
    if (rows->Rows() == 0) return Fail(ErrorCode::kNotFound, "Project not found.");
    return ReadProject(*rows, 0, 0);
  });
}

Result<domain::Project> PostgresCatalogueStore::GetProjectById(const domain::Id& id) {
  return impl_->Run([&](Connection& conn) -> Result<domain::Project> {
    auto rows = conn.Execute(kGetProjectById, {id.str()});
    if (!rows) return Fail(rows.error());
    if (rows->Rows() == 0) return Fail(ErrorCode::kNotFound, "Project not found.");
    return ReadProject(*rows, 0, 0);
  });
}

Result<domain::PageOf<domain::Project>> PostgresCatalogueStore::ListProjects(
    const std::optional<domain::Id>& org_id, const domain::PageRequest& page) {
  return impl_->Run([&](Connection& conn) -> Result<domain::PageOf<domain::Project>> {
    Params params{std::to_string(page.per_page), std::to_string(page.Offset())};
    if (org_id) params.emplace_back(org_id->str());
    auto rows = conn.Execute(org_id ? kListProjectsOfOrganisation : kListProjects, params);
    if (!rows) return Fail(rows.error());
    return ReadPage<domain::Project>(*rows, page, ReadProject);
  });
}

Result<void> PostgresCatalogueStore::UpdateProject(const domain::Project& project) {
  return impl_->Run([&](Connection& conn) {
    return CatalogueWrite(conn, this, [&]() -> Result<void> {
      auto done = conn.Execute(kUpdateProject, {project.id.str(), project.name.str(),
                                                project.updated.ToIso8601()});
      if (!done) return Fail(done.error());
      if (done->Affected() == 0) return Fail(ErrorCode::kNotFound, "Project not found.");
      return {};
    });
  });
}

Result<void> PostgresCatalogueStore::DeleteProject(const domain::Id& project_id) {
  return impl_->Run([&](Connection& conn) {
    return CatalogueWrite(conn, this, [&]() -> Result<void> {
      auto done = conn.Execute(kDeleteProject, {project_id.str()});
      if (!done) return Fail(done.error());
      if (done->Affected() == 0) return Fail(ErrorCode::kNotFound, "Project not found.");
      // The schema goes in the same transaction as the row: both or neither.
      auto drop = ProjectSchemaDdl(kDropSchema, project_id, kDropSchemaSuffix);
      if (!drop) return Fail(drop.error());
      if (auto dropped = conn.Script(*drop); !dropped) return Fail(dropped.error());
      // Its role goes with it (kept while another database of the cluster still uses it).
      return DropProjectRole(conn, project_id);
    });
  });
}

Result<std::optional<domain::ProjectSettings>> PostgresCatalogueStore::GetProjectSettings(
    const domain::Id& project_id) {
  return impl_->Run([&](Connection& conn) -> Result<std::optional<domain::ProjectSettings>> {
    auto rows = conn.Execute(kGetProjectSettings, {project_id.str()});
    if (!rows) return Fail(rows.error());
    if (rows->Rows() == 0) return Fail(ErrorCode::kNotFound, "Project not found.");
    if (rows->IsNull(0, 0)) return std::optional<domain::ProjectSettings>();
    auto settings = json::ProjectSettingsFromText(rows->Text(0, 0));
    if (!settings) return Fail(settings.error());
    return std::optional<domain::ProjectSettings>(std::move(*settings));
  });
}

Result<void> PostgresCatalogueStore::PutProjectSettings(const domain::Id& project_id,
                                                        const domain::ProjectSettings& settings,
                                                        domain::Timestamp at) {
  const std::string value = json::ProjectSettingsText(settings);
  return impl_->Run([&](Connection& conn) {
    return CatalogueWrite(conn, this, [&]() -> Result<void> {
      auto done = conn.Execute(kPutProjectSettings, {project_id.str(), value, at.ToIso8601()});
      if (!done) {
        Error error = std::move(done.error());
        // The project was deleted between the statement's read and its insert: the foreign
        // key caught it.
        if (error.code == ErrorCode::kFailedPrecondition &&
            conn.last_constraint() == "project_settings_project_fkey") {
          error.code = ErrorCode::kNotFound;
          error.message = "Project not found.";
        }
        return Fail(std::move(error));
      }
      if (done->Affected() == 0) return Fail(ErrorCode::kNotFound, "Project not found.");
      return {};
    });
  });
}

}  // namespace socle::adapters::postgres

namespace socle::adapters::postgres {

Result<std::int64_t> PostgresCatalogueStore::ScheduleOrganisationDeletion(const domain::Id& org_id,
                                                                          domain::Timestamp at,
                                                                          DeleteMode mode) {
  return impl_->Run([&](Connection& conn) {
    return CatalogueWrite(conn, this, [&]() -> Result<std::int64_t> {
      auto org = conn.Execute(kLockLiveOrganisation, {org_id.str()});
      if (!org) return Fail(org.error());
      if (org->Rows() == 0) return Fail(ErrorCode::kNotFound, "Organisation not found.");
      auto counted = conn.Execute(kCountLiveProjectsOfOrganisation, {org_id.str()});
      if (!counted) return Fail(counted.error());
      auto live = Int(*counted, 0, 0);
      if (!live) return Fail(live.error());
      if (*live > 0 && mode == DeleteMode::kRefuseIfProjects) {
        return Fail(ErrorCode::kFailedPrecondition,
                    "The organisation still has projects; delete them first or force the "
                    "deletion.");
      }
      if (auto done = conn.Execute(kScheduleOrganisation, {org_id.str(), at.ToIso8601()});
          !done) {
        return Fail(done.error());
      }
      return *live;
    });
  });
}

Result<void> PostgresCatalogueStore::ScheduleProjectDeletion(const domain::Id& project_id,
                                                             domain::Timestamp at) {
  return impl_->Run([&](Connection& conn) {
    return CatalogueWrite(conn, this, [&]() -> Result<void> {
      auto live = conn.Execute(kLockLiveProject, {project_id.str()});
      if (!live) return Fail(live.error());
      if (live->Rows() == 0) return Fail(ErrorCode::kNotFound, "Project not found.");
      auto done = conn.Execute(kScheduleProject, {project_id.str(), at.ToIso8601()});
      if (!done) return Fail(done.error());
      return {};
    });
  });
}

Result<void> PostgresCatalogueStore::RestoreOrganisation(const domain::Id& org_id) {
  return impl_->Run([&](Connection& conn) {
    return CatalogueWrite(conn, this, [&]() -> Result<void> {
      auto state = conn.Execute(kLockOrganisationState, {org_id.str()});
      if (!state) return Fail(state.error());
      if (state->Rows() == 0) return Fail(ErrorCode::kNotFound, "Organisation not found.");
      if (state->Text(0, 0) != "t") {
        return Fail(ErrorCode::kFailedPrecondition,
                    "The organisation is not scheduled for deletion.");
      }
      auto done = conn.Execute(kRestoreOrganisation, {org_id.str()});
      if (!done) return Fail(done.error());
      return {};
    });
  });
}

Result<void> PostgresCatalogueStore::RestoreProject(const domain::Id& project_id) {
  return impl_->Run([&](Connection& conn) {
    return CatalogueWrite(conn, this, [&]() -> Result<void> {
      auto state = conn.Execute(kLockProjectState, {project_id.str()});
      if (!state) return Fail(state.error());
      if (state->Rows() == 0) return Fail(ErrorCode::kNotFound, "Project not found.");
      if (state->Text(0, 1) == "t") {
        return Fail(ErrorCode::kFailedPrecondition,
                    "The project's organisation is scheduled for deletion; restore the "
                    "organisation.");
      }
      if (state->Text(0, 0) != "t") {
        return Fail(ErrorCode::kFailedPrecondition, "The project is not scheduled for deletion.");
      }
      auto done = conn.Execute(kRestoreProject, {project_id.str()});
      if (!done) return Fail(done.error());
      return {};
    });
  });
}

Result<application::ScheduledDeletions> PostgresCatalogueStore::ListScheduledDeletions() {
  return impl_->Run([&](Connection& conn) {
    // REPEATABLE READ: both lists from one snapshot (READ COMMITTED takes one per statement).
    // Read-only, hence safe to retry as Impl::Run may.
    return InTransaction(conn, [&]() -> Result<application::ScheduledDeletions> {
      if (auto snapshot = conn.Script(kRepeatableRead); !snapshot) return Fail(snapshot.error());
      auto orgs = conn.Execute(kListScheduledOrganisations);
      if (!orgs) return Fail(orgs.error());
      auto projects = conn.Execute(kListScheduledProjects);
      if (!projects) return Fail(projects.error());
      application::ScheduledDeletions out;
      for (int row = 0; row < orgs->Rows(); ++row) {
        auto org = ReadScheduled<domain::Organisation>(*orgs, row, ReadOrganisation, 7);
        if (!org) return Fail(org.error());
        out.organisations.push_back(std::move(*org));
      }
      for (int row = 0; row < projects->Rows(); ++row) {
        auto project = ReadScheduled<domain::Project>(*projects, row, ReadProject, 9);
        if (!project) return Fail(project.error());
        out.projects.push_back(std::move(*project));
      }
      return out;
    });
  });
}

Result<domain::Organisation> PostgresCatalogueStore::GetScheduledOrganisation(
    const domain::Slug& slug) {
  return impl_->Run([&](Connection& conn) -> Result<domain::Organisation> {
    auto rows = conn.Execute(kGetScheduledOrganisation, {slug.str()});
    if (!rows) return Fail(rows.error());
    if (rows->Rows() == 0) return Fail(ErrorCode::kNotFound, "Organisation not found.");
    return ReadScheduled<domain::Organisation>(*rows, 0, ReadOrganisation, 7);
  });
}

Result<domain::Project> PostgresCatalogueStore::GetScheduledProject(const domain::Slug& slug) {
  return impl_->Run([&](Connection& conn) -> Result<domain::Project> {
    auto rows = conn.Execute(kGetScheduledProject, {slug.str()});
    if (!rows) return Fail(rows.error());
    if (rows->Rows() == 0) return Fail(ErrorCode::kNotFound, "Project not found.");
    return ReadScheduled<domain::Project>(*rows, 0, ReadProject, 9);
  });
}

}  // namespace socle::adapters::postgres
