// The Clusters contract: every adapter of the port keeps a placement's projects in that
// placement only, returns them to whoever opens the placement again, and drops a dedicated
// database with everything in it.
#include <catch2/catch.hpp>

#include <random>
#include <string>
#include <vector>

#include "contracts/clusters_fixture.hpp"
#include "socle/domain/collection.hpp"
#include "socle/domain/record.hpp"

using namespace socle;
using namespace socle::domain;
using application::ProjectStore;
using application::ProjectStores;
using application::RecordTransaction;

namespace {

// Ids of their own per run: dedicated databases and project roles are cluster-wide.
Id FreshId() {
  static std::mt19937_64 random{std::random_device{}()};
  return Id::FromRandom([] { return static_cast<std::uint8_t>(random()); });
}

Project MakeProject(const Id& org) {
  const Id id = FreshId();
  return Project{id,
                 *Slug::Parse("p-" + id.str()),
                 *DisplayName::Parse("Project"),
                 org,
                 *Slug::Parse("acme"),
                 Timestamp::FromUnixMicros(1'700'000'000'000'000),
                 Timestamp::FromUnixMicros(1'700'000'000'000'000)};
}

Collection Notes() {
  Collection notes;
  notes.id = "pbc_notes";
  notes.name = "notes";
  notes.fields = SystemFields();
  Field text;
  text.id = "f_text";
  text.name = "text";
  text.type = FieldType::kText;
  notes.fields.push_back(text);
  notes.created = Timestamp::FromUnixMicros(1'700'000'000'000'000);
  notes.updated = notes.created;
  return notes;
}

std::shared_ptr<ProjectStores> MustOpen(application::Clusters& clusters, const Placement& where) {
  auto stores = clusters.Open(where);
  INFO((stores ? std::string() : stores.error().message + " / " + stores.error().internal));
  REQUIRE(stores);
  REQUIRE(*stores != nullptr);
  return *stores;
}

// Writes one note into the project in `stores`.
void WriteNote(ProjectStores& stores, const Project& project, const std::string& text) {
  auto store = stores.Open(project);
  REQUIRE(store);
  auto schema = (*store)->Schema();
  REQUIRE(schema);
  const Collection* notes = (*schema)->Find("notes");
  if (notes == nullptr) {
    auto applied = (*store)->ApplySchema({{std::nullopt, Notes()}}, (*schema)->version, "test",
                                        Timestamp::FromUnixMicros(1'700'000'000'000'001));
    REQUIRE(applied);
    schema = *applied;
    notes = (*schema)->Find("notes");
  }
  REQUIRE(notes != nullptr);
  Record record = EmptyRecord(*notes);
  record.values[*notes->FieldIndex("id")] = JsonValue::String(FreshId().str());
  record.values[*notes->FieldIndex("text")] = JsonValue::String(text);
  auto written = (*store)->Write(
      [&](RecordTransaction& tx) -> Result<void> { return tx.Insert(*notes, record); });
  REQUIRE(written);
}

// The notes of the project in `stores`, as texts (none when it has no notes collection).
std::vector<std::string> NotesOf(ProjectStores& stores, const Project& project) {
  auto store = stores.Open(project);
  REQUIRE(store);
  auto schema = (*store)->Schema();
  REQUIRE(schema);
  const Collection* notes = (*schema)->Find("notes");
  if (notes == nullptr) return {};
  application::RecordQuery query;
  query.limit = 100;
  auto page = (*store)->Query(*notes, query);
  REQUIRE(page);
  std::vector<std::string> texts;
  for (const auto& record : page->items) {
    texts.push_back(record.values[*notes->FieldIndex("text")].AsString());
  }
  return texts;
}

}  // namespace

TEST_CASE("contract: a placement keeps its projects, and another placement sees none of them",
          "[contract][clusters]") {
  auto ut = socle::testing::MakeClustersUnderTest();
  auto& clusters = ut->clusters();
  const Id org = FreshId();
  const Placement dedicated{"", DedicatedDatabaseName(org)};
  const Placement other{"", DedicatedDatabaseName(FreshId())};
  const Placement region{ut->region_url(), ""};
  const Project project = MakeProject(org);

  {
    auto stores = MustOpen(clusters, dedicated);
    WriteNote(*stores, project, "kept");
  }
  // Opened again (as another process would), the placement has the project's data.
  auto again = MustOpen(clusters, dedicated);
  CHECK(NotesOf(*again, project) == std::vector<std::string>{"kept"});
  // The same project id elsewhere is another project's storage: empty.
  auto elsewhere = MustOpen(clusters, other);
  CHECK(NotesOf(*elsewhere, project).empty());
  auto in_region = MustOpen(clusters, region);
  CHECK(NotesOf(*in_region, project).empty());
  WriteNote(*in_region, project, "west");
  CHECK(NotesOf(*again, project) == std::vector<std::string>{"kept"});
  CHECK(NotesOf(*MustOpen(clusters, region), project) == std::vector<std::string>{"west"});

  CHECK(in_region->Remove(project));
  for (const auto& where : {dedicated, other}) CHECK(clusters.DropDatabase(where));
}

TEST_CASE("contract: dropping a dedicated database drops its data, and is idempotent",
          "[contract][clusters]") {
  auto ut = socle::testing::MakeClustersUnderTest();
  auto& clusters = ut->clusters();
  const Placement dedicated{"", DedicatedDatabaseName(FreshId())};
  const Project project = MakeProject(FreshId());
  {
    auto stores = MustOpen(clusters, dedicated);
    WriteNote(*stores, project, "gone soon");
    stores->Close(project.id);
    REQUIRE(clusters.DropDatabase(dedicated));
  }
  CHECK(clusters.DropDatabase(dedicated));  // again: nothing to do
  // A placement without a database of its own has none to drop.
  CHECK(clusters.DropDatabase(Placement{ut->region_url(), ""}));
  // Opened again, the placement starts empty.
  auto reopened = MustOpen(clusters, dedicated);
  CHECK(NotesOf(*reopened, project).empty());
  REQUIRE(clusters.DropDatabase(dedicated));
}

TEST_CASE("contract: removing a project from a placement's stores removes its data only",
          "[contract][clusters]") {
  auto ut = socle::testing::MakeClustersUnderTest();
  auto& clusters = ut->clusters();
  const Placement region{ut->region_url(), ""};
  const Project doomed = MakeProject(FreshId());
  const Project kept = MakeProject(FreshId());
  auto stores = MustOpen(clusters, region);
  WriteNote(*stores, doomed, "doomed");
  WriteNote(*stores, kept, "kept");
  REQUIRE(stores->Remove(doomed));
  CHECK(stores->Remove(doomed));  // idempotent
  CHECK(NotesOf(*stores, doomed).empty());
  CHECK(NotesOf(*stores, kept) == std::vector<std::string>{"kept"});
  CHECK(stores->Remove(kept));
}
