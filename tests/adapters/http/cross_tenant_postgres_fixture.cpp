// The cross-tenant suite over PostgreSQL as socle-server uses it: a PostgresCatalogueStore
// (catalogue and access tables, under row-level security) and PostgresProjectStores (a schema
// and a role per project) in a throwaway database of the private test cluster.
#include <stdexcept>
#include <string>

#include "cross_tenant_stores.hpp"
#include "socle/adapters/postgres/postgres_catalogue_store.hpp"
#include "socle/adapters/postgres/postgres_project_store.hpp"
#include "support/postgres_test_database.hpp"

namespace socle::testing {
namespace {

std::unique_ptr<adapters::postgres::PostgresCatalogueStore> OpenCatalogue(const std::string& url) {
  auto store = adapters::postgres::PostgresCatalogueStore::Open({.url = url, .pool_size = 4});
  if (!store) throw std::runtime_error("opening the catalogue: " + store.error().internal);
  auto migrated = (*store)->Migrate();
  if (!migrated) throw std::runtime_error("migrating the catalogue: " + migrated.error().internal);
  return std::move(*store);
}

std::unique_ptr<adapters::postgres::PostgresProjectStores> ConnectProjects(const std::string& url) {
  auto stores = adapters::postgres::PostgresProjectStores::Connect({.url = url, .pool_size = 4});
  if (!stores) throw std::runtime_error("connecting the project stores: " + stores.error().internal);
  return std::move(*stores);
}

class PostgresStores final : public CrossTenantStores {
 public:
  PostgresStores() : catalogue_(OpenCatalogue(db_.url())), projects_(ConnectProjects(db_.url())) {}

  std::string_view adapter() const override { return "postgres"; }
  application::CatalogueStore& catalogue() override { return *catalogue_; }
  application::AccessStore& access() override { return *catalogue_; }
  application::ProjectStores& projects() override { return *projects_; }
  std::string database_url() const override { return db_.url(); }

 private:
  PostgresTestDatabase db_;  // declared first: dropped after the stores closed their connections
  std::unique_ptr<adapters::postgres::PostgresCatalogueStore> catalogue_;
  std::unique_ptr<adapters::postgres::PostgresProjectStores> projects_;
};

}  // namespace

std::unique_ptr<CrossTenantStores> MakeCrossTenantStores() {
  return std::make_unique<PostgresStores>();
}

}  // namespace socle::testing
