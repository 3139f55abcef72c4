// The AccessStore contract on SQLite: a fresh directory per test case, removed afterwards, and
// two stores (two connection pools) over the one catalogue file in it.
#include <filesystem>
#include <stdexcept>
#include <string>

#include "contracts/access_store_fixture.hpp"
#include "socle/adapters/sqlite/sqlite_catalogue_store.hpp"
#include "support/temp_dir.hpp"

namespace socle::testing {
namespace {

std::unique_ptr<adapters::sqlite::SqliteCatalogueStore> OpenStore(
    const std::filesystem::path& path) {
  auto store = adapters::sqlite::SqliteCatalogueStore::Open({.path = path.string()});
  if (!store) {
    throw std::runtime_error("opening the SQLite store failed: " + store.error().internal);
  }
  return std::move(*store);
}

class SqliteAccessUnderTest final : public AccessStoreUnderTest {
 public:
  SqliteAccessUnderTest()
      : store_(OpenStore(dir_.path() / "catalogue.db")),
        other_(OpenStore(dir_.path() / "catalogue.db")) {
    auto migrated = store_->Migrate();
    if (!migrated) throw std::runtime_error("migrating failed: " + migrated.error().internal);
  }

  application::AccessStore& access() override { return *store_; }
  application::CatalogueStore& catalogue() override { return *store_; }
  application::AccessStore& other_access() override { return *other_; }

 private:
  TempDir dir_;  // declared first: removed after both stores have closed their files
  std::unique_ptr<adapters::sqlite::SqliteCatalogueStore> store_;
  std::unique_ptr<adapters::sqlite::SqliteCatalogueStore> other_;
};

}  // namespace

std::unique_ptr<AccessStoreUnderTest> MakeAccessStoreUnderTest() {
  return std::make_unique<SqliteAccessUnderTest>();
}

}  // namespace socle::testing
