// The AccessStore contract on PostgreSQL: a fresh database per test case on the private test
// cluster, dropped afterwards, and two stores (two connection pools) over it.
#include <stdexcept>
#include <string>

#include "contracts/access_store_fixture.hpp"
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

class PostgresAccessUnderTest final : public AccessStoreUnderTest {
 public:
  PostgresAccessUnderTest() : store_(OpenStore(db_.url())), other_(OpenStore(db_.url())) {
    auto migrated = store_->Migrate();
    if (!migrated) throw std::runtime_error("migrating failed: " + migrated.error().internal);
  }

  application::AccessStore& access() override { return *store_; }
  application::CatalogueStore& catalogue() override { return *store_; }
  application::AccessStore& other_access() override { return *other_; }

 private:
  PostgresTestDatabase db_;  // declared first: dropped after the stores closed their connections
  std::unique_ptr<adapters::postgres::PostgresCatalogueStore> store_;
  std::unique_ptr<adapters::postgres::PostgresCatalogueStore> other_;
};

}  // namespace

std::unique_ptr<AccessStoreUnderTest> MakeAccessStoreUnderTest() {
  return std::make_unique<PostgresAccessUnderTest>();
}

}  // namespace socle::testing
