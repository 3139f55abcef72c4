// The ProjectStore contract on SQLite: a fresh data directory per test case, removed afterwards.
#include <optional>
#include <stdexcept>

#include "contracts/project_store_fixture.hpp"
#include "socle/adapters/sqlite/sqlite_project_store.hpp"
#include "support/temp_dir.hpp"

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

std::shared_ptr<application::ProjectStore> OpenStore(adapters::sqlite::SqliteProjectStores& stores) {
  auto store = stores.Open(TestProject());
  if (!store) throw std::runtime_error("opening the SQLite project failed: " + store.error().internal);
  return *store;
}

class SqliteUnderTest final : public ProjectStoreUnderTest {
 public:
  SqliteUnderTest() : stores_({.data_dir = dir_.path().string()}), store_(OpenStore(stores_)) {}

  application::ProjectStore& store() override { return *store_; }
  application::ProjectStore& Reopen() override {
    // Another process's view: a second ProjectStores over the same directory.
    reopened_stores_.emplace(adapters::sqlite::SqliteProjectStoreOptions{.data_dir = dir_.path().string()});
    reopened_ = OpenStore(*reopened_stores_);
    return *reopened_;
  }

 private:
  TempDir dir_;  // declared first: removed after the stores closed their files
  adapters::sqlite::SqliteProjectStores stores_;
  std::shared_ptr<application::ProjectStore> store_;
  std::optional<adapters::sqlite::SqliteProjectStores> reopened_stores_;
  std::shared_ptr<application::ProjectStore> reopened_;
};

}  // namespace

std::unique_ptr<ProjectStoreUnderTest> MakeProjectStoreUnderTest() {
  return std::make_unique<SqliteUnderTest>();
}

}  // namespace socle::testing
