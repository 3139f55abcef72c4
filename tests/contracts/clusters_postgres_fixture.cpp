// The Clusters contract on PostgreSQL: the instance's own database and a region's, both fresh
// databases of the private test cluster (each case drops the dedicated databases it makes).
#include "contracts/clusters_fixture.hpp"
#include "socle/adapters/postgres/postgres_clusters.hpp"
#include "support/postgres_test_database.hpp"

namespace socle::testing {
namespace {

class PostgresClustersUnderTest final : public ClustersUnderTest {
 public:
  PostgresClustersUnderTest()
      : clusters_({.url = own_.url(), .pool_size = 2},
                  adapters::postgres::PostgresProjectStores::SchemaWatch::kOnErrorOnly) {}
  application::Clusters& clusters() override { return clusters_; }
  std::string region_url() override { return region_.url(); }

 private:
  PostgresTestDatabase own_;
  PostgresTestDatabase region_;
  adapters::postgres::PostgresClusters clusters_;
};
}  // namespace

std::unique_ptr<ClustersUnderTest> MakeClustersUnderTest() {
  return std::make_unique<PostgresClustersUnderTest>();
}

}  // namespace socle::testing
