// The AccessStore contract on the memory adapter: one MemoryCatalogueStore per test case.
#include "contracts/access_store_fixture.hpp"
#include "socle/adapters/memory/memory_catalogue_store.hpp"

namespace socle::testing {
namespace {

class MemoryAccessUnderTest final : public AccessStoreUnderTest {
 public:
  application::AccessStore& access() override { return store_; }
  application::CatalogueStore& catalogue() override { return store_; }
  // One object holds the data: a second handle would be the same object.
  application::AccessStore& other_access() override { return store_; }

 private:
  adapters::memory::MemoryCatalogueStore store_;
};

}  // namespace

std::unique_ptr<AccessStoreUnderTest> MakeAccessStoreUnderTest() {
  return std::make_unique<MemoryAccessUnderTest>();
}

}  // namespace socle::testing
