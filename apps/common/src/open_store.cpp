#include "socle/apps/open_store.hpp"

#include <sys/stat.h>

#include <cerrno>
#include <filesystem>
#include <system_error>

#include "socle/adapters/memory/memory_catalogue_store.hpp"
#include "socle/adapters/postgres/postgres_catalogue_store.hpp"
#include "socle/adapters/sqlite/sqlite_catalogue_store.hpp"
#include "socle/adapters/store_url.hpp"

namespace socle::apps {
namespace {

using adapters::StoreUrl;
using domain::Error;
using domain::ErrorCode;
using domain::Fail;
using domain::Result;
using StorePtr = std::unique_ptr<application::CatalogueStore>;

// Creates `dir` and any missing parents owner-only. std::filesystem::create_directories
// would create them with the umask's mode (often 0755) and leave a window before a chmod;
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

// The store's own message says what failed; the prefix says which store, without secrets.
Error WithStore(Error error, std::string_view url) {
  error.message = "Cannot open the catalogue store " + StoreUrl::Redact(url) + ": " + error.message;
  return error;
}

template <typename Store>
Result<StorePtr> Upcast(Result<std::unique_ptr<Store>> opened, std::string_view url) {
  if (!opened) return Fail(WithStore(std::move(opened.error()), url));
  return StorePtr(std::move(*opened));
}

}  // namespace

Result<StorePtr> OpenCatalogueStore(const adapters::config::Settings& settings) {
  StoreUrl url;
  std::string shown_url = settings.database_url;
  if (settings.database_url.empty()) {
    auto created = CreatePrivateDirectories(settings.data_dir);
    if (!created) return Fail(std::move(created.error()));
    url = StoreUrl::DefaultFor(settings.data_dir);
    shown_url = "sqlite://" + url.target;
  } else {
    auto parsed = StoreUrl::Parse(settings.database_url);
    if (!parsed) return Fail(WithStore(std::move(parsed.error()), settings.database_url));
    url = std::move(*parsed);
  }

  switch (url.kind) {
    case StoreUrl::Kind::kSqlite: {
      adapters::sqlite::SqliteOptions options;
      options.path = url.target;
      options.pool_size = settings.database_pool_size;
      options.busy_timeout_ms = settings.database_timeout_ms;
      return Upcast(adapters::sqlite::SqliteCatalogueStore::Open(options), shown_url);
    }
    case StoreUrl::Kind::kPostgres: {
      adapters::postgres::PostgresOptions options;
      options.url = url.target;
      options.pool_size = settings.database_pool_size;
      options.connect_timeout_ms = settings.database_timeout_ms;
      options.statement_timeout_ms = settings.database_timeout_ms;
      options.acquire_timeout_ms = settings.database_timeout_ms;
      return Upcast(adapters::postgres::PostgresCatalogueStore::Open(options), shown_url);
    }
    case StoreUrl::Kind::kMemory:
      return StorePtr(std::make_unique<adapters::memory::MemoryCatalogueStore>());
  }
  return Fail(Error::Internal("unknown store kind"));
}

}  // namespace socle::apps
