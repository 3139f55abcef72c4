// The cross-tenant suite over SQLite, laid out as socle-server lays out its data directory: the
// catalogue (with the access tables) in one file, each project in a file of its own beside it,
// all in a fresh directory removed after the test case.
#include <stdexcept>

#include "cross_tenant_stores.hpp"
#include "socle/adapters/sqlite/sqlite_catalogue_store.hpp"
#include "socle/adapters/sqlite/sqlite_project_store.hpp"
#include "support/temp_dir.hpp"

namespace socle::testing {
namespace {

std::unique_ptr<adapters::sqlite::SqliteCatalogueStore> OpenCatalogue(const TempDir& dir) {
  auto store = adapters::sqlite::SqliteCatalogueStore::Open({.path = dir / "catalogue.db"});
  if (!store) throw std::runtime_error("opening the SQLite catalogue: " + store.error().internal);
  auto migrated = (*store)->Migrate();
  if (!migrated) throw std::runtime_error("migrating the catalogue: " + migrated.error().internal);
  return std::move(*store);
}

class SqliteStores final : public CrossTenantStores {
 public:
  SqliteStores()
      : catalogue_(OpenCatalogue(dir_)), projects_({.data_dir = dir_.path().string()}) {}

  std::string_view adapter() const override { return "sqlite"; }
  application::CatalogueStore& catalogue() override { return *catalogue_; }
  application::AccessStore& access() override { return *catalogue_; }
  application::ProjectStores& projects() override { return projects_; }

 private:
  TempDir dir_;  // declared first: removed after the stores closed their files
  std::unique_ptr<adapters::sqlite::SqliteCatalogueStore> catalogue_;
  adapters::sqlite::SqliteProjectStores projects_;
};

}  // namespace

std::unique_ptr<CrossTenantStores> MakeCrossTenantStores() {
  return std::make_unique<SqliteStores>();
}

}  // namespace socle::testing
