// The cross-tenant suite over the memory stores: one catalogue object keeping the access data,
// one store object per project.
#include "cross_tenant_stores.hpp"
#include "socle/adapters/memory/memory_catalogue_store.hpp"
#include "socle/adapters/memory/memory_project_store.hpp"

namespace socle::testing {
namespace {

class MemoryStores final : public CrossTenantStores {
 public:
  std::string_view adapter() const override { return "memory"; }
  application::CatalogueStore& catalogue() override { return catalogue_; }
  application::AccessStore& access() override { return catalogue_; }
  application::ProjectStores& projects() override { return projects_; }

 private:
  adapters::memory::MemoryCatalogueStore catalogue_;
  adapters::memory::MemoryProjectStores projects_;
};

}  // namespace

std::unique_ptr<CrossTenantStores> MakeCrossTenantStores() {
  return std::make_unique<MemoryStores>();
}

}  // namespace socle::testing
