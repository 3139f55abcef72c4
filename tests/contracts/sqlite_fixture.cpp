// The CatalogueStore contract on SQLite: a fresh directory per test case, removed afterwards.
#include <filesystem>
#include <stdexcept>
#include <string>

#include "contracts/catalogue_store_fixture.hpp"
#include "socle/adapters/sqlite/sqlite_catalogue_store.hpp"
#include "support/temp_dir.hpp"

namespace socle::testing {
namespace {

std::unique_ptr<adapters::sqlite::SqliteCatalogueStore> OpenStore(const std::filesystem::path& path) {
  auto store = adapters::sqlite::SqliteCatalogueStore::Open({.path = path.string()});
  if (!store) throw std::runtime_error("opening the SQLite store failed: " + store.error().internal);
  return std::move(*store);
}

class SqliteUnderTest final : public CatalogueStoreUnderTest {
 public:
  SqliteUnderTest()
      : store_(OpenStore(dir_.path() / "catalogue.db")),
        other_(OpenStore(dir_.path() / "catalogue.db")) {
    auto migrated = store_->Migrate();
    if (!migrated) throw std::runtime_error("migrating failed: " + migrated.error().internal);
  }

  application::CatalogueStore& store() override { return *store_; }
  application::CatalogueStore& other() override { return *other_; }

 private:
  TempDir dir_;  // declared first: removed after both stores have closed their files
  std::unique_ptr<adapters::sqlite::SqliteCatalogueStore> store_;
  std::unique_ptr<adapters::sqlite::SqliteCatalogueStore> other_;
};

}  // namespace

std::unique_ptr<CatalogueStoreUnderTest> MakeCatalogueStoreUnderTest() {
  return std::make_unique<SqliteUnderTest>();
}

}  // namespace socle::testing
