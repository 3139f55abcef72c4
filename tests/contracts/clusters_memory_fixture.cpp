// The Clusters contract in memory.
#include "contracts/clusters_fixture.hpp"
#include "socle/adapters/memory/memory_clusters.hpp"

namespace socle::testing {
namespace {

class MemoryClustersUnderTest final : public ClustersUnderTest {
 public:
  application::Clusters& clusters() override { return clusters_; }
  std::string region_url() override { return "postgresql://west.example/socle"; }

 private:
  adapters::memory::MemoryClusters clusters_;
};

}  // namespace

std::unique_ptr<ClustersUnderTest> MakeClustersUnderTest() {
  return std::make_unique<MemoryClustersUnderTest>();
}

}  // namespace socle::testing
