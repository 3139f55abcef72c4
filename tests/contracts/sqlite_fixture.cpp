// The CatalogueStore contract on SQLite: a fresh directory per test case, removed afterwards.
#include <stdlib.h>

#include <filesystem>
#include <stdexcept>
#include <string>

#include "contracts/catalogue_store_fixture.hpp"
#include "socle/adapters/sqlite/sqlite_catalogue_store.hpp"

namespace socle::testing {
namespace {

std::filesystem::path MakeTempDirectory() {
  std::string pattern = (std::filesystem::temp_directory_path() / "socle-sqlite-XXXXXX").string();
  if (mkdtemp(pattern.data()) == nullptr) throw std::runtime_error("mkdtemp failed: " + pattern);
  return pattern;
}

std::unique_ptr<adapters::sqlite::SqliteCatalogueStore> OpenStore(const std::filesystem::path& path) {
  auto store = adapters::sqlite::SqliteCatalogueStore::Open({.path = path.string()});
  if (!store) throw std::runtime_error("opening the SQLite store failed: " + store.error().internal);
  return std::move(*store);
}

class SqliteUnderTest final : public CatalogueStoreUnderTest {
 public:
  SqliteUnderTest()
      : dir_(MakeTempDirectory()),
        store_(OpenStore(dir_ / "catalogue.db")),
        other_(OpenStore(dir_ / "catalogue.db")) {
    auto migrated = store_->Migrate();
    if (!migrated) throw std::runtime_error("migrating failed: " + migrated.error().internal);
  }
  ~SqliteUnderTest() override {
    store_.reset();
    other_.reset();
    std::error_code ignored;
    std::filesystem::remove_all(dir_, ignored);
  }

  application::CatalogueStore& store() override { return *store_; }
  application::CatalogueStore& other() override { return *other_; }

 private:
  std::filesystem::path dir_;
  std::unique_ptr<adapters::sqlite::SqliteCatalogueStore> store_;
  std::unique_ptr<adapters::sqlite::SqliteCatalogueStore> other_;
};

}  // namespace

std::unique_ptr<CatalogueStoreUnderTest> MakeCatalogueStoreUnderTest() {
  return std::make_unique<SqliteUnderTest>();
}

}  // namespace socle::testing
