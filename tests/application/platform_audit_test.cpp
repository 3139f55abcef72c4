// The platform's own events: catalogue changes (organisations, projects, regions, settings,
// purges) recorded on the organisations' chains with their callers, refusals recorded, and the
// chains searched, verified and checkpointed with the projects' trails by AuditLog.
#include <catch2/catch.hpp>

#include <algorithm>
#include <set>
#include <string>
#include <vector>

#include "socle/adapters/crypto/digest.hpp"
#include "socle/adapters/crypto/ed25519_audit_signer.hpp"
#include "socle/adapters/memory/memory_audit_checkpoints.hpp"
#include "socle/adapters/memory/memory_catalogue_store.hpp"
#include "socle/adapters/memory/memory_project_store.hpp"
#include "socle/application/access_control.hpp"
#include "socle/application/audit_log.hpp"
#include "socle/application/audit_trail.hpp"
#include "socle/application/manage_organisations.hpp"
#include "socle/application/manage_projects.hpp"
#include "socle/application/manage_regions.hpp"
#include "socle/application/manage_settings.hpp"
#include "socle/application/platform_catalogue.hpp"
#include "socle/application/platform_trail.hpp"
#include "socle/application/project_directory.hpp"
#include "socle/application/purge_deleted.hpp"
#include "support/test_ports.hpp"

using namespace socle;
using application::AuditContext;
using application::StoredAuditEvent;
using domain::AuditActorKind;
using domain::AuditOutcome;

namespace {

std::string Sha256Hex(std::string_view bytes) {
  return adapters::crypto::ToHex(adapters::crypto::Sha256(bytes));
}

std::unique_ptr<adapters::crypto::Ed25519AuditSigner> Signer() {
  std::array<std::uint8_t, 32> seed{};
  seed.fill(9);
  auto signer = adapters::crypto::Ed25519AuditSigner::FromSeed(seed);
  REQUIRE(signer);
  return std::move(*signer);
}

struct World {
  explicit World(std::chrono::seconds grace = std::chrono::seconds(0)) : deletion_grace(grace) {}

  // Every event of a chain, oldest first.
  std::vector<StoredAuditEvent> Chain(const std::string& chain) {
    auto events = catalogue.PlatformAuditChain(chain, 0, 1000);
    REQUIRE(events);
    return *events;
  }
  std::vector<std::string> Actions(const std::string& chain) {
    std::vector<std::string> out;
    for (const auto& stored : Chain(chain)) out.push_back(stored.event.action);
    return out;
  }
  domain::Organisation Org(const std::string& slug) {
    auto org = orgs.Get(slug);
    REQUIRE(org);
    return *org;
  }

  AuditContext alice{{AuditActorKind::kMember, "member000000001"},
                     {"req-7", "198.51.100.4", "agent/2", "quarterly review"}};
  std::chrono::seconds deletion_grace;
  adapters::memory::MemoryCatalogueStore catalogue;
  adapters::memory::MemoryProjectStores stores;
  testing::ManualClock clock;
  testing::SeededRandomSource random;
  application::AuditTrail trail{clock, random, &Sha256Hex};
  application::PlatformTrail platform{catalogue, trail};
  application::ProjectDirectory directory{catalogue, stores, clock};
  application::PurgeDeleted deletion{catalogue, &directory, nullptr, deletion_grace, &platform};
  application::ManageOrganisations orgs{catalogue, clock, random, &directory, &deletion, &platform};
  application::ManageProjects projects{catalogue, clock, random, &directory, &deletion, &platform};
  application::ManageRegions regions{catalogue, &platform};
  application::ManageSettings settings{directory, catalogue, clock, &platform};
  std::unique_ptr<adapters::crypto::Ed25519AuditSigner> signer = Signer();
  adapters::memory::MemoryAuditCheckpoints checkpoints;
  application::AuditLog log{catalogue, stores, clock, &Sha256Hex, signer.get(), &checkpoints};
};

}  // namespace

