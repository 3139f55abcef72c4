// The CatalogueStore contract: every adapter of the port passes exactly these cases.
#include <catch2/catch.hpp>

#include <atomic>
#include <thread>
#include <vector>

#include "contracts/catalogue_store_fixture.hpp"
#include "socle/application/manage_organisations.hpp"
#include "socle/application/manage_projects.hpp"
#include "support/test_ports.hpp"

using namespace socle;
using namespace socle::domain;
using application::DeleteMode;

namespace {

Slug S(std::string_view text) { return Slug::Parse(text).value(); }
Id I(std::string_view text) { return Id::Parse(text).value(); }
DisplayName N(std::string_view text) { return DisplayName::Parse(text).value(); }
Timestamp T(std::int64_t micros) { return Timestamp::FromUnixMicros(micros); }
PageRequest P(std::int64_t page, std::int64_t per_page) {
  return PageRequest::Make(page, per_page).value();
}

Organisation Org(std::string_view id, std::string_view slug, std::string_view name = "Acme") {
  return Organisation{I(id), S(slug), N(name), S("local"), IsolationTier::kShared,
                      T(1'700'000'000'123'456), T(1'700'000'000'123'456)};
}

Project Proj(std::string_view id, std::string_view slug, const Organisation& org) {
  return Project{I(id), S(slug), N("Project " + std::string(slug)), org.id, org.slug,
                 T(1'700'000'001'000'001), T(1'700'000'001'000'001)};
}

}  // namespace

TEST_CASE("contract: migrate is idempotent and the store answers", "[contract][catalogue]") {
  auto ut = testing::MakeCatalogueStoreUnderTest();
  auto again = ut->store().Migrate();
  REQUIRE(again);
  CHECK(again->applied.empty());
  CHECK(again->from_version == again->to_version);
  CHECK(ut->store().Ping());
}

TEST_CASE("contract: the default region exists and regions upsert", "[contract][catalogue]") {
  auto ut = testing::MakeCatalogueStoreUnderTest();
  auto& store = ut->store();
  auto local = store.GetRegion(S("local"));
  REQUIRE(local);
  CHECK(local->name.str() == "local");
  CHECK(store.GetRegion(S("eu-west")).error().code == ErrorCode::kNotFound);

  REQUIRE(store.UpsertRegion(Region{S("eu-west"), "postgres://db.eu-west/socle"}));
  REQUIRE(store.UpsertRegion(Region{S("eu-west"), "postgres://db2.eu-west/socle"}));
  CHECK(store.GetRegion(S("eu-west"))->store_url == "postgres://db2.eu-west/socle");
  auto all = store.ListRegions();
  REQUIRE(all);
  REQUIRE(all->size() == 2);
  CHECK((*all)[0].name.str() == "eu-west");
  CHECK((*all)[1].name.str() == "local");
}

TEST_CASE("contract: organisations round-trip every field", "[contract][catalogue]") {
  auto ut = testing::MakeCatalogueStoreUnderTest();
  auto& store = ut->store();
  auto org = Org("aaaaaaaaaaaaaa1", "acme", "Acme Syndic \xe2\x82\xac \"quoted\" 'x'");
  org.tier = IsolationTier::kDedicated;
  REQUIRE(store.InsertOrganisation(org));

  auto got = store.GetOrganisation(S("acme"));
  REQUIRE(got);
  CHECK(got->id == org.id);
  CHECK(got->slug == org.slug);
  CHECK(got->name == org.name);
  CHECK(got->region == org.region);
  CHECK(got->tier == IsolationTier::kDedicated);
  CHECK(got->created == org.created);  // microsecond precision survives
  CHECK(got->updated == org.updated);
  CHECK(store.GetOrganisation(S("nope")).error().code == ErrorCode::kNotFound);
}

TEST_CASE("contract: organisation slugs and ids are unique", "[contract][catalogue]") {
  auto ut = testing::MakeCatalogueStoreUnderTest();
  auto& store = ut->store();
  REQUIRE(store.InsertOrganisation(Org("aaaaaaaaaaaaaa1", "acme")));
  CHECK(store.InsertOrganisation(Org("aaaaaaaaaaaaaa2", "acme")).error().code ==
        ErrorCode::kAlreadyExists);
  CHECK(store.InsertOrganisation(Org("aaaaaaaaaaaaaa1", "other")).error().code ==
        ErrorCode::kAlreadyExists);
  auto list = store.ListOrganisations(P(1, 30));
  REQUIRE(list);
  CHECK(list->total_items == 1);  // the failed inserts left nothing behind
}

TEST_CASE("contract: an organisation needs an existing region", "[contract][catalogue]") {
  auto ut = testing::MakeCatalogueStoreUnderTest();
  auto org = Org("aaaaaaaaaaaaaa1", "acme");
  org.region = S("mars-1");
  CHECK(ut->store().InsertOrganisation(org).error().code == ErrorCode::kFailedPrecondition);
}

