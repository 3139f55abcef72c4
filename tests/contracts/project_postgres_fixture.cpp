// The ProjectStore contract on PostgreSQL: a fresh database per test case on the private test
// cluster, with the project created by the catalogue (which creates its schema), dropped
// afterwards.
#include <stdexcept>

#include "contracts/project_store_fixture.hpp"
#include "socle/adapters/postgres/postgres_catalogue_store.hpp"
#include "socle/adapters/postgres/postgres_project_store.hpp"
#include "support/must.hpp"
#include "support/postgres_test_database.hpp"

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

std::unique_ptr<adapters::postgres::PostgresProjectStores> Connect(const std::string& url) {
  return Must(adapters::postgres::PostgresProjectStores::Connect({.url = url, .pool_size = 4}),
              "connecting the project stores");
}

class PostgresUnderTest final : public ProjectStoreUnderTest {
 public:
  PostgresUnderTest() {
    auto catalogue = Must(adapters::postgres::PostgresCatalogueStore::Open({.url = db_.url()}),
                          "opening the catalogue");
    Must(catalogue->Migrate(), "migrating the catalogue");
    const domain::Project project = TestProject();
    Must(catalogue->InsertOrganisation(domain::Organisation{
             project.org_id, project.org_slug, domain::DisplayName::Parse("Acme").value(),
             domain::Slug::Parse("local").value(), domain::IsolationTier::kShared, {}, {}}),
         "creating the organisation");
    Must(catalogue->InsertProject(project), "creating the project");
    stores_ = Connect(db_.url());
    store_ = Must(stores_->Open(project), "opening the project");
  }

  application::ProjectStore& store() override { return *store_; }
  application::ProjectStore& Reopen() override {
    reopened_stores_ = Connect(db_.url());
    reopened_ = Must(reopened_stores_->Open(TestProject()), "reopening the project");
    return *reopened_;
  }

 private:
  PostgresTestDatabase db_;  // declared first: dropped after the stores closed their connections
  std::unique_ptr<adapters::postgres::PostgresProjectStores> stores_;
  std::shared_ptr<application::ProjectStore> store_;
  std::unique_ptr<adapters::postgres::PostgresProjectStores> reopened_stores_;
  std::shared_ptr<application::ProjectStore> reopened_;
};

}  // namespace

std::unique_ptr<ProjectStoreUnderTest> MakeProjectStoreUnderTest() {
  return std::make_unique<PostgresUnderTest>();
}

}  // namespace socle::testing
