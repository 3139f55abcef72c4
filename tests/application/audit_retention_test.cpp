// AuditRetention: the cut it derives from a number of months (whole months, UTC), what it
// refuses, and a run over every project that goes on past a project that fails.
#include <catch2/catch.hpp>
#include <memory>
#include <string>
#include <vector>

#include "socle/adapters/memory/memory_catalogue_store.hpp"
#include "socle/adapters/memory/memory_project_store.hpp"
#include "socle/application/audit_retention.hpp"
#include "support/must.hpp"
#include "support/test_ports.hpp"

namespace {

using namespace socle;
using application::AuditRetention;
using domain::ErrorCode;
using domain::Timestamp;
using socle::testing::Must;

Timestamp At(const std::string& text) { return Must(Timestamp::Parse(text), "time"); }

// Archives in memory; refuses to open one for `broken_project`.
class MemoryArchives final : public application::AuditArchives {
 public:
  class Sink final : public application::AuditArchiveSink {
   public:
    explicit Sink(std::vector<application::StoredAuditEvent>& into) : into_(into) {}
    domain::Result<void> Write(const application::StoredAuditEvent& event) override {
      into_.push_back(event);
      return {};
    }
    domain::Result<void> Commit() override { return {}; }
    std::string Location() const override { return "memory"; }

   private:
    std::vector<application::StoredAuditEvent>& into_;
  };

  domain::Result<std::unique_ptr<application::AuditArchiveSink>> Open(
      std::string_view, std::string_view project_id) override {
    if (project_id == broken_project) {
      return domain::Fail(ErrorCode::kUnavailable, "The archive disk is gone.");
    }
    return std::unique_ptr<application::AuditArchiveSink>(std::make_unique<Sink>(archived));
  }

  std::string broken_project;
  std::vector<application::StoredAuditEvent> archived;
};

domain::Project MakeProject(const std::string& id, const std::string& slug) {
  return domain::Project{Must(domain::Id::Parse(id), "id"),
                         Must(domain::Slug::Parse(slug), "slug"),
                         Must(domain::DisplayName::Parse(slug), "name"),
                         Must(domain::Id::Parse("org000000000001"), "org"),
                         Must(domain::Slug::Parse("acme"), "org slug"),
                         Timestamp::FromUnixMicros(0),
                         Timestamp::FromUnixMicros(0)};
}

void AppendEvent(application::ProjectStore& store, const domain::Project& project,
                 Timestamp at) {
  auto done = store.Write([&](application::RecordTransaction& tx) -> domain::Result<void> {
    auto head = tx.LockAuditHead();
    if (!head) return std::unexpected(head.error());
    domain::AuditEvent event;
    event.at = at;
    event.org_id = project.org_id.str();
    event.project_id = project.id.str();
    event.action = "record.update";
    return tx.AppendAudit(
        domain::SealAuditEvent(event, *head, [](std::string_view bytes) {
          return std::string(64, bytes.empty() ? '0' : 'f');
        }),
        {});
  });
  REQUIRE(done.has_value());
}

}  // namespace

TEST_CASE("retention cuts at the start of a month, whole months back", "[audit][retention]") {
  CHECK_FALSE(AuditRetention::CutFor(At("2024-05-20T10:00:00Z"), 0).has_value());
  CHECK(AuditRetention::CutFor(At("2024-05-20T10:00:00Z"), 1) == At("2024-04-01T00:00:00Z"));
  CHECK(AuditRetention::CutFor(At("2024-05-01T00:00:00Z"), 1) == At("2024-04-01T00:00:00Z"));
  CHECK(AuditRetention::CutFor(At("2024-05-31T23:59:59.999999Z"), 1) ==
        At("2024-04-01T00:00:00Z"));
  // Across a year, and many years.
  CHECK(AuditRetention::CutFor(At("2024-02-29T12:00:00Z"), 3) == At("2023-11-01T00:00:00Z"));
  CHECK(AuditRetention::CutFor(At("2024-02-29T12:00:00Z"), 120) == At("2014-02-01T00:00:00Z"));
}

TEST_CASE("retention archives every project, reporting one that fails without stopping",
          "[audit][retention]") {
  adapters::memory::MemoryCatalogueStore catalogue;
  adapters::memory::MemoryProjectStores stores;
  socle::testing::ManualClock clock(At("2024-06-15T00:00:00Z").unix_micros());
  MemoryArchives archives;
  Must(catalogue.InsertOrganisation(domain::Organisation{
           Must(domain::Id::Parse("org000000000001"), "org"),
           Must(domain::Slug::Parse("acme"), "slug"), Must(domain::DisplayName::Parse("Acme"), "n"),
           Must(domain::Slug::Parse("local"), "region"), domain::IsolationTier::kShared,
           Timestamp::FromUnixMicros(0), Timestamp::FromUnixMicros(0)}),
       "organisation");
  const auto web = MakeProject("proj00000000001", "web");
  const auto api = MakeProject("proj00000000002", "api");
  for (const auto& project : {web, api}) {
    Must(catalogue.InsertProject(project), "project");
    auto store = Must(stores.Open(project), "store");
    AppendEvent(*store, project, At("2024-01-10T00:00:00Z"));
    AppendEvent(*store, project, At("2024-06-01T00:00:00Z"));
  }
  AuditRetention retention(catalogue, stores, archives, clock);

  SECTION("months out of range, or a cut in the future, are refused") {
    CHECK(retention.ArchiveOlderThan(-1).error().code == ErrorCode::kInvalidArgument);
    CHECK(retention.ArchiveOlderThan(1201).error().code == ErrorCode::kInvalidArgument);
    CHECK(retention.Archive(At("2024-07-01T00:00:00Z")).error().code ==
          ErrorCode::kInvalidArgument);
    CHECK(archives.archived.empty());
  }
  SECTION("0 months keeps everything") {
    const auto report = Must(retention.ArchiveOlderThan(0), "keep");
    CHECK(report.projects.empty());
    CHECK(report.events == 0);
    CHECK(archives.archived.empty());
  }
  SECTION("one project failing") {
    archives.broken_project = api.id.str();
    const auto report = Must(retention.ArchiveOlderThan(3), "archive");
    CHECK(report.before == At("2024-03-01T00:00:00Z"));
    CHECK_FALSE(report.ok);
    CHECK(report.events == 1);
    REQUIRE(report.projects.size() == 2);
    for (const auto& project : report.projects) {
      INFO(project.project_slug);
      if (project.project_id == web.id.str()) {
        CHECK_FALSE(project.error.has_value());
        CHECK(project.archived.events == 1);
        CHECK(project.archive == "memory");
      } else {
        REQUIRE(project.error.has_value());
        CHECK(project.error->code == ErrorCode::kUnavailable);
        CHECK(project.archived.events == 0);
      }
    }
    auto api_store = Must(stores.Open(api), "api");
    CHECK(Must(api_store->AuditChain(0, 0, 10), "chain").size() == 2);
    auto web_store = Must(stores.Open(web), "web");
    CHECK(Must(web_store->AuditChain(0, 0, 10), "chain").size() == 1);
  }
}
