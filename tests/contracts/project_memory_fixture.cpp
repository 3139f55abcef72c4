// The ProjectStore contract on the memory adapter.
#include <stdexcept>

#include "contracts/project_store_fixture.hpp"
#include "socle/adapters/memory/memory_project_store.hpp"

namespace socle::testing {
namespace {

domain::Project TestProject() {
  return domain::Project{domain::Id::Parse("proj00000000001").value(),
                         domain::Slug::Parse("contract").value(),
                         domain::DisplayName::Parse("Contract").value(),
                         domain::Id::Parse("org000000000001").value(),
                         domain::Slug::Parse("acme").value(),
                         {},
                         {}};
}

class MemoryUnderTest final : public ProjectStoreUnderTest {
 public:
  MemoryUnderTest() {
    auto store = stores_.Open(TestProject());
    if (!store) throw std::runtime_error("opening the memory store failed");
    store_ = *store;
  }
  application::ProjectStore& store() override { return *store_; }
  application::ProjectStore& Reopen() override { return *store_; }

 private:
  adapters::memory::MemoryProjectStores stores_;
  std::shared_ptr<application::ProjectStore> store_;
};

}  // namespace

std::unique_ptr<ProjectStoreUnderTest> MakeProjectStoreUnderTest() {
  return std::make_unique<MemoryUnderTest>();
}

}  // namespace socle::testing
