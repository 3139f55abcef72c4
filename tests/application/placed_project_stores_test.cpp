// PlacedProjectStores over the memory adapters: each project opens in its organisation's
// placement, and a purge removes it from there.
#include <catch2/catch.hpp>

#include <memory>

#include "socle/adapters/memory/memory_catalogue_store.hpp"
#include "socle/adapters/memory/memory_clusters.hpp"
#include "socle/adapters/memory/memory_project_store.hpp"
#include "socle/application/placed_project_stores.hpp"

using namespace socle;
using namespace socle::domain;
using application::PlacedProjectStores;

namespace {

Slug S(std::string_view text) { return *Slug::Parse(text); }
Id I(std::string_view text) { return *Id::Parse(text); }
const Timestamp kT = Timestamp::FromUnixMicros(1'700'000'000'000'000);

struct World {
  explicit World(PlacedProjectStores::OwnCluster own_cluster)
      : own(std::make_shared<adapters::memory::MemoryProjectStores>()),
        clusters(std::make_shared<adapters::memory::MemoryClusters>()),
        stores(catalogue, own, clusters, own_cluster) {
    REQUIRE(catalogue.UpsertRegion(Region{S("west"), "postgresql://west.example/socle"}));
  }

  Project Make(std::string_view org_id, std::string_view org_slug, std::string_view region,
               IsolationTier tier, std::string_view project_id, std::string_view slug) {
    Organisation org{I(org_id), S(org_slug), *DisplayName::Parse("Org"), S(region), tier, kT,
                     kT};
    REQUIRE(catalogue.InsertOrganisation(org));
    Project project{I(project_id), S(slug), *DisplayName::Parse("P"), org.id, org.slug, kT, kT};
    REQUIRE(catalogue.InsertProject(project));
    return *catalogue.GetProject(project.slug);
  }

  // The store the placed stores give for `project` is the one `where` gives.
  bool OpensIn(const Project& project, application::ProjectStores& where) {
    auto placed = stores.Open(project);
    auto direct = where.Open(project);
    return placed && direct && placed->get() == direct->get();
  }

  adapters::memory::MemoryCatalogueStore catalogue;
  std::shared_ptr<adapters::memory::MemoryProjectStores> own;
  std::shared_ptr<adapters::memory::MemoryClusters> clusters;
  PlacedProjectStores stores;
};

}  // namespace

TEST_CASE("placed stores open each project in its organisation's placement",
          "[application][tenancy]") {
  World w(PlacedProjectStores::OwnCluster::kDatabases);
  const Project shop =
      w.Make("aaaaaaaaaaaaaa1", "acme", "local", IsolationTier::kShared, "ppppppppppppp01", "shop");
  const Project safe = w.Make("aaaaaaaaaaaaaa2", "vault", "local", IsolationTier::kDedicated,
                              "ppppppppppppp02", "safe");
  const Project away =
      w.Make("aaaaaaaaaaaaaa3", "far", "west", IsolationTier::kShared, "ppppppppppppp03", "away");

  CHECK(w.OpensIn(shop, *w.own));
  const Placement vault_db{"", DedicatedDatabaseName(I("aaaaaaaaaaaaaa2"))};
  const Placement west{"postgresql://west.example/socle", ""};
  CHECK(*w.stores.PlacementOf(safe) == vault_db);
  CHECK(w.OpensIn(safe, **w.clusters->Open(vault_db)));
  CHECK_FALSE(w.OpensIn(safe, *w.own));
  CHECK(*w.stores.PlacementOf(away) == west);
  CHECK(w.OpensIn(away, **w.clusters->Open(west)));

  // A region the catalogue does not know: unavailable, not the instance's own store.
  Project lost = safe;
  lost.org_region = S("nowhere");
  auto refused = w.stores.Open(lost);
  REQUIRE_FALSE(refused);
  CHECK(refused.error().code == ErrorCode::kUnavailable);
  // A project not read from the catalogue (no region: the platform's system project) stays home.
  Project system = shop;
  system.org_region.reset();
  system.org_tier = IsolationTier::kDedicated;
  CHECK(w.stores.PlacementOf(system)->own());

  // The purge: a project goes from its placement, a dedicated database with its organisation.
  auto safe_store = *w.stores.Open(safe);
  REQUIRE(w.stores.Remove(safe));
  REQUIRE(w.stores.RemoveOrganisation(*w.catalogue.GetOrganisation(S("vault"))));
  auto reopened = w.clusters->Open(vault_db);
  REQUIRE(reopened);
  CHECK((*reopened)->Open(safe)->get() != safe_store.get());
  CHECK(w.OpensIn(shop, *w.own));  // the others are untouched
}

TEST_CASE("on a store of one database per project, a dedicated organisation stays home",
          "[application][tenancy]") {
  World w(PlacedProjectStores::OwnCluster::kDatabasePerProject);
  const Project safe = w.Make("aaaaaaaaaaaaaa2", "vault", "local", IsolationTier::kDedicated,
                              "ppppppppppppp02", "safe");
  const Project deep = w.Make("aaaaaaaaaaaaaa4", "deep", "west", IsolationTier::kDedicated,
                              "ppppppppppppp04", "deep");
  CHECK(w.stores.PlacementOf(safe)->own());
  CHECK(w.OpensIn(safe, *w.own));
  // A region's cluster has databases: there a dedicated organisation gets its own.
  CHECK(w.stores.PlacementOf(deep)->database == DedicatedDatabaseName(I("aaaaaaaaaaaaaa4")));
}
