#pragma once

// A project whose collections and records are audited, over any ProjectStores (memory for the
// use-case tests, SQLite and PostgreSQL for the tamper tests), with the real SHA-256 and Ed25519
// signer and in-memory checkpoints.
#include <catch2/catch.hpp>

#include <memory>
#include <string>
#include <vector>

#include "application/data_world.hpp"
#include "socle/adapters/crypto/digest.hpp"
#include "socle/adapters/crypto/ed25519_audit_signer.hpp"
#include "socle/adapters/memory/memory_audit_checkpoints.hpp"
#include "socle/adapters/memory/memory_catalogue_store.hpp"
#include "socle/application/audit_log.hpp"
#include "socle/application/audit_trail.hpp"
#include "socle/application/data_subjects.hpp"
#include "socle/application/manage_collections.hpp"
#include "socle/application/manage_organisations.hpp"
#include "socle/application/manage_projects.hpp"
#include "socle/application/manage_records.hpp"
#include "socle/application/project_directory.hpp"
#include "support/must.hpp"
#include "support/test_ports.hpp"

namespace socle::testing {

inline std::string Sha256Hex(std::string_view bytes) {
  return adapters::crypto::ToHex(adapters::crypto::Sha256(bytes));
}

/// An audit signer whose seed is 32 times `fill`: distinct fills, distinct keys.
inline std::unique_ptr<adapters::crypto::Ed25519AuditSigner> AuditSigner(std::uint8_t fill) {
  std::array<std::uint8_t, 32> seed{};
  seed.fill(fill);
  return Must(adapters::crypto::Ed25519AuditSigner::FromSeed(seed), "audit signer");
}

struct AuditWorld {
  /// `seed` draws the ids: PostgreSQL suites pass a fresh one (roles are cluster-wide).
  explicit AuditWorld(application::ProjectStores& project_stores, std::uint64_t seed = 42)
      : stores(project_stores), random(seed) {
    REQUIRE(orgs.Create({"acme", std::nullopt, std::nullopt, std::nullopt}));
    REQUIRE(projects.Create({"shop", "acme", std::nullopt}));
  }

  domain::Collection MustCreate(domain::Collection draft) {
    auto created = collections.Create("shop", std::move(draft), "test", context);
    if (!created) {
      std::string detail = created.error().message;
      for (const auto& f : created.error().fields) detail += " | " + f.field + ": " + f.message;
      FAIL(detail);
    }
    return *created;
  }

  application::Caller Superuser() const {
    application::Caller caller;
    caller.superuser = true;
    caller.origin = context.origin;
    return caller;
  }

  std::string MustInsert(std::string_view collection, domain::JsonValue body) {
    auto created = records.Create("shop", collection, {std::move(body), {}, {}, {}}, Superuser());
    if (!created) {
      std::string detail = created.error().message;
      for (const auto& f : created.error().fields) detail += " | " + f.field + ": " + f.message;
      FAIL(detail);
    }
    return created->record.record.Id(*created->record.collection);
  }

  domain::Project Project() {
    auto entry = directory.Find("shop");
    REQUIRE(entry);
    return entry->project;
  }

  std::shared_ptr<application::ProjectStore> Store() {
    auto entry = directory.Find("shop");
    REQUIRE(entry);
    return entry->store;
  }

  /// Every event of the project, oldest first.
  std::vector<application::StoredAuditEvent> Events(application::AuditQuery query = {}) {
    query.limit = 1000;
    auto events = Store()->AuditEvents(query);
    REQUIRE(events);
    std::vector<application::StoredAuditEvent> out(events->rbegin(), events->rend());
    return out;
  }

  application::AuditVerification Verify(std::string_view trusted_key = {}) {
    auto report = log.Verify(nullptr, trusted_key);
    REQUIRE(report);
    return *report;
  }

  application::AuditContext context{
      {domain::AuditActorKind::kSuperuser, "su0000000000001"},
      {"req-1", "203.0.113.7", "test-agent/1.0", ""}};
  adapters::memory::MemoryCatalogueStore catalogue;
  application::ProjectStores& stores;
  ManualClock clock;
  SeededRandomSource random;
  application::AuditTrail trail{clock, random, &Sha256Hex};
  std::unique_ptr<adapters::crypto::Ed25519AuditSigner> signer = AuditSigner(7);
  adapters::memory::MemoryAuditCheckpoints checkpoints;
  application::AuditLog log{catalogue, stores, clock, &Sha256Hex, signer.get(), &checkpoints};
  application::ManageOrganisations orgs{catalogue, clock, random};
  application::ManageProjects projects{catalogue, clock, random};
  application::ProjectDirectory directory{catalogue, stores, clock};
  application::ManageCollections collections{directory, clock, random, &trail};
  application::ManageRecords records{directory, clock, random, {}, nullptr, {}, &trail};
  application::ManageDataSubjects subjects{directory, records, &trail, nullptr};
};

}  // namespace socle::testing
