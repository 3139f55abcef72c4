// The CatalogueStore contract on PostgreSQL: a fresh database per test case on the private
// test cluster, dropped afterwards.
#include <stdexcept>

#include "contracts/catalogue_store_fixture.hpp"
#include "socle/adapters/postgres/postgres_catalogue_store.hpp"
#include "support/postgres_test_database.hpp"

namespace socle::testing {
namespace {

std::unique_ptr<adapters::postgres::PostgresCatalogueStore> OpenStore(const std::string& url) {
  auto store = adapters::postgres::PostgresCatalogueStore::Open({.url = url, .pool_size = 4});
  if (!store) {
    throw std::runtime_error("opening the PostgreSQL store failed: " + store.error().internal);
  }
  return std::move(*store);
}

class PostgresUnderTest final : public CatalogueStoreUnderTest {
 public:
  PostgresUnderTest() : store_(OpenStore(db_.url())), other_(OpenStore(db_.url())) {
    auto migrated = store_->Migrate();
    if (!migrated) throw std::runtime_error("migrating failed: " + migrated.error().internal);
  }

  application::CatalogueStore& store() override { return *store_; }
  application::CatalogueStore& other() override { return *other_; }

 private:
  PostgresTestDatabase db_;  // declared first: dropped after the stores closed their connections
  std::unique_ptr<adapters::postgres::PostgresCatalogueStore> store_;
  std::unique_ptr<adapters::postgres::PostgresCatalogueStore> other_;
};

}  // namespace

std::unique_ptr<CatalogueStoreUnderTest> MakeCatalogueStoreUnderTest() {
  return std::make_unique<PostgresUnderTest>();
}

}  // namespace socle::testing