TEST_CASE("contract: organisations list in slug order, paginated with a total",
          "[contract][catalogue]") {
  auto ut = testing::MakeCatalogueStoreUnderTest();
  auto& store = ut->store();
  const char* slugs[] = {"delta", "alpha", "echo", "charlie", "bravo"};
  int n = 0;
  for (const char* slug : slugs) {
    std::string id = "org00000000000" + std::to_string(n++);
    REQUIRE(store.InsertOrganisation(Org(id, slug)));
  }
  auto first = store.ListOrganisations(P(1, 2));
  REQUIRE(first);
  CHECK(first->total_items == 5);
  CHECK(first->TotalPages() == 3);
  CHECK(first->page == 1);
  CHECK(first->per_page == 2);
  REQUIRE(first->items.size() == 2);
  CHECK(first->items[0].slug.str() == "alpha");
  CHECK(first->items[1].slug.str() == "bravo");
  auto last = store.ListOrganisations(P(3, 2));
  REQUIRE(last->items.size() == 1);
  CHECK(last->items[0].slug.str() == "echo");
  auto beyond = store.ListOrganisations(P(4, 2));
  CHECK(beyond->items.empty());
  CHECK(beyond->total_items == 5);
}

TEST_CASE("contract: updating an organisation changes name and updated only",
          "[contract][catalogue]") {
  auto ut = testing::MakeCatalogueStoreUnderTest();
  auto& store = ut->store();
  auto org = Org("aaaaaaaaaaaaaa1", "acme");
  REQUIRE(store.InsertOrganisation(org));
  auto changed = org;
  changed.name = N("Acme Renamed");
  changed.updated = T(1'800'000'000'000'001);
  changed.tier = IsolationTier::kDedicated;  // not a mutable field here
  REQUIRE(store.UpdateOrganisation(changed));
  auto got = store.GetOrganisation(S("acme"));
  CHECK(got->name.str() == "Acme Renamed");
  CHECK(got->updated == T(1'800'000'000'000'001));
  CHECK(got->created == org.created);
  CHECK(got->tier == IsolationTier::kShared);
  CHECK(store.UpdateOrganisation(Org("zzzzzzzzzzzzzz9", "ghost")).error().code ==
        ErrorCode::kNotFound);
}

TEST_CASE("contract: projects belong to an organisation and carry its slug",
          "[contract][catalogue]") {
  auto ut = testing::MakeCatalogueStoreUnderTest();
  auto& store = ut->store();
  auto org = Org("aaaaaaaaaaaaaa1", "acme");
  REQUIRE(store.InsertOrganisation(org));
  auto project = Proj("ppppppppppppp01", "shop", org);
  project.org_slug = S("stale");  // the store derives it from org_id
  REQUIRE(store.InsertProject(project));
  auto got = store.GetProject(S("shop"));
  REQUIRE(got);
  CHECK(got->id == project.id);
  CHECK(got->name == project.name);
  CHECK(got->org_id == org.id);
  CHECK(got->org_slug.str() == "acme");
  CHECK(got->created == project.created);
  CHECK(got->updated == project.updated);
  CHECK(store.GetProject(S("nope")).error().code == ErrorCode::kNotFound);

  auto orphan = Proj("ppppppppppppp02", "orphan", Org("zzzzzzzzzzzzzz9", "ghost"));
  CHECK(store.InsertProject(orphan).error().code == ErrorCode::kNotFound);
}

TEST_CASE("contract: projects carry their organisation's region and tier",
          "[contract][catalogue]") {
  auto ut = testing::MakeCatalogueStoreUnderTest();
  auto& store = ut->store();
  REQUIRE(store.UpsertRegion(Region{S("eu-west"), "postgresql://db.example/socle"}));
  auto shared = Org("aaaaaaaaaaaaaa1", "acme");
  auto dedicated = Org("aaaaaaaaaaaaaa2", "bigco");
  dedicated.region = S("eu-west");
  dedicated.tier = IsolationTier::kDedicated;
  REQUIRE(store.InsertOrganisation(shared));
  REQUIRE(store.InsertOrganisation(dedicated));
  auto stale = Proj("ppppppppppppp01", "shop", shared);
  stale.org_region = S("eu-west");  // the store derives both from org_id
  stale.org_tier = IsolationTier::kDedicated;
  REQUIRE(store.InsertProject(stale));
  REQUIRE(store.InsertProject(Proj("ppppppppppppp02", "vault", dedicated)));
  const auto placed = [](const Project& p, std::string_view region, IsolationTier tier) {
    return p.org_region && p.org_region->str() == region && p.org_tier == tier;
  };
  CHECK(placed(*store.GetProject(S("shop")), "local", IsolationTier::kShared));
  CHECK(placed(*store.GetProject(S("vault")), "eu-west", IsolationTier::kDedicated));
  CHECK(placed(*store.GetProjectById(I("ppppppppppppp02")), "eu-west", IsolationTier::kDedicated));
  auto listed = store.ListProjects(std::nullopt, P(1, 30));
  REQUIRE(listed);
  REQUIRE(listed->items.size() == 2);
  CHECK(placed(listed->items[0], "local", IsolationTier::kShared));
  CHECK(placed(listed->items[1], "eu-west", IsolationTier::kDedicated));
  auto of_b = store.ListProjects(dedicated.id, P(1, 30));
  REQUIRE(of_b);
  REQUIRE(of_b->items.size() == 1);
  CHECK(placed(of_b->items[0], "eu-west", IsolationTier::kDedicated));
  // Scheduled for deletion, a project still says where its data is (the purge needs it).
  REQUIRE(store.ScheduleOrganisationDeletion(dedicated.id, T(1'800'000'000'000'009),
                                             DeleteMode::kCascade));
  auto waiting = store.ListScheduledDeletions();
  REQUIRE(waiting);
  REQUIRE(waiting->projects.size() == 1);
  CHECK(placed(waiting->projects[0], "eu-west", IsolationTier::kDedicated));
  auto scheduled = store.GetScheduledProject(S("vault"));
  REQUIRE(scheduled);
  CHECK(placed(*scheduled, "eu-west", IsolationTier::kDedicated));
}

TEST_CASE("contract: project slugs are unique across organisations", "[contract][catalogue]") {
  auto ut = testing::MakeCatalogueStoreUnderTest();
  auto& store = ut->store();
  auto a = Org("aaaaaaaaaaaaaa1", "acme");
  auto b = Org("aaaaaaaaaaaaaa2", "bigco");
  REQUIRE(store.InsertOrganisation(a));
  REQUIRE(store.InsertOrganisation(b));
  REQUIRE(store.InsertProject(Proj("ppppppppppppp01", "shop", a)));
  CHECK(store.InsertProject(Proj("ppppppppppppp02", "shop", b)).error().code ==
        ErrorCode::kAlreadyExists);
  CHECK(store.InsertProject(Proj("ppppppppppppp01", "other", b)).error().code ==
        ErrorCode::kAlreadyExists);
}

TEST_CASE("contract: projects list by organisation or all, in slug order",
          "[contract][catalogue]") {
  auto ut = testing::MakeCatalogueStoreUnderTest();
  auto& store = ut->store();
  auto a = Org("aaaaaaaaaaaaaa1", "acme");
  auto b = Org("aaaaaaaaaaaaaa2", "bigco");
  REQUIRE(store.InsertOrganisation(a));
  REQUIRE(store.InsertOrganisation(b));
  REQUIRE(store.InsertProject(Proj("ppppppppppppp01", "zeta", a)));
  REQUIRE(store.InsertProject(Proj("ppppppppppppp02", "alpha", b)));
  REQUIRE(store.InsertProject(Proj("ppppppppppppp03", "mid", a)));

  auto of_a = store.ListProjects(a.id, P(1, 30));
  REQUIRE(of_a);
  CHECK(of_a->total_items == 2);
  REQUIRE(of_a->items.size() == 2);
  CHECK(of_a->items[0].slug.str() == "mid");
  CHECK(of_a->items[1].slug.str() == "zeta");
  CHECK(of_a->items[0].org_slug.str() == "acme");

  auto all = store.ListProjects(std::nullopt, P(1, 2));
  CHECK(all->total_items == 3);
  REQUIRE(all->items.size() == 2);
  CHECK(all->items[0].slug.str() == "alpha");
  CHECK(all->items[0].org_slug.str() == "bigco");
  CHECK(all->items[1].slug.str() == "mid");

  auto none = store.ListProjects(I("zzzzzzzzzzzzzz9"), P(1, 30));
  CHECK(none->total_items == 0);
}

TEST_CASE("contract: updating and deleting projects", "[contract][catalogue]") {
  auto ut = testing::MakeCatalogueStoreUnderTest();
  auto& store = ut->store();
  auto org = Org("aaaaaaaaaaaaaa1", "acme");
  REQUIRE(store.InsertOrganisation(org));
  auto project = Proj("ppppppppppppp01", "shop", org);
  REQUIRE(store.InsertProject(project));
  project.name = N("Shop v2");
  project.updated = T(1'800'000'000'000'000);
  REQUIRE(store.UpdateProject(project));
  CHECK(store.GetProject(S("shop"))->name.str() == "Shop v2");
  CHECK(store.GetProject(S("shop"))->updated == T(1'800'000'000'000'000));

  REQUIRE(store.DeleteProject(project.id));
  CHECK(store.GetProject(S("shop")).error().code == ErrorCode::kNotFound);
  CHECK(store.DeleteProject(project.id).error().code == ErrorCode::kNotFound);
  CHECK(store.UpdateProject(project).error().code == ErrorCode::kNotFound);
  // the slug is free again
  CHECK(store.InsertProject(Proj("ppppppppppppp02", "shop", org)));
}

TEST_CASE("contract: an organisation with projects is deleted only in cascade mode",
          "[contract][catalogue]") {
  auto ut = testing::MakeCatalogueStoreUnderTest();
  auto& store = ut->store();
  auto a = Org("aaaaaaaaaaaaaa1", "acme");
  auto b = Org("aaaaaaaaaaaaaa2", "bigco");
  REQUIRE(store.InsertOrganisation(a));
  REQUIRE(store.InsertOrganisation(b));
  REQUIRE(store.InsertProject(Proj("ppppppppppppp01", "shop", a)));
  REQUIRE(store.InsertProject(Proj("ppppppppppppp02", "blog", a)));
  REQUIRE(store.InsertProject(Proj("ppppppppppppp03", "kept", b)));

  CHECK(store.DeleteOrganisation(a.id, DeleteMode::kRefuseIfProjects).error().code ==
        ErrorCode::kFailedPrecondition);
  CHECK(store.GetOrganisation(S("acme")));  // refused: nothing removed
  CHECK(store.GetProject(S("shop")));

  auto deleted = store.DeleteOrganisation(a.id, DeleteMode::kCascade);
  REQUIRE(deleted);
  CHECK(*deleted == 2);
  CHECK(store.GetOrganisation(S("acme")).error().code == ErrorCode::kNotFound);
  CHECK(store.GetProject(S("shop")).error().code == ErrorCode::kNotFound);
  CHECK(store.GetProject(S("blog")).error().code == ErrorCode::kNotFound);
  CHECK(store.GetProject(S("kept")));  // another tenant's data is untouched

  CHECK(store.DeleteOrganisation(a.id, DeleteMode::kCascade).error().code ==
        ErrorCode::kNotFound);
  auto empty_org = store.DeleteOrganisation(b.id, DeleteMode::kCascade);
  REQUIRE(empty_org);
  CHECK(*empty_org == 1);
}

TEST_CASE("contract: an empty organisation is deleted without force", "[contract][catalogue]") {
  auto ut = testing::MakeCatalogueStoreUnderTest();
  auto& store = ut->store();
  auto a = Org("aaaaaaaaaaaaaa1", "acme");
  REQUIRE(store.InsertOrganisation(a));
  auto deleted = store.DeleteOrganisation(a.id, DeleteMode::kRefuseIfProjects);
  REQUIRE(deleted);
  CHECK(*deleted == 0);
}

TEST_CASE("contract: concurrent creates of one slug yield exactly one winner",
          "[contract][catalogue][concurrency]") {
  auto ut = testing::MakeCatalogueStoreUnderTest();
  std::atomic<int> created{0};
  std::atomic<int> conflicts{0};
  std::atomic<int> other_errors{0};
  std::vector<std::thread> threads;
  for (int t = 0; t < 2; ++t) {
    threads.emplace_back([&, t] {
      auto& store = t == 0 ? ut->store() : ut->other();
      for (int i = 0; i < 20; ++i) {
        std::string id = "c" + std::to_string(t) + std::string(10, '0') + std::to_string(100 + i);
        auto r = store.InsertOrganisation(Org(id, "org" + std::to_string(i)));
        if (r) {
          ++created;
        } else if (r.error().code == ErrorCode::kAlreadyExists) {
          ++conflicts;
        } else {
          ++other_errors;
        }
      }
    });
  }
  for (auto& th : threads) th.join();
  CHECK(created == 20);
  CHECK(conflicts == 20);
  CHECK(other_errors == 0);
  CHECK(ut->store().ListOrganisations(P(1, 100))->total_items == 20);
}

TEST_CASE("contract: the use cases run end to end on the store", "[contract][catalogue]") {
  auto ut = testing::MakeCatalogueStoreUnderTest();
  testing::ManualClock clock;
  testing::SeededRandomSource random;
  application::ManageOrganisations orgs(ut->store(), clock, random);
  application::ManageProjects projects(ut->store(), clock, random);

  auto org = orgs.Create({"acme", std::string("Acme"), std::nullopt, std::nullopt});
  REQUIRE(org);
  auto project = projects.Create({"shop", "acme", std::nullopt});
  REQUIRE(project);
  CHECK(project->name.str() == "shop");
  CHECK(orgs.Delete("acme", application::ForceDelete::kNo).error().code ==
        ErrorCode::kFailedPrecondition);
  clock.Advance(5'000'000);
  auto renamed = projects.Rename("shop", "The Shop");
  REQUIRE(renamed);
  CHECK(renamed->updated.unix_micros() - renamed->created.unix_micros() == 5'000'000);
  CHECK(projects.Get("shop")->name.str() == "The Shop");
  CHECK(orgs.Delete("acme", application::ForceDelete::kYes).value() == 1);
  CHECK(projects.Get("shop").error().code == ErrorCode::kNotFound);
}

// --- project settings

namespace {

// Settings that differ from the defaults in every group and member, with text that tests the
// stores' escaping and numbers beyond 32 bits.
ProjectSettings Changed() {
  ProjectSettings settings;
  settings.meta.app_name = "Boutique \xc3\xa9t\xc3\xa9 \"quoted\" \\ 'x'";
  settings.meta.app_url = "https://shop.example.com/p/shop";
  settings.meta.sender_name = "Shop";
  settings.meta.sender_address = "noreply@shop.example.com";
  settings.meta.hide_controls = true;
  settings.batch.enabled = false;
  settings.batch.max_requests = 7;
  settings.batch.timeout = 9;
  settings.batch.max_body_size = 5'000'000'000;
  settings.rate_limits.enabled = true;
  settings.rate_limits.rules = {RateLimitRule{"POST /api/batch", 1, 2, "@guest"},
                                RateLimitRule{"users:create", 3, 4, "@auth"}};
  settings.trusted_proxy.headers = {"X-Forwarded-For", "CF-Connecting-IP"};
  settings.trusted_proxy.use_leftmost_ip = true;
  return settings;
}

}  // namespace

TEST_CASE("contract: project settings are absent until put, then round-trip whole",
          "[contract][catalogue][settings]") {
  auto ut = testing::MakeCatalogueStoreUnderTest();
  auto& store = ut->store();
  auto org = Org("aaaaaaaaaaaaaa1", "acme");
  REQUIRE(store.InsertOrganisation(org));
  auto shop = Proj("ppppppppppppp01", "shop", org);
  auto blog = Proj("ppppppppppppp02", "blog", org);
  REQUIRE(store.InsertProject(shop));
  REQUIRE(store.InsertProject(blog));

  auto never = store.GetProjectSettings(shop.id);
  REQUIRE(never);
  CHECK_FALSE(never->has_value());

  REQUIRE(store.PutProjectSettings(shop.id, Changed(), T(1'800'000'000'000'001)));
  auto got = store.GetProjectSettings(shop.id);
  REQUIRE(got);
  REQUIRE(got->has_value());
  CHECK(**got == Changed());
  // Empty lists and defaults survive too, and a put replaces the whole value.
  ProjectSettings bare;
  bare.rate_limits.rules.clear();
  REQUIRE(store.PutProjectSettings(shop.id, bare, T(1'800'000'000'000'002)));
  auto replaced = ut->other().GetProjectSettings(shop.id);
  REQUIRE(replaced);
  REQUIRE(replaced->has_value());
  CHECK(**replaced == bare);
  // Per project: the other one still has none.
  auto other_project = store.GetProjectSettings(blog.id);
  REQUIRE(other_project);
  CHECK_FALSE(other_project->has_value());
}

TEST_CASE("contract: settings of an unknown project are not_found",
          "[contract][catalogue][settings]") {
  auto ut = testing::MakeCatalogueStoreUnderTest();
  auto& store = ut->store();
  CHECK(store.GetProjectSettings(I("nnnnnnnnnnnnnn1")).error().code == ErrorCode::kNotFound);
  CHECK(store.PutProjectSettings(I("nnnnnnnnnnnnnn1"), Changed(), T(1)).error().code ==
        ErrorCode::kNotFound);
}

TEST_CASE("contract: settings go with their project and its organisation",
          "[contract][catalogue][settings]") {
  auto ut = testing::MakeCatalogueStoreUnderTest();
  auto& store = ut->store();
  auto org = Org("aaaaaaaaaaaaaa1", "acme");
  REQUIRE(store.InsertOrganisation(org));
  auto shop = Proj("ppppppppppppp01", "shop", org);
  auto blog = Proj("ppppppppppppp02", "blog", org);
  REQUIRE(store.InsertProject(shop));
  REQUIRE(store.InsertProject(blog));
  REQUIRE(store.PutProjectSettings(shop.id, Changed(), T(1)));
  REQUIRE(store.PutProjectSettings(blog.id, Changed(), T(1)));

  REQUIRE(store.DeleteProject(shop.id));
  CHECK(store.GetProjectSettings(shop.id).error().code == ErrorCode::kNotFound);
  // A project created again with the same id starts from the defaults.
  REQUIRE(store.InsertProject(shop));
  auto fresh = store.GetProjectSettings(shop.id);
  REQUIRE(fresh);
  CHECK_FALSE(fresh->has_value());

  REQUIRE(store.DeleteOrganisation(org.id, DeleteMode::kCascade));
  REQUIRE(store.InsertOrganisation(org));
  REQUIRE(store.InsertProject(blog));
  auto after_cascade = store.GetProjectSettings(blog.id);
  REQUIRE(after_cascade);
  CHECK_FALSE(after_cascade->has_value());
}

// --- scheduled deletions: hidden, restorable, then purged

namespace {

// Every way the port reads or writes a live organisation or project says not_found (or leaves
// it out) for these, exactly as if they did not exist.
void CheckHidden(application::CatalogueStore& store, const Organisation& org,
                 const std::vector<Project>& projects) {
  CHECK(store.GetOrganisation(org.slug).error().code == ErrorCode::kNotFound);
  CHECK(store.GetOrganisationById(org.id).error().code == ErrorCode::kNotFound);
  CHECK(store.UpdateOrganisation(org).error().code == ErrorCode::kNotFound);
  auto of_org = store.ListProjects(org.id, P(1, 30));
  REQUIRE(of_org);
  CHECK(of_org->total_items == 0);
  CHECK(of_org->items.empty());
  for (const auto& project : projects) {
    INFO(project.slug.str());
    CHECK(store.GetProject(project.slug).error().code == ErrorCode::kNotFound);
    CHECK(store.GetProjectById(project.id).error().code == ErrorCode::kNotFound);
    CHECK(store.UpdateProject(project).error().code == ErrorCode::kNotFound);
    CHECK(store.GetProjectSettings(project.id).error().code == ErrorCode::kNotFound);
    CHECK(store.PutProjectSettings(project.id, ProjectSettings{}, T(1)).error().code ==
          ErrorCode::kNotFound);
    CHECK(store.ScheduleProjectDeletion(project.id, T(2)).error().code == ErrorCode::kNotFound);
  }
}

std::vector<std::string> Slugs(const auto& items) {
  std::vector<std::string> out;
  for (const auto& item : items) out.push_back(item.slug.str());
  return out;
}

}  // namespace

TEST_CASE("contract: a scheduled organisation hides itself and its projects everywhere",
          "[contract][catalogue][deletion]") {
  auto ut = testing::MakeCatalogueStoreUnderTest();
  auto& store = ut->store();
  auto a = Org("aaaaaaaaaaaaaa1", "acme");
  auto b = Org("aaaaaaaaaaaaaa2", "bigco");
  REQUIRE(store.InsertOrganisation(a));
  REQUIRE(store.InsertOrganisation(b));
  auto shop = Proj("ppppppppppppp01", "shop", a);
  auto blog = Proj("ppppppppppppp02", "blog", a);
  auto kept = Proj("ppppppppppppp03", "kept", b);
  for (const auto& p : {shop, blog, kept}) REQUIRE(store.InsertProject(p));
  REQUIRE(store.PutProjectSettings(shop.id, Changed(), T(5)));

  // Refused while it has live projects: nothing is hidden.
  CHECK(store.ScheduleOrganisationDeletion(a.id, T(10), DeleteMode::kRefuseIfProjects)
            .error()
            .code == ErrorCode::kFailedPrecondition);
  CHECK(store.GetOrganisation(S("acme")));
  CHECK(store.GetProject(S("shop")));

  auto scheduled = store.ScheduleOrganisationDeletion(a.id, T(1'800'000'000'000'007),
                                                      DeleteMode::kCascade);
  REQUIRE(scheduled);
  CHECK(*scheduled == 2);
  for (auto* handle : {&ut->store(), &ut->other()}) CheckHidden(*handle, a, {shop, blog});

  auto orgs = store.ListOrganisations(P(1, 30));
  REQUIRE(orgs);
  CHECK(orgs->total_items == 1);
  CHECK(Slugs(orgs->items) == std::vector<std::string>{"bigco"});
  auto all = store.ListProjects(std::nullopt, P(1, 30));
  REQUIRE(all);
  CHECK(all->total_items == 1);
  CHECK(Slugs(all->items) == std::vector<std::string>{"kept"});
  CHECK(store.GetProject(S("kept")));  // another tenant is untouched
  CHECK(store.GetOrganisation(S("bigco")));

  // Hidden is not gone: the slugs stay taken, and nothing joins a scheduled organisation.
  CHECK(store.InsertOrganisation(Org("aaaaaaaaaaaaaa3", "acme")).error().code ==
        ErrorCode::kAlreadyExists);
  CHECK(store.InsertProject(Proj("ppppppppppppp04", "shop", b)).error().code ==
        ErrorCode::kAlreadyExists);
  CHECK(store.InsertProject(Proj("ppppppppppppp05", "newcomer", a)).error().code ==
        ErrorCode::kNotFound);
  CHECK(store.GetProject(S("newcomer")).error().code == ErrorCode::kNotFound);
  // Scheduling again, or anything unknown, finds nothing to schedule.
  CHECK(store.ScheduleOrganisationDeletion(a.id, T(11), DeleteMode::kCascade).error().code ==
        ErrorCode::kNotFound);
  CHECK(store.ScheduleOrganisationDeletion(I("zzzzzzzzzzzzzz9"), T(11), DeleteMode::kCascade)
            .error()
            .code == ErrorCode::kNotFound);

  // What waits for the purge, with when it was asked.
  auto waiting = ut->other().ListScheduledDeletions();
  REQUIRE(waiting);
  REQUIRE(waiting->organisations.size() == 1);
  const Organisation& listed = waiting->organisations[0];
  CHECK(listed.id == a.id);
  CHECK(listed.slug == a.slug);
  CHECK(listed.name == a.name);
  CHECK(listed.created == a.created);
  CHECK(listed.deleted == T(1'800'000'000'000'007));
  CHECK(Slugs(waiting->projects) == std::vector<std::string>{"blog", "shop"});
  for (const auto& project : waiting->projects) {
    CHECK(project.deleted == T(1'800'000'000'000'007));
    CHECK(project.org_slug.str() == "acme");
    CHECK(project.org_id == a.id);
  }
  auto by_slug = store.GetScheduledOrganisation(S("acme"));
  REQUIRE(by_slug);
  CHECK(by_slug->deleted == T(1'800'000'000'000'007));
  auto project = store.GetScheduledProject(S("shop"));
  REQUIRE(project);
  CHECK(project->id == shop.id);
  CHECK(project->name == shop.name);
  CHECK(project->deleted == T(1'800'000'000'000'007));
  // Live ones are not "scheduled".
  CHECK(store.GetScheduledOrganisation(S("bigco")).error().code == ErrorCode::kNotFound);
  CHECK(store.GetScheduledProject(S("kept")).error().code == ErrorCode::kNotFound);
  CHECK(store.GetScheduledProject(S("nope")).error().code == ErrorCode::kNotFound);

  // Restored as it was, settings included.
  REQUIRE(store.RestoreOrganisation(a.id));
  auto back = ut->other().GetOrganisation(S("acme"));
  REQUIRE(back);
  CHECK_FALSE(back->deleted.has_value());
  CHECK(back->name == a.name);
  auto of_a = store.ListProjects(a.id, P(1, 30));
  REQUIRE(of_a);
  CHECK(Slugs(of_a->items) == std::vector<std::string>{"blog", "shop"});
  auto settings = store.GetProjectSettings(shop.id);
  REQUIRE(settings);
  REQUIRE(settings->has_value());
  CHECK(**settings == Changed());
  auto nothing = store.ListScheduledDeletions();
  REQUIRE(nothing);
  CHECK(nothing->organisations.empty());
  CHECK(nothing->projects.empty());
}

TEST_CASE("contract: a scheduled project is hidden, keeps its slug and comes back",
          "[contract][catalogue][deletion]") {
  auto ut = testing::MakeCatalogueStoreUnderTest();
  auto& store = ut->store();
  auto a = Org("aaaaaaaaaaaaaa1", "acme");
  REQUIRE(store.InsertOrganisation(a));
  auto shop = Proj("ppppppppppppp01", "shop", a);
  auto blog = Proj("ppppppppppppp02", "blog", a);
  REQUIRE(store.InsertProject(shop));
  REQUIRE(store.InsertProject(blog));

  REQUIRE(store.ScheduleProjectDeletion(shop.id, T(1'800'000'000'000'001)));
  CHECK(store.GetOrganisation(S("acme")));  // the organisation stays
  CheckHidden(ut->other(), Org("zzzzzzzzzzzzzz9", "ghost"), {shop});
  auto of_a = store.ListProjects(a.id, P(1, 30));
  REQUIRE(of_a);
  CHECK(of_a->total_items == 1);
  CHECK(Slugs(of_a->items) == std::vector<std::string>{"blog"});
  CHECK(store.InsertProject(Proj("ppppppppppppp03", "shop", a)).error().code ==
        ErrorCode::kAlreadyExists);
  CHECK(store.ScheduleProjectDeletion(I("nnnnnnnnnnnnnn1"), T(1)).error().code ==
        ErrorCode::kNotFound);

  auto waiting = store.ListScheduledDeletions();
  REQUIRE(waiting);
  CHECK(waiting->organisations.empty());
  REQUIRE(waiting->projects.size() == 1);
  CHECK(waiting->projects[0].id == shop.id);
  CHECK(waiting->projects[0].deleted == T(1'800'000'000'000'001));

  // Only live projects count against deleting the organisation without force.
  CHECK(store.ScheduleOrganisationDeletion(a.id, T(3), DeleteMode::kRefuseIfProjects)
            .error()
            .code == ErrorCode::kFailedPrecondition);
  REQUIRE(store.ScheduleProjectDeletion(blog.id, T(1'800'000'000'000'002)));
  auto scheduled = store.ScheduleOrganisationDeletion(a.id, T(1'800'000'000'000'003),
                                                      DeleteMode::kRefuseIfProjects);
  REQUIRE(scheduled);
  CHECK(*scheduled == 0);

  // A project's deletion time is the earlier of its own and its organisation's.
  auto shown = store.GetScheduledProject(S("shop"));
  REQUIRE(shown);
  CHECK(shown->deleted == T(1'800'000'000'000'001));

  // No project comes back while its organisation is scheduled.
  CHECK(store.RestoreProject(shop.id).error().code == ErrorCode::kFailedPrecondition);
  REQUIRE(store.RestoreOrganisation(a.id));
  // The projects scheduled on their own stay scheduled with their own time.
  CHECK(store.GetProject(S("shop")).error().code == ErrorCode::kNotFound);
  CHECK(store.GetProject(S("blog")).error().code == ErrorCode::kNotFound);
  auto own = store.GetScheduledProject(S("blog"));
  REQUIRE(own);
  CHECK(own->deleted == T(1'800'000'000'000'002));

  REQUIRE(ut->other().RestoreProject(shop.id));
  auto back = store.GetProject(S("shop"));
  REQUIRE(back);
  CHECK(back->org_slug.str() == "acme");
  CHECK_FALSE(back->deleted.has_value());
  CHECK(store.RestoreProject(shop.id).error().code == ErrorCode::kFailedPrecondition);
  CHECK(store.RestoreProject(I("nnnnnnnnnnnnnn1")).error().code == ErrorCode::kNotFound);
  CHECK(store.RestoreOrganisation(a.id).error().code == ErrorCode::kFailedPrecondition);
  CHECK(store.RestoreOrganisation(I("zzzzzzzzzzzzzz9")).error().code == ErrorCode::kNotFound);
}

TEST_CASE("contract: a project of a scheduled organisation comes back with it",
          "[contract][catalogue][deletion]") {
  auto ut = testing::MakeCatalogueStoreUnderTest();
  auto& store = ut->store();
  auto a = Org("aaaaaaaaaaaaaa1", "acme");
  REQUIRE(store.InsertOrganisation(a));
  auto shop = Proj("ppppppppppppp01", "shop", a);
  REQUIRE(store.InsertProject(shop));
  REQUIRE(store.ScheduleOrganisationDeletion(a.id, T(1'800'000'000'000'009),
                                             DeleteMode::kCascade));
  // Hidden by its organisation, not scheduled on its own: nothing of its own to restore.
  CHECK(store.RestoreProject(shop.id).error().code == ErrorCode::kFailedPrecondition);
  auto shown = store.GetScheduledProject(S("shop"));
  REQUIRE(shown);
  CHECK(shown->deleted == T(1'800'000'000'000'009));
  REQUIRE(store.RestoreOrganisation(a.id));
  CHECK(store.GetProject(S("shop")));
  CHECK(store.GetScheduledProject(S("shop")).error().code == ErrorCode::kNotFound);
}

TEST_CASE("contract: the purge deletes scheduled rows and frees their slugs",
          "[contract][catalogue][deletion]") {
  auto ut = testing::MakeCatalogueStoreUnderTest();
  auto& store = ut->store();
  auto a = Org("aaaaaaaaaaaaaa1", "acme");
  auto b = Org("aaaaaaaaaaaaaa2", "bigco");
  REQUIRE(store.InsertOrganisation(a));
  REQUIRE(store.InsertOrganisation(b));
  auto shop = Proj("ppppppppppppp01", "shop", a);
  auto blog = Proj("ppppppppppppp02", "blog", a);
  auto solo = Proj("ppppppppppppp03", "solo", b);
  for (const auto& p : {shop, blog, solo}) REQUIRE(store.InsertProject(p));

  REQUIRE(store.ScheduleProjectDeletion(solo.id, T(1)));
  REQUIRE(store.DeleteProject(solo.id));
  CHECK(store.GetScheduledProject(S("solo")).error().code == ErrorCode::kNotFound);
  CHECK(store.RestoreProject(solo.id).error().code == ErrorCode::kNotFound);
  CHECK(store.InsertProject(Proj("ppppppppppppp04", "solo", b)));  // the slug is free again

  // A scheduled project does not stop its organisation's deletion without force, and goes
  // with it.
  REQUIRE(store.ScheduleProjectDeletion(blog.id, T(2)));
  CHECK(store.DeleteOrganisation(a.id, DeleteMode::kRefuseIfProjects).error().code ==
        ErrorCode::kFailedPrecondition);  // shop is live
  REQUIRE(store.ScheduleOrganisationDeletion(a.id, T(3), DeleteMode::kCascade));
  auto deleted = store.DeleteOrganisation(a.id, DeleteMode::kCascade);
  REQUIRE(deleted);
  CHECK(*deleted == 2);
  auto waiting = store.ListScheduledDeletions();
  REQUIRE(waiting);
  CHECK(waiting->organisations.empty());
  CHECK(waiting->projects.empty());
  CHECK(store.RestoreOrganisation(a.id).error().code == ErrorCode::kNotFound);
  REQUIRE(store.InsertOrganisation(Org("aaaaaaaaaaaaaa3", "acme")));
  REQUIRE(store.InsertProject(Proj("ppppppppppppp05", "shop", b)));

  // Without force, an organisation whose projects are all scheduled is deleted with them.
  auto c = Org("aaaaaaaaaaaaaa4", "cedar");
  REQUIRE(store.InsertOrganisation(c));
  auto leaf = Proj("ppppppppppppp06", "leaf", c);
  REQUIRE(store.InsertProject(leaf));
  REQUIRE(store.ScheduleProjectDeletion(leaf.id, T(4)));
  auto emptied = store.DeleteOrganisation(c.id, DeleteMode::kRefuseIfProjects);
  REQUIRE(emptied);
  CHECK(*emptied == 1);
  CHECK(store.GetScheduledProject(S("leaf")).error().code == ErrorCode::kNotFound);
}

TEST_CASE("contract: a project created while its organisation is scheduled is refused or counted",
          "[contract][catalogue][deletion][concurrency]") {
  // The count ScheduleOrganisationDeletion returns is the number of live projects it hid: no
  // project may be inserted between that count and the mark (it would vanish uncounted), and
  // none may be inserted after the mark. Two creators keep inserts in flight on both handles
  // while the organisation is scheduled.
  auto ut = testing::MakeCatalogueStoreUnderTest();
  auto a = Org("aaaaaaaaaaaaaa1", "acme");
  REQUIRE(ut->store().InsertOrganisation(a));
  constexpr int kPerCreator = 40;
  std::atomic<int> inserted{0};
  std::atomic<int> refused{0};
  std::atomic<int> other_errors{0};
  std::atomic<bool> scheduled{false};
  std::atomic<std::int64_t> hidden{-1};
  auto create = [&](int creator) {
    auto& store = creator == 0 ? ut->store() : ut->other();
    for (int i = 0; i < kPerCreator; ++i) {
      const int n = creator * kPerCreator + i;
      std::string id = "ppppppppppp" + std::to_string(1000 + n);
      // Read before the insert starts: once the schedule committed, no insert may succeed.
      const bool after_schedule = scheduled.load();
      auto made = store.InsertProject(Proj(id, "proj-" + std::to_string(n), a));
      if (made) {
        ++inserted;
        if (after_schedule) ++other_errors;
      } else if (made.error().code == ErrorCode::kNotFound) {
        ++refused;
      } else {
        ++other_errors;
      }
    }
  };
  std::thread first(create, 0);
  std::thread second(create, 1);
  std::thread scheduler([&] {
    while (inserted.load() < 10) std::this_thread::yield();
    auto done = ut->other().ScheduleOrganisationDeletion(a.id, T(9), DeleteMode::kCascade);
    if (done) {
      hidden = *done;
      scheduled = true;
    } else {
      ++other_errors;
    }
  });
  first.join();
  second.join();
  scheduler.join();
  CHECK(other_errors == 0);
  CHECK(hidden.load() == inserted.load());
  CHECK(inserted + refused == 2 * kPerCreator);
  auto waiting = ut->store().ListScheduledDeletions();
  REQUIRE(waiting);
  CHECK(static_cast<int>(waiting->projects.size()) == inserted.load());
}
