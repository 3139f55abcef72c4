#include "socle/apps/open_store.hpp"

#include <sys/stat.h>

#include <algorithm>
#include <cerrno>
#include <filesystem>
#include <system_error>
#include <thread>

#include "socle/adapters/memory/memory_catalogue_store.hpp"
#include "socle/adapters/memory/memory_clusters.hpp"
#include "socle/adapters/memory/memory_project_store.hpp"
#include "socle/adapters/postgres/postgres_catalogue_store.hpp"
#include "socle/adapters/postgres/postgres_clusters.hpp"
#include "socle/adapters/postgres/postgres_project_store.hpp"
#include "socle/adapters/sqlite/sqlite_catalogue_store.hpp"
#include "socle/adapters/sqlite/sqlite_project_store.hpp"
#include "socle/adapters/store_url.hpp"
#include "socle/application/placed_project_stores.hpp"

namespace socle::apps {
namespace {

using adapters::StoreUrl;
using domain::Error;
using domain::ErrorCode;
using domain::Fail;
using domain::Result;
using StorePtr = std::unique_ptr<application::CatalogueStore>;
using ProjectStoresPtr = std::unique_ptr<application::ProjectStores>;

// Projects open at once each keep this many SQLite connections (readers run in parallel in
// WAL mode); the catalogue's pool size bounds it too, so a small pool setting stays small.
constexpr std::size_t kSqliteConnectionsPerProject = 4;

// The store's own message says what failed; the prefix says which store, without secrets.
Error WithStore(Error error, std::string_view what, std::string_view url) {
  error.message =
      "Cannot open the " + std::string(what) + " " + StoreUrl::Redact(url) + ": " + error.message;
  return error;
}

template <typename Pointer, typename Store>
Result<Pointer> Upcast(Result<std::unique_ptr<Store>> opened, std::string_view what,
                       std::string_view url) {
  if (!opened) return Fail(WithStore(std::move(opened.error()), what, url));
  return Pointer(std::move(*opened));
}

// The store the settings name, and the URL to show for it: an empty database_url is SQLite in
// data_dir, created owner-only when missing.
struct ResolvedUrl {
  StoreUrl url;
  std::string shown;
};

Result<ResolvedUrl> ResolveUrl(const adapters::config::Settings& settings, std::string_view what) {
  if (settings.database_url.empty()) {
    auto created = CreatePrivateDirectories(settings.data_dir);
    if (!created) return Fail(std::move(created.error()));
    ResolvedUrl resolved{StoreUrl::DefaultFor(settings.data_dir), ""};
    resolved.shown = "sqlite://" + resolved.url.target;
    return resolved;
  }
  auto parsed = StoreUrl::Parse(settings.database_url);
  if (!parsed) return Fail(WithStore(std::move(parsed.error()), what, settings.database_url));
  return ResolvedUrl{std::move(*parsed), settings.database_url};
}

// The pool size, resolved here too when the caller left it automatic (ResolveAuto is the
// identity on resolved settings).
std::size_t PoolSize(const adapters::config::Settings& settings) {
  if (settings.database_pool_size != 0) return settings.database_pool_size;
  return adapters::config::ResolveAuto(settings, std::thread::hardware_concurrency())
      .database_pool_size;
}

adapters::postgres::PostgresOptions PostgresOptionsFor(const adapters::config::Settings& settings,
                                                       std::string url) {
  adapters::postgres::PostgresOptions options;
  options.url = std::move(url);
  options.pool_size = PoolSize(settings);
  options.connect_timeout_ms = settings.database_timeout_ms;
  options.statement_timeout_ms = settings.database_timeout_ms;
  options.acquire_timeout_ms = settings.database_timeout_ms;
  return options;
}

constexpr std::string_view kCatalogue = "catalogue store";
constexpr std::string_view kProjects = "projects' stores";

}  // namespace

// Owner-only from the start: std::filesystem::create_directories would create them with the umask's mode (often 0755) and leave a window before a chmod;
// mkdir(2) with 0700 never exposes them. Existing directories are left as they are.
Result<void> CreatePrivateDirectories(const std::filesystem::path& dir) {
  std::filesystem::path built;
  for (const auto& part : dir.lexically_normal()) {
    built /= part;
    if (part.empty() || part == "/" || part == "." || part == "..") continue;
    if (::mkdir(built.c_str(), 0700) == 0) continue;
    int error = errno;
    std::error_code ec;
    if (error == EEXIST && std::filesystem::is_directory(built, ec)) continue;
    std::string why = error == EEXIST ? built.string() + " exists and is not a directory"
                                      : std::generic_category().message(error);
    return Fail(ErrorCode::kUnavailable,
                "Cannot create the data directory " + dir.string() + ": " + why + ".");
  }
  return {};
}

Result<StorePtr> OpenCatalogueStore(const adapters::config::Settings& settings) {
  auto resolved = ResolveUrl(settings, kCatalogue);
  if (!resolved) return Fail(std::move(resolved.error()));
  const StoreUrl& url = resolved->url;
  const std::string& shown_url = resolved->shown;

  switch (url.kind) {
    case StoreUrl::Kind::kSqlite: {
      adapters::sqlite::SqliteOptions options;
      options.path = url.target;
      options.pool_size = PoolSize(settings);
      options.busy_timeout_ms = settings.database_timeout_ms;
      return Upcast<StorePtr>(adapters::sqlite::SqliteCatalogueStore::Open(options), kCatalogue,
                              shown_url);
    }
    case StoreUrl::Kind::kPostgres: {
      auto options = PostgresOptionsFor(settings, url.target);
      return Upcast<StorePtr>(adapters::postgres::PostgresCatalogueStore::Open(options), kCatalogue,
                              shown_url);
    }
    case StoreUrl::Kind::kMemory:
      return StorePtr(std::make_unique<adapters::memory::MemoryCatalogueStore>());
  }
  return Fail(Error::Internal("unknown store kind"));
}

namespace {

// The instance's own project stores, beside the catalogue.
Result<ProjectStoresPtr> OpenOwnProjectStores(const adapters::config::Settings& settings,
                                              SchemaChanges changes) {
  auto resolved = ResolveUrl(settings, kProjects);
  if (!resolved) return Fail(std::move(resolved.error()));
  const StoreUrl& url = resolved->url;

  switch (url.kind) {
    case StoreUrl::Kind::kSqlite: {
      // Beside the catalogue file, where the catalogue store removes a deleted project's file.
      adapters::sqlite::SqliteProjectStoreOptions options;
      options.data_dir = std::filesystem::path(url.target).parent_path().string();
      if (options.data_dir.empty()) options.data_dir = ".";
      options.pool_size = std::min(PoolSize(settings), kSqliteConnectionsPerProject);
      options.busy_timeout_ms = settings.database_timeout_ms;
      return ProjectStoresPtr(std::make_unique<adapters::sqlite::SqliteProjectStores>(options));
    }
    case StoreUrl::Kind::kPostgres: {
      // A pool of its own beside the catalogue's: project traffic cannot starve the catalogue.
      auto options = PostgresOptionsFor(settings, url.target);
      const auto watch = changes == SchemaChanges::kListen
                             ? adapters::postgres::PostgresProjectStores::SchemaWatch::kListen
                             : adapters::postgres::PostgresProjectStores::SchemaWatch::kOnErrorOnly;
      return Upcast<ProjectStoresPtr>(
          adapters::postgres::PostgresProjectStores::Connect(options, watch), kProjects,
          resolved->shown);
    }
    case StoreUrl::Kind::kMemory:
      return ProjectStoresPtr(std::make_unique<adapters::memory::MemoryProjectStores>());
  }
  return Fail(Error::Internal("unknown store kind"));
}

}  // namespace

Result<ProjectStoresPtr> OpenProjectStores(const adapters::config::Settings& settings,
                                          application::CatalogueStore& catalogue,
                                          SchemaChanges changes) {
  auto own = OpenOwnProjectStores(settings, changes);
  if (!own) return Fail(std::move(own.error()));
  auto resolved = ResolveUrl(settings, kProjects);
  if (!resolved) return Fail(std::move(resolved.error()));
  using application::PlacedProjectStores;
  std::shared_ptr<application::Clusters> clusters;
  auto own_cluster = PlacedProjectStores::OwnCluster::kDatabases;
  if (resolved->url.kind == StoreUrl::Kind::kMemory) {
    clusters = std::make_shared<adapters::memory::MemoryClusters>();
  } else {
    // Regions name PostgreSQL clusters, whatever the instance's own store is.
    const auto watch = changes == SchemaChanges::kListen
                           ? adapters::postgres::PostgresProjectStores::SchemaWatch::kListen
                           : adapters::postgres::PostgresProjectStores::SchemaWatch::kOnErrorOnly;
    std::string own_url;
    if (resolved->url.kind == StoreUrl::Kind::kPostgres) {
      own_url = resolved->url.target;
    } else {
      own_cluster = PlacedProjectStores::OwnCluster::kDatabasePerProject;
    }
    clusters = std::make_shared<adapters::postgres::PostgresClusters>(
        PostgresOptionsFor(settings, std::move(own_url)), watch);
  }
  return ProjectStoresPtr(std::make_unique<PlacedProjectStores>(
      catalogue, std::shared_ptr<application::ProjectStores>(std::move(*own)),
      std::move(clusters), own_cluster));
}

}  // namespace socle::apps
