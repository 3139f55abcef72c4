#pragma once

#include <memory>
#include <mutex>
#include <string_view>

#include "socle/application/ports/clock.hpp"
#include "socle/application/ports/project_store.hpp"
#include "socle/domain/collection.hpp"
#include "socle/domain/error.hpp"
#include "socle/domain/record.hpp"
#include "socle/domain/tenancy.hpp"

namespace socle::application {

/// The platform's own records: superusers (the `_superusers` auth collection, as in PocketBase
/// ≥ 0.23), the token signing keys (`_signingKeys`), the projects' API keys (`_apiKeys`), and
/// the platform members and their sessions (`_members`, `_sessions`). They live in a store laid out like a
/// project's, opened through the same ProjectStores under a reserved project id, so that every
/// store adapter (memory, SQLite, PostgreSQL) keeps them with the guarantees it gives records,
/// and the records machinery (rules, hashing, unique indexes) applies to them unchanged.
/// Thread-safe.
class PlatformStore final {
 public:
  /// The reserved project the platform's store is opened as. Its id is never drawn for a real
  /// project (ManageProjects refuses it).
  static const domain::Project& Project();

  PlatformStore(ProjectStores& stores, Clock& clock) : stores_(stores), clock_(clock) {}

  /// The store, opened on first use with its system collections created or brought up to date
  /// (idempotent; safe when several processes open it at once). unavailable when the store
  /// cannot be opened.
  domain::Result<std::shared_ptr<ProjectStore>> Store();

  /// The superusers collection, as PocketBase declares it (rules all null: superusers only;
  /// tokens live one day).
  static domain::Collection SuperusersCollection();
  /// The signing keys collection: kid, the sealed private seed (hidden), created.
  static domain::Collection SigningKeysCollection();
  /// The projects' API keys: project id, name, prefix (unique), the key's one-way binding
  /// (hidden), scopes, expiry, revocation, last use and use count.
  static domain::Collection ApiKeysCollection();
  /// The platform members (PlatformSessions): an auth collection like `_superusers` (every
  /// rule null) with a `name`.
  static domain::Collection MembersCollection();
  /// The members' refresh tokens, one row each (PlatformSessions): member, family (one per
  /// sign-in), the token's one-way binding (hidden, unique), client, expiry, and when it was
  /// exchanged (rotated) or revoked.
  static domain::Collection SessionsCollection();
  static constexpr std::string_view kMembersCollectionId = "pbc_platform_members";
  static constexpr std::string_view kSessionsCollectionId = "pbc_platform_sessions";

 private:
  domain::Result<void> EnsureSystemCollections(ProjectStore& store);

  ProjectStores& stores_;
  Clock& clock_;
  std::mutex mutex_;
  std::shared_ptr<ProjectStore> store_;
};

}  // namespace socle::application