TEST_CASE("an organisation's life is recorded on its chain, with who, from where and why",
          "[application][audit][platform]") {
  World w(std::chrono::hours(24));
  REQUIRE(w.orgs.Create({"acme", std::string("Acme"), std::nullopt, std::nullopt}, w.alice));
  const auto org = w.Org("acme");
  w.clock.Advance(1000);
  REQUIRE(w.orgs.Rename("acme", "Acme Corp", w.alice));
  w.clock.Advance(1000);
  REQUIRE(w.orgs.Remove("acme", application::ForceDelete::kNo, w.alice));
  w.clock.Advance(1000);
  REQUIRE(w.orgs.Restore("acme", w.alice));

  const auto chain = w.Chain(org.id.str());
  REQUIRE(chain.size() == 4);
  CHECK(w.Actions(org.id.str()) == std::vector<std::string>{"organisation.create",
                                                            "organisation.update",
                                                            "organisation.schedule_deletion",
                                                            "organisation.restore"});
  for (std::size_t i = 0; i < chain.size(); ++i) {
    const auto& event = chain[i].event;
    CHECK(event.seq == static_cast<std::int64_t>(i + 1));
    CHECK(event.org_id == org.id.str());
    CHECK(event.actor_kind == AuditActorKind::kMember);
    CHECK(event.actor_id == "member000000001");
    CHECK(event.request_id == "req-7");
    CHECK(event.reason == "quarterly review");
    CHECK(event.target_kind == "organisation");
    CHECK(event.target_id == org.id.str());
    CHECK(event.outcome == AuditOutcome::kSuccess);
  }
  // The rename shows the name before and after, and nothing else.
  CHECK(chain[1].event.changes ==
        R"([{"field":"name","before":"Acme","after":"Acme Corp"}])");
  // The client's address is personal data: in the erasable part, not in the chain.
  CHECK(chain[0].event.changes.find("198.51.100.4") == std::string::npos);
  REQUIRE_FALSE(chain[0].personal.empty());
  CHECK(chain[0].personal.front().data.find("198.51.100.4") != std::string::npos);
}

TEST_CASE("a project's changes and settings go to its organisation's chain",
          "[application][audit][platform]") {
  World w;
  REQUIRE(w.orgs.Create({"acme", std::nullopt, std::nullopt, std::nullopt}, w.alice));
  const auto org = w.Org("acme");
  auto project = w.projects.Create({"shop", "acme", std::nullopt}, w.alice);
  REQUIRE(project);
  auto changed = domain::ProjectSettings{};
  changed.meta.app_name = "Shop";
  changed.batch.max_requests = 20;
  REQUIRE(w.settings.Update("shop", changed, w.alice));

  const auto chain = w.Chain(org.id.str());
  REQUIRE(chain.size() == 3);
  CHECK(chain[1].event.action == "project.create");
  CHECK(chain[1].event.project_id == project->id.str());
  CHECK(chain[2].event.action == "project.settings");
  CHECK(chain[2].event.project_id == project->id.str());
  // Only what changed, before and after.
  CHECK(chain[2].event.changes ==
        R"([{"field":"meta.appName","before":"Acme","after":"Shop"},)"
        R"({"field":"batch.maxRequests","before":50,"after":20}])");
}

TEST_CASE("a change the store refuses is recorded as a failed attempt, and changes nothing",
          "[application][audit][platform]") {
  World w;
  REQUIRE(w.orgs.Create({"acme", std::nullopt, std::nullopt, std::nullopt}, w.alice));
  REQUIRE(w.orgs.Create({"globex", std::nullopt, std::nullopt, std::nullopt}, w.alice));
  REQUIRE(w.projects.Create({"shop", "acme", std::nullopt}, w.alice));
  // The slug is taken platform-wide: the store refuses it.
  auto again = w.projects.Create({"shop", "globex", std::nullopt}, w.alice);
  REQUIRE_FALSE(again);
  CHECK(again.error().code == domain::ErrorCode::kAlreadyExists);
  const auto chain = w.Chain(w.Org("globex").id.str());
  REQUIRE(chain.size() == 2);
  CHECK(chain[1].event.action == "project.create");
  CHECK(chain[1].event.outcome == AuditOutcome::kError);
  CHECK(chain[1].event.changes == "[]");
  CHECK(w.projects.List(std::string("globex"), domain::PageRequest{})->total_items == 0);
}

TEST_CASE("a creation that fails leaves no chain behind", "[application][audit][platform]") {
  World w;
  REQUIRE(w.orgs.Create({"acme", std::nullopt, std::nullopt, std::nullopt}, w.alice));
  REQUIRE_FALSE(w.orgs.Create({"acme", std::nullopt, std::nullopt, std::nullopt}, w.alice));
  auto heads = w.catalogue.PlatformAuditHeads();
  REQUIRE(heads);
  REQUIRE(heads->size() == 1);
  CHECK(heads->front().org_id == w.Org("acme").id.str());
  CHECK(heads->front().seq == 1);
}

