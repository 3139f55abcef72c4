#include "contracts/catalogue_store_fixture.hpp"
#include "socle/adapters/memory/memory_catalogue_store.hpp"

namespace socle::testing {
namespace {

class MemoryUnderTest final : public CatalogueStoreUnderTest {
 public:
  application::CatalogueStore& store() override { return store_; }
  application::CatalogueStore& other() override { return store_; }

 private:
  adapters::memory::MemoryCatalogueStore store_;
};

}  // namespace

std::unique_ptr<CatalogueStoreUnderTest> MakeCatalogueStoreUnderTest() {
  return std::make_unique<MemoryUnderTest>();
}

}  // namespace socle::testing