TEST_CASE("regions are recorded on the platform's chain without their passwords",
          "[application][audit][platform]") {
  World w;
  REQUIRE(w.regions.Set("eu-west", "postgres://socle:s3cret@db.example/socle", w.alice));
  REQUIRE(w.regions.Set("eu-west", "postgres://socle:0ther@db2.example/socle", w.alice));
  const auto chain = w.Chain("");
  REQUIRE(chain.size() == 2);
  CHECK(chain[0].event.action == "region.create");
  CHECK(chain[1].event.action == "region.update");
  CHECK(chain[0].event.org_id.empty());
  for (const auto& stored : chain) {
    CHECK(stored.event.changes.find("s3cret") == std::string::npos);
    CHECK(stored.event.changes.find("0ther") == std::string::npos);
  }
  CHECK(chain[1].event.changes.find("db2.example") != std::string::npos);
}

TEST_CASE("a purge is recorded by the system, and the chain outlives its organisation",
          "[application][audit][platform]") {
  World w;  // no grace period: deleting purges at once
  REQUIRE(w.orgs.Create({"acme", std::nullopt, std::nullopt, std::nullopt}, w.alice));
  const auto org = w.Org("acme");
  REQUIRE(w.projects.Create({"shop", "acme", std::nullopt}, w.alice));
  REQUIRE(w.log.Checkpoint());
  REQUIRE(w.orgs.Remove("acme", application::ForceDelete::kYes, w.alice));
  REQUIRE_FALSE(w.orgs.Get("acme"));

  const auto chain = w.Chain(org.id.str());
  REQUIRE(chain.size() >= 4);
  CHECK(chain.back().event.action == "organisation.purge");
  CHECK(chain.back().event.actor_kind == AuditActorKind::kSystem);
  CHECK(chain.back().event.actor_id == "purge");
  // Verification still finds the chain, intact, beyond the checkpoint that signed it.
  auto report = w.log.Verify(nullptr);
  REQUIRE(report);
  CHECK(report->ok);
  const auto found = std::find_if(report->chains.begin(), report->chains.end(),
                                  [&](const auto& c) { return c.org_id == org.id.str(); });
  REQUIRE(found != report->chains.end());
  CHECK(found->trail == "organisation");
  CHECK(found->events == static_cast<std::int64_t>(chain.size()));
  CHECK(found->signed_seq == 2);
}

TEST_CASE("checkpoints sign the organisations' chains, and verification catches a forged one",
          "[application][audit][platform]") {
  World w;
  REQUIRE(w.orgs.Create({"acme", std::nullopt, std::nullopt, std::nullopt}, w.alice));
  const auto org = w.Org("acme");
  REQUIRE(w.orgs.Rename("acme", "Acme Corp", w.alice));
  auto checkpoint = w.log.Checkpoint();
  REQUIRE(checkpoint);
  const auto signed_head = std::find_if(
      checkpoint->heads.begin(), checkpoint->heads.end(),
      [&](const auto& head) { return head.org_id == org.id.str() && head.project_id.empty(); });
  REQUIRE(signed_head != checkpoint->heads.end());
  CHECK(signed_head->seq == 2);

  auto report = w.log.Verify(&org);
  REQUIRE(report);
  CHECK(report->ok);

  // An event whose content does not match its hash, appended by someone who can write the
  // table but not seal: it breaks the chain where it stands.
  auto forged = w.catalogue.RecordAudit(
      org.id.str(), [&](application::AuditAppender& appender) -> domain::Result<void> {
        auto head = appender.LockAuditHead();
        if (!head) return domain::Fail(head.error());
        domain::AuditEvent event;
        event.org_id = org.id.str();
        event.seq = head->seq + 1;
        event.prev_hash = head->hash;
        event.at = w.clock.Now();
        event.action = "organisation.update";
        event.hash = std::string(64, 'a');
        return appender.AppendAudit(event, {});
      });
  REQUIRE(forged);
  report = w.log.Verify(&org);
  REQUIRE(report);
  CHECK_FALSE(report->ok);
  const auto broken = std::find_if(report->chains.begin(), report->chains.end(),
                                   [](const auto& c) { return c.broken.has_value(); });
  REQUIRE(broken != report->chains.end());
  CHECK(broken->trail == "organisation");
  CHECK(*broken->broken == domain::AuditBreak::kEdited);
  CHECK(broken->broken_at == 3);
}

TEST_CASE("an organisation's search merges its chain with its projects' trails, page by page",
          "[application][audit][platform]") {
  World w;
  REQUIRE(w.orgs.Create({"acme", std::nullopt, std::nullopt, std::nullopt}, w.alice));
  const auto org = w.Org("acme");
  for (int i = 0; i < 5; ++i) {
    w.clock.Advance(10);
    REQUIRE(w.projects.Create({"p" + std::to_string(i), "acme", std::nullopt}, w.alice));
  }
  // A project's own trail, at the same instants as the catalogue's events.
  auto shop = w.projects.Get("p0");
  REQUIRE(shop);
  auto store = w.stores.Open(*shop);
  REQUIRE(store);
  for (int i = 0; i < 4; ++i) {
    application::AuditEntry entry = application::PlatformEntry(
        w.alice, org.id.str(), "record.read", "record", "rec" + std::to_string(i));
    entry.project_id = shop->id.str();
    REQUIRE(w.trail.Record(**store, entry));
  }

  std::vector<std::string> seen;
  std::string cursor;
  int pages = 0;
  do {
    application::AuditQuery query;
    query.limit = 3;
    auto page = w.log.Search(org.id, nullptr, query, cursor);
    REQUIRE(page);
    for (std::size_t i = 1; i < page->items.size(); ++i) {
      CHECK(page->items[i - 1].event.at >= page->items[i].event.at);
    }
    for (const auto& stored : page->items) {
      seen.push_back(stored.event.action + "/" + std::to_string(stored.event.seq) + "/" +
                     stored.event.project_id);
    }
    cursor = page->next_cursor;
    ++pages;
  } while (!cursor.empty() && pages < 20);
  CHECK(seen.size() == 10);  // 6 on the organisation's chain, 4 in the project's trail
  CHECK(std::set<std::string>(seen.begin(), seen.end()).size() == seen.size());
  CHECK(std::count_if(seen.begin(), seen.end(),
                      [](const auto& s) { return s.starts_with("record.read"); }) == 4);
}

TEST_CASE("a refused catalogue change is recorded as denied on the organisation's chain",
          "[application][audit][platform]") {
  World w;
  REQUIRE(w.orgs.Create({"acme", std::nullopt, std::nullopt, std::nullopt}, w.alice));
  const auto org = w.Org("acme");
  application::AccessControl access(w.catalogue, w.clock);
  application::PlatformCatalogue catalogue(w.orgs, w.projects, w.catalogue, w.catalogue, access,
                                           w.clock, w.random, &w.platform);
  auto member = [](std::string id, std::string request_id) {
    application::Principal p;
    p.kind = application::Principal::Kind::kMember;
    p.id = std::move(id);
    p.email = p.id + "@example.com";
    p.origin = {std::move(request_id), "192.0.2.66", "curl/8", ""};
    return p;
  };

  // A stranger is told the organisation does not exist, and leaves nothing in its chain: any
  // signed-in caller could otherwise write into every organisation's trail.
  auto probed = catalogue.RenameOrganisation(member("member000000009", "req-9"), "acme", "Mine");
  REQUIRE_FALSE(probed);
  CHECK(probed.error().code == domain::ErrorCode::kNotFound);
  CHECK(w.Chain(org.id.str()).size() == 1);

  // A viewer may see it but not rename it: that refusal is the organisation's business.
  const auto viewer = member("member000000008", "req-8");
  const domain::Membership membership{org.id, viewer.id, viewer.email, w.clock.Now()};
  const domain::StoredPolicy policy{
      domain::Policy{"pol000000000001", {domain::RbacSubject::Kind::kMember, viewer.id},
                     "viewer", org.id.str(), std::nullopt},
      w.clock.Now(), "system"};
  REQUIRE(w.catalogue.InsertMembership(membership, {policy}));
  access.Invalidate(org.id);  // written behind the access cache's back
  auto renamed = catalogue.RenameOrganisation(viewer, "acme", "Mine now");
  REQUIRE_FALSE(renamed);
  CHECK(renamed.error().code == domain::ErrorCode::kPermissionDenied);
  CHECK(w.Org("acme").name.str() == "acme");
  const auto chain = w.Chain(org.id.str());
  REQUIRE(chain.size() == 2);
  CHECK(chain[1].event.action == "organisation.update");
  CHECK(chain[1].event.outcome == AuditOutcome::kDenied);
  CHECK(chain[1].event.actor_id == "member000000008");
  CHECK(chain[1].event.request_id == "req-8");
  CHECK(chain[1].event.changes == "[]");
}
